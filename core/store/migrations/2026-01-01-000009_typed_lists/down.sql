-- Each table back into its setting, one JSON array in the order of its rows.
INSERT OR REPLACE INTO settings (key, value, version)
  SELECT 'pos.fiscal_events', (SELECT json_group_array(json_object(
      'kind', kind, 'sale_id', sale_id, 'access_key', access_key, 'first', first_number,
      'last', last_number, 'status_code', status_code, 'protocol', protocol,
      'registered_at', registered_at, 'justification', justification, 'xml', xml))
    FROM (SELECT * FROM fiscal_events ORDER BY seq)), 0
  WHERE EXISTS (SELECT 1 FROM fiscal_events);
DROP TABLE fiscal_events;

INSERT OR REPLACE INTO settings (key, value, version)
  SELECT 'pos.card_offline_payments', (SELECT json_group_array(json(record))
    FROM (SELECT record FROM card_captures ORDER BY seq)), 0
  WHERE EXISTS (SELECT 1 FROM card_captures);
DROP TABLE card_captures;

INSERT OR REPLACE INTO settings (key, value, version)
  SELECT 'pos.card_payments_to_recover', (SELECT json_group_array(json_object(
      'payment_id', payment_id, 'sale_id', sale_id, 'amount', amount, 'brand', brand,
      'last4', last4, 'captured_at', captured_at, 'declined_at', declined_at,
      'reason', reason))
    FROM (SELECT * FROM card_payments_to_recover ORDER BY seq)), 0
  WHERE EXISTS (SELECT 1 FROM card_payments_to_recover);
DROP TABLE card_payments_to_recover;
