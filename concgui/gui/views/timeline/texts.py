"""What the timeline says in words: a hovered task's story, and the legend above the chart."""

from __future__ import annotations

from ....engine import xray
from ....engine.live import STATES, RunState
from ....engine.present import seconds
from ....engine.records import TaskRecord
from ....engine.spec import executor_label
from ... import theme

TITLE = ("<b>Tasks over time</b>", "Tasks over time")  # (rich text, plain text), as theme.fit_title takes them


def blocked_cause(state: RunState) -> str:
    """What "blocked" was in this run, in words ("the GIL", "sleeping"...), as far as the engine knows."""
    return xray.blocked_cause(state.spec or {}, gil=(state.environment or {}).get("gil_enabled", True) is not False)


def states_line(t: TaskRecord, now: float, state: RunState | None) -> str | None:
    """A task's seconds on a core, waiting for one and blocked, from its lane's X-ray; None without data."""
    if state is None or not state.thread_states or not t.worker or t.start is None:
        return None
    end = now if t.status == "running" or t.end is None else t.end
    on, waiting, blocked = xray.task_states(state.thread_states, t.worker, t.start, end)
    if on + waiting + blocked <= 0:
        return None
    if (state.environment or {}).get("thread_states") == "cpu-time":  # no run-queue time on this system
        return f"on a core {seconds(on)} · not on a core {seconds(waiting + blocked)} (waiting not measured here)"
    return f"on a core {seconds(on)} · waiting {seconds(waiting)} · blocked {seconds(blocked)} ({blocked_cause(state)})"


TRANSFER_WHY = "(pickled across processes)"  # the legend's words for the transfer segments, after their kinds
#: executor kinds whose tasks share their memory (one process): nothing is copied to them or back
SHARED_MEMORY = {"threads": "threads share memory", "asyncio": "asyncio's tasks share one thread's memory",
                 "sequential": "the tasks run in this process"}


def transfer_line(t: TaskRecord) -> str | None:
    """"sent 41.2 ms → ran 101.3 ms → returned 2.1 ms" for a finished task whose argument or result was
    copied across; None when nothing moved."""
    sent, returned = t.sent_seconds, t.returned_seconds
    if not (sent or returned) or t.end is None:
        return None
    return f"sent {seconds(sent)} → ran {seconds(t.duration)} → returned {seconds(returned)}"


def zero_transfer_text(spec: dict, environment: dict | None = None) -> str | None:
    """"sent: 0 s — threads share memory, nothing is copied" for a run whose tasks were given (or gave back)
    data without copying it (a process per task started by fork inherits its argument, too); None when the
    spec moves no data or its executor copies it."""
    why = SHARED_MEMORY.get(theme.executor_kind(spec))
    arg, res = (int(spec.get(k) or 0) > 0 for k in ("arg_bytes", "result_bytes"))
    method = (environment or {}).get("start_method") or spec.get("start_method")
    if spec.get("executor") == "processes" and method == "fork" and arg and not res:
        return "sent: 0 s — each forked process inherits the argument, nothing is copied"
    if why is None or not (arg or res):
        return None
    what = "sent and returned" if arg and res else "sent" if arg else "returned"
    return f"{what}: 0 s — {why}, nothing is copied"


def task_text(i: int, t: TaskRecord, now: float, state: RunState | None = None) -> str:
    """The tooltip of task ``i`` (record ``t``); a running task's time counts up to ``now``.

    With ``state`` (the run) it also says what the task's thread did meanwhile, when the run has an X-ray.
    """
    label = theme.STATE_LABELS.get(t.status, t.status)
    lines = [f"Task {i} · {label}",
             f"worker: {t.worker or '—'}   pid {t.pid or '—'} · thread id {t.thread_id or '—'}"]
    if t.status == "running":
        lines.append(f"start {t.start:.3f} s · running for {seconds(now - (t.start or 0.0))} so far")
    else:
        lines.append(f"start {t.start:.3f} s · end {t.end:.3f} s · duration {seconds(t.duration)}")
        if t.duration > 0:
            share = 100.0 * t.cpu_seconds / t.duration
            lines.append(f"CPU time {seconds(t.cpu_seconds)} ({share:.0f} % of its duration"
                         f"{': it mostly waited' if share < 20 else ''})")
        else:
            lines.append(f"CPU time {seconds(t.cpu_seconds)}")
    line = states_line(t, now, state)
    if line:
        lines.append(line)
    moved = transfer_line(t)
    zero = None
    if not moved and state is not None and t.status != "running":
        zero = zero_transfer_text(state.spec or {}, state.environment)
    if moved or zero:
        lines.append(moved or zero)
    if t.submitted is not None and t.start is not None:
        sent = t.sent_seconds
        of_it = f", {seconds(sent)} of it being sent" if 0 < sent <= t.start - t.submitted else ""
        lines.append(f"submitted {t.submitted:.3f} s · waited {seconds(t.start - t.submitted)} in the queue{of_it}")
    if t.error:
        lines.append(f"{t.error.get('type', 'Error')}: {t.error.get('message', '')}")
    return "\n".join(lines)


