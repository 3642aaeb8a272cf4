//! Printing through the ESC/POS driver to the simulated printer: what comes out on paper.

use std::time::Duration;

use tenda_devices::escpos::decode::DecodeIssue;
use tenda_devices::receipt::{layout_danfe, layout_ticket};
use tenda_devices::sim::{SimulatedPrinter, sample_danfe};
use tenda_devices::text::CodePage;
use tenda_devices::{
    DanfeOptions, Emission, EscPosPrinter, FiscalEnvironment, ItemDetail, Pacing, PrintJob,
    PrinterError, PrinterProfile, PrinterSettings, ReceiptItem, ReceiptPrinter, ReconnectPolicy,
    SaleTicket, TicketLabels, WriteMode,
};
use tenda_domain::Money;

fn settings() -> PrinterSettings {
    PrinterSettings {
        pacing: Pacing {
            between_chunks: Duration::ZERO,
        },
        reconnect: ReconnectPolicy {
            attempts: 3,
            first_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
        },
        status_timeout: Duration::from_millis(500),
        ..PrinterSettings::default()
    }
}

fn printer(profile: &PrinterProfile) -> (SimulatedPrinter, EscPosPrinter<SimulatedPrinter>) {
    let sim = SimulatedPrinter::new(profile);
    (
        sim.clone(),
        EscPosPrinter::new(sim, profile.clone(), settings()),
    )
}

fn danfe_job(
    profile: &PrinterProfile,
    emission: Emission,
    env: FiscalEnvironment,
    options: DanfeOptions,
) -> PrintJob {
    layout_danfe(&sample_danfe(30, emission, env), profile, &options).expect("sample is valid")
}

#[tokio::test]
async fn danfe_prints_every_section_and_the_exact_qr_on_both_paper_widths() {
    for profile in [PrinterProfile::mm58(), PrinterProfile::mm80()] {
        let (sim, p) = printer(&profile);
        let danfe = sample_danfe(30, Emission::Normal, FiscalEnvironment::Production);
        let job = layout_danfe(&danfe, &profile, &DanfeOptions::default()).expect("valid");
        let report = p.print(&job).await.expect("prints");
        assert_eq!(report.attempts, 1);
        assert!(sim.issues().is_empty(), "clean stream: {:?}", sim.issues());
        assert!(
            sim.largest_chunk() <= 20,
            "MTU 23 allows 20-byte writes, got {}",
            sim.largest_chunk()
        );
        let receipts = sim.receipts();
        assert_eq!(receipts.len(), 1);
        let r = &receipts[0];
        assert!(r.cut, "a finished receipt is cut");
        let cols = usize::from(profile.columns);
        assert!(
            r.lines.iter().all(|l| l.chars().count() <= cols),
            "every line fits {cols} columns"
        );
        for needle in [
            "MERCADINHO BOA VISTA LTDA",                 // I
            "CNPJ: 00.156.225/0001-31",                  // I
            "001 7891000100103 ARROZ BRANCO",            // II
            "030 7891024134702 CREME DENTAL",            // II, last of 30
            "VALOR A PAGAR R$",                          // III
            "Troco R$",                                  // III
            "Consulte pela Chave de Acesso em",          // IV
            "www.nfce.se.gov.br/nfce/consulta",          // IV
            "2817 0800 1562 2500 0131 6501",             // IV: first 6 groups of 4
            "1000 0151 3415 6204 0824",                  // IV: last 5 groups
            "CONSUMIDOR - CPF 123.456.789-09",           // V
            "NFC-e nº 000015134 Série 011",              // VI
            "Protocolo de autorização: 128170000012345", // VI
            "Obrigado pela preferência!",                // VIII
            "Lei Federal 12.741/2012",                   // IX
        ] {
            // Long lines wrap at spaces on 58 mm: look in the joined text.
            assert!(
                r.lines.join(" ").contains(needle),
                "{:?}: missing {needle:?} in {:#?}",
                profile.paper,
                r.lines
            );
        }
        assert_eq!(r.qr_codes.len(), 1);
        assert_eq!(
            r.qr_codes[0].payload,
            danfe.qr_code.as_bytes(),
            "QR payload equals qrCode byte for byte"
        );
        assert!(
            r.qr_codes[0].side_mm >= 25.0,
            "QR printed at {} mm",
            r.qr_codes[0].side_mm
        );
        assert!(!r.mentions("CONTINGÊNCIA") && !r.mentions("HOMOLOGAÇÃO"));
    }
}

