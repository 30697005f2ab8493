"""A real browser for the pages' tests: the system Chromium driven by Playwright (no browser download),
signing in as an agent does, and axe-core's WCAG 2.1 A/AA audit (the basis of RGAA 4.1)."""

import os

from .system_tools import chromium_path

WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
PASSWORD = "mot-de-passe-de-test"  # tests/factories.py gives every user this one
# A headless Chromium on a closed network: without these flags it keeps trying to reach Google.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def launch(playwright):
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop
    return playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)


def sign_in(browser, live_server, user):
    """A new tab, signed in through the real login form, on the dashboard."""
    page = browser.new_page()
    page.goto(f"{live_server.url}/connexion/")
    page.get_by_label("Adresse électronique").fill(user.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{live_server.url}/")
    return page


def axe_violations(page) -> list[tuple]:
    """(rule, impact, first targets) of each WCAG A/AA violation axe finds on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options=WCAG_AA)
    return [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in results.response["violations"]]
