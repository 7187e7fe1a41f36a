"""The console in a real browser (Debian's headless Chromium, driven by Selenium) against the
local stack: sign in, find a SKU and read why it shows what it shows, bulk-toggle auto sync and
see the pushes in the history, fix an unmapped line from the problems inbox, run a live event,
go live from shadow, and look as a viewer. Each screen is saved to tests/e2e/screenshots/
(ignored by git) for a reviewer to look at.

Chromium comes from `make chromium` (part of `make test`); without it these tests are skipped
with that reason, unless OMNISTOCK_REQUIRE_BROWSER=1 (CI) makes its absence a failure.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cli.channels import latest_preview
from local.send_webhook import LOCAL_WEBHOOK_SECRET, deliver
from tests.e2e.conftest import SHOPIFY_LOCATION, RunningStack

pytestmark = pytest.mark.e2e
SCREENSHOTS = Path(__file__).parent / "screenshots"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
AXE_JS = Path(os.environ.get("OMNISTOCK_AXE_JS", "/nonexistent/axe.min.js"))  # `make test` installs it
HOSTILE = '<script>alert("x")</script> "quoted" \u202eRTL\u202c שלום'
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,860",
)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        if os.environ.get("OMNISTOCK_REQUIRE_BROWSER") == "1":
            pytest.fail("Chromium is missing: run `make chromium`")
        pytest.skip("Chromium is missing: run `make chromium`")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(0)
    SCREENSHOTS.mkdir(exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()


class Console:
    """The browser on the console, with the waits a person does by looking."""

    def __init__(self, driver: Any, stack: RunningStack) -> None:
        self.driver, self.stack = driver, stack
        self.violations: dict[str, list[str]] = {}

    def open(self, route: str) -> None:
        """Go to a screen as a click on a link does (the old screen is cleared first, so the
        wait is for the new one)."""
        self.driver.execute_script(
            "document.getElementById('main').replaceChildren(); location.hash = arguments[0];", f"#/{route}"
        )
        self.settled()

    def sign_in(self, token: str) -> None:
        self.driver.get(f"{self.stack.url}/console")
        self.driver.execute_script("sessionStorage.clear()")
        self.driver.refresh()
        self.until(lambda: self.find("#password"))
        self.shot("sign-in")
        self.find("#password").send_keys(token)
        self.find("form button[type=submit]").click()
        self.settled()

    def find(self, css: str) -> Any:
        from selenium.webdriver.common.by import By

        found = self.driver.find_elements(By.CSS_SELECTOR, css)
        return found[0] if found else None

    def all(self, css: str) -> list[Any]:
        from selenium.webdriver.common.by import By

        return list(self.driver.find_elements(By.CSS_SELECTOR, css))

    def button(self, label: str) -> Any:
        from selenium.webdriver.common.by import By

        found = [b for b in self.driver.find_elements(By.TAG_NAME, "button") if b.text.strip() == label]
        assert found, f"no button {label!r} on {self.driver.current_url}"
        return found[0]

    def press(self, label: str) -> None:
        """Click a button as a person does: a screen that re-renders between finding the button
        and clicking it (a refresh, a poll) is looked at again rather than failing the test."""
        from selenium.common.exceptions import StaleElementReferenceException

        for attempt in range(5):
            try:
                self.button(label).click()
                return
            except StaleElementReferenceException:
                if attempt == 4:
                    raise
                time.sleep(0.2)

    def until(self, check: Callable[[], Any], timeout: float = 20, what: str = "") -> Any:
        deadline = time.monotonic() + timeout
        from selenium.common.exceptions import StaleElementReferenceException

        while time.monotonic() < deadline:
            try:
                result = check()
            except StaleElementReferenceException:  # the screen re-rendered while being read
                result = None
            if result:
                return result
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what or check} on {self.driver.current_url}: {self.status()}")

    def settled(self) -> None:
        """The screen has rendered (main holds a heading and is no longer busy)."""
        self.until(
            lambda: self.driver.execute_script(
                "const m = document.getElementById('main');"
                "return m && !m.hasAttribute('aria-busy') && m.querySelector('h1') !== null"
            ),
            what="the screen to render",
        )

    def status(self) -> str:
        element = self.find("#status")
        return str(element.text) if element is not None else ""

    def body(self) -> str:
        return str(self.find("main").text)

    def shot(self, name: str) -> None:
        """Save the screen (from its top) for a reviewer, and check it with axe-core's WCAG 2 A and AA rules."""
        self.driver.execute_script("window.scrollTo(0, 0)")
        self.driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))
        self.violations[name] = self.axe()

    def axe(self) -> list[str]:
        if not AXE_JS.is_file():
            if os.environ.get("OMNISTOCK_REQUIRE_BROWSER") == "1":
                raise AssertionError(f"axe-core is missing at {AXE_JS}: run `make test` (it installs it)")
            return []
        if not self.driver.execute_script("return typeof axe !== 'undefined'"):
            self.driver.execute_script(AXE_JS.read_text())
        found = self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}})"
            ".then((r) => done(r.violations.map((v) => v.id + ': ' + v.help + ' (' + v.nodes.length + ')')))"
            ".catch((e) => done(['axe failed: ' + e]));"
        )
        return list(found)

    def unlabelled(self) -> list[str]:
        """Form controls a screen reader could not name, and buttons without text."""
        return list(
            self.driver.execute_script(
                """
                const bad = [];
                for (const el of document.querySelectorAll('input, select, textarea')) {
                  const labelled = el.closest('label') || el.getAttribute('aria-label')
                    || (el.id && document.querySelector(`label[for="${el.id}"]`));
                  if (!labelled) bad.push(el.outerHTML.slice(0, 80));
                }
                for (const b of document.querySelectorAll('button'))
                  if (!b.textContent.trim() && !b.getAttribute('aria-label')) bad.push(b.outerHTML.slice(0, 80));
                return bad;
                """
            )
        )


