PRAGMA defer_foreign_keys = ON;
CREATE TABLE sales_copy AS SELECT * FROM sales;
DROP TABLE sales;
CREATE TABLE sales (
  id BLOB PRIMARY KEY NOT NULL,
  local_number BIGINT NOT NULL UNIQUE,
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

CREATE TABLE audit_head (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq BIGINT NOT NULL,
  hash BLOB NOT NULL
);
INSERT INTO audit_head (id, seq, hash) SELECT 1, value, hash FROM counters WHERE name = 'audit_head';
DELETE FROM counters WHERE name = 'audit_head';
ALTER TABLE counters DROP COLUMN hash;
CREATE INDEX sales_created_at ON sales(created_at);
CREATE TABLE stock_deltas_by_id (
  id INTEGER PRIMARY KEY,
  product_id BLOB NOT NULL,
  delta BIGINT NOT NULL,
  reason TEXT NOT NULL,
  sale_id BLOB,
  outbox_seq BIGINT NOT NULL,
  at TEXT NOT NULL
);
INSERT INTO stock_deltas_by_id (product_id, delta, reason, sale_id, outbox_seq, at)
  SELECT product_id, delta, reason, sale_id, outbox_seq, at FROM stock_deltas ORDER BY id;
DROP TABLE stock_deltas;
ALTER TABLE stock_deltas_by_id RENAME TO stock_deltas;
CREATE INDEX stock_deltas_product ON stock_deltas(product_id, outbox_seq);
ALTER TABLE stock_levels DROP COLUMN pending;

CREATE TABLE sale_payments_with_key (
  sale_id BLOB NOT NULL REFERENCES sales(id),
  idx INTEGER NOT NULL,
  amount BIGINT NOT NULL,
  method TEXT NOT NULL,
  PRIMARY KEY (sale_id, idx)
);
INSERT INTO sale_payments_with_key (sale_id, idx, amount, method)
  SELECT sale_id, idx, amount, method FROM sale_payments ORDER BY payment_key;
DROP TABLE sale_payments;
ALTER TABLE sale_payments_with_key RENAME TO sale_payments;

CREATE TABLE sale_lines_with_key (
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
  fiscal TEXT NOT NULL,
  PRIMARY KEY (sale_id, line_no)
);
INSERT INTO sale_lines_with_key (sale_id, line_no, product_id, sku, gtin, name, unit, quantity,
    unit_price, gross, discount, total, fiscal)
  SELECT sale_id, line_no, product_id, sku, gtin, name, unit, quantity, unit_price, gross,
    discount, total, fiscal FROM sale_lines ORDER BY line_key;
DROP TABLE sale_lines;
ALTER TABLE sale_lines_with_key RENAME TO sale_lines;

CREATE TABLE audit_log_bigint (
  seq BIGINT PRIMARY KEY NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  subject TEXT NOT NULL,
  outcome TEXT NOT NULL,
  at TEXT NOT NULL,
  prev_hash BLOB NOT NULL,
  hash BLOB NOT NULL
);
INSERT INTO audit_log_bigint (seq, actor, action, subject, outcome, at, prev_hash, hash)
  SELECT seq, actor, action, subject, outcome, at, prev_hash, hash FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_bigint RENAME TO audit_log;

CREATE TABLE outbox_bigint (
  seq BIGINT PRIMARY KEY NOT NULL,
  kind TEXT NOT NULL,
  payload TEXT NOT NULL,
  created_at TEXT NOT NULL
);
INSERT INTO outbox_bigint (seq, kind, payload, created_at)
  SELECT seq, kind, payload, created_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_bigint RENAME TO outbox;
