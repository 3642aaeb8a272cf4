//! The cart being rung up and the sale it becomes. Totals are computed in one place
//! ([`Cart::totals`]) and always add up to the centavo: line totals sum to the sale total, and a
//! sale discount is spread over the lines with [`Money::split_by_weights`].

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::customer::AccountError;
use crate::gtin::Gtin;
use crate::ids::{CustomerId, DeviceId, ProductId, SaleId, UserId};
use crate::money::{Money, MoneyError};
use crate::payment::{Payment, PaymentError, PaymentMethod};
use crate::product::{FiscalData, Product};
use crate::quantity::{Quantity, QuantityError, Unit};
use crate::stock::{BalanceDelta, BalanceReason, StockDelta, StockReason};
use crate::tax_id::TaxId;

/// 100% in basis points.
pub const FULL_BP: u32 = 10_000;

/// A discount on a line or on the whole sale.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum Discount {
    /// A fixed amount off.
    Amount(Money),
    /// A percentage off, in basis points (10% = 1000), rounded half to even.
    Percent(u32),
}

impl Discount {
    /// The amount this discount takes off `base`, checked against it.
    pub fn amount_of(self, base: Money) -> Result<Money, CartError> {
        let amount = match self {
            Discount::Amount(m) => m,
            Discount::Percent(bp) => {
                if bp > FULL_BP {
                    return Err(CartError::DiscountTooLarge);
                }
                base.mul_ratio_half_even(i64::from(bp), i64::from(FULL_BP))?
            }
        };
        if amount.is_negative() {
            return Err(CartError::NegativeDiscount);
        }
        if amount > base {
            return Err(CartError::DiscountTooLarge);
        }
        Ok(amount)
    }
}

/// A line being rung up: a snapshot of the product at the time it was added.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartLine {
    pub product_id: ProductId,
    pub sku: String,
    pub gtin: Option<Gtin>,
    pub name: String,
    pub unit: Unit,
    pub quantity: Quantity,
    pub unit_price: Money,
    pub discount: Option<Discount>,
    pub fiscal: FiscalData,
}

/// The sale being rung up.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cart {
    pub lines: Vec<CartLine>,
    /// A discount on the whole sale, spread over the lines.
    pub discount: Option<Discount>,
    /// The customer whose account may be charged.
    pub customer_id: Option<CustomerId>,
    /// CPF/CNPJ printed on the fiscal receipt ("CPF na nota").
    pub consumer_tax_id: Option<TaxId>,
}

/// Amounts of one line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineTotals {
    /// unit price × quantity.
    pub gross: Money,
    pub line_discount: Money,
    /// This line's part of the sale discount.
    pub sale_discount_share: Money,
    /// gross − line discount − sale discount share.
    pub total: Money,
}

