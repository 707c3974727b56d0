"""The report as an SVG chart, written as plain text (no plotting library): a stacked bar per design,
one colour per service (USD per 1,000 workflows), and each design's latency p50-p99 on a second axis."""

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
WIDTH, HEIGHT = 1000, 520
LEFT, RIGHT, TOP, BOTTOM = 80, 400, 60, 90


def render_chart(report: CostReport) -> str:
    names = list(report.designs)
    scale = 1000 / report.workflows_a_month  # monthly USD -> USD per 1,000 workflows
    tallest = max(report.designs[n].total * scale for n in names) or 1.0
    slowest = max(report.designs[n].latency.p99_ms for n in names) or 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    bar_w = plot_w / len(names) * 0.55
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{LEFT}" y="24" font-size="15" font-weight="bold">'
        f"{escape(report.workflow)}: USD per 1,000 workflows by service, and end-to-end latency</text>",
        f'<text x="{LEFT}" y="42" fill="#555">{report.workflows_a_month:,.0f} workflows a month, prices '
        f"{escape(report.prices.region)} read {escape(report.prices.read_on)}, sample {report.sample} "
        f"(seed {report.seed}); hybrid measured, the others modelled from it</text>",
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" stroke="#333"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="#333"/>',
        f'<line x1="{LEFT + plot_w}" y1="{TOP}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" stroke="#999"/>',
    ]
    for tick in range(5):
        value = tallest * tick / 4
        y = TOP + plot_h - plot_h * tick / 4
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">${value:.3f}</text>')
        parts.append(
            f'<text x="{LEFT + plot_w + 6}" y="{y + 4:.1f}" fill="#333">{slowest * tick / 4:,.0f} ms</text>'
        )
    for index, name in enumerate(names):
        result = report.designs[name]
        x = LEFT + plot_w / len(names) * (index + 0.5) - bar_w / 2
        y = TOP + plot_h
        for colour, service in zip(_COLOURS, SERVICES, strict=True):
            height = result.services.get(service, 0.0) * scale / tallest * plot_h
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
        label_y = TOP + plot_h + 18
        for line, text in enumerate([*_two_lines(TITLES[name]), f"({result.basis})"]):
            colour = "#555" if text.startswith("(") else "#000"
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{label_y + 14 * line}" text-anchor="middle" '
                f'fill="{colour}">{escape(text)}</text>'
            )
        # The latency marker: a line from p50 to p99 on the right axis, a dot at p50.
        cx = x + bar_w + 12
        y50 = TOP + plot_h - result.latency.p50_ms / slowest * plot_h
        y99 = TOP + plot_h - result.latency.p99_ms / slowest * plot_h
        parts.append(
            f'<line x1="{cx:.1f}" y1="{y50:.1f}" x2="{cx:.1f}" y2="{y99:.1f}" '
            'stroke="#000" stroke-width="2"/>'
        )
        parts.append(f'<circle cx="{cx:.1f}" cy="{y50:.1f}" r="4" fill="#000"/>')
        parts.append(
            f'<text x="{cx:.1f}" y="{y99 - 6:.1f}" font-size="10" text-anchor="middle">'
            f"p50 {result.latency.p50_ms:,.0f} / "
            f"p99 {result.latency.p99_ms:,.0f} ms</text>"
        )
    legend_x = WIDTH - RIGHT + 110
    for index, (colour, service) in enumerate(zip(_COLOURS, SERVICES, strict=True)):
        y = TOP + index * 20
        parts.append(f'<rect x="{legend_x}" y="{y}" width="12" height="12" fill="{colour}"/>')
        parts.append(f'<text x="{legend_x + 18}" y="{y + 10}">{escape(service)}</text>')
    y = TOP + len(SERVICES) * 20 + 10
    parts.append(
        f'<line x1="{legend_x + 6}" y1="{y}" x2="{legend_x + 6}" y2="{y + 14}" '
        'stroke="#000" stroke-width="2"/>'
    )
    parts.append(f'<circle cx="{legend_x + 6}" cy="{y + 14}" r="4" fill="#000"/>')
    parts.append(f'<text x="{legend_x + 18}" y="{y + 12}">latency p50 (dot) to p99</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


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
