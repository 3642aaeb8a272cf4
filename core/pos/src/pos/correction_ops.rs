//! Correcting a note SEFAZ rejected: a manager fixes what the rejection points at (a line's
//! fiscal data — NCM, CFOP, CEST, CST/CSOSN — or the consumer's tax id) and the note is re-signed
//! with the same number, series, emission type, dhEmi and cNF (so the same access key), then goes
//! back to the transmission queue. The corrected XML is the fiscal record; the sale keeps its
//! lines as sold.

use tenda_domain::{Action, Actor, EmissionType, FiscalData, FiscalStatus, TaxId};
use tenda_fiscal::nfce::stored::StoredNoteFacts;
use tenda_fiscal::nfce::{AccessKey, Emission, SignedNfce, resign_correction};
use tenda_store::{FiscalUpdate, LocalChange};

use super::{Pos, lock, storage};
use crate::error::{PosError, PosResult, fiscal_error_text};
use crate::fiscal_doc::{NoteEmission, nfce_input};
use crate::pos::{Approval, NoteSummary};

/// New fiscal data for one line of the rejected note (0-based, in the sale's order).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LineFiscalCorrection {
    pub line: u32,
    pub fiscal: FiscalData,
}

/// A line of a rejected note as a manager sees it to correct it: what was sold and the fiscal
/// data the note carries for it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NoteLineFiscal {
    /// 0-based, in the sale's order: the `line` of a [`LineFiscalCorrection`].
    pub line: u32,
    pub sku: String,
    pub name: String,
    pub fiscal: FiscalData,
}

/// What happens to the consumer's CPF/CNPJ on the corrected note.
#[derive(Clone, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum ConsumerCorrection {
    #[default]
    Keep,
    Remove,
    /// A CPF or CNPJ, digits or formatted.
    Set {
        tax_id: String,
    },
}

/// A manager's correction of a rejected note.
#[derive(Clone, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct NoteCorrection {
    pub lines: Vec<LineFiscalCorrection>,
    pub consumer: ConsumerCorrection,
}

/// What a stored note's XML says, read by the fiscal crate; a note that cannot be read is
/// damaged storage.
pub(crate) fn note_facts(xml: &str) -> PosResult<StoredNoteFacts> {
    StoredNoteFacts::read(xml).map_err(|e| PosError::Storage {
        detail: format!("the stored note cannot be read: {e}"),
    })
}

fn damaged(what: &str) -> PosError {
    PosError::Storage {
        detail: format!("the stored note cannot be read: {what}"),
    }
}

