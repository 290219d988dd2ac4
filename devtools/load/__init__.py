"""`make load`: simulated viewers and staff against a running stack, through its Nginx (HTTPS).

``run_load`` seeds the stack (devtools.load.seed), logs every persona in through the portal's
login form, lets them act for a warm-up, then measures ``seconds``: requests per second, p50, p95
and p99 per kind of request, errors, and the memory of each of the stack's processes at the
start and the end of the measured window (devtools.load.report has the goals).

A threaded client rather than locust: one thread and one keep-alive connection per persona, on
the standard library. It is one more dependency less, and on a two-core machine the client's own
CPU is CPU taken from the stack; these personas mostly wait (on answers, or thinking), which
threads do cheaply.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from devtools.bench_tools import stack_context
from devtools.load.browser import TIMEOUT_SECONDS, Browser, Recorder
from devtools.load.personas import Persona, Staff, Viewer
from devtools.load.processes import snapshot
from devtools.load.report import Report
from devtools.load.seed import PASSWORD, stack_seed

__all__ = ["run_load"]

LOGINS_AT_ONCE = 4  # each login hashes a password (PBKDF2): as many as the stack has workers


def run_load(
    stack: Any,
    *,
    viewers: int,
    staff: int,
    groups: int,
    studies: int,
    instances: int,
    filler: int,
    seconds: float,
    warmup: float,
    write: Callable[[str], Any],
    pace: float = 1.0,
) -> Report:
    """Seed, log in, warm up, measure and report (``write`` gets the text). ``pace`` divides
    every think time: 2 makes each persona twice as busy."""
    if studies < groups:
        raise ValueError("at least one study per care group: each viewer needs one to open")
    write(f"load: seeding {groups} care groups, {viewers} viewers, {staff} staff, {studies} "
          f"studies of {instances} CT slices and {filler} filler patients")  # fmt: skip
    seeded = stack_seed(
        stack, groups=groups, viewers=viewers, staff=staff, filler=filler, studies=studies,
        instances=instances,
    )  # fmt: skip
    recorder, stop, context = Recorder(), threading.Event(), stack_context(stack)

    def logged_in(email: str) -> Browser:
        browser = Browser(stack.https_port, context, recorder)
        browser.login(email, PASSWORD)
        return browser

    write(f"load: logging {viewers + staff} personas in through the login form")
    with ThreadPoolExecutor(LOGINS_AT_ONCE) as pool:
        viewer_browsers = list(pool.map(logged_in, [v["email"] for v in seeded.viewers]))
        staff_browsers = list(pool.map(logged_in, seeded.staff))
    personas: list[Persona] = [
        Viewer(browser, stop, n, pace, patient=seeded.patients[v["patient"]], size=seeded.size)
        for n, (browser, v) in enumerate(zip(viewer_browsers, seeded.viewers, strict=True))
    ] + [
        Staff(browser, stop, 10_000 + n, pace, seeded=seeded)
        for n, browser in enumerate(staff_browsers)
    ]
    try:
        for persona in personas:
            persona.start()
        write(f"load: warming up {warmup:g} s, then measuring {seconds:g} s")
        time.sleep(warmup)
        before = snapshot(stack)
        recorder.started = time.monotonic()
        time.sleep(seconds)
        recorder.ended = time.monotonic()
        after = snapshot(stack)
    finally:
        stop.set()
        deadline = time.monotonic() + TIMEOUT_SECONDS + 5
        for persona in personas:
            persona.join(max(0.0, deadline - time.monotonic()))
    report = Report(recorder, recorder.ended - recorder.started, before, after)
    write(
        f"\nmake load: {viewers} viewers and {staff} staff for {seconds:g} s through Nginx "
        f"(HTTPS, sessions) after {warmup:g} s of warm-up; {studies} studies of {instances} CT "
        f"slices {seeded.size}x{seeded.size} over {groups} patients, {filler} filler patients"
        + report.text()
    )
    return report
