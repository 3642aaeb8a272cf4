-- Back to the bare states. A state saved before the last sale does not count the sales since,
-- which the older code expects every sale to have written into it.
UPDATE settings
   SET value = value -> '$.state'
 WHERE key IN ('pos.register', 'pos.fiscal_state');
