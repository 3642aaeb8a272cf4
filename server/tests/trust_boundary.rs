//! The server's trust boundary, tried as an attacker would: one store never touches another,
//! impossible data never lands (and a refusal names the mutation and the rule instead of wedging
//! the device), guessing is slowed and audited, and an unauthenticated caller cannot make the
//! server hold much. Each scenario runs on SQLite and on PostgreSQL.

#[macro_use]
mod common;

use common::{Backend, PgCluster, TestServer, sale_entry, wire};
use serde_json::{Value, json};
use tenda_domain::outbox::{Mutation, OutboxEntry};
use tenda_domain::{
    Actor, BalanceReason, CustomerId, Money, ProductId, Quantity, StockReason, UserId,
};
use uuid::Uuid;

/// A second store with its own owner, a product and a customer.
struct OtherStore {
    token: String,
    product: Uuid,
    customer: Uuid,
}

async fn other_store(t: &TestServer) -> OtherStore {
    let db = t.server.db.clone();
    let other = tokio::task::spawn_blocking(move || {
        let mut conn = db.get().expect("conn");
        tenda_server::create_store(&mut conn, "Loja B", "Centro", "Bia", "bia", "senha da bia")
    })
    .await
    .expect("join")
    .expect("store");
    let token = t.login(other.store_id, "bia", "senha da bia").await;
    let (s, p) = t
        .call(
            "POST",
            "/api/v1/admin/products",
            Some(&token),
            Some(
                json!({"sku": "B1", "name": "Produto B", "unit": "UN", "price_cents": 100,
                "fiscal": tenda_domain::FiscalData::simples_nacional("19052090")}),
            ),
        )
        .await;
    assert_eq!(s, 200, "{p}");
    let (s, c) = t
        .call(
            "POST",
            "/api/v1/admin/customers",
            Some(&token),
            Some(json!({"name": "Cliente B", "overdraft_limit_cents": 1_000})),
        )
        .await;
    assert_eq!(s, 200, "{c}");
    OtherStore {
        token,
        product: p["id"].as_str().expect("id").parse().expect("uuid"),
        customer: c["id"].as_str().expect("id").parse().expect("uuid"),
    }
}

fn balance_adjustment(seq: u64, customer: Uuid, cents: i64) -> OutboxEntry {
    OutboxEntry {
        seq,
        mutation: Mutation::CustomerBalanceAdjusted {
            customer_id: CustomerId::from_uuid(customer),
            delta: Money::from_centavos(cents),
            reason: BalanceReason::PaymentReceived,
            actor: Actor::User(UserId::new()),
            at: chrono::Utc::now(),
        },
    }
}

fn stock_adjustment(seq: u64, product: Uuid, thousandths: i64) -> OutboxEntry {
    OutboxEntry {
        seq,
        mutation: Mutation::StockAdjusted {
            product_id: ProductId::from_uuid(product),
            delta: Quantity::from_thousandths(thousandths),
            reason: StockReason::Count,
            actor: Actor::User(UserId::new()),
            at: chrono::Utc::now(),
        },
    }
}

async fn applied(t: &TestServer) -> i64 {
    t.count("SELECT COUNT(*) AS n FROM applied_mutations").await
}

