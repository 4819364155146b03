"""The web app's journeys, as a person walks them in Chromium against `liaison demo` (run by
`tests/browser/run`). A journey is one function registered with `@journey("name")`: it
gets a browser of its own (no cookies), and every page it reaches is checked (status, size,
labels, one h1, lang; see harness.py). Adding one, in short:

    @journey("office")
    def office():
        step("the office signs in")
        sign_in("ilo@ntu.example")
        click_link("…")
        shot("dashboard", readme=True)

The demo's records used here are in src/demo/ (people.json, world.json) and
tests/fixtures/match-eval.json; its accounts' password is harness.DEMO_PASSWORD.
"""

import datetime
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
    listed = js(
        """return [...document.querySelectorAll('table.list tbody tr')].map(tr =>
            [...tr.cells].map(c => c.innerText.trim()));"""
    )
    expect(
        [NEED_TITLE, PROFESSOR, "invited"] in [row[:3] for row in listed],
        f"the engagements do not list {PROFESSOR} invited to the need: {listed[:5]}",
    )
    shot("engagements")

    step("the needs list shows the need open and confidential")
    click_link("Your needs", within="header nav")
    mine = js(
        """return [...document.querySelectorAll('table.list tbody tr')].map(tr =>
            [...tr.cells].map(c => c.innerText.trim()));"""
    )
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


if __name__ == "__main__":
    sys.exit(main())
