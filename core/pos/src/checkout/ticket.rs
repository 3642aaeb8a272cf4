//! The sale being rung up: the domain `Cart` plus the approvals its changes needed (discounts
//! beyond the seller's limit, removed lines), which are audited when the sale commits.

use tenda_domain::{Action, Cart, CartError, Discount, PermissionMatrix, Product, Quantity};

use crate::authorize::Authorization;
use crate::error::{PosError, cart_error};

#[derive(Clone, Debug, Default)]
pub struct Ticket {
    pub cart: Cart,
    /// Overrides granted while building this ticket; each becomes an audit entry at checkout.
    pub approvals: Vec<Authorization>,
}

/// How a ticket change gets authorized: the caller supplies the authorization for the action
/// the change turned out to need (own role, or a manager's override).
pub trait Authorizer {
    fn authorize(&mut self, action: Action) -> Result<Authorization, PosError>;
}

impl<F: FnMut(Action) -> Result<Authorization, PosError>> Authorizer for F {
    fn authorize(&mut self, action: Action) -> Result<Authorization, PosError> {
        self(action)
    }
}

impl Ticket {
    pub fn add(&mut self, product: &Product, quantity: Quantity) -> Result<usize, PosError> {
        self.cart.add(product, quantity).map_err(cart_error)
    }

    pub fn set_quantity(&mut self, line: usize, quantity: Quantity) -> Result<(), PosError> {
        self.cart.set_quantity(line, quantity).map_err(cart_error)
    }

    /// Removing a line already rung up is a void: a manager's action (or override).
    pub fn remove(&mut self, line: usize, auth: &mut dyn Authorizer) -> Result<(), PosError> {
        if line >= self.cart.lines.len() {
            return Err(cart_error(CartError::NoSuchLine(line)));
        }
        let a = auth.authorize(Action::VoidLine)?;
        self.cart.remove(line).map_err(cart_error)?;
        self.approvals.push(a);
        Ok(())
    }

    pub fn set_line_discount(
        &mut self,
        line: usize,
        discount: Option<Discount>,
        matrix: &PermissionMatrix,
        auth: &mut dyn Authorizer,
    ) -> Result<(), PosError> {
        self.change_discount(matrix, auth, |c| c.set_line_discount(line, discount))
    }

    pub fn set_sale_discount(
        &mut self,
        discount: Option<Discount>,
        matrix: &PermissionMatrix,
        auth: &mut dyn Authorizer,
    ) -> Result<(), PosError> {
        self.change_discount(matrix, auth, |c| c.set_discount(discount))
    }

    /// Applies the change to a copy, decides from the resulting total discount whether the
    /// seller's limit is crossed, and keeps the change only if that action is authorized.
    fn change_discount(
        &mut self,
        matrix: &PermissionMatrix,
        auth: &mut dyn Authorizer,
        change: impl FnOnce(&mut Cart) -> Result<(), CartError>,
    ) -> Result<(), PosError> {
        let mut candidate = self.cart.clone();
        change(&mut candidate).map_err(cart_error)?;
        let bp = candidate.discount_basis_points().map_err(cart_error)?;
        let action = matrix.action_for_discount(bp);
        let a = auth.authorize(action)?;
        self.cart = candidate;
        if action == Action::DiscountAboveLimit {
            self.approvals.push(a);
        }
        Ok(())
    }
}

#[cfg(test)]
// Amounts in centavos are written reais_centavos (100_00 = R$ 100,00).
#[allow(clippy::inconsistent_digit_grouping)]
mod tests {
    use super::*;
    use crate::authorize::{Operator, authorize, authorize_with_override};
    use tenda_domain::{FiscalData, Money, ProductId, Role, Unit, UserId};

    fn product(price: i64) -> Product {
        Product {
            id: ProductId::new(),
            sku: "123".into(),
            gtin: None,
            name: "Café 500g".into(),
            unit: Unit::Each,
            price: Money::from_centavos(price),
            fiscal: FiscalData::simples_nacional("09012100"),
            active: true,
            version: 1,
        }
    }

    fn op(role: Role) -> Operator {
        Operator {
            user_id: UserId::new(),
            name: format!("{role:?}"),
            role,
        }
    }

    #[test]
    fn discount_within_limit_needs_no_manager_beyond_it_does() {
        let m = PermissionMatrix::standard(); // seller limit 5%
        let seller = op(Role::Seller);
        let manager = op(Role::Manager);
        let mut t = Ticket::default();
        t.add(&product(100_00), Quantity::from_units(1).expect("1 unit"))
            .expect("add");
        let mut own = |a: Action| authorize(&m, &seller, a);
        t.set_sale_discount(Some(Discount::Percent(500)), &m, &mut own)
            .expect("5% is within the limit");
        assert!(t.approvals.is_empty());
        let err = t
            .set_sale_discount(Some(Discount::Percent(1000)), &m, &mut own)
            .expect_err("10% needs a manager");
        assert_eq!(err.code(), "forbidden");
        assert_eq!(
            t.cart.discount,
            Some(Discount::Percent(500)),
            "refused change leaves the cart"
        );
        let mut with_manager = |a: Action| authorize_with_override(&m, &seller, &manager, a);
        t.set_sale_discount(Some(Discount::Percent(1000)), &m, &mut with_manager)
            .expect("override");
        assert_eq!(
            t.cart.totals().expect("totals").total,
            Money::from_centavos(90_00)
        );
        assert_eq!(t.approvals.len(), 1, "the override is kept for the audit");
        assert_eq!(t.approvals[0].approver(), Some(&manager));
    }

    #[test]
    fn removing_a_line_is_a_void() {
        let m = PermissionMatrix::standard();
        let seller = op(Role::Seller);
        let mut t = Ticket::default();
        t.add(&product(5_00), Quantity::from_units(2).expect("2 units"))
            .expect("add");
        let mut own = |a: Action| authorize(&m, &seller, a);
        assert_eq!(
            t.remove(0, &mut own)
                .expect_err("sellers cannot void")
                .code(),
            "forbidden"
        );
        let mgr = op(Role::Manager);
        let mut ov = |a: Action| authorize_with_override(&m, &seller, &mgr, a);
        t.remove(0, &mut ov).expect("manager voids");
        assert!(t.cart.lines.is_empty());
    }
}