/// A device of store A names store B's customer, product and sale: each is refused exactly like
/// an unknown id, with the mutation's seq, and nothing is written (B's balance does not move).
async fn foreign_ids_are_refused_like_unknown_ones(backend: Backend) {
    let t = TestServer::start(backend).await;
    let b = other_store(&t).await;
    let device = t.enroll(t.branch_id, 1, "Caixa A").await;

    let (s, e) = t
        .push(
            &device,
            vec![wire(&balance_adjustment(1, b.customer, 5_000))],
        )
        .await;
    assert_eq!(s, 400, "{e}");
    assert_eq!(e["rule"], "unknown_customer", "{e}");
    assert_eq!(e["seq"], 1);
    let (s, unknown) = t
        .push(
            &device,
            vec![wire(&balance_adjustment(1, Uuid::now_v7(), 5_000))],
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(unknown["rule"], e["rule"], "foreign and unknown look alike");
    assert_eq!(
        t.count("SELECT COUNT(*) AS n FROM customer_balances").await,
        0,
        "store B's customer balance did not move"
    );

    let (sale, _, _) = sale_entry(device.device_id, 1, &[(b.product, 100)], 1);
    let (s, e) = t.push(&device, vec![wire(&sale)]).await;
    assert_eq!(s, 400, "{e}");
    assert_eq!(e["rule"], "unknown_product");
    let (s, e) = t
        .push(&device, vec![wire(&stock_adjustment(1, b.product, 1_000))])
        .await;
    assert_eq!(
        (s, e["rule"].as_str()),
        (400, Some("unknown_product")),
        "{e}"
    );

    // Store B's device sells; store A's device cannot void that sale.
    let (s, code) = t
        .call(
            "POST",
            "/api/v1/admin/enrollment-codes",
            Some(&b.token),
            Some(json!({"branch_id": other_branch(&t, &b.token).await, "nfce_series": 1})),
        )
        .await;
    assert_eq!(s, 200, "{code}");
    let (_, dev_b) = t
        .call(
            "POST",
            "/api/v1/sync/enroll",
            None,
            Some(json!({"code": code["code"], "device_name": "Caixa B"})),
        )
        .await;
    let dev_b: tenda_sync::protocol::EnrollResponse =
        serde_json::from_value(dev_b).expect("enrolled");
    let (sale_b, sale_b_id, _) = sale_entry(dev_b.device_id, 1, &[(b.product, 100)], 1);
    let (s, r) = t.push(&dev_b, vec![wire(&sale_b)]).await;
    assert_eq!(s, 200, "{r}");
    let void = OutboxEntry {
        seq: 1,
        mutation: Mutation::SaleVoided {
            sale_id: sale_b_id,
            actor: Actor::User(UserId::new()),
            reason: "engano".into(),
            at: chrono::Utc::now(),
            // Without deltas, so only the sale id is foreign.
            stock_deltas: vec![],
            balance_deltas: vec![],
        },
    };
    let (s, e) = t.push(&device, vec![wire(&void)]).await;
    assert_eq!((s, e["rule"].as_str()), (400, Some("unknown_sale")), "{e}");
    assert_eq!(
        t.count("SELECT COUNT(*) AS n FROM sales WHERE voided_at IS NOT NULL")
            .await,
        0
    );
    assert_eq!(
        t.count(&format!(
            "SELECT COUNT(*) AS n FROM applied_mutations WHERE device_id = '{}'",
            device.device_id
        ))
        .await,
        0,
        "nothing of store A's refused pushes was applied"
    );

    // The back office: store A's owner cannot price, read or change store B's rows.
    let (s, e) = t
        .call(
            "PUT",
            &format!(
                "/api/v1/admin/branches/{}/prices/{}",
                t.branch_id, b.product
            ),
            Some(&t.owner_token),
            Some(json!({"price_cents": 1})),
        )
        .await;
    assert_eq!(s, 404, "{e}");
    let (s, _) = t
        .call(
            "PUT",
            &format!("/api/v1/admin/customers/{}", b.customer),
            Some(&t.owner_token),
            Some(json!({"name": "Roubado"})),
        )
        .await;
    assert_eq!(s, 404);
    let (s, _) = t
        .call(
            "GET",
            &format!("/api/v1/admin/sales/{}", sale_b_id.as_uuid()),
            Some(&t.owner_token),
            None,
        )
        .await;
    assert_eq!(s, 404);
    t.server.shutdown().await;
}

async fn other_branch(t: &TestServer, token: &str) -> Uuid {
    let (_, branches) = t
        .call("GET", "/api/v1/admin/branches", Some(token), None)
        .await;
    branches[0]["id"]
        .as_str()
        .expect("branch")
        .parse()
        .expect("uuid")
}

/// Two codes issued for one series before either is used: only the first enrolls.
async fn a_series_belongs_to_one_live_device(backend: Backend) {
    let t = TestServer::start(backend).await;
    let mut codes = Vec::new();
    for _ in 0..2 {
        codes.push(
            t.admin(
                "POST",
                "/api/v1/admin/enrollment-codes",
                Some(json!({"branch_id": t.branch_id, "nfce_series": 5})),
            )
            .await,
        );
    }
    let enroll = |code: &Value, name: &str| {
        t.call(
            "POST",
            "/api/v1/sync/enroll",
            None,
            Some(json!({"code": code["code"], "device_name": name})),
        )
    };
    let (s, first) = enroll(&codes[0], "Caixa 1").await;
    assert_eq!(s, 200, "{first}");
    let (s, second) = enroll(&codes[1], "Caixa 2").await;
    assert_eq!(
        s, 409,
        "two live devices would number notes alike: {second}"
    );
    assert_eq!(t.count("SELECT COUNT(*) AS n FROM devices").await, 1);
    t.server.shutdown().await;
}

/// Sales no till could make are refused with the seq and the domain rule; nothing lands.
async fn impossible_sales_are_refused(backend: Backend) {
    let t = TestServer::start(backend).await;
    let p = t.create_product("ARROZ", "Arroz", 1_000).await;
    let device = t.enroll(t.branch_id, 1, "Caixa 1").await;
    type Tamper = Box<dyn Fn(&mut tenda_domain::SaleRecorded)>;
    let cases: Vec<(&str, Tamper)> = vec![
        (
            "negative quantity",
            Box::new(|r| r.sale.lines[0].quantity = Quantity::from_thousandths(-1_000)),
        ),
        (
            "zero quantity",
            Box::new(|r| r.sale.lines[0].quantity = Quantity::ZERO),
        ),
        (
            "1.5 of a counted item",
            Box::new(|r| r.sale.lines[0].quantity = Quantity::from_thousandths(1_500)),
        ),
        (
            "negative price",
            Box::new(|r| r.sale.lines[0].unit_price = Money::from_centavos(-1_000)),
        ),
        (
            "gross is not price × quantity",
            Box::new(|r| r.sale.lines[0].gross = Money::from_centavos(1)),
        ),
        (
            "payments do not cover the total",
            Box::new(|r| r.sale.payments[0].amount = Money::from_centavos(1)),
        ),
        (
            "negative payment",
            Box::new(|r| r.sale.payments[0].amount = Money::from_centavos(-1_000)),
        ),
        (
            "total at i64::MAX",
            Box::new(|r| {
                r.sale.total = Money::from_centavos(i64::MAX);
                r.sale.payments[0].amount = Money::from_centavos(i64::MAX);
            }),
        ),
        (
            "total at i64::MIN",
            Box::new(|r| r.sale.total = Money::from_centavos(i64::MIN)),
        ),
        (
            "deltas that are not the sale's",
            Box::new(|r| r.stock_deltas[0].delta = Quantity::from_thousandths(1_000_000)),
        ),
        (
            "a NUL in a product name",
            Box::new(|r| r.sale.lines[0].name = "Arroz\0".into()),
        ),
        (
            "a bidi override in a SKU",
            Box::new(|r| r.sale.lines[0].sku = "AR\u{202E}ROZ".into()),
        ),
        (
            "a 10 MB name",
            Box::new(|r| r.sale.lines[0].name = "x".repeat(10 * 1024 * 1024)),
        ),
    ];
    let (good, _, _) = sale_entry(device.device_id, 1, &[(p, 1_000)], 1);
    for (what, tamper) in cases {
        let mut bad = good.clone();
        bad.seq = 2;
        let Mutation::SaleRecorded(r) = &mut bad.mutation else {
            unreachable!("a sale")
        };
        tamper(r);
        let (s, e) = t.push(&device, vec![wire(&good), wire(&bad)]).await;
        assert_eq!(s, 400, "{what}: {e}");
        assert_eq!(e["seq"], 2, "{what}: the refusal names the mutation: {e}");
        assert!(e["rule"].is_string(), "{what}: and the rule: {e}");
        assert_eq!(applied(&t).await, 0, "{what}: nothing of the push landed");
    }
    // The device is not wedged: the good sale alone goes through.
    let (s, r) = t.push(&device, vec![wire(&good)]).await;
    assert_eq!((s, r["applied_through"].as_u64()), (200, Some(1)), "{r}");
    t.server.shutdown().await;
}

/// Deltas at the edge of i64 are refused; a ledger near its bound refuses the delta that would
/// cross it, names it, and the device's next push still goes through.
async fn ledgers_never_overflow(backend: Backend) {
    let t = TestServer::start(backend).await;
    let p = t.create_product("SAL", "Sal", 300).await;
    let c = t
        .admin(
            "POST",
            "/api/v1/admin/customers",
            Some(json!({"name": "Dona Maria", "overdraft_limit_cents": 0})),
        )
        .await;
    let customer: Uuid = c["id"].as_str().expect("id").parse().expect("uuid");
    let device = t.enroll(t.branch_id, 1, "Caixa 1").await;
    for delta in [i64::MAX, i64::MIN, i64::MIN + 1] {
        let (s, e) = t
            .push(&device, vec![wire(&stock_adjustment(1, p, delta))])
            .await;
        assert_eq!(
            (s, e["rule"].as_str()),
            (400, Some("quantity_out_of_range")),
            "{e}"
        );
        let (s, e) = t
            .push(&device, vec![wire(&balance_adjustment(1, customer, delta))])
            .await;
        assert_eq!(
            (s, e["rule"].as_str()),
            (400, Some("amount_out_of_range")),
            "{e}"
        );
    }
    // A level already near the bound (as years of receipts could make it).
    let (s, r) = t
        .push(&device, vec![wire(&stock_adjustment(1, p, 1_000))])
        .await;
    assert_eq!(s, 200, "{r}");
    let max = tenda_domain::mutation_rules::MAX_LEDGER;
    set_level(&t, max - 1).await;
    let (s, e) = t
        .push(
            &device,
            vec![
                wire(&stock_adjustment(2, p, 1_000)),
                wire(&stock_adjustment(3, p, 1_000)),
            ],
        )
        .await;
    assert_eq!(s, 400, "{e}");
    assert_eq!(e["rule"], "ledger_out_of_range");
    assert_eq!(
        e["seq"], 2,
        "the first delta that crosses the bound is named"
    );
    assert_eq!(
        t.count("SELECT quantity AS n FROM stock_levels").await,
        max - 1,
        "the level is as it was, still an integer"
    );
    // Not wedged: a delta that keeps the level inside the bound is applied.
    let (s, r) = t
        .push(&device, vec![wire(&stock_adjustment(2, p, -1_000))])
        .await;
    assert_eq!((s, r["applied_through"].as_u64()), (200, Some(2)), "{r}");
    t.server.shutdown().await;
}

async fn set_level(t: &TestServer, quantity: i64) {
    let db = t.server.db.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = db.get().expect("conn");
        let sql = format!("UPDATE stock_levels SET quantity = {quantity}");
        match &mut conn {
            tenda_server::db::Conn::Sqlite(c) => {
                diesel::RunQueryDsl::execute(diesel::sql_query(sql), &mut **c)
            }
            tenda_server::db::Conn::Pg(c) => {
                diesel::RunQueryDsl::execute(diesel::sql_query(sql), &mut **c)
            }
        }
        .expect("set level");
    })
    .await
    .expect("join");
}

