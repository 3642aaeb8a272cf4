//! Identifiers: UUID v7 newtypes. v7 ids sort by creation time, which keeps B-tree inserts local
//! and lets a device mint ids offline without colliding with any other device.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A text that is not a UUID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} is not a UUID: {reason}")]
pub struct IdError {
    pub kind: &'static str,
    pub reason: String,
}

macro_rules! id_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        #[cfg_attr(feature = "ts", derive(ts_rs::TS))]
        pub struct $name(Uuid);

        impl $name {
            /// A new time-ordered (v7) id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }

            /// The 16 bytes, as stored in the database.
            pub fn as_bytes(&self) -> [u8; 16] {
                *self.0.as_bytes()
            }

            pub fn from_slice(bytes: &[u8]) -> Result<Self, IdError> {
                Uuid::from_slice(bytes).map(Self).map_err(|e| IdError {
                    kind: stringify!($name),
                    reason: e.to_string(),
                })
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s.trim()).map(Self).map_err(|e| IdError {
                    kind: stringify!($name),
                    reason: e.to_string(),
                })
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }

        // The bindings carry ids as their UUID text.
        #[cfg(feature = "uniffi")]
        uniffi::custom_type!($name, String, {
            lower: |id| id.to_string(),
            try_lift: |text| Ok(text.parse::<$name>()?),
        });
    };
}

id_newtype!(
    /// A catalog product.
    ProductId
);
id_newtype!(
    /// A customer (person or company with an account at the store).
    CustomerId
);
id_newtype!(
    /// A sale; minted on the device and used as the client UUID that makes sync idempotent.
    SaleId
);
id_newtype!(
    /// A user (seller, manager, owner).
    UserId
);
id_newtype!(
    /// An enrolled device (till, phone).
    DeviceId
);
id_newtype!(
    /// A store (the legal entity's shop).
    StoreId
);
id_newtype!(
    /// A branch of a store.
    BranchId
);
id_newtype!(
    /// A register session (from opening to closing of a till).
    RegisterSessionId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_ids_are_version_7_and_time_ordered() {
        let a = SaleId::new();
        let b = SaleId::new();
        assert_eq!(a.as_uuid().get_version_num(), 7);
        // v7 embeds a millisecond timestamp and a monotonic counter: later ids sort after.
        assert!(a < b);
    }

    #[test]
    fn parses_displays_and_round_trips_bytes() {
        let id = ProductId::new();
        let parsed: ProductId = id.to_string().parse().expect("own display parses");
        assert_eq!(parsed, id);
        assert_eq!(ProductId::from_slice(&id.as_bytes()).expect("16 bytes"), id);
    }

    #[test]
    fn bad_ids_name_their_kind() {
        let err = "not-a-uuid".parse::<CustomerId>().expect_err("not a uuid");
        assert_eq!(err.kind, "CustomerId");
        assert!(
            UserId::from_slice(&[1, 2, 3]).is_err(),
            "3 bytes are not a UUID"
        );
    }
}
