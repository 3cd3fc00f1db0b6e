"""The BLAS thread policy (mlpkit.fast.threads) and the ``threads`` settings of train, the
estimators and the CLI. No timings here."""

from __future__ import annotations

import os
import sys
import types

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from mlpkit import Callback, cli, mlp, train
from mlpkit.fast import threads as policy


def blas_counts() -> list[int]:
    """Thread counts of NumPy's BLAS (libraries loaded later, such as SciPy's by numba, are
    not NumPy's and are left alone)."""
    pools = [pool for pool in threadpool_info() if pool["user_api"] == "blas"]
    numpy_pools = [pool for pool in pools if "numpy" in pool["filepath"]]
    return [pool["num_threads"] for pool in numpy_pools or pools]


class RecordThreads(Callback):
    """Records the BLAS thread counts seen while training."""

    seen: list[list[int]]

    def on_train_begin(self, network, history, n_batches):
        self.seen = []

    def on_epoch_begin(self, epoch):
        self.seen.append(blas_counts())


def toy(n=64, n_in=4, n_out=2, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, n_in)).astype(np.float32)
    return x, np.eye(n_out, dtype=np.float32)[rng.integers(0, n_out, n)]


@pytest.mark.parametrize(("value", "error"), [(0, ValueError), (-2, ValueError),
                                              (1.5, TypeError), (True, TypeError),
                                              ("2", TypeError)])
def test_threads_must_be_a_positive_int_or_none(value, error):
    with pytest.raises(error, match="threads must be a positive int or None"):
        policy.check_threads(value)
    x, t = toy()
    with pytest.raises(error, match="threads"):
        train(mlp([4, 3, 2], seed=0), x, t, epochs=1, threads=value)


def test_an_explicit_count_is_honoured_whatever_the_size():
    assert policy.choose_threads(3, [784, 1024, 1024, 10], 256) == 3
    assert policy.choose_threads(2, [4, 3, 2], 1) == 2


def test_small_products_get_one_thread(monkeypatch):
    monkeypatch.setattr(policy, "idle_cores", lambda: 64)
    monkeypatch.setattr(policy, "usable_cores", lambda: 64)
    # batch 10 of the 784-100-10 lecture net: 784,000 multiply-adds; batch 64 (C2): 5.0 M,
    # still below 2^23 (one thread was faster there: the momentum step reads a gradient that
    # two cores wrote); batch 128: 10 M, two threads
    assert policy.choose_threads(None, [784, 100, 10], 10) == 1
    assert policy.choose_threads(None, [784, 100, 10], 1) == 1
    assert policy.choose_threads(None, [784, 100, 10], 64) == 1
    assert policy.choose_threads(None, [784, 100, 10], 128) is None
    # C3's batch of 128 on a quiet machine: the BLAS keeps its own setting
    assert policy.choose_threads(None, [784, 512, 256, 10], 128) is None


def test_a_busy_machine_gets_only_its_idle_cores(monkeypatch, tmp_path):
    monkeypatch.setattr(policy, "usable_cores", lambda: 2)
    loadavg = tmp_path / "loadavg"
    loadavg.write_text("2.10 1.50 0.90 3/412 12345\n")  # this process and two others
    assert policy.idle_cores(2, str(loadavg), own_running=1, proc=None) == 1
    loadavg.write_text("0.10 0.10 0.10 1/412 12345\n")  # only this process
    assert policy.idle_cores(2, str(loadavg), own_running=1) == 2
    loadavg.write_text("9.0 9.0 9.0 17/412 12345\n")
    assert policy.idle_cores(16, str(loadavg), own_running=1, proc=None) == 1
    assert policy.idle_cores(4, str(tmp_path / "missing")) == 4  # no /proc: all idle
    monkeypatch.setattr(policy, "idle_cores", lambda: 1)
    assert policy.choose_threads(None, [784, 512, 256, 10], 128) == 1


