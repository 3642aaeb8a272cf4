#![doc = include_str!("../README.md")]

pub mod authorize;
pub mod checkout;
pub mod contingency;
pub mod credentials;
pub mod error;
pub mod register;
pub mod reports;
pub mod status;
pub mod transmission;

pub use error::{PosError, PosResult};
