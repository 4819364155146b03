"""The web app's journeys, as a person walks them in Chromium against `liaison demo` (run by
`tests/browser/run`). A journey is one function registered with `@journey("name")`: it
gets a browser of its own (no cookies), and every page it reaches is checked (status, size,
labels, one h1, lang; see harness.py). Adding one, in short:

    @journey("office-notes")
    def office_notes():
        step("the office signs in")
        sign_in("ilo@ntu.example")
        click_link("…")
        shot("dashboard", readme=True)

The demo's records used here are in src/demo/ (people.json, world.json) and
tests/fixtures/match-eval.json; its accounts' password is harness.DEMO_PASSWORD.
"""

import datetime
import decimal
import re
import sys

from harness import (  # noqa: F401 - the helpers a journey is written with
    DEMO_PASSWORD,
    ENTER,
    PHONE,
    TAB,
    append,
    check_page,
    choose,
    click_link,
    expect,
    fetch_link,
    fill,
    journey,
    js,
    keys,
    main,
    not_see,
    path,
    press,
    see,
    select,
    shot,
    sign_in,
    sign_out,
    step,
    submit,
    text,
    texts,
    visit,
    wait_until,
)

# --- what these journeys look for in the demo -------------------------------------------------

# Professors' profiles: well over one page of 20 in English, and several in Korean and in
# Chinese (people.json and match-eval.json).
ENGLISH_QUERY = "GPU"
KOREAN_QUERY = "반도체"  # semiconductor
CHINESE_QUERY = "記憶體"  # memory
# A need only signed-in users see (visibility "members": n-08, Hyundai's). NVIDIA's staff
# (alex.wu@nvidia.example) finds it; NVIDIA's own need in the demo is public, and it has no
# confidential one.
MEMBERS_NEED = "Gate-oxide reliability and threshold drift of SiC MOSFETs"
MEMBERS_NEED_WORDS = "SiC MOSFET gate oxide"
# A confidential need (n-05, TSMC's): TSMC's account finds it, NVIDIA's and strangers do not.
CONFIDENTIAL_NEED = "Measuring and predicting layer-to-layer alignment error in EUV multi-patterning"
CONFIDENTIAL_NEED_WORDS = "EUV alignment error multi-patterning"

# The company and professor journeys (run in this order; the professor answers the company's
# invitation). NVIDIA's staff posts a confidential need in the words of Chen Yu-Ting's profile
# (f-tw-ml-01 in match-eval.json: LLM training, distributed/parallel training, MoE, FP8,
# GPU clusters, fault tolerance), so that she ranks for it and is the one invited: she is
# the demo's professor account.
COMPANY_EMAIL = "alex.wu@nvidia.example"
PROFESSOR_EMAIL = "chen.yuting@ntu.example"
PROFESSOR = "Chen Yu-Ting"
NEED_TITLE = "Fault-tolerant FP8 training of Mixture-of-Experts LLMs on GPU clusters"
NEED_SUMMARY = "Distributed and parallel LLM training at scale: Mixture-of-Experts, FP8, fault tolerance"
NEED_KEYWORDS = (
    "LLM training, distributed training, parallel training, Mixture-of-Experts, FP8 training, "
    "GPU clusters, fault tolerance"
)
CONFIDENTIAL_HINT = (
    "only your company and the professors you invite see it; it is still matched, and only you see the ranking."
)
# A professor of another field (biomaterials, hydrogels, tissue engineering: people.json),
# who shares no word with the need.
UNRELATED_PROFESSOR = "Liu Wen-Ting"
DECLINE_REASON = "the timeline does not fit"
DECLINE_TEXT = "Our cluster time is booked until next spring"
NEW_KEYWORD = "elastic training"
NEW_PUBLICATION = "2026 | A new paper title | MLSys"

# The office journey: NTU's industry-liaison office (Lin Mei-Ling, world.json) and what its
# dashboard (src/web/office.rs) says, in English and in Traditional Chinese.
OFFICE_EMAIL = "ilo@ntu.example"
# Taller than the desktop's 900 px: the README's picture shows the whole funnel chart at the
# top of the dashboard (its bottom is near 1,000 px down).
OFFICE_VIEWPORT = (1280, 1100)
OFFICE_NAV = "Liaison office"
OFFICE_NAV_ZH = "產學合作處"
OFFICE_HEADING_ZH = "產學合作處總覽"
OFFICE_FORBIDDEN = (
    "This dashboard is for the admins and staff of a university's liaison office. Your account belongs to none."
)
# After every dated record of the demo: nothing happened in the period from then on.
LATER = datetime.date(2099, 1, 1)
# The funnel's stages as funnel.csv names them, in the order the dashboard shows them.
FUNNEL_STAGES = [
    "needs",
    "engagements",
    "invited",
    "responded",
    "agreed",
    "funded_projects_from_needs",
    "funded_projects_from_engagements",
]

# What the company journey leaves for the professor journey: the need's and the
# engagement's paths ("need", "engagement"). Run alone, the professor journey makes them.
SHARED = {}


# --- helpers of these journeys -----------------------------------------------------------------


def search_for(words, kind="Professors"):
    """Searches with the English form of the page at hand: words, and what to search in."""
    fill("Search words", words)
    choose(kind)
    submit()


def results():
    """The number of results the page announces (in any language)."""
    announced = text("#count")
    found = re.search(r"\d[\d,]*", announced)
    expect(found, f"no number in the results heading {announced!r}")
    return int(found.group().replace(",", ""))


def hit_titles():
    return texts("ol.hits article h3")


