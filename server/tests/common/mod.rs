//! Test support: a real server on loopback over SQLite or a throwaway PostgreSQL cluster, a
//! back-office client, device enrollment, and domain sales.
#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::Command;

use chrono::Utc;
use diesel::{Connection, RunQueryDsl};
use serde_json::{Value, json};
use tenda_domain::outbox::{Mutation, OutboxEntry, SaleRecorded};
use tenda_domain::{
    Cart, DeviceId, FiscalData, Money, Payment, Product, ProductId, Quantity, SaleHeader, SaleId,
    Unit, UserId,
};
use tenda_server::{DatabaseLocation, RunningServer, ServerConfig};
use tenda_sync::protocol::{EnrollResponse, PushedMutation};
use uuid::Uuid;

/// Runs each named scenario `async fn name(backend: Backend)` twice: as its own test on SQLite,
/// and in one `postgres_suite` test on a throwaway PostgreSQL cluster, a fresh database each.
/// `Backend` and `PgCluster` must be in scope where it is used (`use common::*`).
#[allow(unused_macros)]
macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Backend::sqlite()).await;
                }
            )*
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn postgres_suite() {
            let cluster = tokio::task::spawn_blocking(PgCluster::start).await.expect("cluster");
            $( $name(cluster.fresh_database()).await; )*
            drop(cluster);
        }
    };
}

/// Where a test's server keeps its data.
pub enum Backend {
    Sqlite(tempfile::TempDir),
    Postgres(String),
}

impl Backend {
    pub fn sqlite() -> Backend {
        Backend::Sqlite(tempfile::tempdir().expect("temp dir"))
    }

    fn location(&self) -> DatabaseLocation {
        match self {
            Backend::Sqlite(dir) => DatabaseLocation::Sqlite(dir.path().join("server.db")),
            Backend::Postgres(url) => DatabaseLocation::Postgres(url.clone()),
        }
    }
}

/// A throwaway PostgreSQL cluster on a free loopback port, run as an unprivileged user when the
/// tests run as root (PostgreSQL refuses to run as root). Stopped and deleted on drop.
pub struct PgCluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    run_as: Option<&'static str>,
    next_db: std::sync::atomic::AtomicU32,
}

fn postgres_bin() -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is not installed: run scripts/setup (Debian package postgresql)")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").exists())
        .collect();
    versions.sort();
    versions
        .pop()
        .expect("no initdb under /usr/lib/postgresql/*/bin: run scripts/setup")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

impl PgCluster {
    pub fn start() -> PgCluster {
        let bin = postgres_bin();
        let dir = tempfile::Builder::new()
            .prefix("tenda-pg")
            .tempdir()
            .expect("temp dir");
        let is_root = unsafe_free_uid() == 0;
        let run_as = if is_root { Some("nobody") } else { None };
        if is_root {
            let (uid, gid) = (65534, 65534);
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid))
                .expect("chown the cluster dir to nobody");
        }
        let data = dir.path().join("data");
        let port = free_port();
        let run = |args: &[&str]| {
            let mut cmd = match run_as {
                Some(user) => {
                    let mut c = Command::new("runuser");
                    c.args(["-u", user, "--"]);
                    c
                }
                None => Command::new(args[0]),
            };
            let args: Vec<&str> = if run_as.is_some() {
                args.to_vec()
            } else {
                args[1..].to_vec()
            };
            let out = cmd
                .args(&args)
                .current_dir(dir.path())
                .output()
                .expect("run a PostgreSQL tool");
            assert!(
                out.status.success(),
                "{args:?} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let initdb = bin.join("initdb");
        let pg_ctl = bin.join("pg_ctl");
        run(&[
            initdb.to_str().expect("utf8"),
            "-D",
            data.to_str().expect("utf8"),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
        ]);
        let opts = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c max_connections=100",
            dir.path().display()
        );
        let log = dir.path().join("log");
        run(&[
            pg_ctl.to_str().expect("utf8"),
            "-D",
            data.to_str().expect("utf8"),
            "-o",
            &opts,
            "-l",
            log.to_str().expect("utf8"),
            "-w",
            "start",
        ]);
        PgCluster {
            dir,
            bin,
            port,
            run_as,
            next_db: std::sync::atomic::AtomicU32::new(0),
        }
    }

    /// A new empty database in the cluster, as a backend for one test.
    pub fn fresh_database(&self) -> Backend {
        let n = self
            .next_db
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let name = format!("tenda_test_{n}");
        let admin = format!("postgres://postgres@127.0.0.1:{}/postgres", self.port);
        let mut conn =
            diesel::pg::PgConnection::establish(&admin).expect("connect to the test cluster");
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .expect("create database");
        Backend::Postgres(format!(
            "postgres://postgres@127.0.0.1:{}/{name}",
            self.port
        ))
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let pg_ctl = self.bin.join("pg_ctl");
        let mut cmd = match self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&pg_ctl);
                c
            }
            None => Command::new(&pg_ctl),
        };
        let _ = cmd
            .arg("-D")
            .arg(&data)
            .args(["-m", "immediate", "-w", "stop"])
            .output();
    }
}

