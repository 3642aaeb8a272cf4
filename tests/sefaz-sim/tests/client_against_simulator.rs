//! The SEFAZ client and transmission loop against the simulator, over real mTLS.

use std::time::Duration;

use chrono::{FixedOffset, Utc};
use tenda_fiscal::A1Certificate;
use tenda_fiscal::nfce::{
    self, CancellationWindow, Emission, Environment, SignedNfce, Uf, build_and_sign,
};
use tenda_fiscal::samples;
use tenda_fiscal::sefaz::{
    Availability, ClientIdentity, ClientSettings, DeferralReason, Endpoints, NoteOutcome,
    PendingNote, RejectionKind, ResponseError, SefazClient, SefazError, TransmissionPolicy,
    Transmitter, TrustRoots,
};
use tenda_fiscal::xsd::{self, Schema};
use tenda_sefaz_sim::{Faults, Malformation, Simulator, SimulatorConfig, StartOptions};

fn certificate() -> A1Certificate {
    A1Certificate::from_pkcs12_der(
        tenda_fiscal::samples::PUBLIC_TEST_PFX,
        tenda_fiscal::samples::PUBLIC_TEST_PFX_PASSWORD,
    )
    .expect("test certificate loads")
}

fn now_brt() -> chrono::DateTime<FixedOffset> {
    Utc::now().with_timezone(&FixedOffset::west_opt(3 * 3600).expect("valid offset"))
}

fn note_with(cert: &A1Certificate, number: u32, code: Option<u32>, offline: bool) -> SignedNfce {
    let mut input = samples::sample_input(number, 3);
    input.issued_at = now_brt();
    input.access_code = code;
    if offline {
        input.emission = Emission::Offline {
            since: now_brt() - chrono::Duration::minutes(5),
            justification: "Sem comunicacao com a SEFAZ autorizadora".into(),
        };
    }
    build_and_sign(&input, cert).expect("sample note builds and signs")
}

fn note(cert: &A1Certificate, number: u32) -> SignedNfce {
    note_with(cert, number, None, false)
}

struct Fixture {
    sim: Simulator,
    cert: A1Certificate,
    client: SefazClient,
}

fn client_for(sim: &Simulator, cert: &A1Certificate, timeout: Duration) -> SefazClient {
    let mut settings = ClientSettings::new(Uf::SP, Environment::Homologation);
    settings.endpoints = Endpoints::at_base_url(&sim.base_url());
    settings.request_timeout = timeout;
    settings.connect_timeout = Duration::from_secs(2);
    SefazClient::new(
        &ClientIdentity::from_certificate(cert).expect("identity"),
        &TrustRoots::only(vec![sim.ca_certificate_der().to_vec()]),
        settings,
    )
    .expect("client builds")
}

async fn fixture() -> Fixture {
    let sim = Simulator::start(SimulatorConfig {
        processing_time: Duration::from_millis(200),
        ..SimulatorConfig::default()
    })
    .await
    .expect("simulator starts");
    let cert = certificate();
    let client = client_for(&sim, &cert, Duration::from_secs(3));
    Fixture { sim, cert, client }
}

fn policy() -> TransmissionPolicy {
    TransmissionPolicy {
        min_poll_delay: Duration::from_millis(100),
        transport_pause: Duration::ZERO,
        ..TransmissionPolicy::default()
    }
}

fn only(report: &tenda_fiscal::sefaz::TransmissionReport) -> &NoteOutcome {
    assert_eq!(report.notes.len(), 1, "one note in, one outcome out");
    &report.notes[0].outcome
}

fn calls(sim: &Simulator, call: &str) -> u64 {
    sim.stats().calls.get(call).copied().unwrap_or(0)
}

#[tokio::test]
async fn status_service_over_mutual_tls() {
    let f = fixture().await;
    let status = f.client.service_status().await.expect("status answers");
    assert_eq!(status.status.code, 107);
    assert!(status.is_operating());
    f.sim.update_faults(|x| x.paused = Some(108));
    let status = f.client.service_status().await.expect("status answers");
    assert_eq!(
        status.status.code, 108,
        "a paused authorizer says so in the status"
    );
}

