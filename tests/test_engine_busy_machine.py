"""Honest about a busy machine: each result records what other programs and the hypervisor took.

The "other program" is a real busy process (``while True: pass``) started outside the run's process
tree (its starter exits, so it is nobody's child here) and killed at the end; the quiet case is a
recorded result, as a machine shared with other work cannot promise a quiet run.
"""

from __future__ import annotations

import dataclasses
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from concgui.cli.tables import format_comparison, format_summary
from concgui.engine import ExperimentSpec, run_inline
from concgui.engine.host_load import (
    HostLoad,
    local_outside_tree,
    other_programs_cores,
    parse_steal,
    steal_seconds,
)
from concgui.engine.metrics import COMPARE_COLUMNS
from concgui.engine.records import CpuSample, RunResult, TaskRecord
from concgui.engine.summary import busy_machine, busy_machine_sentence, foreign_cores, own_cores, summarize
from concgui.engine.why import explain

LINE = "during this run: speedups are lower than this machine can give"
#: 4 sleeps side by side: the run's own CPU is next to nothing, and 0.5 s gives the probe several samples
SPEC = ExperimentSpec(workload="sleep", executor="threads", tasks=4, duration=0.5, isolation="inline")
#: computing on every core: whatever another program takes, this run wanted
CPU_SPEC = ExperimentSpec(workload="cpu", executor="process-pool", tasks=os.cpu_count() or 1,
                          workers=os.cpu_count() or 1, duration=0.5, isolation="inline")

#: the start of a real /proc/stat (2 CPUs, 100 ticks a second): steal is the 8th number of the "cpu" line
STAT_TEXT = """cpu  228879 0 40816 563871 1320 0 484 4929 0 0
cpu0 114000 0 20400 281900 660 0 240 2460 0 0
cpu1 114879 0 20416 281971 660 0 244 2469 0 0
intr 123456 0 0
ctxt 987654
"""


@pytest.fixture
def other_program():
    """A process that keeps one core busy and is not in this process's tree; killed at the end."""
    starter = ("import subprocess, sys; p = subprocess.Popen([sys.executable, '-c', 'while True: pass'], "
               "start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, "
               "stderr=subprocess.DEVNULL); print(p.pid)")
    pid = int(subprocess.run([sys.executable, "-c", starter], capture_output=True, text=True, check=True,
                             timeout=30).stdout)
    busy = psutil.Process(pid)
    try:
        assert pid not in {p.pid for p in psutil.Process().children(recursive=True)}
        deadline = time.monotonic() + 5
        busy.cpu_percent()
        while busy.cpu_times().user < 0.2 and time.monotonic() < deadline:  # it computes before the run starts
            time.sleep(0.05)
        yield busy
    finally:
        busy.kill()
        busy.wait(5)


