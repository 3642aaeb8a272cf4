-- A sale commit wrote the counters' page only to move three numbers its own rows already show:
-- the last sale number (sales are never deleted), the last outbox number and the audit chain's
-- head (an `AuditAppended` outbox entry names each audit entry). They are read from those rows
-- now. Counters keep what pruned outbox entries would lose: the last outbox number pruned
-- (`outbox_seq`) and the last audit entry they named (`audit_head`). The values stored so far
-- are the latest ones, so they hold as such.
DELETE FROM counters WHERE name = 'sale_local_number';
ALTER TABLE counters DROP COLUMN hash;
