"""Live events: batches in a sane order, delivered while the run goes, from threads and from processes."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time

import psutil
import pytest

from concgui.engine import ExperimentSpec, RunFinished, RunStarted, TaskFinished, TaskStarted, run
from concgui.engine.events import CpuSampled, StartupFinished, event_from_json, event_to_json


class Recorder:
    """An on_events consumer that keeps every batch and when it arrived."""

    def __init__(self) -> None:
        self.batches: list[list] = []
        self.arrived: list[float] = []

    def __call__(self, batch) -> None:
        assert isinstance(batch, list), f"events come in lists, not {type(batch).__name__}"
        assert batch, "no empty batches"
        self.batches.append(list(batch))
        self.arrived.append(time.monotonic())

    @property
    def events(self) -> list:
        return [e for b in self.batches for e in b]


def check_order(events: list, tasks: int) -> None:
    """RunStarted first, RunFinished last, per task at most one start before exactly one finish."""
    assert isinstance(events[0], RunStarted)
    assert isinstance(events[-1], RunFinished)
    assert sum(isinstance(e, RunStarted) for e in events) == 1
    assert sum(isinstance(e, RunFinished) for e in events) == 1
    assert events[0].tasks == tasks
    started: dict[int, int] = {}
    finished: dict[int, int] = {}
    for pos, e in enumerate(events):
        if isinstance(e, TaskStarted):
            assert e.index not in started, f"task {e.index} started twice"
            assert e.index not in finished, f"task {e.index} started after it finished"
            started[e.index] = pos
        elif isinstance(e, TaskFinished):
            assert e.record.index not in finished, f"task {e.record.index} finished twice"
            finished[e.record.index] = pos
    assert sorted(finished) == list(range(tasks)), "every task has exactly one TaskFinished"
    final = events[-1].result
    for e in events:
        if isinstance(e, TaskFinished):
            assert e.record == final.tasks[e.record.index]
    check_workers_in_order(events, final.tasks)


def check_workers_in_order(events: list, records: list) -> None:
    """A worker that runs one task at a time names its tasks in the order they ran, across batches and
    within one: a view may then take the stream a part at a time and keep each worker on one row."""
    first_seen: dict[str, list[float]] = {}
    seen: set[int] = set()
    for e in events:
        i = e.index if isinstance(e, TaskStarted) else e.record.index if isinstance(e, TaskFinished) else None
        if i is not None and i not in seen and records[i].start is not None:
            seen.add(i)
            first_seen.setdefault(records[i].worker, []).append(records[i].start)
    for worker, starts in first_seen.items():
        ran = sorted((r.start, r.end) for r in records if r.worker == worker and r.start is not None)
        if all(a[1] <= b[0] for a, b in zip(ran, ran[1:], strict=False)):  # one task at a time
            assert starts == sorted(starts), f"{worker}: a task named before one that ran earlier"


@pytest.mark.parametrize(("executor", "extra"), [
    ("sequential", {}),
    ("threads", {}),
    ("thread-pool", {"workers": 2}),
    ("process-pool", {"workers": 2, "start_method": "fork"}),
    ("processes", {"start_method": "fork"}),
    ("asyncio", {}),
    ("qt-thread-pool", {"workers": 2}),
])
def test_events_arrive_in_order_for_every_executor(executor, extra):
    rec = Recorder()
    result = run(ExperimentSpec(executor=executor, workload="sleep", tasks=4, duration=0.15,
                                isolation="inline", **extra), on_events=rec)
    check_order(rec.events, 4)
    assert rec.events[-1].result is result
    starts = [e for e in rec.events if isinstance(e, TaskStarted)]
    assert starts, "tasks of 0.15 s are seen running before they finish"
    for e in starts:
        assert e.pid and e.thread_id and e.worker and e.start is not None
    assert sum(isinstance(e, StartupFinished) for e in rec.events) == 1


def test_events_of_many_short_tasks_come_in_few_batches():
    rec = Recorder()
    run(ExperimentSpec(executor="thread-pool", workers=4, workload="noop", tasks=3000, isolation="inline"),
        on_events=rec)
    check_order(rec.events, 3000)
    assert len(rec.batches) < 300, f"{len(rec.batches)} calls for 3000 tasks: events are not batched"


def test_a_stream_through_the_engine_process_names_each_workers_tasks_in_the_order_they_ran():
    rec = Recorder()
    run(ExperimentSpec(executor="thread-pool", workers=4, workload="sleep", duration=0.001, tasks=3000,
                       isolation="process"), on_events=rec)
    check_order(rec.events, 3000)  # with check_workers_in_order
    # tasks seen running, each after the tasks its worker ran before: where the order is at stake
    assert sum(isinstance(e, TaskStarted) for e in rec.events) > 10


def test_events_are_delivered_live_not_at_the_end():
    rec = Recorder()
    t0 = time.monotonic()
    run(ExperimentSpec(executor="sequential", workload="sleep", tasks=1, duration=0.5, isolation="inline"),
        on_events=rec)
    end = time.monotonic()
    first_start = next(i for i, b in enumerate(rec.batches) if any(isinstance(e, TaskStarted) for e in b))
    assert rec.arrived[first_start] - t0 < end - t0 - 0.2, "TaskStarted came only at the end"
    cpu_batches = [i for i, b in enumerate(rec.batches) if any(isinstance(e, CpuSampled) for e in b)]
    assert cpu_batches, "no CPU samples during a 0.5 s run"
    assert rec.arrived[cpu_batches[0]] < end - 0.1, "CPU samples came only at the end"


def test_cpu_samples_cover_every_core_and_match_the_result():
    rec = Recorder()
    result = run(ExperimentSpec(executor="sequential", workload="sleep", tasks=1, duration=0.5,
                                isolation="inline"), on_events=rec)
    samples = [e.sample for e in rec.events if isinstance(e, CpuSampled)]
    assert len(samples) >= 2
    assert samples == result.cpu_samples
    for s in samples:
        assert len(s.per_core) == psutil.cpu_count()
        assert all(0.0 <= p <= 100.0 for p in s.per_core)
        assert 0.0 <= s.t <= result.startup_seconds + result.wall_seconds + 0.5
        assert s.tree_percent is not None and s.tree_percent >= 0.0
    assert [s.t for s in samples] == sorted(s.t for s in samples)
    assert result.summary["mean_cpu_percent"] is not None


def _burner(seconds: float, then: str = "") -> subprocess.Popen:
    """A Python child that uses ``seconds`` of CPU, runs ``then``, then sleeps until killed."""
    code = (f"import subprocess, sys, time\nt = time.process_time()\nwhile time.process_time() - t < {seconds}: pass\n"
            f"{then}\ntime.sleep(60)")
    return subprocess.Popen([sys.executable, "-c", code])


def _until_cpu(pid: int, seconds: float) -> None:
    p = psutil.Process(pid)
    deadline = time.monotonic() + 20
    while sum(p.cpu_times()[:2]) < seconds:
        assert time.monotonic() < deadline, "the child never used its CPU"
        time.sleep(0.02)


@pytest.fixture(params=["proc-children", "psutil-scan"])
def tree_cpu(request, monkeypatch):
    """TreeCpu over this process's tree, listed from the kernel's children files or by psutil's scan."""
    from concgui.engine import cpu_probe

    if request.param == "psutil-scan":
        monkeypatch.setattr(cpu_probe, "PROC_CHILDREN", False)
    elif not cpu_probe.PROC_CHILDREN:
        pytest.skip("this kernel has no /proc/<pid>/task/<tid>/children")
    return cpu_probe.TreeCpu(psutil.Process(), exclude=-1)


