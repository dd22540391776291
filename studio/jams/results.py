"""Results: weighted scores, the jury ranking, the audience vote, awards, the
public gallery and the organizers' CSV exports.

Scoring (only submitted score sheets count; only on-time entries are ranked):
- raw: each criterion score is mapped onto 0..100 within its range,
  x = 100 * (v - min) / (max - min);
- normalized (the jam's normalize_scores): each judge's scores for a
  criterion become z-scores over all of that judge's submitted sheets,
  x = (v - mean) / std (population std; 0 when the judge gave one value
  only), so a harsh and a generous judge count alike;
- an entry's criterion score is the mean of its judges' x; its score is the
  weighted mean of its criterion scores (weights are relative).
Tie-breaks, in order (scores are compared rounded to 1e-9 so float noise
never decides): higher score; then higher criterion scores, heaviest
criterion first; then more submitted score sheets; then the earlier
submitted_at (the database clock); then the lower entry id.
Awards: grand prize = rank 1; best <criterion> = highest criterion score
(ties as above); audience = most votes among on-time and late entries (ties:
earlier submitted_at, then lower id).
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from studio.accounts import audit
from studio.accounts.access import Actor
from studio.accounts.models import User
from studio.errors import Conflict, InvalidInput, NotFound
from studio.jams import access, locks, rules
from studio.jams.clock import Clock, db_clock
from studio.jams.models import (
    Assignment,
    Award,
    Entry,
    EntryStatus,
    Jam,
    JamTeam,
    JamTeamMember,
    Judge,
    Score,
    Vote,
)

NOT_PUBLISHED = "Results are not published yet."
GRAND_PRIZE = "grand_prize"
AUDIENCE = "audience"


def award_name(kind: str, rubric: list[dict[str, Any]]) -> str:
    """One name per award, wherever it is shown (results, gallery badges, exports):
    "Grand prize", "Audience award", "Best <criterion name>"."""
    if kind == GRAND_PRIZE:
        return "Grand prize"
    if kind == AUDIENCE:
        return "Audience award"
    key = kind.removeprefix("best_")
    names = {c["key"]: c["name"] for c in rubric}
    return f"Best {names.get(key, key.replace('_', ' '))}"


@dataclass(frozen=True)
class EntryResult:
    entry_id: int
    team_id: int
    team_name: str
    title: str
    status: EntryStatus
    rank: int | None  # jury rank; None for late and unscored entries
    score: float | None
    criteria: dict[str, float]
    sheets: int  # submitted score sheets
    votes: int
    submitted_at: datetime | None
    poster_asset_id: int | None  # the team's poster, else a frame of the film
    film_asset_id: int | None


@dataclass(frozen=True)
class Results:
    slug: str
    normalized: bool
    ranking: list[EntryResult]  # jury ranking, rank 1 first
    others: list[EntryResult]  # late entries and on-time entries nobody scored
    awards: dict[str, int]  # kind -> entry id
    published_at: datetime | None


def compute_results(session: Session, jam: Jam, *, with_votes: bool = True) -> Results:
    """Everything from three queries and one pass in Python (no access check:
    callers decide who sees it). with_votes=False leaves tallies out (zero)."""
    criteria = sorted(jam.rubric, key=lambda c: (-c["weight"], c["key"]))
    spec = {c["key"]: c for c in jam.rubric}
    rows = session.execute(
        select(Assignment.entry_id, Assignment.judge_id, Score.criterion, Score.value)
        .join(Score, Score.assignment_id == Assignment.id)
        .join(Entry, Entry.id == Assignment.entry_id)
        .where(
            Assignment.jam_id == jam.id,
            Assignment.submitted_at.is_not(None),
            Entry.status == EntryStatus.SUBMITTED,
        )
    ).all()
    entries = session.execute(
        select(
            Entry.id,
            Entry.team_id,
            JamTeam.name,
            Entry.title,
            Entry.status,
            Entry.submitted_at,
            func.coalesce(Entry.poster_asset_id, Entry.film_poster_asset_id),
            Entry.film_asset_id,
        )
        .join(JamTeam, JamTeam.id == Entry.team_id)
        .where(Entry.jam_id == jam.id, Entry.status.in_([EntryStatus.SUBMITTED, EntryStatus.LATE]))
    ).all()
    votes: dict[int, int] = {}
    if with_votes:
        votes = {
            entry_id: int(n)
            for entry_id, n in session.execute(
                select(Vote.entry_id, func.count())
                .where(Vote.jam_id == jam.id)
                .group_by(Vote.entry_id)
            )
        }

    if jam.normalize_scores:
        stats: dict[tuple[int, str], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
        for _, judge, crit, value in rows:
            acc = stats[(judge, crit)]
            acc[0] += 1
            acc[1] += value
            acc[2] += value * value
        moments = {}
        for key, (n, total, squares) in stats.items():
            mean = total / n
            var = max(squares / n - mean * mean, 0.0)
            moments[key] = (mean, math.sqrt(var))

        def scaled(judge: int, crit: str, value: float) -> float:
            mean, std = moments[(judge, crit)]
            return (value - mean) / std if std > 1e-12 else 0.0
    else:

        def scaled(judge: int, crit: str, value: float) -> float:
            c = spec[crit]
            return 100.0 * (value - c["min"]) / (c["max"] - c["min"])

    sums: dict[int, dict[str, list[float]]] = defaultdict(lambda: defaultdict(lambda: [0.0, 0.0]))
    sheets: dict[int, set[int]] = defaultdict(set)
    for entry_id, judge, crit, value in rows:
        if crit not in spec:
            continue
        acc = sums[entry_id][crit]
        acc[0] += scaled(judge, crit, value)
        acc[1] += 1
        sheets[entry_id].add(judge)
    total_weight = sum(c["weight"] for c in criteria)

    ranked: list[EntryResult] = []
    others: list[EntryResult] = []
    for eid, team_id, team_name, title, status, at, poster, film in entries:
        per = {c: s / n for c, (s, n) in sums.get(eid, {}).items() if n}
        score = None
        if status is EntryStatus.SUBMITTED and per:
            score = sum(c["weight"] * per.get(c["key"], 0.0) for c in criteria) / total_weight
        result = EntryResult(
            eid, team_id, team_name, title, status, None, score, per,
            len(sheets.get(eid, ())), votes.get(eid, 0), at, poster, film,
        )  # fmt: skip
        (ranked if score is not None else others).append(result)

    def order(r: EntryResult) -> tuple[Any, ...]:
        return (
            -round(r.score or 0.0, 9),
            *(-round(r.criteria.get(c["key"], 0.0), 9) for c in criteria),
            -r.sheets,
            r.submitted_at,
            r.entry_id,
        )

    ranked.sort(key=order)
    ranking = [_with_rank(r, i + 1) for i, r in enumerate(ranked)]
    others.sort(key=lambda r: r.entry_id)
    awards: dict[str, int] = {}
    if ranking:
        awards[GRAND_PRIZE] = ranking[0].entry_id
        for c in criteria:
            best = min(
                ranking,
                key=lambda r, k=c["key"]: (-round(r.criteria.get(k, 0.0), 9), r.rank),  # type: ignore[misc]
            )
            awards[f"best_{c['key']}"] = best.entry_id
    everyone = ranking + others
    if jam.audience_vote and any(r.votes for r in everyone):
        top = min(everyone, key=lambda r: (-r.votes, r.submitted_at, r.entry_id))
        awards[AUDIENCE] = top.entry_id
    return Results(
        jam.slug, jam.normalize_scores, ranking, others, awards, jam.results_published_at
    )


def _with_rank(result: EntryResult, rank: int) -> EntryResult:
    return replace(result, rank=rank)


# ---------------------------------------------------------------- who sees what


def preview_results(session: Session, actor: Actor, slug: str) -> Results:
    """Organizers, at any time; vote tallies stay secret until publication."""
    jam = access.jam_by_slug(session, slug)
    access.require_organizer(session, actor, jam)
    return compute_results(session, jam, with_votes=jam.results_published_at is not None)


def publish_results(
    session: Session, actor: Actor, slug: str, *, clock: Clock = db_clock
) -> Results:
    """Freeze the awards and make results, votes and the gallery public."""
    jam = access.jam_by_slug(session, slug)
    access.require_organizer(session, actor, jam)
    jam = locks.lock_jam(session, jam.id)
    now = clock(session)
    if jam.results_published_at is not None:
        raise Conflict("Results are already published.", code="published")
    if now < jam.judging_closes_at:
        raise Conflict(
            f"Judging is open until {rules.at_jam(jam, jam.judging_closes_at)}; "
            "publish after that.",
            code="judging_open",
        )
    results = compute_results(session, jam)
    session.execute(delete(Award).where(Award.jam_id == jam.id))
    scores = {r.entry_id: r for r in results.ranking + results.others}
    for kind, entry_id in results.awards.items():
        r = scores[entry_id]
        value = float(r.votes) if kind == AUDIENCE else r.score
        if kind.startswith("best_"):
            value = r.criteria.get(kind.removeprefix("best_"))
        session.add(Award(jam_id=jam.id, kind=kind, entry_id=entry_id, score=value))
    jam.results_published_at = now
    audit.record(
        session,
        "jam.results_published",
        actor_user_id=actor.user_id,
        target=f"jam:{jam.slug}",
        awards=results.awards,
    )
    session.flush()
    return compute_results(session, jam)


def get_results(session: Session, actor: Actor, slug: str) -> Results:
    """Anyone signed in, once published; before that, not found for everyone."""
    jam = access.jam_by_slug(session, slug)
    if jam.results_published_at is None:
        raise NotFound(NOT_PUBLISHED, code="results_not_published")
    results = compute_results(session, jam)
    # The published awards are the ones frozen at publication.
    frozen = {
        kind: entry_id
        for kind, entry_id in session.execute(
            select(Award.kind, Award.entry_id).where(Award.jam_id == jam.id)
        )
    }
    return Results(
        results.slug,
        results.normalized,
        results.ranking,
        results.others,
        frozen,
        jam.results_published_at,
    )


def gallery(session: Session, actor: Actor, slug: str) -> list[EntryResult]:
    """The public gallery: every on-time and late film, winners first, after publication."""
    published = get_results(session, actor, slug)
    awarded = set(published.awards.values())
    films = published.ranking + published.others
    return sorted(films, key=lambda r: (r.entry_id not in awarded, r.rank or 10**9, r.entry_id))


# ---------------------------------------------------------------- CSV exports


EXPORTS = ("teams", "scores", "results")


def export_csv(
    session: Session, actor: Actor, slug: str, kind: str, *, clock: Clock = db_clock
) -> str:
    """Organizers: teams (with their draws, hidden before kickoff), every submitted
    score sheet, or the results."""
    jam = access.jam_by_slug(session, slug)
    access.require_organizer(session, actor, jam)
    if kind not in EXPORTS:
        raise InvalidInput(f"Exports are {', '.join(EXPORTS)}.", code="invalid_export")
    now = clock(session)
    out = io.StringIO()
    writer = csv.writer(out)
    if kind == "teams":
        revealed = rules.elements_revealed(jam, now)
        writer.writerow(["team_id", "team", "members", "elements", "entry_status"])
        counts = {
            team_id: int(n)
            for team_id, n in session.execute(
                select(JamTeamMember.team_id, func.count())
                .where(JamTeamMember.jam_id == jam.id)
                .group_by(JamTeamMember.team_id)
            )
        }
        rows = session.execute(
            select(JamTeam, Entry.status)
            .outerjoin(Entry, Entry.team_id == JamTeam.id)
            .where(JamTeam.jam_id == jam.id)
            .order_by(JamTeam.id)
        ).tuples()
        for team, status in rows:
            drawn = {**(jam.shared_elements or {}), **(team.drawn_elements or {})}
            shown = "; ".join(f"{k}: {v}" for k, v in drawn.items()) if revealed else ""
            writer.writerow(
                [team.id, _safe(team.name), counts.get(team.id, 0), _safe(shown), status or ""]
            )
    elif kind == "scores":
        keys = [c["key"] for c in jam.rubric]
        writer.writerow(["entry_id", "team", "title", "judge", *keys, "submitted_at"])
        sheets = session.execute(
            select(Assignment, JamTeam.name, Entry.title, User.display_name)
            .join(Entry, Entry.id == Assignment.entry_id)
            .join(JamTeam, JamTeam.id == Entry.team_id)
            .join(Judge, Judge.id == Assignment.judge_id)
            .join(User, User.id == Judge.user_id)
            .where(Assignment.jam_id == jam.id, Assignment.submitted_at.is_not(None))
            .order_by(Assignment.entry_id, Assignment.judge_id)
        ).tuples()
        values: dict[int, dict[str, float]] = defaultdict(dict)
        for aid, crit, value in session.execute(
            select(Score.assignment_id, Score.criterion, Score.value)
            .join(Assignment, Assignment.id == Score.assignment_id)
            .where(Assignment.jam_id == jam.id)
        ).tuples():
            values[aid][crit] = value
        for a, team_name, title, judge in sheets:
            got = values.get(a.id, {})
            writer.writerow(
                [a.entry_id, _safe(team_name), _safe(title), _safe(judge)]
                + [got.get(k, "") for k in keys]
                + [a.submitted_at.isoformat() if a.submitted_at else ""]
            )
    else:
        results = compute_results(session, jam)
        keys = [c["key"] for c in jam.rubric]
        award_of = defaultdict(list)
        for award, entry_id in results.awards.items():
            award_of[entry_id].append(award)
        writer.writerow(
            [
                "rank",
                "entry_id",
                "team",
                "title",
                "status",
                "score",
                *keys,
                "sheets",
                "votes",
                "awards",
            ]
        )
        for r in results.ranking + results.others:
            writer.writerow(
                [r.rank or "", r.entry_id, _safe(r.team_name), _safe(r.title), r.status.value]
                + [f"{r.score:.4f}" if r.score is not None else ""]
                + [f"{r.criteria[k]:.4f}" if k in r.criteria else "" for k in keys]
                + [r.sheets, r.votes, " ".join(award_of.get(r.entry_id, []))]
            )
    return out.getvalue()


def _safe(value: str) -> str:
    """Spreadsheets run cells that start with = + - @ as formulas: defuse them."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
