"""Jam films get a poster (issue 12): an entry saved without a team poster shows a
frame of its film (the uploaded film's poster, or the take's it came from) on its
card, in the results and on the ballot; a poster the team uploaded always wins.
An upload whose transaction rolls back leaves neither the film nor its poster."""

from __future__ import annotations

import contextlib
import io
from datetime import timedelta
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select

from studio.config import Settings
from studio.db.session import Database
from studio.jams import entries, results, votes
from studio.jams.models import Entry, Jam
from studio.media.models import Asset
from studio.media.storage import LocalStorage, Storage
from studio.media.stores import open_storage
from studio.projects.models import Take
from tests import upload_client as uc
from tests.factories import UserInfo, bearer
from tests.jams.helpers import (
    DEADLINE,
    GRACE,
    KICKOFF,
    actor,
    at,
    film_bytes,
    make_jam,
    put,
    running_jam_team,
    team_with_film,
    upload,
    upload_film_bytes,
)
from tests.projects.test_upload_posters import clip
from tests.s3 import make_bucket


@pytest.fixture
def storage(settings: Settings) -> Storage:
    return LocalStorage(settings.media_path)


def film_poster(db: Database, settings: Settings, film_asset_id: int) -> int:
    """The poster made when the film was kept: a decodable JPEG of the film's size."""
    with db.session_scope() as session:
        film = session.get(Asset, film_asset_id)
        assert film is not None and film.poster_asset_id is not None
        poster = session.get(Asset, film.poster_asset_id)
        assert poster is not None and poster.kind == "poster" and poster.mime == "image/jpeg"
        key, size, poster_id = poster.storage_key, (film.width, film.height), poster.id
    with Image.open(Path(settings.media_path) / key) as image:
        image.load()
        assert image.format == "JPEG" and image.size == size
    return poster_id


