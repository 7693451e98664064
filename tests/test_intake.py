"""Real lab files in (issue 11): headers in six languages, lab units, decimal marks judged
on the whole column, column maps with joins/constants/ignore, Excel as labs send it, empty
files, and every column accounted for.

Expected stocks are computed by hand here: stock [t C/ha] = SOC [g/kg] x fine-earth density
[g/cm3] x thickness [cm] / 10 (docs/methods.md).
"""

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import fourp1000
from fourp1000.cli import main
from fourp1000.errors import InputError, ValidationError
from fourp1000.io.columns import resolve
from fourp1000.io.headers import header_aliases, looks_like, split_unit
from fourp1000.io.numbers import parse_numbers

DATA = Path(__file__).parent / "data"


def stock(*layers):
    """Sum of SOC [g/kg] x density [g/cm3] x thickness [cm] / 10 over ``(soc, bd, cm)`` layers."""
    return sum(soc * bd * cm / 10 for soc, bd, cm in layers)


def cf_volume(mass_fraction, bd, stone_density=2.65):
    """Coarse fragments by volume from their mass fraction (Poeplau et al. 2017; stocks.layers):
    CF_vol = CF_mass BD / (rho_s (1 - CF_mass) + CF_mass BD)."""
    return mass_fraction * bd / (stone_density * (1 - mass_fraction) + mass_fraction * bd)


def run(*args, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input)


def csv_out(result):
    assert result.exit_code == 0, result.output
    return pd.read_csv(pd.io.common.StringIO(result.stdout)).set_index("plot_id")


# --- Header recognition -------------------------------------------------------------------------------------------

def test_french_lab_export_keeps_measured_bd_texture_and_area():
    """Issue 11: `Densité apparente (g/cm3)`, `Argile (%)`, `Surface (ha)` were dropped and BD estimated."""
    result = run("estimate", DATA / "lab_fr.csv", "-f", "csv", "-v")
    plots = csv_out(result)
    assert plots.loc["BL-01", "soc_stock_t_ha"] == pytest.approx(stock((14.5, 1.31, 15), (10.2, 1.44, 15)))
    assert plots.loc["BL-02", "soc_stock_t_ha"] == pytest.approx(stock((25.0, 1.10, 10), (15.0, 1.25, 20)))
    assert not plots["bd_estimated"].any()
    assert plots["area_ha"].tolist() == [4.2, 2.5]
    assert "'Densité apparente (g/cm3)' -> bulk_density_g_cm3" in result.stderr
    assert "'Argile (%)' -> clay_pct" in result.stderr
    assert "Columns ignored (not in the input model): pH eau" in result.stderr


def test_german_lab_export_with_depths_in_mm():
    table = fourp1000.read(DATA / "lab_de.csv")
    assert table.frame["top_cm"].tolist() == [0, 0, 10]
    assert table.frame["bottom_cm"].tolist() == [30, 10, 30]
    assert table.frame["soc_g_kg"].tolist() == pytest.approx([14.5, 21.0, 13.0])
    assert table.frame["clay_pct"].tolist() == [18, 22, 23]
    plots = fourp1000.estimate(DATA / "lab_de.csv").plots.set_index("plot_id")
    # Stones by volume: the header's unit says so (Vol.-%); 5 % of D-1's volume holds no fine earth.
    assert table.columns.mapped["Skelett [Vol.-%]"] == "coarse_fragments_pct"
    assert table.frame["coarse_fragments_pct"].tolist() == [5, 0, 0]
    assert plots.loc["D-1", "soc_stock_t_ha"] == pytest.approx(stock((14.5, 1.38, 30)) * 0.95)
    assert plots.loc["D-2", "soc_stock_t_ha"] == pytest.approx(stock((21.0, 1.20, 10), (13.0, 1.45, 20)))


@pytest.mark.parametrize("header, column, read", [
    ("Skelett [Vol.-%]", "coarse_fragments_pct", 20), ("Éléments grossiers (% vol)", "coarse_fragments_pct", 20),
    ("Skelett [M.-%]", "coarse_fragments_mass_pct", 20), ("Grobboden [Gew.-%]", "coarse_fragments_mass_pct", 20),
    ("stones (wt%)", "coarse_fragments_mass_pct", 20), ("cascalho (g/kg)", "coarse_fragments_mass_pct", 2),
])
def test_coarse_fragments_basis_read_from_the_header_unit(tmp_path, header, column, read):
    path = tmp_path / "lab.csv"
    path.write_text(f"plot_id;top_cm;bottom_cm;soc_g_kg;{header}\nA;0;30;12;20\n", encoding="utf-8")
    table = fourp1000.read(path)
    assert table.columns.mapped == {header: column}
    assert table.frame[column].tolist() == [read]


