//! The reports as the owner's (or an approving owner's) screens ask for them: sales by period and
//! payment method, contingency notes with emission, transmission and authorization times and
//! protocols, oversold items from the local stock levels, and the audit log filtered, with the
//! chain's verification. Reading only; the computations live in [`crate::reports`].

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use tenda_domain::{Action, Actor, EmissionType, FiscalStatus, ProductId, Quantity};
use tenda_store::{AuditVerification, SaleStatus, StoredSale};

use super::correction_ops::note_facts;
use super::{Pos, lock, storage};
use crate::error::PosResult;
use crate::pos::Approval;
use crate::reports::{
    ContingencyNoteRow, OversoldRow, SalesByMethodRow, oversold, sales_by_method,
};

/// Which audit entries to show. Empty fields do not filter.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct AuditFilter {
    /// `user:<id>` or `device:<id>`.
    pub actor: Option<String>,
    /// An action or its prefix (`fiscal.` matches every fiscal status change).
    pub action: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Newest entries kept when more match (0 = all).
    pub limit: u32,
}

/// One audit entry as the report prints it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct AuditRow {
    pub seq: u64,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub outcome: String,
    pub at: DateTime<Utc>,
    /// SHA-256 of the entry (hex), chained to the previous one.
    pub hash: String,
}

impl From<&tenda_store::AuditEntry> for AuditRow {
    fn from(e: &tenda_store::AuditEntry) -> Self {
        AuditRow {
            seq: e.seq,
            actor: actor_text(&e.actor),
            action: e.action.clone(),
            subject: e.subject.clone(),
            outcome: e.outcome.code().to_owned(),
            at: e.at,
            hash: hex(&e.hash),
        }
    }
}

/// Whether the device's audit chain verifies end to end.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct AuditVerificationView {
    pub intact: bool,
    /// Entries verified (intact), or the first entry at which the chain breaks.
    pub entries: u64,
    pub broken_at: Option<u64>,
    /// Why it breaks (edited entry, missing entry, reordered…), for support.
    pub reason: Option<String>,
}

impl From<AuditVerification> for AuditVerificationView {
    fn from(v: AuditVerification) -> Self {
        match v {
            AuditVerification::Intact { entries } => AuditVerificationView {
                intact: true,
                entries,
                broken_at: None,
                reason: None,
            },
            AuditVerification::Broken { seq, reason } => AuditVerificationView {
                intact: false,
                entries: seq.saturating_sub(1),
                broken_at: Some(seq),
                reason: Some(format!("{reason:?}")),
            },
        }
    }
}

/// The audit log report: the matching entries and whether the whole chain verifies.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct AuditReport {
    pub entries: Vec<AuditRow>,
    pub chain_intact: bool,
    /// Entries verified, or where and why the chain breaks.
    pub verification: String,
}

