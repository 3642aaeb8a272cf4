//! HTTP routes: the device sync endpoints and the back-office API.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use tenda_sync::protocol::{EnrollRequest, PullRequest, check_protocol, paths};

use crate::auth::{authenticate_device, bearer};
use crate::backoffice;
use crate::db::Db;
use crate::error::Error;

/// Largest request body accepted (a push of [`tenda_sync::protocol::MAX_PUSH_BATCH`] large
/// sales, or a big catalog CSV).
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// Largest body a caller without a credential can make the server hold (a login or an
/// enrollment request is a few hundred bytes).
pub const UNAUTHENTICATED_BODY_BYTES: usize = 16 * 1024;

/// The back-office sign-in: the one admin route open without a token.
pub const LOGIN_PATH: &str = "/api/v1/admin/login";

#[derive(Clone, Debug)]
pub struct AppState {
    pub db: Db,
    /// Set when this server is a store hub (`crate::hub`).
    pub hub: Option<std::sync::Arc<crate::hub::HubState>>,
}

/// A JSON body whose every failure (too large, not JSON, future protocol, wrong field) becomes a
/// typed 4xx with a message naming the problem.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                Error::TooLarge("the body is too large for this request".into())
            } else {
                Error::invalid("body", e.body_text())
            }
        })?;
        JsonBody::parse(&bytes)
    }
}

impl<T: DeserializeOwned> JsonBody<T> {
    /// Reads a JSON body already in memory.
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        // The protocol version is checked first, so a future client hears that rather than a
        // shape error; only that field is read into a JSON value, the body is then read once
        // straight into its typed form.
        match serde_json::from_slice::<ProtocolProbe>(bytes) {
            Ok(probe) => {
                if let Some(v) = probe.protocol {
                    check_protocol(&serde_json::json!({ "protocol": v }))?;
                }
            }
            Err(e) if e.is_data() => {} // not an object: the typed read names the problem
            Err(e) => return Err(Error::invalid("body", format!("malformed JSON: {e}"))),
        }
        let typed = serde_json::from_slice(bytes).map_err(|e| {
            if e.is_data() {
                Error::invalid("body", format!("wrong shape: {e}"))
            } else {
                Error::invalid("body", format!("malformed JSON: {e}"))
            }
        })?;
        Ok(JsonBody(typed))
    }
}

/// The one field read before the body's shape is known.
#[derive(serde::Deserialize)]
struct ProtocolProbe {
    // Present-but-null is kept as `Some(Null)` so it is refused like any other non-number.
    #[serde(default, deserialize_with = "present")]
    protocol: Option<serde_json::Value>,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<serde_json::Value>, D::Error> {
    <serde_json::Value as serde::Deserialize>::deserialize(d).map(Some)
}

/// The caller's address (`unknown` when the server runs without connection info).
#[derive(Debug, Clone)]
pub struct SourceIp(pub String);

impl<S: Send + Sync> FromRequestParts<S> for SourceIp {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(SourceIp(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map_or_else(|| "unknown".to_owned(), |c| c.0.ip().to_string()),
        ))
    }
}

/// `axum::extract::Path` whose refusal is a JSON error like every other.
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Path(p.0))
            .map_err(|e| Error::invalid("path", e.body_text()))
    }
}

/// `axum::extract::Query` whose refusal is a JSON error like every other.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Query(q.0))
            .map_err(|e| Error::invalid("query", e.body_text()))
    }
}

