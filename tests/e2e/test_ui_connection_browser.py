"""``make test-browser``: the Kore.ai connection form and the Test button, as a UI-only user meets them.

A real ``airflow api-server`` (:mod:`tests.helpers.browser`) and Debian's headless Chromium driven by
Playwright; the emulator stands in for Kore.ai. Every connection is typed into the form, as a user would,
then tested with the Test icon of its row in the connection list; the assertions are on what the user
sees (the toast) and on what the form saved (read back through the REST API).

``make test-browser`` runs it on Airflow 3.3 (``.venv``) and 3.2 (the matrix leg ``airflow-3.2``): the
releases whose form comes from the provider info. Marked ``e2e`` and ``browser``: no other target runs it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_koreai.emulator import EmulatorServer
from tests.helpers.browser import ApiServer, chromium_available, chromium_page
from tests.helpers.compat import AIRFLOW_V_3_2_PLUS, AIRFLOW_VERSION
from tests.helpers.connections import extras_as_the_form_saves
from tests.helpers.emulator import EMULATOR_DEFAULTS, Emulators
from tests.helpers.missing import skip_or_fail

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

WRONG_SECRET = "not-the-secret-of-this-jwt-app-0123456789"
#: Airflow 3.3.1 and 3.3.2 refuse to test a connection saved without a port (apache/airflow#73298).
PORT_NEEDED_FOR_TEST = AIRFLOW_VERSION.release[:2] == (3, 3) and AIRFLOW_VERSION.release[2] in (1, 2)


def _require(ready: bool, missing: str) -> None:
    skip_or_fail([] if ready else [missing], "`make test-browser`")


@pytest.fixture(scope="module")
def emulator(emulators: Emulators) -> EmulatorServer:
    """One emulator for the module: the api-server's Test calls reach it."""
    return emulators.get(**EMULATOR_DEFAULTS)


@pytest.fixture(scope="module")
def ui() -> Iterator[ApiServer]:
    if not AIRFLOW_V_3_2_PLUS:
        pytest.skip("Airflow < 3.2 builds the form from the FAB widgets, which cannot require a field")
    try:
        import playwright  # noqa: F401
    except ImportError:
        _require(False, "the playwright package (extra browser-test)")
    _require(chromium_available(), "Debian's chromium (/usr/bin/chromium)")
    with ApiServer() as server:
        yield server


@pytest.fixture(scope="module")
def page(ui: ApiServer) -> Iterator[Any]:
    with chromium_page(ui.url) as browser_page:
        yield browser_page


def open_the_form(page: Any, conn_id: str, *, host: str, port: int | None, login: str, secret: str) -> Any:
    """The Add Connection dialog with the type Kore.ai and the standard fields filled in."""
    page.goto("/connections")
    page.get_by_role("button", name="Add Connection").click()
    form = page.get_by_role("dialog")
    form.get_by_label("Connection ID").fill(conn_id)
    form.get_by_role("combobox").first.fill("Kore")
    page.get_by_role("option", name="Kore.ai", exact=True).click()
    form.get_by_label("Platform host").fill(host)
    if port is not None:
        form.get_by_label("Port", exact=True).fill(str(port))
    form.get_by_label("Client ID").fill(login)
    form.get_by_label("Client Secret").fill(secret)
    form.get_by_text("Extra Fields", exact=True).click()
    return form


def add_connection(page: Any, conn_id: str, emulator: EmulatorServer, **fields: Any) -> None:
    """Type a connection to the emulator into the form, as a user would, and save it."""
    from playwright.sync_api import expect

    settings = emulator.settings
    form = open_the_form(
        page,
        conn_id,
        host=fields.get("host", "http://127.0.0.1"),
        port=fields.get("port", emulator.port),
        login=settings.client_id,
        secret=fields.get("secret", settings.client_secret),
    )
    form.locator("[name=element_iid]").fill(settings.iid)
    form.locator("[name=element_account_id]").fill(settings.account_id)
    save = form.get_by_role("button", name="Save")
    expect(save).to_be_enabled()
    save.click()
    expect(form).to_be_hidden()


