//! Fiscal events SEFAZ registered from this device — cancellations (110111), cancellations by
//! substitution (110112) and inutilizações — one row each, with its legal XML record
//! (`procEventoNFe` or `procInutNFe`). Appended inside the transaction of the change they
//! belong to ([`LocalChange::fiscal_events`](crate::LocalChange::fiscal_events)).

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::error::{Error, Result, corrupt};
use crate::schema::fiscal_events;
use crate::store::{Store, parse_ts, ts};

/// What SEFAZ registered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FiscalEventKind {
    /// Event 110111: an authorized note cancelled within the window.
    Cancellation,
    /// Event 110112: a note cancelled because another replaced it.
    Substitution,
    /// A range of numbers declared unused.
    Inutilizacao,
}

impl FiscalEventKind {
    /// The stored code: "cancellation", "substitution" or "inutilizacao".
    pub fn code(self) -> &'static str {
        match self {
            FiscalEventKind::Cancellation => "cancellation",
            FiscalEventKind::Substitution => "substitution",
            FiscalEventKind::Inutilizacao => "inutilizacao",
        }
    }

    pub fn from_code(code: &str) -> Option<FiscalEventKind> {
        match code {
            "cancellation" => Some(FiscalEventKind::Cancellation),
            "substitution" => Some(FiscalEventKind::Substitution),
            "inutilizacao" => Some(FiscalEventKind::Inutilizacao),
            _ => None,
        }
    }
}

/// A registered event or inutilização, as kept on the device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FiscalEvent {
    pub kind: FiscalEventKind,
    pub sale_id: Option<String>,
    pub access_key: Option<String>,
    /// For an inutilização: the voided range.
    pub first: Option<u32>,
    pub last: Option<u32>,
    pub status_code: u16,
    pub protocol: Option<String>,
    pub registered_at: DateTime<Utc>,
    pub justification: String,
    /// `procEventoNFe` or `procInutNFe`: the legal record.
    pub xml: String,
}

type EventRow = (
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<i64>,
    i32,
    Option<String>,
    String,
    String,
    String,
);

pub(crate) fn insert_fiscal_event(c: &mut SqliteConnection, event: &FiscalEvent) -> Result<()> {
    if event.xml.trim().is_empty() {
        return Err(Error::InvalidInput {
            field: "fiscal_events",
            reason: "an event's XML record must not be empty".into(),
        });
    }
    diesel::insert_into(fiscal_events::table)
        .values((
            fiscal_events::kind.eq(event.kind.code()),
            fiscal_events::sale_id.eq(&event.sale_id),
            fiscal_events::access_key.eq(&event.access_key),
            fiscal_events::first_number.eq(event.first.map(i64::from)),
            fiscal_events::last_number.eq(event.last.map(i64::from)),
            fiscal_events::status_code.eq(i32::from(event.status_code)),
            fiscal_events::protocol.eq(&event.protocol),
            fiscal_events::registered_at.eq(ts(event.registered_at)),
            fiscal_events::justification.eq(&event.justification),
            fiscal_events::xml.eq(&event.xml),
        ))
        .execute(c)?;
    Ok(())
}

fn decode(row: EventRow) -> Result<FiscalEvent> {
    let (kind, sale_id, access_key, first, last, status, protocol, at, justification, xml) = row;
    let number = |n: Option<i64>| {
        n.map(|n| u32::try_from(n).map_err(|e| corrupt("fiscal event number", e)))
            .transpose()
    };
    Ok(FiscalEvent {
        kind: FiscalEventKind::from_code(&kind)
            .ok_or_else(|| corrupt("fiscal event kind", kind))?,
        sale_id,
        access_key,
        first: number(first)?,
        last: number(last)?,
        status_code: u16::try_from(status).map_err(|e| corrupt("fiscal event status", e))?,
        protocol,
        registered_at: parse_ts("fiscal event time", &at)?,
        justification,
        xml,
    })
}

impl Store {
    /// Every fiscal event registered from this device, oldest first.
    pub fn fiscal_events(&mut self) -> Result<Vec<FiscalEvent>> {
        let rows: Vec<EventRow> = fiscal_events::table
            .order(fiscal_events::seq)
            .select((
                fiscal_events::kind,
                fiscal_events::sale_id,
                fiscal_events::access_key,
                fiscal_events::first_number,
                fiscal_events::last_number,
                fiscal_events::status_code,
                fiscal_events::protocol,
                fiscal_events::registered_at,
                fiscal_events::justification,
                fiscal_events::xml,
            ))
            .load(&mut self.conn)?;
        rows.into_iter().map(decode).collect()
    }
}
