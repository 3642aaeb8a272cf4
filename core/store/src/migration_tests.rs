//! Migration tests: each migration is applied on top of a database holding rows written by the
//! schema before it, and every migration reverts and re-applies cleanly.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel_migrations::MigrationHarness;

use crate::keys::DbKey;
use crate::schema::*;
use crate::store::{MIGRATIONS, Store, open_connection};

/// How many migrations the schema has: opening a store applies them all.
const ALL_MIGRATIONS: usize = 16;

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
    let mut store = Store::open(&path, &key).expect("opening runs the pending migrations");
    assert_eq!(
        store.applied_migrations().expect("reads").len(),
        ALL_MIGRATIONS
    );
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

/// Settings as an earlier schema's point of sale wrote them (key, JSON text).
fn put_old_settings(conn: &mut SqliteConnection, settings: &[(&str, &str)]) {
    for (k, v) in settings {
        diesel::insert_into(settings::table)
            .values((
                settings::key.eq(k),
                settings::value.eq(v),
                settings::version.eq(0),
            ))
            .execute(conn)
            .expect("old setting");
    }
}

/// A setting's JSON value, which must be there (after a revert put it back).
fn setting_back(conn: &mut SqliteConnection, key: &str) -> serde_json::Value {
    let text: String = settings::table
        .filter(settings::key.eq(key))
        .select(settings::value)
        .get_result(conn)
        .expect("setting back");
    serde_json::from_str(&text).expect("json")
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
        .expect("sale audit entries in their rows revert");
    assert!(!sale_columns(&mut conn).contains(&"audit_seq".to_owned()));
    conn.revert_last_migration(MIGRATIONS)
        .expect("counters read from their tables revert");
    assert!(columns(&mut conn, "counters").contains(&"hash".to_owned()));
    conn.revert_last_migration(MIGRATIONS)
        .expect("records packed as MessagePack revert while none is stored");
    conn.revert_last_migration(MIGRATIONS)
        .expect("stock read from the outbox reverts while nothing is pending");
    assert!(table_names(&mut conn).contains(&"stock_deltas".to_owned()));
    conn.revert_last_migration(MIGRATIONS)
        .expect("device state as of a sale reverts");
    conn.revert_last_migration(MIGRATIONS)
        .expect("documents by number revert");
    assert!(table_names(&mut conn).contains(&"fiscal_counters".to_owned()));
    conn.revert_last_migration(MIGRATIONS)
        .expect("fiscal notes and closings revert");
    assert!(!table_names(&mut conn).contains(&"register_closings".to_owned()));
    conn.revert_last_migration(MIGRATIONS)
        .expect("typed lists revert");
    assert!(!table_names(&mut conn).contains(&"fiscal_events".to_owned()));
    conn.revert_last_migration(MIGRATIONS)
        .expect("packed sale rows revert while no sale is stored");
    assert!(table_names(&mut conn).contains(&"sale_lines".to_owned()));
    assert!(!sale_columns(&mut conn).contains(&"body".to_owned()));
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
        .load::<(String, i64)>(c)
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
            Option<i64>,
        )>(c)
        .expect("cash movements");
    fiscal_documents::table
        .select((
            fiscal_documents::doc_key,
            crate::fiscal::DocRow::as_select(),
        ))
        .limit(0)
        .load::<(i64, crate::fiscal::DocRow)>(c)
        .expect("fiscal documents");
    fiscal_numbers::table
        .select(fiscal_numbers::all_columns)
        .limit(0)
        .load::<(i32, i32, i32, String, String, Option<String>)>(c)
        .expect("fiscal numbers");
    fiscal_events::table
        .select(fiscal_events::all_columns)
        .limit(0)
        .load::<(
            i64,
            String,
            Option<String>,
            Option<String>,
            Option<i64>,
            Option<i64>,
            i32,
            Option<String>,
            String,
            String,
            String,
        )>(c)
        .expect("fiscal events");
    card_captures::table
        .select(card_captures::all_columns)
        .limit(0)
        .load::<(i64, String, String, String, String)>(c)
        .expect("card captures");
    card_payments_to_recover::table
        .select(card_payments_to_recover::all_columns)
        .limit(0)
        .load::<(
            i64,
            String,
            String,
            i64,
            String,
            String,
            String,
            String,
            String,
        )>(c)
        .expect("card payments to recover");
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
    assert_eq!(
        store.applied_migrations().expect("reads").len(),
        ALL_MIGRATIONS
    );

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

/// The product the stock migration tests count: `x'01900000000070008000000000000001'` in SQL.
fn counted_product() -> tenda_domain::ProductId {
    "01900000-0000-7000-8000-000000000001"
        .parse()
        .expect("valid id")
}

/// A stock count that moved `product` by `delta` thousandths.
fn stock_counted(product: tenda_domain::ProductId, delta: i64) -> tenda_domain::Mutation {
    use tenda_domain::{Actor, Mutation, Quantity, StockReason, UserId};
    Mutation::StockAdjusted {
        product_id: product,
        delta: Quantity::from_thousandths(delta),
        reason: StockReason::Count,
        actor: Actor::User(UserId::new()),
        at: chrono::Utc::now(),
    }
}

#[test]
fn stock_and_outbox_survive_the_derived_stock_migration() {
    use tenda_domain::{Actor, Mutation, Quantity, StockDelta, StockReason, UserId};
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("d.db");
    let key = DbKey::generate();
    let product = counted_product();
    let mutation = |delta: i64| stock_counted(product, delta);
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
    assert_eq!(
        store.applied_migrations().expect("reads").len(),
        ALL_MIGRATIONS
    );
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

    // Reverting would leave entries older code cannot read and lose the unacknowledged stock,
    // so it refuses.
    drop(store);
    let mut conn = open_connection(&path, &key).expect("opens");
    conn.revert_last_migration(MIGRATIONS).expect("reverts 16");
    conn.revert_last_migration(MIGRATIONS).expect("reverts 15");
    assert!(
        conn.revert_last_migration(MIGRATIONS).is_err(),
        "unacknowledged entries in the outbox block the revert"
    );
    let mut store = Store::open(&path, &key).expect("still at the new schema");
    assert_eq!(
        store.stock_level(product).expect("reads").thousandths(),
        8500
    );
}

