"""Tracks for overlapping tasks: the fast placement (engine/tracks.py) against the rule at its plainest.

The timeline and the Chrome trace both place tasks with :mod:`concgui.engine.tracks`, whose numpy
fast path and heaps are easy to get subtly wrong; ``reference_tracks`` below says the rule in a
few obvious lines, and seeded random runs (ties, zero-length tasks, tasks still running, lanes
that overlap and lanes that do not) must come out the same.
"""

from __future__ import annotations

import math
import random

import numpy as np

from concgui.engine.exports import assign_tracks as exports_assign_tracks
from concgui.engine.records import TaskRecord
from concgui.engine.tracks import LaneTracks, assign_tracks, assign_tracks_array

SEEDS = range(300)


def reference_tracks(lane: list[int], start: list[float], end: list[float]) -> list[int]:
    """The rule: by start then index, each task on the lowest track whose last task has ended."""
    out = [-1] * len(lane)
    last_ends: dict[int, list[float]] = {}
    placed = [i for i in range(len(lane)) if lane[i] >= 0 and math.isfinite(start[i])]
    for i in sorted(placed, key=lambda i: (start[i], i)):
        ends = last_ends.setdefault(lane[i], [])
        for k, e in enumerate(ends):
            if e <= start[i]:
                ends[k], out[i] = end[i], k
                break
        else:
            out[i] = len(ends)
            ends.append(end[i])
    return out


def random_run(rng: random.Random) -> tuple[list[int], list[float], list[float]]:
    """Lanes of back-to-back tasks and lanes of overlapping ones, on a coarse grid so that ties happen."""
    lane: list[int] = []
    start: list[float] = []
    end: list[float] = []
    for k in range(rng.randint(1, 4)):
        overlapping = rng.random() < 0.5
        t = rng.randint(0, 5) / 10
        for _ in range(rng.randint(0, 40)):
            duration = rng.choice((0.0, 0.1, 0.2, 0.5, rng.random()))
            if overlapping:
                s = rng.randint(0, 30) / 10
            else:
                s = t + rng.choice((0.0, 0.0, 0.1, rng.random()))
                t = s + duration
            lane.append(k)
            start.append(s)
            end.append(math.inf if rng.random() < 0.05 else s + duration)
    order = list(range(len(lane)))
    rng.shuffle(order)  # task indices in no particular order of lane or start
    lane, start, end = ([v[i] for i in order] for v in (lane, start, end))
    for i in range(len(lane)):  # a few tasks not started yet, or on no lane
        if rng.random() < 0.04:
            start[i] = math.nan
        elif rng.random() < 0.02:
            lane[i] = -1
    return lane, start, end


def test_a_whole_run_takes_the_tracks_of_the_plain_rule():
    for seed in SEEDS:
        lane, start, end = random_run(random.Random(seed))
        got = assign_tracks_array(np.array(lane, dtype=np.int32), np.array(start), np.array(end))
        assert got.tolist() == reference_tracks(lane, start, end), f"seed {seed}"


def test_the_random_runs_exercise_both_paths():
    """A guard: the comparison above means something only if lanes overlap and lanes do not."""
    deepest, one_track, several = 0, 0, 0
    for seed in SEEDS:
        lane, start, end = random_run(random.Random(seed))
        tracks = reference_tracks(lane, start, end)
        for k in set(lane) - {-1}:
            mine = [t for t, n in zip(tracks, lane, strict=True) if n == k and t >= 0]
            deepest = max(deepest, max(mine, default=0))
            one_track += len(mine) > 1 and max(mine) == 0
            several += max(mine, default=0) > 0
    assert deepest >= 5 and one_track >= 100 and several >= 100, (deepest, one_track, several)


