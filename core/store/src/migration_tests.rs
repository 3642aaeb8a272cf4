//! Migration tests: each migration is applied on top of a database holding rows written by the
//! schema before it, and every migration reverts and re-applies cleanly.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel_migrations::MigrationHarness;

use crate::keys::DbKey;
use crate::schema::*;
use crate::store::{MIGRATIONS, Store, open_connection};

fn table_names(conn: &mut SqliteConnection) -> Vec<String> {
    #[derive(QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
    }
    let rows: Vec<Name> = diesel::sql_query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name NOT LIKE '__diesel%' AND name NOT LIKE 'products_fts_%' ORDER BY name",
    )
    .load(conn)
    .expect("lists tables");
    rows.into_iter().map(|n| n.name).collect()
}

#[test]
fn rows_written_under_the_core_schema_survive_the_fiscal_migration() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("m.db");
    let key = DbKey::generate();
    {
        let mut conn = open_connection(&path, &key).expect("opens");
        conn.run_next_migration(MIGRATIONS)
            .expect("core migration applies");
        assert!(
            !table_names(&mut conn).contains(&"fiscal_documents".to_owned()),
            "only the first migration ran"
        );
        // Rows as the core schema had them.
        conn.batch_execute(
            "INSERT INTO products (id, sku, gtin, gtin_kind, name, unit, price, fiscal, active, version) VALUES (x'01900000000070008000000000000001', 'PAO', NULL, NULL, 'Pão Francês', 'KG', 1499,
               '{\"ncm\":\"19052090\",\"cfop\":\"5102\",\"cest\":null,\"origin\":0,\"icms\":{\"regime\":\"csosn\",\"code\":\"102\"},\"icms_rate_bp\":0,\"pis_cst\":\"49\",\"pis_rate_bp\":0,\"cofins_cst\":\"49\",\"cofins_rate_bp\":0}',
               1, 7);
             INSERT INTO products_fts (rowid, name) SELECT seq, name FROM products;
             INSERT INTO sales VALUES (x'01900000000070008000000000000002', 1, x'01900000000070008000000000000003',
               x'01900000000070008000000000000004', NULL, NULL, x'01900000000070008000000000000005', '2026-01-02T10:00:00.000000Z', 1499, 0, 1499, 0, 'completed');
             INSERT INTO sale_lines VALUES (x'01900000000070008000000000000002', 1, x'01900000000070008000000000000001', 'PAO', NULL,
               'Pão Francês', 'KG', 1000, 1499, 1499, 0, 1499,
               '{\"ncm\":\"19052090\",\"cfop\":\"5102\",\"cest\":null,\"origin\":0,\"icms\":{\"regime\":\"csosn\",\"code\":\"102\"},\"icms_rate_bp\":0,\"pis_cst\":\"49\",\"pis_rate_bp\":0,\"cofins_cst\":\"49\",\"cofins_rate_bp\":0}');
             INSERT INTO sale_payments VALUES (x'01900000000070008000000000000002', 0, 1499, '{\"method\":\"cash\",\"tendered\":2000,\"change\":501}');",
        )
        .expect("old rows insert");
    }
    let mut store = Store::open(&path, &key).expect("opening runs the pending migration");
    assert_eq!(store.applied_migrations().expect("reads").len(), 7);
    let p = store.product_by_sku("PAO").expect("reads").expect("kept");
    assert_eq!((p.name.as_str(), p.version), ("Pão Francês", 7));
    assert_eq!(
        store.search_products("pao", 5).expect("searches").len(),
        1,
        "the FTS index kept the old row"
    );
    let sale_id = "01900000-0000-7000-8000-000000000002"
        .parse()
        .expect("valid id");
    let sale = store.sale(sale_id).expect("reads").expect("kept");
    assert_eq!(sale.sale.verify(), Ok(()));
    assert_eq!(sale.fiscal, None, "old sales have no fiscal document");
    let series = crate::FiscalSeries {
        model: 65,
        series: 1,
    };
    assert_eq!(
        store
            .reserve_fiscal_number(series)
            .expect("new tables work"),
        1
    );
    // The registers migration finds the old sale's cash through its register session.
    let session = "01900000-0000-7000-8000-000000000005"
        .parse()
        .expect("valid id");
    assert_eq!(
        store.register_cash(session).expect("reads").cash_sales,
        tenda_domain::Money::from_centavos(1499)
    );
}

