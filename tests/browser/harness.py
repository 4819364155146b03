"""The browser journeys' small framework: a W3C WebDriver client, a registry of journeys,
numbered steps, screenshots, the checks every page gets, and the helpers a journey is
written with. `journeys.py` holds the journeys; `tests/browser/run` starts the service and
chromedriver and runs them. How to add one: docs/web.md, "Browser tests".

Why no Selenium: this speaks W3C WebDriver to chromedriver over HTTP with the standard
library alone. The dozen commands the journeys need fit in a page of code, nothing has to
come from PyPI (no virtual environment, no pinned versions to keep up), and nothing can
ever try to download a browser or a driver at run time (as Selenium Manager does when it
thinks one is missing): Debian's chromium and chromium-driver are the only browser bits.

Every page a journey reaches through `visit`, `click_link`, `submit` or `press` is
checked before the journey goes on:
- its HTTP status is below 400, unless the call said which error it expects;
- its HTML is under 200 KB;
- every input, select and textarea has a <label> with text (hidden inputs and inputs that
  are buttons aside): aria-label is not enough;
- it has exactly one h1;
- <html lang> is set.
"""

import base64
import json
import os
import shutil
import signal
import sys
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request

DEMO_PASSWORD = "liaison-demo-2026"
MAX_PAGE_BYTES = 200 * 1024
DESKTOP = (1280, 900)
PHONE = (390, 844)
# How long a page may take to load, or a condition to come true.
WAIT_SECONDS = 15
W3C_ELEMENT = "element-6066-11e4-a52e-4f735466cecf"
TAB = "\ue004"
ENTER = "\ue007"


class Failure(Exception):
    """A journey's expectation that did not hold."""


class WebDriverError(Exception):
    pass


# --- W3C WebDriver over HTTP ------------------------------------------------------------------


class Browser:
    """One WebDriver session (one browser, its own cookies)."""

    def __init__(self, driver_url, viewport, mobile=False):
        self.driver_url = driver_url.rstrip("/")
        self.id = None
        width, height = viewport
        options = {
            "binary": os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium"),
            "args": [
                "--headless=new",
                "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
                "--disable-dev-shm-usage",
                "--disable-gpu",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-features=Translate,OptimizationHints,MediaRouter",
                "--password-store=basic",
                "--hide-scrollbars",
                "--lang=en-US",
                f"--window-size={width},{height}",
            ],
            # The pages' language comes from Accept-Language unless a journey switches it.
            "prefs": {"intl.accept_languages": "en-US,en"},
        }
        if os.environ.get("BROWSER_PROFILE_DIR"):
            options["args"].append(
                "--user-data-dir="
                + os.path.join(os.environ["BROWSER_PROFILE_DIR"], f"p{os.getpid()}-{time.monotonic_ns()}")
            )
        if mobile:
            options["mobileEmulation"] = {
                "deviceMetrics": {"width": width, "height": height, "pixelRatio": 2.0, "touch": True}
            }
        caps = {
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "pageLoadStrategy": "normal",
                    "timeouts": {"pageLoad": WAIT_SECONDS * 1000, "script": WAIT_SECONDS * 1000, "implicit": 0},
                    "goog:chromeOptions": options,
                }
            }
        }
        value = self._http("POST", "/session", caps, timeout=60)
        self.id = value["sessionId"]
        if not mobile:
            # The window, not the page, is what --window-size sets: make the page itself
            # the size asked for, so every screenshot is exactly that.
            inner = self.js("return [window.innerWidth, window.innerHeight]")
            rect = self.cmd("GET", "/window/rect")
            self.cmd(
                "POST",
                "/window/rect",
                {"width": rect["width"] + width - inner[0], "height": rect["height"] + height - inner[1]},
            )

    def _http(self, method, path, body=None, timeout=WAIT_SECONDS + 15):
        data = None
        if body is not None or method == "POST":
            data = json.dumps(body if body is not None else {}).encode()
        req = urllib.request.Request(
            self.driver_url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json; charset=utf-8"},
        )
        try:
            with urllib.request.urlopen(req, timeout=timeout) as res:
                payload = json.load(res)
        except urllib.error.HTTPError as e:
            try:
                v = json.load(e).get("value", {})
                raise WebDriverError(f"{v.get('error')}: {v.get('message', '').splitlines()[0]}") from None
            except (ValueError, AttributeError, IndexError):
                raise WebDriverError(f"{method} {path}: HTTP {e.code}") from None
        return payload.get("value")

    def cmd(self, method, path, body=None):
        return self._http(method, f"/session/{self.id}{path}", body)

    def quit(self):
        if self.id:
            try:
                self._http("DELETE", f"/session/{self.id}", timeout=20)
            except Exception:  # noqa: BLE001 - the driver is stopped by the run script anyway
                pass
            self.id = None

    def navigate(self, url):
        self.cmd("POST", "/url", {"url": url})

    def url(self):
        return self.cmd("GET", "/url")

    def js(self, script, *args):
        return self.cmd("POST", "/execute/sync", {"script": script, "args": list(args)})

    def click(self, element):
        self.cmd("POST", f"/element/{element[W3C_ELEMENT]}/click")

    def clear(self, element):
        self.cmd("POST", f"/element/{element[W3C_ELEMENT]}/clear")

    def type(self, element, text):
        self.cmd("POST", f"/element/{element[W3C_ELEMENT]}/value", {"text": text})

    def keys(self, *keys):
        """Presses keys on whatever has the focus, as a person would."""
        actions = []
        for k in keys:
            actions += [{"type": "keyDown", "value": k}, {"type": "keyUp", "value": k}]
        self.cmd("POST", "/actions", {"actions": [{"type": "key", "id": "keyboard", "actions": actions}]})
        self.cmd("DELETE", "/actions")

    def screenshot(self):
        return base64.b64decode(self.cmd("GET", "/screenshot"))


