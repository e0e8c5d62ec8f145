"""The oidc-provider peer is optional: without node or npm it is skipped, saying which."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import peer


def test_without_node_the_peer_is_unavailable_with_the_reason(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no node, no npm
    with pytest.raises(peer.PeerUnavailable, match="node is not installed"):
        peer.install(tmp_path / "npm.log")


def test_the_peer_installs_into_its_own_ignored_folder() -> None:
    ignored = (Path(peer.__file__).parent.parent / ".gitignore").read_text().splitlines()
    assert "bench/peer/node_modules/" in ignored
    assert (peer.PEER_DIR / "package.json").exists()
    assert '"oidc-provider": "9.13.3"' in (peer.PEER_DIR / "package.json").read_text()
