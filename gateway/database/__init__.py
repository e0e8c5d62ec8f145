"""Postgres at the edge: the embedded server, role bootstrap and migrations."""
