"""The state operators' console at /admin: one module per page family, gathered in `pages`."""
