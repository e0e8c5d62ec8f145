"""The rules the code base keeps, checked like any other behaviour (STYLE.md).

* District data is reached only through a tenant transaction: SQL naming a district table
  lives in the query modules, whose functions all take a TenantConnection, or in the owner-role
  bulk loader (`tenants/synthetic/seed.py`, which bypasses RLS by design and never serves a request).
* District SQL routes to one district: every statement that names a district table pins it
  with `district_id = $n` (or a district_id join to a pinned table), the form a Citus
  coordinator sends to one shard (tests/sql_routing.py; on Citus, tests/citus checks EXPLAIN).
* Settings are read once: only gateway/settings.py reads the environment (`gateway serve`
  writes one variable for the workers it spawns).
* Imports run one way: `LAYERS` names, for each package or folder, the others it may import
  (the faces, api/admin/web/cli, sit on top; `tenants` and the shared `gateway` core at the
  bottom). A new folder must be placed in the table before it can import anything.
"""

from __future__ import annotations

import ast
import importlib
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from tests.sql_routing import coordinator_refusals, unrouted

REPO = Path(__file__).resolve().parent.parent
PACKAGES = [REPO / "gateway", REPO / "tenants"]


def district_tables() -> tuple[str, ...]:
    """Every table the district stream creates, as the migration runner registers them
    (gateway.database.distribution): a table added by a later migration is covered here too."""
    created = re.compile(r"^\s*CREATE TABLE (?:IF NOT EXISTS )?(\w+)", re.IGNORECASE | re.MULTILINE)
    found = [
        name
        for path in sorted((REPO / "sql" / "district").glob("*.sql"))
        for name in created.findall(path.read_text(encoding="utf-8"))
    ]
    return tuple(dict.fromkeys(found))


DISTRICT_TABLES = district_tables()
DISTRICT_SQL = re.compile(
    r"\b(?:FROM|JOIN|INTO|UPDATE|TABLE)\s+(?:" + "|".join(DISTRICT_TABLES) + r")\b", re.IGNORECASE
)
# Any use of os.environ but an assignment to one key, or os.getenv.
READS_ENVIRONMENT = re.compile(r"os\.getenv\(|os\.environ(?!\[[^\]]+\]\s*=[^=])")
QUERY_MODULES = {
    "tenants/queries/transcripts.py",
    "tenants/queries/disclosures.py",
    "tenants/queries/releases.py",
    "tenants/loading/replace.py",
}
BULK_LOADER = {"tenants/synthetic/seed.py"}


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


# --- the layering -----------------------------------------------------------------------------