#[tokio::test]
async fn contingency_prints_the_notices_and_a_store_copy_when_asked() {
    let profile = PrinterProfile::mm80();
    let (sim, p) = printer(&profile);
    let options = DanfeOptions {
        store_copy_in_contingency: true,
        ..DanfeOptions::default()
    };
    p.print(&danfe_job(
        &profile,
        Emission::OfflineContingency,
        FiscalEnvironment::Production,
        options,
    ))
    .await
    .expect("prints");
    let receipts = sim.receipts();
    assert_eq!(receipts.len(), 2, "consumer copy + store copy");
    for (r, via) in receipts
        .iter()
        .zip(["Via do consumidor", "Via do estabelecimento"])
    {
        assert!(
            r.cut && r.mentions("EMITIDA EM CONTINGÊNCIA") && r.mentions("Pendente de autorização")
        );
        assert!(r.mentions(via), "{via}");
        assert!(
            !r.mentions("Protocolo de autorização"),
            "no protocol before authorization"
        );
    }
    // Without the setting, one copy.
    let (sim, p) = printer(&profile);
    p.print(&danfe_job(
        &profile,
        Emission::OfflineContingency,
        FiscalEnvironment::Production,
        DanfeOptions::default(),
    ))
    .await
    .expect("prints");
    assert_eq!(sim.receipts().len(), 1);
}

#[tokio::test]
async fn homologation_summarized_and_anonymous_variants() {
    let profile = PrinterProfile::mm58();
    let (sim, p) = printer(&profile);
    let mut danfe = sample_danfe(5, Emission::Normal, FiscalEnvironment::Homologation);
    danfe.consumer = None;
    let options = DanfeOptions {
        item_detail: ItemDetail::Summarized,
        ..DanfeOptions::default()
    };
    p.print(&layout_danfe(&danfe, &profile, &options).expect("valid"))
        .await
        .expect("prints");
    let r = &sim.receipts()[0];
    let text = r.lines.join("\n");
    assert!(text.contains("EMITIDA EM AMBIENTE DE"), "{text}");
    assert!(
        text.contains("HOMOLOGAÇÃO – SEM VALOR FISCAL")
            || text.contains("HOMOLOGAÇÃO - SEM VALOR FISCAL"),
        "{text}"
    );
    assert!(r.mentions("CONSUMIDOR NÃO IDENTIFICADO"));
    assert!(!r.mentions("ARROZ"), "summarized DANFE leaves items out");
    assert!(
        r.lines
            .iter()
            .any(|l| l.starts_with("QTD. TOTAL DE ITENS") && l.ends_with('5'))
    );
}

#[test]
fn invalid_danfe_is_refused_naming_the_field() {
    let profile = PrinterProfile::mm80();
    let mut danfe = sample_danfe(1, Emission::Normal, FiscalEnvironment::Production);
    danfe.access_key = "123".into();
    let err = layout_danfe(&danfe, &profile, &DanfeOptions::default()).expect_err("bad key");
    assert!(err.to_string().starts_with("access_key:"), "{err}");
    let mut danfe = sample_danfe(1, Emission::Normal, FiscalEnvironment::Production);
    danfe.authorization = None;
    let err = layout_danfe(&danfe, &profile, &DanfeOptions::default())
        .expect_err("unauthorized normal note");
    assert!(err.to_string().starts_with("authorization:"), "{err}");
}

#[tokio::test]
async fn printer_drop_mid_receipt_voids_the_partial_and_reprints_it_whole() {
    let profile = PrinterProfile::mm58();
    let job = danfe_job(
        &profile,
        Emission::Normal,
        FiscalEnvironment::Production,
        DanfeOptions::default(),
    );
    let (clean_sim, clean) = printer(&profile);
    clean.print(&job).await.expect("prints");
    let expected = clean_sim.receipts().remove(0);

    let (sim, p) = printer(&profile);
    sim.drop_link_after(700);
    let report = p.print(&job).await.expect("reconnects and reprints");
    assert_eq!(report.attempts, 2);
    assert!(report.voided_partial);
    assert_eq!(sim.connects(), 2, "reconnected once");
    let receipts = sim.receipts();
    assert_eq!(receipts.len(), 2, "{receipts:#?}");
    let partial = &receipts[0];
    assert!(
        partial.mentions("MERCADINHO BOA VISTA"),
        "some of the receipt printed before the drop"
    );
    assert!(partial.qr_codes.is_empty(), "the drop came before the QR");
    assert!(
        partial.mentions("IMPRESSÃO INTERROMPIDA") && partial.mentions("DESCONSIDERE"),
        "partial voided on paper"
    );
    assert!(partial.cut, "the voided part is cut off");
    assert_eq!(
        receipts[1], expected,
        "then the whole receipt, identical to an uninterrupted print"
    );
}