#[tokio::test]
async fn single_note_is_authorized_synchronously_and_nfe_proc_is_valid() {
    let f = fixture().await;
    let signed = note(&f.cert, 1);
    let transmitter = Transmitter::new(f.client.clone(), policy());
    let report = transmitter
        .transmit(vec![PendingNote::from_signed(&signed)])
        .await;
    assert_eq!(report.lotes_sent, 1);
    assert_eq!(report.availability, Availability::Available);
    let NoteOutcome::Authorized(auth) = only(&report) else {
        panic!("expected authorization, got {report:?}");
    };
    assert_eq!(auth.status.code, 100);
    assert!(!auth.late);
    let record = f
        .sim
        .note(signed.access_key.as_str())
        .expect("simulator registered the note");
    assert_eq!(
        auth.protocol_number.as_deref(),
        Some(record.protocol_number.as_str())
    );
    // The stored document is schema-valid and its signature still verifies.
    xsd::validate(Schema::NfeProc, &auth.nfe_proc).expect("nfeProc matches procNFe_v4.00.xsd");
    tenda_fiscal::xmldsig::verify(&auth.nfe_proc)
        .expect("the note's signature survives in nfeProc");
    assert_eq!(
        calls(&f.sim, "AuthorizationResult"),
        0,
        "indSinc=1 needs no polling"
    );
}

#[tokio::test]
async fn lote_is_sent_asynchronously_and_polled_oldest_first() {
    let f = fixture().await;
    let notes: Vec<SignedNfce> = (10..15).map(|n| note(&f.cert, n)).collect();
    let mut pending: Vec<PendingNote> = notes.iter().map(PendingNote::from_signed).collect();
    // Given newest first; the report comes back oldest first.
    for (i, p) in pending.iter_mut().enumerate() {
        p.issued_at -= chrono::Duration::minutes(i as i64);
    }
    pending.reverse();
    let transmitter = Transmitter::new(f.client.clone(), policy());
    let report = transmitter.transmit(pending.clone()).await;
    assert_eq!(report.lotes_sent, 1, "five notes fit one lote");
    assert!(
        calls(&f.sim, "AuthorizationResult") >= 1,
        "async lote is polled"
    );
    let mut sorted = pending;
    sorted.sort_by_key(|p| p.issued_at);
    for (report, pending) in report.notes.iter().zip(&sorted) {
        assert_eq!(report.access_key, pending.access_key, "oldest first");
        assert!(
            matches!(report.outcome, NoteOutcome::Authorized(_)),
            "{report:?}"
        );
    }
}

#[tokio::test]
async fn late_authorization_is_flagged() {
    let f = fixture().await;
    f.sim.update_faults(|x| x.late_authorization = true);
    let signed = note_with(&f.cert, 2, None, true);
    let report = Transmitter::new(f.client.clone(), policy())
        .transmit(vec![PendingNote::from_signed(&signed)])
        .await;
    let NoteOutcome::Authorized(auth) = only(&report) else {
        panic!("expected authorization, got {report:?}");
    };
    assert_eq!(auth.status.code, 150);
    assert!(auth.late, "150 means authorized after the deadline");
}

#[tokio::test]
async fn paused_sefaz_defers_notes_and_advises_contingency() {
    let f = fixture().await;
    f.sim.update_faults(|x| x.paused = Some(109));
    let transmitter = Transmitter::new(f.client.clone(), policy());
    let report = transmitter
        .transmit(vec![PendingNote::from_signed(&note(&f.cert, 3))])
        .await;
    let NoteOutcome::Deferred(deferral) = only(&report) else {
        panic!("expected deferral, got {report:?}");
    };
    assert!(
        matches!(&deferral.reason, DeferralReason::SefazUnavailable { status } if status.code == 109)
    );
    assert!(report.availability.contingency_advised());
    // The pause holds: the next run does not call SEFAZ at all.
    let before = calls(&f.sim, "Authorization");
    let again = transmitter
        .transmit(vec![PendingNote::from_signed(&note(&f.cert, 4))])
        .await;
    assert!(matches!(only(&again), NoteOutcome::Deferred(_)));
    assert_eq!(
        calls(&f.sim, "Authorization"),
        before,
        "no call while paused"
    );
    assert!(transmitter.backoff_state().paused_until.is_some());
}

#[tokio::test]
async fn denial_is_final_and_stored() {
    let f = fixture().await;
    let signed = note(&f.cert, 5);
    f.sim.update_faults(|x| {
        x.reject.insert(signed.access_key.as_str().to_string(), 110);
    });
    let report = Transmitter::new(f.client.clone(), policy())
        .transmit(vec![PendingNote::from_signed(&signed)])
        .await;
    let NoteOutcome::Denied(denial) = only(&report) else {
        panic!("expected denial, got {report:?}");
    };
    assert_eq!(denial.status.code, 110);
    assert!(denial.nfe_proc.contains("<cStat>110</cStat>"));
    assert!(
        only(&report).is_final(),
        "a denied number is consumed; never resend"
    );
}

