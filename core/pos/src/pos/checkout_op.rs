//! Checkout: the ticket and its payments become one committed sale — sale, lines, payments,
//! stock and balance deltas, the signed NFC-e and its number, the register tally, the approvals'
//! audit entries and the outbox mutations, in one durable transaction — and then the receipt
//! prints. Nothing here waits on the network when SEFAZ is known to be unreachable.

use chrono::{DateTime, Utc};
use tenda_devices::{PrintJob, layout_danfe};
use tenda_domain::{
    Action, Actor, EmissionType, FiscalStatus, Money, Payment, Quantity, Sale, SaleHeader, SaleId,
};
use tenda_fiscal::nfce::{SignedNfce, build_and_sign};
use tenda_fiscal::sefaz::{NoteOutcome, PendingNote};
use tenda_store::{FiscalSeries, FiscalUpdate, LocalChange, SaleCommit, SignedFiscalDocument};

use super::{FiscalCause, Pos, lock, saved_state, storage, transition_audit};
use crate::checkout::payments::{PaymentRequest, precheck};
use crate::contingency::{ContingencyEvent, Emission};
use crate::error::{PosError, PosResult, cart_error, fiscal_error_text, payment_error, sale_error};
use crate::fiscal_doc::{NoteEmission, NoteForReceipt, danfe, local_time, nfce_input};

/// The sale's note as the seller sees it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct NoteSummary {
    pub number: u32,
    pub series: u16,
    pub access_key: String,
    pub status: FiscalStatus,
    pub contingency: bool,
    /// For contingency notes: the last instant to transmit.
    pub deadline: Option<DateTime<Utc>>,
    pub qr_code: String,
}

/// What a checkout produced.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SaleOutcome {
    pub sale_id: SaleId,
    pub local_number: u64,
    pub total: Money,
    pub change: Money,
    pub note: Option<NoteSummary>,
    /// ESC/POS size of the receipt (it is kept ready even when the printer is away).
    pub receipt_bytes: u32,
    pub printed: bool,
    /// Why the receipt did not print (paper, cover, link); the sale stands: reprint it.
    pub print_error: Option<String>,
}

/// The committed part of a checkout, before printing.
pub(crate) struct Committed {
    pub outcome: SaleOutcome,
    pub job: Option<PrintJob>,
    /// A normal (tpEmis 1) note committed as pending, to authorize online now.
    pub online: Option<(Sale, SignedNfce)>,
}

impl Pos {
    /// Finishes the sale on the ticket with `payments` and prints its receipt.
    pub async fn checkout(&self, payments: Vec<PaymentRequest>) -> PosResult<SaleOutcome> {
        if payments
            .iter()
            .any(|p| matches!(p, PaymentRequest::Card { .. }))
        {
            return self
                .on_core(move |pos| async move { pos.checkout_on_core(payments).await })
                .await;
        }
        // Nothing to charge first: the commit goes straight to a blocking thread, and the core's
        // async workers are asked only for what follows it (online authorization, printing).
        self.alive()?;
        let pos = self.clone();
        let committed = self
            .inner
            .runtime
            .run_blocking(move || pos.checkout_commit(&payments, &Default::default()))
            .await?;
        if committed.online.is_none() && (committed.job.is_none() || !self.has_printer()) {
            return Ok(committed.outcome);
        }
        self.on_core(move |pos| async move { pos.after_commit(committed).await })
            .await
    }

    /// Finishes a sale paid (partly) by card: the cards are charged before the commit, their
    /// authorizations go on the note.
    async fn checkout_on_core(&self, payments: Vec<PaymentRequest>) -> PosResult<SaleOutcome> {
        // The sale is validated first so no card is charged for a sale that would be refused.
        self.checkout_validate(&payments)?;
        let cards = self.charge_cards(&payments).await?;
        let pos = self.clone();
        let committed = tokio::task::spawn_blocking(move || pos.checkout_commit(&payments, &cards))
            .await
            .map_err(|e| PosError::Internal {
                detail: format!("checkout task: {e}"),
            })??;
        self.after_commit(committed).await
    }

