"""HTTP entry points of the shop: the ingest API and the shops' webhooks."""
