//! Catalog, customers, users, settings, search, bulk load, pull pages and CSV import.

mod common;

use std::cell::Cell;

use chrono::Utc;
use common::*;
use tenda_domain::*;
use tenda_store::*;

#[test]
fn barcode_sku_and_accent_insensitive_name_search() {
    let mut ts = temp_store();
    let pao = product("PAO-01", "Pão Francês", Some("7891000315507"), 1_499);
    let cafe = product(
        "CAF-01",
        "Café Pilão Tradicional 500g",
        Some("96385074"),
        1_890,
    );
    let acucar = product("ACU-01", "Açúcar Refinado União 1kg", Some("PESO-ACU"), 549);
    for p in [&pao, &cafe, &acucar] {
        ts.store.save_product(p).expect("saves");
    }
    assert_eq!(
        ts.store
            .product_by_code("7891000315507")
            .expect("reads")
            .map(|p| p.id),
        Some(pao.id)
    );
    assert_eq!(
        ts.store
            .product_by_code("CAF-01")
            .expect("reads")
            .map(|p| p.id),
        Some(cafe.id),
        "SKU works too"
    );
    assert_eq!(
        ts.store
            .product_by_code("PESO-ACU")
            .expect("reads")
            .map(|p| p.id),
        Some(acucar.id),
        "internal code"
    );
    assert_eq!(ts.store.product_by_code("0000").expect("reads"), None);
    // A product whose SKU is another product's barcode: the scanned barcode names the product
    // it is printed on.
    let digits_sku = product("96385074", "Produto com SKU numérico", None, 100);
    ts.store.save_product(&digits_sku).expect("saves");
    assert_eq!(
        ts.store
            .product_by_code("96385074")
            .expect("reads")
            .map(|p| p.id),
        Some(cafe.id),
        "the barcode wins over an equal SKU"
    );

    let names = |store: &mut Store, q: &str| -> Vec<String> {
        store
            .search_products(q, 10)
            .expect("searches")
            .into_iter()
            .map(|p| p.name)
            .collect()
    };
    assert_eq!(
        names(&mut ts.store, "pao"),
        vec!["Pão Francês"],
        "accent-insensitive"
    );
    assert_eq!(
        names(&mut ts.store, "PÃO fran"),
        vec!["Pão Francês"],
        "case-insensitive, prefixes"
    );
    assert_eq!(
        names(&mut ts.store, "acucar uniao"),
        vec!["Açúcar Refinado União 1kg"]
    );
    assert_eq!(
        names(&mut ts.store, "pilao"),
        vec!["Café Pilão Tradicional 500g"]
    );
    assert!(
        names(&mut ts.store, "\"OR * NEAR(").is_empty(),
        "FTS syntax in input is harmless"
    );

    // Renaming updates the index; inactive products are not offered.
    let mut renamed = pao.clone();
    renamed.name = "Pão de Queijo".into();
    ts.store.save_product(&renamed).expect("saves");
    assert!(names(&mut ts.store, "frances").is_empty());
    assert_eq!(names(&mut ts.store, "queijo"), vec!["Pão de Queijo"]);
    renamed.active = false;
    ts.store.save_product(&renamed).expect("saves");
    assert!(names(&mut ts.store, "queijo").is_empty());
}

#[test]
fn bad_products_are_refused_with_the_field_and_nothing_changes() {
    let mut ts = temp_store();
    let mut p = product("X1", "Feijão", Some("7891000315507"), 800);
    ts.store.save_product(&p).expect("saves");
    p.name = "   ".into();
    assert!(matches!(
        ts.store.save_product(&p),
        Err(Error::InvalidInput { field: "name", .. })
    ));
    let mut neg = product("X2", "Arroz", None, -1);
    assert!(matches!(
        ts.store.save_product(&neg),
        Err(Error::InvalidInput { field: "price", .. })
    ));
    neg.price = Money::from_centavos(1);
    neg.sku = "X1".into();
    assert!(matches!(
        ts.store.save_product(&neg),
        Err(Error::Duplicate { field: "sku" })
    ));
    let dup_gtin = product("X3", "Outro", Some("7891000315507"), 100);
    assert!(matches!(
        ts.store.save_product(&dup_gtin),
        Err(Error::Duplicate { field: "gtin" })
    ));
    assert_eq!(ts.store.product_count().expect("reads"), 1);
    assert_eq!(
        ts.store
            .product_by_sku("X1")
            .expect("reads")
            .map(|p| p.name),
        Some("Feijão".into())
    );
}

