-- The store hub (see src/hub/). In the cloud: where each branch's hub is reached. In a hub: its
-- link to the cloud, the tills' mutations waiting to be relayed, the cloud's ledgers as last
-- pulled, and the folios the cloud gave the tills' sales.

-- Cloud: one row per enrolled hub (the hub is also a row of `devices`, with NFC-e series 0).
CREATE TABLE hub_endpoints (
  device_id TEXT PRIMARY KEY NOT NULL REFERENCES devices(id),
  store_id TEXT NOT NULL REFERENCES stores(id),
  branch_id TEXT NOT NULL REFERENCES branches(id),
  url TEXT NOT NULL,
  fingerprint TEXT,
  enrolled_at BIGINT NOT NULL
);

-- Hub: its identity at the cloud (one row).
CREATE TABLE hub_link (
  id BIGINT PRIMARY KEY NOT NULL,
  upstream_url TEXT NOT NULL,
  upstream_fingerprint TEXT,
  device_id TEXT NOT NULL,
  credential TEXT NOT NULL,
  store_id TEXT NOT NULL,
  branch_id TEXT NOT NULL,
  cloud_cursor TEXT,
  last_contact_at BIGINT,
  last_error TEXT,
  revoked BOOLEAN NOT NULL
);

-- Hub: every till mutation applied here and not yet acknowledged by the cloud, as pushed.
CREATE TABLE hub_relay_queue (
  device_id TEXT NOT NULL,
  seq BIGINT NOT NULL,
  kind TEXT NOT NULL,
  payload TEXT NOT NULL,
  queued_at BIGINT NOT NULL,
  PRIMARY KEY (device_id, seq)
);

-- Hub: the stock ('stock') and balance ('balance') deltas of the queued mutations, so the levels
-- the tills see are the cloud's plus what the cloud has not yet received.
CREATE TABLE hub_pending_deltas (
  device_id TEXT NOT NULL,
  seq BIGINT NOT NULL,
  subject_kind TEXT NOT NULL,
  subject_id TEXT NOT NULL,
  amount BIGINT NOT NULL,
  PRIMARY KEY (device_id, seq, subject_kind, subject_id)
);

-- Hub: the cloud's stock levels of the branch and customer balances, as last pulled.
CREATE TABLE hub_cloud_levels (
  subject_kind TEXT NOT NULL,
  subject_id TEXT NOT NULL,
  amount BIGINT NOT NULL,
  PRIMARY KEY (subject_kind, subject_id)
);

-- Hub: the cloud's folios for the tills' sales, delivered to each till by pull (`version` is the
-- hub's change version when the folio was learned).
CREATE TABLE hub_sale_folios (
  sale_id TEXT PRIMARY KEY NOT NULL,
  device_id TEXT NOT NULL,
  folio BIGINT NOT NULL,
  version BIGINT NOT NULL
);
CREATE INDEX hub_sale_folios_by_device ON hub_sale_folios(device_id, version);

-- Hub: how far the cloud has applied each till's mutations.
CREATE TABLE hub_device_progress (
  device_id TEXT PRIMARY KEY NOT NULL,
  cloud_last_seq BIGINT NOT NULL
);
