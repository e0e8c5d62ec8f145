"""The admin JSON API (/admin/api/v1) for scripts and other state systems."""