fn columns(conn: &mut SqliteConnection, table: &str) -> Vec<String> {
    #[derive(QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
    }
    let rows: Vec<Name> = diesel::sql_query("SELECT name FROM pragma_table_info(?)")
        .bind::<diesel::sql_types::Text, _>(table)
        .load(conn)
        .expect("lists columns");
    rows.into_iter().map(|n| n.name).collect()
}

fn sale_columns(conn: &mut SqliteConnection) -> Vec<String> {
    columns(conn, "sales")
}

fn stock_level_columns(conn: &mut SqliteConnection) -> Vec<String> {
    columns(conn, "stock_levels")
}

#[test]
fn sales_written_before_the_folio_column_read_without_one_and_take_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("f.db");
    let key = DbKey::generate();
    {
        let mut conn = open_connection(&path, &key).expect("opens");
        for _ in 0..4 {
            conn.run_next_migration(MIGRATIONS)
                .expect("earlier migrations apply");
        }
        assert!(
            !sale_columns(&mut conn).contains(&"folio".to_owned()),
            "the folio migration has not run"
        );
        conn.batch_execute(
            "INSERT INTO sales (id, local_number, device_id, seller_id, customer_id, consumer_tax_id,
               register_session_id, created_at, gross, discount, total, change, status)
             VALUES (x'01900000000070008000000000000002', 1, x'01900000000070008000000000000003',
               x'01900000000070008000000000000004', NULL, NULL, NULL, '2026-01-02T10:00:00.000000Z',
               1499, 0, 1499, 0, 'completed');
             INSERT INTO sale_lines VALUES (x'01900000000070008000000000000002', 1, x'01900000000070008000000000000001', 'PAO', NULL,
               'Pão Francês', 'KG', 1000, 1499, 1499, 0, 1499,
               '{\"ncm\":\"19052090\",\"cfop\":\"5102\",\"cest\":null,\"origin\":0,\"icms\":{\"regime\":\"csosn\",\"code\":\"102\"},\"icms_rate_bp\":0,\"pis_cst\":\"49\",\"pis_rate_bp\":0,\"cofins_cst\":\"49\",\"cofins_rate_bp\":0}');
             INSERT INTO sale_payments VALUES (x'01900000000070008000000000000002', 0, 1499, '{\"method\":\"cash\",\"tendered\":2000,\"change\":501}');",
        )
        .expect("a sale under the previous schema inserts");
    }
    let mut store = Store::open(&path, &key).expect("opening runs the folio migration");
    let sale_id = "01900000-0000-7000-8000-000000000002"
        .parse()
        .expect("valid id");
    let old = store.sale(sale_id).expect("reads").expect("kept");
    assert_eq!(
        old.folio, None,
        "a sale from before the column has no folio"
    );
    assert_eq!(old.sale.verify(), Ok(()), "the old sale is intact");
    store
        .set_sale_folio(sale_id, 7)
        .expect("an old sale takes its folio");
    assert_eq!(
        store.sale(sale_id).expect("reads").expect("kept").folio,
        Some(7)
    );
}

#[test]
fn every_migration_reverts_and_applies_again() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("r.db");
    let key = DbKey::generate();
    let mut conn = open_connection(&path, &key).expect("opens");
    conn.run_pending_migrations(MIGRATIONS).expect("applies");
    let all = table_names(&mut conn);
    conn.revert_last_migration(MIGRATIONS)
        .expect("derived stock and packed outbox revert");
    assert!(
        stock_level_columns(&mut conn).contains(&"pending".to_owned()),
        "the stored pending stock is back"
    );
    conn.revert_last_migration(MIGRATIONS)
        .expect("sale commit pages revert");
    assert!(!sale_columns(&mut conn).is_empty());
    assert!(
        !stock_level_columns(&mut conn).contains(&"pending".to_owned()),
        "the pending stock column is gone"
    );
    conn.revert_last_migration(MIGRATIONS)
        .expect("sale folio reverts");
    assert!(!sale_columns(&mut conn).contains(&"folio".to_owned()));
    conn.revert_last_migration(MIGRATIONS)
        .expect("secrets revert");
    assert!(!table_names(&mut conn).contains(&"secrets".to_owned()));
    conn.revert_last_migration(MIGRATIONS)
        .expect("registers revert");
    assert!(!table_names(&mut conn).contains(&"cash_movements".to_owned()));
    conn.revert_last_migration(MIGRATIONS)
        .expect("fiscal reverts");
    assert!(!table_names(&mut conn).contains(&"fiscal_counters".to_owned()));
    conn.revert_last_migration(MIGRATIONS)
        .expect("core reverts");
    assert_eq!(
        table_names(&mut conn),
        Vec::<String>::new(),
        "down migrations drop everything they created"
    );
    conn.run_pending_migrations(MIGRATIONS)
        .expect("applies again");
    assert_eq!(table_names(&mut conn), all);
}