def highlighted():
    """The words the results mark as matching (<b> in the hits)."""
    return texts("ol.hits b")


def lang():
    return js("return document.documentElement.lang")


def facts(css="dl.facts"):
    """A page's facts list (<dl>) as {term: description}."""
    return js(
        """const out = {}; let term = null;
        const dl = document.querySelector(arguments[0]);
        if (!dl) return {};
        for (const e of dl.children) {
            if (e.tagName === 'DT') term = e.innerText.trim();
            else if (e.tagName === 'DD' && term !== null) out[term] = e.innerText.trim();
        }
        return out;""",
        css,
    )


def fill_date(label_text, day):
    """Types a date into a date field as a person would: its parts in the order the
    browser's locale shows them (mm/dd/yyyy in en-US), then checks the value it holds."""
    order = js(
        """return new Intl.DateTimeFormat(navigator.language)
            .formatToParts(new Date(2000, 0, 2)).filter(p => p.type !== 'literal').map(p => p.type);"""
    )
    parts = {"year": f"{day.year:04d}", "month": f"{day.month:02d}", "day": f"{day.day:02d}"}
    fill(label_text, "".join(parts[p] for p in order))
    held = js(
        "return [...document.querySelectorAll('label')].find(l => l.innerText.trim() === arguments[0]).control.value",
        label_text,
    )
    expect(held == day.isoformat(), f"{label_text!r} holds {held!r}, not {day.isoformat()}")


def link_starting(prefix, within="body"):
    """The visible text of the first link in `within` whose text begins with `prefix`."""
    found = js(
        """const [t, scope] = arguments;
        for (const a of document.querySelectorAll(scope + ' a[href]')) {
            const s = a.innerText.trim();
            if (s.startsWith(t) && a.getClientRects().length) return s;
        }
        return null;""",
        prefix,
        within,
    )
    expect(found, f"no link starting with {prefix!r} in {within}")
    return found


def ranked():
    """The need page's ranked professors: [{id (the li's), name, score, terms}]."""
    return js(
        """return [...document.querySelectorAll('ol.matches > li')].map(li => ({
            id: li.id,
            name: li.querySelector('h3 a').innerText.trim(),
            meter: li.querySelector('.score meter') ? li.querySelector('.score meter').value : null,
            score: li.querySelector('.score strong') ? li.querySelector('.score strong').innerText.trim() : null,
            caption: li.querySelector('table.terms caption') ? li.querySelector('table.terms caption').innerText.trim() : null,
            terms: li.querySelectorAll('table.terms tbody tr').length,
        }));"""
    )


def state_of(li_css):
    """The engagement state a ranked professor's row shows (None before any)."""
    return js("const s = document.querySelector(arguments[0] + ' .state'); return s && s.innerText.trim()", li_css)


def fill_need(deadline):
    """Fills in the need form at hand, by its labels: the confidential, open need in
    Chen Yu-Ting's words, with a budget and `deadline`."""
    fill("Title", NEED_TITLE)
    fill("Summary", NEED_SUMMARY)
    fill("Keywords", NEED_KEYWORDS)
    choose("sponsored research")
    fill("From", "150000")
    fill("To", "300000")
    fill("Currency (ISO code)", "USD")
    fill_date("Deadline", deadline)
    choose("confidential", prefix=True)
    choose("open", prefix=True)


def invite_professor(name):
    """On the need's page, shortlists then invites the ranked professor `name`; leaves their
    engagement's path in SHARED. Returns the row's CSS selector."""
    row = next((r for r in ranked() if r["name"].startswith(name)), None)
    expect(row, f"{name} is not among the ranked professors")
    li = f"#{row['id']}"
    expect(state_of(li) is None, f"{name} already shows the state {state_of(li)!r}")
    press("Shortlist", within=li)
    expect(state_of(li) == "shortlisted", f"{name} shows {state_of(li)!r} after Shortlist, not 'shortlisted'")
    press("Invite", within=li)
    expect(state_of(li) == "invited", f"{name} shows {state_of(li)!r} after Invite, not 'invited'")
    SHARED["engagement"] = js("return document.querySelector(arguments[0] + ' .actions a').getAttribute('href')", li)
    SHARED["engagement"] = SHARED["engagement"].split("?")[0]
    return li


def figure_number(shown):
    """A figure as the dashboard writes it ("1,234" or "48,000,000.00") as a Decimal."""
    cleaned = shown.strip().replace(",", "")
    expect(re.fullmatch(r"-?\d+(\.\d+)?", cleaned), f"{shown!r} is not a figure")
    return decimal.Decimal(cleaned)


def funnel():
    """The dashboard's funnel: its chart (stage labels, bar widths, the numbers written
    beside the bars, role, title) and the table that follows it, as rows [stage, number]."""
    return js(
        """const svg = document.querySelector('section.funnel svg.chart');
        if (!svg) return null;
        const title = svg.querySelector(':scope > title');
        const table = svg.nextElementSibling;
        return {
            role: svg.getAttribute('role'),
            title: title ? title.textContent.trim() : null,
            named_by_title: !!title && svg.getAttribute('aria-labelledby') === title.id,
            labels: [...svg.querySelectorAll('text.label')].map(t => t.textContent.trim()),
            values: [...svg.querySelectorAll('text.value')].map(t => t.textContent.trim()),
            bars: [...svg.querySelectorAll('rect.bar')].map(r => parseFloat(r.getAttribute('width'))),
            table: table && table.matches('table.figures')
                ? [...table.querySelectorAll('tbody tr')].map(tr => [tr.cells[0].innerText.trim(), tr.cells[1].innerText.trim()])
                : null,
        };"""
    )


