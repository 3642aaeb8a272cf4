#![doc = include_str!("../README.md")]

pub mod protocol;
pub mod fingerprint;

#[cfg(feature = "engine")]
pub mod engine;
#[cfg(feature = "engine")]
pub mod pinning;

pub use protocol::PROTOCOL_VERSION;
