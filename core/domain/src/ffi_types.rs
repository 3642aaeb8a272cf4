//! How the bindings carry the domain's scalar types: money as centavos, quantities as
//! thousandths, ids as UUID text, instants as milliseconds since the Unix epoch (UTC), calendar
//! days as ISO text (`2026-12-05`).

use chrono::{DateTime, NaiveDate, Utc};

use crate::{Money, Quantity};

/// An instant (UTC) as the bindings carry it: milliseconds since the Unix epoch.
pub type UtcMillis = DateTime<Utc>;

uniffi::custom_type!(UtcMillis, i64, {
    remote,
    lower: |at| at.timestamp_millis(),
    try_lift: |ms| DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| uniffi::deps::anyhow::anyhow!("{ms} ms is out of range for an instant")),
});

/// A calendar day as the bindings carry it: ISO 8601 text, `YYYY-MM-DD`.
pub type IsoDay = NaiveDate;

uniffi::custom_type!(IsoDay, String, {
    remote,
    lower: |day| day.format("%Y-%m-%d").to_string(),
    try_lift: |text| NaiveDate::parse_from_str(&text, "%Y-%m-%d")
        .map_err(|e| uniffi::deps::anyhow::anyhow!("{text:?} is not a YYYY-MM-DD day: {e}")),
});

uniffi::custom_type!(Money, i64, {
    lower: |m| m.centavos(),
    try_lift: |c| Ok(Money::from_centavos(c)),
});

uniffi::custom_type!(Quantity, i64, {
    lower: |q| q.thousandths(),
    try_lift: |t| Ok(Quantity::from_thousandths(t)),
});
