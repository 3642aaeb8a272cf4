//! Behaviour of the NFC-e builder: every produced document is schema-valid and its signature
//! verifies; totals add up; bad input is refused by field.

use chrono::{DateTime, Duration};
use tenda_domain::Money;

use super::*;
use crate::samples::*;
use crate::test_support::test_certificate;
use crate::xmldsig::{canonicalize_element, verify};
use crate::xsd::{Schema, validate};

fn build(input: &NfceInput) -> SignedNfce {
    build_and_sign(input, test_certificate()).unwrap_or_else(|e| panic!("{e}"))
}

/// Schema-valid and signature-valid, signed by the emitter.
fn check(signed: &SignedNfce) {
    if let Err(e) = signed.validate_schema() {
        panic!("{e}\n{}", signed.xml);
    }
    let verified = verify(&signed.xml).expect("signature verifies");
    assert_eq!(
        verified[0].reference_id,
        format!("NFe{}", signed.access_key)
    );
    assert_eq!(verified[0].cnpj.as_deref(), Some(SAMPLE_CNPJ));
}

fn values(xml: &str, tag: &str) -> Vec<Money> {
    let open = format!("<{tag}>");
    xml.split(&open)
        .skip(1)
        .map(|s| s.split('<').next().expect("text").parse().expect("money"))
        .collect()
}

fn one(xml: &str, tag: &str) -> String {
    let open = format!("<{tag}>");
    xml.split(&open)
        .nth(1)
        .and_then(|s| s.split('<').next())
        .expect(tag)
        .to_owned()
}

#[test]
fn ten_item_simples_note_is_valid_signed_and_adds_up() {
    let signed = build(&sample_input(42, 10));
    check(&signed);
    let xml = &signed.xml;
    // Totals equal the sum of the items, to the centavo.
    let item_gross = values(xml, "vProd");
    let (items, total_prod) = item_gross.split_at(item_gross.len() - 1);
    assert_eq!(
        Money::checked_sum(items.iter().copied()).expect("sum"),
        total_prod[0]
    );
    let discounts = values(xml, "vDesc");
    let (item_desc, total_desc) = discounts.split_at(discounts.len() - 1);
    assert_eq!(
        Money::checked_sum(item_desc.iter().copied()).expect("sum"),
        total_desc[0]
    );
    let vnf: Money = one(xml, "vNF").parse().expect("vNF");
    assert_eq!(vnf, total_prod[0].checked_sub(total_desc[0]).expect("sub"));
    assert_eq!(signed.total, vnf);
    let taxes = values(xml, "vTotTrib");
    let (item_taxes, total_taxes) = taxes.split_at(taxes.len() - 1);
    assert_eq!(
        Money::checked_sum(item_taxes.iter().copied()).expect("sum"),
        total_taxes[0]
    );
    // Change: payments exceed vNF by exactly R$ 5.00 (see samples::payments_for).
    assert_eq!(one(xml, "vTroco"), "5.00");
    assert_eq!(signed.change, Money::from_centavos(500));
    // Homologation: the first item carries the mandatory text, the others keep theirs.
    let names: Vec<&str> = xml
        .split("<xProd>")
        .skip(1)
        .map(|s| s.split('<').next().expect("x"))
        .collect();
    assert_eq!(names[0], HOMOLOGATION_ITEM_TEXT);
    assert_eq!(names[1], "Produto de teste nº 2 - embalagem \"econômica\"");
    // The key's parts are the document's.
    assert_eq!(signed.access_key.number(), 42);
    assert_eq!(signed.access_key.series(), 1);
    assert_eq!(signed.access_key.emission_type(), 1);
    assert_eq!(one(xml, "cNF"), format!("{:08}", signed.access_code));
    assert_ne!(signed.access_code, 42);
    assert!(
        signed.transmission_deadline.is_none(),
        "online notes have no deadline"
    );
    // Default QR is v3 online: key|3|tpAmb only.
    assert!(
        signed
            .qr_code
            .ends_with(&format!("?p={}|3|2", signed.access_key)),
        "{}",
        signed.qr_code
    );
    assert!(
        signed
            .qr_code
            .starts_with("https://www.homologacao.nfce.fazenda.sp.gov.br/qrcode")
    );
}