# --- the registry and the run --------------------------------------------------------------------

JOURNEYS = []


def journey(name, viewport=DESKTOP, mobile=False, after=None):
    """Registers a journey: a function of no arguments, run in a browser of its own (fresh
    cookies) at `viewport`; `mobile` emulates a phone (touch, device pixel ratio 2).
    Journeys run in the order they are registered, whatever the order of `--only`.
    `after` names a journey this one builds on when both run (it must be registered
    before, so it runs first); run alone, the journey makes what it needs itself."""

    def register(fn):
        if any(j["name"] == name for j in JOURNEYS):
            raise ValueError(f"two journeys named {name}")
        if after is not None and not any(j["name"] == after for j in JOURNEYS):
            raise ValueError(f"journey {name} comes after {after}, which is not registered before it")
        JOURNEYS.append({"name": name, "fn": fn, "viewport": viewport, "mobile": mobile, "after": after})
        return fn

    return register


class _Current:
    """The journey being run: its browser, its step and the page checks' state."""

    base = ""
    driver_url = ""
    shots_dir = ""
    browser = None
    name = ""
    step_no = 0
    step_text = ""
    shots = []
    readme_shot = None
    last_field = None


_c = _Current()


def step(text):
    """Starts the journey's next numbered step (logged, and named in a failure)."""
    _c.step_no += 1
    _c.step_text = text
    print(f"  {_c.name} {_c.step_no:02d} {text}", flush=True)


def shot(name, readme=False):
    """Saves a screenshot of the viewport as <journey>-<step nn>-<name>.png. `readme`: the
    journey's picture in docs/screenshots/ (one per journey; `tests/browser/run --readme`)."""
    path = os.path.join(_c.shots_dir, f"{_c.name}-{_c.step_no:02d}-{name}.png")
    with open(path, "wb") as f:
        f.write(_c.browser.screenshot())
    _c.shots.append(path)
    if readme:
        if _c.readme_shot:
            raise ValueError(f"journey {_c.name} chose two README screenshots")
        _c.readme_shot = path
    return path


