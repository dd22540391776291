"""Jam setup: the settings editor (in Organize, for the jam's organizers),
appointing organizers (studio admins) and the New jam tab (studio admins).

Times are date-time pickers read in the jam's time zone (the Time zone field
of the same form); the editor shows each rule from service.get_jam_setup and
sends service.update_jam only what changed (a time left as shown keeps its
exact value, a rubric left as shown is not sent, so a rubric frozen by the
first score never blocks a save). The rubric is a small table (criterion,
weight, min, max); the service validates it like every other rule. The
element pool is not shown in the editor: the page never carries elements
before kickoff, and they freeze at kickoff.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import gradio as gr
from sqlalchemy.orm import Session

from studio.accounts.access import Actor
from studio.errors import InvalidInput
from studio.jams import service
from studio.jams.models import Jam
from studio.jams.rules import DEFAULT_RUBRIC, MAX_CRITERIA, JamRules
from studio.ui.actions import ui_action
from studio.ui.inline_errors import error_line, in_place
from studio.ui.jams.scripts import address_js
from studio.ui.jams.state import Context, JamUI, required_slug
from studio.ui.notify import notify

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
ELEMENTS_HINT = (
    "One category per line, options separated by ';'. Add '(per team)' after the "
    "category for a draw per team, e.g.\ncharacter: a retired astronaut; a twin\n"
    "genre (per team): film noir; musical; western"
)
RUBRIC_HEADERS = ["Criterion", "Weight", "Min", "Max"]
# (form field, JamRules field, label)
TIMES = [
    ("opens", "registration_opens_at", "Registration opens"),
    ("closes", "registration_closes_at", "Registration closes"),
    ("kickoff", "kickoff_at", "Kickoff"),
    ("deadline", "deadline_at", "Deadline"),
    ("judging", "judging_closes_at", "Judging closes"),
    ("results_at", "results_at", "Results"),
]
NUMBERS = ["grace", "team_max", "film_min", "film_max", "per_entry", "gpu_minutes"]


@lru_cache(maxsize=1)
def zone_choices() -> list[str]:
    """IANA zones people pick (Area/City), UTC first."""
    legacy = ("Etc/", "SystemV/", "US/", "posix/", "right/", "Canada/", "Brazil/", "Mexico/")
    zones = sorted(z for z in available_timezones() if "/" in z and not z.startswith(legacy))
    return ["UTC", *zones]


@dataclass
class RuleFields:
    """The rules an organizer sets, as components."""

    title: gr.Textbox
    brief: gr.Textbox
    zone: gr.Dropdown
    opens: gr.DateTime
    closes: gr.DateTime
    kickoff: gr.DateTime
    deadline: gr.DateTime
    grace: gr.Number
    judging: gr.DateTime
    results_at: gr.DateTime
    team_max: gr.Number
    film_min: gr.Number
    film_max: gr.Number
    per_entry: gr.Number
    gpu_minutes: gr.Number
    audience: gr.Checkbox
    normalize: gr.Checkbox
    sound: gr.Checkbox
    rubric: gr.Dataframe

    def components(self) -> list[Any]:
        return [getattr(self, f.name) for f in fields(self)]

    def read(self, given: dict[Any, Any]) -> dict[str, Any]:
        """What the fields held, by field name (raw: the API may send anything)."""
        return {f.name: given.get(getattr(self, f.name)) for f in fields(self)}


@dataclass
class SetupTab:
    settings_box: gr.Accordion
    settings_hint: gr.Markdown
    settings: RuleFields
    save: gr.Button
    save_error: gr.HTML
    organizers_box: gr.Accordion
    organizer_email: gr.Textbox
    add_organizer: gr.Button
    organizer_error: gr.HTML


@dataclass
class CreateTab:
    create: RuleFields
    slug: gr.Textbox
    elements: gr.Textbox
    button: gr.Button
    error: gr.HTML


def rule_fields(prefix: str, *, creating: bool) -> RuleFields:
    """The rule fields. Editing: an empty field keeps its value."""
    keep = "" if creating else " (empty: unchanged)"

    def when(label: str) -> gr.DateTime:
        return gr.DateTime(label=label, include_time=True, type="string", min_width=200)

    with gr.Row():
        title = gr.Textbox(label="Title", placeholder="Spring Jam", scale=2)
        zone = gr.Dropdown(
            zone_choices(),
            label="Time zone (the times below are in it)",
            value="UTC" if creating else None,
            allow_custom_value=True,  # the service names an unknown zone
            filterable=True,
            scale=1,
        )
    brief = gr.Textbox(label="Brief", lines=3)
    with gr.Row():
        opens = when("Registration opens" + keep)
        closes = when("Registration closes" + (" (empty: at kickoff)" if creating else keep))
        kickoff = when("Kickoff" + keep)
    with gr.Row():
        deadline = when("Deadline" + (" (empty: kickoff + 48 h)" if creating else keep))
        judging = when("Judging closes" + (" (empty: 7 days after grace)" if creating else keep))
        results_at = when(
            "Results planned" + (" (empty: when judging closes)" if creating else keep)
        )
    with gr.Row():
        grace = gr.Number(
            label="Grace (min, late entries)", value=0 if creating else None, precision=0
        )
        team_max = gr.Number(label="Team size max", value=3 if creating else None, precision=0)
        film_min = gr.Number(label="Film min (s)", value=60 if creating else None)
        film_max = gr.Number(label="Film max (s)", value=240 if creating else None)
        per_entry = gr.Number(label="Judges per entry", value=3 if creating else None, precision=0)
        gpu = gr.Number(label="GPU minutes per team", value=60 if creating else None)
    with gr.Row():
        audience = gr.Checkbox(label="Audience vote", value=True)
        normalize = gr.Checkbox(label="Normalize scores per judge (z-scores)", value=False)
        sound = gr.Checkbox(label="Films need sound (refuse films without an audio track)")
    rubric = gr.Dataframe(
        value=rubric_table(DEFAULT_RUBRIC) if creating else None,
        headers=RUBRIC_HEADERS,
        datatype=["str", "number", "number", "number"],
        column_count=4,
        type="array",
        interactive=True,
        label=(
            f"Rubric: one row per criterion (up to {MAX_CRITERIA}); weights are relative, "
            "judges score from min to max"
        ),
    )
    made = RuleFields(
        title=title,
        brief=brief,
        zone=zone,
        opens=opens,
        closes=closes,
        kickoff=kickoff,
        deadline=deadline,
        grace=grace,
        judging=judging,
        results_at=results_at,
        team_max=team_max,
        film_min=film_min,
        film_max=film_max,
        per_entry=per_entry,
        gpu_minutes=gpu,
        audience=audience,
        normalize=normalize,
        sound=sound,
        rubric=rubric,
    )
    for f in fields(made):
        getattr(made, f.name).elem_id = f"{prefix}-{f.name.replace('_', '-')}"
    return made


def build_setup() -> SetupTab:
    with gr.Accordion(
        "Jam settings", open=False, visible=False, elem_id="org-settings"
    ) as settings_box:
        settings_hint = gr.Markdown(elem_classes=["hint"], elem_id="settings-hint")
        settings = rule_fields("settings", creating=False)
        save = gr.Button("Save settings", variant="primary", elem_id="org-save-settings")
        save_error = error_line("org-save-error")
    with gr.Accordion(
        "Organizers (studio admins)", open=False, visible=False, elem_id="org-organizers"
    ) as organizers_box:
        with gr.Row(equal_height=True):
            organizer_email = gr.Textbox(
                label="Appoint an organizer of this jam (email)",
                placeholder="they must have signed in to Studio once",
                scale=3,
                elem_id="org-organizer-email",
            )
            add_organizer = gr.Button("Add organizer", scale=1, elem_id="org-add-organizer")
        organizer_error = error_line("org-organizer-error")
    return SetupTab(
        settings_box=settings_box,
        settings_hint=settings_hint,
        settings=settings,
        save=save,
        save_error=save_error,
        organizers_box=organizers_box,
        organizer_email=organizer_email,
        add_organizer=add_organizer,
        organizer_error=organizer_error,
    )


def build_create() -> CreateTab:
    gr.Markdown(
        "Create a jam: its schedule, limits and rubric. You can change everything "
        "later in its Organize tab (the elements until kickoff, the rubric until the "
        "first score).",
        elem_classes=["hint"],
    )
    create = rule_fields("create", creating=True)
    with gr.Row():
        slug = gr.Textbox(
            label="Address (slug: lowercase letters, digits, dashes)",
            placeholder="spring-jam",
            elem_id="create-slug",
        )
    elements = gr.Textbox(
        label="Required elements", lines=4, placeholder=ELEMENTS_HINT, elem_id="create-elements"
    )
    button = gr.Button("Create jam", variant="primary", elem_id="org-create-jam")
    error = error_line("create-error")
    return CreateTab(create=create, slug=slug, elements=elements, button=button, error=error)


# ---------------------------------------------------------------- parsing


def zone_of(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"Unknown time zone {name!r}: use a name like Europe/Paris.") from None


def parse_time(text: Any, zone: str, label: str) -> datetime | None:
    """A picker's '2026-06-05 19:00:00' in the jam's zone (or an ISO time with an offset)."""
    text = str(text or "").strip()
    if not text:
        return None
    tz = zone_of(zone)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{label}: pick a date and time (like 2026-06-05 19:00).") from None
    return value if value.tzinfo else value.replace(tzinfo=tz)


def shown_time(moment: datetime, zone: str) -> str:
    """How a picker shows a time: wall-clock in the jam's zone."""
    return moment.astimezone(zone_of(zone)).strftime(TIME_FORMAT)


