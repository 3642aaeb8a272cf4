DROP INDEX sales_register_session;
DROP TABLE cash_movements;
