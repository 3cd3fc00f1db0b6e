"""The benchmark helpers that decide what a figure means: ``benchmarks/against_commit.py``
(another commit's mlpkit imported beside this checkout's, epochs interleaved)."""

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
against_commit = pytest.importorskip("against_commit")

needs_git = pytest.mark.skipif(
    shutil.which("git") is None
    or subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True).returncode,
    reason="needs git and this checkout's history",
)


@needs_git
def test_resolve_gives_the_full_hash_and_names_a_bad_commit():
    sha = against_commit.resolve("HEAD")
    assert len(sha) == 40 and int(sha, 16) >= 0
    with pytest.raises(ValueError, match=r"commit must name a commit of .*'no-such-commit'"):
        against_commit.resolve("no-such-commit")


@needs_git
def test_the_commits_copy_is_its_own_package_and_trains_as_this_one(tmp_path):
    import mlpkit

    sha = against_commit.resolve("HEAD")
    copy = against_commit.import_commit(sha, tmp_path)
    assert copy.__name__ == f"mlpkit_{sha[:10]}"
    assert Path(copy.__file__).is_relative_to(tmp_path)
    assert str(tmp_path) not in sys.path  # only the package itself stays importable
    x = np.random.default_rng(0).random((40, 4))
    t = (x.sum(axis=1, keepdims=True) > 2).astype(float)
    weights = []
    for package in (mlpkit, copy):
        network = package.mlp([4, 3, 1], seed=1)
        package.train(network, x, t, epochs=2, batch_size=8, seed=2, engine="plain")
        assert type(network).__module__.startswith(package.__name__)
        weights.append(network.dense_layers[0].weights)
    np.testing.assert_array_equal(*weights)


def test_a_commit_whose_package_imports_mlpkit_by_name_is_refused(tmp_path, monkeypatch):
    run = subprocess.run

    def archive_with_absolute_import(command, **kwargs):
        folder = tmp_path / "made" / "src" / "mlpkit"
        folder.mkdir(parents=True)
        (folder / "__init__.py").write_text("from mlpkit.layers import Dense\n")
        tar = run(["tar", "-cf", "-", "-C", str(tmp_path / "made"), "src"],
                  capture_output=True, check=True).stdout
        return subprocess.CompletedProcess(command, 0, stdout=tar)

    monkeypatch.setattr(against_commit.subprocess, "run", archive_with_absolute_import)
    with pytest.raises(ValueError, match=r"imports mlpkit by its absolute name"):
        against_commit.import_commit("0" * 40, tmp_path / "out")


class _Run:
    def __init__(self, seconds):
        self.seconds = iter(seconds)

    def epoch(self):
        return next(self.seconds)

    def accuracy(self):
        return 0.5


def test_race_interleaves_and_the_report_takes_medians_after_the_warm_up():
    from compare import CONFIGS

    runs = {"this": _Run([9.0, 1.0, 2.0, 3.0]), "old": _Run([9.0, 2.0, 2.0, 6.0])}
    seconds = against_commit.race(runs, 4)
    assert seconds == {"this": [9.0, 1.0, 2.0, 3.0], "old": [9.0, 2.0, 2.0, 6.0]}
    text = against_commit.report(CONFIGS["C1"], seconds, runs, "old")
    assert "this  2.000 s" in text and "old  2.000 s" in text
    assert "this/old  1.00 (paired 0.50)" in text


def test_only_import_statements_count_as_importing_mlpkit():
    assert against_commit._imports_mlpkit("import mlpkit.sklearn as sk\n")
    assert against_commit._imports_mlpkit("from mlpkit import train\n")
    assert not against_commit._imports_mlpkit("from . import mlpkit\nimport mlpkitten\n")
    assert not against_commit._imports_mlpkit('SCRIPT = """\nimport mlpkit\n"""\n')


def test_a_commit_without_the_package_is_named(tmp_path, monkeypatch):
    def archive_fails(command, **kwargs):
        return subprocess.CompletedProcess(command, 128, stdout=b"",
                                           stderr=b"fatal: pathspec 'src/mlpkit' did not match")

    monkeypatch.setattr(against_commit.subprocess, "run", archive_fails)
    with pytest.raises(ValueError, match=r"commit 1234567890 has no src/mlpkit .*pathspec"):
        against_commit.import_commit("1234567890" * 4, tmp_path)
