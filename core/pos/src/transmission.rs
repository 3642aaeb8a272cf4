//! The backlog of notes waiting for SEFAZ: which go in the next lote (oldest first, ≤ 50 notes
//! and ≤ 500 KB, as NFeAutorizacao4 allows), when a failed one may be retried, and which alarm
//! the nearest deadline raises. Pure; the worker in `Pos` does the I/O.

use chrono::{DateTime, Duration, Utc};

use crate::status::{DeadlineAlarm, deadline_alarm};

/// SEFAZ limits for one NFeAutorizacao4 lote.
pub const LOTE_MAX_NOTES: usize = 50;
pub const LOTE_MAX_BYTES: usize = 500 * 1024;

/// A note in the backlog, as the planner sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueuedNote {
    pub access_key: String,
    pub number: u32,
    pub emitted_at: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    pub xml_bytes: usize,
    /// Failed transmissions so far (transport errors, 656 throttling).
    pub attempts: u32,
    pub not_before: Option<DateTime<Utc>>,
}

/// The next lote: indices into `queue`, oldest emission first (then lowest number), skipping
/// notes still backing off, within the note and size limits. A single note larger than the size
/// limit still goes alone (SEFAZ will judge it) so it can never block the queue.
pub fn next_lote(queue: &[QueuedNote], now: DateTime<Utc>) -> Vec<usize> {
    let mut ready: Vec<usize> = (0..queue.len())
        .filter(|&i| queue[i].not_before.is_none_or(|t| t <= now))
        .collect();
    ready.sort_by(|&a, &b| {
        (queue[a].emitted_at, queue[a].number).cmp(&(queue[b].emitted_at, queue[b].number))
    });
    let mut lote = Vec::new();
    let mut bytes = 0usize;
    for i in ready {
        if lote.len() == LOTE_MAX_NOTES {
            break;
        }
        let size = queue[i].xml_bytes;
        if !lote.is_empty() && bytes + size > LOTE_MAX_BYTES {
            break;
        }
        bytes += size;
        lote.push(i);
    }
    lote
}

/// When to try a note again after `attempts` failures: exponential from 5 s, capped at 5 min,
/// and never later than an hour before its deadline — an approaching deadline beats politeness.
pub fn retry_at(attempts: u32, now: DateTime<Utc>, deadline: DateTime<Utc>) -> DateTime<Utc> {
    let secs = 5i64.saturating_mul(1i64 << attempts.min(6)).min(300);
    let wanted = now + Duration::seconds(secs);
    let latest = deadline - Duration::hours(1);
    if wanted > latest {
        now.max(latest)
    } else {
        wanted
    }
}

/// The backlog's nearest deadline and the worst alarm across it.
pub fn backlog_alarm(
    queue: &[QueuedNote],
    now: DateTime<Utc>,
) -> (Option<DateTime<Utc>>, Option<DeadlineAlarm>) {
    let nearest = queue.iter().map(|n| n.deadline).min();
    let worst = queue
        .iter()
        .filter_map(|n| deadline_alarm(n.emitted_at, n.deadline, now))
        .max();
    (nearest, worst)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(min: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 7, 1, 9, 0, 0)
            .single()
            .expect("valid")
            + Duration::minutes(min)
    }

    fn note(number: u32, emitted: i64, bytes: usize) -> QueuedNote {
        QueuedNote {
            access_key: format!("key{number}"),
            number,
            emitted_at: t(emitted),
            deadline: t(emitted + 24 * 60),
            xml_bytes: bytes,
            attempts: 0,
            not_before: None,
        }
    }

    #[test]
    fn oldest_first_at_most_fifty() {
        let queue: Vec<QueuedNote> = (0..120)
            .rev()
            .map(|i| note(i + 1, i64::from(i), 4000))
            .collect();
        let lote = next_lote(&queue, t(200));
        assert_eq!(lote.len(), LOTE_MAX_NOTES);
        let numbers: Vec<u32> = lote.iter().map(|&i| queue[i].number).collect();
        assert_eq!(
            numbers,
            (1..=50).collect::<Vec<_>>(),
            "the 50 oldest, in order"
        );
    }

    #[test]
    fn size_limit_and_oversized_single_note() {
        let queue = vec![
            note(1, 0, 300 * 1024),
            note(2, 1, 300 * 1024),
            note(3, 2, 10),
        ];
        assert_eq!(
            next_lote(&queue, t(5)),
            vec![0],
            "second note would pass 500 KB"
        );
        let big = vec![note(1, 0, 900 * 1024)];
        assert_eq!(
            next_lote(&big, t(5)),
            vec![0],
            "an oversized note still goes alone"
        );
    }

    #[test]
    fn backing_off_notes_wait_but_do_not_block_others() {
        let mut queue = vec![note(1, 0, 100), note(2, 1, 100)];
        queue[0].not_before = Some(t(10));
        assert_eq!(next_lote(&queue, t(5)), vec![1]);
        assert_eq!(next_lote(&queue, t(10)), vec![0, 1]);
    }

    #[test]
    fn retry_backs_off_but_respects_the_deadline() {
        let deadline = t(24 * 60);
        assert_eq!(retry_at(0, t(0), deadline), t(0) + Duration::seconds(5));
        assert_eq!(retry_at(3, t(0), deadline), t(0) + Duration::seconds(40));
        assert_eq!(retry_at(30, t(0), deadline), t(5), "capped at 5 minutes");
        // 30 minutes before the deadline: no waiting at all.
        assert_eq!(
            retry_at(5, deadline - Duration::minutes(30), deadline),
            deadline - Duration::minutes(30)
        );
    }

    #[test]
    fn backlog_reports_nearest_deadline_and_worst_alarm() {
        let queue = vec![note(1, 0, 1), note(2, 14 * 60, 1)];
        let (nearest, alarm) = backlog_alarm(&queue, t(20 * 60));
        assert_eq!(nearest, Some(t(24 * 60)));
        assert_eq!(
            alarm,
            Some(DeadlineAlarm::Urgent),
            "the older note is at 83% of its window"
        );
        assert_eq!(backlog_alarm(&[], t(0)), (None, None));
    }
}
