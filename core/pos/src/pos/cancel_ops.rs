//! Undoing notes with SEFAZ: cancelling an authorized note within the window (event 110111,
//! manager permission, 15–255 character justification) — the sale is voided with it — and the
//! inutilização of numbers reserved and never used. Each records SEFAZ's protocol, emits its
//! outbox mutation and is audited; a refusal by SEFAZ is audited too and changes nothing.

use std::sync::Arc;

use chrono::{DateTime, Datelike};
use tenda_domain::{Action, Actor, FiscalStatus, Mutation, SaleId};
use tenda_fiscal::nfce::{
    AccessKey, Cancellation, CancellationWindow, Inutilizacao, SubstitutionCancellation,
    build_cancellation, build_inutilizacao, build_substitution_cancellation,
};
use tenda_fiscal::sefaz::{Status, Transmitter, event_proc, inutilization_proc};
use tenda_store::{
    FiscalEvent, FiscalEventKind, FiscalSeries, FiscalUpdate, LocalChange, VoidedNumbers,
};

use super::correction_ops::note_facts;
use super::execute::{self, execute_in};
use super::saved_state::register_setting;
use super::{Pos, blocking, lock, storage};
use crate::authorize::Execution;
use crate::error::{PosError, PosResult, event_error};
use crate::fiscal_doc::local_time;
use crate::pos::Approval;
use crate::register::{RegisterMovement, RegisterSession};
use crate::reports::payment_kind;

/// A registered event or inutilização, as kept on the device (the XML is the legal record).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct FiscalEventRecord {
    /// "cancellation" (110111), "substitution" (110112) or "inutilizacao".
    pub kind: String,
    pub sale_id: Option<String>,
    pub access_key: Option<String>,
    /// For inutilização: the voided range.
    pub first: Option<u32>,
    pub last: Option<u32>,
    pub status_code: u16,
    pub protocol: Option<String>,
    pub registered_at: DateTime<chrono::Utc>,
    pub justification: String,
    /// `procEventoNFe` or `procInutNFe`.
    pub xml: String,
}

/// What a cancellation did.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CancellationOutcome {
    pub sale_id: SaleId,
    pub access_key: String,
    pub protocol: Option<String>,
    pub status_code: u16,
}

/// A range of numbers SEFAZ voided.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct VoidedRange {
    pub series: u16,
    pub first: u32,
    pub last: u32,
    pub protocol: Option<String>,
}

/// The open register after a cancelled sale's payments are given back: cash leaves today's
/// drawer, and the card, PIX and account totals drop by what the sale had taken. `None` when no
/// register is open (nothing to reconcile on this device).
pub(crate) fn refunded(
    open: Option<&RegisterSession>,
    sale: &tenda_domain::Sale,
) -> PosResult<Option<RegisterSession>> {
    let Some(session) = open else {
        return Ok(None);
    };
    let mut session = session.clone();
    for p in &sale.payments {
        session.tally.add(&RegisterMovement::Refund {
            kind: payment_kind(&p.method),
            amount: p.amount,
        })?;
    }
    Ok(Some(session))
}

/// The register's setting to write with a change, when it changed.
pub(crate) fn changed_register_setting(
    register: Option<&RegisterSession>,
    through_sale: u64,
) -> PosResult<Vec<(String, String)>> {
    register
        .map(|r| register_setting(Some(r), through_sale))
        .into_iter()
        .collect()
}

/// Groups sorted numbers into contiguous ranges.
pub(crate) fn ranges(numbers: &[u32]) -> Vec<(u32, u32)> {
    let mut out: Vec<(u32, u32)> = Vec::new();
    for &n in numbers {
        match out.last_mut() {
            Some((_, last)) if n == *last + 1 => *last = n,
            _ => out.push((n, n)),
        }
    }
    out
}

fn check_justification(text: &str) -> PosResult<()> {
    let len = text.trim().chars().count();
    if (15..=255).contains(&len) {
        Ok(())
    } else {
        Err(PosError::invalid(
            "justification",
            format!("must have 15 to 255 characters (has {len})"),
        ))
    }
}

/// A lote number for an event batch: SEFAZ wants 1..=999999999999999 and only uses it to match
/// the answer, so the clock's milliseconds serve.
fn event_lote_number() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(1) % 999_999_999_999_999 + 1
}

impl Pos {
    fn sefaz_for(&self, what: &str) -> PosResult<Arc<Transmitter>> {
        self.transmitter(what)
    }