def test_this_process_own_spinning_threads_are_not_competition(tmp_path):
    """compare.py runs PyTorch and mlpkit in one process: PyTorch's OpenMP workers still spin
    for a while after its epoch, and the kernel counts them as runnable. They are this
    process's own threads, so they must not make the policy drop to one BLAS thread."""
    loadavg = tmp_path / "loadavg"
    loadavg.write_text("2.10 1.50 0.90 3/412 12345\n")  # three runnable tasks in all ...
    assert policy.idle_cores(2, str(loadavg), own_running=3) == 2  # ... all of them ours
    assert policy.idle_cores(2, str(loadavg), own_running=2, proc=None) == 1  # one other
    tasks = tmp_path / "task"
    for tid, state in ((1, "R"), (2, "S"), (3, "R"), (4, "D")):
        (tasks / str(tid)).mkdir(parents=True)
        (tasks / str(tid) / "stat").write_text(f"{tid} (a (name)) {state} 1 1 1\n")
    assert policy.own_runnable_threads(str(tasks)) == 2
    assert policy.own_runnable_threads(str(tmp_path / "none")) == 1


def _fake_proc(root, processes, autogroups=None):
    """A /proc tree: {pid: [(state, nice), ...]} (one entry per thread; the first is the
    process's own stat line, as the kernel shows the thread-group leader there);
    ``autogroups``: {pid: "name nice"} and sched_autogroup_enabled on, or None (off)."""
    for pid, threads in processes.items():
        leader_state, leader_nice = threads[0]
        rest = " ".join(["0"] * 15)  # ppid ... priority: fields 1-15 after the state
        (root / str(pid) / "task").mkdir(parents=True)
        (root / str(pid) / "stat").write_text(
            f"{pid} (fuzz (x)) {leader_state} {rest} {leader_nice} {len(threads)} 0\n")
        for tid, (state, nice) in enumerate(threads, start=pid):
            (root / str(pid) / "task" / str(tid)).mkdir()
            (root / str(pid) / "task" / str(tid) / "stat").write_text(
                f"{tid} (fuzz (x)) {state} {rest} {nice} {len(threads)} 0\n")
    (root / "self").mkdir()  # not a process id: skipped
    (root / "sys" / "kernel").mkdir(parents=True)
    (root / "sys" / "kernel" / "sched_autogroup_enabled").write_text(
        "0\n" if autogroups is None else "1\n")
    for pid, group in (autogroups or {}).items():
        (root / str(pid)).mkdir(exist_ok=True)
        name, nice = group.split()
        (root / str(pid) / "autogroup").write_text(f"/autogroup-{name} nice {nice}\n")
    return str(root)


def test_competition_is_weighed_by_priority(tmp_path, monkeypatch):
    """Without session groups, two ``nice 19`` jobs take 1.4% of a core each from a ``nice 0``
    thread: both cores stay this run's. This process (99) never counts."""
    proc = _fake_proc(tmp_path / "proc",
                      {10: [("R", 19)], 11: [("R", 19)], 12: [("S", 0)], 99: [("R", 0)]})
    assert policy.competing_tasks(proc, own_pid=99, own_nice=0) == pytest.approx(2 * 1.25**-19)
    loadavg = tmp_path / "loadavg"
    loadavg.write_text("2.10 1.50 0.90 3/412 12345\n")  # this process and the two jobs
    monkeypatch.setattr(os, "getpid", lambda: 99)
    monkeypatch.setattr(os, "getpriority", lambda which, who: 0)
    assert policy.idle_cores(2, str(loadavg), own_running=1, proc=proc) == 2
    assert policy.idle_cores(2, str(loadavg), own_running=1, proc=None) == 1
    # the same jobs at this process's priority are competition, one core each
    busy = _fake_proc(tmp_path / "busy", {10: [("R", 0)], 11: [("R", 0)]})
    assert policy.idle_cores(2, str(loadavg), own_running=1, proc=busy) == 1
    # a multi-threaded process counts its runnable threads, not its leader's state
    threads = _fake_proc(tmp_path / "threads", {20: [("S", 0), ("R", 0), ("R", 0), ("S", 0)]})
    assert policy.competing_tasks(threads, own_pid=99, own_nice=0) == 2
    # a process running at nice 5 against a nice 0 one: 0.33 of a core, rounded to none
    nice5 = _fake_proc(tmp_path / "nice5", {30: [("R", 5)]})
    assert policy.competing_tasks(nice5, own_pid=99, own_nice=0) == pytest.approx(1.25**-5)
    assert policy.competing_tasks(str(tmp_path / "missing")) is None


