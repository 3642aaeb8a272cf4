#![doc = include_str!("../README.md")]

pub mod money;

pub use money::{Money, MoneyError};