#[test]
fn directly_written_canonical_form_equals_libxml_c14n() {
    // The digest is computed over our own bytes; libxml2's C14N of the parsed document must
    // reproduce them exactly (also with escaped characters in the text).
    let mut input = sample_input(7, 3);
    input.items[1].description = "Sabão <neutro> & \"suave\" 'líquido' > 1L".into();
    let signed = build(&input);
    let id = format!("NFe{}", signed.access_key);
    let libxml = canonicalize_element(&signed.xml, &id).expect("c14n");
    let start = signed.xml.find("<infNFe ").expect("infNFe");
    let end = signed.xml.find("</infNFe>").expect("end") + "</infNFe>".len();
    let ours = signed.xml[start..end].replacen(
        "<infNFe ",
        "<infNFe xmlns=\"http://www.portalfiscal.inf.br/nfe\" ",
        1,
    );
    assert_eq!(libxml, ours);
    check(&signed);
}

#[test]
fn every_csosn_of_simples_nacional_is_valid() {
    for csosn in [
        Csosn::C102,
        Csosn::C103,
        Csosn::C300,
        Csosn::C400,
        Csosn::C500,
        Csosn::C900,
    ] {
        let mut input = sample_input(100, 0);
        input.items = vec![
            sample_item(1, IcmsSituation::Csosn(csosn)),
            sample_item(2, IcmsSituation::Csosn(csosn)),
        ];
        input.payments = payments_for(&input);
        let signed = build(&input);
        check(&signed);
        assert!(
            signed
                .xml
                .contains(&format!("<CSOSN>{}</CSOSN>", csosn.code()))
        );
    }
}

#[test]
fn every_cst_of_regime_normal_is_valid_and_icms_adds_up() {
    for cst in [
        IcmsCst::C00,
        IcmsCst::C20,
        IcmsCst::C40,
        IcmsCst::C41,
        IcmsCst::C60,
    ] {
        let mut input = sample_input(200, 0);
        input.emitter = sample_emitter(Crt::Normal);
        input.items = (1..=3)
            .map(|n| sample_item(n, IcmsSituation::Cst(cst)))
            .collect();
        input.payments = payments_for(&input);
        let signed = build(&input);
        check(&signed);
        assert!(signed.xml.contains(&format!("<CST>{}</CST>", cst.code())));
        let icms = values(&signed.xml, "vICMS");
        if matches!(cst, IcmsCst::C00 | IcmsCst::C20) {
            let (items, total) = icms.split_at(icms.len() - 1);
            assert_eq!(
                Money::checked_sum(items.iter().copied()).expect("sum"),
                total[0]
            );
            assert!(!total[0].is_zero(), "taxed items carry ICMS");
        } else {
            assert_eq!(icms, vec![Money::ZERO], "only the total, zero");
        }
    }
}

#[test]
fn cst_20_reduces_the_base_and_cst_00_taxes_it_whole() {
    let mut input = sample_input(201, 0);
    input.emitter = sample_emitter(Crt::Normal);
    let mut item = sample_item(1, IcmsSituation::Cst(IcmsCst::C20));
    item.quantity_thousandths = 1000;
    item.unit_price = Money::from_centavos(10_000);
    item.discount = Money::ZERO;
    input.items = vec![item];
    input.payments = payments_for(&input);
    let signed = build(&input);
    // 100.00 with 33.33 % reduction → base 66.67; 18 % → 12.00 (12.0006 rounded).
    assert!(
        signed.xml.contains(
            "<pRedBC>33.33</pRedBC><vBC>66.67</vBC><pICMS>18.00</pICMS><vICMS>12.00</vICMS>"
        ),
        "{}",
        signed.xml
    );
    // PIS 1.65 % and COFINS 7.60 % over 100.00.
    assert!(signed.xml.contains(
        "<PISAliq><CST>01</CST><vBC>100.00</vBC><pPIS>1.65</pPIS><vPIS>1.65</vPIS></PISAliq>"
    ));
    assert!(signed.xml.contains("<vCOFINS>7.60</vCOFINS>"));
}