/// A sale as the till builds it: two lines (one weighed, with a GTIN), paid by card and cash.
fn products_for_migration() -> Vec<tenda_domain::Product> {
    use tenda_domain::*;
    let gtin = Gtin::parse("7891000315507").expect("valid GTIN");
    vec![
        Product {
            id: ProductId::new(),
            sku: "PAO".into(),
            gtin: None,
            name: "Pão Francês".into(),
            unit: Unit::Kilogram,
            price: Money::from_centavos(1499),
            fiscal: FiscalData::simples_nacional("19052090"),
            active: true,
            version: 1,
        },
        Product {
            id: ProductId::new(),
            sku: "CAFE".into(),
            gtin: Some(gtin),
            name: "Café Pilão 500g".into(),
            unit: Unit::Each,
            price: Money::from_centavos(1899),
            fiscal: FiscalData::simples_nacional("09012100"),
            active: true,
            version: 1,
        },
    ]
}

/// A sign-in, the audit entry of an action that is not a sale.
fn sign_in_event() -> tenda_domain::AuditEvent {
    use tenda_domain::{Actor, AuditEvent, Outcome, UserId};
    AuditEvent {
        actor: Actor::User(UserId::new()),
        action: "session.sign_in".into(),
        subject: "user".into(),
        outcome: Outcome::Succeeded,
        at: crate::store::stored_instant(chrono::Utc::now()),
    }
}

/// Commits one of [`sale_for_migration`]'s sales.
fn commit_for_migration(
    store: &mut Store,
    products: &[tenda_domain::Product],
) -> crate::CommittedSale {
    store
        .commit_sale(&crate::SaleCommit {
            sale: sale_for_migration(products),
            actor: tenda_domain::Actor::User(tenda_domain::UserId::new()),
            register_session_id: None,
        })
        .expect("commits")
}

fn sale_for_migration(products: &[tenda_domain::Product]) -> tenda_domain::Sale {
    use tenda_domain::*;
    let mut cart = Cart::new();
    cart.add(&products[0], Quantity::from_thousandths(1_250))
        .expect("weighed line");
    cart.add(&products[1], Quantity::from_units(2).expect("fits"))
        .expect("unit line");
    let total = cart.totals().expect("totals").total;
    let card = Money::from_centavos(total.centavos() / 2);
    let cash = total.checked_sub(card).expect("fits");
    cart.checkout(
        SaleHeader {
            id: SaleId::new(),
            device_id: DeviceId::new(),
            seller_id: UserId::new(),
            created_at: crate::store::stored_instant(chrono::Utc::now()),
        },
        vec![
            Payment::card(
                card,
                CardKind::Debit,
                Some("ELO".into()),
                Some("9F8E7D".into()),
            ),
            Payment::cash(
                cash,
                cash.checked_add(Money::from_centavos(350)).expect("fits"),
            )
            .expect("enough"),
        ],
    )
    .expect("settled")
}

