//! Fiscal documents (NFC-e) stored with their sales: numbering per (model, series), the signed
//! XML and its status, and numbers reserved but never used (to be declared unused to SEFAZ).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use tenda_domain::{
    Actor, AuditEvent, EmissionType, FiscalDocumentRef, FiscalStatus, Mutation, Outcome, SaleId,
};

use crate::audit::append_audit;
use crate::cached::UseReservedNumber;
use crate::error::{Error, Result, corrupt};
use crate::outbox::append_outbox;
use crate::packed::{pack_text, unpack_text};
use crate::record::{LocalChange, RecordedChange, apply_local_change};
use crate::schema::{fiscal_documents, fiscal_numbers, sales};
use crate::store::{Store, next_counter, parse_ts, read_counter, set_counter, ts};

/// Highest number an NFC-e may carry (`nNF` has 9 digits).
pub const MAX_FISCAL_NUMBER: u32 = 999_999_999;

/// A numbering sequence: model (65 = NFC-e) and series (each device owns its own).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FiscalSeries {
    pub model: u8,
    pub series: u16,
}

/// The document the caller signed for the number it was given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedFiscalDocument {
    pub access_key: String,
    pub emission: EmissionType,
    pub status: FiscalStatus,
    pub xml: String,
    pub protocol: Option<String>,
    /// When a contingency document must reach the tax authority.
    pub deadline: Option<DateTime<Utc>>,
}

/// A signed document for a number obtained earlier with [`Store::reserve_fiscal_number`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuedFiscalDocument {
    pub series: FiscalSeries,
    pub number: u32,
    pub document: SignedFiscalDocument,
}

/// A stored fiscal document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FiscalDocument {
    pub sale_id: SaleId,
    pub series: FiscalSeries,
    pub number: u32,
    pub access_key: String,
    pub emission: EmissionType,
    pub status: FiscalStatus,
    pub xml: String,
    pub protocol: Option<String>,
    pub rejection_code: Option<String>,
    pub rejection_reason: Option<String>,
    pub issued_at: DateTime<Utc>,
    pub deadline: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    /// Its last transmission timed out: SEFAZ may hold it, so the next one asks first. Set by
    /// [`LocalChange::notes_to_consult_first`], cleared by any change of status.
    pub consult_first: bool,
}

impl FiscalDocument {
    pub fn reference(&self) -> FiscalDocumentRef {
        FiscalDocumentRef {
            model: self.series.model,
            series: self.series.series,
            number: self.number,
            access_key: self.access_key.clone(),
            emission: self.emission,
            status: self.status,
        }
    }
}

/// A change of a document's state after transmission, rejection, correction or cancellation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FiscalUpdate {
    pub status: Option<FiscalStatus>,
    pub protocol: Option<String>,
    pub rejection_code: Option<String>,
    pub rejection_reason: Option<String>,
    /// A re-signed XML (correction after rejection keeps the number; contingency re-issue).
    pub xml: Option<String>,
    pub access_key: Option<String>,
    pub emission: Option<EmissionType>,
    pub deadline: Option<DateTime<Utc>>,
}

/// A document's row key: its model, series and number in one integer. The table's own b-tree
/// then keeps a number unique per series, with no index beside it for every sale to write.
pub(crate) fn document_key(s: FiscalSeries, number: u32) -> i64 {
    i64::from(s.model) * 1_000_000_000_000 + i64::from(s.series) * 1_000_000_000 + i64::from(number)
}

/// The model, series and number an access key names (`mod`, `serie` and `nNF`, digits 21–34 of
/// `cUF AAMM CNPJ mod serie nNF tpEmis cNF cDV`), if it is 44 digits.
pub(crate) fn numbered_by(access_key: &str) -> Option<(FiscalSeries, u32)> {
    if access_key.len() != 44 || !access_key.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let series = FiscalSeries {
        model: access_key[20..22].parse().ok()?,
        series: access_key[22..25].parse().ok()?,
    };
    Some((series, access_key[25..34].parse().ok()?))
}

