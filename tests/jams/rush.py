"""The deadline rush, at jam size: thousands of teams bulk-inserted into one
Postgres database, two (or more) real `studio serve` processes on loopback
ports, and every team's entry PUT through the HTTP API in the last second
before the deadline. Then the checks of what was stored.

Shared by tests/jams/test_deadline_rush.py and bench/deadline_rush.py.
Setting up teams is bulk SQL (registration is not what is measured); the
entries themselves go through the real API, API-key auth included.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import os
import secrets
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, insert, select

from studio.accounts.models import ApiKey, AuditEvent, Membership, Role, User, Workspace
from studio.db.session import Database
from studio.jams.models import Entry, EntryStatus, Jam, JamTeam, JamTeamMember
from studio.media import ffmpeg
from studio.media.models import Asset
from studio.media.storage import LocalStorage

STUDIO = str(Path(sys.executable).with_name("studio"))
# Requests in flight from the test client to each server: enough for every team
# at once, as every team's browser has its own connection (a save reaches the web
# process when it is pressed, and is dated by that arrival).
CONNECTIONS_PER_SERVER = 1100


@dataclass(frozen=True)
class RushTeam:
    index: int
    team_id: int
    workspace_id: int
    asset_id: int
    keys: tuple[str, ...]  # one API key per member who will press submit


def populate(
    db: Database, storage: LocalStorage, jam_id: int, film: Path, *, teams: int, doubled: int
) -> list[RushTeam]:
    """`teams` registered teams, each with a validated film in its workspace and an
    API key per member; the first `doubled` teams have two members."""
    token = secrets.token_hex(3)
    info = ffmpeg.probe(film)
    sha = hashlib.sha256(film.read_bytes()).hexdigest()
    size = film.stat().st_size
    members = [2 if i < doubled else 1 for i in range(teams)]
    with db.session_scope() as s:
        user_ids = list(
            s.scalars(
                insert(User).returning(User.id),
                [
                    {
                        "email": f"rush-{token}-{i}-{m}@studio.example",
                        "display_name": f"Rusher {i}.{m}",
                        "session_version": 1,
                    }
                    for i in range(teams)
                    for m in range(members[i])
                ],
            )
        )
        workspace_ids = list(
            s.scalars(
                insert(Workspace).returning(Workspace.id),
                [
                    {"slug": f"rush-{token}-{i}", "name": f"Rush {i}", "max_concurrent_jobs": 2}
                    for i in range(teams)
                ],
            )
        )
        people: list[list[int]] = []
        cursor = 0
        for i in range(teams):
            people.append(user_ids[cursor : cursor + members[i]])
            cursor += members[i]
        s.execute(
            insert(Membership),
            [
                {
                    "workspace_id": workspace_ids[i],
                    "user_id": user,
                    "role": Role.OWNER if m == 0 else Role.EDITOR,
                }
                for i in range(teams)
                for m, user in enumerate(people[i])
            ],
        )
        team_ids = list(
            s.scalars(
                insert(JamTeam).returning(JamTeam.id),
                [
                    {
                        "jam_id": jam_id,
                        "name": f"Team {i:04d}",
                        "workspace_id": workspace_ids[i],
                        "created_by": people[i][0],
                    }
                    for i in range(teams)
                ],
            )
        )
        s.execute(
            insert(JamTeamMember),
            [
                {"jam_id": jam_id, "team_id": team_ids[i], "user_id": user}
                for i in range(teams)
                for user in people[i]
            ],
        )
        keys: list[list[str]] = [[] for _ in range(teams)]
        key_rows = []
        for i in range(teams):
            for user in people[i]:
                prefix = f"stu_{secrets.token_hex(4)}"
                secret = f"{prefix}_{secrets.token_urlsafe(32)}"
                keys[i].append(secret)
                key_rows.append(
                    {
                        "user_id": user,
                        "workspace_id": workspace_ids[i],
                        "name": "rush",
                        "prefix": prefix,
                        "key_hash": hashlib.sha256(secret.encode()).hexdigest(),
                    }
                )
        s.execute(insert(ApiKey), key_rows)
        storage_keys = [f"ws{workspace_ids[i]}/jam/rush-{token}-{i}.mp4" for i in range(teams)]
        asset_ids = list(
            s.scalars(
                insert(Asset).returning(Asset.id),
                [
                    {
                        "workspace_id": workspace_ids[i],
                        "kind": "video",
                        "storage_key": storage_keys[i],
                        "mime": "video/mp4",
                        "bytes": size,
                        "width": info.width,
                        "height": info.height,
                        "duration": info.duration,
                        "fps": info.fps,
                        "frame_count": info.frames,
                        "codec": info.codec,
                        "pix_fmt": info.pix_fmt,
                        "sha256": sha,
                    }
                    for i in range(teams)
                ],
            )
        )
    for key in storage_keys:  # one film on disk, a hard link per team (each is probed)
        path = storage.path_for(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        os.link(film, path)
    return [
        RushTeam(i, team_ids[i], workspace_ids[i], asset_ids[i], tuple(keys[i]))
        for i in range(teams)
    ]


# ---------------------------------------------------------------- web processes


@contextmanager
def web_processes(env: dict[str, str], count: int, logs: Path) -> Iterator[list[str]]:
    """`count` real `studio serve` processes on loopback ports, one database."""
    from tests.conftest import free_port

    logs.mkdir(parents=True, exist_ok=True)
    procs: list[subprocess.Popen[bytes]] = []
    urls = []
    try:
        for n in range(count):
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            log = (logs / f"web-{n}.log").open("wb")
            procs.append(
                subprocess.Popen(
                    [STUDIO, "serve", "--host", "127.0.0.1", "--port", str(port), "--no-migrate"],
                    env={**env, "STUDIO_BASE_URL": url},
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
            urls.append(url)
        deadline = time.monotonic() + 300  # importing the web stack is slow on a busy machine
        for url, proc in zip(urls, procs, strict=True):
            while True:
                try:
                    if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"studio serve did not start; see {logs}")
                time.sleep(0.2)
        yield urls
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


# ---------------------------------------------------------------- the burst


@dataclass(frozen=True)
class Send:
    team: int
    person: int
    key: str
    asset_id: int
    at: float  # wall-clock time to send


@dataclass(frozen=True)
class Outcome:
    send: Send
    code: int
    body: dict[str, Any]
    sent: float
    done: float

    @property
    def accepted(self) -> bool:
        return self.code == 200

    @property
    def submitted_at(self) -> datetime:
        return datetime.fromisoformat(self.body["submitted_at"])


def schedule(teams: list[RushTeam], first: float, spread: float) -> list[Send]:
    """Every member of every team presses submit once, spread evenly over
    [first, first + spread); a doubled team's two members press at the same instant."""
    n = len(teams)
    return [
        Send(t.index, p, key, t.asset_id, first + spread * (i / n))
        for i, t in enumerate(teams)
        for p, key in enumerate(t.keys)
    ]