# Module prefix → its unit; a module belongs to the longest prefix that names it. "core" is
# the shared vocabulary at the root of gateway/ (errors, settings, audit, urls, ferpa, ...).
UNITS = {
    "gateway": "core",
    "gateway.app": "app",
    "gateway.asgi": "app",
    "gateway.__main__": "cli",
    "gateway.services": "services",
    "gateway.request_context": "services",
    "gateway.health": "services",
    "gateway.monitor": "services",  # the operations listener, serving gateway.health's /metrics
    "gateway.crypto": "crypto",
    "gateway.database": "database",
    "gateway.control": "control",
    "gateway.oauth": "oauth",
    # RFC 6749 §5.2 errors are the OAuth branch of the one exception tree (errors.py), which
    # the edge raises for the token endpoint too.
    "gateway.oauth.errors": "core",
    "gateway.oidc": "oidc",
    "gateway.pesc": "pesc",
    "gateway.outgoing": "outgoing",
    "gateway.api": "api",
    "gateway.admin": "admin",
    "gateway.web": "web",
    "gateway.web.console": "web.console",
    "gateway.web.district": "web.district",
    "gateway.cli": "cli",
    "tenants": "tenants",
    "tenants.queries": "tenants.queries",
    "tenants.synthetic": "tenants.synthetic",
    "tenants.loading": "tenants.loading",
}
# Unit → the other units it may import (its own modules it always may).
LAYERS: dict[str, set[str]] = {
    "core": set(),
    "tenants": {"core"},
    "tenants.queries": {"tenants"},
    "tenants.synthetic": {"core", "tenants"},
    # Loads record themselves in the control plane and read PESC with its untrusted-XML rules.
    "tenants.loading": {"core", "control", "pesc", "tenants"},
    "crypto": {"core"},
    "database": {"core"},
    "control": {"core", "crypto"},
    "pesc": {"core", "tenants"},
    # The token endpoints, like every HTTP handler, read the worker's Services off the request.
    "oauth": {"core", "crypto", "tenants", "services"},
    # The relying party of the state's OpenID provider: protocol and pure decisions only;
    # its routes are web's, its accounts control's, its sessions web's.
    "oidc": {"core", "crypto"},
    "outgoing": {"core", "control", "pesc", "tenants", "tenants.queries"},
    # Services wires the owners together (web sessions and the record of district loads
    # hand housekeeping their purges; the loads' slots bound the uploads of the process).
    "services": {"core", "control", "oauth", "oidc", "tenants", "tenants.loading", "web"},
    "api": {"core", "services", "oauth", "pesc", "tenants", "tenants.queries"},
    "admin": {
        "core",
        "services",
        "control",
        "crypto",
        "oauth",
        "outgoing",
        "pesc",
        "tenants",
        "tenants.loading",
    },
    "web": {
        "core",
        "services",
        "control",
        "oidc",
        "outgoing",
        "tenants",
        "web.console",
        "web.district",
    },
    "web.console": {
        "core",
        "services",
        "control",
        "outgoing",
        "tenants",
        "tenants.loading",
        "web",
        "web.district",
    },
    "web.district": {
        "core",
        "services",
        "control",
        "outgoing",
        "tenants",
        "tenants.queries",
        "tenants.loading",
        "web",
    },
    "cli": {
        "app",
        "core",
        "services",
        "database",
        "control",
        "oauth",
        "outgoing",
        "pesc",
        "tenants",
        "tenants.queries",
        "tenants.synthetic",
        "tenants.loading",
    },
    "app": {"core", "services", "admin", "api", "database", "oauth", "outgoing", "web"},
}
FACES = {"api", "admin", "web", "web.console", "web.district", "cli", "app"}
# Directions that must never be allowed, whatever the table above comes to say.
NEVER = {
    (low, face) for low in ("tenants", "tenants.queries", "core", "pesc", "oidc") for face in FACES
}
NEVER |= {("oidc", "control"), ("oidc", "tenants")}
NEVER |= {("outgoing", "api"), ("outgoing", "admin"), ("web.district", "web.console")}
NEVER |= {
    (unit, "tenants.synthetic") for unit in LAYERS if unit not in ("cli", "tenants.synthetic")
}


