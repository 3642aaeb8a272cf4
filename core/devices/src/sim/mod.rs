//! Simulated peripherals behind the same [`crate::Transport`] trait as real Bluetooth devices,
//! for tests and demos: a printer that turns ESC/POS back into paper, and a card reader with
//! scripted outcomes and faults.

mod printer;

pub use printer::{PrintedReceipt, SimulatedPrinter};