/// Amounts of the whole cart. Invariants: `total = Σ lines.total`, `gross = Σ lines.gross`,
/// `discount = line_discounts + sale_discount = Σ (line_discount + sale_discount_share)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub lines: Vec<LineTotals>,
    pub gross: Money,
    pub line_discounts: Money,
    pub sale_discount: Money,
    pub total: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CartError {
    #[error("the cart is empty")]
    Empty,
    #[error("there is no line {0}")]
    NoSuchLine(usize),
    #[error("product is inactive and cannot be sold")]
    InactiveProduct,
    #[error("quantity: {0}")]
    Quantity(#[from] QuantityError),
    #[error("price must not be negative")]
    NegativePrice,
    #[error("discount must not be negative")]
    NegativeDiscount,
    #[error("discount exceeds the amount it applies to")]
    DiscountTooLarge,
    #[error(transparent)]
    Money(#[from] MoneyError),
}

impl CartLine {
    /// A line for `quantity` of `product` at its current price.
    pub fn from_product(product: &Product, quantity: Quantity) -> Result<CartLine, CartError> {
        if !product.active {
            return Err(CartError::InactiveProduct);
        }
        quantity.validate_for_sale(product.unit)?;
        Ok(CartLine {
            product_id: product.id,
            sku: product.sku.clone(),
            gtin: product.gtin.clone(),
            name: product.name.clone(),
            unit: product.unit,
            quantity,
            unit_price: product.price,
            discount: None,
            fiscal: product.fiscal.clone(),
        })
    }
}

impl Cart {
    pub fn new() -> Cart {
        Cart::default()
    }

    /// Adds a line and returns its index.
    pub fn add(&mut self, product: &Product, quantity: Quantity) -> Result<usize, CartError> {
        let line = CartLine::from_product(product, quantity)?;
        self.add_line(line)
    }

    /// Adds a prepared line (e.g. with a price override) after checking it.
    pub fn add_line(&mut self, line: CartLine) -> Result<usize, CartError> {
        line.quantity.validate_for_sale(line.unit)?;
        if line.unit_price.is_negative() {
            return Err(CartError::NegativePrice);
        }
        let gross = line.quantity.price(line.unit_price)?;
        if let Some(d) = line.discount {
            d.amount_of(gross)?;
        }
        self.lines.push(line);
        // The new line must not make the cart's totals invalid (overflow, sale discount).
        if let Err(e) = self.totals() {
            self.lines.pop();
            return Err(e);
        }
        Ok(self.lines.len() - 1)
    }

    pub fn remove(&mut self, index: usize) -> Result<CartLine, CartError> {
        if index >= self.lines.len() {
            return Err(CartError::NoSuchLine(index));
        }
        Ok(self.lines.remove(index))
    }

    pub fn set_quantity(&mut self, index: usize, quantity: Quantity) -> Result<(), CartError> {
        let line = self
            .lines
            .get_mut(index)
            .ok_or(CartError::NoSuchLine(index))?;
        quantity.validate_for_sale(line.unit)?;
        let previous = std::mem::replace(&mut line.quantity, quantity);
        self.keep_valid(|c| c.lines[index].quantity = previous)
    }

    pub fn set_line_discount(
        &mut self,
        index: usize,
        discount: Option<Discount>,
    ) -> Result<(), CartError> {
        let line = self
            .lines
            .get_mut(index)
            .ok_or(CartError::NoSuchLine(index))?;
        let previous = std::mem::replace(&mut line.discount, discount);
        self.keep_valid(|c| c.lines[index].discount = previous)
    }

    pub fn set_discount(&mut self, discount: Option<Discount>) -> Result<(), CartError> {
        let previous = std::mem::replace(&mut self.discount, discount);
        self.keep_valid(|c| c.discount = previous)
    }

    /// Undoes a change that makes the totals invalid, so a refused edit leaves the cart as it
    /// was.
    fn keep_valid(&mut self, undo: impl FnOnce(&mut Cart)) -> Result<(), CartError> {
        match self.totals() {
            Ok(_) => Ok(()),
            Err(e) => {
                undo(self);
                Err(e)
            }
        }
    }

    /// Computes every amount. Line discounts apply first; the sale discount applies to what is
    /// left and is spread over the lines in proportion to their net amounts.
    pub fn totals(&self) -> Result<Totals, CartError> {
        let mut lines = Vec::with_capacity(self.lines.len());
        for line in &self.lines {
            if line.unit_price.is_negative() {
                return Err(CartError::NegativePrice);
            }
            let gross = line.quantity.price(line.unit_price)?;
            let line_discount = match line.discount {
                Some(d) => d.amount_of(gross)?,
                None => Money::ZERO,
            };
            lines.push(LineTotals {
                gross,
                line_discount,
                sale_discount_share: Money::ZERO,
                total: gross.checked_sub(line_discount)?,
            });
        }
        let gross = Money::checked_sum(lines.iter().map(|l| l.gross))?;
        let line_discounts = Money::checked_sum(lines.iter().map(|l| l.line_discount))?;
        let subtotal = Money::checked_sum(lines.iter().map(|l| l.total))?;
        let sale_discount = match self.discount {
            Some(d) => d.amount_of(subtotal)?,
            None => Money::ZERO,
        };
        if !sale_discount.is_zero() {
            let weights: Vec<Money> = lines.iter().map(|l| l.total).collect();
            let shares = sale_discount.split_by_weights(&weights)?;
            for (line, share) in lines.iter_mut().zip(shares) {
                line.sale_discount_share = share;
                line.total = line.total.checked_sub(share)?;
            }
        }
        let total = subtotal.checked_sub(sale_discount)?;
        Ok(Totals {
            lines,
            gross,
            line_discounts,
            sale_discount,
            total,
        })
    }

    /// The cart's total discount as a share of its gross amount, in basis points, rounded up
    /// (so a limit is never undercut by rounding). Used to decide whether a manager must
    /// authorize it.
    pub fn discount_basis_points(&self) -> Result<u32, CartError> {
        let t = self.totals()?;
        if t.gross.is_zero() {
            return Ok(0);
        }
        let discount = i128::from(t.line_discounts.checked_add(t.sale_discount)?.centavos());
        let gross = i128::from(t.gross.centavos());
        let bp = (discount * i128::from(FULL_BP) + gross - 1) / gross;
        Ok(u32::try_from(bp).unwrap_or(FULL_BP))
    }

    /// Turns the cart into a sale paid by `payments`.
    pub fn checkout(&self, header: SaleHeader, payments: Vec<Payment>) -> Result<Sale, SaleError> {
        if self.lines.is_empty() {
            return Err(SaleError::Cart(CartError::Empty));
        }
        let totals = self.totals()?;
        for (index, p) in payments.iter().enumerate() {
            p.validate()
                .map_err(|source| SaleError::Payment { index, source })?;
            if let PaymentMethod::CustomerAccount { customer_id } = p.method
                && self.customer_id != Some(customer_id)
            {
                return Err(SaleError::AccountNotSaleCustomer { index });
            }
        }
        let paid =
            Money::checked_sum(payments.iter().map(|p| p.amount)).map_err(CartError::from)?;
        if paid < totals.total {
            return Err(SaleError::Underpaid {
                missing: totals.total.checked_sub(paid).map_err(CartError::from)?,
            });
        }
        if paid > totals.total {
            return Err(SaleError::Overpaid {
                excess: paid.checked_sub(totals.total).map_err(CartError::from)?,
            });
        }
        let lines = self
            .lines
            .iter()
            .zip(&totals.lines)
            .enumerate()
            .map(|(i, (l, t))| SaleLine {
                line_no: u32::try_from(i + 1).expect("a cart never holds 4 billion lines"),
                product_id: l.product_id,
                sku: l.sku.clone(),
                gtin: l.gtin.clone(),
                name: l.name.clone(),
                unit: l.unit,
                quantity: l.quantity,
                unit_price: l.unit_price,
                gross: t.gross,
                discount: t
                    .line_discount
                    .checked_add(t.sale_discount_share)
                    .expect("both parts of gross"),
                total: t.total,
                fiscal: l.fiscal.clone(),
            })
            .collect();
        let change =
            Money::checked_sum(payments.iter().map(Payment::change)).map_err(CartError::from)?;
        Ok(Sale {
            id: header.id,
            device_id: header.device_id,
            seller_id: header.seller_id,
            customer_id: self.customer_id,
            consumer_tax_id: self.consumer_tax_id.clone(),
            created_at: header.created_at,
            lines,
            gross: totals.gross,
            discount: totals
                .line_discounts
                .checked_add(totals.sale_discount)
                .map_err(CartError::from)?,
            total: totals.total,
            payments,
            change,
        })
    }
}

/// Who, where and when: what a sale needs besides the cart and the payments.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleHeader {
    pub id: SaleId,
    pub device_id: DeviceId,
    pub seller_id: UserId,
    pub created_at: DateTime<Utc>,
}

/// A line of a completed sale, with its settled amounts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleLine {
    /// 1-based, in the order rung up (the NFC-e `nItem`).
    pub line_no: u32,
    pub product_id: ProductId,
    pub sku: String,
    pub gtin: Option<Gtin>,
    pub name: String,
    pub unit: Unit,
    pub quantity: Quantity,
    pub unit_price: Money,
    pub gross: Money,
    /// Line discount plus this line's share of the sale discount (the NFC-e `vDesc`).
    pub discount: Money,
    pub total: Money,
    pub fiscal: FiscalData,
}