#[tokio::test]
async fn duplicate_204_consults_and_recovers_the_protocol() {
    let f = fixture().await;
    let signed = note(&f.cert, 6);
    // The note reached SEFAZ earlier (e.g. from a run whose answer was lost).
    f.client
        .submit(1, true, &[&signed.xml])
        .await
        .expect("first submission");
    let first = f.sim.note(signed.access_key.as_str()).expect("authorized");
    let report = Transmitter::new(f.client.clone(), policy())
        .transmit(vec![PendingNote::from_signed(&signed)])
        .await;
    let NoteOutcome::Authorized(auth) = only(&report) else {
        panic!("expected the earlier authorization, got {report:?}");
    };
    assert_eq!(
        auth.protocol_number.as_deref(),
        Some(first.protocol_number.as_str())
    );
    assert!(
        calls(&f.sim, "Consult") >= 1,
        "204 is settled by consulting the key"
    );
    assert_eq!(f.sim.authority().note_count(), 1, "one sale, one document");
}

#[tokio::test]
async fn duplicate_539_points_to_the_authorized_key() {
    let f = fixture().await;
    let first = note_with(&f.cert, 7, Some(11_111_111), false);
    let second = note_with(&f.cert, 7, Some(22_222_222), false);
    assert_ne!(first.access_key, second.access_key);
    f.client
        .submit(1, true, &[&first.xml])
        .await
        .expect("first submission");
    let report = Transmitter::new(f.client.clone(), policy())
        .transmit(vec![PendingNote::from_signed(&second)])
        .await;
    match only(&report) {
        NoteOutcome::AlreadyAuthorized {
            authorized_key,
            protocol_number,
            status,
        } => {
            assert_eq!(status.code, 539);
            assert_eq!(authorized_key, first.access_key.as_str());
            assert!(protocol_number.is_some(), "the other key was consulted");
        }
        other => panic!("expected AlreadyAuthorized, got {other:?}"),
    }
    assert!(f.sim.note(second.access_key.as_str()).is_none());
}

#[tokio::test]
async fn schema_error_rejects_only_the_faulty_note() {
    let f = fixture().await;
    let good = note(&f.cert, 8);
    let mut bad = note(&f.cert, 9);
    // An element the schema does not know, inside infAdic.
    bad.xml = bad.xml.replacen("<infCpl>", "<bogus>x</bogus><infCpl>", 1);
    let report = Transmitter::new(f.client.clone(), policy())
        .transmit(vec![
            PendingNote::from_signed(&good),
            PendingNote::from_signed(&bad),
        ])
        .await;
    let by_key = |k: &str| {
        &report
            .notes
            .iter()
            .find(|n| n.access_key == k)
            .expect("reported")
            .outcome
    };
    assert!(
        matches!(by_key(good.access_key.as_str()), NoteOutcome::Authorized(_)),
        "{report:?}"
    );
    match by_key(bad.access_key.as_str()) {
        NoteOutcome::Rejected(r) => {
            assert_eq!(r.status.code, 225);
            assert_eq!(r.kind, RejectionKind::Schema);
        }
        other => panic!("expected a schema rejection, got {other:?}"),
    }
}

#[tokio::test]
async fn throttling_656_backs_off_and_stops_calling() {
    let f = fixture().await;
    f.sim.update_faults(|x| x.throttled = true);
    let transmitter = Transmitter::new(f.client.clone(), policy());
    let report = transmitter
        .transmit(vec![PendingNote::from_signed(&note(&f.cert, 10))])
        .await;
    assert!(matches!(
        report.availability,
        Availability::Throttled { .. }
    ));
    let NoteOutcome::Deferred(deferral) = only(&report) else {
        panic!("expected deferral, got {report:?}");
    };
    assert!(matches!(deferral.reason, DeferralReason::Throttled { .. }));
    assert!(
        deferral.retry_after > Utc::now() + chrono::Duration::minutes(30),
        "backs off for long"
    );
    f.sim.update_faults(|x| x.throttled = false);
    let before: u64 = f.sim.stats().calls.values().sum();
    let again = transmitter
        .transmit(vec![PendingNote::from_signed(&note(&f.cert, 11))])
        .await;
    assert!(matches!(only(&again), NoteOutcome::Deferred(_)));
    assert_eq!(
        f.sim.stats().calls.values().sum::<u64>(),
        before,
        "never hammer after 656"
    );
}

