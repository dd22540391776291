"""Jam setup, in the Organize tab: the settings editor (the jam's organizers),
appointing organizers and creating a jam (studio admins).

The editor shows the rules from service.get_jam_setup and sends
service.update_jam only what changed (times shown in the jam's zone; a time
left as shown keeps its exact value). The element pool is not shown here:
the page never carries elements before kickoff, and they freeze at kickoff.
The services check the roles; the boxes are only hidden from others.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import gradio as gr
from sqlalchemy.orm import Session

from studio.accounts.access import Actor
from studio.errors import InvalidInput
from studio.jams import service
from studio.jams.models import Jam
from studio.jams.rules import JamRules
from studio.ui.actions import ui_action
from studio.ui.notify import notify

if TYPE_CHECKING:
    from studio.ui.pages.jams import Context, JamUI

TIME_FORMAT = "%Y-%m-%d %H:%M"
ELEMENTS_HINT = (
    "One category per line, options separated by ';'. Add '(per team)' after the "
    "category for a draw per team, e.g.\ncharacter: a retired astronaut; a twin\n"
    "genre (per team): film noir; musical; western"
)
# (form field, JamRules field, label)
TIMES = [
    ("opens", "registration_opens_at", "Registration opens"),
    ("closes", "registration_closes_at", "Registration closes"),
    ("kickoff", "kickoff_at", "Kickoff"),
    ("deadline", "deadline_at", "Deadline"),
    ("judging", "judging_closes_at", "Judging closes"),
    ("results_at", "results_at", "Results"),
]

# What the editor's fields hold for someone who may not see a jam's rules.
BLANK: dict[str, Any] = {
    **dict.fromkeys(["grace", "team_max", "film_min", "film_max", "per_entry", "gpu_minutes"]),
    "audience": False,
    "normalize": False,
}


@dataclass
class RuleFields:
    """The rules an organizer sets, as components; order = the handlers' arguments."""

    title: gr.Textbox
    brief: gr.Textbox
    zone: gr.Textbox
    opens: gr.Textbox
    closes: gr.Textbox
    kickoff: gr.Textbox
    deadline: gr.Textbox
    grace: gr.Number
    judging: gr.Textbox
    results_at: gr.Textbox
    team_max: gr.Number
    film_min: gr.Number
    film_max: gr.Number
    per_entry: gr.Number
    gpu_minutes: gr.Number
    audience: gr.Checkbox
    normalize: gr.Checkbox

    def components(self) -> list[Any]:
        return [getattr(self, f.name) for f in fields(self)]


@dataclass
class RuleForm:
    """What the fields held (raw: the API may send anything)."""

    title: Any
    brief: Any
    zone: Any
    opens: Any
    closes: Any
    kickoff: Any
    deadline: Any
    grace: Any
    judging: Any
    results_at: Any
    team_max: Any
    film_min: Any
    film_max: Any
    per_entry: Any
    gpu_minutes: Any
    audience: Any
    normalize: Any


@dataclass
class SetupTab:
    settings_box: gr.Accordion
    settings: RuleFields
    save: gr.Button
    organizers_box: gr.Accordion
    organizer_email: gr.Textbox
    add_organizer: gr.Button
    create_box: gr.Accordion
    create: RuleFields
    slug: gr.Textbox
    elements: gr.Textbox
    create_button: gr.Button


