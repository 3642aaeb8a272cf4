//! Pull: pages of server-authoritative changes for one device's store and branch.
//!
//! Every change carries the store's change version. A round delivers the rows whose version lies
//! in `(since, upto]`, where `upto` is fixed when the round starts, kind by kind (settings, users,
//! products, customers, stock levels, balances), each kind in key order. The cursor names the
//! round, the kind and the last key delivered, so a lost reply is simply asked for again.

use diesel::prelude::*;
use std::collections::HashMap;
use tenda_sync::protocol::{
    Change, CustomerRecord, MAX_PULL_PAGE, PROTOCOL_VERSION, ProductRecord, PullPage, PullRequest,
    PullScope, PullTotals, SettingRecord, StockLevelRecord, UserRecord,
};

use crate::auth::AuthedDevice;
use crate::db::Conn;
use crate::error::Error;
use crate::schema::{
    branch_prices, customer_balances, customers, hub_sale_folios, products, settings, stock_levels,
    stores, users,
};
use crate::with_conn;

const DEFAULT_PAGE: u32 = 2_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Settings,
    Users,
    Products,
    Customers,
    StockLevels,
    Balances,
    /// The cloud's folios of this device's sales, learned by a store hub (empty elsewhere).
    Folios,
}

const FULL: &[Kind] = &[
    Kind::Settings,
    Kind::Users,
    Kind::Products,
    Kind::Customers,
    Kind::StockLevels,
    Kind::Balances,
    Kind::Folios,
];
const BALANCES: &[Kind] = &[Kind::Balances];

#[derive(Debug, Clone, PartialEq, Eq)]
struct Cursor {
    balances_only: bool,
    since: i64,
    upto: i64,
    /// Index into the round's kinds; `kinds.len()` when the round is complete.
    phase: usize,
    after: String,
}

impl Cursor {
    fn encode(&self) -> String {
        format!(
            "v1.{}.{}.{}.{}.{}",
            if self.balances_only { "b" } else { "f" },
            self.since,
            self.upto,
            self.phase,
            self.after
        )
    }

    fn decode(s: &str) -> Result<Self, Error> {
        let bad = || Error::invalid("cursor", "not a cursor this server issued");
        let mut parts = s.splitn(6, '.');
        if parts.next() != Some("v1") {
            return Err(bad());
        }
        let balances_only = match parts.next() {
            Some("b") => true,
            Some("f") => false,
            _ => return Err(bad()),
        };
        let mut num =
            || -> Result<i64, Error> { parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad) };
        let since = num()?;
        let upto = num()?;
        let phase = usize::try_from(num()?).map_err(|_| bad())?;
        let after = parts.next().ok_or_else(bad)?.to_owned();
        // Keys are UUIDs or setting keys: a long `after` is not a cursor this server issued.
        if since < 0 || upto < since || after.len() > 200 {
            return Err(bad());
        }
        Ok(Cursor {
            balances_only,
            since,
            upto,
            phase,
            after,
        })
    }
}