#[tokio::test]
async fn rejection_is_kept_and_an_unchanged_resend_is_refused_locally() {
    let f = fixture().await;
    let rejected = note(&f.cert, 12);
    f.sim.update_faults(|x| {
        x.reject
            .insert(rejected.access_key.as_str().to_string(), 778);
    });
    let transmitter = Transmitter::new(f.client.clone(), policy());
    let report = transmitter
        .transmit(vec![PendingNote::from_signed(&rejected)])
        .await;
    let NoteOutcome::Rejected(r) = only(&report) else {
        panic!("expected rejection, got {report:?}");
    };
    assert_eq!(r.status.code, 778);
    assert!(
        !r.status.reason.is_empty(),
        "the reason is kept for the user"
    );
    assert!(!r.repeated);
    let before = calls(&f.sim, "Authorization");
    let again = transmitter
        .transmit(vec![PendingNote::from_signed(&rejected)])
        .await;
    assert!(matches!(only(&again), NoteOutcome::Rejected(r) if r.repeated));
    assert_eq!(
        calls(&f.sim, "Authorization"),
        before,
        "the same rejected XML is not sent again"
    );

    // Corrected and re-signed with the same number and key: it goes out and is authorized.
    f.sim.update_faults(|x| x.reject.clear());
    let mut corrected_input = samples::sample_input(12, 2);
    corrected_input.issued_at = rejected.issued_at;
    corrected_input.access_code = Some(rejected.access_code);
    corrected_input.payments = samples::payments_for(&corrected_input);
    let corrected =
        nfce::resign_correction(&rejected, &corrected_input, &f.cert).expect("re-signs");
    assert_eq!(corrected.access_key, rejected.access_key);
    let report = transmitter
        .transmit(vec![PendingNote::from_signed(&corrected)])
        .await;
    assert!(
        matches!(only(&report), NoteOutcome::Authorized(_)),
        "{report:?}"
    );
}

#[tokio::test]
async fn timeout_after_commit_consults_before_resending() {
    let f = fixture().await;
    let client = client_for(&f.sim, &f.cert, Duration::from_millis(1500));
    f.sim.update_faults(|x| x.timeout_after_commit = 1);
    let signed = note(&f.cert, 13);
    let report = Transmitter::new(client, policy())
        .transmit(vec![PendingNote::from_signed(&signed)])
        .await;
    assert!(
        matches!(only(&report), NoteOutcome::Authorized(_)),
        "{report:?}"
    );
    assert_eq!(
        calls(&f.sim, "Authorization"),
        1,
        "found by consulting; not sent twice"
    );
    assert!(calls(&f.sim, "Consult") >= 1);
    assert_eq!(f.sim.authority().note_count(), 1);
}

#[tokio::test]
async fn doubtful_note_unknown_to_sefaz_is_consulted_then_sent() {
    let f = fixture().await;
    let mut pending = PendingNote::from_signed(&note(&f.cert, 16));
    pending.consult_first = true;
    let report = Transmitter::new(f.client.clone(), policy())
        .transmit(vec![pending])
        .await;
    assert!(
        matches!(only(&report), NoteOutcome::Authorized(_)),
        "{report:?}"
    );
    assert_eq!(
        calls(&f.sim, "Consult"),
        1,
        "consulted first (217: not there)"
    );
    assert_eq!(calls(&f.sim, "Authorization"), 1, "then sent once");
}

#[tokio::test]
async fn unreachable_sefaz_defers_without_doubt() {
    let f = fixture().await;
    f.sim.stop();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let report = Transmitter::new(f.client.clone(), policy())
        .transmit(vec![PendingNote::from_signed(&note(&f.cert, 14))])
        .await;
    let NoteOutcome::Deferred(deferral) = only(&report) else {
        panic!("expected deferral, got {report:?}");
    };
    assert!(matches!(deferral.reason, DeferralReason::Transport { .. }));
    assert!(!deferral.consult_first, "nothing reached SEFAZ");
    assert!(report.availability.contingency_advised());
}

#[tokio::test]
async fn html_and_broken_answers_are_typed_and_nothing_is_lost() {
    let f = fixture().await;
    f.sim.update_faults(|x| x.down = true);
    match f.client.service_status().await {
        Err(SefazError::Response(ResponseError::NotSoap {
            http_status: 503, ..
        })) => {}
        other => panic!("expected NotSoap 503, got {other:?}"),
    }
    f.sim.update_faults(|x| x.down = false);
    for (malformation, check) in [
        (
            Malformation::Truncated,
            (|e: &ResponseError| matches!(e, ResponseError::Xml(_))) as fn(&ResponseError) -> bool,
        ),
        (Malformation::WrongNamespace, |e| {
            matches!(e, ResponseError::WrongNamespace { .. })
        }),
        (Malformation::HtmlPage, |e| {
            matches!(
                e,
                ResponseError::NotSoap {
                    http_status: 200,
                    ..
                }
            )
        }),
        (Malformation::Empty, |e| {
            matches!(e, ResponseError::NotSoap { .. })
        }),
    ] {
        f.sim
            .update_faults(|x| x.malformed_answers = Some(malformation));
        match f.client.service_status().await {
            Err(SefazError::Response(e)) => assert!(check(&e), "{malformation:?} gave {e:?}"),
            other => panic!("{malformation:?}: expected a response error, got {other:?}"),
        }
    }
    // A broken answer to a lote: the note was processed; the transmitter must not lose it
    // and must consult before sending again.
    f.sim
        .update_faults(|x| x.malformed_answers = Some(Malformation::Truncated));
    let signed = note(&f.cert, 15);
    let report = Transmitter::new(f.client.clone(), policy())
        .transmit(vec![PendingNote::from_signed(&signed)])
        .await;
    let NoteOutcome::Deferred(deferral) = only(&report) else {
        panic!("expected deferral, got {report:?}");
    };
    assert!(deferral.consult_first, "the lote may have been processed");
    f.sim.update_faults(|x| x.malformed_answers = None);
    let mut retry = PendingNote::from_signed(&signed);
    retry.consult_first = deferral.consult_first;
    let report = Transmitter::new(f.client.clone(), policy())
        .transmit(vec![retry])
        .await;
    assert!(
        matches!(only(&report), NoteOutcome::Authorized(_)),
        "{report:?}"
    );
    assert_eq!(
        calls(&f.sim, "Authorization"),
        1,
        "settled by consulting, not resent"
    );
}

