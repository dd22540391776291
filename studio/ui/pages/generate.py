"""Generate: pick a model and settings, queue takes, watch the queue, reuse settings."""

import html
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gradio as gr

from studio.accounts import service as accounts
from studio.db.session import Database
from studio.errors import InvalidInput
from studio.generation import registry as reg
from studio.generation import service as jobs
from studio.generation.context import Generation
from studio.generation.models import JobStatus
from studio.generation.runway import runway_status
from studio.media import images
from studio.media.ffmpeg import MediaError
from studio.ui.actions import ui_action
from studio.ui.media_urls import stable_signer
from studio.ui.widgets import id_dropdown, optional_id, required_id, uploaded_file

MODE_LABELS = {
    "text_to_video": "Text to video",
    "image_to_video": "Image to video",
    "text_to_image": "Text to image",
}
CAMERA_LABELS = [(m.replace("_", " ").capitalize(), m) for m in reg.CAMERA_MOVES]
STATUS_CLASS = {
    "PENDING": "todo",
    "THROTTLED": "review",
    "RUNNING": "progress",
    "SUCCEEDED": "approved",
    "FAILED": "failed",
    "CANCELLED": "omitted",
}


@dataclass
class GeneratePage:
    column: gr.Column
    outputs: list[Any]
    refresh: Callable[..., tuple[Any, ...]]


def _model_choices(registry: reg.Registry) -> list[tuple[str, str]]:
    return [
        (spec.name + ("" if reg.weights_available(spec) else " (weights not installed)"), spec.key)
        for spec in registry.all()
    ]


