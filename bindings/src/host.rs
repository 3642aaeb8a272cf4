//! The host traits the bindings export live beside the error they return, in tenda-pos
//! (uniffi's Kotlin cannot lower another crate's error from a callback).

pub use tenda_pos::host_link::{KeyVault, LinkTransport as HostTransport, PeripheralLink};