/// The counter holding the last number a series gave out, beside the store's other counters.
fn series_counter(s: FiscalSeries) -> String {
    format!("fiscal_last_number.{}.{}", s.model, s.series)
}

/// A document may be stored for `number` of `series` only with the access key of that number:
/// one number, one key, so no two documents share a key.
fn validate_signed(doc: &SignedFiscalDocument, series: FiscalSeries, number: u32) -> Result<()> {
    let Some(named) = numbered_by(&doc.access_key) else {
        return Err(Error::InvalidInput {
            field: "access_key",
            reason: "must be 44 digits".into(),
        });
    };
    if named != (series, number) {
        return Err(Error::InvalidInput {
            field: "access_key",
            reason: format!(
                "names model {} series {} number {}, not the document's {} {} {number}",
                named.0.model, named.0.series, named.1, series.model, series.series
            ),
        });
    }
    if doc.xml.trim().is_empty() {
        return Err(Error::InvalidInput {
            field: "xml",
            reason: "must not be empty".into(),
        });
    }
    Ok(())
}

/// How a number taken from a series' counter is kept.
#[derive(Clone, Copy)]
pub(crate) enum Taken {
    /// Reserved now, used (or voided) later: a `fiscal_numbers` row tracks it.
    Reserved,
    /// Used by a document inserted in the same transaction: its `fiscal_documents` row (unique
    /// per model, series and number) records the number, and no `fiscal_numbers` row is written
    /// beside it (two pages fewer per sale: the row and its key).
    ByDocument,
}

/// Takes the next number of `series` inside the caller's transaction.
pub(crate) fn take_number(
    conn: &mut SqliteConnection,
    s: FiscalSeries,
    taken_as: Taken,
    at: DateTime<Utc>,
) -> Result<u32> {
    let taken = next_counter(conn, series_counter(s))?;
    let number = u32::try_from(taken).map_err(|_| corrupt("fiscal counter", "negative"))?;
    if number > MAX_FISCAL_NUMBER {
        return Err(Error::InvalidInput {
            field: "series",
            reason: "the series has run out of numbers".into(),
        });
    }
    if let Taken::Reserved = taken_as {
        diesel::insert_into(fiscal_numbers::table)
            .values((
                fiscal_numbers::model.eq(i32::from(s.model)),
                fiscal_numbers::series.eq(i32::from(s.series)),
                fiscal_numbers::number.eq(i32::try_from(number).expect("≤ 999999999 fits i32")),
                fiscal_numbers::state.eq("reserved"),
                fiscal_numbers::reserved_at.eq(ts(at)),
            ))
            .execute(conn)?;
    }
    Ok(number)
}

/// Marks a reserved number as used by a sale, inside the caller's transaction.
pub(crate) fn use_reserved_number(
    conn: &mut SqliteConnection,
    s: FiscalSeries,
    number: u32,
) -> Result<()> {
    let n = UseReservedNumber {
        model: i32::from(s.model),
        series: i32::from(s.series),
        number: i32::try_from(number).unwrap_or(-1),
    }
    .execute(conn)?;
    if n == 0 {
        return Err(Error::FiscalNumberNotReserved {
            series: s.series,
            number,
        });
    }
    Ok(())
}

pub(crate) fn insert_document(
    conn: &mut SqliteConnection,
    sale_id: SaleId,
    s: FiscalSeries,
    number: u32,
    doc: &SignedFiscalDocument,
    at: DateTime<Utc>,
) -> Result<()> {
    validate_signed(doc, s, number)?;
    diesel::insert_into(fiscal_documents::table)
        .values((
            fiscal_documents::doc_key.eq(document_key(s, number)),
            fiscal_documents::sale_id.eq(sale_id.as_bytes().to_vec()),
            fiscal_documents::model.eq(i32::from(s.model)),
            fiscal_documents::series.eq(i32::from(s.series)),
            fiscal_documents::number.eq(i32::try_from(number).expect("≤ 999999999 fits i32")),
            fiscal_documents::access_key.eq(&doc.access_key),
            fiscal_documents::tp_emis.eq(i32::from(doc.emission.code())),
            fiscal_documents::status.eq(doc.status.code()),
            fiscal_documents::xml.eq(pack_text(&doc.xml)),
            fiscal_documents::protocol.eq(&doc.protocol),
            fiscal_documents::issued_at.eq(ts(at)),
            fiscal_documents::deadline.eq(doc.deadline.map(ts)),
            fiscal_documents::updated_at.eq(ts(at)),
        ))
        .execute(conn)?;
    Ok(())
}

