"""`fourp1000 report` and :mod:`fourp1000.report`: a self-contained HTML page of a projection.

The page is parsed with the standard library's html.parser: every figure is present, nothing
points outside the file, and the numbers shown are those of `project_table` on the same input.
The data behind the figures (:mod:`fourp1000.report.numbers`) is checked against the models'
yearly trajectories, on non-linear paths too (IPCC Tier 1 past its 20-year transition, RothC).
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import replace
from datetime import datetime, timezone
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from fourp1000 import __version__
from fourp1000.cli import main
from fourp1000.io.readers import read_table
from fourp1000.io.climate import read_climate
from fourp1000.io.schema import VAN_BEMMELEN
from fourp1000.projection.table import ProjectOptions, load_plots_or_horizons, project_table
from fourp1000.report import (InputFile, build_report, farm_table, farm_trajectories, plot_trajectories, rate_edges,
                              rate_histogram, report_numbers, report_time, summarise)
from fourp1000.report.page import environment, histogram_labels
from fourp1000.report.wording import plain_method
from fourp1000.uncertainty import UncertaintyOptions, project_uncertainty

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "plots.csv"
CLIMATE = EXAMPLE.with_name("climate.csv")
EPOCH = "1700000000"  # 2023-11-14 22:13:20 UTC
FIXED = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)

TWO_FARMS = (
    "farm_id,plot_id,area_ha,climate_zone,soil_class,land_use,tillage,input_level,practices\n"
    "F1,A,10,warm_temperate_moist,HAC,cropland,full,medium,no_till;cover_crops\n"
    "F2,B,5,cool_temperate_dry,HAC,cropland,full,medium,reduced_tillage\n"
    "F2,C,5,cool_temperate_dry,HAC,cropland,full,medium,\n"
)


class Page(HTMLParser):
    """Collects what the tests look at: elements with attributes, and the text of each."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict, list[str]]] = []  # (tag, attrs, open ancestors' classes)
        self.stack: list[tuple[str, dict]] = []
        self.text_by_key: dict[str, str] = {}
        self._capture: list[list] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = {k: (v or "") for k, v in attrs}
        self.elements.append((tag, attrs, [a.get("class", "") for _, a in self.stack]))
        if tag not in ("meta", "br", "path", "use", "rect", "stop", "input", "img", "link"):
            self.stack.append((tag, attrs))
        if "data-key" in attrs:
            self._capture.append([attrs["data-key"], tag, ""])

    def handle_startendtag(self, tag, attrs):
        attrs = {k: (v or "") for k, v in attrs}
        self.elements.append((tag, attrs, [a.get("class", "") for _, a in self.stack]))

    def handle_endtag(self, tag):
        if self._capture and self._capture[-1][1] == tag:
            key, _, text = self._capture.pop()
            self.text_by_key[key] = text
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        for item in self._capture:
            item[2] += data

    def find(self, tag: str, cls: str | None = None) -> list[dict]:
        return [a for t, a, _ in self.elements if t == tag and (cls is None or cls in a.get("class", "").split())]

    def inside(self, tag: str, ancestor_class: str) -> list[dict]:
        return [a for t, a, anc in self.elements
                if t == tag and any(ancestor_class in c.split() for c in anc)]


def example_table(path: Path = EXAMPLE):
    return load_plots_or_horizons(read_table(path), som_factor=VAN_BEMMELEN, bd_basis="fine_earth", column_map=None)


def project_example(path: Path = EXAMPLE, options: ProjectOptions | None = None):
    return project_table(example_table(path), options or ProjectOptions())


@pytest.fixture(scope="module")
def example_result():
    return project_example()


@pytest.fixture(scope="module")
def example_page(tmp_path_factory):
    """The README command on the shipped example, run once for the module."""
    out = tmp_path_factory.mktemp("report") / "report.html"
    result = CliRunner().invoke(main, ["report", str(EXAMPLE), "-o", str(out)], env={"SOURCE_DATE_EPOCH": EPOCH})
    assert result.exit_code == 0, result.output
    return out, out.read_text(encoding="utf-8"), result


def test_cli_writes_the_report_and_a_summary_line(example_page):
    out, text, result = example_page
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    assert result.stdout == ""  # results go to the file; the summary goes to stderr
    assert result.stderr.splitlines()[-1] == (
        f"21 rows read, 10 plots scored, 0 rows rejected; 8 of 10 plots meet 4 per 1000; 3 of 3 farms; "
        f"report written to {out}")


def test_every_figure_is_present_and_inline(example_page, example_result):
    """One trajectory per farm (3 in the example) and the rate distribution, each an inline SVG."""
    page = Page(example_page[1])
    farms = {a["data-farm"] for a in page.find("figure", "trajectory")}
    assert farms == set(example_result.farms["farm_id"]) == {"beaulieu", "campo-alto", "shamba-moja"}
    assert len(page.find("figure", "trajectory")) == 3
    assert len(page.find("figure", "rate-distribution")) == 1
    svgs = page.find("svg", "chart")
    assert len(svgs) == 4
    assert len(page.inside("svg", "trajectory")) == 3 and len(page.inside("svg", "rate-distribution")) == 1
    # No band without uncertainty columns.
    assert "95 % interval" not in example_page[1] and "#56b4e9" not in example_page[1]


