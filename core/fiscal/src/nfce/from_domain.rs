//! Building NFC-e input from `tenda_domain` types: a product with its fiscal data, the sale's
//! payments and the customer's tax id.

use tenda_domain::{CardKind, FiscalData, IcmsTaxation, Money, Product, Quantity, TaxId};

use super::NfceError;
use super::input::*;

fn field(name: &str) -> impl Fn(String) -> NfceError + '_ {
    move |reason| NfceError::invalid(name, reason)
}

impl Icms {
    /// The item's ICMS from the product's fiscal data (CSOSN or CST code).
    pub fn from_fiscal(fiscal: &FiscalData) -> Result<Icms, NfceError> {
        let situation = match &fiscal.icms {
            IcmsTaxation::Csosn(code) => IcmsSituation::Csosn(match code.trim() {
                "102" => Csosn::C102,
                "103" => Csosn::C103,
                "300" => Csosn::C300,
                "400" => Csosn::C400,
                "500" => Csosn::C500,
                "900" => Csosn::C900,
                other => {
                    return Err(field("ICMS.CSOSN")(format!(
                        "CSOSN {other} is not supported for NFC-e (102, 103, 300, 400, 500, 900)"
                    )));
                }
            }),
            IcmsTaxation::Cst(code) => IcmsSituation::Cst(match code.trim() {
                "00" => IcmsCst::C00,
                "20" => IcmsCst::C20,
                "40" => IcmsCst::C40,
                "41" => IcmsCst::C41,
                "60" => IcmsCst::C60,
                other => {
                    return Err(field("ICMS.CST")(format!(
                        "CST {other} is not supported for NFC-e (00, 20, 40, 41, 60)"
                    )));
                }
            }),
        };
        Ok(Icms {
            origin: fiscal.origin,
            situation,
            rate_bp: fiscal.icms_rate_bp,
            // The domain has no base reduction yet; CST 20 items must set it before building.
            base_reduction_bp: 0,
        })
    }
}

impl PisCofins {
    pub fn from_code(name: &str, cst: &str, rate_bp: u32) -> Result<PisCofins, NfceError> {
        let cst = cst
            .trim()
            .parse::<u8>()
            .map_err(|_| field(name)(format!("CST `{cst}` is not a number")))?;
        Ok(PisCofins { cst, rate_bp })
    }
}

impl NfceItem {
    /// One line of the note from a catalog product, the quantity sold and the line's share of
    /// discounts. `approximate_taxes` is the IBPT estimate for the line (Lei 12.741).
    pub fn from_product(
        product: &Product,
        quantity: Quantity,
        discount: Money,
        approximate_taxes: Money,
    ) -> Result<NfceItem, NfceError> {
        let fiscal = &product.fiscal;
        let cfop = fiscal
            .cfop
            .trim()
            .parse::<u16>()
            .map_err(|_| field("prod.CFOP")(format!("`{}` is not a CFOP", fiscal.cfop)))?;
        Ok(NfceItem {
            code: product.sku.clone(),
            gtin: product
                .gtin
                .as_ref()
                .and_then(|g| g.fiscal_gtin().map(str::to_owned)),
            description: product.name.clone(),
            ncm: fiscal.ncm.clone(),
            cest: fiscal.cest.clone(),
            cfop,
            unit: product.unit.code().to_owned(),
            quantity_thousandths: quantity.thousandths(),
            unit_price: product.price,
            discount,
            other_charges: Money::ZERO,
            icms: Icms::from_fiscal(fiscal)?,
            pis: PisCofins::from_code("PIS", &fiscal.pis_cst, fiscal.pis_rate_bp)?,
            cofins: PisCofins::from_code("COFINS", &fiscal.cofins_cst, fiscal.cofins_rate_bp)?,
            approximate_taxes,
            additional_info: None,
        })
    }
}

/// tBand from the brand name a terminal reports.
fn brand_code(brand: &str) -> &'static str {
    match brand.trim().to_ascii_uppercase().as_str() {
        "VISA" => "01",
        "MASTERCARD" | "MASTER" => "02",
        "AMEX" | "AMERICAN EXPRESS" => "03",
        "SOROCRED" => "04",
        "DINERS" | "DINERS CLUB" => "05",
        "ELO" => "06",
        "HIPERCARD" => "07",
        "AURA" => "08",
        "CABAL" => "09",
        _ => "99",
    }
}