/// A document's row as stored: every column but its row key, which its series and number make.
#[derive(Queryable, Selectable)]
#[diesel(table_name = fiscal_documents)]
pub(crate) struct DocRow {
    sale_id: Vec<u8>,
    model: i32,
    series: i32,
    number: i32,
    access_key: String,
    tp_emis: i32,
    status: String,
    xml: Vec<u8>,
    protocol: Option<String>,
    rejection_code: Option<String>,
    rejection_reason: Option<String>,
    issued_at: String,
    deadline: Option<String>,
    updated_at: String,
    consult_first: bool,
}

fn decode(r: DocRow) -> Result<FiscalDocument> {
    Ok(FiscalDocument {
        sale_id: SaleId::from_slice(&r.sale_id).map_err(|e| corrupt("fiscal document", e))?,
        series: FiscalSeries {
            model: u8::try_from(r.model).map_err(|e| corrupt("fiscal model", e))?,
            series: u16::try_from(r.series).map_err(|e| corrupt("fiscal series", e))?,
        },
        number: u32::try_from(r.number).map_err(|e| corrupt("fiscal number", e))?,
        access_key: r.access_key,
        emission: u8::try_from(r.tp_emis)
            .ok()
            .and_then(EmissionType::from_code)
            .ok_or_else(|| corrupt("fiscal document", "tpEmis"))?,
        status: FiscalStatus::from_code(&r.status)
            .ok_or_else(|| corrupt("fiscal document", "status"))?,
        xml: unpack_text(r.xml, "fiscal document xml")?,
        protocol: r.protocol,
        rejection_code: r.rejection_code,
        rejection_reason: r.rejection_reason,
        issued_at: parse_ts("fiscal document", &r.issued_at)?,
        deadline: r
            .deadline
            .map(|d| parse_ts("fiscal deadline", &d))
            .transpose()?,
        updated_at: parse_ts("fiscal document", &r.updated_at)?,
        consult_first: r.consult_first,
    })
}

/// A sale's document, found through the key its sale's row holds.
pub(crate) fn load_document(
    conn: &mut SqliteConnection,
    sale_id: SaleId,
) -> Result<Option<FiscalDocument>> {
    // get_result, not first: ids are unique, and a `LIMIT ?` bind re-prepares every time.
    let key: Option<Option<i64>> = sales::table
        .filter(sales::id.eq(sale_id.as_bytes().to_vec()))
        .select(sales::fiscal_key)
        .get_result(conn)
        .optional()?;
    match key.flatten() {
        Some(key) => document_by_key(conn, key),
        None => Ok(None),
    }
}

/// The document stored under row key `key` (see [`document_key`]).
pub(crate) fn document_by_key(
    conn: &mut SqliteConnection,
    key: i64,
) -> Result<Option<FiscalDocument>> {
    let row: Option<DocRow> = fiscal_documents::table
        .find(key)
        .select(DocRow::as_select())
        .get_result(conn)
        .optional()?;
    row.map(decode).transpose()
}

impl Store {
    /// Takes the next number of `series` for a document about to be signed, and records it as
    /// reserved (committed at once). If the sale is never committed with it, the number shows in
    /// [`Store::unused_fiscal_numbers`] for inutilização.
    pub fn reserve_fiscal_number(&mut self, series: FiscalSeries) -> Result<u32> {
        self.write(|c| take_number(c, series, Taken::Reserved, Utc::now()))
    }