#[tokio::test]
async fn cancellation_events_follow_the_rules() {
    let sim = Simulator::start(SimulatorConfig::default())
        .await
        .expect("starts");
    let cert = certificate();
    let client = client_for(&sim, &cert, Duration::from_secs(3));
    let signed = note(&cert, 20);
    let report = Transmitter::new(client.clone(), policy())
        .transmit(vec![PendingNote::from_signed(&signed)])
        .await;
    let NoteOutcome::Authorized(auth) = only(&report) else {
        panic!("expected authorization, got {report:?}");
    };
    let cancellation = nfce::Cancellation {
        access_key: signed.access_key.clone(),
        environment: Environment::Homologation,
        protocol: auth.protocol_number.clone().expect("nProt"),
        authorized_at: auth.received_at,
        requested_at: now_brt(),
        justification: "Cliente desistiu da compra no caixa".into(),
        sequence: 1,
    };
    let event = nfce::build_cancellation(&cancellation, CancellationWindow::default(), &cert)
        .expect("cancellation signs");
    let answer = client
        .send_events(1, &[&event.xml])
        .await
        .expect("event answered");
    assert_eq!(answer.status.code, 128);
    assert_eq!(answer.results[0].status.code, 135, "{answer:?}");
    assert!(answer.results[0].is_registered());
    let proc = tenda_fiscal::sefaz::event_proc(&event.xml, &answer.results[0].xml);
    xsd::validate(Schema::ProcEventoCancelamento, &proc).expect("procEventoNFe is schema-valid");
    let query = client
        .consult(signed.access_key.as_str())
        .await
        .expect("consult");
    assert_eq!(query.status.code, 101, "consult reports the cancellation");
    assert_eq!(query.events.len(), 1);

    // The same event again is a duplicate.
    let again = client
        .send_events(2, &[&event.xml])
        .await
        .expect("answered");
    assert_eq!(again.results[0].status.code, 573);

    // A note SEFAZ never authorized cannot be cancelled.
    let unknown = note(&cert, 21);
    let c = nfce::Cancellation {
        access_key: unknown.access_key.clone(),
        ..cancellation.clone()
    };
    let event = nfce::build_cancellation(&c, CancellationWindow::default(), &cert).expect("signs");
    let answer = client
        .send_events(3, &[&event.xml])
        .await
        .expect("answered");
    assert_eq!(answer.results[0].status.code, 217);
    assert!(!answer.results[0].is_registered());
}

