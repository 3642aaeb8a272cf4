//! The offline sales list: every sale the server has not received yet (its outbox entry not
//! pushed) or whose note SEFAZ has not authorized yet, with its status and nearest deadline;
//! viewing one, reprinting its receipt (marked as a second copy), cancelling an unsynced sale
//! that has no note (explicit confirmation, audited), and "sync now".

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use tenda_devices::layout_danfe;
use tenda_domain::{Action, FiscalStatus, Money, Mutation, SaleId};
use tenda_store::{LocalChange, SaleStatus, StoredSale};

use super::cancel_ops::{changed_register_setting, refunded};
use super::correction_ops::note_facts;
use super::{Pos, execute, lock, storage};
use crate::error::{PosError, PosResult};
use crate::fiscal_doc::{NoteForReceipt, danfe, local_time};
use crate::pos::{Approval, TransmissionSummary};
use crate::register::PaymentKind;
use crate::reports::payment_kind;

/// A sale's note as the list shows it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SaleNoteState {
    pub number: u32,
    pub series: u16,
    pub access_key: String,
    pub status: FiscalStatus,
    pub contingency: bool,
    pub deadline: Option<DateTime<Utc>>,
    pub protocol: Option<String>,
    /// SEFAZ's code and reason for a rejection (the note waits for a correction).
    pub rejection: Option<String>,
}

/// One row of the offline sales list.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct OfflineSaleRow {
    pub sale_id: SaleId,
    pub local_number: u64,
    pub created_at: DateTime<Utc>,
    pub total: Money,
    /// The server has it.
    pub synced: bool,
    pub voided: bool,
    pub note: Option<SaleNoteState>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SaleLineRow {
    pub name: String,
    pub sku: String,
    pub quantity_thousandths: i64,
    pub unit: String,
    pub unit_price: Money,
    pub discount: Money,
    pub total: Money,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SalePaymentRow {
    pub kind: PaymentKind,
    pub amount: Money,
    /// Card brand and authorization (empty while a store-and-forward card awaits the link).
    pub detail: Option<String>,
}

/// One sale in full, for the sale screen.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SaleDetail {
    pub row: OfflineSaleRow,
    pub lines: Vec<SaleLineRow>,
    pub payments: Vec<SalePaymentRow>,
    pub change: Money,
    pub consumer_tax_id: Option<String>,
}

/// What a reprint did.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ReprintOutcome {
    pub receipt_bytes: u32,
    pub printed: bool,
    pub print_error: Option<String>,
}

/// What "sync now" started or did.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SyncNowOutcome {
    /// A sync round was requested from the running sync engine (sales go in order, so one
    /// sale syncs with everything recorded before it).
    pub sync_requested: bool,
    /// Why not, when the engine is not running.
    pub sync_unavailable: Option<String>,
    /// The notes transmission, when SEFAZ is configured.
    pub transmission: Option<TransmissionSummary>,
}

fn note_state(doc: &tenda_store::FiscalDocument) -> SaleNoteState {
    SaleNoteState {
        number: doc.number,
        series: doc.series.series,
        access_key: doc.access_key.clone(),
        status: doc.status,
        contingency: doc.emission != tenda_domain::EmissionType::Normal,
        deadline: doc.deadline,
        protocol: doc.protocol.clone(),
        rejection: match (&doc.rejection_code, &doc.rejection_reason) {
            (Some(c), Some(r)) => Some(format!("{c}: {r}")),
            (Some(c), None) => Some(c.clone()),
            _ => None,
        },
    }
}

fn row(stored: &StoredSale, synced: bool) -> OfflineSaleRow {
    OfflineSaleRow {
        sale_id: stored.sale.id,
        local_number: stored.local_number,
        created_at: stored.sale.created_at,
        total: stored.sale.total,
        synced,
        voided: stored.status == SaleStatus::Voided,
        note: stored.fiscal.as_ref().map(note_state),
    }
}

impl Pos {
    /// Sale ids whose `SaleRecorded` the server has not acknowledged yet.
    fn unsynced_sales(&self) -> PosResult<Vec<SaleId>> {
        let pending = self.reader()?.outbox_pending(u32::MAX).map_err(storage)?;
        Ok(pending
            .into_iter()
            .filter_map(|e| match e.mutation {
                Mutation::SaleRecorded(r) => Some(r.sale.id),
                _ => None,
            })
            .collect())
    }

