-- A sale commit writes one page per b-tree it touches, and SQLCipher encrypts and MACs every
-- page it writes: these changes cut the b-trees a sale touches, with the same data kept.

-- Outbox and audit log keyed by their sequence as the rowid: one b-tree each, not two.
CREATE TABLE outbox_by_seq (
  seq INTEGER PRIMARY KEY NOT NULL,
  kind TEXT NOT NULL,
  payload TEXT NOT NULL,
  created_at TEXT NOT NULL
);
INSERT INTO outbox_by_seq (seq, kind, payload, created_at)
  SELECT seq, kind, payload, created_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_by_seq RENAME TO outbox;

CREATE TABLE audit_log_by_seq (
  seq INTEGER PRIMARY KEY NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  subject TEXT NOT NULL,
  outcome TEXT NOT NULL,
  at TEXT NOT NULL,
  prev_hash BLOB NOT NULL,
  hash BLOB NOT NULL
);
INSERT INTO audit_log_by_seq (seq, actor, action, subject, outcome, at, prev_hash, hash)
  SELECT seq, actor, action, subject, outcome, at, prev_hash, hash FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_by_seq RENAME TO audit_log;

-- A sale's lines and payments keyed by the sale's local number × 2^20 + their number: they sit
-- together in the table's own b-tree, with no (sale_id, n) index to write beside it.
CREATE TABLE sale_lines_by_number (
  line_key INTEGER PRIMARY KEY NOT NULL,
  sale_id BLOB NOT NULL REFERENCES sales(id),
  line_no INTEGER NOT NULL,
  product_id BLOB NOT NULL,
  sku TEXT NOT NULL,
  gtin TEXT,
  name TEXT NOT NULL,
  unit TEXT NOT NULL,
  quantity BIGINT NOT NULL,
  unit_price BIGINT NOT NULL,
  gross BIGINT NOT NULL,
  discount BIGINT NOT NULL,
  total BIGINT NOT NULL,
  fiscal TEXT NOT NULL
);
INSERT INTO sale_lines_by_number (line_key, sale_id, line_no, product_id, sku, gtin, name, unit,
    quantity, unit_price, gross, discount, total, fiscal)
  SELECT s.local_number * 1048576 + l.line_no, l.sale_id, l.line_no, l.product_id, l.sku, l.gtin,
    l.name, l.unit, l.quantity, l.unit_price, l.gross, l.discount, l.total, l.fiscal
  FROM sale_lines l JOIN sales s ON s.id = l.sale_id;
DROP TABLE sale_lines;
ALTER TABLE sale_lines_by_number RENAME TO sale_lines;

CREATE TABLE sale_payments_by_number (
  payment_key INTEGER PRIMARY KEY NOT NULL,
  sale_id BLOB NOT NULL REFERENCES sales(id),
  idx INTEGER NOT NULL,
  amount BIGINT NOT NULL,
  method TEXT NOT NULL
);
INSERT INTO sale_payments_by_number (payment_key, sale_id, idx, amount, method)
  SELECT s.local_number * 1048576 + p.idx, p.sale_id, p.idx, p.amount, p.method
  FROM sale_payments p JOIN sales s ON s.id = p.sale_id;
DROP TABLE sale_payments;
ALTER TABLE sale_payments_by_number RENAME TO sale_payments;

-- Stock deltas not yet acknowledged by the server, kept per product beside its level: a sale
-- then updates the level row it already touches, instead of one page of a (product, seq) index
-- per product sold. Deltas are keyed by their outbox number × 2^20 + their place in the
-- mutation, so acknowledgement settles them by key range, with no index to write.
ALTER TABLE stock_levels ADD COLUMN pending BIGINT NOT NULL DEFAULT 0;
UPDATE stock_levels SET pending = (
  SELECT coalesce(sum(d.delta), 0) FROM stock_deltas d
  WHERE d.product_id = stock_levels.product_id
    AND d.outbox_seq > coalesce((SELECT value FROM counters WHERE name = 'outbox_pushed_through'), 0)
);
CREATE TABLE stock_deltas_by_outbox (
  id INTEGER PRIMARY KEY,
  product_id BLOB NOT NULL,
  delta BIGINT NOT NULL,
  reason TEXT NOT NULL,
  sale_id BLOB,
  outbox_seq BIGINT NOT NULL,
  at TEXT NOT NULL
);
INSERT INTO stock_deltas_by_outbox (id, product_id, delta, reason, sale_id, outbox_seq, at)
  SELECT outbox_seq * 1048576 + row_number() OVER (PARTITION BY outbox_seq ORDER BY id) - 1,
    product_id, delta, reason, sale_id, outbox_seq, at
  FROM stock_deltas;
DROP TABLE stock_deltas;
ALTER TABLE stock_deltas_by_outbox RENAME TO stock_deltas;

-- Nothing reads sales by created_at (a sale's UUIDv7 id and its local number both follow the
-- order of recording), so the index was only a page to write per sale.
DROP INDEX sales_created_at;

-- The audit chain's head (last seq and hash) kept as a row of counters, whose page every sale
-- writes anyway, instead of in a table of its own.
ALTER TABLE counters ADD COLUMN hash BLOB;
INSERT INTO counters (name, value, hash) SELECT 'audit_head', seq, hash FROM audit_head;
DROP TABLE audit_head;

-- Sales keyed by their local number as the rowid: one index fewer to write per sale. The
-- table is rebuilt under its own name, so the lines, payments and fiscal documents that
-- reference it keep doing so; with the checks deferred to commit, every one of them must find
-- its sale again.
PRAGMA defer_foreign_keys = ON;
CREATE TABLE sales_copy AS SELECT * FROM sales;
DROP TABLE sales;
CREATE TABLE sales (
  id BLOB NOT NULL UNIQUE,
  local_number INTEGER PRIMARY KEY NOT NULL,
  device_id BLOB NOT NULL,
  seller_id BLOB NOT NULL,
  customer_id BLOB REFERENCES customers(id),
  consumer_tax_id TEXT,
  register_session_id BLOB,
  created_at TEXT NOT NULL,
  gross BIGINT NOT NULL,
  discount BIGINT NOT NULL,
  total BIGINT NOT NULL,
  change BIGINT NOT NULL,
  status TEXT NOT NULL,
  folio BIGINT
);
INSERT INTO sales (id, local_number, device_id, seller_id, customer_id, consumer_tax_id, register_session_id,
    created_at, gross, discount, total, change, status, folio)
  SELECT id, local_number, device_id, seller_id, customer_id, consumer_tax_id, register_session_id,
    created_at, gross, discount, total, change, status, folio FROM sales_copy;
DROP TABLE sales_copy;
CREATE INDEX sales_register_session ON sales(register_session_id);