    /// SEFAZ did not register the event: the execution is audited as denied (best effort — the
    /// refusal itself is what the manager must see) and its status becomes the error.
    fn refused_by_sefaz(&self, execution: Execution, status: Status) -> PosError {
        if let Err(e) = self.execution_refused(execution) {
            return e;
        }
        PosError::Rejected {
            code: status.code.to_string(),
            reason: status.reason,
        }
    }

    /// The store's row for `record`, appended in the transaction of the change it belongs to.
    fn record_fiscal_event(&self, record: FiscalEventRecord) -> PosResult<Vec<FiscalEvent>> {
        let kind = FiscalEventKind::from_code(&record.kind)
            .ok_or_else(|| PosError::state("record a fiscal event", "unknown fiscal event kind"))?;
        Ok(vec![FiscalEvent {
            kind,
            sale_id: record.sale_id,
            access_key: record.access_key,
            first: record.first,
            last: record.last,
            status_code: record.status_code,
            protocol: record.protocol,
            registered_at: record.registered_at,
            justification: record.justification,
            xml: record.xml,
        }])
    }

    /// Fiscal events and inutilizações SEFAZ registered from this device, oldest first.
    pub fn fiscal_events(&self) -> PosResult<Vec<FiscalEventRecord>> {
        self.alive()?;
        Ok(self
            .reader()?
            .fiscal_events()
            .map_err(storage)?
            .into_iter()
            .map(|e| FiscalEventRecord {
                kind: e.kind.code().to_owned(),
                sale_id: e.sale_id,
                access_key: e.access_key,
                first: e.first,
                last: e.last,
                status_code: e.status_code,
                protocol: e.protocol,
                registered_at: e.registered_at,
                justification: e.justification,
                xml: e.xml,
            })
            .collect())
    }

    /// Cancels an authorized note within the window (event 110111) and voids the sale.
    pub async fn cancel_sale(
        &self,
        sale_id: SaleId,
        justification: String,
        approval: Option<Approval>,
    ) -> PosResult<CancellationOutcome> {
        self.on_core(move |pos| async move {
            pos.cancel_sale_on_core(sale_id, &justification, approval.as_ref())
                .await
        })
        .await
    }

