DROP TABLE fiscal_numbers;
DROP TABLE fiscal_counters;
DROP TABLE fiscal_documents;
