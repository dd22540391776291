"""The kickoff draw: random, reproducible from the jam's recorded seed, audited.

Each pick is sha256("<seed>:shared:<category>") or
sha256("<seed>:team:<team id>:<category>") modulo the number of options, so
anyone holding the seed (shown after kickoff, and written to the audit log
with every draw) can recompute every draw with any language, independent of
Python's random module. The draw happens once, at the first read at or after
kickoff (or when an organizer asks), under a lock on the jam row; a team that
registers after kickoff is drawn when it registers.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from studio.accounts import audit
from studio.jams import locks
from studio.jams.models import Jam, JamTeam


def pick(seed: int, options: list[str], *parts: object) -> str:
    digest = hashlib.sha256(":".join(str(p) for p in (seed, *parts)).encode()).digest()
    return options[int.from_bytes(digest, "big") % len(options)]


def shared_draw(jam: Jam) -> dict[str, str]:
    """One option per category drawn for everyone."""
    return {
        e["category"]: pick(jam.draw_seed, e["options"], "shared", e["category"])
        for e in jam.elements
        if not e["per_team"]
    }


def team_draw(jam: Jam, team_id: int) -> dict[str, str]:
    """One option per per-team category, for this team."""
    return {
        e["category"]: pick(jam.draw_seed, e["options"], "team", team_id, e["category"])
        for e in jam.elements
        if e["per_team"]
    }


def ensure_drawn(session: Session, jam: Jam, now: datetime, *, actor_user_id: int | None) -> bool:
    """Draw at or after kickoff if not done yet. Returns True when this call drew."""
    if now < jam.kickoff_at or jam.drawn_at is not None:
        return False
    # Lock and re-read: of all the requests arriving at kickoff, one draws.
    locked = locks.lock_jam(session, jam.id)
    if locked.drawn_at is not None:
        return False
    locked.shared_elements = shared_draw(locked)
    locked.drawn_at = now
    teams = list(
        session.scalars(select(JamTeam).where(JamTeam.jam_id == jam.id).order_by(JamTeam.id))
    )
    per_team: dict[str, Any] = {}
    for team in teams:
        if team.drawn_elements is None:
            team.drawn_elements = team_draw(locked, team.id)
        per_team[str(team.id)] = team.drawn_elements
    audit.record(
        session,
        "jam.elements_drawn",
        actor_user_id=actor_user_id,
        target=f"jam:{jam.slug}",
        seed=locked.draw_seed,
        shared=locked.shared_elements,
        teams=per_team,
    )
    session.flush()
    return True


def draw_new_team(session: Session, jam: Jam, team: JamTeam, *, actor_user_id: int) -> None:
    """A team registering after kickoff gets its draw now (same seed, same formula)."""
    team.drawn_elements = team_draw(jam, team.id)
    audit.record(
        session,
        "jam.team_drawn",
        actor_user_id=actor_user_id,
        workspace_id=team.workspace_id,
        target=f"jam:{jam.slug}",
        seed=jam.draw_seed,
        team_id=team.id,
        drawn=team.drawn_elements,
    )