#[test]
fn every_payment_method_and_consumer_kind_is_valid() {
    let methods = vec![
        PaymentMethod::Cash,
        PaymentMethod::CreditCard(CardInfo {
            integrated: true,
            acquirer_cnpj: Some("11222333000181".into()),
            brand: Some("01".into()),
            authorization: Some("123456".into()),
        }),
        PaymentMethod::DebitCard(CardInfo::default()),
        PaymentMethod::Pix(None),
        PaymentMethod::Pix(Some(CardInfo::default())),
        PaymentMethod::StoreCredit,
        PaymentMethod::Other("Vale alimentação".into()),
    ];
    let consumers = [
        None,
        Some(Consumer {
            id: ConsumerId::Cpf("52998224725".into()),
            name: Some("Maria da Silva".into()),
        }),
        Some(Consumer {
            id: ConsumerId::Cnpj("11222333000181".into()),
            name: None,
        }),
        Some(Consumer {
            id: ConsumerId::Foreign("PASSPORT123".into()),
            name: None,
        }),
    ];
    for (i, method) in methods.into_iter().enumerate() {
        let mut input = sample_input(300 + i as u32, 2);
        input.payments = vec![NfcePayment {
            method: method.clone(),
            amount: expected_total(&input),
        }];
        input.consumer = consumers[i % consumers.len()].clone();
        let signed = build(&input);
        check(&signed);
        assert!(
            signed
                .xml
                .contains(&format!("<tPag>{}</tPag>", method.code()))
        );
        assert!(
            !signed.xml.contains("vTroco"),
            "exact payment has no change"
        );
        if matches!(
            method,
            PaymentMethod::CreditCard(_) | PaymentMethod::DebitCard(_)
        ) {
            assert!(
                signed.xml.contains("<card><tpIntegra>"),
                "cards carry the card group"
            );
        }
    }
    // In homologation the recipient's name is replaced by the mandatory text.
    let mut input = sample_input(399, 1);
    input.consumer = consumers[1].clone();
    let signed = build(&input);
    assert!(
        signed
            .xml
            .contains(&format!("<xNome>{HOMOLOGATION_RECIPIENT_TEXT}</xNome>"))
    );
    assert!(!signed.xml.contains("Maria"));
}

fn offline(input: &mut NfceInput) {
    input.emission = Emission::Offline {
        since: input.issued_at - Duration::minutes(20),
        justification: "SEFAZ fora do ar - sem resposta do servidor".into(),
    };
}

#[test]
fn contingency_note_carries_dhcont_xjust_offline_qr_and_deadline() {
    for version in [QrVersion::V3, QrVersion::V2] {
        let mut input = sample_input(500, 4);
        input.emitter.qr_version = Some(version);
        offline(&mut input);
        input.consumer = Some(Consumer {
            id: ConsumerId::Cpf("52998224725".into()),
            name: None,
        });
        let signed = build(&input);
        check(&signed);
        assert_eq!(signed.access_key.emission_type(), 9);
        assert!(signed.xml.contains("<tpEmis>9</tpEmis>"));
        assert!(signed.xml.contains("<dhCont>2026-11-23T09:55:30-03:00</dhCont><xJust>SEFAZ fora do ar - sem resposta do servidor</xJust>"));
        let p = signed.qr_code.split("?p=").nth(1).expect("p");
        let fields: Vec<&str> = p.split('|').collect();
        assert_eq!(fields[0], signed.access_key.as_str());
        assert_eq!(fields[3], "23", "day of dhEmi");
        assert_eq!(fields[4], signed.total.to_string());
        match version {
            QrVersion::V3 => {
                assert_eq!(&fields[1..3], ["3", "2"]);
                assert_eq!(&fields[5..7], ["2", "52998224725"]);
                assert_eq!(fields[7].len(), 344);
            }
            QrVersion::V2 => {
                assert_eq!(fields[5], hex::encode(signed.digest_value.as_bytes()));
                assert_eq!(fields[6], "1", "cIdToken without leading zeros");
            }
        }
        // Default rule: 24 h after emission.
        assert_eq!(
            signed.transmission_deadline,
            Some(signed.issued_at + Duration::hours(24))
        );
    }
}

#[test]
fn state_deadline_rule_is_configurable() {
    let mut input = sample_input(501, 1);
    offline(&mut input);
    input.emitter.contingency_deadline =
        Some(DeadlineRule::EndOfNextBusinessDay { holidays: vec![] });
    let signed = build(&input);
    // Monday 23 Nov 2026 → end of Tuesday.
    assert_eq!(
        signed.transmission_deadline,
        Some(DateTime::parse_from_rfc3339("2026-11-24T23:59:59-03:00").expect("date"))
    );
}

