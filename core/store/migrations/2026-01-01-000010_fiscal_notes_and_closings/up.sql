-- The last state kept as JSON in settings, each value rewritten whole on every change, becomes
-- rows: read with SQLite's own JSON functions, as the point of sale wrote them; the settings go
-- once their rows are in.

-- Notes whose next transmission must first ask SEFAZ whether it already holds them (their last
-- attempt timed out): a flag on the document, set and cleared with its answers.
ALTER TABLE fiscal_documents ADD COLUMN consult_first BOOLEAN NOT NULL DEFAULT 0;
UPDATE fiscal_documents SET consult_first = 1
  WHERE access_key IN (SELECT e.value FROM settings s, json_each(s.value) e
                       WHERE s.key = 'pos.sefaz_consult_first');
DELETE FROM settings WHERE key = 'pos.sefaz_consult_first';

-- A normal note that timed out and was replaced by its contingency twin. SEFAZ may have
-- authorized it after all; then it, with its protocol, is the sale's legal record.
CREATE TABLE superseded_notes (
  sale_id TEXT PRIMARY KEY NOT NULL,
  access_key TEXT NOT NULL,
  signed_xml TEXT NOT NULL
);
INSERT INTO superseded_notes (sale_id, access_key, signed_xml)
  SELECT e.key, json_extract(e.value, '$.access_key'), json_extract(e.value, '$.signed_xml')
  FROM settings s, json_each(s.value) e
  WHERE s.key = 'pos.sefaz_superseded_notes';
DELETE FROM settings WHERE key = 'pos.sefaz_superseded_notes';

-- What was expected and counted per payment kind when a register closed, a row per kind.
CREATE TABLE register_closings (
  session_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  expected BIGINT NOT NULL,
  counted BIGINT NOT NULL,
  PRIMARY KEY (session_id, kind)
);
INSERT INTO register_closings (session_id, kind, expected, counted)
  SELECT substr(s.key, length('pos.register_closed.') + 1), json_extract(e.value, '$[0]'),
    json_extract(e.value, '$[1]'), json_extract(e.value, '$[2]')
  FROM settings s, json_each(s.value, '$.lines') e
  WHERE s.key LIKE 'pos.register\_closed.%' ESCAPE '\';
DELETE FROM settings WHERE key LIKE 'pos.register\_closed.%' ESCAPE '\';
