//! The server's sync and back-office behaviour, run against SQLite and against a real
//! PostgreSQL cluster: the same scenarios, the same expectations.

#[macro_use]
mod common;

use common::{Backend, PgCluster, TestServer, sale_entry, wire};
use serde_json::json;
use tenda_domain::outbox::{Mutation, OutboxEntry};
use tenda_domain::{Actor, Money, ProductId, Quantity, StockReason, UserId};

async fn enrollment_and_auth(backend: Backend) {
    let t = TestServer::start(backend).await;
    let device = t.enroll(t.branch_id, 1, "Caixa 1").await;
    assert_eq!(device.settings.store_id, t.store_id);
    assert_eq!(device.settings.nfce_series, 1);

    // A replayed code is refused and creates no second device.
    let code = t
        .admin(
            "POST",
            "/api/v1/admin/enrollment-codes",
            Some(json!({"branch_id": t.branch_id, "nfce_series": 2})),
        )
        .await;
    let body = json!({"code": code["code"], "device_name": "Caixa 2"});
    let (first, _) = t
        .call("POST", "/api/v1/sync/enroll", None, Some(body.clone()))
        .await;
    assert_eq!(first, 200);
    let (replay, err) = t
        .call("POST", "/api/v1/sync/enroll", None, Some(body))
        .await;
    assert_eq!(replay, 401, "a one-time code works once: {err}");
    assert_eq!(t.count("SELECT COUNT(*) AS n FROM devices").await, 2);

    // No credential / unknown credential → 401, nothing written.
    let (entry, _, _) = sale_entry(device.device_id, 1, &[(uuid::Uuid::now_v7(), 500)], 1);
    let push_body = json!({"protocol": 1, "device": device.device_id, "mutations": [wire(&entry)]});
    let (s, e) = t
        .call("POST", "/api/v1/sync/push", None, Some(push_body.clone()))
        .await;
    assert_eq!(s, 401, "{e}");
    assert_eq!(e["code"], "unauthorized");
    let (s, _) = t
        .call(
            "POST",
            "/api/v1/sync/push",
            Some("not-a-credential"),
            Some(push_body.clone()),
        )
        .await;
    assert_eq!(s, 401);

    // Another store's device may not push as this device.
    let db = t.server.db.clone();
    let other = tokio::task::spawn_blocking(move || {
        let mut conn = db.get().expect("conn");
        tenda_server::create_store(
            &mut conn,
            "Outra Loja",
            "Centro",
            "Bia",
            "bia",
            "another password",
        )
    })
    .await
    .expect("join")
    .expect("store");
    let other_token = t.login(other.store_id, "bia", "another password").await;
    let (s, code2) = t
        .call(
            "POST",
            "/api/v1/admin/enrollment-codes",
            Some(&other_token),
            Some(json!({"branch_id": other.branch_id, "nfce_series": 1})),
        )
        .await;
    assert_eq!(s, 200, "{code2}");
    let (_, other_dev) = t
        .call(
            "POST",
            "/api/v1/sync/enroll",
            None,
            Some(json!({"code": code2["code"], "device_name": "X"})),
        )
        .await;
    let other_cred = other_dev["credential"].as_str().expect("credential");
    let (s, e) = t
        .call(
            "POST",
            "/api/v1/sync/push",
            Some(other_cred),
            Some(push_body.clone()),
        )
        .await;
    assert_eq!(
        s, 403,
        "a credential of another store's device cannot push for this device: {e}"
    );
    // Nor can an owner of another store use this store's branch.
    let (s, _) = t
        .call(
            "POST",
            "/api/v1/admin/enrollment-codes",
            Some(&other_token),
            Some(json!({"branch_id": t.branch_id, "nfce_series": 9})),
        )
        .await;
    assert_eq!(s, 404, "another store's branch is invisible");

    // A revoked device is refused.
    t.admin(
        "POST",
        &format!("/api/v1/admin/devices/{}/revoke", device.device_id),
        None,
    )
    .await;
    let (s, e) = t
        .call(
            "POST",
            "/api/v1/sync/push",
            Some(&device.credential),
            Some(push_body),
        )
        .await;
    assert_eq!(s, 403, "{e}");
    let (s, _) = t.pull(&device, None, 10).await;
    assert_eq!(s, 403);
    assert_eq!(
        t.count("SELECT COUNT(*) AS n FROM sales").await,
        0,
        "nothing was written"
    );
    assert_eq!(
        t.count("SELECT COUNT(*) AS n FROM applied_mutations").await,
        0
    );

    // A seller may not write the catalog; the refusal is audited.
    t.admin(
        "POST",
        "/api/v1/admin/users",
        Some(json!({"name": "Caio", "login": "caio", "role": "seller", "secret": "senha do caio"})),
    )
    .await;
    // The back office opens with a password, never a till PIN.
    let seller = t.login(t.store_id, "caio", "senha do caio").await;
    let (s, _) = t
        .call("POST", "/api/v1/admin/products", Some(&seller), Some(json!({"sku": "1", "name": "x", "unit": "UN", "price_cents": 1, "fiscal": tenda_domain::FiscalData::simples_nacional("19052090")})))
        .await;
    assert_eq!(s, 403);
    assert_eq!(t.count("SELECT COUNT(*) AS n FROM products").await, 0);
    assert_eq!(
        t.count("SELECT COUNT(*) AS n FROM audit_log WHERE outcome = 'denied'")
            .await,
        1
    );
    t.server.shutdown().await;
}

