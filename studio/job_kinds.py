"""The job kinds every runner of this app knows, registered by the edges that
build runners (the web app with its in-process runner, the Celery worker,
benchmarks) before any job is claimed. The generation layer never imports the
domains that define them (projects, uploads): they build on it.
"""

from __future__ import annotations

from studio.generation import kinds


def register_all() -> None:
    from studio.projects import roughcut
    from studio.uploads import finish

    for kind in (roughcut.JOB_KIND, finish.JOB_KIND):
        kinds.register(kind)