def funding_figures():
    """Each currency's funding figure: heading, chart (role, title, year labels, the texts
    beside the bars) and the table after it (head, year rows, Total row)."""
    return js(
        """return [...document.querySelectorAll('section.funding figure.chart-figure')].map(f => {
            const svg = f.querySelector('svg.chart');
            const title = svg && svg.querySelector(':scope > title');
            const table = svg && svg.nextElementSibling;
            const row = tr => [...tr.cells].map(c => c.innerText.trim());
            return {
                heading: f.querySelector('h3') ? f.querySelector('h3').innerText.trim() : null,
                role: svg && svg.getAttribute('role'),
                title: title ? title.textContent.trim() : null,
                years: svg ? [...svg.querySelectorAll('text.label')].map(t => t.textContent.trim()) : [],
                values: svg ? [...svg.querySelectorAll('text.value')].map(t => t.textContent.trim()) : [],
                head: table && table.matches('table.figures') ? [...table.querySelectorAll('thead th')].map(th => th.innerText.trim()) : null,
                rows: table && table.matches('table.figures') ? [...table.querySelectorAll('tbody tr')].map(row) : [],
                foot: table && table.matches('table.figures') ? [...table.querySelectorAll('tfoot tr')].map(row) : [],
            };
        });"""
    )


def centres():
    """The research centres: [{name, facts: {term: [items] or [text]}}]."""
    return js(
        """return [...document.querySelectorAll('section.centers article.center')].map(a => {
            const facts = {}; let term = null;
            for (const e of a.querySelector('dl').children) {
                if (e.tagName === 'DT') term = e.innerText.trim();
                else if (e.tagName === 'DD' && term !== null) {
                    const items = [...e.querySelectorAll('li')].map(li => li.innerText.trim());
                    facts[term] = items.length ? items : [e.innerText.trim()];
                }
            }
            return {name: a.querySelector('h3').innerText.trim(), facts: facts};
        });"""
    )


def table_rows(css):
    """A table's column headings and body rows (cells' visible text)."""
    return js(
        """const t = document.querySelector(arguments[0]);
        if (!t) return null;
        return {
            head: [...t.querySelectorAll('thead th')].map(th => th.innerText.trim()),
            rows: [...t.querySelectorAll('tbody tr')].map(tr => [...tr.cells].map(c => c.innerText.trim())),
        };""",
        css,
    )


def check_funnel():
    """The funnel chart is an image with a title, every bar has its number beside it, and
    the table after it has the same figures, stage by stage. Returns [(stage, number)]."""
    f = funnel()
    expect(f, "no funnel chart (section.funnel svg.chart)")
    expect(f["role"] == "img", f"the funnel chart's role is {f['role']!r}, not 'img'")
    expect(f["title"], "the funnel chart has no <title>")
    expect(f["named_by_title"], "the funnel chart is not labelled by its <title> (aria-labelledby)")
    expect(f["table"] is not None, "no table of figures follows the funnel chart")
    expect(len(f["bars"]) == len(FUNNEL_STAGES), f"{len(f['bars'])} bars in the funnel, not {len(FUNNEL_STAGES)}")
    expect(
        len(f["labels"]) == len(f["values"]) == len(f["bars"]),
        f"the funnel has {len(f['bars'])} bars, {len(f['labels'])} labels and {len(f['values'])} numbers",
    )
    chart = list(zip(f["labels"], f["values"]))
    expect(chart == [tuple(r) for r in f["table"]], f"the funnel chart says {chart}, its table {f['table']}")
    numbers = [figure_number(v) for v in f["values"]]
    for (label, n), width in zip(chart, f["bars"]):
        expect((width > 0) == (figure_number(n) > 0), f"the bar of {label!r} ({n}) is {width} wide")
    order = sorted(range(len(numbers)), key=lambda i: numbers[i])
    widths = [f["bars"][i] for i in order]
    expect(widths == sorted(widths), f"the funnel's bars are not as long as their numbers: {numbers} {f['bars']}")
    return [(label, int(figure_number(n))) for label, n in chart]


def csv_rows(body):
    """A CSV file's lines (its byte-order mark aside) split at commas (the files checked
    here have no quoted commas in the lines read)."""
    return [line.split(",") for line in body.lstrip("\ufeff").splitlines() if line]


def a_future_deadline():
    """Some ten months ahead: open, and before any expiry a test could meet."""
    return datetime.date.today() + datetime.timedelta(days=300)


# --- the journeys ------------------------------------------------------------------------------


