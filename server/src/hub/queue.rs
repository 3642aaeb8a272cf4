//! What a hub writes beside each till mutation it applies: the mutation as pushed, to relay to
//! the cloud, and its stock and balance deltas, which count on top of the cloud's levels until
//! the cloud has them.

use std::collections::BTreeMap;

use diesel::prelude::*;
use uuid::Uuid;

use crate::bulk_rows;
use crate::schema::{hub_pending_deltas, hub_relay_queue};

#[derive(Insertable)]
#[diesel(table_name = hub_relay_queue, treat_none_as_default_value = false)]
pub struct QueuedMutation {
    device_id: String,
    seq: i64,
    kind: String,
    payload: String,
    queued_at: i64,
}
bulk_rows!(QueuedMutation, hub_relay_queue);

#[derive(Insertable)]
#[diesel(table_name = hub_pending_deltas, treat_none_as_default_value = false)]
pub struct PendingDelta {
    device_id: String,
    seq: i64,
    subject_kind: String,
    subject_id: String,
    amount: i64,
}
bulk_rows!(PendingDelta, hub_pending_deltas);

/// The relay rows of one push, gathered while it is applied.
#[derive(Default)]
pub struct RelayRows {
    queued: Vec<QueuedMutation>,
    /// (device, seq, kind, subject) → amount: one mutation may move a product twice.
    pending: BTreeMap<(String, i64, &'static str, String), i64>,
}

impl RelayRows {
    pub fn queue(&mut self, device_id: &str, seq: i64, kind: &str, payload: &str, now: i64) {
        self.queued.push(QueuedMutation {
            device_id: device_id.to_owned(),
            seq,
            kind: kind.to_owned(),
            payload: payload.to_owned(),
            queued_at: now,
        });
    }

    pub fn pending(
        &mut self,
        device_id: &str,
        seq: i64,
        kind: &'static str,
        subject: &Uuid,
        amount: i64,
    ) {
        let slot = self
            .pending
            .entry((device_id.to_owned(), seq, kind, subject.to_string()))
            .or_default();
        *slot = slot.saturating_add(amount);
    }

    pub fn into_rows(self) -> (Vec<QueuedMutation>, Vec<PendingDelta>) {
        let pending = self
            .pending
            .into_iter()
            .map(
                |((device_id, seq, kind, subject_id), amount)| PendingDelta {
                    device_id,
                    seq,
                    subject_kind: kind.to_owned(),
                    subject_id,
                    amount,
                },
            )
            .collect();
        (self.queued, pending)
    }
}