impl NfcePayment {
    /// The detPag of a sale payment. Cash reports what was tendered, so that the note's
    /// vTroco equals the change handed back.
    pub fn from_domain(payment: &tenda_domain::Payment) -> NfcePayment {
        use tenda_domain::PaymentMethod as M;
        match &payment.method {
            M::Cash { tendered, .. } => NfcePayment {
                method: PaymentMethod::Cash,
                amount: *tendered,
            },
            M::Card {
                kind,
                brand,
                authorization,
                ..
            } => {
                let card = CardInfo {
                    integrated: authorization.is_some(),
                    acquirer_cnpj: None,
                    brand: brand.as_deref().map(|b| brand_code(b).to_owned()),
                    authorization: authorization.clone(),
                };
                NfcePayment {
                    method: match kind {
                        CardKind::Credit => PaymentMethod::CreditCard(card),
                        CardKind::Debit => PaymentMethod::DebitCard(card),
                    },
                    amount: payment.amount,
                }
            }
            M::Pix { .. } => NfcePayment {
                method: PaymentMethod::Pix(None),
                amount: payment.amount,
            },
            M::CustomerAccount { .. } => NfcePayment {
                method: PaymentMethod::StoreCredit,
                amount: payment.amount,
            },
        }
    }
}

impl From<&TaxId> for ConsumerId {
    fn from(id: &TaxId) -> ConsumerId {
        match id {
            TaxId::Cpf(cpf) => ConsumerId::Cpf(cpf.as_str().to_owned()),
            TaxId::Cnpj(cnpj) => ConsumerId::Cnpj(cnpj.as_str().to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tenda_domain::{Gtin, ProductId, Unit};

    fn product() -> Product {
        Product {
            id: ProductId::new(),
            sku: "ARZ5".into(),
            gtin: Some(Gtin::parse("7891000100103").expect("gtin")),
            name: "Arroz tipo 1 5kg".into(),
            unit: Unit::Each,
            price: Money::from_centavos(2_599),
            fiscal: FiscalData {
                ncm: "10063021".into(),
                cfop: "5102".into(),
                cest: None,
                origin: 0,
                icms: IcmsTaxation::Csosn("102".into()),
                icms_rate_bp: 0,
                pis_cst: "49".into(),
                pis_rate_bp: 0,
                cofins_cst: "49".into(),
                cofins_rate_bp: 0,
            },
            active: true,
            version: 0,
        }
    }

    #[test]
    fn a_catalog_product_becomes_a_valid_item() {
        let item = NfceItem::from_product(
            &product(),
            Quantity::from_thousandths(2_000),
            Money::ZERO,
            Money::from_centavos(700),
        )
        .expect("maps");
        assert_eq!(item.gtin.as_deref(), Some("7891000100103"));
        assert_eq!(item.cfop, 5102);
        assert_eq!(item.icms.situation, IcmsSituation::Csosn(Csosn::C102));
        let mut input = crate::samples::sample_input(1, 0);
        input.items = vec![item];
        input.payments = vec![NfcePayment::from_domain(&tenda_domain::Payment {
            amount: Money::from_centavos(5_198),
            method: tenda_domain::PaymentMethod::Cash {
                tendered: Money::from_centavos(6_000),
                change: Money::from_centavos(802),
            },
        })];
        let signed = crate::nfce::build_and_sign(&input, crate::test_support::test_certificate())
            .expect("builds");
        // The note's change is the change handed back.
        assert_eq!(signed.change, Money::from_centavos(802));
        crate::xsd::validate(crate::xsd::Schema::Nfe, &signed.xml).expect("valid");
    }

    #[test]
    fn unsupported_codes_are_field_errors() {
        let mut p = product();
        p.fiscal.icms = IcmsTaxation::Csosn("201".into());
        assert!(matches!(
            NfceItem::from_product(
                &p,
                Quantity::from_thousandths(1000),
                Money::ZERO,
                Money::ZERO
            ),
            Err(NfceError::InvalidField { .. })
        ));
        p.fiscal.icms = IcmsTaxation::Cst("00".into());
        p.fiscal.cfop = "51O2".into();
        assert!(matches!(
            NfceItem::from_product(
                &p,
                Quantity::from_thousandths(1000),
                Money::ZERO,
                Money::ZERO
            ),
            Err(NfceError::InvalidField { .. })
        ));
    }
}
