-- Fewer pages per sale commit, with the same data kept.

-- stock_levels keeps only the server's level. The local level is that plus the stock deltas
-- the server has not acknowledged, which the store sums from stock_deltas (keyed by outbox
-- number, so one key range) and keeps in memory: a sale writes no level rows, which sit on
-- pages scattered over the whole catalog.
ALTER TABLE stock_levels DROP COLUMN quantity;
ALTER TABLE stock_levels DROP COLUMN pending;

-- Outbox payloads stored LZ4-compressed (a sale's JSON otherwise spills onto overflow pages).
-- Entries written before keep their plain JSON, marked `packed = 0`.
CREATE TABLE outbox_packed (
  seq INTEGER PRIMARY KEY NOT NULL,
  kind TEXT NOT NULL,
  payload BLOB NOT NULL,
  packed BOOLEAN NOT NULL,
  created_at TEXT NOT NULL
);
INSERT INTO outbox_packed (seq, kind, payload, packed, created_at)
  SELECT seq, kind, CAST(payload AS BLOB), 0, created_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_packed RENAME TO outbox;