@journey("search")
def search():
    step("a stranger opens the start page")
    visit("/")
    expect(lang() == "en", f"the start page is in {lang()!r}, not English")
    see("Liaison", "Industry meets academia", "Search words")
    see("Sign in", within="header")
    shot("start")

    step("keyboard: the first Tab from the top focuses the skip link")
    keys(TAB)
    focused = js(
        """const a = document.activeElement;
        return {tag: a.tagName, cls: a.className, href: a.getAttribute('href'), text: a.innerText.trim()};"""
    )
    expect(
        focused["tag"] == "A" and "skip" in focused["cls"].split() and focused["href"] == "#main",
        f"the first Tab focused {focused}, not the skip link",
    )
    expect(focused["text"] == "Skip to content", f"the skip link reads {focused['text']!r}")
    expect(
        js("const r = document.activeElement.getBoundingClientRect(); return r.left >= 0 && r.width > 0"),
        "the focused skip link is not on the screen",
    )
    shot("skip-link")
    keys(ENTER)
    wait_until("return location.hash === '#main'", "the skip link to lead to #main")

    step(f"an English search for professors: {ENGLISH_QUERY}")
    search_for(ENGLISH_QUERY)
    total = results()
    expect(total > 20, f"{total} results for {ENGLISH_QUERY!r}: expected more than one page")
    see("You see public records only.")
    marked = highlighted()
    expect(
        any(ENGLISH_QUERY.lower() in m.lower() for m in marked),
        f"no result highlights {ENGLISH_QUERY!r} (highlighted: {marked[:10]})",
    )
    expect(len(hit_titles()) == 20, f"{len(hit_titles())} results on the first page, not 20")
    shot("results", readme=True)

    step("a university filter narrows the results to its count")
    facet = js(
        """const total = arguments[0];
        for (const h of document.querySelectorAll('aside.filters h3')) {
            if (h.innerText.trim() !== 'University') continue;
            for (const li of h.nextElementSibling.querySelectorAll('li')) {
                const a = li.querySelector('a'), n = li.querySelector('.count');
                const count = parseInt(n.innerText.replace(/[^0-9]/g, ''), 10);
                if (a && count < total) return {label: a.innerText.trim(), count: count};
            }
        }
        return null;""",
        total,
    )
    expect(facet, "no University filter with fewer results than the search")
    click_link(facet["label"], within="aside.filters")
    narrowed = results()
    expect(
        narrowed == facet["count"],
        f"{narrowed} results after filtering by {facet['label']}, the filter said {facet['count']}",
    )
    expect(narrowed < total, f"the filter did not narrow {total} results")
    current = texts("aside.filters a[aria-current]")
    expect(facet["label"] in current, f"the chosen filter is not marked current ({current})")
    shot("filtered")

    step("clearing the filters brings every result back")
    click_link("Clear filters", within="aside.filters")
    expect(results() == total, f"{results()} results after clearing the filters, not {total}")

    step("the second page of results")
    click_link("Next", within="nav.pages")
    see("Page 2 /", within="nav.pages")
    expect(js("return document.querySelector('ol.hits').start") == 21, "page 2 does not start at 21")
    see("Previous", within="nav.pages")
    expect(results() == total, "the count changed on page 2")
    shot("page-2")

    step(f"a Korean search: {KOREAN_QUERY}")
    search_for(KOREAN_QUERY)
    expect(results() > 0, f"nothing found for {KOREAN_QUERY!r}")
    marked = highlighted()
    expect(any(KOREAN_QUERY in m for m in marked), f"{KOREAN_QUERY!r} is not highlighted ({marked[:10]})")
    shot("korean-query")

    step(f"a Traditional Chinese search: {CHINESE_QUERY}")
    search_for(CHINESE_QUERY)
    found_zh = results()
    expect(found_zh > 0, f"nothing found for {CHINESE_QUERY!r}")
    marked = highlighted()
    expect(any(CHINESE_QUERY in m for m in marked), f"{CHINESE_QUERY!r} is not highlighted ({marked[:10]})")
    shot("chinese-query")

    step("the interface switched to Korean keeps the search")
    click_link("한국어", within="header")
    expect(lang() == "ko", f"the page is in {lang()!r} after choosing 한국어")
    see("검색어", "검색 대상", "교수", f"결과 {found_zh}건")
    see("로그인", within="header")
    expect(
        js("return document.getElementById('q').value") == CHINESE_QUERY,
        "the search words were lost when switching the language",
    )
    expect(texts("header ul.languages a[aria-current]") == ["한국어"], "한국어 is not marked current")
    shot("korean-interface")


@journey("sign-in")
def signing_in():
    step("a stranger does not find a members-only need")
    visit("/")
    search_for(MEMBERS_NEED_WORDS, kind="Company needs")
    titles = hit_titles()
    expect(not any(MEMBERS_NEED in t for t in titles), f"a stranger finds {MEMBERS_NEED!r}")

    step("a wrong password is refused, saying so")
    click_link("Sign in", within="header")
    see("Use the account your organization's administrator gave you.")
    shot("form")
    fill("Email", "chen.yuting@ntu.example")
    fill("Password", "not-the-password")
    submit(status=401)
    see("Wrong email or password.", within="[role=alert]")
    expect(
        js("return document.getElementById('email').value") == "chen.yuting@ntu.example",
        "the form forgot the email",
    )
    expect(js("return document.getElementById('password').value") == "", "the form kept the password")
    not_see("Signed in as", within="header")
    shot("wrong-password")

    step("a professor signs in: the header shows her name")
    fill("Password", DEMO_PASSWORD)
    submit()
    expect(path() == "/?lang=en", f"signing in led to {path()}")
    see("Signed in as Chen Yu-Ting 陳玉婷", "Sign out", within="header")
    shot("signed-in")

    step("she signs out")
    sign_out()
    see("Sign in", within="header")

    step("a company's staff finds the members-only need once signed in")
    sign_in("alex.wu@nvidia.example")
    see("Signed in as Alex Wu (NVIDIA University Relations)", within="header")
    search_for(MEMBERS_NEED_WORDS, kind="Company needs")
    not_see("You see public records only.")
    expect(any(MEMBERS_NEED in t for t in hit_titles()), f"{MEMBERS_NEED!r} is not found when signed in")
    shot("members-need", readme=True)

    step("but not another company's confidential need")
    search_for(CONFIDENTIAL_NEED_WORDS, kind="Company needs")
    expect(
        not any(CONFIDENTIAL_NEED in t for t in hit_titles()),
        f"NVIDIA's staff finds TSMC's confidential {CONFIDENTIAL_NEED!r}",
    )

    step("signed out, the members-only need is hidden again")
    sign_out()
    search_for(MEMBERS_NEED_WORDS, kind="Company needs")
    expect(not any(MEMBERS_NEED in t for t in hit_titles()), f"{MEMBERS_NEED!r} is still found after signing out")

    step("the confidential need's own company finds it")
    search_for(CONFIDENTIAL_NEED_WORDS, kind="Company needs")
    expect(not any(CONFIDENTIAL_NEED in t for t in hit_titles()), "a stranger finds the confidential need")
    sign_in("liaison@tsmc.example")
    search_for(CONFIDENTIAL_NEED_WORDS, kind="Company needs")
    expect(any(CONFIDENTIAL_NEED in t for t in hit_titles()), f"TSMC does not find its own {CONFIDENTIAL_NEED!r}")
    shot("confidential-need")
    sign_out()