/// Sequence numbers at the top of u64 are refused with a reason, never a panic.
async fn seq_near_u64_max_is_refused(backend: Backend) {
    let t = TestServer::start(backend).await;
    let p = t.create_product("SAL", "Sal", 300).await;
    let device = t.enroll(t.branch_id, 1, "Caixa 1").await;
    for seqs in [vec![u64::MAX], vec![u64::MAX - 1, u64::MAX], vec![1 << 63]] {
        let batch: Vec<_> = seqs
            .iter()
            .map(|s| wire(&stock_adjustment(*s, p, 1_000)))
            .collect();
        let (s, e) = t.push(&device, batch).await;
        assert_eq!(s, 400, "{e}");
        assert_eq!(e["rule"], "seq_out_of_range", "{e}");
    }
    // A wrapping pair (MAX then 0) is refused as out of order, not by a panic.
    let batch = vec![
        wire(&stock_adjustment(i64::MAX as u64, p, 1_000)),
        wire(&stock_adjustment(0, p, 1_000)),
    ];
    let (s, e) = t.push(&device, batch).await;
    assert_eq!(s, 400, "{e}");
    let (s, r) = t
        .push(&device, vec![wire(&stock_adjustment(1, p, 1_000))])
        .await;
    assert_eq!(s, 200, "the server still serves: {r}");
    t.server.shutdown().await;
}