    fn has_printer(&self) -> bool {
        lock(&self.inner.printer).is_some()
    }

    /// After the durable commit: authorize a normal note online, then print the receipt.
    async fn after_commit(&self, committed: Committed) -> PosResult<SaleOutcome> {
        let mut outcome = committed.outcome;
        let mut job = committed.job;
        if let Some((sale, note)) = committed.online {
            job = self.authorize_online(sale, note, &mut outcome).await?;
        }
        let printer = lock(&self.inner.printer).clone();
        if let (Some(printer), Some(job)) = (printer, job) {
            match printer.print(&job).await {
                Ok(_) => outcome.printed = true,
                Err(e) => {
                    outcome.print_error = Some(e.to_string());
                    self.inner.hub.update(|s| {
                        s.printer = crate::status::PeripheralState::NeedsAttention {
                            reason: e.to_string(),
                        }
                    });
                }
            }
        }
        Ok(outcome)
    }

    /// Everything up to the durable commit, synchronously (callable from a blocking thread).
    pub(crate) fn checkout_commit(
        &self,
        requests: &[PaymentRequest],
        cards: &super::card_ops::CardCharges,
    ) -> PosResult<Committed> {
        let sell = self.authorize_with(Action::Sell, None)?;
        // The device's state stays locked until the sale is committed and the state updated in
        // place: a manager entering contingency, or a scan, waits for it instead of being
        // overwritten by this checkout's view of the state.
        let mut state = self.device();
        let ticket = state
            .session
            .as_ref()
            .ok_or_else(|| PosError::state("checkout", "nobody is signed in"))?
            .ticket
            .clone();
        if ticket.cart.lines.is_empty() {
            return Err(cart_error(tenda_domain::CartError::Empty));
        }
        let mut register = state
            .register
            .clone()
            .ok_or_else(|| PosError::state("checkout", "open the register first"))?;
        let config = lock(&self.inner.config).clone();
        let link = state.link;
        let at = self.now();

        let customer = match ticket.cart.customer_id {
            Some(id) => Some(
                lock(&self.inner.store)
                    .customer(id)
                    .map_err(storage)?
                    .ok_or_else(|| PosError::NotFound {
                        what: "customer".into(),
                    })?,
            ),
            None => None,
        };
        precheck(requests, link, customer.as_ref())?;
        if !config.sell_without_stock_check {
            self.check_stock(&ticket.cart)?;
        }
        let payments = requests
            .iter()
            .enumerate()
            .map(|(i, r)| match r {
                PaymentRequest::Cash { amount, tendered } => {
                    Payment::cash(*amount, *tendered).map_err(|e| payment_error(i, e))
                }
                PaymentRequest::Pix { amount, txid } => Ok(Payment::pix(*amount, txid.clone())),
                PaymentRequest::CustomerAccount { amount } => {
                    let id = customer
                        .as_ref()
                        .map(|c| c.id)
                        .ok_or_else(|| PosError::invalid("customer", "none chosen"))?;
                    Ok(Payment::on_account(*amount, id))
                }
                PaymentRequest::Card { .. } => {
                    cards.payment(i).ok_or_else(|| PosError::Peripheral {
                        device: "card_reader".into(),
                        reason: "no card reader is paired with this register".into(),
                    })
                }
            })
            .collect::<PosResult<Vec<_>>>()?;
        let header = SaleHeader {
            id: cards.sale_id.unwrap_or_default(),
            device_id: config.device_id,
            seller_id: sell.performer().user_id,
            created_at: at,
        };
        let sale = ticket.cart.checkout(header, payments).map_err(sale_error)?;

        // How the note is issued. With SEFAZ unreachable, the state machine decides: automatic
        // contingency per policy, or a refusal until a manager authorizes it.
        let device = Actor::Device(config.device_id);
        let mut fiscal = state.fiscal.clone();
        let mut audit = Vec::new();
        let online = self.can_reach_sefaz() && link == crate::status::LinkState::Online;
        let emission = match fiscal.emission(at, &config.contingency) {
            Ok(Emission::Online) if online => None,
            Ok(Emission::Online) => {
                let (next, transition) = fiscal.apply(
                    ContingencyEvent::SefazUnreachable {
                        at,
                        reason: "SEFAZ not reachable from this register".into(),
                    },
                    &config.contingency,
                )?;
                if let Some(t) = &transition {
                    audit.push(transition_audit(t, device));
                }
                fiscal = next;
                match fiscal.emission(at, &config.contingency) {
                    Ok(Emission::Contingency {
                        entered_at,
                        justification,
                    }) => Some((entered_at, justification)),
                    Ok(Emission::Online) => {
                        return Err(PosError::Internal {
                            detail: "still online after unreachable".into(),
                        });
                    }
                    Err(e) => {
                        // Persist "contingency required" so the screens show it, then refuse.
                        let mut store = lock(&self.inner.store);
                        self.save_fiscal_state(
                            &mut state,
                            &mut store,
                            &fiscal,
                            None,
                            FiscalCause::Device {
                                actor: device,
                                audit,
                            },
                        )?;
                        return Err(e.into());
                    }
                }
            }
            Ok(Emission::Contingency {
                entered_at,
                justification,
            }) => Some((entered_at, justification)),
            Err(e) => return Err(e.into()),
        };
        // A transition (SEFAZ found unreachable) is saved with the sale, as of the sales before
        // it; the sale's own note and payments are not: its row holds them, and they are
        // counted from it when the device opens (`saved_state`).
        let mut settings = Vec::new();
        if fiscal != state.fiscal {
            settings.push(saved_state::fiscal_setting(&fiscal, state.last_sale)?);
        }
        if emission.is_some() {
            let (next, _) = fiscal.apply(
                ContingencyEvent::ContingencyNoteIssued { at },
                &config.contingency,
            )?;
            fiscal = next;
        }

        register.tally.add_sale(&sale.payments)?;
        for approval in &ticket.approvals {
            // Each approval the ticket collected, audited as the action it was given for.
            audit.push(approval.succeeded(approval.action(), &format!("sale:{}", sale.id), at)?);
        }
        audit.extend(cards.audit.iter().cloned());
        let extra = LocalChange {
            settings,
            mutations: vec![],
            audit,
            ..Default::default()
        };

        let certificate = lock(&self.inner.certificate).clone().ok_or_else(|| {
            PosError::state("checkout", "the store's A1 certificate is not installed")
        })?;
        let contingency = emission.is_some();
        let note_emission = match emission {
            Some((since, justification)) => NoteEmission::Contingency {
                since,
                justification,
            },
            None => NoteEmission::Normal,
        };
        let series = FiscalSeries {
            model: 65,
            series: config.emitter.series,
        };
        let mut signed_note = None;
        let mut receipt_beside = None;
        let commit = SaleCommit {
            sale: sale.clone(),
            actor: Actor::User(sell.performer().user_id),
            register_session_id: Some(register.id),
        };
        // Why the note could not be built, if that is what stopped the commit: a fiscal error
        // (emitter data, certificate, tax data), not a storage one.
        let mut fiscal_failure: Option<PosError> = None;
        let committed = {
            let mut store = lock(&self.inner.store);
            let result = store.commit_sale_with_fiscal_and_change(
                &commit,
                series,
                |number| {
                    let input = match nfce_input(
                        &sale,
                        &config.emitter,
                        number,
                        &note_emission,
                        config.utc_offset_minutes,
                    ) {
                        Ok(input) => input,
                        Err(e) => {
                            let failure = e;
                            let text = failure.to_string();
                            fiscal_failure = Some(failure);
                            return Err(text);
                        }
                    };
                    let note = match build_and_sign(&input, &certificate) {
                        Ok(note) => note,
                        Err(e) => {
                            let text = fiscal_error_text(&e);
                            fiscal_failure = Some(PosError::Fiscal {
                                detail: text.clone(),
                            });
                            return Err(text);
                        }
                    };
                    let doc = SignedFiscalDocument {
                        access_key: note.access_key.as_str().to_owned(),
                        emission: if contingency {
                            EmissionType::OfflineContingency
                        } else {
                            EmissionType::Normal
                        },
                        status: if contingency {
                            FiscalStatus::Contingency
                        } else {
                            FiscalStatus::Pending
                        },
                        xml: note.xml.clone(),
                        protocol: None,
                        deadline: note.transmission_deadline.map(|d| d.to_utc()),
                    };
                    if contingency {
                        // The receipt is laid out on another thread while the sale's rows are
                        // written and made durable; it prints only after the commit.
                        let receipt = contingency_receipt(&note, &sale, config.utc_offset_minutes);
                        receipt_beside = Some(
                            self.lay_out_beside(danfe(&sale, &receipt, &config.emitter), &config),
                        );
                    }
                    signed_note = Some(note);
                    Ok(doc)
                },
                &extra,
            );
            match (result, fiscal_failure) {
                (Ok(c), _) => c,
                (Err(_), Some(fiscal)) => return Err(fiscal),
                (Err(e), None) => return Err(storage(e)),
            }
        };
        let note = signed_note.ok_or_else(|| PosError::Internal {
            detail: "note signed but not returned".into(),
        })?;

        // The commit is durable: now update what the screens see and clear the ticket.
        state.card_charged = None;
        state.card_risk = None;
        state.register = Some(register);
        state.fiscal = fiscal.clone();
        state.last_sale = committed.local_number;
        if let Some(s) = state.session.as_mut() {
            s.ticket = Default::default();
        }
        drop(state);
        let deadline = note.transmission_deadline.map(|d| d.to_utc());
        if !contingency {
            let summary = NoteSummary {
                number: note.number,
                series: note.series,
                access_key: note.access_key.as_str().to_owned(),
                status: FiscalStatus::Pending,
                contingency: false,
                deadline: None,
                qr_code: note.qr_code.clone(),
            };
            return Ok(Committed {
                outcome: SaleOutcome {
                    sale_id: committed.sale_id,
                    local_number: committed.local_number,
                    total: sale.total,
                    change: sale.change,
                    note: Some(summary),
                    receipt_bytes: 0,
                    printed: false,
                    print_error: None,
                },
                job: None,
                online: Some((sale, note)),
            });
        }
        self.inner.hub.update(|s| {
            s.sefaz = crate::status::SefazMode::from(&fiscal);
            s.pending_notes += 1;
            s.pending_sync += 2;
            if let Some(d) = deadline {
                s.nearest_deadline = Some(s.nearest_deadline.map_or(d, |n| n.min(d)));
            }
        });

        let (job, bytes) = match receipt_beside {
            Some(laid_out) => laid_out.recv().unwrap_or_else(|_| {
                // The layout thread could not run (the runtime is stopping): lay it out here.
                let receipt = contingency_receipt(&note, &sale, config.utc_offset_minutes);
                lay_out(&danfe(&sale, &receipt, &config.emitter), &config)
            })?,
            None => {
                let receipt = contingency_receipt(&note, &sale, config.utc_offset_minutes);
                lay_out(&danfe(&sale, &receipt, &config.emitter), &config)?
            }
        };
        Ok(Committed {
            outcome: SaleOutcome {
                sale_id: committed.sale_id,
                local_number: committed.local_number,
                total: sale.total,
                change: sale.change,
                note: Some(NoteSummary {
                    number: note.number,
                    series: note.series,
                    access_key: note.access_key.as_str().to_owned(),
                    status: FiscalStatus::Contingency,
                    contingency: true,
                    deadline,
                    qr_code: note.qr_code,
                }),
                receipt_bytes: u32::try_from(bytes).unwrap_or(u32::MAX),
                printed: false,
                print_error: None,
            },
            job: Some(job),
            online: None,
        })
    }

