"""Dask distributed: the tasks run on the worker processes of a Dask cluster.

Either a ``LocalCluster`` on loopback started for the run (worker processes ×
threads per worker from the spec, no dashboard port unless asked) or the
workers of a running scheduler named by its ``tcp://`` or ``tls://`` address.
Connecting, starting the workers and measuring the clocks is the run's
start-up, reported apart from the work.

Every task runs in :func:`concgui.engine.dask_worker.run_task`, i.e. in the
same recording wrapper as every other executor's, and returns its record.
Each worker's clock offset from this process is measured at the start (hosts
that share this process's monotonic clock need none) and corrected in the
worker, so every record is on this process's time axis.  ``distributed`` is
imported only when a Dask run starts: it is an optional extra.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
import threading
import time
import uuid
import warnings
from pathlib import Path
from typing import Any

from .. import dask_worker, lifetime
from ..environment import cpu_count
from ..records import CANCELLED, RUNNING
from ..spec import TLS_FILES, SpecError
from .base import STOP_GRACE, Executor

CONNECT_TIMEOUT = 10.0  # seconds to reach a scheduler
CLOCK_PROBES = 5  # round trips to every worker's clock; the shortest one is kept
PID_ALIAS_BASE = 10_000_000  # above every real pid (Linux allows at most 4,194,304)
SAME_CLOCK_SLACK_NS = 1_000_000  # a worker of this machine whose measured offset is within its error + 1 ms
SUBMIT_BATCH = 2000  # tasks per Client.map call: Stop is looked at between batches
WATCH_INTERVAL = 0.25  # seconds between two looks at the scheduler's list of workers
DASHBOARD_ADDRESS = "127.0.0.1:8787"  # asked for: on loopback, at its usual port


class WorkerLost(RuntimeError):
    """The Dask worker that ran a task left the cluster before the task ended."""


class DaskCluster(Executor):
    name = "dask"
    title = "Dask cluster"
    description = ("dask.distributed: tasks on the worker processes of a cluster, a LocalCluster started "
                   "for the run or a scheduler you name; each worker process has its own GIL.")

    def availability(self) -> tuple[bool, str]:
        if importlib.util.find_spec("distributed") is None:
            if getattr(sys, "frozen", False):
                return False, ("this installed ConcGUI does not include Dask; run ConcGUI from its source with "
                               "pip install 'concgui[dask]'")
            return False, "needs the optional package distributed: pip install 'concgui[dask]'"
        return True, ""

    def check(self, spec) -> None:
        """Every TLS file named must be a file (the spec already checked which ones are needed)."""
        for name in TLS_FILES:
            path = getattr(spec, name)
            if path and not Path(path).is_file():
                raise SpecError(name, f"{path!r} is not a file; give the path of a PEM file")

    def run(self, ctl) -> None:
        _quiet_logs()
        from distributed import as_completed

        session = _Session(ctl)
        try:
            session.connect()
            if ctl.cancel.is_set():
                return
            session.prepare()
            submitted = threading.Event()
            ac = as_completed(loop=session.client.loop, with_results=True, raise_errors=False)
            threading.Thread(target=_collect, args=(ctl, ac, session.index_of, submitted), daemon=True,
                             name="concgui-dask-results").start()
            for lo in range(0, len(ctl.sizes), SUBMIT_BATCH):
                if ctl.cancel.is_set():
                    break
                ac.update(session.submit(lo, min(len(ctl.sizes), lo + SUBMIT_BATCH)))
            submitted.set()
            while not ctl.all_done.wait(WATCH_INTERVAL) and not ctl.cancel.is_set():
                session.watch_workers()
            session.watch_workers()  # a worker lost by the last tasks, and before anything is sent to it
            session.stop_tasks()
        finally:
            ctl.stopped.set()
            session.close()
        if session.lost:
            raise RuntimeError("; ".join(session.lost))


def _quiet_logs() -> None:
    """distributed logs its lifecycle, and every fault a run reports itself, on stderr: keep it quiet."""
    for name in ("distributed", "distributed.client", "distributed.nanny", "distributed.scheduler",
                 "distributed.worker"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def _collect(ctl, ac, index_of: dict[str, int], submitted: threading.Event) -> None:
    """Hand every finished task's record to the run, as futures complete (runs on its own thread).

    A future that erred (its worker died: KilledWorker) fails its task; one cancelled by a Stop is
    left to the run's end, which settles every task that did not report.
    """
    while True:
        batch = ac.next_batch(block=False)
        for future, result in batch:
            if future.status == "finished":
                ctl.record_finished(result)
            elif future.status == "error":  # ``result`` is (type, exception, traceback)
                ctl.record_failed(index_of[future.key], result[1])
        if (submitted.is_set() and ac.is_empty()) or ctl.stopped.is_set():
            return
        if not batch:
            time.sleep(0.01)


class _Session:
    """One run's client, cluster (when it started one) and the workers it uses."""

    def __init__(self, ctl) -> None:
        self.ctl = ctl
        self.spec = ctl.spec
        self.run_id = uuid.uuid4().hex
        self.topic = f"concgui-starts-{self.run_id}"
        self.client: Any = None
        self.cluster: Any = None
        self.workers: dict[str, dict[str, Any]] = {}  # address -> identity, clock offset
        self.futures: dict[int, Any] = {}  # task index -> future
        self.index_of: dict[str, int] = {}  # future key -> task index
        self.gone: set[str] = set()
        self.lost: list[str] = []

    # --- start-up -------------------------------------------------------------------------
    def connect(self) -> None:
        from distributed import Client, LocalCluster

        spec, began = self.spec, time.perf_counter()
        if spec.scheduler:
            security = None
            if spec.scheduler.startswith("tls://"):
                from distributed.security import Security

                security = Security(tls_ca_file=spec.tls_ca, tls_client_cert=spec.tls_cert,
                                    tls_client_key=spec.tls_key, require_encryption=True)
            try:
                self.client = _connect(spec.scheduler, security)
            except OSError as exc:
                raise RuntimeError(f"could not reach the Dask scheduler at {spec.scheduler} within "
                                   f"{CONNECT_TIMEOUT:g} s: {exc}") from None
            where = spec.scheduler
        else:
            import dask

            # allowed-failures 0: a task whose worker died fails at once (KilledWorker), as in a process
            # pool, instead of being run again on the next worker, which it might kill as well.
            # A Dask scheduler always listens for HTTP: without the dashboard, on a loopback port that
            # the system picks and that serves nothing.
            dashboard = spec.dashboard
            config = {"distributed.scheduler.allowed-failures": 0}
            if not dashboard:
                config["distributed.scheduler.http.routes"] = []
            with dask.config.set(config):
                self.cluster = LocalCluster(
                    n_workers=spec.workers or cpu_count(), threads_per_worker=spec.threads_per_worker,
                    processes=True, host="127.0.0.1", silence_logs=logging.CRITICAL,
                    dashboard_address=DASHBOARD_ADDRESS if dashboard else "127.0.0.1:0",
                    scheduler_kwargs={"dashboard": dashboard})
            self.client = Client(self.cluster, set_as_default=False)
            where = f"LocalCluster {self.cluster.scheduler_address}"
        self.ctl.environment["dask"] = {"scheduler": where, "connect_seconds": time.perf_counter() - began,
                                        "dashboard": self.dashboard_link()}

    def dashboard_link(self) -> str | None:
        """The dashboard of the cluster this run started, when asked for (a scheduler's own is its business)."""
        return self.cluster.dashboard_link if self.cluster is not None and self.spec.dashboard else None

    def prepare(self) -> None:
        """Choose the workers, measure their clocks, set each one up for the run."""
        ctl, spec = self.ctl, self.spec
        try:
            found = self.client.run(dask_worker.identify)
        except (ImportError, AttributeError) as exc:
            raise RuntimeError(f"the Dask workers cannot import ConcGUI ({type(exc).__name__}: {exc}); "
                               "install concgui in the workers' Python environment") from None
        if not found:
            raise RuntimeError(f"the Dask scheduler at {spec.scheduler} has no workers")
        if self.cluster is not None:  # this run's own workers die with it, even while a task holds the GIL
            self.client.run(lifetime.die_with_parent)
        addresses = sorted(found)
        if spec.scheduler and spec.workers:
            if spec.workers > len(addresses):
                raise SpecError("workers", f"{spec.workers} asked for, but the scheduler at {spec.scheduler} has "
                                           f"{len(addresses)} worker(s); allowed: 1 to {len(addresses)}")
            addresses = addresses[: spec.workers]
        here = dask_worker.identify()
        clocks = measure_offsets(self.client, addresses)
        for address in addresses:
            info, (offset, uncertainty) = found[address], clocks[address]
            # This machine's clock, unless a time namespace moved it: then the measurement shows it.
            same = (bool(here["boot_id"]) and (info["host"], info["boot_id"]) == (here["host"], here["boot_id"])
                    and abs(offset) <= uncertainty + SAME_CLOCK_SLACK_NS)
            if same:
                offset = 0
            self.workers[address] = {**info, "address": address, "same_clock": same,
                                     "clock_offset_ms": offset / 1e6, "clock_uncertainty_ms": uncertainty / 1e6}
        ctl.workers = sum(w["nthreads"] for w in self.workers.values())
        # Two hosts (containers, say) may run workers with the same pid: such workers report an
        # alias in their records' pid field (above any real pid), so their lanes stay apart.
        pids = [w["pid"] for w in self.workers.values()]
        for k, w in enumerate(self.workers.values()):
            shared = pids.count(w["pid"]) > 1
            w["record_pid"] = PID_ALIAS_BASE + k if shared else w["pid"]
            where = f" at {w['address'].split('://')[-1]}" if shared else ""
            ctl.process_names[w["record_pid"]] = f"{w['host']} pid {w['pid']}{where}"
        sink = ctl.sink.append
        self.client.subscribe_topic(self.topic, lambda event: [sink(("s", tuple(t))) for t in event[1]])
        t0s = {a: ctl.t0_ns + round(w["clock_offset_ms"] * 1e6) for a, w in self.workers.items()}
        watch = os.getpid() if self.cluster is not None else None
        aliases = {a: w["record_pid"] for a, w in self.workers.items()}
        refused = self.client.run(dask_worker.start_run, self.run_id, t0s, aliases, ctl.job, self.topic, watch,
                                  workers=list(self.workers))
        for address, why in refused.items():
            if why:
                raise SpecError("function", f"the Dask worker {address} cannot load it: {why}")
        ctl.environment["dask"]["workers"] = list(self.workers.values())
        ctl.startup_done({"dask": ctl.environment["dask"], "workers": ctl.workers})

    # --- the work ---------------------------------------------------------------------------
    def submit(self, lo: int, hi: int) -> list[Any]:
        """Tasks ``lo``..``hi - 1`` as futures, on this run's workers only (pure=False: none merged)."""
        for i in range(lo, hi):
            self.ctl.mark_submitted(i)
        extra = {} if self.ctl.argument is None else {"arg": self.ctl.argument}  # no keyword at all for none
        with warnings.catch_warnings():  # a large argument in the graph is this run's point, not a mistake
            warnings.filterwarnings("ignore", message=".*Large object of size", category=UserWarning)
            futures = self.client.map(dask_worker.run_task, range(lo, hi), self.ctl.sizes[lo:hi],
                                      run_id=self.run_id, pure=False, workers=list(self.workers),
                                      allow_other_workers=False, **extra)
        for i, f in zip(range(lo, hi), futures, strict=True):
            self.futures[i] = f
            self.index_of[f.key] = i
        return futures

    def connected(self) -> bool:
        return self.client is not None and self.client.status == "running"

    def watch_workers(self) -> None:
        """A worker that left the cluster: its running tasks are errors and are not run again.

        A scheduler that went away takes every worker of the run with it.
        """
        if self.gone >= set(self.workers):
            return
        try:
            present = set(self.client.scheduler_info(n_workers=-1)["workers"]) if self.connected() else None
        except Exception:  # noqa: BLE001 - the connection broke while asking
            present = None
        if present is None:
            self.lost.append(f"the Dask scheduler at {self.ctl.environment['dask']['scheduler']} was lost "
                             "mid-run; the tasks still out are marked cancelled")
            self.gone = set(self.workers)
            self.ctl.cancel.set()
            return
        for address in sorted(set(self.workers) - present - self.gone):
            self.gone.add(address)
            w = self.workers[address]
            held = [r.index for r in self.ctl.records if r.status == RUNNING and r.pid == w["record_pid"]]
            self.client.cancel([self.futures[i] for i in held if i in self.futures])
            where = f"the Dask worker {address} ({w['host']}, pid {w['pid']})"
            for i in held:
                self.ctl.record_failed(i, WorkerLost(f"{where} was lost while running this task"))
            self.lost.append(f"{where} was lost mid-run; the tasks it held are marked as errors")
        if self.gone >= set(self.workers):
            self.lost.append("no worker of the run is left")
            self.ctl.cancel.set()

    def stop_tasks(self) -> None:
        """After a cancel: stop the running tasks, drop the queued ones at once, give the first a moment.

        Running tasks are asked through their worker's cancel flag, not by cancelling their futures:
        the record a stopped task returns must still reach the run.
        """
        ctl = self.ctl
        if ctl.all_done.is_set():
            return
        if self.connected():
            self.client.run(dask_worker.cancel_run, self.run_id, workers=list(set(self.workers) - self.gone),
                            on_error="ignore")
            queued = [f for i, f in self.futures.items() if ctl.records[i].status not in (RUNNING, CANCELLED)]
            self.client.cancel(queued, force=True)
            deadline = time.monotonic() + STOP_GRACE
            while time.monotonic() < deadline and any(r.status == RUNNING for r in ctl.records):
                time.sleep(0.05)
        if self.connected():
            self.client.cancel(list(self.futures.values()), force=True)
        if self.cluster is None:  # their worker processes are not ours to stop: say so
            for r in ctl.records:
                if r.status == RUNNING:
                    ctl.sink.append(("f", (r.index, 0, 0, None, ctl.now(), 0.0, CANCELLED, {
                        "type": "Abandoned", "traceback": "",
                        "message": "still running on its Dask worker when the run ended; it was asked to "
                                   "stop, and its outcome is ignored"}, 0.0, 0.0, None)))

    def close(self) -> None:
        """Forget the run on the workers, close the client and the cluster it started."""
        try:
            if self.connected():
                if self.workers:
                    self.client.run(dask_worker.end_run, self.run_id,
                                    workers=list(set(self.workers) - self.gone), on_error="ignore")
                self.client.unsubscribe_topic(self.topic)
        except Exception:  # noqa: BLE001 - a scheduler that went away: nothing left to tidy there
            pass
        finally:
            if self.client is not None:
                self.client.close()
                self.client._loop_runner.stop()  # already stopped, unless the scheduler was lost
            if self.cluster is not None:
                self.cluster.close()


