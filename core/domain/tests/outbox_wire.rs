//! Snapshot of the outbox wire format. The server and older devices read these bytes: a change
//! here must be deliberate. Set `TENDA_UPDATE_SNAPSHOTS=1` to rewrite the snapshot after an
//! intended change, and review the diff.

use chrono::{DateTime, TimeZone, Utc};
use tenda_domain::*;
use uuid::Uuid;

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 14, 15, 9, 26)
        .single()
        .expect("valid date")
}

fn uuid(n: u128) -> Uuid {
    // Fixed v7-shaped ids so the snapshot is stable.
    Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 | n)
}

fn sample_sale() -> Sale {
    let customer = CustomerId::from_uuid(uuid(3));
    let product = Product {
        id: ProductId::from_uuid(uuid(4)),
        sku: "PAO-001".into(),
        gtin: Some(Gtin::parse("7891000315507").expect("valid")),
        name: "Pão Francês".into(),
        unit: Unit::Kilogram,
        price: Money::from_centavos(1_499),
        fiscal: FiscalData::simples_nacional("19052090"),
        active: true,
        version: 3,
    };
    let mut cart = Cart::new();
    cart.customer_id = Some(customer);
    cart.consumer_tax_id = Some(TaxId::parse("529.982.247-25").expect("valid"));
    cart.add(&product, Quantity::from_thousandths(1_250))
        .expect("valid line");
    cart.set_discount(Some(Discount::Amount(Money::from_centavos(74))))
        .expect("valid discount");
    let header = SaleHeader {
        id: SaleId::from_uuid(uuid(1)),
        device_id: DeviceId::from_uuid(uuid(2)),
        seller_id: UserId::from_uuid(uuid(5)),
        created_at: at(),
    };
    // 1.250 kg × 14.99 = 18.7375 → 18.74; minus 0.74 = 18.00.
    cart.checkout(
        header,
        vec![
            Payment::cash(Money::from_centavos(1_000), Money::from_centavos(2_000))
                .expect("enough"),
            Payment::on_account(Money::from_centavos(800), customer),
        ],
    )
    .expect("settled")
}

fn all_mutations() -> Vec<OutboxEntry> {
    let sale = sample_sale();
    let actor = Actor::User(UserId::from_uuid(uuid(5)));
    let mutations = vec![
        Mutation::SaleRecorded(SaleRecorded {
            local_number: 42,
            register_session_id: Some(RegisterSessionId::from_uuid(uuid(6))),
            fiscal: Some(FiscalDocumentRef {
                model: 65,
                series: 1,
                number: 1234,
                access_key: "35260306157250000116650010000012349123456789".into(),
                emission: EmissionType::OfflineContingency,
                status: FiscalStatus::Contingency,
            }),
            stock_deltas: sale.stock_deltas().expect("fits"),
            balance_deltas: sale.balance_deltas().expect("fits"),
            sale: sale.clone(),
        }),
        Mutation::FiscalStatusChanged {
            sale_id: sale.id,
            access_key: "35260306157250000116650010000012349123456789".into(),
            status: FiscalStatus::Authorized,
            protocol: Some("135260000000001".into()),
            reason: None,
            at: at(),
        },
        Mutation::FiscalNumbersVoided {
            model: 65,
            series: 1,
            first: 1235,
            last: 1235,
            justification: "Numero reservado e nao utilizado por falha".into(),
            protocol: None,
            at: at(),
        },
        Mutation::StockAdjusted {
            product_id: ProductId::from_uuid(uuid(4)),
            delta: Quantity::from_thousandths(-2_000),
            reason: StockReason::Loss,
            actor,
            at: at(),
        },
        Mutation::CustomerBalanceAdjusted {
            customer_id: CustomerId::from_uuid(uuid(3)),
            delta: Money::from_centavos(5_000),
            reason: BalanceReason::PaymentReceived,
            actor,
            at: at(),
        },
        Mutation::CashMovement {
            session_id: RegisterSessionId::from_uuid(uuid(6)),
            movement: CashMovementKind::Withdrawal,
            amount: Money::from_centavos(20_000),
            actor,
            note: Some("sangria".into()),
            at: at(),
        },
        Mutation::SaleVoided {
            sale_id: sale.id,
            actor,
            reason: "cliente desistiu".into(),
            at: at(),
            stock_deltas: vec![StockDelta {
                product_id: ProductId::from_uuid(uuid(4)),
                delta: Quantity::from_thousandths(1_250),
                reason: StockReason::SaleVoided { sale_id: sale.id },
            }],
            balance_deltas: vec![],
        },
        Mutation::CustomerRegistered {
            customer: Customer {
                id: CustomerId::from_uuid(uuid(3)),
                name: "Maria da Silva".into(),
                tax_id: Some(TaxId::parse("529.982.247-25").expect("valid")),
                phone: Some("(11) 98765-4321".into()),
                email: None,
                balance: Money::ZERO,
                overdraft_limit: Money::from_centavos(20_000),
                active: true,
                version: 0,
            },
            actor,
            at: at(),
        },
        Mutation::AuditAppended {
            seq: 9,
            actor,
            action: "sale.record".into(),
            subject: format!("sale:{}", sale.id),
            outcome: Outcome::Succeeded,
            at: at(),
            prev_hash: "00".repeat(32),
            hash: "ab".repeat(32),
        },
        Mutation::CardPaymentForwarded {
            sale_id: sale.id,
            payment_id: uuid(7).to_string(),
            outcome: CardForwardOutcome::Approved {
                authorization_code: "A1B2C3".into(),
            },
            at: at(),
        },
        Mutation::CardPaymentForwarded {
            sale_id: sale.id,
            payment_id: uuid(8).to_string(),
            outcome: CardForwardOutcome::Declined {
                amount: Money::from_centavos(1_800),
                reason: "saldo insuficiente".into(),
            },
            at: at(),
        },
        Mutation::NoteCancelledBySubstitution {
            sale_id: sale.id,
            cancelled_access_key: "35260306157250000116650010000012341123456780".into(),
            substitute_access_key: "35260306157250000116650010000012349123456789".into(),
            protocol: Some("135260000000002".into()),
            justification: "Nota substituida pela emitida em contingencia".into(),
            at: at(),
        },
    ];
    mutations
        .into_iter()
        .zip(1..)
        .map(|(mutation, seq)| OutboxEntry { seq, mutation })
        .collect()
}

