//! The background transmission of the backlog: notes waiting for SEFAZ go out in lotes, oldest
//! first; each answer updates the note (with its mutation and audit entry), SEFAZ's availability
//! drives the contingency state machine, and rejected notes land in the needs-correction list.

use chrono::Utc;
use tenda_domain::{Actor, EmissionType, FiscalStatus};
use tenda_fiscal::sefaz::{Availability, NoteOutcome, PendingNote};
use tenda_store::FiscalUpdate;

use super::{Pos, lock, storage};
use crate::error::{PosError, PosResult};

use super::workers::BACKOFF;
/// What one transmission run did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct TransmissionSummary {
    pub sent: u32,
    pub authorized: u32,
    /// Authorized with cStat 150 (after the contingency deadline).
    pub authorized_late: u32,
    pub rejected: u32,
    pub denied: u32,
    pub deferred: u32,
    /// Notes still waiting after the run.
    pub remaining: u32,
    pub sefaz_available: bool,
}

/// A note SEFAZ rejected, waiting for a manager's correction.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct NoteToCorrect {
    pub sale_id: tenda_domain::SaleId,
    pub number: u32,
    pub access_key: String,
    pub code: Option<String>,
    pub reason: Option<String>,
    /// The note's lines with the fiscal data it carries: what a correction changes.
    pub lines: Vec<super::correction_ops::NoteLineFiscal>,
}

impl Pos {
    /// Sends every note awaiting transmission now and applies the answers; the SEFAZ worker
    /// does the same by itself every probe interval. A pause SEFAZ imposed after a failure is
    /// respected, unless `lift_pause` (the seller pressed "send now" after the link came back).
    /// Safe to run again at any time: notes SEFAZ may have received are consulted before being
    /// resent, and authorized notes are never sent twice.
    pub async fn transmit_backlog(&self, lift_pause: bool) -> PosResult<TransmissionSummary> {
        self.on_core(move |pos| async move {
            if lift_pause {
                pos.transmitter("transmit notes")?.clear_pause();
            }
            pos.transmit_notes(None).await
        })
        .await
    }

