//! The one observable status the UI shows, the listener that receives it, and the list of what
//! does not work offline (each with the reason a refusal gives).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::contingency::FiscalState;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum LinkState {
    Online,
    Offline,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum SefazMode {
    Normal,
    ContingencyRequired,
    Contingency,
    Draining,
}

impl From<&FiscalState> for SefazMode {
    fn from(s: &FiscalState) -> Self {
        match s {
            FiscalState::Normal => SefazMode::Normal,
            FiscalState::ContingencyRequired { .. } => SefazMode::ContingencyRequired,
            FiscalState::Contingency { .. } => SefazMode::Contingency,
            FiscalState::Draining { .. } => SefazMode::Draining,
        }
    }
}

/// A peripheral as the seller sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum PeripheralState {
    NotConfigured,
    Ready,
    /// Connected but unable to work (paper out, cover open, low battery…), with the reason.
    NeedsAttention {
        reason: String,
    },
    Disconnected,
}

/// How close the oldest pending contingency note is to its transmission deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum DeadlineAlarm {
    /// Half of the window has passed.
    Half,
    /// 80% of the window has passed: transmit now.
    Urgent,
    /// The deadline passed; the note will be authorized late (cStat 150) at best.
    Overdue,
}

/// The alarm for a note emitted at `emitted_at` that must be transmitted by `deadline`.
pub fn deadline_alarm(
    emitted_at: DateTime<Utc>,
    deadline: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<DeadlineAlarm> {
    if now >= deadline {
        return Some(DeadlineAlarm::Overdue);
    }
    let window = (deadline - emitted_at).num_seconds().max(1);
    let elapsed = (now - emitted_at).num_seconds();
    // Integer percent comparison: elapsed/window ≥ 80% ⇔ 100·elapsed ≥ 80·window.
    if elapsed * 100 >= window * 80 {
        Some(DeadlineAlarm::Urgent)
    } else if elapsed * 100 >= window * 50 {
        Some(DeadlineAlarm::Half)
    } else {
        None
    }
}

/// Something that needs the internet, and why, shown before the seller tries it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct OfflineLimitation {
    pub feature: String,
    pub reason: String,
}

/// What does not work without a link. Card payments still work offline, by store-and-forward
/// within the owner's limits — so they are not listed; their risk is shown at payment time.
pub fn offline_limitations() -> Vec<OfflineLimitation> {
    [
        ("pix", "PIX needs the bank to confirm the transfer while the customer waits"),
        (
            "card_online_authorization",
            "cards are only stored for later forwarding, within the offline limits, at the store's risk",
        ),
        ("customer_creation", "new customers are registered on the server"),
        (
            "customer_balance",
            "customer account balances are the last known ones; sales beyond them are refused",
        ),
        ("nfce_online_authorization", "notes are issued in contingency and transmitted later"),
        ("sync", "sales wait in the outbox until the link returns"),
    ]
    .into_iter()
    .map(|(feature, reason)| OfflineLimitation { feature: feature.to_owned(), reason: reason.to_owned() })
    .collect()
}

/// Records received of a pull round; `total` is known from the first page on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct PullProgress {
    pub received: u64,
    pub total: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct PosStatus {
    pub link: LinkState,
    pub sefaz: SefazMode,
    /// Outbox mutations not yet acknowledged by the server.
    pub pending_sync: u64,
    /// Contingency notes not yet authorized.
    pub pending_notes: u32,
    pub nearest_deadline: Option<DateTime<Utc>>,
    pub deadline_alarm: Option<DeadlineAlarm>,
    /// Notes SEFAZ rejected that wait for a manager's correction.
    pub notes_needing_correction: u32,
    pub printer: PeripheralState,
    pub card_reader: PeripheralState,
    pub last_sync: Option<DateTime<Utc>>,
    /// A pull from the server in progress (the first load shows it as a progress bar).
    pub pull: Option<PullProgress>,
    /// The first full load after enrollment (catalog, customers, users) has completed.
    pub initial_load_complete: bool,
    /// Why the server refuses this device (revoked, wrong credential), while it does.
    pub sync_refused: Option<String>,
    /// Filled while offline.
    pub unavailable: Vec<OfflineLimitation>,
}

impl Default for PosStatus {
    fn default() -> Self {
        PosStatus {
            link: LinkState::Offline,
            sefaz: SefazMode::Normal,
            pending_sync: 0,
            pending_notes: 0,
            nearest_deadline: None,
            deadline_alarm: None,
            notes_needing_correction: 0,
            printer: PeripheralState::NotConfigured,
            card_reader: PeripheralState::NotConfigured,
            last_sync: None,
            pull: None,
            initial_load_complete: false,
            sync_refused: None,
            unavailable: offline_limitations(),
        }
    }
}

