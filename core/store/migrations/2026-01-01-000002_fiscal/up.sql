-- Fiscal documents (NFC-e) issued for sales: the signed XML, its number and where it stands.
CREATE TABLE fiscal_documents (
  sale_id BLOB PRIMARY KEY NOT NULL REFERENCES sales(id),
  model INTEGER NOT NULL,
  series INTEGER NOT NULL,
  number INTEGER NOT NULL,
  access_key TEXT NOT NULL UNIQUE,
  tp_emis INTEGER NOT NULL,
  status TEXT NOT NULL,
  xml TEXT NOT NULL,
  protocol TEXT,
  rejection_code TEXT,
  rejection_reason TEXT,
  issued_at TEXT NOT NULL,
  -- When a contingency note must reach the tax authority.
  deadline TEXT,
  updated_at TEXT NOT NULL,
  UNIQUE (model, series, number)
);
CREATE INDEX fiscal_documents_status ON fiscal_documents(status, issued_at);

-- Next number per (model, series); each device owns its series.
CREATE TABLE fiscal_counters (
  model INTEGER NOT NULL,
  series INTEGER NOT NULL,
  next_number INTEGER NOT NULL,
  PRIMARY KEY (model, series)
);

-- Numbers taken from a counter: 'reserved' until a sale uses them; a reserved number never used
-- must be declared unused to the tax authority (inutilização), then it becomes 'voided'.
CREATE TABLE fiscal_numbers (
  model INTEGER NOT NULL,
  series INTEGER NOT NULL,
  number INTEGER NOT NULL,
  state TEXT NOT NULL,
  reserved_at TEXT NOT NULL,
  protocol TEXT,
  PRIMARY KEY (model, series, number)
);