def shown_everywhere(db: Database, slug: str, voter_id: int) -> tuple[int | None, int | None]:
    """The poster the results and the ballot show for the jam's only entry."""
    with db.session_scope() as session:
        jam = session.scalars(select(Jam).where(Jam.slug == slug)).one()
        found = results.compute_results(session, jam)
        (result,) = found.ranking + found.others
        voter = actor(session, UserInfo(voter_id, "", ""))
        ballot = votes.get_ballot(
            session, voter, slug, clock=at(DEADLINE + timedelta(seconds=GRACE + 1))
        )
        (listed,) = ballot.entries
        return result.poster_asset_id, listed.poster_asset_id


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.full((height, width, 3), 200, dtype=np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


def test_a_film_without_a_team_poster_shows_a_frame_of_it_and_the_teams_poster_wins(
    db: Database, storage: Storage, settings: Settings
) -> None:
    slug, _ = make_jam(db)
    captain, film = team_with_film(db, slug, storage)
    frame = film_poster(db, settings, film)
    saved = put(db, slug, captain, storage, KICKOFF + timedelta(hours=1), film_asset_id=film)
    assert saved.poster_asset_id is None  # the team uploaded none
    assert saved.film_poster_asset_id == frame and saved.shown_poster_asset_id == frame
    assert shown_everywhere(db, slug, captain.id) == (frame, frame)

    with db.session_scope() as session:
        team_poster = entries.upload_poster(
            session,
            actor(session, captain),
            slug,
            png(90, 120),
            storage=storage,
            max_bytes=settings.max_upload_bytes,
            max_pixels=settings.max_image_pixels,
        )
    saved = put(
        db, slug, captain, storage, KICKOFF + timedelta(hours=2), poster_asset_id=team_poster
    )
    assert saved.shown_poster_asset_id == team_poster
    assert shown_everywhere(db, slug, captain.id) == (team_poster, team_poster)

    # A new film: its own frame is kept with it, the team's poster still shows.
    second = upload(db, slug, captain, storage, film_bytes(seconds=3.0))
    saved = put(db, slug, captain, storage, KICKOFF + timedelta(hours=3), film_asset_id=second)
    assert saved.film_poster_asset_id == film_poster(db, settings, second) != frame
    assert saved.poster_asset_id == team_poster and saved.shown_poster_asset_id == team_poster
    assert shown_everywhere(db, slug, captain.id) == (team_poster, team_poster)


def test_a_film_upload_that_rolls_back_leaves_no_film_and_no_poster(
    db: Database, storage: Storage
) -> None:
    slug, _ = make_jam(db)
    captain, _film = team_with_film(db, slug, storage)
    keys: list[str] = []
    with pytest.raises(RuntimeError), db.session_scope() as session:
        check = upload_film_bytes(
            session, actor(session, captain), slug, film_bytes(), storage=storage
        )
        film = session.get(Asset, check.asset_id)
        assert film is not None and film.poster_asset_id is not None
        poster = session.get(Asset, film.poster_asset_id)
        assert poster is not None
        keys = [film.storage_key, poster.storage_key]
        assert all(storage.exists(key) for key in keys)
        raise RuntimeError("the save fails after the upload")
    assert len(keys) == 2 and not any(storage.exists(key) for key in keys)


def test_a_film_from_an_uploaded_take_and_a_direct_upload_show_their_posters(
    db: Database, http: httpx.Client, settings: Settings, tmp_path: Path
) -> None:
    slug, _team, key = running_jam_team(db)
    auth = bearer(key)
    project = http.post("/v1/projects", json={"title": "Entry"}, headers=auth).json()
    shot = http.post(
        f"/v1/projects/{project['id']}/shots", json={"description": "Wide"}, headers=auth
    ).json()
    made = http.post(
        f"/v1/shots/{shot['id']}/takes/upload",
        content=clip(tmp_path, "take", 96, 64, frames=24),  # 2 s: within the jam's limits
        headers={**auth, "Content-Type": "video/mp4"},
    )
    assert made.status_code == 201, made.text
    with db.session_scope() as session:
        take = session.get(Take, made.json()["take"])
        assert take is not None and take.upload_asset_id is not None
        upload_id = take.upload_asset_id
    take_poster = film_poster(db, settings, upload_id)
    entry = http.put(
        f"/v1/jams/{slug}/entry",
        json={"title": "From a take", "film": {"take_id": take.id}},
        headers=auth,
    )
    assert entry.status_code == 200, entry.text
    assert entry.json()["poster_asset_id"] is None  # the team's: none
    assert f"/media/{take_poster}?" in entry.json()["poster_url"]
    with db.session_scope() as session:
        row = session.get(Entry, entry.json()["id"])
        assert row is not None and row.film_poster_asset_id == take_poster

    state = uc.upload(
        http,
        auth,
        film_bytes(),
        purpose="jam_film",
        jam=slug,
        content_type="video/mp4",
        entry={"title": "Uploaded", "submit": True},
    )
    assert state["status"] == "ready" and state["entry"]["saved"] is True, state
    uploaded_poster = film_poster(db, settings, state["asset_id"])
    mine = http.get(f"/v1/jams/{slug}/entry", headers=auth).json()
    assert mine["film_asset_id"] == state["asset_id"]
    assert f"/media/{uploaded_poster}?" in mine["poster_url"]


def test_on_s3_the_poster_is_stored_beside_the_film_and_rolled_back_with_it(
    db: Database, s3_endpoint: str, tmp_path: Path
) -> None:
    store = open_storage(
        f"s3://{make_bucket(s3_endpoint)}/studio",
        media_dir=tmp_path / "unused",
        endpoint_url=s3_endpoint,
    )
    slug, _ = make_jam(db)
    captain, _film = team_with_film(db, slug, store)

    def upload_keys(fail: bool) -> list[str]:
        keys: list[str] = []
        with contextlib.ExitStack() as stack:
            if fail:
                stack.enter_context(pytest.raises(RuntimeError))
            session = stack.enter_context(db.session_scope())
            check = upload_film_bytes(
                session, actor(session, captain), slug, film_bytes(), storage=store
            )
            film = session.get(Asset, check.asset_id)
            assert film is not None and film.poster_asset_id is not None
            poster = session.get(Asset, film.poster_asset_id)
            assert poster is not None
            keys = [film.storage_key, poster.storage_key]
            if fail:
                raise RuntimeError("the save fails after the upload")
        return keys

    film_key, poster_key = upload_keys(fail=False)
    with store.local_copy(poster_key) as path, Image.open(path) as image:
        image.load()
        assert image.format == "JPEG" and image.size == (64, 48)
    assert store.exists(film_key)
    assert not any(store.exists(key) for key in upload_keys(fail=True))