async fn exactly_once_push(backend: Backend) {
    let t = TestServer::start(backend).await;
    let p = t.create_product("ARROZ", "Arroz 5kg", 2_590).await;
    let device = t.enroll(t.branch_id, 1, "Caixa 1").await;
    let entries: Vec<_> = (1..=5)
        .map(|seq| sale_entry(device.device_id, seq, &[(p, 2_590)], 1))
        .collect();
    let batch: Vec<_> = entries.iter().map(|(e, _, _)| wire(e)).collect();

    let (s, r) = t.push(&device, batch[..3].to_vec()).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["applied_through"], 3);
    let folios: Vec<u64> = r["folios"]
        .as_array()
        .expect("folios")
        .iter()
        .map(|f| f["folio"].as_u64().expect("n"))
        .collect();
    assert_eq!(
        folios,
        vec![1, 2, 3],
        "folios are store-wide and given on arrival"
    );

    // The reply was "lost": the device sends 1..5 again. 1..3 are no-ops, 4..5 apply.
    let (s, r) = t.push(&device, batch.clone()).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["applied_through"], 5);
    assert_eq!(
        r["folios"].as_array().expect("folios").len(),
        5,
        "old sales report their folios again"
    );
    // And once more, entirely a duplicate.
    let (s, r) = t.push(&device, batch.clone()).await;
    assert_eq!((s, r["applied_through"].as_u64()), (200, Some(5)));
    assert_eq!(t.count("SELECT COUNT(*) AS n FROM sales").await, 5);
    assert_eq!(t.count("SELECT COUNT(*) AS n FROM sale_lines").await, 5);
    assert_eq!(
        t.count("SELECT COALESCE(SUM(delta), 0) AS n FROM stock_deltas")
            .await,
        -5_000,
        "five units left, once each"
    );

    // A gap is refused with the expected number, and nothing is written.
    let (e7, _, _) = sale_entry(device.device_id, 7, &[(p, 2_590)], 1);
    let (s, r) = t.push(&device, vec![wire(&e7)]).await;
    assert_eq!(s, 409, "{r}");
    assert_eq!(r["code"], "sequence_gap");
    assert_eq!(r["expected_seq"], 6);
    assert_eq!(t.count("SELECT COUNT(*) AS n FROM sales").await, 5);

    // The same sale (client UUID) under a new number stands once.
    let (first, _, _) = &entries[0];
    let again = OutboxEntry {
        seq: 6,
        mutation: first.mutation.clone(),
    };
    let (s, r) = t.push(&device, vec![wire(&again)]).await;
    assert_eq!((s, r["applied_through"].as_u64()), (200, Some(6)), "{r}");
    assert_eq!(r["folios"][0]["folio"], 1, "the sale keeps its first folio");
    assert_eq!(t.count("SELECT COUNT(*) AS n FROM sales").await, 5);

    // Other mutations: a stock receipt and an audit entry.
    let adj = OutboxEntry {
        seq: 7,
        mutation: Mutation::StockAdjusted {
            product_id: ProductId::from_uuid(p),
            delta: Quantity::from_units(20).expect("q"),
            reason: StockReason::Receiving,
            actor: Actor::User(UserId::new()),
            at: chrono::Utc::now(),
        },
    };
    let (s, r) = t.push(&device, vec![wire(&adj)]).await;
    assert_eq!(s, 200, "{r}");
    let (s, page) = t.pull(&device, None, 100).await;
    assert_eq!(s, 200, "{page}");
    let level = page["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .find(|c| c["type"] == "stock_level")
        .expect("stock level");
    assert_eq!(level["quantity"], 15_000, "20 received − 5 sold");

    // The back office sees the sales, with lines and the device's payload.
    let sales = t.admin("GET", "/api/v1/admin/sales?limit=10", None).await;
    assert_eq!(sales.as_array().expect("list").len(), 5);
    let one = t
        .admin(
            "GET",
            &format!("/api/v1/admin/sales/{}", entries[1].1.as_uuid()),
            None,
        )
        .await;
    assert_eq!(one["sale"]["folio"], 2);
    assert_eq!(one["lines"][0]["total_cents"], 2_590);
    t.server.shutdown().await;
}