@pytest.fixture(scope="module")
def saved(page: Any, ui: ApiServer, emulator: EmulatorServer) -> dict[str, dict[str, Any]]:
    """Three connections typed into the form, each as the REST API then returns it."""
    add_connection(page, "koreai_good", emulator)
    add_connection(page, "koreai_wrong_secret", emulator, secret=WRONG_SECRET)
    # The emulator's port in the host, the Port field left empty: the form before issue 19.
    add_connection(page, "koreai_no_port", emulator, host=emulator.base_url, port=None)
    return {
        conn_id: ui.rest("GET", f"/connections/{conn_id}")
        for conn_id in ("koreai_good", "koreai_wrong_secret", "koreai_no_port")
    }


def press_test(page: Any, conn_id: str) -> str:
    """Press the Test icon on the connection's row; the text of the toast it brings up."""
    from playwright.sync_api import expect

    page.goto("/connections")
    row = page.get_by_role("row").filter(has_text=conn_id)
    row.get_by_role("button", name="Test Connection").click()
    toast = page.get_by_role("status").filter(has_text="Test Connection")
    expect(toast).to_be_visible()
    text = str(toast.inner_text())
    page.reload()  # the toast would otherwise stay over the next test's page
    return text


def test_the_form_refuses_a_connection_without_application_or_account_id(
    page: Any, emulator: EmulatorServer
) -> None:
    from playwright.sync_api import expect

    settings = emulator.settings
    form = open_the_form(
        page,
        "koreai_incomplete",
        host="http://127.0.0.1",
        port=emulator.port,
        login=settings.client_id,
        secret=settings.client_secret,
    )
    save = form.get_by_role("button", name="Save")
    expect(form.get_by_text("This field is required")).to_have_count(2)
    expect(save).to_be_disabled()
    form.locator("[name=element_iid]").fill(settings.iid)
    expect(save).to_be_disabled()
    form.locator("[name=element_account_id]").fill(settings.account_id)
    expect(save).to_be_enabled()
    form.locator("[name=element_iid]").fill("")
    expect(save).to_be_disabled()


def test_the_form_saves_typed_values_and_no_short_text(
    saved: dict[str, dict[str, Any]], emulator: EmulatorServer
) -> None:
    """Numbers and booleans as JSON, defaults as the form declares them, and no text shorter than the
    masker's 5 characters: Airflow's masker warns about each one in every task log."""
    settings = emulator.settings
    good = saved["koreai_good"]
    assert (good["host"], good["port"]) == ("http://127.0.0.1", emulator.port)
    extras = json.loads(good["extra"])
    assert extras == extras_as_the_form_saves(iid=settings.iid, account_id=settings.account_id)
    assert extras["enforce_jti"] is True
    assert extras["verify"] is None
    short = {key: value for key, value in extras.items() if isinstance(value, str) and len(value) < 5}
    assert not short, f"text the masker warns about: {short}"
    assert saved["koreai_no_port"]["port"] is None


@pytest.mark.usefixtures("saved")
def test_test_on_a_good_connection_shows_our_message(page: Any, emulator: EmulatorServer) -> None:
    emulator.clear_requests()

    toast = press_test(page, "koreai_good")

    assert "Test Connection Successful" in toast
    assert f"Connected to {emulator.base_url} as {emulator.settings.client_id}" in toast
    assert [(r["route"], r["status"]) for r in emulator.recorded_requests()] == [("list_contact_lists", 200)]


@pytest.mark.usefixtures("saved")
def test_test_on_a_wrong_secret_says_what_to_fix(page: Any, emulator: EmulatorServer) -> None:
    emulator.clear_requests()

    toast = press_test(page, "koreai_wrong_secret")

    assert "Test Connection Failed" in toast
    assert "HTTP 401" in toast
    assert "Client Secret" in toast
    assert WRONG_SECRET not in toast
    assert [r["status"] for r in emulator.recorded_requests()] == [401], "one read, no retry"


@pytest.mark.usefixtures("saved")
def test_test_on_a_connection_saved_without_a_port(page: Any, emulator: EmulatorServer) -> None:
    """Why the form shows the Port field: on 3.3.1 and 3.3.2 Airflow refuses the test before our hook
    runs (the UI sends port 0). The docs tell users to set 443; elsewhere the test runs."""
    emulator.clear_requests()

    toast = press_test(page, "koreai_no_port")

    if PORT_NEEDED_FOR_TEST:
        assert "Test Connection Failed" in toast
        assert "Bad Request" in toast
        assert emulator.recorded_requests() == [], "Airflow refused it before the hook ran"
    else:
        assert "Test Connection Successful" in toast
        assert f"Connected to {emulator.base_url}" in toast
