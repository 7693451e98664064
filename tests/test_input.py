"""Reading and validating horizon tables (io/readers.py, io/horizons.py)."""

import io

import numpy as np
import pandas as pd
import pytest

from fourp1000.errors import InputError, ValidationError
from fourp1000.io.horizons import normalise
from fourp1000.io.readers import detect_dialect, read_table

BASIC = "plot_id,top_cm,bottom_cm,soc_pct,bulk_density_g_cm3\nP1,0,30,1.2,1.35\n"


def load(text: str | bytes, name="t.csv", tmp_path=None, **kw):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return normalise(read_table(path, **kw))


def test_soc_pct_converted_to_g_kg(tmp_path):
    t = load(BASIC, tmp_path=tmp_path)
    assert t.frame["soc_g_kg"].tolist() == [12.0]
    assert t.problems.empty


def test_som_pct_uses_van_bemmelen_by_default(tmp_path):
    t = load("plot_id,top_cm,bottom_cm,som_pct\nP1,0,30,1.724\n", tmp_path=tmp_path)
    assert t.frame["soc_g_kg"].iloc[0] == pytest.approx(10.0)
    t2 = normalise(read_table(tmp_path / "t.csv"), som_factor=2.0)
    assert t2.frame["soc_g_kg"].iloc[0] == pytest.approx(8.62)


def test_unit_suffix_is_converted_with_pint(tmp_path):
    t = load("plot_id,top_cm,bottom_cm,soc_permille,bulk_density_kg_m3\nP1,0,30,12,1350\n", tmp_path=tmp_path)
    assert t.frame["soc_g_kg"].iloc[0] == pytest.approx(12.0)
    assert t.frame["bulk_density_g_cm3"].iloc[0] == pytest.approx(1.35)


def test_incompatible_unit_suffix_is_an_error(tmp_path):
    with pytest.raises(ValidationError, match="cannot convert"):
        load("plot_id,top_cm,bottom_cm,soc_g_kg,bulk_density_pct\nP1,0,30,12,5\n", tmp_path=tmp_path)


def test_missing_columns_reported_together(tmp_path):
    with pytest.raises(ValidationError) as err:
        load("id,depth,value\nP1,0,30\n", tmp_path=tmp_path)
    names = {p.column for p in err.value.problems}
    assert {"plot_id", "top_cm", "bottom_cm", "soc_g_kg"} <= names


def test_every_row_problem_is_reported(tmp_path):
    text = (
        "plot_id,top_cm,bottom_cm,soc_pct,bulk_density_g_cm3\n"
        "P1,0,10,1.2,3.4\n"      # row 2: BD out of range
        "P1,10,5,1.0,1.3\n"      # row 3: top >= bottom
        "P2,0,30,abc,1.3\n"      # row 4: not a number
        ",0,30,1.0,1.3\n"        # row 5: no plot id
        "P3,-5,0,30,0.3\n"       # row 6: an organic layer above the mineral surface (a warning: not needed)
        "P3,-2,20,3,1.3\n"       # row 7: crosses the mineral surface
        "P3,20,30,2,1.3\n"       # row 8: a mineral layer (row 6 is then the forest floor above it)
    )
    t = load(text, tmp_path=tmp_path)
    got = {(int(r.row), r.rule) for r in t.problems.itertuples()}
    assert got == {(2, "out_of_range"), (3, "depth_order"), (4, "not_a_number"), (5, "missing_value"),
                   (6, "organic_layer"), (7, "above_surface")}
    msg = t.problems.set_index("row").loc[2, "message"]
    assert msg == "value 3.4 is outside 0.1–2.2 g/cm3"
    first = t.problem_list()[0]
    assert str(first) == f"{tmp_path / 't.csv'}: row 2, column bulk_density_g_cm3: value 3.4 is outside 0.1–2.2 g/cm3"


def test_european_csv_sniffed(tmp_path):
    text = "plot_id;top_cm;bottom_cm;soc_pct;bulk_density_g_cm3\nÉ1;0;30;1,2;1,35\n"
    t = load(text.encode("latin-1"), tmp_path=tmp_path)
    assert t.frame["plot_id"].iloc[0] == "É1"
    assert t.frame["soc_g_kg"].iloc[0] == pytest.approx(12.0)
    assert t.frame["bulk_density_g_cm3"].iloc[0] == pytest.approx(1.35)


