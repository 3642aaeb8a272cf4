-- Cash put into or taken out of a register drawer, per register session (opening float,
-- supplies, withdrawals, closing count). Cash sales are found through sales.register_session_id.
CREATE TABLE cash_movements (
  id INTEGER PRIMARY KEY,
  session_id BLOB NOT NULL,
  kind TEXT NOT NULL,
  amount BIGINT NOT NULL,
  actor TEXT NOT NULL,
  note TEXT,
  at TEXT NOT NULL,
  outbox_seq BIGINT NOT NULL
);
CREATE INDEX cash_movements_session ON cash_movements(session_id, id);
CREATE INDEX sales_register_session ON sales(register_session_id);
