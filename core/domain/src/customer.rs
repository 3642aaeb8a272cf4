//! Customers with a store account ("fiado"): a balance and how far below zero it may go.

use serde::{Deserialize, Serialize};

use crate::ids::CustomerId;
use crate::money::{Money, MoneyError};
use crate::product::{FieldError, validate_name};
use crate::tax_id::TaxId;

/// A customer. `balance` is the customer's account: positive means credit with the store,
/// negative means the customer owes. Purchases on account lower it; payments raise it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Customer {
    pub id: CustomerId,
    pub name: String,
    pub tax_id: Option<TaxId>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub balance: Money,
    /// How far below zero the balance may go (0 = no credit). Never negative.
    pub overdraft_limit: Money,
    pub active: bool,
    /// Server version (last writer wins on pull); 0 if never synced.
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AccountError {
    #[error("charge must be greater than zero")]
    NotPositive,
    #[error("charge exceeds the customer's available credit by {shortfall}")]
    OverLimit { shortfall: Money },
    #[error("customer account is inactive")]
    Inactive,
    #[error(transparent)]
    Money(#[from] MoneyError),
}

impl Customer {
    pub fn validate(&self) -> Result<(), FieldError> {
        validate_name("name", &self.name)?;
        if self.overdraft_limit.is_negative() {
            return Err(FieldError::new("overdraft_limit", "must not be negative"));
        }
        if let Some(email) = &self.email
            && (!email.contains('@') || email.chars().any(char::is_whitespace))
        {
            return Err(FieldError::new("email", "not an e-mail address"));
        }
        if let Some(phone) = &self.phone {
            crate::text::TextKind::Phone
                .check(phone)
                .map_err(|e| FieldError::new("phone", e.to_string()))?;
        }
        if let Some(email) = &self.email {
            crate::text::TextKind::Reference
                .check(email)
                .map_err(|e| FieldError::new("email", e.to_string()))?;
        }
        Ok(())
    }

    /// What the customer can still buy on account.
    pub fn available_credit(&self) -> Result<Money, MoneyError> {
        self.balance.checked_add(self.overdraft_limit)
    }

    /// Checks that `amount` can be charged to the account and returns the balance delta
    /// (negative) to record.
    pub fn charge(&self, amount: Money) -> Result<Money, AccountError> {
        if !self.active {
            return Err(AccountError::Inactive);
        }
        if amount.centavos() <= 0 {
            return Err(AccountError::NotPositive);
        }
        let available = self.available_credit()?;
        if amount > available {
            return Err(AccountError::OverLimit {
                shortfall: amount.checked_sub(available)?,
            });
        }
        Ok(amount.checked_neg()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn customer(balance: i64, limit: i64) -> Customer {
        Customer {
            id: CustomerId::new(),
            name: "Maria da Silva".into(),
            tax_id: Some(TaxId::parse("529.982.247-25").expect("valid")),
            phone: Some("(11) 98765-4321".into()),
            email: None,
            balance: Money::from_centavos(balance),
            overdraft_limit: Money::from_centavos(limit),
            active: true,
            version: 0,
        }
    }

    #[test]
    fn charges_within_credit_and_refuses_beyond() {
        let c = customer(-5_000, 20_000); // owes 50.00, may owe up to 200.00
        assert_eq!(
            c.charge(Money::from_centavos(15_000)),
            Ok(Money::from_centavos(-15_000))
        );
        assert_eq!(
            c.charge(Money::from_centavos(15_001)),
            Err(AccountError::OverLimit {
                shortfall: Money::from_centavos(1)
            })
        );
        assert_eq!(c.charge(Money::ZERO), Err(AccountError::NotPositive));
        let mut inactive = customer(0, 100);
        inactive.active = false;
        assert_eq!(
            inactive.charge(Money::from_centavos(1)),
            Err(AccountError::Inactive)
        );
    }

    #[test]
    fn validation_names_the_field() {
        let mut c = customer(0, 0);
        assert_eq!(c.validate(), Ok(()));
        c.overdraft_limit = Money::from_centavos(-1);
        assert_eq!(c.validate().map_err(|e| e.field), Err("overdraft_limit"));
        let mut c = customer(0, 0);
        c.name = "".into();
        assert_eq!(c.validate().map_err(|e| e.field), Err("name"));
        let mut c = customer(0, 0);
        c.email = Some("no-at-sign".into());
        assert_eq!(c.validate().map_err(|e| e.field), Err("email"));
        let mut c = customer(0, 0);
        c.phone = Some("123".into());
        assert_eq!(c.validate().map_err(|e| e.field), Err("phone"));
    }
}
