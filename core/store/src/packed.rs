//! Packed records, the form of the store's larger records (a sale's lines and payments, outbox
//! payloads): MessagePack, LZ4-compressed. A sale's lines repeat their fiscal data and shrink to
//! a fraction, so the sale fits on the leaf page its commit writes anyway instead of spilling
//! onto pages that would each be encrypted, MACed and written too. MessagePack keeps what JSON
//! kept (fields by name, so types grow as they do in JSON) in fewer bytes, without the text
//! formatting: a ten-line sale packs in about 60% of JSON's time into a fifth fewer bytes, and
//! reads back in about 60% of the time. Records packed before as JSON (LZ4-compressed) read as
//! they were written.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Result, corrupt};

/// Longest record unpacked: a corrupt size prefix must not make the reader allocate wildly.
const MAX_UNPACKED: usize = 64 << 20;

/// Starts a packed MessagePack record: LZ4 (size-prefixed) follows. Records packed as JSON
/// start with the JSON's size, little-endian and under [`MAX_UNPACKED`], so their fourth byte is
/// at most 4 and never this tag's.
pub(crate) const PACKED_MSGPACK: &[u8] = b"\0rmp";

pub(crate) fn pack<T: Serialize + ?Sized>(value: &T, what: &'static str) -> Result<Vec<u8>> {
    let msgpack = rmp_serde::to_vec_named(value).map_err(|e| corrupt(what, e))?;
    let mut packed = PACKED_MSGPACK.to_vec();
    packed.extend_from_slice(&lz4_flex::block::compress_prepend_size(&msgpack));
    Ok(packed)
}

/// Reads a record back; `packed = false` marks plain JSON written before packing.
pub(crate) fn unpack<T: DeserializeOwned>(
    bytes: &[u8],
    packed: bool,
    what: &'static str,
) -> Result<T> {
    if !packed {
        return serde_json::from_slice(bytes).map_err(|e| corrupt(what, e));
    }
    if let Some(msgpack) = bytes.strip_prefix(PACKED_MSGPACK) {
        let msgpack = decompress(msgpack, what)?;
        return rmp_serde::from_slice(&msgpack).map_err(|e| corrupt(what, e));
    }
    let json = decompress(bytes, what)?;
    serde_json::from_slice(&json).map_err(|e| corrupt(what, e))
}

/// Size-prefixed LZ4, its announced size checked before anything is allocated for it.
fn decompress(bytes: &[u8], what: &'static str) -> Result<Vec<u8>> {
    let size = bytes
        .get(..4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_le_bytes)
        .ok_or_else(|| corrupt(what, "too short"))?;
    if usize::try_from(size).map_or(true, |n| n > MAX_UNPACKED) {
        return Err(corrupt(what, "size out of range"));
    }
    lz4_flex::block::decompress_size_prepended(bytes).map_err(|e| corrupt(what, e))
}

/// Starts a packed text: LZ4 (size-prefixed) follows. A signed NFC-e's XML shrinks to about
/// half, so it no longer spills onto overflow pages; XML never holds U+0000, so a document
/// written as plain text before packing never starts with it.
const PACKED_TEXT: &[u8] = b"\0lz4";

pub(crate) fn pack_text(text: &str) -> Vec<u8> {
    let mut packed = PACKED_TEXT.to_vec();
    packed.extend_from_slice(&lz4_flex::block::compress_prepend_size(text.as_bytes()));
    packed
}

