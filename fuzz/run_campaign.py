"""Run a fuzzing campaign over every target and print a table of inputs, time and findings.

    PYTHONPATH=src python fuzz/run_campaign.py                    # the full campaign (issue 17):
                                                                  # 1,000,000 inputs or 30 min
    PYTHONPATH=src python fuzz/run_campaign.py --seconds 10 --ci  # CI: 10 s each, fail on finding
    PYTHONPATH=src python fuzz/run_campaign.py --targets idx csv --seconds 240 --jobs 2 --merge

Each target runs in its own process from a scratch copy of its committed corpus, with
``-rss_limit_mb`` and ``-timeout`` (a hang or a memory blow-up is a finding like an exception).
Findings (``crash-*``, ``timeout-*``, ``oom-*``) are left in the work folder: fix the reader, add
the input to ``fuzz/corpus/<target>/regression-<what>`` and a test, then merge. ``--merge``
adds the inputs that reached new code to the committed corpus (libFuzzer ``-merge=1``, so the
corpus stays minimal); ``--minimise`` rewrites a corpus from scratch, keeping regressions.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FUZZ = Path(__file__).resolve().parent
TARGETS = ("idx", "csv", "model", "checkpoint", "image", "config", "playground", "onnx")
_RUNS = re.compile(r"stat::number_of_executed_units:\s*(\d+)|Done (\d+) runs in")


def _command(target: str, *args: str) -> list[str]:
    return [sys.executable, str(FUZZ / f"fuzz_{target}.py"), *args]


def fuzz_one(target: str, work: Path, seconds: int, runs: int, rss_mb: int,
             timeout: int) -> dict:
    """Fuzz one target from a copy of its corpus; returns its row of the table."""
    folder = work / target
    corpus = folder / "corpus"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(FUZZ / "corpus" / target, corpus)
    flags = [f"-max_total_time={seconds}", f"-runs={runs}", f"-rss_limit_mb={rss_mb}",
             f"-timeout={timeout}", f"-artifact_prefix={folder}/", "-print_final_stats=1"]
    started = time.monotonic()
    with open(folder / "log.txt", "wb") as log:
        rc = subprocess.run(_command(target, str(corpus), *flags), stdout=log,
                            stderr=subprocess.STDOUT, check=False).returncode
    elapsed = time.monotonic() - started
    text = (folder / "log.txt").read_text(errors="replace")
    counts = [int(a or b) for a, b in _RUNS.findall(text)]
    findings = sorted(p.name for p in folder.iterdir()
                      if p.name.split("-")[0] in ("crash", "timeout", "oom", "leak", "finding"))
    if rc != 0 and not findings:
        findings = [f"exit status {rc} (see {folder / 'log.txt'})"]
    return {"target": target, "inputs": max(counts, default=0), "seconds": elapsed,
            "findings": findings, "corpus": len(list(corpus.iterdir())), "folder": folder}


def merge(target: str, work: Path, minimise: bool) -> str:
    """Add the inputs of the scratch corpus that reach new code to the committed corpus."""
    committed = FUZZ / "corpus" / target
    sources = [str(work / target / "corpus")]
    if minimise:
        old = work / target / "old-corpus"
        shutil.rmtree(old, ignore_errors=True)
        shutil.move(committed, old)
        committed.mkdir()
        for path in old.glob("regression-*"):  # findings stay, whatever their coverage
            shutil.copy(path, committed)
        sources.insert(0, str(old))
    before = len(list(committed.iterdir()))
    subprocess.run(_command(target, "-merge=1", "-rss_limit_mb=4096", str(committed), *sources),
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return f"{target}: corpus {before} -> {len(list(committed.iterdir()))} files"


def table(rows: list[dict]) -> str:
    lines = ["| target | inputs run | time (s) | inputs/s | findings |", "|---|---:|---:|---:|---|"]
    for row in rows:
        rate = row["inputs"] / row["seconds"] if row["seconds"] else 0.0
        found = ", ".join(row["findings"]) or "none"
        lines.append(f"| {row['target']} | {row['inputs']:,} | {row['seconds']:.0f} | "
                     f"{rate:,.0f} | {found} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--targets", nargs="+", choices=TARGETS, default=list(TARGETS))
    parser.add_argument("--seconds", type=int, default=1800, help="per target (default 1800)")
    parser.add_argument("--runs", type=int, default=1_000_000, help="per target (default 1e6)")
    parser.add_argument("--jobs", type=int, default=1, help="targets fuzzed at the same time")
    parser.add_argument("--rss-limit-mb", type=int, default=2048)
    parser.add_argument("--timeout", type=int, default=10, help="seconds per input")
    parser.add_argument("--work", type=Path, help="work folder (default: a new temporary one)")
    parser.add_argument("--merge", action="store_true", help="grow the committed corpora")
    parser.add_argument("--minimise", action="store_true", help="with --merge: rebuild them")
    parser.add_argument("--ci", action="store_true", help="exit 1 on any finding")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="mlpkit-campaign-"))
    work.mkdir(parents=True, exist_ok=True)
    env_note = os.environ.get("PYTHONPATH", "")
    print(f"campaign in {work} (PYTHONPATH={env_note!r}): {', '.join(args.targets)}, "
          f"{args.seconds} s or {args.runs:,} inputs each, {args.jobs} at a time", flush=True)
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        jobs = [pool.submit(fuzz_one, t, work, args.seconds, args.runs, args.rss_limit_mb,
                            args.timeout) for t in args.targets]
        rows = [job.result() for job in jobs]
    print(table(rows))
    (work / "summary.md").write_text(table(rows) + "\n")
    if args.merge:
        for row in rows:
            print(merge(row["target"], work, args.minimise))
    failed = [row for row in rows if row["findings"]]
    for row in failed:
        print(f"FINDING in {row['target']}: see {row['folder']}", file=sys.stderr)
    return 1 if failed and args.ci else 0


if __name__ == "__main__":
    sys.exit(main())
