//! The store's server for a scenario: a real tenda-server on loopback over an embedded SQLite
//! file, the store created with its owner, and a back-office client speaking the same HTTP API
//! the desktop app uses (login, branches, users, settings, catalog import, customers,
//! enrollment codes, sales and reports).

use std::net::SocketAddr;
use std::path::Path;

use serde_json::{Value, json};
use tenda_domain::{Money, Product};
use tenda_server::{CreatedStore, DatabaseLocation, RunningServer, ServerConfig};
use uuid::Uuid;

pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// The owner's back-office password in scenarios.
pub const OWNER_PASSWORD: &str = "senha-da-dona-rosa";

/// A server with one store (first branch "Matriz") and its owner `dona`.
pub struct StoreServer {
    pub server: RunningServer,
    pub created: CreatedStore,
}

impl StoreServer {
    /// Starts the server on loopback (port picked by the OS) over `dir/server.db`.
    pub async fn start(dir: &Path, store_name: &str) -> Result<StoreServer> {
        let listen: SocketAddr = "127.0.0.1:0".parse()?;
        let server = tenda_server::start(ServerConfig {
            database: DatabaseLocation::Sqlite(dir.join("server.db")),
            listen,
            tls: None,
        })
        .await?;
        let db = server.db.clone();
        let name = store_name.to_owned();
        let created = tokio::task::spawn_blocking(move || {
            let mut conn = db.get()?;
            tenda_server::create_store(
                &mut conn,
                &name,
                "Matriz",
                "Dona Rosa",
                "dona",
                OWNER_PASSWORD,
            )
        })
        .await??;
        Ok(StoreServer { server, created })
    }

    pub fn base_url(&self) -> &str {
        &self.server.base_url
    }

    pub fn addr(&self) -> SocketAddr {
        self.server.addr
    }

    /// The owner's back-office session.
    pub async fn owner(&self) -> Result<BackOffice> {
        BackOffice::login(
            self.base_url(),
            self.created.store_id,
            "dona",
            OWNER_PASSWORD,
        )
        .await
    }

    /// Stock of every product in `branch` as the server's ledger holds it (thousandths).
    pub async fn stock_levels(&self, branch: Uuid) -> Result<Vec<(Uuid, i64)>> {
        use diesel::prelude::*;
        use tenda_server::schema::stock_levels::dsl;
        let db = self.server.db.clone();
        let rows: Vec<(String, i64)> = tokio::task::spawn_blocking(
            move || -> std::result::Result<_, Box<dyn std::error::Error + Send + Sync>> {
                match db.get()? {
                    tenda_server::db::Conn::Sqlite(mut c) => Ok(dsl::stock_levels
                        .filter(dsl::branch_id.eq(branch.to_string()))
                        .select((dsl::product_id, dsl::quantity))
                        .load(&mut c)?),
                    tenda_server::db::Conn::Pg(mut c) => Ok(dsl::stock_levels
                        .filter(dsl::branch_id.eq(branch.to_string()))
                        .select((dsl::product_id, dsl::quantity))
                        .load(&mut c)?),
                }
            },
        )
        .await??;
        rows.into_iter().map(|(p, q)| Ok((p.parse()?, q))).collect()
    }
}

/// A logged-in back-office session.
pub struct BackOffice {
    http: reqwest::Client,
    base: String,
    token: String,
    pub store_id: Uuid,
}

fn client() -> Result<reqwest::Client> {
    // Plain HTTP on loopback; TLS is configured (without roots) only because the client
    // requires a provider to exist.
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    Ok(reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .build()?)
}

/// The catalog CSV the back office imports (`sku,gtin,name,unit,price,ncm`).
pub fn catalog_csv(products: impl Iterator<Item = Product>) -> String {
    let mut csv = String::from("sku,gtin,name,unit,price,ncm\n");
    for p in products {
        let c = p.price.centavos();
        csv.push_str(&format!(
            "{},{},\"{}\",{},{}.{:02},{}\n",
            p.sku,
            p.gtin.as_ref().map_or("", |g| g.as_str()),
            p.name.replace('"', "\"\""),
            p.unit.code(),
            c / 100,
            c % 100,
            p.fiscal.ncm
        ));
    }
    csv
}

impl BackOffice {
    pub async fn login(base: &str, store_id: Uuid, login: &str, password: &str) -> Result<Self> {
        let mut bo = BackOffice {
            http: client()?,
            base: base.to_owned(),
            token: String::new(),
            store_id,
        };
        let v = bo
            .call(
                "POST",
                "/api/v1/admin/login",
                Some(json!({"store_id": store_id, "login": login, "password": password})),
            )
            .await?;
        bo.token = v["token"]
            .as_str()
            .ok_or("login without a token")?
            .to_owned();
        Ok(bo)
    }