    /// Every sale not yet synced or whose note is not yet authorized, nearest deadline first
    /// (then oldest first).
    pub fn offline_sales(&self) -> PosResult<Vec<OfflineSaleRow>> {
        self.alive()?;
        let unsynced = self.unsynced_sales()?;
        let awaiting = self
            .reader()?
            .fiscal_documents_awaiting_transmission(u32::MAX)
            .map_err(storage)?;
        let mut ids: BTreeMap<SaleId, bool> = BTreeMap::new();
        for id in &unsynced {
            ids.insert(*id, false);
        }
        for d in &awaiting {
            ids.entry(d.sale_id).or_insert(true);
        }
        let mut rows = Vec::with_capacity(ids.len());
        let mut store = self.reader()?;
        for (id, synced) in ids {
            if let Some(stored) = store.sale(id).map_err(storage)? {
                rows.push(row(&stored, synced));
            }
        }
        rows.sort_by_key(|r| {
            (
                r.note.as_ref().and_then(|n| n.deadline).is_none(),
                r.note.as_ref().and_then(|n| n.deadline),
                r.created_at,
            )
        });
        Ok(rows)
    }

    /// One sale with its lines, payments and note status.
    pub fn sale_detail(&self, sale_id: SaleId) -> PosResult<SaleDetail> {
        self.alive()?;
        let synced = !self.unsynced_sales()?.contains(&sale_id);
        let stored = self.stored_sale(sale_id)?;
        let sale = &stored.sale;
        Ok(SaleDetail {
            row: row(&stored, synced),
            lines: sale
                .lines
                .iter()
                .map(|l| SaleLineRow {
                    name: l.name.clone(),
                    sku: l.sku.clone(),
                    quantity_thousandths: l.quantity.thousandths(),
                    unit: l.unit.code().to_owned(),
                    unit_price: l.unit_price,
                    discount: l.discount,
                    total: l.total,
                })
                .collect(),
            payments: sale
                .payments
                .iter()
                .map(|p| SalePaymentRow {
                    kind: payment_kind(&p.method),
                    amount: p.amount,
                    detail: match &p.method {
                        tenda_domain::PaymentMethod::Card {
                            brand,
                            authorization,
                            ..
                        } => Some(format!(
                            "{} {}",
                            brand.as_deref().unwrap_or("card"),
                            authorization
                                .as_deref()
                                .unwrap_or("(awaiting the link: store-and-forward)")
                        )),
                        _ => None,
                    },
                })
                .collect(),
            change: sale.change,
            consumer_tax_id: sale.consumer_tax_id.as_ref().map(|t| t.formatted()),
        })
    }

    pub(crate) fn stored_sale(&self, sale_id: SaleId) -> PosResult<StoredSale> {
        self.reader()?
            .sale(sale_id)
            .map_err(storage)?
            .ok_or_else(|| PosError::NotFound {
                what: "sale".into(),
            })
    }

    /// The sale's DANFE NFC-e as a PNG, dot for dot what the paired printer prints (the note's
    /// current status and protocol): the receipt preview a screen shows after a sale.
    pub fn receipt_png(&self, sale_id: SaleId) -> PosResult<Vec<u8>> {
        self.alive()?;
        let job = self.sale_receipt_job(sale_id, false)?;
        tenda_devices::preview::render_job_png(&job).map_err(|e| PosError::Peripheral {
            device: "printer".into(),
            reason: e.to_string(),
        })
    }

    /// The print job of the sale's DANFE; `second_copy` marks it "SEGUNDA VIA".
    fn sale_receipt_job(
        &self,
        sale_id: SaleId,
        second_copy: bool,
    ) -> PosResult<tenda_devices::PrintJob> {
        let stored = self.stored_sale(sale_id)?;
        let doc = stored
            .fiscal
            .clone()
            .ok_or_else(|| PosError::state("reprint", "this sale has no fiscal note to print"))?;
        let config = lock(&self.inner.config).clone();
        let facts = note_facts(&doc.xml)?;
        let issued_at = facts
            .issued_at
            .unwrap_or_else(|| local_time(doc.issued_at, config.utc_offset_minutes));
        let note = NoteForReceipt {
            number: doc.number,
            series: doc.series.series,
            access_key: doc.access_key.clone(),
            qr_code: facts.qr_code.unwrap_or_default(),
            url_chave: facts.url_chave.unwrap_or_default(),
            issued_at,
            contingency: doc.emission != tenda_domain::EmissionType::Normal,
            status: doc.status,
            protocol: doc.protocol.clone(),
            authorized_at: facts.authorized_at,
        };
        let mut receipt = danfe(&stored.sale, &note, &config.emitter);
        if second_copy {
            receipt
                .taxpayer_messages
                .insert(0, "SEGUNDA VIA - reimpressão".to_owned());
        }
        if doc.status == FiscalStatus::Cancelled {
            receipt
                .taxpayer_messages
                .insert(0, "NFC-e CANCELADA".to_owned());
        }
        layout_danfe(&receipt, &config.printer_profile, &config.danfe).map_err(|e| {
            PosError::Peripheral {
                device: "printer".into(),
                reason: e.to_string(),
            }
        })
    }

    /// Prints the sale's DANFE again with the note's current status ("SEGUNDA VIA").
    pub async fn reprint(&self, sale_id: SaleId) -> PosResult<ReprintOutcome> {
        self.on_core(move |pos| async move { pos.reprint_on_core(sale_id).await })
            .await
    }