def test_utf8_bom_is_stripped(tmp_path):
    t = load(b"\xef\xbb\xbf" + BASIC.encode(), tmp_path=tmp_path)
    assert "plot_id" in t.frame.columns and t.problems.empty


def test_decimal_comma_hint_when_overridden(tmp_path):
    t = load("plot_id;top_cm;bottom_cm;soc_pct\nP1;0;30;1,2\n", tmp_path=tmp_path, decimal=".")
    assert "decimal comma? use --decimal ," in t.problems["message"].iloc[0]


def test_detect_dialect():
    assert detect_dialect("a;b;c\n1,5;2,5;3\n") == (";", ",")
    assert detect_dialect("a,b\n1.5,2\n") == (",", ".")
    assert detect_dialect("a\tb\n1.5\t2\n") == ("\t", ".")


def test_yaml_farm_document(tmp_path):
    doc = """
farm_id: F1
plots:
  - plot_id: P1
    area_ha: 2
    practices: [no_till, cover_crops]
    layers:
      - {top_cm: 0, bottom_cm: 10, soc_pct: 2}
      - {top_cm: 10, bottom_cm: 30, soc_pct: 1}
"""
    t = load(doc, name="farm.yaml", tmp_path=tmp_path)
    f = t.frame
    assert f["farm_id"].tolist() == ["F1", "F1"]
    assert f["area_ha"].tolist() == [2, 2]
    assert f["practices"].iloc[0] == "no_till;cover_crops"
    assert f["soc_g_kg"].tolist() == [20.0, 10.0]


def test_yaml_is_loaded_safely(tmp_path):
    with pytest.raises(InputError, match="not valid YAML"):
        load("plots: !!python/object/apply:os.system ['echo hi']\n", name="x.yaml", tmp_path=tmp_path)


def test_excel_and_parquet_round_trip(tmp_path):
    frame = pd.read_csv(io.StringIO(BASIC))
    frame.to_excel(tmp_path / "p.xlsx", index=False)
    frame.to_parquet(tmp_path / "p.parquet")
    for name in ("p.xlsx", "p.parquet"):
        t = normalise(read_table(tmp_path / name))
        assert t.frame["soc_g_kg"].tolist() == [12.0]
    assert normalise(read_table(tmp_path / "p.xlsx")).frame["source_row"].tolist() == [2]


def test_stdin(tmp_path):
    t = normalise(read_table("-", stdin=io.BytesIO(BASIC.encode())))
    assert t.label == "<stdin>" and t.frame["soc_g_kg"].tolist() == [12.0]


def test_missing_file():
    with pytest.raises(InputError, match="no such file"):
        read_table("/nonexistent/plots.csv")


def test_conflicting_plot_attribute(tmp_path):
    t = load("plot_id,area_ha,top_cm,bottom_cm,soc_pct\nP1,2,0,10,1\nP1,3,10,30,1\n", tmp_path=tmp_path)
    assert t.problems["rule"].tolist() == ["conflict"]
    assert np.array_equal(t.problems["row"].to_numpy(), [3])


def test_units_in_headers_are_parsed(tmp_path):
    text = "Profile,Upper (cm),Lower [mm],Corg [g/kg],BD [Mg m-3],Gravel (%),pH (H2O)\nA,0,100,21,1.2,5,6.5\n"
    t = load(text, tmp_path=tmp_path)
    f = t.frame
    assert (f["plot_id"].iloc[0], f["top_cm"].iloc[0], f["bottom_cm"].iloc[0]) == ("A", 0, 10)
    assert f["soc_g_kg"].iloc[0] == 21 and f["bulk_density_g_cm3"].iloc[0] == 1.2
    assert f["coarse_fragments_pct"].iloc[0] == 5
    assert f["pH (H2O)"].iloc[0] == 6.5  # not ours: passed through


def test_quantity_without_unit_is_never_guessed(tmp_path):
    with pytest.raises(ValidationError) as err:
        load("plot_id,top_cm,bottom_cm,SOC\nA,0,30,1.2\n", tmp_path=tmp_path)
    msg = str(err.value.problems[0])
    assert msg.startswith(f"{tmp_path / 't.csv'}: column SOC: looks like soc but gives no unit: name it soc_g_kg")


