//! A sample store: a catalog of everyday goods (valid GTINs, weighed items for the scale, fiscal
//! data for a Simples Nacional shop) and customers with valid CPFs. Deterministic for a seed, so
//! a scenario's expectations can be computed.

use tenda_domain::gtin::gs1_check_digit;
use tenda_domain::{
    Cpf, Customer, CustomerId, FiscalData, Gtin, Money, Product, ProductId, TaxId, Unit,
};

/// (name, NCM, base price in centavos, unit)
const GOODS: &[(&str, &str, i64, Unit)] = &[
    ("Arroz Tipo 1 5kg", "10063021", 27_90, Unit::Each),
    ("Feijão Carioca 1kg", "07133399", 8_49, Unit::Each),
    ("Café Torrado e Moído 500g", "09012100", 18_90, Unit::Each),
    ("Açúcar Refinado 1kg", "17019900", 4_99, Unit::Each),
    ("Óleo de Soja 900ml", "15079011", 7_29, Unit::Each),
    ("Leite UHT Integral 1L", "04012010", 5_19, Unit::Each),
    ("Macarrão Espaguete 500g", "19021900", 4_39, Unit::Each),
    ("Farinha de Trigo 1kg", "11010010", 5_49, Unit::Each),
    ("Sabão em Pó 1kg", "34022000", 14_90, Unit::Each),
    ("Detergente Líquido 500ml", "34022000", 2_79, Unit::Each),
    ("Papel Higiênico 12 rolos", "48181000", 19_90, Unit::Each),
    ("Refrigerante Cola 2L", "22021000", 9_99, Unit::Each),
    ("Água Mineral 1,5L", "22011000", 2_99, Unit::Each),
    ("Biscoito Cream Cracker 400g", "19053100", 5_99, Unit::Each),
    ("Pão Francês", "19059090", 16_90, Unit::Kilogram),
    ("Queijo Muçarela", "04061010", 49_90, Unit::Kilogram),
    ("Presunto Cozido", "16024900", 39_90, Unit::Kilogram),
    ("Banana Prata", "08039000", 6_99, Unit::Kilogram),
    ("Tomate Italiano", "07020000", 8_99, Unit::Kilogram),
    ("Carne Moída Patinho", "02013000", 44_90, Unit::Kilogram),
];

const VARIANTS: &[&str] = &["", " Tradicional", " Premium", " Econômica", " Orgânica"];

/// Product `i` of the sample catalog. Unit goods carry a GTIN-13 (prefix 789, Brazil); weighed
/// goods carry a 5-digit SKU the scale prints on its labels.
pub fn product(i: usize) -> Product {
    let (name, ncm, price, unit) = GOODS[i % GOODS.len()];
    let round = i / GOODS.len();
    let variant = VARIANTS[round % VARIANTS.len()];
    let series = round / VARIANTS.len();
    let name = if series == 0 {
        format!("{name}{variant}")
    } else {
        format!("{name}{variant} {series}")
    };
    // Prices vary a little between variants, never below R$ 0.50.
    let price = (price + i64::try_from(round % 7).unwrap_or(0) * 37).max(50);
    let (sku, gtin) = match unit {
        Unit::Kilogram => (format!("{:05}", 10_000 + i), None),
        _ => {
            let body = format!("789{:09}", 100_000_000 + i);
            let digits: Vec<u8> = body.bytes().map(|b| b - b'0').collect();
            let code = format!("{body}{}", gs1_check_digit(&digits));
            (
                format!("SKU{i:06}"),
                Some(Gtin::parse(&code).expect("built with its check digit")),
            )
        }
    };
    Product {
        id: ProductId::new(),
        sku,
        gtin,
        name,
        unit,
        price: Money::from_centavos(price),
        fiscal: FiscalData::simples_nacional(ncm),
        active: true,
        version: 1,
    }
}

pub fn catalog(count: usize) -> impl Iterator<Item = Product> {
    (0..count).map(product)
}

/// A valid CPF built from a 9-digit body.
pub fn cpf(body: u32) -> Cpf {
    let mut d: Vec<u32> = format!("{:09}", body % 1_000_000_000)
        .bytes()
        .map(|b| u32::from(b - b'0'))
        .collect();
    // Bodies with all digits equal are invalid CPFs; nudge them.
    if d.iter().all(|x| *x == d[0]) {
        d[8] = (d[8] + 1) % 10;
    }
    for len in [9usize, 10] {
        let sum: u32 = d
            .iter()
            .enumerate()
            .map(|(i, x)| x * (u32::try_from(len + 1 - i).unwrap_or(0)))
            .sum();
        let r = (sum * 10) % 11;
        d.push(if r == 10 { 0 } else { r });
    }
    let text: String = d
        .iter()
        .map(|x| char::from(b'0' + u8::try_from(*x).unwrap_or(0)))
        .collect();
    Cpf::parse(&text).expect("check digits computed by the CPF rule")
}

/// Customer `i`: a balance of zero and an overdraft limit between R$ 100 and R$ 500.
pub fn customer(i: usize) -> Customer {
    const FIRST: &[&str] = &[
        "Ana", "Bruno", "Carla", "Diego", "Elisa", "Fábio", "Gisele", "Hugo",
    ];
    const LAST: &[&str] = &["Souza", "Oliveira", "Santos", "Pereira", "Lima", "Araújo"];
    Customer {
        id: CustomerId::new(),
        name: format!(
            "{} {} {}",
            FIRST[i % FIRST.len()],
            LAST[(i / 8) % LAST.len()],
            i
        ),
        tax_id: Some(TaxId::Cpf(cpf(
            u32::try_from(123_456 + i * 7919).unwrap_or(1)
        ))),
        phone: None,
        email: None,
        balance: Money::ZERO,
        overdraft_limit: Money::from_centavos(10_000 + i64::try_from(i % 5).unwrap_or(0) * 10_000),
        active: true,
        version: 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_products_and_customers_are_valid() {
        let products: Vec<Product> = catalog(500).collect();
        for p in &products {
            p.validate().unwrap_or_else(|e| panic!("{}: {e:?}", p.name));
        }
        let mut names: Vec<&str> = products.iter().map(|p| p.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(
            names.len(),
            500,
            "names are unique so searches are unambiguous"
        );
        assert!(
            products.iter().any(|p| p.unit == Unit::Kilogram),
            "weighed goods included"
        );
        for i in 0..50 {
            customer(i).validate().expect("valid customer");
        }
        assert_eq!(cpf(111_111_111).as_str().len(), 11);
    }
}
