"""Every persona against every page, API endpoint and DICOMweb request type (matrix.py), through
Django's live server and through the stack's Nginx: the status of each cell as the matrix says,
and no answer carrying a secret or the data of a patient the persona may not see (leaks.py).

The administrator goes first (the matrix's writes store patient A's second study, which the
others must then not see unless they may); the other personas run side by side.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pprint import pformat

import requests

from portal.tests.trust import matrix
from portal.tests.trust.leaks import problems, seen_markers
from portal.tests.trust.world import PERSONAS, World


class Column:
    """One persona's run: the status of each row, what leaked, and the answers."""

    def __init__(self, world: World, persona: str) -> None:
        self.statuses: dict[str, int] = {}
        self.leaked: dict[str, list[str]] = {}
        self.answers: list[requests.Response] = []
        for credential in ("session", "token"):
            if credential == "token" and persona not in matrix.USERS_WITH_TOKENS:
                continue
            client = world.client(persona, credential)
            for request in matrix.MATRIX:
                method, path = request.split(" ", 1)
                path = world.fill(path)
                if credential == "token" and not matrix.takes_a_token(path):
                    continue
                answer = client.request(
                    method,
                    f"{world.target.url}{path}",
                    allow_redirects=False,
                    **matrix.request_kwargs(request, path, world),
                )
                key = request if credential == "session" else f"{request} (token)"
                self.answers.append(answer)
                self.statuses[key] = answer.status_code
                if found := problems(answer, persona=persona, secrets=world.target.secrets):
                    self.leaked[key] = found


def check_matrix(world: World, *, through_stack: bool) -> None:
    first = Column(world, PERSONAS[0])
    with ThreadPoolExecutor(max_workers=4) as pool:
        rest = list(pool.map(lambda persona: Column(world, persona), PERSONAS[1:]))
    columns = dict(zip(PERSONAS, [first, *rest], strict=True))

    differences = {}
    for index, (persona, column) in enumerate(columns.items()):
        wanted = matrix.expected(index, through_stack=through_stack)
        differences[persona] = {
            key: f"{seen}, not {wanted[key.removesuffix(' (token)')]}"
            for key, seen in column.statuses.items()
            if seen != wanted[key.removesuffix(" (token)")]
        }
    differing = {persona: cells for persona, cells in differences.items() if cells}
    leaked = {persona: column.leaked for persona, column in columns.items() if column.leaked}
    assert differing == {}, "cells differing from matrix.py:\n" + pformat(differing)
    assert leaked == {}, "answers carrying what they must not:\n" + pformat(leaked)
    # The scan sees what it looks for: every marker of each patient shows in some answer to
    # the administrator, and a member of each group sees their own patient's.
    markers_seen = {persona: seen_markers(column.answers) for persona, column in columns.items()}
    assert {side for side, _ in markers_seen["admin"]} == {"A", "B"}
    assert len(markers_seen["admin"]) == 8
    assert {side for side, _ in markers_seen["own_group"]} == {"A"}
    assert {side for side, _ in markers_seen["other_group"]} == {"B"}
    assert markers_seen["anonymous"] == markers_seen["no_rights"] == set()


def test_the_persona_matrix_through_django(django_world):
    check_matrix(django_world, through_stack=False)


def test_the_persona_matrix_through_the_stacks_nginx(stack_world):
    check_matrix(stack_world, through_stack=True)