def test_nothing_points_outside_the_file(example_page):
    text = example_page[1]
    page = Page(text)
    refs = [a[k] for _, a, _ in page.elements for k in ("src", "href", "xlink:href") if k in a]
    assert refs, "SVG glyph references are expected"
    assert all(r.startswith("#") for r in refs), [r for r in refs if not r.startswith("#")][:5]
    urls = re.findall(r"url\(([^)]*)\)", text)
    assert urls and all(u.startswith("#") for u in urls)
    assert "http" not in text and "//" not in re.sub(r"<style>.*?</style>", "", text, flags=re.S).replace(
        "<!DOCTYPE html>", "")
    for tag in ("script", "link", "iframe", "img", "object", "embed"):
        assert not page.find(tag), tag
    # ids stay unique although several SVGs share the document
    ids = [a["id"] for _, a, _ in page.elements if "id" in a]
    assert len(ids) == len(set(ids))
    targets = {r[1:] for r in refs} | {u[1:] for u in urls}
    assert targets <= set(ids)


def test_summary_numbers_equal_those_of_project_table(example_page, example_result):
    """Example: 10 plots on 52.4 ha; CA-01 (12.0 ha) and CA-03 (5.0 ha) fall short, so 8 meet on 35.4 ha."""
    page = Page(example_page[1])
    values = {a["data-key"]: a["data-value"] for a in page.find("dd") if "data-key" in a}
    plots, farms = example_result.plots, example_result.farms
    assert int(values["n_plots"]) == len(plots) == 10
    assert int(values["n_farms"]) == len(farms) == 3
    assert float(values["area_ha"]) == pytest.approx(plots["area_ha"].sum()) == pytest.approx(52.4)
    assert float(values["share_plots_meeting"]) == pytest.approx(plots["meets_4p1000"].mean()) == 0.8
    meeting_area = plots.loc[plots["meets_4p1000"], "area_ha"].sum()
    assert float(values["share_area_meeting"]) == pytest.approx(meeting_area / plots["area_ha"].sum())
    assert float(values["share_area_meeting"]) == pytest.approx(35.4 / 52.4)
    assert page.text_by_key["share_plots_meeting"].startswith("80 %")
    assert page.text_by_key["area_ha"].startswith("52.4 ha")


def test_farm_table_and_short_plots(example_page, example_result):
    text = example_page[1]
    page = Page(text)
    short_rows = page.inside("tr", "plots")
    short_rows = [a for a in short_rows if "short" in a.get("class", "").split()]
    expected = set(example_result.plots.loc[~example_result.plots["meets_4p1000"], "plot_id"])
    assert expected == {"CA-01", "CA-03"} and len(short_rows) == 2
    short_section = text[text.index('id="short"'):text.index('id="plots"')]
    assert "CA-01" in short_section and "CA-03" in short_section and "BL-01" not in short_section
    # CA-01 needs 0.004 x 27.3696 - 0.05762 = 0.0519 t C/ha/yr more.
    assert "0.052" in short_section
    farms_section = text[text.index('id="farms"'):text.index('id="trajectories"')]
    order = [farms_section.index(f) for f in ("shamba-moja", "campo-alto", "beaulieu")]
    assert order == sorted(order)  # ranked by rate: 16.9, 10.0, 7.3 per mille
    assert "[t C]" in farms_section and "[ha]" in farms_section


def test_methods_and_provenance(example_page, example_result):
    text = example_page[1]
    page = Page(text)
    assert page.text_by_key["sha256"] == hashlib.sha256(EXAMPLE.read_bytes()).hexdigest()
    assert "plots.csv" in text and f"fourp1000 {__version__}" in text
    assert "2023-11-14 22:13 UTC" in text  # SOURCE_DATE_EPOCH=1700000000
    methods = text[text.index('id="methods"'):text.index('id="provenance"')]
    for line in example_result.methods:  # each method line, written out (plain_method)
        assert plain_method(line).replace(">", "&gt;").replace("<", "&lt;") in methods
    # No code, path or Python value reaches the page: they are written out in the appendix.
    assert "soc_pct x 10 -> soc_g_kg" in example_result.methods
    assert "Unit conversion: column soc_pct (%) × 10 gives soc_g_kg (g/kg)." in methods
    assert "10 plots: checked against one public transcription of the IPCC table" in methods
    shown = re.sub(r"<[^>]*>", " ", re.sub(r"<(svg|style).*?</\1>", "", text, flags=re.S))  # the text a reader sees
    for jargon in ("1src", "ipcc_sources.md", "data/", "None", "False", "True", "->", "soc_pct x"):
        assert jargon not in shown, jargon
    assert "Practices used" in methods and "no_till" in methods