def build(db: Database, generation: Generation, media_secret: str) -> GeneratePage:
    registry = generation.registry
    settings = generation.settings
    first = registry.default_for("text_to_video")

    with gr.Column(visible=False, elem_id="page-generate") as column:
        gr.Markdown("## Generate")
        with gr.Row(equal_height=False):
            with gr.Column(scale=2, min_width=320):
                workspace = id_dropdown("Workspace", elem_id="gen-workspace")
                model = gr.Dropdown(
                    _model_choices(registry), value=first.key, label="Model", elem_id="gen-model"
                )
                # Built with every mode: Gradio checks values against the choices a
                # component was built with; the model's own modes are set on load.
                mode = gr.Radio(
                    [(label, m) for m, label in MODE_LABELS.items()],
                    value="text_to_video",
                    label="Mode",
                    elem_id="gen-mode",
                )
                prompt = gr.Textbox(
                    label="Prompt",
                    lines=3,
                    max_length=reg.PROMPT_MAX,
                    placeholder="A lighthouse keeper climbs the stairs at dusk, lantern swinging",
                    elem_id="gen-prompt",
                )
                negative = gr.Textbox(
                    label="Negative prompt", visible=first.negative_prompt, elem_id="gen-negative"
                )
                reference = gr.Image(
                    label="Reference image",
                    type="filepath",
                    image_mode=None,  # the upload itself (see widgets.uploaded_file)
                    visible=False,
                    elem_id="gen-reference",
                )
                with gr.Row():
                    # Choices change with the model; the registry check in the
                    # service is the real validation (clear errors for API callers).
                    ratio = gr.Dropdown(
                        list(first.ratios),
                        value=next(iter(first.ratios)),
                        label="Ratio",
                        allow_custom_value=True,
                    )
                    duration = gr.Dropdown(
                        [(f"{d} s", d) for d in sorted(first.durations)],
                        value=min(first.durations) if first.durations else None,
                        label="Duration",
                        allow_custom_value=True,
                    )
                with gr.Row():
                    camera = gr.Dropdown(
                        CAMERA_LABELS,
                        value="static",
                        label="Camera move",
                        visible=first.camera_move != "none",
                    )
                    motion = gr.Slider(
                        0,
                        1,
                        value=0.5,
                        step=0.05,
                        label="Motion strength",
                        visible=first.motion_strength,
                    )
                with gr.Row():
                    random_seed = gr.Checkbox(value=True, label="Random seed")
                    seed = gr.Number(
                        value=0, precision=0, label="Seed", minimum=0, maximum=jobs.SEED_MAX
                    )
                submit = gr.Button("Generate", variant="primary", elem_id="gen-submit")
                notice = gr.Markdown(elem_id="gen-notice")
            with gr.Column(scale=3, min_width=420):
                gr.Markdown("### Queue")
                queue_html = gr.HTML(elem_id="gen-queue")
                with gr.Row():
                    cancel_pick = id_dropdown("Job to cancel", scale=3)
                    cancel_btn = gr.Button(
                        "Cancel job", variant="stop", scale=1, elem_id="gen-cancel"
                    )
                gr.Markdown("### Recent takes")
                history_html = gr.HTML(elem_id="gen-history")
                with gr.Row():
                    reuse_pick = id_dropdown("Take", scale=3)
                    reuse_btn = gr.Button("Use these settings again", scale=1, elem_id="gen-reuse")
        timer = gr.Timer(1.0)

    def on_model(key: str, current_mode: str) -> tuple[Any, ...]:
        spec = registry.get(key)
        chosen_mode = current_mode if spec.supports(current_mode) else spec.modes[0]
        return _controls_for(spec, chosen_mode)

    def on_mode(key: str, chosen_mode: str) -> tuple[Any, ...]:
        return _controls_for(registry.get(key), chosen_mode)

    def _controls_for(spec: reg.ModelSpec, chosen_mode: str) -> tuple[Any, ...]:
        video = chosen_mode != "text_to_image"
        return (
            gr.update(
                choices=[(MODE_LABELS[m], m) for m in spec.modes if m in MODE_LABELS],
                value=chosen_mode,
            ),
            gr.update(visible=spec.prompt),
            gr.update(visible=spec.negative_prompt),
            gr.update(visible=chosen_mode == "image_to_video"),
            gr.update(choices=list(spec.ratios), value=next(iter(spec.ratios))),
            gr.update(
                choices=[(f"{d} s", d) for d in sorted(spec.durations)],
                value=min(spec.durations) if spec.durations and video else None,
                visible=video,
            ),
            gr.update(visible=video and spec.camera_move != "none", value="static"),
            gr.update(visible=spec.motion_strength),
            gr.update(visible=spec.seed),
            gr.update(visible=spec.seed),
        )

    control_outputs = [
        mode,
        negative,
        reference,
        ratio,
        duration,
        camera,
        motion,
        random_seed,
        seed,
    ]
    model.input(on_model, [model, mode], control_outputs, api_visibility="private")
    mode.input(on_mode, [model, mode], control_outputs, api_visibility="private")

    def refresh(picked: Any, request: gr.Request) -> tuple[Any, ...]:
        workspace_id = optional_id(picked, "workspace")
        with ui_action(db, request) as (session, actor):
            mine = accounts.list_my_workspaces(session, actor)
            choices = [(m.workspace.name, m.workspace.id) for m in mine]
            if workspace_id is None and choices:
                workspace_id = choices[0][1]
            views = jobs.list_jobs(session, actor, workspace_id, limit=40) if workspace_id else []
        active = [v for v in views if v.active]
        done = [v for v in views if not v.active]
        return (
            gr.update(choices=choices, value=workspace_id),
            _queue_html(active),
            gr.update(choices=[(_label(v), v.public_id) for v in active]),
            _history_html(done, media_secret, settings.media_url_ttl_seconds),
            gr.update(
                choices=[(_label(v), v.public_id) for v in done if v.status == JobStatus.SUCCEEDED]
            ),
        )

    outputs = [workspace, queue_html, cancel_pick, history_html, reuse_pick]

    def poll(picked: Any, request: gr.Request) -> tuple[Any, ...]:
        _, queue_view, cancel_choices, history_view, reuse_choices = refresh(picked, request)
        return queue_view, cancel_choices, history_view, reuse_choices

    def generate(
        picked: Any,
        model_key: str,
        chosen_mode: str,
        text: str,
        negative_text: str,
        reference_path: str | None,
        chosen_ratio: str,
        chosen_duration: Any,
        camera_move: str,
        motion_strength: float,
        is_random: bool,
        seed_value: float | None,
        request: gr.Request,
    ) -> tuple[Any, ...]:
        workspace_id = required_id(picked, "workspace")
        spec = registry.get(model_key)
        ref = None
        if chosen_mode == "image_to_video":
            ref = _reference(reference_path, settings.max_upload_bytes, settings.max_image_pixels)
        submission = jobs.Submission(
            mode=chosen_mode,
            prompt=(text or "") if spec.prompt else "",
            model=model_key,
            ratio=chosen_ratio,
            duration=_seconds(chosen_duration) if chosen_mode != "text_to_image" else None,
            seed=None if is_random or not spec.seed else int(seed_value or 0),
            negative_prompt=(negative_text or None) if spec.negative_prompt else None,
            camera_move=camera_move
            if chosen_mode != "text_to_image" and spec.camera_move != "none"
            else None,
            motion_strength=float(motion_strength) if spec.motion_strength else None,
            reference=ref,
        )
        with ui_action(db, request) as (session, actor):
            job, _ = jobs.submit_job(
                session,
                actor,
                workspace_id=workspace_id,
                request=submission,
                registry=registry,
                storage=generation.storage,
                dispatcher=generation.dispatcher,
                max_attempts=settings.job_max_attempts,
            )
            public_id, job_seed = job.public_id, job.params["seed"]
        return (
            f"Queued `{public_id[:8]}` · seed **{job_seed}**. It appears in the queue at once.",
            *refresh(workspace_id, request),
        )

    def cancel(picked: Any, job_id: Any, request: gr.Request) -> tuple[Any, ...]:
        if not job_id:
            raise gr.Error("Choose a job to cancel.")
        with ui_action(db, request) as (session, actor):
            view = jobs.cancel_job(session, actor, str(job_id))
        gr.Info("Cancelled." if view.status == JobStatus.CANCELED else "Stopping at the next step…")
        return refresh(picked, request)

    def reuse(job_id: Any, request: gr.Request) -> tuple[Any, ...]:
        if not job_id:
            raise gr.Error("Choose a take first.")
        with ui_action(db, request) as (session, actor):
            view = jobs.get_job(session, actor, str(job_id))
        spec = registry.get(view.model_key)
        p = view.params
        (
            mode_u,
            prompt_u,
            negative_u,
            reference_u,
            ratio_u,
            duration_u,
            camera_u,
            motion_u,
            random_u,
            seed_u,
        ) = _controls_for(spec, view.mode)
        motion_value = p.get("motion_strength")
        return (
            gr.update(value=spec.key),
            {**mode_u, "value": view.mode},
            {**prompt_u, "value": p.get("user_prompt") or p.get("prompt", "")},
            {**negative_u, "value": p.get("negative_prompt") or ""},
            reference_u,
            {**ratio_u, "value": p.get("ratio")},
            {**duration_u, "value": p.get("duration")},
            {**camera_u, "value": p.get("camera_move") or "static"},
            {**motion_u, "value": 0.5 if motion_value is None else motion_value},
            {**random_u, "value": False},
            {**seed_u, "value": p.get("seed", 0)},
        )

    form = [
        workspace,
        model,
        mode,
        prompt,
        negative,
        reference,
        ratio,
        duration,
        camera,
        motion,
        random_seed,
        seed,
    ]
    submit.click(generate, form, [notice, *outputs], api_name="generate")
    workspace.input(refresh, [workspace], outputs, api_visibility="private")
    timer.tick(poll, [workspace], outputs[1:], api_visibility="private", show_progress="hidden")
    cancel_btn.click(cancel, [workspace, cancel_pick], outputs, api_name="cancel_job")
    # "Use these settings again" fills every form field but the workspace.
    reuse_btn.click(
        reuse,
        [reuse_pick],
        form[1:],
        api_name="reuse_settings",
    )
    return GeneratePage(column=column, outputs=outputs, refresh=refresh)