def test_the_run_tree_counts_a_worker_in_the_interval_it_was_born_and_keeps_counting_after_one_exits(tree_cpu):
    grandchild_burns = "subprocess.Popen([sys.executable, '-c', 'import time\\nt = time.process_time()\\n" \
                       "while time.process_time() - t < 0.3: pass\\ntime.sleep(60)'])"
    a, b = _burner(0.3), _burner(0.05, then=grandchild_burns)
    born: list[subprocess.Popen | psutil.Process] = [a, b]
    try:
        _until_cpu(a.pid, 0.3)
        deadline = time.monotonic() + 20
        while len(born) == 2:
            born += psutil.Process(b.pid).children()
            assert time.monotonic() < deadline
            time.sleep(0.02)
        _until_cpu(born[2].pid, 0.3)
        assert tree_cpu.take() >= 0.6, "workers born since the last sample count whole, grandchildren too"
        assert tree_cpu.take() < 0.1, "... and once"
        for p in (a, b):  # b's child is re-parented, still running: it leaves the tree
            p.kill()
            p.wait()  # reaped by this process: their whole lives land in its children's CPU time
        born.append(_burner(0.2))
        _until_cpu(born[-1].pid, 0.2)
        assert 0.2 <= tree_cpu.take() < 0.45, "an exited process neither hid the others' CPU nor counted twice"
    finally:
        _kill(born)


def test_the_run_tree_counts_a_worker_that_lived_and_ended_between_two_samples(tree_cpu):
    code = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.3: pass"
    subprocess.run([sys.executable, "-c", code], check=True)
    assert 0.3 <= tree_cpu.take() < 0.6


def test_a_process_missing_from_one_listing_of_the_tree_is_not_counted_twice(tree_cpu, monkeypatch):
    from concgui.engine import cpu_probe

    a = _burner(0.3)
    try:
        _until_cpu(a.pid, 0.3)
        assert tree_cpu.take() >= 0.3
        listing = cpu_probe.descendants
        monkeypatch.setattr(cpu_probe, "descendants", lambda root: [p for p in listing(root) if p != a.pid])
        tree_cpu.take()  # the kernel's list can miss a child while another exits
        monkeypatch.setattr(cpu_probe, "descendants", listing)
        assert tree_cpu.take() < 0.1, "counted whole again when listed again"
    finally:
        _kill([a])