def test_same_inputs_give_identical_bytes(example_result):
    kwargs = {"input_file": InputFile.from_path(EXAMPLE), "generated": FIXED, "version": "9.9",
              "max_farm_figures": 2}
    assert build_report(example_result, **kwargs) == build_report(example_result, **kwargs)


def test_report_time_reads_source_date_epoch():
    assert report_time({"SOURCE_DATE_EPOCH": "86400"}) == datetime(1970, 1, 2, tzinfo=timezone.utc)
    assert report_time({}).tzinfo is timezone.utc
    with pytest.raises(ValueError, match="SOURCE_DATE_EPOCH"):
        report_time({"SOURCE_DATE_EPOCH": "yesterday"})


def test_farm_trajectories_add_up_to_the_farm_totals(example_result):
    traj = farm_trajectories(example_result)
    assert traj.unit == "t C" and traj.key == "farm_id" and not traj.has_band
    frame = traj.frame.set_index(["farm_id", "year"])
    farms = example_result.farms.set_index("farm_id")
    for farm in farms.index:
        assert frame.loc[(farm, 0), "scenario"] == pytest.approx(farms.loc[farm, "baseline_stock_t_c"])
        assert frame.loc[(farm, 20), "scenario"] == pytest.approx(farms.loc[farm, "final_stock_t_c"])
        assert frame.loc[(farm, 20), "no_change"] == pytest.approx(farms.loc[farm, "baseline_stock_t_c"])
    # 4 per 1000 path, linear: beaulieu 748.661185 t C x (1 + 0.004 x 20) = 808.554080 t C.
    assert frame.loc[("beaulieu", 20), "path_4p1000"] == pytest.approx(748.661185 * 1.08, rel=1e-8)
    assert frame.loc[("beaulieu", 10), "path_4p1000"] == pytest.approx(748.661185 * 1.04, rel=1e-8)
    # Tier 1 is linear over 20 years: the farm sum is linear too (midpoint = mean of the ends).
    mid = frame.loc[("campo-alto", 10), "scenario"]
    assert mid == pytest.approx((farms.loc["campo-alto", "baseline_stock_t_c"]
                                 + farms.loc["campo-alto", "final_stock_t_c"]) / 2)


def with_uncertainty(result):
    """A result with Monte Carlo-style percentile columns added by hand."""
    farms = result.farms.copy()
    for col, lo, hi in (("baseline_stock_t_c", 0.95, 1.04), ("final_stock_t_c", 0.85, 1.12)):
        farms[f"{col}_p2_5"] = farms[col] * lo
        farms[f"{col}_p97_5"] = farms[col] * hi
    farms["rate_per_mille_p2_5"] = farms["rate_per_mille"] - 3.0
    farms["rate_per_mille_p97_5"] = farms["rate_per_mille"] + 3.0
    farms["p_meets_4p1000"] = 0.9
    plots = result.plots.copy()
    plots["p_meets_4p1000"] = 0.5
    return replace(result, farms=farms, plots=plots)


def test_uncertainty_band_follows_the_projected_path(example_result):
    """Band = 95 % interval at year 0 and at the horizon, moved along the path (linear here)."""
    result = with_uncertainty(example_result)
    traj = farm_trajectories(result)
    assert traj.has_band
    frame = traj.frame.set_index(["farm_id", "year"])
    f = result.farms.set_index("farm_id").loc["beaulieu"]
    assert frame.loc[("beaulieu", 0), "lower"] == pytest.approx(f["baseline_stock_t_c"] * 0.95)
    assert frame.loc[("beaulieu", 20), "upper"] == pytest.approx(f["final_stock_t_c"] * 1.12)
    # Half-way along a linear path, the band is half-way between its ends.
    assert frame.loc[("beaulieu", 10), "lower"] == pytest.approx(
        (f["baseline_stock_t_c"] * 0.95 + f["final_stock_t_c"] * 0.85) / 2)
    text = build_report(result, generated=FIXED)
    assert text.count('aria-label="Stock trajectory of farm') == 3
    assert "95 % interval" in text and "P(≥ 4 ‰)" in text
    assert text.count("fill: #56b4e9; fill-opacity: 0.35") == 6  # band + legend swatch, 3 farms
    farms_section = text[text.index('id="farms"'):text.index('id="trajectories"')]
    assert farms_section.count('<td class="num">90</td>') == 3  # p_meets_4p1000 0.9 -> 90 %


