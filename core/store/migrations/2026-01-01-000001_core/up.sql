-- Settings and sync state: small key/value pairs (values are JSON).
CREATE TABLE settings (
  key TEXT PRIMARY KEY NOT NULL,
  value TEXT NOT NULL,
  version BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE products (
  -- Integer key shared with the search index.
  seq INTEGER PRIMARY KEY,
  id BLOB NOT NULL UNIQUE,
  sku TEXT NOT NULL UNIQUE,
  gtin TEXT UNIQUE,
  gtin_kind TEXT,
  name TEXT NOT NULL,
  unit TEXT NOT NULL,
  price BIGINT NOT NULL,
  fiscal TEXT NOT NULL,
  active BOOLEAN NOT NULL,
  version BIGINT NOT NULL
);

-- Accent- and case-insensitive name search ("pao" finds "Pão Francês"), keyed by products.seq.
-- Contentless (names live in products) and maintained by the store in one statement per batch:
-- per-row triggers would flush the index at every statement.
CREATE VIRTUAL TABLE products_fts USING fts5(
  name, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2'
);

CREATE TABLE customers (
  id BLOB PRIMARY KEY NOT NULL,
  name TEXT NOT NULL,
  tax_id TEXT UNIQUE,
  phone TEXT,
  email TEXT,
  -- Last balance the server reported; the current balance adds the deltas not yet pushed.
  server_balance BIGINT NOT NULL,
  balance BIGINT NOT NULL,
  overdraft_limit BIGINT NOT NULL,
  active BOOLEAN NOT NULL,
  version BIGINT NOT NULL
);

CREATE TABLE users (
  id BLOB PRIMARY KEY NOT NULL,
  name TEXT NOT NULL,
  login TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL,
  credential_hash TEXT NOT NULL,
  active BOOLEAN NOT NULL,
  version BIGINT NOT NULL
);

CREATE TABLE stock_levels (
  product_id BLOB PRIMARY KEY NOT NULL REFERENCES products(id),
  server_quantity BIGINT NOT NULL,
  quantity BIGINT NOT NULL,
  updated_at TEXT NOT NULL
);

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
  status TEXT NOT NULL
);
CREATE INDEX sales_created_at ON sales(created_at);

CREATE TABLE sale_lines (
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

CREATE TABLE sale_payments (
  sale_id BLOB NOT NULL REFERENCES sales(id),
  idx INTEGER NOT NULL,
  amount BIGINT NOT NULL,
  method TEXT NOT NULL,
  PRIMARY KEY (sale_id, idx)
);

-- Every local change of stock or balance, kept as a delta (outbox_seq: the mutation that
-- carries it to the server).
CREATE TABLE stock_deltas (
  id INTEGER PRIMARY KEY,
  product_id BLOB NOT NULL,
  delta BIGINT NOT NULL,
  reason TEXT NOT NULL,
  sale_id BLOB,
  outbox_seq BIGINT NOT NULL,
  at TEXT NOT NULL
);
CREATE INDEX stock_deltas_product ON stock_deltas(product_id, outbox_seq);

CREATE TABLE balance_deltas (
  id INTEGER PRIMARY KEY,
  customer_id BLOB NOT NULL,
  delta BIGINT NOT NULL,
  reason TEXT NOT NULL,
  sale_id BLOB,
  outbox_seq BIGINT NOT NULL,
  at TEXT NOT NULL
);
CREATE INDEX balance_deltas_customer ON balance_deltas(customer_id, outbox_seq);

-- Mutations to push, numbered 1, 2, 3… for this device.
CREATE TABLE outbox (
  seq BIGINT PRIMARY KEY NOT NULL,
  kind TEXT NOT NULL,
  payload TEXT NOT NULL,
  created_at TEXT NOT NULL
);

-- Hash-chained audit log; audit_head holds the last link so a deleted tail is detected.
CREATE TABLE audit_log (
  seq BIGINT PRIMARY KEY NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  subject TEXT NOT NULL,
  outcome TEXT NOT NULL,
  at TEXT NOT NULL,
  prev_hash BLOB NOT NULL,
  hash BLOB NOT NULL
);
CREATE TABLE audit_head (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq BIGINT NOT NULL,
  hash BLOB NOT NULL
);

-- Named counters (outbox sequence, sale local numbers) that never go backwards.
CREATE TABLE counters (
  name TEXT PRIMARY KEY NOT NULL,
  value BIGINT NOT NULL
);