    /// Sets where numbering continues (e.g. a series already used elsewhere). Never moves back.
    pub fn set_next_fiscal_number(&mut self, series: FiscalSeries, next: u32) -> Result<()> {
        if next == 0 || next > MAX_FISCAL_NUMBER {
            return Err(Error::InvalidInput {
                field: "next",
                reason: "must be 1-999999999".into(),
            });
        }
        self.write(|c| {
            let name = series_counter(series);
            // A series never used reads 0: any first number is ahead of it.
            let last = i64::from(next) - 1;
            if read_counter(c, &name)? > last {
                return Err(Error::InvalidInput {
                    field: "next",
                    reason: "numbering never goes back".into(),
                });
            }
            set_counter(c, &name, last)
        })
    }

    /// Numbers reserved and never used by a sale, lowest first: candidates for inutilização.
    pub fn unused_fiscal_numbers(&mut self, series: FiscalSeries) -> Result<Vec<u32>> {
        let v: Vec<i32> = fiscal_numbers::table
            .filter(fiscal_numbers::model.eq(i32::from(series.model)))
            .filter(fiscal_numbers::series.eq(i32::from(series.series)))
            .filter(fiscal_numbers::state.eq("reserved"))
            .order(fiscal_numbers::number)
            .select(fiscal_numbers::number)
            .load(&mut self.conn)?;
        Ok(v.into_iter()
            .filter_map(|n| u32::try_from(n).ok())
            .collect())
    }

    /// Records that SEFAZ accepted the inutilização of `first..=last` (all must be reserved and
    /// unused), with its outbox mutation and audit entry.
    #[allow(clippy::too_many_arguments)]
    pub fn record_fiscal_numbers_voided(
        &mut self,
        series: FiscalSeries,
        first: u32,
        last: u32,
        justification: &str,
        protocol: Option<String>,
        actor: Actor,
        at: DateTime<Utc>,
    ) -> Result<u64> {
        let voided = VoidedNumbers {
            series,
            first,
            last,
            justification: justification.to_owned(),
            protocol,
        };
        self.record_fiscal_numbers_voided_with_change(&voided, actor, at, &LocalChange::default())
            .map(|(seq, _)| seq)
    }

    /// [`Store::record_fiscal_numbers_voided`] together with `change` (the approval's audit
    /// entry, the event record in the settings, further mutations) in ONE transaction: the
    /// numbers are voided and the change recorded, or neither. Returns the `FiscalNumbersVoided`
    /// outbox number and what the change was given.
    pub fn record_fiscal_numbers_voided_with_change(
        &mut self,
        voided: &VoidedNumbers,
        actor: Actor,
        at: DateTime<Utc>,
        change: &LocalChange,
    ) -> Result<(u64, RecordedChange)> {
        let VoidedNumbers {
            series,
            first,
            last,
            ref justification,
            ref protocol,
        } = *voided;
        let len = justification.trim().chars().count();
        if !(15..=255).contains(&len) {
            return Err(Error::InvalidInput {
                field: "justification",
                reason: "must have 15-255 characters".into(),
            });
        }
        if first > last {
            return Err(Error::InvalidInput {
                field: "first",
                reason: "must not exceed last".into(),
            });
        }
        self.write(|c| {
            for n in first..=last {
                let updated = diesel::update(
                    fiscal_numbers::table
                        .filter(fiscal_numbers::model.eq(i32::from(series.model)))
                        .filter(fiscal_numbers::series.eq(i32::from(series.series)))
                        .filter(fiscal_numbers::number.eq(i32::try_from(n).unwrap_or(-1)))
                        .filter(fiscal_numbers::state.eq("reserved")),
                )
                .set((
                    fiscal_numbers::state.eq("voided"),
                    fiscal_numbers::protocol.eq(protocol),
                ))
                .execute(c)?;
                if updated == 0 {
                    return Err(Error::FiscalNumberNotReserved {
                        series: series.series,
                        number: n,
                    });
                }
            }
            let seq = append_outbox(
                c,
                &Mutation::FiscalNumbersVoided {
                    model: series.model,
                    series: series.series,
                    first,
                    last,
                    justification: justification.trim().to_owned(),
                    protocol: protocol.clone(),
                    at,
                },
            )?;
            append_audit(
                c,
                &AuditEvent {
                    actor,
                    action: "fiscal.void_numbers".into(),
                    subject: format!("series:{}:{}:{first}-{last}", series.model, series.series),
                    outcome: Outcome::Succeeded,
                    at,
                },
            )?;
            Ok((seq, apply_local_change(c, change)?))
        })
    }

