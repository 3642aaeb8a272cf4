#![doc = include_str!("../README.md")]

pub mod fingerprint;
pub mod protocol;

#[cfg(feature = "engine")]
pub mod engine;
#[cfg(feature = "client")]
pub mod pinning;

pub use protocol::PROTOCOL_VERSION;
