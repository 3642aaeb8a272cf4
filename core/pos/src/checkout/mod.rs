//! Checkout: turning what the seller scans and the customer pays into one committed sale.

pub mod payments;
pub mod scale_label;
pub mod ticket;
