//! Recording a sale: one `BEGIN IMMEDIATE` transaction holds the sale (its lines and payments
//! packed in its row, with its audit entry), the balance deltas, the fiscal document and its
//! number, and the outbox mutations (the sale's carries the stock it moves). It commits durably
//! (WAL, `synchronous = FULL`) or not at all.

use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use tenda_domain::{
    Actor, AuditEvent, BalanceDelta, BalanceReason, CustomerId, DeviceId, FiscalDocumentRef, Money,
    Mutation, Outcome, Payment, RegisterSessionId, Sale, SaleId, SaleLine, StockDelta, StockReason,
    TaxId, UserId,
};

use crate::audit::{Link, append_audit, next_link, record_link, sale_event};
use crate::customers::{apply_balance_delta, load_customer};
use crate::error::{Error, Result, corrupt};
use crate::fiscal::{
    FiscalDocument, FiscalSeries, IssuedFiscalDocument, SignedFiscalDocument, Taken,
    document_by_key, document_key, insert_document, take_number, use_reserved_number,
};
use crate::outbox::{append_outbox, append_sale_recorded};
use crate::packed::{pack, unpack};
use crate::record::{LocalChange, RecordedChange, apply_local_change};
use crate::schema::{fiscal_documents, sales};
use crate::store::{Store, parse_ts, stored_instant};

/// A sale to record and who records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SaleCommit {
    pub sale: Sale,
    pub actor: Actor,
    pub register_session_id: Option<RegisterSessionId>,
}

/// What a committed sale got.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommittedSale {
    pub sale_id: SaleId,
    /// The device's running sale number (1, 2, 3…).
    pub local_number: u64,
    /// Outbox number of its `SaleRecorded` mutation.
    pub outbox_seq: u64,
    /// Audit entry of the sale.
    pub audit_seq: u64,
    pub fiscal: Option<FiscalDocumentRef>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SaleStatus {
    Completed,
    Voided,
}

/// A sale as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredSale {
    pub sale: Sale,
    pub local_number: u64,
    pub register_session_id: Option<RegisterSessionId>,
    pub status: SaleStatus,
    pub fiscal: Option<FiscalDocument>,
    /// The store-wide folio the server assigned on arrival; `None` until the sale is synced.
    pub folio: Option<u64>,
}

/// What a recorded sale adds to the state of its device: to its register session (its
/// payments) and to a contingency period (an offline note). Read back to bring a state saved
/// before the sale up to date, so that a sale's commit need not rewrite that state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SaleEffects {
    pub local_number: u64,
    pub device_id: DeviceId,
    pub register_session_id: Option<RegisterSessionId>,
    pub payments: Vec<Payment>,
    /// Its note was issued offline, in contingency (tpEmis 9).
    pub offline_note: bool,
}

enum Fiscal<'a, F> {
    None,
    Sign(FiscalSeries, F),
    Reserved(&'a IssuedFiscalDocument),
}

impl Store {
    /// Records a sale without a fiscal document.
    pub fn commit_sale(&mut self, commit: &SaleCommit) -> Result<CommittedSale> {
        self.commit(
            commit,
            Fiscal::<fn(u32) -> Result<SignedFiscalDocument, String>>::None,
            &LocalChange::default(),
        )
    }

    /// Records a sale with its fiscal document: the next number of `series` is taken inside the
    /// sale's transaction and handed to `sign`, which returns the signed document. If signing
    /// fails, nothing is recorded and the number is not spent.
    pub fn commit_sale_with_fiscal<F>(
        &mut self,
        commit: &SaleCommit,
        series: FiscalSeries,
        sign: F,
    ) -> Result<CommittedSale>
    where
        F: FnOnce(u32) -> Result<SignedFiscalDocument, String>,
    {
        self.commit(commit, Fiscal::Sign(series, sign), &LocalChange::default())
    }

