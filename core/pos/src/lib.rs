#![doc = include_str!("../README.md")]

pub mod contingency;
pub mod checkout;
pub mod credentials;
pub mod error;
pub mod register;
pub mod status;

pub use error::{PosError, PosResult};
