-- Small secrets the device needs and keeps only inside the encrypted database (the A1 fiscal
-- certificate and its password, the sync credential).
CREATE TABLE secrets (
  name TEXT PRIMARY KEY NOT NULL,
  value BLOB NOT NULL,
  updated_at TEXT NOT NULL
);
