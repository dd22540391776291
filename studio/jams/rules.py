"""A jam's rules: the schedule, film limits, required elements and the rubric.

Pure validation (no database): every rule is checked once here, with a message
that names the field, so the API, the pages and the CLI refuse the same things.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from studio.errors import InvalidInput
from studio.jams.models import EntryStatus, Jam

DEFAULT_LENGTH = timedelta(hours=48)
DEFAULT_JUDGING = timedelta(days=7)
DEFAULT_RUBRIC: list[dict[str, Any]] = [
    {"key": "artistic", "name": "Artistic", "weight": 45, "min": 1, "max": 10},
    {"key": "technical", "name": "Technical", "weight": 30, "min": 1, "max": 10},
    {"key": "adherence", "name": "Adherence to the brief", "weight": 25, "min": 1, "max": 10},
]
KEY_RE = re.compile(r"[a-z][a-z0-9_]{0,39}")
SLUG_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?")
MAX_CATEGORIES = 12
MAX_OPTIONS = 500
MAX_CRITERIA = 10


class Phase(enum.StrEnum):
    """Where a jam is on its schedule at a given instant."""

    UPCOMING = "upcoming"  # before kickoff (registration may be open)
    RUNNING = "running"  # kickoff .. deadline: entries count as on time
    GRACE = "grace"  # deadline .. deadline + grace: entries count as late
    JUDGING = "judging"  # after the grace period until judging closes
    CLOSED = "closed"  # judging closed, results not yet published
    PUBLISHED = "published"


def phase_at(jam: Jam, now: datetime) -> Phase:
    if jam.results_published_at is not None:
        return Phase.PUBLISHED
    if now < jam.kickoff_at:
        return Phase.UPCOMING
    if now <= jam.deadline_at:
        return Phase.RUNNING
    if now <= grace_ends_at(jam):
        return Phase.GRACE
    if now < jam.judging_closes_at:
        return Phase.JUDGING
    return Phase.CLOSED


def grace_ends_at(jam: Jam) -> datetime:
    return jam.deadline_at + timedelta(seconds=jam.grace_seconds)


def moment_words(moment: datetime, zone: str) -> str:
    """A moment as people read it, in the jam's time zone, zone named:
    "Sat 06 Jun 2026, 19:00 CEST (Europe/Paris)". Messages use this, never ISO text."""
    try:
        local = moment.astimezone(ZoneInfo(zone))
    except (ZoneInfoNotFoundError, ValueError):
        local, zone = moment.astimezone(UTC), "UTC"
    named = local.tzname() or zone
    where = "" if named == zone else f" ({zone})"
    return local.strftime("%a %d %b %Y, %H:%M ") + named + where


def at_jam(jam: Jam, moment: datetime) -> str:
    """moment_words in this jam's zone."""
    return moment_words(moment, jam.timezone)


def registration_open(jam: Jam, now: datetime) -> bool:
    return jam.registration_opens_at <= now < jam.registration_closes_at


def elements_revealed(jam: Jam, now: datetime) -> bool:
    return now >= jam.kickoff_at


def submission_status(jam: Jam, now: datetime) -> EntryStatus | None:
    """The deadline rule: at or before the deadline on time, within grace late, else None."""
    if now <= jam.deadline_at:
        return EntryStatus.SUBMITTED
    if now <= grace_ends_at(jam):
        return EntryStatus.LATE
    return None


def withdrawable(phase: Phase, status: EntryStatus | None) -> bool:
    """What entries.withdraw_entry allows, for pages to offer it: an entry that is
    still in the running (not withdrawn or disqualified) until judging closes."""
    if status is None or status in (EntryStatus.WITHDRAWN, EntryStatus.DISQUALIFIED):
        return False
    return phase not in (Phase.CLOSED, Phase.PUBLISHED)


# ---------------------------------------------------------------- input


@dataclass
class JamRules:
    """Everything an organizer sets. None means "the default" on create and
    "leave as it is" on update. Times must carry a time zone."""

    title: str | None = None
    slug: str | None = None
    brief: str | None = None
    timezone: str | None = None
    registration_opens_at: datetime | None = None
    registration_closes_at: datetime | None = None
    kickoff_at: datetime | None = None
    deadline_at: datetime | None = None  # default kickoff + 48 h
    grace_seconds: int | None = None  # default 0
    judging_closes_at: datetime | None = None  # default deadline + grace + 7 days
    results_at: datetime | None = None  # default when judging closes
    team_size_max: int | None = None
    film_min_seconds: float | None = None
    film_max_seconds: float | None = None
    film_max_bytes: int | None = None
    elements: list[dict[str, Any]] | None = None
    rubric: list[dict[str, Any]] | None = None
    gpu_seconds_grant: int | None = None
    team_concurrent_jobs_cap: int | None = None  # 0: no cap
    audience_vote: bool | None = None
    film_needs_sound: bool | None = None  # refuse films without an audio track
    judges_per_entry: int | None = None
    normalize_scores: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # unknown keys: refused

    def given(self) -> dict[str, Any]:
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name != "extra" and getattr(self, f.name) is not None
        }