def transfer_parts(spec: dict, totals: dict[str, float | None],
                   environment: dict | None = None) -> list[tuple[str, str]]:
    """The legend's entry for the transfer segments drawn, ``totals`` naming the kinds ("sent", "returned")
    with the seconds each adds up to (None: not said), or, when none is drawn, the words saying none was needed:
    "▬ sent / ▬ returned (pickled across processes): 1.2 s in all"."""
    if totals:
        kinds = [k for k in ("sent", "returned") if k in totals]
        values = [totals[k] for k in kinds]
        tail = f": {seconds(sum(values))} in all" if None not in values else ""
        html = " / ".join(theme.swatch(theme.TRANSFER_COLORS[k], k, "▬") for k in kinds)
        plain = " / ".join(f"▬ {k}" for k in kinds)
        return [(f"{html} {TRANSFER_WHY}{tail}", f"{plain} {TRANSFER_WHY}{tail}")]
    zero = zero_transfer_text(spec, environment)
    return [(zero, zero)] if zero else []


def legend(state: RunState, counts: dict[str, int], queue_shown: bool, startup_shown: bool, filled: bool = False,
           xray_shown: bool = False,
           transfer: dict[str, float] | None = None) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The title's head (what ran) and its parts (a swatch and a count per state worth naming).

    ``filled``: some bars show a CPU share; ``xray_shown``: the lanes have their thread-state strips;
    ``transfer``: the seconds the tasks' arguments ("sent") and results ("returned") took to move, the kinds
    that took any (segments are drawn for those).  A run that
    gave its tasks data without copying it (threads) says so, so the zero is seen, not missed.
    """
    parts: list[tuple[str, str]] = []
    for name in STATES:
        label = theme.STATE_LABELS[name]
        if name == "waiting" and queue_shown and state.finished and not counts[name]:
            text = label
        elif counts[name] or (name == "waiting" and queue_shown) or (name == "ok" and not state.finished):
            text = f"{label} ({counts[name]})"
        else:
            continue
        parts.append((theme.swatch(theme.STATE_COLORS[name], text), "■ " + text))
    if startup_shown:
        parts.append((theme.swatch(theme.STARTUP_COLOR, "start-up"), "■ start-up"))
    if filled:
        text = "a bar's filled part: its CPU time"
        parts.append((theme.swatch(theme.CPU_FILL_COLOR, text, "▄"), "▄ " + text))
    parts += transfer_parts(state.spec or {}, transfer or {}, state.environment)
    if xray_shown:
        parts.append(("strip under each row, its thread:", "strip under each row, its thread:"))
        cpu_time_only = (state.environment or {}).get("thread_states") == "cpu-time"
        for name, label in theme.THREAD_STATE_LABELS.items():
            if cpu_time_only and name == "waiting":
                continue  # the system does not tell waiting for a core from blocked
            text = ("not on a core" if cpu_time_only else f"blocked ({blocked_cause(state)})") \
                if name == "blocked" else label
            parts.append((theme.swatch(theme.THREAD_STATE_COLORS[name], text), "■ " + text))
    spec = state.spec or {}
    what = f'{spec.get("tasks", sum(counts.values()))} × {spec.get("workload", "?")} on {executor_label(spec)}'
    return [TITLE, (what, what), ("one row per worker", "one row per worker")], parts
