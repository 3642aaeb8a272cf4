//! Ringing up: finding products (barcode, SKU, scale label, name), the ticket's lines,
//! discounts, the consumer's CPF/CNPJ and the customer whose account may be charged.

use tenda_domain::{Action, Customer, CustomerId, Discount, Money, Product, Quantity, TaxId, Unit};
use tenda_store::LocalChange;

use super::{Pos, Session, execute, lock, storage};
use crate::checkout::scale_label::{ScaleValue, grams_for_price};
use crate::checkout::ticket::Ticket;
use crate::error::{PosError, PosResult, cart_error};
use crate::pos::Approval;

/// A product as the seller sees it in a search.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ProductView {
    pub id: String,
    pub sku: String,
    pub gtin: Option<String>,
    pub name: String,
    pub unit: String,
    pub weighed: bool,
    pub price: Money,
    /// Known stock in thousandths of the unit.
    pub stock_thousandths: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct TicketLineView {
    pub index: u32,
    pub name: String,
    pub quantity_thousandths: i64,
    pub unit: String,
    pub unit_price: Money,
    pub gross: Money,
    pub discount: Money,
    pub total: Money,
}

/// A code looked up: the product, and for a scale label the weight it gives.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CodeMatch {
    pub product: ProductView,
    pub label_quantity: Option<Quantity>,
}

/// A customer as the seller sees them when choosing whose account to charge.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CustomerView {
    pub id: CustomerId,
    pub name: String,
    pub tax_id: Option<String>,
    /// Last-known balance (negative: the customer owes the store).
    pub balance: Money,
    pub overdraft_limit: Money,
    pub active: bool,
}