#[test]
fn customers_users_and_settings_round_trip() {
    let mut ts = temp_store();
    let c = customer("João da Silva", Some("529.982.247-25"), -1_500, 10_000);
    ts.store.save_customer(&c).expect("saves");
    assert_eq!(ts.store.customer(c.id).expect("reads"), Some(c.clone()));
    assert_eq!(
        ts.store
            .customer_by_tax_id(c.tax_id.as_ref().expect("has one"))
            .expect("reads")
            .map(|x| x.id),
        Some(c.id)
    );
    assert_eq!(
        ts.store.search_customers("silva", 5).expect("reads").len(),
        1
    );
    let mut bad = c.clone();
    bad.overdraft_limit = Money::from_centavos(-1);
    assert!(matches!(
        ts.store.save_customer(&bad),
        Err(Error::InvalidInput {
            field: "overdraft_limit",
            ..
        })
    ));

    let u = User {
        id: UserId::new(),
        name: "Ana Gerente".into(),
        login: "ana".into(),
        role: Role::Manager,
        credential_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        active: true,
        version: 3,
    };
    ts.store.save_user(&u).expect("saves");
    assert_eq!(
        ts.store.user_by_login("ana").expect("reads"),
        Some(u.clone())
    );
    assert_eq!(ts.store.active_users().expect("reads").len(), 1);

    ts.store.set_setting("nfce.series", &1u16).expect("saves");
    assert_eq!(
        ts.store.setting::<u16>("nfce.series").expect("reads"),
        Some(1)
    );
    assert_eq!(ts.store.setting::<u16>("missing").expect("reads"), None);
    ts.store
        .set_setting("permissions", &PermissionMatrix::standard())
        .expect("saves");
    let m: PermissionMatrix = ts
        .store
        .setting("permissions")
        .expect("reads")
        .expect("present");
    assert!(m.allows(Role::Owner, Action::ManageBackups));
}

#[test]
fn bulk_load_reports_progress_and_rejects_bad_records() {
    let mut ts = temp_store();
    let products: Vec<Product> = (0..10_000u64)
        .map(|i| {
            let mut p = product(
                &format!("B{i}"),
                &format!("Produto número {i}"),
                Some(&ean13(i)),
                100 + i as i64,
            );
            if i == 777 {
                p.fiscal.ncm = "123".into();
            }
            p
        })
        .collect();
    let calls = Cell::new(0u32);
    let last = Cell::new(0u64);
    let report = ts
        .store
        .load_catalog(products, &mut |p: &LoadProgress| {
            calls.set(calls.get() + 1);
            assert!(p.applied >= last.get(), "progress only moves forward");
            last.set(p.applied);
        })
        .expect("loads");
    assert_eq!(report.applied, 9_999);
    assert_eq!(
        report.rejected,
        vec![RejectedChange {
            index: 777,
            field: "ncm",
            reason: "must be 8 digits".into()
        }]
    );
    assert!(
        calls.get() >= 3,
        "one report per batch at least (got {})",
        calls.get()
    );
    assert_eq!(ts.store.product_count().expect("reads"), 9_999);
    assert_eq!(
        ts.store
            .search_products("numero 4242", 5)
            .expect("searches")
            .first()
            .map(|p| p.sku.clone()),
        Some("B4242".into())
    );
}