async fn bad_payloads(backend: Backend) {
    let t = TestServer::start(backend).await;
    let device = t.enroll(t.branch_id, 1, "Caixa 1").await;
    let p = uuid::Uuid::now_v7();
    let cred = Some(device.credential.as_str());

    let (s, e) = t
        .raw("/api/v1/sync/push", cred, b"{not json".to_vec())
        .await;
    assert_eq!(s, 400);
    assert!(
        e["message"]
            .as_str()
            .expect("msg")
            .contains("malformed JSON"),
        "{e}"
    );

    let (s, e) = t
        .raw(
            "/api/v1/sync/push",
            cred,
            br#"{"protocol": 1, "device": 5, "mutations": "x"}"#.to_vec(),
        )
        .await;
    assert_eq!(s, 400, "{e}");
    assert_eq!(e["code"], "invalid_input");

    let (s, e) = t
        .raw(
            "/api/v1/sync/push",
            cred,
            br#"{"protocol": 99, "device": "x"}"#.to_vec(),
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(e["code"], "unsupported_protocol", "{e}");

    // Too many mutations in one push.
    let many: Vec<_> = (1..=1_001)
        .map(|seq| wire(&sale_entry(device.device_id, seq, &[(p, 100)], 1).0))
        .collect();
    let (s, e) = t.push(&device, many).await;
    assert_eq!(s, 413, "{e}");

    // A good mutation followed by a broken one: nothing of the batch is applied.
    let good = wire(&sale_entry(device.device_id, 1, &[(p, 100)], 1).0);
    let mut broken = wire(&sale_entry(device.device_id, 2, &[(p, 100)], 1).0);
    broken.payload["sale"]["total"] = json!(999_999);
    let (s, e) = t.push(&device, vec![good.clone(), broken]).await;
    assert_eq!(s, 400, "{e}");
    assert_eq!(e["field"], "mutations[1].payload.sale.total");
    let mut wrong_type = wire(&sale_entry(device.device_id, 2, &[(p, 100)], 1).0);
    wrong_type.payload["sale"]["lines"] = json!("many");
    let (s, e) = t.push(&device, vec![good.clone(), wrong_type]).await;
    assert_eq!(s, 400, "{e}");
    let mut unknown = good.clone();
    unknown.kind = "teleport".into();
    let (s, e) = t.push(&device, vec![unknown]).await;
    assert_eq!(s, 400);
    assert!(
        e["message"].as_str().expect("m").contains("teleport"),
        "{e}"
    );
    assert_eq!(
        t.count("SELECT COUNT(*) AS n FROM sales").await,
        0,
        "nothing partially applied"
    );
    assert_eq!(
        t.count("SELECT COUNT(*) AS n FROM applied_mutations").await,
        0
    );

    // Bad back-office input names the field.
    let (s, e) = t
        .call("POST", "/api/v1/admin/products", Some(&t.owner_token), Some(json!({"sku": "A", "name": "A", "unit": "UN", "price_cents": -1, "fiscal": tenda_domain::FiscalData::simples_nacional("19052090")})))
        .await;
    assert_eq!((s, e["field"].as_str()), (400, Some("price_cents")), "{e}");
    let (s, e) = t.pull(&device, Some("forged".into()), 10).await;
    assert_eq!((s, e["field"].as_str()), (400, Some("cursor")));
    t.server.shutdown().await;
}

async fn two_branches_oversell(backend: Backend) {
    let t = TestServer::start(backend).await;
    let p = t.create_product("LAST", "Última unidade", 1_000).await;
    let branch2 = t.create_branch("Filial").await;
    let a = t.enroll(t.branch_id, 1, "Matriz caixa").await;
    let b = t.enroll(branch2, 2, "Filial caixa").await;
    // Each branch received one unit.
    for (dev, seq) in [(&a, 1), (&b, 1)] {
        let adj = OutboxEntry {
            seq,
            mutation: Mutation::StockAdjusted {
                product_id: ProductId::from_uuid(p),
                delta: Quantity::from_units(1).expect("q"),
                reason: StockReason::Receiving,
                actor: Actor::User(UserId::new()),
                at: chrono::Utc::now(),
            },
        };
        assert_eq!(t.push(dev, vec![wire(&adj)]).await.0, 200);
    }
    // Offline, both branches sell... and the matriz sells the last unit twice (two sales).
    let (a2, sale_a2, _) = sale_entry(a.device_id, 2, &[(p, 1_000)], 1);
    let (a3, sale_a3, _) = sale_entry(a.device_id, 3, &[(p, 1_000)], 1);
    let (b2, _, _) = sale_entry(b.device_id, 2, &[(p, 1_000)], 1);
    assert_eq!(t.push(&a, vec![wire(&a2), wire(&a3)]).await.0, 200);
    assert_eq!(t.push(&b, vec![wire(&b2)]).await.0, 200);
    assert_eq!(
        t.count("SELECT COUNT(*) AS n FROM sales").await,
        3,
        "every sale stands"
    );

    let report = t.admin("GET", "/api/v1/admin/reports/oversold", None).await;
    let items = report.as_array().expect("list");
    assert_eq!(items.len(), 1, "only the matriz went below zero: {report}");
    assert_eq!(items[0]["quantity"], -1_000);
    assert_eq!(items[0]["branch_id"], t.branch_id.to_string());
    let flagged: Vec<&str> = items[0]["sales"]
        .as_array()
        .expect("sales")
        .iter()
        .map(|s| s["sale_id"].as_str().expect("id"))
        .collect();
    assert_eq!(
        flagged,
        vec![sale_a3.as_uuid().to_string().as_str()],
        "the sale that took it below zero"
    );
    let _ = sale_a2;

    // Stock levels are per branch.
    let (_, page) = t.pull(&b, None, 100).await;
    let level = page["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .find(|c| c["type"] == "stock_level")
        .expect("level");
    assert_eq!(level["quantity"], 0);

    // A sale on account past the overdraft limit while offline is flagged, not refused.
    let c = t
        .admin(
            "POST",
            "/api/v1/admin/customers",
            Some(json!({"name": "Dona Maria", "overdraft_limit_cents": 1_500})),
        )
        .await;
    let customer: uuid::Uuid = c["id"].as_str().expect("id").parse().expect("uuid");
    let account_sale = |seq: u64| {
        let mut cart = tenda_domain::Cart::new();
        cart.customer_id = Some(tenda_domain::CustomerId::from_uuid(customer));
        cart.add(
            &common::product(p, 1_000),
            Quantity::from_units(1).expect("q"),
        )
        .expect("add");
        let total = cart.totals().expect("t").total;
        let sale = cart
            .checkout(
                tenda_domain::SaleHeader {
                    id: tenda_domain::SaleId::new(),
                    device_id: tenda_domain::DeviceId::from_uuid(a.device_id),
                    seller_id: UserId::new(),
                    created_at: chrono::Utc::now(),
                },
                vec![tenda_domain::Payment::on_account(
                    total,
                    tenda_domain::CustomerId::from_uuid(customer),
                )],
            )
            .expect("checkout");
        OutboxEntry {
            seq,
            mutation: Mutation::SaleRecorded(tenda_domain::SaleRecorded {
                stock_deltas: sale.stock_deltas().expect("d"),
                balance_deltas: sale.balance_deltas().expect("d"),
                sale,
                local_number: seq,
                register_session_id: None,
                fiscal: None,
            }),
        }
    };
    let (s, r) = t
        .push(&a, vec![wire(&account_sale(4)), wire(&account_sale(5))])
        .await;
    assert_eq!(s, 200, "{r}");
    let over = t
        .admin("GET", "/api/v1/admin/reports/overdraft", None)
        .await;
    assert_eq!(over.as_array().expect("list").len(), 1, "{over}");
    assert_eq!(
        over[0]["balance_cents"], -2_000,
        "two sales of 10,00 on account"
    );
    assert_eq!(
        over[0]["sales"].as_array().expect("sales").len(),
        1,
        "only the second sale passed the 15,00 limit"
    );
    let _ = Money::ZERO;
    t.server.shutdown().await;
}

async fn pull_pages_totals_and_last_writer(backend: Backend) {
    let t = TestServer::start(backend).await;
    for i in 0..25 {
        t.create_product(&format!("P{i:03}"), &format!("Produto {i}"), 100 + i)
            .await;
    }
    t.admin(
        "PUT",
        "/api/v1/admin/settings/nfce.contingency.auto",
        Some(json!({"value": "true"})),
    )
    .await;
    let device = t.enroll(t.branch_id, 1, "Caixa").await;

    let (s, first) = t.pull(&device, None, 10).await;
    assert_eq!(s, 200, "{first}");
    assert_eq!(first["totals"]["products"], 25);
    assert_eq!(first["totals"]["settings"], 1);
    assert_eq!(first["totals"]["users"], 1, "the owner");
    let mut seen = first["changes"].as_array().expect("c").len();
    let mut cursor = first["cursor"].as_str().expect("cursor").to_owned();
    let mut more = first["more"].as_bool().expect("more");
    while more {
        let (_, page) = t.pull(&device, Some(cursor.clone()), 10).await;
        assert!(page["totals"].is_null(), "totals only on the first page");
        seen += page["changes"].as_array().expect("c").len();
        cursor = page["cursor"].as_str().expect("c").to_owned();
        more = page["more"].as_bool().expect("more");
    }
    assert_eq!(seen, 27, "25 products, 1 setting, 1 user");
    // A lost reply: asking again with the same cursor gives nothing new and loses nothing.
    let (_, again) = t.pull(&device, Some(cursor.clone()), 10).await;
    assert_eq!(again["changes"].as_array().expect("c").len(), 0);

    // The back office's count agrees with its list: 25 in all, and the one "P007" names (the
    // scrollbar of its table is sized by the count before any page arrives).
    let all = t.admin("GET", "/api/v1/admin/products/count", None).await;
    assert_eq!(all["total"], 25);
    let one = t
        .admin("GET", "/api/v1/admin/products/count?search=P007", None)
        .await;
    assert_eq!(one["total"], 1);

    // An edit is delivered next round with a higher version (last writer wins by version).
    let list = t
        .admin("GET", "/api/v1/admin/products?search=P007", None)
        .await;
    let id = list[0]["id"].as_str().expect("id").to_owned();
    let old_version = list[0]["version"].as_i64().expect("v");
    t.admin(
        "PUT",
        &format!("/api/v1/admin/products/{id}"),
        Some(json!({"sku": "P007", "name": "Produto 7 novo", "unit": "UN", "price_cents": 999, "fiscal": tenda_domain::FiscalData::simples_nacional("19052090")})),
    )
    .await;
    t.admin(
        "PUT",
        &format!("/api/v1/admin/branches/{}/prices/{id}", t.branch_id),
        Some(json!({"price_cents": 888})),
    )
    .await;
    let (_, next) = t.pull(&device, Some(cursor), 10).await;
    let changes = next["changes"].as_array().expect("c");
    assert_eq!(changes.len(), 1, "{next}");
    assert_eq!(changes[0]["name"], "Produto 7 novo");
    assert_eq!(
        changes[0]["price_cents"], 888,
        "the branch price overrides the store price"
    );
    assert!(changes[0]["version"].as_i64().expect("v") > old_version);

    // CSV import is all or nothing.
    let s = t
        .http
        .post(t.url("/api/v1/admin/products/import"))
        .bearer_auth(&t.owner_token)
        .body("sku,name,unit,price,ncm\nN1,Novo,UN,1.50,19052090\nN2,Ruim,UN,abc,19052090\n")
        .send()
        .await
        .map(|r| r.status().as_u16())
        .expect("send");
    assert_eq!(s, 400);
    assert_eq!(
        t.count("SELECT COUNT(*) AS n FROM products WHERE sku = 'N1'")
            .await,
        0
    );
    let ok = t
        .http
        .post(t.url("/api/v1/admin/products/import"))
        .bearer_auth(&t.owner_token)
        .body("sku,name,unit,price,ncm\nN1,Novo,UN,1.50,19052090\n")
        .send()
        .await
        .expect("send");
    assert_eq!(ok.status().as_u16(), 200);
    assert_eq!(
        t.count("SELECT COUNT(*) AS n FROM products WHERE sku = 'N1' AND price_cents = 150")
            .await,
        1
    );
    assert!(
        t.count("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'product.import'")
            .await
            >= 1,
        "writes are audited"
    );
    t.server.shutdown().await;
}

async fn enrollment_waits_for_required_settings(backend: Backend) {
    let t = TestServer::start(backend).await;
    let code = t
        .admin(
            "POST",
            "/api/v1/admin/enrollment-codes",
            Some(json!({"branch_id": t.branch_id, "nfce_series": 3})),
        )
        .await;
    let body = json!({
        "code": code["code"], "device_name": "Caixa 3",
        "required_settings": ["fiscal.emitter"],
    });
    // The store has no emitter yet: refused, naming the setting, and no device is created.
    let (status, err) = t
        .call("POST", "/api/v1/sync/enroll", None, Some(body.clone()))
        .await;
    assert_eq!(status, 409, "{err}");
    assert!(
        err.to_string().contains("fiscal.emitter"),
        "the answer names what is missing: {err}"
    );
    assert_eq!(t.count("SELECT COUNT(*) AS n FROM devices").await, 0);

    // A branch's own emitter counts as well; once it exists the same code still works,
    // because the refusal rolled the claim back.
    t.admin(
        "PUT",
        &format!("/api/v1/admin/settings/fiscal.emitter.{}", t.branch_id),
        Some(json!({"value": "{}"})),
    )
    .await;
    let (status, enrolled) = t
        .call("POST", "/api/v1/sync/enroll", None, Some(body))
        .await;
    assert_eq!(status, 200, "{enrolled}");
    assert_eq!(enrolled["settings"]["nfce_series"], 3);
    assert_eq!(t.count("SELECT COUNT(*) AS n FROM devices").await, 1);
}

suite!(
    enrollment_and_auth,
    enrollment_waits_for_required_settings,
    exactly_once_push,
    bad_payloads,
    two_branches_oversell,
    pull_pages_totals_and_last_writer
);