def number(value: Any, label: str) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise InvalidInput(f"{label}: write a number.")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{label}: write a number.") from None


def whole(value: Any, label: str) -> int | None:
    n = number(value, label)
    if n is not None and not n.is_integer():
        raise InvalidInput(f"{label} must be a whole number.")
    return None if n is None else int(n)


def flag(value: Any) -> bool | None:
    return None if value is None else bool(value)


def parse_elements(text: str) -> list[dict[str, Any]]:
    out = []
    for index, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        category, sep, options = line.partition(":")
        if not sep:
            raise InvalidInput(f"Elements line {index}: write 'category: option; option'.")
        per_team = "(per team)" in category.lower()
        name = category.lower().replace("(per team)", "").strip() if per_team else category.strip()
        out.append(
            {
                "category": name,
                "options": [o.strip() for o in options.split(";") if o.strip()],
                "per_team": per_team,
            }
        )
    return out


def rubric_table(rubric: list[dict[str, Any]]) -> list[list[Any]]:
    return [[c["name"], c["weight"], c["min"], c["max"]] for c in rubric]


def _key_for(name: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:36] or "criterion"
    if not base[0].isalpha():
        base = f"c_{base}"[:36]
    key, n = base, 2
    while key in taken:
        key, n = f"{base}_{n}", n + 1
    return key


