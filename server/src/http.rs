//! HTTP routes: the device sync endpoints and the back-office API.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::HeaderMap;
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
                Error::TooLarge(format!("the body exceeds {MAX_BODY_BYTES} bytes"))
            } else {
                Error::invalid("body", e.body_text())
            }
        })?;
        // The protocol version is checked first, so a future client hears that rather than a
        // shape error; only that field is read into a JSON value, the body is then read once
        // straight into its typed form.
        match serde_json::from_slice::<ProtocolProbe>(&bytes) {
            Ok(probe) => {
                if let Some(v) = probe.protocol {
                    check_protocol(&serde_json::json!({ "protocol": v }))?;
                }
            }
            Err(e) if e.is_data() => {} // not an object: the typed read names the problem
            Err(e) => return Err(Error::invalid("body", format!("malformed JSON: {e}"))),
        }
        let typed = serde_json::from_slice(&bytes).map_err(|e| {
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

pub fn router(state: AppState) -> Router {
    let hub_routes = if state.hub.is_some() {
        crate::hub::hub_routes()
    } else {
        Router::new()
    };
    Router::new()
        .merge(hub_routes)
        .merge(crate::hub::routes())
        .route(paths::HEALTH, get(health))
        .route(paths::ENROLL, post(enroll))
        .route(paths::PUSH, post(push))
        .route(paths::PULL, post(pull))
        .merge(backoffice::routes())
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
    JsonBody(req): JsonBody<EnrollRequest>,
) -> Result<Json<tenda_sync::protocol::EnrollResponse>, Error> {
    st.db
        .run(move |conn| crate::enroll::enroll(conn, &req))
        .await
        .map(Json)
}

async fn push(
    State(st): State<AppState>,
    headers: HeaderMap,
    body: Result<JsonBody<crate::mutation::PushBody>, Error>,
) -> Result<Json<tenda_sync::protocol::PushResponse>, Error> {
    // Authentication first: an unauthenticated caller learns nothing about the body's validity.
    let secret = bearer(&headers)?;
    let db = st.db.clone();
    let device = db
        .run(move |conn| authenticate_device(conn, &secret))
        .await?;
    let JsonBody(req) = body?;
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
    headers: HeaderMap,
    body: Result<JsonBody<PullRequest>, Error>,
) -> Result<Json<tenda_sync::protocol::PullPage>, Error> {
    let secret = bearer(&headers)?;
    let device = st
        .db
        .run(move |conn| authenticate_device(conn, &secret))
        .await?;
    let JsonBody(req) = body?;
    if let Some(hub) = &st.hub {
        hub.check_serving()?;
        hub.touch(&device);
    }
    st.db
        .run(move |conn| crate::pull::pull(conn, &device, &req))
        .await
        .map(Json)
}