/// A completed sale. `id` is the client UUID that makes the sale idempotent across sync.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sale {
    pub id: SaleId,
    pub device_id: DeviceId,
    pub seller_id: UserId,
    pub customer_id: Option<CustomerId>,
    pub consumer_tax_id: Option<TaxId>,
    pub created_at: DateTime<Utc>,
    pub lines: Vec<SaleLine>,
    pub gross: Money,
    pub discount: Money,
    pub total: Money,
    pub payments: Vec<Payment>,
    /// Cash given back.
    pub change: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SaleError {
    #[error(transparent)]
    Cart(#[from] CartError),
    #[error("payment {index}: {source}")]
    Payment {
        index: usize,
        #[source]
        source: PaymentError,
    },
    #[error("payment {index} charges an account that is not the sale's customer")]
    AccountNotSaleCustomer { index: usize },
    #[error("payments fall short of the total by {missing}")]
    Underpaid { missing: Money },
    #[error("payments exceed the total by {excess} (only cash gives change)")]
    Overpaid { excess: Money },
    #[error("customer account: {0}")]
    Account(#[from] AccountError),
    #[error("sale is inconsistent: {0}")]
    Inconsistent(&'static str),
}

impl Sale {
    /// The stock that leaves with this sale, one delta per product.
    pub fn stock_deltas(&self) -> Result<Vec<StockDelta>, QuantityError> {
        let mut per_product: BTreeMap<ProductId, Quantity> = BTreeMap::new();
        for line in &self.lines {
            let q = per_product.entry(line.product_id).or_insert(Quantity::ZERO);
            *q = q.checked_add(line.quantity)?;
        }
        per_product
            .into_iter()
            .map(|(product_id, q)| {
                Ok(StockDelta {
                    product_id,
                    delta: q.checked_neg()?,
                    reason: StockReason::Sale { sale_id: self.id },
                })
            })
            .collect()
    }

    /// What this sale charges to customer accounts (negative deltas).
    pub fn balance_deltas(&self) -> Result<Vec<BalanceDelta>, MoneyError> {
        self.payments
            .iter()
            .filter_map(|p| match p.method {
                PaymentMethod::CustomerAccount { customer_id } => Some((customer_id, p.amount)),
                _ => None,
            })
            .map(|(customer_id, amount)| {
                Ok(BalanceDelta {
                    customer_id,
                    delta: amount.checked_neg()?,
                    reason: BalanceReason::Sale { sale_id: self.id },
                })
            })
            .collect()
    }

    /// Re-checks the arithmetic of a sale that arrived from elsewhere (wire, database): lines
    /// add up, payments settle the total exactly.
    pub fn verify(&self) -> Result<(), SaleError> {
        if self.lines.is_empty() {
            return Err(SaleError::Cart(CartError::Empty));
        }
        let mut gross = Money::ZERO;
        let mut discount = Money::ZERO;
        let mut total = Money::ZERO;
        for (i, l) in self.lines.iter().enumerate() {
            l.quantity
                .validate_for_sale(l.unit)
                .map_err(CartError::from)?;
            if usize::try_from(l.line_no).ok() != Some(i + 1) {
                return Err(SaleError::Inconsistent("line numbers must be 1, 2, 3…"));
            }
            if l.quantity.price(l.unit_price).map_err(CartError::from)? != l.gross {
                return Err(SaleError::Inconsistent(
                    "line gross is not unit price × quantity",
                ));
            }
            if l.discount.is_negative()
                || l.gross.checked_sub(l.discount).map_err(CartError::from)? != l.total
            {
                return Err(SaleError::Inconsistent(
                    "line total is not gross − discount",
                ));
            }
            gross = gross.checked_add(l.gross).map_err(CartError::from)?;
            discount = discount.checked_add(l.discount).map_err(CartError::from)?;
            total = total.checked_add(l.total).map_err(CartError::from)?;
        }
        if gross != self.gross || discount != self.discount || total != self.total {
            return Err(SaleError::Inconsistent(
                "sale totals are not the sum of the lines",
            ));
        }
        for (index, p) in self.payments.iter().enumerate() {
            p.validate()
                .map_err(|source| SaleError::Payment { index, source })?;
        }
        let paid =
            Money::checked_sum(self.payments.iter().map(|p| p.amount)).map_err(CartError::from)?;
        if paid != self.total {
            return Err(SaleError::Inconsistent("payments do not settle the total"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payment::CardKind;
    use crate::product::tests::sample_product;

    fn header() -> SaleHeader {
        SaleHeader {
            id: SaleId::new(),
            device_id: DeviceId::new(),
            seller_id: UserId::new(),
            created_at: Utc::now(),
        }
    }

    fn m(c: i64) -> Money {
        Money::from_centavos(c)
    }

    #[test]
    fn totals_of_counted_and_weighed_lines() {
        let mut cart = Cart::new();
        cart.add(
            &sample_product("Leite", 499),
            Quantity::from_units(3).expect("fits"),
        )
        .expect("valid line");
        let mut cheese = sample_product("Queijo", 4_990);
        cheese.unit = Unit::Kilogram;
        cart.add(&cheese, Quantity::from_thousandths(355))
            .expect("weighed line");
        let t = cart.totals().expect("valid");
        // 3 × 4.99 = 14.97; 0.355 × 49.90 = 17.7145 → 17.71 (half-even)
        assert_eq!(t.lines[0].gross, m(1_497));
        assert_eq!(t.lines[1].gross, m(1_771));
        assert_eq!(t.total, m(3_268));
    }

    #[test]
    fn sale_discount_is_spread_so_lines_add_up_to_the_centavo() {
        let mut cart = Cart::new();
        for _ in 0..3 {
            cart.add(
                &sample_product("Pão", 100),
                Quantity::from_units(1).expect("fits"),
            )
            .expect("valid");
        }
        cart.set_discount(Some(Discount::Amount(m(100))))
            .expect("1.00 off 3.00");
        let t = cart.totals().expect("valid");
        let shares: Vec<i64> = t
            .lines
            .iter()
            .map(|l| l.sale_discount_share.centavos())
            .collect();
        assert_eq!(shares, vec![34, 33, 33], "one line takes the odd centavo");
        assert_eq!(
            t.lines.iter().map(|l| l.total.centavos()).sum::<i64>(),
            t.total.centavos()
        );
        assert_eq!(t.total, m(200));
    }

    #[test]
    fn line_then_percent_sale_discount() {
        let mut cart = Cart::new();
        let i = cart
            .add(
                &sample_product("Vinho", 3_333),
                Quantity::from_units(1).expect("fits"),
            )
            .expect("valid");
        cart.add(
            &sample_product("Queijo", 1_001),
            Quantity::from_units(2).expect("fits"),
        )
        .expect("valid");
        cart.set_line_discount(i, Some(Discount::Percent(1_000)))
            .expect("10% off");
        cart.set_discount(Some(Discount::Percent(333)))
            .expect("3.33% off");
        let t = cart.totals().expect("valid");
        // Vinho 33.33 − 3.33 (10%, half-even of 3.333) = 30.00; Queijo 20.02; subtotal 50.02;
        // 3.33% of 50.02 = 1.665666 → 1.67.
        assert_eq!(t.lines[0].line_discount, m(333));
        assert_eq!(t.sale_discount, m(167));
        assert_eq!(t.total, m(5_002 - 167));
        let sum: i64 = t.lines.iter().map(|l| l.total.centavos()).sum();
        assert_eq!(sum, t.total.centavos());
        assert_eq!(
            cart.discount_basis_points(),
            Ok(((333 + 167) * 10_000u32).div_ceil(5_335))
        );
    }

    #[test]
    fn refused_edits_leave_the_cart_unchanged() {
        let mut cart = Cart::new();
        cart.add(
            &sample_product("Café", 1_000),
            Quantity::from_units(1).expect("fits"),
        )
        .expect("valid");
        assert_eq!(
            cart.set_discount(Some(Discount::Amount(m(1_001)))),
            Err(CartError::DiscountTooLarge)
        );
        assert_eq!(cart.discount, None);
        assert_eq!(
            cart.set_line_discount(0, Some(Discount::Percent(10_001))),
            Err(CartError::DiscountTooLarge)
        );
        assert_eq!(
            cart.set_line_discount(0, Some(Discount::Amount(m(-1)))),
            Err(CartError::NegativeDiscount)
        );
        assert_eq!(cart.lines[0].discount, None);
        assert!(matches!(
            cart.set_quantity(0, Quantity::ZERO),
            Err(CartError::Quantity(QuantityError::NotPositive))
        ));
        assert!(matches!(
            cart.set_quantity(0, Quantity::from_thousandths(500)),
            Err(CartError::Quantity(_))
        ));
        assert_eq!(cart.lines[0].quantity, Quantity::from_thousandths(1000));
        assert_eq!(
            cart.set_quantity(5, Quantity::from_thousandths(1000)),
            Err(CartError::NoSuchLine(5))
        );
        assert!(matches!(cart.remove(5), Err(CartError::NoSuchLine(5))));
    }

    #[test]
    fn overflowing_prices_and_inactive_products_are_refused() {
        let mut cart = Cart::new();
        let huge = sample_product("Ouro", i64::MAX / 2);
        cart.add(&huge, Quantity::from_units(1).expect("fits"))
            .expect("one fits");
        assert!(matches!(
            cart.add(&huge, Quantity::from_units(3).expect("fits")),
            Err(CartError::Money(_))
        ));
        assert_eq!(cart.lines.len(), 1, "the overflowing line was not kept");
        let mut gone = sample_product("Antigo", 100);
        gone.active = false;
        assert_eq!(
            cart.add(&gone, Quantity::from_units(1).expect("fits")),
            Err(CartError::InactiveProduct)
        );
    }

    #[test]
    fn checkout_with_cash_change_and_card() {
        let mut cart = Cart::new();
        cart.add(
            &sample_product("Arroz", 2_590),
            Quantity::from_units(2).expect("fits"),
        )
        .expect("valid");
        let sale = cart
            .checkout(
                header(),
                vec![
                    Payment::card(
                        m(3_000),
                        CardKind::Credit,
                        Some("VISA".into()),
                        Some("A1B2".into()),
                    ),
                    Payment::cash(m(2_180), m(2_500)).expect("enough"),
                ],
            )
            .expect("settled");
        assert_eq!(sale.total, m(5_180));
        assert_eq!(sale.change, m(320));
        assert_eq!(sale.lines[0].line_no, 1);
        assert_eq!(sale.verify(), Ok(()));
        let deltas = sale.stock_deltas().expect("fits");
        assert_eq!(deltas[0].delta, Quantity::from_thousandths(-2000));
    }

    #[test]
    fn checkout_refuses_wrong_payments() {
        let mut cart = Cart::new();
        cart.add(
            &sample_product("Arroz", 1_000),
            Quantity::from_units(1).expect("fits"),
        )
        .expect("valid");
        assert_eq!(
            cart.checkout(header(), vec![Payment::pix(m(999), None)]),
            Err(SaleError::Underpaid { missing: m(1) })
        );
        assert_eq!(
            cart.checkout(header(), vec![Payment::pix(m(1_001), None)]),
            Err(SaleError::Overpaid { excess: m(1) })
        );
        assert!(matches!(
            cart.checkout(header(), vec![Payment::pix(m(0), None)]),
            Err(SaleError::Payment {
                index: 0,
                source: PaymentError::NotPositive
            })
        ));
        assert_eq!(
            cart.checkout(
                header(),
                vec![Payment::on_account(m(1_000), CustomerId::new())]
            ),
            Err(SaleError::AccountNotSaleCustomer { index: 0 })
        );
        assert_eq!(
            Cart::new().checkout(header(), vec![]),
            Err(SaleError::Cart(CartError::Empty))
        );
    }

    #[test]
    fn account_payments_become_balance_deltas() {
        let customer = CustomerId::new();
        let mut cart = Cart::new();
        cart.customer_id = Some(customer);
        cart.add(
            &sample_product("Feijão", 899),
            Quantity::from_units(1).expect("fits"),
        )
        .expect("valid");
        let sale = cart
            .checkout(header(), vec![Payment::on_account(m(899), customer)])
            .expect("settled");
        let deltas = sale.balance_deltas().expect("fits");
        assert_eq!(
            deltas,
            vec![BalanceDelta {
                customer_id: customer,
                delta: m(-899),
                reason: BalanceReason::Sale { sale_id: sale.id }
            }]
        );
    }

    #[test]
    fn verify_catches_tampered_sales() {
        let mut cart = Cart::new();
        cart.add(
            &sample_product("Arroz", 1_000),
            Quantity::from_units(1).expect("fits"),
        )
        .expect("valid");
        let sale = cart
            .checkout(header(), vec![Payment::pix(m(1_000), None)])
            .expect("settled");
        let mut bad = sale.clone();
        bad.lines[0].total = m(900);
        assert!(matches!(bad.verify(), Err(SaleError::Inconsistent(_))));
        let mut bad = sale.clone();
        bad.payments[0].amount = m(900);
        assert!(matches!(bad.verify(), Err(SaleError::Inconsistent(_))));
    }

    #[test]
    fn many_random_carts_always_add_up() {
        // A tiny deterministic generator: the invariant must hold for arbitrary prices,
        // quantities and discounts, not just hand-picked ones.
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = |bound: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % bound
        };
        for _ in 0..500 {
            let mut cart = Cart::new();
            for _ in 0..(1 + next(8)) {
                let mut p = sample_product("Item", 1 + next(100_000) as i64);
                if next(2) == 0 {
                    p.unit = Unit::Kilogram;
                }
                let q = if p.unit == Unit::Kilogram {
                    1 + next(5_000) as i64
                } else {
                    1000 * (1 + next(5) as i64)
                };
                let i = cart.add(&p, Quantity::from_thousandths(q)).expect("valid");
                if next(3) == 0 {
                    cart.set_line_discount(i, Some(Discount::Percent(next(5_000) as u32)))
                        .expect("≤ 50%");
                }
            }
            cart.set_discount(Some(Discount::Percent(next(10_001) as u32)))
                .expect("≤ 100%");
            let t = cart.totals().expect("valid");
            assert_eq!(
                t.lines.iter().map(|l| l.total.centavos()).sum::<i64>(),
                t.total.centavos()
            );
            assert_eq!(
                t.lines
                    .iter()
                    .map(|l| l.sale_discount_share.centavos())
                    .sum::<i64>(),
                t.sale_discount.centavos()
            );
            assert!(
                t.lines.iter().all(|l| !l.total.is_negative()),
                "no line goes below zero"
            );
        }
    }
}