def test_ambiguous_duplicate_headers(tmp_path):
    with pytest.raises(ValidationError, match="ambiguous"):
        load("plot_id,top_cm,bottom_cm,soc_g_kg,SOC (g/kg)\nA,0,30,12,12\n", tmp_path=tmp_path)


def test_two_soc_columns_must_agree(tmp_path):
    t = load("plot_id,top_cm,bottom_cm,soc_g_kg,soc_pct\nA,0,30,12,1.2\nB,0,30,15,1.2\nC,0,30,,1.1\n", tmp_path=tmp_path)
    assert t.problems["row"].tolist() == [3]
    assert t.problems["message"].iloc[0] == "1.2 (12 g/kg) disagrees with soc_g_kg (15 g/kg) on the same row"
    assert t.frame["soc_g_kg"].tolist() == [12, 15, 11]


def test_column_map_loads_a_published_dataset(tmp_path):
    """ISRIC's own headers (ISIS via GSIF) with a --columns map: units given in the map."""
    cmap = {"SOURCEID": "plot_id", "UHDICM": "top_cm", "LHDICM": {"column": "bottom", "unit": "cm"},
            "ORCDRC": {"column": "soc", "unit": "permille"}, "BLD": {"column": "bulk_density", "unit": "t/m3"},
            "CRFVOL": "coarse_fragments_pct"}
    text = "SOURCEID,UHDICM,LHDICM,ORCDRC,BLD,CRFVOL\nX1,0,30,12,1.35,10\n"
    path = tmp_path / "h.csv"
    path.write_text(text)
    t = normalise(read_table(path), column_map=cmap)
    assert t.frame[["soc_g_kg", "bulk_density_g_cm3", "bottom_cm"]].iloc[0].tolist() == [12, 1.35, 30]
    with pytest.raises(ValidationError, match="unknown quantity"):
        normalise(read_table(path), column_map={**cmap, "BLD": {"column": "density", "unit": "t/m3"}})


@pytest.mark.parametrize("order", ["together", "scattered", "id_missing_first"])
def test_conflicting_plot_attributes_found_in_any_row_order(tmp_path, order):
    """Plots whose rows come together are checked row against row above; the rows and messages
    are those of the check against each plot's first row, whatever the order of the file."""
    rows = ["P1,F1,2,0,10,1", "P1,F1,2,10,30,1", "P1,F2,2,30,60,1",  # farm changes on row 4
            "P2,F1,5,0,10,1", "P2,F1,5,10,30,1", "P2,F1,6,30,60,1",  # area changes on row 7
            "P3,F3,1,0,10,1", "P3,F3,1,10,30,1"]
    if order == "scattered":
        rows = [rows[i] for i in (0, 3, 6, 1, 4, 7, 2, 5)]
    if order == "id_missing_first":
        rows = [",F9,9,0,10,1", ",F8,8,0,10,1", *rows]
    t = load("plot_id,farm_id,area_ha,top_cm,bottom_cm,soc_pct\n" + "\n".join(rows) + "\n", tmp_path=tmp_path)
    conflicts = t.problems[t.problems["rule"] == "conflict"]
    found = sorted(zip(conflicts["plot_id"], conflicts["message"]))
    assert found == [("P1", "farm_id F2 differs from F1 on the plot's first row"),
                     ("P2", "area_ha 6.0 differs from 5.0 on the plot's first row")]


@pytest.mark.parametrize("kind", ["set", "arrow", "object", "list_with_none", "mixed", "empty"])
def test_is_in_agrees_with_pandas(kind):
    from fourp1000.io.horizons import is_in

    rng = np.random.default_rng(7)
    values = pd.Series(rng.integers(0, 500, 3000).astype(str), dtype="string")
    values[rng.random(3000) < 0.05] = None
    pool = rng.integers(0, 700, 400).astype(str)
    candidates = {"set": set(pool), "arrow": pd.Series(pool, dtype="string"), "object": pool.astype(object),
                  "list_with_none": [*pool[:50], None], "mixed": [*pool[:50], 7, 3.5], "empty": []}[kind]
    found = is_in(values, candidates)
    assert found.dtype == bool and np.array_equal(found, values.isin(candidates).to_numpy())
    assert 0 < found.sum() < len(values) or kind == "empty"