impl Pos {
    /// Corrects a rejected note and re-signs it with the same number and series; the next
    /// `transmit_backlog` sends it, and `notes_to_correct` clears once it is authorized. Needs
    /// the `cancel_note` permission (a manager's note duties), or a manager's `approval`.
    pub fn correct_note(
        &self,
        sale_id: tenda_domain::SaleId,
        correction: NoteCorrection,
        approval: Option<Approval>,
    ) -> PosResult<NoteSummary> {
        self.alive()?;
        let correction = &correction;
        let approval = approval.as_ref();

        let auth = self.authorize_with(Action::CancelNote, approval)?;
        let config = lock(&self.inner.config).clone();
        let certificate = lock(&self.inner.certificate).clone().ok_or_else(|| {
            PosError::state(
                "correct the note",
                "the store's A1 certificate is not installed",
            )
        })?;
        let stored = lock(&self.inner.store)
            .sale(sale_id)
            .map_err(storage)?
            .ok_or_else(|| PosError::NotFound {
                what: "sale".into(),
            })?;
        let doc = stored
            .fiscal
            .clone()
            .ok_or_else(|| PosError::state("correct the note", "this sale has no fiscal note"))?;
        if doc.status != FiscalStatus::Rejected {
            return Err(PosError::state(
                "correct the note",
                format!(
                    "only a note SEFAZ rejected is corrected (this one is {})",
                    doc.status.code()
                ),
            ));
        }

        let mut sale = stored.sale.clone();
        for fix in &correction.lines {
            let line = usize::try_from(fix.line)
                .ok()
                .and_then(|i| sale.lines.get_mut(i))
                .ok_or_else(|| {
                    PosError::invalid(
                        format!("lines[{}]", fix.line),
                        format!("the sale has {} lines", stored.sale.lines.len()),
                    )
                })?;
            fix.fiscal.validate().map_err(|e| {
                PosError::invalid(format!("lines[{}].{}", fix.line, e.field), e.reason)
            })?;
            line.fiscal = fix.fiscal.clone();
        }
        match &correction.consumer {
            ConsumerCorrection::Keep => {}
            ConsumerCorrection::Remove => sale.consumer_tax_id = None,
            ConsumerCorrection::Set { tax_id } => {
                sale.consumer_tax_id = Some(
                    TaxId::parse(tax_id)
                        .map_err(|e| PosError::invalid("consumer_tax_id", e.to_string()))?,
                )
            }
        }

        // The rejected note as issued: key, cNF, dhEmi and emission come from its XML.
        let key: AccessKey = doc.access_key.parse().map_err(|_| damaged("access key"))?;
        let facts = note_facts(&doc.xml)?;
        let issued_at = facts.issued_at.ok_or_else(|| damaged("dhEmi"))?;
        let contingency = doc.emission != EmissionType::Normal;
        let (emission, note_emission) = if contingency {
            let since = facts.contingency_since.ok_or_else(|| damaged("dhCont"))?;
            let justification = facts
                .contingency_justification
                .clone()
                .ok_or_else(|| damaged("xJust"))?;
            (
                Emission::Offline {
                    since,
                    justification: justification.clone(),
                },
                NoteEmission::Contingency {
                    since: since.to_utc(),
                    justification,
                },
            )
        } else {
            (Emission::Normal, NoteEmission::Normal)
        };
        let rejected = SignedNfce {
            access_code: key.code(),
            access_key: key,
            number: doc.number,
            series: doc.series.series,
            issued_at,
            emission: emission.clone(),
            environment: config.emitter.environment,
            total: sale.total,
            change: sale.change,
            approximate_taxes: tenda_domain::Money::ZERO,
            digest_value: String::new(),
            qr_code: String::new(),
            url_chave: String::new(),
            xml: doc.xml.clone(),
            transmission_deadline: None,
        };
        let mut input = nfce_input(
            &sale,
            &config.emitter,
            doc.number,
            &note_emission,
            config.utc_offset_minutes,
        )?;
        input.issued_at = issued_at;
        input.emission = emission;
        let corrected = resign_correction(&rejected, &input, &certificate)
            .map_err(|e| PosError::invalid("correction", fiscal_error_text(&e)))?;

        let at = self.now();
        let actor = Actor::User(auth.responsible().user_id);
        let previous = match (&doc.rejection_code, &doc.rejection_reason) {
            (Some(c), Some(r)) => format!("{c} {r}"),
            (Some(c), None) => c.clone(),
            (None, Some(r)) => r.clone(),
            (None, None) => "rejected".into(),
        };
        let status = if contingency {
            FiscalStatus::Contingency
        } else {
            FiscalStatus::Pending
        };
        let update = FiscalUpdate {
            status: Some(status),
            xml: Some(corrected.xml.clone()),
            rejection_code: None,
            rejection_reason: Some(format!("corrected after rejection {previous}")),
            ..Default::default()
        };
        // Execute (its own FiscalStatusChanged mutation and audit entry naming the manager) and
        // the authorization's entry naming both people, in one transaction.
        let execution = auth.execution(
            Action::CancelNote,
            format!("sale:{sale_id} note:{} correction", doc.number),
            at,
        );
        self.execute(execution, LocalChange::default(), |store, change| {
            store.update_fiscal_document_with_change(sale_id, &update, actor, at, change)
        })?;
        self.refresh_fiscal_status()?;
        Ok(NoteSummary {
            number: corrected.number,
            series: corrected.series,
            access_key: corrected.access_key.as_str().to_owned(),
            status,
            contingency,
            deadline: doc.deadline,
            qr_code: corrected.qr_code,
        })
    }
}