    /// Cancels the sale's authorized note with SEFAZ (event 110111) within the cancellation
    /// window, and voids the sale (stock back, account charges credited). Needs the
    /// `cancel_note` permission or a manager's `approval`. Before authorization it is refused:
    /// a note still waiting for SEFAZ cannot be cancelled yet.
    async fn cancel_sale_on_core(
        &self,
        sale_id: SaleId,
        justification: &str,
        approval: Option<&Approval>,
    ) -> PosResult<CancellationOutcome> {
        let auth = self.authorize_with(Action::CancelNote, approval)?;
        check_justification(justification)?;
        let doc = lock(&self.inner.store)
            .fiscal_document(sale_id)
            .map_err(storage)?
            .ok_or_else(|| PosError::NotFound {
                what: "fiscal note of the sale".into(),
            })?;
        match doc.status {
            FiscalStatus::Authorized => {}
            FiscalStatus::Cancelled => {
                // A cancellation interrupted after SEFAZ registered it: finish voiding the sale.
                let mut store = lock(&self.inner.store);
                let voided = store
                    .sale(sale_id)
                    .map_err(storage)?
                    .is_none_or(|s| s.status == tenda_store::SaleStatus::Voided);
                if !voided {
                    // Written by a version that cancelled and voided in separate steps.
                    let actor = Actor::User(auth.responsible().user_id);
                    let at = self.now();
                    let subject = format!("sale:{sale_id} note:{} cancellation", doc.number);
                    execute_in(
                        &mut store,
                        auth.execution(Action::CancelNote, subject, at),
                        LocalChange::default(),
                        |store, change| {
                            store.void_sale_with_change(
                                sale_id,
                                actor,
                                justification.trim(),
                                at,
                                change,
                            )
                        },
                    )?;
                    return Ok(CancellationOutcome {
                        sale_id,
                        access_key: doc.access_key,
                        protocol: doc.protocol,
                        status_code: 135,
                    });
                }
                return Err(PosError::state(
                    "cancel the note",
                    "it is already cancelled",
                ));
            }
            FiscalStatus::Pending | FiscalStatus::Contingency | FiscalStatus::Rejected => {
                return Err(PosError::state(
                    "cancel the note",
                    "cancellation only after authorization: the note is still waiting for SEFAZ (transmit it first)",
                ));
            }
            FiscalStatus::Denied => {
                return Err(PosError::state(
                    "cancel the note",
                    "SEFAZ denied this note; there is nothing to cancel",
                ));
            }
        }
        let protocol = doc.protocol.clone().ok_or_else(|| {
            PosError::state("cancel the note", "cancellation only after authorization")
        })?;
        let config = lock(&self.inner.config).clone();
        let certificate = lock(&self.inner.certificate)
            .clone()
            .ok_or_else(|| PosError::state("cancel the note", "no A1 certificate installed"))?;
        let authorized_at = note_facts(&doc.xml)?
            .authorized_at
            .unwrap_or_else(|| local_time(doc.updated_at, config.utc_offset_minutes));
        let requested_at = local_time(self.now(), config.utc_offset_minutes);
        let key: AccessKey = doc.access_key.parse().map_err(|_| PosError::Storage {
            detail: "the stored access key is damaged".into(),
        })?;
        let cancellation = Cancellation {
            access_key: key,
            environment: config.emitter.environment,
            protocol,
            authorized_at,
            requested_at,
            justification: justification.trim().to_owned(),
            sequence: 1,
        };
        // RSA signing: on a blocking thread, not on the async worker running this call.
        let event = blocking(move || {
            build_cancellation(&cancellation, CancellationWindow::default(), &certificate)
        })
        .await?
        .map_err(event_error)?;
        let transmitter = self.sefaz_for("note cancellation")?;
        let lote = event_lote_number();
        let answer = transmitter
            .client()
            .send_events(lote, &[event.xml.as_str()])
            .await
            .map_err(|e| PosError::offline("note cancellation", e.to_string()))?;
        let result = answer.results.into_iter().next();
        let at = self.now();
        let performer = Actor::User(auth.responsible().user_id);
        let subject = format!("sale:{sale_id} note:{} cancellation", doc.number);
        let execution = auth.execution(Action::CancelNote, subject, at);
        let Some(result) = result.filter(|r| r.is_registered()) else {
            return Err(self.refused_by_sefaz(execution, answer.status));
        };
        let fiscal_events = self.record_fiscal_event(FiscalEventRecord {
            kind: "cancellation".into(),
            sale_id: Some(sale_id.to_string()),
            access_key: Some(doc.access_key.clone()),
            first: None,
            last: None,
            status_code: result.status.code,
            protocol: result.protocol_number.clone(),
            registered_at: at,
            justification: justification.trim().to_owned(),
            xml: event_proc(&event.xml, &result.xml),
        })?;
        // The note cancelled, the sale voided, its payments given back from the open register,
        // the event recorded and the authorization audited: one transaction, so a crash leaves
        // either all of it or none (and then the `Cancelled` consult path above finishes it on
        // the next attempt). The register is changed in place under the device's lock.
        let stored = self.stored_sale(sale_id)?;
        let mut device = self.device();
        let register = refunded(device.register.as_ref(), &stored.sale)?;
        let change = LocalChange {
            fiscal_events,
            settings: changed_register_setting(register.as_ref(), device.last_sale)?,
            ..Default::default()
        };
        let cancelled = FiscalUpdate {
            status: Some(FiscalStatus::Cancelled),
            protocol: result.protocol_number.clone(),
            ..Default::default()
        };
        self.execute(execution, change, |store, change| {
            store.cancel_fiscal_document_and_void_sale(
                sale_id,
                &cancelled,
                justification.trim(),
                performer,
                at,
                change,
            )
        })?;
        if register.is_some() {
            device.register = register;
        }
        drop(device);
        self.refresh_fiscal_status()?;
        Ok(CancellationOutcome {
            sale_id,
            access_key: doc.access_key,
            protocol: result.protocol_number,
            status_code: result.status.code,
        })
    }

    /// Cancels a superseded authorized note naming this sale's note as its substitute (110112).
    pub async fn cancel_by_substitution(
        &self,
        sale_id: SaleId,
        superseded_access_key: String,
        justification: String,
        approval: Option<Approval>,
    ) -> PosResult<CancellationOutcome> {
        self.on_core(move |pos| async move {
            pos.cancel_by_substitution_on_core(
                sale_id,
                &superseded_access_key,
                &justification,
                approval.as_ref(),
            )
            .await
        })
        .await
    }

