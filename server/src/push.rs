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

use crate::auth::AuthedDevice;
use crate::bulk::{BulkInsert, rows_per_insert};
use crate::db::{Conn, new_id, now_ms};
use crate::error::Error;
use crate::mutation::{Effects, PushBody, understand};
use crate::schema::{
    applied_mutations, balance_deltas, cash_movements, customer_balances, customers,
    device_records, devices, flags, products, sale_lines, sales, stock_deltas, stock_levels,
    stores,
};
use crate::{bulk_rows, write_tx};
use tenda_domain::mutation_rules::check_ledger;

// Row types own their values (diesel keeps a prepared statement per row type only for types
// without borrowed fields); none is ever written as SQL `DEFAULT`, which lets each table take
// its rows in a few statements (SQLite) or one `COPY` (PostgreSQL).

#[derive(Insertable)]
#[diesel(table_name = sales, treat_none_as_default_value = false)]
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
bulk_rows!(NewSale, sales);

#[derive(Insertable)]
#[diesel(table_name = sale_lines, treat_none_as_default_value = false)]
struct NewLine {
    sale_id: String,
    line_no: i64,
    product_id: String,
    quantity: i64,
    unit_price_cents: i64,
    total_cents: i64,
}
bulk_rows!(NewLine, sale_lines);

#[derive(Insertable)]
#[diesel(table_name = stock_deltas, treat_none_as_default_value = false)]
struct NewStockDelta {
    id: String,
    store_id: String,
    branch_id: String,
    product_id: String,
    delta: i64,
    sale_id: Option<String>,
    reason: &'static str,
    version: i64,
    created_at: i64,
}
bulk_rows!(NewStockDelta, stock_deltas);

#[derive(Insertable)]
#[diesel(table_name = balance_deltas, treat_none_as_default_value = false)]
struct NewBalanceDelta {
    id: String,
    store_id: String,
    branch_id: String,
    customer_id: String,
    delta_cents: i64,
    sale_id: Option<String>,
    reason: &'static str,
    version: i64,
    created_at: i64,
}
bulk_rows!(NewBalanceDelta, balance_deltas);

#[derive(Insertable)]
#[diesel(table_name = applied_mutations, treat_none_as_default_value = false)]
struct NewApplied {
    device_id: String,
    seq: i64,
    kind: String,
    applied_at: i64,
}
bulk_rows!(NewApplied, applied_mutations);

#[derive(Insertable)]
#[diesel(table_name = flags, treat_none_as_default_value = false)]
struct NewFlag {
    id: String,
    store_id: String,
    branch_id: String,
    kind: &'static str,
    subject_id: String,
    sale_id: String,
    amount_after: i64,
    created_at: i64,
}
bulk_rows!(NewFlag, flags);

#[derive(Insertable)]
#[diesel(table_name = stock_levels, treat_none_as_default_value = false)]
struct LevelDelta<'a> {
    branch_id: &'a str,
    product_id: &'a str,
    store_id: &'a str,
    quantity: i64,
    version: i64,
}

#[derive(Insertable)]
#[diesel(table_name = customer_balances, treat_none_as_default_value = false)]
struct BalanceDelta<'a> {
    customer_id: &'a str,
    store_id: &'a str,
    balance_cents: i64,
    version: i64,
}

