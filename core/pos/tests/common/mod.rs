//! The device every test starts from: a real SQLCipher store with users, products, a customer,
//! the public test A1 certificate and a simulated printer.
#![allow(dead_code)]

use std::sync::Arc;

use tenda_devices::PrinterProfile;
use tenda_devices::sim::SimulatedPrinter;
use tenda_devices::transport::WriteMode;
use tenda_domain::{
    Customer, CustomerId, DeviceId, FiscalData, Money, Product, ProductId, Role, Unit, User, UserId,
};
use tenda_fiscal::nfce::Crt;
use tenda_fiscal::samples::sample_emitter;
use tenda_pos::credentials::{Secret, hash_secret};
use tenda_pos::{
    Approval, MemoryKeyStore, OpenConfig, PeripheralTimings, Platform, Pos, PosConfig, SefazRoute,
};

pub fn user(login: &str, role: Role, pin: &str) -> User {
    User {
        id: UserId::new(),
        name: login.to_owned(),
        login: login.to_owned(),
        role,
        credential_hash: hash_secret(&Secret::Pin(pin.into())).expect("valid PIN"),
        active: true,
        version: 1,
    }
}

pub fn m(c: i64) -> Money {
    Money::from_centavos(c)
}

pub struct Fixture {
    pub _dir: tempfile::TempDir,
    pub path: std::path::PathBuf,
    /// How the device was opened (its keystore holds the database key): to open it again.
    pub open: OpenConfig,
    pub platform: Platform,
    pub pos: Pos,
    pub printer: SimulatedPrinter,
    pub coffee: Product,
    pub bread: Product,
    pub customer: Customer,
}

pub fn manager() -> Approval {
    Approval {
        login: "caio".into(),
        secret: Secret::Pin("2468".into()),
    }
}

pub fn fixture(configure: impl FnOnce(&mut PosConfig)) -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("device.db");
    let mut config = PosConfig::new(DeviceId::new(), sample_emitter(Crt::SimplesNacional));
    configure(&mut config);
    let (open, platform) = device_access(&path);
    let pos = Pos::create(open.clone(), platform.clone(), config).expect("device store");
    let coffee = Product {
        id: ProductId::new(),
        sku: "CAF500".into(),
        gtin: Some(tenda_domain::Gtin::parse("7891000100103").expect("valid GTIN")),
        name: "Café Torrado 500g".into(),
        unit: Unit::Each,
        price: m(18_90),
        fiscal: FiscalData::simples_nacional("09012100"),
        active: true,
        version: 1,
    };
    let bread = Product {
        id: ProductId::new(),
        sku: "00123".into(),
        gtin: None,
        name: "Pão Francês".into(),
        unit: Unit::Kilogram,
        price: m(16_90),
        fiscal: FiscalData::simples_nacional("19059090"),
        active: true,
        version: 1,
    };
    let customer = Customer {
        id: CustomerId::new(),
        name: "Cliente Fiado".into(),
        tax_id: None,
        phone: None,
        email: None,
        balance: m(0),
        overdraft_limit: m(50_00),
        active: true,
        version: 1,
    };
    pos.inspect_store(|s| {
        s.save_user(&user("bia", Role::Seller, "1357"))
            .expect("seller");
        s.save_user(&user("caio", Role::Manager, "2468"))
            .expect("manager");
        s.save_user(&user("dona", Role::Owner, "9999"))
            .expect("owner");
        s.save_product(&coffee).expect("coffee");
        s.save_product(&bread).expect("bread");
        s.save_customer(&customer).expect("customer");
    });
    let pfx = tenda_fiscal::samples::PUBLIC_TEST_PFX.to_vec();
    let owner = Approval {
        login: "dona".into(),
        secret: Secret::Pin("9999".into()),
    };
    pos.install_certificate(pfx, "minhasenha".into(), owner)
        .expect("certificate");

    let printer = SimulatedPrinter::new(&PrinterProfile::mm80());
    printer.set_link(512, WriteMode::WithResponse);
    pos.attach_printer(Arc::new(printer.clone()))
        .expect("printer");
    Fixture {
        _dir: dir,
        path,
        open,
        platform,
        pos,
        printer,
        coffee,
        bread,
        customer,
    }
}

/// Where a test device lives: its file, a keystore in memory, no SEFAZ unless a test gives one,
/// and fast peripheral links (the simulated ones answer at once).
pub fn device_access(path: &std::path::Path) -> (OpenConfig, Platform) {
    let mut open = OpenConfig::new(path.display().to_string(), "device".into());
    open.sefaz = SefazRoute::NotConfigured;
    open.peripherals = fast_links();
    (open, Platform::new(Arc::new(MemoryKeyStore::new())))
}

pub fn fast_links() -> PeripheralTimings {
    PeripheralTimings {
        chunk_pause_ms: 0,
        reconnect_attempts: 3,
        reconnect_first_delay_ms: 1,
        reconnect_max_delay_ms: 5,
        reader_silence_timeout_ms: 2_000,
        reader_query_timeout_ms: 1_000,
    }
}

impl Fixture {
    /// The same device opened again (after a restart).
    pub fn reopen(&self) -> Pos {
        Pos::open(self.open.clone(), self.platform.clone()).expect("reopen")
    }
}

/// SEFAZ as the simulator plays it, reached with `request_timeout_ms` and pausing
/// `transport_pause_ms` after a transport failure (the worker's own round stays rare: the tests
/// send the backlog themselves).
pub fn simulator_route(
    sim: &tenda_sefaz_sim::Simulator,
    request_timeout_ms: u64,
    transport_pause_ms: u64,
) -> SefazRoute {
    let mut access =
        tenda_pos::SefazAccess::new(sim.base_url(), vec![sim.ca_certificate_der().to_vec()]);
    access.request_timeout_ms = request_timeout_ms;
    access.transport_pause_ms = transport_pause_ms;
    access.probe_interval_ms = 3_600_000;
    SefazRoute::At { access }
}

/// One coffee rung up and paid in cash (R$ 18,90 of R$ 20,00).
pub async fn sell_coffee(pos: &Pos) -> tenda_pos::SaleOutcome {
    pos.scan("CAF500".into(), None).expect("scan");
    pos.checkout(vec![tenda_pos::PaymentRequest::Cash {
        amount: m(18_90),
        tendered: m(20_00),
    }])
    .await
    .expect("sale")
}

/// A kilo of bread recorded straight in the store, without a note (as a sale imported from
/// another till would be), by the signed-in seller.
pub fn sale_without_note(f: &Fixture) -> tenda_domain::SaleId {
    let pos = &f.pos;
    let mut cart = tenda_domain::Cart::new();
    cart.add(&f.bread, tenda_domain::Quantity::from_units(1).expect("1"))
        .expect("add");
    let header = tenda_domain::SaleHeader {
        id: tenda_domain::SaleId::new(),
        device_id: pos.config().device_id,
        seller_id: pos.signed_in().expect("seller").user_id,
        created_at: chrono::Utc::now(),
    };
    let sale = cart
        .checkout(
            header,
            vec![tenda_domain::Payment::cash(m(16_90), m(16_90)).expect("cash")],
        )
        .expect("sale");
    pos.inspect_store(|s| {
        s.commit_sale(&tenda_store::SaleCommit {
            sale: sale.clone(),
            actor: tenda_domain::Actor::Device(pos.config().device_id),
            register_session_id: None,
        })
    })
    .expect("commit");
    sale.id
}