/// Implemented by the host app (through uniffi on mobile) to receive every status change.
#[cfg_attr(feature = "uniffi", uniffi::export(with_foreign))]
pub trait StatusListener: Send + Sync {
    fn on_status(&self, status: PosStatus);
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    #[test]
    fn alarms_fire_at_half_eighty_percent_and_overdue() {
        let start = Utc
            .with_ymd_and_hms(2026, 5, 4, 12, 0, 0)
            .single()
            .expect("valid");
        let deadline = start + Duration::hours(24);
        let at = |h: i64, m: i64| start + Duration::hours(h) + Duration::minutes(m);
        assert_eq!(deadline_alarm(start, deadline, at(11, 59)), None);
        assert_eq!(
            deadline_alarm(start, deadline, at(12, 0)),
            Some(DeadlineAlarm::Half)
        );
        assert_eq!(
            deadline_alarm(start, deadline, at(19, 11)),
            Some(DeadlineAlarm::Half)
        );
        assert_eq!(
            deadline_alarm(start, deadline, at(19, 12)),
            Some(DeadlineAlarm::Urgent),
            "19.2 h = 80%"
        );
        assert_eq!(
            deadline_alarm(start, deadline, at(24, 0)),
            Some(DeadlineAlarm::Overdue)
        );
        assert!(
            DeadlineAlarm::Overdue > DeadlineAlarm::Urgent,
            "ordering picks the worst alarm"
        );
    }

    #[test]
    fn offline_list_names_pix_with_a_reason() {
        let list = offline_limitations();
        let pix = list
            .iter()
            .find(|l| l.feature == "pix")
            .expect("PIX is refused offline");
        assert!(!pix.reason.is_empty());
    }
}

/// Holds the current status and tells every listener when it changes (the faces reach it
/// through `Pos::status` and `Pos::subscribe`).
#[derive(Default)]
pub(crate) struct StatusHub {
    inner: std::sync::Mutex<HubInner>,
}

#[derive(Default)]
struct HubInner {
    status: PosStatus,
    next_id: u64,
    listeners: Vec<(u64, std::sync::Arc<dyn StatusListener>)>,
}

impl StatusHub {
    pub(crate) fn current(&self) -> PosStatus {
        self.lock().status.clone()
    }

    /// Registers a listener and sends it the current status at once. Returns its id for
    /// [`StatusHub::unsubscribe`].
    pub(crate) fn subscribe(&self, listener: std::sync::Arc<dyn StatusListener>) -> u64 {
        let (id, status) = {
            let mut inner = self.lock();
            inner.next_id += 1;
            let id = inner.next_id;
            inner.listeners.push((id, listener.clone()));
            (id, inner.status.clone())
        };
        listener.on_status(status);
        id
    }

    /// Stops delivering to the listener registered as `id`.
    pub(crate) fn unsubscribe(&self, id: u64) {
        self.lock().listeners.retain(|(i, _)| *i != id);
    }

    /// Applies `change`; listeners hear about it only if something changed. Listeners are called
    /// outside the lock so they may read the status again.
    pub(crate) fn update(&self, change: impl FnOnce(&mut PosStatus)) {
        let (status, listeners) = {
            let mut inner = self.lock();
            let before = inner.status.clone();
            change(&mut inner.status);
            inner.status.unavailable = match inner.status.link {
                LinkState::Online => Vec::new(),
                LinkState::Offline => offline_limitations(),
            };
            if inner.status == before {
                return;
            }
            let listeners: Vec<_> = inner.listeners.iter().map(|(_, l)| l.clone()).collect();
            (inner.status.clone(), listeners)
        };
        for l in listeners {
            l.on_status(status.clone());
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HubInner> {
        // A listener that panicked must not take the register down with it.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod hub_tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Default)]
    struct Recorder(Mutex<Vec<PosStatus>>);
    impl StatusListener for Recorder {
        fn on_status(&self, status: PosStatus) {
            self.0.lock().expect("not poisoned").push(status);
        }
    }

    #[test]
    fn listeners_hear_changes_only() {
        let hub = StatusHub::default();
        let rec = Arc::new(Recorder::default());
        let id = hub.subscribe(rec.clone());
        hub.update(|s| s.link = LinkState::Online);
        hub.update(|s| s.link = LinkState::Online); // no change, no event
        hub.update(|s| s.pending_sync = 3);
        hub.unsubscribe(id);
        hub.update(|s| s.pending_sync = 4);
        let seen = rec.0.lock().expect("not poisoned");
        assert_eq!(
            seen.len(),
            3,
            "initial + two real changes, none after unsubscribing"
        );
        assert!(
            seen[1].unavailable.is_empty(),
            "online: nothing is unavailable"
        );
        assert!(
            !seen[0].unavailable.is_empty(),
            "starts offline with the list of limits"
        );
    }
}