/// Checks the request's shape and numbering, and reads every mutation, before any write (no
/// database needed: the fuzz target drives it with arbitrary bodies).
pub fn check_request(req: &PushBody, device: &AuthedDevice) -> Result<Vec<Effects>, Error> {
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
    if let Some((i, m)) = req
        .mutations
        .iter()
        .enumerate()
        .find(|(_, m)| i64::try_from(m.seq).is_err())
    {
        return Err(Error::Rule {
            field: format!("mutations[{i}].seq"),
            rule: "seq_out_of_range".into(),
            reason: format!("sequence numbers run up to {}", i64::MAX),
            seq: Some(m.seq),
        });
    }
    for (i, pair) in req.mutations.windows(2).enumerate() {
        if pair[0].seq.checked_add(1) != Some(pair[1].seq) {
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
    push_relayed(conn, device, req, false)
}

/// [`push`]; with `relay` (a store hub) every newly applied mutation is also queued, in the same
/// transaction, for the hub to relay to the cloud (see `crate::hub`).
pub fn push_relayed(
    conn: &mut Conn,
    device: &AuthedDevice,
    req: &PushBody,
    relay: bool,
) -> Result<PushResponse, Error> {
    let understood = check_request(req, device)?;
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

        // Each mutation's sale id as text (index-aligned with the request).
        let sale_id_text: Vec<Option<String>> = understood
            .iter()
            .map(|fx| fx.sale.as_ref().map(|s| s.id.to_string()))
            .collect();
        let sale_ids_in_request: Vec<&str> =
            sale_id_text.iter().flatten().map(String::as_str).collect();
        let requested: HashSet<&str> = sale_ids_in_request.iter().copied().collect();
        let mut known: HashMap<&str, i64> = HashMap::new();
        for chunk in sale_ids_in_request.chunks(500) {
            let rows: Vec<(String, i64, String)> = sales::table
                .filter(sales::id.eq_any(chunk))
                .select((sales::id, sales::folio, sales::store_id))
                .load(c)?;
            for (id, folio, store) in rows {
                if store != device.store_id {
                    return Err(Error::Conflict(
                        "a sale id in this push belongs to another store".into(),
                    ));
                }
                if let Some(id) = requested.get(id.as_str()) {
                    known.insert(id, folio);
                }
            }
        }

        if fresh.is_empty() {
            let mut folios = folios_of(&sale_ids_in_request, &known);
            // A retry that carries fewer entries than an earlier, applied push (its reply was
            // lost): the device will mark everything through `applied_through` pushed, so it
            // hears every folio of its sales up to there, not only those it sent again.
            if let Some(sent_through) = req.mutations.last().map(|m| m.seq)
                && sent_through < last_seq
            {
                let sent_through = i64::try_from(sent_through).unwrap_or(i64::MAX);
                let rows: Vec<(String, i64)> = sales::table
                    .filter(sales::device_id.eq(&device.id))
                    .filter(sales::device_seq.gt(sent_through))
                    .order(sales::device_seq.asc())
                    .select((sales::id, sales::folio))
                    .load(c)?;
                let already: HashSet<uuid::Uuid> = folios.iter().map(|f| f.sale_id).collect();
                folios.extend(rows.into_iter().filter_map(|(id, folio)| {
                    let sale_id: uuid::Uuid = id.parse().ok()?;
                    (!already.contains(&sale_id)).then_some(SaleFolio {
                        sale_id,
                        folio: u64::try_from(folio).ok()?,
                    })
                }));
            }
            return Ok(PushResponse {
                protocol: PROTOCOL_VERSION,
                applied_through: last_seq,
                folios,
            });
        }

        // Every id a fresh mutation names must be this store's: a foreign id is refused exactly
        // like an unknown one, before anything is written.
        let refuse = |i: usize, rule: &str, reason: String| Error::Rule {
            field: format!("mutations[{i}].payload"),
            rule: rule.to_owned(),
            reason,
            seq: Some(req.mutations[i].seq),
        };
        let mut product_refs: BTreeMap<String, usize> = BTreeMap::new();
        let mut customer_refs: BTreeMap<String, usize> = BTreeMap::new();
        let mut sale_refs: BTreeMap<String, usize> = BTreeMap::new();
        let mut registered: BTreeMap<String, usize> = BTreeMap::new();
        let mut pushed_sales: HashMap<String, &crate::mutation::SaleInfo> = HashMap::new();
        for (i, fx) in &fresh {
            for p in &fx.products {
                product_refs.entry(p.to_string()).or_insert(*i);
            }
            for cu in &fx.customers {
                customer_refs.entry(cu.to_string()).or_insert(*i);
            }
            for sa in &fx.sales {
                sale_refs.entry(sa.to_string()).or_insert(*i);
            }
            if let Some(cu) = &fx.new_customer {
                registered.entry(cu.id.to_string()).or_insert(*i);
            }
            if let Some(sale) = &fx.sale {
                pushed_sales.insert(sale.id.to_string(), sale);
            }
        }
        let product_ids: Vec<&str> = product_refs.keys().map(String::as_str).collect();
        let mut found: HashSet<String> = HashSet::new();
        for chunk in product_ids.chunks(500) {
            found.extend(
                products::table
                    .filter(products::store_id.eq(&device.store_id))
                    .filter(products::id.eq_any(chunk))
                    .select(products::id)
                    .load::<String>(c)?,
            );
        }
        if let Some((id, i)) = product_refs
            .iter()
            .filter(|(id, _)| !found.contains(*id))
            .min_by_key(|(_, i)| **i)
        {
            return Err(refuse(
                *i,
                "unknown_product",
                format!("product {id} is not in this store's catalog"),
            ));
        }
        let customer_ids: Vec<&str> = customer_refs
            .keys()
            .chain(registered.keys())
            .map(String::as_str)
            .collect();
        let mut customer_store: HashMap<String, String> = HashMap::new();
        for chunk in customer_ids.chunks(500) {
            customer_store.extend(
                customers::table
                    .filter(customers::id.eq_any(chunk))
                    .select((customers::id, customers::store_id))
                    .load::<(String, String)>(c)?,
            );
        }
        if let Some((id, i)) = registered
            .iter()
            .filter(|(id, _)| {
                customer_store
                    .get(*id)
                    .is_some_and(|st| st != &device.store_id)
            })
            .min_by_key(|(_, i)| **i)
        {
            return Err(refuse(
                *i,
                "customer_id_taken",
                format!("customer id {id} cannot be registered"),
            ));
        }
        if let Some((id, i)) = customer_refs
            .iter()
            .filter(|(id, _)| {
                !registered.contains_key(*id) && customer_store.get(*id) != Some(&device.store_id)
            })
            .min_by_key(|(_, i)| **i)
        {
            return Err(refuse(
                *i,
                "unknown_customer",
                format!("customer {id} is not this store's"),
            ));
        }
        let sale_ids: Vec<&str> = sale_refs
            .keys()
            .filter(|id| !pushed_sales.contains_key(*id))
            .map(String::as_str)
            .collect();
        // (customer, on account, voided) of each named sale already on the server.
        let mut stored_sales: HashMap<String, (Option<String>, i64, bool)> = HashMap::new();
        for chunk in sale_ids.chunks(500) {
            let rows: Vec<(String, Option<String>, i64, Option<i64>)> = sales::table
                .filter(sales::store_id.eq(&device.store_id))
                .filter(sales::id.eq_any(chunk))
                .select((
                    sales::id,
                    sales::customer_id,
                    sales::on_account_cents,
                    sales::voided_at,
                ))
                .load(c)?;
            stored_sales.extend(
                rows.into_iter()
                    .map(|(id, cu, acc, voided)| (id, (cu, acc, voided.is_some()))),
            );
        }
        if let Some((id, i)) = sale_ids
            .iter()
            .filter(|id| !stored_sales.contains_key(**id))
            .map(|id| (id, sale_refs[*id]))
            .min_by_key(|(_, i)| *i)
        {
            return Err(refuse(
                i,
                "unknown_sale",
                format!("sale {id} is not this store's"),
            ));
        }
        // A void credits back exactly what its sale took, once.
        let mut voided_here: HashSet<String> = HashSet::new();
        for (i, fx) in &fresh {
            let Some(v) = fx.voided_sale else { continue };
            let v = v.to_string();
            let (lines, customer, on_account, voided): (
                Vec<(String, i64)>,
                Option<String>,
                i64,
                bool,
            ) = match pushed_sales.get(&v) {
                Some(sale) => (
                    sale.lines
                        .iter()
                        .map(|(p, q, _, _)| (p.to_string(), *q))
                        .collect(),
                    sale.customer_id.map(|c| c.to_string()),
                    sale.on_account_cents,
                    false,
                ),
                None => {
                    let (customer, on_account, voided) = stored_sales[&v].clone();
                    let lines = sale_lines::table
                        .filter(sale_lines::sale_id.eq(&v))
                        .select((sale_lines::product_id, sale_lines::quantity))
                        .load(c)?;
                    (lines, customer, on_account, voided)
                }
            };
            if voided || !voided_here.insert(v.clone()) {
                return Err(refuse(
                    *i,
                    "already_voided",
                    format!("sale {v} is already voided"),
                ));
            }
            let mut expected: BTreeMap<String, i64> = BTreeMap::new();
            for (p, q) in lines {
                *expected.entry(p).or_default() += q;
            }
            let mut put_back: BTreeMap<String, i64> = BTreeMap::new();
            for d in &fx.stock {
                *put_back.entry(d.subject.to_string()).or_default() += d.amount;
            }
            let mut credited: BTreeMap<String, i64> = BTreeMap::new();
            for d in &fx.balance {
                *credited.entry(d.subject.to_string()).or_default() += d.amount;
            }
            let owed: BTreeMap<String, i64> = customer
                .filter(|_| on_account > 0)
                .map(|cu| (cu, on_account))
                .into_iter()
                .collect();
            if put_back != expected || credited != owed {
                return Err(refuse(
                    *i,
                    "void_mismatch",
                    format!("the void of sale {v} does not give back exactly what the sale took"),
                ));
            }
        }
        let new_customers: Vec<&tenda_domain::Customer> = fresh
            .iter()
            .filter_map(|(_, fx)| fx.new_customer.as_ref())
            .filter(|cu| !customer_store.contains_key(&cu.id.to_string()))
            .collect();

        // Sales not yet on the server (a sale re-sent under a new number is recognized by its
        // id), each taken once, in push order.
        let mut new_sale_ids: HashSet<&str> = HashSet::new();
        let new_sale_at: Vec<bool> = fresh
            .iter()
            .map(|(i, _)| {
                sale_id_text[*i]
                    .as_deref()
                    .is_some_and(|id| !known.contains_key(id) && new_sale_ids.insert(id))
            })
            .collect();
        let new_sales_count = new_sale_ids.len() as i64;

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
        for cu in &new_customers {
            diesel::insert_into(customers::table)
                .values((
                    customers::id.eq(cu.id.to_string()),
                    customers::store_id.eq(&device.store_id),
                    customers::name.eq(cu.name.trim()),
                    customers::tax_id.eq(cu.tax_id.as_ref().map(|t| t.as_str().to_owned())),
                    customers::phone.eq(cu.phone.as_deref()),
                    customers::overdraft_limit_cents.eq(cu.overdraft_limit.centavos()),
                    customers::active.eq(cu.active),
                    customers::version.eq(version),
                    customers::updated_at.eq(now),
                ))
                .on_conflict_do_nothing()
                .execute(c)?;
        }

        let store_id = device.store_id.as_str();
        let branch_id = device.branch_id.as_str();
        let device_id = device.id.as_str();
        let mut new_sales = Vec::with_capacity(new_sale_ids.len());
        let mut new_lines = Vec::new();
        let mut new_stock = Vec::new();
        let mut new_balance = Vec::new();
        let mut applied_rows = Vec::with_capacity(fresh.len());
        let mut fiscal_updates = Vec::new();
        let mut cash_rows = Vec::new();
        let mut audit_rows = Vec::new();
        let mut voids = Vec::new();
        let mut relayed = crate::hub::queue::RelayRows::default();
        // The request index of each ledger delta, to name the mutation that overflows a ledger.
        let mut stock_at: Vec<usize> = Vec::new();
        let mut balance_at: Vec<usize> = Vec::new();
        for ((i, fx), is_new_sale) in fresh.iter().zip(&new_sale_at) {
            let m = &req.mutations[*i];
            let seq = i64::try_from(m.seq).map_err(|_| Error::invalid("seq", "too large"))?;
            if relay {
                relayed.queue(device_id, seq, &m.kind, m.payload.get(), now);
            }
            applied_rows.push(NewApplied {
                device_id: device_id.to_owned(),
                seq,
                kind: m.kind.clone(),
                applied_at: now,
            });
            if let (Some(s), Some(sid)) = (&fx.sale, &sale_id_text[*i]) {
                if !is_new_sale {
                    // Already on the server: the sale and its deltas stand once.
                    continue;
                }
                known.insert(sid, folio);
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
                    id: sid.clone(),
                    store_id: store_id.to_owned(),
                    branch_id: branch_id.to_owned(),
                    device_id: device_id.to_owned(),
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
                if relay {
                    relayed.pending(device_id, seq, "stock", &d.subject, d.amount);
                }
                stock_at.push(*i);
                new_stock.push(NewStockDelta {
                    id: new_id(),
                    store_id: store_id.to_owned(),
                    branch_id: branch_id.to_owned(),
                    product_id: d.subject.to_string(),
                    delta: d.amount,
                    sale_id: d.sale_id.map(|s| s.to_string()),
                    reason: d.reason,
                    version,
                    created_at: now,
                });
            }
            for d in &fx.balance {
                if relay {
                    relayed.pending(device_id, seq, "balance", &d.subject, d.amount);
                }
                balance_at.push(*i);
                new_balance.push(NewBalanceDelta {
                    id: new_id(),
                    store_id: store_id.to_owned(),
                    branch_id: branch_id.to_owned(),
                    customer_id: d.subject.to_string(),
                    delta_cents: d.amount,
                    sale_id: d.sale_id.map(|s| s.to_string()),
                    reason: d.reason,
                    version,
                    created_at: now,
                });
            }
            if let Some(f) = &fx.fiscal_status {
                fiscal_updates.push(f);
            }
            if let Some(v) = fx.voided_sale {
                voids.push(v.to_string());
            }
            if let Some((id, kind, amount)) = &fx.cash {
                cash_rows.push((id.to_string(), kind, *amount, m.payload.get()));
            }
            if fx.record {
                audit_rows.push((seq, &m.kind, m.payload.get()));
            }
        }

        c.insert_rows(&new_sales)?;
        c.insert_rows(&new_lines)?;
        c.insert_rows(&new_stock)?;
        c.insert_rows(&new_balance)?;
        c.insert_rows(&applied_rows)?;
        let (queued, pending) = relayed.into_rows();
        c.insert_rows(&queued)?;
        c.insert_rows(&pending)?;
        for (sale_id, status, access_key) in fiscal_updates {
            let n = diesel::update(
                sales::table
                    .filter(sales::id.eq(sale_id.to_string()))
                    .filter(sales::store_id.eq(store_id)),
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
                    .filter(sales::store_id.eq(store_id)),
            )
            .set(sales::voided_at.eq(Some(now)))
            .execute(c)?;
        }
        for (id, kind, amount, payload) in cash_rows {
            diesel::insert_into(cash_movements::table)
                .values((
                    cash_movements::id.eq(id),
                    cash_movements::store_id.eq(store_id),
                    cash_movements::branch_id.eq(branch_id),
                    cash_movements::device_id.eq(device_id),
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
                    device_records::device_id.eq(device_id),
                    device_records::device_seq.eq(seq),
                    device_records::store_id.eq(store_id),
                    device_records::kind.eq(kind),
                    device_records::payload.eq(payload),
                    device_records::received_at.eq(now),
                ))
                .execute(c)?;
        }

        // Ledgers: levels are the running sums of the deltas, kept in the same transaction. Each
        // product's (customer's) deltas are summed first, so a level takes one row of one
        // multi-row upsert, which hands back the level after it.
        let mut flag_rows = Vec::new();
        // Every delta is bounded (the domain rules), so these sums cannot overflow; the levels
        // are checked against the ledger bound below, before the transaction commits.
        let mut stock_by_product: BTreeMap<&str, i64> = BTreeMap::new();
        for d in &new_stock {
            *stock_by_product.entry(d.product_id.as_str()).or_default() += d.delta;
        }
        let level_rows: Vec<LevelDelta> = stock_by_product
            .iter()
            .map(|(product_id, delta)| LevelDelta {
                branch_id,
                product_id,
                store_id,
                quantity: *delta,
                version,
            })
            .collect();
        let mut levels_after: HashMap<String, i64> = HashMap::with_capacity(level_rows.len());
        for chunk in level_rows.chunks(rows_per_insert(5)) {
            let rows: Vec<(String, i64)> = diesel::insert_into(stock_levels::table)
                .values(chunk)
                .on_conflict((stock_levels::branch_id, stock_levels::product_id))
                .do_update()
                .set((
                    stock_levels::quantity
                        .eq(stock_levels::quantity + excluded(stock_levels::quantity)),
                    stock_levels::version.eq(excluded(stock_levels::version)),
                ))
                .returning((stock_levels::product_id, stock_levels::quantity))
                .get_results(c)?;
            levels_after.extend(rows);
        }
        // Walk this push's deltas in order from the level before it, to name the sales that
        // took the stock below zero while the devices were offline.
        let mut running: HashMap<&str, i64> = stock_by_product
            .iter()
            .map(|(p, d)| {
                (
                    *p,
                    levels_after
                        .get(*p)
                        .copied()
                        .unwrap_or(0)
                        .saturating_sub(*d),
                )
            })
            .collect();
        for (d, i) in new_stock.iter().zip(&stock_at) {
            let level = running.entry(d.product_id.as_str()).or_default();
            *level = check_ledger("", *level, d.delta).map_err(|e| Error::Rule {
                field: format!("mutations[{i}].payload"),
                rule: e.code.to_owned(),
                reason: format!("stock of product {}: {}", d.product_id, e.reason),
                seq: Some(req.mutations[*i].seq),
            })?;
            if *level < 0
                && d.delta < 0
                && let Some(sale) = &d.sale_id
            {
                flag_rows.push(NewFlag {
                    id: new_id(),
                    store_id: store_id.to_owned(),
                    branch_id: branch_id.to_owned(),
                    kind: "oversold",
                    subject_id: d.product_id.clone(),
                    sale_id: sale.clone(),
                    amount_after: *level,
                    created_at: now,
                });
            }
        }

        let mut balance_by_customer: BTreeMap<&str, i64> = BTreeMap::new();
        for d in &new_balance {
            *balance_by_customer
                .entry(d.customer_id.as_str())
                .or_default() += d.delta_cents;
        }
        if !balance_by_customer.is_empty() {
            let balance_rows: Vec<BalanceDelta> = balance_by_customer
                .iter()
                .map(|(customer_id, delta)| BalanceDelta {
                    customer_id,
                    store_id,
                    balance_cents: *delta,
                    version,
                })
                .collect();
            let mut after: HashMap<String, i64> = HashMap::with_capacity(balance_rows.len());
            let mut limits: HashMap<String, i64> = HashMap::with_capacity(balance_rows.len());
            for chunk in balance_rows.chunks(rows_per_insert(4)) {
                let rows: Vec<(String, i64)> = diesel::insert_into(customer_balances::table)
                    .values(chunk)
                    .on_conflict(customer_balances::customer_id)
                    .do_update()
                    .set((
                        customer_balances::balance_cents.eq(customer_balances::balance_cents
                            + excluded(customer_balances::balance_cents)),
                        customer_balances::version.eq(excluded(customer_balances::version)),
                    ))
                    .returning((
                        customer_balances::customer_id,
                        customer_balances::balance_cents,
                    ))
                    .get_results(c)?;
                after.extend(rows);
            }
            let ids: Vec<&str> = balance_by_customer.keys().copied().collect();
            for chunk in ids.chunks(1_000) {
                let rows: Vec<(String, i64)> = customers::table
                    .filter(customers::id.eq_any(chunk))
                    .select((customers::id, customers::overdraft_limit_cents))
                    .load(c)?;
                limits.extend(rows);
            }
            // Balances are negative while the customer owes; the limit says how far below zero.
            let mut running: HashMap<&str, i64> = balance_by_customer
                .iter()
                .map(|(k, d)| (*k, after.get(*k).copied().unwrap_or(0).saturating_sub(*d)))
                .collect();
            for (d, i) in new_balance.iter().zip(&balance_at) {
                let balance = running.entry(d.customer_id.as_str()).or_default();
                *balance = check_ledger("", *balance, d.delta_cents).map_err(|e| Error::Rule {
                    field: format!("mutations[{i}].payload"),
                    rule: e.code.to_owned(),
                    reason: format!("balance of customer {}: {}", d.customer_id, e.reason),
                    seq: Some(req.mutations[*i].seq),
                })?;
                // Unknown customers have no credit at all.
                let limit = limits.get(&d.customer_id).copied().unwrap_or(0);
                if *balance < -limit
                    && d.delta_cents < 0
                    && let Some(sale) = &d.sale_id
                {
                    flag_rows.push(NewFlag {
                        id: new_id(),
                        store_id: store_id.to_owned(),
                        branch_id: branch_id.to_owned(),
                        kind: "overdraft",
                        subject_id: d.customer_id.clone(),
                        sale_id: sale.clone(),
                        amount_after: *balance,
                        created_at: now,
                    });
                }
            }
        }
        c.insert_rows(&flag_rows)?;

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

fn folios_of(ids: &[&str], known: &HashMap<&str, i64>) -> Vec<SaleFolio> {
    let mut seen = HashSet::new();
    ids.iter()
        .filter(|id| seen.insert(**id))
        .filter_map(|id| {
            let folio = known.get(id)?;
            Some(SaleFolio {
                sale_id: id.parse().ok()?,
                folio: u64::try_from(*folio).ok()?,
            })
        })
        .collect()
}