fn unsafe_free_uid() -> u32 {
    // The owner of /proc/self is the effective user: no libc call needed.
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self")
        .map(|m| m.uid())
        .unwrap_or(0)
}

/// A server with one store, its first branch and a logged-in owner.
pub struct TestServer {
    pub server: RunningServer,
    pub http: reqwest::Client,
    pub store_id: Uuid,
    pub branch_id: Uuid,
    pub owner_token: String,
    _backend: Backend,
}

pub const OWNER_PASSWORD: &str = "correct horse battery";

impl TestServer {
    pub async fn start(backend: Backend) -> TestServer {
        let addr: SocketAddr = "127.0.0.1:0".parse().expect("addr");
        let server = tenda_server::start(ServerConfig {
            database: backend.location(),
            listen: addr,
            tls: None,
        })
        .await
        .expect("server starts");
        let db = server.db.clone();
        let created = tokio::task::spawn_blocking(move || {
            let mut conn = db.get().expect("connection");
            tenda_server::create_store(
                &mut conn,
                "Mercado Central",
                "Matriz",
                "Ana Dona",
                "ana",
                OWNER_PASSWORD,
            )
        })
        .await
        .expect("join")
        .expect("store created");
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(plain_tls())
            .build()
            .expect("client");
        let mut t = TestServer {
            server,
            http,
            store_id: created.store_id,
            branch_id: created.branch_id,
            owner_token: String::new(),
            _backend: backend,
        };
        t.owner_token = t.login(created.store_id, "ana", OWNER_PASSWORD).await;
        t
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.base_url)
    }

    pub async fn login(&self, store: Uuid, login: &str, password: &str) -> String {
        let (status, body) = self
            .call(
                "POST",
                "/api/v1/admin/login",
                None,
                Some(json!({"store_id": store, "login": login, "password": password})),
            )
            .await;
        assert_eq!(status, 200, "login: {body}");
        body["token"].as_str().expect("token").to_owned()
    }

    /// Any JSON call; returns status and body.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method.parse().expect("method"), self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = match req.send().await {
            Ok(resp) => resp,
            // The server answered and closed before taking the whole body (what a refusal
            // before reading is meant to do); the client saw its write fail first.
            Err(e) if e.is_request() && !e.is_connect() => {
                return (
                    0,
                    Value::String(format!("closed before the body was sent: {e}")),
                );
            }
            Err(e) => panic!("request: {e}"),
        };
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Raw bytes to a path (for malformed bodies).
    pub async fn raw(&self, path: &str, token: Option<&str>, body: Vec<u8>) -> (u16, Value) {
        let mut req = self
            .http
            .post(self.url(path))
            .header("content-type", "application/json")
            // A fresh connection each time: a refusal may close one mid-upload, and the next
            // request must not be sent down it.
            .header("connection", "close")
            .body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = match req.send().await {
            Ok(resp) => resp,
            // The server answered and closed before taking the whole body (what a refusal
            // before reading is meant to do); the client saw its write fail first.
            Err(e) if e.is_request() && !e.is_connect() => {
                return (
                    0,
                    Value::String(format!("closed before the body was sent: {e}")),
                );
            }
            Err(e) => panic!("request: {e}"),
        };
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, v) = self.call(method, path, Some(&self.owner_token), body).await;
        assert!(
            (200..300).contains(&status),
            "{method} {path}: {status} {v}"
        );
        v
    }

    pub async fn create_branch(&self, name: &str) -> Uuid {
        let v = self
            .admin(
                "POST",
                "/api/v1/admin/branches",
                Some(json!({"name": name})),
            )
            .await;
        v["id"].as_str().expect("id").parse().expect("uuid")
    }

    pub async fn create_product(&self, sku: &str, name: &str, price_cents: i64) -> Uuid {
        let v = self
            .admin(
                "POST",
                "/api/v1/admin/products",
                Some(json!({
                    "sku": sku, "name": name, "unit": "UN", "price_cents": price_cents,
                    "fiscal": FiscalData::simples_nacional("19052090"),
                })),
            )
            .await;
        v["id"].as_str().expect("id").parse().expect("uuid")
    }

    pub async fn enroll(&self, branch: Uuid, series: u32, name: &str) -> EnrollResponse {
        let code = self
            .admin(
                "POST",
                "/api/v1/admin/enrollment-codes",
                Some(json!({"branch_id": branch, "nfce_series": series})),
            )
            .await;
        let (status, body) = self
            .call(
                "POST",
                tenda_sync::protocol::paths::ENROLL,
                None,
                Some(json!({"protocol": 1, "code": code["code"], "device_name": name})),
            )
            .await;
        assert_eq!(status, 200, "enroll: {body}");
        serde_json::from_value(body).expect("enroll response")
    }

    pub async fn push(
        &self,
        device: &EnrollResponse,
        mutations: Vec<PushedMutation>,
    ) -> (u16, Value) {
        self.push_slice(device, &mutations).await
    }

    /// Pushes as the device engine does: the typed request serialized once, straight to bytes.
    pub async fn push_slice(
        &self,
        device: &EnrollResponse,
        mutations: &[PushedMutation],
    ) -> (u16, Value) {
        #[derive(serde::Serialize)]
        struct Body<'a> {
            protocol: u32,
            device: uuid::Uuid,
            mutations: &'a [PushedMutation],
        }
        let body = serde_json::to_vec(&Body {
            protocol: 1,
            device: device.device_id,
            mutations,
        })
        .expect("push body");
        self.raw(
            tenda_sync::protocol::paths::PUSH,
            Some(&device.credential),
            body,
        )
        .await
    }

    pub async fn pull(
        &self,
        device: &EnrollResponse,
        cursor: Option<String>,
        page: u32,
    ) -> (u16, Value) {
        let body = json!({"protocol": 1, "cursor": cursor, "page_size": page});
        self.call(
            "POST",
            tenda_sync::protocol::paths::PULL,
            Some(&device.credential),
            Some(body),
        )
        .await
    }

    /// Counts rows of a table straight from the server's database.
    pub async fn count(&self, sql: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let db = self.server.db.clone();
        // SUM of BIGINT is NUMERIC on PostgreSQL: cast so both backends return BIGINT.
        let sql = format!("SELECT CAST(q.n AS BIGINT) AS n FROM ({sql}) AS q");
        tokio::task::spawn_blocking(move || {
            let mut conn = db.get().expect("connection");
            let rows: Vec<N> = match &mut conn {
                tenda_server::db::Conn::Sqlite(c) => diesel::sql_query(&sql).load(&mut **c),
                tenda_server::db::Conn::Pg(c) => diesel::sql_query(&sql).load(&mut **c),
            }
            .expect("count query");
            rows[0].n
        })
        .await
        .expect("join")
    }
}

