-- Older code reads packed records as JSON only: while a record packed as MessagePack (its first
-- bytes 00 'rmp') is stored, reverting is refused (a row below breaks NOT NULL) rather than leave
-- records older code cannot read.
CREATE TEMP TABLE messagepack_records (found INTEGER NOT NULL);
INSERT INTO messagepack_records (found)
  SELECT NULL FROM sales WHERE substr(body, 1, 4) = x'00726d70' LIMIT 1;
INSERT INTO messagepack_records (found)
  SELECT NULL FROM outbox WHERE packed AND substr(payload, 1, 4) = x'00726d70' LIMIT 1;
DROP TABLE messagepack_records;
