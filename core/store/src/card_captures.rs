//! Card payments captured offline (waiting for the link to be authorized) and the ones the card
//! network declined afterwards (money to recover from the customer): one row each, so a new
//! capture or a settled one writes its own row, not the whole list.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use tenda_domain::Money;

use crate::error::{Error, Result};
use crate::schema::{card_captures, card_payments_to_recover};
use crate::store::{Store, parse_ts, ts};

/// An offline capture. `record` is the capture as the card terminal keeps it (JSON, the card
/// data sealed inside); the other fields are what the store finds it by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CardCapture {
    pub payment_id: String,
    pub sale_reference: String,
    pub captured_at: DateTime<Utc>,
    pub record: String,
}

/// An offline card payment the network declined once the link returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeclinedCardPayment {
    pub payment_id: String,
    pub sale_id: String,
    pub amount: Money,
    pub brand: String,
    pub last4: String,
    pub captured_at: DateTime<Utc>,
    pub declined_at: DateTime<Utc>,
    pub reason: String,
}

/// Removes the captures `payment_ids` inside the caller's transaction (missing ones are not an
/// error: a capture forwarded meanwhile is already gone).
pub(crate) fn drop_card_captures(c: &mut SqliteConnection, payment_ids: &[String]) -> Result<()> {
    if !payment_ids.is_empty() {
        diesel::delete(card_captures::table.filter(card_captures::payment_id.eq_any(payment_ids)))
            .execute(c)?;
    }
    Ok(())
}

pub(crate) fn insert_declined(c: &mut SqliteConnection, p: &DeclinedCardPayment) -> Result<()> {
    diesel::insert_into(card_payments_to_recover::table)
        .values((
            card_payments_to_recover::payment_id.eq(&p.payment_id),
            card_payments_to_recover::sale_id.eq(&p.sale_id),
            card_payments_to_recover::amount.eq(p.amount.centavos()),
            card_payments_to_recover::brand.eq(&p.brand),
            card_payments_to_recover::last4.eq(&p.last4),
            card_payments_to_recover::captured_at.eq(ts(p.captured_at)),
            card_payments_to_recover::declined_at.eq(ts(p.declined_at)),
            card_payments_to_recover::reason.eq(&p.reason),
        ))
        .execute(c)?;
    Ok(())
}

fn check_record(capture: &CardCapture) -> Result<()> {
    if capture.payment_id.trim().is_empty() {
        return Err(Error::InvalidInput {
            field: "payment_id",
            reason: "must not be empty".into(),
        });
    }
    serde_json::from_str::<serde_json::Value>(&capture.record).map_err(|e| {
        Error::InvalidInput {
            field: "record",
            reason: format!("capture {}: {e}", capture.payment_id),
        }
    })?;
    Ok(())
}

impl Store {
    /// The offline captures, in the order they were taken.
    pub fn card_captures(&mut self) -> Result<Vec<CardCapture>> {
        let rows: Vec<(String, String, String, String)> = card_captures::table
            .order(card_captures::seq)
            .select((
                card_captures::payment_id,
                card_captures::sale_reference,
                card_captures::captured_at,
                card_captures::record,
            ))
            .load(&mut self.conn)?;
        rows.into_iter()
            .map(|(payment_id, sale_reference, at, record)| {
                Ok(CardCapture {
                    payment_id,
                    sale_reference,
                    captured_at: parse_ts("card capture time", &at)?,
                    record,
                })
            })
            .collect()
    }

    /// Makes the stored captures exactly `captures`, in one transaction: rows no longer listed
    /// are deleted, changed ones rewritten, new ones appended; the others are not touched.
    pub fn save_card_captures(&mut self, captures: &[CardCapture]) -> Result<()> {
        for capture in captures {
            check_record(capture)?;
        }
        self.write(|c| {
            let stored: HashMap<String, String> = card_captures::table
                .select((card_captures::payment_id, card_captures::record))
                .load::<(String, String)>(c)?
                .into_iter()
                .collect();
            let kept: Vec<&str> = captures.iter().map(|p| p.payment_id.as_str()).collect();
            diesel::delete(card_captures::table.filter(card_captures::payment_id.ne_all(&kept)))
                .execute(c)?;
            for capture in captures {
                let values = (
                    card_captures::sale_reference.eq(&capture.sale_reference),
                    card_captures::captured_at.eq(ts(capture.captured_at)),
                    card_captures::record.eq(&capture.record),
                );
                match stored.get(&capture.payment_id) {
                    Some(record) if *record == capture.record => {}
                    Some(_) => {
                        diesel::update(
                            card_captures::table
                                .filter(card_captures::payment_id.eq(&capture.payment_id)),
                        )
                        .set(values)
                        .execute(c)?;
                    }
                    None => {
                        diesel::insert_into(card_captures::table)
                            .values((card_captures::payment_id.eq(&capture.payment_id), values))
                            .execute(c)?;
                    }
                }
            }
            Ok(())
        })
    }

