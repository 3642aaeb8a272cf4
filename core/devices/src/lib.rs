#![doc = include_str!("../README.md")]

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