@journey("phone", viewport=PHONE, mobile=True)
def phone():
    step(f"search results at phone width (390×844): {ENGLISH_QUERY}")
    visit("/")
    search_for(ENGLISH_QUERY)
    expect(js("return window.innerWidth") == PHONE[0], f"the page is {js('return window.innerWidth')} px wide")
    expect(results() > 0, "no results")
    wide = js("return document.documentElement.scrollWidth")
    expect(wide <= PHONE[0], f"the page scrolls sideways: {wide} px wide on a {PHONE[0]} px screen")
    shot("results", readme=True)


@journey("company")
def company():
    step("NVIDIA's staff signs in and opens the need form from its needs")
    sign_in(COMPANY_EMAIL)
    click_link("Your needs", within="header nav")
    see("Post a need")
    click_link("Post a need", within="main")
    expect(path().startswith("/needs/new"), f"'Post a need' led to {path()}")
    see("Who sees it", "Status")
    # What each visibility means is written on the form, by the choice.
    see(f"confidential: {CONFIDENTIAL_HINT}", within="form.edit")

    step("a confidential, open need in the words of Chen Yu-Ting's work")
    deadline = a_future_deadline()
    fill_need(deadline)
    shot("form")
    submit()
    expect(re.fullmatch(r"/needs/[0-9a-f-]{36}(\?.*)?", path()), f"posting the need led to {path()}")
    SHARED["need"] = path().split("?")[0]
    see(NEED_TITLE, within="h1")
    posted = facts()
    expect(posted.get("Status") == "open", f"the need's status reads {posted.get('Status')!r}, not 'open'")
    expect(
        posted.get("Who sees it") == "confidential",
        f"the need's visibility reads {posted.get('Who sees it')!r}, not 'confidential'",
    )
    expect(posted.get("Deadline") == deadline.isoformat(), f"the deadline reads {posted.get('Deadline')!r}")
    expect(posted.get("Budget") == "USD 150,000.00 – USD 300,000.00", f"the budget reads {posted.get('Budget')!r}")
    expect(posted.get("Ways of working together") == "sponsored research", f"the collaboration reads {posted}")
    see(NEED_SUMMARY)
    shot("need")

    step("the professors who fit, best first, each with the words that made the score")
    see("Professors who fit, best first", within="#ranked")
    rows = ranked()
    expect(rows, "no professor is ranked for the need")
    for r in rows:
        expect(r["meter"] is not None and r["score"], f"{r['name']} has no score (meter and figure)")
        expect(re.fullmatch(r"[01]\.\d\d", r["score"]), f"{r['name']}'s score reads {r['score']!r}")
        expect(abs(r["meter"] - float(r["score"])) <= 0.006, f"{r['name']}'s meter and figure differ: {r}")
    scores = [float(r["score"]) for r in rows]
    expect(scores == sorted(scores, reverse=True), f"the professors are not best first: {scores}")
    first = rows[0]
    expect(first["caption"] == "The words that made the score", f"the first professor's table: {first['caption']!r}")
    expect(first["terms"] > 0, "the words that made the first professor's score: no rows")
    expect(float(first["score"]) > 0, "the first professor scores 0")
    js("document.getElementById('ranked').scrollIntoView()")
    shot("ranked", readme=True)
    # The professor journey answers the invitation as Chen Yu-Ting: invite her when she is
    # ranked (she should be: the need is in her words), else the first professor.
    chosen = PROFESSOR if any(r["name"].startswith(PROFESSOR) for r in rows) else first["name"]
    expect(chosen == PROFESSOR, f"{PROFESSOR} is not ranked for a need in her words ({[r['name'] for r in rows]})")

    step(f"why is {UNRELATED_PROFESSOR} (biomaterials) not listed?")
    see("Why is a professor not listed?", within="#why")
    fill("The professor's name", UNRELATED_PROFESSOR)
    submit()
    click_link(link_starting(UNRELATED_PROFESSOR, within="main ul"))
    see(UNRELATED_PROFESSOR, NEED_TITLE, within="h1")
    see("This professor does not qualify for the need's list.")
    reasons = texts("ul.why-not li")
    expect(reasons, "no reason is given")
    expect(
        any(r.startswith("Professors for this need: No shared words.") for r in reasons),
        f"the reasons given: {reasons}",
    )
    shot("why-not")
    click_link("Back to the need")
    expect(path().split("?")[0] == SHARED["need"], f"'Back to the need' led to {path()}")

    step(f"shortlist, then invite, {chosen}")
    row = invite_professor(chosen)
    # Inviting comes back to the top of the page: the row, to show its state.
    js("document.querySelector(arguments[0]).scrollIntoView()", row)
    shot("invited")

    step("the engagements page lists the invitation")
    click_link("Engagements", within="header nav")
    listed = table_rows("table.list")["rows"]
    expect(
        [NEED_TITLE, PROFESSOR, "invited"] in [row[:3] for row in listed],
        f"the engagements do not list {PROFESSOR} invited to the need: {listed[:5]}",
    )
    shot("engagements")

    step("the needs list shows the need open and confidential")
    click_link("Your needs", within="header nav")
    mine = table_rows("table.list")["rows"]
    expect(
        [NEED_TITLE, "open", "confidential", deadline.isoformat()] in mine,
        f"the needs list does not show the need as posted: {mine[:5]}",
    )

    step("a budget that is not an amount is refused, the form kept as typed")
    click_link("Post a need", within="main")
    fill("Title", "A need with a vague budget")
    fill("From", "a lot")
    fill("To", "5000")
    fill("Currency (ISO code)", "USD")
    choose("public", prefix=True)
    submit(status=400)
    see("The form could not be saved:", "From: not an amount in this currency", within="[role=alert]")
    kept = js("return [document.getElementById('title').value, document.getElementById('budget_min').value]")
    expect(kept == ["A need with a vague budget", "a lot"], f"the refused form holds {kept}")
    shot("bad-budget")