#[test]
fn sales_and_their_outbox_entries_survive_the_packed_sale_rows_migration() {
    use diesel::sql_types::{BigInt, Binary, Bool, Integer, Nullable, Text};
    use tenda_domain::*;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("b.db");
    let key = DbKey::generate();
    let products = products_for_migration();
    let sales = [sale_for_migration(&products), sale_for_migration(&products)];
    let recorded: Vec<Mutation> = sales
        .iter()
        .enumerate()
        .map(|(i, sale)| {
            Mutation::SaleRecorded(SaleRecorded {
                sale: sale.clone(),
                local_number: i as u64 + 1,
                register_session_id: (i == 1).then(RegisterSessionId::new),
                fiscal: None,
                stock_deltas: sale.stock_deltas().expect("deltas"),
                balance_deltas: Vec::new(),
            })
        })
        .collect();
    {
        let mut conn = open_connection(&path, &key).expect("opens");
        for _ in 0..7 {
            conn.run_next_migration(MIGRATIONS)
                .expect("earlier migrations apply");
        }
        assert!(!sale_columns(&mut conn).contains(&"body".to_owned()));
        // Each sale as the previous schema stored it: a row, its lines and payments in their
        // tables, its stock deltas, and its whole SaleRecorded in the outbox (the first from
        // before outbox packing, in plain JSON; the second packed).
        for (i, (sale, mutation)) in sales.iter().zip(&recorded).enumerate() {
            let number = i as i64 + 1;
            let Mutation::SaleRecorded(r) = mutation else {
                unreachable!("built above")
            };
            diesel::sql_query(
                "INSERT INTO sales (id, local_number, device_id, seller_id, register_session_id,
                   created_at, gross, discount, total, change, status)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'completed')",
            )
            .bind::<Binary, _>(sale.id.as_bytes().to_vec())
            .bind::<BigInt, _>(number)
            .bind::<Binary, _>(sale.device_id.as_bytes().to_vec())
            .bind::<Binary, _>(sale.seller_id.as_bytes().to_vec())
            .bind::<Nullable<Binary>, _>(r.register_session_id.map(|s| s.as_bytes().to_vec()))
            .bind::<Text, _>(crate::store::ts(sale.created_at))
            .bind::<BigInt, _>(sale.gross.centavos())
            .bind::<BigInt, _>(sale.discount.centavos())
            .bind::<BigInt, _>(sale.total.centavos())
            .bind::<BigInt, _>(sale.change.centavos())
            .execute(&mut conn)
            .expect("sale row");
            for l in &sale.lines {
                diesel::sql_query(
                    "INSERT INTO sale_lines (line_key, sale_id, line_no, product_id, sku, gtin,
                       name, unit, quantity, unit_price, gross, discount, total, fiscal)
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                )
                .bind::<BigInt, _>(number * 1_048_576 + i64::from(l.line_no))
                .bind::<Binary, _>(sale.id.as_bytes().to_vec())
                .bind::<Integer, _>(l.line_no as i32)
                .bind::<Binary, _>(l.product_id.as_bytes().to_vec())
                .bind::<Text, _>(&l.sku)
                .bind::<Nullable<Text>, _>(
                    l.gtin
                        .as_ref()
                        .map(|g| serde_json::to_string(g).expect("json")),
                )
                .bind::<Text, _>(&l.name)
                .bind::<Text, _>(l.unit.code())
                .bind::<BigInt, _>(l.quantity.thousandths())
                .bind::<BigInt, _>(l.unit_price.centavos())
                .bind::<BigInt, _>(l.gross.centavos())
                .bind::<BigInt, _>(l.discount.centavos())
                .bind::<BigInt, _>(l.total.centavos())
                .bind::<Text, _>(serde_json::to_string(&l.fiscal).expect("json"))
                .execute(&mut conn)
                .expect("line row");
            }
            for (idx, p) in sale.payments.iter().enumerate() {
                diesel::sql_query(
                    "INSERT INTO sale_payments (payment_key, sale_id, idx, amount, method)
                     VALUES (?, ?, ?, ?, ?)",
                )
                .bind::<BigInt, _>(number * 1_048_576 + idx as i64)
                .bind::<Binary, _>(sale.id.as_bytes().to_vec())
                .bind::<Integer, _>(idx as i32)
                .bind::<BigInt, _>(p.amount.centavos())
                .bind::<Text, _>(serde_json::to_string(&p.method).expect("json"))
                .execute(&mut conn)
                .expect("payment row");
            }
            for (n, d) in r.stock_deltas.iter().enumerate() {
                diesel::sql_query(
                    "INSERT INTO stock_deltas (id, product_id, delta, reason, sale_id, outbox_seq, at)
                     VALUES (?, ?, ?, '\"sale\"', ?, ?, '2026-01-02T10:00:00.000000Z')",
                )
                .bind::<BigInt, _>(number * 1_048_576 + n as i64)
                .bind::<Binary, _>(d.product_id.as_bytes().to_vec())
                .bind::<BigInt, _>(d.delta.thousandths())
                .bind::<Binary, _>(sale.id.as_bytes().to_vec())
                .bind::<BigInt, _>(number)
                .execute(&mut conn)
                .expect("delta row");
            }
            let json = serde_json::to_vec(mutation).expect("json");
            let (payload, packed) = if i == 0 {
                (json, false)
            } else {
                (lz4_flex::block::compress_prepend_size(&json), true)
            };
            diesel::sql_query(
                "INSERT INTO outbox (seq, kind, payload, packed, created_at)
                 VALUES (?, 'sale_recorded', ?, ?, '2026-01-02T10:00:00.000000Z')",
            )
            .bind::<BigInt, _>(number)
            .bind::<Binary, _>(payload)
            .bind::<Bool, _>(packed)
            .execute(&mut conn)
            .expect("outbox row");
        }
        conn.batch_execute(
            "INSERT INTO counters (name, value) VALUES ('outbox_seq', 2),
               ('outbox_pushed_through', 0), ('sale_local_number', 2);",
        )
        .expect("counters");
        // The second sale's register session, opened with a float of 100.00.
        let Mutation::SaleRecorded(r) = &recorded[1] else {
            unreachable!("built above")
        };
        diesel::sql_query(
            "INSERT INTO cash_movements (session_id, kind, amount, actor, at, outbox_seq)
             VALUES (?, 'opening', 10000, 'system', '2026-01-02T09:00:00.000000Z', 0)",
        )
        .bind::<Binary, _>(r.register_session_id.expect("has one").as_bytes().to_vec())
        .execute(&mut conn)
        .expect("opening");
    }

    let mut store = Store::open(&path, &key).expect("opening runs the migration");
    assert_eq!(
        store.applied_migrations().expect("reads").len(),
        ALL_MIGRATIONS
    );
    let tables = table_names(&mut store.conn);
    assert!(!tables.contains(&"sale_lines".to_owned()));
    assert!(!tables.contains(&"sale_payments".to_owned()));
    assert!(
        !tables.contains(&"stock_deltas".to_owned()),
        "migration 13 reads stock from the outbox entries"
    );

    // Every sale reads back whole, lines in order, payments with their card details.
    for sale in &sales {
        let stored = store.sale(sale.id).expect("reads").expect("kept");
        assert_eq!(&stored.sale, sale, "the sale is exactly what was recorded");
    }
    // The outbox gives the very mutations recorded: the sale comes back from its row.
    let entries = store.outbox_after(0, 10).expect("reads");
    assert_eq!(
        entries.iter().map(|e| &e.mutation).collect::<Vec<_>>(),
        recorded.iter().collect::<Vec<_>>()
    );
    // The session's cash count still finds its sale (with no index by session any more).
    let Mutation::SaleRecorded(r) = &recorded[1] else {
        unreachable!("built above")
    };
    let cash_paid = sales[1]
        .payments
        .iter()
        .filter(|p| matches!(p.method, PaymentMethod::Cash { .. }))
        .map(|p| p.amount.centavos())
        .sum::<i64>();
    let cash = store
        .register_cash(r.register_session_id.expect("has one"))
        .expect("counts");
    assert_eq!(cash.cash_sales.centavos(), cash_paid);
    assert_eq!(cash.expected.centavos(), 10_000 + cash_paid);
    // Stock: nothing acknowledged, so both sales' deltas are pending on top of level 0.
    let sold_bread: i64 = sales
        .iter()
        .map(|s| s.lines[0].quantity.thousandths())
        .sum();
    assert_eq!(
        store
            .stock_level(products[0].id)
            .expect("reads")
            .thousandths(),
        -sold_bread
    );

    // A sale recorded after the migration round-trips the same way.
    store
        .load_catalog(products.clone(), &mut |_| {})
        .expect("catalog");
    let third = sale_for_migration(&products);
    let committed = store
        .commit_sale(&crate::SaleCommit {
            sale: third.clone(),
            actor: Actor::User(UserId::new()),
            register_session_id: None,
        })
        .expect("commits");
    assert_eq!(committed.local_number, 3);
    let entry = store
        .outbox_after(committed.outbox_seq - 1, 1)
        .expect("reads")
        .remove(0);
    assert!(
        matches!(&entry.mutation, Mutation::SaleRecorded(r) if r.sale == third && r.local_number == 3)
    );
}

