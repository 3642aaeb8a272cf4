#![doc = include_str!("../README.md")]

pub mod contingency;
pub mod credentials;
pub mod register;