#[tokio::test]
async fn printer_that_stays_away_fails_loudly_and_the_next_job_voids_the_partial() {
    let profile = PrinterProfile::mm58();
    let job = danfe_job(
        &profile,
        Emission::Normal,
        FiscalEnvironment::Production,
        DanfeOptions::default(),
    );
    let (sim, p) = printer(&profile);
    p.status().await.expect("printer reachable at first");
    sim.drop_link_after(300);
    sim.refuse_next_connects(100);
    let err = p.print(&job).await.expect_err("cannot finish");
    assert!(matches!(err, PrinterError::Interrupted { .. }), "{err:?}");
    assert!(
        err.left_partial_receipt(),
        "the seller is told the receipt is incomplete"
    );
    assert_eq!(err.code(), "printer_interrupted");

    sim.refuse_next_connects(0);
    let report = p.print(&job).await.expect("printer back");
    assert!(
        report.voided_partial,
        "the next job voids the partial paper first"
    );
    let receipts = sim.receipts();
    assert!(receipts[0].mentions("DESCONSIDERE O CUPOM ACIMA"));
    assert_eq!(receipts.last().map(|r| r.qr_codes.len()), Some(1));
}

#[tokio::test]
async fn paper_out_and_cover_open_are_actionable_errors() {
    let profile = PrinterProfile::mm80();
    let job = danfe_job(
        &profile,
        Emission::Normal,
        FiscalEnvironment::Production,
        DanfeOptions::default(),
    );
    let (sim, p) = printer(&profile);

    sim.set_paper_out(true);
    let err = p.print(&job).await.expect_err("no paper");
    assert!(
        matches!(
            err,
            PrinterError::PaperOut {
                job_incomplete: false
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.code(), "printer_paper_out");
    assert!(
        sim.printed().is_empty(),
        "nothing sent to a printer without paper"
    );
    sim.set_paper_out(false);

    sim.set_cover_open(true);
    let err = p.print(&job).await.expect_err("cover open");
    assert!(
        matches!(
            err,
            PrinterError::CoverOpen {
                job_incomplete: false
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("cover is open"));
    sim.set_cover_open(false);

    // The roll ends in the middle of the receipt.
    sim.run_out_of_paper_after(20);
    let err = p.print(&job).await.expect_err("paper ran out mid-job");
    assert!(
        matches!(
            err,
            PrinterError::PaperOut {
                job_incomplete: true
            }
        ),
        "{err:?}"
    );
    assert!(err.left_partial_receipt());
    sim.set_paper_out(false);
    let report = p.print(&job).await.expect("new roll");
    assert!(report.voided_partial);
    let receipts = sim.receipts();
    let last = receipts.last().expect("printed");
    assert!(
        last.cut && last.qr_codes.len() == 1 && last.mentions("Lei Federal 12.741/2012"),
        "whole receipt after the notice"
    );
}

#[tokio::test]
async fn hostile_text_prints_legibly_never_as_control_bytes() {
    let profile = PrinterProfile::mm58();
    let mut danfe = sample_danfe(3, Emission::Normal, FiscalEnvironment::Production);
    let long_name: String = "BISCOITO RECHEADO CHOCOLATE "
        .repeat(8)
        .chars()
        .take(200)
        .collect();
    danfe.items[0].description = long_name.clone();
    danfe.items[1].description =
        "Suco\u{200B}\u{200D} 🍊🍊 de\u{0007}\u{001B}@ laranja\u{202E} 商品 \u{FEFF}ok".into();
    danfe.items[2].description = "Água de coco – “natural” 1L ½".into();
    danfe.emitter.legal_name = "Loja\r\nDo\tZé".into();
    let (sim, p) = printer(&profile);
    p.print(&layout_danfe(&danfe, &profile, &DanfeOptions::default()).expect("valid"))
        .await
        .expect("prints");
    assert!(
        sim.issues().is_empty(),
        "no control bytes or unknown commands reached the printer: {:?}",
        sim.issues()
    );
    let r = &sim.receipts()[0];
    assert!(r.lines.iter().all(|l| l.chars().count() <= 32));
    assert!(
        r.lines
            .iter()
            .all(|l| !l.chars().any(|c| c.is_control() || c == '\u{FFFD}'))
    );
    let text = r.lines.join(" ");
    let squashed: String = text.split_whitespace().collect();
    let long_squashed: String = long_name.split_whitespace().collect();
    assert!(
        squashed.contains(&long_squashed),
        "the 200-character name is printed whole, wrapped"
    );
    assert!(
        r.mentions("Suco de@ laranja ?? ok"),
        "zero-width, emoji and controls (ESC included: its @ prints as text) dropped; unknown script shown as ?"
    );
    assert!(
        r.mentions("Água de coco - \"natural\" 1L ½"),
        "typographic marks made plain"
    );
    assert!(r.mentions("Loja Do Zé"));
}

#[tokio::test]
async fn printer_without_code_pages_gets_accents_stripped() {
    let profile = PrinterProfile::mm80().with_code_page(None);
    let job = layout_danfe(
        &{
            let mut d = sample_danfe(2, Emission::Normal, FiscalEnvironment::Production);
            d.consumer = None;
            d
        },
        &profile,
        &DanfeOptions::default(),
    )
    .expect("valid");
    let bytes = tenda_devices::escpos::encode_job(&job).expect("encodes");
    let (sim, p) = printer(&profile);
    p.print(&job).await.expect("prints");
    let r = &sim.receipts()[0];
    assert!(r.mentions("CONSUMIDOR NAO IDENTIFICADO"));
    assert!(r.mentions("FEIJAO CARIOCA"));
    assert!(sim.issues().is_empty());
    // Outside QR data, no byte above 0x7F: the printer's default table would misprint them.
    let qr_start = bytes
        .windows(3)
        .position(|w| w == [0x1D, b'(', b'k'])
        .expect("has QR");
    assert!(bytes[..qr_start].iter().all(|b| *b < 0x80));
    assert_eq!(CodePage::Ascii.encode_char('ã'), None);
}

#[tokio::test]
async fn sale_ticket_and_drawer_kick() {
    let profile = PrinterProfile::mm58();
    let item = ReceiptItem {
        code: "1".into(),
        description: "Empanada de carne".into(),
        quantity_thousandths: 3000,
        unit: "UN".into(),
        unit_price: Money::from_centavos(250),
        total: Money::from_centavos(750),
        discount: Money::ZERO,
    };
    let ticket = SaleTicket {
        store_name: "Almacén Don José".into(),
        store_details: vec!["Av. Corrientes 1234 - CABA".into()],
        title: "TICKET DE VENTA".into(),
        sale_reference: "0001-00000042".into(),
        issued_at: "23/11/2026 10:20".into(),
        seller: Some("Ana".into()),
        customer: None,
        items: vec![item],
        totals: tenda_devices::ReceiptTotals {
            items_total: Money::from_centavos(750),
            discount: Money::ZERO,
            surcharge: Money::ZERO,
            amount_due: Money::from_centavos(750),
        },
        payments: vec![tenda_devices::ReceiptPayment {
            method: "Efectivo".into(),
            amount: Money::from_centavos(1000),
        }],
        change: Money::from_centavos(250),
        footer: vec!["¡Gracias por su compra!".into()],
        money_format: tenda_devices::MoneyFormat {
            symbol: "$".into(),
            decimal_separator: ',',
            thousands_separator: '.',
        },
        labels: TicketLabels::spanish(),
        open_drawer: true,
    };
    let (sim, p) = printer(&profile);
    p.print(&layout_ticket(&ticket, &profile).expect("valid"))
        .await
        .expect("prints");
    let r = &sim.receipts()[0];
    assert!(
        r.mentions("TICKET DE VENTA")
            && r.mentions("Almacén Don José")
            && r.mentions("¡Gracias por su compra!")
    );
    assert!(
        r.lines
            .iter()
            .any(|l| l.starts_with("TOTAL") && l.ends_with("$ 7,50")),
        "{:#?}",
        r.lines
    );
    assert!(
        r.lines
            .iter()
            .any(|l| l.starts_with("Vuelto") && l.ends_with("2,50"))
    );
    assert_eq!(sim.drawer_kicks(), 1, "cash sale opens the drawer");
    p.open_drawer().await.expect("kick");
    assert_eq!(sim.drawer_kicks(), 2);
}

#[tokio::test]
async fn write_with_response_links_use_their_larger_mtu() {
    let profile = PrinterProfile::mm80();
    let sim = SimulatedPrinter::new(&profile);
    sim.set_link(185, WriteMode::WithResponse);
    let p = EscPosPrinter::new(sim.clone(), profile.clone(), settings());
    p.print(&danfe_job(
        &profile,
        Emission::Normal,
        FiscalEnvironment::Production,
        DanfeOptions::default(),
    ))
    .await
    .expect("prints");
    assert_eq!(sim.largest_chunk(), 182, "chunks of MTU - 3");
    assert!(
        !sim.issues()
            .iter()
            .any(|i| matches!(i, DecodeIssue::UnknownCommand(_)))
    );
}

#[tokio::test]
async fn printer_without_status_support_still_prints_and_still_reprints_after_a_drop() {
    let profile = PrinterProfile::mm58();
    let sim = SimulatedPrinter::new(&profile);
    let p = EscPosPrinter::new(
        sim.clone(),
        profile.clone(),
        PrinterSettings {
            printer_reports_status: false,
            ..settings()
        },
    );
    let job = danfe_job(
        &profile,
        Emission::Normal,
        FiscalEnvironment::Production,
        DanfeOptions::default(),
    );
    sim.drop_link_after(500);
    let report = p.print(&job).await.expect("reprinted");
    assert!(report.voided_partial && report.attempts == 2);
    let receipts = sim.receipts();
    assert!(receipts[0].mentions("DESCONSIDERE O CUPOM ACIMA"));
    assert_eq!(receipts[1].qr_codes.len(), 1);
}

#[tokio::test]
async fn write_only_printer_prints_without_status_checks() {
    // Some cheap printers expose no notify characteristic: status cannot be read, but printing
    // must still work (and not wait for answers that never come).
    let profile = PrinterProfile::mm58();
    let sim = SimulatedPrinter::new(&profile);
    sim.set_write_only(true);
    let p = EscPosPrinter::new(sim.clone(), profile.clone(), settings());
    let job = danfe_job(
        &profile,
        Emission::Normal,
        FiscalEnvironment::Production,
        DanfeOptions::default(),
    );
    let started = std::time::Instant::now();
    p.print(&job).await.expect("prints");
    assert!(
        started.elapsed() < Duration::from_millis(400),
        "no status timeouts were waited for"
    );
    assert_eq!(sim.receipts().len(), 1);
    assert_eq!(sim.receipts()[0].qr_codes.len(), 1);
}

#[tokio::test]
async fn printer_that_ignores_status_queries_is_reported_before_anything_prints() {
    let profile = PrinterProfile::mm58();
    let (sim, p) = printer(&profile);
    sim.set_status_silent(true);
    let job = danfe_job(
        &profile,
        Emission::Normal,
        FiscalEnvironment::Production,
        DanfeOptions::default(),
    );
    let err = p.print(&job).await.expect_err("no status");
    assert!(matches!(err, PrinterError::NoStatusAnswer), "{err:?}");
    assert_eq!(err.code(), "printer_no_status");
    assert!(!err.left_partial_receipt(), "nothing was sent");
    assert!(sim.printed().is_empty());
}

#[tokio::test]
async fn cover_opened_mid_receipt_is_reported_and_the_reprint_voids_the_partial() {
    let profile = PrinterProfile::mm80();
    let (sim, p) = printer(&profile);
    let job = danfe_job(
        &profile,
        Emission::Normal,
        FiscalEnvironment::Production,
        DanfeOptions::default(),
    );
    sim.open_cover_after(30);
    let err = p.print(&job).await.expect_err("cover opened");
    assert!(
        matches!(
            err,
            PrinterError::CoverOpen {
                job_incomplete: true
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.code(), "printer_cover_open");
    // Still open: the next attempt is refused before printing anything.
    let printed = sim.printed().len();
    assert!(matches!(
        p.print(&job).await,
        Err(PrinterError::CoverOpen {
            job_incomplete: true
        })
    ));
    assert_eq!(sim.printed().len(), printed);
    sim.set_cover_open(false);
    let report = p.print(&job).await.expect("cover closed");
    assert!(report.voided_partial);
    let receipts = sim.receipts();
    assert!(
        receipts[0].mentions("DESCONSIDERE O CUPOM ACIMA"),
        "partial + void notice, cut"
    );
    assert_eq!(receipts.len(), 2);
    assert_eq!(receipts[1].qr_codes.len(), 1);
}
