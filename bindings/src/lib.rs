#![doc = include_str!("../README.md")]

uniffi::setup_scaffolding!("tenda");

// Instants cross as milliseconds since the epoch, as tenda-domain registers them.
mod ffi_types {
    use chrono::{DateTime, Utc};
    uniffi::use_remote_type!(tenda_domain::DateTime<Utc>);
}

mod pos;
pub mod sim;

pub use pos::{Pos, enroll, open, open_config, sefaz_access};