    /// Cancels by substitution (event 110112) a note SEFAZ authorized that the sale no longer
    /// uses — a normal note that timed out and turned out authorized after its replacement was
    /// issued — naming the sale's own authorized note as the substitute. SEFAZ is consulted
    /// first: only an authorized, not yet cancelled note is cancelled. Manager duty.
    async fn cancel_by_substitution_on_core(
        &self,
        sale_id: SaleId,
        superseded_access_key: &str,
        justification: &str,
        approval: Option<&Approval>,
    ) -> PosResult<CancellationOutcome> {
        let auth = self.authorize_with(Action::CancelNote, approval)?;
        check_justification(justification)?;
        let doc = lock(&self.inner.store)
            .fiscal_document(sale_id)
            .map_err(storage)?
            .ok_or_else(|| PosError::NotFound {
                what: "fiscal note of the sale".into(),
            })?;
        if doc.status != FiscalStatus::Authorized {
            return Err(PosError::state(
                "cancel by substitution",
                "the substitute note must be authorized first (transmit it)",
            ));
        }
        if doc.access_key == superseded_access_key {
            return Err(PosError::invalid(
                "superseded_access_key",
                "is the sale's own note; use cancel_sale to cancel it",
            ));
        }
        let original: AccessKey = superseded_access_key
            .parse()
            .map_err(|e| PosError::invalid("superseded_access_key", format!("{e}")))?;
        let substitute: AccessKey = doc.access_key.parse().map_err(|_| PosError::Storage {
            detail: "the stored access key is damaged".into(),
        })?;
        let config = lock(&self.inner.config).clone();
        let certificate = lock(&self.inner.certificate).clone().ok_or_else(|| {
            PosError::state("cancel by substitution", "no A1 certificate installed")
        })?;
        let transmitter = self.sefaz_for("cancellation by substitution")?;
        let query = transmitter
            .client()
            .consult(original.as_str())
            .await
            .map_err(|e| PosError::offline("cancellation by substitution", e.to_string()))?;
        let protocol = query
            .protocol
            .filter(|p| {
                matches!(p.status.code, 100 | 150) && matches!(query.status.code, 100 | 150)
            })
            // SEFAZ's own answer says why (217: not in its base; 101: already cancelled).
            .ok_or_else(|| PosError::Rejected {
                code: query.status.code.to_string(),
                reason: query.status.reason.clone(),
            })?;
        let number = protocol.protocol_number.clone().ok_or_else(|| {
            PosError::state(
                "cancel by substitution",
                "SEFAZ gave no authorization protocol",
            )
        })?;
        let substitution = SubstitutionCancellation {
            cancellation: Cancellation {
                access_key: original.clone(),
                environment: config.emitter.environment,
                protocol: number,
                authorized_at: protocol.received_at,
                requested_at: local_time(self.now(), config.utc_offset_minutes),
                justification: justification.trim().to_owned(),
                sequence: 1,
            },
            substitute_key: substitute,
            software_version: config.emitter.software_version.clone(),
        };
        // RSA signing: on a blocking thread, not on the async worker running this call.
        let event = blocking(move || {
            build_substitution_cancellation(
                &substitution,
                CancellationWindow::default(),
                &certificate,
            )
        })
        .await?
        .map_err(event_error)?;
        let lote = event_lote_number();
        let answer = transmitter
            .client()
            .send_events(lote, &[event.xml.as_str()])
            .await
            .map_err(|e| PosError::offline("cancellation by substitution", e.to_string()))?;
        let at = self.now();
        let subject = format!(
            "sale:{sale_id} superseded:{} substitution",
            original.as_str()
        );
        let execution = auth.execution(Action::CancelNote, subject, at);
        let Some(result) = answer
            .results
            .into_iter()
            .next()
            .filter(|r| r.is_registered())
        else {
            return Err(self.refused_by_sefaz(execution, answer.status));
        };
        let fiscal_events = self.record_fiscal_event(FiscalEventRecord {
            kind: "substitution".into(),
            sale_id: Some(sale_id.to_string()),
            access_key: Some(original.as_str().to_owned()),
            first: None,
            last: None,
            status_code: result.status.code,
            protocol: result.protocol_number.clone(),
            registered_at: at,
            justification: justification.trim().to_owned(),
            xml: event_proc(&event.xml, &result.xml),
        })?;
        // The sale's own note stays authorized: the event record, the mutation that tells the
        // server, and the audit entry, in one transaction.
        let change = LocalChange {
            fiscal_events,
            mutations: vec![Mutation::NoteCancelledBySubstitution {
                sale_id,
                cancelled_access_key: original.as_str().to_owned(),
                substitute_access_key: doc.access_key.clone(),
                protocol: result.protocol_number.clone(),
                justification: justification.trim().to_owned(),
                at,
            }],
            ..Default::default()
        };
        self.execute(execution, change, execute::record)?;
        Ok(CancellationOutcome {
            sale_id,
            access_key: original.as_str().to_owned(),
            protocol: result.protocol_number,
            status_code: result.status.code,
        })
    }

