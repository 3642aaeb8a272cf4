//! Customers repository and account balances.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use tenda_domain::{
    Actor, AuditEvent, BalanceDelta, BalanceReason, Customer, CustomerId, Money, Mutation, Outcome,
    SaleId, TaxId,
};

use crate::audit::append_audit;
use crate::cached::AddBalance;
use crate::error::{Error, Result, corrupt};
use crate::outbox::{append_outbox, pushed_through};
use crate::schema::{balance_deltas, customers};
use crate::store::{Store, ts};

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = customers, treat_none_as_null = true)]
pub(crate) struct CustomerRow {
    pub id: Vec<u8>,
    pub name: String,
    pub tax_id: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub server_balance: i64,
    pub balance: i64,
    pub overdraft_limit: i64,
    pub active: bool,
    pub version: i64,
}

impl CustomerRow {
    pub(crate) fn decode(self) -> Result<Customer> {
        Ok(Customer {
            id: CustomerId::from_slice(&self.id).map_err(|e| corrupt("customer id", e))?,
            name: self.name,
            tax_id: self
                .tax_id
                .map(|t| TaxId::parse(&t))
                .transpose()
                .map_err(|e| corrupt("customer tax id", e))?,
            phone: self.phone,
            email: self.email,
            balance: Money::from_centavos(self.balance),
            overdraft_limit: Money::from_centavos(self.overdraft_limit),
            active: self.active,
            version: self.version,
        })
    }
}

fn pending_balance_delta(conn: &mut SqliteConnection, customer: &[u8]) -> Result<i64> {
    let through = i64::try_from(pushed_through(conn)?).unwrap_or(i64::MAX);
    let sum: Option<i64> = balance_deltas::table
        .filter(balance_deltas::customer_id.eq(customer))
        .filter(balance_deltas::outbox_seq.gt(through))
        .select(diesel::dsl::sql::<
            diesel::sql_types::Nullable<diesel::sql_types::BigInt>,
        >("sum(delta)"))
        .first(conn)?;
    Ok(sum.unwrap_or(0))
}

/// Inserts or updates a customer as the server (or the back office) knows it: `customer.balance`
/// is the server's balance; the local balance adds the deltas not yet pushed. With
/// `only_newer`, a stored customer with a higher version wins.
pub(crate) fn upsert_customer(
    conn: &mut SqliteConnection,
    c: &Customer,
    only_newer: bool,
) -> Result<bool> {
    c.validate()?;
    let id = c.id.as_bytes().to_vec();
    let stored: Option<i64> = customers::table
        .filter(customers::id.eq(&id))
        .select(customers::version)
        .first(conn)
        .optional()?;
    if only_newer && stored.is_some_and(|v| v > c.version) {
        return Ok(false);
    }
    let local = match stored {
        // A new customer has no local deltas yet.
        None => c.balance.centavos(),
        Some(_) => c.balance.centavos() + pending_balance_delta(conn, &id)?,
    };
    let row = CustomerRow {
        id,
        name: c.name.trim().to_owned(),
        tax_id: c.tax_id.as_ref().map(|t| t.as_str().to_owned()),
        phone: c.phone.clone(),
        email: c.email.clone(),
        server_balance: c.balance.centavos(),
        balance: local,
        overdraft_limit: c.overdraft_limit.centavos(),
        active: c.active,
        version: c.version,
    };
    // Plain INSERT or UPDATE (not REPLACE, which would delete a row that sales reference, and
    // not an upsert, which diesel re-prepares on every call).
    match stored {
        None => diesel::insert_into(customers::table)
            .values(&row)
            .execute(conn)?,
        Some(_) => diesel::update(customers::table.filter(customers::id.eq(&row.id)))
            .set(&row)
            .execute(conn)?,
    };
    Ok(true)
}

pub(crate) fn load_customer(
    conn: &mut SqliteConnection,
    id: CustomerId,
) -> Result<Option<Customer>> {
    let row: Option<CustomerRow> = customers::table
        .filter(customers::id.eq(id.as_bytes().to_vec()))
        .select(CustomerRow::as_select())
        .get_result(conn)
        .optional()?;
    row.map(CustomerRow::decode).transpose()
}

