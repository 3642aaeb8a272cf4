//! How a sale is paid: cash (with change), card, PIX, or the customer's store account.

use serde::{Deserialize, Serialize};

use crate::ids::CustomerId;
use crate::money::{Money, MoneyError};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum CardKind {
    Credit,
    Debit,
}

/// The means of a payment and what each means records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum PaymentMethod {
    /// Cash handed over: `tendered` is what the customer gave, `change` what went back.
    Cash { tendered: Money, change: Money },
    /// A card payment approved by a terminal.
    Card {
        kind: CardKind,
        /// Card brand as the terminal reports it ("VISA", "MASTERCARD"…).
        brand: Option<String>,
        /// Authorization code from the acquirer.
        authorization: Option<String>,
        /// Terminal transaction id (NSU).
        nsu: Option<String>,
    },
    /// An instant PIX transfer; `txid` identifies the charge when known.
    Pix { txid: Option<String> },
    /// Charged to the customer's store account.
    CustomerAccount { customer_id: CustomerId },
}

/// One payment towards a sale. `amount` is what it settles of the sale total (for cash, the
/// tendered amount minus the change).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    pub amount: Money,
    pub method: PaymentMethod,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PaymentError {
    #[error("payment amount must be greater than zero")]
    NotPositive,
    #[error("cash tendered ({tendered}) is less than the amount ({amount})")]
    TenderedTooLittle { tendered: Money, amount: Money },
    #[error("cash change does not match tendered minus amount")]
    ChangeMismatch,
    #[error(transparent)]
    Money(#[from] MoneyError),
}

impl Payment {
    /// Cash: the customer hands over `tendered` to settle `amount`; the change is computed.
    pub fn cash(amount: Money, tendered: Money) -> Result<Payment, PaymentError> {
        if amount.centavos() <= 0 {
            return Err(PaymentError::NotPositive);
        }
        if tendered < amount {
            return Err(PaymentError::TenderedTooLittle { tendered, amount });
        }
        let change = tendered.checked_sub(amount)?;
        Ok(Payment {
            amount,
            method: PaymentMethod::Cash { tendered, change },
        })
    }

    pub fn card(
        amount: Money,
        kind: CardKind,
        brand: Option<String>,
        authorization: Option<String>,
    ) -> Payment {
        Payment {
            amount,
            method: PaymentMethod::Card {
                kind,
                brand,
                authorization,
                nsu: None,
            },
        }
    }

    pub fn pix(amount: Money, txid: Option<String>) -> Payment {
        Payment {
            amount,
            method: PaymentMethod::Pix { txid },
        }
    }

    pub fn on_account(amount: Money, customer_id: CustomerId) -> Payment {
        Payment {
            amount,
            method: PaymentMethod::CustomerAccount { customer_id },
        }
    }

    /// The change this payment gave back (cash only).
    pub fn change(&self) -> Money {
        match self.method {
            PaymentMethod::Cash { change, .. } => change,
            _ => Money::ZERO,
        }
    }

    /// Checks the payment on its own: positive amount, consistent cash change.
    pub fn validate(&self) -> Result<(), PaymentError> {
        if self.amount.centavos() <= 0 {
            return Err(PaymentError::NotPositive);
        }
        if let PaymentMethod::Cash { tendered, change } = self.method {
            if tendered < self.amount {
                return Err(PaymentError::TenderedTooLittle {
                    tendered,
                    amount: self.amount,
                });
            }
            if change.is_negative() || tendered.checked_sub(change)? != self.amount {
                return Err(PaymentError::ChangeMismatch);
            }
        }
        Ok(())
    }
}

impl PaymentMethod {
    /// NFC-e `tPag`: 01 cash, 03 credit card, 04 debit card, 05 store credit, 17 PIX.
    pub fn nfce_code(&self) -> &'static str {
        match self {
            PaymentMethod::Cash { .. } => "01",
            PaymentMethod::Card {
                kind: CardKind::Credit,
                ..
            } => "03",
            PaymentMethod::Card {
                kind: CardKind::Debit,
                ..
            } => "04",
            PaymentMethod::CustomerAccount { .. } => "05",
            PaymentMethod::Pix { .. } => "17",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cash_computes_change() {
        let p = Payment::cash(Money::from_centavos(1_750), Money::from_centavos(2_000))
            .expect("enough cash");
        assert_eq!(p.change(), Money::from_centavos(250));
        assert_eq!(p.validate(), Ok(()));
    }

    #[test]
    fn cash_rejects_short_tender_and_inconsistent_change() {
        assert!(matches!(
            Payment::cash(Money::from_centavos(1_000), Money::from_centavos(999)),
            Err(PaymentError::TenderedTooLittle { .. })
        ));
        assert_eq!(
            Payment::cash(Money::ZERO, Money::ZERO),
            Err(PaymentError::NotPositive)
        );
        let forged = Payment {
            amount: Money::from_centavos(1_000),
            method: PaymentMethod::Cash {
                tendered: Money::from_centavos(2_000),
                change: Money::from_centavos(500),
            },
        };
        assert_eq!(forged.validate(), Err(PaymentError::ChangeMismatch));
    }

    #[test]
    fn nfce_codes() {
        assert_eq!(
            Payment::pix(Money::from_centavos(1), None)
                .method
                .nfce_code(),
            "17"
        );
        assert_eq!(
            Payment::card(Money::from_centavos(1), CardKind::Debit, None, None)
                .method
                .nfce_code(),
            "04"
        );
        assert_eq!(
            Payment::on_account(Money::from_centavos(1), CustomerId::new())
                .method
                .nfce_code(),
            "05"
        );
        assert!(
            Payment::pix(Money::from_centavos(-1), None)
                .validate()
                .is_err()
        );
    }
}
