#![doc = include_str!("../README.md")]

uniffi::setup_scaffolding!("tenda");

mod pos;
pub mod sim;

pub use pos::{Pos, enroll, open, open_config, sefaz_access};