fn u(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn uuid(s: &str) -> Result<uuid::Uuid, Error> {
    s.parse()
        .map_err(|_| Error::Internal("malformed id in the database".into()))
}

/// Checks what a pull request can be checked for without the database: its protocol and its
/// cursor.
pub fn check_request(req: &PullRequest) -> Result<(), Error> {
    if req.protocol > PROTOCOL_VERSION {
        return Err(Error::UnsupportedProtocol(format!(
            "protocol version {} is not supported; this server speaks 1..={PROTOCOL_VERSION}",
            req.protocol
        )));
    }
    if let Some(c) = &req.cursor {
        Cursor::decode(c)?;
    }
    Ok(())
}

pub fn pull(conn: &mut Conn, device: &AuthedDevice, req: &PullRequest) -> Result<PullPage, Error> {
    if req.protocol > PROTOCOL_VERSION {
        return Err(Error::UnsupportedProtocol(format!(
            "protocol version {} is not supported; this server speaks 1..={PROTOCOL_VERSION}",
            req.protocol
        )));
    }
    let balances_only = req.only == Some(PullScope::Balances);
    let limit = i64::from(
        req.page_size
            .unwrap_or(DEFAULT_PAGE)
            .clamp(1, MAX_PULL_PAGE),
    );
    let kinds = if balances_only { BALANCES } else { FULL };
    let current: i64 = with_conn!(&mut *conn, |c| stores::table
        .find(&device.store_id)
        .select(stores::change_seq)
        .first(c))?;

    let mut cursor = match &req.cursor {
        None => Cursor {
            balances_only,
            since: 0,
            upto: current,
            phase: 0,
            after: String::new(),
        },
        Some(s) => {
            let cur = Cursor::decode(s)?;
            if cur.balances_only != balances_only {
                return Err(Error::invalid(
                    "cursor",
                    "this cursor belongs to the other pull scope",
                ));
            }
            if cur.upto > current || cur.phase > kinds.len() {
                return Err(Error::invalid("cursor", "not a cursor this server issued"));
            }
            if cur.phase == kinds.len() {
                // The last round is complete: start the next one from where it ended.
                Cursor {
                    balances_only,
                    since: cur.upto,
                    upto: current,
                    phase: 0,
                    after: String::new(),
                }
            } else {
                cur
            }
        }
    };
    let starting = cursor.phase == 0 && cursor.after.is_empty();
    let totals = if starting && cursor.upto > cursor.since {
        Some(count(conn, device, &cursor, kinds)?)
    } else if starting {
        Some(PullTotals::default())
    } else {
        None
    };

    let mut changes = Vec::new();
    while cursor.phase < kinds.len() && (changes.len() as i64) < limit {
        let want = limit - changes.len() as i64;
        let (mut got, last_key) = fetch(conn, device, kinds[cursor.phase], &cursor, want)?;
        let exhausted = (got.len() as i64) < want;
        changes.append(&mut got);
        if exhausted {
            cursor.phase += 1;
            cursor.after.clear();
        } else if let Some(k) = last_key {
            cursor.after = k;
        }
    }
    let more = cursor.phase < kinds.len();
    Ok(PullPage {
        protocol: PROTOCOL_VERSION,
        changes,
        cursor: cursor.encode(),
        more,
        totals,
    })
}

fn count(
    conn: &mut Conn,
    device: &AuthedDevice,
    cur: &Cursor,
    kinds: &[Kind],
) -> Result<PullTotals, Error> {
    let (s, t) = (cur.since, cur.upto);
    let store = device.store_id.as_str();
    let branch = device.branch_id.as_str();
    let mut totals = PullTotals::default();
    for kind in kinds {
        // Rows of `table` in the device's scope whose version lies in the cursor's window.
        macro_rules! changed {
            ($c:ident, $table:ident, $scope:ident, $value:expr) => {
                $table::table
                    .filter(
                        $table::$scope
                            .eq($value)
                            .and($table::version.gt(s))
                            .and($table::version.le(t)),
                    )
                    .count()
                    .get_result($c)
            };
        }
        let n: i64 = with_conn!(&mut *conn, |c| match kind {
            Kind::Settings => changed!(c, settings, store_id, store),
            Kind::Users => changed!(c, users, store_id, store),
            Kind::Products => changed!(c, products, store_id, store),
            Kind::Customers => changed!(c, customers, store_id, store),
            Kind::StockLevels => changed!(c, stock_levels, branch_id, branch),
            Kind::Balances => changed!(c, customer_balances, store_id, store),
            Kind::Folios => changed!(c, hub_sale_folios, device_id, device.id.as_str()),
        })?;
        let n = u(n);
        match kind {
            Kind::Settings => totals.settings = n,
            Kind::Users => totals.users = n,
            Kind::Products => totals.products = n,
            Kind::Customers => totals.customers = n,
            Kind::StockLevels => totals.stock_levels = n,
            Kind::Balances => totals.balances = n,
            Kind::Folios => totals.folios = n,
        }
    }
    Ok(totals)
}

type ProductRow = (
    String,
    String,
    Option<String>,
    String,
    String,
    i64,
    String,
    bool,
    i64,
);
type CustomerRow = (
    String,
    String,
    Option<String>,
    Option<String>,
    i64,
    bool,
    i64,
);

/// One kind's next rows after the cursor's key; returns them and the last key.
fn fetch(
    conn: &mut Conn,
    device: &AuthedDevice,
    kind: Kind,
    cur: &Cursor,
    limit: i64,
) -> Result<(Vec<Change>, Option<String>), Error> {
    let (s, t, after) = (cur.since, cur.upto, cur.after.as_str());
    let store = device.store_id.as_str();
    let branch = device.branch_id.as_str();
    let out = match kind {
        Kind::Folios => {
            let rows: Vec<(String, i64)> = with_conn!(&mut *conn, |c| hub_sale_folios::table
                .filter(
                    hub_sale_folios::device_id
                        .eq(device.id.as_str())
                        .and(hub_sale_folios::version.gt(s))
                        .and(hub_sale_folios::version.le(t))
                )
                .filter(hub_sale_folios::sale_id.gt(after))
                .order(hub_sale_folios::sale_id.asc())
                .limit(limit)
                .select((hub_sale_folios::sale_id, hub_sale_folios::folio))
                .load(c))?;
            let last = rows.last().map(|r| r.0.clone());
            let changes = rows
                .into_iter()
                .map(|(id, folio)| {
                    Ok(Change::SaleFolio(tenda_sync::protocol::SaleFolio {
                        sale_id: uuid(&id)?,
                        folio: u(folio),
                    }))
                })
                .collect::<Result<_, Error>>()?;
            (changes, last)
        }
        Kind::Settings => {
            let rows: Vec<(String, String, i64)> = with_conn!(&mut *conn, |c| settings::table
                .filter(
                    settings::store_id
                        .eq(store)
                        .and(settings::version.gt(s))
                        .and(settings::version.le(t))
                )
                .filter(settings::key.gt(after))
                .order(settings::key.asc())
                .limit(limit)
                .select((settings::key, settings::value, settings::version))
                .load(c))?;
            let last = rows.last().map(|r| r.0.clone());
            let changes = rows
                .into_iter()
                .map(|(key, value, version)| {
                    Change::Setting(SettingRecord {
                        key,
                        value,
                        version: u(version),
                    })
                })
                .collect();
            (changes, last)
        }
        Kind::Users => {
            let rows: Vec<(String, String, String, String, String, bool, i64)> =
                with_conn!(&mut *conn, |c| users::table
                    .filter(
                        users::store_id
                            .eq(store)
                            .and(users::version.gt(s))
                            .and(users::version.le(t))
                    )
                    .filter(users::id.gt(after))
                    .order(users::id.asc())
                    .limit(limit)
                    .select((
                        users::id,
                        users::name,
                        users::login,
                        users::role,
                        users::credential_hash,
                        users::active,
                        users::version
                    ))
                    .load(c))?;
            let last = rows.last().map(|r| r.0.clone());
            let changes = rows
                .into_iter()
                .map(
                    |(id, name, login, role, credential_hash, active, version)| {
                        Ok(Change::User(UserRecord {
                            id: uuid(&id)?,
                            name,
                            login,
                            role,
                            credential_hash,
                            active,
                            version: u(version),
                        }))
                    },
                )
                .collect::<Result<_, Error>>()?;
            (changes, last)
        }
        Kind::Products => {
            let rows: Vec<ProductRow> = with_conn!(&mut *conn, |c| products::table
                .filter(
                    products::store_id
                        .eq(store)
                        .and(products::version.gt(s))
                        .and(products::version.le(t))
                )
                .filter(products::id.gt(after))
                .order(products::id.asc())
                .limit(limit)
                .select((
                    products::id,
                    products::sku,
                    products::gtin,
                    products::name,
                    products::unit,
                    products::price_cents,
                    products::fiscal,
                    products::active,
                    products::version,
                ))
                .load(c))?;
            let last = rows.last().map(|r| r.0.clone());
            let ids: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
            let mut overrides: HashMap<String, i64> = HashMap::new();
            for chunk in ids.chunks(1_000) {
                let found: Vec<(String, i64)> = with_conn!(&mut *conn, |c| branch_prices::table
                    .filter(branch_prices::branch_id.eq(branch))
                    .filter(branch_prices::product_id.eq_any(chunk))
                    .select((branch_prices::product_id, branch_prices::price_cents))
                    .load(c))?;
                overrides.extend(found);
            }
            let changes = rows
                .into_iter()
                .map(
                    |(id, sku, gtin, name, unit, price, fiscal, active, version)| {
                        Ok(Change::Product(ProductRecord {
                            price_cents: overrides.get(&id).copied().unwrap_or(price),
                            id: uuid(&id)?,
                            sku,
                            gtin,
                            name,
                            unit,
                            fiscal: serde_json::from_str(&fiscal)
                                .unwrap_or(serde_json::Value::Null),
                            active,
                            version: u(version),
                        }))
                    },
                )
                .collect::<Result<_, Error>>()?;
            (changes, last)
        }
        Kind::Customers => {
            let rows: Vec<CustomerRow> = with_conn!(&mut *conn, |c| customers::table
                .filter(
                    customers::store_id
                        .eq(store)
                        .and(customers::version.gt(s))
                        .and(customers::version.le(t))
                )
                .filter(customers::id.gt(after))
                .order(customers::id.asc())
                .limit(limit)
                .select((
                    customers::id,
                    customers::name,
                    customers::tax_id,
                    customers::phone,
                    customers::overdraft_limit_cents,
                    customers::active,
                    customers::version,
                ))
                .load(c))?;
            let last = rows.last().map(|r| r.0.clone());
            let ids: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
            let mut balances: HashMap<String, (i64, i64)> = HashMap::new();
            for chunk in ids.chunks(1_000) {
                let found: Vec<(String, i64, i64)> =
                    with_conn!(&mut *conn, |c| customer_balances::table
                        .filter(customer_balances::customer_id.eq_any(chunk))
                        .select((
                            customer_balances::customer_id,
                            customer_balances::balance_cents,
                            customer_balances::version
                        ))
                        .load(c))?;
                balances.extend(found.into_iter().map(|(id, b, v)| (id, (b, v))));
            }
            let changes = rows
                .into_iter()
                .map(
                    |(id, name, tax_id, phone, overdraft_limit_cents, active, version)| {
                        let (balance_cents, balance_version) =
                            balances.get(&id).copied().unwrap_or((0, 0));
                        Ok(Change::Customer(CustomerRecord {
                            balance_cents,
                            id: uuid(&id)?,
                            name,
                            tax_id,
                            phone,
                            overdraft_limit_cents,
                            active,
                            // A balance change must win over the device's copy too.
                            version: u(version.max(balance_version)),
                        }))
                    },
                )
                .collect::<Result<_, Error>>()?;
            (changes, last)
        }
        Kind::StockLevels => {
            let rows: Vec<(String, i64, i64)> = with_conn!(&mut *conn, |c| stock_levels::table
                .filter(
                    stock_levels::branch_id
                        .eq(branch)
                        .and(stock_levels::version.gt(s))
                        .and(stock_levels::version.le(t))
                )
                .filter(stock_levels::product_id.gt(after))
                .order(stock_levels::product_id.asc())
                .limit(limit)
                .select((
                    stock_levels::product_id,
                    stock_levels::quantity,
                    stock_levels::version
                ))
                .load(c))?;
            let last = rows.last().map(|r| r.0.clone());
            let changes = rows
                .into_iter()
                .map(|(id, quantity, version)| {
                    Ok(Change::StockLevel(StockLevelRecord {
                        product_id: uuid(&id)?,
                        quantity,
                        version: u(version),
                    }))
                })
                .collect::<Result<_, Error>>()?;
            (changes, last)
        }
        Kind::Balances => {
            // The periodic balance refresh: whole customer records, so the device applies them
            // like any other customer change (versions are the newer of record and balance).
            let rows: Vec<(String, i64, i64, CustomerRow)> =
                with_conn!(&mut *conn, |c| customer_balances::table
                    .inner_join(
                        customers::table.on(customers::id.eq(customer_balances::customer_id))
                    )
                    .filter(
                        customer_balances::store_id
                            .eq(store)
                            .and(customer_balances::version.gt(s))
                            .and(customer_balances::version.le(t)),
                    )
                    .filter(customer_balances::customer_id.gt(after))
                    .order(customer_balances::customer_id.asc())
                    .limit(limit)
                    .select((
                        customer_balances::customer_id,
                        customer_balances::balance_cents,
                        customer_balances::version,
                        (
                            customers::id,
                            customers::name,
                            customers::tax_id,
                            customers::phone,
                            customers::overdraft_limit_cents,
                            customers::active,
                            customers::version,
                        ),
                    ))
                    .load(c))?;
            let last = rows.last().map(|r| r.0.clone());
            let changes = rows
                .into_iter()
                .map(
                    |(
                        _,
                        balance_cents,
                        balance_version,
                        (id, name, tax_id, phone, overdraft_limit_cents, active, version),
                    )| {
                        Ok(Change::Customer(CustomerRecord {
                            balance_cents,
                            id: uuid(&id)?,
                            name,
                            tax_id,
                            phone,
                            overdraft_limit_cents,
                            active,
                            version: u(version.max(balance_version)),
                        }))
                    },
                )
                .collect::<Result<_, Error>>()?;
            (changes, last)
        }
    };
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_with_dots_in_keys() {
        let c = Cursor {
            balances_only: false,
            since: 3,
            upto: 9,
            phase: 0,
            after: "nfce.series".into(),
        };
        assert_eq!(Cursor::decode(&c.encode()).expect("own cursor"), c);
        assert!(
            Cursor::decode("v1.f.9.3.0.").is_err(),
            "upto before since is not a cursor we issue"
        );
        assert!(Cursor::decode("garbage").is_err());
    }
}