/// Back-office text follows the domain's rule for its kind; a taken SKU or login is a 409
/// naming the field; bad path ids, query parameters, routes and methods answer JSON.
async fn back_office_input_rules(backend: Backend) {
    let t = TestServer::start(backend).await;
    let fiscal = tenda_domain::FiscalData::simples_nacional("19052090");
    let bad_products = [
        (
            json!({"sku": "A1", "name": "Caf\u{202E}e", "unit": "UN", "price_cents": 1, "fiscal": fiscal}),
            "name",
        ),
        (
            json!({"sku": "A\u{1b}1", "name": "Cafe", "unit": "UN", "price_cents": 1, "fiscal": fiscal}),
            "sku",
        ),
        (
            json!({"sku": "A1", "name": "Cafe", "unit": "UN", "price_cents": i64::MAX, "fiscal": fiscal}),
            "price_cents",
        ),
        (
            json!({"sku": "A1", "name": "Cafe", "unit": "UN", "price_cents": 1, "gtin": "7891000315508", "fiscal": fiscal}),
            "gtin",
        ),
    ];
    for (body, field) in bad_products {
        let (s, e) = t
            .call(
                "POST",
                "/api/v1/admin/products",
                Some(&t.owner_token),
                Some(body),
            )
            .await;
        assert_eq!((s, e["field"].as_str()), (400, Some(field)), "{e}");
    }
    let (s, e) = t
        .call(
            "POST",
            "/api/v1/admin/customers",
            Some(&t.owner_token),
            Some(json!({"name": "Ana", "tax_id": "12345678900"})),
        )
        .await;
    assert_eq!(
        (s, e["rule"].as_str()),
        (400, Some("bad_tax_id")),
        "CPF check digits: {e}"
    );
    let (s, e) = t
        .call(
            "POST",
            "/api/v1/admin/customers",
            Some(&t.owner_token),
            Some(json!({"name": "Ana", "phone": "9".repeat(1_000_000)})),
        )
        .await;
    assert_eq!((s, e["field"].as_str()), (400, Some("phone")), "{e}");
    assert_eq!(t.count("SELECT COUNT(*) AS n FROM products").await, 0);
    assert_eq!(t.count("SELECT COUNT(*) AS n FROM customers").await, 0);

    // Taken values: 409 naming the field.
    t.create_product("CAFE", "Cafe", 1_000).await;
    let (s, e) = t
        .call(
            "POST",
            "/api/v1/admin/products",
            Some(&t.owner_token),
            Some(json!({"sku": "CAFE", "name": "Outro", "unit": "UN", "price_cents": 1, "fiscal": fiscal})),
        )
        .await;
    assert_eq!((s, e["field"].as_str()), (409, Some("sku")), "{e}");
    let (s, e) = t
        .call(
            "POST",
            "/api/v1/admin/users",
            Some(&t.owner_token),
            Some(json!({"name": "Outra Ana", "login": "ana", "role": "seller", "secret": "4821"})),
        )
        .await;
    assert_eq!((s, e["field"].as_str()), (409, Some("login")), "{e}");

    // JSON errors everywhere.
    for (method, path, status) in [
        ("GET", "/api/v1/admin/sales/not-a-uuid", 400),
        ("GET", "/api/v1/admin/sales?limit=many", 400),
        ("GET", "/api/v1/admin/device-records?kind=x&limit=-", 400),
        ("GET", "/api/v1/nowhere", 404),
        ("DELETE", "/api/v1/admin/products", 405),
    ] {
        let resp = t
            .http
            .request(method.parse().expect("method"), t.url(path))
            .bearer_auth(&t.owner_token)
            .send()
            .await
            .expect("request");
        assert_eq!(resp.status().as_u16(), status, "{method} {path}");
        let ct = resp
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap_or("").to_owned());
        assert_eq!(ct.as_deref(), Some("application/json"), "{method} {path}");
        let body: Value = resp.json().await.expect("a JSON error body");
        assert!(body["code"].is_string(), "{method} {path}: {body}");
    }
    t.server.shutdown().await;
}