def test_tasks_placed_in_batches_as_they_arrive_take_the_same_tracks():
    """The live view's path: each lane's tasks in order of start, cut into batches anywhere."""
    for seed in SEEDS:
        rng = random.Random(seed)
        lane, start, end = random_run(rng)
        expected = reference_tracks(lane, start, end)
        for k in set(lane) - {-1}:
            order = sorted((i for i in range(len(lane)) if lane[i] == k and math.isfinite(start[i])),
                           key=lambda i: (start[i], i))
            tracks = LaneTracks()
            got: list[int] = []
            rest = order
            while rest:
                cut = rng.randint(1, len(rest))
                batch, rest = rest[:cut], rest[cut:]
                got += tracks.place_sorted(np.array([start[i] for i in batch]),
                                           np.array([end[i] for i in batch])).tolist()
            assert got == [expected[i] for i in order], f"seed {seed}, lane {k}"
            assert tracks.n == max(got, default=-1) + 1


def test_a_live_lane_reuses_a_track_once_its_running_task_is_known_to_have_ended():
    """Tasks placed while running (end unknown, inf) free their track when released, not before."""
    for seed in range(100):
        rng = random.Random(seed)
        n = rng.randint(1, 60)
        start = sorted(rng.randint(0, 40) / 10 for _ in range(n))
        end = [s + rng.choice((0.0, 0.1, 0.3, 1.0, rng.random())) for s in start]
        tracks = LaneTracks()
        track = [-1] * n
        known_end: list[float] = []  # per track, its last task's end as the lane knows it at each look
        running: set[int] = set()
        for now in sorted(rng.random() * 6 for _ in range(rng.randint(1, 12))) + [math.inf]:
            for i in sorted(running):
                if end[i] <= now:
                    tracks.release(track[i], end[i])
                    known_end[track[i]] = end[i]
                    running.discard(i)
            new = [i for i in range(n) if track[i] < 0 and start[i] <= now]
            if not new:
                continue
            ends = [end[i] if end[i] <= now else math.inf for i in new]
            got = tracks.place_sorted(np.array([start[i] for i in new]), np.array(ends)).tolist()
            for i, k, e in zip(new, got, ends, strict=True):
                free = [j for j, last in enumerate(known_end) if last <= start[i]]
                assert k == (free[0] if free else len(known_end)), f"seed {seed}, task {i}"
                known_end[k:k + 1] = [e]
                track[i] = k
                if math.isinf(e):
                    running.add(i)


def test_tasks_arriving_out_of_order_never_share_a_track_with_an_overlapping_one():
    """A live run's batches may come out of order: a track is then opened rather than shared."""
    for seed in range(300):
        rng = random.Random(seed)
        n = rng.randint(1, 50)
        start = [rng.randint(0, 30) / 10 for _ in range(n)]
        end = [s + rng.choice((0.0, 0.1, 0.3, 1.0, rng.random())) for s in start]
        tracks = LaneTracks()
        track = [-1] * n
        rest = list(range(n))
        rng.shuffle(rest)
        while rest:
            cut = rng.randint(1, len(rest))
            batch, rest = sorted(rest[:cut], key=lambda i: (start[i], i)), rest[cut:]
            got = tracks.place_sorted(np.array([start[i] for i in batch]), np.array([end[i] for i in batch]))
            for i, k in zip(batch, got.tolist(), strict=True):
                track[i] = k
        for k in set(track):
            on_k = sorted((start[i], end[i]) for i in range(n) if track[i] == k)
            assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(on_k, on_k[1:], strict=False)), \
                f"seed {seed}, track {k}"


def test_records_get_the_same_tracks_through_the_engine_and_its_exports():
    rng = random.Random(4)
    tasks = []
    for i in range(400):
        start = rng.random() * 10
        tasks.append(TaskRecord(i, f"w{rng.randrange(3)}", 1, 1, 0.0, start, start + rng.random(), 0.0, "ok"))
    tasks.append(TaskRecord(400, "w0", 1, 1, 0.0, None, None, 0.0, "cancelled"))  # never ran: no track
    names = sorted({t.worker for t in tasks})
    lane = [names.index(t.worker) if t.start is not None else -1 for t in tasks]
    start = [t.start if t.start is not None else math.nan for t in tasks]
    end = [t.end if t.end is not None else math.nan for t in tasks]
    expected = {i: k for i, k in enumerate(reference_tracks(lane, start, end)) if k >= 0}
    assert assign_tracks(tasks) == exports_assign_tracks(tasks) == expected
    assert max(expected.values()) >= 2