#[test]
fn pull_pages_are_last_writer_wins_and_keep_local_deltas() {
    let mut ts = temp_store();
    let mut p = product("P1", "Leite Integral", Some(&ean13(1)), 499);
    p.version = 5;
    let mut c = customer("Cliente", None, 0, 10_000);
    c.version = 2;
    ts.store
        .apply_changes(
            vec![
                PullChange::Product(p.clone()),
                PullChange::Customer(c.clone()),
                PullChange::StockLevel {
                    product_id: p.id,
                    quantity: Quantity::from_units(10).expect("fits"),
                },
                PullChange::Setting {
                    key: "store.name".into(),
                    value_json: "\"Mercadinho\"".into(),
                    version: 1,
                },
                PullChange::Cursor("c-1".into()),
            ],
            &mut |_| {},
        )
        .expect("applies");
    assert_eq!(
        ts.store.sync_cursor().expect("reads").as_deref(),
        Some("c-1")
    );
    assert_eq!(
        ts.store
            .setting::<String>("store.name")
            .expect("reads")
            .as_deref(),
        Some("Mercadinho")
    );

    // Sell 1 unit on account locally: not yet pushed.
    let sale = sale_of(std::slice::from_ref(&p), Some(&c));
    let charged = sale
        .payments
        .iter()
        .find(|x| matches!(x.method, PaymentMethod::CustomerAccount { .. }))
        .expect("account")
        .amount;
    ts.store.commit_sale(&commit_of(sale)).expect("commits");

    // An older product version is ignored; the server's levels get the unpushed deltas on top.
    let mut older = p.clone();
    older.version = 4;
    older.price = Money::from_centavos(1);
    let mut server_c = c.clone();
    server_c.balance = Money::from_centavos(-100);
    server_c.version = 3;
    let report = ts
        .store
        .apply_changes(
            vec![
                PullChange::Product(older),
                PullChange::Customer(server_c),
                PullChange::StockLevel {
                    product_id: p.id,
                    quantity: Quantity::from_units(8).expect("fits"),
                },
            ],
            &mut |_| {},
        )
        .expect("applies");
    assert_eq!(report.skipped_older, 1);
    assert_eq!(
        ts.store
            .product(p.id)
            .expect("reads")
            .expect("present")
            .price,
        Money::from_centavos(499)
    );
    assert_eq!(
        ts.store.stock_level(p.id).expect("reads"),
        Quantity::from_units(7).expect("fits"),
        "8 on the server − 1 sold here"
    );
    assert_eq!(
        ts.store
            .customer(c.id)
            .expect("reads")
            .expect("present")
            .balance,
        Money::from_centavos(-100)
            .checked_sub(charged)
            .expect("fits"),
        "server balance + unpushed local delta"
    );
    // Once the server has the sale, its levels already include it.
    let last = ts.store.outbox_last_seq().expect("reads");
    ts.store.outbox_mark_pushed(last).expect("acked");
    pull_level(&mut ts.store, p.id, 7);
    assert_eq!(
        ts.store.stock_level(p.id).expect("reads"),
        Quantity::from_units(7).expect("fits")
    );
}

#[test]
fn only_acknowledged_sales_leave_the_pending_stock() {
    let mut ts = temp_store();
    let p = product("P1", "Leite Integral", Some(&ean13(1)), 499);
    let level = |ts: &mut common::TempStore, units: i64| {
        pull_level(&mut ts.store, p.id, units);
        ts.store.stock_level(p.id).expect("reads")
    };
    ts.store
        .apply_changes(vec![PullChange::Product(p.clone())], &mut |_| {})
        .expect("applies");
    assert_eq!(level(&mut ts, 10), Quantity::from_units(10).expect("fits"));
    let first = ts
        .store
        .commit_sale(&commit_of(sale_of(&[p.clone(), p.clone()], None)))
        .expect("commits");
    ts.store
        .commit_sale(&commit_of(sale_of(std::slice::from_ref(&p), None)))
        .expect("commits");
    assert_eq!(
        ts.store.stock_level(p.id).expect("reads"),
        Quantity::from_units(7).expect("fits")
    );
    // The server has the first sale (and its audit entry) only: its level counts those 2
    // units, and the 1 of the second sale still comes off it here.
    ts.store
        .outbox_mark_pushed(first.outbox_seq + 1)
        .expect("acknowledged");
    assert_eq!(
        level(&mut ts, 8),
        Quantity::from_units(7).expect("fits"),
        "8 on the server − 1 not yet pushed"
    );
    let last = ts.store.outbox_last_seq().expect("reads");
    ts.store.outbox_mark_pushed(last).expect("acknowledged");
    assert_eq!(
        level(&mut ts, 7),
        Quantity::from_units(7).expect("fits"),
        "nothing is pending once everything is acknowledged"
    );
}

const HEADER: &str = "codigo;descricao;preco;unidade;ean;ncm;csosn\n";