    /// [`Store::commit_sale_with_fiscal`] plus `extra` (settings, mutations, audit entries such
    /// as a manager's approvals) in the same transaction.
    pub fn commit_sale_with_fiscal_and_change<F>(
        &mut self,
        commit: &SaleCommit,
        series: FiscalSeries,
        sign: F,
        extra: &LocalChange,
    ) -> Result<CommittedSale>
    where
        F: FnOnce(u32) -> Result<SignedFiscalDocument, String>,
    {
        self.commit(commit, Fiscal::Sign(series, sign), extra)
    }

    /// Records a sale with a document signed for a number reserved earlier with
    /// [`Store::reserve_fiscal_number`].
    pub fn commit_sale_with_reserved_number(
        &mut self,
        commit: &SaleCommit,
        issued: &IssuedFiscalDocument,
    ) -> Result<CommittedSale> {
        self.commit(
            commit,
            Fiscal::<fn(u32) -> Result<SignedFiscalDocument, String>>::Reserved(issued),
            &LocalChange::default(),
        )
    }

    fn commit<F>(
        &mut self,
        commit: &SaleCommit,
        fiscal: Fiscal<'_, F>,
        extra: &LocalChange,
    ) -> Result<CommittedSale>
    where
        F: FnOnce(u32) -> Result<SignedFiscalDocument, String>,
    {
        let sale = &commit.sale;
        sale.verify()?;
        let stock = sale.stock_deltas().map_err(|e| Error::InvalidInput {
            field: "quantity",
            reason: e.to_string(),
        })?;
        let balances = sale.balance_deltas().map_err(|e| Error::InvalidInput {
            field: "payments",
            reason: e.to_string(),
        })?;
        let at = stored_instant(sale.created_at);
        self.write(|c| {
            for d in &balances {
                let customer =
                    load_customer(c, d.customer_id)?.ok_or(Error::NotFound("customer"))?;
                customer
                    .charge(d.delta.checked_neg().map_err(|e| Error::InvalidInput {
                        field: "payments",
                        reason: e.to_string(),
                    })?)
                    .map_err(Error::Account)?;
            }
            // The document first: the sale's row holds its key.
            let signed;
            let document = match fiscal {
                Fiscal::None => None,
                Fiscal::Sign(series, sign) => {
                    let number = take_number(c, series, Taken::ByDocument, at)?;
                    signed = sign(number).map_err(Error::FiscalSigning)?;
                    Some((series, number, &signed))
                }
                Fiscal::Reserved(issued) => {
                    use_reserved_number(c, issued.series, issued.number)?;
                    Some((issued.series, issued.number, &issued.document))
                }
            };
            let local_number = last_sale_number(c)? + 1;
            let audit_event = sale_event(sale.id, commit.actor, at);
            let audit_link = next_link(c, &audit_event)?;
            insert_sale_rows(
                c,
                sale,
                local_number,
                commit.register_session_id,
                document.map(|(series, number, _)| document_key(series, number)),
                &audit_link,
            )?;
            let fiscal_ref = match document {
                None => None,
                Some((series, number, doc)) => {
                    insert_document(c, sale.id, series, number, doc, at)?;
                    Some(reference(series, number, doc))
                }
            };

            let outbox_seq = append_sale_recorded(
                c,
                u64::try_from(local_number).map_err(|_| corrupt("sale number", "negative"))?,
                commit.register_session_id,
                &fiscal_ref,
                &stock,
                &balances,
            )?;
            for d in &balances {
                apply_balance_delta(c, d, outbox_seq, at)?;
            }
            let audit = record_link(c, &audit_event, &audit_link)?;
            apply_local_change(c, extra)?;
            Ok(CommittedSale {
                sale_id: sale.id,
                local_number: u64::try_from(local_number)
                    .map_err(|_| corrupt("sale number", "negative"))?,
                outbox_seq,
                audit_seq: audit.seq,
                fiscal: fiscal_ref,
            })
        })
    }

