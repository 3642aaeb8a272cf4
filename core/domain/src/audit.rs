//! Audit entries: who did what to what, and how it ended. The store chains them with hashes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{DeviceId, UserId};

/// Who acted: a signed-in user, or the device itself (sync, transmission workers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Actor {
    User(UserId),
    Device(DeviceId),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Succeeded,
    Denied,
    Failed,
}

impl Outcome {
    pub fn code(self) -> &'static str {
        match self {
            Outcome::Succeeded => "succeeded",
            Outcome::Denied => "denied",
            Outcome::Failed => "failed",
        }
    }

    pub fn from_code(code: &str) -> Option<Outcome> {
        [Outcome::Succeeded, Outcome::Denied, Outcome::Failed]
            .into_iter()
            .find(|o| o.code() == code)
    }
}

impl Actor {
    /// `user:<uuid>` or `device:<uuid>`: the form hashed into the audit chain.
    pub fn code(&self) -> String {
        match self {
            Actor::User(id) => format!("user:{id}"),
            Actor::Device(id) => format!("device:{id}"),
        }
    }

    pub fn from_code(code: &str) -> Option<Actor> {
        let (kind, id) = code.split_once(':')?;
        match kind {
            "user" => id.parse().ok().map(Actor::User),
            "device" => id.parse().ok().map(Actor::Device),
            _ => None,
        }
    }
}

/// An event to audit. `action` is a stable dotted code (`sale.record`, `register.open`,
/// `user.login`); `subject` names what it acted on (`sale:<uuid>`). No personal data: ids only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub actor: Actor,
    pub action: String,
    pub subject: String,
    pub outcome: Outcome,
    pub at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actor_codes_round_trip() {
        for a in [Actor::User(UserId::new()), Actor::Device(DeviceId::new())] {
            assert_eq!(Actor::from_code(&a.code()), Some(a));
        }
        assert_eq!(Actor::from_code("robot:1"), None);
        assert_eq!(Outcome::from_code("denied"), Some(Outcome::Denied));
    }
}
