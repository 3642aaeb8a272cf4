//! HTTP faces of the simulator: the SOAP endpoints (mTLS) and the admin API (plain, loopback).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use tenda_fiscal::sefaz::xml::{self, SOAP12_NS};

use crate::authority::{Authority, Call};
use crate::faults::{Faults, Malformation};

const HTML_503: &str = "<!DOCTYPE html><html><head><title>503 Service Unavailable</title></head><body><h1>Service Unavailable</h1><p>The server is temporarily unable to service your request.</p></body></html>";
const HTML_404: &str = "<!DOCTYPE html><html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>";

pub(crate) fn soap_router(authority: Arc<Authority>) -> Router {
    Router::new()
        .route("/ws/{service}", post(soap_call))
        .fallback(|| async { html(StatusCode::NOT_FOUND, HTML_404) })
        .with_state(authority)
}

fn html(status: StatusCode, body: &'static str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

fn soap(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/soap+xml; charset=utf-8")],
        body,
    )
        .into_response()
}

fn fault(code: &str, reason: &str) -> Response {
    soap(
        if code == "soap:Sender" {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::INTERNAL_SERVER_ERROR
        },
        format!(
            r#"<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{SOAP12_NS}"><soap:Body><soap:Fault><soap:Code><soap:Value>{code}</soap:Value></soap:Code><soap:Reason><soap:Text xml:lang="pt-BR">{}</soap:Text></soap:Reason></soap:Fault></soap:Body></soap:Envelope>"#,
            xml::escape(reason)
        ),
    )
}

async fn soap_call(
    State(authority): State<Arc<Authority>>,
    Path(service): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let faults = authority.faults();
    if faults.down {
        return html(StatusCode::SERVICE_UNAVAILABLE, HTML_503);
    }
    if faults.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(faults.latency_ms)).await;
    }
    let operation = service.trim_end_matches(".asmx");
    let Some(call) = Call::from_operation(operation) else {
        return html(StatusCode::NOT_FOUND, HTML_404);
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type.starts_with("application/soap+xml") {
        return fault(
            "soap:Sender",
            "Content-Type must be application/soap+xml (SOAP 1.2)",
        );
    }
    let Ok(text) = std::str::from_utf8(&body) else {
        return fault("soap:Sender", "request is not UTF-8");
    };
    let message_namespace = format!("http://www.portalfiscal.inf.br/nfe/wsdl/{operation}");
    let message = match extract_message(text, &message_namespace) {
        Ok(m) => m,
        Err(reason) => return fault("soap:Sender", &reason),
    };
    let worker = authority.clone();
    let reply = match tokio::task::spawn_blocking(move || worker.handle(call, &message)).await {
        Ok(reply) => reply,
        Err(_) => return fault("soap:Receiver", "internal error"),
    };
    if reply.hang {
        // Committed, but the answer never comes: the client's timeout fires first.
        tokio::time::sleep(authority.config().hang_for).await;
    }
    let envelope = format!(
        r#"<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{SOAP12_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"><soap:Body><nfeResultMsg xmlns="{message_namespace}">{}</nfeResultMsg></soap:Body></soap:Envelope>"#,
        reply.message
    );
    match authority.faults().malformed_answers {
        None => soap(StatusCode::OK, envelope),
        Some(Malformation::Truncated) => {
            let mut cut = envelope.len() * 2 / 3;
            while !envelope.is_char_boundary(cut) {
                cut -= 1;
            }
            soap(StatusCode::OK, envelope[..cut].to_string())
        }
        Some(Malformation::WrongNamespace) => soap(
            StatusCode::OK,
            envelope.replace(
                "http://www.portalfiscal.inf.br/nfe\"",
                "http://www.portalfiscal.inf.br/nfe/v9\"",
            ),
        ),
        Some(Malformation::HtmlPage) => html(
            StatusCode::OK,
            "<html><head><title>Login</title></head><body>Captive portal</body></html>",
        ),
        Some(Malformation::Empty) => soap(StatusCode::OK, String::new()),
    }
}

/// The NF-e message inside `Envelope/Body/nfeDadosMsg`, as sent (namespaces declared on
/// the envelope are carried over so the message stands alone).
fn extract_message(text: &str, message_namespace: &str) -> Result<String, String> {
    let root = xml::parse(text).map_err(|e| format!("malformed envelope: {e}"))?;
    if !root.is(SOAP12_NS, "Envelope") {
        return Err("expected a SOAP 1.2 Envelope".into());
    }
    let body = root.child("Body").ok_or("Envelope without Body")?;
    let data = body
        .child("nfeDadosMsg")
        .ok_or("Body without nfeDadosMsg")?;
    if data.namespace.as_deref() != Some(message_namespace) {
        return Err(format!(
            "nfeDadosMsg must be in namespace {message_namespace}"
        ));
    }
    let message = data.children.first().ok_or("nfeDadosMsg is empty")?;
    let raw = &text[message.span.clone()];
    let declares_own = raw
        .split('>')
        .next()
        .is_some_and(|tag| tag.contains("xmlns=\""));
    if declares_own || message.namespace.is_none() {
        Ok(raw.to_string())
    } else {
        Ok(xml::serialize_in_default_namespace(message))
    }
}

pub(crate) fn admin_router(authority: Arc<Authority>) -> Router {
    Router::new()
        .route("/faults", get(get_faults).put(put_faults))
        .route("/faults/reset", post(reset_faults))
        .route("/reject/{key}/{cstat}", put(reject_note))
        .route("/stats", get(stats))
        .route("/notes/{key}", get(note))
        .route("/unblock", post(unblock))
        .with_state(authority)
}

async fn get_faults(State(a): State<Arc<Authority>>) -> Json<Faults> {
    Json(a.faults())
}

async fn put_faults(State(a): State<Arc<Authority>>, Json(faults): Json<Faults>) -> Json<Faults> {
    a.set_faults(faults);
    Json(a.faults())
}

async fn reset_faults(State(a): State<Arc<Authority>>) -> Json<Faults> {
    a.set_faults(Faults::default());
    Json(a.faults())
}

async fn reject_note(
    State(a): State<Arc<Authority>>,
    Path((key, cstat)): Path<(String, u16)>,
) -> Json<Faults> {
    a.update_faults(|f| {
        f.reject.insert(key, cstat);
    });
    Json(a.faults())
}

async fn stats(State(a): State<Arc<Authority>>) -> Response {
    Json(a.stats()).into_response()
}

async fn note(State(a): State<Arc<Authority>>, Path(key): Path<String>) -> Response {
    match a.note(&key) {
        Some(record) => Json(record).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn unblock(State(a): State<Arc<Authority>>) -> StatusCode {
    a.unblock();
    StatusCode::NO_CONTENT
}