def rule_fields(prefix: str, *, creating: bool) -> tuple[RuleFields, gr.Textbox | None]:
    """The rule fields (and the slug, when creating). Editing: empty keeps a value."""
    keep = "" if creating else " (empty: unchanged)"
    with gr.Row():
        title = gr.Textbox(label="Title", placeholder="Spring Jam", scale=2)
        slug = gr.Textbox(label="Slug", placeholder="spring-jam", scale=1) if creating else None
        zone = gr.Textbox(
            label="Time zone", value="UTC" if creating else "", placeholder="Europe/Paris", scale=1
        )
    brief = gr.Textbox(label="Brief", lines=3)
    gr.Markdown(
        "Times are in the jam's time zone, like `2026-06-05 19:00`, or carry an offset "
        "(`2026-06-05T19:00+02:00`).",
        elem_classes=["hint"],
    )
    with gr.Row():
        opens = gr.Textbox(label="Registration opens" + keep, placeholder="2026-06-01 09:00")
        closes = gr.Textbox(
            label="Registration closes" + (" (empty: at kickoff)" if creating else keep),
            placeholder="2026-06-05 12:00",
        )
        kickoff = gr.Textbox(label="Kickoff" + keep, placeholder="2026-06-05 19:00")
        deadline = gr.Textbox(label="Deadline" + (" (empty: kickoff + 48 h)" if creating else keep))
    with gr.Row():
        grace = gr.Number(
            label="Grace (minutes, late entries)", value=0 if creating else None, precision=0
        )
        judging = gr.Textbox(
            label="Judging closes" + (" (empty: 7 days after grace)" if creating else keep)
        )
        results_at = gr.Textbox(
            label="Results planned" + (" (empty: when judging closes)" if creating else keep)
        )
    with gr.Row():
        team_max = gr.Number(label="Team size max", value=3 if creating else None, precision=0)
        film_min = gr.Number(label="Film min (s)", value=60 if creating else None)
        film_max = gr.Number(label="Film max (s)", value=240 if creating else None)
        per_entry = gr.Number(label="Judges per entry", value=3 if creating else None, precision=0)
        gpu = gr.Number(label="GPU minutes per team", value=60 if creating else None)
    with gr.Row():
        audience = gr.Checkbox(label="Audience vote", value=True)
        normalize = gr.Checkbox(label="Normalize scores per judge (z-scores)", value=False)
    made = RuleFields(
        title,
        brief,
        zone,
        opens,
        closes,
        kickoff,
        deadline,
        grace,
        judging,
        results_at,
        team_max,
        film_min,
        film_max,
        per_entry,
        gpu,
        audience,
        normalize,
    )
    for f in fields(made):
        getattr(made, f.name).elem_id = f"{prefix}-{f.name.replace('_', '-')}"
    if slug is not None:
        slug.elem_id = f"{prefix}-slug"
    return made, slug


def build_controls() -> SetupTab:
    with gr.Accordion(
        "Jam settings (organizers)", open=False, visible=False, elem_id="org-settings"
    ) as settings_box:
        settings, _ = rule_fields("settings", creating=False)
        save = gr.Button("Save settings", variant="primary", elem_id="org-save-settings")
    with (
        gr.Accordion(
            "Organizers (studio admins)", open=False, visible=False, elem_id="org-organizers"
        ) as organizers_box,
        gr.Row(equal_height=True),
    ):
        organizer_email = gr.Textbox(
            label="Appoint an organizer of this jam (email)",
            placeholder="they must have signed in to Studio once",
            scale=3,
        )
        add_organizer = gr.Button("Add organizer", scale=1, elem_id="org-add-organizer")
    with gr.Accordion(
        "Create a jam (studio admins)", open=False, visible=False, elem_id="org-create"
    ) as create_box:
        create, slug = rule_fields("create", creating=True)
        assert slug is not None
        elements = gr.Textbox(label="Required elements", lines=4, placeholder=ELEMENTS_HINT)
        create_button = gr.Button("Create jam", variant="primary", elem_id="org-create-jam")
    return SetupTab(
        settings_box,
        settings,
        save,
        organizers_box,
        organizer_email,
        add_organizer,
        create_box,
        create,
        slug,
        elements,
        create_button,
    )


# ---------------------------------------------------------------- parsing


def zone_of(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"Unknown time zone {name!r}: use a name like Europe/Paris.") from None


