//! Secrets kept only inside the encrypted database: the A1 certificate (PKCS#12 bytes) and its
//! password, the device's sync credential. Reads come back zeroized on drop; writes are audited.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use tenda_domain::{Actor, AuditEvent, Outcome};
use zeroize::Zeroizing;

use crate::audit::append_audit;
use crate::error::{Error, Result};
use crate::schema::secrets;
use crate::store::{Store, ts};

/// Name under which the fiscal A1 certificate (PKCS#12) is kept, by convention.
pub const A1_CERTIFICATE: &str = "fiscal.a1_certificate";
/// Name under which the A1 certificate's password is kept, by convention.
pub const A1_PASSWORD: &str = "fiscal.a1_password";

fn check_name(name: &str) -> Result<()> {
    if name.trim().is_empty() || name.len() > 100 {
        return Err(Error::InvalidInput {
            field: "name",
            reason: "1-100 characters".into(),
        });
    }
    Ok(())
}

impl Store {
    /// Stores (or replaces) a secret, with an audit entry naming it (never its value).
    pub fn save_secret(
        &mut self,
        name: &str,
        value: &[u8],
        actor: Actor,
        at: DateTime<Utc>,
    ) -> Result<()> {
        check_name(name)?;
        if value.is_empty() {
            return Err(Error::InvalidInput {
                field: "value",
                reason: "must not be empty".into(),
            });
        }
        self.write(|c| {
            diesel::replace_into(secrets::table)
                .values((
                    secrets::name.eq(name),
                    secrets::value.eq(value),
                    secrets::updated_at.eq(ts(at)),
                ))
                .execute(c)?;
            append_audit(
                c,
                &AuditEvent {
                    actor,
                    action: "secret.save".into(),
                    subject: format!("secret:{name}"),
                    outcome: Outcome::Succeeded,
                    at,
                },
            )?;
            Ok(())
        })
    }

    pub fn secret(&mut self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>> {
        let v: Option<Vec<u8>> = secrets::table
            .filter(secrets::name.eq(name))
            .select(secrets::value)
            .first(&mut self.conn)
            .optional()?;
        Ok(v.map(Zeroizing::new))
    }

    /// Removes a secret (audited); removing a missing one is not an error.
    pub fn delete_secret(&mut self, name: &str, actor: Actor, at: DateTime<Utc>) -> Result<()> {
        self.write(|c| {
            diesel::delete(secrets::table.filter(secrets::name.eq(name))).execute(c)?;
            append_audit(
                c,
                &AuditEvent {
                    actor,
                    action: "secret.delete".into(),
                    subject: format!("secret:{name}"),
                    outcome: Outcome::Succeeded,
                    at,
                },
            )?;
            Ok(())
        })
    }
}
