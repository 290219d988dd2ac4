"""Every URL pattern Django knows is on the reviewed list of public routes or refuses an
anonymous client (routes.py), through Django's live server and through the stack's Nginx; a new
pattern nobody classified fails here, and so does an entry that matches no pattern any more.

The anonymous client carries a valid CSRF token, as a browser that opened the login page would,
so its writes reach the views' own checks rather than stopping at the CSRF middleware.
"""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from django.urls import URLPattern, URLResolver, get_resolver

from portal.tests.trust.leaks import problems
from portal.tests.trust.matrix import DECISION_HEADERS
from portal.tests.trust.routes import LINK_LANDING, ROUTES, Route
from portal.tests.trust.world import World

LOGIN_PAGES = ("/accounts/login/", "/admin/login/")
PAGE_METHODS = ("GET", "POST")
API_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
HOW_TO_CLASSIFY = (
    "New URL patterns nobody classified: {routes}. Add each to ROUTES in "
    "portal/tests/trust/routes.py — `closed(sample, ...)` with sample addresses built from the "
    "world's real ids ({{patient_a}}, {{study_a}}... see world.World.values()) if it must refuse "
    "an anonymous client, or `public(reason, sample, ...)` saying why anyone may open it — and, "
    "if personas see it differently, a row in portal/tests/trust/matrix.py."
)


@dataclass(frozen=True)
class Pattern:
    route: str  # the URL pattern as Django prints it, every include's prefix joined
    admin: bool  # made by the Django admin site
    view: str


def patterns(resolver: URLResolver | None = None, prefix: str = "", admin: bool = False):
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            inside_admin = admin or entry.app_name == "admin"
            yield from patterns(entry, prefix + str(entry.pattern), inside_admin)
        elif isinstance(entry, URLPattern):
            view = f"{entry.callback.__module__}.{entry.callback.__qualname__}"
            yield Pattern(prefix + str(entry.pattern), admin, view)


def classify(pattern: Pattern) -> Route | None:
    if pattern.route in ROUTES:
        return ROUTES[pattern.route]
    if pattern.admin:
        return Route(closed=(admin_sample(pattern.route),))
    alias = ROUTES.get(pattern.route.removesuffix("/"))
    if pattern.route.startswith("api/") and pattern.route.endswith("/") and alias:
        return Route(
            closed=tuple(f"{sample}/" for sample in alias.closed),
            public=alias.public,
            open=tuple(f"{sample}/" for sample in alias.open),
        )
    return None


def admin_sample(route: str) -> str:
    """Any parameter filled with 1, a choice of apps with its first, a catch-all with a name."""
    route = re.sub(r"<[^>]+>", "1", route)
    route = re.sub(r"\(\?P<\w+>(\w+)[|\w]*\)", r"\1", route)
    route = route.replace("(?P<url>.*)", "no-such-page")
    return "/" + route.replace("^", "").replace("$", "")


def methods_of(sample: str) -> tuple[str, ...]:
    return API_METHODS if sample.startswith(("/api/", "/dicom-web/")) else PAGE_METHODS


def refused(answer: requests.Response) -> bool:
    if answer.status_code == 302:
        return urlsplit(answer.headers.get("Location", "")).path in LOGIN_PAGES
    return answer.status_code in (401, 403)


def walk(world: World, *, through_stack: bool) -> tuple[list[str], list[str], int]:
    """Each sample of each classified pattern asked anonymously with each method: what went
    wrong (an answer instead of a refusal, a server error), what leaked, how many asked."""
    wrong: list[str] = []
    leaked: list[str] = []
    token = csrf_token(world)
    clients = threading.local()
    decision = {name: world.fill(value) for name, value in DECISION_HEADERS.items()}

    def ask(sample: str, method: str) -> tuple[str, str, requests.Response]:
        if not hasattr(clients, "client"):
            clients.client = world.target.session()
        client = clients.client
        client.cookies.clear()  # nothing but the CSRF token: what a link opened stays behind
        client.cookies.set("csrftoken", token)
        answer = client.request(
            method,
            world.target.url + world.fill(sample),
            headers={"X-CSRFToken": token, "Referer": f"{world.target.url}/", **decision},
            allow_redirects=False,
        )
        return sample, method, answer

    jobs = []
    for pattern in patterns():
        route = classify(pattern)
        assert route is not None, HOW_TO_CLASSIFY.format(routes=pattern.route)
        jobs += [(s, m, "closed") for s in route.closed for m in methods_of(s)]
        jobs += [(s, m, "open") for s in route.open for m in PAGE_METHODS]
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda job: (*ask(job[0], job[1]), job[2]), jobs))

    refused_samples: set[str] = set()
    for sample, method, answer, kind in answers:
        status = answer.status_code
        # Opening the link is what makes a link holder: it answers with the shared study's UID.
        persona = "link_holder" if sample == LINK_LANDING else "anonymous"
        if found := problems(answer, persona=persona, secrets=world.target.secrets):
            leaked.append(f"{method} {sample}: {found}")
        if status >= 500:
            wrong.append(f"{method} {sample}: {status}")
        if kind != "closed" or status == 405:
            continue
        by_nginx = through_stack and sample.startswith("/internal/") and status == 404
        if refused(answer) or by_nginx:
            refused_samples.add(sample)
        else:
            wrong.append(f"{method} {sample}: {status} {answer.headers.get('Location', '')}")
    closed = {sample for sample, _m, _a, kind in answers if kind == "closed"}
    wrong += [f"{sample}: no method refused (405 to all)" for sample in closed - refused_samples]
    return wrong, leaked, len(answers)


def csrf_token(world: World) -> str:
    """The CSRF token a browser gets with the login page."""
    client = world.target.session()
    client.get(f"{world.target.url}/accounts/login/")
    return client.cookies.get("csrftoken") or ""


def test_every_url_pattern_is_classified():
    unclassified = [p.route for p in patterns() if classify(p) is None]

    assert unclassified == [], HOW_TO_CLASSIFY.format(routes=unclassified)


def test_every_classified_route_is_still_a_url_pattern():
    routes = {p.route for p in patterns()}

    assert [route for route in ROUTES if route not in routes] == []


def test_the_walk_through_django(django_world):
    wrong, leaked, asked = walk(django_world, through_stack=False)

    assert wrong == []
    assert leaked == []
    assert asked > 250  # the walk did walk: about 150 patterns, most with two methods or more


def test_the_walk_through_the_stacks_nginx(stack_world):
    wrong, leaked, _asked = walk(stack_world, through_stack=True)

    assert wrong == []
    assert leaked == []
