"""The storefront and operator console, driven in a real browser (Debian's headless Chromium, by
Playwright for Python) against the local runner started on a free port for the run.

    tests/browser/journeys.py --runner target/debug/shop-local [--dynamodb URL] [--only NAME ...]

Each journey is a function below; they share one runner (in memory unless --dynamodb) and one
browser, each with its own browser context (its own sessionStorage: its own sign-in). A journey
fails on a failed check, a page error, a dialog (an alert() would mean injected script ran) or a
Content-Security-Policy violation. Screenshots go to .scratch/browser/ (SCREENSHOTS to change).
Scripts/browser-tests.sh runs this from the test command.
"""

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import traceback
import urllib.request
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "tests/browser/vendor/axe-core/axe.min.js"
SHOTS = Path(os.environ.get("SCREENSHOTS", ROOT / ".scratch/browser"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SAGA_TIMEOUT_MS = 30_000


# ---- the runner ----


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Runner:
    """The local runner on a free port; stopped by its PID."""

    def __init__(self, binary, dynamodb=None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.log = open(SHOTS / f"runner-{'dynamodb' if dynamodb else 'memory'}.log", "w")
        args = [binary] + (["--dynamodb", dynamodb] if dynamodb else [])
        env = {**os.environ, "PORT": str(self.port), "RUST_LOG": "warn"}
        self.proc = subprocess.Popen(args, env=env, stdout=self.log, stderr=subprocess.STDOUT, cwd=ROOT)
        deadline = time.time() + 120
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the runner exited with {self.proc.returncode}; see {self.log.name}")
            try:
                with urllib.request.urlopen(f"{self.url}/_local/identities", timeout=2) as r:
                    if json.load(r)["customers"]:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the runner did not answer within 120 s; see {self.log.name}")

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


# ---- helpers ----


OPEN = []  # the sessions not closed yet: a failed journey's are photographed


class Session:
    """One browser context and page, watching for page errors, dialogs and CSP violations."""

    def __init__(self, browser, url, viewport=DESKTOP, bypass_csp=False):
        OPEN.append(self)
        self.url = url
        self.context = browser.new_context(viewport=viewport, bypass_csp=bypass_csp)
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        self.problems = []
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("dialog", lambda d: (self.problems.append(f"dialog: {d.message}"), d.dismiss()))
        self.page.on(
            "console",
            lambda m: self.problems.append(f"console: {m.text}")
            if "Content Security Policy" in m.text or "Content-Security-Policy" in m.text
            else None,
        )

    def open(self, fragment="#/"):
        """The page at `fragment`, once its view has rendered (the page marks `data-route`)."""
        self.page.goto(f"{self.url}/{fragment}")
        self.rendered(fragment)
        return self.page

    def go(self, fragment):
        """Navigates inside the page, as a link does."""
        self.page.evaluate("f => { location.hash = f }", fragment)
        self.rendered(fragment)

    def rendered(self, fragment):
        self.page.wait_for_function("f => document.documentElement.dataset.route === f", arg=fragment)

    def check(self):
        """No page error, dialog or CSP violation so far; and the page shows no raw JSON and no
        `null`, `undefined`, `NaN` or `[object …]` where a value should be."""
        assert not self.problems, "; ".join(self.problems)
        text = self.page.locator("body").inner_text()
        leaks = [w for w in ("null", "undefined", "NaN") if re.search(rf"\b{w}\b", text)]
        leaks += [w for w in ('{"', "[object") if w in text]
        assert not leaks, f"the page shows {leaks}: {text[:500]}"

    def close(self):
        OPEN.remove(self)
        self.context.close()

    def shot(self, name):
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

    def token(self):
        return self.page.evaluate("() => sessionStorage.getItem('shop.token')")

    def call(self, method, path, body=None):
        """The API as the signed-in user (the page's token), from inside the page."""
        return self.page.evaluate(
            """async ([m, p, b]) => {
                const h = { authorization: `Bearer ${sessionStorage.getItem('shop.token')}` };
                if (b !== null) h['content-type'] = 'application/json';
                const r = await fetch(p, { method: m, headers: h, body: b === null ? undefined : JSON.stringify(b) });
                return { status: r.status, body: await r.json().catch(() => null) };
            }""",
            [method, path, body],
        )


def sign_in_new_customer(s, name="Test Shopper"):
    p = s.open("#/signin")
    p.click("#signin-new")
    expect(p.locator("h1")).to_contain_text("create your account")
    p.get_by_label("Your name").fill(name)
    p.get_by_label("Street").fill("5 Market Street")
    p.get_by_label("City").fill("Columbus")
    p.get_by_label("Region or state").fill("OH")
    p.get_by_label("Postal code").fill("43004")
    p.get_by_label("Country").fill("US")
    p.get_by_role("button", name="Create my account").click()
    expect(p.locator("#who")).to_contain_text(name)


def sign_in_admin(s):
    p = s.open("#/signin")
    p.click("#signin-admin")
    expect(p.get_by_role("link", name="Console")).to_be_visible()


def card(p, name):
    return p.locator("li.card").filter(has=p.get_by_role("heading", name=name, exact=True))


def available(p, name):
    return int(card(p, name).locator("[data-available]").get_attribute("data-available"))


def add_to_cart(p, name, quantity):
    c = card(p, name)
    c.get_by_label("Quantity").fill(str(quantity))
    c.get_by_role("button", name="Add to cart").click()
    expect(p.locator("#status")).to_contain_text(f"Added {quantity} × {name}")


def checkout(s):
    p = s.page
    s.go("#/cart")
    p.get_by_role("link", name="Checkout").click()
    expect(p.locator("h1")).to_have_text("Checkout")
    expect(p.locator("#quote")).to_have_attribute("data-cost", re.compile(r"^\d+$"))
    return p


def order_id(p):
    p.wait_for_url(re.compile(r"#/order/[\w-]+$"))
    return p.url.rsplit("/", 1)[1]


# ---- journeys ----


def shopper(browser, url, tag="memory"):
    """A new customer registers, orders two products with a quote, sees the saga approve it,
    cancels, sees the releases, and finds the stock back in the catalogue."""
    s = Session(browser, url)
    sign_in_new_customer(s)
    p = s.open("#/")
    before = {n: available(p, n) for n in ("Desk Lamp", "Notebook A5")}
    add_to_cart(p, "Desk Lamp", 2)
    add_to_cart(p, "Notebook A5", 3)
    if tag == "memory":
        s.shot("catalogue-desktop")
    checkout(s)
    p.get_by_label("Shipping speed").select_option("express")
    expect(p.locator("#quote")).to_contain_text("Total")
    if tag == "memory":
        s.shot("checkout-desktop")
    p.click("#place-order")
    order_id(p)
    expect(p.locator("#order-state")).to_have_text("APPROVED", timeout=SAGA_TIMEOUT_MS)
    for event in ("OrderCreated", "OrderPriced", "OrderApproved"):
        expect(p.locator(f"#timeline li[data-event={event}]")).to_have_count(1)
    expect(p.locator("#totals")).to_contain_text("total")
    if tag == "memory":
        s.shot("order-approved-desktop")
    p.click("#cancel-order")
    expect(p.locator("#order-state")).to_have_text("CANCELLED", timeout=SAGA_TIMEOUT_MS)
    expect(p.locator("#timeline li[data-event=OrderCancelled]")).to_have_count(1)
    expect(p.locator("#releases [data-released]")).to_have_count(3, timeout=SAGA_TIMEOUT_MS)
    expect(p.locator("#releases li")).to_have_count(3)
    s.check()
    if tag == "memory":
        s.shot("order-cancelled-desktop")
    p = s.open("#/")
    after = {n: available(p, n) for n in before}
    assert after == before, f"stock back after the cancellation: {before} → {after}"
    s.check()
    s.go("#/account")
    expect(p.locator("#credit-available")).to_have_text(p.locator("#credit-limit").inner_text())
    s.go("#/orders")
    expect(p.locator("main tbody tr")).to_have_count(1)
    p.get_by_label("Status").select_option("APPROVED")
    expect(p.locator("main")).to_contain_text("No orders here.")
    p.get_by_label("Status").select_option("CANCELLED")
    expect(p.locator("main tbody tr")).to_have_count(1)
    s.check()
    s.close()


def at_checkout(browser, url, name, product, quantity):
    """A new customer with `quantity` of `product` in the cart, on the checkout page."""
    s = Session(browser, url)
    sign_in_new_customer(s, name)
    add_to_cart(s.open("#/"), product, quantity)
    return s, checkout(s)


def rejection(browser, url):
    """An order over the credit limit (the default $500) is rejected, and the page says why."""
    s, p = at_checkout(browser, url, "Big Spender", "27-inch Monitor", 2)  # $558 > $500
    p.click("#place-order")
    order_id(p)
    expect(p.locator("#order-state")).to_have_text("REJECTED", timeout=SAGA_TIMEOUT_MS)
    expect(p.locator("#rejection")).to_contain_text("above your available credit")
    expect(p.locator("#timeline li[data-event=OrderRejected]")).to_contain_text("above your available credit")
    expect(p.locator("#cancel-order")).to_be_hidden()
    s.check()
    s.close()


def double_click(browser, url):
    """Two rapid clicks on "Place order" make exactly one order, counted through the API."""
    s, p = at_checkout(browser, url, "Quick Clicker", "Notebook A5", 1)
    # Both clicks in the same task: the second lands before the first's answer.
    p.evaluate("() => { const b = document.getElementById('place-order'); b.click(); b.click(); }")
    order_id(p)
    me = s.call("GET", "/me", None)["body"]
    orders = s.call("GET", f"/customers/{me['id']}/orders", None)["body"]["items"]
    assert len(orders) == 1, f"one order, not {len(orders)}"
    s.check()
    s.close()


def errors(browser, url):
    """Problems in plain words beside the field they name; a network failure retried with the
    checkout's one key: one order."""
    s, p = at_checkout(browser, url, "Careful Shopper", "Notebook A5", 2)
    # The cart holds 1 to 999 of a product.
    s.go("#/")
    lamp = card(p, "Desk Lamp")
    lamp.get_by_label("Quantity").fill("1000")
    lamp.get_by_role("button", name="Add to cart").click()
    expect(lamp.locator(".field-error")).to_have_text("Choose a quantity from 1 to 999.")
    s.go("#/cart")
    expect(p.locator("main tbody tr")).to_have_count(1)
    s.go("#/checkout")
    expect(p.locator("#quote")).to_have_attribute("data-cost", re.compile(r"^\d+$"))
    country = p.locator("label[data-field=country]")
    country.get_by_role("textbox").fill("ZZ")
    expect(country.locator(".field-error")).not_to_be_empty()
    expect(country.get_by_role("textbox")).to_have_attribute("aria-invalid", "true")
    country.get_by_role("textbox").fill("CA")
    p.get_by_label("Region or state").fill("ON")
    p.get_by_label("Shipping speed").select_option("overnight")
    speed = p.locator("label[data-field=shippingSpeed]")
    expect(speed.locator(".field-error")).to_have_text(re.compile("not offered to that address"))
    expect(country.locator(".field-error")).to_be_empty()
    p.get_by_label("Shipping speed").select_option("standard")
    expect(speed.locator(".field-error")).to_be_empty()
    expect(p.locator("#quote")).to_contain_text("international")
    s.check()

    # The first attempt to place the order never reaches the runner: the page retries.
    keys = []  # the Idempotency-Key of each attempt to place the order

    def drop_first(route):
        if route.request.method != "POST":
            return route.continue_()
        keys.append(route.request.headers.get("idempotency-key"))
        return route.abort("connectionreset") if len(keys) == 1 else route.continue_()

    p.route(f"{url}/orders", drop_first)
    p.click("#place-order")
    order_id(p)
    assert len(keys) == 2 and keys[0] and keys[0] == keys[1], f"one dropped attempt, one retry with its key: {keys}"
    me = s.call("GET", "/me", None)["body"]
    orders = s.call("GET", f"/customers/{me['id']}/orders", None)["body"]["items"]
    assert len(orders) == 1, f"one order, not {len(orders)}"
    s.check()
    s.close()


def operator(browser, url):
    """The console: restock and reprice; two pages editing one product (a conflict, explained,
    with a reload); a customer sees no console and the API refuses them."""
    a = Session(browser, url)
    sign_in_admin(a)
    p = a.open("#/console")
    p.get_by_role("link", name="Desk Lamp").click()
    expect(p.locator("h1")).to_have_text("Edit: Desk Lamp")
    on_hand = int(re.search(r"(\d+) on hand", p.locator("#product-facts").inner_text()).group(1))
    p.get_by_label("Units to add").fill("10")
    p.click("#restock")
    expect(p.locator("#product-facts")).to_contain_text(f"{on_hand + 10} on hand")
    p.get_by_label("Price in USD").fill("30.00")
    p.click("#save-product")
    expect(p.locator("#product-facts")).to_contain_text("$30.00")
    a.shot("console-product-desktop")
    shop = a.open("#/")
    expect(card(shop, "Desk Lamp").locator(".price")).to_have_text("$30.00")

    # Two pages open the same product, and each save names the revision its page read
    # (If-Match). The second to save is refused by the API itself (412, nothing written): told
    # why, shown what the product is now, and offered a reload; the first edit stands.
    b = Session(browser, url)
    sign_in_admin(b)
    product_id = card(shop, "Desk Lamp").get_attribute("data-product")
    product_url = f"#/console/product/{product_id}"
    a.open(product_url)
    b.open(product_url)
    b.page.get_by_label("Price in USD").fill("31.00")
    b.page.click("#save-product")
    expect(b.page.locator("#product-facts")).to_contain_text("$31.00")
    a.page.get_by_label("Name", exact=True).fill("Desk Lamp (LED)")
    saves = []
    a.page.on("response", lambda r: saves.append(r) if r.request.method == "PATCH" else None)
    a.page.click("#save-product")
    expect(a.page.locator("#conflict")).to_contain_text("Someone else changed this product")
    assert [r.status for r in saves] == [412], f"the API refuses the stale save: {[(r.url, r.status) for r in saves]}"
    assert re.fullmatch(r'"\d+"', saves[0].request.header_value("if-match") or ""), "the save names its revision"
    expect(a.page.locator("#conflict")).to_contain_text("$31.00")
    now = a.call("GET", f"/products/{product_id}")["body"]
    assert (now["name"], now["price"]["amount"]) == ("Desk Lamp", 3100), f"the first edit stands: {now}"
    a.page.get_by_role("button", name="Reload the product").click()
    expect(a.page.get_by_label("Price in USD")).to_have_value("31.00")
    expect(a.page.get_by_label("Name", exact=True)).to_have_value("Desk Lamp")
    a.check()
    b.check()
    b.close()

    # A customer's credit limit (Ada, seeded: her id is the subject she signs in as).
    with urllib.request.urlopen(f"{url}/_local/identities") as r:
        ada = next(c for c in json.load(r)["customers"] if c["name"] == "Ada Lovelace")
    a.open(f"#/console/customers/{ada['sub']}")
    expect(a.page.locator("#customer-credit")).to_contain_text("Credit limit $500.00")
    a.page.get_by_label("New credit limit in USD").fill("750.00")
    a.page.get_by_role("button", name="Change the credit limit").click()
    expect(a.page.locator("#customer-credit")).to_contain_text("Credit limit $750.00")

    # Operations: the funnel and the orders, each linking to its timeline.
    a.open("#/console/operations")
    expect(a.page.locator(".funnel li")).to_have_count(4)
    a.shot("console-operations-desktop")
    a.close()

    # A customer: no console in the page, and the API refuses them.
    c = Session(browser, url)
    p = c.open("#/signin")
    p.get_by_role("button", name="Sign in as Ada Lovelace").click()
    expect(p.locator("#who")).to_contain_text("Ada Lovelace")
    expect(p.get_by_role("link", name="Console")).to_be_hidden()
    c.go("#/console")
    expect(p.locator("main")).to_contain_text("for the shop's operators")
    expect(p.locator("main table")).to_have_count(0)
    r = c.call("PATCH", f"/products/{product_id}", {"price": {"amount": 1, "currency": "USD"}})
    assert r["status"] == 403, f"a customer repricing: {r}"
    assert r["body"]["type"].endswith("/forbidden")
    r = c.call("GET", "/orders?status=PENDING", None)
    assert r["status"] == 403, f"a customer listing every order: {r}"
    c.check()
    c.close()


HOSTILE = "<img src=x onerror=alert(1)>"


def xss(browser, url):
    """A product named like markup shows as text: no element made, no script run. (Then it is
    discontinued: still listed, no longer sold.)"""
    a = Session(browser, url)
    sign_in_admin(a)
    p = a.open("#/console/new")
    p.get_by_label("Name", exact=True).fill(HOSTILE)
    p.get_by_label("Price in USD").fill("1.00")
    p.get_by_label("Weight in grams").fill("100")
    p.get_by_label("Length").fill("10")
    p.get_by_label("Width").fill("10")
    p.get_by_label("Height").fill("10")
    p.get_by_label("Stock").fill("5")
    p.get_by_role("button", name="Create product").click()
    expect(p.locator("h1")).to_have_text(f"Edit: {HOSTILE}")
    for fragment in ("#/", "#/console"):
        a.open(fragment)
        expect(p.get_by_text(HOSTILE, exact=True).first).to_be_visible()
        assert p.locator("main img").count() == 0, "an <img> was made from the product's name"
    a.page.wait_for_timeout(300)  # an onerror handler would have fired by now
    # Discontinued, it stays listed but cannot be added to a cart.
    a.open("#/console")
    p.get_by_role("link", name=HOSTILE, exact=True).click()
    p.get_by_role("button", name="Discontinue (no new orders)").click()
    expect(p.locator("#product-facts")).to_contain_text("discontinued")
    a.open("#/")
    expect(card(p, HOSTILE)).to_contain_text("No longer sold")
    expect(card(p, HOSTILE).get_by_role("button", name="Add to cart")).to_be_disabled()
    a.check()
    a.close()


def accessibility(browser, url):
    """axe-core on every page, at desktop and phone width: no serious or critical violation."""
    # axe is injected as a script: this context alone lets it past the page's CSP.
    results = {}
    for vp_name, vp in (("desktop", DESKTOP), ("phone", PHONE)):
        s = Session(browser, url, viewport=vp, bypass_csp=True)
        pages = ["#/", "#/signin", "#/cart"]
        s.open("#/")
        pages.append(f"#/product/{s.page.locator('li.card').first.get_attribute('data-product')}")
        sign_in_new_customer(s, f"Axe {vp_name}")
        add_to_cart(s.open("#/"), "Notebook A5", 1)
        pages += ["#/cart", "#/checkout", "#/account", "#/orders"]
        for fragment in pages:
            results[f"{vp_name} {fragment}"] = scan(s, fragment, vp_name)
        s.go("#/checkout")
        s.page.click("#place-order")
        oid = order_id(s.page)
        expect(s.page.locator("#order-state")).to_have_text("APPROVED", timeout=SAGA_TIMEOUT_MS)
        results[f"{vp_name} order"] = scan(s, f"#/order/{oid}", vp_name, shot="order" if vp_name == "phone" else None)
        s.close()
        s = Session(browser, url, viewport=vp, bypass_csp=True)
        sign_in_admin(s)
        pid = s.open("#/").locator("li.card").first.get_attribute("data-product")
        for fragment in ("#/console", f"#/console/product/{pid}", "#/console/new", "#/console/customers", "#/console/operations"):
            results[f"{vp_name} {fragment}"] = scan(s, fragment, vp_name)
        s.close()
    bad = {k: v for k, v in results.items() if v}
    assert not bad, "serious or critical accessibility violations:\n" + json.dumps(bad, indent=1)


def docs(browser, url):
    """/docs: the vendored Swagger UI renders the runner's /openapi.json with no request leaving
    the runner's origin (it works offline), and axe finds no serious or critical violation."""
    s = Session(browser, url, bypass_csp=True)
    elsewhere = []

    def only_here(route):
        if route.request.url.startswith(url):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    s.context.route("**/*", only_here)
    s.page.goto(f"{url}/docs")
    expect(s.page.locator(".swagger-ui .info .title")).to_contain_text("shop-saga")
    expect(s.page.locator(".opblock").first).to_be_visible()
    s.shot("docs-desktop")
    found = axe(s)
    assert not found, "serious or critical accessibility violations:\n" + json.dumps(found, indent=1)
    assert not elsewhere, f"requests off the runner: {elsewhere}"
    s.check()
    s.close()


def scan(s, fragment, vp_name, shot=None):
    s.open(fragment)
    s.page.wait_for_timeout(400)  # let quotes, timelines and lists settle
    if vp_name == "phone" and fragment in ("#/", "#/checkout") or shot:
        s.shot(f"{shot or {'#/': 'catalogue', '#/checkout': 'checkout'}[fragment]}-phone")
    return axe(s)


def axe(s):
    s.page.add_script_tag(path=str(AXE))
    found = s.page.evaluate("async () => (await axe.run(document, { resultTypes: ['violations'] })).violations")
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:12]}
        for v in found
        if v["impact"] in ("serious", "critical")
    ]