/// The back office takes owner-account passwords only; failures lock the account with backoff
/// and then the source, and every failed and locked-out attempt is audited.
async fn login_is_throttled_and_audited(backend: Backend) {
    let t = TestServer::start(backend).await;
    // A seller with a till PIN: a PIN never opens the back office, even the right one.
    t.admin(
        "POST",
        "/api/v1/admin/users",
        Some(json!({"name": "Caio", "login": "caio", "role": "seller", "secret": "4821"})),
    )
    .await;
    let login = |login: &str, password: &str| {
        t.call(
            "POST",
            "/api/v1/admin/login",
            None,
            Some(json!({"store_id": t.store_id, "login": login, "password": password})),
        )
    };
    let (s, _) = login("caio", "4821").await;
    assert_eq!(s, 401, "a till PIN does not open the back office");

    // Five free failures on the owner's account, then each locks it for longer.
    for i in 0..5 {
        let (s, e) = login("ana", &format!("wrong password {i}")).await;
        assert_eq!(s, 401, "{e}");
    }
    let (s, _) = login("ana", "wrong password 5").await;
    assert_eq!(s, 401, "the sixth failure locks the account");
    let (s, e) = login("ana", common::OWNER_PASSWORD).await;
    assert_eq!(s, 429, "locked: even the right password waits: {e}");
    assert_eq!(e["rule"], "throttled");
    assert_eq!(
        audited(&t, "failed").await,
        6,
        "a PIN try and five wrong passwords"
    );
    assert_eq!(audited(&t, "failed_locked").await, 1);
    assert_eq!(audited(&t, "locked_out").await, 1);

    // From one source, failures across many accounts lock the source.
    for i in 0..14 {
        let (s, _) = login(&format!("nobody{i}"), "some password").await;
        assert_eq!(s, 401);
    }
    let (s, _) = login("nobody-else", "some password").await;
    assert_eq!(s, 429, "21 failures from one address lock it");
    t.server.shutdown().await;
}

