"""What the simulated people do, each in a thread with its own logged-in browser.

A viewer opens one of its group's studies as OHIF does (its page and settings, QIDO for the
study and its series, each series' metadata, then every frame once: OHIF keeps them in memory),
reads it a few seconds and opens another. Staff browse the patient list, search it (HTMX, as the
search box does), search the worklist and open patient pages (the page, its studies panel, then
each thumbnail once: the browser keeps them an hour). Every answer is checked as a browser would
need it; think times are drawn from a seeded random generator, so runs are alike.
"""

from __future__ import annotations

import json
import random
import re
import threading
from collections.abc import Callable
from typing import Any

from devtools.load.browser import Browser, Refused
from devtools.load.seed import Seeded
from devtools.management.commands.bench_dicomweb import FRAME

DICOM_JSON = "application/dicom+json"
READING_SECONDS = (3.0, 8.0)  # a viewer looking at a study before opening the next
THINKING_SECONDS = (1.0, 4.0)  # staff between two clicks
THUMBNAIL = re.compile(r'src="(/patients/\d+/series/[^"]+/thumbnail[^"]*)"')
SEARCH_TERMS = ["Charge", "charge00", "Mar", "Bel", "Ver", "Dubois", "Load", "SYN0000", "LOAD-0"]
# (kind, weight): what staff do, how often.
STAFF_ACTIONS = [("patient list", 2), ("patient search", 3), ("worklist search", 2),
                 ("patient page", 3)]  # fmt: skip


def _tag(item: dict[str, Any], tag: str) -> str:
    return str(item[tag]["Value"][0])


def _expect(condition: bool, what: str) -> None:
    if not condition:
        raise Refused(f"the answer does not hold {what}")


def _dicom_json(content: bytes) -> list[dict[str, Any]]:
    answer = json.loads(content)
    if not isinstance(answer, list):
        raise Refused("a DICOM JSON answer that is not a list")
    return answer


class Persona(threading.Thread):
    """A thread that logs its browser in, then acts until ``stop`` is set; an exception of the
    client's own (a bug here, not an answer refused) is recorded as an error of kind "client"."""

    pause: tuple[float, float] = THINKING_SECONDS

    def __init__(self, browser: Browser, stop: threading.Event, seed: int, pace: float) -> None:
        super().__init__(daemon=True)
        self.browser, self.stop, self.rng = browser, stop, random.Random(seed)  # noqa: S311
        self.pause = (self.pause[0] / pace, self.pause[1] / pace)  # pace 2: twice as fast

    def act(self) -> None:
        raise NotImplementedError

    def run(self) -> None:
        self.stop.wait(self.rng.uniform(0, self.pause[1]))  # not everyone clicks at once
        while not self.stop.is_set():
            try:
                self.act()
            except Refused:
                pass  # recorded by the browser; the person goes on
            except Exception as exc:  # a bug of the client: counted, never hidden
                self.browser.recorder.fault(f"{type(exc).__name__}: {exc}")
            self.stop.wait(self.rng.uniform(*self.pause))
        self.browser.close()