def unit_of(module: str) -> str | None:
    """The unit of the module itself or of its package (a folder missing from UNITS: None)."""
    package = module.rpartition(".")[0]
    return UNITS.get(module) or UNITS.get(package)


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(tree: ast.AST) -> Iterator[str]:
    """Every gateway/tenants module an import names, including those inside functions and
    under TYPE_CHECKING (`from a.b import c` counts a.b.c where c is a module, else a.b)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            assert node.level == 0, "relative imports hide the direction"
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                folder = REPO.joinpath(*candidate.split("."))
                is_module = folder.is_dir() or folder.with_suffix(".py").is_file()
                yield candidate if is_module else node.module


def wrong_imports(modules: Iterable[tuple[str, str]]) -> list[str]:
    """For (module name, source) pairs: each import that runs against LAYERS, as text."""
    wrong = []
    for name, source in modules:
        here = unit_of(name)
        if here is None:
            wrong.append(f"{name} is in no unit of UNITS")
            continue
        for target in imported(ast.parse(source)):
            there = unit_of(target) if target.split(".")[0] in ("gateway", "tenants") else None
            if there is not None and there != here and there not in LAYERS[here]:
                wrong.append(f"{name} ({here}) imports {target} ({there})")
    return wrong


def test_imports_follow_the_layers() -> None:
    modules = [(module_name(p), p.read_text(encoding="utf-8")) for p in sources()]
    assert wrong_imports(modules) == []


def test_the_layer_table_keeps_the_faces_on_top() -> None:
    assert set(LAYERS) == set(UNITS.values())
    assert all(allowed <= set(LAYERS) for allowed in LAYERS.values())
    widened = {(low, high) for low, high in NEVER if high in LAYERS.get(low, set())}
    assert widened == set()


def test_the_layer_check_fails_on_a_wrong_import() -> None:
    """The check itself, shown failing: the same real module with one upward import added."""
    records = (REPO / "tenants" / "records.py").read_text(encoding="utf-8")
    assert wrong_imports([("tenants.records", records)]) == []
    upward = records + "\nfrom gateway.web.console import audit\n"
    assert wrong_imports([("tenants.records", upward)]) == [
        "tenants.records (tenants) imports gateway.web.console.audit (web.console)"
    ]
    lazy = "def f() -> None:\n    from gateway.api.transcripts import authorize\n"
    assert wrong_imports([("gateway.outgoing.worker", lazy)]) == [
        "gateway.outgoing.worker (outgoing) imports gateway.api.transcripts (api)"
    ]
    assert wrong_imports([("gateway.newfolder.x", "")]) == [
        "gateway.newfolder.x is in no unit of UNITS"
    ]


def test_the_tenants_face_is_pinned() -> None:
    """`tenants` re-exports its door and the types it takes, and nothing else; each name is
    the owner's object, so `from tenants import tenant_transaction` is the real one."""
    import tenants
    from tenants import directory, stores, transaction

    assert sorted(tenants.__all__) == [
        "District",
        "DistrictDirectory",
        "MAIN_STORE",
        "StoreRegistry",
        "TenantConnection",
        "tenant_transaction",
    ]
    owners = {**vars(directory), **vars(stores), **vars(transaction)}
    assert all(getattr(tenants, name) is owners[name] for name in tenants.__all__)
    tree = ast.parse((REPO / "tenants" / "__init__.py").read_text(encoding="utf-8"))
    bound = {
        alias.asname or alias.name
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.module != "__future__"
        for alias in node.names
    }
    assert bound == set(tenants.__all__), "the face binds exactly what it exports"


def district_statements(name: str) -> list[str]:
    return [s for s in string_literals(REPO / name) if DISTRICT_SQL.search(s)]


def test_district_queries_route_to_one_district() -> None:
    offenders = {
        f"{name}: {sql.strip()[:80]!r} leaves {tables}"
        for name in sorted(QUERY_MODULES | BULK_LOADER)
        for sql in district_statements(name)
        if (tables := unrouted(sql, DISTRICT_TABLES, bulk=name in BULK_LOADER))
    }
    assert not offenders, sorted(offenders)
    assert all(district_statements(name) for name in QUERY_MODULES | BULK_LOADER)


def built_statements(name: str) -> list[str]:
    """The district statements a module builds and keeps (its string constants, and those of
    its dicts): the whole text the database gets, where the literals are only the pieces."""
    module = importlib.import_module(name.removesuffix(".py").replace("/", "."))
    values = [v for v in vars(module).values() if isinstance(v, (str, dict))]
    texts = [t for v in values for t in (v.values() if isinstance(v, dict) else [v])]
    return [t for t in texts if isinstance(t, str) and DISTRICT_SQL.search(t)]


def test_district_statements_are_what_a_citus_coordinator_can_run() -> None:
    offenders = {
        f"{name}: {sql.strip()[:80]!r}: {refusals}"
        for name in sorted(QUERY_MODULES | BULK_LOADER)
        for sql in built_statements(name)
        if (refusals := coordinator_refusals(sql, DISTRICT_TABLES))
    }
    assert not offenders, sorted(offenders)
    loader = built_statements("tenants/loading/replace.py")
    assert sum("stage_" in sql for sql in loader) >= 8  # the check sees the staged statements


def test_request_pools_are_bounded_pools() -> None:
    """Pools that serve requests are `tenants.stores.BoundedPool`s (acquires time out, no task
    waits for a second connection: issue 12). A one-off CLI command may make a plain one."""
    one_off = {"gateway/cli/vendors.py"}
    makers = {
        str(path.relative_to(REPO))
        for path in sources()
        if "create_pool(" in path.read_text(encoding="utf-8")
    }
    assert makers <= one_off, sorted(makers - one_off)
    assert "BoundedPool(" in (REPO / "tenants" / "stores.py").read_text(encoding="utf-8")