def test_cli_uncertainty_draws_a_band_per_farm(tmp_path):
    """--uncertainty (fourp1000.uncertainty) adds the band, intervals and the verdict at confidence."""
    out = tmp_path / "r.html"
    args = ["report", str(EXAMPLE), "-o", str(out), "-q", "--uncertainty", "--draws", "200", "--seed", "7"]
    result = CliRunner().invoke(main, args, env={"SOURCE_DATE_EPOCH": EPOCH})
    assert result.exit_code == 0, result.output
    text = out.read_text()
    # one band and its legend swatch per farm figure, in the Okabe-Ito sky blue
    assert text.count("fill: #56b4e9; fill-opacity: 0.35") == 6
    assert "shaded band is the 95 % Monte Carlo interval" in text
    assert "4 ‰, ≥ 90 % likely" in text and "Allowing for the uncertainty" in text


def test_uncertainty_cards_show_the_verdict_at_confidence(tmp_path):
    """With --uncertainty the cards, histogram and figure badges count plots meeting 4 ‰ at --confidence.

    The example: 8 of 10 plots meet 4 per 1000 on the central estimate, fewer with probability >= 0.9.
    """
    out = tmp_path / "r.html"
    args = ["report", str(EXAMPLE), "-o", str(out), "-q", "--uncertainty", "--draws", "200", "--seed", "7"]
    assert CliRunner().invoke(main, args, env={"SOURCE_DATE_EPOCH": EPOCH}).exit_code == 0
    table = example_table()
    result = project_uncertainty(table, project_table(table, ProjectOptions()),
                                 UncertaintyOptions(draws=200, seed=7, confidence=0.9))
    confident = result.plots["meets_4p1000_at_confidence"].to_numpy(bool)
    central = result.plots["meets_4p1000"].to_numpy(bool)
    assert central.sum() == 8 and confident.sum() < central.sum()  # the case the cards must not hide
    page = Page(out.read_text())
    values = {a["data-key"]: a["data-value"] for a in page.find("dd") if "data-key" in a}
    assert float(values["share_plots_meeting"]) == pytest.approx(confident.mean())
    area = result.plots["area_ha"].to_numpy(float)
    assert float(values["share_area_meeting"]) == pytest.approx(area[confident].sum() / area.sum())
    assert int(values["n_farms_meeting"]) == int(result.farms["meets_4p1000_at_confidence"].sum())
    assert page.text_by_key["share_plots_meeting"].endswith(f"{confident.sum()} of 10; 8 on the central estimate")
    model = report_numbers(result)[0]
    assert model.histogram.n_meets.sum() == confident.sum() and model.histogram.n_short.sum() == 10 - confident.sum()
    assert histogram_labels(model, 0.9) == ("may fall short (90 %)", "likely meets 4 ‰ (90 %)")
    text = out.read_text()
    assert "blue plots are ≥ 90 % likely to reach 4 ‰ yr⁻¹ (dashed line), vermillion plots may fall short" in text
    unsure = result.plots.loc[central & ~confident, "plot_id"]
    assert f"not ≥ 90 % likely to: {', '.join(unsure)}." in text


def without_areas(tmp_path) -> Path:
    """The example with its area_ha column dropped."""
    csv = tmp_path / "no_area.csv"
    text = EXAMPLE.read_text().splitlines()
    header = text[0].split(",")
    keep = [i for i, h in enumerate(header) if h != "area_ha"]
    csv.write_text("\n".join(",".join(line.split(",")[i] for i in keep) for line in text) + "\n")
    return csv


def test_without_areas_there_are_no_farm_totals_only_plots(tmp_path):
    """No unweighted farm means of the report's own: without area_ha, farms are not scored and plots are shown."""
    result = project_example(without_areas(tmp_path))
    assert result.farms is None
    s = summarise(result)
    assert math.isnan(s.area_ha) and s.n_farms == 3 and s.n_plots_meeting == 8 and s.n_farms_meeting is None
    assert farm_table(result) is None
    with pytest.raises(ValueError, match="area_ha"):
        farm_trajectories(result)
    traj = plot_trajectories(result)
    assert traj.unit == "t C ha-1" and traj.key == "plot_id"
    frame = traj.frame.set_index(["plot_id", "year"])
    plots = result.plots.set_index("plot_id")
    assert frame.loc[("CA-01", 20), "scenario"] == pytest.approx(plots.loc["CA-01", "final_stock_t_ha"])
    html_text = build_report(result, generated=FIXED)
    page = Page(html_text)
    assert "no area-weighted totals" in html_text and not page.find("table", "farms")
    figures = page.find("figure", "trajectory")
    by_rate = result.plots.sort_values("rate_per_mille", ascending=False)["plot_id"].tolist()
    assert [f["data-plot"] for f in figures] == by_rate and by_rate[:2] == ["CA-02", "SM-01"]