async fn audited(t: &TestServer, outcome: &str) -> i64 {
    t.count(&format!(
        "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'login' AND outcome = '{outcome}'"
    ))
    .await
}

/// Guessing enrollment codes is throttled per source like passwords.
async fn enrollment_guessing_is_throttled(backend: Backend) {
    let t = TestServer::start(backend).await;
    let code = t
        .admin(
            "POST",
            "/api/v1/admin/enrollment-codes",
            Some(json!({"branch_id": t.branch_id, "nfce_series": 1})),
        )
        .await;
    for i in 0..21 {
        let (s, _) = t
            .call(
                "POST",
                "/api/v1/sync/enroll",
                None,
                Some(json!({"code": format!("AAAA-BBBB-{i:04}"), "device_name": "X"})),
            )
            .await;
        assert_eq!(s, 401);
    }
    let (s, e) = t
        .call(
            "POST",
            "/api/v1/sync/enroll",
            None,
            Some(json!({"code": code["code"], "device_name": "Caixa"})),
        )
        .await;
    assert_eq!(s, 429, "{e}");
    assert_eq!(t.count("SELECT COUNT(*) AS n FROM devices").await, 0);
    t.server.shutdown().await;
}

/// Without a credential the server neither reads nor describes a body: a bad or huge body is
/// answered 401, and the open routes hold at most a few kilobytes.
async fn credential_before_body(backend: Backend) {
    let t = TestServer::start(backend).await;
    let big = vec![b'x'; 2 * 1024 * 1024];
    for path in [
        "/api/v1/sync/push",
        "/api/v1/sync/pull",
        "/api/v1/admin/products/import",
    ] {
        let (s, e) = t.raw(path, None, big.clone()).await;
        // 401, or the connection closed while the 2 MiB were still being written: either way
        // the server refused without holding the body.
        assert!(s == 401 || s == 0, "{path}: {s} {e}");
        let (s, e) = t
            .raw(path, Some("not-a-credential"), b"{bad".to_vec())
            .await;
        assert_eq!(
            s, 401,
            "{path}: a bad body is not described to a stranger: {e}"
        );
    }
    for path in ["/api/v1/admin/login", "/api/v1/sync/enroll"] {
        let (s, e) = t.raw(path, None, big.clone()).await;
        // 413, or (as above) the connection closed while the 2 MiB were still being written:
        // the answer was sent, but the server closed without reading the rest, and the client's
        // failed write can come before it reads the answer (1 run in 4 here).
        assert!(s == 413 || s == 0, "{path}: {s} {e}");
    }
    t.server.shutdown().await;
}

