"""The figures of a load run, the goals beside them and the verdict.

Goals (issue 14, "Load"): zero errors; p95 under 100 ms per frame and under 300 ms for pages (and
for every other kind, the viewer's DICOMweb searches and metadata included); no memory growth,
judged on each long-lived process's private memory over the measured window: a process may grow by
at most ``GROWTH_MIB`` MiB or ``GROWTH_SHARE`` of its start, whichever is larger (allocators keep
what a busier moment asked for; a leak grows past both).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

from devtools.load.browser import Recorder
from devtools.load.processes import Memory, Snapshot

FRAME_GOAL_MS = 100.0
PAGE_GOAL_MS = 300.0
GROWTH_MIB = 16
GROWTH_SHARE = 0.10
SHOWN_ERRORS = 5


def percentile(values: list[float], share: float) -> float:
    """Nearest rank: the smallest value with at least ``share`` of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def goal_ms(kind: str) -> float:
    return FRAME_GOAL_MS if kind == "frame" else PAGE_GOAL_MS


def _mib(kib: int) -> str:
    return f"{kib / 1024:.1f}"


def grown(before: Memory, after: Memory) -> bool:
    allowed = max(GROWTH_MIB * 1024, before.anon_kib * GROWTH_SHARE)
    return after.anon_kib - before.anon_kib > allowed


@dataclass
class Report:
    recorder: Recorder
    seconds: float
    before: Snapshot
    after: Snapshot
    lines: list[str] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(len(errors) for errors in self.recorder.errors.values())

    @property
    def kinds(self) -> list[str]:
        return sorted(self.recorder.timings)

    def slow(self) -> list[str]:
        return [
            kind
            for kind, timings in self.recorder.timings.items()
            if kind != "client" and percentile(timings, 0.95) > goal_ms(kind)
        ]

    def growing(self) -> list[str]:
        after = {m.pid: m for m in self.after.processes}
        return [m.name for m in self.before.processes
                if not m.transient and m.pid in after and grown(m, after[m.pid])]  # fmt: skip

    def text(self) -> str:
        self.lines = []
        self._requests()
        self._errors()
        self._memory()
        self._verdict()
        return "\n".join(self.lines)

    def _requests(self) -> None:
        out, timings = self.lines.append, self.recorder.timings
        total = sum(len(t) for t in timings.values())
        out(f"\n  {'kind':<16}{'requests':>9}{'/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
            f"{'errors':>8}   goal: p95 <")  # fmt: skip
        for kind in self.kinds:
            values = timings[kind]
            errors = len(self.recorder.errors.get(kind, []))
            p95 = percentile(values, 0.95)
            goal = "" if kind == "client" else f"{goal_ms(kind):>5.0f} ms  "
            mark = "" if kind == "client" else ("ok" if p95 <= goal_ms(kind) else "MISSED")
            out(f"  {kind:<16}{len(values):>9}{len(values) / self.seconds:>8.1f}"
                f"{percentile(values, 0.5):>9.1f}{p95:>9.1f}{percentile(values, 0.99):>9.1f}"
                f"{errors:>8}   {goal}{mark}")  # fmt: skip
        out(
            f"  {'all':<16}{total:>9}{total / self.seconds:>8.1f}{'':>27}{self.errors:>8}"
            "   goal: 0 errors"
        )

    def _errors(self) -> None:
        for kind, errors in sorted(self.recorder.errors.items()):
            self.lines.append(f"\n  errors of {kind} ({len(errors)}), the first {SHOWN_ERRORS}:")
            self.lines += [f"    {error}" for error in errors[:SHOWN_ERRORS]]

    def _memory(self) -> None:
        out, cpu = self.lines.append, self._cpu_used()
        after = {m.pid: m for m in self.after.processes}
        out(f"\n  The stack's processes: memory (MiB) at the start and the end of the measured "
            f"window, CPU seconds within it; growth goal: private memory under +{GROWTH_MIB} MiB "
            f"or +{GROWTH_SHARE:.0%}")  # fmt: skip
        out(f"  {'process':<40}{'pid':>8}{'RSS start':>11}{'RSS end':>9}"
            f"{'private start':>15}{'private end':>13}{'CPU s':>7}")  # fmt: skip
        for before in self.before.processes:
            end = after.get(before.pid)
            if before.transient:
                continue
            if end is None:  # Nginx's cache loader ends by design; a worker should not
                out(f"  {before.name:<40}{before.pid:>8}{_mib(before.rss_kib):>11}{'ended':>9}")
                continue
            mark = "  GREW" if grown(before, end) else ""
            out(f"  {before.name:<40}{before.pid:>8}{_mib(before.rss_kib):>11}"
                f"{_mib(end.rss_kib):>9}{_mib(before.anon_kib):>15}{_mib(end.anon_kib):>13}"
                f"{cpu[before.pid]:>7.1f}{mark}")  # fmt: skip
        started = {m.pid for m in self.before.processes}
        for name in sorted({m.name for m in self.after.processes if m.transient}):
            last = [m for m in self.after.processes if m.name == name]
            first = [m for m in self.before.processes if m.name == name]
            rss = [_mib(sum(m.rss_kib for m in group)) for group in (first, last)]
            anon = [_mib(sum(m.anon_kib for m in group)) for group in (first, last)]
            count = f"{len(first)}->{len(last)}"
            label = name.replace("backend", "backends")
            out(f"  {label:<40}{count:>8}{rss[0]:>11}{rss[1]:>9}{anon[0]:>15}{anon[1]:>13}"
                f"{sum(cpu[m.pid] for m in last):>7.1f}  (one per connection)")  # fmt: skip
        for new in self.after.processes:
            if new.pid not in started and not new.transient:
                out(f"  {new.name:<40}{new.pid:>8}{'new':>11}{_mib(new.rss_kib):>9}")
        stack = sum(cpu.values())
        client = self.after.client_cpu_seconds - self.before.client_cpu_seconds
        busy = self.after.machine_busy_seconds - self.before.machine_busy_seconds
        cores = os.cpu_count() or 1
        out(f"  CPU over the window, {cores} cores x {self.seconds:.0f} s = "
            f"{cores * self.seconds:.0f} s: the stack {stack:.0f} s, this client {client:.0f} s, "
            f"other programs {max(0.0, busy - stack - client):.0f} s, idle "
            f"{max(0.0, cores * self.seconds - busy):.0f} s")  # fmt: skip

    def _cpu_used(self) -> dict[int, float]:
        """CPU seconds of each process within the window (all of it for one started since)."""
        before = {m.pid: m.cpu_seconds for m in self.before.processes}
        return {m.pid: m.cpu_seconds - before.get(m.pid, 0.0) for m in self.after.processes}

    def _verdict(self) -> None:
        out = self.lines.append
        slow, growing = self.slow(), self.growing()
        errors = f"MISSED ({self.errors})" if self.errors else "ok"
        latency = "MISSED for " + ", ".join(slow) if slow else "ok"
        memory = "MISSED for " + ", ".join(growing) if growing else "ok"
        out(f"\n  zero errors: {errors}; p95 under goal: {latency}; no memory growth: {memory}")
        verdict = "all goals met" if not (self.errors or slow or growing) else "goals missed"
        out(f"  Verdict: {verdict}")
