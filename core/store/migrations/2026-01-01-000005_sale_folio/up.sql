-- The store-wide folio the server assigns a sale when it arrives (NULL until the sale is synced).
ALTER TABLE sales ADD COLUMN folio BIGINT;