def js(script, *args):
    """Runs JavaScript in the page (a function body: `return …` gives its value)."""
    return _c.browser.js(script, *args)


def expect(condition, message):
    if not condition:
        raise Failure(message)


def wait_until(script, what, *args, seconds=WAIT_SECONDS):
    """Waits until `script` returns a true value (bounded); returns that value."""
    deadline = time.monotonic() + seconds
    while True:
        value = js(script, *args)
        if value:
            return value
        if time.monotonic() > deadline:
            raise Failure(f"waited {seconds} s for {what}")
        time.sleep(0.05)


def url():
    return _c.browser.url()


def path():
    """The page's path and query, as written after the host."""
    u = urllib.parse.urlsplit(url())
    return u.path + (f"?{u.query}" if u.query else "")


def text(css="body"):
    """The visible text of the first element matching `css` (what a person reads)."""
    value = js("const e = document.querySelector(arguments[0]); return e ? e.innerText : null", css)
    expect(value is not None, f"nothing on the page matches {css!r}")
    return value


def texts(css):
    """The visible text of every element matching `css`."""
    return js("return [...document.querySelectorAll(arguments[0])].map(e => e.innerText.trim())", css)


def see(*wanted, within="body"):
    """Each of these strings is in the visible text (of `within`)."""
    shown = text(within)
    for w in wanted:
        expect(w in shown, f"expected to see {w!r} in {within}")


def not_see(*unwanted, within="body"):
    shown = text(within)
    for w in unwanted:
        expect(w not in shown, f"expected not to see {w!r} in {within}")


# --- moving about (each ends on a checked page) --------------------------------------------------


def _mark_page():
    js("window.__liaisonOldPage = true")


def _await_new_page(what):
    wait_until(
        "return window.__liaisonOldPage === undefined && document.readyState === 'complete'",
        f"the page after {what}",
    )


def visit(target, status=200):
    """Opens `target` (a path on the service, or a full address) and checks the page."""
    address = target if "://" in target else _c.base + target
    _c.browser.navigate(address)
    wait_until("return document.readyState === 'complete'", f"{target} to load")
    _c.last_field = None
    check_page(status)


def _find(script, what, *args):
    found = js(script, *args)
    expect(found, f"found no {what}")
    return found


def _visible_with_text(selectors, wanted, within, kind):
    """The first visible element in `within` matching one of `selectors` whose text (or
    value) is `wanted`."""
    return _find(
        """const [t, scope, selectors] = arguments;
        const css = selectors.map(s => scope + ' ' + s).join(', ');
        for (const e of document.querySelectorAll(css)) {
            if ((e.innerText || e.value || '').trim() === t && e.getClientRects().length) return e;
        }
        return null;""",
        f"{kind} {wanted!r} in {within}",
        wanted,
        within,
        selectors,
    )


def _click_to_new_page(element, what, status):
    """Clicks `element`, waits for the page it leads to, and checks that page."""
    _mark_page()
    _c.browser.click(element)
    _await_new_page(what)
    _c.last_field = None
    check_page(status)


def click_link(link_text, within="body", status=200):
    """Follows the link whose visible text is `link_text` (the first one in `within`)."""
    link = _visible_with_text(["a[href]"], link_text, within, "link")
    _click_to_new_page(link, f"following {link_text!r}", status)


def _control(label_text, within="body", prefix=False):
    """The form control a <label> with this visible text labels (for= or around it), the
    first in `within`. `prefix`: the label's text only begins with `label_text` followed by
    a space or a colon (a choice named before its explanation: "confidential: only …")."""
    return _find(
        """const [t, scope, prefix] = arguments;
        for (const l of document.querySelectorAll(scope + ' label')) {
            const s = l.innerText.trim();
            const named = s === t || (prefix && s.startsWith(t) && /^[:\\s]/.test(s.slice(t.length)));
            if (named && l.control) return l.control;
        }
        return null;""",
        f"control labelled {label_text!r} in {within} (a <label> with that text)",
        label_text,
        within,
        prefix,
    )