/// Reads back [`pack_text`]'s bytes, or text stored plain.
pub(crate) fn unpack_text(bytes: Vec<u8>, what: &'static str) -> Result<String> {
    let Some(packed) = bytes.strip_prefix(PACKED_TEXT) else {
        return String::from_utf8(bytes).map_err(|e| corrupt(what, e));
    };
    String::from_utf8(decompress(packed, what)?).map_err(|e| corrupt(what, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_text_reads_back_beside_plain_text() {
        let xml =
            "<NFe><det nItem=\"1\"><prod><xProd>Pão Francês</xProd></prod></det></NFe>".repeat(40);
        let packed = pack_text(&xml);
        assert!(packed.len() < xml.len() / 4, "repeated markup packs small");
        assert_eq!(unpack_text(packed.clone(), "test").expect("unpacks"), xml);
        // Text stored plain before packing reads as it is.
        assert_eq!(
            unpack_text(xml.clone().into_bytes(), "test").expect("reads"),
            xml
        );
        // A size prefix claiming gigabytes is refused; a cut record is reported, not read.
        let mut huge = packed.clone();
        huge[PACKED_TEXT.len()..PACKED_TEXT.len() + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(unpack_text(huge, "test").is_err());
        assert!(unpack_text(packed[..packed.len() / 2].to_vec(), "test").is_err());
    }

    #[test]
    fn packed_records_read_back_and_damage_is_reported() {
        let value = vec!["Pão Francês".to_owned(); 50];
        let packed = pack(&value, "test").expect("packs");
        assert!(packed.len() < serde_json::to_vec(&value).expect("json").len() / 4);
        assert_eq!(
            unpack::<Vec<String>>(&packed, true, "test").expect("unpacks"),
            value
        );
        // Plain JSON from before packing still reads.
        let plain = serde_json::to_vec(&value).expect("json");
        assert_eq!(
            unpack::<Vec<String>>(&plain, false, "test").expect("reads"),
            value
        );
        // Records packed as JSON before MessagePack still read.
        let json_packed = lz4_flex::block::compress_prepend_size(&plain);
        assert_eq!(
            unpack::<Vec<String>>(&json_packed, true, "test").expect("reads"),
            value
        );
        // A size prefix claiming gigabytes is refused before any allocation.
        let mut huge = packed.clone();
        let size = PACKED_MSGPACK.len()..PACKED_MSGPACK.len() + 4;
        huge[size].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(unpack::<Vec<String>>(&huge, true, "test").is_err());
        assert!(unpack::<Vec<String>>(&packed[..packed.len() / 2], true, "test").is_err());
    }

    /// The domain's enums are tagged in several ways (internally, adjacently, newtype
    /// variants), which MessagePack must carry as JSON did: every shape a record takes reads
    /// back.
    #[test]
    fn sales_and_mutations_of_every_shape_read_back_from_messagepack() {
        use tenda_domain::*;
        let product = |sku: &str, unit: Unit, gtin: Option<&str>| Product {
            id: ProductId::new(),
            sku: sku.into(),
            gtin: gtin.map(|g| Gtin::parse(g).expect("valid GTIN")),
            name: format!("Produto {sku} ção"),
            unit,
            price: Money::from_centavos(1_899),
            fiscal: FiscalData::simples_nacional("09012100"),
            active: true,
            version: 1,
        };
        let mut cart = Cart::new();
        cart.add(
            &product("PAO", Unit::Kilogram, None),
            Quantity::from_thousandths(1_250),
        )
        .expect("weighed line");
        cart.add(
            &product("CAFE", Unit::Each, Some("7891000315507")),
            Quantity::from_units(3).expect("fits"),
        )
        .expect("unit line");
        cart.set_line_discount(1, Some(Discount::Amount(Money::from_centavos(100))))
            .expect("line discount");
        cart.set_discount(Some(Discount::Percent(500)))
            .expect("sale discount");
        let total = cart.totals().expect("totals").total.centavos();
        let part = Money::from_centavos(total / 4);
        let cash = Money::from_centavos(total - 3 * (total / 4));
        let customer = CustomerId::new();
        cart.customer_id = Some(customer);
        let sale = cart
            .checkout(
                SaleHeader {
                    id: SaleId::new(),
                    device_id: DeviceId::new(),
                    seller_id: UserId::new(),
                    created_at: chrono::Utc::now(),
                },
                vec![
                    Payment::card(part, CardKind::Debit, None, Some("9F8E".into())),
                    Payment {
                        amount: part,
                        method: PaymentMethod::Pix { txid: None },
                    },
                    Payment {
                        amount: part,
                        method: PaymentMethod::CustomerAccount {
                            customer_id: customer,
                        },
                    },
                    Payment::cash(cash, cash.checked_add(part).expect("fits")).expect("enough"),
                ],
            )
            .expect("settled");
        let mutations = [
            Mutation::SaleRecorded(SaleRecorded {
                stock_deltas: sale.stock_deltas().expect("deltas"),
                balance_deltas: sale.balance_deltas().expect("deltas"),
                sale: sale.clone(),
                local_number: 7,
                register_session_id: Some(RegisterSessionId::new()),
                fiscal: None,
            }),
            Mutation::StockAdjusted {
                product_id: ProductId::new(),
                delta: Quantity::from_thousandths(-2_500),
                reason: StockReason::Loss,
                actor: Actor::Device(DeviceId::new()),
                at: chrono::Utc::now(),
            },
            Mutation::AuditAppended {
                seq: 3,
                actor: Actor::User(UserId::new()),
                action: "sale.record".into(),
                subject: format!("sale:{}", sale.id),
                outcome: Outcome::Denied,
                at: chrono::Utc::now(),
                prev_hash: "00".repeat(32),
                hash: "ab".repeat(32),
            },
        ];
        for m in mutations {
            let packed = pack(&m, "test").expect("packs");
            assert_eq!(
                unpack::<Mutation>(&packed, true, "test").expect("unpacks"),
                m
            );
        }
    }
}