#[test]
fn contingency_justification_must_have_15_to_256_characters() {
    for (text, ok) in [
        ("curta demais", false),
        ("exatamente 15 c", true),
        (&"x".repeat(256)[..], true),
        (&"x".repeat(257)[..], false),
    ] {
        let mut input = sample_input(502, 1);
        input.emission = Emission::Offline {
            since: input.issued_at,
            justification: text.into(),
        };
        let result = build_and_sign(&input, test_certificate());
        match (ok, result) {
            (true, Ok(signed)) => check(&signed),
            (false, Err(NfceError::InvalidField { field, .. })) => assert_eq!(field, "ide.xJust"),
            (_, other) => panic!("{text:?}: {other:?}"),
        }
    }
}

#[test]
fn correction_after_rejection_keeps_number_series_and_key_with_a_new_qr() {
    let mut input = sample_input(600, 3);
    offline(&mut input);
    input.emitter.qr_version = Some(QrVersion::V2);
    let rejected = build(&input);
    // The store fixes an NCM that SEFAZ rejected.
    let mut corrected = input.clone();
    corrected.items[1].ncm = "22021000".into();
    corrected.access_code = None;
    let resigned = resign_correction(&rejected, &corrected, test_certificate()).expect("re-signs");
    check(&resigned);
    assert_eq!(resigned.access_key, rejected.access_key);
    assert_eq!(
        (resigned.number, resigned.series),
        (rejected.number, rejected.series)
    );
    assert_ne!(resigned.digest_value, rejected.digest_value);
    assert_ne!(
        resigned.qr_code, rejected.qr_code,
        "the offline QR carries the digest"
    );
    // A correction may not move the note to another number.
    let mut moved = corrected.clone();
    moved.number = 601;
    assert!(matches!(
        resign_correction(&rejected, &moved, test_certificate()),
        Err(NfceError::CorrectionChanges(_))
    ));
}

