//! Push: applies a device's outbox mutations exactly once.
//!
//! Mutation N of a device is applied only if N is the next one for that device, in the same
//! transaction that records it. Already-applied numbers are no-ops; a gap is refused with the
//! number the server expects. Every mutation of a request is validated before anything is
//! written, and the whole request commits or none of it does.

use diesel::prelude::*;
use diesel::upsert::excluded;
use std::collections::{BTreeMap, HashMap, HashSet};
use tenda_sync::protocol::{MAX_PUSH_BATCH, PROTOCOL_VERSION, PushResponse, SaleFolio};
use uuid::Uuid;

use crate::auth::AuthedDevice;
use crate::db::{Conn, now_ms};
use crate::error::Error;
use crate::mutation::{Effects, PushBody, understand};
use crate::schema::{
    applied_mutations, balance_deltas, cash_movements, customer_balances, customers,
    device_records, devices, flags, sale_lines, sales, stock_deltas, stock_levels, stores,
};
use crate::write_tx;

#[derive(Insertable)]
#[diesel(table_name = sales)]
struct NewSale {
    id: String,
    store_id: String,
    branch_id: String,
    device_id: String,
    device_seq: i64,
    folio: i64,
    local_number: Option<String>,
    customer_id: Option<String>,
    total_cents: i64,
    on_account_cents: i64,
    fiscal_status: String,
    access_key: Option<String>,
    recorded_at: i64,
    received_at: i64,
    payload: String,
}

#[derive(Insertable)]
#[diesel(table_name = sale_lines)]
struct NewLine {
    sale_id: String,
    line_no: i64,
    product_id: String,
    quantity: i64,
    unit_price_cents: i64,
    total_cents: i64,
}

#[derive(Insertable)]
#[diesel(table_name = stock_deltas)]
struct NewStockDelta {
    id: String,
    store_id: String,
    branch_id: String,
    product_id: String,
    delta: i64,
    sale_id: Option<String>,
    reason: String,
    version: i64,
    created_at: i64,
}

#[derive(Insertable)]
#[diesel(table_name = balance_deltas)]
struct NewBalanceDelta {
    id: String,
    store_id: String,
    branch_id: String,
    customer_id: String,
    delta_cents: i64,
    sale_id: Option<String>,
    reason: String,
    version: i64,
    created_at: i64,
}

#[derive(Insertable)]
#[diesel(table_name = applied_mutations)]
struct NewApplied {
    device_id: String,
    seq: i64,
    kind: String,
    applied_at: i64,
}

#[derive(Insertable)]
#[diesel(table_name = flags)]
struct NewFlag {
    id: String,
    store_id: String,
    branch_id: String,
    kind: String,
    subject_id: String,
    sale_id: String,
    amount_after: i64,
    created_at: i64,
}

/// Checks the request's shape and numbering, and reads every mutation, before any write.
fn validate(req: &PushBody, device: &AuthedDevice) -> Result<Vec<Effects>, Error> {
    if req.protocol > PROTOCOL_VERSION {
        return Err(Error::UnsupportedProtocol(format!(
            "protocol version {} is not supported; this server speaks 1..={PROTOCOL_VERSION}",
            req.protocol
        )));
    }
    if req.device.to_string() != device.id {
        return Err(Error::Forbidden(
            "the credential belongs to another device".into(),
        ));
    }
    if req.mutations.len() > MAX_PUSH_BATCH {
        return Err(Error::TooLarge(format!(
            "{} mutations in one push; send at most {MAX_PUSH_BATCH}",
            req.mutations.len()
        )));
    }
    for (i, pair) in req.mutations.windows(2).enumerate() {
        if pair[1].seq != pair[0].seq + 1 {
            return Err(Error::invalid(
                format!("mutations[{}].seq", i + 1),
                "sequence numbers in a push must be consecutive and ascending",
            ));
        }
    }
    if req.mutations.first().is_some_and(|m| m.seq == 0) {
        return Err(Error::invalid(
            "mutations[0].seq",
            "sequence numbers start at 1",
        ));
    }
    req.mutations
        .iter()
        .enumerate()
        .map(|(i, m)| understand(i, m).map(|(_, fx)| fx))
        .collect()
}