/// Lists as the point of sale wrote them before migration 9: one JSON array per setting
/// (serde's output for its records: times with nanoseconds, money as centavos).
const OLD_FISCAL_EVENTS: &str = r#"[{"kind":"inutilizacao","sale_id":null,"access_key":null,"first":7,"last":9,"status_code":102,"protocol":"135260000000001","registered_at":"2026-01-02T10:00:00.123456789Z","justification":"Falha no sistema ao emitir","xml":"<procInutNFe>1</procInutNFe>"},{"kind":"cancellation","sale_id":"01900000-0000-7000-8000-000000000002","access_key":"35260112345678000190650010000000101000000106","first":null,"last":null,"status_code":135,"protocol":"135260000000002","registered_at":"2026-01-02T11:00:00Z","justification":"Cliente desistiu da compra","xml":"<procEventoNFe>2</procEventoNFe>"}]"#;
const OLD_CAPTURES: &str = r#"[{"payment_id":"01900000-0000-7000-8000-0000000000c1","sale_reference":"sale-1","amount":2500,"kind":"Credit","card":{"brand":"VISA","last4":"4242"},"captured_at":"2026-01-02T10:05:00.5Z","risk_accepted_by":"gerente","sealed":{"nonce":"00ff","ciphertext":"abcd"},"status":"Pending"},{"payment_id":"01900000-0000-7000-8000-0000000000c2","sale_reference":"sale-2","amount":990,"kind":"Debit","card":{"brand":"ELO","last4":"0001"},"captured_at":"2026-01-02T10:06:00Z","risk_accepted_by":"gerente","sealed":{"nonce":"01","ciphertext":"02"},"status":{"Approved":{"authorization_code":"A1"}}}]"#;
const OLD_TO_RECOVER: &str = r#"[{"payment_id":"01900000-0000-7000-8000-0000000000c3","sale_id":"sale-3","amount":1234,"brand":"MASTER","last4":"9999","captured_at":"2026-01-02T09:00:00Z","declined_at":"2026-01-02T12:00:00.000001Z","reason":"saldo insuficiente"}]"#;

#[test]
fn lists_kept_as_settings_become_rows_and_revert_to_the_same_settings() {
    use crate::FiscalEventKind;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("l.db");
    let key = DbKey::generate();
    {
        let mut conn = open_connection(&path, &key).expect("opens");
        for _ in 0..8 {
            conn.run_next_migration(MIGRATIONS).expect("applies");
        }
        assert!(!table_names(&mut conn).contains(&"fiscal_events".to_owned()));
        put_old_settings(
            &mut conn,
            &[
                ("pos.fiscal_events", OLD_FISCAL_EVENTS),
                ("pos.card_offline_payments", OLD_CAPTURES),
                ("pos.card_payments_to_recover", OLD_TO_RECOVER),
                ("pos.config", "{\"kept\":true}"),
            ],
        );
    }
    let mut store = Store::open(&path, &key).expect("opening runs the pending migrations");
    assert_eq!(
        store.applied_migrations().expect("reads").len(),
        ALL_MIGRATIONS
    );

    let events = store.fiscal_events().expect("reads events");
    assert_eq!(events.len(), 2, "every event, in the order registered");
    assert_eq!(events[0].kind, FiscalEventKind::Inutilizacao);
    assert_eq!((events[0].first, events[0].last), (Some(7), Some(9)));
    assert_eq!(events[0].xml, "<procInutNFe>1</procInutNFe>");
    assert_eq!(
        events[0].registered_at.timestamp_nanos_opt(),
        Some(1_767_348_000_123_456_789),
        "the time kept to the nanosecond serde wrote"
    );
    assert_eq!(events[1].kind, FiscalEventKind::Cancellation);
    assert_eq!(
        events[1].access_key.as_deref(),
        Some("35260112345678000190650010000000101000000106")
    );
    assert_eq!(events[1].status_code, 135);

    let captures = store.card_captures().expect("reads captures");
    assert_eq!(
        captures
            .iter()
            .map(|c| c.sale_reference.as_str())
            .collect::<Vec<_>>(),
        ["sale-1", "sale-2"]
    );
    // The record is the terminal's own JSON, whole.
    let first: serde_json::Value = serde_json::from_str(&captures[0].record).expect("json");
    let old: serde_json::Value = serde_json::from_str(OLD_CAPTURES).expect("json");
    assert_eq!(first, old[0]);

    let declined = store.card_payments_to_recover().expect("reads declined");
    assert_eq!(declined.len(), 1);
    assert_eq!(declined[0].amount.centavos(), 1234);
    assert_eq!(declined[0].reason, "saldo insuficiente");

    // The settings that held the lists are gone; others stay.
    for k in [
        "pos.fiscal_events",
        "pos.card_offline_payments",
        "pos.card_payments_to_recover",
    ] {
        assert_eq!(store.setting_json(k).expect("reads"), None, "{k}");
    }
    assert!(store.setting_json("pos.config").expect("reads").is_some());
    drop(store);

    // Reverting puts each list back as the same JSON values (the migration after it first).
    let mut conn = open_connection(&path, &key).expect("opens");
    conn.revert_last_migration(MIGRATIONS).expect("reverts 16");
    conn.revert_last_migration(MIGRATIONS).expect("reverts 15");
    conn.revert_last_migration(MIGRATIONS).expect("reverts 14");
    conn.revert_last_migration(MIGRATIONS).expect("reverts 13");
    conn.revert_last_migration(MIGRATIONS).expect("reverts 12");
    conn.revert_last_migration(MIGRATIONS).expect("reverts 11");
    conn.revert_last_migration(MIGRATIONS).expect("reverts 10");
    conn.revert_last_migration(MIGRATIONS).expect("reverts 9");
    assert_eq!(
        setting_back(&mut conn, "pos.card_offline_payments"),
        serde_json::from_str::<serde_json::Value>(OLD_CAPTURES).expect("json")
    );
    assert_eq!(
        setting_back(&mut conn, "pos.card_payments_to_recover"),
        serde_json::from_str::<serde_json::Value>(OLD_TO_RECOVER).expect("json")
    );
    assert_eq!(
        setting_back(&mut conn, "pos.fiscal_events"),
        serde_json::from_str::<serde_json::Value>(OLD_FISCAL_EVENTS).expect("json")
    );
}

