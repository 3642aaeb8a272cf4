CREATE TABLE stock_deltas (
  id INTEGER PRIMARY KEY,
  product_id BLOB NOT NULL,
  delta BIGINT NOT NULL
);
-- Older code counts pending stock from these rows alone, and SQL cannot rebuild them from the
-- packed outbox: while an entry that moves stock is unacknowledged, reverting is refused (the
-- row below breaks NOT NULL) rather than lose it from the device's stock.
INSERT INTO stock_deltas (product_id, delta)
  SELECT NULL, NULL FROM outbox
   WHERE kind IN ('sale_recorded', 'sale_voided', 'stock_adjusted')
     AND seq > COALESCE((SELECT value FROM counters WHERE name = 'outbox_pushed_through'), 0)
   LIMIT 1;
