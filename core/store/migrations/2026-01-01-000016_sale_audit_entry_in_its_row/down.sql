-- Older code reads the whole chain from the log: the entries kept in sales' rows go back to it,
-- each as it was hashed (subject `sale:` and the id as a hyphenated UUID).
INSERT INTO audit_log (seq, actor, action, subject, outcome, at, prev_hash, hash)
  SELECT audit_seq, audit_actor, 'sale.record',
         'sale:' || substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-' || substr(h, 13, 4) || '-'
           || substr(h, 17, 4) || '-' || substr(h, 21, 12),
         'succeeded', created_at, audit_prev_hash, audit_hash
    FROM (SELECT *, lower(hex(id)) AS h FROM sales)
   WHERE audit_seq IS NOT NULL;
ALTER TABLE sales DROP COLUMN audit_hash;
ALTER TABLE sales DROP COLUMN audit_prev_hash;
ALTER TABLE sales DROP COLUMN audit_actor;
ALTER TABLE sales DROP COLUMN audit_seq;
