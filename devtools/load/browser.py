"""One simulated browser: a keep-alive HTTPS connection to the stack's Nginx, its cookies, a
login through the portal's form, and every request timed and checked into a ``Recorder``.

The standard library's http.client is enough here and light: one connection per persona, no
parsing beyond what a check needs, so the client itself leaves the two cores to the stack.
"""

from __future__ import annotations

import http.client
import re
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode

TIMEOUT_SECONDS = 30
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Refused(Exception):
    """An answer a browser would not accept: a wrong status, or a body missing what it needs."""


# What a request may end with instead of an answer: a socket error or timeout, a broken HTTP
# answer, or a body that its reader cannot use.
FAILURES = (OSError, http.client.HTTPException, Refused, ValueError, LookupError, TypeError)


@dataclass
class Recorder:
    """Timings and errors per kind of request, counted only inside the measured window."""

    started: float = 0.0  # time.monotonic() of the window's start (0: not yet measuring)
    ended: float = 0.0
    timings: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def measuring(self, at: float) -> bool:
        return bool(self.started) and at >= self.started and not (self.ended and at >= self.ended)

    def add(self, kind: str, at: float, milliseconds: float, error: str | None) -> None:
        if not self.measuring(at):
            return
        with self.lock:
            self.timings.setdefault(kind, []).append(milliseconds)
            if error is not None:
                self.errors.setdefault(kind, []).append(error)

    def fault(self, message: str) -> None:
        """A fault of the client itself: always an error, whenever it happens."""
        with self.lock:
            self.timings.setdefault("client", []).append(0.0)
            self.errors.setdefault("client", []).append(message)


class Browser:
    def __init__(self, port: int, context: ssl.SSLContext, recorder: Recorder) -> None:
        self.port, self.context, self.recorder = port, context, recorder
        self.cookies: dict[str, str] = {}
        self.connection: http.client.HTTPSConnection | None = None
        self.used = False  # whether the open connection has carried a request already

    def _send(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        if self.connection is None:
            self.connection = http.client.HTTPSConnection(
                "127.0.0.1", self.port, timeout=TIMEOUT_SECONDS, context=self.context
            )
            self.used = False
        reused = self.used
        self.used = True
        try:
            self.connection.request(method, path, body, headers)
            response = self.connection.getresponse()
            content = response.read()
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            self.close()
            if not reused:
                raise
            # Nginx closes a keep-alive connection after keepalive_requests or its timeout;
            # a browser sends the request again on a new one, and so does this.
            return self._send(method, path, body, headers)
        except BaseException:
            self.close()
            raise
        for value in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(value).items():
                self.cookies[name] = morsel.value
        return response.status, content

    def request(
        self,
        kind: str,
        path: str,
        *,
        accept: str = "text/html",
        method: str = "GET",
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        expect: int = 200,
        read: Callable[[bytes], Any] | None = None,
    ) -> Any:
        """The answer's body, or what ``read`` makes of it; ``Refused`` (recorded as an error of
        ``kind``) if the status is not ``expect``, the connection fails or times out, or ``read``
        fails on the body."""
        sent = {"Accept": accept, "Accept-Language": "fr", **(headers or {})}
        body = None
        if form is not None:
            body = urlencode(form).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
            sent["Referer"] = f"https://127.0.0.1:{self.port}{path}"
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        start = time.monotonic()
        error: str | None = None
        try:
            status, content = self._send(method, path, body, sent)
            if status != expect:
                raise Refused(f"{method} {path}: HTTP {status} (expected {expect})")
            return content if read is None else read(content)
        except FAILURES as exc:
            error = str(exc) if isinstance(exc, Refused) else f"{path}: {exc!r}"
            raise Refused(error) from exc
        finally:
            elapsed = (time.monotonic() - start) * 1000
            self.recorder.add(kind, start, elapsed, error)

    def login(self, email: str, password: str) -> None:
        """The portal's login form, as a person submits it (CSRF cookie and field, Referer)."""
        page = self.request("login", "/accounts/login/").decode()
        match = CSRF_FIELD.search(page)
        if match is None:
            raise Refused("the login page has no CSRF field")
        self.request(
            "login",
            "/accounts/login/",
            method="POST",
            form={"email": email, "password": password, "csrfmiddlewaretoken": match.group(1)},
            expect=302,
        )
        if "sessionid" not in self.cookies:
            raise Refused(f"{email}: logging in gave no session")

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None