def parse_time(text: Any, zone: str, label: str) -> datetime | None:
    """'2026-06-05 19:00' in the jam's zone (or an ISO time with an offset)."""
    text = str(text or "").strip()
    if not text:
        return None
    tz = zone_of(zone)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{label}: write a date and time like 2026-06-05 19:00.") from None
    return value if value.tzinfo else value.replace(tzinfo=tz)


def shown_time(moment: datetime, zone: str) -> str:
    """How the editor shows a time: the jam's zone, seconds only when there are some."""
    local = moment.astimezone(zone_of(zone))
    return local.strftime(TIME_FORMAT + (":%S" if local.second or local.microsecond else ""))


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


def form_values(form: RuleForm, zone: str) -> dict[str, Any]:
    """Every field the form gives, as JamRules values (None: not given)."""
    grace = whole(form.grace, "Grace")
    gpu = number(form.gpu_minutes, "GPU minutes")
    values: dict[str, Any] = {
        "title": str(form.title or "").strip() or None,
        "brief": None if form.brief is None else str(form.brief),
        "timezone": zone,
        "grace_seconds": None if grace is None else grace * 60,
        "team_size_max": whole(form.team_max, "Team size max"),
        "film_min_seconds": number(form.film_min, "Film min"),
        "film_max_seconds": number(form.film_max, "Film max"),
        "judges_per_entry": whole(form.per_entry, "Judges per entry"),
        "gpu_seconds_grant": None if gpu is None else round(gpu * 60),
        "audience_vote": flag(form.audience),
        "normalize_scores": flag(form.normalize),
    }
    for name, rule, label in TIMES:
        values[rule] = parse_time(getattr(form, name), zone, label)
    return values


def new_rules(form: RuleForm, slug: Any, elements: Any) -> JamRules:
    """A new jam: what the form gives; the rest gets the defaults."""
    zone = str(form.zone or "").strip() or "UTC"
    zone_of(zone)
    values = form_values(form, zone)
    return JamRules(slug=str(slug or ""), elements=parse_elements(str(elements or "")), **values)