def _plain(n: float) -> int | float:
    return int(n) if n.is_integer() else n


def parse_rubric(value: Any, current: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The table's rows -> rubric criteria. A criterion keeps its key while its name
    stays (scores and exports use keys); a new one gets a key from its name. The
    service checks the rest (how many, weights, ranges)."""
    if isinstance(value, dict):  # Gradio's {"headers", "data"} shape, from the API
        value = value.get("data")
    if not isinstance(value, list) or not all(isinstance(r, list | tuple) for r in value):
        raise InvalidInput("The rubric must be a table of criterion, weight, min and max.")
    keys = {c["name"]: c["key"] for c in current}
    taken: set[str] = set()
    out = []
    for index, row in enumerate(value, start=1):
        cells = [*row, None, None, None, None][:4]
        if all(c is None or str(c).strip() == "" for c in cells):
            continue  # an empty row left by the table editor
        name = str(cells[0] or "").strip()
        if not name:
            raise InvalidInput(f"Rubric row {index}: give the criterion a name.")
        parsed = [
            number(cells[i], f"Rubric row {index} ({name}), {RUBRIC_HEADERS[i].lower()}")
            for i in (1, 2, 3)
        ]
        if any(n is None for n in parsed):
            raise InvalidInput(f"Rubric row {index} ({name}): give a weight, a min and a max.")
        weight, low, high = (_plain(n) for n in parsed if n is not None)
        key = keys.get(name) if keys.get(name) not in taken else None
        key = key or _key_for(name, taken | set(keys.values()))
        taken.add(key)
        out.append({"key": key, "name": name, "weight": weight, "min": low, "max": high})
    if not out:
        raise InvalidInput("The rubric needs at least one criterion.")
    return out


def _same_rubric(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> bool:
    def shape(r: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        return [(c["name"], float(c["weight"]), float(c["min"]), float(c["max"])) for c in r]

    return shape(a) == shape(b)


def form_values(form: dict[str, Any], zone: str) -> dict[str, Any]:
    """Every field the form gives, as JamRules values (None: not given)."""
    grace = whole(form["grace"], "Grace")
    gpu = number(form["gpu_minutes"], "GPU minutes")
    values: dict[str, Any] = {
        "title": str(form["title"] or "").strip() or None,
        "brief": None if form["brief"] is None else str(form["brief"]),
        "timezone": zone,
        "grace_seconds": None if grace is None else grace * 60,
        "team_size_max": whole(form["team_max"], "Team size max"),
        "film_min_seconds": number(form["film_min"], "Film min"),
        "film_max_seconds": number(form["film_max"], "Film max"),
        "judges_per_entry": whole(form["per_entry"], "Judges per entry"),
        "gpu_seconds_grant": None if gpu is None else round(gpu * 60),
        "audience_vote": flag(form["audience"]),
        "normalize_scores": flag(form["normalize"]),
        "film_needs_sound": flag(form["sound"]),
    }
    for name, rule, label in TIMES:
        values[rule] = parse_time(form[name], zone, label)
    return values


def new_rules(form: dict[str, Any], slug: Any, elements: Any) -> JamRules:
    """A new jam: what the form gives; the rest gets the defaults."""
    zone = str(form["zone"] or "").strip() or "UTC"
    zone_of(zone)
    values = form_values(form, zone)
    # The service names its fields for the API; the form names them as labelled.
    if not values["title"]:
        raise InvalidInput("Title: give the jam a title.")
    for rule, label in (("registration_opens_at", "Registration opens"), ("kickoff_at", "Kickoff")):
        if values[rule] is None:
            raise InvalidInput(f"{label}: pick a date and time.")
    return JamRules(
        slug=str(slug or ""),
        elements=parse_elements(str(elements or "")),
        rubric=parse_rubric(form["rubric"], []) if form["rubric"] is not None else None,
        **values,
    )


def changed_rules(form: dict[str, Any], jam: Jam) -> JamRules:
    """Only what differs from the jam (a time left as shown keeps its exact value)."""
    zone = str(form["zone"] or "").strip() or jam.timezone
    zone_of(zone)
    kept = {
        rule: None
        for name, rule, _ in TIMES
        if str(form[name] or "").strip() == shown_time(getattr(jam, rule), jam.timezone)
        and zone == jam.timezone
    }
    values = {**form_values(form, zone), **kept}
    if values["grace_seconds"] is not None and values["grace_seconds"] == 60 * round(
        jam.grace_seconds / 60
    ):
        values["grace_seconds"] = None  # shown rounded to the minute: unchanged
    changed = {
        key: value
        for key, value in values.items()
        if value is not None and value != getattr(jam, key)
    }
    if form["rubric"] is not None:
        rubric = parse_rubric(form["rubric"], jam.rubric)
        if not _same_rubric(rubric, jam.rubric):
            changed["rubric"] = rubric
    return JamRules(**changed)


def setup_values(settings: RuleFields, jam: Jam) -> dict[Any, Any]:
    """The editor's fields for `jam`."""
    zone = jam.timezone
    return {
        settings.title: jam.title,
        settings.brief: jam.brief,
        settings.zone: zone,
        settings.opens: shown_time(jam.registration_opens_at, zone),
        settings.closes: shown_time(jam.registration_closes_at, zone),
        settings.kickoff: shown_time(jam.kickoff_at, zone),
        settings.deadline: shown_time(jam.deadline_at, zone),
        settings.grace: round(jam.grace_seconds / 60),
        settings.judging: shown_time(jam.judging_closes_at, zone),
        settings.results_at: shown_time(jam.results_at, zone),
        settings.team_max: jam.team_size_max,
        settings.film_min: jam.film_min_seconds,
        settings.film_max: jam.film_max_seconds,
        settings.per_entry: jam.judges_per_entry,
        settings.gpu_minutes: round(jam.gpu_seconds_grant / 60, 2),
        settings.audience: jam.audience_vote,
        settings.normalize: jam.normalize_scores,
        settings.sound: jam.film_needs_sound,
        settings.rubric: rubric_table(jam.rubric),
    }


def blank_values(settings: RuleFields) -> dict[Any, Any]:
    """What the editor holds for someone who may not see a jam's rules."""
    out: dict[Any, Any] = {c: None for c in settings.components()}
    out.update({settings.title: "", settings.brief: "", settings.audience: False})
    out.update({settings.normalize: False, settings.sound: False, settings.rubric: []})
    return out


def values(tab: SetupTab, session: Session, actor: Actor, ctx: Context) -> dict[Any, Any]:
    view = ctx.view
    admin = actor.user.is_admin
    if view is None or not view.is_organizer:
        return {
            tab.settings_box: gr.update(visible=False),
            tab.settings_hint: "",
            **blank_values(tab.settings),
            tab.organizers_box: gr.update(visible=False),
        }
    jam = service.get_jam_setup(session, actor, view.slug)
    return {
        tab.settings_box: gr.update(visible=True),
        tab.settings_hint: (
            f"Times are wall-clock times in the jam's time zone, **{jam.timezone}** "
            "(change the zone and the same wall-clock times are read in the new one). "
            "The rubric can change until the first score."
        ),
        **setup_values(tab.settings, jam),
        tab.organizers_box: gr.update(visible=admin),
    }


def add_sections(ui: JamUI, tab: SetupTab) -> None:
    ui.add(
        "setup",
        [tab.settings_box, tab.settings_hint, *tab.settings.components(), tab.organizers_box],
        lambda session, actor, ctx: values(tab, session, actor, ctx),
    )


# ---------------------------------------------------------------- wiring


def wire(ui: JamUI, tab: SetupTab) -> None:
    # A settings change moves the schedule: every part that shows it.
    after_save = [tab.save_error, *ui.outputs()]

    @in_place(tab.save_error)
    def save(given: dict[Any, Any], request: gr.Request) -> dict[Any, Any]:
        slug = required_slug(given.get(ui.picker))
        form = tab.settings.read(given)
        with ui_action(ui.db, request) as (session, actor):
            jam = service.get_jam_setup(session, actor, slug)  # organizers only
            rules = changed_rules(form, jam)
            changed = sorted(rules.given())
            if changed:
                service.update_jam(session, actor, slug, rules)
            out = ui.values(session, actor, ui.context(session, actor, slug))
        words = ", ".join(name.replace("_", " ") for name in changed)
        notify(f"Settings saved: {words}." if changed else "Nothing changed.")
        return out

    @in_place(tab.organizer_error)
    def add_organizer(picked: Any, email: Any, request: gr.Request) -> dict[Any, Any]:
        slug = required_slug(picked)
        address = str(email or "").strip()
        with ui_action(ui.db, request) as (session, actor):
            service.add_organizer(session, actor, slug, email=address)
        notify(f"{address} now organizes this jam: they see its Organize tab.")
        return {tab.organizer_email: ""}

    tab.save.click(
        save,
        {ui.picker, *tab.settings.components()},
        after_save,
        api_name="jam_update_settings",
        show_progress_on=[tab.settings_hint],
    )
    tab.add_organizer.click(
        add_organizer,
        [ui.picker, tab.organizer_email],
        [tab.organizer_email, tab.organizer_error],
        api_name="jam_add_organizer",
    )


def wire_create(ui: JamUI, tab: CreateTab, opened: list[Any]) -> None:
    """Create: the new jam is picked and opens on its Jam tab (`opened`: the shell's
    outputs for that, the address included)."""

    @in_place(tab.error)
    def create(given: dict[Any, Any], request: gr.Request) -> dict[Any, Any]:
        form = tab.create.read(given)
        with ui_action(ui.db, request) as (session, actor):
            jam = service.create_jam(
                session, actor, new_rules(form, given.get(tab.slug), given.get(tab.elements))
            )
            made, made_title = jam.slug, jam.title
            out = ui.values(session, actor, ui.context(session, actor, made))
        notify(f"“{made_title}” created. Appoint judges once teams register.")
        return {ui.tabs: gr.Tabs(selected="jam"), **out}

    tab.button.click(
        create,
        {*tab.create.components(), tab.slug, tab.elements},
        [tab.error, ui.tabs, *opened],
        api_name="jam_create",
        show_progress_on=[tab.button],
    ).success(
        None,
        [ui.picker],
        None,
        js=address_js(),
    )
