-- SQL cannot unpack LZ4: reverting with packed entries still in the outbox fails on the NOT NULL
-- payload instead of losing them (push and prune them first).
CREATE TABLE outbox_text (
  seq INTEGER PRIMARY KEY NOT NULL,
  kind TEXT NOT NULL,
  payload TEXT NOT NULL,
  created_at TEXT NOT NULL
);
INSERT INTO outbox_text (seq, kind, payload, created_at)
  SELECT seq, kind, CASE WHEN packed THEN NULL ELSE CAST(payload AS TEXT) END, created_at
  FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_text RENAME TO outbox;

-- The stored local level and its pending part, from the unacknowledged deltas.
ALTER TABLE stock_levels ADD COLUMN quantity BIGINT NOT NULL DEFAULT 0;
ALTER TABLE stock_levels ADD COLUMN pending BIGINT NOT NULL DEFAULT 0;
INSERT INTO stock_levels (product_id, server_quantity, updated_at)
  SELECT d.product_id, 0, max(d.at) FROM stock_deltas d
  WHERE d.outbox_seq > coalesce((SELECT value FROM counters WHERE name = 'outbox_pushed_through'), 0)
    AND d.product_id NOT IN (SELECT product_id FROM stock_levels)
  GROUP BY d.product_id;
UPDATE stock_levels SET pending = (
  SELECT coalesce(sum(d.delta), 0) FROM stock_deltas d
  WHERE d.product_id = stock_levels.product_id
    AND d.outbox_seq > coalesce((SELECT value FROM counters WHERE name = 'outbox_pushed_through'), 0)
);
UPDATE stock_levels SET quantity = server_quantity + pending;
