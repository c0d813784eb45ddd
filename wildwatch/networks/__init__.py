"""Seller networks: listings linked by shared contacts and seller accounts (link.py is the pure part,
store.py rebuilds the tables, queries.py reads them for the CLI, the review app and the report)."""
