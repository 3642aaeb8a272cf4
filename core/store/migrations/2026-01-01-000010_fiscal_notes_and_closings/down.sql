-- Each back into its settings, as the point of sale wrote them.
INSERT OR REPLACE INTO settings (key, value, version)
  SELECT 'pos.register_closed.' || session_id, json_object(
      'lines', json_group_array(json_array(kind, expected, counted, counted - expected)),
      'total_difference', sum(counted - expected)), 0
  FROM (SELECT * FROM register_closings ORDER BY session_id, rowid)
  GROUP BY session_id;
DROP TABLE register_closings;

INSERT OR REPLACE INTO settings (key, value, version)
  SELECT 'pos.sefaz_superseded_notes', (SELECT json_group_object(sale_id, json_object(
      'access_key', access_key, 'signed_xml', signed_xml)) FROM superseded_notes), 0
  WHERE EXISTS (SELECT 1 FROM superseded_notes);
DROP TABLE superseded_notes;

INSERT OR REPLACE INTO settings (key, value, version)
  SELECT 'pos.sefaz_consult_first', (SELECT json_group_array(access_key)
    FROM (SELECT access_key FROM fiscal_documents WHERE consult_first ORDER BY access_key)), 0
  WHERE EXISTS (SELECT 1 FROM fiscal_documents WHERE consult_first);
ALTER TABLE fiscal_documents DROP COLUMN consult_first;