def answering_need():
    """The need Chen Yu-Ting is invited to, and its engagement: the company journey's when
    it ran in this run, else made now through the same pages (so `--only professor` works)."""
    if SHARED.get("need") and SHARED.get("engagement"):
        return
    step("(run alone) NVIDIA's staff posts the confidential need and invites Chen Yu-Ting")
    sign_in(COMPANY_EMAIL)
    visit("/needs/new?lang=en")
    fill_need(a_future_deadline())
    submit()
    SHARED["need"] = path().split("?")[0]
    invite_professor(PROFESSOR)
    sign_out()


@journey("professor", after="company")
def professor():
    answering_need()
    need_link = f"a[href^='{SHARED['need']}?'], a[href='{SHARED['need']}']"

    step("Chen Yu-Ting signs in and opens her profile: the invitation to answer")
    sign_in(PROFESSOR_EMAIL)
    click_link("Your profile", within="header nav")
    expect(re.fullmatch(r"/faculty/[0-9a-f-]{36}(\?.*)?", path()), f"'Your profile' led to {path()}")
    profile = path().split("?")[0]
    see(PROFESSOR, within="h1")
    see("Invitations to answer", within="section.invitations")
    invited = js(
        "return [...document.querySelectorAll('section.invitations li')].findIndex(li => li.querySelector(arguments[0]))",
        need_link,
    )
    expect(invited >= 0, "the company's invitation is not among those to answer")
    invitation = f"section.invitations li:nth-child({invited + 1})"
    see(NEED_TITLE, within=invitation)
    shot("invitation", readme=True)

    step("the open needs that fit her, best first, with their reasons")
    see("Open needs that fit, best first", within="#fitting")
    fitting = js(
        """return [...document.querySelectorAll('section[aria-labelledby=fitting] ol.matches > li')].map(li => ({
            title: li.querySelector('h3 a').innerText.trim(),
            href: li.querySelector('h3 a').getAttribute('href'),
            score: li.querySelector('.score strong') ? li.querySelector('.score strong').innerText.trim() : null,
            terms: li.querySelectorAll('table.terms tbody tr').length,
        }));"""
    )
    expect(fitting, "no open need fits her")
    expect(fitting[0]["score"] and fitting[0]["terms"] > 0, f"the best need has no score or no words: {fitting[0]}")
    js("document.getElementById('fitting').scrollIntoView()")
    shot("needs-that-fit")

    step(f"she declines the invitation: {DECLINE_REASON}")
    select("Why", DECLINE_REASON, within=invitation)
    fill("In your words (optional; required for “other”)", DECLINE_TEXT, within=invitation)
    press("Decline", within=invitation)
    expect(path().split("?")[0] == profile, f"declining led to {path()}, not back to her profile")
    expect(
        not js("return document.querySelector('section.invitations ' + arguments[0])", need_link),
        "the invitation is still there after declining it",
    )

    step("the engagement's history keeps her reason")
    click_link("Engagements", within="header nav")
    row = js(
        """for (const tr of document.querySelectorAll('table.list tbody tr')) {
            const a = tr.querySelector('a[href]');
            if (a && a.getAttribute('href').split('?')[0] === arguments[0])
                return {link: a.innerText.trim(), cells: [...tr.cells].map(c => c.innerText.trim())};
        }
        return null;""",
        SHARED["engagement"],
    )
    expect(row, f"the engagements page does not list {SHARED['engagement']}")
    expect(row["cells"][1:3] == [PROFESSOR, "declined"], f"the engagement's row reads {row['cells']}")
    # Once declined, a confidential need is hidden from her again: the row says so.
    expect(row["link"] == "a need you can no longer see", f"the row names the need {row['link']!r}")
    click_link(row["link"], within="table.list")
    expect(path().split("?")[0] == SHARED["engagement"], f"the engagement's link led to {path()}")
    expect(facts().get("Status") == "declined", f"the engagement's status reads {facts().get('Status')!r}")
    history = texts("ol.history li")
    expect(
        any("invited → declined" in h and DECLINE_REASON in h and DECLINE_TEXT in h for h in history),
        f"no history line with her reason: {history}",
    )
    shot("declined")

    step("she says she is interested in another open public need that fits her")
    click_link("Your profile", within="header nav")
    chosen = None
    for need in fitting:
        if need["href"].split("?")[0] == SHARED["need"]:
            continue
        visit(need["href"])
        about = facts()
        if about.get("Who sees it") == "public" and about.get("Status") == "open":
            if js("return [...document.querySelectorAll('main button')].some(b => b.innerText.trim() === arguments[0])",
                  f"I am interested ({PROFESSOR})"):
                chosen = need
                break
    expect(chosen, f"no open public need that fits her lets her say she is interested: {fitting}")
    press(f"I am interested ({PROFESSOR})")
    expect(path().split("?")[0] == chosen["href"].split("?")[0], f"saying so led to {path()}")
    see(f"{PROFESSOR}: interested", within="main")
    not_see(f"I am interested ({PROFESSOR})", within="main")
    shot("interested")

    step("she edits her profile: one more keyword and a new publication")
    visit(profile + "?lang=en")
    click_link("Edit the profile", within="main")
    old_publications = js("return document.getElementById('publications').value").splitlines()
    expect(len(old_publications) >= 1, "her profile form shows no publications")
    append("Keywords", f", {NEW_KEYWORD}")
    append("Publications", f"\n{NEW_PUBLICATION}")
    shot("edit")
    submit()
    expect(path().split("?")[0] == profile, f"saving led to {path()}, not her profile")
    keywords = facts().get("Keywords", "")
    expect(NEW_KEYWORD in [k.strip() for k in keywords.split(",")], f"her keywords read {keywords!r}")
    see(f"Publications ({len(old_publications) + 1})")
    listed = texts("ol.publications li")
    expect("A new paper title (2026) · MLSys" in listed, f"the new publication is not listed: {listed}")
    shot("profile-saved")

    step("the form again keeps her earlier publications")
    click_link("Edit the profile", within="main")
    now = js("return document.getElementById('publications').value").splitlines()
    for line in old_publications:
        expect(line in now, f"the publication {line!r} is gone from the form: {now}")
    expect(NEW_PUBLICATION in now, f"the new publication is not in the form: {now}")

    step("the interface in Korean")
    visit(profile + "?lang=en")
    click_link("한국어", within="header")
    expect(lang() == "ko", f"the page is in {lang()!r} after choosing 한국어")
    see("내 프로필", "협력 진행", within="header nav")
    see("프로필 수정", "맞는 공개 과제 (높은 순)", within="main")
    expect(texts("header ul.languages a[aria-current]") == ["한국어"], "한국어 is not marked current")
    shot("korean")