const OLD_KEY_TIMED_OUT: &str = "35260112345678000190650010000000111000000110";
const OLD_KEY_ANSWERED: &str = "35260112345678000190650010000000121000000126";

/// Two pending NFC-e of series 1, numbers 11 and 12 (keys [`OLD_KEY_TIMED_OUT`] and
/// [`OLD_KEY_ANSWERED`]), with their sales, as schemas 2 to 10 stored them.
fn put_old_notes(conn: &mut SqliteConnection, sale_ids: &[tenda_domain::SaleId; 2]) {
    for (n, (sale, access_key)) in sale_ids
        .iter()
        .zip([OLD_KEY_TIMED_OUT, OLD_KEY_ANSWERED])
        .enumerate()
    {
        let n = n as i64 + 1;
        diesel::sql_query(
            "INSERT INTO sales (id, local_number, device_id, seller_id, created_at, gross,
               discount, total, change, status)
             VALUES (?, ?, x'00', x'00', '2026-01-02T10:00:00Z', 100, 0, 100, 0, 'completed')",
        )
        .bind::<diesel::sql_types::Binary, _>(sale.as_bytes().to_vec())
        .bind::<diesel::sql_types::BigInt, _>(n)
        .execute(conn)
        .expect("sale row");
        diesel::sql_query(
            "INSERT INTO fiscal_documents (sale_id, model, series, number, access_key,
               tp_emis, status, xml, issued_at, updated_at)
             VALUES (?, 65, 1, ?, ?, 1, 'pending', '<NFe/>', '2026-01-02T10:00:00Z',
               '2026-01-02T10:00:00Z')",
        )
        .bind::<diesel::sql_types::Binary, _>(sale.as_bytes().to_vec())
        .bind::<diesel::sql_types::BigInt, _>(n + 10)
        .bind::<diesel::sql_types::Text, _>(access_key)
        .execute(conn)
        .expect("document row");
    }
}
const OLD_CONSULT_FIRST: &str = r#"["35260112345678000190650010000000111000000110"]"#;
const OLD_SUPERSEDED: &str = r#"{"01900000-0000-7000-8000-0000000000a1":{"access_key":"35260112345678000190650010000000131000000131","signed_xml":"<NFe><tpEmis>1</tpEmis></NFe>"}}"#;
const OLD_CLOSED_SESSION: &str = "01900000-0000-7000-8000-0000000000b1";
const OLD_CLOSING: &str = r#"{"lines":[["cash",15892,15800,-92],["card",5000,5000,0],["pix",0,0,0],["customer_account",1200,1200,0]],"total_difference":-92}"#;

#[test]
fn fiscal_marks_superseded_notes_and_closings_kept_as_settings_become_rows() {
    use tenda_domain::{RegisterSessionId, SaleId};
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("n.db");
    let key = DbKey::generate();
    let sale_ids = [SaleId::new(), SaleId::new()];
    {
        let mut conn = open_connection(&path, &key).expect("opens");
        for _ in 0..9 {
            conn.run_next_migration(MIGRATIONS).expect("applies");
        }
        // Two notes as schema 9 kept them; the first timed out, so it is in the consult list.
        put_old_notes(&mut conn, &sale_ids);
        let closed_key = format!("pos.register_closed.{OLD_CLOSED_SESSION}");
        put_old_settings(
            &mut conn,
            &[
                ("pos.sefaz_consult_first", OLD_CONSULT_FIRST),
                ("pos.sefaz_superseded_notes", OLD_SUPERSEDED),
                (&closed_key, OLD_CLOSING),
                ("pos.config", "{\"kept\":true}"),
            ],
        );
    }
    let mut store = Store::open(&path, &key).expect("opening runs the pending migration");
    assert_eq!(
        store.applied_migrations().expect("reads").len(),
        ALL_MIGRATIONS
    );

    let marked = |store: &mut Store, sale: SaleId| {
        store
            .fiscal_document(sale)
            .expect("reads")
            .expect("document")
            .consult_first
    };
    assert!(marked(&mut store, sale_ids[0]), "the listed note is marked");
    assert!(!marked(&mut store, sale_ids[1]), "the other is not");

    let superseded_sale: SaleId = "01900000-0000-7000-8000-0000000000a1".parse().expect("id");
    let kept = store
        .superseded_note(superseded_sale)
        .expect("reads")
        .expect("kept");
    assert_eq!(
        kept.access_key,
        "35260112345678000190650010000000131000000131"
    );
    assert_eq!(kept.signed_xml, "<NFe><tpEmis>1</tpEmis></NFe>");

    let session: RegisterSessionId = OLD_CLOSED_SESSION.parse().expect("id");
    let closing = store
        .register_closing(session)
        .expect("reads")
        .expect("closing");
    assert_eq!(
        closing
            .counts
            .iter()
            .map(|c| (
                c.kind.as_str(),
                c.expected.centavos(),
                c.counted.centavos(),
                c.difference().centavos()
            ))
            .collect::<Vec<_>>(),
        [
            ("cash", 15892, 15800, -92),
            ("card", 5000, 5000, 0),
            ("pix", 0, 0, 0),
            ("customer_account", 1200, 1200, 0)
        ],
        "every kind, in the report's order"
    );
    for k in [
        "pos.sefaz_consult_first".to_owned(),
        "pos.sefaz_superseded_notes".to_owned(),
        format!("pos.register_closed.{OLD_CLOSED_SESSION}"),
    ] {
        assert_eq!(store.setting_json(&k).expect("reads"), None, "{k}");
    }
    assert!(store.setting_json("pos.config").expect("reads").is_some());
    drop(store);

    // Reverting gives back the same settings, as the point of sale wrote them.
    let mut conn = open_connection(&path, &key).expect("opens");
    conn.revert_last_migration(MIGRATIONS).expect("reverts 16");
    conn.revert_last_migration(MIGRATIONS).expect("reverts 15");
    conn.revert_last_migration(MIGRATIONS).expect("reverts 14");
    conn.revert_last_migration(MIGRATIONS).expect("reverts 13");
    conn.revert_last_migration(MIGRATIONS).expect("reverts 12");
    conn.revert_last_migration(MIGRATIONS).expect("reverts 11");
    conn.revert_last_migration(MIGRATIONS).expect("reverts 10");
    let json = |text: &str| serde_json::from_str::<serde_json::Value>(text).expect("json");
    assert_eq!(
        setting_back(&mut conn, "pos.sefaz_consult_first"),
        json(OLD_CONSULT_FIRST)
    );
    assert_eq!(
        setting_back(&mut conn, "pos.sefaz_superseded_notes"),
        json(OLD_SUPERSEDED)
    );
    assert_eq!(
        setting_back(
            &mut conn,
            &format!("pos.register_closed.{OLD_CLOSED_SESSION}")
        ),
        json(OLD_CLOSING)
    );
}

