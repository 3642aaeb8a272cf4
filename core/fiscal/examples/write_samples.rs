//! Writes sample documents (every ICMS situation, payments, contingency with QR v2 and v3,
//! events, inutilização) into `OUT_DIR/<schema file>/<name>.xml`, so that a script can check
//! them with independent tools (`xmllint --schema`, `xmlsec1 --verify`).
//!
//! Usage: write_samples <pfx> <password> <out-dir>

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration};
use tenda_fiscal::A1Certificate;
use tenda_fiscal::nfce::*;
use tenda_fiscal::samples::*;
use tenda_fiscal::xsd::Schema;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, pfx, password, out] = args.as_slice() else {
        eprintln!("usage: write_samples <pfx> <password> <out-dir>");
        std::process::exit(2);
    };
    let der = std::fs::read(pfx).expect("read the .pfx");
    let cert = A1Certificate::from_pkcs12_der(&der, password).expect("load the certificate");
    let out = PathBuf::from(out);
    let mut count = 0;
    let mut write = |schema: Schema, name: &str, xml: &str| {
        let dir = out.join(schema.file_name());
        std::fs::create_dir_all(&dir).expect("create dir");
        std::fs::write(dir.join(format!("{name}.xml")), xml).expect("write sample");
        count += 1;
    };

    let normal = build_and_sign(&sample_input(1, 10), &cert).expect("normal note");
    write(Schema::Nfe, "normal-10-items-all-csosn", &normal.xml);

    for (i, csosn) in [
        Csosn::C102,
        Csosn::C103,
        Csosn::C300,
        Csosn::C400,
        Csosn::C500,
        Csosn::C900,
    ]
    .into_iter()
    .enumerate()
    {
        let mut input = sample_input(10 + i as u32, 0);
        input.items = vec![
            sample_item(1, IcmsSituation::Csosn(csosn)),
            sample_item(2, IcmsSituation::Csosn(csosn)),
        ];
        input.payments = payments_for(&input);
        let signed = build_and_sign(&input, &cert).expect("CSOSN note");
        write(
            Schema::Nfe,
            &format!("crt1-csosn-{}", csosn.code()),
            &signed.xml,
        );
    }
    for (i, cst) in [
        IcmsCst::C00,
        IcmsCst::C20,
        IcmsCst::C40,
        IcmsCst::C41,
        IcmsCst::C60,
    ]
    .into_iter()
    .enumerate()
    {
        let mut input = sample_input(20 + i as u32, 0);
        input.emitter = sample_emitter(Crt::Normal);
        input.items = (1..=3)
            .map(|n| sample_item(n, IcmsSituation::Cst(cst)))
            .collect();
        input.payments = payments_for(&input);
        let signed = build_and_sign(&input, &cert).expect("CST note");
        write(
            Schema::Nfe,
            &format!("crt3-cst-{}", cst.code()),
            &signed.xml,
        );
    }

    let methods = [
        ("01-cash", PaymentMethod::Cash),
        (
            "03-credit",
            PaymentMethod::CreditCard(CardInfo {
                integrated: true,
                acquirer_cnpj: Some("11222333000181".into()),
                brand: Some("01".into()),
                authorization: Some("987654".into()),
            }),
        ),
        ("04-debit", PaymentMethod::DebitCard(CardInfo::default())),
        ("05-store-credit", PaymentMethod::StoreCredit),
        ("17-pix", PaymentMethod::Pix(None)),
    ];
    for (i, (name, method)) in methods.into_iter().enumerate() {
        let mut input = sample_input(30 + i as u32, 3);
        input.payments = vec![NfcePayment {
            method,
            amount: expected_total(&input),
        }];
        input.consumer = Some(Consumer {
            id: ConsumerId::Cpf("52998224725".into()),
            name: Some("Consumidor".into()),
        });
        let signed = build_and_sign(&input, &cert).expect("payment note");
        write(Schema::Nfe, &format!("payment-{name}"), &signed.xml);
    }

    for (i, version) in [QrVersion::V3, QrVersion::V2].into_iter().enumerate() {
        let mut input = sample_input(40 + i as u32, 10);
        input.emitter.qr_version = Some(version);
        input.emission = Emission::Offline {
            since: input.issued_at - Duration::minutes(5),
            justification: "Sem comunicacao com a SEFAZ autorizadora".into(),
        };
        input.consumer = Some(Consumer {
            id: ConsumerId::Cnpj("11222333000181".into()),
            name: None,
        });
        let signed = build_and_sign(&input, &cert).expect("contingency note");
        write(
            Schema::Nfe,
            &format!("contingency-qr-{version:?}").to_lowercase(),
            &signed.xml,
        );
    }

    let at = |s: &str| DateTime::parse_from_rfc3339(s).expect("date");
    let cancellation = Cancellation {
        access_key: normal.access_key.clone(),
        environment: Environment::Homologation,
        protocol: "135260000000001".into(),
        authorized_at: at("2026-11-23T10:16:00-03:00"),
        requested_at: at("2026-11-23T10:30:00-03:00"),
        justification: "Cliente desistiu da compra no caixa".into(),
        sequence: 1,
    };
    let event =
        build_cancellation(&cancellation, CancellationWindow::default(), &cert).expect("110111");
    write(Schema::EventoCancelamento, "cancel-110111", &event.xml);
    write(
        Schema::EnvEventoCancelamento,
        "lote-cancel-110111",
        &env_evento_xml(1, &[event]).expect("lote"),
    );
    let substitute = build_and_sign(&sample_input(2, 2), &cert).expect("substitute");
    let substitution = SubstitutionCancellation {
        cancellation,
        substitute_key: substitute.access_key,
        software_version: "tenda 0.1.0".into(),
    };
    let event =
        build_substitution_cancellation(&substitution, CancellationWindow::default(), &cert)
            .expect("110112");
    write(
        Schema::EventoCancSubstituicao,
        "cancel-substitution-110112",
        &event.xml,
    );
    write(
        Schema::EnvEventoCancSubstituicao,
        "lote-cancel-substitution-110112",
        &env_evento_xml(2, &[event]).expect("lote"),
    );

    let inut = build_inutilizacao(
        &Inutilizacao {
            uf: Uf::SP,
            environment: Environment::Homologation,
            cnpj: SAMPLE_CNPJ.into(),
            year: 2026,
            series: 1,
            first: 50,
            last: 59,
            justification: "Numeracao reservada e nao utilizada".into(),
        },
        &cert,
        at("2026-11-23T12:00:00-03:00"),
    )
    .expect("inutilizacao");
    write(Schema::InutNfe, "inutilizacao-50-59", &inut.xml);
    println!("{count} sample documents in {}", Path::new(&out).display());
}
