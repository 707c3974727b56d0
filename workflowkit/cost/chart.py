"""The report as an SVG chart, written as plain text (no plotting library), in two panels that list the
designs in one sequence: on the left a stacked bar per design, one colour per service (USD per 1,000
workflows); on the right each design's end-to-end latency, a bar to p50 and a whisker to p99. Two panels,
not one with a second axis: cost and latency have no common scale, and markers drawn over the bars hid
them."""

from __future__ import annotations

from html import escape
from pathlib import Path

from workflowkit.cost.bill import SERVICES
from workflowkit.cost.designs import TITLES
from workflowkit.cost.run import CostReport

_COLOURS = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
    "#86bcb6",
)
WIDTH, HEIGHT = 1100, 560
TOP, BOTTOM = 80, 100
COST_LEFT, COST_WIDTH = 80, 470  # the cost panel's plot area
LEGEND_LEFT = COST_LEFT + COST_WIDTH + 20
LATENCY_LEFT, LATENCY_WIDTH = 860, 200  # the latency panel: one horizontal bar per design
PLOT_HEIGHT = HEIGHT - TOP - BOTTOM


def render_chart(report: CostReport) -> str:
    names = list(report.designs)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{COST_LEFT}" y="24" font-size="15" font-weight="bold">'
        f"{escape(report.workflow)}: what each pattern costs, and how long a workflow takes</text>",
        f'<text x="{COST_LEFT}" y="42" fill="#555">{report.workflows_a_month:,.0f} workflows a month, prices '
        f"{escape(report.prices.region)} read {escape(report.prices.read_on)}, sample {report.sample} "
        f"(seed {report.seed}); the hybrid is measured, the others modelled from it (docs/cost.md)</text>",
    ]
    parts += _cost_panel(report, names)
    parts += _legend()
    parts += _latency_panel(report, names)
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _cost_panel(report: CostReport, names: list[str]) -> list[str]:
    scale = 1000 / report.workflows_a_month  # monthly USD -> USD per 1,000 workflows
    # Headroom above the tallest bar for its total's label.
    tallest = 1.12 * max(report.designs[n].total * scale for n in names) or 1.0
    bottom = TOP + PLOT_HEIGHT
    slot = COST_WIDTH / len(names)
    bar_w = slot * 0.6
    parts = [
        f'<text x="{COST_LEFT}" y="{TOP - 16}" font-weight="bold">USD per 1,000 workflows, by service</text>',
        f'<line x1="{COST_LEFT}" y1="{bottom}" x2="{COST_LEFT + COST_WIDTH}" y2="{bottom}" stroke="#333"/>',
        f'<line x1="{COST_LEFT}" y1="{TOP}" x2="{COST_LEFT}" y2="{bottom}" stroke="#333"/>',
    ]
    for tick in range(5):
        y = bottom - PLOT_HEIGHT * tick / 4
        parts.append(
            f'<text x="{COST_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">${tallest * tick / 4:.3f}</text>'
        )
        if tick:
            parts.append(
                f'<line x1="{COST_LEFT}" y1="{y:.1f}" x2="{COST_LEFT + COST_WIDTH}" y2="{y:.1f}" '
                'stroke="#eee"/>'
            )
    for index, name in enumerate(names):
        result = report.designs[name]
        x = COST_LEFT + slot * index + (slot - bar_w) / 2
        y = float(bottom)
        for colour, service in zip(_COLOURS, SERVICES, strict=True):
            height = result.services.get(service, 0.0) * scale / tallest * PLOT_HEIGHT
            if height <= 0:
                continue
            y -= height
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{height:.1f}" fill="{colour}">'
                f"<title>{escape(service)}: ${result.services[service] * scale:.4f}</title></rect>"
            )
        parts.append(
            f'<text x="{x + bar_w / 2:.1f}" y="{y - 6:.1f}" text-anchor="middle" font-weight="bold">'
            f"${result.total * scale:.3f}</text>"
        )
        for line, text in enumerate([*_two_lines(TITLES[name]), f"({result.basis})"]):
            colour = "#555" if text.startswith("(") else "#000"
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{bottom + 18 + 14 * line}" text-anchor="middle" '
                f'fill="{colour}">{escape(text)}</text>'
            )
    return parts


def _legend() -> list[str]:
    parts = []
    for index, (colour, service) in enumerate(zip(_COLOURS, SERVICES, strict=True)):
        y = TOP + index * 20
        parts.append(f'<rect x="{LEGEND_LEFT}" y="{y}" width="12" height="12" fill="{colour}"/>')
        parts.append(f'<text x="{LEGEND_LEFT + 18}" y="{y + 10}">{escape(service)}</text>')
    return parts


def _latency_panel(report: CostReport, names: list[str]) -> list[str]:
    slowest = max(report.designs[n].latency.p99_ms for n in names) or 1.0
    row = PLOT_HEIGHT / len(names)
    bar_h = row * 0.4
    left, bottom = LATENCY_LEFT, TOP + PLOT_HEIGHT
    parts = [
        f'<text x="{left - 150}" y="{TOP - 16}" font-weight="bold">'
        "end-to-end latency, happy path (ms)</text>",
        f'<line x1="{left}" y1="{TOP}" x2="{left}" y2="{bottom}" stroke="#333"/>',
        f'<line x1="{left}" y1="{bottom}" x2="{left + LATENCY_WIDTH}" y2="{bottom}" stroke="#333"/>',
    ]
    for tick in range(3):
        x = left + LATENCY_WIDTH * tick / 2
        parts.append(
            f'<text x="{x:.1f}" y="{bottom + 16}" text-anchor="middle">{slowest * tick / 2:,.0f}</text>'
        )
    for index, name in enumerate(names):
        latency = report.designs[name].latency
        y = TOP + row * index + (row - bar_h) / 2
        p50_x = left + latency.p50_ms / slowest * LATENCY_WIDTH
        p99_x = left + latency.p99_ms / slowest * LATENCY_WIDTH
        mid = y + bar_h / 2
        title = _two_lines(TITLES[name])
        for line, text in enumerate(title):
            line_y = mid + 4 + 14 * (line - (len(title) - 1) / 2)
            parts.append(f'<text x="{left - 8}" y="{line_y:.1f}" text-anchor="end">{escape(text)}</text>')
        parts += [
            f'<rect x="{left}" y="{y:.1f}" width="{p50_x - left:.1f}" height="{bar_h:.1f}" fill="#4e79a7">'
            f"<title>p50 {latency.p50_ms:,.0f} ms</title></rect>",
            f'<line x1="{p50_x:.1f}" y1="{mid:.1f}" x2="{p99_x:.1f}" y2="{mid:.1f}" stroke="#000" '
            'stroke-width="2"/>',
            f'<line x1="{p99_x:.1f}" y1="{y:.1f}" x2="{p99_x:.1f}" y2="{y + bar_h:.1f}" stroke="#000" '
            'stroke-width="2"/>',
            f'<text x="{left}" y="{y + bar_h + 14:.1f}" font-size="11" fill="#333">'
            f"p50 {latency.p50_ms:,.0f} · p99 {latency.p99_ms:,.0f}</text>",
        ]
    return parts


def _two_lines(title: str) -> list[str]:
    """A design's title on two lines when long (the bars' slots are narrow)."""
    words = title.split()
    if len(title) <= 18 or len(words) < 2:
        return [title]
    half = max(1, len(words) // 2)
    return [" ".join(words[:half]), " ".join(words[half:])]


def write_chart(report: CostReport, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_chart(report))