def test_niced_jobs_of_another_session_compete_where_the_kernel_groups_sessions(tmp_path):
    """With sched_autogroup (the development machine's kernel), each session gets an equal
    share whatever its tasks' nice values: ``nice 19`` fuzzing jobs started from another
    shell took two thirds of the machine from two ``nice 0`` processes (measured), so they
    are busy cores; a niced job of this process's own session still is not."""
    proc = _fake_proc(tmp_path / "proc",
                      {10: [("R", 19)], 11: [("R", 19)], 12: [("R", 19)], 99: [("R", 0)]},
                      autogroups={10: "7 0", 11: "8 0", 12: "3 0", 99: "3 0"})
    assert policy.competing_tasks(proc, own_pid=99, own_nice=0) == pytest.approx(
        2 + 1.25**-19)
    # a session niced as a whole (echo 19 > /proc/<pid>/autogroup) is weighed by that
    niced = _fake_proc(tmp_path / "niced", {10: [("R", 0)], 99: [("R", 0)]},
                       autogroups={10: "7 19", 99: "3 0"})
    assert policy.competing_tasks(niced, own_pid=99, own_nice=0) == pytest.approx(1.25**-19)


def test_the_limit_holds_inside_the_block_and_is_lifted_after():
    if not blas_counts():
        pytest.skip("threadpoolctl finds no BLAS library")
    before = blas_counts()
    with policy.blas_threads(1, [784, 512, 10], 128) as chosen:
        assert chosen == 1 and set(blas_counts()) == {1}
    assert blas_counts() == before


def test_the_controller_is_kept_until_a_module_is_imported(monkeypatch):
    kept = policy.blas_controller()
    assert policy.blas_controller() is kept
    # an import may load another BLAS: the next call scans the libraries again
    monkeypatch.setitem(sys.modules, "_mlpkit_test_new_module", types.ModuleType("new"))
    fresh = policy.blas_controller()
    assert fresh is not kept and policy.blas_controller() is fresh
    with policy.blas_threads(1, [784, 512, 10], 128):  # the kept controller still limits
        assert set(blas_counts()) <= {1}


def test_train_runs_with_the_chosen_count():
    if not blas_counts():
        pytest.skip("threadpoolctl finds no BLAS library")
    x, t = toy()
    recorder = RecordThreads()
    train(mlp([4, 3, 2], seed=0), x, t, epochs=2, batch_size=8, threads=1,
          callbacks=[recorder])
    assert recorder.seen == [[1] * len(blas_counts())] * 2
    train(mlp([4, 3, 2], seed=0), x, t, epochs=1, batch_size=8, callbacks=[recorder])
    assert set(recorder.seen[0]) == {1}  # the default for so small a product


def test_estimators_pass_threads_on():
    sklearn_mlp = pytest.importorskip("mlpkit.sklearn")
    x, t = toy()
    y = t.argmax(axis=1)
    recorder = RecordThreads()
    model = sklearn_mlp.MLPClassifier((3,), max_iter=2, threads=1, callbacks=[recorder],
                                      random_state=0, n_iter_no_change=np.inf)
    with pytest.warns(Warning):  # ConvergenceWarning after max_iter
        model.fit(x, y)
    assert model.get_params()["threads"] == 1
    assert all(set(counts) <= {1} for counts in recorder.seen)
    with pytest.raises(ValueError, match="threads"):
        sklearn_mlp.MLPRegressor(hidden_layer_sizes=(3,), threads=0).fit(x, t)


def test_cli_train_accepts_threads(capsys):
    code = cli.main(["train", "--dataset", "xor", "--n-samples", "80", "--hidden", "4",
                     "--epochs", "2", "--batch-size", "8", "--threads", "1", "--quiet"])
    assert code == 0
    code = cli.main(["train", "--dataset", "xor", "--threads", "0", "--quiet"])
    assert code != 0 and "--threads" in capsys.readouterr().err


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::ResourceWarning")
def test_dask_workers_get_one_thread():
    # an in-process worker: it shares this process's BLAS, so Dask's environment settings for
    # the worker processes it starts cannot apply; the policy must
    distributed = pytest.importorskip("distributed")
    assert not policy.in_dask_worker()
    with (
        distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                 dashboard_address=None, silence_logs=50) as cluster,
        distributed.Client(cluster) as client,
    ):
        inside = client.submit(policy.in_dask_worker).result()
        chosen = client.submit(policy.choose_threads, None, [784, 512, 256, 10], 128).result()
    assert inside and chosen == 1