    /// Lays out and encodes a DANFE on one of the core's blocking threads; the answer arrives
    /// on the returned channel (which closes unanswered if the thread could not run).
    fn lay_out_beside(
        &self,
        danfe: tenda_devices::receipt::Danfe,
        config: &crate::config::PosConfig,
    ) -> std::sync::mpsc::Receiver<PosResult<(PrintJob, usize)>> {
        let (answer, laid_out) = std::sync::mpsc::sync_channel(1);
        let (profile, options) = (config.printer_profile.clone(), config.danfe);
        self.inner.runtime.handle().spawn_blocking(move || {
            let _ = answer.send(lay_out_for(&danfe, &profile, &options));
        });
        laid_out
    }

    /// Lays out and encodes a sale's DANFE.
    fn receipt_job(&self, sale: &Sale, note: &NoteForReceipt) -> PosResult<(PrintJob, usize)> {
        let config = lock(&self.inner.config).clone();
        lay_out(&danfe(sale, note, &config.emitter), &config)
    }

    /// Online: authorize the committed normal note synchronously, within the configured timeout.
    /// On timeout or an unreachable SEFAZ: consult (and resend if unknown) once more, then fall
    /// back to the contingency state machine and re-sign the note offline with the same number.
    async fn authorize_online(
        &self,
        sale: Sale,
        note: SignedNfce,
        outcome: &mut SaleOutcome,
    ) -> PosResult<Option<PrintJob>> {
        let Ok(transmitter) = self.transmitter("authorize the note") else {
            return Ok(None);
        };
        let config = lock(&self.inner.config).clone();
        let timeout = std::time::Duration::from_millis(config.sefaz_timeout_ms);
        let device = Actor::Device(config.device_id);
        let key = note.access_key.as_str().to_owned();
        let mut answer = None;
        for consult_first in [false, true] {
            let pending = PendingNote {
                access_key: key.clone(),
                signed_xml: note.xml.clone(),
                issued_at: sale.created_at,
                consult_first,
            };
            if let Ok(report) =
                tokio::time::timeout(timeout, transmitter.transmit(vec![pending])).await
                && let Some(n) = report.notes.into_iter().next()
                && !matches!(n.outcome, NoteOutcome::Deferred(_))
            {
                answer = Some(n.outcome);
                break;
            }
        }
        let base = NoteForReceipt {
            number: note.number,
            series: note.series,
            access_key: key.clone(),
            qr_code: note.qr_code.clone(),
            url_chave: note.url_chave.clone(),
            issued_at: note.issued_at,
            contingency: false,
            status: FiscalStatus::Pending,
            protocol: None,
            authorized_at: None,
        };
        let mut summary = outcome.note.clone().ok_or_else(|| PosError::Internal {
            detail: "online sale without note".into(),
        })?;
        let job = match answer {
            Some(NoteOutcome::Authorized(a)) => {
                let update = FiscalUpdate {
                    status: Some(FiscalStatus::Authorized),
                    protocol: a.protocol_number.clone(),
                    xml: Some(a.nfe_proc.clone()),
                    ..Default::default()
                };
                lock(&self.inner.store)
                    .update_fiscal_document(sale.id, &update, device, self.now())
                    .map_err(storage)?;
                summary.status = FiscalStatus::Authorized;
                let receipt = NoteForReceipt {
                    status: FiscalStatus::Authorized,
                    protocol: a.protocol_number,
                    authorized_at: Some(a.received_at),
                    ..base
                };
                Some(self.receipt_job(&sale, &receipt)?)
            }
            Some(NoteOutcome::AlreadyAuthorized {
                protocol_number, ..
            }) => {
                let update = FiscalUpdate {
                    status: Some(FiscalStatus::Authorized),
                    protocol: protocol_number.clone(),
                    ..Default::default()
                };
                lock(&self.inner.store)
                    .update_fiscal_document(sale.id, &update, device, self.now())
                    .map_err(storage)?;
                summary.status = FiscalStatus::Authorized;
                let receipt = NoteForReceipt {
                    status: FiscalStatus::Authorized,
                    protocol: protocol_number,
                    authorized_at: Some(local_time(self.now(), config.utc_offset_minutes)),
                    ..base
                };
                Some(self.receipt_job(&sale, &receipt)?)
            }
            Some(NoteOutcome::Rejected(r)) => {
                let update = FiscalUpdate {
                    status: Some(FiscalStatus::Rejected),
                    rejection_code: Some(r.status.code.to_string()),
                    rejection_reason: Some(r.status.reason.clone()),
                    ..Default::default()
                };
                lock(&self.inner.store)
                    .update_fiscal_document(sale.id, &update, device, self.now())
                    .map_err(storage)?;
                summary.status = FiscalStatus::Rejected;
                outcome.print_error = Some(format!(
                    "SEFAZ rejected the note ({}): {} — correct it and resend",
                    r.status.code, r.status.reason
                ));
                None
            }
            Some(NoteOutcome::Denied(a)) => {
                let update = FiscalUpdate {
                    status: Some(FiscalStatus::Denied),
                    protocol: a.protocol_number,
                    rejection_code: Some(a.status.code.to_string()),
                    rejection_reason: Some(a.status.reason.clone()),
                    ..Default::default()
                };
                lock(&self.inner.store)
                    .update_fiscal_document(sale.id, &update, device, self.now())
                    .map_err(storage)?;
                summary.status = FiscalStatus::Denied;
                outcome.print_error = Some(format!("SEFAZ denied the note ({})", a.status.code));
                None
            }
            Some(NoteOutcome::Deferred(_)) | None => {
                let state = self.sefaz_unreachable(
                    "no answer from SEFAZ within the sale timeout, consult included",
                )?;
                match state.emission(self.now(), &config.contingency) {
                    Ok(Emission::Contingency {
                        entered_at,
                        justification,
                    }) => {
                        let cert = lock(&self.inner.certificate)
                            .clone()
                            .ok_or_else(|| PosError::state("contingency", "no certificate"))?;
                        // The outage began with this sale's failed attempt: dhCont may not be later
                        // than the note's dhEmi.
                        let since = entered_at.min(sale.created_at);
                        let input = nfce_input(
                            &sale,
                            &config.emitter,
                            note.number,
                            &NoteEmission::Contingency {
                                since,
                                justification,
                            },
                            config.utc_offset_minutes,
                        )?;
                        let offline = build_and_sign(&input, &cert)
                            .map_err(|e| PosError::invalid("nfce", fiscal_error_text(&e)))?;
                        let update = FiscalUpdate {
                            status: Some(FiscalStatus::Contingency),
                            xml: Some(offline.xml.clone()),
                            access_key: Some(offline.access_key.as_str().to_owned()),
                            emission: Some(EmissionType::OfflineContingency),
                            deadline: offline.transmission_deadline.map(|d| d.to_utc()),
                            ..Default::default()
                        };
                        // SEFAZ may have authorized the normal note after all: it is kept with
                        // its twin, so the transmission can adopt it with its protocol if the
                        // twin is refused.
                        let keep_original = tenda_store::LocalChange {
                            superseded_notes: vec![tenda_store::SupersededNote {
                                sale_id: sale.id,
                                access_key: key.clone(),
                                signed_xml: note.xml.clone(),
                            }],
                            ..Default::default()
                        };
                        lock(&self.inner.store)
                            .update_fiscal_document_with_change(
                                sale.id,
                                &update,
                                device,
                                self.now(),
                                &keep_original,
                            )
                            .map_err(storage)?;
                        self.apply_fiscal_event(
                            ContingencyEvent::ContingencyNoteIssued { at: self.now() },
                            FiscalCause::device(device),
                        )?;
                        summary = NoteSummary {
                            number: offline.number,
                            series: offline.series,
                            access_key: offline.access_key.as_str().to_owned(),
                            status: FiscalStatus::Contingency,
                            contingency: true,
                            deadline: offline.transmission_deadline.map(|d| d.to_utc()),
                            qr_code: offline.qr_code.clone(),
                        };
                        let receipt = NoteForReceipt {
                            access_key: summary.access_key.clone(),
                            qr_code: offline.qr_code.clone(),
                            contingency: true,
                            status: FiscalStatus::Contingency,
                            ..base
                        };
                        Some(self.receipt_job(&sale, &receipt)?)
                    }
                    _ => {
                        outcome.print_error = Some(
                            "SEFAZ unreachable: the note is pending; a manager must authorize contingency to print it".into(),
                        );
                        None
                    }
                }
            }
        };
        outcome.note = Some(summary);
        self.refresh_fiscal_status()?;
        Ok(job.map(|(job, bytes)| {
            outcome.receipt_bytes = u32::try_from(bytes).unwrap_or(u32::MAX);
            job
        }))
    }

