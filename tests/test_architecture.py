"""The rules the code base keeps, checked like any other behaviour (STYLE.md).

* District data is reached only through a tenant transaction: SQL naming a district table
  lives in the query modules, whose functions all take a TenantConnection, or in the owner-role
  bulk loader (`tenants/seed.py`, which bypasses RLS by design and never serves a request).
* Settings are read once: only gateway/settings.py reads the environment (`gateway serve`
  writes one variable for the workers it spawns).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGES = [REPO / "gateway", REPO / "tenants"]
DISTRICT_TABLES = (
    "schools",
    "students",
    "academic_sessions",
    "course_records",
    "gpa_summaries",
    "test_scores",
    "transcript_holds",
    "disclosures",
)
DISTRICT_SQL = re.compile(
    r"\b(?:FROM|JOIN|INTO|UPDATE|TABLE)\s+(?:" + "|".join(DISTRICT_TABLES) + r")\b", re.IGNORECASE
)
# Any use of os.environ but an assignment to one key, or os.getenv.
READS_ENVIRONMENT = re.compile(r"os\.getenv\(|os\.environ(?!\[[^\]]+\]\s*=[^=])")
QUERY_MODULES = {
    "tenants/queries.py",
    "gateway/outgoing/records.py",
    "tenants/loading/replace.py",
}
BULK_LOADER = {"tenants/seed.py"}


def sources() -> list[Path]:
    return [p for package in PACKAGES for p in package.rglob("*.py")]


def string_literals(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    ]


def test_district_sql_only_in_the_query_modules() -> None:
    offenders = {
        str(path.relative_to(REPO))
        for path in sources()
        if any(DISTRICT_SQL.search(s) for s in string_literals(path))
    }
    assert offenders <= QUERY_MODULES | BULK_LOADER, sorted(offenders - QUERY_MODULES - BULK_LOADER)
    assert offenders >= QUERY_MODULES  # the check still sees the SQL it is about


def test_query_functions_take_a_tenant_connection() -> None:
    for name in sorted(QUERY_MODULES):
        tree = ast.parse((REPO / name).read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.AsyncFunctionDef) and not node.name.startswith("_"):
                first = node.args.args[0] if node.args.args else None
                annotation = ast.unparse(first.annotation) if first and first.annotation else ""
                assert annotation == "TenantConnection", (
                    f"{name}:{node.name} must take a TenantConnection first"
                )


def test_only_settings_read_the_environment() -> None:
    readers = set()
    for path in sources():
        text = path.read_text(encoding="utf-8")
        if READS_ENVIRONMENT.search(text):
            readers.add(str(path.relative_to(REPO)))
    assert readers <= {"gateway/settings.py"}, sorted(readers)