    /// Numbers of this device's series reserved and never used by a sale.
    pub fn unused_fiscal_numbers(&self) -> PosResult<Vec<u32>> {
        self.alive()?;
        let series = lock(&self.inner.config).emitter.series;
        lock(&self.inner.store)
            .unused_fiscal_numbers(FiscalSeries { model: 65, series })
            .map_err(storage)
    }

    /// Voids the reserved-unused numbers with SEFAZ, one request per contiguous range.
    pub async fn inutilize_unused_numbers(
        &self,
        justification: String,
        approval: Option<Approval>,
    ) -> PosResult<Vec<VoidedRange>> {
        self.on_core(move |pos| async move {
            pos.inutilize_unused_numbers_on_core(&justification, approval.as_ref())
                .await
        })
        .await
    }

    /// Declares every reserved-unused number of this device's series unused to SEFAZ
    /// (inutilização), one request per contiguous range, recording each protocol. A manager's
    /// duty (`cancel_note` permission, or `approval`).
    async fn inutilize_unused_numbers_on_core(
        &self,
        justification: &str,
        approval: Option<&Approval>,
    ) -> PosResult<Vec<VoidedRange>> {
        let auth = self.authorize_with(Action::CancelNote, approval)?;
        check_justification(justification)?;
        let config = lock(&self.inner.config).clone();
        let series = FiscalSeries {
            model: 65,
            series: config.emitter.series,
        };
        let unused = lock(&self.inner.store)
            .unused_fiscal_numbers(series)
            .map_err(storage)?;
        if unused.is_empty() {
            return Ok(Vec::new());
        }
        let certificate = lock(&self.inner.certificate)
            .clone()
            .ok_or_else(|| PosError::state("inutilização", "no A1 certificate installed"))?;
        let transmitter = self.sefaz_for("inutilização")?;
        let performer = Actor::User(auth.responsible().user_id);
        let mut voided = Vec::new();
        for (first, last) in ranges(&unused) {
            let local_now = local_time(self.now(), config.utc_offset_minutes);
            let request = Inutilizacao {
                uf: config.emitter.address.uf,
                environment: config.emitter.environment,
                cnpj: config.emitter.cnpj.clone(),
                year: local_now.year(),
                series: series.series,
                first,
                last,
                justification: justification.trim().to_owned(),
            };
            // RSA signing: on a blocking thread, not on the async worker running this call.
            let certificate = Arc::clone(&certificate);
            let signed = blocking(move || build_inutilizacao(&request, &certificate, local_now))
                .await?
                .map_err(event_error)?;
            let answer = transmitter
                .client()
                .inutilize(&signed.xml)
                .await
                .map_err(|e| PosError::offline("inutilização", e.to_string()))?;
            let at = self.now();
            let subject = format!("series:65:{}:{first}-{last} inutilizacao", series.series);
            // One request, one execution, one entry per range: the approval given for the
            // whole series covers each of its ranges.
            let execution = auth.clone().execution(Action::CancelNote, subject, at);
            if !answer.is_voided() {
                return Err(self.refused_by_sefaz(execution, answer.status));
            }
            let fiscal_events = self.record_fiscal_event(FiscalEventRecord {
                kind: "inutilizacao".into(),
                sale_id: None,
                access_key: None,
                first: Some(first),
                last: Some(last),
                status_code: answer.status.code,
                protocol: answer.protocol_number.clone(),
                registered_at: at,
                justification: justification.trim().to_owned(),
                xml: inutilization_proc(&signed.xml, &answer.xml),
            })?;
            // The store writes the FiscalNumbersVoided mutation and its audit entry, with the
            // event record and the authorization's entry, in one transaction.
            let numbers = VoidedNumbers {
                series,
                first,
                last,
                justification: justification.trim().to_owned(),
                protocol: answer.protocol_number.clone(),
            };
            let change = LocalChange {
                fiscal_events,
                ..Default::default()
            };
            self.execute(execution, change, |store, change| {
                store.record_fiscal_numbers_voided_with_change(&numbers, performer, at, change)
            })?;
            voided.push(VoidedRange {
                series: series.series,
                first,
                last,
                protocol: answer.protocol_number,
            });
        }
        Ok(voided)
    }
}

#[cfg(test)]
mod tests {
    use super::ranges;

    #[test]
    fn contiguous_numbers_make_one_range() {
        assert_eq!(ranges(&[]), vec![]);
        assert_eq!(
            ranges(&[4, 5, 6, 9, 11, 12]),
            vec![(4, 6), (9, 9), (11, 12)]
        );
    }
}
