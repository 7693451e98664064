"""The package-table loader: every shipped table loads; a broken one fails naming the file."""

from __future__ import annotations

import pytest

from fourp1000 import tables
from fourp1000.errors import ReferenceDataError, UnknownFactorError


def shipped(suffix: str) -> list[str]:
    folder = tables.data_path("")
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(suffix))


@pytest.mark.parametrize("name", shipped(".csv"))
def test_every_shipped_csv_loads_with_a_source_column(name):
    frame = tables.read_csv_table(name)
    assert len(frame) > 0
    assert any(c.startswith("source") for c in frame.columns), f"{name} has no source column"


def test_missing_file_and_columns_name_the_file():
    with pytest.raises(ReferenceDataError, match="cannot read package data no_such_table.csv"):
        tables.read_csv_table("no_such_table.csv")
    with pytest.raises(ReferenceDataError, match=r"rothc_parameters.csv lacks columns \['doi', 'zz'\]"):
        tables.read_csv_table("rothc_parameters.csv", required=["name", "zz", "doi"])
    with pytest.raises(ReferenceDataError, match=r"practices.yaml lacks keys \['version'\]"):
        tables.read_yaml_table("practices.yaml", required=["practices", "version"])


def test_yaml_must_be_a_mapping(monkeypatch, tmp_path):
    (tmp_path / "list.yaml").write_text("- a\n- b\n")
    monkeypatch.setattr(tables, "data_path", lambda name: tmp_path / name)
    with pytest.raises(ReferenceDataError, match="list.yaml: expected a YAML mapping"):
        tables.read_yaml_table("list.yaml")


def test_a_malformed_csv_is_a_reference_data_error(monkeypatch, tmp_path):
    (tmp_path / "bad.csv").write_text('a,b\n1,"unterminated\n')
    monkeypatch.setattr(tables, "data_path", lambda name: tmp_path / name)
    with pytest.raises(ReferenceDataError, match="cannot read package data bad.csv"):
        tables.read_csv_table("bad.csv")


def test_lookup_names_the_valid_keys():
    assert tables.lookup({"a": 1}, "a", "thing") == 1
    with pytest.raises(UnknownFactorError, match="unknown soil class 'x'; valid: hac, lac"):
        tables.lookup({"hac": 1, "lac": 2}, "x", "soil class")