/// A lost reply, then a retry carrying fewer entries: the answer carries every folio up to
/// `applied_through`, not only those of the entries sent again.
async fn retries_hear_every_folio(backend: Backend) {
    let t = TestServer::start(backend).await;
    let p = t.create_product("SAL", "Sal", 300).await;
    let device = t.enroll(t.branch_id, 1, "Caixa 1").await;
    let entries: Vec<_> = (1..=5)
        .map(|seq| sale_entry(device.device_id, seq, &[(p, 300)], 1))
        .collect();
    let batch: Vec<_> = entries.iter().map(|(e, _, _)| wire(e)).collect();
    let (s, r) = t.push(&device, batch.clone()).await;
    assert_eq!(s, 200, "{r}");
    let (s, r) = t.push(&device, batch[..2].to_vec()).await;
    assert_eq!((s, r["applied_through"].as_u64()), (200, Some(5)), "{r}");
    let mut got: Vec<(String, u64)> = r["folios"]
        .as_array()
        .expect("folios")
        .iter()
        .map(|f| {
            (
                f["sale_id"].as_str().expect("id").to_owned(),
                f["folio"].as_u64().expect("folio"),
            )
        })
        .collect();
    got.sort_by_key(|(_, f)| *f);
    let want: Vec<(String, u64)> = entries
        .iter()
        .zip(1..)
        .map(|((_, id, _), f)| (id.as_uuid().to_string(), f))
        .collect();
    assert_eq!(got, want, "all five folios, once each");
    t.server.shutdown().await;
}