def fill(label_text, value, within="body"):
    """Types `value` into the field labelled `label_text`, replacing what it held."""
    field = _control(label_text, within)
    _c.browser.clear(field)
    if value:
        _c.browser.type(field, value)
    _c.last_field = field


def append(label_text, value, within="body"):
    """Types `value` at the end of what the field labelled `label_text` holds ("\\n" is a
    new line in a textarea)."""
    field = _control(label_text, within)
    _c.browser.type(field, value)
    _c.last_field = field


def choose(label_text, within="body", prefix=False):
    """Ticks the radio button or checkbox labelled `label_text` (no navigation); `prefix`:
    the label only begins with it (see _control)."""
    field = _control(label_text, within, prefix)
    if not js("return arguments[0].checked", field):
        _c.browser.click(field)
    expect(js("return arguments[0].checked", field), f"{label_text!r} did not become chosen")
    _c.last_field = field


def select(label_text, option_text, within="body"):
    """Picks the option whose visible text is `option_text` in the list labelled
    `label_text` (clicked, as a person would; no navigation)."""
    field = _control(label_text, within)
    option = _find(
        """const [s, t] = arguments;
        return [...s.options].find(o => o.text.trim() === t) || null;""",
        f"option {option_text!r} in {label_text!r}",
        field,
        option_text,
    )
    _c.browser.click(option)
    chosen = js("const s = arguments[0]; return s.selectedIndex >= 0 ? s.options[s.selectedIndex].text.trim() : null", field)
    expect(chosen == option_text, f"{label_text!r} shows {chosen!r}, not {option_text!r}")
    _c.last_field = field


def submit(status=200):
    """Sends the form last filled in, with its submit button, and checks the page it gives."""
    expect(_c.last_field is not None, "submit() before any fill() or choose()")
    button = _find(
        """const f = arguments[0].form;
        return f && f.querySelector('button:not([type]), button[type=submit], input[type=submit]');""",
        "submit button in the form last filled",
        _c.last_field,
    )
    _click_to_new_page(button, "sending the form", status)


def press(button_text, within="body", status=200):
    """Presses the button whose visible text is `button_text` (the first one in `within`;
    its form is sent)."""
    button = _visible_with_text(["button", "input[type=submit]"], button_text, within, "button")
    _click_to_new_page(button, f"pressing {button_text!r}", status)


def keys(*keys):
    """Presses keys (e.g. TAB, ENTER) on whatever has the focus."""
    _c.browser.keys(*keys)


