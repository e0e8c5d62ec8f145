"""Claims → role: the state's group mapping, without a provider (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.oidc.roles import Refusal, Role, role_for
from gateway.settings import OidcSettings

DEFAULTS = OidcSettings(issuer="https://login.example.gov", client_id="gw")


def decide(groups: Any, config: OidcSettings = DEFAULTS) -> Role | Refusal:
    return role_for({"sub": "1", "groups": groups} if groups is not None else {"sub": "1"}, config)


def test_the_operator_group_makes_an_operator() -> None:
    assert decide(["etranscripts-operators"]) == Role("operator", None)


def test_a_district_group_makes_that_districts_staff() -> None:
    assert decide(["all-staff", "etranscripts-920"]) == Role("district", "920")
    assert decide("etranscripts-01a") == Role("district", "01A")  # one group as a string


def test_operator_wins_over_a_district_group() -> None:
    assert decide(["etranscripts-920", "etranscripts-operators"]) == Role("operator", None)


@pytest.mark.parametrize(
    ("groups", "reason"),
    [
        (["all-staff"], "unmapped"),
        ([], "unmapped"),
        (["etranscripts-920", "etranscripts-330"], "several_districts"),
        (["xetranscripts-920", "etranscripts-920-old", "etranscripts-"], "unmapped"),
        (None, "no_groups"),
        ([1, 2], "no_groups"),
    ],
)
def test_anything_else_is_refused(groups: Any, reason: str) -> None:
    decision = decide(groups)
    assert isinstance(decision, Refusal)
    assert decision.reason == reason


def test_the_state_names_its_own_groups_and_claim() -> None:
    config = OidcSettings(
        issuer="https://login.example.gov",
        client_id="gw",
        groups_claim="roles",
        operator_group="DPI.eTranscripts.Admin",
        district_group="LEA.{lea}.Registrar",
    )
    assert role_for({"roles": ["LEA.920.Registrar"]}, config) == Role("district", "920")
    assert role_for({"roles": ["DPI.eTranscripts.Admin"]}, config) == Role("operator", None)
    # Dots are literal, not regex wildcards.
    assert isinstance(role_for({"roles": ["LEAx920xRegistrar"]}, config), Refusal)
    assert isinstance(role_for({"groups": ["LEA.920.Registrar"]}, config), Refusal)