/// Back-office requests prove their token before their body is read: without one, the server
/// holds at most [`UNAUTHENTICATED_BODY_BYTES`] of it.
async fn admin_token_first(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if !path.starts_with("/api/v1/admin/") || path == LOGIN_PATH {
        return next.run(req).await;
    }
    let secret = match bearer(req.headers()) {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    let checked = st
        .db
        .run(move |conn| crate::auth::authenticate_user(conn, &secret, crate::db::now_ms()))
        .await;
    match checked {
        Ok(_) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

async fn not_found() -> Error {
    Error::NotFound("route".into())
}

async fn method_not_allowed() -> Response {
    let body = tenda_sync::protocol::ErrorBody {
        code: tenda_sync::protocol::ErrorCode::InvalidInput,
        message: "this route does not take that method".into(),
        field: Some("method".into()),
        expected_seq: None,
        seq: None,
        rule: None,
    };
    (axum::http::StatusCode::METHOD_NOT_ALLOWED, Json(body)).into_response()
}

pub fn router(state: AppState) -> Router {
    let hub_routes = if state.hub.is_some() {
        crate::hub::hub_routes()
    } else {
        Router::new()
    };
    let small = axum::extract::DefaultBodyLimit::max(UNAUTHENTICATED_BODY_BYTES);
    Router::new()
        .merge(hub_routes)
        .merge(crate::hub::routes())
        .route(paths::HEALTH, get(health))
        .route(paths::ENROLL, post(enroll).layer(small))
        .route(paths::PUSH, post(push))
        .route(paths::PULL, post(pull))
        .route(LOGIN_PATH, post(crate::backoffice::login).layer(small))
        .merge(backoffice::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            admin_token_first,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

async fn health(State(st): State<AppState>) -> Json<serde_json::Value> {
    Json(
        serde_json::json!({"status": "ok", "protocol": tenda_sync::PROTOCOL_VERSION, "database": st.db.backend_name()}),
    )
}

async fn enroll(
    State(st): State<AppState>,
    source: SourceIp,
    JsonBody(req): JsonBody<EnrollRequest>,
) -> Result<Json<tenda_sync::protocol::EnrollResponse>, Error> {
    st.db
        .run(move |conn| {
            // Guessing codes is slowed like guessing passwords, per source address.
            let scope = format!("enroll-from:{}", source.0);
            let now = crate::db::now_ms();
            crate::throttle::check(conn, &[&scope], now)?;
            match crate::enroll::enroll(conn, &req) {
                Err(e @ Error::Unauthorized(_)) => {
                    crate::throttle::fail(conn, &scope, crate::throttle::SOURCE, now)?;
                    Err(e)
                }
                other => other,
            }
        })
        .await
        .map(Json)
}

/// Authenticates the device from the headers, and only then reads the body.
async fn device_then_body<T: DeserializeOwned>(
    st: &AppState,
    req: Request,
) -> Result<(crate::auth::AuthedDevice, T), Error> {
    let (parts, body) = req.into_parts();
    let secret = bearer(&parts.headers)?;
    let device = st
        .db
        .run(move |conn| authenticate_device(conn, &secret))
        .await?;
    // Read under the router's body limit, as any JSON body.
    let JsonBody(typed) = JsonBody::from_request(Request::from_parts(parts, body), &()).await?;
    Ok((device, typed))
}

async fn push(
    State(st): State<AppState>,
    req: Request,
) -> Result<Json<tenda_sync::protocol::PushResponse>, Error> {
    // Authentication first: an unauthenticated caller learns nothing about the body, and the
    // server holds none of it.
    let (device, req) = device_then_body::<crate::mutation::PushBody>(&st, req).await?;
    if let Some(hub) = st.hub.clone() {
        return crate::hub::push(hub, device, req).await.map(Json);
    }
    st.db
        .run(move |conn| crate::push::push(conn, &device, &req))
        .await
        .map(Json)
}

async fn pull(
    State(st): State<AppState>,
    req: Request,
) -> Result<Json<tenda_sync::protocol::PullPage>, Error> {
    let (device, req) = device_then_body::<PullRequest>(&st, req).await?;
    if let Some(hub) = &st.hub {
        hub.check_serving()?;
        hub.touch(&device);
    }
    st.db
        .run(move |conn| crate::pull::pull(conn, &device, &req))
        .await
        .map(Json)
}