    /// Offline card payments declined once the link returned, oldest first.
    pub fn card_payments_to_recover(&mut self) -> Result<Vec<DeclinedCardPayment>> {
        type Row = (String, String, i64, String, String, String, String, String);
        let rows: Vec<Row> = card_payments_to_recover::table
            .order(card_payments_to_recover::seq)
            .select((
                card_payments_to_recover::payment_id,
                card_payments_to_recover::sale_id,
                card_payments_to_recover::amount,
                card_payments_to_recover::brand,
                card_payments_to_recover::last4,
                card_payments_to_recover::captured_at,
                card_payments_to_recover::declined_at,
                card_payments_to_recover::reason,
            ))
            .load(&mut self.conn)?;
        rows.into_iter()
            .map(
                |(payment_id, sale_id, amount, brand, last4, captured, declined, reason)| {
                    Ok(DeclinedCardPayment {
                        payment_id,
                        sale_id,
                        amount: Money::from_centavos(amount),
                        brand,
                        last4,
                        captured_at: parse_ts("card capture time", &captured)?,
                        declined_at: parse_ts("card decline time", &declined)?,
                        reason,
                    })
                },
            )
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::DbKey;
    use crate::record::LocalChange;
    use crate::{FiscalEvent, FiscalEventKind};

    fn capture(id: &str, status: &str) -> CardCapture {
        CardCapture {
            payment_id: id.into(),
            sale_reference: format!("sale-{id}"),
            captured_at: Utc::now(),
            record: format!("{{\"payment_id\":\"{id}\",\"status\":\"{status}\"}}"),
        }
    }

    #[test]
    fn captures_are_saved_row_by_row_and_changes_commit_with_their_rows() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut store = Store::open(dir.path().join("c.db"), &DbKey::generate()).expect("opens");
        store
            .save_card_captures(&[capture("a", "Pending"), capture("b", "Pending")])
            .expect("saves");
        // b settled, c captured, a untouched: the list read back is exactly what was saved.
        let next = [capture("a", "Pending"), capture("c", "Pending")];
        store.save_card_captures(&next).expect("saves");
        let ids: Vec<String> = store
            .card_captures()
            .expect("reads")
            .into_iter()
            .map(|c| c.payment_id)
            .collect();
        assert_eq!(ids, ["a", "c"]);
        // A record that is not JSON is refused and nothing changes.
        let mut bad = capture("d", "Pending");
        bad.record = "not json".into();
        assert!(store.save_card_captures(&[bad]).is_err());
        assert_eq!(store.card_captures().expect("reads").len(), 2);

        // A change drops a capture, records a decline and an event — or, when any part is
        // refused, none of them.
        let event = FiscalEvent {
            kind: FiscalEventKind::Cancellation,
            sale_id: Some("s".into()),
            access_key: Some("k".into()),
            first: None,
            last: None,
            status_code: 135,
            protocol: Some("p".into()),
            registered_at: Utc::now(),
            justification: "Cliente desistiu da compra".into(),
            xml: "<procEventoNFe/>".into(),
        };
        let declined = DeclinedCardPayment {
            payment_id: "a".into(),
            sale_id: "sale-a".into(),
            amount: Money::from_centavos(500),
            brand: "VISA".into(),
            last4: "4242".into(),
            captured_at: Utc::now(),
            declined_at: Utc::now(),
            reason: "negado".into(),
        };
        let mut refused = LocalChange {
            fiscal_events: vec![event.clone()],
            card_captures_dropped: vec!["a".into()],
            card_payments_declined: vec![declined.clone()],
            settings: vec![("pos.x".into(), "not json".into())],
            ..Default::default()
        };
        assert!(store.record_local_change(&refused).is_err());
        assert_eq!(store.card_captures().expect("reads").len(), 2);
        assert!(store.fiscal_events().expect("reads").is_empty());
        assert!(store.card_payments_to_recover().expect("reads").is_empty());

        refused.settings.clear();
        store.record_local_change(&refused).expect("records");
        assert_eq!(store.card_captures().expect("reads")[0].payment_id, "c");
        let events = store.fiscal_events().expect("reads");
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, event.kind);
        assert_eq!(events[0].xml, event.xml);
        assert_eq!(
            store.card_payments_to_recover().expect("reads")[0].amount,
            declined.amount
        );
    }
}