impl From<&Customer> for CustomerView {
    fn from(c: &Customer) -> Self {
        CustomerView {
            id: c.id,
            name: c.name.clone(),
            tax_id: c.tax_id.as_ref().map(|t| t.as_str().to_owned()),
            balance: c.balance,
            overdraft_limit: c.overdraft_limit,
            active: c.active,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct TicketView {
    pub lines: Vec<TicketLineView>,
    pub gross: Money,
    pub discount: Money,
    pub total: Money,
    /// Share of the gross given as discount, in basis points (for the seller-limit display).
    pub discount_basis_points: u32,
    pub consumer_tax_id: Option<String>,
    pub customer_id: Option<String>,
}

impl Pos {
    /// Finds a product by barcode (GTIN), SKU/internal code or a scale label. A scale label also
    /// gives the weight (or price) to sell.
    pub fn find_by_code(&self, code: String) -> PosResult<Option<CodeMatch>> {
        self.alive()?;
        let Some((product, label_quantity)) = self.lookup_code(&code)? else {
            return Ok(None);
        };
        let stock = self.reader()?.stock_level(product.id).map_err(storage)?;
        Ok(Some(CodeMatch {
            product: view(&product, stock),
            label_quantity,
        }))
    }

    /// The product a code names, and the quantity a scale label carries: one reader, one
    /// lookup (two for a scale label), so a scan costs a single indexed read.
    fn lookup_code(&self, code: &str) -> PosResult<Option<(Product, Option<Quantity>)>> {
        let code = code.trim();
        if code.is_empty() {
            return Err(PosError::invalid("code", "empty"));
        }
        let format = lock(&self.inner.config).scale_label;
        if let Some(label) = format
            .parse(code)
            .map_err(|e| PosError::invalid("code", e.to_string()))?
            && let Some(p) = self
                .reader()?
                .product_by_sku(&label.code)
                .map_err(storage)?
        {
            let grams = match label.value {
                ScaleValue::Weight => label.amount,
                ScaleValue::Price => {
                    grams_for_price(p.price.centavos(), label.amount).ok_or_else(|| {
                        PosError::invalid("code", "price label for a product without price")
                    })?
                }
            };
            return Ok(Some((p, Some(Quantity::from_thousandths(grams)))));
        }
        Ok(self
            .inner
            .readers
            .product_by_code(code)
            .map_err(storage)?
            .map(|p| (p, None)))
    }

    /// Accent- and case-insensitive name search ("pao" finds "Pão Francês").
    pub fn search_products(&self, text: String, limit: u32) -> PosResult<Vec<ProductView>> {
        self.alive()?;
        let mut store = self.reader()?;
        let found = store.search_products(&text, limit).map_err(storage)?;
        found
            .iter()
            .map(|p| Ok(view(p, store.stock_level(p.id).map_err(storage)?)))
            .collect()
    }

    /// Customers whose name contains `text` (at most `limit`), with their last-known
    /// balance: the seller picks whose account a sale is charged to.
    pub fn search_customers(&self, text: String, limit: u32) -> PosResult<Vec<CustomerView>> {
        self.alive()?;
        let found = self
            .reader()?
            .search_customers(&text, limit)
            .map_err(storage)?;
        Ok(found.iter().map(CustomerView::from).collect())
    }

    /// Scans a code into the ticket: `quantity` for counted goods (default 1), the label's
    /// weight for scale labels. Returns the new line's index.
    pub fn scan(&self, code: String, quantity: Option<Quantity>) -> PosResult<u32> {
        self.alive()?;
        let (product, label_qty) = self.lookup_code(&code)?.ok_or_else(|| PosError::NotFound {
            what: format!("product with code {code}"),
        })?;
        let qty = match (label_qty, quantity) {
            (Some(q), _) => q,
            (None, Some(q)) => q,
            (None, None) if product.unit == Unit::Each || product.unit == Unit::Box => {
                Quantity::from_units(1).map_err(|e| PosError::invalid("quantity", e.to_string()))?
            }
            (None, None) => {
                return Err(PosError::invalid(
                    "quantity",
                    "weighed item: put it on the scale or type the weight",
                ));
            }
        };
        self.add_product(&product, qty)
    }

    pub(crate) fn add_product(&self, product: &Product, quantity: Quantity) -> PosResult<u32> {
        self.with_ticket(|t| t.add(product, quantity))
            .map(|i| u32::try_from(i).expect("fewer than 4 billion lines"))
    }

    pub fn set_quantity(&self, line: u32, quantity: Quantity) -> PosResult<()> {
        self.alive()?;
        self.with_ticket(|t| t.set_quantity(line as usize, quantity))
    }

    /// Removes a line: a void, which needs a manager (their approval on a seller's session).
    pub fn void_line(&self, line: u32, approval: Option<Approval>) -> PosResult<()> {
        self.alive()?;
        self.with_ticket_approved(approval.as_ref(), |t, auth| t.remove(line as usize, auth))
    }

    pub fn set_line_discount(
        &self,
        line: u32,
        discount: Option<Discount>,
        approval: Option<Approval>,
    ) -> PosResult<()> {
        self.alive()?;
        let matrix = lock(&self.inner.config).permissions.clone();
        self.with_ticket_approved(approval.as_ref(), |t, auth| {
            t.set_line_discount(line as usize, discount, &matrix, auth)
        })
    }

    pub fn set_sale_discount(
        &self,
        discount: Option<Discount>,
        approval: Option<Approval>,
    ) -> PosResult<()> {
        self.alive()?;
        let matrix = lock(&self.inner.config).permissions.clone();
        self.with_ticket_approved(approval.as_ref(), |t, auth| {
            t.set_sale_discount(discount, &matrix, auth)
        })
    }

    /// The consumer's CPF or CNPJ for the NFC-e (optional; checked digits).
    pub fn set_consumer_tax_id(&self, tax_id: Option<String>) -> PosResult<()> {
        self.alive()?;
        let parsed = tax_id
            .as_deref()
            .map(|t| {
                TaxId::parse(t).map_err(|e| PosError::invalid("consumer_tax_id", e.to_string()))
            })
            .transpose()?;
        self.with_ticket(|t| {
            t.cart.consumer_tax_id = parsed;
            Ok(())
        })
    }

    /// The customer whose account may be charged (and whose CPF/CNPJ goes on the note).
    pub fn set_customer(&self, customer_id: Option<CustomerId>) -> PosResult<Option<CustomerView>> {
        self.alive()?;
        let customer = match customer_id {
            Some(id) => Some(
                lock(&self.inner.store)
                    .customer(id)
                    .map_err(storage)?
                    .ok_or_else(|| PosError::NotFound {
                        what: "customer".into(),
                    })?,
            ),
            None => None,
        };
        self.with_ticket(|t| {
            t.cart.customer_id = customer.as_ref().map(|c| c.id);
            if let Some(c) = &customer
                && t.cart.consumer_tax_id.is_none()
            {
                t.cart.consumer_tax_id = c.tax_id.clone();
            }
            Ok(())
        })?;
        Ok(customer.as_ref().map(CustomerView::from))
    }

    pub fn ticket(&self) -> PosResult<TicketView> {
        self.alive()?;
        let device = self.device();
        let session = &device.session;
        let s = session
            .as_ref()
            .ok_or_else(|| PosError::state("ticket", "nobody is signed in"))?;
        ticket_view(&s.ticket)
    }

    /// Abandons the current ticket. With lines, it is an audited action (`ticket.abandon`,
    /// its lines and total recorded), in the same transaction that forgets it.
    pub fn clear_ticket(&self) -> PosResult<()> {
        self.alive()?;
        self.abandon_ticket("cleared")
    }

    /// Forgets the ticket; if it had lines, records who abandoned what and why.
    pub(crate) fn abandon_ticket(&self, why: &str) -> PosResult<()> {
        let mut device = self.device();
        let session = &mut device.session;
        let Some(s) = session.as_mut() else {
            return Err(PosError::state("ticket", "nobody is signed in"));
        };
        if s.ticket.cart.lines.is_empty() {
            s.ticket = Ticket::default();
            return Ok(());
        }
        let matrix = lock(&self.inner.config).permissions.clone();
        let auth = crate::authorize::authorize(&matrix, &s.operator, Action::Sell)?;
        let view = ticket_view(&s.ticket)?;
        let lines: Vec<String> = view
            .lines
            .iter()
            .map(|l| {
                format!(
                    "{}x{}={}",
                    l.name,
                    l.quantity_thousandths,
                    l.total.centavos()
                )
            })
            .collect();
        let execution = auth
            .execution(
                Action::Sell,
                format!(
                    "ticket lines=[{}] total={} reason={why}",
                    lines.join("; "),
                    view.total.centavos()
                ),
                self.now(),
            )
            .recorded_as("ticket.abandon");
        self.execute(execution, LocalChange::default(), execute::record)?;
        s.ticket = Ticket::default();
        Ok(())
    }

    /// Runs `f` on the ticket while holding the session (for changes that need no approval).
    fn with_ticket<T>(&self, f: impl FnOnce(&mut Ticket) -> PosResult<T>) -> PosResult<T> {
        let mut device = self.device();
        let session = &mut device.session;
        let s: &mut Session = session
            .as_mut()
            .ok_or_else(|| PosError::state("ticket", "nobody is signed in"))?;
        f(&mut s.ticket)
    }

    /// Runs `f` on the ticket in place with an authorizer for the actions it needs. A
    /// manager's approval is verified first (Argon2, slow), outside the state's lock, and
    /// audited as given (`session.approve`); the ticket is then changed under the lock, so a
    /// scan made meanwhile is never lost.
    fn with_ticket_approved<T>(
        &self,
        approval: Option<&Approval>,
        f: impl FnOnce(&mut Ticket, &mut dyn crate::checkout::ticket::Authorizer) -> PosResult<T>,
    ) -> PosResult<T> {
        let approver = match approval {
            Some(a) => Some(self.check_credentials(&a.login, &a.secret, "session.approve")?),
            None => None,
        };
        let matrix = lock(&self.inner.config).permissions.clone();
        let mut device = self.device();
        let s = device
            .session
            .as_mut()
            .ok_or_else(|| PosError::state("ticket", "nobody is signed in"))?;
        let performer = s.operator.clone();
        let mut denied = Vec::new();
        let mut auth = |action: Action| {
            let result = match &approver {
                Some(approver) => {
                    crate::authorize::authorize_with_override(&matrix, &performer, approver, action)
                }
                None => crate::authorize::authorize(&matrix, &performer, action),
            };
            if result.is_err() {
                denied.push(action);
            }
            result
        };
        let approvals_before = s.ticket.approvals.len();
        let out = f(&mut s.ticket, &mut auth);
        // Whatever happens to the ticket later, an approval is audited when given, and a
        // refusal when refused.
        let given: Vec<_> = s.ticket.approvals[approvals_before.min(s.ticket.approvals.len())..]
            .iter()
            .map(|a| {
                let mut entry = a.succeeded(a.action(), "ticket", self.now())?;
                // Named apart from the entry the sale records for it at checkout.
                entry.action = match a.approver() {
                    Some(_) => format!("approval.{}", a.action().code()),
                    None => format!("ticket.{}", a.action().code()),
                };
                Ok(entry)
            })
            .collect::<PosResult<Vec<_>>>()?;
        if !given.is_empty() {
            lock(&self.inner.store)
                .record_local_change(&LocalChange {
                    settings: vec![],
                    mutations: vec![],
                    audit: given,
                    ..Default::default()
                })
                .map_err(storage)?;
        }
        for action in denied {
            self.audit_denied(&performer, approver.as_ref(), action)?;
        }
        out
    }
}

fn view(p: &Product, stock: Quantity) -> ProductView {
    ProductView {
        id: p.id.to_string(),
        sku: p.sku.clone(),
        gtin: p.gtin.as_ref().map(|g| g.as_str().to_owned()),
        name: p.name.clone(),
        unit: p.unit.code().to_owned(),
        weighed: p.unit.allows_fractions(),
        price: p.price,
        stock_thousandths: stock.thousandths(),
    }
}

pub(crate) fn ticket_view(t: &Ticket) -> PosResult<TicketView> {
    let totals = t.cart.totals().map_err(cart_error)?;
    let lines = t
        .cart
        .lines
        .iter()
        .zip(&totals.lines)
        .enumerate()
        .map(|(i, (l, lt))| TicketLineView {
            index: u32::try_from(i).expect("fewer than 4 billion lines"),
            name: l.name.clone(),
            quantity_thousandths: l.quantity.thousandths(),
            unit: l.unit.code().to_owned(),
            unit_price: l.unit_price,
            gross: lt.gross,
            discount: lt
                .line_discount
                .checked_add(lt.sale_discount_share)
                .unwrap_or(lt.line_discount),
            total: lt.total,
        })
        .collect();
    Ok(TicketView {
        lines,
        gross: totals.gross,
        discount: totals.line_discounts.checked_add(totals.sale_discount)?,
        total: totals.total,
        discount_basis_points: t.cart.discount_basis_points().map_err(cart_error)?,
        consumer_tax_id: t
            .cart
            .consumer_tax_id
            .as_ref()
            .map(|x| x.as_str().to_owned()),
        customer_id: t.cart.customer_id.map(|c| c.to_string()),
    })
}
