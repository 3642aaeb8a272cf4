-- Older code moves these counters with each commit and reads them alone: each takes the latest
-- value its rows show.
ALTER TABLE counters ADD COLUMN hash BLOB;
INSERT INTO counters (name, value)
  SELECT 'sale_local_number', local_number FROM sales WHERE true
   ORDER BY local_number DESC LIMIT 1
  ON CONFLICT (name) DO UPDATE SET value = excluded.value;
INSERT INTO counters (name, value)
  SELECT 'outbox_seq', seq FROM outbox WHERE true
   ORDER BY seq DESC LIMIT 1
  ON CONFLICT (name) DO UPDATE SET value = max(value, excluded.value);
INSERT INTO counters (name, value, hash)
  SELECT 'audit_head', seq, hash FROM audit_log WHERE true
   ORDER BY seq DESC LIMIT 1
  ON CONFLICT (name) DO UPDATE SET value = excluded.value, hash = excluded.hash;