    /// Closed inventory: every line must be covered by the known stock.
    pub(crate) fn check_stock(&self, cart: &tenda_domain::Cart) -> PosResult<()> {
        let mut needed: std::collections::BTreeMap<tenda_domain::ProductId, (String, Quantity)> =
            Default::default();
        for l in &cart.lines {
            let e = needed
                .entry(l.product_id)
                .or_insert((l.name.clone(), Quantity::ZERO));
            e.1 =
                e.1.checked_add(l.quantity)
                    .map_err(|e| PosError::invalid("quantity", e.to_string()))?;
        }
        let mut store = lock(&self.inner.store);
        for (id, (name, qty)) in needed {
            let available = store.stock_level(id).map_err(storage)?;
            if available < qty {
                return Err(PosError::InsufficientStock {
                    product: name,
                    available_thousandths: available.thousandths(),
                    requested_thousandths: qty.thousandths(),
                });
            }
        }
        Ok(())
    }
}

/// What the DANFE of a note signed in contingency shows about it.
fn contingency_receipt(note: &SignedNfce, sale: &Sale, utc_offset_minutes: i32) -> NoteForReceipt {
    NoteForReceipt {
        number: note.number,
        series: note.series,
        access_key: note.access_key.as_str().to_owned(),
        qr_code: note.qr_code.clone(),
        url_chave: note.url_chave.clone(),
        issued_at: local_time(sale.created_at, utc_offset_minutes),
        contingency: true,
        status: FiscalStatus::Contingency,
        protocol: None,
        authorized_at: None,
    }
}

/// A DANFE laid out for the configured printer and encoded: the job and its ESC/POS size.
fn lay_out(
    danfe: &tenda_devices::receipt::Danfe,
    config: &crate::config::PosConfig,
) -> PosResult<(PrintJob, usize)> {
    lay_out_for(danfe, &config.printer_profile, &config.danfe)
}

fn lay_out_for(
    danfe: &tenda_devices::receipt::Danfe,
    profile: &tenda_devices::layout::PrinterProfile,
    options: &tenda_devices::receipt::DanfeOptions,
) -> PosResult<(PrintJob, usize)> {
    let job = layout_danfe(danfe, profile, options).map_err(|e| PosError::Peripheral {
        device: "printer".into(),
        reason: e.to_string(),
    })?;
    let bytes = tenda_devices::escpos::encode_job(&job).map_err(|e| PosError::Peripheral {
        device: "printer".into(),
        reason: e.to_string(),
    })?;
    Ok((job, bytes.len()))
}