#[test]
fn bad_input_is_refused_by_field_without_panicking() {
    type Case = (&'static str, fn(&mut NfceInput));
    let cases: Vec<Case> = vec![
        ("det[1].prod.xProd", |i| {
            i.emitter.environment = Environment::Production;
            i.items[0].description = "x".repeat(121);
        }),
        ("det[2].prod.xProd", |i| {
            i.items[1].description = "Bolo 🎂".into()
        }),
        ("det[2].prod.cProd", |i| i.items[1].code = "A\u{0}B".into()),
        ("det[1].prod.NCM", |i| i.items[0].ncm = "123".into()),
        ("det[1].prod.cEAN", |i| i.items[0].gtin = Some("abc".into())),
        ("det[1].prod.qCom", |i| i.items[0].quantity_thousandths = 0),
        ("det[1].prod.vDesc", |i| {
            i.items[0].discount = Money::from_centavos(1_000_000)
        }),
        ("det[1].imposto.ICMS", |i| {
            i.items[0].icms.situation = IcmsSituation::Cst(IcmsCst::C00)
        }),
        ("det[1].imposto.PIS.CST", |i| i.items[0].pis.cst = 3),
        ("emit.CNPJ", |i| i.emitter.cnpj = "06157250000117".into()),
        ("emit.xNome", |i| {
            i.emitter.legal_name = "Loja\u{1b}[31m".into()
        }),
        ("dest.CPF", |i| {
            i.consumer = Some(Consumer {
                id: ConsumerId::Cpf("12345678900".into()),
                name: None,
            })
        }),
        ("pag.detPag.vPag", |i| {
            i.payments = vec![NfcePayment {
                method: PaymentMethod::Cash,
                amount: Money::from_centavos(1),
            }]
        }),
        ("pag.vTroco", |i| {
            let total = expected_total(i);
            i.payments = vec![NfcePayment {
                method: PaymentMethod::Pix(None),
                amount: total.checked_add(Money::from_centavos(100)).expect("add"),
            }];
        }),
        ("det", |i| i.items.clear()),
        ("emit.CRT", |i| i.emitter.crt = Crt::Mei),
    ];
    for (field, mutate) in cases {
        let mut input = sample_input(700, 2);
        mutate(&mut input);
        match build_and_sign(&input, test_certificate()) {
            Err(NfceError::InvalidField { field: f, reason }) => {
                assert_eq!(f, field, "{reason}");
                assert!(!reason.is_empty());
            }
            other => panic!("{field}: expected a field error, got {other:?}"),
        }
    }
}

#[test]
fn certificate_of_another_company_cannot_sign() {
    let mut input = sample_input(800, 1);
    input.emitter.cnpj = "11222333000181".into();
    input.emitter.tech_responsible = None;
    assert!(matches!(
        build_and_sign(&input, test_certificate()),
        Err(NfceError::Certificate(
            crate::CertificateError::CnpjMismatch { .. }
        ))
    ));
}

#[test]
fn qr_v2_needs_the_csc() {
    let mut input = sample_input(801, 1);
    input.emitter.qr_version = Some(QrVersion::V2);
    input.emitter.csc = None;
    assert!(matches!(
        build_and_sign(&input, test_certificate()),
        Err(NfceError::Qr(QrError::MissingCsc))
    ));
    // With the CSC: online v2 = key|2|tpAmb|cIdToken|hash.
    let mut input = sample_input(802, 1);
    input.emitter.qr_version = Some(QrVersion::V2);
    let signed = build(&input);
    let p = signed.qr_code.split("?p=").nth(1).expect("p");
    assert_eq!(p.split('|').count(), 5);
    check(&signed);
}

#[test]
fn weighed_items_round_half_even_to_the_centavo() {
    let mut input = sample_input(900, 0);
    let mut item = sample_item(3, IcmsSituation::Csosn(Csosn::C102));
    item.quantity_thousandths = 1_250;
    item.unit_price = Money::from_centavos(2_990); // 29.90/kg × 1.250 kg = 37.375 → 37.38
    item.discount = Money::ZERO;
    input.items = vec![item];
    input.payments = payments_for(&input);
    let signed = build(&input);
    assert!(
        signed
            .xml
            .contains("<qCom>1.2500</qCom><vUnCom>29.90</vUnCom><vProd>37.38</vProd>")
    );
    assert_eq!(signed.total, Money::from_centavos(3_738));
}

#[test]
fn document_snapshot_is_stable() {
    // RSA PKCS#1 v1.5 is deterministic, so with a fixed cNF the whole signed document is: any
    // change to the layout shows up here and must be a deliberate act
    // (TENDA_UPDATE_SNAPSHOTS=1 rewrites the file).
    let mut input = sample_input(1234, 2);
    input.access_code = Some(12_345_670);
    input.consumer = Some(Consumer {
        id: ConsumerId::Cpf("52998224725".into()),
        name: None,
    });
    let signed = build(&input);
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots/nfce-homologation-2-items.xml");
    if std::env::var_os("TENDA_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &signed.xml).expect("write snapshot");
    }
    let expected = std::fs::read_to_string(&path).expect("snapshot file");
    assert_eq!(signed.xml, expected);
    check(&signed);
}

#[test]
fn certificate_and_notes_cross_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<crate::A1Certificate>();
    send_sync::<SignedNfce>();
    let handles: Vec<_> = (0..4)
        .map(|t| {
            std::thread::spawn(move || {
                let signed = build(&sample_input(1000 + t, 3));
                check(&signed);
                signed.access_key
            })
        })
        .collect();
    let keys: std::collections::HashSet<_> = handles
        .into_iter()
        .map(|h| h.join().expect("thread"))
        .collect();
    assert_eq!(keys.len(), 4);
}

#[test]
fn any_character_in_a_name_gives_a_valid_note_or_a_field_error() {
    // Whatever a catalog holds, the builder never emits a document the schema rejects and
    // never panics: each character is written, folded, or refused by name.
    let specials = [
        '\u{feff}', '\u{200b}', '\u{202e}', '\u{2028}', '\u{fffd}', '\u{301}', '€', '“',
    ];
    let characters = (0u32..=0x17F).filter_map(char::from_u32).chain(specials);
    let mut written = 0;
    for c in characters {
        let mut input = sample_input(1, 2);
        input.items[1].description = format!("Item {c} fim");
        match build_and_sign(&input, test_certificate()) {
            Ok(signed) => {
                validate(Schema::Nfe, &signed.xml)
                    .unwrap_or_else(|e| panic!("U+{:04X} produced an invalid note: {e}", c as u32));
                written += 1;
            }
            Err(NfceError::InvalidField { field, .. }) => assert_eq!(field, "det[2].prod.xProd"),
            Err(other) => panic!("U+{:04X}: {other:?}", c as u32),
        }
    }
    assert!(written > 180, "printable Latin-1 is written: {written}");
}
