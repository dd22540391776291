"""JSON shapes of the accounts API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UserOut(BaseModel):
    id: int
    email: str
    display_name: str
    is_admin: bool


class WorkspaceOut(BaseModel):
    slug: str
    name: str
    role: str


class ApiKeyOut(BaseModel):
    prefix: str
    workspace: str


class MeOut(BaseModel):
    user: UserOut
    workspaces: list[WorkspaceOut]
    api_key: ApiKeyOut


class MemberOut(BaseModel):
    user_id: int
    email: str
    display_name: str
    role: str


class AddMemberIn(Strict):
    email: str = Field(max_length=400)
    role: str = Field(default="editor", max_length=20)


class ChangeRoleIn(Strict):
    role: str = Field(max_length=20)
