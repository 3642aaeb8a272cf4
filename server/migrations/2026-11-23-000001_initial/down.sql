DROP TABLE audit_log; DROP TABLE settings; DROP TABLE flags; DROP TABLE device_records;
DROP TABLE cash_movements; DROP TABLE sale_lines; DROP TABLE sales; DROP TABLE stock_deltas;
DROP TABLE stock_levels; DROP TABLE balance_deltas; DROP TABLE customer_balances;
DROP TABLE customers; DROP TABLE branch_prices; DROP TABLE products; DROP TABLE applied_mutations;
DROP TABLE devices; DROP TABLE enrollment_codes; DROP TABLE api_tokens; DROP TABLE users;
DROP TABLE branches; DROP TABLE stores;
