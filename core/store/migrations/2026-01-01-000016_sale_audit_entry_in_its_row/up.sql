-- A sale's audit entry (`sale.record`) is kept in the sale's own row: its number, actor and the
-- two hashes; its action, subject, outcome and time follow from the sale. A sale commit writes
-- one b-tree fewer. Sales recorded before keep theirs in the log.
ALTER TABLE sales ADD COLUMN audit_seq INTEGER;
ALTER TABLE sales ADD COLUMN audit_actor TEXT;
ALTER TABLE sales ADD COLUMN audit_prev_hash BLOB;
ALTER TABLE sales ADD COLUMN audit_hash BLOB;
