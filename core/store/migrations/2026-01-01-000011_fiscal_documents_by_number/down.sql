ALTER TABLE sales DROP COLUMN fiscal_key;

CREATE TABLE fiscal_counters (
  model INTEGER NOT NULL,
  series INTEGER NOT NULL,
  next_number INTEGER NOT NULL,
  PRIMARY KEY (model, series)
);
-- 'fiscal_last_number.' is 19 characters: model and series follow, split by a dot.
INSERT INTO fiscal_counters (model, series, next_number)
  SELECT CAST(substr(name, 20, instr(substr(name, 20), '.') - 1) AS INTEGER),
    CAST(substr(name, 20 + instr(substr(name, 20), '.')) AS INTEGER), value + 1
  FROM counters WHERE name LIKE 'fiscal\_last\_number.%' ESCAPE '\';
DELETE FROM counters WHERE name LIKE 'fiscal\_last\_number.%' ESCAPE '\';

CREATE TABLE fiscal_documents_by_sale (
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
  deadline TEXT,
  updated_at TEXT NOT NULL,
  consult_first BOOLEAN NOT NULL DEFAULT 0,
  UNIQUE (model, series, number)
);
INSERT INTO fiscal_documents_by_sale (sale_id, model, series, number, access_key, tp_emis,
    status, xml, protocol, rejection_code, rejection_reason, issued_at, deadline, updated_at,
    consult_first)
  SELECT sale_id, model, series, number, access_key, tp_emis, status, xml, protocol,
    rejection_code, rejection_reason, issued_at, deadline, updated_at, consult_first
  FROM fiscal_documents ORDER BY doc_key;
DROP TABLE fiscal_documents;
ALTER TABLE fiscal_documents_by_sale RENAME TO fiscal_documents;
CREATE INDEX fiscal_documents_status ON fiscal_documents(status, issued_at);