    /// A JSON call; a non-2xx answer is an error carrying the server's message.
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value> {
        let mut req = self
            .http
            .request(method.parse()?, format!("{}{path}", self.base));
        if !self.token.is_empty() {
            req = req.bearer_auth(&self.token);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await?;
        let status = resp.status();
        let text = resp.text().await?;
        if !status.is_success() {
            return Err(format!("{method} {path}: {status}: {text}").into());
        }
        Ok(serde_json::from_str(&text)?)
    }

    fn id(v: &Value) -> Result<Uuid> {
        Ok(v["id"].as_str().ok_or("answer without an id")?.parse()?)
    }

    pub async fn create_branch(&self, name: &str) -> Result<Uuid> {
        Self::id(
            &self
                .call(
                    "POST",
                    "/api/v1/admin/branches",
                    Some(json!({"name": name})),
                )
                .await?,
        )
    }

    /// A user who signs in on the devices with `pin` (`role`: seller, manager, owner).
    pub async fn create_user(
        &self,
        name: &str,
        login: &str,
        role: &str,
        pin: &str,
    ) -> Result<Uuid> {
        Self::id(
            &self
                .call(
                    "POST",
                    "/api/v1/admin/users",
                    Some(json!({"name": name, "login": login, "role": role, "secret": pin})),
                )
                .await?,
        )
    }

    pub async fn put_setting(&self, key: &str, value: &str) -> Result<()> {
        self.call(
            "PUT",
            &format!("/api/v1/admin/settings/{key}"),
            Some(json!({ "value": value })),
        )
        .await?;
        Ok(())
    }

    /// Imports a catalog CSV; returns how many products it holds.
    pub async fn import_catalog(&self, csv: String) -> Result<u64> {
        let resp = self
            .http
            .post(format!("{}/api/v1/admin/products/import", self.base))
            .bearer_auth(&self.token)
            .header("content-type", "text/csv")
            .body(csv)
            .send()
            .await?;
        let status = resp.status();
        let text = resp.text().await?;
        if !status.is_success() {
            return Err(format!("catalog import: {status}: {text}").into());
        }
        let v: Value = serde_json::from_str(&text)?;
        v["imported"].as_u64().ok_or_else(|| "no count".into())
    }

    pub async fn create_customer(
        &self,
        name: &str,
        tax_id: Option<&str>,
        overdraft_limit: Money,
    ) -> Result<Uuid> {
        Self::id(
            &self
                .call(
                    "POST",
                    "/api/v1/admin/customers",
                    Some(json!({
                        "name": name,
                        "tax_id": tax_id,
                        "overdraft_limit_cents": overdraft_limit.centavos(),
                    })),
                )
                .await?,
        )
    }

    /// Customers with their server-side balance.
    pub async fn customers(&self) -> Result<Vec<Value>> {
        let v = self
            .call("GET", "/api/v1/admin/customers?limit=1000", None)
            .await?;
        Ok(v.as_array().cloned().unwrap_or_default())
    }

    /// A one-time code enrolling a device into `branch` with NFC-e `series`.
    pub async fn enrollment_code(&self, branch: Uuid, series: u32) -> Result<String> {
        let v = self
            .call(
                "POST",
                "/api/v1/admin/enrollment-codes",
                Some(json!({"branch_id": branch, "nfce_series": series, "ttl_minutes": 30})),
            )
            .await?;
        Ok(v["code"].as_str().ok_or("no code")?.to_owned())
    }

    /// Every sale on the server, by folio.
    pub async fn sales(&self) -> Result<Vec<Value>> {
        let mut out: Vec<Value> = Vec::new();
        let mut after = 0i64;
        loop {
            let page = self
                .call(
                    "GET",
                    &format!("/api/v1/admin/sales?after_folio={after}&limit=1000"),
                    None,
                )
                .await?;
            let page = page.as_array().cloned().unwrap_or_default();
            let Some(last) = page.last() else { break };
            after = last["folio"].as_i64().ok_or("sale without a folio")?;
            out.extend(page);
        }
        Ok(out)
    }

    pub async fn oversold(&self) -> Result<Vec<Value>> {
        let v = self
            .call("GET", "/api/v1/admin/reports/oversold", None)
            .await?;
        Ok(v.as_array().cloned().unwrap_or_default())
    }

    pub async fn devices(&self) -> Result<Vec<Value>> {
        let v = self.call("GET", "/api/v1/admin/devices", None).await?;
        Ok(v.as_array().cloned().unwrap_or_default())
    }

    pub async fn revoke_device(&self, device: Uuid) -> Result<()> {
        self.call(
            "POST",
            &format!("/api/v1/admin/devices/{device}/revoke"),
            None,
        )
        .await?;
        Ok(())
    }

    /// Every product: (server id, sku).
    pub async fn products(&self) -> Result<Vec<(Uuid, String)>> {
        let mut out = Vec::new();
        let mut offset = 0;
        loop {
            let v = self
                .call(
                    "GET",
                    &format!("/api/v1/admin/products?limit=1000&offset={offset}"),
                    None,
                )
                .await?;
            let page = v.as_array().cloned().unwrap_or_default();
            if page.is_empty() {
                break;
            }
            offset += page.len();
            for p in page {
                out.push((
                    Self::id(&p)?,
                    p["sku"].as_str().ok_or("product without sku")?.to_owned(),
                ));
            }
        }
        Ok(out)
    }
}

impl BackOffice {
    /// The store's NFC-e emitter (`fiscal.emitter`) and further settings (`policy.*`, `sync.*`).
    pub async fn configure_store(
        &self,
        emitter: &tenda_fiscal::nfce::EmitterSettings,
        settings: &[(&str, &str)],
    ) -> Result<()> {
        self.put_setting("fiscal.emitter", &serde_json::to_string(emitter)?)
            .await?;
        for (k, v) in settings {
            self.put_setting(k, v).await?;
        }
        Ok(())
    }
}