#[test]
fn csv_import_utf8_with_row_errors_by_line() {
    let mut ts = temp_store();
    let file = format!(
        "{HEADER}\
         PAO;Pão Francês;14,99;KG;;19052090;102\n\
         CAF;Café Pilão;18,90;UN;7891000315507;09012100;102\n\
         BAD1;;1,00;UN;;19052090;102\n\
         BAD2;Preço ruim;1,234;UN;;19052090;102\n\
         BAD3;GTIN ruim;1,00;UN;7891000315508;19052090;102\n\
         CAF;Repetido;1,00;UN;;19052090;102\n\
         BAD4;NCM ruim;1,00;UN;;1905;102\n\
         BAD5;Faltam campos;1,00\n\
         LEI;Leite;4,99;LT;;04012010;102\n"
    );
    let report = ts
        .store
        .import_catalog_csv(file.as_bytes())
        .expect("imports");
    assert_eq!(report.encoding, TextEncoding::Utf8);
    assert_eq!((report.rows, report.created, report.updated), (9, 3, 0));
    let errors: Vec<(u64, &str)> = report.errors.iter().map(|e| (e.line, e.field)).collect();
    assert_eq!(
        errors,
        vec![
            (4, "name"),
            (5, "price"),
            (6, "gtin"),
            (7, "sku"),
            (8, "ncm"),
            (9, "row")
        ]
    );
    let pao = ts
        .store
        .product_by_sku("PAO")
        .expect("reads")
        .expect("imported");
    assert_eq!(
        (pao.unit, pao.price),
        (Unit::Kilogram, Money::from_centavos(1_499))
    );
    assert_eq!(
        ts.store.search_products("pao", 5).expect("searches").len(),
        1
    );

    // Importing again updates in place (same id).
    let again = ts
        .store
        .import_catalog_csv(format!("{HEADER}PAO;Pão Francês;15,49;KG;;19052090;102\n").as_bytes())
        .expect("imports");
    assert_eq!((again.created, again.updated), (0, 1));
    let updated = ts
        .store
        .product_by_sku("PAO")
        .expect("reads")
        .expect("present");
    assert_eq!(
        (updated.id, updated.price),
        (pao.id, Money::from_centavos(1_549))
    );
}

#[test]
fn csv_import_latin1_and_comma_separated_english_headers() {
    let mut ts = temp_store();
    // "Açúcar" and "Feijão" in Latin-1, as Brazilian ERPs export them.
    let mut file = b"sku,name,price,unit,gtin,ncm,cst,icms_rate\n".to_vec();
    file.extend_from_slice(b"ACU,A\xE7\xFAcar Uni\xE3o,5.49,UN,96385074,17019900,00,18\n");
    file.extend_from_slice(b"FEI,Feij\xE3o Preto,8.99,UN,,07133319,60,\n");
    let report = ts.store.import_catalog_csv(&file).expect("imports");
    assert_eq!(report.encoding, TextEncoding::Latin1);
    assert_eq!(report.created, 2, "{:?}", report.errors);
    let acu = ts
        .store
        .product_by_code("96385074")
        .expect("reads")
        .expect("imported");
    assert_eq!(acu.name, "Açúcar União");
    assert_eq!(
        (acu.fiscal.icms.clone(), acu.fiscal.icms_rate_bp),
        (IcmsTaxation::Cst("00".into()), 1_800)
    );
    assert_eq!(
        ts.store
            .search_products("feijao", 5)
            .expect("searches")
            .len(),
        1
    );
}

#[test]
fn csv_files_with_bad_headers_import_nothing() {
    let mut ts = temp_store();
    let unknown = ts
        .store
        .import_catalog_csv(b"sku;name;price;ncm;cor\nA;B;1;19052090;azul\n");
    assert!(
        matches!(unknown, Err(Error::Csv(CsvFileError::UnknownColumn { ref name, column: 5 })) if name == "cor"),
        "{unknown:?}"
    );
    let missing = ts.store.import_catalog_csv(b"sku;name;ncm\nA;B;19052090\n");
    assert!(matches!(
        missing,
        Err(Error::Csv(CsvFileError::MissingColumn("price")))
    ));
    let dup = ts
        .store
        .import_catalog_csv(b"sku;nome;descricao;price;ncm\n");
    assert!(matches!(
        dup,
        Err(Error::Csv(CsvFileError::DuplicateColumn("name")))
    ));
    assert!(matches!(
        ts.store.import_catalog_csv(b"\n\n"),
        Err(Error::Csv(CsvFileError::Empty))
    ));
    assert_eq!(ts.store.product_count().expect("reads"), 0);
}