#[test]
fn the_table_definitions_match_the_migrated_schema() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = Store::open(dir.path().join("s.db"), &DbKey::generate()).expect("opens");
    let c = &mut store.conn;
    // Selecting every declared column fails if a column is missing or misnamed.
    settings::table
        .select(settings::all_columns)
        .limit(0)
        .load::<(String, String, i64)>(c)
        .expect("settings");
    products::table
        .select(crate::catalog::ProductRow::as_select())
        .limit(0)
        .load(c)
        .expect("products");
    customers::table
        .select(crate::customers::CustomerRow::as_select())
        .limit(0)
        .load(c)
        .expect("customers");
    users::table
        .select(users::all_columns)
        .limit(0)
        .load::<(Vec<u8>, String, String, String, String, bool, i64)>(c)
        .expect("users");
    stock_levels::table
        .select(stock_levels::all_columns)
        .limit(0)
        .load::<(Vec<u8>, i64, String)>(c)
        .expect("stock");
    outbox::table
        .select(outbox::all_columns)
        .limit(0)
        .load::<(i64, String, Vec<u8>, bool, String)>(c)
        .expect("outbox");
    counters::table
        .select(counters::all_columns)
        .limit(0)
        .load::<(String, i64, Option<Vec<u8>>)>(c)
        .expect("counters");
    secrets::table
        .select(secrets::all_columns)
        .limit(0)
        .load::<(String, Vec<u8>, String)>(c)
        .expect("secrets");
    cash_movements::table
        .select(cash_movements::all_columns)
        .limit(0)
        .load::<(
            i64,
            Vec<u8>,
            String,
            i64,
            String,
            Option<String>,
            String,
            i64,
        )>(c)
        .expect("cash movements");
    fiscal_counters::table
        .select(fiscal_counters::all_columns)
        .limit(0)
        .load::<(i32, i32, i32)>(c)
        .expect("fiscal counters");
    fiscal_numbers::table
        .select(fiscal_numbers::all_columns)
        .limit(0)
        .load::<(i32, i32, i32, String, String, Option<String>)>(c)
        .expect("fiscal numbers");
    stock_deltas::table
        .select(stock_deltas::all_columns)
        .limit(0)
        .load::<(i64, Vec<u8>, i64, String, Option<Vec<u8>>, i64, String)>(c)
        .expect("stock deltas");
    balance_deltas::table
        .select(balance_deltas::all_columns)
        .limit(0)
        .load::<(i64, Vec<u8>, i64, String, Option<Vec<u8>>, i64, String)>(c)
        .expect("balance deltas");
}

