"""Which role an identity's claims give: pure, so the state's mapping is tested without an IdP.

The groups claim (`GATEWAY_OIDC_GROUPS_CLAIM`) lists the groups the provider puts the person
in. The operator group makes a state operator; the district pattern (`etranscripts-{lea}`)
makes that district's staff. Anything else maps to no role and is refused: a signed-in state
employee is not, for that reason alone, allowed to see anything here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.settings import OidcSettings

# LEA codes are short upper-case letters and digits (920, 01A); see control/districts.py.
_LEA = r"([A-Za-z0-9]{3,10})"
MAX_GROUPS = 500


@dataclass(frozen=True)
class Role:
    role: str  # "operator" or "district"
    lea: str | None  # the district's LEA code, for district staff


@dataclass(frozen=True)
class Refusal:
    reason: str  # a stable code for the audit log
    message: str  # what the person is told


def groups_of(claims: Mapping[str, Any], claim: str) -> list[str] | None:
    """The groups claim as a list of strings (a single string counts as one group)."""
    value = claims.get(claim)
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(g, str) for g in value):
        return value[:MAX_GROUPS]
    return None


def district_pattern(template: str) -> re.Pattern[str]:
    """`etranscripts-{lea}` → a regex whose one group is the LEA code."""
    before, _, after = template.partition("{lea}")
    return re.compile(re.escape(before) + _LEA + re.escape(after))


def role_for(claims: Mapping[str, Any], config: OidcSettings) -> Role | Refusal:
    """The role the claims give, or why they give none.

    An operator group wins over district groups (operators see every district anyway). A
    person in two districts' groups is refused rather than given one at random: a district
    account belongs to exactly one district, and which one is for the state to say.
    """
    groups = groups_of(claims, config.groups_claim)
    if groups is None:
        return Refusal(
            "no_groups",
            f"Your sign-in did not say which groups you are in (no “{config.groups_claim}” claim).",
        )
    if config.operator_group and config.operator_group in groups:
        return Role("operator", None)
    pattern = district_pattern(config.district_group)
    districts = sorted(
        {m.group(1).upper() for g in groups if (m := pattern.fullmatch(g)) is not None}
    )
    if len(districts) == 1:
        return Role("district", districts[0])
    if len(districts) > 1:
        return Refusal(
            "several_districts",
            "Your account is in the groups of more than one district; ask the department to "
            "leave you in one.",
        )
    return Refusal(
        "unmapped",
        "Your account is not in any eTranscript group. Ask the department to add you to your "
        "district's group.",
    )
