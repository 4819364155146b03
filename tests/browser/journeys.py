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

import re
import sys

from harness import (  # noqa: F401 - the helpers a journey is written with
    DEMO_PASSWORD,
    ENTER,
    PHONE,
    TAB,
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


if __name__ == "__main__":
    sys.exit(main())