#[test]
fn fiscal_documents_keyed_by_number_and_series_counters_carry_on_after_the_migration() {
    use tenda_domain::{FiscalStatus, SaleId};

    use crate::fiscal::FiscalSeries;
    use crate::record::LocalChange;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("k.db");
    let key = DbKey::generate();
    let sale_ids = [SaleId::new(), SaleId::new()];
    {
        let mut conn = open_connection(&path, &key).expect("opens");
        for _ in 0..10 {
            conn.run_next_migration(MIGRATIONS).expect("applies");
        }
        // Series 1 has issued numbers 11 and 12 and continues at 13; series 2 at 500.
        put_old_notes(&mut conn, &sale_ids);
        conn.batch_execute(
            "INSERT INTO fiscal_counters (model, series, next_number) VALUES (65, 1, 13), (65, 2, 500);",
        )
        .expect("series counters");
    }
    let mut store = Store::open(&path, &key).expect("opening runs the pending migration");
    assert_eq!(
        store.applied_migrations().expect("reads").len(),
        ALL_MIGRATIONS
    );

    let document = |store: &mut Store, sale: SaleId| {
        store
            .fiscal_document(sale)
            .expect("reads")
            .expect("document")
    };
    assert_eq!(document(&mut store, sale_ids[0]).number, 11);
    assert_eq!(
        document(&mut store, sale_ids[1]).access_key,
        OLD_KEY_ANSWERED
    );

    // Numbering carries on where each series stood, and never goes back.
    let series = |series| FiscalSeries { model: 65, series };
    assert_eq!(
        store.reserve_fiscal_number(series(1)).expect("reserves"),
        13
    );
    assert_eq!(
        store.reserve_fiscal_number(series(2)).expect("reserves"),
        500
    );
    assert_eq!(store.reserve_fiscal_number(series(3)).expect("reserves"), 1);
    assert!(store.set_next_fiscal_number(series(1), 12).is_err());
    store
        .set_next_fiscal_number(series(1), 20)
        .expect("numbering moves ahead");
    assert_eq!(
        store.reserve_fiscal_number(series(1)).expect("reserves"),
        20
    );

    // A note is found by its access key through the number it names.
    store
        .record_local_change(&LocalChange {
            notes_to_consult_first: vec![OLD_KEY_TIMED_OUT.to_owned(), "not a key".to_owned()],
            ..Default::default()
        })
        .expect("marks");
    assert!(document(&mut store, sale_ids[0]).consult_first);
    assert!(!document(&mut store, sale_ids[1]).consult_first);
    assert_eq!(
        store
            .fiscal_documents_awaiting_transmission(10)
            .expect("reads")
            .iter()
            .map(|d| (d.number, d.status))
            .collect::<Vec<_>>(),
        [(11, FiscalStatus::Pending), (12, FiscalStatus::Pending)]
    );
    drop(store);

    // Reverting gives the counters and the documents back in the earlier form.
    let mut conn = open_connection(&path, &key).expect("opens");
    conn.revert_last_migration(MIGRATIONS).expect("reverts 16");
    conn.revert_last_migration(MIGRATIONS).expect("reverts 15");
    conn.revert_last_migration(MIGRATIONS).expect("reverts 14");
    conn.revert_last_migration(MIGRATIONS).expect("reverts 13");
    conn.revert_last_migration(MIGRATIONS).expect("reverts 12");
    conn.revert_last_migration(MIGRATIONS).expect("reverts 11");
    assert!(!sale_columns(&mut conn).contains(&"fiscal_key".to_owned()));
    #[derive(QueryableByName, Debug, PartialEq)]
    struct Counter {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        series: i32,
        #[diesel(sql_type = diesel::sql_types::Integer)]
        next_number: i32,
    }
    let counters: Vec<Counter> = diesel::sql_query(
        "SELECT series, next_number FROM fiscal_counters WHERE model = 65 ORDER BY series",
    )
    .load(&mut conn)
    .expect("fiscal counters are back");
    assert_eq!(
        counters,
        [
            Counter {
                series: 1,
                next_number: 21
            },
            Counter {
                series: 2,
                next_number: 501
            },
            Counter {
                series: 3,
                next_number: 2
            },
        ]
    );
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let documents: Count = diesel::sql_query(
        "SELECT count(*) AS n FROM fiscal_documents WHERE consult_first AND number = 11",
    )
    .get_result(&mut conn)
    .expect("documents are back");
    assert_eq!(documents.n, 1);
}

