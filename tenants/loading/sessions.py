"""Sessions are one school's year and term: a load keeps the ids the store already gave them.

A district's system numbers its academic sessions, and may number them anew between two
exports (a new system, an archive rebuilt). The store's `UNIQUE (district_id, school_id,
school_year, term)` says what a session is: its school, year and term, not its number. So a
load reads its sessions' numbers as names valid within its own files, and before anything
is written, renames them (in its staging tables) to the numbers the store already has for
the same school, year and term. Course records of students the load does not list keep
pointing at the right session, no stored id ever changes, and a re-load of a renumbered
export is, as it should be, a load that changes nothing.

A session that is new to the store keeps its number unless the store (or another session of
the load, once renamed) already uses that number for something else; then it gets a number
past every one in use. Without this, the load's upsert on the session's number would have
silently rewritten another term's session, and with it the courses of every student not
in the load that point at it.

Pure: `renumbering` maps the load's numbers to the store's; `replace.apply` carries it out.
"""

from __future__ import annotations

from collections.abc import Mapping

Term = tuple[int, int, str]  # school_id, school_year, term: what a session is


def renumbering(stored: Mapping[Term, int], staged: Mapping[int, Term]) -> dict[int, int]:
    """{load's session number: the number to store it under}, only for those that change.

    `stored`: the store's sessions by what they are; `staged`: the load's, by number."""
    target = {number: stored[term] for number, term in staged.items() if term in stored}
    in_use = set(stored.values()) | set(target.values())
    fresh = max([*in_use, *staged], default=0) + 1
    for number in sorted(staged):
        if number in target:
            continue
        if number in in_use:
            target[number] = fresh
            fresh += 1
        else:
            target[number] = number
        in_use.add(target[number])
    return {old: new for old, new in target.items() if old != new}