def pkce(browser, url):
    """The Cognito sign-in's PKCE helpers, in the browser (the hosted UI cannot run here: no AWS):
    RFC 7636's appendix B example, a fresh verifier's shape, base64url round trips."""
    s = Session(browser, url)
    s.open("#/")
    r = s.page.evaluate(
        """async () => {
            const a = await import('/js/auth.js');
            const v = a.newVerifier();
            return {
                rfc: await a.challengeOf('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'),
                len: v.length, shape: /^[A-Za-z0-9_-]+$/.test(v), fresh: v !== a.newVerifier(),
                round: Array.from(a.base64UrlDecode(a.base64UrlEncode(new Uint8Array([0, 251, 255, 62, 63])))),
            };
        }"""
    )
    assert r["rfc"] == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", r
    assert r["len"] == 43 and r["shape"] and r["fresh"], r
    assert r["round"] == [0, 251, 255, 62, 63], r
    s.check()
    s.close()


def headers(browser, url):
    """Every page answer carries the CSP (no inline script), nosniff and a cache policy; /docs
    serves the vendored Swagger UI."""
    for path in ("/", "/js/app.js", "/config.json", "/docs", "/vendor/swagger-ui/swagger-ui-bundle.js"):
        with urllib.request.urlopen(url + path) as r:
            csp = r.headers["content-security-policy"]
            assert "script-src 'self';" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0], csp
            assert r.headers["x-content-type-options"] == "nosniff"
            assert r.headers["cache-control"] == "no-cache"
    with urllib.request.urlopen(url + "/config.json") as r:
        assert json.load(r) == {"apiUrl": "", "auth": {"kind": "local"}}