class _Unredirected(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer to report (e.g. to the sign-in page), not one to follow."""

    def redirect_request(self, *args, **kwargs):
        return None


def fetch_link(link_text, within="body"):
    """Reads the file the link whose visible text is `link_text` (the first in `within`)
    points at, over HTTP with the browser's own session, and stays on the page: a download
    does not navigate, so there is no page to check. The session is the browser's cookies
    as WebDriver gives them (HttpOnly ones too); only the service under test (127.0.0.1) is
    asked, and a redirect is returned, not followed. Returns {url, download (the link's
    download attribute, None without), status, headers (names in lower case), body (text)}."""
    link = _find(
        """const [t, scope] = arguments;
        for (const a of document.querySelectorAll(scope + ' a[href]')) {
            if (a.innerText.trim() === t && a.getClientRects().length)
                return {href: a.href, download: a.getAttribute('download')};
        }
        return null;""",
        f"link {link_text!r} in {within}",
        link_text,
        within,
    )
    address = link["href"]
    parts, base = urllib.parse.urlsplit(address), urllib.parse.urlsplit(_c.base)
    expect(
        parts.scheme == "http" and parts.hostname == "127.0.0.1" and parts.netloc == base.netloc,
        f"link {link_text!r} leads to {address}, not to the service under test ({_c.base})",
    )
    cookies = _c.browser.cmd("GET", "/cookie") or []
    jar = "; ".join(
        f"{c['name']}={c['value']}" for c in cookies if c.get("domain", "127.0.0.1").lstrip(".") == "127.0.0.1"
    )
    headers = {"Accept": "*/*", "User-Agent": "liaison-browser-tests"}
    if jar:
        headers["Cookie"] = jar
    request = urllib.request.Request(address, headers=headers, method="GET")
    opener = urllib.request.build_opener(_Unredirected)
    try:
        res = opener.open(request, timeout=WAIT_SECONDS)
    except urllib.error.HTTPError as e:
        res = e  # an error status (or a redirect) is an answer too
    with res:
        body = res.read()
        return {
            "url": address,
            "download": link["download"],
            "status": res.getcode(),
            "headers": {k.lower(): v for k, v in res.headers.items()},
            "body": body.decode("utf-8", errors="replace"),
        }


def sign_in(email, password=DEMO_PASSWORD):
    """Signs in through the English sign-in form and checks the header says who."""
    visit("/login?lang=en")
    fill("Email", email)
    fill("Password", password)
    submit()
    expect(path().split("?")[0] == "/", f"signing in led to {path()}, not the start page")
    see("Signed in as ", within="header")


def sign_out():
    """Signs out with the header's button and checks the header offers signing in again."""
    label = js("const b = document.querySelector('header form.sign-out button'); return b && b.innerText.trim()")
    expect(label, "no sign-out button in the header (is anybody signed in?)")
    press(label)
    not_see("Signed in as", within="header")
    expect(js("return !document.querySelector('header form.sign-out')"), "still signed in")


# --- the checks every page gets ------------------------------------------------------------------

_PAGE_FACTS = """
const nav = performance.getEntriesByType('navigation')[0] || {};
const unlabelled = [];
for (const e of document.querySelectorAll('input, select, textarea')) {
    // Hidden fields are not shown; buttons written as inputs are named by their value.
    if (['hidden', 'submit', 'reset', 'button', 'image'].includes(e.type)) continue;
    const named = [...(e.labels || [])].some(l => l.innerText.trim() || l.textContent.trim());
    if (!named) unlabelled.push(e.outerHTML.slice(0, 160));
}
const html = document.documentElement;
return {
    status: nav.responseStatus === undefined ? null : nav.responseStatus,
    bytes: nav.decodedBodySize || new TextEncoder().encode(html.outerHTML).length,
    unlabelled: unlabelled,
    h1: document.querySelectorAll('h1').length,
    lang: html.getAttribute('lang'),
};
"""


def check_page(status=200):
    """The checks every page gets (see the top of this file). `status`: the one expected."""
    facts = js(_PAGE_FACTS)
    problems = []
    got = facts["status"]
    if got is None:
        problems.append("the browser reported no HTTP status for the page")
    elif got != status:
        problems.append(f"HTTP status {got}, expected {status}")
    if facts["bytes"] >= MAX_PAGE_BYTES:
        problems.append(f"the HTML is {facts['bytes']} bytes, over {MAX_PAGE_BYTES}")
    for u in facts["unlabelled"]:
        problems.append(f"a form control has no <label>: {u}")
    if facts["h1"] != 1:
        problems.append(f"{facts['h1']} h1 elements, not exactly one")
    if not (facts["lang"] or "").strip():
        problems.append("<html> has no lang")
    if problems:
        raise Failure("page checks failed:\n      - " + "\n      - ".join(problems))


# --- running --------------------------------------------------------------------------------------


def _report_failure(j, error):
    print(f"FAIL {j['name']} at step {_c.step_no:02d} \"{_c.step_text}\"", flush=True)
    if isinstance(error, (Failure, WebDriverError)):
        print(f"  why: {error}")
    else:
        print("  why: " + "".join(traceback.format_exception_only(type(error), error)).strip())
    # Where in the journey it stopped: its last line in journeys.py.
    lines = [
        f"journeys.py:{f.lineno}: {f.line}"
        for f in traceback.extract_tb(error.__traceback__)
        if os.path.basename(f.filename) == "journeys.py"
    ]
    if lines:
        print(f"  at: {lines[-1]}")
    try:
        print(f"  page: {_c.browser.url()}")
        body = _c.browser.js("return document.body ? document.body.innerText : ''") or ""
        body = body.strip()
        if len(body) > 4000:
            body = body[:4000] + "\n[… cut at 4,000 characters]"
        print("  visible text:")
        for line in body.splitlines() or ["(none)"]:
            print(f"    | {line}")
        saved = shot("failure")
        print(f"  screenshot: {saved}")
    except Exception as e:  # noqa: BLE001 - the browser itself may be what failed
        print(f"  (the page could not be read: {e})")
    sys.stdout.flush()


def main(argv=None):
    import argparse

    parser = argparse.ArgumentParser(description="Runs the browser journeys.")
    parser.add_argument("--base", required=True, help="the service, e.g. http://127.0.0.1:8080")
    parser.add_argument("--driver", required=True, help="chromedriver, e.g. http://127.0.0.1:9515")
    parser.add_argument("--shots", required=True, help="the screenshots' folder")
    parser.add_argument("--readme", help="copy each journey's README screenshot here")
    parser.add_argument("--only", action="append", help="run only this journey (repeatable)")
    args = parser.parse_args(argv)

    # Stopped from outside (the run's time limit, Ctrl-C): end the browser sessions first.
    def stopped(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stopped)

    _c.base = args.base.rstrip("/")
    _c.shots_dir = args.shots
    os.makedirs(_c.shots_dir, exist_ok=True)
    chosen = [j for j in JOURNEYS if not args.only or j["name"] in args.only]
    if args.only and len(chosen) != len(set(args.only)):
        known = ", ".join(j["name"] for j in JOURNEYS)
        print(f"browser: no journey named {', '.join(set(args.only) - {j['name'] for j in chosen})} (there are: {known})")
        return 2
    passed = failed = 0
    try:
        for j in chosen:
            ok = _run(j, args)
            passed, failed = passed + ok, failed + (not ok)
    except KeyboardInterrupt:
        print(f"browser: interrupted in journey {_c.name}, step {_c.step_no:02d}", flush=True)
        return 130
    print(f"browser: {passed} journeys passed, {failed} failed", flush=True)
    return 0 if failed == 0 and passed > 0 else 1


def _run(j, args):
    """Runs one journey in a browser of its own; whether it passed."""
    started = time.monotonic()
    ok = False
    print(f"journey {j['name']}", flush=True)
    _c.name, _c.step_no, _c.step_text = j["name"], 0, "(starting the browser)"
    _c.shots, _c.readme_shot, _c.last_field = [], None, None
    _c.browser = None
    try:
        _c.browser = Browser(args.driver, j["viewport"], j["mobile"])
        j["fn"]()
    except Exception as e:  # noqa: BLE001 - any error fails this journey, not the run
        if _c.browser is None:
            print(f"FAIL {j['name']}: the browser did not start: {e}")
        else:
            _report_failure(j, e)
    else:
        ok = True
        steps, shots = _c.step_no, len(_c.shots)
        print(
            f"ok {j['name']} ({steps} step{'s' * (steps != 1)}, {shots} screenshot{'s' * (shots != 1)},"
            f" {time.monotonic() - started:.1f} s)"
        )
        if args.readme and not _c.readme_shot:
            print(f"  (no README screenshot: no shot(..., readme=True) in {j['name']})")
        elif args.readme:
            os.makedirs(args.readme, exist_ok=True)
            shutil.copyfile(_c.readme_shot, os.path.join(args.readme, f"{j['name']}.png"))
            print(f"  README screenshot: {os.path.join(args.readme, j['name'] + '.png')}")
    finally:
        if _c.browser is not None:
            _c.browser.quit()
    sys.stdout.flush()
    return ok
