//! Sample receipts for demos, previews and benchmarks (fictitious store and products).

use tenda_domain::Money;

use crate::receipt::{
    ApproximateTaxes, Authorization, Danfe, Emission, Emitter, FiscalEnvironment, ReceiptConsumer,
    ReceiptItem, ReceiptPayment, ReceiptTotals,
};

const PRODUCTS: [(&str, &str, i64, &str, i64); 10] = [
    (
        "7891000100103",
        "ARROZ BRANCO TIPO 1 5KG",
        1000,
        "UN",
        2_590,
    ),
    ("7891910000197", "FEIJÃO CARIOCA 1KG", 2000, "UN", 899),
    ("7896005800010", "AÇÚCAR REFINADO 1KG", 1000, "UN", 549),
    ("2000001", "BANANA PRATA", 1250, "KG", 699),
    (
        "7891000053508",
        "CAFÉ TORRADO E MOÍDO 500G",
        1000,
        "UN",
        1_890,
    ),
    ("7894900011517", "REFRIGERANTE COLA 2L", 3000, "UN", 949),
    ("7891150007011", "SABÃO EM PÓ 1KG", 1000, "UN", 1_399),
    ("7896036090244", "ÓLEO DE SOJA 900ML", 2000, "UN", 779),
    ("2000002", "PÃO FRANCÊS", 650, "KG", 1_699),
    ("7891024134702", "CREME DENTAL 90G", 1000, "UN", 459),
];

/// A DANFE NFC-e with `items` items (cycling through ten products), paid in cash and card.
/// The access key and QR are the public examples of the NFC-e manual (state 28, Sergipe).
pub fn sample_danfe(items: usize, emission: Emission, environment: FiscalEnvironment) -> Danfe {
    let items: Vec<ReceiptItem> = (0..items)
        .map(|i| {
            let (code, description, qty, unit, price) = PRODUCTS[i % PRODUCTS.len()];
            let total = Money::from_centavos(price)
                .mul_ratio_half_even(qty, 1000)
                .expect("sample prices are small");
            ReceiptItem {
                code: code.into(),
                description: description.into(),
                quantity_thousandths: qty,
                unit: unit.into(),
                unit_price: Money::from_centavos(price),
                total,
                discount: Money::ZERO,
            }
        })
        .collect();
    let items_total =
        Money::checked_sum(items.iter().map(|i| i.total)).expect("sample totals are small");
    let discount = Money::from_centavos(100);
    let amount_due = items_total
        .checked_sub(discount)
        .expect("sample totals are small");
    let fifty = Money::from_centavos(5_000);
    // Above R$ 50: R$ 100 cash with R$ 50 change plus the rest by card; below: R$ 50 cash.
    let (payments, change) = if amount_due > fifty {
        let card = amount_due.checked_sub(fifty).expect("positive");
        (
            vec![
                ReceiptPayment {
                    method: "Dinheiro".into(),
                    amount: Money::from_centavos(10_000),
                },
                ReceiptPayment {
                    method: "Cartão de Débito".into(),
                    amount: card,
                },
            ],
            fifty,
        )
    } else {
        (
            vec![ReceiptPayment {
                method: "Dinheiro".into(),
                amount: fifty,
            }],
            fifty.checked_sub(amount_due).expect("small"),
        )
    };
    let (authorization, qr_code) = match emission {
        Emission::Normal => (
            Some(Authorization {
                protocol: "128170000012345".into(),
                authorized_at: "23/11/2026 10:20:31".into(),
            }),
            "http://www.hom.nfe.se.gov.br/nfce/qrcode?p=28170800156225000131650110000151341562040824|2|1|1|DC6AE2C2B9A992BE59679AC365E29922DE6B7511",
        ),
        Emission::OfflineContingency => (
            None,
            "http://www.hom.nfe.se.gov.br/nfce/qrcode?p=28170800156225000131650110000151349562040824|2|1|02|60.90|797a4759685578312f5859597a6b7357422b6650523351633530633d|1|4615A93BB0D7C4E780F8D30EE77EDD5BA55C7D66",
        ),
    };
    let access_key = match emission {
        Emission::Normal => "28170800156225000131650110000151341562040824",
        Emission::OfflineContingency => "28170800156225000131650110000151349562040824",
    };
    Danfe {
        emitter: Emitter {
            legal_name: "MERCADINHO BOA VISTA LTDA".into(),
            trade_name: Some("Mercadinho Boa Vista".into()),
            cnpj: "00156225000131".into(),
            state_registration: Some("271234567".into()),
            address: "Rua São João, 123 - Centro - Aracaju - SE".into(),
        },
        items,
        totals: ReceiptTotals {
            items_total,
            discount,
            surcharge: Money::ZERO,
            amount_due,
        },
        payments,
        change,
        consultation_url: "www.nfce.se.gov.br/nfce/consulta".into(),
        access_key: access_key.into(),
        qr_code: qr_code.into(),
        consumer: Some(ReceiptConsumer {
            id_kind: "CPF".into(),
            id: "12345678909".into(),
            name: Some("MARIA DA SILVA".into()),
            address: None,
        }),
        number: 15134,
        series: 11,
        issued_at: "23/11/2026 10:20:30".into(),
        authorization,
        environment,
        emission,
        fiscal_messages: vec![],
        taxpayer_messages: vec!["Obrigado pela preferência! Volte sempre.".into()],
        taxes: Some(ApproximateTaxes {
            federal: amount_due
                .mul_ratio_half_even(1_345, 10_000)
                .expect("small"),
            state: amount_due
                .mul_ratio_half_even(1_800, 10_000)
                .expect("small"),
            municipal: Money::ZERO,
            source: Some("Fonte: IBPT".into()),
        }),
    }
}

/// A plain sale ticket (Spanish, for a store without a fiscal receipt), paid in cash.
pub fn sample_ticket() -> crate::receipt::SaleTicket {
    let items = vec![
        ReceiptItem {
            code: "1".into(),
            description: "Empanada de carne".into(),
            quantity_thousandths: 6000,
            unit: "UN".into(),
            unit_price: Money::from_centavos(250),
            total: Money::from_centavos(1500),
            discount: Money::ZERO,
        },
        ReceiptItem {
            code: "2".into(),
            description: "Queso fresco".into(),
            quantity_thousandths: 350,
            unit: "KG".into(),
            unit_price: Money::from_centavos(2_000),
            total: Money::from_centavos(700),
            discount: Money::from_centavos(50),
        },
    ];
    crate::receipt::SaleTicket {
        store_name: "Almacén Don José".into(),
        store_details: vec![
            "Av. Corrientes 1234 - CABA".into(),
            "CUIT 30-12345678-9".into(),
        ],
        title: "TICKET DE VENTA".into(),
        sale_reference: "0001-00000042".into(),
        issued_at: "23/11/2026 10:20".into(),
        seller: Some("Ana".into()),
        customer: None,
        items,
        totals: ReceiptTotals {
            items_total: Money::from_centavos(2_200),
            discount: Money::from_centavos(50),
            surcharge: Money::ZERO,
            amount_due: Money::from_centavos(2_150),
        },
        payments: vec![ReceiptPayment {
            method: "Efectivo".into(),
            amount: Money::from_centavos(3_000),
        }],
        change: Money::from_centavos(850),
        footer: vec!["¡Gracias por su compra!".into()],
        money_format: crate::text::MoneyFormat {
            symbol: "$".into(),
            decimal_separator: ',',
            thousands_separator: '.',
        },
        labels: crate::receipt::TicketLabels::spanish(),
        open_drawer: true,
    }
}
