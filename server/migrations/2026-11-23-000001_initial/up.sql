-- Portable SQL: the same migration runs on SQLite and PostgreSQL.
-- Times are unix milliseconds; money is centavos; quantities are thousandths of a unit.
CREATE TABLE stores (
  id TEXT PRIMARY KEY NOT NULL,
  name TEXT NOT NULL,
  next_folio BIGINT NOT NULL,
  change_seq BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE branches (
  id TEXT PRIMARY KEY NOT NULL,
  store_id TEXT NOT NULL REFERENCES stores(id),
  name TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE users (
  id TEXT PRIMARY KEY NOT NULL,
  store_id TEXT NOT NULL REFERENCES stores(id),
  name TEXT NOT NULL,
  login TEXT NOT NULL,
  role TEXT NOT NULL,
  credential_hash TEXT NOT NULL,
  active BOOLEAN NOT NULL,
  version BIGINT NOT NULL,
  UNIQUE (store_id, login)
);
CREATE INDEX users_by_version ON users(store_id, version);
CREATE TABLE api_tokens (
  token_hash TEXT PRIMARY KEY NOT NULL,
  user_id TEXT NOT NULL REFERENCES users(id),
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE TABLE enrollment_codes (
  code_hash TEXT PRIMARY KEY NOT NULL,
  store_id TEXT NOT NULL REFERENCES stores(id),
  branch_id TEXT NOT NULL REFERENCES branches(id),
  nfce_series BIGINT NOT NULL,
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  used_at BIGINT,
  device_id TEXT
);
CREATE TABLE devices (
  id TEXT PRIMARY KEY NOT NULL,
  store_id TEXT NOT NULL REFERENCES stores(id),
  branch_id TEXT NOT NULL REFERENCES branches(id),
  name TEXT NOT NULL,
  credential_hash TEXT NOT NULL UNIQUE,
  nfce_series BIGINT NOT NULL,
  last_seq BIGINT NOT NULL,
  revoked BOOLEAN NOT NULL,
  enrolled_at BIGINT NOT NULL,
  last_seen_at BIGINT
);
CREATE TABLE applied_mutations (
  device_id TEXT NOT NULL REFERENCES devices(id),
  seq BIGINT NOT NULL,
  kind TEXT NOT NULL,
  applied_at BIGINT NOT NULL,
  PRIMARY KEY (device_id, seq)
);
CREATE TABLE products (
  id TEXT PRIMARY KEY NOT NULL,
  store_id TEXT NOT NULL REFERENCES stores(id),
  sku TEXT NOT NULL,
  gtin TEXT,
  name TEXT NOT NULL,
  unit TEXT NOT NULL,
  price_cents BIGINT NOT NULL,
  fiscal TEXT NOT NULL,
  active BOOLEAN NOT NULL,
  version BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  UNIQUE (store_id, sku)
);
CREATE INDEX products_by_version ON products(store_id, version);
-- Pull pages walk a store's rows in id order.
CREATE INDEX products_by_store ON products(store_id, id);
CREATE TABLE branch_prices (
  branch_id TEXT NOT NULL REFERENCES branches(id),
  product_id TEXT NOT NULL REFERENCES products(id),
  price_cents BIGINT NOT NULL,
  PRIMARY KEY (branch_id, product_id)
);
CREATE TABLE customers (
  id TEXT PRIMARY KEY NOT NULL,
  store_id TEXT NOT NULL REFERENCES stores(id),
  name TEXT NOT NULL,
  tax_id TEXT,
  phone TEXT,
  -- How far below zero the balance may go (balances are negative while the customer owes).
  overdraft_limit_cents BIGINT NOT NULL,
  active BOOLEAN NOT NULL,
  version BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX customers_by_version ON customers(store_id, version);
CREATE INDEX customers_by_store ON customers(store_id, id);
-- Derived: the running sum of balance_deltas, updated in the same transaction as each delta.
CREATE TABLE customer_balances (
  customer_id TEXT PRIMARY KEY NOT NULL,
  store_id TEXT NOT NULL REFERENCES stores(id),
  balance_cents BIGINT NOT NULL,
  version BIGINT NOT NULL
);
CREATE INDEX customer_balances_by_version ON customer_balances(store_id, version);
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
CREATE INDEX balance_deltas_by_customer ON balance_deltas(customer_id);
-- Derived: the running sum of stock_deltas per branch, updated with each delta.
CREATE TABLE stock_levels (
  branch_id TEXT NOT NULL,
  product_id TEXT NOT NULL,
  store_id TEXT NOT NULL REFERENCES stores(id),
  quantity BIGINT NOT NULL,
  version BIGINT NOT NULL,
  PRIMARY KEY (branch_id, product_id)
);
CREATE INDEX stock_levels_by_version ON stock_levels(branch_id, version);
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
CREATE INDEX stock_deltas_by_product ON stock_deltas(branch_id, product_id);
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
CREATE INDEX sales_by_device ON sales(device_id, device_seq);
CREATE TABLE sale_lines (
  sale_id TEXT NOT NULL REFERENCES sales(id),
  line_no BIGINT NOT NULL,
  product_id TEXT NOT NULL,
  quantity BIGINT NOT NULL,
  unit_price_cents BIGINT NOT NULL,
  total_cents BIGINT NOT NULL,
  PRIMARY KEY (sale_id, line_no)
);
CREATE TABLE cash_movements (
  id TEXT PRIMARY KEY NOT NULL,
  store_id TEXT NOT NULL REFERENCES stores(id),
  branch_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  amount_cents BIGINT NOT NULL,
  payload TEXT NOT NULL,
  received_at BIGINT NOT NULL
);
-- Device records kept as pushed: audit entries (their hash chain verifies end to end) and
-- fiscal number voids.
CREATE TABLE device_records (
  device_id TEXT NOT NULL,
  device_seq BIGINT NOT NULL,
  store_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  payload TEXT NOT NULL,
  received_at BIGINT NOT NULL,
  PRIMARY KEY (device_id, device_seq)
);
-- Oversold stock and overdrawn customers, with the sale that caused each.
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
CREATE INDEX flags_by_store ON flags(store_id, kind);
CREATE TABLE settings (
  store_id TEXT NOT NULL REFERENCES stores(id),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  version BIGINT NOT NULL,
  PRIMARY KEY (store_id, key)
);
-- Back-office writes: who did what to what, and how it ended.
CREATE TABLE audit_log (
  id TEXT PRIMARY KEY NOT NULL,
  store_id TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  subject TEXT NOT NULL,
  outcome TEXT NOT NULL,
  at BIGINT NOT NULL
);
CREATE INDEX audit_log_by_store ON audit_log(store_id, at);
