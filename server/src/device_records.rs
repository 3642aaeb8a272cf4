//! What devices recorded beyond sales, ledgers and cash, as the back office reads it: numbers
//! declared unused, notes cancelled by substitution, offline card payments forwarded (approved
//! or declined, to collect) and the devices' audit trail — each kept as pushed in
//! `device_records`.

use crate::http::Query;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::auth::Permission;
use crate::backoffice::as_user;
use crate::error::Error;
use crate::http::AppState;
use crate::schema::device_records;
use crate::with_conn;

/// Most records one call returns.
const MAX_LIMIT: i64 = 1_000;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/admin/device-records", get(list_device_records))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordsQuery {
    /// A mutation kind, e.g. `card_payment_forwarded` or `note_cancelled_by_substitution`.
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    limit: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct DeviceRecordView {
    pub device_id: String,
    pub device_seq: i64,
    pub kind: String,
    /// The mutation's payload as the device pushed it.
    pub payload: serde_json::Value,
    pub received_at: i64,
}

/// Newest first, at most `limit` (1-1000, default 100).
async fn list_device_records(
    State(st): State<AppState>,
    h: HeaderMap,
    Query(q): Query<RecordsQuery>,
) -> Result<Json<Vec<DeviceRecordView>>, Error> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(Error::invalid("limit", format!("must be 1-{MAX_LIMIT}")));
    }
    as_user(
        &st,
        &h,
        Permission::ReadReports,
        "read.device_records",
        move |conn, u| {
            let rows: Vec<(String, i64, String, String, i64)> = with_conn!(conn, |c| {
                let mut query = device_records::table
                    .filter(device_records::store_id.eq(&u.store_id))
                    .into_boxed();
                if let Some(kind) = &q.kind {
                    query = query.filter(device_records::kind.eq(kind));
                }
                query
                    .order((
                        device_records::received_at.desc(),
                        device_records::device_seq.desc(),
                    ))
                    .limit(limit)
                    .select((
                        device_records::device_id,
                        device_records::device_seq,
                        device_records::kind,
                        device_records::payload,
                        device_records::received_at,
                    ))
                    .load(c)
            })?;
            rows.into_iter()
                .map(|(device_id, device_seq, kind, payload, received_at)| {
                    Ok(DeviceRecordView {
                        device_id,
                        device_seq,
                        kind,
                        payload: serde_json::from_str(&payload)
                            .map_err(|e| Error::Internal(format!("stored payload: {e}")))?,
                        received_at,
                    })
                })
                .collect()
        },
    )
    .await
    .map(Json)
}
