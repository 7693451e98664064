"""Monthly climate tables for RothC (fourp1000.io.climate): reading, validation, lookup.

Every problem names the file, the row (1-based data row as a spreadsheet shows it: the
header is row 1) and the column, and all problems are reported at once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fourp1000.io.climate import climate_from_frame, read_climate
from fourp1000.errors import UnknownFactorError, ValidationError

MONTHS = list(range(1, 13))


def _table(ids=("A",), **columns) -> pd.DataFrame:
    frame = pd.DataFrame({"climate_id": np.repeat(list(ids), 12), "month": MONTHS * len(ids)})
    base = {"temperature_c": 10.0, "rain_mm": 50.0, "evaporation_mm": 40.0}
    base.update(columns)
    for name, value in base.items():
        if value is not None:
            frame[name] = value
    return frame


def _problems(frame: pd.DataFrame) -> list[str]:
    with pytest.raises(ValidationError) as info:
        climate_from_frame(frame, label="clim.csv")
    return [str(p) for p in info.value.problems]


def test_values_land_in_month_order_per_id():
    frame = _table(ids=("A", "B"), temperature_c=np.arange(24.0), rain_mm=np.arange(24.0) + 100)
    shuffled = frame.sample(frac=1.0, random_state=1)  # row order must not matter
    clim = climate_from_frame(shuffled)
    assert clim.key == "climate_id" and list(clim.ids) == list(pd.unique(shuffled["climate_id"]))
    col = {c: i for i, c in enumerate(clim.ids)}
    np.testing.assert_array_equal(clim.temperature_c[:, col["A"]], np.arange(12.0))
    np.testing.assert_array_equal(clim.temperature_c[:, col["B"]], np.arange(12.0, 24.0))
    np.testing.assert_array_equal(clim.rain_mm[:, col["B"]], np.arange(112.0, 124.0))
    assert list(clim.evaporation_source) == ["open_pan", "open_pan"]


def test_blocks_of_twelve_months_read_like_any_order():
    """Ids written as blocks of months 1-12 (read without hashing every row) give what the
    same rows in another order give; a block with a repeated id or a foreign row is checked
    row by row as usual."""
    rng = np.random.default_rng(4)
    frame = _table(ids=("A", "B", "C"), temperature_c=rng.uniform(-5, 25, 36), pet_mm=rng.uniform(0, 90, 36),
                   evaporation_mm=None)
    frame.loc[30:35, ["pet_mm", "evaporation_mm"]] = [np.nan, 20.0]  # C: open pan for half its months
    blocks = climate_from_frame(frame)
    reversed_months = [*range(11, -1, -1), *range(23, 11, -1), *range(35, 23, -1)]  # 12..1: the general path
    within = climate_from_frame(frame.iloc[reversed_months])
    assert list(blocks.ids) == list(within.ids) == ["A", "B", "C"]
    for name in ("temperature_c", "rain_mm", "evaporation_mm"):
        np.testing.assert_array_equal(getattr(blocks, name), getattr(within, name))
    assert list(blocks.evaporation_source) == list(within.evaporation_source) == ["pet/0.75", "pet/0.75", "mixed"]
    repeated = _table(ids=("A", "B", "A"))
    assert any("given twice" in p for p in _problems(repeated))
    foreign = _table(ids=("A", "B"))
    foreign.loc[5, "climate_id"] = "B"  # a row of B inside A's block (June)
    problems = _problems(foreign)
    assert any("month 6 of climate_id 'B' is given twice" in p for p in problems)
    assert any("climate_id 'A' lacks month 6" in p for p in problems)


def test_pet_is_converted_to_open_pan_evaporation():
    """RothC wants open-pan evaporation; a PET is divided by the pan coefficient 0.75
    (Coleman & Jenkinson 1996): 60 mm PET -> 80 mm, 45 -> 60."""
    frame = _table(evaporation_mm=None, pet_mm=[60.0] * 6 + [45.0] * 6)
    clim = climate_from_frame(frame)
    np.testing.assert_allclose(clim.evaporation_mm[:, 0], [80.0] * 6 + [60.0] * 6, rtol=0, atol=1e-12)
    assert clim.evaporation_source[0] == "pet/0.75"


def test_mixed_columns_row_by_row():
    frame = _table(evaporation_mm=[40.0] * 6 + [np.nan] * 6, pet_mm=[np.nan] * 6 + [30.0] * 6)
    clim = climate_from_frame(frame)
    np.testing.assert_allclose(clim.evaporation_mm[:, 0], [40.0] * 6 + [40.0] * 6)
    assert clim.evaporation_source[0] == "mixed"


def test_missing_month_is_named():
    frame = _table(ids=("A", "B"))
    frame = frame[~((frame["climate_id"] == "B") & frame["month"].isin([4, 5]))]
    assert _problems(frame) == ["clim.csv: row 14, column month: climate_id 'B' lacks months 4, 5; give all 12 months"]


def test_repeated_month_is_named_with_both_rows():
    frame = _table()
    frame.loc[11, "month"] = 3  # December row now says March
    assert _problems(frame) == [
        "clim.csv: row 2, column month: climate_id 'A' lacks month 12; give all 12 months",
        "clim.csv: row 13, column month: month 3 of climate_id 'A' is given twice (also row 4)",
    ]


def test_bad_values_are_all_reported_with_row_and_column():
    frame = _table().astype({"temperature_c": object, "month": object})
    frame.loc[2, "temperature_c"] = "warm"
    frame.loc[5, "rain_mm"] = -4.0
    frame.loc[7, "month"] = "13"
    frame.loc[9, "evaporation_mm"] = np.nan
    problems = _problems(frame)
    assert "clim.csv: row 4, column temperature_c: temperature_c must be a number, got 'warm'" in problems
    assert "clim.csv: row 7, column rain_mm: rain_mm -4 is outside the plausible range 0 to 3000" in problems
    assert "clim.csv: row 9, column month: month must be a whole number from 1 to 12, got '13'" in problems
    assert "clim.csv: row 11, column evaporation_mm: give evaporation_mm (open pan) or pet_mm" in problems


def test_kelvin_temperatures_are_caught():
    assert _problems(_table(temperature_c=283.15))[0].endswith(
        "temperature_c 283.15 is outside the plausible range -60 to 50")


def test_both_evaporation_kinds_in_one_row_is_ambiguous():
    frame = _table(pet_mm=30.0)
    problems = _problems(frame)
    assert len(problems) == 12 and problems[0].startswith(
        "clim.csv: row 2, column pet_mm: both evaporation_mm and pet_mm are given")


def test_missing_columns():
    frame = _table().drop(columns=["climate_id", "evaporation_mm"])
    assert _problems(frame) == [
        "clim.csv: no column climate_id or plot_id: name the climate of each row",
        "clim.csv: column evaporation_mm: missing column evaporation_mm (open-pan evaporation) or pet_mm "
        "(potential evapotranspiration)",
    ]
    both = _table().assign(plot_id="x")
    assert _problems(both) == ["clim.csv: both climate_id and plot_id are columns; keep one of them as the key"]


def test_plot_id_key_and_lookup_errors():
    frame = _table(ids=("P1", "P2")).rename(columns={"climate_id": "plot_id"})
    clim = climate_from_frame(frame, label="clim.csv")
    assert clim.key == "plot_id"
    assert list(clim.index_of(["P2", " P1 "])) == [1, 0]
    # the plots in the table's order: the same positions without hashing, and only then
    assert list(clim.index_of(["P1", "P2"])) == [0, 1] and list(clim.index_of([" P1", "P2"])) == [0, 1]
    assert list(clim.index_of(pd.Series(["P1", "P2"], dtype="string"))) == [0, 1]
    with pytest.raises(UnknownFactorError, match="missing plot_id in row 3"):
        clim.index_of(pd.Series(["P1", None], dtype="string"), source_row=[2, 3])
    with pytest.raises(UnknownFactorError) as info:
        clim.index_of(["P1", "P9", "P8"], source_row=[2, 3, 4])
    assert str(info.value) == "plot_id 'P9' is not in clim.csv in row 3 (and 1 more plots); valid: P1, P2"
    assert info.value.rows == [3, 4] and info.value.column == "plot_id"


def test_read_csv_with_semicolons_and_decimal_commas(tmp_path):
    lines = ["climate_id;month;temperature_c;rain_mm;pet_mm"]
    lines += [f"X;{m};{m},5;{40 + m};{10 + m},5" for m in MONTHS]
    path = tmp_path / "clim.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    clim = read_climate(path)
    assert clim.label == str(path)  # named as given
    np.testing.assert_allclose(clim.temperature_c[:, 0], np.arange(1, 13) + 0.5)
    np.testing.assert_allclose(clim.evaporation_mm[:, 0], (np.arange(1, 13) + 10.5) / 0.75)


def test_example_climate_file(examples_dir):
    """examples/climate.csv: the three zones of examples/plots.csv, PET converted."""
    clim = read_climate(examples_dir / "climate.csv")
    assert sorted(clim.ids) == ["cool_temperate_moist", "tropical_moist", "warm_temperate_dry"]
    col = {c: i for i, c in enumerate(clim.ids)}
    # Annual rain as typed from the station normals (Reims 604, Madrid Retiro 421, Kisumu 1310 mm).
    assert clim.rain_mm.sum(axis=0)[[col["cool_temperate_moist"], col["warm_temperate_dry"], col["tropical_moist"]]
                                    ].tolist() == [604.0, 421.0, 1310.0]
    assert set(clim.evaporation_source) == {"pet/0.75"}
