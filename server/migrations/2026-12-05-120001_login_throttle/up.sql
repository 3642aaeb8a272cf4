-- Failed sign-ins and enrollment-code guesses, per account and per source address: how many in a
-- row, and until when the next attempt is refused (the wait doubles with each failure past the
-- free ones).
CREATE TABLE login_throttle (
  scope TEXT PRIMARY KEY NOT NULL,
  failures BIGINT NOT NULL,
  locked_until BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
