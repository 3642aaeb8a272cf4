//! Transmission deadline of a contingency note: by state rule, 24 hours after emission or the
//! end of the next business day. Exposed so the point of sale can raise alarms well before it.

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, TimeZone, Weekday};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeadlineRule {
    /// Within this many hours of dhEmi (24 in most states).
    Hours(u32),
    /// Until 23:59:59 (local time) of the first business day after the day of emission.
    /// Saturdays, Sundays and the listed holidays are not business days.
    EndOfNextBusinessDay { holidays: Vec<NaiveDate> },
}

impl Default for DeadlineRule {
    fn default() -> Self {
        DeadlineRule::Hours(24)
    }
}

impl DeadlineRule {
    /// The last instant at which a note issued at `issued_at` may be transmitted.
    pub fn deadline(&self, issued_at: DateTime<FixedOffset>) -> DateTime<FixedOffset> {
        match self {
            DeadlineRule::Hours(hours) => issued_at + Duration::hours(i64::from(*hours)),
            DeadlineRule::EndOfNextBusinessDay { holidays } => {
                let mut day = issued_at.date_naive();
                loop {
                    day = day
                        .succ_opt()
                        .expect("dates far from the end of the calendar");
                    let weekend = matches!(day.weekday(), Weekday::Sat | Weekday::Sun);
                    if !weekend && !holidays.contains(&day) {
                        break;
                    }
                }
                let end = day
                    .and_hms_opt(23, 59, 59)
                    .expect("23:59:59 exists every day");
                issued_at
                    .offset()
                    .from_local_datetime(&end)
                    .single()
                    .expect("a fixed offset maps local times one to one")
            }
        }
    }
}

/// Where a pending contingency note stands against its deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeadlineStatus {
    /// More than `warn_before` left.
    OnTime,
    /// Less than `warn_before` left: alarm.
    Approaching,
    /// Past the deadline: the note is transmitted late (SEFAZ answers 150) and the store is
    /// exposed to penalties.
    Overdue,
}

pub fn deadline_status(
    deadline: DateTime<FixedOffset>,
    now: DateTime<FixedOffset>,
    warn_before: Duration,
) -> DeadlineStatus {
    if now > deadline {
        DeadlineStatus::Overdue
    } else if deadline - now <= warn_before {
        DeadlineStatus::Approaching
    } else {
        DeadlineStatus::OnTime
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).expect("date")
    }

    #[test]
    fn twenty_four_hours_after_emission() {
        let d = DeadlineRule::Hours(24).deadline(at("2026-11-20T18:30:00-03:00"));
        assert_eq!(d, at("2026-11-21T18:30:00-03:00"));
    }

    #[test]
    fn next_business_day_skips_weekends_and_holidays() {
        // Friday 20 Nov 2026 → Monday 23 Nov, end of day.
        let rule = DeadlineRule::EndOfNextBusinessDay { holidays: vec![] };
        let d = rule.deadline(at("2026-11-20T18:30:00-03:00"));
        assert_eq!(d, at("2026-11-23T23:59:59-03:00"));
        // With Monday a holiday, Tuesday.
        let rule = DeadlineRule::EndOfNextBusinessDay {
            holidays: vec![NaiveDate::from_ymd_opt(2026, 11, 23).expect("date")],
        };
        assert_eq!(
            rule.deadline(at("2026-11-20T18:30:00-03:00")),
            at("2026-11-24T23:59:59-03:00")
        );
        // Tuesday → Wednesday.
        let rule = DeadlineRule::EndOfNextBusinessDay { holidays: vec![] };
        assert_eq!(
            rule.deadline(at("2026-11-24T00:10:00-03:00")),
            at("2026-11-25T23:59:59-03:00")
        );
    }

    #[test]
    fn status_warns_before_and_flags_overdue() {
        let deadline = at("2026-11-21T18:30:00-03:00");
        let warn = Duration::hours(4);
        assert_eq!(
            deadline_status(deadline, at("2026-11-21T10:00:00-03:00"), warn),
            DeadlineStatus::OnTime
        );
        assert_eq!(
            deadline_status(deadline, at("2026-11-21T15:00:00-03:00"), warn),
            DeadlineStatus::Approaching
        );
        assert_eq!(
            deadline_status(deadline, at("2026-11-21T18:30:01-03:00"), warn),
            DeadlineStatus::Overdue
        );
    }
}