def changed_rules(form: RuleForm, jam: Jam) -> JamRules:
    """Only what differs from the jam (a time left as shown keeps its exact value)."""
    zone = str(form.zone or "").strip() or jam.timezone
    zone_of(zone)
    kept = {
        rule: None
        for name, rule, _ in TIMES
        if str(getattr(form, name) or "").strip() == shown_time(getattr(jam, rule), jam.timezone)
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
    return JamRules(**changed)


def setup_values(jam: Jam) -> list[Any]:
    """The editor's fields for `jam`, in RuleFields order."""
    zone = jam.timezone
    return [
        jam.title,
        jam.brief,
        zone,
        shown_time(jam.registration_opens_at, zone),
        shown_time(jam.registration_closes_at, zone),
        shown_time(jam.kickoff_at, zone),
        shown_time(jam.deadline_at, zone),
        round(jam.grace_seconds / 60),
        shown_time(jam.judging_closes_at, zone),
        shown_time(jam.results_at, zone),
        jam.team_size_max,
        jam.film_min_seconds,
        jam.film_max_seconds,
        jam.judges_per_entry,
        round(jam.gpu_seconds_grant / 60, 2),
        jam.audience_vote,
        jam.normalize_scores,
    ]


def values(session: Session, actor: Actor, ctx: Context) -> tuple[Any, ...]:
    """Order: settings box, its fields..., organizers box, create box."""
    view = ctx.view
    admin = actor.user.is_admin
    if view is None or not view.is_organizer:
        blank = [BLANK.get(f.name, "") for f in fields(RuleFields)]
        return (
            gr.update(visible=False),
            *blank,
            gr.update(visible=False),
            gr.update(visible=admin),
        )
    jam = service.get_jam_setup(session, actor, view.slug)
    return (
        gr.update(visible=True),
        *setup_values(jam),
        gr.update(visible=admin),
        gr.update(visible=admin),
    )


# ---------------------------------------------------------------- wiring


def wire(ui: JamUI, tab: SetupTab) -> None:
    from studio.ui.pages.jams import overview_values, required_slug, results_values

    ui.setup = [
        tab.settings_box,
        *tab.settings.components(),
        tab.organizers_box,
        tab.create_box,
    ]
    ui.setup_values = values
    # A settings change moves the schedule: every part that shows it.
    after_save = [*ui.overview, *ui.entry_live, *ui.organize, *ui.results, *ui.setup]

    def save(
        picked: Any,
        title: Any,
        brief: Any,
        zone: Any,
        opens: Any,
        closes: Any,
        kickoff: Any,
        deadline: Any,
        grace: Any,
        judging: Any,
        results_at: Any,
        team_max: Any,
        film_min: Any,
        film_max: Any,
        per_entry: Any,
        gpu_minutes: Any,
        audience: Any,
        normalize: Any,
        request: gr.Request,
    ) -> tuple[Any, ...]:
        slug = required_slug(picked)
        form = RuleForm(
            title,
            brief,
            zone,
            opens,
            closes,
            kickoff,
            deadline,
            grace,
            judging,
            results_at,
            team_max,
            film_min,
            film_max,
            per_entry,
            gpu_minutes,
            audience,
            normalize,
        )
        with ui_action(ui.db, request) as (session, actor):
            jam = service.get_jam_setup(session, actor, slug)  # organizers only
            rules = changed_rules(form, jam)
            changed = sorted(rules.given())
            if changed:
                service.update_jam(session, actor, slug, rules)
            ctx = ui.context(session, actor, slug)
            assert ui.entry_live_values and ui.organize_values
            out = (
                *overview_values(ctx, actor),
                *ui.entry_live_values(session, actor, ctx),
                *ui.organize_values(session, actor, ctx),
                *results_values(ui, session, actor, ctx),
                *values(session, actor, ctx),
            )
        words = ", ".join(name.replace("_", " ") for name in changed)
        notify(f"Settings saved: {words}." if changed else "Nothing changed.")
        return out

    def add_organizer(picked: Any, email: Any, request: gr.Request) -> str:
        slug = required_slug(picked)
        address = str(email or "").strip()
        with ui_action(ui.db, request) as (session, actor):
            service.add_organizer(session, actor, slug, email=address)
        notify(f"{address} now organizes this jam: they see its Organize tab.")
        return ""

    def create(
        title: Any,
        brief: Any,
        zone: Any,
        opens: Any,
        closes: Any,
        kickoff: Any,
        deadline: Any,
        grace: Any,
        judging: Any,
        results_at: Any,
        team_max: Any,
        film_min: Any,
        film_max: Any,
        per_entry: Any,
        gpu_minutes: Any,
        audience: Any,
        normalize: Any,
        slug: Any,
        elements: Any,
        request: gr.Request,
    ) -> tuple[Any, ...]:
        form = RuleForm(
            title,
            brief,
            zone,
            opens,
            closes,
            kickoff,
            deadline,
            grace,
            judging,
            results_at,
            team_max,
            film_min,
            film_max,
            per_entry,
            gpu_minutes,
            audience,
            normalize,
        )
        with ui_action(ui.db, request) as (session, actor):
            jam = service.create_jam(session, actor, new_rules(form, slug, elements))
            made, made_title = jam.slug, jam.title
            out = ui.everything(session, actor, ui.context(session, actor, made))
        notify(f"“{made_title}” created. Appoint judges once teams register.")
        return (gr.Tabs(selected="jam"), *out)

    tab.save.click(
        save,
        [ui.picker, *tab.settings.components()],
        after_save,
        api_name="jam_update_settings",
    )
    tab.add_organizer.click(
        add_organizer,
        [ui.picker, tab.organizer_email],
        [tab.organizer_email],
        api_name="jam_add_organizer",
    )
    tab.create_button.click(
        create,
        [*tab.create.components(), tab.slug, tab.elements],
        [ui.tabs, *ui.all_outputs],
        api_name="jam_create",
    )
