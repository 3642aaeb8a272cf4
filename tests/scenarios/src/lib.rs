#![doc = include_str!("../README.md")]

pub mod link;
pub mod sample;
