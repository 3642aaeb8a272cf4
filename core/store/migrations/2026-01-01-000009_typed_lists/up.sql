-- Lists that lived as one JSON array in a setting each, rewritten whole on every change, become
-- tables with a row per entry. The arrays are read with SQLite's own JSON functions, as the
-- point of sale wrote them; the settings go once their rows are in.

-- Fiscal events and inutilizações SEFAZ registered (the legal procEventoNFe / procInutNFe
-- records), in the order they were registered.
CREATE TABLE fiscal_events (
  seq INTEGER PRIMARY KEY NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('cancellation', 'substitution', 'inutilizacao')),
  sale_id TEXT,
  access_key TEXT,
  first_number INTEGER,
  last_number INTEGER,
  status_code INTEGER NOT NULL,
  protocol TEXT,
  registered_at TEXT NOT NULL,
  justification TEXT NOT NULL,
  xml TEXT NOT NULL
);
INSERT INTO fiscal_events (kind, sale_id, access_key, first_number, last_number, status_code,
    protocol, registered_at, justification, xml)
  SELECT json_extract(e.value, '$.kind'), json_extract(e.value, '$.sale_id'),
    json_extract(e.value, '$.access_key'), json_extract(e.value, '$.first'),
    json_extract(e.value, '$.last'), json_extract(e.value, '$.status_code'),
    json_extract(e.value, '$.protocol'), json_extract(e.value, '$.registered_at'),
    json_extract(e.value, '$.justification'), json_extract(e.value, '$.xml')
  FROM settings s, json_each(s.value) e
  WHERE s.key = 'pos.fiscal_events'
  ORDER BY e.key;
DELETE FROM settings WHERE key = 'pos.fiscal_events';

-- Card payments captured offline, waiting for the link to be authorized. The capture is kept
-- as the card terminal wrote it (its card data sealed inside); the columns are what the store
-- looks captures up by.
CREATE TABLE card_captures (
  seq INTEGER PRIMARY KEY NOT NULL,
  payment_id TEXT NOT NULL UNIQUE,
  sale_reference TEXT NOT NULL,
  captured_at TEXT NOT NULL,
  record TEXT NOT NULL CHECK (json_valid(record))
);
INSERT INTO card_captures (payment_id, sale_reference, captured_at, record)
  SELECT json_extract(e.value, '$.payment_id'), json_extract(e.value, '$.sale_reference'),
    json_extract(e.value, '$.captured_at'), e.value
  FROM settings s, json_each(s.value) e
  WHERE s.key = 'pos.card_offline_payments'
  ORDER BY e.key;
DELETE FROM settings WHERE key = 'pos.card_offline_payments';

-- Offline card payments the card network declined once the link returned: the money must be
-- recovered from the customer.
CREATE TABLE card_payments_to_recover (
  seq INTEGER PRIMARY KEY NOT NULL,
  payment_id TEXT NOT NULL UNIQUE,
  sale_id TEXT NOT NULL,
  amount BIGINT NOT NULL,
  brand TEXT NOT NULL,
  last4 TEXT NOT NULL,
  captured_at TEXT NOT NULL,
  declined_at TEXT NOT NULL,
  reason TEXT NOT NULL
);
INSERT INTO card_payments_to_recover (payment_id, sale_id, amount, brand, last4, captured_at,
    declined_at, reason)
  SELECT json_extract(e.value, '$.payment_id'), json_extract(e.value, '$.sale_id'),
    json_extract(e.value, '$.amount'), json_extract(e.value, '$.brand'),
    json_extract(e.value, '$.last4'), json_extract(e.value, '$.captured_at'),
    json_extract(e.value, '$.declined_at'), json_extract(e.value, '$.reason')
  FROM settings s, json_each(s.value) e
  WHERE s.key = 'pos.card_payments_to_recover'
  ORDER BY e.key;
DELETE FROM settings WHERE key = 'pos.card_payments_to_recover';
