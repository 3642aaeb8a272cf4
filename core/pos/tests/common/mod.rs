//! The device every test starts from: a real SQLCipher store with users, products, a customer,
//! the public test A1 certificate and a simulated printer.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use tenda_devices::sim::SimulatedPrinter;
use tenda_devices::transport::{Pacing, WriteMode};
use tenda_devices::{EscPosPrinter, PrinterProfile, PrinterSettings};
use tenda_domain::{
    Customer, CustomerId, DeviceId, FiscalData, Money, Product, ProductId, Role, Unit, User, UserId,
};
use tenda_fiscal::nfce::Crt;
use tenda_fiscal::samples::sample_emitter;
use tenda_pos::credentials::{Secret, hash_secret};
use tenda_pos::{Approval, Pos, PosConfig};
use tenda_store::DbKey;

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
    pub key: DbKey,
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
    let key = DbKey::generate();
    let mut config = PosConfig::new(DeviceId::new(), sample_emitter(Crt::SimplesNacional));
    configure(&mut config);
    let pos = Pos::create(&path, &key, &config).expect("device store");
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
    pos.with_store(|s| {
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
    pos.install_certificate(&pfx, "minhasenha", &owner)
        .expect("certificate");

    let profile = PrinterProfile::mm80();
    let printer = SimulatedPrinter::new(&profile);
    printer.set_link(512, WriteMode::WithResponse);
    let settings = PrinterSettings {
        pacing: Pacing {
            between_chunks: Duration::ZERO,
        },
        ..Default::default()
    };
    pos.set_printer(Arc::new(EscPosPrinter::new(
        printer.clone(),
        profile,
        settings,
    )));
    Fixture {
        _dir: dir,
        path,
        key,
        pos,
        printer,
        coffee,
        bread,
        customer,
    }
}
