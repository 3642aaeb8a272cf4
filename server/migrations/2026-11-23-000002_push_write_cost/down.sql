CREATE INDEX stock_deltas_by_product ON stock_deltas(branch_id, product_id);
