"""The Generate page's components, built once; page.py wires their events.

Every component a handler reads or writes has an elem_id: handlers return
{component: value} and tests read outputs by these ids. Errors go to the line
beside the action that caused them (ui/inline_errors.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from studio.generation import registry as reg
from studio.generation import service as jobs
from studio.ui.generate import controls, live
from studio.ui.inline_errors import error_line
from studio.ui.widgets import id_dropdown


@dataclass
class Layout:
    column: gr.Column
    workspace: gr.Dropdown
    model: gr.Dropdown
    mode: gr.Dropdown
    prompt: gr.Textbox
    negative: gr.Textbox
    reference: gr.Image
    ratio: gr.Dropdown
    duration: gr.Dropdown
    camera: gr.Dropdown
    motion: gr.Slider
    random_seed: gr.Checkbox
    seed: gr.Number
    submit: gr.Button
    error: gr.HTML
    queue: gr.HTML
    cancel_pick: gr.Dropdown
    cancel: gr.Button
    cancel_error: gr.HTML
    history: gr.HTML
    take_pick: gr.Dropdown
    reuse: gr.Button
    project_pick: gr.Dropdown
    shot_pick: gr.Dropdown
    send: gr.Button
    take_error: gr.HTML
    poll: gr.HTML  # the poll's mark (generate/live.py)

    def fields(self) -> dict[str, Any]:
        """The model-dependent controls by their name in controls.FIELDS."""
        return {name: getattr(self, name) for name in controls.FIELDS}


def model_choices(registry: reg.Registry) -> list[tuple[str, str]]:
    return [
        (spec.name + ("" if reg.weights_available(spec) else " (weights not installed)"), spec.key)
        for spec in registry.all()
    ]


def build_layout(registry: reg.Registry) -> Layout:
    """Built showing the default model (`controls.form_for` narrows it again on load).

    Mode, ratio, duration and camera take any value: Gradio refuses a value
    outside the choices a person's page last received *before* the handler
    runs, with a raw error and red badges on the form. A value sent while a
    model switch is still on its way (the choices changed, the field not yet)
    would hit that; instead the handlers keep what is valid and the service
    says clearly what a model does not do (ui/generate/controls.py).
    """
    first = registry.default_for("text_to_video")
    mode = controls.chosen_mode(first, "text_to_video")
    video = mode != "text_to_image"
    with gr.Column(elem_id="page-generate") as column:
        gr.Markdown("## Generate")
        with gr.Row(equal_height=False):
            with gr.Column(scale=2, min_width=320):
                workspace = id_dropdown("Workspace", elem_id="gen-workspace")
                model = gr.Dropdown(
                    model_choices(registry), value=first.key, label="Model", elem_id="gen-model"
                )
                mode_pick = gr.Dropdown(
                    controls.mode_choices(first.modes),
                    value=mode,
                    label="Mode",
                    allow_custom_value=True,  # see build_layout
                    elem_id="gen-mode",
                )
                prompt = gr.Textbox(
                    label="Prompt",
                    lines=3,
                    max_length=reg.PROMPT_MAX,
                    placeholder="A lighthouse keeper climbs the stairs at dusk, lantern swinging",
                    visible=first.prompt,
                    elem_id="gen-prompt",
                )
                negative = gr.Textbox(
                    label="Negative prompt",
                    placeholder="blurry, text, watermark",
                    visible=first.negative_prompt,
                    elem_id="gen-negative",
                )
                reference = gr.Image(
                    label="Reference image",
                    type="filepath",
                    image_mode=None,  # the upload itself (see widgets.uploaded_file)
                    visible=mode == "image_to_video",
                    elem_id="gen-reference",
                )
                with gr.Row():
                    ratio = gr.Dropdown(
                        controls.ratio_choices(first),
                        value=next(iter(first.ratios)),
                        label="Ratio",
                        allow_custom_value=True,
                        elem_id="gen-ratio",
                    )
                    duration = gr.Dropdown(
                        controls.duration_choices(first),
                        value=controls.default_duration(first) if video else None,
                        label="Duration",
                        allow_custom_value=True,
                        visible=video,
                        elem_id="gen-duration",
                    )
                with gr.Row():
                    camera = gr.Dropdown(
                        controls.CAMERA_CHOICES,
                        value="static",
                        label="Camera move",
                        allow_custom_value=True,
                        visible=controls.has_camera(first, mode),
                        elem_id="gen-camera",
                    )
                    motion = gr.Slider(
                        0,
                        1,
                        value=controls.DEFAULT_MOTION,
                        step=0.05,
                        label="Motion strength",
                        visible=first.motion_strength,
                        elem_id="gen-motion",
                    )
                with gr.Row():
                    random_seed = gr.Checkbox(
                        value=True, label="Random seed", visible=first.seed, elem_id="gen-random"
                    )
                    seed = gr.Number(
                        value=0,
                        precision=0,
                        label="Seed",
                        minimum=0,
                        maximum=jobs.SEED_MAX,
                        visible=first.seed,
                        elem_id="gen-seed",
                    )
                submit = gr.Button("Generate", variant="primary", elem_id="gen-submit")
                error = error_line("gen-error")
            with gr.Column(scale=3, min_width=420):
                gr.Markdown("### Queue")
                queue = gr.HTML(elem_id="gen-queue")
                with gr.Row(equal_height=True):
                    cancel_pick = id_dropdown("Job to cancel", scale=3, elem_id="gen-cancel-pick")
                    cancel = gr.Button("Cancel job", variant="stop", scale=1, elem_id="gen-cancel")
                cancel_error = error_line("gen-cancel-error")
                gr.Markdown("### Recent takes")
                with gr.Row(equal_height=True):
                    take_pick = id_dropdown("Take", scale=3, elem_id="gen-take-pick")
                    reuse = gr.Button("Use these settings again", scale=1, elem_id="gen-reuse")
                with gr.Row(equal_height=True):
                    project_pick = id_dropdown("Project", scale=2, elem_id="gen-send-project")
                    shot_pick = id_dropdown("Shot", scale=2, elem_id="gen-send-shot")
                    send = gr.Button("Send to shot", scale=1, elem_id="gen-send")
                take_error = error_line("gen-take-error")
                # Below the pickers: the grid grows to 24 takes.
                history = gr.HTML(elem_id="gen-history")
        # The queue's and recent takes' poll (generate/live.py).
        poll = gr.HTML(
            "", elem_id="gen-poll", js_on_load=live.POLL_JS, container=False, padding=False
        )
    return Layout(
        column=column,
        workspace=workspace,
        model=model,
        mode=mode_pick,
        prompt=prompt,
        negative=negative,
        reference=reference,
        ratio=ratio,
        duration=duration,
        camera=camera,
        motion=motion,
        random_seed=random_seed,
        seed=seed,
        submit=submit,
        error=error,
        queue=queue,
        cancel_pick=cancel_pick,
        cancel=cancel,
        cancel_error=cancel_error,
        history=history,
        take_pick=take_pick,
        reuse=reuse,
        project_pick=project_pick,
        shot_pick=shot_pick,
        send=send,
        take_error=take_error,
        poll=poll,
    )