#[tokio::test]
async fn cancellation_outside_the_window_and_substitution() {
    let sim = Simulator::start(SimulatorConfig {
        cancellation_window: Duration::ZERO,
        ..SimulatorConfig::default()
    })
    .await
    .expect("starts");
    let cert = certificate();
    let client = client_for(&sim, &cert, Duration::from_secs(3));
    let transmitter = Transmitter::new(client.clone(), policy());
    let original = note(&cert, 30);
    let substitute = note(&cert, 31);
    let report = transmitter
        .transmit(vec![
            PendingNote::from_signed(&original),
            PendingNote::from_signed(&substitute),
        ])
        .await;
    assert!(
        report
            .notes
            .iter()
            .all(|n| matches!(n.outcome, NoteOutcome::Authorized(_))),
        "{report:?}"
    );
    let NoteOutcome::Authorized(auth) = &report
        .notes
        .iter()
        .find(|n| n.access_key == original.access_key.as_str())
        .expect("reported")
        .outcome
    else {
        unreachable!("checked above");
    };
    let cancellation = nfce::Cancellation {
        access_key: original.access_key.clone(),
        environment: Environment::Homologation,
        protocol: auth.protocol_number.clone().expect("nProt"),
        authorized_at: auth.received_at,
        requested_at: now_brt(),
        justification: "Nota emitida com valor incorreto".into(),
        sequence: 1,
    };
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let event = nfce::build_cancellation(&cancellation, CancellationWindow::default(), &cert)
        .expect("signs");
    let answer = client
        .send_events(1, &[&event.xml])
        .await
        .expect("answered");
    assert_eq!(
        answer.results[0].status.code, 501,
        "the simulator's window is zero"
    );

    let sim2 = Simulator::start(SimulatorConfig::default())
        .await
        .expect("starts");
    let client2 = client_for(&sim2, &cert, Duration::from_secs(3));
    let report = Transmitter::new(client2.clone(), policy())
        .transmit(vec![
            PendingNote::from_signed(&original),
            PendingNote::from_signed(&substitute),
        ])
        .await;
    let NoteOutcome::Authorized(auth) = &report
        .notes
        .iter()
        .find(|n| n.access_key == original.access_key.as_str())
        .expect("reported")
        .outcome
    else {
        panic!("expected authorization, got {report:?}");
    };
    let substitution = nfce::SubstitutionCancellation {
        cancellation: nfce::Cancellation {
            protocol: auth.protocol_number.clone().expect("nProt"),
            authorized_at: auth.received_at,
            requested_at: now_brt(),
            ..cancellation
        },
        substitute_key: substitute.access_key.clone(),
        software_version: "tenda 0.1.0".into(),
    };
    let event =
        nfce::build_substitution_cancellation(&substitution, CancellationWindow::default(), &cert)
            .expect("signs");
    let answer = client2
        .send_events(1, &[&event.xml])
        .await
        .expect("answered");
    assert_eq!(answer.results[0].status.code, 135, "{answer:?}");
}

#[tokio::test]
async fn inutilizacao_registers_ranges_and_refuses_overlaps() {
    let f = fixture().await;
    let used = note(&f.cert, 40);
    f.client
        .submit(1, true, &[&used.xml])
        .await
        .expect("authorized");
    let request = |first: u32, last: u32| nfce::Inutilizacao {
        uf: Uf::SP,
        environment: Environment::Homologation,
        cnpj: samples::SAMPLE_CNPJ.into(),
        year: 2026,
        series: 1,
        first,
        last,
        justification: "Numeracao pulada por falha do equipamento".into(),
    };
    let signed = nfce::build_inutilizacao(&request(41, 45), &f.cert, now_brt()).expect("signs");
    let answer = f.client.inutilize(&signed.xml).await.expect("answered");
    assert_eq!(answer.status.code, 102);
    assert!(answer.is_voided());
    assert!(answer.protocol_number.is_some());
    let proc = tenda_fiscal::sefaz::inutilization_proc(&signed.xml, &answer.xml);
    xsd::validate(Schema::ProcInutNfe, &proc).expect("procInutNFe is schema-valid");

    let overlap = nfce::build_inutilizacao(&request(44, 50), &f.cert, now_brt()).expect("signs");
    assert_eq!(
        f.client
            .inutilize(&overlap.xml)
            .await
            .expect("answered")
            .status
            .code,
        256
    );
    let with_used = nfce::build_inutilizacao(&request(39, 40), &f.cert, now_brt()).expect("signs");
    assert_eq!(
        f.client
            .inutilize(&with_used.xml)
            .await
            .expect("answered")
            .status
            .code,
        241
    );
    // A number voided cannot be issued afterwards.
    let voided = f
        .client
        .submit(2, true, &[&note(&f.cert, 42).xml])
        .await
        .expect("answered");
    match voided {
        tenda_fiscal::sefaz::SubmissionAnswer::Processed { protocols, .. } => {
            assert_eq!(protocols[0].status.code, 206)
        }
        other => panic!("expected a processed answer, got {other:?}"),
    }
}

#[tokio::test]
async fn client_without_a_valid_certificate_is_refused() {
    let sim = Simulator::start(SimulatorConfig::default())
        .await
        .expect("starts");
    let key = rcgen_key();
    let mut params =
        rcgen::CertificateParams::new(vec!["expired.example".to_string()]).expect("params");
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    let cert = params.self_signed(&key).expect("self-signed");
    let identity =
        ClientIdentity::from_der(vec![cert.der().to_vec()], key.serialize_der()).expect("identity");
    let mut settings = ClientSettings::new(Uf::SP, Environment::Homologation);
    settings.endpoints = Endpoints::at_base_url(&sim.base_url());
    let client = SefazClient::new(
        &identity,
        &TrustRoots::only(vec![sim.ca_certificate_der().to_vec()]),
        settings,
    )
    .expect("client builds");
    assert!(
        client.service_status().await.is_err(),
        "an expired client certificate fails TLS"
    );
    assert!(sim.stats().calls.is_empty(), "no call got through");
}