@pytest.fixture(scope="module")
def console(browser: Any, stack: RunningStack, sandbox: httpx.Client) -> Console:
    return Console(browser, stack)


def listed(stack: RunningStack, sandbox: httpx.Client, sku: str, on_hand: int, title: str = "") -> str:
    item = f"gid://shopify/InventoryItem/{uuid.uuid4().int % 10**9}"
    sandbox.post("/_sandbox/inventory", json={"item": item, "location": SHOPIFY_LOCATION, "available": 0})
    body = {"locations": ["shop"], "listings": {"shopify": item}, "title": title}
    assert stack.client.put(f"/skus/{sku}", json=body).status_code == 200
    count = {"location": "shop", "on_hand": on_hand, "version": 1, "event_id": f"count-{sku}"}
    assert stack.client.post(f"/skus/{sku}/counts", json=count).status_code == 200
    return item


def test_a_retailer_works_through_every_screen(console: Console, stack: RunningStack, sandbox: httpx.Client) -> None:
    prefix = f"CON{uuid.uuid4().hex[:6].upper()}-"
    skus = [f"{prefix}{n}" for n in (1, 2, 3)]
    for number, sku in enumerate(skus):
        listed(stack, sandbox, sku, 5 + number, title=f"Console tee {number}")
        off = stack.client.put(f"/skus/{sku}/channels/shopify", json={"auto_sync": False})
        assert off.status_code == 200, off.text
    hostile = f"{prefix}HOSTILE"
    listed(stack, sandbox, hostile, 1, title=HOSTILE)
    stack.drain()

    # sign in; find the SKUs by prefix, with the keyboard
    console.sign_in(stack.dev_token)
    assert "Inventory" in console.find("h1").text
    search = console.find("#prefix")
    search.send_keys(prefix)
    from selenium.webdriver.common.keys import Keys

    search.send_keys(Keys.ENTER)
    console.until(lambda: len(console.all("main tbody tr")) == 4, what="four rows")
    assert HOSTILE in console.body()  # shown as text ...
    assert console.driver.execute_script("return document.querySelectorAll('script').length") == 1  # ... never run
    assert console.unlabelled() == []
    console.shot("inventory")

    # the explained number
    console.open(f"sku/{skus[2]}")
    text = console.body()
    assert "auto sync is off: Omnistock leaves the channel's number alone" in text, text

    # the SKUs with auto sync off on the channel: an index of their own, not a walk of the catalog
    console.open(f"inventory?prefix={prefix}&state=auto_sync_off&channel=shopify")
    assert [r.find_element("css selector", "td:nth-child(2)").text for r in console.all("main tbody tr")] == skus

    # bulk: auto sync on for three SKUs; their pushes arrive in the history
    console.open(f"inventory?prefix={prefix}")
    for sku in skus:
        console.find(f"input[aria-label='Select {sku}']").click()
    console.press("Auto sync on")
    console.until(lambda: "3 of 3 SKUs changed" in console.status(), what="the bulk change")
    stack.drain()
    for sku, expected in zip(skus, (5, 6, 7), strict=True):
        entries = stack.client.get("/sync-history", params={"sku": sku}).json()["entries"]
        assert any(e["result"] == "applied" and e["after"] == expected for e in entries), entries
    console.open(f"inventory?prefix={prefix}&state=auto_sync_off&channel=shopify")
    assert "Nothing here." in console.body()
    # and back off for every SKU of the prefix at once, as a job with progress
    console.open(f"inventory?prefix={prefix}")
    console.find("#all-in-filter").click()
    console.press("Auto sync off")
    console.until(lambda: "Sync Now jobs" in console.find("h1").text and "done" in console.body(), what="the job")
    off = stack.client.get("/skus", params={"channel": "shopify", "state": "auto_sync_off", "prefix": prefix}).json()
    assert [row["sku"] for row in off["skus"]] == [*skus, hostile]
    back_on = {"channel": "shopify", "prefix": prefix, "auto_sync": True}
    assert stack.client.post("/policies/jobs", json=back_on).is_success
    stack.drain()
    forced = stack.client.post("/sync-now/filter", json={"channel": "shopify", "prefix": prefix})  # as the bar does
    assert forced.status_code == 202, forced.text
    forced_url = f"/sync-now/{forced.json()['job_id']}"
    console.until(lambda: stack.client.get(forced_url).json()["state"] == "done", what="the push")
    job = stack.client.get(forced_url).json()
    assert (job["done"], job["failed"]) == (4, 0), job
    console.open(f"sku/{skus[2]}")
    text = console.body()
    assert "available at its locations: shop 7 + web 0 = 7" in text, text
    console.until(lambda: "Last pushed" in console.body())
    console.shot("sku")
    console.open("history?channel=shopify")
    console.until(lambda: all(sku in console.body() for sku in skus), what="the pushes in the history")
    assert console.unlabelled() == []
    console.shot("history")

    # an order line whose SKU is not in the catalog; fixed from the problems inbox
    missing = f"{prefix}NEW"
    order = sandbox.post(
        "/_sandbox/orders",
        json={"lines": [{"sku": missing, "quantity": 1, "inventory_item_id": 77}], "location": SHOPIFY_LOCATION},
    ).json()
    queued = [w for w in sandbox.get("/_sandbox/webhooks").json()["webhooks"] if w["topic"] == "orders/create"]
    hostile_order = queued[-1]["body"] | {"name": HOSTILE}  # a hostile order name, signed as Shopify would
    body = json.dumps(hostile_order).encode()
    assert deliver(f"{stack.url}/webhooks/shopify", "orders/create", body, LOCAL_WEBHOOK_SECRET).status_code == 200
    console.open("problems?kind=unmapped")
    console.until(lambda: missing in console.body(), what="the unmapped line")
    console.shot("problems")
    row = next(r for r in console.all("main tbody tr") if missing in r.text)
    row.find_element("css selector", "form button[type=submit]").click()
    console.until(lambda: missing not in console.body(), what="the problem to be resolved")
    stored = stack.client.get(f"/orders/shopify/{order['id']}").json()
    assert [(line["sku"], line["taken"]) for line in stored["lines"]] == [(missing, 1)]

    # orders: the hostile name shows as text
    console.open("orders")
    console.until(lambda: HOSTILE in console.body(), what="the order")
    assert "null" not in console.body().split()  # absent parts of a screen are left out, not written
    assert console.driver.execute_script("return document.querySelectorAll('script').length") == 1
    console.shot("orders")
    console.open(f"order/shopify/{order['id']}")  # one order: its lines, shipments, and whether ShipStation has it
    console.until(lambda: "ShipStation:" in console.body(), what="the order's page")
    assert "null" not in console.body().split()
    console.shot("order")

    # the movements' CSV: a cell that a spreadsheet would run as a formula is quoted as text
    moves = [
        {
            "at": "t",
            "location": "shop",
            "kind": "adjustment",
            "source": "admin",
            "event_id": "=HYPERLINK(1)",
            "note": 'say "hi"',
            "before": {"on_hand": 1, "held": 0, "pending": 0, "available": 1},
            "after": {"on_hand": 2, "held": 0, "pending": 0, "available": 2},
        }
    ]
    csv = console.driver.execute_script("return movementsCsv(arguments[0], arguments[1])", "-SKU", moves)
    assert csv.splitlines()[1].startswith('"\'-SKU","t","shop","adjustment","admin","\'=HYPERLINK(1)","say ""hi"""')

    # a live event, with its board
    event_id = f"live-{prefix.lower().rstrip('-')}"
    console.open("live")
    console.find("#event-id").send_keys(event_id)
    console.find("#allocations").send_keys(f"{skus[0]}=2")
    console.find("#event-channel").send_keys("shopify")
    console.press("Start")
    console.until(lambda: "Allocated" in console.body() and skus[0] in console.body(), what="the board")
    hold = {"hold_id": f"{event_id}-cart", "sku": skus[0], "location": "shop", "qty": 1, "source": "shopify"}
    assert stack.client.post("/holds", json=hold).status_code == 201
    console.until(lambda: _board_row(console, skus[0])[:2] == ["2", "1"], timeout=15, what="the hold on the board")
    assert stack.client.post(
        f"/holds/{event_id}-cart/checkout", json={"event_id": "co-1", "source": "shopify"}
    ).is_success
    console.until(lambda: _board_row(console, skus[0])[1:3] == ["0", "1"], timeout=20, what="the sale on the board")
    console.shot("live-event")
    console.press("End the event")
    console.until(lambda: "ended" in console.body(), what="the event to end")

    # Sync Now jobs with progress
    console.open("jobs")
    console.find("#job-skus").send_keys(skus[0])
    console.find("#job-channel").send_keys("shopify")
    console.press("Start")
    console.until(lambda: "done" in console.body(), what="the job to finish")
    console.shot("sync-now")

    # back to shadow, a preview, and going live again
    console.open("connections")
    console.press("Back to shadow")
    console.until(lambda: _mode(stack, "shopify") == "shadow", what="shadow mode")
    stack.drain()  # the mode change starts a preview of its own
    console.settled()
    console.press("Preview")
    console.settled()
    stack.drain()
    latest_preview(stack.client, "shopify", 60)
    console.press("Show preview")
    console.until(lambda: "Preview of shopify" in console.body(), what="the preview")
    for _ in range(3):  # going live waits for the latest preview: the mode change starts one of its own
        console.press("Go live")
        console.press("Confirm: go live")
        console.until(lambda: "Go live shopify:" in console.status(), what="the answer to going live")
        if "done" in console.status():
            break
        assert "preview" in console.status(), console.status()  # refused, saying why: a preview still runs
        latest_preview(stack.client, "shopify", 60)
        console.settled()
    console.until(lambda: _mode(stack, "shopify") == "live", timeout=60, what="the channel to go live")
    console.settled()
    console.shot("connections")

    # a viewer sees everything and can change nothing
    console.sign_in(f"{stack.dev_token}:viewer")
    console.open(f"inventory?prefix={prefix}")
    assert not console.button("Auto sync on").is_enabled()
    refused = console.driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch('/console/api/policies', {method: 'POST', headers: {Authorization: 'Bearer ' +"
        " sessionStorage.getItem('omnistock.token'), 'Content-Type': 'application/json'},"
        f" body: JSON.stringify({{channel: 'shopify', skus: ['{skus[0]}'], auto_sync: false}})}})"
        ".then((r) => done(r.status));"
    )
    assert refused == 403
    assert {screen: found for screen, found in console.violations.items() if found} == {}
    if AXE_JS.is_file():  # the checker itself finds what it should: an input without a label
        console.driver.execute_script("document.getElementById('main').append(document.createElement('input'))")
        assert any(found.startswith("label:") for found in console.axe()), console.axe()
    # the refusals this test provokes (the viewer's 403, a go-live refused while a preview runs)
    provoked = ("status of 403", "go-live - Failed to load resource: the server responded with a status of 409")
    logged = console.driver.get_log("browser")
    errors = [e for e in logged if e["level"] == "SEVERE" and not any(p in e["message"] for p in provoked)]
    assert errors == [], errors


def _board_row(console: Console, sku: str) -> list[str]:
    """The board's numbers for ``sku`` (empty while the board is being redrawn)."""
    from selenium.common.exceptions import StaleElementReferenceException

    try:
        row = next((r for r in console.all("main tbody tr") if r.text.startswith(sku)), None)
        return [cell.text for cell in row.find_elements("css selector", "td")[1:]] if row is not None else []
    except StaleElementReferenceException:
        return []


def _mode(stack: RunningStack, channel: str) -> str:
    found = [c for c in stack.client.get("/channels").json()["channels"] if c["channel"] == channel]
    return str(found[0]["mode"]) if found else ""


def test_screenshots_are_kept_out_of_git() -> None:
    ignored = (Path(__file__).parents[2] / ".gitignore").read_text()
    assert "tests/e2e/screenshots/" in ignored