class Viewer(Persona):
    pause = READING_SECONDS

    def __init__(self, browser: Browser, stop: threading.Event, seed: int, pace: float, *,
                 patient: dict[str, Any], size: int) -> None:  # fmt: skip
        super().__init__(browser, stop, seed, pace)
        self.patient, self.frame_bytes = patient, size * size * 2  # 16-bit CT

    def act(self) -> None:
        uid = self.rng.choice(self.patient["studies"])
        get = self.browser.request
        get(
            "viewer page",
            f"/viewer/viewer?StudyInstanceUIDs={uid}",
            read=lambda body: _expect(b"app-config.js" in body, "the viewer's page"),
        )
        get(
            "viewer config",
            "/viewer/app-config.js",
            accept="*/*",
            read=lambda body: _expect(b"/dicom-web" in body, "the viewer's settings"),
        )
        get(
            "study search",
            f"/dicom-web/studies?StudyInstanceUID={uid}",
            accept=DICOM_JSON,
            read=lambda body: _expect(
                [_tag(s, "0020000D") for s in _dicom_json(body)] == [uid], "the study"
            ),
        )
        series = get(
            "series search",
            f"/dicom-web/studies/{uid}/series",
            accept=DICOM_JSON,
            read=lambda body: [_tag(s, "0020000E") for s in _dicom_json(body)],
        )
        for series_uid in series:
            base = f"/dicom-web/studies/{uid}/series/{series_uid}"
            instances = get("metadata", f"{base}/metadata", accept=DICOM_JSON, read=self._instances)
            for sop_uid in instances:
                get(
                    "frame",
                    f"{base}/instances/{sop_uid}/frames/1",
                    accept=FRAME,
                    read=lambda body: _expect(len(body) >= self.frame_bytes, "a frame"),
                )

    def _instances(self, body: bytes) -> list[str]:
        """The series' SOP Instance UIDs in slice order, all of the viewer's own patient."""
        items = _dicom_json(body)
        if {_tag(i, "00100020") for i in items} != {self.patient["external_id"]}:
            raise Refused("metadata of another patient than the viewer's")
        return [_tag(i, "00080018") for i in sorted(items, key=lambda i: int(_tag(i, "00200013")))]


class Staff(Persona):
    def __init__(self, browser: Browser, stop: threading.Event, seed: int, pace: float, *,
                 seeded: Seeded) -> None:  # fmt: skip
        super().__init__(browser, stop, seed, pace)
        self.seeded = seeded
        self.thumbnails_seen: set[str] = set()
        self.acted = 0  # a first round through every action, then at random

    def act(self) -> None:
        actions: dict[str, Callable[[], None]] = {
            "patient list": self.patient_list,
            "patient search": self.patient_search,
            "worklist search": self.worklist_search,
            "patient page": self.patient_page,
        }
        kinds, weights = zip(*STAFF_ACTIONS, strict=True)
        first_round = self.acted < len(kinds)
        self.acted += 1
        actions[kinds[self.acted - 1] if first_round else self.rng.choices(kinds, weights)[0]]()

    def patient_list(self) -> None:
        self.browser.request("patient list", f"/patients/?page={self.rng.randint(1, 10)}")

    def patient_search(self) -> None:
        term = self.rng.choice(SEARCH_TERMS)
        self.browser.request(
            "patient search", f"/patients/?search={term}", headers={"HX-Request": "true"}
        )

    def worklist_search(self) -> None:
        patient = self.rng.choice(self.seeded.patients)
        term = self.rng.choice(["", "Charge", patient["external_id"]])
        self.browser.request(
            "worklist search",
            f"/studies/?q={term}",
            read=lambda body: _expect(
                term != patient["external_id"] or patient["studies"][0].encode() in body,
                "the patient's studies",
            ),
        )

    def patient_page(self) -> None:
        """A load patient (with studies) seven times in ten and in the first round, else a
        filler patient."""
        if self.acted <= len(STAFF_ACTIONS) or self.rng.random() < 0.7 or not self.seeded.filler:
            patient = self.rng.choice(self.seeded.patients)
            pk, marker = patient["pk"], patient["external_id"].encode()
        else:
            pk, marker = self.rng.choice(self.seeded.filler), b"SYN"
        get = self.browser.request
        get("patient page", f"/patients/{pk}/", read=lambda b: _expect(marker in b, "its ID"))
        panel = get("studies panel", f"/patients/{pk}/studies/", headers={"HX-Request": "true"})
        for url in THUMBNAIL.findall(panel.decode()):
            url = url.replace("&amp;", "&")
            if url not in self.thumbnails_seen:
                self.thumbnails_seen.add(url)
                get("thumbnail", url, accept="image/*")
