//! The back office's commands: each one is one call to the store server's back-office HTTP API
//! (`/api/v1/admin/...`) with the owner's session token; the answers are the server's own
//! records. A refusal arrives as the server's error code and field.

use std::collections::BTreeMap;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tauri::{AppHandle, Emitter, State};
use tenda_server::IssuedCode;
use tenda_server::backoffice::{
    AuditView, BranchView, DeviceView, ImportResult, LoginResponse, ProductCount, SaleView,
    UserView,
};
use tenda_server::catalog::{CustomerView, ProductView};
use tenda_server::hub::HubStatus;
use tenda_server::reports::{OverdraftItem, OversoldItem};

use crate::AppState;
use crate::wire::{CustomerInput, ImportReport, ImportRowError, UiError, UiResult, UserInput};

type S<'a> = State<'a, AppState>;

/// The owner's session on the store server.
#[derive(Clone)]
pub struct Session {
    http: reqwest::Client,
    base: String,
    token: String,
}

fn http() -> UiResult<reqwest::Client> {
    // Loopback demo servers speak plain HTTP; a real one is reached over TLS with the
    // machine's roots.
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| UiError::new("internal", e))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .build()
        .map_err(|e| UiError::new("internal", e))
}

fn unreachable(e: reqwest::Error) -> UiError {
    UiError::new("server_unreachable", e)
}

impl Session {
    async fn send<T: DeserializeOwned>(&self, req: reqwest::RequestBuilder) -> UiResult<T> {
        let resp = req
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(unreachable)?;
        let status = resp.status();
        let text = resp.text().await.map_err(unreachable)?;
        if !status.is_success() {
            // The server's ErrorBody: a stable code, the field at fault, a message.
            let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            let code = body["code"].as_str().unwrap_or("server_error");
            let mut e = UiError::new(code, body["message"].as_str().unwrap_or(&text));
            if let Some(field) = body["field"].as_str() {
                e = e.with("field", field);
            }
            if let Some(m) = body["message"].as_str() {
                e = e.with("reason", m);
            }
            return Err(e);
        }
        serde_json::from_str(&text).map_err(|e| UiError::new("server_answer", e))
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> UiResult<T> {
        self.send(self.http.get(format!("{}{path}", self.base)))
            .await
    }

    async fn write<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &impl Serialize,
    ) -> UiResult<T> {
        self.send(
            self.http
                .request(method, format!("{}{path}", self.base))
                .json(body),
        )
        .await
    }
}

/// The signed-in session (a cheap clone: the HTTP client is shared).
async fn session(state: &S<'_>) -> UiResult<Session> {
    state
        .backoffice
        .lock()
        .await
        .clone()
        .ok_or_else(|| UiError::new("not_signed_in", "sign in to the back office first"))
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tauri::command]
pub async fn bo_login(state: S<'_>, login: String, password: String) -> UiResult<LoginResponse> {
    let store = state.store().await?;
    let mut session = Session {
        http: http()?,
        base: store.server_url.clone(),
        token: String::new(),
    };
    let body = json!({"store_id": store.store_id, "login": login, "password": password});
    let answer: LoginResponse = session
        .write(reqwest::Method::POST, "/api/v1/admin/login", &body)
        .await?;
    session.token = answer.token.clone();
    *state.backoffice.lock().await = Some(session);
    Ok(answer)
}

/// The store hub's state as the server the back office signed in to sees it: on a hub, its
/// tills, relay backlog and cloud link; on the cloud, the store's hubs.
#[tauri::command]
pub async fn bo_hub(state: S<'_>) -> UiResult<HubStatus> {
    session(&state).await?.get("/api/v1/admin/hub").await
}

#[tauri::command]
pub async fn bo_product_count(state: S<'_>, search: String) -> UiResult<i64> {
    let path = format!("/api/v1/admin/products/count?search={}", enc(&search));
    let count: ProductCount = session(&state).await?.get(&path).await?;
    Ok(count.total)
}

#[tauri::command]
pub async fn bo_products(
    state: S<'_>,
    search: String,
    offset: u32,
    limit: u32,
) -> UiResult<Vec<ProductView>> {
    let path = format!(
        "/api/v1/admin/products?search={}&offset={offset}&limit={limit}",
        enc(&search)
    );
    session(&state).await?.get(&path).await
}

/// Imports a catalog CSV in chunks, emitting `import_progress` ({done, total} rows). Rows the
/// server's own parser refuses are reported with their line and reason; the others are
/// imported.
#[tauri::command]
pub async fn bo_import_csv(app: AppHandle, state: S<'_>, csv: String) -> UiResult<ImportReport> {
    const CHUNK: usize = 5_000;
    let s = session(&state).await?;
    let mut lines = csv.lines();
    let header = lines
        .next()
        .ok_or_else(|| UiError::new("invalid_input", "empty file").with("field", "csv"))?
        .to_owned();
    // Refuse a header the server would refuse, before any row goes.
    if let Err(e) = tenda_server::catalog::parse_catalog_csv(&format!("{header}\n")) {
        return Err(UiError::new("invalid_input", &e)
            .with("field", "csv")
            .with("reason", e.to_string()));
    }
    let rows: Vec<(u32, String)> = lines
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| (u32::try_from(i + 2).unwrap_or(u32::MAX), l.to_owned()))
        .collect();
    let total = rows.len();
    let mut report = ImportReport {
        imported: 0,
        errors: Vec::new(),
    };
    for (done, chunk) in rows.chunks(CHUNK).enumerate() {
        let mut body = header.clone();
        body.push('\n');
        for (line, row) in chunk {
            match tenda_server::catalog::parse_catalog_csv(&format!("{header}\n{row}\n")) {
                Ok(_) => {
                    body.push_str(row);
                    body.push('\n');
                }
                Err(e) => report.errors.push(ImportRowError {
                    line: *line,
                    message: e.to_string().replace("line 2: ", "").replace("csv: ", ""),
                }),
            }
        }
        let request = s
            .http
            .post(format!("{}/api/v1/admin/products/import", s.base))
            .header("content-type", "text/csv")
            .body(body);
        let result: ImportResult = s.send(request).await?;
        report.imported += u32::try_from(result.imported).unwrap_or(u32::MAX);
        let progress = ((done + 1) * CHUNK).min(total);
        let _ = app.emit("import_progress", json!({"done": progress, "total": total}));
    }
    Ok(report)
}

