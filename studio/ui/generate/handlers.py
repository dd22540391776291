"""The Generate page's handlers. Each resolves its caller through ui_action (a
Gradio handler is a public endpoint), calls the services, and returns
{component: value}; errors go to the line beside the action (in_place)."""

from __future__ import annotations

from typing import Any

import gradio as gr

from studio.accounts import service as accounts
from studio.db.session import Database
from studio.errors import InvalidInput
from studio.generation import registry as reg
from studio.generation import service as jobs
from studio.generation.context import Generation
from studio.generation.models import JobStatus
from studio.media import images
from studio.media.ffmpeg import MediaError
from studio.projects import send_take
from studio.projects import service as projects
from studio.ui import live_poll
from studio.ui.actions import ui_action
from studio.ui.generate import controls, live
from studio.ui.generate.layout import Layout
from studio.ui.media_urls import stable_signer
from studio.ui.notify import notify
from studio.ui.widgets import optional_id, required_id, uploaded_file


class Handlers:
    def __init__(self, db: Database, generation: Generation, media_secret: str, ui: Layout) -> None:
        self.db = db
        self.generation = generation  # also what live_poll.LiveSource asks for
        self.registry = generation.registry
        self.ui = ui
        # Stable URLs (see ui/media_urls.py): the history re-renders on every poll.
        self.url = stable_signer(media_secret, generation.settings.media_url_ttl_seconds)

    # ------------------------------------------------------------ lists

    def refresh(self, picked: Any, request: gr.Request) -> dict[Any, Any]:
        """The workspace picker, its queue, its recent takes and its projects."""
        ui = self.ui
        workspace_id = optional_id(picked, "workspace")
        with ui_action(self.db, request) as (session, actor):
            mine = accounts.list_my_workspaces(session, actor)
            choices = [(m.workspace.name, m.workspace.id) for m in mine]
            if workspace_id is None and choices:
                workspace_id = choices[0][1]
            lists = self._lists(session, actor, workspace_id)
            found = projects.list_projects(session, actor, workspace_id) if workspace_id else []
        return {
            ui.workspace: gr.update(choices=choices, value=workspace_id),
            **lists,
            ui.project_pick: gr.update(choices=[(p.title, p.id) for p in found], value=None),
            ui.shot_pick: gr.update(choices=[], value=None),
        }

    def poll(self, picked: Any, request: gr.Request) -> dict[Any, Any]:
        """The render the poll asks for (generate/live.py): the pickers that list
        jobs. A refusal changes nothing: the person's next action says it."""
        try:
            workspace_id = optional_id(picked, "workspace")
            with ui_action(self.db, request) as (session, actor):
                found = live.parts(self, session, actor, workspace_id, live.GRADIO_PARTS)
        except gr.Error:
            return {self.ui.cancel_pick: gr.skip(), self.ui.take_pick: gr.skip()}
        return {self.ui.cancel_pick: found["cancel"], self.ui.take_pick: found["takes"]}

    def _lists(self, session: Any, actor: Any, workspace_id: int | None) -> dict[Any, Any]:
        """The queue, the recent takes and their pickers, and the poll's mark."""
        found = live.parts(self, session, actor, workspace_id)
        render = live_poll.next_render()
        ui = self.ui
        return {
            ui.queue: live_poll.marked(found["queue"], render),
            ui.cancel_pick: found["cancel"],
            ui.history: live_poll.marked(found["history"], render),
            ui.take_pick: found["takes"],
            ui.poll: live.poll_mark(workspace_id),
        }

    # ------------------------------------------------------------ the form

    def initial_form(self, request: gr.Request) -> dict[Any, Any]:
        """On load: the default model's controls (the mode radio was built with all)."""
        with ui_action(self.db, request):
            pass
        spec = self.registry.default_for("text_to_video")
        return self._form(spec, "text_to_video", controls.Current())

    def pick_model(
        self, key: Any, mode: Any, ratio: Any, duration: Any, camera: Any, request: gr.Request
    ) -> dict[Any, Any]:
        """Model or mode changed: the controls follow; invalid values become defaults."""
        with ui_action(self.db, request):
            spec = self.registry.get(str(key or ""))
        return self._form(spec, mode, controls.Current(mode, ratio, duration, camera))

    def _form(self, spec: reg.ModelSpec, mode: Any, current: controls.Current) -> dict[Any, Any]:
        fields = self.ui.fields()
        return {fields[name]: u for name, u in controls.form_for(spec, mode, current).items()}

    def generate(
        self,
        picked: Any,
        model_key: Any,
        mode: Any,
        prompt: Any,
        negative: Any,
        reference_path: Any,
        ratio: Any,
        duration: Any,
        camera: Any,
        motion: Any,
        random_seed: Any,
        seed: Any,
        request: gr.Request,
    ) -> dict[Any, Any]:
        workspace_id = required_id(picked, "workspace")
        with ui_action(self.db, request) as (session, actor):
            spec = self.registry.get(str(model_key or ""))
            form = controls.Form(
                mode, prompt, negative, ratio, duration, camera, motion, random_seed, seed
            )
            reference = None
            if form.mode == "image_to_video":
                reference = self._reference(reference_path)
            job, _ = jobs.submit_job(
                session,
                actor,
                workspace_id=workspace_id,
                request=controls.submission_for(spec, form, reference),
                registry=self.registry,
                storage=self.generation.storage,
                dispatcher=self.generation.dispatcher,
                max_attempts=self.generation.settings.job_max_attempts,
            )
            queued = f"Queued {job.public_id[:8]} · seed {job.params['seed']}."
            lists = self._lists(session, actor, workspace_id)
        notify(queued)
        return lists

    def _reference(self, path: Any) -> jobs.Reference:
        settings = self.generation.settings
        if not path:
            raise gr.Error("Image to video needs a reference image: drop one in.")
        file = uploaded_file(path, "reference image")
        if file.stat().st_size > settings.max_upload_bytes:
            raise gr.Error(f"The image is larger than {settings.max_upload_bytes // 1_000_000} MB.")
        try:
            image = images.load_image(
                file.read_bytes(),
                max_bytes=settings.max_upload_bytes,
                max_pixels=settings.max_image_pixels,
            )
        except MediaError as exc:
            raise gr.Error(str(exc)) from None
        except InvalidInput as exc:
            raise gr.Error(exc.message) from None
        return jobs.Reference(image=image)

    # ------------------------------------------------------------ queue and takes

    def cancel(self, picked: Any, job_id: Any, request: gr.Request) -> dict[Any, Any]:
        if not job_id:
            raise gr.Error("Choose a job to cancel.")
        workspace_id = optional_id(picked, "workspace")
        with ui_action(self.db, request) as (session, actor):
            view = jobs.cancel_job(session, actor, str(job_id))
            lists = self._lists(session, actor, workspace_id)
        notify("Cancelled." if view.status == JobStatus.CANCELED else "Stopping at the next step…")
        return lists

    def reuse(self, job_id: Any, request: gr.Request) -> dict[Any, Any]:
        """The form filled from a take: its model, mode and settings, its seed fixed."""
        if not job_id:
            raise gr.Error("Choose a take first.")
        with ui_action(self.db, request) as (session, actor):
            view = jobs.get_job(session, actor, str(job_id))
        if view.mode not in reg.MODES:
            raise gr.Error("That is not a take: choose one from Recent takes.")
        spec = self.registry.get(view.model_key)
        p = view.params
        current = controls.Current(
            view.mode, p.get("ratio"), p.get("duration"), p.get("camera_move")
        )
        form = controls.form_for(spec, view.mode, current)
        motion = p.get("motion_strength")
        values = {
            "prompt": p.get("user_prompt") or p.get("prompt") or "",
            "negative": p.get("negative_prompt") or "",
            "motion": controls.DEFAULT_MOTION if motion is None else motion,
            "random_seed": False,
            "seed": p.get("seed", 0),
        }
        for name, value in values.items():
            form[name] = {**form[name], "value": value}
        fields = self.ui.fields()
        return {self.ui.model: gr.update(value=spec.key)} | {
            fields[name]: u for name, u in form.items()
        }

    def pick_project(self, project_id: Any, request: gr.Request) -> dict[Any, Any]:
        """The shots of the project a take may be sent to."""
        chosen = optional_id(project_id, "project")
        with ui_action(self.db, request) as (session, actor):
            found = projects.list_shots(session, actor, chosen) if chosen is not None else []
            shots = [(f"{s.code} · {s.description[:40]}".rstrip(" ·"), s.id) for s in found]
        return {self.ui.shot_pick: gr.update(choices=shots, value=None)}

    def send(self, job_id: Any, shot_id: Any, request: gr.Request) -> dict[Any, Any]:
        """The picked take onto the picked shot (the service checks the editor role)."""
        if not job_id:
            raise gr.Error("Choose a take first.")
        chosen = required_id(shot_id, "shot")
        with ui_action(self.db, request) as (session, actor):
            take = send_take.send_to_shot(session, actor, task_id=str(job_id), shot_id=chosen)
            shot = projects.get_shot(session, actor, take.shot_id)
            sent = f"Sent to {shot.code} as take {take.number}."
        notify(sent)
        return {}
