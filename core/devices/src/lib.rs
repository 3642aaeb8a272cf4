#![doc = include_str!("../README.md")]

// The bindings' view of the link types (tenda-ffi): derives beside the types.
#[cfg(feature = "uniffi")]
uniffi::setup_scaffolding!("tenda_devices");

#[cfg(feature = "ble")]
pub mod ble;
pub mod card;
mod codepage_tables;
pub mod escpos;
pub mod layout;
pub mod preview;
pub mod printer;
pub mod receipt;
pub mod sim;
pub mod text;
pub mod transport;

pub use layout::{
    Align, Block, CodePageSupport, DocumentBuilder, PaperWidth, PrintDocument, PrintJob,
    PrinterProfile, TextStyle,
};
pub use printer::{
    EscPosPrinter, PrintReport, PrinterError, PrinterSettings, PrinterStatus, ReceiptPrinter,
};
pub use receipt::{
    ApproximateTaxes, Authorization, Danfe, DanfeOptions, Emission, Emitter, FiscalEnvironment,
    ItemDetail, LayoutError, ReceiptConsumer, ReceiptItem, ReceiptPayment, ReceiptTotals,
    SaleTicket, TicketLabels, layout_danfe, layout_ticket,
};
pub use text::{CodePage, MoneyFormat};
pub use transport::{
    LinkInfo, Pacing, ReconnectPolicy, Transport, TransportError, UnavailableReason, WriteMode,
};
