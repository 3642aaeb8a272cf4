#![doc = include_str!("../README.md")]

pub mod protocol;
pub mod fingerprint;

#[cfg(feature = "engine")]
pub mod engine;

pub use protocol::PROTOCOL_VERSION;