def _connect(address: str, security: Any):
    """A client of the scheduler at ``address``; a failed attempt leaves no event-loop thread behind."""
    from distributed import Client

    class ClosingClient(Client):
        def start(self, **kwargs: Any) -> None:
            try:
                super().start(**kwargs)
            except BaseException:
                self._loop_runner.stop()  # Client leaves it running when the connection fails
                raise

    return ClosingClient(address, security=security, timeout=CONNECT_TIMEOUT, set_as_default=False)


def measure_offsets(client, addresses: list[str], probes: int = CLOCK_PROBES) -> dict[str, tuple[int, int]]:
    """Each worker's ``perf_counter_ns`` minus ours, and its uncertainty, both in nanoseconds.

    NTP's way: ask every worker for its clock ``probes`` times and keep, per worker, the answer
    of the shortest round trip, assuming it was read halfway through; the error is at most half
    that round trip.
    """
    best: dict[str, tuple[int, int]] = {}
    for _ in range(probes):
        sent = time.perf_counter_ns()
        theirs = client.run(dask_worker.clock, workers=addresses)
        back = time.perf_counter_ns()
        for address, clock in theirs.items():
            if address not in best or back - sent < best[address][1]:
                best[address] = (clock - (sent + back) // 2, back - sent)
    return {a: (offset, trip // 2) for a, (offset, trip) in best.items()}
