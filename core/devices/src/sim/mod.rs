//! Simulated peripherals behind the same [`crate::Transport`] trait as real Bluetooth devices,
//! for tests and demos: a printer that turns ESC/POS back into paper, and a card reader with
//! scripted outcomes and faults.

mod card_reader;
mod printer;
mod sample;

pub use card_reader::{SimCardBehaviour, SimCharge, SimForwardBehaviour, SimulatedCardReader};
pub use printer::{PrintedReceipt, SimulatedPrinter};
pub use sample::{sample_danfe, sample_ticket};