JOURNEYS = {f.__name__: f for f in (headers, pkce, shopper, rejection, double_click, errors, operator, xss, accessibility, docs)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runner", required=True, help="the shop-local binary")
    ap.add_argument("--dynamodb", help="run the runner on DynamoDB at this URL")
    ap.add_argument("--only", nargs="*", choices=sorted(JOURNEYS), help="journeys to run (default: all)")
    args = ap.parse_args()
    names = args.only or list(JOURNEYS)
    SHOTS.mkdir(parents=True, exist_ok=True)
    for old in SHOTS.glob("FAILED-*.png"):
        old.unlink()
    runner = Runner(args.runner, args.dynamodb)
    failed = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True)
            for name in names:
                started = time.time()
                try:
                    if name == "shopper":
                        shopper(browser, runner.url, "dynamodb" if args.dynamodb else "memory")
                    else:
                        JOURNEYS[name](browser, runner.url)
                    print(f"PASS {name} ({time.time() - started:.1f} s)", flush=True)
                except Exception:
                    failed.append(name)
                    print(f"FAIL {name}\n{traceback.format_exc()}", flush=True)
                    for i, s in enumerate(list(OPEN)):
                        s.shot(f"FAILED-{name}-{i}")
                        print(f"  page {i} at {s.page.url}: {s.page.locator('body').inner_text()[:800]!r}")
                        s.close()
            browser.close()
    finally:
        runner.stop()
    mode = f"DynamoDB at {args.dynamodb}" if args.dynamodb else "memory"
    print(f"browser journeys on {mode}: {len(names) - len(failed)} passed, {len(failed)} failed; screenshots in {SHOTS}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
