"""What every tab of the Jams page shares: one person's view of the jams
(`Context`, read once per event) and `JamUI`, where each tab registers its
section (the components it fills and the function that fills them).

Sections are filled by name: a tab's `values(session, actor, ctx)` returns a
dict component -> value, and `JamUI.values(...)` merges the sections an
event needs. Tab modules import this module, never each other or the shell,
so there are no import cycles.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gradio as gr
from sqlalchemy.orm import Session

from studio.accounts.access import Actor
from studio.db.session import Database
from studio.errors import NotFound
from studio.generation.context import Generation
from studio.jams import service, teams

Values = Callable[[Session, Actor, "Context"], dict[Any, Any]]


@dataclass
class Context:
    """One person's view of the jams, read once per event."""

    views: list[service.JamView]
    view: service.JamView | None
    team: teams.TeamView | None
    invites: list[teams.InviteView] = field(default_factory=list)  # mine, pending
    entry_id: int | None = None  # an entry the address names (route): shown where it is
    judge_entry_id: int | None = None  # ...and opened on the judge console (its judge)


@dataclass
class Section:
    outputs: list[Any]
    values: Values


@dataclass
class JamUI:
    db: Database
    generation: Generation
    url: Callable[[int], str]
    picker: gr.Dropdown
    tabs: gr.Tabs
    sections: dict[str, Section] = field(default_factory=dict)

    def add(self, name: str, outputs: list[Any], values: Values) -> None:
        self.sections[name] = Section(outputs, values)

    def outputs(self, *names: str) -> list[Any]:
        """The components of these sections (all sections when none is named)."""
        chosen = names or tuple(self.sections)
        seen: list[Any] = []
        for name in chosen:
            for component in self.sections[name].outputs:
                if component not in seen:
                    seen.append(component)
        return seen

    def values(self, session: Session, actor: Actor, ctx: Context, *names: str) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for name in names or tuple(self.sections):
            out.update(self.sections[name].values(session, actor, ctx))
        return out

    def context(self, session: Session, actor: Actor, slug: str | None) -> Context:
        views = service.list_jams(session, actor)
        view = next((v for v in views if v.slug == slug), None) if slug else None
        team = teams.get_my_team(session, actor, view.slug) if view and view.my_team_id else None
        invites = teams.my_invites(session, actor, view.slug) if view else []
        return Context(views, view, team, invites)

    def jam_context(self, session: Session, actor: Actor, slug: str) -> Context:
        """One jam only (the timer): `views` holds just that jam."""
        try:
            view = service.get_jam(session, actor, slug)
        except NotFound:
            return Context([], None, None)
        team = teams.get_my_team(session, actor, view.slug) if view.my_team_id else None
        return Context([view], view, team)


def slug_of(value: Any) -> str | None:
    """The jam picker's value (a slug); the services check it exists."""
    if value is None or value == "" or value == []:
        return None
    if not isinstance(value, str):
        raise gr.Error("Choose a jam from the list.")
    return value.strip().lower() or None


def required_slug(value: Any) -> str:
    slug = slug_of(value)
    if slug is None:
        raise gr.Error("Choose a jam first.")
    return slug


def existing(ctx: Context) -> service.JamView:
    if ctx.view is None:
        raise NotFound("No such jam.")
    return ctx.view