    /// A stored sale with its lines, payments and fiscal document.
    pub fn sale(&mut self, id: SaleId) -> Result<Option<StoredSale>> {
        load_sale(&mut self.conn, id)
    }

    /// Records the store-wide folio the server assigned a sale. Setting the same folio again is a
    /// no-op (the server repeats it on retried pushes); a different one is refused, since the
    /// server never changes a sale's folio.
    pub fn set_sale_folio(&mut self, id: SaleId, folio: u64) -> Result<()> {
        let key = id.as_bytes().to_vec();
        let value = i64::try_from(folio).map_err(|_| Error::InvalidInput {
            field: "folio",
            reason: format!("{folio} is beyond the largest folio a store can have"),
        })?;
        self.write(|c| {
            let current: Option<Option<i64>> = sales::table
                .filter(sales::id.eq(&key))
                .select(sales::folio)
                .first(c)
                .optional()?;
            match current {
                None => Err(Error::NotFound("sale")),
                Some(Some(existing)) if existing == value => Ok(()),
                Some(Some(existing)) => Err(Error::InvalidInput {
                    field: "folio",
                    reason: format!("the sale already has folio {existing}"),
                }),
                Some(None) => {
                    diesel::update(sales::table.filter(sales::id.eq(&key)))
                        .set(sales::folio.eq(Some(value)))
                        .execute(c)?;
                    Ok(())
                }
            }
        })
    }

    /// Ids of stored sales in the order they were recorded, after local number `after`.
    pub fn sale_ids_after(&mut self, after: u64, limit: u32) -> Result<Vec<SaleId>> {
        let ids: Vec<Vec<u8>> = sales::table
            .filter(sales::local_number.gt(i64::try_from(after).unwrap_or(i64::MAX)))
            .order(sales::local_number)
            .limit(i64::from(limit))
            .select(sales::id)
            .load(&mut self.conn)?;
        ids.iter()
            .map(|b| SaleId::from_slice(b).map_err(|e| corrupt("sale id", e)))
            .collect()
    }

