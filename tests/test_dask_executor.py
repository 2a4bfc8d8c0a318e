"""The Dask executor against real Dask processes.

A real ``dask scheduler`` and ``dask worker`` processes on loopback ports (plain TCP, and TLS
with a certificate made by openssl), and the embedded LocalCluster default.  Every workload
runs through them with the same recording wrapper as every other executor.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import faults_support
import psutil
import pytest

import concgui.engine as engine
from concgui.engine import ExperimentSpec, SpecError, TaskStarted, run
from concgui.engine.echo import EchoLines

pytest.importorskip("distributed", reason="the dask extra is not installed: pip install -e '.[dask]'")

ROOT = Path(__file__).resolve().parents[1]
DASK = str(Path(sys.executable).with_name("dask"))
CUSTOM = "tests/data/custom_tasks.py"
FAULTS = "tests.data.fault_tasks"
LANE = re.compile(r"^\S+ pid (\d+) · thread \d+$")
pytestmark = pytest.mark.timeout(120)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DaskProcesses:
    """``dask scheduler`` and ``dask worker`` as child processes, each in its own process group."""

    def __init__(self, scheme: str = "tcp", tls: list[str] | None = None, nworkers: int = 2, nthreads: int = 2,
                 worker_prefix: tuple[str, ...] = ()):
        port = free_port()
        self.address = f"{scheme}://127.0.0.1:{port}"
        tls = tls or []
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "cwd": ROOT, "start_new_session": True}
        self.procs = [subprocess.Popen([DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                        # its HTTP server listens even without the dashboard: not on 8787
                                        "--no-dashboard", "--dashboard-address", "127.0.0.1:0",
                                        "--protocol", scheme, *tls], **quiet)]
        self.procs.append(subprocess.Popen([*worker_prefix, DASK, "worker", self.address, "--nworkers", str(nworkers),
                                            "--nthreads", str(nthreads), "--host", "127.0.0.1",
                                            "--no-dashboard", *tls], **quiet))
        self.nworkers = nworkers

    def wait_for_workers(self, security=None, timeout: float = 60.0) -> None:
        from distributed import Client

        with Client(self.address, security=security, timeout=timeout, set_as_default=False) as client:
            client.wait_for_workers(self.nworkers, timeout=timeout)

    def stop(self) -> None:
        for p in self.procs:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for p in self.procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(5)


@pytest.fixture(scope="module")
def scheduler():
    """A scheduler and 2 worker processes × 2 threads, as a person would start them by hand."""
    cluster = DaskProcesses()
    try:
        cluster.wait_for_workers()
        yield cluster.address
    finally:
        cluster.stop()


def dask(**kw) -> ExperimentSpec:
    return ExperimentSpec(**{"executor": "dask", "isolation": "inline", **kw})


def lanes_of(result) -> dict[str, int]:
    """Lane label -> the pid named in it, for every task that ran."""
    out = {}
    for t in result.tasks:
        if t.start is not None:
            m = LANE.match(t.worker)
            assert m, f"lane {t.worker!r} does not name the worker's host and pid"
            out[t.worker] = int(m.group(1))
    return out


# --- availability and the spec --------------------------------------------------------------------
def test_without_distributed_dask_is_listed_unavailable_with_how_to_install():
    code = ("import sys; sys.modules['distributed'] = None\n"
            "from concgui.engine.executors import list_executors\n"
            "row = [r for r in list_executors() if r['name'] == 'dask'][0]\n"
            "print(row['available'], row['reason'])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert out.startswith("False"), out
    assert "concgui[dask]" in out


@pytest.mark.parametrize("field, value, words", [
    ("scheduler", "http://127.0.0.1:8786", "tcp://host:port"),
    ("scheduler", "tcp://127.0.0.1", "tcp://host:port"),
    ("scheduler", "tcp://127.0.0.1:70000", "port out of range"),
    ("tls_ca", "ca.pem", "only used with a tls:// scheduler"),
    ("threads_per_worker", 0, "out of range"),
])
def test_bad_dask_fields_are_refused_naming_the_field(field, value, words):
    kw = {field: value}
    if field == "tls_ca":
        kw["scheduler"] = "tcp://127.0.0.1:8786"
    with pytest.raises(SpecError, match=field) as info:
        dask(**kw)
    assert words in str(info.value)


def test_a_tls_scheduler_needs_all_three_files_and_they_must_exist(tmp_path):
    with pytest.raises(SpecError, match="tls_cert"):
        dask(scheduler="tls://127.0.0.1:8786", tls_ca="a", tls_key="c")
    spec = dask(scheduler="tls://127.0.0.1:8786", tls_ca=str(tmp_path / "no-such.pem"), tls_cert="b", tls_key="c")
    with pytest.raises(SpecError, match="tls_ca: .*is not a file"):
        run(spec)  # refused before anything runs


def test_workers_of_a_local_cluster_are_processes_times_threads():
    spec = dask(workers=3, threads_per_worker=2)
    assert spec.worker_threads() == 6
    assert spec.relevant("threads_per_worker") and spec.relevant("scheduler")
    assert not ExperimentSpec(executor="thread-pool").relevant("scheduler")


# --- a real scheduler and workers -------------------------------------------------------------------
@pytest.mark.parametrize("workload, extra", [
    ("sleep", {"duration": 0.05}),
    ("cpu", {"duration": 0.05}),
    ("hash", {"duration": 0.05}),
    ("file-io", {"size_mb": 0.5}),
    ("mixed", {"duration": 0.05, "cpu_fraction": 0.5}),
    ("noop", {}),
    ("custom", {"function": f"{CUSTOM}:fail_on_one"}),
])
def test_every_workload_runs_on_a_real_scheduler_with_a_lane_per_worker_thread(scheduler, workload, extra):
    result = run(dask(workload=workload, tasks=12, scheduler=scheduler, **extra))
    assert result.status == "ok", result.error
    found = result.environment["dask"]["workers"]
    pids = {w["pid"] for w in found}
    assert len(found) == 2 and os.getpid() not in pids
    assert result.workers == 4  # 2 worker processes × 2 threads, as found on the cluster
    assert set(lanes_of(result).values()) <= pids
    assert all(w["same_clock"] and w["clock_offset_ms"] == 0 for w in found)
    for t in result.tasks:
        if workload == "custom" and t.index == 1:
            assert t.status == "error" and t.error["type"] == "ValueError" and "on purpose" in t.error["message"]
            continue
        assert t.status == "ok", t.error
        assert 0 <= result.startup_seconds <= t.start <= t.end <= result.startup_seconds + result.wall_seconds + 1e-6
    assert result.summary["errors"] == (1 if workload == "custom" else 0)


def test_sleep_tasks_overlap_on_every_worker_thread_and_starts_stream_live(scheduler):
    events = []
    result = run(dask(workload="sleep", tasks=8, duration=0.4, scheduler=scheduler), events.extend)
    assert result.status == "ok"
    assert len(lanes_of(result)) == 4
    assert result.summary["peak_in_flight"] == 4
    assert result.wall_seconds < 0.8 + 0.5  # two rounds of 0.4 s, not eight
    started = {e.index for e in events if isinstance(e, TaskStarted)}
    assert len(started) >= 4, "running tasks are shown while they run, not only when they end"
    lines = EchoLines().lines(events)
    assert any(line.startswith(f"Dask: {scheduler}, 2 workers") for line in lines), lines
    assert sum("same clock as this process, no correction" in line for line in lines) == 2


def test_a_subset_of_the_workers_can_be_asked_for_and_too_many_are_refused(scheduler):
    one = run(dask(workload="sleep", tasks=4, duration=0.05, workers=1, scheduler=scheduler))
    assert one.status == "ok" and len(set(lanes_of(one).values())) == 1 and one.workers == 2
    many = run(dask(workload="sleep", tasks=4, duration=0.05, workers=5, scheduler=scheduler))
    assert many.status == "failed"
    assert "workers: 5 asked for" in many.error and "allowed: 1 to 2" in many.error


def test_clock_offsets_are_measured_against_a_real_worker(scheduler):
    from distributed import Client

    from concgui.engine.executors.dask_cluster import measure_offsets

    with Client(scheduler, set_as_default=False) as client:
        addresses = sorted(client.scheduler_info(n_workers=-1)["workers"])
        clocks = measure_offsets(client, addresses)
    assert set(clocks) == set(addresses)
    for offset, uncertainty in clocks.values():
        # the same machine: the true offset is 0, and the estimate is within its stated error
        assert 0 < uncertainty < 50e6
        assert abs(offset) <= uncertainty + 1e6


def test_a_worker_whose_clock_is_1000_s_ahead_is_corrected_onto_the_run_time_line():
    """A real worker in a Linux time namespace: its monotonic clock reads 1000 s ahead of ours."""
    if not _unshare_works("--time", "--monotonic", "1000"):
        pytest.skip("needs unshare --time (Linux time namespaces, root)")
    ahead = ("unshare", "--time", "--monotonic", "1000", "--fork")
    cluster = DaskProcesses(nworkers=1, nthreads=2, worker_prefix=ahead)
    try:
        cluster.wait_for_workers()
        events = []
        result = run(dask(workload="sleep", tasks=6, duration=0.2, scheduler=cluster.address), events.extend)
    finally:
        cluster.stop()
    assert result.status == "ok", result.error
    (worker,) = result.environment["dask"]["workers"]
    assert not worker["same_clock"]
    assert worker["clock_offset_ms"] == pytest.approx(1_000_000, abs=worker["clock_uncertainty_ms"] + 1)
    end = result.startup_seconds + result.wall_seconds
    for t in result.tasks:  # uncorrected, every time would be 1000 s off
        assert result.startup_seconds - 0.05 <= t.start < t.end <= end + 1e-6
        assert t.end - t.start == pytest.approx(0.2, abs=0.15)
    lines = EchoLines().lines(events)
    shown = [re.search(r"clock offset \+([\d.]+) ms ± ([\d.]+) ms, corrected", line) for line in lines]
    (offset, error), = [(float(m[1]), float(m[2])) for m in shown if m]
    assert offset == pytest.approx(1_000_000, abs=error + 1), "the console shows the correction it applied"


def test_stop_drops_queued_tasks_at_once_and_stops_running_ones(scheduler):
    started = threading.Event()

    def on_events(events):
        if any(isinstance(e, TaskStarted) for e in events):
            started.set()

    r = engine.start(dask(workload="sleep", tasks=200, duration=5.0, scheduler=scheduler), on_events)
    stopper = threading.Thread(target=lambda: started.wait(30) and r.cancel(), name="test-stopper")
    stopper.start()
    result = r.execute()
    stopper.join()
    cancelled_at = max(t.end for t in result.tasks if t.end is not None)
    assert result.status == "cancelled"
    assert all(t.status == "cancelled" for t in result.tasks)
    assert cancelled_at - result.startup_seconds < 2.0, "the running sleeps saw the cancel flag"
    assert run(dask(workload="noop", tasks=4, scheduler=scheduler)).status == "ok", "the cluster is still fine"


def _unshare_works(*flags: str) -> bool:
    if not shutil.which("unshare"):
        return False
    probe = subprocess.run(["unshare", *flags, "--fork", sys.executable, "-c", "pass"], capture_output=True)
    return probe.returncode == 0


def test_workers_on_two_hosts_with_the_same_pid_keep_their_own_lanes():
    """Two real workers, each in its own pid namespace (as in two containers): both have the same pid."""
    if not _unshare_works("--pid", "--mount-proc"):
        pytest.skip("needs unshare --pid (Linux pid namespaces, root)")
    cluster = DaskProcesses(nworkers=1, nthreads=1, worker_prefix=("unshare", "--pid", "--mount-proc", "--fork"))
    second = subprocess.Popen(["unshare", "--pid", "--mount-proc", "--fork", DASK, "worker", cluster.address,
                               "--nworkers", "1", "--nthreads", "1", "--host", "127.0.0.1", "--no-dashboard"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT, start_new_session=True)
    cluster.procs.append(second)
    cluster.nworkers = 2
    try:
        cluster.wait_for_workers()
        result = run(dask(workload="sleep", tasks=8, duration=0.2, scheduler=cluster.address))
    finally:
        cluster.stop()
    assert result.status == "ok", result.error
    found = result.environment["dask"]["workers"]
    assert len({w["pid"] for w in found}) == 1, "the test needs two workers that share a pid"
    lanes = {t.worker for t in result.tasks}
    assert len(lanes) == 2 and len({t.pid for t in result.tasks}) == 2, lanes
    pid = found[0]["pid"]
    assert {lane.split(" at ")[1] for lane in lanes} == {w["address"].split("://")[1] + " · thread 1" for w in found}
    assert all(f" pid {pid} at " in lane for lane in lanes), "each lane names its worker: host, pid and address"
    assert result.summary["peak_in_flight"] == 2


def test_a_scheduler_lost_mid_run_fails_the_run_saying_so_and_leaves_nothing_behind():
    cluster = DaskProcesses(nworkers=1, nthreads=2)
    started = threading.Event()

    def on_events(events):
        if any(isinstance(e, TaskStarted) for e in events):
            started.set()

    try:
        cluster.wait_for_workers()
        r = engine.start(dask(workload="sleep", tasks=20, duration=3.0, scheduler=cluster.address), on_events)
        killer = threading.Thread(target=lambda: started.wait(30) and os.killpg(cluster.procs[0].pid, signal.SIGKILL),
                                  name="test-killer")
        killer.start()
        t0 = time.monotonic()
        result = r.execute()
        killer.join()
    finally:
        cluster.stop()
    assert time.monotonic() - t0 < 15
    assert result.status == "failed"
    assert f"the Dask scheduler at {cluster.address} was lost mid-run" in result.error, result.error
    assert all(t.status != "ok" for t in result.tasks)


def test_an_unreachable_scheduler_fails_the_run_saying_so():
    port = free_port()
    t0 = time.monotonic()
    result = run(dask(workload="noop", tasks=2, scheduler=f"tcp://127.0.0.1:{port}"))
    assert result.status == "failed"
    assert f"could not reach the Dask scheduler at tcp://127.0.0.1:{port}" in result.error
    assert time.monotonic() - t0 < 30


def test_a_tls_scheduler_is_reached_with_the_certificate_files(tmp_path):
    if not shutil.which("openssl"):
        pytest.skip("openssl is needed to make a test certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    files = ["--tls-ca-file", str(cert), "--tls-cert", str(cert), "--tls-key", str(key)]
    cluster = DaskProcesses("tls", files, nworkers=1, nthreads=2)
    try:
        from distributed.security import Security

        cluster.wait_for_workers(Security(tls_ca_file=str(cert), tls_client_cert=str(cert),
                                          tls_client_key=str(key), require_encryption=True))
        spec = dask(workload="sleep", tasks=4, duration=0.05, scheduler=cluster.address,
                    tls_ca=str(cert), tls_cert=str(cert), tls_key=str(key))
        result = run(spec)
        assert result.status == "ok", result.error
        assert result.environment["dask"]["scheduler"].startswith("tls://")
        plain = run(dask(workload="noop", tasks=2, scheduler=cluster.address.replace("tls://", "tcp://")))
        assert plain.status == "failed", "a TLS scheduler does not talk to a plain client"
    finally:
        cluster.stop()


# --- the embedded LocalCluster ---------------------------------------------------------------------
def test_the_default_is_a_local_cluster_with_its_start_up_recorded_apart_and_closed_after():
    me = psutil.Process()
    before = {p.pid for p in me.children(recursive=True)}
    workers_seen: set[int] = set()

    def on_events(events):
        for e in events:
            if isinstance(e, TaskStarted):
                workers_seen.add(e.pid)

    result = run(dask(workload="sleep", tasks=8, duration=0.25, workers=2, threads_per_worker=2), on_events)
    assert result.status == "ok", result.error
    info = result.environment["dask"]
    assert info["scheduler"].startswith("LocalCluster tcp://127.0.0.1:")
    assert info["dashboard"] is None, "no dashboard unless asked"
    assert result.startup_seconds > 0.2, "starting the worker processes is start-up, not work"
    assert result.wall_seconds < 0.5 + 0.4
    assert result.summary["concurrency"] > 3.0
    assert workers_seen == {w["pid"] for w in info["workers"]} and len(workers_seen) == 2
    left = {p.pid for p in me.children(recursive=True)} - before
    assert not (left & workers_seen), "the cluster started for the run is closed with it"


def test_the_dashboard_opens_on_loopback_only_when_asked():
    from concgui.engine.events import StartupFinished

    answers = []

    def on_events(events):  # while the cluster runs: is its dashboard port answering?
        for e in events:
            if isinstance(e, StartupFinished):
                link = e.detail["dask"]["dashboard"]
                host, port = link.split("//")[1].split("/")[0].split(":")
                with socket.create_connection((host, int(port)), timeout=5):
                    answers.append(link)

    result = run(dask(workload="sleep", tasks=2, duration=0.1, workers=1, dashboard=True), on_events)
    assert result.status == "ok", result.error
    assert answers == [result.environment["dask"]["dashboard"]]
    assert answers[0].startswith("http://127.0.0.1:8787/")


def test_a_worker_killed_mid_run_is_reported_like_a_dead_worker_process(custom_out):
    spec = dask(workload="custom", function=f"{FAULTS}:announce_and_sleep", tasks=1, workers=1)
    result, victim, seconds = faults_support.run_killing_first_worker(spec)
    assert seconds < 15.0
    assert result.status == "failed"
    assert f"pid {victim}) was lost mid-run" in result.error, result.error
    assert result.tasks[0].status == "error" and result.tasks[0].error["type"] in ("KilledWorker", "WorkerLost")
    assert run(dask(workload="noop", tasks=4, workers=1)).status == "ok", "the next run works"


def test_a_dask_run_in_the_engine_process_leaves_no_process_when_the_engine_is_killed(child_env):
    """The window's default path: the engine process owns the LocalCluster; SIGKILL it mid-run."""
    script = ("import sys\n"
              "from concgui.engine import ExperimentSpec, TaskStarted, run\n"
              "def on(events):\n"
              "    if any(isinstance(e, TaskStarted) for e in events):\n"
              "        print('started', flush=True)\n"
              "if __name__ == '__main__':\n"
              "    run(ExperimentSpec(executor='dask', workload='sleep', tasks=50, duration=5, workers=2), on)\n")
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env=child_env(), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    tree: set[int] = set()
    try:
        assert proc.stdout.readline().strip() == "started", "the Dask run never started a task"
        tree = {p.pid for p in psutil.Process(proc.pid).children(recursive=True)}
        assert len(tree) >= 3, "an engine process and two Dask worker processes"
        proc.kill()
        proc.wait(5)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(_running(p) for p in tree):
            time.sleep(0.1)
        assert not [p for p in tree if _running(p)], "processes outlived the killed app"
    finally:
        for p in tree:
            try:
                psutil.Process(p).kill()
            except psutil.Error:
                pass
        proc.stdout.close()


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