def _reference(path: str | None, max_bytes: int, max_pixels: int) -> jobs.Reference:
    if not path:
        raise gr.Error("Image to video needs a reference image: drop one in.")
    file = uploaded_file(path, "reference image")
    if file.stat().st_size > max_bytes:
        raise gr.Error(f"The image is larger than {max_bytes // 1_000_000} MB.")
    try:
        image = images.load_image(file.read_bytes(), max_bytes=max_bytes, max_pixels=max_pixels)
    except MediaError as exc:
        raise gr.Error(str(exc)) from None
    except InvalidInput as exc:
        raise gr.Error(exc.message) from None
    return jobs.Reference(image=image)


def _seconds(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(float(str(value).removesuffix(" s")))
    except ValueError:
        raise gr.Error("Choose a duration from the list.") from None


def _prompt_of(view: jobs.JobView) -> str:
    return str(view.params.get("user_prompt") or view.params.get("prompt") or "")


def _label(view: jobs.JobView) -> str:
    prompt = (_prompt_of(view) or view.mode)[:40]
    return f"{view.public_id[:8]} · {view.model_key} · {prompt}"


def _queue_html(active: list[jobs.JobView]) -> str:
    if not active:
        return (
            '<div class="empty-state">Nothing in the queue. '
            "Write a prompt and press Generate.</div>"
        )
    rows = []
    for view in active:
        status = runway_status(view)
        if view.status == JobStatus.QUEUED:
            detail = jobs.wait_text(view)  # why it waits: its turn, a limit, no worker
        else:
            detail = "stopping…" if view.cancel_requested else f"{round(view.progress * 100)}%"
        rows.append(
            f'<tr data-job="{view.public_id}"><td><code>{view.public_id[:8]}</code></td>'
            f"<td>{html.escape(view.model_key)}</td>"
            f"<td>{html.escape(_label(view).split(' · ', 2)[-1])}</td>"
            f'<td><span class="status {STATUS_CLASS[status]}">{status.lower()}</span></td>'
            f'<td><div class="bar"><span style="width:{round(view.progress * 100)}%"></span></div>'
            f"<small>{detail}</small></td></tr>"
        )
    return '<table class="queue"><tbody>' + "".join(rows) + "</tbody></table>"


def _history_html(done: list[jobs.JobView], secret: str, ttl: int) -> str:
    if not done:
        return '<div class="empty-state">No takes yet. Your finished generations appear here.</div>'
    # Stable URLs (see ui/media_urls.py): the history re-renders on every poll.
    url = stable_signer(secret, ttl)
    cards = []
    for view in done[:24]:
        status = runway_status(view)
        p = view.params
        media = ""
        if view.output_asset_id:
            src = url(view.output_asset_id)
            poster = url(view.poster_asset_id) if view.poster_asset_id else ""
            if view.output_mime == "video/mp4":
                media = (
                    f'<video src="{src}" poster="{poster}" controls loop muted '
                    'playsinline preload="none"></video>'
                )
            else:
                media = f'<img src="{src}" alt="take {view.public_id[:8]}">'
        else:
            media = (
                f'<div class="no-media">{html.escape(view.error_message or status.lower())}</div>'
            )
        length = f"{p.get('duration')} s" if p.get("duration") else "still"
        cards.append(
            f'<figure class="take" data-job="{view.public_id}">{media}<figcaption>'
            f'<span class="status {STATUS_CLASS[status]}">{status.lower()}</span> '
            f"<b>{html.escape(view.model_key)}</b> · seed {p.get('seed')} · {length} · "
            f"{p.get('ratio')}<br><small>{html.escape(_prompt_of(view)[:120])}</small>"
            "</figcaption></figure>"
        )
    return '<div class="takes">' + "".join(cards) + "</div>"
