//! Slows guessing: failed sign-ins and enrollment-code guesses are counted per account and per
//! source address in the database (so every server process sees them), and past a few free
//! failures each further one locks that scope for twice as long as the last, up to a ceiling.

use diesel::prelude::*;
use diesel::upsert::excluded;

use crate::db::Conn;
use crate::error::Error;
use crate::schema::login_throttle;
use crate::{with_conn, write_tx};

/// How many failures are free and how the wait grows after them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub free_failures: i64,
    pub first_wait_ms: i64,
    pub max_wait_ms: i64,
    /// A scope quiet for this long starts counting afresh.
    pub forget_after_ms: i64,
}

/// One account (store + login): a person mistypes a few times, a guesser is slowed at once.
pub const ACCOUNT: Policy = Policy {
    free_failures: 5,
    first_wait_ms: 1_000,
    max_wait_ms: 15 * 60_000,
    forget_after_ms: 60 * 60_000,
};

/// One source address: several people may share it (an office), so more failures are free.
pub const SOURCE: Policy = Policy {
    free_failures: 20,
    first_wait_ms: 1_000,
    max_wait_ms: 15 * 60_000,
    forget_after_ms: 60 * 60_000,
};

/// The wait after the `failures`-th failure in a row under `policy` (0 while still free).
pub fn wait_ms(policy: Policy, failures: i64) -> i64 {
    let past = failures - policy.free_failures;
    if past <= 0 {
        return 0;
    }
    let doublings = u32::try_from(past - 1).unwrap_or(u32::MAX).min(30);
    policy
        .first_wait_ms
        .saturating_mul(1i64 << doublings)
        .min(policy.max_wait_ms)
}

/// `Err(Throttled)` while any of `scopes` is locked.
pub fn check(conn: &mut Conn, scopes: &[&str], now: i64) -> Result<(), Error> {
    let until: Option<i64> = with_conn!(conn, |c| login_throttle::table
        .filter(login_throttle::scope.eq_any(scopes))
        .select(diesel::dsl::max(login_throttle::locked_until))
        .first(c))?;
    match until {
        Some(until) if until > now => Err(Error::Throttled {
            retry_after_s: u64::try_from((until - now + 999) / 1000).unwrap_or(1),
        }),
        _ => Ok(()),
    }
}

/// Counts a failure in `scope`; returns when the scope is locked until, if this failure locks it.
pub fn fail(conn: &mut Conn, scope: &str, policy: Policy, now: i64) -> Result<Option<i64>, Error> {
    write_tx!(conn, |c| {
        let previous: Option<(i64, i64)> = login_throttle::table
            .find(scope)
            .select((login_throttle::failures, login_throttle::updated_at))
            .first(c)
            .optional()?;
        let failures = match previous {
            Some((n, at)) if now - at < policy.forget_after_ms => n.saturating_add(1),
            _ => 1,
        };
        let wait = wait_ms(policy, failures);
        let locked_until = if wait > 0 { now + wait } else { 0 };
        diesel::insert_into(login_throttle::table)
            .values((
                login_throttle::scope.eq(scope),
                login_throttle::failures.eq(failures),
                login_throttle::locked_until.eq(locked_until),
                login_throttle::updated_at.eq(now),
            ))
            .on_conflict(login_throttle::scope)
            .do_update()
            .set((
                login_throttle::failures.eq(excluded(login_throttle::failures)),
                login_throttle::locked_until.eq(excluded(login_throttle::locked_until)),
                login_throttle::updated_at.eq(excluded(login_throttle::updated_at)),
            ))
            .execute(c)?;
        Ok((wait > 0).then_some(locked_until))
    })
}

/// Forgets the failures of `scope` (a successful sign-in to that account).
pub fn clear(conn: &mut Conn, scope: &str) -> Result<(), Error> {
    with_conn!(conn, |c| diesel::delete(login_throttle::table.find(scope))
        .execute(c))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_past_the_free_failures_up_to_the_ceiling() {
        let waits: Vec<i64> = (1..=8).map(|n| wait_ms(ACCOUNT, n)).collect();
        assert_eq!(waits, vec![0, 0, 0, 0, 0, 1_000, 2_000, 4_000]);
        assert_eq!(wait_ms(ACCOUNT, 1_000), ACCOUNT.max_wait_ms);
        assert_eq!(wait_ms(SOURCE, 20), 0);
        assert_eq!(wait_ms(SOURCE, 21), 1_000);
    }
}
