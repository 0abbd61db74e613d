"""Screenshots of the web client's main screens for the README (`scripts/screenshots`).

Starts a real `cencomm serve` on a temporary data directory seeded with the demo Operation STOP
(`cencomm demo-seed`), signs in through the page as demo users (the browser makes and registers
its own device key, as for anyone), and saves viewport PNGs at desktop (1280x800) and phone
(390x844) size, in English and in French, into docs/screenshots/ as `<size>-<screen>.png`
(French: `fr-<size>-<screen>.png`).

Each screen is captured as it shows, even when a step before it did not go as planned (a
screen still in progress, a control that moved): the step is reported and the run goes on, so
the script keeps working while the screens change; it exits 1 when any step failed.

    python -m tests.browser.screenshots [--out DIR] [--only desktop|phone] [--lang en|fr]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import io
import json
import os
import re
import socket
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from PIL import Image
from playwright.async_api import Browser, Page
from playwright.async_api import Error as PlaywrightError

from tests.browser.webclient import DESKTOP, PHONE, chromium

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "operation-stop-2020"
OFFICER = "officer.fr"  # in STOP-2020, recipient of the flagged-container flash alert
ANALYST = "rilo.weu"  # sent that alert: sees its acknowledgement board
MODERATOR = "stop.moderator"  # runs STOP-2020: its dashboard, management and the audit log
LANGUAGES = {"en": "en-GB", "fr": "fr-FR"}  # file name prefix ("" for English) → browser locale
FLAGGED_ALERT = "MSKU7305512"
SEARCH = "masks"
STEP_MS = 15_000
SIZES = {"desktop": DESKTOP, "phone": PHONE}


@dataclass
class Run:
    out: Path
    origin: str
    failures: list[str] = field(default_factory=list)
    saved: list[Path] = field(default_factory=list)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _cencomm() -> list[str]:
    return [sys.executable, "-m", "cencomm"]


@asynccontextmanager
async def demo_server() -> AsyncIterator[str]:
    """A migrated, demo-seeded server on a free port of 127.0.0.1; its origin."""
    with tempfile.TemporaryDirectory(prefix="cencomm-screens-") as data_dir:
        port = _free_port()
        env = {
            **os.environ,
            # The repository's documented settings, whatever this shell's environment says,
            # on a throw-away SQLite file: never the caller's database.
            "CENCOMM_CONFIG": str(ROOT / "config" / "cencomm.toml"),
            "CENCOMM_DATA_DIR": data_dir,
            "CENCOMM_DATABASE_URL": f"sqlite+aiosqlite:///{data_dir}/cencomm.db",
            "CENCOMM_SMTP_HOST": "",
            "CENCOMM_BUS_URL": "",
            "CENCOMM_PORT": str(port),
            "CENCOMM_NOTIFICATIONS_BASE_URL": f"http://127.0.0.1:{port}",
        }
        log = Path(data_dir) / "server.log"
        print("seeding the demo Operation STOP (about 20 s)…", file=sys.stderr)
        for command in ("migrate", "demo-seed"):
            step = await asyncio.create_subprocess_exec(
                *_cencomm(),
                command,
                env=env,
                cwd=ROOT,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )
            said, _ = await step.communicate()
            if step.returncode != 0:
                raise SystemExit(f"cencomm {command} failed:\n{said.decode(errors='replace')}")
        with log.open("wb") as output:
            server = await asyncio.create_subprocess_exec(
                *_cencomm(),
                "serve",
                "--no-migrate",
                "--port",
                str(port),
                env=env,
                cwd=ROOT,
                stdout=output,
                stderr=asyncio.subprocess.STDOUT,
            )
            origin = f"http://127.0.0.1:{port}"
            try:
                await _wait_ready(origin, server, log)
                yield origin
            finally:
                server.terminate()
                try:
                    await asyncio.wait_for(server.wait(), timeout=15)
                except TimeoutError:
                    server.kill()
                    await server.wait()


async def _wait_ready(origin: str, server: asyncio.subprocess.Process, log: Path) -> None:
    deadline = time.monotonic() + 60
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            if server.returncode is not None:
                raise SystemExit(f"the server stopped:\n{_tail(log)}")
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(f"{origin}/ready") as answer:
                    if answer.status == 200:
                        return
            await asyncio.sleep(0.3)
    raise SystemExit(f"the server did not become ready:\n{_tail(log)}")


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


async def _flagged_alert_id(origin: str) -> str | None:
    """The id of the demo's flagged-container alert, read over the API as its sender."""
    async with aiohttp.ClientSession(f"{origin}/") as http:
        credentials = {"username": ANALYST, "password": PASSWORD}
        async with http.post("api/v1/auth/login", json=credentials) as answer:
            answer.raise_for_status()
            token = (await answer.json())["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        async with http.get("api/v1/alerts", headers=headers) as answer:
            answer.raise_for_status()
            alerts = (await answer.json())["alerts"]
    for alert in alerts:
        if FLAGGED_ALERT in json.dumps(alert.get("content") or {}):
            return str(alert["id"])
    return str(alerts[0]["id"]) if alerts else None


async def _attempt(run: Run, what: str, step: Callable[[], Awaitable[None]]) -> None:
    try:
        await step()
    except Exception as error:  # reported; the screen is captured as it shows
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
        run.failures.append(f"{what}: {type(error).__name__}: {first_line}")
        print(f"  ! {what}: {first_line}", file=sys.stderr)


async def _settle(page: Page) -> None:
    """Let the screen finish loading: network quiet, signatures checked, fonts ready."""
    with contextlib.suppress(PlaywrightError):
        await page.wait_for_load_state("networkidle", timeout=STEP_MS)
    with contextlib.suppress(PlaywrightError):
        await page.locator(".badge-pending").first.wait_for(state="detached", timeout=STEP_MS)
    await page.evaluate("() => document.fonts.ready.then(() => true)")
    # Nothing focused or hovered that would not be there for a reader.
    await page.mouse.move(0, 0)
    await page.evaluate("() => document.activeElement && document.activeElement.blur()")
    await page.wait_for_timeout(300)


async def _shoot(run: Run, page: Page, size: str, screen: str, lang: str = "en") -> None:
    await _settle(page)
    raw = await page.screenshot(animations="disabled", caret="hide")
    prefix = "" if lang == "en" else f"{lang}-"
    path = run.out / f"{prefix}{size}-{screen}.png"
    _save_small(raw, path)
    run.saved.append(path)
    print(f"  {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}", file=sys.stderr)


def _save_small(raw: bytes, path: Path) -> None:
    """A 256-colour palette PNG: the screens are flat colours and text, so it stays sharp at a
    fraction of the size."""
    with Image.open(io.BytesIO(raw)) as image:
        small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
        small.save(path, format="PNG", optimize=True)


async def _dismiss_notices(page: Page) -> None:
    for button in await page.locator(".notice button").all():
        if await button.is_visible():
            await button.click()


async def _go(page: Page, origin: str, route: str) -> None:
    await page.goto(f"{origin}/#{route}")
    await page.locator("main#main h1").first.wait_for(timeout=STEP_MS)


async def _sign_in(page: Page, username: str) -> None:
    # By the fields' ids, so it works in every language.
    await page.locator("#username").fill(username)
    await page.locator("#password").fill(PASSWORD)
    await page.locator("main form button[type=submit]").click()
    await page.locator(".group-card").first.wait_for(timeout=60_000)
    await _dismiss_notices(page)


async def _stop_group_id(page: Page) -> str:
    link = page.locator("main#main a[href^='#/groups/']", has_text="STOP-2020").first
    href = await link.get_attribute("href", timeout=STEP_MS)
    if not href:
        raise LookupError("STOP-2020 is not in the groups list")
    return href.removeprefix("#/groups/")


async def _open_seizure_form(page: Page) -> None:
    composer = page.locator("form.composer")
    await composer.wait_for(timeout=STEP_MS)
    kind = composer.get_by_role("combobox", name=re.compile("^Type"))
    if await kind.count():
        await kind.first.select_option("seizure")
    else:  # a composer with one tab, radio button or button per kind of message
        choice = composer.get_by_role("tab", name="Seizure report")
        choice = choice.or_(composer.get_by_role("radio", name="Seizure report"))
        choice = choice.or_(composer.get_by_role("button", name="Seizure report"))
        await choice.first.click()
    form = page.locator(".seizure-form").first
    await form.wait_for(timeout=STEP_MS)
    # The form from its top, with the message type chosen just above it.
    await form.evaluate(
        "(el) => { el.scrollIntoView({ block: 'start' }); window.scrollBy(0, -90); }"
    )


async def _search(page: Page) -> None:
    box = page.locator("main#main").get_by_role("searchbox")
    if not await box.count():
        box = page.locator("main#main input[type=search], main#main input[name=q]")
    if await box.count() and not await box.first.input_value():
        await box.first.fill(SEARCH)
        await box.first.press("Enter")
    # Results are verified in the page like timeline messages: wait for the first badge, and
    # bring the first result into view, just below the line that counts them.
    found = page.locator("main#main [data-verified]").first
    await found.wait_for(timeout=STEP_MS)
    await found.evaluate(
        "(el) => { (el.closest('li, article') || el).scrollIntoView({ block: 'start' });"
        " window.scrollBy(0, -120); }"
    )


async def capture(
    browser: Browser, run: Run, size: str, alert_id: str | None, lang: str = "en"
) -> None:
    viewport = SIZES[size]
    origin = run.origin
    print(f"{size} ({viewport['width']}x{viewport['height']}, {lang}):", file=sys.stderr)
    shoot = functools.partial(_shoot, run, size=size, lang=lang)

    context = await browser.new_context(viewport=viewport, locale=LANGUAGES[lang])  # type: ignore[arg-type]
    page = await context.new_page()
    page.set_default_timeout(STEP_MS)
    await page.goto(f"{origin}/")
    await _attempt(run, f"{size} sign-in", lambda: page.locator("#username").wait_for())
    await shoot(page, screen="signin")
    await _attempt(run, f"{size} sign in as {OFFICER}", lambda: _sign_in(page, OFFICER))
    await shoot(page, screen="groups")

    async def open_timeline() -> None:
        await page.locator("main#main").get_by_role("link", name=re.compile("STOP-2020")).click()
        await page.locator("li.message").first.wait_for(timeout=STEP_MS)

    await _attempt(run, f"{size} timeline", open_timeline)
    await shoot(page, screen="timeline")
    await _attempt(run, f"{size} composer", lambda: _open_seizure_form(page))
    await shoot(page, screen="composer")

    for screen, route in (("devices", "/devices"), ("alerts", "/alerts")):
        await _attempt(run, f"{size} {screen}", functools.partial(_go, page, origin, route))
        await shoot(page, screen=screen)

    async def search() -> None:
        await _go(page, origin, f"/search?q={SEARCH}")
        await _search(page)

    await _attempt(run, f"{size} search", search)
    await shoot(page, screen="search")
    await context.close()

    # The alert as its sender sees it: the acknowledgement board with the outcomes.
    context = await browser.new_context(viewport=viewport, locale=LANGUAGES[lang])  # type: ignore[arg-type]
    page = await context.new_page()
    page.set_default_timeout(STEP_MS)
    await page.goto(f"{origin}/")
    await _attempt(run, f"{size} sign in as {ANALYST}", lambda: _sign_in(page, ANALYST))

    async def open_alert() -> None:
        if alert_id is None:
            raise LookupError("no alert found")
        await _go(page, origin, f"/alerts/{alert_id}")
        await page.locator("main#main").get_by_text(FLAGGED_ALERT).first.wait_for(timeout=STEP_MS)

    await _attempt(run, f"{size} alert", open_alert)
    await shoot(page, screen="alert")
    await context.close()

    # The Secretariat's screens: the operation's dashboard, its management and the audit log.
    context = await browser.new_context(viewport=viewport, locale=LANGUAGES[lang])  # type: ignore[arg-type]
    page = await context.new_page()
    page.set_default_timeout(STEP_MS)
    await page.goto(f"{origin}/")
    await _attempt(run, f"{size} sign in as {MODERATOR}", lambda: _sign_in(page, MODERATOR))
    group_id = ""

    async def find_group() -> None:
        nonlocal group_id
        group_id = await _stop_group_id(page)

    await _attempt(run, f"{size} STOP-2020", find_group)

    async def dashboard() -> None:
        await _go(page, origin, f"/groups/{group_id}/dashboard")
        await page.locator('svg.chart[data-chart="weeks"]').wait_for(timeout=STEP_MS)

    async def manage() -> None:
        await _go(page, origin, f"/groups/{group_id}/manage")
        await page.locator("main#main table, main#main ul").first.wait_for(timeout=STEP_MS)

    async def audit() -> None:
        await _go(page, origin, "/audit")
        await page.locator('main#main [data-verified="true"]').first.wait_for(timeout=STEP_MS)

    for screen, step in (("dashboard", dashboard), ("moderation", manage), ("audit", audit)):
        await _attempt(run, f"{size} {screen}", step)
        await shoot(page, screen=screen)
    await context.close()


async def main(out: Path, sizes: list[str], languages: list[str]) -> int:
    async with demo_server() as origin:
        alert_id = await _flagged_alert_id(origin)
        run = Run(out, origin)
        async with chromium() as browser:
            for lang in languages:
                for size in sizes:
                    await capture(browser, run, size, alert_id, lang)
    print(f"{len(run.saved)} screenshots in {out}", file=sys.stderr)
    if run.failures:
        print("steps that did not go as planned (captured as shown):", file=sys.stderr)
        for failure in run.failures:
            print(f"  {failure}", file=sys.stderr)
        return 1
    return 0


def cli(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--only", choices=sorted(SIZES), help="one size only")
    parser.add_argument("--lang", choices=sorted(LANGUAGES), help="one language only")
    args = parser.parse_args(argv)
    sizes = [args.only] if args.only else list(SIZES)
    languages = [args.lang] if args.lang else list(LANGUAGES)
    args.out.mkdir(parents=True, exist_ok=True)
    return asyncio.run(main(args.out.resolve(), sizes, languages))


if __name__ == "__main__":
    raise SystemExit(cli())