def _kill(processes: list) -> None:
    for p in processes:
        with contextlib.suppress(psutil.Error, OSError):
            p.kill()
            p.wait(5) if isinstance(p, psutil.Process) else p.wait()


def test_worker_processes_report_their_starts_live():
    rec = Recorder()
    run(ExperimentSpec(executor="process-pool", workers=2, start_method="forkserver", workload="sleep", tasks=2,
                       duration=0.4, isolation="inline"), on_events=rec)
    starts = [e for e in rec.events if isinstance(e, TaskStarted)]
    assert {e.index for e in starts} == {0, 1}
    assert os.getpid() not in {e.pid for e in starts}


def test_events_through_the_engine_process():
    rec = Recorder()
    result = run(ExperimentSpec(executor="thread-pool", workers=2, workload="sleep", tasks=4, duration=0.2,
                                isolation="process"), on_events=rec)
    check_order(rec.events, 4)
    assert result.status == "ok"
    assert rec.events[-1].result.to_dict() == result.to_dict()
    assert any(isinstance(e, TaskStarted) for e in rec.events)
    assert any(isinstance(e, CpuSampled) for e in rec.events)


def test_every_event_survives_json():
    rec = Recorder()
    run(ExperimentSpec(executor="thread-pool", workers=2, workload="custom", tasks=3, isolation="inline",
                       function=os.path.join(os.path.dirname(__file__), "data", "custom_tasks.py:fail_on_one")),
        on_events=rec)
    kinds = set()
    for e in rec.events:
        back = event_from_json(json.loads(json.dumps(event_to_json(e))))
        assert back == e
        kinds.add(type(e).__name__)
    assert {"RunStarted", "StartupFinished", "TaskFinished", "RunFinished"} <= kinds
    with pytest.raises(ValueError):
        event_from_json({"type": "nonsense"})


def test_startup_finished_comes_before_any_task_event():
    for _ in range(3):  # one batch holds both almost always; three runs make it certain
        rec = Recorder()
        run(ExperimentSpec(executor="sequential", workload="noop", tasks=50, isolation="inline"), on_events=rec)
        names = [type(e).__name__ for e in rec.events]
        first_task = min(i for i, n in enumerate(names) if n in ("TaskStarted", "TaskFinished"))
        assert names.index("StartupFinished") < first_task, names[:5]


def test_a_consumer_that_raises_does_not_hang_the_run():
    import concgui.engine as engine

    def consumer(batch):
        if any(isinstance(e, TaskFinished) for e in batch):
            raise ValueError("a bug in the consumer")

    r = engine.start(ExperimentSpec(executor="thread-pool", workers=1, workload="sleep", duration=0.1, tasks=3,
                                    isolation="inline"), consumer)
    outcome = []

    def target():
        try:
            outcome.append(r.execute())
        except BaseException as exc:  # noqa: BLE001 - raising the consumer's error is an acceptable outcome
            outcome.append(exc)

    t = threading.Thread(target=target)
    t.start()
    t.join(3)  # the run itself takes 0.3 s
    hung = t.is_alive()
    if hung:  # unblock it so that nothing is left running
        r.cancel()
        t.join(5)
    assert not hung, "the run hung after its consumer raised"
    [result] = outcome
    assert not isinstance(result, BaseException), result
    assert result.status == "ok", "the consumer is cut off, never the measurement"
    assert [t.status for t in result.tasks] == ["ok"] * 3


def test_a_run_keeps_its_records_out_of_the_collectors_sight_while_it_goes_and_gives_them_back():
    import gc

    assert gc.get_freeze_count() == 0
    held: list = []  # records of earlier batches, kept alive so that their ids stay theirs
    walked: list[int] = []

    def consumer(events) -> None:  # runs on the pump, before this batch's freeze
        if held and len(walked) < 3:
            earlier = {id(r) for r in held}
            walked.append(sum(1 for o in gc.get_objects() if id(o) in earlier))
        held.extend(e.record for e in events if isinstance(e, TaskFinished))

    result = run(ExperimentSpec(workload="sleep", executor="thread-pool", tasks=60, duration=0.01, workers=4,
                                isolation="inline"), consumer)
    assert walked and set(walked) == {0}, "collections during the run walked the records of earlier batches"
    assert gc.get_freeze_count() == 0, "the run ended with the process's objects still frozen"
    ids = {id(t) for t in result.tasks}
    assert any(id(o) in ids for o in gc.get_objects())


def test_a_run_leaves_a_host_that_freezes_objects_itself_alone():
    import gc

    gc.freeze()  # a host that froze what it holds (as a forking server does)
    try:
        frozen = gc.get_freeze_count()
        run(ExperimentSpec(workload="noop", executor="thread-pool", tasks=2000, workers=2, isolation="inline"),
            lambda events: None)
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