impl TestServer {
    /// Every sale on the server with the folio it was given.
    pub async fn sale_folios(&self) -> std::collections::HashMap<Uuid, u64> {
        use diesel::{QueryDsl, RunQueryDsl};
        use tenda_server::schema::sales;
        let db = self.server.db.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = db.get().expect("connection");
            let q = sales::table.select((sales::id, sales::folio));
            let rows: Vec<(String, i64)> = match &mut conn {
                tenda_server::db::Conn::Sqlite(c) => q.load(&mut **c),
                tenda_server::db::Conn::Pg(c) => q.load(&mut **c),
            }
            .expect("sale folios");
            rows.into_iter()
                .map(|(id, folio)| {
                    (
                        id.parse().expect("sale id"),
                        u64::try_from(folio).expect("folio"),
                    )
                })
                .collect()
        })
        .await
        .expect("join")
    }
}

/// A client TLS config (never used for TLS by these plain-HTTP tests, but reqwest needs one).
pub fn plain_tls() -> rustls::ClientConfig {
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth()
}

/// A domain product as the device would have pulled it.
pub fn product(id: Uuid, price_cents: i64) -> Product {
    Product {
        id: ProductId::from_uuid(id),
        sku: format!("SKU-{}", &id.to_string()[..8]),
        gtin: None,
        name: "Produto".into(),
        unit: Unit::Each,
        price: Money::from_centavos(price_cents),
        fiscal: FiscalData::simples_nacional("19052090"),
        active: true,
        version: 1,
    }
}

/// A sale of `units` of each product, paid by PIX, as the `SaleRecorded` outbox entry `seq`.
pub fn sale_entry(
    device: Uuid,
    seq: u64,
    products: &[(Uuid, i64)],
    units: i64,
) -> (OutboxEntry, SaleId, Money) {
    let mut cart = Cart::new();
    for (id, price) in products {
        cart.add(
            &product(*id, *price),
            Quantity::from_units(units).expect("qty"),
        )
        .expect("add");
    }
    let total = cart.totals().expect("totals").total;
    let sale_id = SaleId::new();
    let sale = cart
        .checkout(
            SaleHeader {
                id: sale_id,
                device_id: DeviceId::from_uuid(device),
                seller_id: UserId::new(),
                created_at: Utc::now(),
            },
            vec![Payment::pix(total, None)],
        )
        .expect("checkout");
    let recorded = SaleRecorded {
        stock_deltas: sale.stock_deltas().expect("deltas"),
        balance_deltas: sale.balance_deltas().expect("deltas"),
        sale,
        local_number: seq,
        register_session_id: None,
        fiscal: None,
    };
    (
        OutboxEntry {
            seq,
            mutation: Mutation::SaleRecorded(recorded),
        },
        sale_id,
        total,
    )
}

pub fn wire(entry: &OutboxEntry) -> PushedMutation {
    PushedMutation::from_entry(entry).expect("serializes")
}
