"""Browser tests: Playwright for Python driving Debian's Chromium against ``live_server``.

No browser is downloaded: Chromium comes from the system (``apt-get install chromium``;
``.ci/run`` does it). Without it the tests are skipped locally, and fail in CI, where
BROBYGGER_REQUIRE_BROWSER is set.
"""

import os
from pathlib import Path

import pytest

from tests.english import english_phrases

CHROMIUM = os.environ.get("BROBYGGER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
PASSWORD = "test-password"  # the cast fixture's password
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

# Playwright's sync API runs an event loop in this thread; the tests still call Django's
# ORM (fixtures, assertions) synchronously between browser steps, which is safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _missing_browser(reason):
    if os.environ.get("BROBYGGER_REQUIRE_BROWSER"):
        pytest.fail(f"BROBYGGER_REQUIRE_BROWSER is set but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        _missing_browser(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing_browser("the playwright package is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def as_user(browser, live_server, cast):
    """``as_user("kari")``: a page in its own browser context, logged in through the form."""
    contexts = []

    def make(username, *, width=1280, height=900):
        context = browser.new_context(viewport={"width": width, "height": height}, locale="nb-NO")
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Brukernavn").fill(username)
        page.get_by_label("Passord").fill(PASSWORD)
        page.get_by_role("button", name="Logg inn").click()
        page.wait_for_url(f"{live_server.url}/tasks/")
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot(tmp_path):
    """Save a full-page PNG; to docs/screenshots when BROBYGGER_SCREENSHOTS=docs."""
    target = SCREENSHOTS if os.environ.get("BROBYGGER_SCREENSHOTS") == "docs" else tmp_path

    def take(page, name):
        target.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(target / f"{name}.png"), full_page=True)

    return take


# --- accessibility and language checks (issue 13) ------------------------------------------

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.1 A and AA: what Norwegian public-sector services must meet (uu-forskriften).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PHONE = {"width": 390, "height": 844}


def overflow_px(page) -> int:
    """How many CSS pixels the page is wider than its window: anything but 0 scrolls sideways."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def axe_violations(page) -> list[str]:
    """axe-core (from npm) run in the page: one line per violation, with its nodes. Evaluated
    through the DevTools protocol, so the page's Content-Security-Policy is untouched."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    result = page.evaluate("opts => axe.run(document, opts)", {"runOnly": {"type": "tag", "values": AXE_TAGS}})
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
    ]


# Each shown label (dt) against its value (dd): their boxes may not cross, and a label may
# not run out of its own box (issue 13, point 11: a label once lay over its value on a card).
_OVERLAPPING_LABELS = """() => {
  const found = [];
  for (const dt of document.querySelectorAll('dt')) {
    const dd = dt.nextElementSibling;
    if (!dd || dd.tagName !== 'DD' || !dt.getClientRects().length || !dd.getClientRects().length) continue;
    const a = dt.getBoundingClientRect(), b = dd.getBoundingClientRect();
    const across = Math.min(a.right, b.right) - Math.max(a.left, b.left);
    const down = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
    if ((across > 1 && down > 1) || dt.scrollWidth > dt.clientWidth + 1) found.push(dt.innerText.trim().slice(0, 60));
  }
  return found;
}"""


def overlapping_labels(page) -> list[str]:
    """The labels (dt) that cross their value (dd) or run out of their own box."""
    return page.evaluate(_OVERLAPPING_LABELS)


def english_on_page(page) -> list[str]:
    """English text on a bokmål page: msgids of the catalogue (three words or more of literal
    text, translated to something else) found in the page's visible text."""
    text = " ".join(page.evaluate("document.body.innerText").split())
    return sorted({phrase for phrase in english_phrases() if phrase in text})


def ready(page):
    """Wait until every diagram on the page is drawn (axe must see what people see)."""
    page.wait_for_load_state("load")
    # Polled by Playwright's selector engine: a predicate polled as a string is run by eval,
    # which the Content-Security-Policy refuses (the diagram now waits for its model's fetch).
    page.locator('[data-diagram]:not([data-drawn="true"])').first.wait_for(state="detached")


def page_checker(as_user, live_server):
    """``visit(username, path, phone=False)`` opens the page as that user (one browser page
    per user and size) and collects every axe-core violation and English phrase in
    ``problems``."""
    pages, problems = {}, []

    def page_of(username, phone):
        key = (username, phone)
        if key not in pages:
            pages[key] = as_user(username, **(PHONE if phone else {}))
        return pages[key]

    def visit(username, path, *, phone=False):
        page = page_of(username, phone)
        page.goto(f"{live_server.url}{path}")
        ready(page)
        where = f"{username} {'phone' if phone else 'desktop'} {path}"
        problems.extend(f"{where}: {v}" for v in axe_violations(page))
        problems.extend(f"{where}: English “{phrase}”" for phrase in english_on_page(page))
        problems.extend(f"{where}: the label “{label}” lies over its value" for label in overlapping_labels(page))
        return page

    return visit, problems
