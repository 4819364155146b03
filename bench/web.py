"""How fast the web app's pages answer on the demo data (issue 25: every page under 50 ms).

Started by bench/web.sh against a running `liaison demo`. For each demo role it signs in
through the form, walks the pages that role reaches by following links from its start
pages (same site, GET, web pages only, at most --pages of them), then asks each page
--runs times in turn, one request at a time, and prints each page's median, 99th percentile
and largest time and its size. Times are measured at the client on the same machine: the
request, the page built by the server, and the answer read in full.

Python's standard library only. Bounded: a fixed number of pages and requests, and every
request times out after 10 s.
"""

import argparse
import http.client
import re
import statistics
import sys
import time
import urllib.parse

PASSWORD = "liaison-demo-2026"
ROLES = [
    ("visitor", None, ["/", "/search?q=GPU", "/search?q=%EB%B0%98%EB%8F%84%EC%B2%B4",
                       "/search?q=%E8%A8%98%E6%86%B6%E9%AB%94", "/search?q=GPU&type=need"]),
    ("company", "alex.wu@nvidia.example", ["/needs", "/needs/new", "/engagements"]),
    ("professor", "chen.yuting@ntu.example", ["/profile", "/engagements"]),
    ("office", "ilo@ntu.example", ["/office", "/engagements"]),
]
# Pages a walk does not follow: forms that change something are posted, never got, and
# these lead out of the web app or only differ by language.
SKIP = re.compile(r"^/(docs|api|static|login|logout)|[?&]lang=(ko|zh-Hant)")


class Client:
    def __init__(self, host, port):
        self.host, self.port = host, port
        self.cookies = {}
        self.conn = http.client.HTTPConnection(host, port, timeout=10)

    def request(self, method, path, body=None):
        headers = {"Accept": "text/html", "Accept-Language": "en"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=body, headers=headers)
        res = self.conn.getresponse()
        data = res.read()
        for k, v in res.getheaders():
            if k.lower() == "set-cookie":
                name, _, rest = v.partition("=")
                value = rest.split(";", 1)[0]
                if value:
                    self.cookies[name] = value
                else:
                    self.cookies.pop(name, None)
        return res.status, res.getheader("Location"), data

    def follow(self, path):
        """GET, following redirects within the site: the final path, status and body."""
        for _ in range(5):
            status, location, data = self.request("GET", path)
            if status in (301, 302, 303, 307, 308) and location:
                path = urllib.parse.urlsplit(location)._replace(scheme="", netloc="").geturl()
                continue
            return path, status, data
        raise RuntimeError(f"too many redirects from {path}")

    def sign_in(self, email):
        _, _, page = self.request("GET", "/login")
        token = re.search(rb'name="csrf" value="([^"]+)"', page).group(1).decode()
        body = urllib.parse.urlencode({"csrf": token, "email": email, "password": PASSWORD})
        status, _, _ = self.request("POST", "/login", body)
        if status != 303:
            raise RuntimeError(f"{email} could not sign in ({status})")


def links(body):
    for href in re.findall(rb'<a [^>]*href="([^"]+)"', body):
        href = href.decode().replace("&amp;", "&")
        if href.startswith("/") and not href.startswith("//") and not SKIP.search(href):
            yield href.split("#", 1)[0]


def shape(path):
    """A page's kind: its path with ids left out, and the names of its parameters but `lang`."""
    parts = urllib.parse.urlsplit(path)
    keys = sorted({k for k, _ in urllib.parse.parse_qsl(parts.query)} - {"lang"})
    return re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}", "{id}", parts.path) + "?" + "&".join(keys)


def walk(client, starts, limit):
    """The pages reached from `starts`, breadth first, by their shape (one page per kind of
    address, e.g. one need, so that the walk covers every kind of page before repeating)."""
    seen_shapes, pages, queue = set(), [], list(starts)
    while queue and len(pages) < limit:
        path = queue.pop(0)
        if shape(path) in seen_shapes:
            continue
        seen_shapes.add(shape(path))
        final, status, body = client.follow(path)
        if final != path and shape(final) in seen_shapes:
            continue
        seen_shapes.add(shape(final))
        if status != 200:
            print(f"  skipped {path}: {status}", file=sys.stderr)
            continue
        pages.append(final)
        queue.extend(links(body))
    return pages


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--pages", type=int, default=25, help="pages per role at most")
    a = ap.parse_args()
    rows = []
    for role, email, starts in ROLES:
        c = Client(a.host, a.port)
        if email:
            c.sign_in(email)
        for path in walk(c, starts, a.pages):
            times, size = [], 0
            c.request("GET", path)  # once before timing: connection and caches warm
            for _ in range(a.runs):
                t = time.perf_counter()
                status, _, body = c.request("GET", path)
                times.append((time.perf_counter() - t) * 1000)
                size = len(body)
                if status != 200:
                    raise RuntimeError(f"{role} {path}: {status}")
            times.sort()
            p99 = times[min(len(times) - 1, round(0.99 * (len(times) - 1)))]
            rows.append((role, path, statistics.median(times), p99, times[-1], size))
    width = max(len(r[1]) for r in rows)
    print(f"{'role':<10} {'page':<{width}} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'KB':>6}")
    for role, path, p50, p99, top, size in rows:
        print(f"{role:<10} {path:<{width}} {p50:7.1f} {p99:7.1f} {top:7.1f} {size / 1024:6.1f}")
    over = [r for r in rows if r[3] >= 50]
    print(f"\n{len(rows)} pages, {a.runs} requests each; "
          f"slowest p99 {max(r[3] for r in rows):.1f} ms ({max(rows, key=lambda r: r[3])[1]}); "
          f"largest {max(r[5] for r in rows) / 1024:.1f} KB; "
          f"{len(over)} page(s) with p99 of 50 ms or more")


if __name__ == "__main__":
    main()
