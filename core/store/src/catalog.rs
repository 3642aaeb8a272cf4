//! Catalog repository: products, barcode/SKU lookup, accent-insensitive name search, stock.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use tenda_domain::{
    Actor, AuditEvent, FiscalData, Gtin, GtinKind, Mutation, Outcome, Product, ProductId, Quantity,
    StockDelta, StockReason, Unit,
};

use crate::audit::append_audit;
use crate::error::{Error, Result, corrupt};
use crate::outbox::append_outbox;
use crate::schema::{products, stock_levels};
use crate::store::{Store, ts};

#[derive(Queryable, Selectable, QueryableByName, Insertable, AsChangeset)]
#[diesel(table_name = products, treat_none_as_null = true)]
pub(crate) struct ProductRow {
    pub id: Vec<u8>,
    pub sku: String,
    pub gtin: Option<String>,
    pub gtin_kind: Option<String>,
    pub name: String,
    pub unit: String,
    pub price: i64,
    pub fiscal: String,
    pub active: bool,
    pub version: i64,
}

fn kind_code(kind: GtinKind) -> &'static str {
    match kind {
        GtinKind::Ean8 => "ean8",
        GtinKind::Gtin12 => "gtin12",
        GtinKind::Ean13 => "ean13",
        GtinKind::Gtin14 => "gtin14",
        GtinKind::Internal => "internal",
    }
}

pub(crate) fn unit_from_code(code: &str) -> Result<Unit> {
    Unit::from_code(code).map_err(|e| corrupt("unit", e))
}

impl ProductRow {
    pub(crate) fn encode(p: &Product) -> Result<ProductRow> {
        Ok(ProductRow {
            id: p.id.as_bytes().to_vec(),
            sku: p.sku.trim().to_owned(),
            gtin: p.gtin.as_ref().map(|g| g.as_str().to_owned()),
            gtin_kind: p.gtin.as_ref().map(|g| kind_code(g.kind()).to_owned()),
            name: p.name.trim().to_owned(),
            unit: p.unit.code().to_owned(),
            price: p.price.centavos(),
            fiscal: serde_json::to_string(&p.fiscal).map_err(|e| corrupt("fiscal data", e))?,
            active: p.active,
            version: p.version,
        })
    }

    pub(crate) fn decode(self) -> Result<Product> {
        let gtin = match (self.gtin, self.gtin_kind.as_deref()) {
            (Some(code), Some("internal")) => {
                Some(Gtin::internal(&code).map_err(|e| corrupt("gtin", e))?)
            }
            (Some(code), _) => Some(Gtin::parse(&code).map_err(|e| corrupt("gtin", e))?),
            (None, _) => None,
        };
        let fiscal: FiscalData =
            serde_json::from_str(&self.fiscal).map_err(|e| corrupt("fiscal data", e))?;
        Ok(Product {
            id: ProductId::from_slice(&self.id).map_err(|e| corrupt("product id", e))?,
            sku: self.sku,
            gtin,
            name: self.name,
            unit: unit_from_code(&self.unit)?,
            price: tenda_domain::Money::from_centavos(self.price),
            fiscal,
            active: self.active,
            version: self.version,
        })
    }
}

diesel::define_sql_function! {
    /// SQLite's rowid of the last inserted row on this connection.
    fn last_insert_rowid() -> BigInt;
}

/// A search-index change, applied with the others at the end of the transaction (one
/// statement per batch rather than one index flush per row).
pub(crate) struct FtsChange {
    seq: i64,
    name: String,
    existed: bool,
}

/// What an upsert did.
pub(crate) struct Upserted {
    pub applied: bool,
    pub fts: Option<FtsChange>,
}

/// Inserts or replaces a product inside the caller's transaction. With `only_newer`, a stored
/// product with a higher version wins (last writer wins by server version). The search index
/// change is returned for [`flush_fts`].
pub(crate) fn upsert_product(
    conn: &mut SqliteConnection,
    p: &Product,
    only_newer: bool,
) -> Result<Upserted> {
    p.validate()?;
    let row = ProductRow::encode(p)?;
    let stored: Option<(i64, i64, String)> = products::table
        .filter(products::id.eq(&row.id))
        .select((products::seq, products::version, products::name))
        .first(conn)
        .optional()?;
    if only_newer && stored.as_ref().is_some_and(|(_, v, _)| *v > p.version) {
        return Ok(Upserted {
            applied: false,
            fts: None,
        });
    }
    // Plain INSERT or UPDATE rather than one upsert: diesel caches these prepared statements,
    // and re-parsing an upsert for every row of a 300,000-product load dominated its cost.
    let seq = match &stored {
        Some((seq, _, _)) => {
            diesel::update(products::table.filter(products::seq.eq(seq)))
                .set(&row)
                .execute(conn)?;
            *seq
        }
        None => {
            diesel::insert_into(products::table)
                .values(&row)
                .execute(conn)?;
            diesel::select(last_insert_rowid()).get_result::<i64>(conn)?
        }
    };
    let fts = match stored {
        None => Some(FtsChange {
            seq,
            name: row.name,
            existed: false,
        }),
        Some((_, _, old)) if old != row.name => Some(FtsChange {
            seq,
            name: row.name,
            existed: true,
        }),
        Some(_) => None,
    };
    Ok(Upserted { applied: true, fts })
}

