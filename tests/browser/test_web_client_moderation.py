"""The Secretariat's moderation and the directory in Chromium: a join request approved by a group
moderator reaches the new member live, a hidden message shows its reason live on an officer's
page (and comes back when unhidden), the lifecycle buttons with their confirmation, and the
directory's forms with their field errors before anything is sent."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from cencomm.domain.users import Role
from tests.browser.accessibility import serious_violations
from tests.browser.webclient import PHONE, chromium, open_client, sign_in
from tests.factories import add_member, make_group, make_member, post_message


async def test_a_group_moderator_approves_a_join_request_and_the_new_member_sees_the_group(
    client: TestClient[Any, Any],
) -> None:
    staff = await make_member(client, Role.MODERATOR)
    group = await make_group(client, staff)
    # A group moderator who is not Secretariat staff: no directory, adds by id or approves.
    moderator = await make_member(client, Role.OFFICER)
    await add_member(client, staff, group, moderator, role="moderator")
    requester = await make_member(client, Role.OFFICER)
    async with chromium() as browser:
        asking = await open_client(browser, client, viewport=PHONE)
        deciding = await open_client(browser, client)
        await sign_in(asking, requester)
        await sign_in(deciding, moderator)

        page = asking.page
        await page.get_by_role("link", name="Join a group").click()
        await page.get_by_role("heading", name="Join a group").wait_for()
        await page.get_by_role("button", name="Send the request").click()
        # Nothing is sent without a code and a reason.
        assert await page.locator("#join-code-error").inner_text() == "required"
        assert await page.locator("#join-reason-error").inner_text() == "required"
        await page.get_by_label("Group code").fill(group["code"].lower())
        await page.get_by_label("Reason", exact=True).fill("Port of Le Havre liaison officer")
        await page.get_by_role("button", name="Send the request").click()
        sent = page.locator(".sent-note")
        await sent.wait_for()
        assert "same answer whether or not" in await sent.inner_text()
        assert await serious_violations(page) == []  # joining, on a phone
        await page.get_by_role("link", name="Groups").click()
        await page.get_by_text("You are not a member of any group yet").wait_for()

        mod_page = deciding.page
        await mod_page.get_by_role("link", name="Moderation").click()
        await mod_page.locator(f'li.group-card[data-group="{group["code"]}"] a').first.click()
        request = mod_page.locator(f'li.request[data-user="{requester.id}"]')
        await request.wait_for()
        # The group moderator cannot read the directory; the queue names the requester.
        shown = await request.inner_text()
        assert "Port of Le Havre liaison officer" in shown
        assert requester.user.username in shown and requester.organization.name in shown
        assert await serious_violations(mod_page) == []  # the group's management, its queue
        await request.get_by_role("button", name="Approve").click()
        confirm = request.get_by_role("button", name="Yes, admit")
        await confirm.wait_for()
        await confirm.click()
        await mod_page.get_by_text("No pending requests.").wait_for()
        await mod_page.locator(f'tr[data-member="u:{requester.id}"]').wait_for()

        # The new member's open groups page gets the group live (the `membership` frame).
        await page.locator(f'li.group-card[data-group="{group["code"]}"]').wait_for()
        resp = await client.get(f"/api/v1/groups/{group['id']}", headers=requester.auth)
        assert (await resp.json())["my_role"] == "member"
        asking.assert_clean()
        deciding.assert_clean()


async def test_a_moderator_hides_a_message_and_an_officers_open_page_shows_the_reason_live(
    client: TestClient[Any, Any],
) -> None:
    moderator = await make_member(client, Role.MODERATOR, with_key=True)
    group = await make_group(client, moderator)
    officer = await make_member(client, Role.OFFICER)
    await add_member(client, moderator, group, officer)
    posted = await post_message(client, moderator, group, body={"text": "Lot 42 goes to Antwerp"})
    async with chromium() as browser:
        reading = await open_client(browser, client, viewport=PHONE)
        hiding = await open_client(browser, client)
        await sign_in(reading, officer)
        await sign_in(hiding, moderator)
        for recorded in (reading, hiding):
            await recorded.page.goto(f"{recorded.origin}/#/groups/{group['id']}")
        shown = reading.page.locator(f'li.message[data-id="{posted["id"]}"]')
        await shown.get_by_text("Lot 42 goes to Antwerp").wait_for()
        # Officers see no moderation actions.
        assert await shown.get_by_role("button", name="Hide").count() == 0

        message = hiding.page.locator(f'li.message[data-id="{posted["id"]}"]')
        await message.get_by_role("button", name="Hide").click()
        confirm = message.get_by_role("button", name="Hide the message")
        assert await confirm.is_disabled()  # a reason is required
        reason = message.get_by_label("Reason (shown to the group's members)")
        assert await reason.evaluate("el => el === document.activeElement")
        await reason.fill("Names a person outside the operation")
        await confirm.click()
        await message.locator('[data-hidden="true"]').wait_for()
        # The moderator still reads it, with the reason and the way back.
        assert "Lot 42 goes to Antwerp" in await message.inner_text()
        await message.get_by_role("button", name="Unhide").wait_for()

        note = shown.locator('[data-hidden="true"]')
        await note.wait_for()
        assert "Names a person outside the operation" in await note.inner_text()
        assert await shown.get_by_text("Lot 42 goes to Antwerp").count() == 0
        resp = await client.get(f"/api/v1/messages/{posted['id']}", headers=officer.auth)
        body = await resp.json()
        assert body["jws"] is None and body["hidden"] is True

        await message.get_by_role("button", name="Unhide").click()
        await message.get_by_role("button", name="Yes, unhide").click()
        await shown.get_by_text("Lot 42 goes to Antwerp").wait_for()
        await shown.locator('[data-verified="true"]').wait_for()
        assert await shown.locator('[data-hidden="true"]').count() == 0
        reading.assert_clean()
        hiding.assert_clean()


async def test_a_group_is_created_and_moved_through_its_lifecycle_with_confirmations(
    client: TestClient[Any, Any],
) -> None:
    moderator = await make_member(client, Role.MODERATOR)
    async with chromium() as browser:
        recorded = await open_client(browser, client)
        await sign_in(recorded, moderator)
        page = recorded.page
        await page.get_by_role("link", name="Moderation").click()
        form = page.locator("form", has=page.get_by_role("heading", name="Create a group"))
        await form.get_by_label("Code").fill("bad code!")
        await form.get_by_label("Name", exact=True).fill("Operation\u200bStorm")
        await form.get_by_role("button", name="Create the group").click()
        assert "3 to 32 characters" in await page.locator("#group-code-error").inner_text()
        assert "invisible" in await page.locator("#group-name-error").inner_text()
        await form.get_by_label("Code").fill("storm-2026")
        await form.get_by_label("Name", exact=True).fill("Operation Storm")
        await form.get_by_label("Members see the whole member list").uncheck()
        await form.get_by_role("button", name="Create the group").click()

        status = page.locator(".manage-screen .screen-head [data-status]")
        await status.wait_for()
        assert await status.get_attribute("data-status") == "planned"
        resp = await client.get("/api/v1/groups", headers=moderator.auth)
        [group] = (await resp.json())["groups"]
        assert group["code"] == "STORM-2026" and group["roster_visible"] is False

        # A confirmation can be cancelled: nothing changes and focus returns to the button.
        await page.get_by_role("button", name="Open the group").click()
        await page.get_by_role("button", name="Cancel").click()
        assert await page.get_by_role("button", name="Open the group").evaluate(
            "el => el === document.activeElement"
        )
        assert await status.get_attribute("data-status") == "planned"

        steps = [
            ("Open the group", "Yes, open it", "active"),
            ("Close the group", "Yes, close it", "closed"),
            ("Reopen the group", "Yes, reopen it", "active"),
            ("Close the group", "Yes, close it", "closed"),
            ("Archive the group", "Yes, archive it", "archived"),
        ]
        for button, confirm, expected in steps:
            await page.get_by_role("button", name=button).click()
            await page.get_by_role("button", name=confirm).click()
            await page.locator(f'.manage-screen .screen-head [data-status="{expected}"]').wait_for()
            resp = await client.get(f"/api/v1/groups/{group['id']}", headers=moderator.auth)
            assert (await resp.json())["status"] == expected
        # Archived is final: no lifecycle button is left.
        assert await page.locator(".lifecycle-actions button").count() == 0
        assert await serious_violations(page) == []
        recorded.assert_clean()


async def test_an_admin_creates_an_organisation_and_a_user_after_field_errors(
    client: TestClient[Any, Any],
) -> None:
    admin = await make_member(client, Role.ADMIN)
    async with chromium() as browser:
        recorded = await open_client(browser, client)
        await sign_in(recorded, admin)
        page = recorded.page
        await page.get_by_role("link", name="Directory").click()
        await page.get_by_role("heading", name="Directory").wait_for()

        orgs = page.locator("form", has_text="Create the organisation")
        await orgs.get_by_label("Name").fill("Douane\u202e de Lomé")
        await orgs.get_by_role("button", name="Create the organisation").click()
        assert "invisible" in await page.locator("#org-name-error").inner_text()
        country_error = await page.locator("#org-country-error").inner_text()
        assert "required for administrations" in country_error
        assert await page.locator("#org-name").evaluate("el => el === document.activeElement")
        await orgs.get_by_label("Name").fill("Douane de Lomé")
        await orgs.get_by_label("Country").fill("tg")
        assert await orgs.locator(".country-preview").inner_text() == "Togo"
        await orgs.get_by_label("WCO region").select_option("WEST_CENTRAL_AFRICA")
        await orgs.get_by_role("button", name="Create the organisation").click()
        row = page.locator("table.organizations tr", has_text="Douane de Lomé")
        await row.wait_for()
        assert "West and Central Africa" in await row.inner_text()
        resp = await client.get("/api/v1/organizations?limit=500", headers=admin.auth)
        [lome] = [o for o in (await resp.json())["organizations"] if o["name"] == "Douane de Lomé"]
        assert lome["country"] == "TG" and lome["kind"] == "administration"

        users = page.locator("form", has_text="Create the user")
        await users.get_by_label("Username").fill("a b")
        await users.get_by_label("Initial password").fill("short")
        await users.get_by_role("button", name="Create the user").click()
        assert "3 to 64 characters" in await page.locator("#user-username-error").inner_text()
        assert await page.locator("#user-display_name-error").inner_text() == "required"
        assert await page.locator("#user-organization_id-error").inner_text() == "required"
        assert "at least 12" in await page.locator("#user-password-error").inner_text()
        await users.get_by_label("Username").fill("k.mensah")
        await users.get_by_label("Display name").fill("Kofi Mensah")
        await users.get_by_label("Organisation").select_option(lome["id"])
        await users.get_by_label("Role").select_option("officer")
        await users.get_by_label("Initial password").fill("a long enough passphrase")
        await users.get_by_role("button", name="Create the user").click()
        user_row = page.locator('table.users tr[data-user="k.mensah"]')
        await user_row.wait_for()
        assert "Douane de Lomé" in await user_row.inner_text()

        # Disabling asks first, then ends the user's sessions.
        await user_row.get_by_role("button", name="Disable").click()
        await user_row.get_by_role("button", name="Yes, disable").click()
        await user_row.locator(".state-disabled").wait_for()
        resp = await client.get("/api/v1/users?limit=500", headers=admin.auth)
        [kofi] = [u for u in (await resp.json())["users"] if u["username"] == "k.mensah"]
        assert kofi["disabled"] is True and kofi["organization_id"] == lome["id"]
        assert await serious_violations(page) == []  # the directory
        recorded.assert_clean()


async def test_members_are_added_changed_and_removed_by_staff_and_by_a_group_moderator(
    client: TestClient[Any, Any],
) -> None:
    staff = await make_member(client, Role.MODERATOR)
    group = await make_group(client, staff)
    officer = await make_member(client, Role.OFFICER)
    partner = await make_member(client, Role.OBSERVER)
    deputy = await make_member(client, Role.OFFICER)
    await add_member(client, staff, group, deputy, role="moderator")
    newcomer = await make_member(client, Role.OFFICER)
    async with chromium() as browser:
        recorded = await open_client(browser, client, viewport=PHONE)
        await sign_in(recorded, staff)
        page = recorded.page
        await page.goto(f"{recorded.origin}/#/groups/{group['id']}/manage")
        add = page.locator("form.add-member")
        # Staff pick from the directory; a partner observer can only be an observer.
        await add.get_by_label("Filter by name").fill(partner.user.username)
        await add.get_by_label("Choose a person").select_option(partner.id)
        assert await add.get_by_label("Group role").input_value() == "observer"
        await add.get_by_role("button", name="Add to the group").click()
        await page.locator(f'tr[data-member="u:{partner.id}"]').wait_for()
        # A whole organisation.
        await add.get_by_role("radio", name="Organisation").check()
        await add.get_by_label("Choose an organisation").select_option(str(officer.organization.id))
        await add.get_by_role("button", name="Add to the group").click()
        org_row = page.locator(f'tr[data-member="o:{officer.organization.id}"]')
        await org_row.wait_for()
        # Its role changes, then it is removed after a confirmation.
        await org_row.get_by_label(f"Group role of {officer.organization.name}").select_option(
            "observer"
        )
        await org_row.get_by_role("button", name="Save role").click()
        await org_row.get_by_role("button", name="Save role").wait_for(state="detached")
        resp = await client.get(f"/api/v1/groups/{group['id']}", headers=officer.auth)
        assert (await resp.json())["my_role"] == "observer"
        await org_row.get_by_role("button", name="Remove").click()
        await org_row.get_by_role("button", name="Yes, remove").click()
        await org_row.wait_for(state="detached")
        assert await page.locator("#members-title").evaluate("el => el === document.activeElement")
        resp = await client.get(f"/api/v1/groups/{group['id']}", headers=officer.auth)
        assert resp.status == 404
        recorded.assert_clean()

        # A group moderator who is not staff adds by user id, checked before it is sent.
        second = await open_client(browser, client)
        await sign_in(second, deputy)
        page = second.page
        await page.goto(f"{second.origin}/#/groups/{group['id']}/manage")
        add = page.locator("form.add-member")
        await add.get_by_label("User id").fill("not an id")
        await add.get_by_role("button", name="Add to the group").click()
        assert "hexadecimal" in await page.locator("#add-target-error").inner_text()
        await add.get_by_label("User id").fill(newcomer.id)
        await add.get_by_role("button", name="Add to the group").click()
        await page.locator(f'tr[data-member="u:{newcomer.id}"]').wait_for()
        resp = await client.get(f"/api/v1/groups/{group['id']}", headers=newcomer.auth)
        assert (await resp.json())["my_role"] == "member"
        second.assert_clean()