/// A secret no till would accept is never stored, with the till's own rule code.
async fn secrets_follow_the_till_rule(backend: Backend) {
    let t = TestServer::start(backend).await;
    for (secret, rule) in [
        ("abcde", "password_format"),
        ("123", "pin_format"),
        ("123456789", "pin_format"),
    ] {
        let (s, e) = t
            .call(
                "POST",
                "/api/v1/admin/users",
                Some(&t.owner_token),
                Some(json!({"name": "Caio", "login": "caio", "role": "seller", "secret": secret})),
            )
            .await;
        assert_eq!((s, e["rule"].as_str()), (400, Some(rule)), "{secret}: {e}");
        let till = tenda_domain::Secret::from_typed(secret).validate();
        assert_eq!(
            till.map_err(|e| e.code()),
            Err(rule),
            "the till refuses it alike"
        );
    }
    assert_eq!(
        t.count("SELECT COUNT(*) AS n FROM users").await,
        1,
        "only the owner"
    );
    // A setting value no till could read is refused with the schema's code; nothing stored.
    for (key, value) in [
        ("policy.seller_discount_limit_bp", "abc"),
        ("policy.sell_without_stock_check", "maybe"),
        ("policy.lockout", "[1, 2]"),
        ("policy.permissions", "{}"),
    ] {
        let (s, e) = t
            .call(
                "PUT",
                &format!("/api/v1/admin/settings/{key}"),
                Some(&t.owner_token),
                Some(json!({ "value": value })),
            )
            .await;
        assert_eq!(
            (s, e["rule"].as_str()),
            (400, Some("bad_setting")),
            "{key}: {e}"
        );
        assert!(
            tenda_domain::settings::check(key, value).is_err(),
            "the till refuses it alike"
        );
    }
    assert_eq!(t.count("SELECT COUNT(*) AS n FROM settings").await, 0);
    t.server.shutdown().await;
}

/// Several server processes started at once on a fresh database: each opens it (migrating under
/// the database lock) and none fails.
async fn servers_start_together_on_a_fresh_database(backend: Backend) {
    let location = match &backend {
        Backend::Sqlite(dir) => tenda_server::DatabaseLocation::Sqlite(dir.path().join("fresh.db")),
        Backend::Postgres(url) => tenda_server::DatabaseLocation::Postgres(url.clone()),
    };
    let start = std::sync::Arc::new(std::sync::Barrier::new(6));
    let opened: Vec<_> = (0..6)
        .map(|_| {
            let (location, start) = (location.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                tenda_server::Db::open(&location).map(|_| ())
            })
        })
        .collect();
    for handle in opened {
        let result = handle.join().expect("thread");
        assert!(result.is_ok(), "every process starts: {result:?}");
    }
    let db = tenda_server::Db::open(&location).expect("open");
    let mut conn = db.get().expect("conn");
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let sql = "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM __diesel_schema_migrations";
    let rows: Vec<N> = match &mut conn {
        tenda_server::db::Conn::Sqlite(c) => {
            diesel::RunQueryDsl::load(diesel::sql_query(sql), &mut **c)
        }
        tenda_server::db::Conn::Pg(c) => {
            diesel::RunQueryDsl::load(diesel::sql_query(sql), &mut **c)
        }
    }
    .expect("migrations table");
    assert_eq!(
        usize::try_from(rows[0].n).expect("count"),
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
            .expect("migrations dir")
            .count(),
        "each migration applied once"
    );
}

suite!(
    foreign_ids_are_refused_like_unknown_ones,
    a_series_belongs_to_one_live_device,
    impossible_sales_are_refused,
    ledgers_never_overflow,
    seq_near_u64_max_is_refused,
    back_office_input_rules,
    login_is_throttled_and_audited,
    enrollment_guessing_is_throttled,
    credential_before_body,
    retries_hear_every_folio,
    secrets_follow_the_till_rule,
    servers_start_together_on_a_fresh_database,
);