#[tauri::command]
pub async fn bo_branches(state: S<'_>) -> UiResult<Vec<BranchView>> {
    session(&state).await?.get("/api/v1/admin/branches").await
}

#[tauri::command]
pub async fn bo_set_branch_price(
    state: S<'_>,
    branch: String,
    product: String,
    price: tenda_domain::Money,
) -> UiResult<Value> {
    let path = format!(
        "/api/v1/admin/branches/{}/prices/{}",
        enc(&branch),
        enc(&product)
    );
    let body = json!({"price_cents": price.centavos()});
    session(&state)
        .await?
        .write(reqwest::Method::PUT, &path, &body)
        .await
}

#[tauri::command]
pub async fn bo_customers(state: S<'_>) -> UiResult<Vec<CustomerView>> {
    session(&state)
        .await?
        .get("/api/v1/admin/customers?limit=1000")
        .await
}

#[tauri::command]
pub async fn bo_save_customer(state: S<'_>, customer: CustomerInput) -> UiResult<Value> {
    let s = session(&state).await?;
    let mut body = json!({
        "name": customer.name,
        "tax_id": customer.tax_id.filter(|t| !t.trim().is_empty()),
        "overdraft_limit_cents": customer.overdraft_limit.centavos(),
    });
    match customer.id {
        None => {
            s.write(reqwest::Method::POST, "/api/v1/admin/customers", &body)
                .await
        }
        Some(id) => {
            body["version"] = json!(customer.version);
            let path = format!("/api/v1/admin/customers/{}", enc(&id));
            s.write(reqwest::Method::PUT, &path, &body).await
        }
    }
}

#[tauri::command]
pub async fn bo_users(state: S<'_>) -> UiResult<Vec<UserView>> {
    session(&state).await?.get("/api/v1/admin/users").await
}

#[tauri::command]
pub async fn bo_create_user(state: S<'_>, user: UserInput) -> UiResult<Value> {
    let body =
        json!({"name": user.name, "login": user.login, "role": user.role, "secret": user.secret});
    session(&state)
        .await?
        .write(reqwest::Method::POST, "/api/v1/admin/users", &body)
        .await
}

#[tauri::command]
pub async fn bo_devices(state: S<'_>) -> UiResult<Vec<DeviceView>> {
    session(&state).await?.get("/api/v1/admin/devices").await
}

#[tauri::command]
pub async fn bo_revoke_device(state: S<'_>, device: String) -> UiResult<Value> {
    let path = format!("/api/v1/admin/devices/{}/revoke", enc(&device));
    session(&state)
        .await?
        .write(reqwest::Method::POST, &path, &json!({}))
        .await
}

#[tauri::command]
pub async fn bo_enrollment_code(state: S<'_>, branch: String, series: u32) -> UiResult<IssuedCode> {
    let body = json!({"branch_id": branch, "nfce_series": series, "ttl_minutes": 60});
    session(&state)
        .await?
        .write(
            reqwest::Method::POST,
            "/api/v1/admin/enrollment-codes",
            &body,
        )
        .await
}

#[tauri::command]
pub async fn bo_settings(state: S<'_>) -> UiResult<BTreeMap<String, String>> {
    session(&state).await?.get("/api/v1/admin/settings").await
}

#[tauri::command]
pub async fn bo_put_setting(state: S<'_>, key: String, value: String) -> UiResult<Value> {
    let path = format!("/api/v1/admin/settings/{}", enc(&key));
    let body = json!({ "value": value });
    session(&state)
        .await?
        .write(reqwest::Method::PUT, &path, &body)
        .await
}

/// Every sale on the server (the reports chart them), paged by folio.
#[tauri::command]
pub async fn bo_sales(state: S<'_>) -> UiResult<Vec<SaleView>> {
    let s = session(&state).await?;
    let mut out: Vec<SaleView> = Vec::new();
    loop {
        let after = out.last().map_or(0, |v| v.folio);
        let page: Vec<SaleView> = s
            .get(&format!(
                "/api/v1/admin/sales?after_folio={after}&limit=1000"
            ))
            .await?;
        if page.is_empty() {
            return Ok(out);
        }
        out.extend(page);
    }
}

#[tauri::command]
pub async fn bo_oversold(state: S<'_>) -> UiResult<Vec<OversoldItem>> {
    session(&state)
        .await?
        .get("/api/v1/admin/reports/oversold")
        .await
}

#[tauri::command]
pub async fn bo_overdraft(state: S<'_>) -> UiResult<Vec<OverdraftItem>> {
    session(&state)
        .await?
        .get("/api/v1/admin/reports/overdraft")
        .await
}

#[tauri::command]
pub async fn bo_audit(state: S<'_>) -> UiResult<Vec<AuditView>> {
    session(&state).await?.get("/api/v1/admin/audit").await
}
