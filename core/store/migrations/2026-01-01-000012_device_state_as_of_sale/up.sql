-- The device's register session and fiscal (contingency) state are saved as of a sale number
-- and no longer rewritten by each sale: opening the device counts in the sales recorded after
-- it. Until now every sale rewrote both, so each stands as of the last sale recorded.
UPDATE settings
   SET value = json_object(
         'through_sale', COALESCE((SELECT value FROM counters WHERE name = 'sale_local_number'), 0),
         'state', json(value))
 WHERE key IN ('pos.register', 'pos.fiscal_state');
