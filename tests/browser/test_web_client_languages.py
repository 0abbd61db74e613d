"""The web client in French and right to left, in Chromium against a real server.

A browser whose language is French gets the whole client in French: a walk through the main
screens collects every text a person reads or hears (the page's text, aria-labels, titles,
placeholders, chart descriptions) and finds no English catalogue text in it, with French dates
and numbers; i18n.js warns in the console for any key missing from the French catalogue, so
`assert_clean()` also proves the catalogue covers every string asked for. The language switch is
remembered in the browser. The right-to-left pseudo-locale (`en-x-rtl`) mirrors the layout.

To cover a new screen, add a `Screen` to `SCREENS`: its route and what shows it is ready.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from playwright.async_api import Browser, Page

from cencomm.domain.users import Role
from tests.browser.webclient import (
    DESKTOP,
    PHONE,
    RecordedPage,
    chromium,
    new_page,
    origin_of,
    sign_in,
)
from tests.factories import Member, add_member, make_group, make_member, post_message, seizure_body
from tests.web.live_helpers import send_alert

I18N = Path(str(resources.files("cencomm.web").joinpath("static"))) / "i18n"
ENGLISH: dict[str, str] = json.loads((I18N / "en.json").read_text(encoding="utf-8"))
FRENCH: dict[str, str] = json.loads((I18N / "fr.json").read_text(encoding="utf-8"))

# Keys whose English text is a proper name, the same in French (none yet).
PROPER_NAMES: set[str] = set()
FRENCH_MONTH = re.compile(
    r"\b\d{1,2} (janv\.|févr\.|mars|avr\.|mai|juin|juil\.|août|sept\.|oct\.|nov\.|déc\.) \d{4}"
)
NARROW_NBSP = "\u202f"  # French thousands separator


@dataclass
class Operation:
    """A group with a text message and a seizure report, and the admin who walks the client."""

    user: Member
    group: dict[str, Any]
    alert_id: str = ""

    @property
    def group_id(self) -> str:
        return str(self.group["id"])


async def _operation(client: TestClient[Any, Any]) -> Operation:
    mod = await make_member(client, Role.MODERATOR, with_key=True)
    group = await make_group(client, mod)
    admin = await make_member(client, Role.ADMIN)
    await add_member(client, mod, group, admin, role="moderator")
    root = await post_message(client, mod, group, body={"text": "Conteneur MSKU 123 dédouané"})
    await post_message(client, mod, group, body={"text": "Vu à Roissy"}, reply_to=root["id"])
    hidden = await post_message(client, mod, group, body={"text": "Publié par erreur"})
    resp = await client.post(
        f"/api/v1/messages/{hidden['id']}/hide", json={"reason": "doublon"}, headers=mod.auth
    )
    assert resp.status == 200
    await post_message(client, mod, group, "seizure", body=seizure_body("FR"), hc="TLP:GREEN")
    officer = await make_member(client, Role.OFFICER)
    await add_member(client, mod, group, officer)
    resp = await client.post(
        "/api/v1/join-requests",
        json={"group_code": group["code"], "reason": "Point de contact national"},
        headers=(await make_member(client, Role.OFFICER)).auth,
    )
    assert resp.status == 202
    # The admin's own flash alert: they see it and its acknowledgement board.
    admin_key = await make_member(client, Role.ADMIN, with_key=True)
    await add_member(client, mod, group, admin_key, role="moderator")
    sent = await send_alert(client, admin_key, {"groups": [group["id"]]}, priority="flash")
    return Operation(admin, group, sent["id"])


async def _timeline_ready(page: Page, op: Operation) -> None:
    await page.locator('li.message[data-typ="seizure"] [data-verified="true"]').wait_for()
    await page.locator(".thread li.message [data-verified='true']").wait_for()
    await page.wait_for_function("!document.querySelector('.badge-pending')")  # all checked


async def _seizure_composer(page: Page, op: Operation) -> None:
    await _timeline_ready(page, op)
    await page.locator('select[name="typ"]').select_option("seizure")
    await page.locator("fieldset.seizure-form").wait_for()


async def _audit_ready(page: Page, op: Operation) -> None:
    await page.locator('[data-verified="true"]').wait_for()
    entry = page.locator("table.audit-entries tbody tr").first
    await entry.locator(".proof-cell button").click()
    await entry.locator('[data-inclusion="included"]').wait_for()


async def _figures_ready(page: Page, op: Operation) -> None:
    await page.locator('[data-figure="interceptions"] dd[data-value="1"]').wait_for()
    await page.locator('svg.chart[data-chart="products"]').wait_for()


def _selector(css: str) -> Callable[[Page, Operation], Awaitable[None]]:
    async def ready(page: Page, op: Operation) -> None:
        await page.locator(css).first.wait_for()

    return ready


@dataclass
class Screen:
    """A screen of the walk: its route (`{group}`: the operation's group id) and what shows it
    is ready, which may also act on it (open a form, check a proof)."""

    name: str
    route: str
    ready: Callable[[Page, Operation], Awaitable[None]]


SCREENS = [
    Screen("groups", "#/groups", _selector(".group-card")),
    Screen("timeline", "#/groups/{group}", _timeline_ready),
    Screen("composer: seizure report", "#/groups/{group}", _seizure_composer),
    Screen("devices", "#/devices", _selector("table.devices tbody tr")),
    Screen("alerts", "#/alerts", _selector("main h1")),
    Screen("alert", "#/alerts/{alert}", _selector("main h1")),
    Screen("alert composer", "#/alerts/new", _selector("main form")),
    Screen("search", "#/search", _selector("main h1")),
    Screen("search results", "#/search?q=conteneur", _selector("main li, main article")),
    Screen("moderation", "#/moderation", _selector("main h1")),
    Screen("group management", "#/groups/{group}/manage", _selector("main h1")),
    Screen("join a group", "#/join", _selector("main form")),
    Screen("directory", "#/directory", _selector("main table tbody tr")),
    Screen("audit", "#/audit", _audit_ready),
    Screen("dashboard", "#/groups/{group}/dashboard", _figures_ready),
    Screen("analytics", "#/analytics?group_id={group}", _figures_ready),
]


async def _open(recorded: RecordedPage, screen: Screen, op: Operation) -> None:
    page = recorded.page
    await page.goto(
        f"{recorded.origin}/{screen.route.format(group=op.group_id, alert=op.alert_id)}"
    )
    await screen.ready(page, op)


# Everything a person reads or hears: the rendered text, the accessible names and hints, and
# texts the rendered text leaves out (options, chart titles and descriptions, hidden captions).
COLLECT = """() => {
  const parts = [document.title, document.body.innerText];
  for (const el of document.querySelectorAll("[aria-label], [title], [placeholder], [alt]")) {
    for (const name of ["aria-label", "title", "placeholder", "alt"]) {
      const value = el.getAttribute(name);
      if (value) parts.push(value);
    }
  }
  const hidden = "option, svg title, svg desc, caption, summary, details, .visually-hidden";
  for (const el of document.querySelectorAll(hidden)) parts.push(el.textContent);
  return parts.join("\\n");
}"""


def _fragments(template: str) -> list[str]:
    """The literal parts of an English text with at least two words (its `{placeholders}`
    vary), trimmed of the punctuation that joins them to the placeholders."""
    pieces = (p.strip(" :;,.()") for p in re.split(r"\{\w+\}", template))
    return [p for p in pieces if len(re.findall(r"\w+", p)) >= 2]


ENGLISH_LEFT = {
    key: _fragments(text)
    for key, text in ENGLISH.items()
    if text != FRENCH.get(key) and key not in PROPER_NAMES and _fragments(text)
}


def _english_in(text: str) -> list[str]:
    return [f"{key}: {f!r}" for key, fs in ENGLISH_LEFT.items() for f in fs if f in text]


async def _sign_in_french(recorded: RecordedPage, member: Member) -> None:
    page = recorded.page
    await page.get_by_role("heading", name="Connexion à cencomm").wait_for()
    await page.get_by_label(FRENCH["signin.username"]).fill(member.user.username)
    await page.get_by_label(FRENCH["signin.password"]).fill(member.password)
    await page.get_by_role("button", name="Se connecter").click()
    await page.get_by_role("heading", name="Vos groupes").wait_for()


async def _french_page(browser: Browser, client: TestClient[Any, Any]) -> RecordedPage:
    context = await browser.new_context(viewport=DESKTOP, locale="fr-FR")  # type: ignore[arg-type]
    recorded = await new_page(context, origin_of(client))
    await recorded.page.goto(str(client.make_url("/")))
    return recorded


def test_the_english_texts_looked_for_are_many_and_their_french_differs() -> None:
    # The walk's check is only as good as this list: most of the catalogue, every screen's texts.
    assert len(ENGLISH_LEFT) > 250
    assert "Sign in to cencomm" in ENGLISH_LEFT["signin.title"]
    assert ENGLISH_LEFT["dash.updated"] == [
        "Figures as of",
        "they update when a seizure report arrives",
    ]


async def test_a_french_browser_gets_every_main_screen_in_french(
    client: TestClient[Any, Any],
) -> None:
    op = await _operation(client)
    async with chromium() as browser:
        recorded = await _french_page(browser, client)
        page = recorded.page
        await page.get_by_role("heading", name=FRENCH["signin.title"]).wait_for()
        assert await page.evaluate("document.documentElement.lang") == "fr"
        signin_text = await page.evaluate(COLLECT)
        assert "Connexion à cencomm" in signin_text
        assert _english_in(signin_text) == []
        await _sign_in_french(recorded, op.user)

        seen: dict[str, str] = {}
        for screen in SCREENS:
            await _open(recorded, screen, op)
            text = await page.evaluate(COLLECT)
            assert _english_in(text) == [], screen.name
            seen[screen.name] = text

        # French dates (a month's French name) and numbers (a narrow no-break space in 12 000).
        assert FRENCH_MONTH.search(seen["timeline"]), seen["timeline"]
        assert "20 mai 2020" in seen["timeline"]  # the seizure's date
        assert "1 réponse\n" in seen["timeline"]  # a plural form: not "1 réponses"
        assert "Masqué par un modérateur : doublon" in seen["timeline"]
        assert "Chine" in seen["dashboard"] and "France" in seen["dashboard"]
        assert f"12{NARROW_NBSP}000" in seen["dashboard"]
        assert FRENCH_MONTH.search(seen["audit"])
        assert "utilisateur " in seen["audit"]  # an entry's target type, named in French
        # The language's own punctuation: a space before a colon.
        assert "Tableau de bord : " in seen["dashboard"]

        # The longer French texts still fit a phone.
        await page.set_viewport_size(PHONE)  # type: ignore[arg-type]
        for screen in SCREENS:
            await _open(recorded, screen, op)
            assert await _overflow(page) == (0, []), screen.name
        recorded.assert_clean()


async def test_the_language_chosen_with_the_switch_is_remembered(
    client: TestClient[Any, Any],
) -> None:
    op = await _operation(client)
    async with chromium() as browser:
        recorded = await _french_page(browser, client)
        page = recorded.page
        await _sign_in_french(recorded, op.user)
        switch = page.get_by_label("Langue")
        assert await switch.input_value() == "fr"
        await switch.select_option("en")  # the page reloads in English, still signed in
        await page.get_by_role("heading", name="Your groups").wait_for()
        assert await page.evaluate("document.documentElement.lang") == "en"
        assert await page.evaluate("localStorage.getItem('cencomm.lang')") == "en"

        # Another page of the same browser (a French one) stays English.
        other = await new_page(page.context, recorded.origin)
        await other.page.goto(recorded.origin + "/")
        await other.page.get_by_role("heading", name="Sign in to cencomm").wait_for()
        assert await other.page.get_by_label("Language").input_value() == "en"

        # And back to French.
        await other.page.get_by_label("Language").select_option("fr")
        await other.page.get_by_role("heading", name="Connexion à cencomm").wait_for()
        assert await other.page.evaluate("localStorage.getItem('cencomm.lang')") == "fr"
        await page.reload()
        await page.get_by_role("heading", name="Vos groupes").wait_for()
        recorded.assert_clean()
        other.assert_clean()


async def _rtl_page(browser: Browser, client: TestClient[Any, Any]) -> RecordedPage:
    context = await browser.new_context(viewport=PHONE)  # type: ignore[arg-type]
    # Before the page's own scripts, and not subject to its Content-Security-Policy.
    await context.add_init_script("localStorage.setItem('cencomm.lang', 'en-x-rtl')")
    recorded = await new_page(context, origin_of(client))
    await recorded.page.goto(str(client.make_url("/")))
    return recorded


async def _overflow(page: Page) -> tuple[int, list[str]]:
    """How far the page scrolls sideways, and the elements that stick out of the viewport
    (those in a box that scrolls sideways itself, like the navigation, aside)."""
    found = await page.evaluate(
        """() => {
          const width = document.documentElement.clientWidth;
          const out = [];
          const scrolls = (el) =>
            ["auto", "scroll", "hidden"].includes(getComputedStyle(el).overflowX);
          for (const el of document.body.querySelectorAll("*")) {
            let inside = el.parentElement;
            while (inside && inside !== document.body && !scrolls(inside)) {
              inside = inside.parentElement;
            }
            if (inside && inside !== document.body) continue; // a scrolling box of its own
            const box = el.getBoundingClientRect();
            if (box.width && (box.left < -1 || box.right > width + 1)) {
              out.push(`${el.tagName.toLowerCase()}.${el.className} ${box.left}..${box.right}`);
            }
          }
          return [document.documentElement.scrollWidth - width, out.slice(0, 10)];
        }"""
    )
    return int(found[0]), list(found[1])


async def test_the_right_to_left_pseudo_locale_mirrors_the_layout_on_a_phone(
    client: TestClient[Any, Any],
) -> None:
    op = await _operation(client)
    async with chromium() as browser:
        recorded = await _rtl_page(browser, client)
        page = recorded.page
        await page.get_by_role("heading", name="Sign in to cencomm").wait_for()
        assert await page.evaluate("document.documentElement.dir") == "rtl"
        assert (await _overflow(page))[0] == 0
        await sign_in(recorded, op.user)
        assert await page.evaluate("document.documentElement.dir") == "rtl"

        # The navigation runs from the right: its first link is to the right of the second.
        links = page.get_by_role("navigation").get_by_role("link")
        first, second = await links.nth(0).bounding_box(), await links.nth(1).bounding_box()
        assert first and second and first["x"] > second["x"]

        for screen in SCREENS:
            await _open(recorded, screen, op)
            overflow, wide = await _overflow(page)
            assert (overflow, wide) == (0, []), screen.name

        # A message's TLP colour bar (its inline start) is on its right.
        await _open(recorded, SCREENS[1], op)
        article = page.locator('li.message[data-typ="seizure"] article')
        borders = await article.evaluate(
            """(el) => {
              const style = getComputedStyle(el);
              const box = el.getBoundingClientRect();
              return [style.borderRightWidth, style.borderLeftWidth, style.borderRightColor,
                      box.left, box.right];
            }"""
        )
        assert borders[:3] == ["6px", "1px", "rgb(31, 157, 58)"]  # TLP:GREEN
        assert borders[3] >= 0 and borders[4] <= PHONE["width"]
        recorded.assert_clean()
