//! Opening the store the window works on. By default a demo store on this machine, set up the
//! way `tenda-demo` sets one up: the store's server (embedded SQLite) and the SEFAZ simulator on
//! loopback, both behind a link the person can cut; the owner's settings, people with PINs,
//! customers and a sample catalog; this register enrolled with a one-time code, its A1
//! certificate installed, a simulated printer and card reader paired. Given `--server URL
//! --code CODE`, the same app enrolls with a real store server instead (key in the OS keystore).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tenda_fiscal::nfce::Crt;
use tenda_fiscal::samples::sample_emitter;
use tenda_pos::credentials::Secret;
use tenda_pos::{Approval, EnrollmentRequest, OpenConfig, OsKeyStore, Platform, Pos};
use tenda_scenarios::backoffice::{OWNER_PASSWORD, StoreServer, catalog_csv};
use tenda_scenarios::device::{self, SefazAccess};
use tenda_scenarios::link::Link;
use tenda_scenarios::sample;
use tenda_sefaz_sim::{Simulator, SimulatorConfig};
use tenda_store::DbKey;

use crate::Store;
use crate::wire::{AppInfo, BluetoothDevice, DemoInfo, DemoUser};

pub const DEFAULT_CATALOG: usize = 5_000;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

pub struct Options {
    pub catalog_size: usize,
    pub server: Option<String>,
    pub enrollment_code: Option<String>,
    pub data_dir: Option<String>,
}

/// The demo's moving parts, kept alive as long as the window.
pub struct Demo {
    _dir: tempfile::TempDir,
    _server: StoreServer,
    _sim: Simulator,
    server_link: Link,
    sefaz_link: Link,
    users: Vec<DemoUser>,
    sample_codes: Vec<String>,
    catalog_size: usize,
    store_name: String,
}

impl Demo {
    /// Cuts or restores the store's internet: the register loses (or finds) both the server
    /// and SEFAZ, as when the router goes down.
    pub fn set_link(&self, up: bool) {
        if up {
            self.server_link.restore();
            self.sefaz_link.restore();
        } else {
            self.server_link.cut();
            self.sefaz_link.cut();
        }
    }

    pub fn link_up(&self) -> bool {
        self.server_link.is_up()
    }

    pub fn bluetooth_devices(&self) -> Vec<BluetoothDevice> {
        vec![
            BluetoothDevice {
                id: "sim-printer-80mm".into(),
                name: "Impressora térmica 80 mm (simulada)".into(),
                kind: "printer".into(),
                simulated: true,
                paired: true,
            },
            BluetoothDevice {
                id: "sim-card-reader".into(),
                name: "Maquininha de cartão (simulada)".into(),
                kind: "card_reader".into(),
                simulated: true,
                paired: true,
            },
        ]
    }
}

impl Store {
    pub fn info(&self) -> AppInfo {
        let enrollment = self.pos.enrollment().ok().flatten();
        AppInfo {
            store_name: enrollment
                .as_ref()
                .map(|e| format!("{} · {}", e.store_name, e.branch_name))
                .or_else(|| self.demo.as_ref().map(|d| d.store_name.clone()))
                .unwrap_or_default(),
            device_name: "Caixa 1".into(),
            server_url: self.server_url.clone(),
            // NFC-e stores are Brazilian; a store abroad would carry its own in its settings.
            locale: "pt-BR".into(),
            currency: "BRL".into(),
            demo: self.demo.as_ref().map(|d| DemoInfo {
                users: d.users.clone(),
                owner_login: "dona".into(),
                owner_password: OWNER_PASSWORD.into(),
                sample_codes: d.sample_codes.clone(),
                catalog_size: u32::try_from(d.catalog_size).unwrap_or(u32::MAX),
                link_up: d.link_up(),
            }),
        }
    }
}

pub async fn open(options: Options) -> Result<Store> {
    match (&options.server, &options.enrollment_code) {
        (Some(server), code) => open_real(server, code.as_deref(), options.data_dir).await,
        (None, _) => open_demo(options.catalog_size).await,
    }
}

fn code_of(p: &tenda_domain::Product) -> String {
    p.gtin
        .as_ref()
        .map_or(p.sku.clone(), |g| g.as_str().to_owned())
}

/// The EAN-13 a counter scale prints for `grams` of the product with 5-digit code `sku`.
fn scale_label(sku: &str, grams: u32) -> String {
    let body = format!("2{sku:0>5}{grams:06}");
    let sum: u32 = body
        .bytes()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 1 } else { 3 })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

