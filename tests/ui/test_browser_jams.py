"""A film jam in a real browser (Debian's Chromium): a team submits a film
and a judge scores it.

The jam kicked off an hour ago. A team member signs in, opens the jam from
the list, accepts the captain's invitation to the team there, sees the
required elements first and a ticking countdown, uploads
a small real MP4 and submits it: "submitted". Withdraw asks first
(cancelling changes nothing); accepted, the card says "withdrawn" and that
the team may submit again until the deadline, which it does. Judging starts only after the
deadline and grace period, and a live server's database clock cannot be
moved, so the organizer then closes submissions early (update_jam moves the
deadline to now, as an organizer may) and assigns the judge. The judge signs
in, opens the console, scores with the keyboard (arrow keys on one slider,
typing in another), writes a private note and submits with Ctrl+Enter; the
scores are read back through the judging service. Screenshots land in
test-artifacts/.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from studio.db.session import Database
from studio.jams import judging, service, teams
from studio.jams.rules import JamRules
from tests.conftest import LiveServer
from tests.factories import make_user
from tests.jams.helpers import actor, film_bytes, make_jam, register
from tests.ui.conftest import sign_in

pytestmark = pytest.mark.browser
TABLET = {"width": 820, "height": 1180}


def no_error_badges(page: Page) -> None:
    """No Gradio "Error" status over any component (the fields stay readable)."""
    badges = page.locator('[data-testid="status-tracker"]', has_text="Error")
    expect(badges).to_have_count(0)


def test_a_team_submits_a_film_and_a_judge_scores_it(
    page: Page,
    live_server: LiveServer,
    db: Database,
    backend: str,
    artifacts_dir: Path,
    tmp_path: Path,
) -> None:
    now = datetime.now(UTC)
    slug, admin = make_jam(
        db,
        title="Harbour Jam",
        brief="A film about a night at sea, made in 48 hours.",
        registration_opens_at=now - timedelta(hours=2),
        kickoff_at=now - timedelta(hours=1),
        registration_closes_at=now + timedelta(hours=1),
        deadline_at=now + timedelta(hours=2),
        grace_seconds=0,
        judges_per_entry=1,
    )
    captain, member, judge = (
        make_user(db, "captain"),
        make_user(db, "member"),
        make_user(db, "judge"),
    )
    register(db, slug, captain, "Otters", when=now - timedelta(hours=2))
    with db.session_scope() as session:  # pending until the member accepts on the page
        teams.invite_member(session, actor(session, captain), slug, email=member.email)
    with db.session_scope() as session:
        judging.add_judge(session, actor(session, admin), slug, email=judge.email)
    film = tmp_path / "night-swim.mp4"
    film.write_bytes(film_bytes(2.0))

    def snap(number: int, name: str) -> None:
        page.screenshot(path=str(artifacts_dir / f"{backend}-jams-{number:02d}-{name}.png"))

    # The team member: the jam list, then the jam page with its elements first.
    sign_in(page, live_server.url, member.email, member.password)
    page.click("#nav-jams")
    listing = page.locator("#jam-list")
    expect(listing).to_contain_text("Harbour Jam")
    expect(listing).not_to_contain_text("your team is in")
    listing.locator(f'tr[data-jam="{slug}"]').click()
    # The invitation waits on the jam page; accepting joins the team.
    expect(page.locator("#jam-invites")).to_contain_text("You're invited to join Otters")
    expect(page.get_by_role("tab", name="Submit")).to_be_hidden()
    page.click("#jam-accept-invite")
    expect(page.locator("#jam-team")).to_contain_text(member.email)
    expect(page.locator("#jam-invites")).not_to_contain_text("invited")
    expect(listing).to_contain_text("your team is in")
    overview = page.locator("#jam-overview")
    expect(overview.locator(".jam-elements")).to_contain_text("Your film must use")
    expect(overview.locator(".jam-elements")).to_contain_text("genre")
    elements = overview.locator(".jam-elements").bounding_box()
    title = overview.locator(".jam-title").bounding_box()
    assert elements and title and elements["y"] < title["y"], "elements come first"
    countdown = overview.locator(".jam-clock .countdown")
    expect(countdown).to_have_text(re.compile(r"^in 1 h 5\d min \d\d s$"))
    first = countdown.inner_text()
    # The countdown ticks (retried: a busy main thread may delay one 1 s tick).
    expect(countdown).not_to_have_text(first, timeout=3000)
    expect(overview.locator("time.local-time[data-local]").first).to_be_visible()
    snap(1, "jam-page")

    # The submission form: what happens now, a real MP4, Submit.
    page.get_by_role("tab", name="Submit").click()
    expect(page.locator("#jam-submit-line")).to_contain_text("on time")
    expect(page.locator("#entry-submit")).to_be_enabled()
    # Typed as a person does (Gradio renders a tab's content when it is first opened:
    # keys typed into a field that is still being set up can be lost on a busy machine).
    title_box = page.locator("#entry-title textarea, #entry-title input").first
    title_box.click()
    title_box.press_sequentially("Night Swim")
    title_box.press("Tab")
    expect(title_box).to_have_value("Night Swim")
    page.locator("#entry-logline textarea").fill("Two swimmers race the tide.")
    page.locator("#entry-logline textarea").press("Tab")
    # Submitting without a film: the reason under the buttons, the form as typed.
    page.click("#entry-submit")
    expect(page.locator("#entry-error")).to_contain_text("Add a film before submitting")
    expect(page.locator("#entry-title textarea, #entry-title input").first).to_have_value(
        "Night Swim"
    )
    expect(page.locator("#entry-logline textarea")).to_have_value("Two swimmers race the tide.")
    no_error_badges(page)
    snap(2, "error-in-place")
    page.locator("#entry-film input[type=file]").set_input_files(str(film))
    expect(page.locator("#entry-film")).to_contain_text("night-swim.mp4")
    page.click("#entry-submit")
    entry = page.locator("#jam-entry .jam-entry")
    expect(entry).to_have_attribute("data-status", "submitted", timeout=30_000)
    expect(entry).to_contain_text("submitted")
    expect(entry.locator("video")).to_have_count(1)
    expect(page.locator("#entry-error")).to_be_hidden()  # cleared by the success
    snap(3, "submitted")

    # Withdraw asks first: cancelled, nothing changes; accepted, the card says what
    # the team can still do, and Submit brings the entry back before the deadline.
    withdraw = page.locator("#entry-withdraw")
    page.once("dialog", lambda dialog: dialog.dismiss())
    withdraw.click()
    page.wait_for_timeout(800)
    expect(entry).to_have_attribute("data-status", "submitted")
    snap(4, "withdraw-cancelled")
    page.once("dialog", lambda dialog: dialog.accept())
    withdraw.click()
    expect(entry).to_have_attribute("data-status", "withdrawn")
    expect(page.locator("#jam-entry .jam-withdrawn")).to_contain_text("again until the deadline")
    expect(withdraw).to_be_hidden()
    snap(5, "withdrawn")
    page.click("#entry-submit")
    expect(entry).to_have_attribute("data-status", "submitted")
    expect(withdraw).to_be_visible()

    # The organizer closes submissions now and assigns the judge.
    closed = datetime.now(UTC) - timedelta(seconds=1)
    with db.session_scope() as session:
        boss = actor(session, admin)
        service.update_jam(
            session,
            boss,
            slug,
            JamRules(registration_closes_at=closed - timedelta(minutes=5), deadline_at=closed),
        )
    with db.session_scope() as session:
        report = judging.assign_judges(session, actor(session, admin), slug)
        assert report.created == 1

    # The judge: one entry, a player, sliders from the rubric; keyboard scoring.
    page.context.clear_cookies()
    sign_in(page, live_server.url, judge.email, judge.password)
    page.click("#nav-jams")
    page.locator(f'#jam-list tr[data-jam="{slug}"]').click()
    page.get_by_role("tab", name="Judge").click()
    console = page.locator("#judge-entry")
    expect(console).to_contain_text("Night Swim")
    expect(console.locator(".judge-elements")).to_contain_text("for everyone: character:")
    expect(console.locator(".judge-elements")).to_contain_text("team's draw: genre:")
    expect(console.locator("video")).to_have_count(1)
    expect(page.locator("#judge-queue")).to_contain_text("0 of 1 submitted")
    artistic = page.locator("#judge-score-0 input[type=range]")
    expect(artistic).to_have_value("6")
    artistic.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(artistic).to_have_value("8")
    technical = page.locator("#judge-score-1 input[type=number]")
    technical.fill("4")
    technical.press("Tab")
    expect(page.locator("#judge-score-1 input[type=range]")).to_have_value("4")
    page.locator("#judge-notes textarea").fill("The tide sound carries it.")
    snap(6, "judge-console")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#judge-queue")).to_contain_text("1 of 1 submitted")
    expect(console).to_contain_text("submitted")
    snap(7, "scored")

    with db.session_scope() as session:
        me = actor(session, judge)
        (sheet,) = judging.list_my_assignments(session, me, slug)
        assert sheet.submitted_at is not None
        assert sheet.scores == {"artistic": 8.0, "technical": 4.0, "adherence": 6.0}
        assert sheet.notes == "The tide sound carries it."
        assert sheet.entry.title == "Night Swim"


def test_an_organizer_creates_a_jam_and_edits_its_rubric(
    page: Page, live_server: LiveServer, db: Database, backend: str, artifacts_dir: Path
) -> None:
    """An admin creates a jam with the date-time pickers: it opens, with its
    address. Organize offers no draw, assignment or publication before they
    apply, and says why and when. The rubric editor adds a criterion; a bad
    schedule is refused beside Save with every field as it was."""
    admin = make_user(db, "admin", is_admin=True)
    slug = f"winter-{admin.id}"

    def snap(number: int, name: str) -> None:
        page.screenshot(path=str(artifacts_dir / f"{backend}-organizer-{number:02d}-{name}.png"))

    sign_in(page, live_server.url, admin.email, admin.password)
    page.click("#nav-jams")
    page.get_by_role("tab", name="New jam").click()
    page.locator("#create-title input, #create-title textarea").first.fill("Winter Jam")
    page.locator("#create-slug input, #create-slug textarea").first.fill(slug)
    zone = page.locator("#create-zone input")
    zone.click()
    zone.press("Control+a")
    zone.press_sequentially("Europe/Par", delay=20)
    page.get_by_role("option", name="Europe/Paris").click()
    # The pickers: a calendar for each time; typed values are wall-clock in the zone.
    page.locator("#create-opens button.calendar").click()
    expect(page.get_by_text("Hour", exact=True).first).to_be_visible()
    page.locator("#create-title input, #create-title textarea").first.click()  # closes it
    next_year = datetime.now(UTC).year + 1
    page.locator("#create-opens input.time").fill(f"{next_year}-06-01 09:00:00")
    page.locator("#create-kickoff input.time").fill(f"{next_year}-06-12 19:00:00")
    snap(1, "new-jam")
    page.click("#org-create-jam")
    # It opens: the Jam tab, the picker, the address.
    overview = page.locator("#jam-overview")
    expect(overview.locator(".jam-title")).to_contain_text("Winter Jam")
    expect(page.get_by_role("tab", name="Jam", exact=True)).to_have_attribute(
        "aria-selected", "true"
    )
    expect(page).to_have_url(re.compile(rf"/jams\?jam={slug}$"))
    # Times: the viewer's zone, with the jam's beside it where it differs.
    kickoff = overview.locator(".jam-schedule time.local-time").nth(2)
    expect(kickoff).to_have_attribute("data-zone", "Europe/Paris")
    expect(kickoff).to_have_attribute("title", re.compile(r"19:00 CEST \(Europe/Paris\)"))
    expect(overview.locator(".jam-zone").first).to_contain_text("in Paris")
    snap(2, "created")
    with db.session_scope() as session:
        made = service.get_jam_setup(session, actor(session, admin), slug)
        paris = ZoneInfo("Europe/Paris")
        assert made.kickoff_at == datetime(next_year, 6, 12, 19, tzinfo=paris)
        assert made.registration_opens_at == datetime(next_year, 6, 1, 9, tzinfo=paris)

    page.get_by_role("tab", name="Organize").click()
    expect(page).to_have_url(re.compile(rf"jam={slug}&tab=organize$"))
    actions = page.locator("#org-actions")
    expect(actions).to_contain_text("The draw runs by itself at kickoff")
    expect(actions).to_contain_text("Judges are assigned once late entries close")
    expect(actions).to_contain_text("Results can be published once judging closes")
    for button in ("#org-draw", "#org-assign", "#org-publish"):
        expect(page.locator(button)).to_be_hidden()
    snap(3, "organize")

    # The rubric editor: a fourth criterion, added from the table's menu.
    page.locator("#org-settings").get_by_text("Jam settings").click()
    rubric = page.locator("#settings-rubric")
    rubric.get_by_test_id("cell-2-0").click(button="right")
    page.get_by_text("Add row below").click()
    for column, text in enumerate(["Sound", "10", "0", "5"]):
        rubric.get_by_test_id(f"cell-3-{column}").dblclick()
        page.keyboard.press("Control+a")
        page.keyboard.type(text)
        page.keyboard.press("Enter")
    expect(rubric.get_by_test_id("cell-3-0")).to_contain_text("Sound")
    snap(4, "rubric")
    page.click("#org-save-settings")
    expect(overview).to_contain_text("Sound 10", timeout=30_000)
    with db.session_scope() as session:
        rubric_rows = service.get_jam_setup(session, actor(session, admin), slug).rubric
        assert rubric_rows[-1] == {
            "key": "sound",
            "name": "Sound",
            "weight": 10,
            "min": 0,
            "max": 5,
        }

    # A deadline before kickoff: refused beside Save; every field as typed.
    deadline = page.locator("#settings-deadline input.time")
    deadline.fill(f"{next_year}-06-10 19:00:00")
    title = page.locator("#settings-title input, #settings-title textarea").first
    title.fill("Winter Jam, edited")
    page.click("#org-save-settings")
    expect(page.locator("#org-save-error")).to_contain_text("Schedule:")
    expect(deadline).to_have_value(f"{next_year}-06-10 19:00:00")
    expect(title).to_have_value("Winter Jam, edited")
    expect(rubric).to_contain_text("Sound")
    no_error_badges(page)
    snap(5, "error-in-place")
    page.set_viewport_size(TABLET)
    page.get_by_role("tab", name="Jam", exact=True).click()
    snap(6, "tablet")