    /// Prints the sale's receipt again — the same DANFE (with the note's current status and
    /// protocol), marked as a second copy. Audited.
    async fn reprint_on_core(&self, sale_id: SaleId) -> PosResult<ReprintOutcome> {
        let auth = self.authorize_with(Action::Reprint, None)?;
        let job = self.sale_receipt_job(sale_id, true)?;
        let bytes = tenda_devices::escpos::encode_job(&job).map_err(|e| PosError::Peripheral {
            device: "printer".into(),
            reason: e.to_string(),
        })?;
        let execution = auth.execution(Action::Reprint, format!("sale:{sale_id}"), self.now());
        self.execute(execution, LocalChange::default(), execute::record)?;
        let mut outcome = ReprintOutcome {
            receipt_bytes: u32::try_from(bytes.len()).unwrap_or(u32::MAX),
            printed: false,
            print_error: None,
        };
        let printer = lock(&self.inner.printer).clone();
        match printer {
            Some(p) => match p.print(&job).await {
                Ok(_) => outcome.printed = true,
                Err(e) => outcome.print_error = Some(e.to_string()),
            },
            None => outcome.print_error = Some("no printer is paired".into()),
        }
        Ok(outcome)
    }

    /// Cancels a sale the server has not received and that has no fiscal note (stock back,
    /// account charges credited), after the seller confirmed (`confirmed`). A sale with an
    /// NFC-e is refused: its note is cancelled with SEFAZ (`cancel_sale`) once authorized.
    /// Needs the `void_sale` permission or a manager's `approval`.
    pub fn cancel_unsynced_sale(
        &self,
        sale_id: SaleId,
        reason: String,
        confirmed: bool,
        approval: Option<Approval>,
    ) -> PosResult<()> {
        self.alive()?;
        let reason: &str = &reason;
        let approval = approval.as_ref();

        let auth = self.authorize_with(Action::VoidSale, approval)?;
        let stored = self.stored_sale(sale_id)?;
        if stored.fiscal.is_some() {
            return Err(PosError::state(
                "cancel the sale",
                "it has an issued NFC-e, which cannot just be deleted: cancel the note with SEFAZ (cancel_sale) once it is authorized",
            ));
        }
        if stored.status == SaleStatus::Voided {
            return Err(PosError::state(
                "cancel the sale",
                "it is already cancelled",
            ));
        }
        if !self.unsynced_sales()?.contains(&sale_id) {
            return Err(PosError::state(
                "cancel the sale",
                "the server already has it; void it from the back office",
            ));
        }
        if !confirmed {
            return Err(PosError::invalid(
                "confirmed",
                "cancelling a sale must be confirmed explicitly",
            ));
        }
        let at = self.now();
        let actor = tenda_domain::Actor::User(auth.responsible().user_id);
        // The void, its payments given back from the open register and the authorization's
        // entry, in one transaction (the register changed in place under the device's lock).
        let mut device = self.device();
        let register = refunded(device.register.as_ref(), &stored.sale)?;
        let change = LocalChange {
            settings: changed_register_setting(register.as_ref(), device.last_sale)?,
            ..Default::default()
        };
        let execution = auth.execution(
            Action::VoidSale,
            format!("sale:{sale_id} unsynced cancel"),
            at,
        );
        self.execute(execution, change, |store, change| {
            store.void_sale_with_change(sale_id, actor, reason, at, change)
        })?;
        if register.is_some() {
            device.register = register;
        }
        drop(device);
        self.refresh_fiscal_status()
    }

    /// "Sync now" for one sale: a sync round (sales reach the server in the order they were
    /// made, so this one goes with everything recorded before it) and the transmission of its
    /// note alone.
    pub async fn sync_sale_now(&self, sale_id: SaleId) -> PosResult<SyncNowOutcome> {
        self.on_core(move |pos| async move {
            pos.stored_sale(sale_id)?;
            pos.sync_offline(Some(sale_id)).await
        })
        .await
    }

    /// "Sync now" for the offline sales: asks the sync engine for a round (when it runs) and
    /// transmits the notes waiting for SEFAZ (when a transmitter is set).
    pub async fn sync_offline_sales_now(&self) -> PosResult<SyncNowOutcome> {
        self.on_core(|pos| async move { pos.sync_offline(None).await })
            .await
    }

    async fn sync_offline(&self, only: Option<SaleId>) -> PosResult<SyncNowOutcome> {
        let (sync_requested, sync_unavailable) = match self.sync_now() {
            Ok(()) => (true, None),
            Err(e) => (false, Some(e.to_string())),
        };
        let transmission = if self.can_reach_sefaz() {
            self.transmitter("transmit notes")?.clear_pause();
            Some(self.transmit_notes(only).await?)
        } else {
            None
        };
        Ok(SyncNowOutcome {
            sync_requested,
            sync_unavailable,
            transmission,
        })
    }
}
