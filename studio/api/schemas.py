"""JSON shapes shared by the API: strict request bodies, bounded ids and numbers,
the error shape, and the accounts API's models."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, Field, model_validator

from studio.db.base import ID_MAX, INT_MAX, INT_MIN

# Ids and integers as the database stores them (see db/base.py): anything
# outside is refused at the edge (404 in a path, 422 in a query or body).
Id = Annotated[int, Field(ge=1, le=ID_MAX)]
Int = Annotated[int, Field(ge=INT_MIN, le=INT_MAX)]
IdPath = Annotated[int, Path(ge=1, le=ID_MAX)]
IdQuery = Annotated[int, Query(ge=1, le=ID_MAX)]
# Slugs of workspaces and jams, and task ids, as they appear in paths.
SlugPath = Annotated[str, Path(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9-]+$")]
TaskIdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]


def _clean_text(value: Any, where: str = "body") -> None:
    """Postgres refuses NUL in text and UTF-8 has no lone surrogates: say so at the edge."""
    if isinstance(value, str):
        if "\x00" in value or any("\ud800" <= ch <= "\udfff" for ch in value):
            raise ValueError(f"'{where}' contains characters that are not text (NUL or invalid)")
    elif isinstance(value, dict):
        for key, item in value.items():
            _clean_text(key, where)
            _clean_text(item, str(key))
    elif isinstance(value, list):
        for item in value:
            _clean_text(item, where)


class Strict(BaseModel):
    """Request bodies: unknown fields, NaN/Infinity and non-text characters are refused."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _text_only(cls, data: Any) -> Any:
        _clean_text(data)
        return data


class ErrorOut(BaseModel):
    """Every error: a stable code for programs and a sentence for people."""

    error: str = Field(examples=["not_found"])
    message: str = Field(examples=["No such project in your workspaces."])


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


_ERRORS = {
    400: "The body is not JSON (or not the expected kind of body)",
    401: "No API key, or an unknown or revoked one",
    403: "Your role (or your API key's scope) does not allow this",
    404: "Not found, or not yours to see (an id out of range is not found either)",
    409: "The request conflicts with the current state; the message says how",
    413: "The body is larger than the limit the message names",
    415: "The body's Content-Type is not one this endpoint takes",
    422: "Invalid input; the message names the field",
    428: "The request needs a precondition header (If-Match)",
    429: "Too many requests; see Retry-After",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error statuses, all in the one error shape."""
    return {status: {"model": ErrorOut, "description": _ERRORS[status]} for status in statuses}


# Every authenticated operation can answer these.
COMMON_ERRORS = errors(401, 403, 404, 422)
BODY_ERRORS = errors(400, 409)


def raw_body(media_types: tuple[str, ...]) -> dict[str, Any]:
    """OpenAPI for an endpoint that reads the file itself as the request body."""
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {
        "requestBody": {
            "required": True,
            "content": {kind: binary for kind in (*media_types, "application/octet-stream")},
        }
    }
