#![doc = include_str!("../README.md")]

pub mod backoffice;
pub mod device;
pub mod link;
pub mod sample;
