"""The version is written once (mlpkit.__version__); the package metadata, the CLI and the
changelog follow it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

import mlpkit
from mlpkit import cli

ROOT = Path(__file__).resolve().parents[1]


def test_pyproject_reads_the_version_from_the_package():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"]
    assert project["project"]["dynamic"] == ["version"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "mlpkit.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+((a|b|rc)\d+)?(\.dev\d+)?", mlpkit.__version__)


def test_cli_version_is_the_package_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"mlpkit {mlpkit.__version__}"


def test_changelog_and_license_are_there():
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert "## [Unreleased]" in changelog
    assert f"## [{mlpkit.__version__}]" in changelog
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