fn actor_text(actor: &Actor) -> String {
    match actor {
        Actor::User(id) => format!("user:{id}"),
        Actor::Device(id) => format!("device:{id}"),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Pos {
    fn authorize_report(&self, approval: Option<&Approval>) -> PosResult<()> {
        self.authorize_with(Action::ViewReports, approval)
            .map(|_| ())
    }

    /// Every sale on this device, in the order recorded.
    fn all_sales(&self) -> PosResult<Vec<StoredSale>> {
        let mut store = self.reader()?;
        let mut out = Vec::new();
        let mut after = 0u64;
        loop {
            let ids = store.sale_ids_after(after, 1_000).map_err(storage)?;
            if ids.is_empty() {
                break;
            }
            for id in ids {
                if let Some(s) = store.sale(id).map_err(storage)? {
                    after = after.max(s.local_number);
                    out.push(s);
                }
            }
        }
        Ok(out)
    }

    /// Completed (not voided) sales in `[from, to)`, by local day and payment method.
    pub fn sales_report(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        approval: Option<Approval>,
    ) -> PosResult<Vec<SalesByMethodRow>> {
        self.alive()?;
        let approval = approval.as_ref();

        self.authorize_report(approval)?;
        let sales: Vec<_> = self
            .all_sales()?
            .into_iter()
            .filter(|s| s.status == SaleStatus::Completed)
            .map(|s| s.sale)
            .collect();
        let offset = lock(&self.inner.config).utc_offset_minutes;
        Ok(sales_by_method(&sales, from, to, offset)?)
    }

    /// Contingency notes, oldest first: emitted, deadline, when SEFAZ first answered
    /// (transmission), when it authorized (its dhRecbto) and the protocol.
    pub fn contingency_notes_report(
        &self,
        approval: Option<Approval>,
    ) -> PosResult<Vec<ContingencyNoteRow>> {
        self.alive()?;
        let approval = approval.as_ref();

        self.authorize_report(approval)?;
        let sales = self.all_sales()?;
        // The first fiscal answer recorded for each sale: the device's transmission time.
        let mut answered: BTreeMap<String, DateTime<Utc>> = BTreeMap::new();
        let mut after = 0;
        loop {
            let entries = self
                .reader()?
                .audit_entries(after, 5_000)
                .map_err(storage)?;
            let Some(last) = entries.last() else { break };
            after = last.seq;
            for e in entries {
                let answer = ["fiscal.authorized", "fiscal.rejected", "fiscal.denied"];
                if answer.contains(&e.action.as_str()) {
                    answered.entry(e.subject.clone()).or_insert(e.at);
                }
            }
        }
        let mut rows: Vec<ContingencyNoteRow> = sales
            .iter()
            .filter_map(|s| s.fiscal.as_ref().map(|d| (s, d)))
            .filter(|(_, d)| d.emission == EmissionType::OfflineContingency)
            .filter_map(|(s, d)| {
                let deadline = d.deadline?;
                let authorized =
                    matches!(d.status, FiscalStatus::Authorized | FiscalStatus::Cancelled);
                // A damaged note still has a row: the facts it cannot give are left out.
                let facts = note_facts(&d.xml).unwrap_or_default();
                let authorized_at = facts
                    .authorized_at
                    .map(|t| t.to_utc())
                    .filter(|_| authorized);
                let status_code = facts
                    .protocol_status
                    .or_else(|| d.rejection_code.as_deref().and_then(|c| c.parse().ok()));
                Some(ContingencyNoteRow {
                    number: d.number,
                    series: d.series.series,
                    access_key: d.access_key.clone(),
                    emitted_at: d.issued_at,
                    deadline,
                    transmitted_at: answered.get(&format!("sale:{}", s.sale.id)).copied(),
                    authorized_at,
                    protocol: d.protocol.clone(),
                    status_code,
                    status: d.status.code().to_owned(),
                })
            })
            .collect();
        rows.sort_by_key(|r| (r.emitted_at, r.number));
        Ok(rows)
    }

    /// Products whose local stock level is below zero, with the sales that sold them (a local
    /// view: the server's report covers every device).
    pub fn oversold_report(&self, approval: Option<Approval>) -> PosResult<Vec<OversoldRow>> {
        self.alive()?;
        let approval = approval.as_ref();

        self.authorize_report(approval)?;
        let sales: Vec<_> = self
            .all_sales()?
            .into_iter()
            .filter(|s| s.status == SaleStatus::Completed)
            .map(|s| s.sale)
            .collect();
        let mut names: BTreeMap<ProductId, String> = BTreeMap::new();
        for l in sales.iter().flat_map(|s| &s.lines) {
            names.entry(l.product_id).or_insert_with(|| l.name.clone());
        }
        let mut levels: Vec<(ProductId, String, Quantity)> = Vec::new();
        {
            let mut store = self.reader()?;
            for (id, name) in names {
                levels.push((id, name, store.stock_level(id).map_err(storage)?));
            }
        }
        Ok(oversold(&levels, &sales))
    }

    /// The audit log filtered by actor, action and period, with the whole chain's verification.
    pub fn audit_report(
        &self,
        filter: AuditFilter,
        approval: Option<Approval>,
    ) -> PosResult<AuditReport> {
        self.alive()?;
        let filter = &filter;
        let approval = approval.as_ref();

        self.authorize_report(approval)?;
        let mut rows = Vec::new();
        let mut after = 0;
        loop {
            let entries = self
                .reader()?
                .audit_entries(after, 5_000)
                .map_err(storage)?;
            let Some(last) = entries.last() else { break };
            after = last.seq;
            for e in entries {
                let actor = actor_text(&e.actor);
                let keep = filter.actor.as_ref().is_none_or(|a| *a == actor)
                    && filter
                        .action
                        .as_ref()
                        .is_none_or(|a| e.action.starts_with(a.as_str()))
                    && filter.from.is_none_or(|f| e.at >= f)
                    && filter.to.is_none_or(|t| e.at < t);
                if keep {
                    rows.push(AuditRow {
                        seq: e.seq,
                        actor,
                        action: e.action,
                        subject: e.subject,
                        outcome: e.outcome.code().to_owned(),
                        at: e.at,
                        hash: hex(&e.hash),
                    });
                }
            }
        }
        if filter.limit > 0 {
            let keep = usize::try_from(filter.limit).unwrap_or(usize::MAX);
            let skip = rows.len().saturating_sub(keep);
            rows.drain(..skip);
        }
        let verification = self.reader()?.verify_audit_chain().map_err(storage)?;
        let (chain_intact, verification) = match verification {
            AuditVerification::Intact { entries } => {
                (true, format!("intact: {entries} entries verified"))
            }
            AuditVerification::Broken { seq, reason } => {
                (false, format!("broken at entry {seq}: {reason:?}"))
            }
        };
        Ok(AuditReport {
            entries: rows,
            chain_intact,
            verification,
        })
    }
}
