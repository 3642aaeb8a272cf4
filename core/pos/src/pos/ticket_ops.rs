//! Ringing up: finding products (barcode, SKU, scale label, name), the ticket's lines,
//! discounts, the consumer's CPF/CNPJ and the customer whose account may be charged.

use tenda_domain::{Customer, CustomerId, Discount, Money, Product, Quantity, TaxId, Unit};

use super::{Pos, Session, lock, storage};
use crate::checkout::scale_label::{ScaleValue, grams_for_price};
use crate::checkout::ticket::{Ticket, cart_error};
use crate::error::{PosError, PosResult};
use crate::pos::Approval;

/// A product as the seller sees it in a search.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
    pub fn find_by_code(&self, code: &str) -> PosResult<Option<(ProductView, Option<Quantity>)>> {
        let code = code.trim();
        if code.is_empty() {
            return Err(PosError::invalid("code", "empty"));
        }
        let format = lock(&self.inner.config).scale_label;
        let mut store = lock(&self.inner.store);
        if let Some(label) = format
            .parse(code)
            .map_err(|e| PosError::invalid("code", e.to_string()))?
            && let Some(p) = store.product_by_sku(&label.code).map_err(storage)?
        {
            let grams = match label.value {
                ScaleValue::Weight => label.amount,
                ScaleValue::Price => {
                    grams_for_price(p.price.centavos(), label.amount).ok_or_else(|| {
                        PosError::invalid("code", "price label for a product without price")
                    })?
                }
            };
            let stock = store.stock_level(p.id).map_err(storage)?;
            return Ok(Some((
                view(&p, stock),
                Some(Quantity::from_thousandths(grams)),
            )));
        }
        let Some(p) = store.product_by_code(code).map_err(storage)? else {
            return Ok(None);
        };
        let stock = store.stock_level(p.id).map_err(storage)?;
        Ok(Some((view(&p, stock), None)))
    }

    /// Accent- and case-insensitive name search ("pao" finds "Pão Francês").
    pub fn search_products(&self, text: &str, limit: u32) -> PosResult<Vec<ProductView>> {
        let mut store = lock(&self.inner.store);
        let found = store.search_products(text, limit).map_err(storage)?;
        found
            .iter()
            .map(|p| Ok(view(p, store.stock_level(p.id).map_err(storage)?)))
            .collect()
    }

    /// Scans a code into the ticket: `quantity` for counted goods (default 1), the label's
    /// weight for scale labels. Returns the new line's index.
    pub fn scan(&self, code: &str, quantity: Option<Quantity>) -> PosResult<u32> {
        let (found, label_qty) = self.find_by_code(code)?.ok_or_else(|| PosError::NotFound {
            what: format!("product with code {code}"),
        })?;
        let product = lock(&self.inner.store)
            .product_by_code(&found.sku)
            .map_err(storage)?
            .ok_or_else(|| PosError::NotFound {
                what: "product".into(),
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

    pub fn add_product(&self, product: &Product, quantity: Quantity) -> PosResult<u32> {
        self.with_ticket(|t| t.add(product, quantity))
            .map(|i| u32::try_from(i).expect("fewer than 4 billion lines"))
    }

    pub fn set_quantity(&self, line: u32, quantity: Quantity) -> PosResult<()> {
        self.with_ticket(|t| t.set_quantity(line as usize, quantity))
    }

    /// Removes a line: a void, which needs a manager (their approval on a seller's session).
    pub fn void_line(&self, line: u32, approval: Option<&Approval>) -> PosResult<()> {
        let mut auth = self.ticket_authorizer(approval);
        self.with_ticket_unlocked(|t| t.remove(line as usize, &mut auth))
    }

    pub fn set_line_discount(
        &self,
        line: u32,
        discount: Option<Discount>,
        approval: Option<&Approval>,
    ) -> PosResult<()> {
        let matrix = lock(&self.inner.config).permissions.clone();
        let mut auth = self.ticket_authorizer(approval);
        self.with_ticket_unlocked(|t| {
            t.set_line_discount(line as usize, discount, &matrix, &mut auth)
        })
    }

    pub fn set_sale_discount(
        &self,
        discount: Option<Discount>,
        approval: Option<&Approval>,
    ) -> PosResult<()> {
        let matrix = lock(&self.inner.config).permissions.clone();
        let mut auth = self.ticket_authorizer(approval);
        self.with_ticket_unlocked(|t| t.set_sale_discount(discount, &matrix, &mut auth))
    }

    /// The consumer's CPF or CNPJ for the NFC-e (optional; checked digits).
    pub fn set_consumer_tax_id(&self, tax_id: Option<&str>) -> PosResult<()> {
        let parsed = tax_id
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
    pub fn set_customer(&self, customer_id: Option<CustomerId>) -> PosResult<Option<Customer>> {
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
        Ok(customer)
    }

    pub fn ticket(&self) -> PosResult<TicketView> {
        let session = lock(&self.inner.session);
        let s = session
            .as_ref()
            .ok_or_else(|| PosError::state("ticket", "nobody is signed in"))?;
        ticket_view(&s.ticket)
    }

    /// Discards the current ticket.
    pub fn clear_ticket(&self) -> PosResult<()> {
        self.with_ticket(|t| {
            *t = Ticket::default();
            Ok(())
        })
    }

    /// Runs `f` on the ticket while holding the session (for changes that need no approval).
    fn with_ticket<T>(&self, f: impl FnOnce(&mut Ticket) -> PosResult<T>) -> PosResult<T> {
        let mut session = lock(&self.inner.session);
        let s: &mut Session = session
            .as_mut()
            .ok_or_else(|| PosError::state("ticket", "nobody is signed in"))?;
        f(&mut s.ticket)
    }

    /// Runs `f` on a copy of the ticket without holding the session (approvals re-enter the
    /// session), then keeps the result if it succeeded.
    fn with_ticket_unlocked<T>(&self, f: impl FnOnce(&mut Ticket) -> PosResult<T>) -> PosResult<T> {
        let mut copy = {
            let session = lock(&self.inner.session);
            session
                .as_ref()
                .ok_or_else(|| PosError::state("ticket", "nobody is signed in"))?
                .ticket
                .clone()
        };
        let out = f(&mut copy)?;
        let mut session = lock(&self.inner.session);
        let s = session
            .as_mut()
            .ok_or_else(|| PosError::state("ticket", "signed out meanwhile"))?;
        s.ticket = copy;
        Ok(out)
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