class FakeClock:
    """time.perf_counter for the guard: each step takes what the test says."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def _steps(guard, clock, seconds, n, samples=64):
    for _ in range(n):
        guard.batch_start()
        clock.now += seconds
        guard.batch_end(samples)


def test_collapse_guard_drops_to_one_thread_after_steps_collapse(monkeypatch):
    if not blas_counts():
        pytest.skip("threadpoolctl finds no BLAS library")
    clock = FakeClock()
    monkeypatch.setattr(policy.time, "perf_counter", clock)
    before = blas_counts()
    with policy.blas_threads(2, [784, 100, 10], 64) as chosen, \
            policy.CollapseGuard(chosen) as guard:
        _steps(guard, clock, 0.001, 50)  # steady
        _steps(guard, clock, 0.01, policy.CollapseGuard.SLOW_STEPS - 1)  # a short blip
        _steps(guard, clock, 0.001, 5)
        assert guard.dropped == 0 and set(blas_counts()) == {2}
        _steps(guard, clock, 0.001, 1, samples=16)  # a small last batch: per sample, as fast
        _steps(guard, clock, 0.02, policy.CollapseGuard.SLOW_STEPS)  # collapsed, 0.16 s
        assert guard.dropped == 1 and set(blas_counts()) == {1}
        monkeypatch.setattr(policy, "idle_cores", lambda: 1)  # still busy: stays at one
        guard.epoch_start()
        assert set(blas_counts()) == {1}
        monkeypatch.setattr(policy, "idle_cores", lambda: 2)  # idle again: both back
        guard.epoch_start()
        assert guard.active and set(blas_counts()) == {2}
        _steps(guard, clock, 0.02, policy.CollapseGuard.SLOW_STEPS)  # fastest seen is reset
        assert guard.dropped == 1
        _steps(guard, clock, 0.001, 1)
        _steps(guard, clock, 0.02, policy.CollapseGuard.SLOW_STEPS)
        assert guard.dropped == 2 and set(blas_counts()) == {1}
    assert blas_counts() == before  # the drop is undone with the run's own limit


def test_collapse_guard_needs_enough_slow_time_and_keeps_out_of_explicit_runs(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(policy.time, "perf_counter", clock)
    quick = policy.CollapseGuard(2)
    _steps(quick, clock, 1e-5, 10)
    _steps(quick, clock, 1e-3, 20)  # 100x slower, but 20 ms in all: a blip, not a collapse
    assert quick.dropped == 0
    for guard in (policy.CollapseGuard(2, explicit=True), policy.CollapseGuard(1)):
        _steps(guard, clock, 0.001, 10)
        _steps(guard, clock, 1.0, 20)
        assert guard.dropped == 0 and not guard.active


def test_train_drops_threads_when_its_steps_collapse(monkeypatch):
    """train() with the policy's several threads watches its steps (here every step counts as
    collapsed) and finishes on one thread; the BLAS setting is restored afterwards."""
    if not blas_counts():
        pytest.skip("threadpoolctl finds no BLAS library")
    monkeypatch.setattr(policy, "choose_threads", lambda threads, sizes, rows: 2)
    monkeypatch.setattr(policy.CollapseGuard, "FACTOR", -1.0)
    monkeypatch.setattr(policy.CollapseGuard, "SLOW_SECONDS", 0.0)
    monkeypatch.setattr(policy.CollapseGuard, "SLOW_STEPS", 3)

    class PerBatch(Callback):
        def on_train_begin(self, network, history, n_batches):
            self.seen = []

        def on_batch_end(self, epoch, batch, loss):
            self.seen.append(blas_counts())

    before = blas_counts()
    x, t = toy()
    recorder = PerBatch()
    train(mlp([4, 3, 2], seed=0), x, t, epochs=1, batch_size=8, callbacks=[recorder])
    assert [set(c) for c in recorder.seen] == [{2}] * 2 + [{1}] * 6
    assert blas_counts() == before
    recorder.seen = []
    train(mlp([4, 3, 2], seed=0), x, t, epochs=1, batch_size=8, callbacks=[recorder],
          threads=2)  # explicit: never dropped
    assert [set(c) for c in recorder.seen] == [{2}] * 8
