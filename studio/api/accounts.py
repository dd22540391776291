"""/v1/me and workspace membership endpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from sqlalchemy.orm import Session

from studio.accounts import service as accounts
from studio.accounts.access import Actor, workspace_by_slug
from studio.accounts.models import ApiKey
from studio.api.deps import TransactionRoute, api_actor, db_session
from studio.api.schemas import (
    BODY_ERRORS,
    COMMON_ERRORS,
    AddMemberIn,
    ApiKeyOut,
    ChangeRoleIn,
    IdPath,
    MemberOut,
    MeOut,
    SlugPath,
    UserOut,
    WorkspaceOut,
    errors,
)

router = APIRouter(route_class=TransactionRoute, tags=["accounts"], responses=COMMON_ERRORS)
ActorDep = Annotated[Actor, Depends(api_actor)]
# scope="function": commit before the response is sent, so a 2xx means saved.
SessionDep = Annotated[Session, Depends(db_session, scope="function")]


def _member_out(member: accounts.Member) -> MemberOut:
    return MemberOut(
        user_id=member.user_id,
        email=member.email,
        display_name=member.display_name,
        role=member.role.value,
    )


@router.get("/me", response_model=MeOut, summary="Who this API key acts as")
def me(actor: ActorDep, session: SessionDep) -> MeOut:
    mine = accounts.list_my_workspaces(session, actor)
    key = session.get(ApiKey, actor.api_key_id)
    assert key is not None
    scoped = next(m.workspace.slug for m in mine if m.workspace.id == key.workspace_id)
    user = actor.user
    return MeOut(
        user=UserOut(
            id=user.id, email=user.email, display_name=user.display_name, is_admin=user.is_admin
        ),
        workspaces=[
            WorkspaceOut(slug=m.workspace.slug, name=m.workspace.name, role=m.role.value)
            for m in mine
        ],
        api_key=ApiKeyOut(prefix=key.prefix, workspace=scoped),
    )


@router.get("/workspaces/{slug}", response_model=WorkspaceOut)
def get_workspace(slug: SlugPath, actor: ActorDep, session: SessionDep) -> WorkspaceOut:
    workspace, membership = workspace_by_slug(session, actor, slug)
    return WorkspaceOut(slug=workspace.slug, name=workspace.name, role=membership.role.value)


@router.get("/workspaces/{slug}/members", response_model=list[MemberOut])
def list_members(slug: SlugPath, actor: ActorDep, session: SessionDep) -> list[MemberOut]:
    workspace, _ = workspace_by_slug(session, actor, slug)
    return [_member_out(m) for m in accounts.list_members(session, actor, workspace.id)]


@router.post(
    "/workspaces/{slug}/members", response_model=MemberOut, status_code=201, responses=BODY_ERRORS
)
def add_member(
    slug: SlugPath, body: AddMemberIn, actor: ActorDep, session: SessionDep
) -> MemberOut:
    workspace, _ = workspace_by_slug(session, actor, slug)
    member = accounts.add_member(session, actor, workspace.id, email=body.email, role=body.role)
    return _member_out(member)


@router.patch(
    "/workspaces/{slug}/members/{user_id}", response_model=MemberOut, responses=BODY_ERRORS
)
def change_role(
    slug: SlugPath, user_id: IdPath, body: ChangeRoleIn, actor: ActorDep, session: SessionDep
) -> MemberOut:
    workspace, _ = workspace_by_slug(session, actor, slug)
    member = accounts.change_role(session, actor, workspace.id, user_id=user_id, role=body.role)
    return _member_out(member)


@router.delete("/workspaces/{slug}/members/{user_id}", status_code=204, responses=errors(409))
def remove_member(
    slug: SlugPath, user_id: IdPath, actor: ActorDep, session: SessionDep
) -> Response:
    workspace, _ = workspace_by_slug(session, actor, slug)
    accounts.remove_member(session, actor, workspace.id, user_id=user_id)
    return Response(status_code=204)