    pub fn fiscal_document(&mut self, sale_id: SaleId) -> Result<Option<FiscalDocument>> {
        load_document(&mut self.conn, sale_id)
    }

    /// Documents still to be transmitted (pending, contingency, rejected), oldest first.
    pub fn fiscal_documents_awaiting_transmission(
        &mut self,
        limit: u32,
    ) -> Result<Vec<FiscalDocument>> {
        let rows: Vec<DocRow> = fiscal_documents::table
            .select(DocRow::as_select())
            .filter(
                fiscal_documents::status.eq_any(
                    FiscalStatus::ALL
                        .into_iter()
                        .filter(|s| s.awaits_transmission())
                        .map(FiscalStatus::code),
                ),
            )
            .order((fiscal_documents::issued_at, fiscal_documents::number))
            .limit(i64::from(limit))
            .load(&mut self.conn)?;
        rows.into_iter().map(decode).collect()
    }

    /// Applies a change of a document's state, with its `FiscalStatusChanged` mutation and audit
    /// entry, in one transaction. Returns the outbox number.
    pub fn update_fiscal_document(
        &mut self,
        sale_id: SaleId,
        update: &FiscalUpdate,
        actor: Actor,
        at: DateTime<Utc>,
    ) -> Result<u64> {
        self.write(|c| apply_fiscal_update(c, sale_id, update, actor, at))
    }

    /// [`Store::update_fiscal_document`] together with `change` (the approval's audit entry,
    /// settings, further mutations) in ONE transaction: the document changes and the change is
    /// recorded, or neither. Returns the `FiscalStatusChanged` outbox number and what the change
    /// was given.
    pub fn update_fiscal_document_with_change(
        &mut self,
        sale_id: SaleId,
        update: &FiscalUpdate,
        actor: Actor,
        at: DateTime<Utc>,
        change: &LocalChange,
    ) -> Result<(u64, RecordedChange)> {
        self.write(|c| {
            let seq = apply_fiscal_update(c, sale_id, update, actor, at)?;
            Ok((seq, apply_local_change(c, change)?))
        })
    }

    /// The answers to a whole batch of notes and `change` (e.g. the transmitter's backoff and
    /// the notes to consult first) in ONE transaction: every document changes and the change is
    /// recorded, or nothing is written. Returns the `FiscalStatusChanged` outbox numbers, in
    /// the order of `updates`, and what the change was given.
    pub fn update_fiscal_documents_with_change(
        &mut self,
        updates: &[(SaleId, FiscalUpdate)],
        actor: Actor,
        at: DateTime<Utc>,
        change: &LocalChange,
    ) -> Result<(Vec<u64>, RecordedChange)> {
        self.write(|c| {
            let seqs = updates
                .iter()
                .map(|(sale_id, update)| apply_fiscal_update(c, *sale_id, update, actor, at))
                .collect::<Result<Vec<_>>>()?;
            Ok((seqs, apply_local_change(c, change)?))
        })
    }