fn rcgen_key() -> rcgen::KeyPair {
    rcgen::KeyPair::generate().expect("key")
}

#[tokio::test]
async fn admin_api_switches_faults() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let sim = Simulator::start_with(StartOptions {
        admin: Some("127.0.0.1:0".parse().expect("addr")),
        ..StartOptions::default()
    })
    .await
    .expect("starts");
    let cert = certificate();
    let client = client_for(&sim, &cert, Duration::from_secs(3));
    let admin = sim.admin_url().expect("admin enabled");
    let http = reqwest::Client::new();
    let faults = Faults {
        paused: Some(108),
        ..Faults::default()
    };
    let put = http
        .put(format!("{admin}/faults"))
        .header("content-type", "application/json")
        .body(serde_json::to_string(&faults).expect("json"))
        .send()
        .await
        .expect("admin answers");
    assert!(put.status().is_success());
    assert_eq!(
        client.service_status().await.expect("status").status.code,
        108
    );
    http.post(format!("{admin}/faults/reset"))
        .send()
        .await
        .expect("reset");
    assert_eq!(
        client.service_status().await.expect("status").status.code,
        107
    );
    let stats: serde_json::Value = http
        .get(format!("{admin}/stats"))
        .send()
        .await
        .expect("stats")
        .json()
        .await
        .expect("json");
    assert_eq!(stats["calls"]["Status"], 2);
}

// ---- The simulator's own behaviour, through its Rust API ----

mod simulator {
    use super::*;
    use tenda_sefaz_sim::{Authority, Call};

    const NFE_NS: &str = "http://www.portalfiscal.inf.br/nfe";

    fn lote(notes: &[&str], synchronous: bool) -> String {
        format!(
            r#"<enviNFe xmlns="{NFE_NS}" versao="4.00"><idLote>1</idLote><indSinc>{}</indSinc>{}</enviNFe>"#,
            u8::from(synchronous),
            notes.concat()
        )
    }

    fn cstat(answer: &str) -> Vec<u16> {
        answer
            .match_indices("<cStat>")
            .map(|(i, _)| answer[i + 7..i + 10].parse().expect("three digits"))
            .collect()
    }