    /// Transmits the waiting notes — all, or only `only`'s.
    pub(crate) async fn transmit_notes(
        &self,
        only: Option<tenda_domain::SaleId>,
    ) -> PosResult<TransmissionSummary> {
        let transmitter = self.transmitter("transmit notes")?;
        let _one_run = self.inner.sefaz.running.lock().await;
        let docs = lock(&self.inner.store)
            .fiscal_documents_awaiting_transmission(10_000)
            .map_err(storage)?;
        let queued: Vec<_> = docs
            .into_iter()
            .filter(|d| d.status != FiscalStatus::Rejected)
            .filter(|d| only.is_none_or(|id| d.sale_id == id))
            .collect();
        let notes: Vec<PendingNote> = queued
            .iter()
            .map(|d| PendingNote {
                access_key: d.access_key.clone(),
                signed_xml: d.xml.clone(),
                issued_at: d.issued_at,
                // A normal note still pending may have reached SEFAZ before a timeout; so may
                // any note whose last attempt timed out.
                consult_first: d.emission == EmissionType::Normal || d.consult_first,
            })
            .collect();
        let mut summary = TransmissionSummary {
            sent: u32::try_from(notes.len()).unwrap_or(u32::MAX),
            ..Default::default()
        };
        let report = if notes.is_empty() {
            None
        } else {
            Some(transmitter.transmit(notes).await)
        };
        let device = Actor::Device(lock(&self.inner.config).device_id);
        let available = match &report {
            Some(r) => matches!(r.availability, Availability::Available),
            None => true,
        };
        // A twin refused because SEFAZ holds the timed-out original: fetch the original's
        // protocol, so the stored document becomes its nfeProc (the legal record).
        let mut adopted: std::collections::BTreeMap<String, String> = Default::default();
        if let Some(report) = &report {
            for note in &report.notes {
                let NoteOutcome::AlreadyAuthorized { authorized_key, .. } = &note.outcome else {
                    continue;
                };
                let Some(doc) = queued.iter().find(|d| d.access_key == note.access_key) else {
                    continue;
                };
                let Some(original) = lock(&self.inner.store)
                    .superseded_note(doc.sale_id)
                    .map_err(storage)?
                    .filter(|o| &o.access_key == authorized_key)
                else {
                    continue;
                };
                if let Ok(query) = transmitter.client().consult(authorized_key).await
                    && let Some(protocol) = query.protocol
                    && matches!(protocol.status.code, 100 | 150)
                {
                    adopted.insert(
                        note.access_key.clone(),
                        tenda_fiscal::sefaz::nfe_proc::nfe_proc(
                            &original.signed_xml,
                            &protocol.xml,
                        ),
                    );
                }
            }
        }
        if let Some(report) = &report {
            let at = Utc::now();
            let mut updates = Vec::with_capacity(report.notes.len());
            let mut consult_first = Vec::new();
            let mut settled = Vec::new();
            for note in &report.notes {
                let Some(doc) = queued.iter().find(|d| d.access_key == note.access_key) else {
                    continue;
                };
                // Any answer clears the document's consult-first mark with its status.
                if let NoteOutcome::Deferred(d) = &note.outcome
                    && d.consult_first
                {
                    consult_first.push(note.access_key.clone());
                }
                let update = match &note.outcome {
                    NoteOutcome::Authorized(a) => {
                        summary.authorized += 1;
                        if a.late {
                            summary.authorized_late += 1;
                        }
                        FiscalUpdate {
                            status: Some(FiscalStatus::Authorized),
                            protocol: a.protocol_number.clone(),
                            xml: Some(a.nfe_proc.clone()),
                            // The store has no separate field for SEFAZ's final cStat: a late
                            // authorization (150) keeps its code here for the fiscal report.
                            rejection_code: a.late.then(|| a.status.code.to_string()),
                            rejection_reason: a
                                .late
                                .then(|| "cStat 150: authorized after the deadline".to_owned()),
                            ..Default::default()
                        }
                    }
                    NoteOutcome::AlreadyAuthorized {
                        authorized_key,
                        protocol_number,
                        ..
                    } => {
                        summary.authorized += 1;
                        let nfe_proc = adopted.get(&note.access_key).cloned();
                        if nfe_proc.is_some() {
                            settled.push(doc.sale_id);
                        }
                        FiscalUpdate {
                            status: Some(FiscalStatus::Authorized),
                            protocol: protocol_number.clone(),
                            access_key: Some(authorized_key.clone()),
                            emission: nfe_proc.as_ref().map(|_| EmissionType::Normal),
                            xml: nfe_proc,
                            ..Default::default()
                        }
                    }
                    NoteOutcome::Denied(a) => {
                        summary.denied += 1;
                        FiscalUpdate {
                            status: Some(FiscalStatus::Denied),
                            protocol: a.protocol_number.clone(),
                            rejection_code: Some(a.status.code.to_string()),
                            rejection_reason: Some(a.status.reason.clone()),
                            ..Default::default()
                        }
                    }
                    NoteOutcome::Rejected(r) => {
                        summary.rejected += 1;
                        FiscalUpdate {
                            status: Some(FiscalStatus::Rejected),
                            rejection_code: Some(r.status.code.to_string()),
                            rejection_reason: Some(r.status.reason.clone()),
                            ..Default::default()
                        }
                    }
                    NoteOutcome::Deferred(_) => {
                        summary.deferred += 1;
                        continue;
                    }
                };
                updates.push((doc.sale_id, update));
            }
            // The answers, the backoff and the notes to consult first are written in one
            // transaction: all of them or, after a failure, none (the notes still await
            // transmission, and a note SEFAZ already holds answers 204 and is settled by
            // consulting it).
            lock(&self.inner.store)
                .update_fiscal_documents_with_change(
                    &updates,
                    device,
                    at,
                    &tenda_store::LocalChange {
                        settings: vec![(
                            BACKOFF.to_owned(),
                            super::json(&transmitter.backoff_state())?,
                        )],
                        notes_to_consult_first: consult_first,
                        superseded_notes_settled: settled,
                        ..Default::default()
                    },
                )
                .map_err(storage)?;
        }
        let remaining = lock(&self.inner.store)
            .fiscal_documents_awaiting_transmission(10_000)
            .map_err(storage)?
            .iter()
            .filter(|d| d.status != FiscalStatus::Rejected)
            .count();
        summary.remaining = u32::try_from(remaining).unwrap_or(u32::MAX);
        // SEFAZ answering any note proves it is reachable, even if another call of the run failed.
        let available = available || summary.authorized + summary.rejected + summary.denied > 0;
        summary.sefaz_available = available;
        if available {
            self.sefaz_available(summary.remaining)?;
            self.backlog_changed(summary.remaining)?;
        } else if let Some(r) = &report
            && r.availability.contingency_advised()
        {
            self.sefaz_unreachable(&format!("{:?}", r.availability))?;
        }
        self.refresh_fiscal_status()?;
        Ok(summary)
    }

    /// Notes SEFAZ rejected, with the reason, for the manager to correct and resend.
    pub fn notes_to_correct(&self) -> PosResult<Vec<NoteToCorrect>> {
        self.alive()?;
        let docs = lock(&self.inner.store)
            .fiscal_documents_awaiting_transmission(10_000)
            .map_err(storage)?;
        let mut store = lock(&self.inner.store);
        docs.into_iter()
            .filter(|d| d.status == FiscalStatus::Rejected)
            .map(|d| {
                let sale = store
                    .sale(d.sale_id)
                    .map_err(storage)?
                    .ok_or_else(|| PosError::Storage {
                        detail: format!("the rejected note {} has no sale", d.number),
                    })?
                    .sale;
                let lines = (0u32..)
                    .zip(sale.lines)
                    .map(|(line, l)| super::correction_ops::NoteLineFiscal {
                        line,
                        sku: l.sku,
                        name: l.name,
                        fiscal: l.fiscal,
                    })
                    .collect();
                Ok(NoteToCorrect {
                    sale_id: d.sale_id,
                    number: d.number,
                    access_key: d.access_key,
                    code: d.rejection_code,
                    reason: d.rejection_reason,
                    lines,
                })
            })
            .collect()
    }
}