def _arrow_text(values, chunks=1):
    """Arrow-backed text in ``chunks`` chunks, each a slice of a longer array (non-zero offsets)."""
    import pyarrow as pa

    parts = np.array_split(np.array(values, dtype=object), chunks)
    arrays = [pa.array(["pad", *p], pa.large_string()).slice(1) for p in parts]
    return pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array(arrays, type=pa.large_string())))


@pytest.mark.parametrize("layout", ["runs", "revisited", "missing", "long_ids", "chunked", "odd_bytes"])
def test_factorize_runs_agrees_with_pandas(layout):
    from fourp1000.io.horizons import distinct_text, factorize_runs

    rng = np.random.default_rng(11)
    ids = {"long_ids": [f"FARM-0042/PLOT-{i:06d}/CORE-A" for i in range(300)],
           "odd_bytes": ["", "x", "x\x00", "é", "éé", "abcdefgh", "abcdefgh\x00", " a", "a "]}.get(
        layout, [f"P{i}" for i in range(300)])
    order = np.repeat(rng.permutation(len(ids)), rng.integers(1, 5, len(ids)))  # each id one run of layers
    if layout == "revisited":
        order = np.concatenate([order, order[: len(order) // 3]])
    values = [ids[i] for i in order]
    if layout == "missing":
        values = [None if i % 17 == 0 else v for i, v in enumerate(values)]
    series = _arrow_text(values, chunks=7 if layout in ("chunked", "long_ids") else 1)
    codes = factorize_runs(series)
    expected = pd.factorize(series, use_na_sentinel=False)[0]
    assert codes.dtype == expected.dtype and np.array_equal(codes, expected)
    heads = np.flatnonzero(np.r_[True, np.array(values[1:], dtype=object) != np.array(values[:-1], dtype=object)])
    # The run-number shortcut is taken exactly when no id comes back after another (and none is missing).
    assert distinct_text(series, heads) == (layout in ("runs", "long_ids", "chunked", "odd_bytes"))


def test_distinct_text_never_calls_equal_strings_distinct():
    from fourp1000.io.horizons import distinct_text

    rng = np.random.default_rng(5)
    pool = ["", "a", "ab", " a", "x\x00", "x", "é", "abcdefgh", "abcdefgh\x00", "123456789", "a" * 40, "a" * 39 + "b"]
    answers = {True: 0, False: 0}
    for trial in range(400):
        values = [pool[i] for i in rng.integers(0, len(pool), int(rng.integers(2, 20)))]
        series = _arrow_text(values, chunks=int(rng.integers(1, 4)))
        at = rng.choice(len(values), size=int(rng.integers(2, len(values) + 1)), replace=False)
        distinct = len({values[i] for i in at}) == len(at)
        found = distinct_text(series, at)
        assert found == distinct  # never True for equal strings; no collision among these either
        answers[found] += 1
    assert min(answers.values()) > 50


@pytest.mark.parametrize("codes", [np.zeros(70_000, dtype=np.int8), np.full(5, 2, dtype=np.int8),
                                   np.array([0, 2, 1, 2], dtype=np.int8)])
def test_text_column_same_as_labels_taken(codes):
    from fourp1000.io.horizons import text_column

    labels = ["", "fine_earth", "é;x"]
    column = pd.Series(text_column(codes, labels))
    expected = pd.Series(np.asarray(labels, dtype=object)[codes]).infer_objects()
    pd.testing.assert_series_equal(column, expected, check_exact=True)


def test_plot_ids_stripped_and_empty_missing(tmp_path):
    rows = ["P1,0,10,1", " P1 ,10,30,1", "\u00a0P2,0,10,1", ",0,10,1", "P3,0,10,1"]
    t = load("plot_id,top_cm,bottom_cm,soc_pct\n" + "\n".join(rows) + "\n", tmp_path=tmp_path)
    assert t.frame["plot_id"].tolist() == ["P1", "P1", "P2", pd.NA, "P3"]
    clean = load("plot_id,top_cm,bottom_cm,soc_pct\nP1,0,10,1\nP1,10,30,1\nP 2,0,10,1\n", tmp_path=tmp_path)
    assert clean.frame["plot_id"].tolist() == ["P1", "P1", "P 2"] and str(clean.frame["plot_id"].dtype) == "string"