/// Records a balance delta (row and balance) inside the caller's transaction.
pub(crate) fn apply_balance_delta(
    conn: &mut SqliteConnection,
    d: &BalanceDelta,
    outbox_seq: u64,
    at: DateTime<Utc>,
) -> Result<()> {
    let cid = d.customer_id.as_bytes().to_vec();
    let sale_id: Option<SaleId> = match &d.reason {
        BalanceReason::Sale { sale_id } | BalanceReason::SaleVoided { sale_id } => Some(*sale_id),
        _ => None,
    };
    diesel::insert_into(balance_deltas::table)
        .values((
            balance_deltas::customer_id.eq(&cid),
            balance_deltas::delta.eq(d.delta.centavos()),
            balance_deltas::reason
                .eq(serde_json::to_string(&d.reason).map_err(|e| corrupt("balance reason", e))?),
            balance_deltas::sale_id.eq(sale_id.map(|s| s.as_bytes().to_vec())),
            balance_deltas::outbox_seq.eq(i64::try_from(outbox_seq).unwrap_or(i64::MAX)),
            balance_deltas::at.eq(ts(at)),
        ))
        .execute(conn)?;
    let n = AddBalance {
        delta: d.delta.centavos(),
        customer_id: cid,
    }
    .execute(conn)?;
    if n == 0 {
        return Err(Error::NotFound("customer"));
    }
    Ok(())
}

impl Store {
    /// Adds or replaces a customer. `customer.balance` is taken as the server's balance.
    pub fn save_customer(&mut self, customer: &Customer) -> Result<()> {
        self.write(|c| upsert_customer(c, customer, false).map(|_| ()))
    }

    pub fn customer(&mut self, id: CustomerId) -> Result<Option<Customer>> {
        load_customer(&mut self.conn, id)
    }

    pub fn customer_by_tax_id(&mut self, tax_id: &TaxId) -> Result<Option<Customer>> {
        let row: Option<CustomerRow> = customers::table
            .filter(customers::tax_id.eq(tax_id.as_str()))
            .select(CustomerRow::as_select())
            .first(&mut self.conn)
            .optional()?;
        row.map(CustomerRow::decode).transpose()
    }

    /// Customers whose name contains `text` (case-insensitive for ASCII), by name.
    pub fn search_customers(&mut self, text: &str, limit: u32) -> Result<Vec<Customer>> {
        let pattern = format!("%{}%", text.trim().replace(['%', '_'], ""));
        let rows: Vec<CustomerRow> = customers::table
            .filter(customers::name.like(pattern))
            .order(customers::name)
            .limit(i64::from(limit))
            .select(CustomerRow::as_select())
            .load(&mut self.conn)?;
        rows.into_iter().map(CustomerRow::decode).collect()
    }

    pub fn customer_count(&mut self) -> Result<u64> {
        let n: i64 = customers::table.count().get_result(&mut self.conn)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Registers a new customer at the till, with its `CustomerRegistered` mutation and audit
    /// entry in one transaction. A customer starts with a zero balance. Returns the outbox number.
    pub fn register_customer(
        &mut self,
        customer: &Customer,
        actor: Actor,
        at: DateTime<Utc>,
    ) -> Result<u64> {
        if !customer.balance.is_zero() {
            return Err(Error::InvalidInput {
                field: "balance",
                reason: "a new customer starts at zero".into(),
            });
        }
        self.write(|c| {
            if load_customer(c, customer.id)?.is_some() {
                return Err(Error::Duplicate { field: "id" });
            }
            upsert_customer(c, customer, false)?;
            let seq = append_outbox(
                c,
                &Mutation::CustomerRegistered {
                    customer: customer.clone(),
                    actor,
                    at,
                },
            )?;
            append_audit(
                c,
                &AuditEvent {
                    actor,
                    action: "customer.register".into(),
                    subject: format!("customer:{}", customer.id),
                    outcome: Outcome::Succeeded,
                    at,
                },
            )?;
            Ok(seq)
        })
    }

    /// The customer pays (part of) the account: the balance rises by `amount`, with its outbox
    /// mutation and audit entry in one transaction. Returns the outbox number.
    pub fn receive_customer_payment(
        &mut self,
        customer: CustomerId,
        amount: Money,
        actor: Actor,
        at: DateTime<Utc>,
    ) -> Result<u64> {
        if amount.centavos() <= 0 {
            return Err(Error::InvalidInput {
                field: "amount",
                reason: "must be greater than zero".into(),
            });
        }
        self.write(|c| {
            let delta = BalanceDelta {
                customer_id: customer,
                delta: amount,
                reason: BalanceReason::PaymentReceived,
            };
            let seq = append_outbox(
                c,
                &Mutation::CustomerBalanceAdjusted {
                    customer_id: customer,
                    delta: amount,
                    reason: BalanceReason::PaymentReceived,
                    actor,
                    at,
                },
            )?;
            apply_balance_delta(c, &delta, seq, at)?;
            append_audit(
                c,
                &AuditEvent {
                    actor,
                    action: "customer.payment".into(),
                    subject: format!("customer:{customer}"),
                    outcome: Outcome::Succeeded,
                    at,
                },
            )?;
            Ok(seq)
        })
    }
}