    #[tokio::test]
    async fn every_answer_matches_its_schema() {
        let authority = Authority::new(SimulatorConfig {
            processing_time: Duration::ZERO,
            ..SimulatorConfig::default()
        });
        let cert = certificate();
        let status = authority.handle(
            Call::Status,
            &format!(r#"<consStatServ xmlns="{NFE_NS}" versao="4.00"><tpAmb>2</tpAmb><cUF>35</cUF><xServ>STATUS</xServ></consStatServ>"#),
        );
        xsd::validate(Schema::RetConsStatServ, &status.message).expect("retConsStatServ");
        let signed = note(&cert, 50);
        let sent = authority.handle(Call::Authorization, &lote(&[&signed.xml], false));
        xsd::validate(Schema::RetEnviNfe, &sent.message).expect("retEnviNFe (async)");
        let receipt = sent
            .message
            .split("<nRec>")
            .nth(1)
            .and_then(|r| r.get(..15))
            .expect("nRec");
        let result = authority.handle(
            Call::AuthorizationResult,
            &format!(r#"<consReciNFe xmlns="{NFE_NS}" versao="4.00"><tpAmb>2</tpAmb><nRec>{receipt}</nRec></consReciNFe>"#),
        );
        xsd::validate(Schema::RetConsReciNfe, &result.message).expect("retConsReciNFe");
        assert_eq!(cstat(&result.message), vec![104, 100]);
        let sync = authority.handle(Call::Authorization, &lote(&[&note(&cert, 51).xml], true));
        xsd::validate(Schema::RetEnviNfe, &sync.message).expect("retEnviNFe (sync)");
        let consult = authority.handle(
            Call::Consult,
            &format!(r#"<consSitNFe xmlns="{NFE_NS}" versao="4.00"><tpAmb>2</tpAmb><xServ>CONSULTAR</xServ><chNFe>{}</chNFe></consSitNFe>"#, signed.access_key.as_str()),
        );
        xsd::validate(Schema::RetConsSitNfe, &consult.message).expect("retConsSitNFe");
        let inut = nfce::build_inutilizacao(
            &nfce::Inutilizacao {
                uf: Uf::SP,
                environment: Environment::Homologation,
                cnpj: samples::SAMPLE_CNPJ.into(),
                year: 2026,
                series: 1,
                first: 60,
                last: 61,
                justification: "Numeracao pulada por falha do equipamento".into(),
            },
            &cert,
            now_brt(),
        )
        .expect("signs");
        let answer = authority.handle(Call::Inutilization, &inut.xml);
        xsd::validate(Schema::RetInutNfe, &answer.message).expect("retInutNFe");
        assert_eq!(cstat(&answer.message), vec![102]);
        // Status-only answers (656, 108) are schema-valid too.
        authority.update_faults(|f| f.throttled = true);
        for (call, schema, message) in [
            (
                Call::Status,
                Schema::RetConsStatServ,
                format!(
                    r#"<consStatServ xmlns="{NFE_NS}" versao="4.00"><tpAmb>2</tpAmb><cUF>35</cUF><xServ>STATUS</xServ></consStatServ>"#
                ),
            ),
            (
                Call::Authorization,
                Schema::RetEnviNfe,
                lote(&[&note(&cert, 52).xml], false),
            ),
            (
                Call::AuthorizationResult,
                Schema::RetConsReciNfe,
                format!(
                    r#"<consReciNFe xmlns="{NFE_NS}" versao="4.00"><tpAmb>2</tpAmb><nRec>{receipt}</nRec></consReciNFe>"#
                ),
            ),
            (Call::Inutilization, Schema::RetInutNfe, inut.xml.clone()),
        ] {
            let answer = authority.handle(call, &message);
            assert_eq!(cstat(&answer.message), vec![656]);
            xsd::validate(schema, &answer.message).unwrap_or_else(|e| panic!("{call:?}: {e}"));
        }
    }

    #[tokio::test]
    async fn checks_signature_check_digit_and_environment() {
        let authority = Authority::new(SimulatorConfig::default());
        let cert = certificate();
        let signed = note(&cert, 70);
        // A value changed after signing (still schema-valid): the digest no longer matches.
        let tampered = signed.xml.replacen(
            "<xFant>Mercadinho Tenda</xFant>",
            "<xFant>Mercadinho Tendo</xFant>",
            1,
        );
        assert_ne!(
            tampered, signed.xml,
            "the sample has a trade name to tamper with"
        );
        let answer = authority.handle(Call::Authorization, &lote(&[&tampered], true));
        assert_eq!(cstat(&answer.message), vec![104, 297]);
        // A wrong check digit in the key.
        let key = signed.access_key.as_str();
        let wrong_dv = (key.as_bytes()[43] - b'0' + 1) % 10;
        let bad_key = format!("{}{wrong_dv}", &key[..43]);
        let answer = authority.handle(
            Call::Authorization,
            &lote(&[&signed.xml.replace(key, &bad_key)], true),
        );
        assert_eq!(cstat(&answer.message), vec![104, 236]);
        // Homologation simulator, production request.
        let production = Authority::new(SimulatorConfig {
            environment: Environment::Production,
            ..SimulatorConfig::default()
        });
        let answer = production.handle(Call::Authorization, &lote(&[&signed.xml], true));
        assert_eq!(cstat(&answer.message), vec![104, 252]);
        // Not a lote at all.
        let answer = authority.handle(Call::Authorization, "<enviNFe><idLote>1</idLote></enviNFe>");
        assert_eq!(cstat(&answer.message), vec![565]);
        assert_eq!(authority.note_count(), 0, "nothing invalid is registered");
    }

    #[tokio::test]
    async fn consumption_rules_earn_656() {
        let authority = Authority::new(SimulatorConfig {
            max_requests_per_second: 3,
            ..SimulatorConfig::default()
        });
        let status = format!(
            r#"<consStatServ xmlns="{NFE_NS}" versao="4.00"><tpAmb>2</tpAmb><cUF>35</cUF><xServ>STATUS</xServ></consStatServ>"#
        );
        let codes: Vec<u16> = (0..5)
            .map(|_| cstat(&authority.handle(Call::Status, &status).message)[0])
            .collect();
        assert_eq!(
            codes,
            vec![107, 107, 107, 656, 656],
            "over the rate, then blocked"
        );
        authority.unblock();

        // A rejected note sent again unchanged.
        let cert = certificate();
        let signed = note(&cert, 80);
        let authority = Authority::new(SimulatorConfig::default());
        authority.update_faults(|f| {
            f.reject.insert(signed.access_key.as_str().to_string(), 778);
        });
        let codes: Vec<u16> = (0..3)
            .map(|_| {
                *cstat(
                    &authority
                        .handle(Call::Authorization, &lote(&[&signed.xml], true))
                        .message,
                )
                .last()
                .expect("cStat")
            })
            .collect();
        assert_eq!(
            codes,
            vec![778, 778, 656],
            "one unchanged resend is tolerated, the next is not"
        );
    }
}
