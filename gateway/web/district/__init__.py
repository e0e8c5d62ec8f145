"""The districts' read-only pages at /districts/{lea}/...: gathered in `pages`."""