def test_coarse_fragments_without_basis_are_ignored_loudly(tmp_path):
    path = tmp_path / "lab.csv"
    path.write_text("plot_id;top_cm;bottom_cm;soc_g_kg;Skelett [%]\nA;0;30;12;20\n", encoding="utf-8")
    table = fourp1000.read(path)
    assert table.columns.ignored == {"Skelett [%]": "not in the input model"}
    assert any("'Skelett [%]' looks like coarse_fragments or coarse_fragments_mass" in w and "[Vol.-%]" in w
               for w in table.columns.warnings)


def test_coarse_fragments_basis_contradicting_the_map_is_an_error(tmp_path):
    path = tmp_path / "lab.csv"
    path.write_text("plot_id;top_cm;bottom_cm;soc_g_kg;stones\nA;0;30;12;20\n", encoding="utf-8")
    with pytest.raises(fourp1000.errors.FourP1000Error, match="the unit says by mass but coarse_fragments_pct"):
        fourp1000.read(path, columns={"stones": {"column": "coarse_fragments", "unit": "M.-%"}})
    table = fourp1000.read(path, columns={"stones": {"column": "coarse_fragments_mass", "unit": "M.-%"}})
    assert table.frame["coarse_fragments_mass_pct"].tolist() == [20]


def test_portuguese_febr_table_with_column_map_decimal_commas_and_na():
    """Id from two columns, unitless headers mapped with units, fine earth (terra fina) in
    g/kg giving coarse fragments by mass, a constant, pedon_id switched off."""
    result = run("estimate", DATA / "lab_pt.csv", "--columns", DATA / "lab_pt_columns.yaml", "-f", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    plots = pd.DataFrame(doc["plots"]).set_index("plot_id")
    fe1 = 1.21 * (1 - cf_volume(0.05, 1.21))
    fe2 = 1.33 * (1 - cf_volume(0.10, 1.33))
    assert plots.loc["ctb0001-P1", "soc_stock_t_ha"] == pytest.approx(stock((18.4, fe1, 20), (11.2, fe2, 10)), rel=1e-5)
    assert plots.loc["ctb0001-P2", "soc_stock_t_ha"] == pytest.approx(stock((9.6, 1.52, 30)), rel=1e-6)
    columns = doc["meta"]["columns"]
    assert columns["mapped"]["dataset_id"] == "plot_id (joined)"
    assert columns["mapped"]["terrafina"] == "fine_earth_pct"
    assert columns["ignored"] == {"pedon_id": "ignore: in --columns"}
    assert columns["constants"] == {"land_use": "cropland"}
    table = fourp1000.read(DATA / "lab_pt.csv", columns=DATA / "lab_pt_columns.yaml")
    assert table.frame["clay_pct"].tolist()[:2] == [45.0, 48.0] and pd.isna(table.frame["clay_pct"].iloc[2])
    assert table.frame["coarse_fragments_mass_pct"].tolist()[:3] == pytest.approx([5.0, 10.0, 0.0])


@pytest.mark.parametrize("header, column, factor", [
    ("Densité apparente (g/cm3)", "bulk_density_g_cm3", 1.0),
    ("TRD [g/cm³]", "bulk_density_g_cm3", 1.0),
    ("Ton [%]", "clay_pct", 1.0),
    ("Corg (%)", "soc_g_kg", 10.0),
    ("C org [g/kg]", "soc_g_kg", 1.0),
    ("OC (g/100g)", "soc_g_kg", 10.0),
    ("%SOC", "soc_g_kg", 10.0),
    ("carbono orgânico (g/kg)", "soc_g_kg", 1.0),
    ("Carbonio organico (dag/kg)", "soc_g_kg", 10.0),
    ("carbono orgánico (mg/g)", "soc_g_kg", 1.0),
    ("Corg (‰)", "soc_g_kg", 1.0),
    ("Corg (g C kg-1)", "soc_g_kg", 1.0),
    ("densidade do solo (Mg/m3)", "bulk_density_g_cm3", 1.0),
    ("Densidad aparente (t/m3)", "bulk_density_g_cm3", 1.0),
    ("densità apparente (kg/dm3)", "bulk_density_g_cm3", 1.0),
    ("bulk_density_kg_m3", "bulk_density_g_cm3", 0.001),
    ("argila (g/kg)", "clay_pct", 0.1),
    ("areia (%)", "sand_pct", 1.0),
    ("limo (%)", "silt_pct", 1.0),
    ("Prof. sup (m)", "top_cm", 100.0),
    ("Tiefe bis (mm)", "bottom_cm", 0.1),
    ("top_mm", "top_cm", 0.1),
    ("soc_g_100g", "soc_g_kg", 10.0),
    ("Surface (ha)", "area_ha", 1.0),
    ("Fläche (m²)", "area_ha", 1e-4),
    ("Terra fina (g/kg)", "fine_earth_pct", 0.1),
])
def test_headers_and_units_recognised(header, column, factor):
    res = resolve([header], "t.csv")
    assert not res.problems, res.problems
    assert res.mapping[header] == (column, pytest.approx(factor))
    assert res.report.mapped == {header: column} or res.report.used == [header]


def test_alias_table_has_a_source_and_language_per_row():
    from fourp1000.tables import read_csv_table

    table = read_csv_table("header_aliases.csv")
    assert table[["alias", "quantity", "language", "source"]].notna().all().all()
    assert set(table["language"]) == {"en", "fr", "de", "es", "pt", "it"}
    assert len(header_aliases()) == len(table)  # no two aliases collide once normalised


def test_split_unit_and_looks_like():
    assert split_unit("Corg, g/kg") == ("Corg", "g/kg")
    assert split_unit("pH (H2O)") == ("pH (H2O)", None)
    assert looks_like("Carbone organique total (g/kg)") == ["soc"]
    assert looks_like("Profondeur (cm)") == ["top", "bottom"]
    assert looks_like("Latitude") == []


def test_header_that_looks_known_but_is_not_is_a_warning_naming_the_fix():
    res = resolve(["plot_id", "top_cm", "bottom_cm", "Carbone organique total (g/kg)", "soc_pct"], "t.csv")
    assert "Carbone organique total (g/kg)" in res.report.ignored
    assert not res.report.warnings  # SOC is given by soc_pct: nothing is lost
    res = resolve(["plot_id", "top_cm", "bottom_cm", "Carbone organique total (g/kg)"], "t.csv")
    assert res.report.warnings == [
        "column 'Carbone organique total (g/kg)' looks like soc but is not recognised, so it is ignored; to use "
        "it, map it with --columns, e.g. {'Carbone organique total (g/kg)': {column: soc, unit: g/kg}}"]


def test_unit_of_an_alias_never_guessed():
    with pytest.raises(ValidationError, match="looks like clay but gives no unit"):
        fourp1000.read(pd.DataFrame({"plot_id": ["A"], "top_cm": [0], "bottom_cm": [30], "soc_pct": [1.0],
                                     "argila": [30]}))


# --- Column maps: explicit map wins, joins, constants, ignore, --set -----------------------------------------------

def test_explicit_map_wins_over_alias_and_ignore_switches_an_alias_off():
    frame = pd.DataFrame({"pedon_id": ["x", "x"], "site": ["S1", "S2"], "top_cm": [0, 0], "bottom_cm": [30, 30],
                          "soc_pct": [1.0, 2.0]})
    with pytest.raises(ValidationError, match="duplicate|again"):
        fourp1000.read(frame)  # pedon_id and site both look like plot_id
    table = fourp1000.read(frame, columns={"site": "plot_id"})
    assert table.frame["plot_id"].tolist() == ["S1", "S2"]
    assert table.columns.ignored["pedon_id"].startswith("plot_id comes from")
    assert any("'pedon_id' ignored" in w for w in table.columns.warnings)
    table = fourp1000.read(frame, columns={"ignore": ["pedon_id"]})
    assert table.frame["plot_id"].tolist() == ["S1", "S2"] and not table.columns.warnings


def test_constants_give_a_layer_stated_only_in_metadata(tmp_path):
    path = tmp_path / "topsoil.csv"
    path.write_text("sample,Corg (g/kg),BD (g/cm3)\nA,12.0,1.30\nB,20.0,1.10\n")
    result = run("estimate", path, "--depth", "0-23", "--set", "top_cm=0", "--set", "bottom_cm=23",
                 "--set", "land_use=cropland", "--columns", _yaml(tmp_path, "sample: plot_id\n"), "-f", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    plots = pd.DataFrame(doc["plots"]).set_index("plot_id")
    assert plots.loc["A", "soc_stock_t_ha"] == pytest.approx(stock((12.0, 1.30, 23)))
    assert plots.loc["B", "soc_stock_t_ha"] == pytest.approx(stock((20.0, 1.10, 23)))
    assert doc["meta"]["columns"]["constants"] == {"top_cm": 0.0, "bottom_cm": 23.0, "land_use": "cropland"}


def test_constant_in_another_unit_and_set_wins_over_the_file(tmp_path):
    frame = pd.DataFrame({"plot_id": ["A"], "top_cm": [0], "bottom_cm": [30], "soc_pct": [1.0], "land_use": ["x"]})
    table = fourp1000.read(frame, columns={"constants": {"bottom_mm": 300, "land_use": "grassland"}})
    assert table.frame["land_use"].tolist() == ["grassland"]
    assert table.columns.ignored == {"bottom_cm": "bottom_cm comes from the constant bottom_cm=30.0",
                                     "land_use": "land_use comes from the constant land_use=grassland"}
    with pytest.raises(ValidationError, match="constant 'abc' is not a number"):
        fourp1000.read(frame, columns={"constants": {"bottom_cm": "abc"}})
    bad = run("estimate", "-", "--set", "nonsense", input="plot_id,top_cm,bottom_cm,soc_pct\nA,0,30,1\n")
    assert bad.exit_code == 2 and "expected COLUMN=VALUE" in bad.output


def test_joined_id_must_name_existing_columns():
    frame = pd.DataFrame({"a": ["x"], "top_cm": [0], "bottom_cm": [30], "soc_pct": [1.0]})
    with pytest.raises(ValidationError, match="builds plot_id from 'b'"):
        fourp1000.read(frame, columns={"plot_id": ["a", "b"]})
    table = fourp1000.read(frame.assign(b=["7"]), columns={"plot_id": {"columns": ["a", "b"], "sep": "/"}})
    assert table.frame["plot_id"].tolist() == ["x/7"]


def test_fine_earth_and_coarse_fragments_by_mass_must_agree():
    frame = pd.DataFrame({"plot_id": ["A", "B"], "top_cm": [0, 0], "bottom_cm": [30, 30], "soc_pct": [1.0, 1.0],
                          "fine_earth_pct": [90, 80], "coarse_fragments_mass_pct": [10, 5]})
    table = fourp1000.read(frame)
    bad = table.problems[table.problems["rule"] == "conflict"]
    assert bad["row"].tolist() == [2]
    assert "coarse fragments 5 % + fine earth 80 %" in bad["message"].iloc[0]


# --- Decimal marks and thousands ----------------------------------------------------------------------------------

def test_decimal_comma_detected_from_the_whole_column(tmp_path):
    """Issue 11: the first 660 rows held integers; the mark was sniffed from them."""
    path = tmp_path / "late_commas.csv"
    path.write_text("plot_id;top_cm;bottom_cm;soc_g_kg;area_ha\n"
                    + "\n".join(f"P{i};0;30;{10 + i % 5};{1 + i % 3}" if i < 700 else f"P{i};0;30;12,5;2,5"
                                for i in range(705)) + "\n")
    table = fourp1000.read(path)
    assert table.problems.empty
    assert table.frame["soc_g_kg"].iloc[-1] == 12.5 and table.frame["area_ha"].iloc[-1] == 2.5
    assert "column 'soc_g_kg' read with decimal mark ','" in " ".join(table.columns.notes)


def test_parse_numbers_thousands_and_ambiguity():
    assert parse_numbers(pd.Series(["1 234,5", "12,5"])).values.tolist() == [1234.5, 12.5]
    assert parse_numbers(pd.Series(["1,234,567.5", "2.5"])).values.tolist() == [1234567.5, 2.5]
    ambiguous = parse_numbers(pd.Series(["1,234"]))
    assert ambiguous.values.tolist() == [1.234] and ambiguous.ambiguous == "1,234"
    given = parse_numbers(pd.Series(["1,234"]), decimal=".", thousands=",")
    assert given.values.tolist() == [1234.0] and given.ambiguous is None
    assert parse_numbers(pd.Series(["NA", "n/a", "-", ""])).bad.tolist() == [False] * 4


def test_thousands_option_on_the_command_line(tmp_path):
    path = tmp_path / "areas.csv"
    path.write_text("plot_id;top_cm;bottom_cm;soc_g_kg;bulk_density_g_cm3;farm_id;area_m2\n"
                    "A;0;30;10,0;1,30;F;12.500\nB;0;30;10,0;1,30;F;7.500,5\n")
    result = run("estimate", path, "--thousands", ".", "--decimal", ",", "-f", "csv")
    assert csv_out(result)["area_ha"].tolist() == pytest.approx([1.25, 0.75005])


def test_most_problems_share_one_cause_leading_line(tmp_path):
    lines = "\n".join(f"P{i};0;30;1{i % 9},5;1,3" for i in range(40))
    path = tmp_path / "commas.csv"
    path.write_text("plot_id;top_cm;bottom_cm;soc_g_kg;bulk_density_g_cm3\n" + lines + "\n")
    result = run("estimate", path, "--decimal", ".")
    assert result.exit_code == 1
    err = result.stderr.splitlines()
    assert err[0] == "Error: 80 problems in input:"
    assert err[1] == ("  80 'not a number' problems in columns soc_g_kg, bulk_density_g_cm3: decimal comma? "
                      "use --decimal ,")
    # each plot's "no usable SOC layer" is folded into the row problem that caused it
    assert sum("; knock-on: no usable SOC layer" in ln for ln in err) == 40
    assert len([ln for ln in err if "is not a number" in ln]) == 80


# --- Excel as labs send it ----------------------------------------------------------------------------------------

@pytest.fixture
def lab_workbook(tmp_path):
    """A lab report: an information sheet first, results below a title block on sheet 2,
    some numbers stored as text with decimal commas."""
    from openpyxl import Workbook

    book = Workbook()
    info = book.active
    info.title = "Informations"
    info["A1"], info["A3"], info["B3"] = "Laboratoire d'analyses des sols", "Client", "EARL des Saules"
    sheet = book.create_sheet("Résultats")
    sheet["A1"] = "Rapport d'essai n° 2024-117"
    sheet["A2"] = "Méthode : combustion sèche (carbone organique)"
    sheet.append([])
    sheet.append(["Parcelle", "Prof. sup (cm)", "Prof. inf (cm)", "C organique (g/kg)", "Densité apparente (g/cm3)",
                  "Surface (ha)", "Remarque"])
    sheet.append(["BL-01", 0, 15, 14.5, "1,31", 4.2, None])
    sheet.append(["BL-01", 15, 30, "10,2", 1.44, 4.2, "sol caillouteux"])
    sheet.append(["BL-02", 0, 10, 25, 1.10, 2.5, None])
    sheet.append(["BL-02", 10, 30, 15, "1,25", 2.5, None])
    path = tmp_path / "rapport.xlsx"
    book.save(path)
    return path


def test_workbook_first_sheet_without_columns_names_the_sheet_that_has_them(lab_workbook):
    result = run("estimate", lab_workbook)
    assert result.exit_code == 1
    assert "sheet 'Résultats' has them: use --sheet 'Résultats'" in result.stderr


def test_workbook_header_below_a_title_block(lab_workbook):
    table = fourp1000.read(lab_workbook, sheet="Résultats")
    assert table.frame["source_row"].tolist() == [5, 6, 7, 8]  # header on row 4, as the spreadsheet shows it
    assert table.frame["bulk_density_g_cm3"].tolist() == [1.31, 1.44, 1.10, 1.25]
    plots = csv_out(run("estimate", lab_workbook, "--sheet", "2", "-f", "csv"))
    assert plots.loc["BL-01", "soc_stock_t_ha"] == pytest.approx(stock((14.5, 1.31, 15), (10.2, 1.44, 15)))
    assert plots.loc["BL-02", "soc_stock_t_ha"] == pytest.approx(stock((25, 1.10, 10), (15, 1.25, 20)))
    same = fourp1000.read(lab_workbook, sheet="Résultats", header_row=4)
    assert same.frame["source_row"].tolist() == [5, 6, 7, 8]


def test_decimal_option_applies_to_excel_text_cells(lab_workbook):
    table = fourp1000.read(lab_workbook, sheet="Résultats", decimal=".")
    bad = table.problems[table.problems["rule"] == "not_a_number"]
    assert sorted(bad["row"]) == [5, 6, 8]
    assert "decimal comma? use --decimal ," in bad["message"].iloc[0]


def test_wrong_sheet_lists_the_sheets(lab_workbook):
    result = run("estimate", lab_workbook, "--sheet", "Nope")
    assert result.exit_code == 1
    assert result.stderr.strip() == (f"Error: {lab_workbook}: no sheet 'Nope'; the workbook has 2 sheets: "
                                     "'Informations', 'Résultats'")


def test_csv_named_xlsx_gets_a_clear_error(tmp_path):
    path = tmp_path / "export.xlsx"
    path.write_text("plot_id;top_cm;bottom_cm;soc_pct\nA;0;30;1,2\n")
    result = run("estimate", path)
    assert result.exit_code == 1
    assert result.stderr.strip() == (f"Error: {path}: not an Excel workbook: it looks like a CSV text file; "
                                     "rename it to .csv")


def test_csv_header_row_option(tmp_path):
    path = tmp_path / "titled.csv"
    path.write_text("Rapport d'analyses;;;\nLabo X;;;\nplot_id;top_cm;bottom_cm;soc_pct\nA;0;30;1,2\nB;0;30;x\n")
    result = run("estimate", path, "--header-row", "3", "--on-error", "skip", "-f", "csv")
    assert csv_out(result).index.tolist() == ["A"]
    assert "row 5, column soc_pct: 'x' is not a number" in result.stderr


# --- Empty and partial inputs -------------------------------------------------------------------------------------

@pytest.mark.parametrize("content", ["", "\n\n  \n", "plot_id,top_cm,bottom_cm,soc_pct\n",
                                     "plot_id;top_cm;bottom_cm;soc_pct\n;;;\n;;;\n"])
@pytest.mark.parametrize("command", ["estimate", "project", "score", "compare", "report"])
def test_no_data_rows_is_exit_1_on_every_command(tmp_path, content, command):
    path = tmp_path / "empty.csv"
    path.write_text(content)
    args = [command, path] + (["-o", tmp_path / "r.html"] if command == "report" else [])
    result = run(*args)
    assert result.exit_code == 1, result.output
    assert "no data rows" in result.stderr and "internal error" not in result.stderr


def test_no_data_rows_from_stdin_and_dataframe():
    assert "no data rows" in run("estimate", "-", input="plot_id,top_cm\n").stderr
    with pytest.raises(InputError, match="no data rows"):
        fourp1000.read(pd.DataFrame({"plot_id": [], "top_cm": []}))


def test_farm_summary_without_area_is_an_error_before_writing(tmp_path):
    out, farms = tmp_path / "plots.csv", tmp_path / "farms.csv"
    result = run("estimate", "-", "--farm-summary", farms, "-o", out,
                 input="plot_id,farm_id,top_cm,bottom_cm,soc_pct,bulk_density_g_cm3\nA,F,0,30,1,1.3\n")
    assert result.exit_code == 1
    assert "--farm-summary needs area_ha" in result.stderr
    assert not out.exists() and not farms.exists()


# --- Every column accounted for -----------------------------------------------------------------------------------

def test_verbose_lists_used_mapped_and_ignored_columns_on_every_command(examples_dir, tmp_path):
    path = tmp_path / "plots.csv"
    frame = pd.read_csv(examples_dir / "plots.csv").rename(columns={"clay_pct": "Argile (%)"})
    frame.assign(ph_h2o=6.5).to_csv(path, index=False)
    for command in ("estimate", "project", "score"):
        result = run(command, path, "-v", "-f", "json")
        assert result.exit_code == 0, result.output
        assert "Columns used: farm_id, plot_id, area_ha" in result.stderr
        assert "Columns mapped: 'Argile (%)' -> clay_pct" in result.stderr
        assert "Columns ignored (not in the input model): ph_h2o" in result.stderr
        meta = json.loads(result.stdout)["meta"]["columns"]
        assert meta["mapped"] == {"Argile (%)": "clay_pct"} and meta["ignored"] == {"ph_h2o": "not in the input model"}
    result = run("compare", examples_dir / "campaigns.csv", "-v", "-f", "json", "--bootstrap", "0")
    assert result.exit_code == 0, result.output
    assert "Columns used: farm_id, plot_id" in result.stderr
    assert json.loads(result.stdout)["meta"]["columns"]["used"][:2] == ["farm_id", "plot_id"]


def _yaml(tmp_path, text):
    path = tmp_path / "columns.yaml"
    path.write_text(text)
    return path
