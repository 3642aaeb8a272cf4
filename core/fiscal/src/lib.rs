#![doc = include_str!("../README.md")]

pub mod certificate;
pub mod nfce;
pub mod samples;
pub mod sefaz;
pub mod xmldsig;
pub mod xsd;

pub use certificate::{A1Certificate, CertificateError};

#[cfg(test)]
pub(crate) mod test_support;
