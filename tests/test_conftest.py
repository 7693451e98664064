"""The test infrastructure itself: reference tests fail, not skip, when CI requires the data."""

from __future__ import annotations

import pytest

import conftest


def test_reference_fixture_fails_when_required_and_missing(monkeypatch, tmp_path):
    monkeypatch.setattr(conftest, "REFERENCE_DIR", tmp_path / "absent")
    monkeypatch.setenv(conftest.REQUIRE_REFERENCE, "1")
    with pytest.raises(pytest.fail.Exception, match="FOURP1000_REQUIRE_REFERENCE is set"):
        conftest.reference_path()


def test_reference_fixture_skips_when_missing_and_not_required(monkeypatch, tmp_path):
    monkeypatch.setattr(conftest, "REFERENCE_DIR", tmp_path / "absent")
    for value in (None, "0"):
        if value is None:
            monkeypatch.delenv(conftest.REQUIRE_REFERENCE, raising=False)
        else:
            monkeypatch.setenv(conftest.REQUIRE_REFERENCE, value)
        with pytest.raises(pytest.skip.Exception):
            conftest.reference_path()


def test_reference_fixture_returns_the_folder_when_present(monkeypatch, tmp_path):
    monkeypatch.setattr(conftest, "REFERENCE_DIR", tmp_path)
    monkeypatch.setenv(conftest.REQUIRE_REFERENCE, "1")
    assert conftest.reference_path() == tmp_path
