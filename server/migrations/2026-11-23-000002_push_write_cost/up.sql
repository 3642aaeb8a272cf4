-- Every push writes a stock delta per sale line. Nothing reads the deltas by product (levels are
-- kept as running sums in stock_levels, and the oversold report reads flags), so this index only
-- cost writes.
DROP INDEX stock_deltas_by_product;
