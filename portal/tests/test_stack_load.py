"""`make load` (devtools.load) for a few seconds against the tests' stack: a handful of viewers
and staff go through every kind of request, and the report shows each of them without error.

The figures themselves are for `make load` to print: no timing is asserted here.
"""

from __future__ import annotations

from devtools.load import run_load

KINDS = [
    "frame", "metadata", "patient list", "patient page", "patient search", "series search",
    "studies panel", "study search", "thumbnail", "viewer config", "viewer page",
    "worklist search",
]  # fmt: skip


def test_the_load_tool_reports_every_kind_of_request_and_no_error(stack):
    lines: list[str] = []

    report = run_load(
        stack, viewers=3, staff=2, groups=2, studies=2, instances=2, filler=20, seconds=6,
        warmup=0, pace=4, write=lines.append,
    )  # fmt: skip

    assert report.kinds == KINDS
    assert report.errors == 0, report.recorder.errors
    text = "\n".join(lines)
    assert all(f"\n  {kind:<16}" in text for kind in KINDS)
    assert "gunicorn web-1 worker" in text
    assert "nginx worker" in text
    assert "Verdict:" in text