#[test]
fn the_register_and_fiscal_state_become_states_as_of_the_last_sale_and_revert() {
    // Before, every sale rewrote both settings, so each stood as of the last sale recorded:
    // the migration says so, and the device counts only the sales recorded after it.
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("s.db");
    let key = DbKey::generate();
    let register = r#"{"id":"01900000-0000-7000-8000-000000000005","tally":{"sales_count":2}}"#;
    let fiscal = r#"{"Contingency":{"notes_issued":2}}"#;
    {
        let mut conn = open_connection(&path, &key).expect("opens");
        for _ in 0..11 {
            conn.run_next_migration(MIGRATIONS).expect("applies");
        }
        conn.batch_execute(&format!(
            "INSERT INTO settings (key, value, version) VALUES
               ('pos.register', '{register}', 1), ('pos.fiscal_state', '{fiscal}', 1),
               ('pos.other', '\"kept\"', 1);
             INSERT INTO counters (name, value) VALUES ('sale_local_number', 42);"
        ))
        .expect("old settings");
    }
    let mut store = Store::open(&path, &key).expect("opening runs the pending migration");
    assert_eq!(
        store.applied_migrations().expect("reads").len(),
        ALL_MIGRATIONS
    );
    let json = |store: &mut Store, key: &str| -> serde_json::Value {
        serde_json::from_str(&store.setting_json(key).expect("reads").expect("kept")).expect("JSON")
    };
    assert_eq!(
        json(&mut store, "pos.register"),
        serde_json::json!({"through_sale": 42, "state": serde_json::from_str::<serde_json::Value>(register).expect("JSON")})
    );
    assert_eq!(
        json(&mut store, "pos.fiscal_state"),
        serde_json::json!({"through_sale": 42, "state": {"Contingency": {"notes_issued": 2}}})
    );
    assert_eq!(json(&mut store, "pos.other"), serde_json::json!("kept"));
    drop(store);

    let mut conn = open_connection(&path, &key).expect("opens");
    conn.revert_last_migration(MIGRATIONS).expect("reverts 16");
    conn.revert_last_migration(MIGRATIONS).expect("reverts 15");
    conn.revert_last_migration(MIGRATIONS).expect("reverts 14");
    conn.revert_last_migration(MIGRATIONS).expect("reverts 13");
    conn.revert_last_migration(MIGRATIONS).expect("reverts 12");
    #[derive(QueryableByName)]
    struct Value {
        #[diesel(sql_type = diesel::sql_types::Text)]
        value: String,
    }
    let values: Vec<Value> =
        diesel::sql_query("SELECT value FROM settings WHERE key LIKE 'pos.%' ORDER BY key")
            .load(&mut conn)
            .expect("reads");
    let values: Vec<serde_json::Value> = values
        .iter()
        .map(|v| serde_json::from_str(&v.value).expect("JSON"))
        .collect();
    assert_eq!(
        values,
        [
            serde_json::from_str::<serde_json::Value>(fiscal).expect("JSON"),
            serde_json::json!("kept"),
            serde_json::from_str::<serde_json::Value>(register).expect("JSON"),
        ],
        "each state back in its bare form"
    );
}

#[test]
fn pending_stock_is_read_from_the_outbox_once_its_rows_are_gone() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("o.db");
    let key = DbKey::generate();
    let product = counted_product();
    let adjusted =
        |delta: i64| serde_json::to_string(&stock_counted(product, delta)).expect("serializes");
    {
        let mut conn = open_connection(&path, &key).expect("opens");
        for _ in 0..12 {
            conn.run_next_migration(MIGRATIONS).expect("applies");
        }
        // Server level 10; entry 1 (-2) acknowledged, entry 2 (-1) not: 9 on the device.
        conn.batch_execute(&format!(
            "INSERT INTO products (id, sku, name, unit, price, fiscal, active, version)
               VALUES (x'01900000000070008000000000000001', 'PAO', 'Pão', 'KG', 1499, '{{}}', 1, 1);
             INSERT INTO stock_levels (product_id, server_quantity, updated_at)
               VALUES (x'01900000000070008000000000000001', 10000, '2026-01-02T10:00:00.000000Z');
             INSERT INTO stock_deltas (id, product_id, delta) VALUES
               (1048576, x'01900000000070008000000000000001', -2000),
               (2097152, x'01900000000070008000000000000001', -1000);
             INSERT INTO outbox (seq, kind, payload, packed, created_at) VALUES
               (1, 'stock_adjusted', CAST('{m1}' AS BLOB), 0, '2026-01-02T10:00:00.000000Z'),
               (2, 'stock_adjusted', CAST('{m2}' AS BLOB), 0, '2026-01-02T10:00:00.000000Z');
             INSERT INTO counters (name, value) VALUES ('outbox_seq', 2),
               ('outbox_pushed_through', 1);",
            m1 = adjusted(-2000),
            m2 = adjusted(-1000),
        ))
        .expect("rows under the previous schema");
    }
    let mut store = Store::open(&path, &key).expect("opening runs the migration");
    assert!(!table_names(&mut store.conn).contains(&"stock_deltas".to_owned()));
    assert_eq!(
        store.stock_level(product).expect("reads").thousandths(),
        9000,
        "the unacknowledged -1 comes from its outbox entry"
    );
    drop(store);

    // Older code would count the pending -1 from rows this revert cannot rebuild: refused.
    let mut conn = open_connection(&path, &key).expect("opens");
    conn.revert_last_migration(MIGRATIONS).expect("reverts 16");
    conn.revert_last_migration(MIGRATIONS).expect("reverts 15");
    conn.revert_last_migration(MIGRATIONS).expect("reverts 14");
    assert!(conn.revert_last_migration(MIGRATIONS).is_err());
    assert!(!table_names(&mut conn).contains(&"stock_deltas".to_owned()));
    // Once the server has acknowledged it, nothing is pending and the revert goes through.
    conn.batch_execute("UPDATE counters SET value = 2 WHERE name = 'outbox_pushed_through'")
        .expect("acknowledged");
    conn.revert_last_migration(MIGRATIONS).expect("reverts 13");
    assert!(table_names(&mut conn).contains(&"stock_deltas".to_owned()));
}

