"""How Liaison's costs grow with the corpus (issue 26): reads the outputs of `bench` at
several sizes (one file per size, as bench/growth.sh writes them), prints a Markdown table
with the fitted growth exponent of each measure (the slope of log(measure) against
log(profiles), least squares), and writes a log-log plot as SVG.

    python3 bench/growth.py OUT.svg 10000.txt 30000.txt 100000.txt 300000.txt

Python's standard library only.
"""

import math
import re
import sys

# (label, how to read it from a bench output, unit)
MEASURES = [
    ("search p50, c16", r"## Search latency.*?\n\| 16 \| \d+ \| ([\d.]+) \|", "ms"),
    ("search p99, c16", r"## Search latency.*?\n\| 16 \| \d+ \| [\d.]+ \| [\d.]+ \| ([\d.]+) \|", "ms"),
    ("match p50, c1", r"## Match latency.*?\n\| 1 \| \d+ \| ([\d.]+) \|", "ms"),
    ("match p99, c1", r"## Match latency.*?\n\| 1 \| \d+ \| [\d.]+ \| [\d.]+ \| ([\d.]+) \|", "ms"),
    ("match p99, c16", r"## Match latency.*?\n\| 16 \| \d+ \| [\d.]+ \| [\d.]+ \| ([\d.]+) \|", "ms"),
    ("import, database + index", r"database \+ index:\s+[\d.]+ s = (\d+) profiles/s", "profiles/s"),
    ("index size", r"index size on disk:\s+(\d+) MB", "MB"),
    ("peak RSS", r"peak RSS \(VmHWM\): (\d+) MiB", "MiB"),
]
COLOURS = ["#0b5394", "#6fa8dc", "#a61b1b", "#e06666", "#d35400", "#38761d", "#674ea7", "#4a4a4a"]
DASHES = ["", "6 3", "", "6 3", "2 3", "", "", "6 3"]


def read(path):
    text = open(path, encoding="utf-8").read()
    n = int(re.search(r"corpus: (\d+) profiles", text).group(1))
    values = {}
    for label, pattern, _ in MEASURES:
        m = re.search(pattern, text, re.S)
        values[label] = float(m.group(1)) if m else None
    return n, values


def slope(points):
    xs = [math.log(x) for x, _ in points]
    ys = [math.log(y) for _, y in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx if sxx else float("nan")


def plot(path, sizes, rows):
    """A log-log plot: profiles across, each measure relative to its value at the smallest
    size (so that ms, MB and profiles/s share one axis), labelled at its line's end."""
    w, h, left, right, top, bottom = 760, 440, 70, 230, 30, 50
    lx = [math.log10(n) for n in sizes]
    series = []
    for (label, _, unit), colour, dash in zip(MEASURES, COLOURS, DASHES):
        pts = [(n, r[label]) for n, r in zip(sizes, rows) if r[label]]
        if len(pts) >= 2:
            base = pts[0][1]
            series.append((label, unit, colour, dash, [(n, v / base) for n, v in pts]))
    ys = [math.log10(v) for s in series for _, v in s[4]]
    y0, y1 = math.floor(min(ys + [0]) * 2) / 2, math.ceil(max(ys + [0]) * 2) / 2
    y1 = max(y1, y0 + 0.5)
    x0, x1 = min(lx), max(lx)
    X = lambda n: left + (math.log10(n) - x0) / (x1 - x0) * (w - left - right)
    Y = lambda v: top + (y1 - math.log10(v)) / (y1 - y0) * (h - top - bottom)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">',
           f'<title>How each measure grows with the number of profiles (log-log, relative to {sizes[0]:,})</title>',
           '<rect width="100%" height="100%" fill="#fff"/>']
    for n in sizes:
        out.append(f'<line x1="{X(n):.1f}" y1="{top}" x2="{X(n):.1f}" y2="{h - bottom}" stroke="#ddd"/>')
        out.append(f'<text x="{X(n):.1f}" y="{h - bottom + 16}" text-anchor="middle">{n:,}</text>')
    k = y0
    while k <= y1 + 1e-9:
        v = 10 ** k
        out.append(f'<line x1="{left}" y1="{Y(v):.1f}" x2="{w - right}" y2="{Y(v):.1f}" stroke="#eee"/>')
        out.append(f'<text x="{left - 6}" y="{Y(v) + 4:.1f}" text-anchor="end">×{v:.2g}</text>')
        k += 0.5
    # The line of linear growth, for reference.
    out.append(f'<line x1="{X(sizes[0]):.1f}" y1="{Y(1):.1f}" x2="{X(sizes[-1]):.1f}" '
               f'y2="{Y(sizes[-1] / sizes[0]):.1f}" stroke="#999" stroke-dasharray="1 4"/>')
    out.append(f'<text x="{X(sizes[-1]) - 4:.1f}" y="{Y(sizes[-1] / sizes[0]) - 6:.1f}" text-anchor="end" fill="#666">linear</text>')
    labels = []
    for label, unit, colour, dash, pts in series:
        d = " ".join(f"{X(n):.1f},{Y(v):.1f}" for n, v in pts)
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<polyline points="{d}" fill="none" stroke="{colour}" stroke-width="2"{extra}/>')
        for n, v in pts:
            out.append(f'<circle cx="{X(n):.1f}" cy="{Y(v):.1f}" r="3" fill="{colour}"/>')
        labels.append([Y(pts[-1][1]), label, colour, slope(pts)])
    # Labels at the right, nudged apart so that none overlaps.
    labels.sort()
    for i in range(1, len(labels)):
        labels[i][0] = max(labels[i][0], labels[i - 1][0] + 14)
    for y, label, colour, k in labels:
        out.append(f'<text x="{w - right + 8}" y="{y + 4:.1f}" fill="{colour}">{label} (n^{k:.2f})</text>')
    out.append(f'<text x="{(left + w - right) / 2:.0f}" y="{h - 12}" text-anchor="middle">profiles (log scale)</text>')
    out.append("</svg>")
    open(path, "w", encoding="utf-8").write("\n".join(out) + "\n")


def main():
    svg, files = sys.argv[1], sys.argv[2:]
    data = sorted(read(f) for f in files)
    sizes = [n for n, _ in data]
    rows = [r for _, r in data]
    print("| measure | " + " | ".join(f"{n:,}" for n in sizes) + " | growth exponent |")
    print("|---|" + "---|" * len(sizes) + "---|")
    for label, _, unit in MEASURES:
        pts = [(n, r[label]) for n, r in zip(sizes, rows) if r[label]]
        cells = " | ".join(f"{r[label]:g}" if r[label] is not None else "–" for r in rows)
        print(f"| {label} ({unit}) | {cells} | {slope(pts):.2f} |")
    plot(svg, sizes, rows)
    print(f"\nplot: {svg}")


if __name__ == "__main__":
    main()
