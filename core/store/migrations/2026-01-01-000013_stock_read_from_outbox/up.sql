-- The stock a sale, a void or an adjustment moves is read from the outbox entry that carries it
-- (pending stock: the entries the server has not acknowledged). These rows only repeated it, one
-- more page for every sale to write.
DROP TABLE stock_deltas;
