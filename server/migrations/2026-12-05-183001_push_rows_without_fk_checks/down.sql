-- The foreign keys back (each table rebuilt as in up.sql).

CREATE TABLE sales_old AS SELECT * FROM sales;
DROP TABLE sales;
CREATE TABLE sales (
  id TEXT PRIMARY KEY NOT NULL,
  store_id TEXT NOT NULL REFERENCES stores(id),
  branch_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  device_seq BIGINT NOT NULL,
  folio BIGINT NOT NULL,
  local_number TEXT,
  customer_id TEXT,
  total_cents BIGINT NOT NULL,
  on_account_cents BIGINT NOT NULL,
  fiscal_status TEXT NOT NULL,
  access_key TEXT,
  recorded_at BIGINT NOT NULL,
  received_at BIGINT NOT NULL,
  voided_at BIGINT,
  payload TEXT NOT NULL,
  UNIQUE (store_id, folio)
);
INSERT INTO sales (id, store_id, branch_id, device_id, device_seq, folio, local_number, customer_id, total_cents, on_account_cents, fiscal_status, access_key, recorded_at, received_at, voided_at, payload)
  SELECT id, store_id, branch_id, device_id, device_seq, folio, local_number, customer_id, total_cents, on_account_cents, fiscal_status, access_key, recorded_at, received_at, voided_at, payload FROM sales_old;
DROP TABLE sales_old;
CREATE INDEX sales_by_device ON sales(device_id, device_seq);

CREATE TABLE sale_lines_old AS SELECT * FROM sale_lines;
DROP TABLE sale_lines;
CREATE TABLE sale_lines (
  sale_id TEXT NOT NULL REFERENCES sales(id),
  line_no BIGINT NOT NULL,
  product_id TEXT NOT NULL,
  quantity BIGINT NOT NULL,
  unit_price_cents BIGINT NOT NULL,
  total_cents BIGINT NOT NULL,
  PRIMARY KEY (sale_id, line_no)
);
INSERT INTO sale_lines (sale_id, line_no, product_id, quantity, unit_price_cents, total_cents)
  SELECT sale_id, line_no, product_id, quantity, unit_price_cents, total_cents FROM sale_lines_old;
DROP TABLE sale_lines_old;

CREATE TABLE stock_deltas_old AS SELECT * FROM stock_deltas;
DROP TABLE stock_deltas;
CREATE TABLE stock_deltas (
  id TEXT PRIMARY KEY NOT NULL,
  store_id TEXT NOT NULL REFERENCES stores(id),
  branch_id TEXT NOT NULL,
  product_id TEXT NOT NULL,
  delta BIGINT NOT NULL,
  sale_id TEXT,
  reason TEXT NOT NULL,
  version BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);
INSERT INTO stock_deltas (id, store_id, branch_id, product_id, delta, sale_id, reason, version, created_at)
  SELECT id, store_id, branch_id, product_id, delta, sale_id, reason, version, created_at FROM stock_deltas_old;
DROP TABLE stock_deltas_old;

CREATE TABLE balance_deltas_old AS SELECT * FROM balance_deltas;
DROP TABLE balance_deltas;
CREATE TABLE balance_deltas (
  id TEXT PRIMARY KEY NOT NULL,
  store_id TEXT NOT NULL REFERENCES stores(id),
  branch_id TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  delta_cents BIGINT NOT NULL,
  sale_id TEXT,
  reason TEXT NOT NULL,
  version BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);
INSERT INTO balance_deltas (id, store_id, branch_id, customer_id, delta_cents, sale_id, reason, version, created_at)
  SELECT id, store_id, branch_id, customer_id, delta_cents, sale_id, reason, version, created_at FROM balance_deltas_old;
DROP TABLE balance_deltas_old;
CREATE INDEX balance_deltas_by_customer ON balance_deltas(customer_id);

CREATE TABLE flags_old AS SELECT * FROM flags;
DROP TABLE flags;
CREATE TABLE flags (
  id TEXT PRIMARY KEY NOT NULL,
  store_id TEXT NOT NULL REFERENCES stores(id),
  branch_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  subject_id TEXT NOT NULL,
  sale_id TEXT NOT NULL,
  amount_after BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);
INSERT INTO flags (id, store_id, branch_id, kind, subject_id, sale_id, amount_after, created_at)
  SELECT id, store_id, branch_id, kind, subject_id, sale_id, amount_after, created_at FROM flags_old;
DROP TABLE flags_old;
CREATE INDEX flags_by_store ON flags(store_id, kind);

CREATE TABLE applied_mutations_old AS SELECT * FROM applied_mutations;
DROP TABLE applied_mutations;
CREATE TABLE applied_mutations (
  device_id TEXT NOT NULL REFERENCES devices(id),
  seq BIGINT NOT NULL,
  kind TEXT NOT NULL,
  applied_at BIGINT NOT NULL,
  PRIMARY KEY (device_id, seq)
);
INSERT INTO applied_mutations (device_id, seq, kind, applied_at)
  SELECT device_id, seq, kind, applied_at FROM applied_mutations_old;
DROP TABLE applied_mutations_old;