#[test]
fn a_csv_batch_that_fails_in_the_database_leaves_nothing_half_written() {
    let mut ts = temp_store();
    // A product whose GTIN another product takes between validation and insert cannot be made
    // to happen from outside; instead fill a batch and make the database refuse it with a
    // trigger, as a failing disk or constraint would.
    ts.store
        .save_product(&product("SEED", "Semente", None, 1))
        .expect("saves");
    let mut file = String::from(HEADER);
    for i in 0..50 {
        file.push_str(&format!("R{i};Produto {i};1,00;UN;;19052090;102\n"));
    }
    file.push_str("BOOM;Produto que falha;1,00;UN;;19052090;102\n");
    execute_raw(
        &ts.path,
        &ts.key,
        "CREATE TRIGGER fail_boom BEFORE INSERT ON products WHEN new.sku = 'BOOM' BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
    );
    let err = ts
        .store
        .import_catalog_csv(file.as_bytes())
        .expect_err("the batch fails");
    assert!(matches!(err, Error::Database(_)), "{err:?}");
    assert_eq!(
        ts.store.product_count().expect("reads"),
        1,
        "none of the batch's 51 rows stayed"
    );
    let _ = Utc::now();
}

#[test]
fn customers_registered_at_the_till_are_pushed_and_audited() {
    let mut ts = temp_store();
    let c = customer("Cliente Novo", Some("111.444.777-35"), 0, 5_000);
    let actor = Actor::User(seller());
    let seq = ts
        .store
        .register_customer(&c, actor, Utc::now())
        .expect("registers");
    assert_eq!(ts.store.customer(c.id).expect("reads"), Some(c.clone()));
    let entry = ts.store.outbox_after(seq - 1, 1).expect("reads").remove(0);
    assert!(
        matches!(entry.mutation, Mutation::CustomerRegistered { ref customer, .. } if customer.id == c.id)
    );
    assert!(matches!(
        ts.store.register_customer(&c, actor, Utc::now()),
        Err(Error::Duplicate { field: "id" })
    ));
    let same_cpf = customer("Outro", Some("111.444.777-35"), 0, 0);
    assert!(matches!(
        ts.store.register_customer(&same_cpf, actor, Utc::now()),
        Err(Error::Duplicate { field: "tax_id" })
    ));
    let with_balance = customer("Com saldo", None, 100, 0);
    assert!(matches!(
        ts.store.register_customer(&with_balance, actor, Utc::now()),
        Err(Error::InvalidInput {
            field: "balance",
            ..
        })
    ));
    let mut nameless = customer("x", None, 0, 0);
    nameless.name = String::new();
    assert!(matches!(
        ts.store.register_customer(&nameless, actor, Utc::now()),
        Err(Error::InvalidInput { field: "name", .. })
    ));
    assert_eq!(
        ts.store.customer_count().expect("reads"),
        1,
        "refused registrations left nothing behind"
    );
    assert!(matches!(
        ts.store.verify_audit_chain().expect("reads"),
        AuditVerification::Intact { entries: 1 }
    ));
}

