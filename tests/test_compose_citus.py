"""docker-compose.citus.yml runs the same gateway as docker-compose.yml, on a Citus cluster.

No Docker engine runs here, so this reads the file: the public Citus image for a coordinator
and two workers, the one-time set-up mounting files that exist, and the migrate, gateway and
worker services unchanged but for the database host. The SQL the set-up runs
(sql/bootstrap-citus.sql) is run for real against a cluster in tests/citus.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

yaml = pytest.importorskip("yaml", reason="PyYAML reads the compose files")

REPO = Path(__file__).resolve().parent.parent


def services(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((REPO / name).read_text(encoding="utf-8"))
    return dict(loaded["services"])


def test_a_coordinator_and_two_workers_of_the_public_citus_image() -> None:
    citus = services("docker-compose.citus.yml")
    for node in ("coordinator", "worker1", "worker2"):
        assert citus[node]["image"].startswith("citusdata/citus:13")
        assert citus[node]["environment"]["POSTGRES_DB"] == "gateway"
    # The set-up adds exactly the two workers and mounts files of this repository.
    script = (REPO / "docker/citus-cluster.sh").read_text(encoding="utf-8")
    assert "ARRAY['worker1', 'worker2']" in script
    for volume in citus["cluster"]["volumes"]:
        source = volume.split(":")[0]
        assert (REPO / source).is_file(), source


def test_the_same_gateway_pointed_at_the_coordinator() -> None:
    plain, citus = services("docker-compose.yml"), services("docker-compose.citus.yml")
    for name in ("migrate", "gateway", "worker"):
        assert citus[name]["command"] == plain[name]["command"], name
        expected = {
            key: value.replace("@postgres:", "@coordinator:")
            for key, value in plain[name]["environment"].items()
        }
        assert citus[name]["environment"] == expected, name
        assert citus[name].get("healthcheck") == plain[name].get("healthcheck"), name
    # The same TLS proxy in front, the only published port, and the same networks.
    assert citus["proxy"] == plain["proxy"]
    assert citus["gateway"]["networks"] == plain["gateway"]["networks"]
    assert "ports" not in citus["gateway"]
    loaded = [
        yaml.safe_load((REPO / name).read_text(encoding="utf-8"))
        for name in ("docker-compose.yml", "docker-compose.citus.yml")
    ]
    assert loaded[0]["networks"] == loaded[1]["networks"]
    assert citus["migrate"]["depends_on"] == {
        "cluster": {"condition": "service_completed_successfully"}
    }
