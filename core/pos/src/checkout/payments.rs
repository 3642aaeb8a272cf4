//! What the seller asks for at payment time, and the rules checked before anything is charged:
//! PIX needs the link, a customer account is charged against its last-known balance and
//! overdraft limit, cash gives change.

use tenda_domain::{CardKind, Customer, Money, Payment};

use crate::error::{PosError, payment_error};
use crate::register::PaymentKind;
use crate::status::LinkState;

/// One payment as the seller enters it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum PaymentRequest {
    /// `amount` settles that much of the total; `tendered` is what the customer handed over.
    Cash { amount: Money, tendered: Money },
    /// Taken through the card reader (online, or store-and-forward within limits offline).
    Card { amount: Money, kind: CardKind },
    /// Only while online; `txid` is the confirmed charge from the PSP when the app has it.
    Pix { amount: Money, txid: Option<String> },
    /// Charged to the sale's customer account.
    CustomerAccount { amount: Money },
}

impl PaymentRequest {
    pub fn amount(&self) -> Money {
        match self {
            PaymentRequest::Cash { amount, .. }
            | PaymentRequest::Card { amount, .. }
            | PaymentRequest::Pix { amount, .. }
            | PaymentRequest::CustomerAccount { amount } => *amount,
        }
    }

    pub fn kind(&self) -> PaymentKind {
        match self {
            PaymentRequest::Cash { .. } => PaymentKind::Cash,
            PaymentRequest::Card { .. } => PaymentKind::Card,
            PaymentRequest::Pix { .. } => PaymentKind::Pix,
            PaymentRequest::CustomerAccount { .. } => PaymentKind::CustomerAccount,
        }
    }
}

/// Checks that need no device: link, amounts, the customer's account. Card limits are checked by
/// the reader before the card is read.
pub fn precheck(
    requests: &[PaymentRequest],
    link: LinkState,
    customer: Option<&Customer>,
) -> Result<(), PosError> {
    if requests.is_empty() {
        return Err(PosError::invalid(
            "payments",
            "at least one payment is needed",
        ));
    }
    let mut on_account = Money::ZERO;
    for (i, r) in requests.iter().enumerate() {
        if r.amount().centavos() <= 0 {
            return Err(PosError::invalid(
                format!("payments[{i}].amount"),
                "must be greater than zero",
            ));
        }
        match r {
            PaymentRequest::Pix { .. } if link == LinkState::Offline => {
                return Err(PosError::offline(
                    "pix",
                    "PIX needs the bank to confirm the transfer; take cash or card instead",
                ));
            }
            PaymentRequest::Cash { amount, tendered } => {
                Payment::cash(*amount, *tendered).map_err(|e| payment_error(i, e))?;
            }
            PaymentRequest::CustomerAccount { amount } => {
                on_account = on_account.checked_add(*amount)?
            }
            _ => {}
        }
    }
    if !on_account.is_zero() {
        let customer = customer.ok_or_else(|| {
            PosError::invalid("customer", "choose the customer whose account is charged")
        })?;
        customer
            .charge(on_account)
            .map_err(crate::error::account_error)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tenda_domain::CustomerId;

    fn m(c: i64) -> Money {
        Money::from_centavos(c)
    }

    fn customer(balance: i64, limit: i64) -> Customer {
        Customer {
            id: CustomerId::new(),
            name: "Cliente".into(),
            tax_id: None,
            phone: None,
            email: None,
            balance: m(balance),
            overdraft_limit: m(limit),
            active: true,
            version: 1,
        }
    }

    #[test]
    fn pix_is_refused_offline_with_a_reason() {
        let req = [PaymentRequest::Pix {
            amount: m(10_00),
            txid: None,
        }];
        let err = precheck(&req, LinkState::Offline, None).expect_err("offline");
        assert!(matches!(err, PosError::Offline { ref what, .. } if what == "pix"));
        assert!(precheck(&req, LinkState::Online, None).is_ok());
    }

    #[test]
    fn account_uses_last_known_balance_and_overdraft() {
        let c = customer(20_00, 30_00); // 50.00 available
        let ok = [PaymentRequest::CustomerAccount { amount: m(50_00) }];
        assert!(precheck(&ok, LinkState::Offline, Some(&c)).is_ok());
        let over = [
            PaymentRequest::CustomerAccount { amount: m(40_00) },
            PaymentRequest::CustomerAccount { amount: m(10_01) },
        ];
        let err = precheck(&over, LinkState::Offline, Some(&c)).expect_err("sums both");
        assert_eq!(err.code(), "limit_exceeded");
        assert_eq!(
            precheck(&ok, LinkState::Online, None)
                .expect_err("no customer")
                .code(),
            "invalid_input"
        );
    }

    #[test]
    fn cash_must_cover_its_amount() {
        let req = [PaymentRequest::Cash {
            amount: m(10_00),
            tendered: m(5_00),
        }];
        let err = precheck(&req, LinkState::Offline, None).expect_err("too little");
        assert!(matches!(err, PosError::InvalidInput { ref field, .. } if field == "payments[0]"));
        assert!(precheck(&[], LinkState::Online, None).is_err());
    }
}