async fn open_demo(catalog_size: usize) -> Result<Store> {
    let dir = tempfile::tempdir()?;
    let store_name = "Mercadinho Tenda".to_owned();
    let server = StoreServer::start(dir.path(), &store_name).await?;
    let sim = Simulator::start(SimulatorConfig::default()).await?;
    let server_link = Link::start(server.addr()).await?;
    let sefaz_link = Link::start(sim.address()).await?;

    let owner = server.owner().await?;
    owner
        .configure_store(
            &sample_emitter(Crt::SimplesNacional),
            &[
                ("policy.sefaz_timeout_ms", "2000"),
                // A person watching the demo sees the link come back within a second or two.
                ("sync.backoff_min_ms", "200"),
                ("sync.backoff_max_ms", "1000"),
                ("sync.poll_interval_ms", "1000"),
            ],
        )
        .await?;
    let users = vec![
        DemoUser {
            name: "Bia (caixa)".into(),
            login: "bia".into(),
            role: "seller".into(),
            pin: "1357".into(),
        },
        DemoUser {
            name: "Caio (gerente)".into(),
            login: "caio".into(),
            role: "manager".into(),
            pin: "2468".into(),
        },
    ];
    for u in &users {
        owner
            .create_user(&u.name, &u.login, &u.role, &u.pin)
            .await?;
    }
    for i in 0..3 {
        let c = sample::customer(i);
        let tax = c.tax_id.as_ref().map(|t| t.as_str().to_owned());
        owner
            .create_customer(&c.name, tax.as_deref(), c.overdraft_limit)
            .await?;
    }
    owner
        .import_catalog(catalog_csv(sample::catalog(catalog_size)))
        .await?;
    let code = owner.enrollment_code(server.created.branch_id, 1).await?;

    let server_url = format!("http://{}", server_link.addr());
    // The scenario's device set-up, with the SEFAZ worker probing every second: a person who
    // restores the link sees the backlog authorized within a second or two (the core sends it;
    // the app runs no loop of its own).
    let (mut config, platform) = device::access(
        &dir.path().join("caixa-1.db"),
        &DbKey::generate(),
        Some(&SefazAccess {
            base_url: format!("https://127.0.0.1:{}", sefaz_link.addr().port()),
            ca_der: sim.ca_certificate_der().to_vec(),
        }),
    );
    if let tenda_pos::SefazRoute::At { access } = &mut config.sefaz {
        access.probe_interval_ms = 1_000;
        access.transport_pause_ms = 500;
        access.unavailable_pause_ms = 500;
    }
    let pos = device::enroll(&(config, platform), &server_url, &code, "Caixa 1", None).await?;
    let dona = Approval {
        login: "dona".into(),
        secret: Secret::Password(OWNER_PASSWORD.into()),
    };
    device::install_certificate(&pos, &dona)?;
    device::attach_card_reader(&pos)?;
    device::attach_printer(&pos);

    let weighed = (0..40)
        .map(sample::product)
        .find(|p| p.gtin.is_none())
        .map(|p| scale_label(&p.sku, 1_250));
    let mut sample_codes: Vec<String> = [0usize, 2, 11]
        .iter()
        .map(|i| code_of(&sample::product(*i)))
        .collect();
    sample_codes.extend(weighed);

    let store_id = server.created.store_id;
    let base_url = server.base_url().to_owned();
    Ok(Store {
        pos: Arc::new(pos),
        last_receipt: Mutex::new(None),
        status_subscription: std::sync::OnceLock::new(),
        server_url: base_url,
        store_id,
        demo: Some(Demo {
            _dir: dir,
            _server: server,
            _sim: sim,
            server_link,
            sefaz_link,
            users,
            sample_codes,
            catalog_size,
            store_name,
        }),
    })
}

async fn open_real(server: &str, code: Option<&str>, data_dir: Option<String>) -> Result<Store> {
    let dir = data_dir.map_or_else(
        || {
            std::env::var("HOME")
                .map(|h| PathBuf::from(h).join(".local/share/tenda"))
                .unwrap_or_else(|_| PathBuf::from("tenda-data"))
        },
        PathBuf::from,
    );
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("register.db");
    let config = OpenConfig::new(path.display().to_string(), "register".into());
    let platform = Platform::new(Arc::new(OsKeyStore));
    let pos = if path.exists() {
        Pos::open(config, platform)?
    } else {
        let code = code.ok_or("first run against a server needs --code <enrollment code>")?;
        let mut request = EnrollmentRequest::new(server, code, "Caixa");
        request.first_load_timeout_ms = 120_000;
        Pos::enroll(config, platform, request, None).await?
    };
    let store_id = pos
        .enrollment()?
        .ok_or("this register is not enrolled")?
        .store_id
        .parse()?;
    Ok(Store {
        pos: Arc::new(pos),
        last_receipt: Mutex::new(None),
        status_subscription: std::sync::OnceLock::new(),
        server_url: server.trim_end_matches('/').to_owned(),
        store_id,
        demo: None,
    })
}