def burst(urls: list[str], slug: str, arm: Callable[[], list[Send]]) -> list[Outcome]:
    """`arm()` (set the deadline, plan the sends), then send every PUT at its time,
    spread over the servers (a doubled team's two members go to different
    servers), and collect the answers."""
    return asyncio.run(_burst(urls, slug, arm))


async def _burst(urls: list[str], slug: str, arm: Callable[[], list[Send]]) -> list[Outcome]:
    # A connection per request, as thousands of teams' browsers would: reusing
    # keep-alive connections races uvicorn closing the ones idle for 5 s (the
    # request then fails on the client's side, whatever the server did).
    limits = httpx.Limits(max_connections=CONNECTIONS_PER_SERVER, max_keepalive_connections=0)
    clients = [httpx.AsyncClient(base_url=u, limits=limits, timeout=300) for u in urls]
    # httpx's pool scans its whole queue of waiting requests at every step: with
    # a thousand queued it, not the server, would be what is measured. Requests
    # beyond the pool's size wait here instead (first come, first served).
    slots = [asyncio.Semaphore(CONNECTIONS_PER_SERVER) for _ in urls]
    try:
        sends = arm()

        async def one(send: Send) -> Outcome:
            await asyncio.sleep(max(0.0, send.at - time.time()))
            server = (send.team + send.person) % len(clients)
            sent = time.time()  # pressed: the latency counts every wait after this
            async with slots[server]:
                response = await clients[server].put(
                    f"/v1/jams/{slug}/entry",
                    json={"title": f"Film {send.team}", "film": {"asset_id": send.asset_id}},
                    headers={"Authorization": f"Bearer {send.key}"},
                )
            return Outcome(send, response.status_code, response.json(), sent, time.time())

        return list(await asyncio.gather(*(one(s) for s in sends)))
    finally:
        for client in clients:
            await client.aclose()


# ---------------------------------------------------------------- checks


@dataclass(frozen=True)
class Prior:
    """A team's entry before the rush (submitted on time)."""

    status: EntryStatus
    submitted_at: datetime
    revision: int


@dataclass
class Report:
    tally: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    first_sent: float = 0.0
    first_done: float = 0.0
    last_done: float = 0.0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    @property
    def median(self) -> float:
        return statistics.median(self.latencies)


CLOCK_SLACK = timedelta(milliseconds=50)  # the client's and the database's clocks are one host's


