"""Speed of this checkout's mlpkit against another commit's, in one process and one run.

Did a change lose speed? On a machine shared with other work an epoch's time swings by 2x
within minutes, so figures from two runs (or two days) cannot say. This script trains the
configurations of ``compare.py`` with both versions in the same process, from the same initial
weights and batch order, with their epochs interleaved (one of this checkout, one of the
commit's, optionally one of PyTorch, repeat), so that all see the same machine load::

    MLPKIT_DATA=/work/shared/data python benchmarks/against_commit.py 49c1525
    python benchmarks/against_commit.py HEAD~3 --configs C3 C4 --epochs 7 --torch

The commit's ``src/mlpkit`` is extracted with ``git archive`` into a temporary folder and
imported as ``mlpkit_<commit>`` (mlpkit's modules import each other relatively, so the copy is
self-contained). Seconds per epoch are the median of the epochs after the first (warm-up,
numba compilation); "paired" is the median of the per-round ratios of neighbouring epochs.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import statistics
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path
from types import ModuleType

from compare import CONFIGS, MlpkitRun, TorchRun, load_data

ROOT = Path(__file__).resolve().parent.parent


def resolve(commit: str) -> str:
    """The full hash of ``commit`` in this repository; ValueError naming it otherwise."""
    done = subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}"],
                          cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise ValueError(f"commit must name a commit of {ROOT}, got {commit!r}")
    return done.stdout.strip()


def _imports_mlpkit(source: str) -> bool:
    """Whether Python ``source`` has an ``import mlpkit...`` or ``from mlpkit... import``
    statement (text inside strings, such as a script template, does not count)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        else:
            continue
        if any(name == "mlpkit" or name.startswith("mlpkit.") for name in names):
            return True
    return False


def import_commit(sha: str, folder: Path) -> ModuleType:
    """``src/mlpkit`` of commit ``sha``, extracted under ``folder`` and imported under its own
    name (``mlpkit_<short hash>``)."""
    done = subprocess.run(["git", "archive", "--format=tar", sha, "src/mlpkit"], cwd=ROOT,
                          capture_output=True)
    if done.returncode != 0:
        raise ValueError(f"commit {sha[:10]} has no src/mlpkit to compare with: "
                         f"{done.stderr.decode(errors='replace').strip()}")
    archive = done.stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    name = f"mlpkit_{sha[:10]}"
    package = (folder / "src" / "mlpkit").rename(folder / name)
    for module in package.rglob("*.py"):
        if _imports_mlpkit(module.read_text(encoding="utf-8")):
            raise ValueError(f"commit {sha[:10]}: {module.relative_to(folder)} imports mlpkit "
                             f"by its absolute name, so the copy would run this checkout's code")
    sys.path.insert(0, str(folder))
    try:
        return importlib.import_module(name)  # its own submodules come through its __path__
    finally:
        sys.path.remove(str(folder))


def race(runs: dict, epochs: int) -> dict[str, list[float]]:
    """Seconds of each epoch per run: ``epochs`` rounds of one epoch of every run (the first
    round is the warm-up)."""
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(epochs):
        for name, run in runs.items():
            seconds[name].append(run.epoch())
    return seconds


def report(cfg, seconds: dict[str, list[float]], runs: dict, reference: str) -> str:
    median = {name: statistics.median(times[1:]) for name, times in seconds.items()}
    paired = statistics.median(a / b for a, b in zip(seconds["this"][1:],
                                                     seconds[reference][1:], strict=True))
    line = (f"{cfg.name:4} this {median['this']:6.3f} s  {reference} {median[reference]:6.3f} s"
            f"  this/{reference} {median['this'] / median[reference]:5.2f}"
            f" (paired {paired:4.2f})")
    if "pytorch" in median:
        line += (f"  pytorch {median['pytorch']:6.3f} s  this/pytorch "
                 f"{median['this'] / median['pytorch']:4.2f}  {reference}/pytorch "
                 f"{median[reference] / median['pytorch']:4.2f}")
    accuracy = "  ".join(f"{name} {100 * run.accuracy():.2f}" for name, run in runs.items())
    return f"{line}\n       epochs {seconds}\n       test accuracy: {accuracy}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("commit", help="the commit to compare with (hash, tag, HEAD~3, ...)")
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--epochs", type=int, default=5, help="per run, the first is warm-up")
    parser.add_argument("--torch", action="store_true", help="PyTorch in the same rounds")
    parser.add_argument("--data", help="folder with fashion-mnist/ (default: $MLPKIT_DATA)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.epochs < 2:
        parser.error(f"--epochs must be at least 2 (one warm-up), got {args.epochs}")
    try:
        sha = resolve(args.commit)
    except ValueError as error:
        parser.error(str(error))
    data = load_data(args.data)
    with tempfile.TemporaryDirectory(prefix="mlpkit-commit-") as folder:
        reference = import_commit(sha, Path(folder))
        name = sha[:10]
        print(f"# this checkout against {name}; {len(data[0][0])} training samples, "
              f"{args.epochs} epochs per run, medians of the epochs after the first", flush=True)
        for key in args.configs:
            cfg = CONFIGS[key]
            runs = {"this": MlpkitRun(cfg, data, args.seed),
                    name: MlpkitRun(cfg, data, args.seed, package=reference)}
            if args.torch:
                runs["pytorch"] = TorchRun(cfg, data, args.seed)
            seconds = race(runs, args.epochs)
            print(report(cfg, seconds, runs, name), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
