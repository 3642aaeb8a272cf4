#![doc = include_str!("../README.md")]

// The bindings' view of these types (tenda-ffi): derives beside the types, no mirrors.
#[cfg(feature = "uniffi")]
uniffi::setup_scaffolding!("tenda_domain");
#[cfg(feature = "uniffi")]
pub mod ffi_types;

pub mod amount_text;
pub mod audit;
pub mod credential;
pub mod customer;
pub mod fiscal;
pub mod gtin;
pub mod ids;
pub mod money;
pub mod mutation_rules;
pub mod outbox;
pub mod payment;
pub mod product;
pub mod quantity;
pub mod roles;
pub mod sale;
pub mod settings;
pub mod stock;
pub mod tax_id;
pub mod text;
pub mod user;

pub use audit::{Actor, AuditEvent, Outcome};
pub use credential::{Secret, SecretError};
pub use customer::{AccountError, Customer};
pub use fiscal::{EmissionType, FiscalDocumentRef, FiscalStatus};
pub use gtin::{Gtin, GtinError, GtinKind};
pub use ids::{
    BranchId, CustomerId, DeviceId, IdError, ProductId, RegisterSessionId, SaleId, StoreId, UserId,
};
pub use money::{Money, MoneyError};
pub use mutation_rules::MutationError;
pub use outbox::{CardForwardOutcome, CashMovementKind, Mutation, OutboxEntry, SaleRecorded};
pub use payment::{CardKind, Payment, PaymentError, PaymentMethod};
pub use product::{FieldError, FiscalData, IcmsTaxation, Product};
pub use quantity::{Quantity, QuantityError, Unit};
pub use roles::{Action, Denied, Grant, Permission, PermissionMatrix, Role};
pub use sale::{
    Cart, CartError, CartLine, Discount, LineTotals, Sale, SaleError, SaleHeader, SaleLine, Totals,
};
pub use stock::{BalanceDelta, BalanceReason, StockDelta, StockLevel, StockReason};
pub use tax_id::{Cnpj, Cpf, TaxId, TaxIdError};
pub use text::{TextError, TextKind};
pub use user::User;