/// Applies a push for an authenticated device.
pub fn push(conn: &mut Conn, device: &AuthedDevice, req: &PushBody) -> Result<PushResponse, Error> {
    let understood = validate(req, device)?;
    let now = now_ms();
    write_tx!(conn, |c| {
        // Taking the device row first serializes concurrent pushes of one device.
        diesel::update(devices::table.find(&device.id))
            .set(devices::last_seen_at.eq(Some(now)))
            .execute(c)?;
        let (last_seq, revoked): (i64, bool) = devices::table
            .find(&device.id)
            .select((devices::last_seq, devices::revoked))
            .first(c)?;
        if revoked {
            return Err(Error::Forbidden("this device has been revoked".into()));
        }
        let last_seq =
            u64::try_from(last_seq).map_err(|_| Error::Internal("negative seq".into()))?;
        let expected = last_seq + 1;
        let fresh: Vec<(usize, &Effects)> = req
            .mutations
            .iter()
            .zip(&understood)
            .enumerate()
            .filter(|(_, (m, _))| m.seq > last_seq)
            .map(|(i, (_, a))| (i, a))
            .collect();
        if let Some((i, _)) = fresh.first() {
            let got = req.mutations[*i].seq;
            if got != expected {
                return Err(Error::SequenceGap { expected, got });
            }
        }

        let sale_ids_in_request: Vec<String> = understood
            .iter()
            .filter_map(|fx| fx.sale.as_ref().map(|s| s.id.to_string()))
            .collect();
        let mut known: HashMap<String, i64> = HashMap::new();
        for chunk in sale_ids_in_request.chunks(500) {
            let rows: Vec<(String, i64, String)> = sales::table
                .filter(sales::id.eq_any(chunk))
                .select((sales::id, sales::folio, sales::store_id))
                .load(c)?;
            for (id, folio, store) in rows {
                if store == device.store_id {
                    known.insert(id, folio);
                } else {
                    return Err(Error::Conflict(
                        "a sale id in this push belongs to another store".into(),
                    ));
                }
            }
        }

        if fresh.is_empty() {
            return Ok(PushResponse {
                protocol: PROTOCOL_VERSION,
                applied_through: last_seq,
                folios: folios_of(&sale_ids_in_request, &known),
            });
        }

        // Sales not yet on the server (a sale re-sent under a new number is recognized by its id).
        let mut new_sale_ids: HashSet<String> = HashSet::new();
        let new_sales_count = fresh
            .iter()
            .filter(|(_, fx)| {
                fx.sale.as_ref().is_some_and(|s| {
                    let id = s.id.to_string();
                    !known.contains_key(&id) && new_sale_ids.insert(id)
                })
            })
            .count() as i64;

        // The store row hands out folios and the change version; updating it first also orders
        // concurrent pushes of one store, so versions become visible in increasing order.
        diesel::update(stores::table.find(&device.store_id))
            .set((
                stores::change_seq.eq(stores::change_seq + 1),
                stores::next_folio.eq(stores::next_folio + new_sales_count),
            ))
            .execute(c)?;
        let (version, next_folio): (i64, i64) = stores::table
            .find(&device.store_id)
            .select((stores::change_seq, stores::next_folio))
            .first(c)?;
        let mut folio = next_folio - new_sales_count;

        let mut new_sales = Vec::new();
        let mut new_lines = Vec::new();
        let mut new_stock = Vec::new();
        let mut new_balance = Vec::new();
        let mut applied_rows = Vec::with_capacity(fresh.len());
        let mut fiscal_updates = Vec::new();
        let mut cash_rows = Vec::new();
        let mut audit_rows = Vec::new();
        let mut inserted: HashSet<String> = HashSet::new();
        let mut voids = Vec::new();
        for (i, fx) in &fresh {
            let m = &req.mutations[*i];
            let seq = i64::try_from(m.seq).map_err(|_| Error::invalid("seq", "too large"))?;
            applied_rows.push(NewApplied {
                device_id: device.id.clone(),
                seq,
                kind: m.kind.clone(),
                applied_at: now,
            });
            if let Some(s) = &fx.sale {
                let sid = s.id.to_string();
                if !new_sale_ids.contains(&sid) || !inserted.insert(sid.clone()) {
                    // Already on the server: the sale and its deltas stand once.
                    continue;
                }
                known.insert(sid.clone(), folio);
                for (n, (product, quantity, unit_price, total)) in s.lines.iter().enumerate() {
                    new_lines.push(NewLine {
                        sale_id: sid.clone(),
                        line_no: n as i64 + 1,
                        product_id: product.to_string(),
                        quantity: *quantity,
                        unit_price_cents: *unit_price,
                        total_cents: *total,
                    });
                }
                new_sales.push(NewSale {
                    id: sid,
                    store_id: device.store_id.clone(),
                    branch_id: device.branch_id.clone(),
                    device_id: device.id.clone(),
                    device_seq: seq,
                    folio,
                    local_number: Some(s.local_number.clone()),
                    customer_id: s.customer_id.map(|c| c.to_string()),
                    total_cents: s.total_cents,
                    on_account_cents: s.on_account_cents,
                    fiscal_status: s.fiscal_status.clone(),
                    access_key: s.access_key.clone(),
                    recorded_at: s.recorded_at,
                    received_at: now,
                    payload: m.payload.get().to_owned(),
                });
                folio += 1;
            }
            for d in &fx.stock {
                new_stock.push(NewStockDelta {
                    id: Uuid::now_v7().to_string(),
                    store_id: device.store_id.clone(),
                    branch_id: device.branch_id.clone(),
                    product_id: d.subject.to_string(),
                    delta: d.amount,
                    sale_id: d.sale_id.map(|s| s.to_string()),
                    reason: d.reason.to_owned(),
                    version,
                    created_at: now,
                });
            }
            for d in &fx.balance {
                new_balance.push(NewBalanceDelta {
                    id: Uuid::now_v7().to_string(),
                    store_id: device.store_id.clone(),
                    branch_id: device.branch_id.clone(),
                    customer_id: d.subject.to_string(),
                    delta_cents: d.amount,
                    sale_id: d.sale_id.map(|s| s.to_string()),
                    reason: d.reason.to_owned(),
                    version,
                    created_at: now,
                });
            }
            if let Some(f) = &fx.fiscal_status {
                fiscal_updates.push(f.clone());
            }
            if let Some(v) = fx.voided_sale {
                voids.push(v.to_string());
            }
            if let Some((id, kind, amount)) = &fx.cash {
                cash_rows.push((
                    id.to_string(),
                    kind.clone(),
                    *amount,
                    m.payload.get().to_owned(),
                ));
            }
            if fx.record {
                audit_rows.push((seq, m.kind.clone(), m.payload.get().to_owned()));
            }
        }

        for chunk in new_sales.chunks(1_000) {
            diesel::insert_into(sales::table).values(chunk).execute(c)?;
        }
        for chunk in new_lines.chunks(4_000) {
            diesel::insert_into(sale_lines::table)
                .values(chunk)
                .execute(c)?;
        }
        for chunk in new_stock.chunks(3_000) {
            diesel::insert_into(stock_deltas::table)
                .values(chunk)
                .execute(c)?;
        }
        for chunk in new_balance.chunks(3_000) {
            diesel::insert_into(balance_deltas::table)
                .values(chunk)
                .execute(c)?;
        }
        for chunk in applied_rows.chunks(5_000) {
            diesel::insert_into(applied_mutations::table)
                .values(chunk)
                .execute(c)?;
        }
        for (sale_id, status, access_key) in &fiscal_updates {
            let n = diesel::update(
                sales::table
                    .filter(sales::id.eq(sale_id.to_string()))
                    .filter(sales::store_id.eq(&device.store_id)),
            )
            .set((
                sales::fiscal_status.eq(status),
                sales::access_key.eq(Some(access_key)),
            ))
            .execute(c)?;
            if n == 0 {
                tracing::warn!(sale = %sale_id, "fiscal status for a sale the server does not have");
            }
        }
        for sale_id in &voids {
            diesel::update(
                sales::table
                    .filter(sales::id.eq(sale_id))
                    .filter(sales::store_id.eq(&device.store_id)),
            )
            .set(sales::voided_at.eq(Some(now)))
            .execute(c)?;
        }
        for (id, kind, amount, payload) in cash_rows {
            diesel::insert_into(cash_movements::table)
                .values((
                    cash_movements::id.eq(id),
                    cash_movements::store_id.eq(&device.store_id),
                    cash_movements::branch_id.eq(&device.branch_id),
                    cash_movements::device_id.eq(&device.id),
                    cash_movements::kind.eq(kind),
                    cash_movements::amount_cents.eq(amount),
                    cash_movements::payload.eq(payload),
                    cash_movements::received_at.eq(now),
                ))
                .on_conflict_do_nothing()
                .execute(c)?;
        }
        for (seq, kind, payload) in audit_rows {
            diesel::insert_into(device_records::table)
                .values((
                    device_records::device_id.eq(&device.id),
                    device_records::device_seq.eq(seq),
                    device_records::store_id.eq(&device.store_id),
                    device_records::kind.eq(kind),
                    device_records::payload.eq(payload),
                    device_records::received_at.eq(now),
                ))
                .execute(c)?;
        }

        // Ledgers: levels are the running sums of the deltas, kept in the same transaction.
        let mut flag_rows = Vec::new();
        let mut stock_by_product: BTreeMap<&str, i64> = BTreeMap::new();
        for d in &new_stock {
            *stock_by_product.entry(d.product_id.as_str()).or_default() += d.delta;
        }
        let mut levels_after: HashMap<String, i64> = HashMap::new();
        for (product, delta) in &stock_by_product {
            diesel::insert_into(stock_levels::table)
                .values((
                    stock_levels::branch_id.eq(&device.branch_id),
                    stock_levels::product_id.eq(*product),
                    stock_levels::store_id.eq(&device.store_id),
                    stock_levels::quantity.eq(*delta),
                    stock_levels::version.eq(version),
                ))
                .on_conflict((stock_levels::branch_id, stock_levels::product_id))
                .do_update()
                .set((
                    stock_levels::quantity
                        .eq(stock_levels::quantity + excluded(stock_levels::quantity)),
                    stock_levels::version.eq(excluded(stock_levels::version)),
                ))
                .execute(c)?;
        }
        let touched: Vec<&str> = stock_by_product.keys().copied().collect();
        for chunk in touched.chunks(1_000) {
            let rows: Vec<(String, i64)> = stock_levels::table
                .filter(stock_levels::branch_id.eq(&device.branch_id))
                .filter(stock_levels::product_id.eq_any(chunk))
                .select((stock_levels::product_id, stock_levels::quantity))
                .load(c)?;
            levels_after.extend(rows);
        }
        // Walk this push's deltas in order from the level before it, to name the sales that
        // took the stock below zero while the devices were offline.
        let mut running: HashMap<&str, i64> = stock_by_product
            .iter()
            .map(|(p, d)| (*p, levels_after.get(*p).copied().unwrap_or(0) - d))
            .collect();
        for d in &new_stock {
            let level = running.entry(d.product_id.as_str()).or_default();
            *level += d.delta;
            if *level < 0 && d.delta < 0 {
                if let Some(sale) = &d.sale_id {
                    flag_rows.push(NewFlag {
                        id: Uuid::now_v7().to_string(),
                        store_id: device.store_id.clone(),
                        branch_id: device.branch_id.clone(),
                        kind: "oversold".into(),
                        subject_id: d.product_id.clone(),
                        sale_id: sale.clone(),
                        amount_after: *level,
                        created_at: now,
                    });
                }
            }
        }

        let mut balance_by_customer: BTreeMap<&str, i64> = BTreeMap::new();
        for d in &new_balance {
            *balance_by_customer
                .entry(d.customer_id.as_str())
                .or_default() += d.delta_cents;
        }
        for (customer, delta) in &balance_by_customer {
            diesel::insert_into(customer_balances::table)
                .values((
                    customer_balances::customer_id.eq(*customer),
                    customer_balances::store_id.eq(&device.store_id),
                    customer_balances::balance_cents.eq(*delta),
                    customer_balances::version.eq(version),
                ))
                .on_conflict(customer_balances::customer_id)
                .do_update()
                .set((
                    customer_balances::balance_cents.eq(customer_balances::balance_cents
                        + excluded(customer_balances::balance_cents)),
                    customer_balances::version.eq(excluded(customer_balances::version)),
                ))
                .execute(c)?;
        }
        if !balance_by_customer.is_empty() {
            let ids: Vec<&str> = balance_by_customer.keys().copied().collect();
            let mut after: HashMap<String, i64> = HashMap::new();
            let mut limits: HashMap<String, i64> = HashMap::new();
            for chunk in ids.chunks(1_000) {
                let rows: Vec<(String, i64)> = customer_balances::table
                    .filter(customer_balances::customer_id.eq_any(chunk))
                    .select((
                        customer_balances::customer_id,
                        customer_balances::balance_cents,
                    ))
                    .load(c)?;
                after.extend(rows);
                let rows: Vec<(String, i64)> = customers::table
                    .filter(customers::id.eq_any(chunk))
                    .select((customers::id, customers::overdraft_limit_cents))
                    .load(c)?;
                limits.extend(rows);
            }
            // Balances are negative while the customer owes; the limit says how far below zero.
            let mut running: HashMap<&str, i64> = balance_by_customer
                .iter()
                .map(|(k, d)| (*k, after.get(*k).copied().unwrap_or(0) - d))
                .collect();
            for d in &new_balance {
                let balance = running.entry(d.customer_id.as_str()).or_default();
                *balance += d.delta_cents;
                // Unknown customers have no credit at all.
                let limit = limits.get(&d.customer_id).copied().unwrap_or(0);
                if *balance < -limit && d.delta_cents < 0 {
                    if let Some(sale) = &d.sale_id {
                        flag_rows.push(NewFlag {
                            id: Uuid::now_v7().to_string(),
                            store_id: device.store_id.clone(),
                            branch_id: device.branch_id.clone(),
                            kind: "overdraft".into(),
                            subject_id: d.customer_id.clone(),
                            sale_id: sale.clone(),
                            amount_after: *balance,
                            created_at: now,
                        });
                    }
                }
            }
        }
        for chunk in flag_rows.chunks(1_000) {
            diesel::insert_into(flags::table).values(chunk).execute(c)?;
        }

        let applied_through = req.mutations.last().map_or(last_seq, |m| m.seq);
        diesel::update(devices::table.find(&device.id))
            .set(devices::last_seq.eq(
                i64::try_from(applied_through).map_err(|_| Error::invalid("seq", "too large"))?,
            ))
            .execute(c)?;
        Ok(PushResponse {
            protocol: PROTOCOL_VERSION,
            applied_through,
            folios: folios_of(&sale_ids_in_request, &known),
        })
    })
}

fn folios_of(ids: &[String], known: &HashMap<String, i64>) -> Vec<SaleFolio> {
    let mut seen = HashSet::new();
    ids.iter()
        .filter(|id| seen.insert(id.as_str()))
        .filter_map(|id| {
            let folio = known.get(id)?;
            Some(SaleFolio {
                sale_id: id.parse().ok()?,
                folio: u64::try_from(*folio).ok()?,
            })
        })
        .collect()
}