/// Applies collected search-index changes: one DELETE and one multi-row INSERT per chunk.
pub(crate) fn flush_fts(conn: &mut SqliteConnection, changes: &mut Vec<FtsChange>) -> Result<()> {
    for chunk in changes.chunks(400) {
        let stale: Vec<i64> = chunk.iter().filter(|c| c.existed).map(|c| c.seq).collect();
        if !stale.is_empty() {
            let sql = format!(
                "DELETE FROM products_fts WHERE rowid IN ({})",
                vec!["?"; stale.len()].join(",")
            );
            let mut q = diesel::sql_query(sql).into_boxed();
            for s in stale {
                q = q.bind::<BigInt, _>(s);
            }
            q.execute(conn)?;
        }
        let sql = format!(
            "INSERT INTO products_fts(rowid, name) VALUES {}",
            vec!["(?, ?)"; chunk.len()].join(",")
        );
        let mut q = diesel::sql_query(sql).into_boxed();
        for c in chunk {
            q = q.bind::<BigInt, _>(c.seq).bind::<Text, _>(c.name.clone());
        }
        q.execute(conn)?;
    }
    changes.clear();
    Ok(())
}

/// Turns what a user typed into an FTS5 query: every word must match (whole, or as a prefix).
/// Quotes keep FTS syntax characters in the input from being interpreted.
pub(crate) fn fts_query(text: &str, prefix: bool) -> Option<String> {
    let star = if prefix { "*" } else { "" };
    let terms: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .take(8)
        .map(|t| format!("\"{t}\"{star}"))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

/// Sets the server's stock level (the local one adds the unacknowledged deltas on read).
pub(crate) fn set_server_stock(
    conn: &mut SqliteConnection,
    product: ProductId,
    server: Quantity,
    at: DateTime<Utc>,
) -> Result<()> {
    let pid = product.as_bytes().to_vec();
    diesel::insert_into(stock_levels::table)
        .values((
            stock_levels::product_id.eq(&pid),
            stock_levels::server_quantity.eq(server.thousandths()),
            stock_levels::updated_at.eq(ts(at)),
        ))
        .on_conflict(stock_levels::product_id)
        .do_update()
        .set((
            stock_levels::server_quantity.eq(server.thousandths()),
            stock_levels::updated_at.eq(ts(at)),
        ))
        .execute(conn)?;
    Ok(())
}

impl Store {
    /// Adds or replaces a product (matched by id). The SKU and GTIN must not belong to another
    /// product.
    pub fn save_product(&mut self, product: &Product) -> Result<()> {
        let written = self.write(|c| {
            let mut fts: Vec<FtsChange> =
                upsert_product(c, product, false)?.fts.into_iter().collect();
            flush_fts(c, &mut fts)
        });
        self.catalog_epoch.advance();
        written
    }

    pub fn product(&mut self, id: ProductId) -> Result<Option<Product>> {
        let row: Option<ProductRow> = products::table
            .filter(products::id.eq(id.as_bytes().to_vec()))
            .select(ProductRow::as_select())
            .first(&mut self.conn)
            .optional()?;
        row.map(ProductRow::decode).transpose()
    }

    /// Exact lookup of what a scanner read or a cashier typed: the GTIN/internal barcode first,
    /// then the SKU.
    pub fn product_by_code(&mut self, code: &str) -> Result<Option<Product>> {
        let code = code.trim();
        if code.is_empty() {
            return Ok(None);
        }
        // One statement for both indexes (a scan is one lookup); a barcode wins over another
        // product's SKU that happens to be the same digits.
        let rows: Vec<ProductRow> = products::table
            .filter(products::gtin.eq(code).or(products::sku.eq(code)))
            .select(ProductRow::as_select())
            .limit(2)
            .load(&mut self.conn)?;
        let row = match rows.iter().position(|r| r.gtin.as_deref() == Some(code)) {
            Some(i) => rows.into_iter().nth(i),
            None => rows.into_iter().next(),
        };
        row.map(ProductRow::decode).transpose()
    }

    pub fn product_by_sku(&mut self, sku: &str) -> Result<Option<Product>> {
        let row: Option<ProductRow> = products::table
            .filter(products::sku.eq(sku.trim()))
            .select(ProductRow::as_select())
            .first(&mut self.conn)
            .optional()?;
        row.map(ProductRow::decode).transpose()
    }

    /// Name search, accent- and case-insensitive, every word a prefix ("pao fr" finds "Pão
    /// Francês"). Names containing the typed words whole come first, then prefix matches;
    /// within each group shorter names first. Inactive products are left out.
    ///
    /// Full relevance ranking (bm25) costs tens of milliseconds when a short prefix matches
    /// thousands of products; taking the first matches of each tier keeps every keystroke fast.
    pub fn search_products(&mut self, text: &str, limit: u32) -> Result<Vec<Product>> {
        let (Some(exact), Some(prefix)) = (fts_query(text, false), fts_query(text, true)) else {
            return Ok(Vec::new());
        };
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let mut found: Vec<ProductRow> = Vec::new();
        for q in [exact, prefix] {
            if found.len() >= limit {
                break;
            }
            let mut tier: Vec<ProductRow> = diesel::sql_query(
                "SELECT p.id, p.sku, p.gtin, p.gtin_kind, p.name, p.unit, p.price, p.fiscal, p.active, p.version \
                 FROM products_fts JOIN products p ON p.seq = products_fts.rowid \
                 WHERE products_fts MATCH ? AND p.active LIMIT ?",
            )
            .bind::<Text, _>(q)
            .bind::<BigInt, _>(i64::try_from(limit + found.len()).unwrap_or(i64::MAX))
            .load(&mut self.conn)?;
            tier.retain(|r| !found.iter().any(|f| f.id == r.id));
            tier.sort_by(|a, b| {
                a.name
                    .chars()
                    .count()
                    .cmp(&b.name.chars().count())
                    .then_with(|| a.name.cmp(&b.name))
            });
            found.extend(tier);
        }
        found.truncate(limit);
        found.into_iter().map(ProductRow::decode).collect()
    }

    pub fn product_count(&mut self) -> Result<u64> {
        let n: i64 = products::table.count().get_result(&mut self.conn)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Current stock as this device knows it: the server's last level plus the local changes
    /// the server has not acknowledged yet.
    pub fn stock_level(&mut self, product: ProductId) -> Result<Quantity> {
        let id = product.as_bytes().to_vec();
        let pending = &mut self.pending_stock;
        // One read transaction: the server level and the deltas come from the same snapshot.
        self.conn.transaction(|c| {
            let server: Option<i64> = stock_levels::table
                .filter(stock_levels::product_id.eq(&id))
                .select(stock_levels::server_quantity)
                .get_result(c)
                .optional()?;
            let local = pending.of(c, &id)?;
            Ok(Quantity::from_thousandths(
                server.unwrap_or(0).saturating_add(local),
            ))
        })
    }

    /// Adjusts stock outside a sale (receiving, loss, count), with its outbox mutation and audit
    /// entry, in one transaction. Returns the outbox number.
    pub fn adjust_stock(
        &mut self,
        delta: &StockDelta,
        actor: Actor,
        at: DateTime<Utc>,
    ) -> Result<u64> {
        if delta.delta == Quantity::ZERO {
            return Err(Error::InvalidInput {
                field: "delta",
                reason: "must not be zero".into(),
            });
        }
        if matches!(
            delta.reason,
            StockReason::Sale { .. } | StockReason::SaleVoided { .. }
        ) {
            return Err(Error::InvalidInput {
                field: "reason",
                reason: "sale deltas are recorded with the sale".into(),
            });
        }
        self.write(|c| {
            let exists: i64 = products::table
                .filter(products::id.eq(delta.product_id.as_bytes().to_vec()))
                .count()
                .get_result(c)?;
            if exists == 0 {
                return Err(Error::NotFound("product"));
            }
            let seq = append_outbox(
                c,
                &Mutation::StockAdjusted {
                    product_id: delta.product_id,
                    delta: delta.delta,
                    reason: delta.reason.clone(),
                    actor,
                    at,
                },
            )?;
            append_audit(
                c,
                &AuditEvent {
                    actor,
                    action: "stock.adjust".into(),
                    subject: format!("product:{}", delta.product_id),
                    outcome: Outcome::Succeeded,
                    at,
                },
            )?;
            Ok(seq)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fts_query_quotes_every_word_as_a_prefix() {
        assert_eq!(
            fts_query("pao fr", true).as_deref(),
            Some("\"pao\"* \"fr\"*")
        );
        assert_eq!(
            fts_query("pao fr", false).as_deref(),
            Some("\"pao\" \"fr\"")
        );
        assert_eq!(
            fts_query("\"OR\" NEAR(", true).as_deref(),
            Some("\"OR\"* \"NEAR\"*")
        );
        assert_eq!(fts_query("  -- ", true), None);
    }
}