@journey("office", viewport=OFFICE_VIEWPORT)
def office():
    step("NTU's liaison office signs in and follows the header to its dashboard")
    sign_in(OFFICE_EMAIL)
    see(OFFICE_NAV, within="header nav")
    click_link(OFFICE_NAV, within="header nav")
    expect(path().split("?")[0] == "/office", f"{OFFICE_NAV!r} led to {path()}")
    expect(texts("header nav a[aria-current=page]") == [OFFICE_NAV], "the header does not mark the dashboard current")
    see("Liaison office · National Taiwan University", within="h1")
    see("Download the reports", "From needs to funded projects", "Funding by year", "Research centres", "Funded projects")

    step("the funnel: a chart with a title, each bar's number beside it, the same figures in its table")
    stages = check_funnel()
    expect(stages[0][1] > 0, f"no need with an engagement in the demo's funnel: {stages}")
    expect(js("return window.scrollY") == 0, "the dashboard did not open at its top")
    expect(
        js("const r = document.querySelector('section.funnel svg.chart').getBoundingClientRect();"
           "return r.top >= 0 && r.bottom <= window.innerHeight"),
        "the funnel chart is not wholly on the first screen",
    )
    shot("dashboard", readme=True)

    step("funding by year: one chart and table per currency, each column's Total the sum of its years")
    figures = funding_figures()
    expect(figures, "no funding chart")
    for f in figures:
        currency = (f["heading"] or "").split()[-1] if f["heading"] else None
        expect(re.fullmatch(r"[A-Z]{3}", currency or ""), f"a funding figure's heading reads {f['heading']!r}")
        expect(f["role"] == "img" and f["title"] == f["heading"], f"the {currency} chart: role {f['role']!r}, title {f['title']!r}")
        expect(f["head"] is not None, f"no table follows the {currency} chart")
        kinds = [h.removesuffix(f" ({currency})") for h in f["head"][1:]]
        expect(len(kinds) == 3 and all(f"({currency})" in h for h in f["head"][1:]), f"the {currency} table's columns: {f['head']}")
        years = [r[0] for r in f["rows"]]
        expect(years and f["years"] == years, f"the {currency} chart's years {f['years']}, its table's {years}")
        # Beside each year's three bars: "Committed 1,234.00", "Pipeline …", "Received …".
        expect(len(f["values"]) == 3 * len(years), f"the {currency} chart writes {len(f['values'])} figures for {len(years)} years")
        for i, r in enumerate(f["rows"]):
            written = f["values"][3 * i:3 * i + 3]
            expect(written == [f"{k} {v}" for k, v in zip(kinds, r[1:])], f"{currency} {r[0]}: chart {written}, table {r[1:]}")
        expect(len(f["foot"]) == 1 and f["foot"][0][0] == "Total", f"the {currency} table's foot: {f['foot']}")
        for col in range(1, 4):
            added = sum(figure_number(r[col]) for r in f["rows"])
            total = figure_number(f["foot"][0][col])
            expect(added == total, f"{currency} {f['head'][col]}: the years add up to {added}, Total says {total}")
    js("document.getElementById('funding').scrollIntoView()")
    shot("funding")

    step("research centres: one with its partners and its GPU compute")
    listed = centres()
    expect(listed, "no research centre is listed")
    gpu = re.compile(r"\d[\d,]* GPUs")
    equipped = [
        c for c in listed
        if c["facts"].get("Partners") and any(gpu.search(r) for r in c["facts"].get("Compute resources", []))
    ]
    expect(equipped, f"no centre lists partners and GPU compute resources: {listed}")
    js("document.getElementById('centers').scrollIntoView()")
    shot("centres")

    step("funded projects: each with its amount, what is scheduled and what was received")
    projects = table_rows("section.projects table.projects")
    expect(projects and projects["rows"], "no funded project is listed")
    cols = [projects["head"].index(h) for h in ("Amount", "Scheduled", "Received")]
    money = re.compile(r"([A-Z]{3}) (-?[\d,]+(?:\.\d+)?)")
    for row in projects["rows"]:
        cells = [money.fullmatch(row[i]) for i in cols]
        expect(all(cells), f"the project {row[0]!r} shows amount, scheduled, received as {[row[i] for i in cols]}")
        expect(len({c.group(1) for c in cells}) == 1, f"the project {row[0]!r} mixes currencies: {[row[i] for i in cols]}")
        amount, _, received = (figure_number(c.group(2)) for c in cells)
        expect(amount > 0 and 0 <= received <= amount, f"the project {row[0]!r}: {[row[i] for i in cols]}")
    projects_before = len(projects["rows"])
    js("document.getElementById('projects').scrollIntoView()")
    shot("projects")

    step("the CSV files: each link answers a CSV attachment with a header line")
    js("window.scrollTo(0, 0)")
    links = texts("section.exports a[href]")
    expect(len(links) == 4, f"the reports to download: {links}")
    for name in links:
        got = fetch_link(name, within="section.exports")
        file = re.search(r"\(([\w-]+\.csv)\)$", name)
        expect(file, f"the link {name!r} does not name its file")
        expect(got["download"] is not None, f"the link {name!r} has no download attribute")
        expect(got["status"] == 200, f"{got['url']} answered {got['status']}")
        kind = got["headers"].get("content-type", "")
        expect(kind.split(";")[0].strip() == "text/csv", f"{got['url']} is {kind!r}, not text/csv")
        disposition = got["headers"].get("content-disposition", "")
        expect(
            disposition.startswith("attachment") and f'filename="{file.group(1)}"' in disposition,
            f"{got['url']}: Content-Disposition {disposition!r}",
        )
        first = got["body"].lstrip("\ufeff").split("\n", 1)[0]
        expect("," in first and "<" not in got["body"], f"{file.group(1)} does not open with a CSV header: {first!r}")
        expect(re.fullmatch(r"[a-z_]+(,[a-z_]+)+\r?", first), f"{file.group(1)}'s first line is no header: {first!r}")
        if file.group(1) == "funnel.csv":
            counts = {r[0]: r[1] for r in csv_rows(got["body"])[1:] if len(r) == 2}
            from_file = [int(counts.get(s, -1)) for s in FUNNEL_STAGES]
            expect(from_file == [n for _, n in stages], f"funnel.csv says {from_file}, the page {stages}")
    expect(path().split("?")[0] == "/office", f"reading the files moved the browser to {path()}")

    step(f"the period from {LATER}: the figures drop")
    fill_date("From", LATER)
    press("Show", within="form.period")
    expect(f"from={LATER}" in path(), f"'Show' led to {path()}")
    expect(js("return document.getElementById('from').value") == LATER.isoformat(), "the form forgot the date")
    later = check_funnel()
    expect(all(n == 0 for _, n in later), f"the funnel from {LATER} is not empty: {later}")
    see("No funding is recorded for this period.", within="section.funding")
    expect(not funding_figures(), f"funding charts from {LATER}")
    projects_after = table_rows("section.projects table.projects")
    expect(
        projects_after is None or len(projects_after["rows"]) <= projects_before,
        f"more funded projects from {LATER} than in all time",
    )
    hrefs = js("return [...document.querySelectorAll('section.exports a[href]')].map(a => a.getAttribute('href'))")
    expect(all(f"from={LATER}" in h for h in hrefs), f"the files to download are not for the period: {hrefs}")
    shot("later-period")

    step("a date that is not one, typed in the address: the 400 page says so")
    visit("/office?from=notadate", status=400)
    see("This dashboard cannot be shown:", "must be a date (YYYY-MM-DD)", within="[role=alert]")
    shot("bad-date")

    step("the dashboard in Traditional Chinese")
    click_link(OFFICE_NAV, within="header nav")
    english = check_funnel()
    click_link("繁體中文", within="header")
    expect(lang() == "zh-Hant", f"the page is in {lang()!r} after choosing 繁體中文")
    expect(texts("header nav a[aria-current=page]") == [OFFICE_NAV_ZH], f"the header's link reads {texts('header nav a[aria-current=page]')}")
    expect(texts("header ul.languages a[aria-current]") == ["繁體中文"], "繁體中文 is not marked current")
    see(OFFICE_HEADING_ZH, within="h1")
    see("下載報表", "從需求到受資助計畫", "年度經費", "研究中心", "受資助計畫", within="main")
    chinese = check_funnel()
    expect([n for _, n in chinese] == [n for _, n in english], f"the funnel in Chinese {chinese}, in English {english}")
    shot("chinese")
    sign_out()

    step("a company's staff is refused the dashboard (403)")
    sign_in(COMPANY_EMAIL)
    not_see(OFFICE_NAV, within="header nav")
    visit("/office", status=403)
    see(OFFICE_FORBIDDEN, within="[role=alert]")
    shot("forbidden")


if __name__ == "__main__":
    sys.exit(main())