SCHEDULE_FIELDS = (
    "registration_opens_at",
    "registration_closes_at",
    "kickoff_at",
    "deadline_at",
    "grace_seconds",
    "judging_closes_at",
    "results_at",
)


def aware(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise InvalidInput(f"'{name}' must be a date and time.", code="invalid_schedule")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(
            f"'{name}' has no time zone; give one, e.g. 2026-06-05T19:00:00+02:00.",
            code="invalid_schedule",
        )
    return value.astimezone(UTC)


def apply_rules(jam: Jam, rules: JamRules, *, creating: bool) -> None:
    """Validate `rules` against `jam`'s current values and write them onto it."""
    if rules.extra:
        raise InvalidInput(f"Unknown jam settings: {', '.join(sorted(rules.extra))}.")
    given = rules.given()
    if creating:
        for required in ("title", "slug", "registration_opens_at", "kickoff_at"):
            if required not in given:
                raise InvalidInput(f"'{required}' is required to create a jam.")
    if "title" in given:
        title = str(given["title"]).strip()
        if not 1 <= len(title) <= 120:
            raise InvalidInput("'title' must be 1 to 120 characters.")
        jam.title = title
    if "slug" in given:
        slug = str(given["slug"]).strip().lower()
        if not SLUG_RE.fullmatch(slug):
            raise InvalidInput(
                "'slug' must be lowercase letters, digits and dashes (up to 80).",
                code="invalid_slug",
            )
        jam.slug = slug
    if "brief" in given:
        if len(given["brief"]) > 20_000:
            raise InvalidInput("'brief' is limited to 20,000 characters.")
        jam.brief = given["brief"]
    if "timezone" in given or creating:
        name = given.get("timezone", "UTC")
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidInput(
                f"'timezone': unknown time zone {name!r} (use an IANA name like Europe/Paris).",
                code="invalid_schedule",
            ) from None
        jam.timezone = name
    _apply_schedule(jam, given, creating)
    _apply_limits(jam, given, creating)
    if "elements" in given or creating:
        jam.elements = validate_elements(given.get("elements", []))
    if "rubric" in given or creating:
        jam.rubric = validate_rubric(given.get("rubric") or DEFAULT_RUBRIC)


def _apply_schedule(jam: Jam, given: dict[str, Any], creating: bool) -> None:
    times = {
        k: aware(v, k) for k, v in given.items() if k in SCHEDULE_FIELDS and k != "grace_seconds"
    }
    opens = times.get("registration_opens_at", None if creating else jam.registration_opens_at)
    kickoff = times.get("kickoff_at", None if creating else jam.kickoff_at)
    assert opens is not None and kickoff is not None
    closes = times.get("registration_closes_at") or (
        kickoff if creating else jam.registration_closes_at
    )
    deadline = times.get("deadline_at") or (
        kickoff + DEFAULT_LENGTH if creating or "kickoff_at" in times else jam.deadline_at
    )
    grace = given.get("grace_seconds", 0 if creating else jam.grace_seconds)
    if not isinstance(grace, int) or isinstance(grace, bool) or not 0 <= grace <= 7 * 86400:
        raise InvalidInput("'grace_seconds' must be 0 to 604800 (a week).", code="invalid_schedule")
    grace_end = deadline + timedelta(seconds=grace)
    judging = times.get("judging_closes_at") or (
        grace_end + DEFAULT_JUDGING if creating else jam.judging_closes_at
    )
    results = times.get("results_at") or (judging if creating else jam.results_at)
    checks = [
        (opens < closes, "registration must close after it opens"),
        (closes <= deadline, "registration must close by the deadline"),
        (kickoff < deadline, "the deadline must come after kickoff"),
        (grace_end < judging, "judging must close after the deadline and grace period"),
        (judging <= results, "results cannot be published before judging closes"),
    ]
    for ok, message in checks:
        if not ok:
            raise InvalidInput(f"Schedule: {message}.", code="invalid_schedule")
    jam.registration_opens_at = opens
    jam.registration_closes_at = closes
    jam.kickoff_at = kickoff
    jam.deadline_at = deadline
    jam.grace_seconds = grace
    jam.judging_closes_at = judging
    jam.results_at = results


def _int(given: dict[str, Any], name: str, low: int, high: int) -> int:
    value = given[name]
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidInput(f"'{name}' must be a whole number from {low} to {high}.")
    return value


def _apply_limits(jam: Jam, given: dict[str, Any], creating: bool) -> None:
    defaults: dict[str, Any] = {
        "team_size_max": 3,
        "film_min_seconds": 60.0,
        "film_max_seconds": 240.0,
        "film_max_bytes": 2 * 1024**3,
        "gpu_seconds_grant": 3600,
        "team_concurrent_jobs_cap": 0,
        "audience_vote": True,
        "film_needs_sound": False,
        "judges_per_entry": 3,
        "normalize_scores": False,
    }
    values = {k: given.get(k, defaults[k] if creating else getattr(jam, k)) for k in defaults}
    given_all = {**values}
    values["team_size_max"] = _int(given_all, "team_size_max", 1, 50)
    values["gpu_seconds_grant"] = _int(given_all, "gpu_seconds_grant", 0, 10**9)
    values["team_concurrent_jobs_cap"] = _int(given_all, "team_concurrent_jobs_cap", 0, 10_000)
    values["judges_per_entry"] = _int(given_all, "judges_per_entry", 1, 20)
    values["film_max_bytes"] = _int(given_all, "film_max_bytes", 1024, 100 * 1024**3)
    for name in ("film_min_seconds", "film_max_seconds"):
        value = values[name]
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 36000:
            raise InvalidInput(f"'{name}' must be a number of seconds from 0 to 36000.")
        values[name] = float(value)
    if values["film_min_seconds"] > values["film_max_seconds"]:
        raise InvalidInput("'film_min_seconds' cannot be more than 'film_max_seconds'.")
    for name in ("audience_vote", "normalize_scores", "film_needs_sound"):
        if not isinstance(values[name], bool):
            raise InvalidInput(f"'{name}' must be true or false.")
    for name, value in values.items():
        setattr(jam, name, value)


def validate_elements(raw: Any) -> list[dict[str, Any]]:
    """[{category, options, per_team}]: per_team draws one option per team, else one for all."""
    if not isinstance(raw, list) or len(raw) > MAX_CATEGORIES:
        raise InvalidInput(f"'elements' must be a list of up to {MAX_CATEGORIES} categories.")
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        where = f"elements[{i}]"
        if not isinstance(item, dict) or set(item) - {"category", "options", "per_team"}:
            raise InvalidInput(f"'{where}' must have category, options and per_team only.")
        category = str(item.get("category", "")).strip()
        if not 1 <= len(category) <= 40:
            raise InvalidInput(f"'{where}.category' must be 1 to 40 characters.")
        if category.lower() in seen:
            raise InvalidInput(f"'{where}.category': {category!r} appears twice.")
        seen.add(category.lower())
        options = item.get("options")
        if not isinstance(options, list) or not 1 <= len(options) <= MAX_OPTIONS:
            raise InvalidInput(f"'{where}.options' must list 1 to {MAX_OPTIONS} options.")
        cleaned = [str(o).strip() for o in options]
        if any(not 1 <= len(o) <= 300 for o in cleaned):
            raise InvalidInput(f"'{where}.options': each option must be 1 to 300 characters.")
        per_team = item.get("per_team", False)
        if not isinstance(per_team, bool):
            raise InvalidInput(f"'{where}.per_team' must be true or false.")
        out.append({"category": category, "options": cleaned, "per_team": per_team})
    return out


def validate_rubric(raw: Any) -> list[dict[str, Any]]:
    """[{key, name, weight, min, max}]: weights are relative (they need not sum to 100)."""
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_CRITERIA:
        raise InvalidInput(f"'rubric' must list 1 to {MAX_CRITERIA} criteria.")
    out: list[dict[str, Any]] = []
    keys: set[str] = set()
    for i, item in enumerate(raw):
        where = f"rubric[{i}]"
        if not isinstance(item, dict) or set(item) - {"key", "name", "weight", "min", "max"}:
            raise InvalidInput(f"'{where}' must have key, name, weight, min and max only.")
        key = str(item.get("key", ""))
        if not KEY_RE.fullmatch(key) or key in keys:
            raise InvalidInput(
                f"'{where}.key' must be a unique lowercase identifier (letters, digits, _)."
            )
        keys.add(key)
        name = str(item.get("name") or key.replace("_", " ").capitalize())[:80]
        weight, low, high = item.get("weight"), item.get("min", 1), item.get("max", 10)
        numbers = (weight, low, high)
        if any(isinstance(n, bool) or not isinstance(n, int | float) for n in numbers):
            raise InvalidInput(f"'{where}': weight, min and max must be numbers.")
        assert isinstance(weight, int | float) and isinstance(low, int | float)
        assert isinstance(high, int | float)
        if weight <= 0:
            raise InvalidInput(f"'{where}.weight' must be more than 0.")
        if low >= high:
            raise InvalidInput(f"'{where}': min must be less than max.")
        out.append({"key": key, "name": name, "weight": weight, "min": low, "max": high})
    return out
