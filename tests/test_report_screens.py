"""The report as a reader sees it: headless Chromium at desktop (1280 px) and phone (412 px) width.

For the three pages a newcomer makes first (the example; with ``--uncertainty``; with
``--model ipcc,rothc``), at both widths (the page is shown in a frame of exactly that width:
headless Chromium's window is never narrower than 500 px, and would crop a 500 px layout
to a 412 px picture):

* a copy of the page with a measuring script is loaded, its measures read from the dumped
  DOM: the page never scrolls sideways, every chart fits (and fills) its card, every table
  stays inside its card (a wide table scrolls within it);
* in the same run a screenshot is taken and checked for the figures' Okabe-Ito colours.

Set ``FOURP1000_SCREENSHOTS=DIR`` to keep the screenshots for a look. The module skips
where Chromium is not installed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from fourp1000.cli import main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE, CLIMATE = ROOT / "examples" / "plots.csv", ROOT / "examples" / "climate.csv"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
WIDTHS = (1280, 412)
SHOT_HEIGHT = {1280: 4000, 412: 8000}  # px: the summary, tables and first figures
PAGES = {
    "example": [],
    "uncertainty": ["--uncertainty", "--draws", "200"],
    "both_models": ["--model", "ipcc,rothc", "--climate", str(CLIMATE)],
}
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed")

# Measures the layout after load and writes it, as JSON, into the page for --dump-dom.
MEASURE = """<script>
(function () {
  const vw = window.innerWidth, box = e => e.getBoundingClientRect();
  const out = {vw: vw, page: document.documentElement.scrollWidth, charts: [], wraps: [], sections: []};
  for (const svg of document.querySelectorAll("svg.chart")) {
    const card = box(svg.closest("figure")), r = box(svg);
    out.charts.push({left: r.left, right: r.right, width: r.width, card_left: card.left, card_right: card.right,
                     card_width: card.width});
  }
  for (const w of document.querySelectorAll(".table-wrap")) {
    out.wraps.push({right: box(w).right, client: w.clientWidth, scroll: w.scrollWidth});
  }
  for (const s of document.querySelectorAll("section")) { out.sections.push(box(s).right); }
  parent.postMessage(JSON.stringify(out), "*");
})();
</script>"""
# A frame of the width under test; the measures the page posts are written where --dump-dom sees them.
FRAME = """<!DOCTYPE html><html><body style="margin:0;background:#fff">
<iframe src="{src}" style="border:0;width:{width}px;height:{height}px;display:block"></iframe>
<pre id="measure"></pre><script>
window.addEventListener("message", e => {{ document.getElementById("measure").textContent = e.data; }});
</script></body></html>"""
FRAME_HEIGHT = 30000  # taller than any page here: the page itself never scrolls inside the frame


def chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess:
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--hide-scrollbars", f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, Path]:
    """The three reports, written by the CLI."""
    folder = tmp_path_factory.mktemp("screens")
    out = {}
    for name, extra in PAGES.items():
        out[name] = folder / f"{name}.html"
        result = CliRunner().invoke(main, ["report", str(EXAMPLE), *extra, "-q", "-o", str(out[name])],
                                    env={"SOURCE_DATE_EPOCH": "0"})
        assert result.exit_code == 0, result.output
    return out


def framed(page: Path, width: int, work: Path) -> Path:
    """``page``, with the measuring script, in a frame ``width`` px wide."""
    inner = work / f"{page.stem}-{width}.html"
    inner.write_text(page.read_text(encoding="utf-8").replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    outer = inner.with_name(f"frame-{inner.name}")
    outer.write_text(FRAME.format(src=inner.name, width=width, height=FRAME_HEIGHT), encoding="utf-8")
    return outer


def render(page: Path, width: int, work: Path) -> tuple[dict, Path]:
    """Layout measures, and a screenshot of the top of the page (:data:`SHOT_HEIGHT`), at ``width``."""
    from PIL import Image

    keep = os.environ.get("FOURP1000_SCREENSHOTS")
    png = (Path(keep) if keep else work) / f"report-{page.stem}-{width}.png"
    png.parent.mkdir(parents=True, exist_ok=True)
    outer = framed(page, width, work)
    dom = chromium([f"--window-size={max(width, 500)},{SHOT_HEIGHT[width]}", "--virtual-time-budget=10000",
                    f"--screenshot={png}", "--dump-dom", outer.as_uri()], work / f"profile-{outer.stem}").stdout
    with Image.open(png) as image:
        image.crop((0, 0, width, image.height)).save(png)
    found = re.search(r'<pre id="measure">(.*?)</pre>', dom, re.DOTALL)
    return json.loads(found.group(1).replace("&quot;", '"')), png


@pytest.fixture(scope="module")
def rendered(pages, tmp_path_factory) -> dict[tuple[str, int], tuple[dict, Path]]:
    """Layout measures and a screenshot of every page at every width (Chromium runs in parallel)."""
    work = tmp_path_factory.mktemp("chromium")
    jobs = [(name, width) for name in pages for width in WIDTHS]
    with ThreadPoolExecutor(max_workers=3) as pool:
        return dict(zip(jobs, pool.map(lambda job: render(pages[job[0]], job[1], work), jobs)))


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", list(PAGES))
def test_page_fits_the_screen(rendered, name, width):
    """Nothing spills sideways: the page, its sections, charts and table cards stay in the viewport."""
    m, _ = rendered[(name, width)]
    assert m["vw"] == width
    assert m["page"] <= width, f"the page scrolls sideways: {m['page']} px wide"
    assert max(m["sections"]) <= width + 0.5
    assert m["charts"] and m["wraps"]
    for chart in m["charts"]:  # charts scale to their card and fill most of it
        assert chart["card_left"] - 0.5 <= chart["left"] and chart["right"] <= chart["card_right"] + 0.5
        assert chart["width"] >= 0.8 * chart["card_width"]
    for wrap in m["wraps"]:  # a wide table scrolls inside its own card
        assert wrap["right"] <= width + 0.5
    if width < 600:
        assert any(w["scroll"] > w["client"] for w in m["wraps"]), "phone-width tables are expected to scroll"


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", list(PAGES))
def test_screenshot_shows_the_figures(rendered, name, width):
    """The screenshot is the asked width, not blank, and carries the figures' blue and vermillion."""
    from PIL import Image

    _, png = rendered[(name, width)]
    with Image.open(png) as image:
        rgb = np.asarray(image.convert("RGB"), dtype=int)
    assert rgb.shape[:2] == (SHOT_HEIGHT[width], width)

    def pixels(colour):
        return int((np.abs(rgb - np.array(colour)).sum(axis=-1) <= 12).sum())

    # Lines, bands and bars of the figures: thousands of pixels of each (the 3-pixel header
    # rule alone is 3 x (width - margins) blue pixels; the 4 per mille paths and the short
    # plots' bars are the vermillion).
    assert pixels((0x00, 0x72, 0xB2)) > 8 * width
    assert pixels((0xD5, 0x5E, 0x00)) > 2 * width
    assert rgb.std() > 20
