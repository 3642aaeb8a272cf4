DROP TABLE hub_device_progress;
DROP TABLE hub_sale_folios;
DROP TABLE hub_cloud_levels;
DROP TABLE hub_pending_deltas;
DROP TABLE hub_relay_queue;
DROP TABLE hub_link;
DROP TABLE hub_endpoints;