#[test]
fn sale_outbox_and_audit_numbers_carry_on_from_their_rows_across_the_counters_migration() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("c.db");
    let key = DbKey::generate();
    let products = products_for_migration();
    let commit = |store: &mut Store| commit_for_migration(store, &products);
    let mut store = Store::open(&path, &key).expect("opens");
    commit(&mut store);
    commit(&mut store);
    let last = store.outbox_last_seq().expect("reads");
    store.outbox_mark_pushed(last).expect("acknowledged");
    store.outbox_prune_pushed().expect("prunes");
    let audited = store.audit(&sign_in_event()).expect("audits");
    drop(store);

    // Older code reads each number from its counter alone: the revert writes the latest ones,
    // from the sales, the outbox number kept by the prune and the newest audit entry.
    let mut conn = open_connection(&path, &key).expect("opens");
    conn.revert_last_migration(MIGRATIONS).expect("reverts 16");
    conn.revert_last_migration(MIGRATIONS).expect("reverts 15");
    #[derive(QueryableByName, Debug, PartialEq)]
    struct Counter {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        value: i64,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Binary>)]
        hash: Option<Vec<u8>>,
    }
    let counters: Vec<Counter> = diesel::sql_query(
        "SELECT name, value, hash FROM counters
          WHERE name IN ('sale_local_number', 'outbox_seq', 'audit_head') ORDER BY name",
    )
    .load(&mut conn)
    .expect("reads");
    let counter = |name: &str, value: i64, hash: Option<Vec<u8>>| Counter {
        name: name.into(),
        value,
        hash,
    };
    assert_eq!(
        counters,
        [
            counter("audit_head", 3, Some(audited.hash.to_vec())),
            counter("outbox_seq", i64::try_from(last + 1).expect("small"), None),
            counter("sale_local_number", 2, None),
        ],
        "two sales, each with its entry and its audit entry's, then the sign-in's"
    );
    drop(conn);

    // Applied again over what older code leaves: every number carries on.
    let mut store = Store::open(&path, &key).expect("migrates");
    assert!(!columns(&mut store.conn, "counters").contains(&"hash".to_owned()));
    let third = commit(&mut store);
    assert_eq!(third.local_number, 3);
    assert_eq!(third.outbox_seq, last + 2);
    assert_eq!(third.audit_seq, 4);
    assert_eq!(
        store.verify_audit_chain().expect("reads"),
        crate::AuditVerification::Intact { entries: 4 }
    );
}

#[test]
fn reverting_messagepack_records_is_refused_while_one_is_stored() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("m.db");
    let key = DbKey::generate();
    let mut store = Store::open(&path, &key).expect("opens");
    store.audit(&sign_in_event()).expect("audits");
    drop(store);
    let mut conn = open_connection(&path, &key).expect("opens");
    conn.revert_last_migration(MIGRATIONS).expect("reverts 16");
    conn.revert_last_migration(MIGRATIONS).expect("reverts 15");
    // The audit entry's outbox entry is MessagePack, which older code cannot read.
    assert!(conn.revert_last_migration(MIGRATIONS).is_err());
    // Once the server has it and it is pruned, nothing older code cannot read is left.
    conn.batch_execute(
        "INSERT INTO counters (name, value) VALUES ('outbox_pushed_through', 1);
         DELETE FROM outbox WHERE seq <= 1;",
    )
    .expect("acknowledged and pruned");
    conn.revert_last_migration(MIGRATIONS).expect("reverts 14");
}

#[test]
fn sale_audit_entries_kept_in_their_rows_go_back_to_the_log_as_hashed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("a.db");
    let key = DbKey::generate();
    let products = products_for_migration();
    let commit = |store: &mut Store| commit_for_migration(store, &products);
    let mut store = Store::open(&path, &key).expect("opens");
    commit(&mut store);
    store.audit(&sign_in_event()).expect("audits");
    commit(&mut store);
    let entries = store.audit_entries(0, 10).expect("reads");
    assert_eq!(entries.len(), 3);
    drop(store);

    // Older code reads the whole chain from the log: the revert puts the sales' entries there.
    let mut conn = open_connection(&path, &key).expect("opens");
    conn.revert_last_migration(MIGRATIONS).expect("reverts 16");
    let logged: Vec<(i64, String, String)> = audit_log::table
        .order(audit_log::seq)
        .select((audit_log::seq, audit_log::action, audit_log::subject))
        .load(&mut conn)
        .expect("reads");
    assert_eq!(
        logged,
        entries
            .iter()
            .map(|e| (e.seq as i64, e.action.clone(), e.subject.clone()))
            .collect::<Vec<_>>(),
        "every entry in the log, with the subject it was hashed with"
    );
    drop(conn);

    // Applied again, the chain reads whole from the log's rows alone, then grows in sales' rows.
    let mut store = Store::open(&path, &key).expect("migrates");
    assert_eq!(
        store.verify_audit_chain().expect("reads"),
        crate::AuditVerification::Intact { entries: 3 },
        "each moved entry hashes as it did in its sale's row"
    );
    let fourth = commit(&mut store);
    assert_eq!(fourth.audit_seq, 4);
    assert_eq!(store.audit_entries(0, 10).expect("reads"), {
        let mut all = entries;
        all.extend(store.audit_entries(3, 1).expect("reads"));
        all
    });
    assert_eq!(
        store.verify_audit_chain().expect("reads"),
        crate::AuditVerification::Intact { entries: 4 }
    );
}