    /// Voids a completed sale: its stock goes back and account charges are credited, with a
    /// `SaleVoided` mutation and an audit entry, in one transaction. A fiscal document, if any,
    /// is cancelled separately (a SEFAZ event) with [`Store::update_fiscal_document`].
    pub fn void_sale(
        &mut self,
        sale_id: SaleId,
        actor: Actor,
        reason: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<u64> {
        let reason = check_void_reason(reason)?;
        let at = stored_instant(at);
        self.write(|c| void_sale_in(c, sale_id, actor, reason, at))
    }

    /// [`Store::void_sale`] together with `change` (the approval's audit entry, settings, further
    /// mutations) in ONE transaction: the sale is voided and the change recorded, or neither.
    pub fn void_sale_with_change(
        &mut self,
        sale_id: SaleId,
        actor: Actor,
        reason: &str,
        at: chrono::DateTime<chrono::Utc>,
        change: &LocalChange,
    ) -> Result<(u64, RecordedChange)> {
        let reason = check_void_reason(reason)?;
        let at = stored_instant(at);
        self.write(|c| {
            let seq = void_sale_in(c, sale_id, actor, reason, at)?;
            Ok((seq, apply_local_change(c, change)?))
        })
    }

    /// The local number of the last sale recorded (0 before the first).
    pub fn last_sale_number(&mut self) -> Result<u64> {
        let n = last_sale_number(&mut self.conn)?;
        u64::try_from(n).map_err(|_| corrupt("sale number", "negative"))
    }

    /// What each sale recorded after local number `after` adds to its device's state, in the
    /// order they were recorded.
    pub fn sale_effects_after(&mut self, after: u64) -> Result<Vec<SaleEffects>> {
        type Row = (i64, Vec<u8>, Option<Vec<u8>>, Vec<u8>, Option<i64>);
        let rows: Vec<Row> = sales::table
            .filter(sales::local_number.gt(i64::try_from(after).unwrap_or(i64::MAX)))
            .order(sales::local_number)
            .select((
                sales::local_number,
                sales::device_id,
                sales::register_session_id,
                sales::body,
                sales::fiscal_key,
            ))
            .load(&mut self.conn)?;
        let keys: Vec<i64> = rows.iter().filter_map(|r| r.4).collect();
        let mut offline = std::collections::HashSet::new();
        // In slices, within SQLite's limit on bound values.
        for slice in keys.chunks(500) {
            let found: Vec<i64> = fiscal_documents::table
                .filter(fiscal_documents::doc_key.eq_any(slice))
                .filter(fiscal_documents::tp_emis.eq(i32::from(
                    tenda_domain::EmissionType::OfflineContingency.code(),
                )))
                .select(fiscal_documents::doc_key)
                .load(&mut self.conn)?;
            offline.extend(found);
        }
        rows.into_iter()
            .map(|(number, device, session, body, fiscal_key)| {
                let body: SaleBody = unpack(&body, true, "sale body")?;
                Ok(SaleEffects {
                    local_number: u64::try_from(number).map_err(|e| corrupt("sale number", e))?,
                    device_id: DeviceId::from_slice(&device)
                        .map_err(|e| corrupt("sale device", e))?,
                    register_session_id: session
                        .map(|b| RegisterSessionId::from_slice(&b))
                        .transpose()
                        .map_err(|e| corrupt("sale session", e))?,
                    payments: body.payments,
                    offline_note: fiscal_key.is_some_and(|k| offline.contains(&k)),
                })
            })
            .collect()
    }

    pub fn sale_count(&mut self) -> Result<u64> {
        let n: i64 = sales::table.count().get_result(&mut self.conn)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

/// The local number of the last sale recorded (0 before the first). Sales are never deleted, so
/// the largest number stored is the last one given; reading it writes nothing, where a counter
/// would cost the commit one more page.
pub(crate) fn last_sale_number(conn: &mut SqliteConnection) -> Result<i64> {
    let last: Option<i64> = sales::table
        .select(diesel::dsl::max(sales::local_number))
        .get_result(conn)?;
    Ok(last.unwrap_or(0))
}

/// The trimmed reason of a void, 3-255 characters.
pub(crate) fn check_void_reason(reason: &str) -> Result<&str> {
    let reason = reason.trim();
    if reason.chars().count() < 3 || reason.chars().count() > 255 {
        return Err(Error::InvalidInput {
            field: "reason",
            reason: "must have 3-255 characters".into(),
        });
    }
    Ok(reason)
}

/// Voids a sale inside the caller's transaction (stock back, account charges credited, its
/// `SaleVoided` mutation and audit entry). Returns the outbox number.
pub(crate) fn void_sale_in(
    c: &mut SqliteConnection,
    sale_id: SaleId,
    actor: Actor,
    reason: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<u64> {
    {
        let stored = load_sale(c, sale_id)?.ok_or(Error::NotFound("sale"))?;
        if stored.status == SaleStatus::Voided {
            return Err(Error::InvalidInput {
                field: "sale",
                reason: "already voided".into(),
            });
        }
        let stock: Vec<StockDelta> = stored
            .sale
            .stock_deltas()
            .map_err(|e| corrupt("sale", e))?
            .into_iter()
            .map(|d| {
                Ok(StockDelta {
                    product_id: d.product_id,
                    delta: d.delta.checked_neg().map_err(|e| corrupt("sale", e))?,
                    reason: StockReason::SaleVoided { sale_id },
                })
            })
            .collect::<Result<_>>()?;
        let balances: Vec<BalanceDelta> = stored
            .sale
            .balance_deltas()
            .map_err(|e| corrupt("sale", e))?
            .into_iter()
            .map(|d| {
                Ok(BalanceDelta {
                    customer_id: d.customer_id,
                    delta: d.delta.checked_neg().map_err(|e| corrupt("sale", e))?,
                    reason: BalanceReason::SaleVoided { sale_id },
                })
            })
            .collect::<Result<_>>()?;
        diesel::update(sales::table.filter(sales::id.eq(sale_id.as_bytes().to_vec())))
            .set(sales::status.eq("voided"))
            .execute(c)?;
        let seq = append_outbox(
            c,
            &Mutation::SaleVoided {
                sale_id,
                actor,
                reason: reason.to_owned(),
                at,
                stock_deltas: stock.clone(),
                balance_deltas: balances.clone(),
            },
        )?;
        for d in &balances {
            apply_balance_delta(c, d, seq, at)?;
        }
        append_audit(
            c,
            &AuditEvent {
                actor,
                action: "sale.void".into(),
                subject: format!("sale:{sale_id}"),
                outcome: Outcome::Succeeded,
                at,
            },
        )?;
        Ok(seq)
    }
}

fn reference(series: FiscalSeries, number: u32, doc: &SignedFiscalDocument) -> FiscalDocumentRef {
    FiscalDocumentRef {
        model: series.model,
        series: series.series,
        number,
        access_key: doc.access_key.clone(),
        emission: doc.emission,
        status: doc.status,
    }
}

/// What a sale's row keeps packed in `body`: the parts of the sale that are not columns.
#[derive(Serialize)]
struct SaleBodyRef<'a> {
    lines: &'a [SaleLine],
    payments: &'a [Payment],
}

#[derive(Deserialize)]
pub(crate) struct SaleBody {
    pub(crate) lines: Vec<SaleLine>,
    pub(crate) payments: Vec<Payment>,
}

pub(crate) fn pack_body(lines: &[SaleLine], payments: &[Payment]) -> Result<Vec<u8>> {
    pack(&SaleBodyRef { lines, payments }, "sale body")
}

fn insert_sale_rows(
    c: &mut SqliteConnection,
    sale: &Sale,
    local_number: i64,
    session: Option<RegisterSessionId>,
    fiscal_key: Option<i64>,
    audit: &Link,
) -> Result<()> {
    diesel::insert_into(sales::table)
        .values((
            sales::id.eq(sale.id.as_bytes().to_vec()),
            sales::local_number.eq(local_number),
            sales::device_id.eq(sale.device_id.as_bytes().to_vec()),
            sales::seller_id.eq(sale.seller_id.as_bytes().to_vec()),
            sales::customer_id.eq(sale.customer_id.map(|c| c.as_bytes().to_vec())),
            sales::consumer_tax_id.eq(sale.consumer_tax_id.as_ref().map(|t| t.as_str().to_owned())),
            sales::register_session_id.eq(session.map(|s| s.as_bytes().to_vec())),
            // The time its audit entry hashed (the same instant, as stored).
            sales::created_at.eq(&audit.at),
            sales::gross.eq(sale.gross.centavos()),
            sales::discount.eq(sale.discount.centavos()),
            sales::total.eq(sale.total.centavos()),
            sales::change.eq(sale.change.centavos()),
            sales::status.eq("completed"),
            sales::body.eq(pack_body(&sale.lines, &sale.payments)?),
            sales::fiscal_key.eq(fiscal_key),
            sales::audit_seq.eq(audit.seq),
            sales::audit_actor.eq(&audit.actor),
            sales::audit_prev_hash.eq(audit.prev_hash.as_slice()),
            sales::audit_hash.eq(audit.hash.as_slice()),
        ))
        .execute(c)?;
    Ok(())
}

/// A sale's columns, without the audit entry its row keeps (the audit log reads that).
#[derive(Queryable, Selectable)]
#[diesel(table_name = sales, check_for_backend(diesel::sqlite::Sqlite))]
struct SaleRow {
    id: Vec<u8>,
    local_number: i64,
    device_id: Vec<u8>,
    seller_id: Vec<u8>,
    customer_id: Option<Vec<u8>>,
    consumer_tax_id: Option<String>,
    register_session_id: Option<Vec<u8>>,
    created_at: String,
    gross: i64,
    discount: i64,
    total: i64,
    change: i64,
    status: String,
    folio: Option<i64>,
    body: Vec<u8>,
    fiscal_key: Option<i64>,
}

pub(crate) fn load_sale(c: &mut SqliteConnection, id: SaleId) -> Result<Option<StoredSale>> {
    // get_result, not first: ids are unique, and a `LIMIT ?` bind re-prepares every time.
    let row: Option<SaleRow> = sales::table
        .filter(sales::id.eq(id.as_bytes().to_vec()))
        .select(SaleRow::as_select())
        .get_result(c)
        .optional()?;
    row.map(|row| stored_sale(c, row)).transpose()
}

/// The sales recorded under local numbers `first..=last`, by number (without their fiscal
/// documents).
pub(crate) fn sales_between(
    c: &mut SqliteConnection,
    first: i64,
    last: i64,
) -> Result<Vec<(i64, Sale)>> {
    let rows: Vec<SaleRow> = sales::table
        .filter(sales::local_number.between(first, last))
        .select(SaleRow::as_select())
        .load(c)?;
    rows.into_iter()
        .map(|row| {
            let number = row.local_number;
            Ok((number, decode_row(row)?.sale))
        })
        .collect()
}

fn stored_sale(c: &mut SqliteConnection, row: SaleRow) -> Result<StoredSale> {
    let d = decode_row(row)?;
    Ok(StoredSale {
        fiscal: d
            .fiscal_key
            .map(|key| document_by_key(c, key))
            .transpose()?
            .flatten(),
        sale: d.sale,
        local_number: d.local_number,
        register_session_id: d.register_session_id,
        status: d.status,
        folio: d.folio,
    })
}

/// A sale row read back: everything of a [`StoredSale`] but the fiscal document, which its
/// key finds.
struct DecodedRow {
    sale: Sale,
    local_number: u64,
    register_session_id: Option<RegisterSessionId>,
    status: SaleStatus,
    folio: Option<u64>,
    fiscal_key: Option<i64>,
}

fn decode_row(row: SaleRow) -> Result<DecodedRow> {
    let SaleRow {
        id,
        local_number,
        device_id: device,
        seller_id: seller,
        customer_id: customer,
        consumer_tax_id: tax_id,
        register_session_id: session,
        created_at,
        gross,
        discount,
        total,
        change,
        status,
        folio,
        body,
        fiscal_key,
    } = row;
    let bad = |what: &'static str| move |e: tenda_domain::IdError| corrupt(what, e);
    let id = SaleId::from_slice(&id).map_err(bad("sale id"))?;
    let body: SaleBody = unpack(&body, true, "sale body")?;
    let sale = Sale {
        id,
        device_id: DeviceId::from_slice(&device).map_err(bad("sale device"))?,
        seller_id: UserId::from_slice(&seller).map_err(bad("sale seller"))?,
        customer_id: customer
            .map(|b| CustomerId::from_slice(&b))
            .transpose()
            .map_err(bad("sale customer"))?,
        consumer_tax_id: tax_id
            .map(|t| TaxId::parse(&t))
            .transpose()
            .map_err(|e| corrupt("sale tax id", e))?,
        created_at: parse_ts("sale time", &created_at)?,
        lines: body.lines,
        gross: Money::from_centavos(gross),
        discount: Money::from_centavos(discount),
        total: Money::from_centavos(total),
        payments: body.payments,
        change: Money::from_centavos(change),
    };
    Ok(DecodedRow {
        sale,
        local_number: u64::try_from(local_number).map_err(|e| corrupt("sale number", e))?,
        register_session_id: session
            .map(|b| RegisterSessionId::from_slice(&b))
            .transpose()
            .map_err(bad("sale session"))?,
        status: if status == "voided" {
            SaleStatus::Voided
        } else {
            SaleStatus::Completed
        },
        folio: folio
            .map(u64::try_from)
            .transpose()
            .map_err(|e| corrupt("sale folio", e))?,
        fiscal_key,
    })
}
