#![doc = include_str!("../README.md")]

uniffi::setup_scaffolding!("tenda");

mod host;
mod platform;
mod pos;
pub mod sim;

pub use host::{KeyVault, PeripheralLink};
pub use platform::SefazAccess;
pub use pos::{AuditCheck, Pos, Subscription, enroll, open};