def test_without_areas_check_scores_plots(tmp_path):
    """--check falls back to plots (CA-01 and CA-03 miss 4 per 1000) when farms have no totals."""
    args = ["report", str(without_areas(tmp_path)), "-o", str(tmp_path / "r.html"), "--check"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 3, result.output
    assert result.stderr.splitlines()[-1].startswith("21 rows read, 10 plots scored, 0 rows rejected; "
                                                     "8 of 10 plots meet 4 per 1000; report written to ")


def test_text_from_the_input_is_escaped():
    csv = TWO_FARMS.replace("F1,A,", 'F<b>&"1,A<i>,')
    result = CliRunner().invoke(main, ["report", "-", "-o", "-", "-q"], input=csv)
    assert result.exit_code == 0, result.output
    assert "<b>" not in result.stdout and "<i>" not in result.stdout
    assert "F&lt;b&gt;&amp;" in result.stdout and "A&lt;i&gt;" in result.stdout
    page = Page(result.stdout)  # the parser unescapes: the ids come back as typed
    assert {f["data-farm"] for f in page.find("figure", "trajectory")} == {'F<b>&"1', "F2"}


def test_the_template_escapes_everything_it_is_given():
    """Autoescaping is on: no text reaches the page unescaped, whatever the template."""
    env = environment()
    assert env.autoescape is True
    assert env.from_string("{{ x }}").render(x="<script>") == "&lt;script&gt;"


def test_stdin_is_hashed_and_check_exits_3_but_writes(tmp_path):
    out = tmp_path / "r.html"
    result = CliRunner().invoke(main, ["report", "-", "-o", str(out), "--check", "-q"], input=TWO_FARMS)
    assert result.exit_code == 3 and result.stderr == ""  # F2 loses carbon: -0.3 per mille
    page = Page(out.read_text())
    assert page.text_by_key["sha256"] == hashlib.sha256(TWO_FARMS.encode()).hexdigest()
    assert "&lt;stdin&gt;" in out.read_text()
    only_f1 = "\n".join(TWO_FARMS.splitlines()[:2]) + "\n"
    assert CliRunner().invoke(main, ["report", "-", "-o", str(out), "--check", "-q"], input=only_f1).exit_code == 0


def test_default_output_is_report_html(tmp_path, monkeypatch):
    runner = CliRunner()
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(main, ["report", "-", "-q"], input=TWO_FARMS)
    assert result.exit_code == 0 and result.stdout == "" and result.stderr == ""
    assert len(Page(Path("report.html").read_text()).find("figure", "trajectory")) == 2


def test_errors_are_one_line_without_traceback(tmp_path):
    result = CliRunner().invoke(main, ["report", str(tmp_path / "nope.csv"), "-o", str(tmp_path / "r.html")])
    assert result.exit_code == 1
    assert result.stderr == f"Error: {tmp_path / 'nope.csv'}: no such file\n"
    assert not (tmp_path / "r.html").exists()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(-500, 500, allow_nan=False), min_size=0, max_size=50))
def test_rate_edges_cover_every_rate_on_round_numbers(rates):
    edges = rate_edges(np.array(rates))
    width = edges[1] - edges[0]
    assert np.allclose(np.diff(edges), width)
    assert edges[0] <= min(rates + [4.0]) and edges[-1] > max(rates + [4.0]) - 1e-9
    mantissa = width / 10 ** math.floor(math.log10(width))
    assert any(math.isclose(mantissa, m) for m in (1, 2, 4, 5, 10))
    if width <= 4:  # the 4 per mille line falls on a bin edge
        assert np.isclose(edges, 4.0).any()


# ---------------------------------------------------------------------------------------
# Non-linear paths: the figure's data follow the models' yearly values
# ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def thirty_years_with_monte_carlo():
    """The example over 30 years (Tier 1: 20-year transition, then flat) with 300 Monte Carlo draws."""
    table = example_table()
    result = project_table(table, ProjectOptions(years=30))
    return project_uncertainty(table, result, UncertaintyOptions(draws=300, seed=11))


def test_ipcc_band_follows_the_transition_then_stays_flat(thirty_years_with_monte_carlo):
    """Tier 1 rises for 20 years and stays flat to year 30: so must the drawn path and its band.

    A straight line from year 0 to year 30 (the old mistake) would put year 20 at 2/3 of the
    change and keep rising after it.
    """
    result = thirty_years_with_monte_carlo
    traj = farm_trajectories(result)
    assert traj.has_band
    frame = traj.frame.set_index(["farm_id", "year"])
    farms = result.farms.set_index("farm_id")
    for farm in farms.index:
        f, at = farms.loc[farm], frame.loc[farm]
        assert f["final_stock_t_c"] != pytest.approx(f["baseline_stock_t_c"], rel=1e-3)  # the path moves
        # The path: half the change at year 10, all of it at year 20, flat after.
        assert at.loc[10, "scenario"] == pytest.approx((f["baseline_stock_t_c"] + f["final_stock_t_c"]) / 2)
        assert np.allclose(at.loc[20:30, "scenario"], f["final_stock_t_c"], rtol=1e-12)
        # The band: the Monte Carlo intervals at year 0 and from year 20 on (where the path is final).
        assert at.loc[0, "lower"] == pytest.approx(f["baseline_stock_t_c_p2_5"])
        assert at.loc[0, "upper"] == pytest.approx(f["baseline_stock_t_c_p97_5"])
        assert np.allclose(at.loc[20:30, "lower"], f["final_stock_t_c_p2_5"], rtol=1e-12)
        assert np.allclose(at.loc[20:30, "upper"], f["final_stock_t_c_p97_5"], rtol=1e-12)
        assert (at["lower"] <= at["scenario"] + 1e-9).all() and (at["scenario"] <= at["upper"] + 1e-9).all()