#[test]
fn sales_outbox_audit_and_pending_stock_survive_the_sale_commit_pages_migration() {
    use crate::PullChange;
    use tenda_domain::{Actor, Mutation, Quantity, StockReason, UserId};
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("p.db");
    let key = DbKey::generate();
    let product: tenda_domain::ProductId = "01900000-0000-7000-8000-000000000001"
        .parse()
        .expect("valid id");
    let mutation = |delta: i64| Mutation::StockAdjusted {
        product_id: product,
        delta: Quantity::from_thousandths(delta),
        reason: StockReason::Count,
        actor: Actor::User(UserId::new()),
        at: chrono::Utc::now(),
    };
    let at = "2026-01-02T10:00:00.000000Z";
    let hash = crate::audit::entry_hash(
        &crate::audit::GENESIS_HASH,
        1,
        "system",
        "sale.record",
        "sale:x",
        "succeeded",
        at,
    );
    {
        let mut conn = open_connection(&path, &key).expect("opens");
        for _ in 0..5 {
            conn.run_next_migration(MIGRATIONS)
                .expect("earlier migrations apply");
        }
        // A sale (local number 3) with two lines and a payment; two stock deltas for outbox
        // entries 1 and 2, of which the server acknowledged 1; one audit entry.
        conn.batch_execute(&format!(
            "INSERT INTO products (id, sku, name, unit, price, fiscal, active, version)
               VALUES (x'01900000000070008000000000000001', 'PAO', 'Pão', 'KG', 1499, '{{}}', 1, 1);
             INSERT INTO sales (id, local_number, device_id, seller_id, customer_id, consumer_tax_id,
               register_session_id, created_at, gross, discount, total, change, status)
             VALUES (x'01900000000070008000000000000002', 3, x'01900000000070008000000000000003',
               x'01900000000070008000000000000004', NULL, NULL, NULL, '{at}',
               2998, 0, 2998, 0, 'completed');
             INSERT INTO sale_lines VALUES
               (x'01900000000070008000000000000002', 2, x'01900000000070008000000000000001', 'PAO', NULL,
                'Pão Francês', 'KG', 1000, 1499, 1499, 0, 1499, '{fiscal}'),
               (x'01900000000070008000000000000002', 1, x'01900000000070008000000000000001', 'PAO', NULL,
                'Pão Francês', 'KG', 1000, 1499, 1499, 0, 1499, '{fiscal}');
             INSERT INTO sale_payments VALUES (x'01900000000070008000000000000002', 0, 2998,
               '{{\"method\":\"cash\",\"tendered\":3000,\"change\":2}}');
             INSERT INTO fiscal_documents (sale_id, model, series, number, access_key, tp_emis,
               status, xml, issued_at, updated_at)
             VALUES (x'01900000000070008000000000000002', 65, 1, 1,
               '{access_key}', 1, 'authorized', '<NFe/>', '{at}', '{at}');
             INSERT INTO stock_levels (product_id, server_quantity, quantity, updated_at)
               VALUES (x'01900000000070008000000000000001', 10000, 7500, '{at}');
             INSERT INTO stock_deltas (product_id, delta, reason, sale_id, outbox_seq, at) VALUES
               (x'01900000000070008000000000000001', -2000, '\"count\"', NULL, 1, '{at}'),
               (x'01900000000070008000000000000001', -500, '\"count\"', NULL, 2, '{at}');
             INSERT INTO outbox (seq, kind, payload, created_at) VALUES
               (1, 'stock_adjusted', '{m1}', '{at}'), (2, 'stock_adjusted', '{m2}', '{at}');
             INSERT INTO counters (name, value) VALUES ('outbox_seq', 2),
               ('outbox_pushed_through', 1), ('sale_local_number', 3);
             INSERT INTO audit_log (seq, actor, action, subject, outcome, at, prev_hash, hash)
               VALUES (1, 'system', 'sale.record', 'sale:x', 'succeeded', '{at}', x'{genesis}', x'{hash}');
             INSERT INTO audit_head (id, seq, hash) VALUES (1, 1, x'{hash}');",
            fiscal = r#"{"ncm":"19052090","cfop":"5102","cest":null,"origin":0,"icms":{"regime":"csosn","code":"102"},"icms_rate_bp":0,"pis_cst":"49","pis_rate_bp":0,"cofins_cst":"49","cofins_rate_bp":0}"#,
            m1 = serde_json::to_string(&mutation(-2000)).expect("serializes"),
            m2 = serde_json::to_string(&mutation(-500)).expect("serializes"),
            genesis = hex::encode(crate::audit::GENESIS_HASH),
            access_key = "3".repeat(44),
            hash = hex::encode(hash),
        ))
        .expect("rows under the previous schema insert");
    }
    let mut store = Store::open(&path, &key).expect("opening runs the migration");
    assert_eq!(store.applied_migrations().expect("reads").len(), 7);

    let sale_id = "01900000-0000-7000-8000-000000000002"
        .parse()
        .expect("valid id");
    let sale = store.sale(sale_id).expect("reads").expect("kept");
    let line_numbers: Vec<u32> = sale.sale.lines.iter().map(|l| l.line_no).collect();
    assert_eq!(line_numbers, vec![1, 2], "lines keep their order by number");
    assert_eq!(sale.sale.payments.len(), 1);
    assert_eq!(sale.sale.verify(), Ok(()), "the old sale is intact");
    assert_eq!(
        sale.fiscal.map(|d| d.number),
        Some(1),
        "the fiscal document still belongs to its sale"
    );

    let entries = store.outbox_after(0, 10).expect("reads");
    assert_eq!(
        entries.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![1, 2],
        "outbox numbers are kept"
    );
    assert!(
        matches!(entries[1].mutation, Mutation::StockAdjusted { delta, .. } if delta.thousandths() == -500),
        "payloads are kept"
    );
    assert_eq!(
        store.verify_audit_chain().expect("verifies"),
        crate::AuditVerification::Intact { entries: 1 },
        "the audit chain still verifies"
    );

    // Entry 2 (-0.5) is not acknowledged: a new server level gets it on top.
    let level = |store: &mut Store, units: i64| {
        store
            .apply_changes(
                vec![PullChange::StockLevel {
                    product_id: product,
                    quantity: Quantity::from_thousandths(units),
                }],
                &mut |_| {},
            )
            .expect("applies");
        store.stock_level(product).expect("reads").thousandths()
    };
    assert_eq!(level(&mut store, 9000), 8500);
    store.outbox_mark_pushed(2).expect("acknowledges");
    assert_eq!(
        level(&mut store, 8500),
        8500,
        "once acknowledged, the server's level already holds the delta"
    );
}