    /// A cancelled note's document update, the sale's void and `change`, in ONE transaction:
    /// after a cancellation SEFAZ registered, the note is cancelled, the sale voided (stock back,
    /// account charges credited) and the approval audited together, or nothing is written.
    /// Returns the outbox numbers of the `FiscalStatusChanged` and `SaleVoided` mutations.
    pub fn cancel_fiscal_document_and_void_sale(
        &mut self,
        sale_id: SaleId,
        update: &FiscalUpdate,
        reason: &str,
        actor: Actor,
        at: DateTime<Utc>,
        change: &LocalChange,
    ) -> Result<(u64, u64, RecordedChange)> {
        let reason = crate::sales::check_void_reason(reason)?;
        let void_at = crate::store::stored_instant(at);
        self.write(|c| {
            let fiscal = apply_fiscal_update(c, sale_id, update, actor, at)?;
            let void = crate::sales::void_sale_in(c, sale_id, actor, reason, void_at)?;
            Ok((fiscal, void, apply_local_change(c, change)?))
        })
    }
}

/// A range of numbers SEFAZ declared unused (inutilização), as recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VoidedNumbers {
    pub series: FiscalSeries,
    pub first: u32,
    pub last: u32,
    /// 15-255 characters, as sent to SEFAZ.
    pub justification: String,
    pub protocol: Option<String>,
}

/// Applies a document update with its mutation and audit entry inside the caller's transaction.
fn apply_fiscal_update(
    c: &mut SqliteConnection,
    sale_id: SaleId,
    update: &FiscalUpdate,
    actor: Actor,
    at: DateTime<Utc>,
) -> Result<u64> {
    {
        let mut doc = load_document(c, sale_id)?.ok_or(Error::NotFound("fiscal document"))?;
        if let Some(s) = update.status {
            doc.status = s;
        }
        if let Some(p) = &update.protocol {
            doc.protocol = Some(p.clone());
        }
        if update.rejection_code.is_some() || update.rejection_reason.is_some() {
            doc.rejection_code = update.rejection_code.clone();
            doc.rejection_reason = update.rejection_reason.clone();
        }
        if let Some(x) = &update.xml {
            doc.xml = x.clone();
        }
        if let Some(k) = &update.access_key {
            doc.access_key = k.clone();
        }
        if let Some(e) = update.emission {
            doc.emission = e;
        }
        if let Some(d) = update.deadline {
            doc.deadline = Some(d);
        }
        validate_signed(
            &SignedFiscalDocument {
                access_key: doc.access_key.clone(),
                emission: doc.emission,
                status: doc.status,
                xml: doc.xml.clone(),
                protocol: None,
                deadline: None,
            },
            doc.series,
            doc.number,
        )?;
        diesel::update(fiscal_documents::table.find(document_key(doc.series, doc.number)))
            .set((
                fiscal_documents::status.eq(doc.status.code()),
                fiscal_documents::protocol.eq(&doc.protocol),
                fiscal_documents::rejection_code.eq(&doc.rejection_code),
                fiscal_documents::rejection_reason.eq(&doc.rejection_reason),
                fiscal_documents::xml.eq(pack_text(&doc.xml)),
                fiscal_documents::access_key.eq(&doc.access_key),
                fiscal_documents::tp_emis.eq(i32::from(doc.emission.code())),
                fiscal_documents::deadline.eq(doc.deadline.map(ts)),
                fiscal_documents::updated_at.eq(ts(at)),
                // An answer settles whether SEFAZ holds the note.
                fiscal_documents::consult_first.eq(doc.consult_first && update.status.is_none()),
            ))
            .execute(c)?;
        let reason = match (&doc.rejection_code, &doc.rejection_reason) {
            (Some(code), Some(r)) => Some(format!("{code} {r}")),
            (Some(code), None) => Some(code.clone()),
            (None, r) => r.clone(),
        };
        let seq = append_outbox(
            c,
            &Mutation::FiscalStatusChanged {
                sale_id,
                access_key: doc.access_key.clone(),
                status: doc.status,
                protocol: doc.protocol.clone(),
                reason,
                at,
            },
        )?;
        append_audit(
            c,
            &AuditEvent {
                actor,
                action: format!("fiscal.{}", doc.status.code()),
                subject: format!("sale:{sale_id}"),
                outcome: Outcome::Succeeded,
                at,
            },
        )?;
        Ok(seq)
    }
}
