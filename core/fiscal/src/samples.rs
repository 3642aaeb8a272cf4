//! Sample notes for demos, benchmarks and the schema-check script: a São Paulo store with the
//! public test certificate's CNPJ, in homologation.

use chrono::{DateTime, FixedOffset};
use tenda_domain::Money;

use crate::nfce::*;

pub const SAMPLE_CNPJ: &str = "06157250000116";

/// The public test A1 certificate for [`SAMPLE_CNPJ`] (see `testdata/README.md`), built into the
/// crate so tests, benches and the demo need no file beside the repository.
pub const PUBLIC_TEST_PFX: &[u8] = include_bytes!("../testdata/test-a1-cnpj-06157250000116.pfx");

/// The password of [`PUBLIC_TEST_PFX`].
pub const PUBLIC_TEST_PFX_PASSWORD: &str = "minhasenha";

pub fn sample_emitter(crt: Crt) -> EmitterSettings {
    EmitterSettings {
        cnpj: SAMPLE_CNPJ.into(),
        ie: "111222333444".into(),
        legal_name: "MERCADINHO TENDA LTDA".into(),
        trade_name: Some("Mercadinho Tenda".into()),
        crt,
        address: Address {
            street: "Rua das Flores".into(),
            number: "123".into(),
            complement: Some("Loja 2".into()),
            district: "Centro".into(),
            city_code: 3_550_308,
            city_name: "São Paulo".into(),
            uf: Uf::SP,
            cep: Some("01001000".into()),
            phone: Some("1133334444".into()),
        },
        environment: Environment::Homologation,
        series: 1,
        csc: Some(Csc {
            id: 1,
            token: "0123456789ABCDEF0123456789ABCDEF0123".into(),
        }),
        qr_version: None,
        contingency_deadline: None,
        tech_responsible: Some(TechResponsible {
            cnpj: SAMPLE_CNPJ.into(),
            contact: "Suporte Tenda".into(),
            email: "suporte@tenda.example".into(),
            phone: "1140040000".into(),
        }),
        software_version: "tenda 0.1.0".into(),
    }
}

pub fn sample_item(n: usize, icms: IcmsSituation) -> NfceItem {
    let (rate_bp, base_reduction_bp) = match icms {
        IcmsSituation::Cst(IcmsCst::C00) => (1800, 0),
        IcmsSituation::Cst(IcmsCst::C20) => (1800, 3333),
        IcmsSituation::Csosn(Csosn::C900) => (1200, 0),
        _ => (0, 0),
    };
    let simples = matches!(icms, IcmsSituation::Csosn(_));
    NfceItem {
        code: format!("P{n:04}"),
        gtin: n.is_multiple_of(2).then(|| "7891000100103".to_owned()),
        description: format!("Produto de teste nº {n} – embalagem “econômica”"),
        ncm: "19059090".into(),
        cest: matches!(
            icms,
            IcmsSituation::Cst(IcmsCst::C60) | IcmsSituation::Csosn(Csosn::C500)
        )
        .then(|| "1706200".to_owned()),
        cfop: if matches!(
            icms,
            IcmsSituation::Cst(IcmsCst::C60) | IcmsSituation::Csosn(Csosn::C500)
        ) {
            5405
        } else {
            5102
        },
        unit: if n.is_multiple_of(3) {
            "KG".into()
        } else {
            "UN".into()
        },
        quantity_thousandths: if n.is_multiple_of(3) {
            1_250
        } else {
            1_000 * (n as i64 % 4 + 1)
        },
        unit_price: Money::from_centavos(299 + 137 * n as i64),
        discount: if n % 4 == 1 {
            Money::from_centavos(10)
        } else {
            Money::ZERO
        },
        other_charges: Money::ZERO,
        icms: Icms {
            origin: 0,
            situation: icms,
            rate_bp,
            base_reduction_bp,
        },
        pis: if simples {
            PisCofins::SIMPLES
        } else {
            PisCofins {
                cst: 1,
                rate_bp: 165,
            }
        },
        cofins: if simples {
            PisCofins::SIMPLES
        } else {
            PisCofins {
                cst: 1,
                rate_bp: 760,
            }
        },
        approximate_taxes: Money::from_centavos(31 * n as i64),
        additional_info: None,
    }
}

pub fn sample_time() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-11-23T10:15:30-03:00").expect("constant date")
}

/// A Simples Nacional note with `items` items, paid partly by card and partly in cash.
pub fn sample_input(number: u32, items: usize) -> NfceInput {
    let csosns = [
        Csosn::C102,
        Csosn::C103,
        Csosn::C300,
        Csosn::C400,
        Csosn::C500,
        Csosn::C900,
    ];
    let items: Vec<NfceItem> = (1..=items)
        .map(|n| sample_item(n, IcmsSituation::Csosn(csosns[(n - 1) % csosns.len()])))
        .collect();
    let mut input = NfceInput {
        emitter: sample_emitter(Crt::SimplesNacional),
        number,
        issued_at: sample_time(),
        emission: Emission::Normal,
        access_code: None,
        operation_nature: None,
        items,
        payments: vec![],
        consumer: None,
        additional_info: Some("Tributos aproximados conforme Lei 12.741/2012".into()),
    };
    input.payments = payments_for(&input);
    input
}

/// Half by debit card (rounded down to whole reais), the rest in cash plus R$ 5 of change.
pub fn payments_for(input: &NfceInput) -> Vec<NfcePayment> {
    let total = expected_total(input);
    let card = Money::from_centavos(total.centavos() / 200 * 100);
    let cash = Money::from_centavos(total.centavos() - card.centavos() + 500);
    let mut payments = vec![NfcePayment {
        method: PaymentMethod::Cash,
        amount: cash,
    }];
    if !card.is_zero() {
        payments.insert(
            0,
            NfcePayment {
                method: PaymentMethod::DebitCard(CardInfo {
                    integrated: false,
                    acquirer_cnpj: None,
                    brand: Some("02".into()),
                    authorization: Some("A1B2C3".into()),
                }),
                amount: card,
            },
        );
    }
    payments
}

/// vNF as the builder computes it: Σ(round(q × price)) − Σ discounts + Σ other charges.
pub fn expected_total(input: &NfceInput) -> Money {
    let lines = input.items.iter().map(|i| {
        i.unit_price
            .mul_ratio_half_even(i.quantity_thousandths, 1000)
            .and_then(|g| g.checked_sub(i.discount))
            .and_then(|g| g.checked_add(i.other_charges))
            .expect("sample amounts are small")
    });
    Money::checked_sum(lines).expect("sample amounts are small")
}