def test_ipcc_plot_band_without_farm_totals_follows_the_transition_too(thirty_years_with_monte_carlo):
    traj = plot_trajectories(thirty_years_with_monte_carlo)
    assert traj.has_band
    plots = thirty_years_with_monte_carlo.plots.set_index("plot_id")
    frame = traj.frame.set_index(["plot_id", "year"])
    at, p = frame.loc["BL-01"], plots.loc["BL-01"]
    assert np.allclose(at.loc[20:30, "upper"], p["final_stock_t_ha_p97_5"], rtol=1e-12)
    assert at.loc[10, "lower"] == pytest.approx((p["baseline_stock_t_ha_p2_5"] + p["final_stock_t_ha_p2_5"]) / 2)


@pytest.fixture(scope="module")
def both_models():
    options = ProjectOptions(years=30, models=("ipcc", "rothc"), climate=read_climate(CLIMATE))
    return project_table(example_table(), options)


def test_rothc_farm_trajectory_is_rothcs_yearly_trajectory(both_models):
    """The RothC figure draws RothC's yearly stocks (area-weighted by farm), a curve, not a line."""
    traj = farm_trajectories(both_models, "rothc")
    rothc_yearly = both_models.trajectory().query("model == 'rothc'")
    plots = both_models.plots.query("model == 'rothc'")[["plot_id", "farm_id", "area_ha"]]
    merged = rothc_yearly.merge(plots, on="plot_id")
    expected = (merged["stock_t_ha"] * merged["area_ha"]).groupby([merged["farm_id"], merged["year"]]).sum()
    frame = traj.frame.set_index(["farm_id", "year"])["scenario"]
    assert len(frame) == len(expected) == 3 * 31
    assert np.allclose(frame.loc[expected.index].to_numpy(), expected.to_numpy(), rtol=1e-12)
    farms = both_models.farms.query("model == 'rothc'").set_index("farm_id")
    for farm in farms.index:
        at = frame.loc[farm]
        assert at.loc[30] == pytest.approx(farms.loc[farm, "final_stock_t_c"])
        # Concave: the mid-horizon stock lies well above the straight line between the ends.
        assert at.loc[15] - (at.loc[0] + at.loc[30]) / 2 > 0.05 * (at.loc[30] - at.loc[0])
    ipcc = farm_trajectories(both_models, "ipcc").frame.set_index(["farm_id", "year"])["scenario"]
    assert not np.allclose(ipcc.loc[expected.index].to_numpy(), expected.to_numpy())


def test_report_numbers_keep_each_models_rows_apart(both_models):
    models = report_numbers(both_models)
    assert [m.model for m in models] == ["ipcc", "rothc"]
    assert [m.label for m in models] == ["IPCC Tier 1 (2019)", "RothC-26.3"]
    for m in models:
        mine = both_models.plots[both_models.plots["model"] == m.model]
        assert len(m.plots) == len(mine) == 10 and set(m.farms["model"]) == {m.model}
        assert m.summary.n_plots_meeting == int(mine["meets_4p1000"].sum())
        hist = rate_histogram(mine["rate_per_mille"].to_numpy(float), mine["meets_4p1000"].to_numpy(bool))
        assert np.array_equal(m.histogram.n_meets, hist.n_meets) and m.histogram.n_with_rate == 10
        assert set(m.short_plots["plot_id"]) == set(mine.loc[~mine["meets_4p1000"], "plot_id"])


def test_cli_report_with_both_models(tmp_path, both_models):
    """`report --model ipcc,rothc`: per model a farm table, a figure per farm and a rate histogram, labelled."""
    out = tmp_path / "r.html"
    args = ["report", str(EXAMPLE), "--model", "ipcc,rothc", "--climate", str(CLIMATE), "--years", "30", "-o", str(out)]
    result = CliRunner().invoke(main, args, env={"SOURCE_DATE_EPOCH": EPOCH})
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[-1].endswith(f"; rothc: 7 of 10 plots meet 4 per 1000, 3 of 3 farms; "
                                                   f"report written to {out}")
    text = out.read_text()
    page = Page(text)
    figures = page.find("figure", "trajectory")
    assert [f["data-model"] for f in figures] == ["ipcc", "rothc"] * 3  # side by side, farm by farm
    assert [f["data-model"] for f in page.find("figure", "rate-distribution")] == ["ipcc", "rothc"]
    assert len(page.find("table", "farms")) == 2 and len(page.find("table", "plots")) == 2
    assert 'aria-label="Stock trajectory of farm beaulieu (RothC-26.3)"' in text
    values = {a["data-key"]: a["data-value"] for a in page.find("dd") if "data-key" in a}
    for model in ("ipcc", "rothc"):
        mine = both_models.plots[both_models.plots["model"] == model]
        assert float(values[f"share_plots_meeting:{model}"]) == pytest.approx(mine["meets_4p1000"].mean())
    assert page.text_by_key["climate_sha256"] == hashlib.sha256(CLIMATE.read_bytes()).hexdigest()
    assert "Coleman K., Jenkinson D.S. (1996)" in text


