-- The rows a push writes by the thousand carry no foreign keys. PostgreSQL checks a foreign key
-- with one query per inserted row (no batching), which was 40% of a push's database time; the
-- values are the push's own: store_id and device_id come from the authenticated device's row, a
-- line's sale_id from the sale written beside it in the same transaction. As for product_id and
-- customer_id (never keys here), push checks every id a till names before writing.
-- SQLite cannot drop a constraint, so each table is rebuilt (the same SQL for both backends).

CREATE TABLE sale_lines_new (
  sale_id TEXT NOT NULL,
  line_no BIGINT NOT NULL,
  product_id TEXT NOT NULL,
  quantity BIGINT NOT NULL,
  unit_price_cents BIGINT NOT NULL,
  total_cents BIGINT NOT NULL,
  PRIMARY KEY (sale_id, line_no)
);
INSERT INTO sale_lines_new (sale_id, line_no, product_id, quantity, unit_price_cents, total_cents)
  SELECT sale_id, line_no, product_id, quantity, unit_price_cents, total_cents FROM sale_lines;
DROP TABLE sale_lines;
ALTER TABLE sale_lines_new RENAME TO sale_lines;

CREATE TABLE stock_deltas_new (
  id TEXT PRIMARY KEY NOT NULL,
  store_id TEXT NOT NULL,
  branch_id TEXT NOT NULL,
  product_id TEXT NOT NULL,
  delta BIGINT NOT NULL,
  sale_id TEXT,
  reason TEXT NOT NULL,
  version BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);
INSERT INTO stock_deltas_new (id, store_id, branch_id, product_id, delta, sale_id, reason, version, created_at)
  SELECT id, store_id, branch_id, product_id, delta, sale_id, reason, version, created_at FROM stock_deltas;
DROP TABLE stock_deltas;
ALTER TABLE stock_deltas_new RENAME TO stock_deltas;

CREATE TABLE balance_deltas_new (
  id TEXT PRIMARY KEY NOT NULL,
  store_id TEXT NOT NULL,
  branch_id TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  delta_cents BIGINT NOT NULL,
  sale_id TEXT,
  reason TEXT NOT NULL,
  version BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);
INSERT INTO balance_deltas_new (id, store_id, branch_id, customer_id, delta_cents, sale_id, reason, version, created_at)
  SELECT id, store_id, branch_id, customer_id, delta_cents, sale_id, reason, version, created_at FROM balance_deltas;
DROP TABLE balance_deltas;
ALTER TABLE balance_deltas_new RENAME TO balance_deltas;
CREATE INDEX balance_deltas_by_customer ON balance_deltas(customer_id);

CREATE TABLE flags_new (
  id TEXT PRIMARY KEY NOT NULL,
  store_id TEXT NOT NULL,
  branch_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  subject_id TEXT NOT NULL,
  sale_id TEXT NOT NULL,
  amount_after BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);
INSERT INTO flags_new (id, store_id, branch_id, kind, subject_id, sale_id, amount_after, created_at)
  SELECT id, store_id, branch_id, kind, subject_id, sale_id, amount_after, created_at FROM flags;
DROP TABLE flags;
ALTER TABLE flags_new RENAME TO flags;
CREATE INDEX flags_by_store ON flags(store_id, kind);

CREATE TABLE applied_mutations_new (
  device_id TEXT NOT NULL,
  seq BIGINT NOT NULL,
  kind TEXT NOT NULL,
  applied_at BIGINT NOT NULL,
  PRIMARY KEY (device_id, seq)
);
INSERT INTO applied_mutations_new (device_id, seq, kind, applied_at)
  SELECT device_id, seq, kind, applied_at FROM applied_mutations;
DROP TABLE applied_mutations;
ALTER TABLE applied_mutations_new RENAME TO applied_mutations;