#[test]
fn unacknowledged_stock_is_rebuilt_from_the_outbox_on_reopen() {
    let mut ts = temp_store();
    let (a, b) = (
        product("P1", "Leite Integral", Some(&ean13(1)), 499),
        product("P2", "Café Pilão", Some(&ean13(2)), 1890),
    );
    ts.store
        .apply_changes(
            vec![
                PullChange::Product(a.clone()),
                PullChange::Product(b.clone()),
                PullChange::StockLevel {
                    product_id: a.id,
                    quantity: Quantity::from_units(20).expect("fits"),
                },
            ],
            &mut |_| {},
        )
        .expect("applies");
    let first = ts
        .store
        .commit_sale(&commit_of(sale_of(&[a.clone(), b.clone()], None)))
        .expect("commits");
    ts.store
        .commit_sale(&commit_of(sale_of(&[a.clone(), a.clone()], None)))
        .expect("commits");
    ts.store
        .outbox_mark_pushed(first.outbox_seq + 1)
        .expect("acknowledged");
    let before = (
        ts.store.stock_level(a.id).expect("reads"),
        ts.store.stock_level(b.id).expect("reads"),
    );
    // a: server level 20 (pulled before any sale; the first sale's unit is acknowledged but
    // only a later pull brings a level that counts it) minus the second sale's 2 pending units.
    assert_eq!(before.0, Quantity::from_units(18).expect("fits"));
    assert_eq!(before.1, Quantity::ZERO, "b's sale was acknowledged");
    // Dropping the store without any shutdown step is what a crash leaves: the pending stock
    // is not stored anywhere but the outbox entries that carry it, and comes back from them.
    let common::TempStore {
        dir: _dir,
        path,
        key,
        store,
    } = ts;
    drop(store);
    let mut store = Store::open(&path, &key).expect("reopens");
    assert_eq!(
        (
            store.stock_level(a.id).expect("reads"),
            store.stock_level(b.id).expect("reads"),
        ),
        before,
        "the same stock after reopening"
    );
}

#[test]
fn a_second_handle_on_the_same_file_sees_sales_and_acknowledgements() {
    let mut ts = temp_store();
    let p = product("P1", "Leite Integral", Some(&ean13(1)), 499);
    ts.store
        .apply_changes(
            vec![
                PullChange::Product(p.clone()),
                PullChange::StockLevel {
                    product_id: p.id,
                    quantity: Quantity::from_units(10).expect("fits"),
                },
            ],
            &mut |_| {},
        )
        .expect("applies");
    let mut reader = Store::open(&ts.path, &ts.key).expect("second handle opens");
    assert_eq!(
        reader.stock_level(p.id).expect("reads"),
        Quantity::from_units(10).expect("fits")
    );
    // Each read brings the reader's sums up to date with what the writer committed.
    let sold = ts
        .store
        .commit_sale(&commit_of(sale_of(&[p.clone(), p.clone()], None)))
        .expect("commits");
    assert_eq!(
        reader.stock_level(p.id).expect("reads"),
        Quantity::from_units(8).expect("fits"),
        "the writer's sale shows through the other handle"
    );
    ts.store
        .outbox_mark_pushed(sold.outbox_seq)
        .expect("acknowledged");
    pull_level(&mut ts.store, p.id, 8);
    assert_eq!(
        reader.stock_level(p.id).expect("reads"),
        Quantity::from_units(8).expect("fits"),
        "the acknowledged sale is in the server's level, not counted twice"
    );
    ts.store
        .commit_sale(&commit_of(sale_of(std::slice::from_ref(&p), None)))
        .expect("commits");
    assert_eq!(
        reader.stock_level(p.id).expect("reads"),
        Quantity::from_units(7).expect("fits")
    );
    assert_eq!(
        ts.store.stock_level(p.id).expect("reads"),
        Quantity::from_units(7).expect("fits")
    );

    // Acknowledged and pruned through the other handle before this one reads again: the
    // entries it would subtract are gone, so it counts what is still pending afresh.
    let last = ts
        .store
        .commit_sale(&commit_of(sale_of(std::slice::from_ref(&p), None)))
        .expect("commits");
    assert_eq!(
        reader.stock_level(p.id).expect("reads"),
        Quantity::from_units(6).expect("fits")
    );
    ts.store
        .outbox_mark_pushed(last.outbox_seq - 1)
        .expect("acknowledged");
    ts.store.outbox_prune_pushed().expect("prunes");
    pull_level(&mut ts.store, p.id, 7);
    assert_eq!(
        reader.stock_level(p.id).expect("reads"),
        Quantity::from_units(6).expect("fits"),
        "the server's 7 less the one sale still unacknowledged"
    );
}

/// The server's stock level for `product`, as a pull brings it.
fn pull_level(store: &mut Store, product: ProductId, units: i64) {
    store
        .apply_changes(
            vec![PullChange::StockLevel {
                product_id: product,
                quantity: Quantity::from_units(units).expect("fits"),
            }],
            &mut |_| {},
        )
        .expect("applies");
}