#[test]
fn outbox_wire_format_matches_the_snapshot() {
    let entries = all_mutations();
    let json = serde_json::to_string_pretty(&entries).expect("serializes") + "\n";
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/snapshots/outbox_entries.json"
    );
    if std::env::var_os("TENDA_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(path, &json).expect("snapshot written");
    }
    let expected = std::fs::read_to_string(path)
        .expect("snapshot exists (TENDA_UPDATE_SNAPSHOTS=1 creates it)");
    assert_eq!(
        json, expected,
        "the wire format changed; if intended, rerun with TENDA_UPDATE_SNAPSHOTS=1"
    );
}

#[test]
fn every_entry_round_trips_and_names_its_kind() {
    for entry in all_mutations() {
        let value = serde_json::to_value(&entry).expect("serializes");
        assert_eq!(
            value["kind"],
            entry.mutation.kind(),
            "wire kind matches Mutation::kind"
        );
        assert_eq!(value["seq"], entry.seq);
        let back: OutboxEntry = serde_json::from_value(value).expect("parses back");
        assert_eq!(back, entry);
    }
}

#[test]
fn a_sale_with_a_bad_tax_id_or_gtin_is_refused_on_read() {
    let entries = all_mutations();
    let mut value = serde_json::to_value(&entries[0]).expect("serializes");
    value["payload"]["sale"]["consumer_tax_id"] = "52998224724".into();
    assert!(
        serde_json::from_value::<OutboxEntry>(value).is_err(),
        "CPF check digits are verified on read"
    );
    let mut value = serde_json::to_value(&entries[0]).expect("serializes");
    value["payload"]["sale"]["lines"][0]["gtin"]["code"] = "7891000315508".into();
    assert!(
        serde_json::from_value::<OutboxEntry>(value).is_err(),
        "GTIN check digit is verified on read"
    );
}

#[test]
fn the_sample_sale_is_consistent() {
    let sale = sample_sale();
    assert_eq!(sale.total, Money::from_centavos(1_800));
    assert_eq!(sale.change, Money::from_centavos(1_000));
    assert_eq!(sale.verify(), Ok(()));
}