def test_cli_report_help_shows_model_and_refuses_monte_carlo_for_rothc():
    help_text = CliRunner().invoke(main, ["report", "--help"]).output
    assert "--model MODEL[,MODEL]" in help_text and "--climate FILE" in help_text
    args = ["report", str(EXAMPLE), "--model", "rothc", "--climate", str(CLIMATE), "--uncertainty", "-o", "-"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and "--uncertainty applies to --model ipcc only" in result.stderr
    result = CliRunner().invoke(main, ["report", str(EXAMPLE), "--model", "rothc", "-o", "-"])
    assert result.exit_code == 2 and "--climate FILE" in result.stderr


# ---------------------------------------------------------------------------------------
# A report a farmer reads: CO2e, honest axes, marked plots, plain words
# ---------------------------------------------------------------------------------------

def test_co2e_stands_beside_carbon_in_cards_and_tables(example_page, example_result):
    """Every change in t C has its t CO2e (x 44/12) beside it: summary card, farm and plot tables."""
    from fourp1000.stocks import co2e

    page = Page(example_page[1])
    farms = example_result.farms
    stored = float((farms["final_stock_t_c"] - farms["baseline_stock_t_c"]).sum())
    values = {a["data-key"]: a["data-value"] for a in page.find("dd") if "data-key" in a}
    assert float(values["change_t_c"]) == pytest.approx(stored) and stored > 0
    card = page.text_by_key["change_t_c"]
    assert card.startswith(f"+{stored:,.0f} t C") and f"= +{co2e(stored):,.0f} t CO₂e" in card
    assert f"{co2e(stored / 20):+.1f} t CO₂e" in card
    farm_rows = example_page[1][example_page[1].index('id="farms"'):example_page[1].index('id="trajectories"')]
    for change in farms["annual_change_t_c_yr"]:
        assert f'<td class="num">{change:+.2f}</td><td class="num">{co2e(change):+.2f}</td>' in farm_rows
    plot_rows = example_page[1][example_page[1].index('id="plots"'):example_page[1].index('id="methods"')]
    for change in example_result.plots["annual_change_t_ha_yr"]:
        assert f'<td class="num">{change:+.3f}</td><td class="num">{co2e(change):+.3f}</td>' in plot_rows
    assert "t CO<sub>2</sub>e ha<sup>−1</sup>" in plot_rows


def test_plots_with_estimated_density_or_extrapolated_depth_are_marked(tmp_path):
    """The marks come from the stocks `estimate` computes: the same plots, the same depths."""
    out = tmp_path / "r.html"
    args = ["report", str(EXAMPLE), "--depth", "0-40", "--extrapolate", "-q", "-o", str(out)]
    assert CliRunner().invoke(main, args).exit_code == 0
    est = CliRunner().invoke(main, ["estimate", str(EXAMPLE), "--depth", "0-40", "--extrapolate", "-f", "json", "-q"])
    import json

    stocks = {p["plot_id"]: p for p in json.loads(est.stdout)["plots"]}
    assert sum(p["bd_estimated"] for p in stocks.values()) == 4 and sum(p["extrapolated"] for p in stocks.values()) == 4
    text = out.read_text()
    section = text[text.index('id="plots"'):text.index('id="methods"')]
    rows = {plot: flags for flags, plot in re.findall(r'data-flags="([^"]*)"><td><strong class="id">([^<]+)</strong>',
                                                       section)}
    assert set(rows) == set(stocks)
    for plot, flags in rows.items():
        assert ("bd_estimated" in flags.split()) == stocks[plot]["bd_estimated"]
        assert ("extrapolated" in flags.split()) == stocks[plot]["extrapolated"]
    for plot in (p for p in stocks.values() if p["extrapolated"]):
        assert re.search(rf'{plot["plot_id"]}</strong>[^\n]*extrapolated {plot["extrapolated_cm"]:.0f} cm', section)
    summary = text[text.index('id="summary"'):text.index('id="farms"')]
    assert "4 plots had no lab bulk density" in summary and "4 plots were sampled less deep than 0–40 cm" in summary


def test_trajectory_axis_starts_at_zero(example_result):
    """A 4 per 1000 path (+8 % in 20 years) must not fill the panel: the stock axis starts at 0."""
    from fourp1000.report.figures import trajectory_figure

    traj = farm_trajectories(example_result)
    for _, frame in traj.frame.groupby("farm_id"):
        ax = trajectory_figure(frame, unit=traj.unit, depth_label="0–30 cm").axes[0]
        low, high = ax.get_ylim()
        assert low == 0.0 and frame[["scenario", "path_4p1000"]].to_numpy().max() <= high
        assert high < 1.2 * frame[["scenario", "path_4p1000"]].to_numpy().max()


def _overlap(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


@pytest.mark.parametrize("rates, meets", [
    ([1.0, 2.0, 3.0], [False] * 3),                   # nothing meets
    ([5.0, 6.0, 40.0], [True] * 3),                   # nothing short
    ([0.5, 4.2, 4.4, 4.6, 4.8, 7.0], [False] + [True] * 5),  # a tall bar right of the line, under the label
])
def test_histogram_legend_names_only_what_is_drawn_and_clears_the_4_per_mille_label(rates, meets):
    from fourp1000.report.figures import rate_histogram_figure

    fig = rate_histogram_figure(rate_histogram(np.array(rates), np.array(meets)))
    ax = fig.axes[0]
    legend = ax.get_legend()
    names = [t.get_text() for t in legend.get_texts()]
    assert ("meets 4 ‰" in names) == any(meets) and ("short of 4 ‰" in names) == (not all(meets))
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    label = next(t for t in ax.texts if "4 ‰" in t.get_text())
    assert not _overlap(legend.get_window_extent(renderer), label.get_window_extent(renderer))
    bars = [p.get_window_extent(renderer) for p in ax.patches if p.get_height() > 0]
    assert not any(_overlap(legend.get_window_extent(renderer), bar) for bar in bars)


def test_equal_rates_fall_in_one_bar():
    """Rates equal but for float noise share a bar; a rate meeting 4 ‰ within tolerance sits right of the line.

    0 to 12 per mille gives 1 per mille bins: unrounded, 4.999999999999999 would fall in [4, 5)
    and 5.000000000000001 in [5, 6).
    """
    rates = np.array([5.000000000000001, 4.999999999999999, 5.0, 3.9999999999999996, 0.0, 12.0])
    meets = rates >= 4.0 - 1e-9
    hist = rate_histogram(rates, meets)
    assert np.allclose(np.diff(hist.edges), 1.0)
    at = list(hist.edges).index
    assert hist.n_meets[at(5.0)] == 3 and hist.n_meets[at(4.0)] == 1  # the three fives in one bar; 4 on the edge
    assert hist.n_short[at(0.0)] == 1 and hist.n_short.sum() == 1
    # 0.1 x 33 is 3.3000000000000003 in floating point: edges are rounded, so 3.3 sits in [3.3, 3.4)
    fine = rate_histogram(np.array([3.3, 3.3, 3.3000000000000003, 4.0]), np.array([False] * 3 + [True]))
    assert np.allclose(np.diff(fine.edges), 0.1) and 3.3 in fine.edges
    assert fine.n_short[list(fine.edges).index(3.3)] == 3


def test_settings_name_the_report_command_flags(example_result):
    """The appendix lists settings by the flags that set them, each one a real `report` option."""
    from fourp1000.report.provenance import settings

    rows = dict(settings(example_result.options))
    help_text = CliRunner().invoke(main, ["report", "--help"]).output
    for flag in rows:
        assert re.search(rf"\s{re.escape(flag)}[\s,=]", help_text), flag
    assert rows["--depth"] == "0–30 cm" and rows["--extrapolate"] == "no" and rows["--rate-years"] == "not set"
    assert rows["--practice"] == "from the file (practices column)"


def report_lines() -> list[tuple[str, str]]:
    """Every `fourp1000 report` command line in README.md, docs/report.md and `report --help`."""
    root = EXAMPLE.parents[1]
    texts = {name: (root / name).read_text(encoding="utf-8") for name in ("README.md", "docs/report.md")}
    texts["report --help"] = CliRunner().invoke(main, ["report", "--help"]).output
    found = []
    for where, text in texts.items():
        for line in text.splitlines():
            command = re.search(r"(?:^|\s)(fourp1000 report [^`|]*?)\s*(?:`|\||$)", line)
            if command and " FILE " not in command.group(1):
                found.append((where, command.group(1)))
    return found


def test_every_documented_report_line_runs_on_the_shipped_examples(tmp_path, monkeypatch):
    """README.md, docs/report.md and `report --help`: each `fourp1000 report` line runs as written (exit 0)."""
    import shlex

    lines = report_lines()
    assert len(lines) >= 8 and {w for w, _ in lines} == {"README.md", "docs/report.md", "report --help"}
    monkeypatch.chdir(EXAMPLE.parents[1])
    for where, line in lines:
        args = shlex.split(line)[1:]
        args[args.index("-o") + 1] = str(tmp_path / "out.html")  # the example's file name, written elsewhere
        result = CliRunner().invoke(main, args, env={"SOURCE_DATE_EPOCH": "0"})
        assert result.exit_code == 0, f"{where}: {line}\n{result.output}"
