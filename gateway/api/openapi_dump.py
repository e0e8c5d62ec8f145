"""`python -m gateway.api.openapi_dump`: the OpenAPI document as served, on standard output
(for linters: scripts/lint-openapi runs Redocly's recommended rules over it)."""

from __future__ import annotations

import json
import sys

from gateway.admin import api
from gateway.api.openapi import document

if __name__ == "__main__":
    json.dump(document("https://etranscripts.example.gov", api.openapi_paths()), sys.stdout)