def verify(
    db: Database,
    jam_id: int,
    teams: list[RushTeam],
    outcomes: list[Outcome],
    *,
    deadline: datetime,
    grace_end: datetime,
    prior: dict[int, Prior],
) -> Report:
    """Every answer is the rule applied to its own database time, every accepted
    entry is stored once (last writer wins, one revision and one audit line per
    accepted save), and every refusal left the team's entry as it was."""
    report = Report()
    by_team: dict[int, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        by_team[outcome.send.team].append(outcome)
        report.latencies.append(outcome.done - outcome.sent)
        sent = datetime.fromtimestamp(outcome.sent, UTC)
        done = datetime.fromtimestamp(outcome.done, UTC)
        if outcome.accepted:
            at = outcome.submitted_at
            expected = EntryStatus.SUBMITTED if at <= deadline else EntryStatus.LATE
            assert outcome.body["status"] == expected.value, outcome
            assert at <= grace_end, outcome
            assert sent - CLOCK_SLACK <= at <= done + CLOCK_SLACK, outcome
            report.tally[expected.value] += 1
        else:
            assert (outcome.code, outcome.body.get("error")) == (409, "deadline_passed"), outcome
            assert done + CLOCK_SLACK > grace_end, outcome  # decided after the grace period
            report.tally["refused"] += 1
    report.first_sent = min(o.sent for o in outcomes)
    report.first_done = min(o.done for o in outcomes)
    report.last_done = max(o.done for o in outcomes)

    workspace_of = {t.team_id: t.workspace_id for t in teams}
    with db.session_scope() as session:
        rows = {e.team_id: e for e in session.scalars(select(Entry).where(Entry.jam_id == jam_id))}
        audited: Counter[int | None] = Counter(
            {
                workspace: int(n)
                for workspace, n in session.execute(
                    select(AuditEvent.workspace_id, func.count())
                    .where(
                        AuditEvent.workspace_id.in_(list(workspace_of.values())),
                        AuditEvent.action.in_(["entry.submitted", "entry.late"]),
                    )
                    .group_by(AuditEvent.workspace_id)
                ).tuples()
            }
        )
    for team in teams:
        accepted = [o for o in by_team[team.index] if o.accepted]
        before = prior.get(team.index)
        row = rows.get(team.team_id)
        saves = (1 if before else 0) + len(accepted)
        assert audited[team.workspace_id] == saves, (team, accepted, before)
        if not accepted:
            if before is None:
                assert row is None, f"team {team.index} was refused but has an entry"
            else:
                assert row is not None, team
                assert (row.status, row.submitted_at, row.revision) == (
                    before.status,
                    before.submitted_at,
                    before.revision,
                ), f"a refused save changed team {team.index}'s entry"
            continue
        assert row is not None, team
        assert row.revision == saves, (team, row.revision, accepted)
        last = max(accepted, key=lambda o: o.submitted_at)
        assert row.submitted_at == last.submitted_at, (team, row.submitted_at, last)
        assert row.status.value == last.body["status"], (team, row.status, last)
        assert row.film_asset_id == team.asset_id
    return report


def set_deadline(
    db: Database, slug: str, admin_id: int, *, in_seconds: float, grace_seconds: int
) -> datetime:
    """Move the jam's deadline to `in_seconds` from the database's now, as an
    organizer. The clock is read after the jam's row lock is taken, as
    put_entry does: saves in flight finish under the old deadline first, and
    every save after it sees the new one, so each is judged by the rules it read."""
    from studio.accounts.access import Actor
    from studio.jams import service
    from studio.jams.clock import db_clock
    from studio.jams.rules import JamRules

    with db.session_scope() as session:
        user = session.get(User, admin_id)
        assert user is not None
        session.execute(select(Jam.id).where(Jam.slug == slug).with_for_update())
        deadline = db_clock(session) + timedelta(seconds=in_seconds)
        service.update_jam(
            session,
            Actor(user=user),
            slug,
            JamRules(deadline_at=deadline, grace_seconds=grace_seconds),
        )
    return deadline


def close_late_entries(db: Database, slug: str, admin_id: int, deadline: datetime) -> datetime:
    """The organizer ends the grace period now (the deadline stays): the end of grace."""
    from studio.accounts.access import Actor
    from studio.jams import service
    from studio.jams.clock import db_clock
    from studio.jams.rules import JamRules

    with db.session_scope() as session:
        user = session.get(User, admin_id)
        assert user is not None
        session.execute(select(Jam.id).where(Jam.slug == slug).with_for_update())
        grace = math.ceil((db_clock(session) - deadline).total_seconds())
        service.update_jam(
            session, Actor(user=user), slug, JamRules(deadline_at=deadline, grace_seconds=grace)
        )
    return deadline + timedelta(seconds=grace)


def db_now(db: Database) -> datetime:
    from studio.jams.clock import db_clock

    with db.session_scope() as session:
        return db_clock(session)


def jam_id_of(db: Database, slug: str) -> int:
    with db.session_scope() as session:
        found = session.scalar(select(Jam.id).where(Jam.slug == slug))
        assert found is not None
        return int(found)
