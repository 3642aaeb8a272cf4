//! Normal notes that timed out and were replaced by their contingency twins. SEFAZ may have
//! authorized such a note after all; when it refuses the twin for that reason, the original,
//! with the protocol SEFAZ gives for it, is the sale's legal record. Kept until then, one row
//! per sale, written in the transaction of the change they belong to
//! ([`LocalChange::superseded_notes`](crate::LocalChange::superseded_notes)).

use diesel::prelude::*;
use tenda_domain::SaleId;

use crate::error::{Error, Result};
use crate::schema::superseded_notes;
use crate::store::Store;

/// A sale's normal note, as signed before its twin replaced it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SupersededNote {
    pub sale_id: SaleId,
    pub access_key: String,
    pub signed_xml: String,
}

/// Keeps `note` (replacing an earlier one of the same sale) inside the caller's transaction.
pub(crate) fn keep_superseded(c: &mut SqliteConnection, note: &SupersededNote) -> Result<()> {
    if note.access_key.len() != 44 || note.signed_xml.trim().is_empty() {
        return Err(Error::InvalidInput {
            field: "superseded_notes",
            reason: "a superseded note needs its 44-digit access key and its signed XML".into(),
        });
    }
    diesel::replace_into(superseded_notes::table)
        .values((
            superseded_notes::sale_id.eq(note.sale_id.to_string()),
            superseded_notes::access_key.eq(&note.access_key),
            superseded_notes::signed_xml.eq(&note.signed_xml),
        ))
        .execute(c)?;
    Ok(())
}

/// Forgets the superseded notes of `sales` (settled: their original was adopted).
pub(crate) fn drop_superseded(c: &mut SqliteConnection, sales: &[SaleId]) -> Result<()> {
    if !sales.is_empty() {
        let ids: Vec<String> = sales.iter().map(ToString::to_string).collect();
        diesel::delete(superseded_notes::table.filter(superseded_notes::sale_id.eq_any(ids)))
            .execute(c)?;
    }
    Ok(())
}

impl Store {
    /// The note `sale`'s contingency twin replaced, if it is still kept.
    pub fn superseded_note(&mut self, sale: SaleId) -> Result<Option<SupersededNote>> {
        let row: Option<(String, String)> = superseded_notes::table
            .find(sale.to_string())
            .select((superseded_notes::access_key, superseded_notes::signed_xml))
            .first(&mut self.conn)
            .optional()?;
        Ok(row.map(|(access_key, signed_xml)| SupersededNote {
            sale_id: sale,
            access_key,
            signed_xml,
        }))
    }
}