def recorded(executor: str = "threads", per_core=(30.0, 20.0), tree=50.0, steal=None, status="ok",
             computing: float = 0.04) -> RunResult:
    """A finished 4-task run on a 2-core machine with CPU samples every 0.1 s over its 1 s of work (0.2 s of
    start-up first); its tasks computed on ``computing`` cores on average (the default: sleeps, next to none),
    on two threads side by side where that is more than one core."""
    lanes = 2 if computing > 1 else 1
    span = lanes / 4  # each lane's tasks back to back over the 1 s
    tasks = [TaskRecord(i, f"thread {1 + i % lanes}", 1, 1 + i % lanes, 0.2, 0.2 + span * (i // lanes),
                        0.2 + span * (i // lanes + 1), span * computing / lanes, "ok") for i in range(4)]
    samples = [CpuSample(round(0.1 * k, 1), list(per_core), tree) for k in range(1, 13)]
    r = RunResult(spec={"executor": executor, "workload": "sleep", "tasks": 4}, environment={"cpu_count": 2},
                  status=status, startup_seconds=0.2, wall_seconds=1.0, workers=4, tasks=tasks, cpu_samples=samples)
    load = HostLoad()
    r.environment.update(load.figures(samples, 0.2, 1.2))
    if steal is not None:
        r.environment["steal_cores"] = steal
    r.summary = summarize(r)
    return r


# --- a real run --------------------------------------------------------------------------------------------------
def test_a_run_beside_a_busy_program_records_it_and_says_so(other_program):
    result = run_inline(CPU_SPEC)  # computing on every core while the program takes one
    env = result.environment
    assert result.status == "ok"
    assert env["other_programs_cores"] >= 0.5, env  # the busy loop: about a core
    assert env["other_programs_cores"] <= 2.0 + 0.2
    assert env["concgui_helpers_cores"] is not None and 0.0 <= env["concgui_helpers_cores"] < 0.5  # the probe
    if Path("/proc/stat").exists():
        assert env["steal_cores"] is not None and env["steal_cores"] >= 0.0
    assert busy_machine(result)
    line = busy_machine_sentence(result)
    assert line.startswith("Other programs used ") and LINE in line
    assert line in explain(result)
    assert line not in explain(result, load_line=False)
    assert f"Why: {explain(result)}" in format_summary(result)  # what `concgui run` prints
    assert LINE in format_summary(result)
    # the comparison's shared column marks it, in the window's table and the command line's alike
    other_load = COMPARE_COLUMNS[-1]
    assert other_load.label == "other load" and other_load.show(result).startswith("⚠ ")
    assert format_comparison([result]).splitlines()[1].rstrip().endswith(other_load.show(result))


def test_sleeps_beside_a_busy_program_record_it_and_are_not_told_they_were_slowed(other_program):
    """Sleeping needs no core: other programs slow such a run only where they take every core of the machine
    (here, a busy loop takes one, and whatever else shares this machine may take the other)."""
    result = run_inline(SPEC)
    load = foreign_cores(result)
    assert load >= 0.5, result.environment  # recorded: the busy loop's core
    assert own_cores(result) < 0.1  # the run itself wanted next to no core
    # on a machine with a core to spare beside that load (this one's other core may be taken by whatever else
    # shares it), the recorded run is not told it was slowed
    spare = dataclasses.replace(result, environment={**result.environment, "cpu_count": math.ceil(load) + 1})
    assert not busy_machine(spare)
    assert busy_machine_sentence(spare) == "" and LINE not in explain(spare)
    assert not COMPARE_COLUMNS[-1].show(spare).startswith("⚠")


def test_a_real_run_records_the_figures_and_old_files_still_open():
    result = run_inline(SPEC)
    env = result.environment
    assert env["other_programs_cores"] is not None and env["other_programs_cores"] >= 0.0
    assert (env["steal_cores"] is not None) == Path("/proc/stat").exists()
    again = RunResult.from_dict(result.to_dict())
    assert again.environment["other_programs_cores"] == env["other_programs_cores"]
    old = result.to_dict()
    for key in ("other_programs_cores", "steal_cores", "concgui_helpers_cores"):
        del old["environment"][key]
    old = RunResult.from_dict(old)
    assert foreign_cores(old) is None and not busy_machine(old) and busy_machine_sentence(old) == ""
    assert "other programs" not in explain(old).lower()
    assert COMPARE_COLUMNS[-1].show(old) == "—"


# --- recorded results ----------------------------------------------------------------------------------------
def test_a_quiet_recorded_run_has_no_line_and_a_busy_one_has():
    quiet = recorded(per_core=(30.0, 20.0), tree=50.0)  # all the busy CPU was the run's own
    assert quiet.environment["other_programs_cores"] == pytest.approx(0.0, abs=1e-9)
    assert not busy_machine(quiet) and busy_machine_sentence(quiet) == ""
    assert "other programs" not in explain(quiet).lower()
    assert COMPARE_COLUMNS[-1].show(quiet) == "0.00"

    sleeping = recorded(per_core=(100.0, 40.0), tree=50.0)  # 0.9 cores that were not the run's, which slept
    assert sleeping.environment["other_programs_cores"] == pytest.approx(0.9, abs=0.01)
    assert not busy_machine(sleeping) and busy_machine_sentence(sleeping) == ""
    assert COMPARE_COLUMNS[-1].show(sleeping) == "0.90"

    busy = recorded(per_core=(100.0, 40.0), tree=50.0, computing=1.5)  # the run wanted both cores
    assert busy_machine_sentence(busy) == f"Other programs used 0.9 cores {LINE}."
    assert explain(busy).endswith(f"Other programs used 0.9 cores {LINE}.")
    assert COMPARE_COLUMNS[-1].show(busy) == "⚠ 0.90"

    just_under = recorded(per_core=(33.0, 25.0), tree=50.0, computing=1.9)  # 0.08 cores: below a tenth of a core
    assert not busy_machine(just_under) and busy_machine_sentence(just_under) == ""

    stopped = recorded(per_core=(100.0, 40.0), tree=50.0, status="cancelled", computing=1.5)
    assert busy_machine_sentence(stopped) == ""  # a run that did not finish says why it stopped instead


def test_steal_is_named_as_the_hypervisors():
    stolen = recorded(per_core=(30.0, 20.0), tree=50.0, steal=0.2, computing=1.9)
    assert busy_machine_sentence(stolen) == f"The hypervisor took 0.2 cores (steal) {LINE}."
    both = recorded(per_core=(60.0, 20.0), tree=50.0, steal=0.2, computing=1.5)
    assert busy_machine_sentence(both) == (f"Other programs used 0.3 cores and the hypervisor took 0.2 cores (steal) "
                                           f"{LINE}.")
    baseline = recorded(executor="sequential", per_core=(100.0, 60.0), tree=50.0, computing=1.0)
    assert "speedups against it higher" in busy_machine_sentence(baseline)
    assert busy_machine_sentence(baseline) in explain(baseline)


def test_other_programs_are_averaged_over_the_work_before_clamping():
    # the tree's CPU of a worker that ended counts a sample late: +0.5 in one sample, -0.5 in the next
    samples = [CpuSample(0.1, [50.0, 50.0], 50.0), CpuSample(0.2, [50.0, 50.0], 150.0),
               CpuSample(0.3, [80.0, 20.0], 80.0)]  # and 0.2 cores of another program in the last
    assert other_programs_cores(samples, 0.0, 0.3) == pytest.approx(0.2 / 3, abs=1e-9)  # clamped each: 0.7 / 3
    assert other_programs_cores(samples, 0.25, 0.3) == pytest.approx(0.2, abs=1e-9)  # only the last sample
    assert other_programs_cores(samples, 5.0, 6.0) is None  # no sample in the span
    assert other_programs_cores([CpuSample(0.1, [50.0, 50.0], None)], 0.0, 1.0) is None  # an old file's samples


# --- steal from /proc/stat -------------------------------------------------------------------------------------
def test_the_steal_column_parses_from_a_sample_and_from_this_machine(tmp_path):
    assert parse_steal(STAT_TEXT, 100) == pytest.approx(49.29)
    assert parse_steal("cpu  1 2 3 4 5 6 7\n", 100) is None  # a kernel before the steal column
    assert parse_steal("no cpu line here\n", 100) is None
    assert steal_seconds(str(tmp_path / "no-such-stat")) is None  # not Linux: no /proc/stat
    real = steal_seconds()
    if sys.platform.startswith("linux"):
        assert real is not None and real >= 0.0
    elif not Path("/proc/stat").exists():
        assert real is None


def test_steal_between_two_readings_is_cores_and_leaves_other_programs(tmp_path):
    stat = tmp_path / "stat"
    stat.write_text(STAT_TEXT)
    ticks = 1.0 / parse_steal("cpu  0 0 0 0 0 0 0 1\n")  # this machine's ticks per second
    load = HostLoad(stat=str(stat))
    load.start()
    time.sleep(0.3)
    stat.write_text(STAT_TEXT.replace(" 4929 ", f" {4929 + round(0.15 * ticks)} ", 1))  # 0.15 s of steal
    load.stop()
    samples = [CpuSample(0.1 * k, [100.0, 50.0], 50.0) for k in range(1, 4)]  # 1 core busy beyond the tree
    figures = load.figures(samples, 0.0, 0.3)
    assert 0.25 <= figures["steal_cores"] <= 0.55  # 0.15 s over about 0.3 s
    assert figures["other_programs_cores"] == pytest.approx(1.0 - figures["steal_cores"], abs=0.01)
    assert figures["concgui_helpers_cores"] == 0.0  # no helpers named
    missing = HostLoad(stat=str(tmp_path / "none"))
    missing.start()
    missing.stop()
    assert missing.figures(samples, 0.0, 0.3)["steal_cores"] is None


# --- a Dask cluster's workers on this machine, outside the run's tree --------------------------------------------
def test_local_dask_workers_outside_the_tree_are_the_runs_not_other_programs(other_program):
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(5)"])  # below us: in the tree
    try:
        workers = [{"pid": other_program.pid, "same_clock": True}, {"pid": child.pid, "same_clock": True},
                   {"pid": other_program.pid + 10_000_000, "same_clock": True},  # gone (or never was)
                   {"pid": 1, "same_clock": False}]  # another machine's
        assert local_outside_tree(workers) == [other_program.pid]
    finally:
        child.kill()
        child.wait()
    load = HostLoad()
    load.start({"dask": {"workers": [{"pid": other_program.pid, "same_clock": True}]}})
    time.sleep(0.4)
    load.stop()
    samples = [CpuSample(0.1 * k, [100.0, 20.0], 20.0) for k in range(1, 5)]  # a core beyond the tree: the worker
    figures = load.figures(samples, 0.0, 0.4)
    assert figures["concgui_helpers_cores"] >= 0.5
    assert figures["other_programs_cores"] <= 0.5