#[test]
fn stock_and_outbox_survive_the_derived_stock_migration() {
    use tenda_domain::{Actor, Mutation, Quantity, StockDelta, StockReason, UserId};
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("d.db");
    let key = DbKey::generate();
    let product: tenda_domain::ProductId = "01900000-0000-7000-8000-000000000001"
        .parse()
        .expect("valid id");
    let mutation = |delta: i64| Mutation::StockAdjusted {
        product_id: product,
        delta: Quantity::from_thousandths(delta),
        reason: StockReason::Count,
        actor: Actor::User(UserId::new()),
        at: chrono::Utc::now(),
    };
    let at = "2026-01-02T10:00:00.000000Z";
    {
        let mut conn = open_connection(&path, &key).expect("opens");
        for _ in 0..6 {
            conn.run_next_migration(MIGRATIONS)
                .expect("earlier migrations apply");
        }
        // Server level 10; outbox entry 1 (-2, acknowledged) and 2 (-1, not yet): the stored
        // level is 9 with -1 pending.
        conn.batch_execute(&format!(
            "INSERT INTO products (id, sku, name, unit, price, fiscal, active, version)
               VALUES (x'01900000000070008000000000000001', 'PAO', 'Pão', 'KG', 1499, '{{}}', 1, 1);
             INSERT INTO stock_levels (product_id, server_quantity, quantity, updated_at, pending)
               VALUES (x'01900000000070008000000000000001', 10000, 9000, '{at}', -1000);
             INSERT INTO stock_deltas (id, product_id, delta, reason, sale_id, outbox_seq, at) VALUES
               (1048576, x'01900000000070008000000000000001', -2000, '\"count\"', NULL, 1, '{at}'),
               (2097152, x'01900000000070008000000000000001', -1000, '\"count\"', NULL, 2, '{at}');
             INSERT INTO outbox (seq, kind, payload, created_at) VALUES
               (1, 'stock_adjusted', '{m1}', '{at}'), (2, 'stock_adjusted', '{m2}', '{at}');
             INSERT INTO counters (name, value) VALUES ('outbox_seq', 2),
               ('outbox_pushed_through', 1);",
            m1 = serde_json::to_string(&mutation(-2000)).expect("serializes"),
            m2 = serde_json::to_string(&mutation(-1000)).expect("serializes"),
        ))
        .expect("rows under the previous schema insert");
    }
    let mut store = Store::open(&path, &key).expect("opening runs the migration");
    assert_eq!(store.applied_migrations().expect("reads").len(), 7);
    assert!(
        !stock_level_columns(&mut store.conn).contains(&"pending".to_owned()),
        "the level row keeps only the server's figure"
    );
    assert_eq!(
        store.stock_level(product).expect("reads").thousandths(),
        9000,
        "server level 10 plus the unacknowledged -1, as before the migration"
    );

    // A new entry is stored packed; old plain ones and new packed ones read back alike.
    store
        .adjust_stock(
            &StockDelta {
                product_id: product,
                delta: Quantity::from_thousandths(-500),
                reason: StockReason::Count,
            },
            Actor::User(UserId::new()),
            chrono::Utc::now(),
        )
        .expect("adjusts");
    let entries = store.outbox_after(0, 10).expect("reads");
    let deltas: Vec<i64> = entries
        .iter()
        .filter_map(|e| match &e.mutation {
            Mutation::StockAdjusted { delta, .. } => Some(delta.thousandths()),
            _ => None,
        })
        .collect();
    assert_eq!(deltas, vec![-2000, -1000, -500], "every payload reads back");
    assert_eq!(
        entries.last().map(|e| e.mutation.kind()),
        Some("audit_appended"),
        "the adjustment's audit entry follows it"
    );
    assert_eq!(
        store.stock_level(product).expect("reads").thousandths(),
        8500
    );

    // Reverting cannot unpack LZ4 in SQL, so it refuses rather than dropping the entry.
    drop(store);
    let mut conn = open_connection(&path, &key).expect("opens");
    assert!(
        conn.revert_last_migration(MIGRATIONS).is_err(),
        "a packed entry blocks the revert"
    );
    let mut store = Store::open(&path, &key).expect("still at the new schema");
    assert_eq!(
        store.stock_level(product).expect("reads").thousandths(),
        8500
    );
}
