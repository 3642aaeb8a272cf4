//! Steps that run inside a caller's transaction, written once for both backends.

use diesel::prelude::*;
use uuid::Uuid;

use crate::auth::{new_enrollment_code, normalize_code, secret_hash};
use crate::db::now_ms;
use crate::enroll::IssuedCode;
use crate::error::Error;
use crate::schema::{audit_log, branches, devices, enrollment_codes, stores};

/// Operations available on a connection already inside a transaction.
pub trait Tx {
    /// Takes the next store-wide change version (locking the store row until commit, so
    /// versions become visible in increasing order).
    fn next_version(&mut self, store_id: &str, how_many: i64) -> Result<i64, Error>;

    /// Records who did what to what, and how it ended, in the back-office audit log.
    fn audit(
        &mut self,
        store_id: &str,
        actor: &str,
        action: &str,
        subject: &str,
        outcome: &str,
    ) -> Result<(), Error>;

    /// Issues a one-time enrollment code for a branch and an NFC-e series.
    fn issue_code(
        &mut self,
        store_id: &str,
        branch_id: &str,
        nfce_series: u32,
        created_by: &str,
        ttl_ms: i64,
    ) -> Result<IssuedCode, Error>;
}

macro_rules! impl_tx {
    ($conn:ty) => {
        impl Tx for $conn {
            fn next_version(&mut self, store_id: &str, how_many: i64) -> Result<i64, Error> {
                let c = self;
                let n = diesel::update(stores::table.find(store_id))
                    .set(stores::change_seq.eq(stores::change_seq + how_many))
                    .execute(c)?;
                if n != 1 {
                    return Err(Error::NotFound("store".into()));
                }
                let last: i64 = stores::table
                    .find(store_id)
                    .select(stores::change_seq)
                    .first(c)?;
                Ok(last - how_many + 1)
            }

            fn audit(
                &mut self,
                store_id: &str,
                actor: &str,
                action: &str,
                subject: &str,
                outcome: &str,
            ) -> Result<(), Error> {
                diesel::insert_into(audit_log::table)
                    .values((
                        audit_log::id.eq(Uuid::now_v7().to_string()),
                        audit_log::store_id.eq(store_id),
                        audit_log::actor.eq(actor),
                        audit_log::action.eq(action),
                        audit_log::subject.eq(subject),
                        audit_log::outcome.eq(outcome),
                        audit_log::at.eq(now_ms()),
                    ))
                    .execute(self)?;
                Ok(())
            }

            fn issue_code(
                &mut self,
                store_id: &str,
                branch_id: &str,
                nfce_series: u32,
                created_by: &str,
                ttl_ms: i64,
            ) -> Result<IssuedCode, Error> {
                let c = self;
                let branch_store: Option<String> = branches::table
                    .find(branch_id)
                    .select(branches::store_id)
                    .first(c)
                    .optional()?;
                if branch_store.as_deref() != Some(store_id) {
                    return Err(Error::NotFound("branch".into()));
                }
                if !(1..=999).contains(&nfce_series) {
                    return Err(Error::invalid(
                        "nfce_series",
                        "NFC-e series run from 1 to 999",
                    ));
                }
                let taken: i64 = devices::table
                    .filter(devices::store_id.eq(store_id))
                    .filter(devices::nfce_series.eq(i64::from(nfce_series)))
                    .filter(devices::revoked.eq(false))
                    .count()
                    .get_result(c)?;
                if taken > 0 {
                    return Err(Error::Conflict(format!(
                        "NFC-e series {nfce_series} already belongs to an active device"
                    )));
                }
                let code = new_enrollment_code();
                let now = now_ms();
                let expires_at = now + ttl_ms.max(60_000);
                diesel::insert_into(enrollment_codes::table)
                    .values((
                        enrollment_codes::code_hash.eq(secret_hash(&normalize_code(&code))),
                        enrollment_codes::store_id.eq(store_id),
                        enrollment_codes::branch_id.eq(branch_id),
                        enrollment_codes::nfce_series.eq(i64::from(nfce_series)),
                        enrollment_codes::created_by.eq(created_by),
                        enrollment_codes::created_at.eq(now),
                        enrollment_codes::expires_at.eq(expires_at),
                    ))
                    .execute(c)?;
                Ok(IssuedCode {
                    code,
                    branch_id: branch_id
                        .parse()
                        .map_err(|_| Error::invalid("branch_id", "not a UUID"))?,
                    nfce_series,
                    expires_at,
                })
            }
        }
    };
}

impl_tx!(diesel::sqlite::SqliteConnection);
impl_tx!(diesel::pg::PgConnection);
