"""The Shot tab: the core loop of iterating on one shot.

Left, main action first: the prompt, model, ratio, length and seed, and
Generate (which saves an edited form first); then the description and the
less used fields, folded, and the reference image (saved with a version
check, so two people editing the same shot never overwrite each other
silently). Right: its takes, newest first, with live progress; each take's
card carries its own Circle, Favorite, Re-roll, Extend, Vary… and Restyle…
buttons, disabled with the reason where they cannot apply
(projects.takes.card_actions); the picked take (for rating, comments and
compare) and the comment thread sit under them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import gradio as gr

from studio.accounts.models import User
from studio.generation import edits
from studio.generation import registry as reg
from studio.generation.context import Generation
from studio.projects import references, review, takes
from studio.projects import service as projects
from studio.projects.models import ShotStatus
from studio.projects.service import RATIO_CHOICES
from studio.ui import addresses, direct_upload
from studio.ui.actions import ui_action
from studio.ui.navigation import NAVIGATION
from studio.ui.notify import notify
from studio.ui.pages import project_html as render
from studio.ui.pages.project_live import PAGE, md, shot_values
from studio.ui.widgets import id_dropdown, optional_id, required_id, uploaded_file

if TYPE_CHECKING:
    from studio.ui.pages.project_live import ProjectUI

STATUS_CHOICES = [(s.value.replace("_", " "), s.value) for s in ShotStatus]
# Clicks in the take grid: a card's own button (project_html.take_actions) sends
# its take and action; a click on the card elsewhere (not its player or links)
# picks the take. Vary and Restyle open their form, then scroll it into view.
PICK_TAKE_JS = """
element.addEventListener('click', (event) => {
  const button = event.target.closest('button.take-action[data-action]');
  if (button) {
    if (button.disabled) return;
    trigger('click', {take: button.dataset.take, action: button.dataset.action});
    // Vary and Restyle open their form: SHOW_FORM_JS brings it into view once shown.
    window.studioTakeForm = {vary: 'take-vary-box', restyle: 'take-restyle-box'}[
      button.dataset.action];
    return;
  }
  if (event.target.closest('video, a, button')) return;
  const card = event.target.closest('.take-card[data-take]');
  if (card) trigger('click', {take: card.dataset.take});
});
"""
SHOW_FORM_JS = """
() => {
  const form = window.studioTakeForm && document.getElementById(window.studioTakeForm);
  window.studioTakeForm = undefined;
  if (form) form.scrollIntoView({block: 'nearest', behavior: 'smooth'});
}
"""
RATING_CHOICES = [("no rating", 0), ("●", 1), ("●●", 2), ("●●●", 3), ("●●●●", 4), ("●●●●●", 5)]
VARY_LABEL = "Vary take {}: same seed, edited prompt"
RESTYLE_LABEL = "Restyle take {} under a new prompt"


@dataclass
class ShotTab:
    shot: gr.Dropdown
    header: gr.Markdown
    fields: list[Any]  # description, dialogue, camera, prompt, negative, duration, ratio, status
    assignee: gr.Dropdown
    version: gr.Number
    save: gr.Button
    reload: gr.Button
    reference: gr.HTML
    reference_in: gr.Image
    set_reference: gr.Button
    clear_reference: gr.Button
    model: gr.Dropdown
    seed: gr.Textbox
    generate: gr.Button
    grid: gr.HTML
    tools: gr.Row  # the picked take's picker and rating: shown once a take exists
    take: gr.Dropdown
    rating: gr.Dropdown
    vary_box: gr.Accordion
    vary_prompt: gr.Textbox
    vary_negative: gr.Textbox
    vary: gr.Button
    restyle_box: gr.Accordion
    restyle_prompt: gr.Textbox
    restyle_strength: gr.Slider
    restyle: gr.Button
    upload_in: gr.File
    upload: gr.Button
    comments: gr.HTML
    comment_body: gr.Textbox
    comment_timecode: gr.Textbox
    comment_status: gr.Dropdown
    comment_on_take: gr.Checkbox
    mentions: gr.Dropdown
    post: gr.Button


def _model_choices(registry: reg.Registry) -> list[tuple[str, str]]:
    return [("Default for the shot", "")] + [
        (spec.name + ("" if reg.weights_available(spec) else " (weights not installed)"), spec.key)
        for spec in registry.all()
        if spec.supports("text_to_video") or spec.supports("image_to_video")
    ]


def build_controls(generation: Generation) -> ShotTab:
    """The main action first: the prompt, the take's settings and Generate sit at
    the top of the left column (above the fold at 1440x900); the shot's other
    fields follow, the less used ones folded."""
    with gr.Row():
        with gr.Column(scale=4, min_width=420):
            with gr.Row(equal_height=True):
                shot = id_dropdown("Shot", scale=2, min_width=200, elem_id="shot-pick")
                header = gr.Markdown(elem_id="shot-header")
            prompt = gr.Textbox(
                label="Prompt",
                lines=3,
                placeholder="Empty: the description is used",
                elem_id="shot-prompt",
            )
            with gr.Row(equal_height=True):
                model = gr.Dropdown(
                    label="Model",
                    choices=_model_choices(generation.registry),
                    value="",
                    scale=3,
                    min_width=200,  # names like "Wan 2.2 TI2V 5B" stay readable: the row wraps
                    elem_id="shot-model",
                )
                ratio = gr.Dropdown(
                    label="Ratio",
                    choices=[("project default", "")] + [(r, r) for r in RATIO_CHOICES],
                    value="",
                    scale=2,
                    min_width=150,
                    elem_id="shot-ratio",
                )
                duration = gr.Number(
                    label="Length (s)",
                    minimum=0,
                    maximum=600,
                    scale=1,
                    min_width=110,
                    elem_id="shot-duration",
                )
                seed = gr.Textbox(label="Seed", placeholder="random", scale=1, min_width=110)
            generate = gr.Button(
                "Generate take", variant="primary", size="lg", elem_id="shot-generate"
            )
            gr.Markdown(
                "Generate saves the shot's edited fields first, then queues a take "
                "with this prompt, model, ratio and length.",
                elem_classes=["hint"],
                elem_id="shot-generate-hint",
            )
            description = gr.Textbox(label="Description", lines=2, elem_id="shot-description")
            with gr.Accordion("Dialogue, camera, negative prompt", open=False):
                dialogue = gr.Textbox(label="Dialogue", lines=2)
                camera = gr.Textbox(label="Camera notes", lines=2)
                negative = gr.Textbox(label="Negative prompt", lines=2)
            with (
                gr.Accordion("Status and assignee", open=False, elem_id="shot-status-box"),
                gr.Row(),
            ):
                status = gr.Dropdown(label="Status", choices=STATUS_CHOICES, value="todo")
                assignee = gr.Dropdown(
                    label="Assignee", choices=[], allow_custom_value=True, value=None
                )
            version = gr.Number(
                value=0, precision=0, elem_id="shot-version", elem_classes=["hidden-input"]
            )
            with gr.Row():
                save = gr.Button("Save shot", elem_id="shot-save")
                reload = gr.Button("Reload", elem_id="shot-reload")
            with gr.Accordion("Reference image", open=False):
                reference = gr.HTML()
                reference_in = gr.Image(
                    label="New reference (PNG, JPEG, WebP)",
                    type="filepath",
                    image_mode=None,  # the upload itself (see widgets.uploaded_file)
                    height=160,
                )
                with gr.Row():
                    set_reference = gr.Button("Use as reference", size="sm")
                    clear_reference = gr.Button("Remove reference", size="sm")
        with gr.Column(scale=5, min_width=440):
            grid = gr.HTML(elem_id="shot-takes", js_on_load=PICK_TAKE_JS)
            # Each card carries its own actions; the picker says which take the
            # comment, Vary and Restyle forms and the rating are about.
            with gr.Row(visible=False, equal_height=True, elem_id="take-tools") as tools:
                take = id_dropdown("Picked take", scale=3, min_width=200, elem_id="take-pick")
                rating = gr.Dropdown(
                    label="Rating",
                    choices=RATING_CHOICES,
                    value=0,
                    scale=1,
                    min_width=110,
                    elem_id="take-rating",
                )
            # Opened from a card's Vary… / Restyle… button, for that take.
            with gr.Accordion(
                "Vary: same seed, edited prompt",
                open=False,
                visible=False,
                elem_id="take-vary-box",
            ) as vary_box:
                vary_prompt = gr.Textbox(label="Prompt", lines=2, elem_id="vary-prompt")
                vary_negative = gr.Textbox(label="Negative prompt", lines=1)
                vary = gr.Button("Vary this take", elem_id="take-vary")
            # Video to video over the picked take (a finished video), where a model can.
            able = [generation.registry.get(k).name for k in edits.able_models(generation.registry)]
            with gr.Accordion(
                "Restyle: the picked take under a new prompt",
                open=False,
                visible=False,
                elem_id="take-restyle-box",
            ) as restyle_box:
                restyle_prompt = gr.Textbox(
                    label="Prompt", lines=2, elem_id="restyle-prompt", info=", ".join(able)
                )
                restyle_strength = gr.Slider(
                    0.1,
                    1.0,
                    value=0.7,
                    step=0.05,
                    label="How far from the take",
                    elem_id="restyle-strength",
                )
                restyle = gr.Button("Restyle this take", elem_id="take-restyle")
            with gr.Accordion("Upload a clip as a take", open=False):
                # Straight to the media store (static/upload.js); the web server never
                # holds the file. The Gradio file path below stays for API callers.
                direct_upload.widget("take-direct-upload", "MP4, MOV or WebM")
                direct = gr.Button("Upload as take", elem_id="take-direct-upload-button")
                upload_in = gr.File(
                    label="MP4, MOV or WebM", file_types=["video"], type="filepath", visible=False
                )
                upload = gr.Button("Add as take", elem_id="take-upload", visible=False)
            gr.Markdown("#### Comments")
            comments = gr.HTML(elem_id="shot-comments")
            comment_body = gr.Textbox(
                label="Comment",
                lines=2,
                placeholder="The beam is too fast here…",
                elem_id="comment-body",
            )
            with gr.Row():
                comment_timecode = gr.Textbox(
                    label="At (on the picked take)", placeholder="1:05 or 3.5", scale=1
                )
                comment_status = gr.Dropdown(
                    label="Move the shot to",
                    choices=[("no change", ""), *STATUS_CHOICES],
                    value="",
                    scale=1,
                )
                mentions = gr.Dropdown(
                    label="Mention",
                    choices=[],
                    multiselect=True,
                    allow_custom_value=True,
                    scale=2,
                )
            with gr.Row(equal_height=True):
                comment_on_take = gr.Checkbox(
                    label="On the picked take", value=True, scale=1, min_width=170
                )
                post = gr.Button("Post comment", scale=2, elem_id="comment-post")
    direct.click(None, [shot], None, js=direct_upload.take_js("take-direct-upload"))
    return ShotTab(
        shot=shot,
        header=header,
        fields=[description, dialogue, camera, prompt, negative, duration, ratio, status],
        assignee=assignee,
        version=version,
        save=save,
        reload=reload,
        reference=reference,
        reference_in=reference_in,
        set_reference=set_reference,
        clear_reference=clear_reference,
        model=model,
        seed=seed,
        generate=generate,
        grid=grid,
        tools=tools,
        take=take,
        rating=rating,
        vary_box=vary_box,
        vary_prompt=vary_prompt,
        vary_negative=vary_negative,
        vary=vary,
        restyle_box=restyle_box,
        restyle_prompt=restyle_prompt,
        restyle_strength=restyle_strength,
        restyle=restyle,
        upload_in=upload_in,
        upload=upload,
        comments=comments,
        comment_body=comment_body,
        comment_timecode=comment_timecode,
        comment_status=comment_status,
        comment_on_take=comment_on_take,
        mentions=mentions,
        post=post,
    )


def wire(ui: ProjectUI, tab: ShotTab) -> None:
    from studio.ui.pages.project_live import live_values

    db, generation = ui.db, ui.generation
    form = [tab.header, *tab.fields, tab.assignee, tab.version, tab.reference]

    def form_values(session: Any, actor: Any, shot_id: int | None) -> tuple[Any, ...]:
        if shot_id is None:
            blank = ("", "", "", "", "", None, "", "todo", None, 0, "")
            return (
                "### Open a shot\nClick a card on the storyboard or a row of the shot list.",
                *blank,
            )
        shot = projects.get_shot(session, actor, shot_id)
        assignee = session.get(User, shot.assignee_user_id) if shot.assignee_user_id else None
        editor = session.get(User, shot.updated_by) if shot.updated_by else None
        header = (
            f"### {shot.code} {render.status_badge(shot.status.value)}\n"
            f"<small>version {shot.version}"
            + (f" · last edited by {md(editor.display_name)}" if editor else "")
            + "</small>"
        )
        reference = (
            f'<img class="reference" src="{ui.url(shot.reference_asset_id)}" alt="reference">'
            if shot.reference_asset_id
            else '<div class="hint">No reference image: takes start from the prompt.</div>'
        )
        return (
            header,
            shot.description,
            shot.dialogue,
            shot.camera_notes,
            shot.prompt,
            shot.negative_prompt,
            shot.target_duration,
            shot.ratio or "",
            shot.status.value,
            assignee.email if assignee else None,
            shot.version,
            reference,
        )

    def load(
        picked_project: Any, picked_shot: Any, picked_take: Any, view: Any, request: gr.Request
    ) -> tuple[Any, ...]:
        shot_id = optional_id(picked_shot, "shot")
        with ui_action(db, request) as (session, actor):
            values = form_values(session, actor, shot_id)
            live = shot_values(
                ui,
                session,
                actor,
                optional_id(picked_project, "project"),
                shot_id,
                optional_id(picked_take, "take"),
            )
        if NAVIGATION.superseded(request, PAGE, view):
            # Back / Forward routed another view while this one loaded: keep it.
            return tuple(gr.skip() for _ in range(len(values) + len(live) + 2))
        # Another shot: the Vary and Restyle forms close until a card opens them.
        return (*values, *live, gr.Accordion(visible=False), gr.Accordion(visible=False))

    def save(
        picked_shot: Any,
        description: str,
        dialogue: str,
        camera: str,
        prompt: str,
        negative: str,
        duration: Any,
        ratio: str,
        status: str,
        assignee: Any,
        version: Any,
        request: gr.Request,
    ) -> tuple[Any, ...]:
        shot_id = required_id(picked_shot, "shot")
        with ui_action(db, request) as (session, actor):
            projects.update_shot(
                session,
                actor,
                shot_id,
                projects.ShotFields(
                    description=description or "",
                    dialogue=dialogue or "",
                    camera_notes=camera or "",
                    prompt=prompt or "",
                    negative_prompt=negative or "",
                    target_duration=float(duration) if duration not in (None, "", 0) else None,
                    ratio=ratio or "",
                    status=status or None,
                    assignee_email=assignee or "",
                ),
                expected_version=int(version or 0),
            )
            result = form_values(session, actor, shot_id)
        notify("Shot saved.")
        return result

    def save_if_edited(
        picked_shot: Any,
        description: str,
        dialogue: str,
        camera: str,
        prompt: str,
        negative: str,
        duration: Any,
        ratio: str,
        status: str,
        assignee: Any,
        version: Any,
        request: gr.Request,
    ) -> tuple[Any, ...]:
        """Before Generate: save the form when it differs from the saved shot (the
        take is made from the saved shot), else change nothing. A refusal (a stale
        version, a viewer) stops Generate."""
        shown = [description, dialogue, camera, prompt, negative, duration, ratio, status]
        shot_id = required_id(picked_shot, "shot")
        with ui_action(db, request) as (session, actor):
            saved = form_values(session, actor, shot_id)[1 : 2 + len(tab.fields)]
        if _same(saved, [*shown, assignee]):
            return tuple(gr.skip() for _ in form)
        return save(
            picked_shot,
            description,
            dialogue,
            camera,
            prompt,
            negative,
            duration,
            ratio,
            status,
            assignee,
            version,
            request,
        )

    def reload_form(picked_shot: Any, request: gr.Request) -> tuple[Any, ...]:
        with ui_action(db, request) as (session, actor):
            return form_values(session, actor, optional_id(picked_shot, "shot"))

    def set_reference(clear: bool) -> Callable[..., tuple[Any, ...]]:
        def handler(
            picked_shot: Any, path: Any, version: Any, request: gr.Request
        ) -> tuple[Any, ...]:
            shot_id = required_id(picked_shot, "shot")
            data = None
            if not clear:
                file = uploaded_file(path, "reference image")
                if file.stat().st_size > generation.settings.max_upload_bytes:
                    raise gr.Error(
                        f"The image is larger than "
                        f"{generation.settings.max_upload_bytes // 1_000_000} MB."
                    )
                data = file.read_bytes()
            with ui_action(db, request) as (session, actor):
                references.set_reference_image(
                    session, actor, shot_id, generation, data, expected_version=int(version or 0)
                )
                return (None, *form_values(session, actor, shot_id))

        return handler

    def take_action(
        action: Callable[[Any, Any, int], str | None],
    ) -> Callable[..., tuple[Any, ...]]:
        """Run `action(session, actor, take_id)` -> message, then refresh the live parts."""

        def handler(
            picked_project: Any, picked_shot: Any, picked_take: Any, request: gr.Request
        ) -> tuple[Any, ...]:
            take_id = required_id(picked_take, "take")
            with ui_action(db, request) as (session, actor):
                message = action(session, actor, take_id)
                live = live_values(
                    ui,
                    session,
                    actor,
                    optional_id(picked_project, "project"),
                    optional_id(picked_shot, "shot"),
                    take_id,
                )
            if message:
                notify(message)
            return live

        return handler

    def circle(session: Any, actor: Any, take_id: int) -> str:
        shot = takes.select_take(session, actor, take_id)
        number = takes.get_take(session, actor, take_id).number
        return f"Take {number} circled for {shot.code}."

    def favorite(session: Any, actor: Any, take_id: int) -> str:
        take = takes.get_take(session, actor, take_id)
        takes.mark_take(session, actor, take_id, favorite=not take.favorite)
        return (
            f"Take {take.number} {'is a favorite' if take.favorite else 'is no longer a favorite'}."
        )

    def reroll(session: Any, actor: Any, take_id: int) -> str:
        made = takes.reroll_take(session, actor, take_id, generation)
        return f"Take {made.number} queued: same settings, new seed."

    def extend(session: Any, actor: Any, take_id: int) -> str:
        made = takes.extend_take(session, actor, take_id, generation)
        return f"Take {made.number} queued: it continues from the last frame."

    def rate(
        picked_project: Any, picked_shot: Any, picked_take: Any, stars: Any, request: gr.Request
    ) -> tuple[Any, ...]:
        def apply(session: Any, actor: Any, take_id: int) -> None:
            takes.mark_take(session, actor, take_id, rating=int(stars or 0))

        return take_action(apply)(picked_project, picked_shot, picked_take, request)

    def vary(
        picked_project: Any,
        picked_shot: Any,
        picked_take: Any,
        prompt: str,
        negative: str,
        request: gr.Request,
    ) -> tuple[Any, ...]:
        def apply(session: Any, actor: Any, take_id: int) -> str:
            changes = {"prompt": prompt or None, "negative_prompt": negative or None}
            made = takes.vary_take(session, actor, take_id, generation, changes)
            return f"Take {made.number} queued: same seed, edited prompt."

        return take_action(apply)(picked_project, picked_shot, picked_take, request)

    def restyle(
        picked_project: Any,
        picked_shot: Any,
        picked_take: Any,
        prompt: str,
        strength: Any,
        request: gr.Request,
    ) -> tuple[Any, ...]:
        if not (prompt or "").strip():
            raise gr.Error("Write the prompt the take should be restyled to.")

        def apply(session: Any, actor: Any, take_id: int) -> str:
            made = takes.restyle_take(
                session,
                actor,
                take_id,
                generation,
                prompt=prompt.strip(),
                strength=float(strength) if strength is not None else None,
            )
            return f"Take {made.number} queued: a restyle of the picked take."

        return take_action(apply)(picked_project, picked_shot, picked_take, request)

    def generate(
        picked_project: Any,
        picked_shot: Any,
        picked_take: Any,
        model: str,
        seed: Any,
        request: gr.Request,
    ) -> tuple[Any, ...]:
        shot_id = required_id(picked_shot, "shot")
        with ui_action(db, request) as (session, actor):
            made = takes.generate_take(
                session,
                actor,
                shot_id,
                generation,
                model=model or None,
                seed=_seed(seed),
            )
            number, made_id = made.number, made.id
            # The shot's parts only: the project's (storyboard, feed...) follow
            # by the next poll, which costs a Gradio event nothing.
            live = shot_values(
                ui, session, actor, optional_id(picked_project, "project"), shot_id, made_id
            )
        notify(f"Take {number} queued.")
        return live

    def upload(
        picked_project: Any, picked_shot: Any, path: Any, request: gr.Request
    ) -> tuple[Any, ...]:
        shot_id = required_id(picked_shot, "shot")
        file = uploaded_file(path, "video file")
        if file.stat().st_size > generation.settings.max_upload_bytes:
            raise gr.Error(
                f"Clips are limited to {generation.settings.max_upload_bytes // (1024 * 1024)} MB."
            )
        with ui_action(db, request) as (session, actor):
            made = takes.upload_take(session, actor, shot_id, generation, file.read_bytes())
            number, made_id = made.number, made.id
            live = live_values(
                ui, session, actor, optional_id(picked_project, "project"), shot_id, made_id
            )
        notify(f"Take {number} added from your clip.")
        return (None, *live)

    def post(
        picked_project: Any,
        picked_shot: Any,
        picked_take: Any,
        body: str,
        on_take: bool,
        timecode: str,
        status: str,
        mentioned: Any,
        request: gr.Request,
    ) -> tuple[Any, ...]:
        shot_id = required_id(picked_shot, "shot")
        at = review.parse_timecode(timecode) if timecode else None
        take_id = optional_id(picked_take, "take") if on_take or at is not None else None
        with ui_action(db, request) as (session, actor):
            review.add_comment(
                session,
                actor,
                shot_id,
                body,
                take_id=take_id,
                timecode=at,
                status=status or None,
                mentions=list(mentioned or []),
            )
            live = live_values(
                ui,
                session,
                actor,
                optional_id(picked_project, "project"),
                shot_id,
                optional_id(picked_take, "take"),
            )
            values = form_values(session, actor, shot_id) if status else None
        form_update = values if values is not None else tuple(gr.update() for _ in form)
        return ("", "", "", [], *form_update, *live)

    pick_outputs = [
        tab.take,
        tab.vary_prompt,
        tab.vary_negative,
        tab.rating,
        tab.vary_box,
        tab.restyle_box,
    ]

    def pick_values(session: Any, actor: Any, take_id: int) -> dict[Any, Any]:
        """The picked take's forms: its prompt in Vary, its rating, the forms' titles."""
        tv = takes.view(session, actor, takes.get_take(session, actor, take_id))
        prompt = str(tv.job.params.get("user_prompt") or "") if tv.job else ""
        negative = str(tv.job.params.get("negative_prompt") or "") if tv.job else ""
        number = tv.take.number
        return {
            tab.take: gr.update(value=take_id),
            tab.vary_prompt: prompt,
            tab.vary_negative: negative,
            tab.rating: tv.take.rating or 0,
            tab.vary_box: gr.update(label=VARY_LABEL.format(number)),
            tab.restyle_box: gr.update(label=RESTYLE_LABEL.format(number)),
        }

    def picked(picked_take: Any, request: gr.Request) -> dict[Any, Any]:
        """The take picker changed: fill the vary prompt and the rating from that take."""
        take_id = optional_id(picked_take, "take")
        if take_id is None:
            return {tab.vary_prompt: "", tab.vary_negative: "", tab.rating: 0}
        with ui_action(db, request) as (session, actor):
            return pick_values(session, actor, take_id)

    card_actions: dict[str, Callable[[Any, Any, int], str]] = {
        "circle": circle,
        "favorite": favorite,
        "reroll": reroll,
        "extend": extend,
    }
    forms = {"vary": (tab.vary_box, VARY_LABEL), "restyle": (tab.restyle_box, RESTYLE_LABEL)}

    def card_clicked(
        picked_project: Any, picked_shot: Any, event: gr.EventData, request: gr.Request
    ) -> dict[Any, Any]:
        """A take card in the grid: its own button ({take, action}) acts on that take
        through the same services as ever; a click elsewhere on it ({take}) picks it.
        A button that does not apply (takes.card_actions) is refused here too."""
        data = event._data if isinstance(event._data, dict) else {}
        take_id = optional_id(str(data.get("take") or ""), "take")
        action = str(data.get("action") or "")
        if take_id is None:
            return {tab.take: gr.skip()}
        with ui_action(db, request) as (session, actor):
            if not action:
                return pick_values(session, actor, take_id)
            take = takes.check_card_action(session, actor, take_id, action, generation.registry)
            out = pick_values(session, actor, take_id)
            if action in forms:
                box, label = forms[action]
                out[box] = gr.update(visible=True, open=True, label=label.format(take.number))
                return out
            message = card_actions[action](session, actor, take_id)
            live = live_values(
                ui,
                session,
                actor,
                optional_id(picked_project, "project"),
                optional_id(picked_shot, "shot"),
                take_id,
            )
        notify(message)
        return out | dict(zip(ui.live, live, strict=True))

    shot_state = [ui.project, tab.shot, tab.take]
    tab.shot.change(
        load,
        [*shot_state, ui.view],
        [*form, *ui.live, tab.vary_box, tab.restyle_box],
        api_name="load_shot",
        # Every change loads its own shot: with Gradio's default for `change`
        # (always_last), a change made while one loads ran later with the *first*
        # change's values, which the view check then refused as stale, so after
        # quick Back / Forward the shot form could stay on the shot left behind.
        # A stale load sends skips (NAVIGATION.superseded), so running each is safe.
        trigger_mode="multiple",
    )
    tab.save.click(
        save, [tab.shot, *tab.fields, tab.assignee, tab.version], form, api_name="save_shot"
    )
    tab.reload.click(reload_form, [tab.shot], form, api_name="reload_shot")
    tab.set_reference.click(
        set_reference(False),
        [tab.shot, tab.reference_in, tab.version],
        [tab.reference_in, *form],
        api_name="set_shot_reference",
    )
    tab.clear_reference.click(
        set_reference(True),
        [tab.shot, tab.reference_in, tab.version],
        [tab.reference_in, *form],
        api_name="clear_shot_reference",
    )
    tab.generate.click(
        save_if_edited,
        [tab.shot, *tab.fields, tab.assignee, tab.version],
        form,
        api_name="save_before_generate",
        api_visibility="private",
    ).success(generate, [*shot_state, tab.model, tab.seed], ui.live, api_name="generate_shot_take")
    tab.rating.input(rate, [*shot_state, tab.rating], ui.live, api_name="rate_take")
    tab.vary.click(
        vary, [*shot_state, tab.vary_prompt, tab.vary_negative], ui.live, api_name="vary_take"
    )
    tab.restyle.click(
        restyle,
        [*shot_state, tab.restyle_prompt, tab.restyle_strength],
        ui.live,
        api_name="restyle_take",
    )
    tab.upload.click(
        upload,
        [ui.project, tab.shot, tab.upload_in],
        [tab.upload_in, *ui.live],
        api_name="upload_take",
    )
    tab.post.click(
        post,
        [
            *shot_state,
            tab.comment_body,
            tab.comment_on_take,
            tab.comment_timecode,
            tab.comment_status,
            tab.mentions,
        ],
        [
            tab.comment_body,
            tab.comment_timecode,
            tab.comment_status,
            tab.mentions,
            *form,
            *ui.live,
        ],
        api_name="post_comment",
    )
    # A person picking a shot or a take gives the view its address (ui/addresses.py).
    push_take = addresses.project_push_js(3)
    tab.take.input(picked, [tab.take], pick_outputs, api_name="pick_take").then(
        None, shot_state, None, js=push_take
    )

    def rating_of(picked_take: Any, request: gr.Request) -> Any:
        """The picked take's rating, whoever picked it (an address, a card, a route)."""
        take_id = optional_id(picked_take, "take")
        if take_id is None:
            return 0
        with ui_action(db, request) as (session, actor):
            return takes.get_take(session, actor, take_id).rating or 0

    # The picker also moves without a person (a route, Back, a new take): its
    # rating follows. (`picked` answers a person's pick: it also fills Vary.)
    tab.take.change(
        rating_of, [tab.take], [tab.rating], api_name="take_rating", show_progress="hidden"
    )
    # The grid's clicks carry their take (and action) as event data, which only
    # the queue protocol sends (tests/ui/named.call_event), not /gradio_api/call.
    tab.grid.click(
        card_clicked,
        [ui.project, tab.shot],
        [*pick_outputs[1:], *ui.live],  # the picker is one of the live parts
        api_name="take_card",
        api_visibility="private",
    ).then(None, shot_state, None, js=push_take).then(None, None, None, js=SHOW_FORM_JS)
    tab.shot.input(None, [ui.project, tab.shot], None, js=addresses.project_push_js(2))


def _same(saved: Any, shown: Any) -> bool:
    """Whether the form's fields (and assignee) show what is saved: empty text and
    None alike, numbers by value."""

    def norm(value: Any) -> Any:
        if value in (None, "", 0):
            return ""
        if isinstance(value, (int, float)):
            return float(value)
        return str(value)

    return [norm(v) for v in saved] == [norm(v) for v in shown]


def _seed(value: Any) -> int | None:
    """Empty means a random seed; anything else must be a whole number."""
    text = str(value if value is not None else "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise gr.Error("The seed is a whole number (or leave it empty for a random one).")
    return int(text)
