"""A real Orthanc for `make run` and the tests: configuration, start, readiness, clean stop.

Orthanc comes from Debian's packages ``orthanc`` and ``orthanc-dicomweb`` (make's system-deps
installs them). Everything lives under one folder: configuration, storage, index, logs and the
generated password. Orthanc 1.10 cannot bind one address, so it is made local-only by
``RemoteAccessAllowed: false`` (HTTP), authentication, and C-STORE accepted only from declared
modalities on this machine.

Command line, used by the Makefile::

    python -m devtools.local_server --dir var/orthanc -- CMD ARGS...

starts Orthanc, runs CMD with ORTHANC_URL/ORTHANC_USER/ORTHANC_PASSWORD set, and stops Orthanc
when CMD ends.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ORTHANC_BINARY = "/usr/sbin/Orthanc"
DICOMWEB_PLUGIN = "/usr/share/orthanc/plugins/libOrthancDicomWeb.so"
AE_TITLE = "PREVIEWDICOM"
USERNAME = "preview"
# The modality allowed to push studies by default: a local storescu / pynetdicom.
DEFAULT_MODALITIES = {"local": ["PREVIEWSCU", "127.0.0.1", 11112]}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def spawn(command: list[str], log: Path, **options) -> subprocess.Popen:
    """``command`` started in a session of its own, its output appended to ``log``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as output:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(  # noqa: S603 - fixed binaries, our own arguments
            command, stdout=output, stderr=subprocess.STDOUT, start_new_session=True, **options
        )


def missing_packages() -> list[str]:
    missing = []
    if not Path(ORTHANC_BINARY).exists():
        missing.append("orthanc")
    if not Path(DICOMWEB_PLUGIN).exists():
        missing.append("orthanc-dicomweb")
    return missing


@dataclass
class LocalOrthanc:
    directory: Path
    http_port: int = 8042
    dicom_port: int = 4242
    modalities: dict[str, list] = field(default_factory=lambda: dict(DEFAULT_MODALITIES))
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def password(self) -> str:
        # Generated once per folder and kept: never Orthanc's stock "changeme".
        path = self.directory / "password"
        if not path.exists():
            self.directory.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(24))
            path.chmod(0o600)
        return path.read_text().strip()

    def configuration(self) -> dict:
        return {
            "Name": "PreviewDICOM",
            "StorageDirectory": str(self.directory / "storage"),
            "IndexDirectory": str(self.directory / "index"),
            "TemporaryDirectory": str(self.directory / "tmp"),
            "HttpPort": self.http_port,
            "DicomPort": self.dicom_port,
            "DicomAet": AE_TITLE,
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": True,
            "RegisteredUsers": {USERNAME: self.password},
            "DicomAlwaysAllowStore": False,
            "DicomAlwaysAllowEcho": True,
            "DicomCheckModalityHost": True,
            "DicomModalities": self.modalities,
            "Plugins": [DICOMWEB_PLUGIN],
            "DicomWeb": {
                "Enable": True,
                "Root": "/dicom-web/",
                "EnableWado": True,
                "WadoRoot": "/wado",
                "StudiesMetadata": "Full",
                "SeriesMetadata": "Full",
            },
            "StableAge": 5,
            "HttpThreadsCount": 16,
            "KeepAlive": True,
            # Longer than the idle time of the clients' pooled connections (Nginx's upstream
            # keepalive_timeout, requests' pool): Orthanc's default of 1 s closes them under
            # a reused request, which then fails or is sent again.
            "KeepAliveTimeout": 75,
            "TcpNoDelay": True,
            "StorageCompression": False,
            "OverwriteInstances": False,
        }

    def write_configuration(self) -> Path:
        for sub in ("storage", "index", "tmp", "logs"):
            (self.directory / sub).mkdir(parents=True, exist_ok=True)
        path = self.directory / "orthanc.json"
        path.write_text(json.dumps(self.configuration(), indent=2))
        path.chmod(0o600)
        return path

    def _auth_header(self) -> str:
        token = base64.b64encode(f"{USERNAME}:{self.password}".encode()).decode()
        return f"Basic {token}"

    def is_ready(self) -> bool:
        request = urllib.request.Request(  # noqa: S310 - our own http://127.0.0.1 URL
            f"{self.url}/system", headers={"Authorization": self._auth_header()}
        )
        try:
            with urllib.request.urlopen(request, timeout=1) as response:  # noqa: S310 - local URL
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def start(self, timeout: float = 60.0) -> LocalOrthanc:
        missing = missing_packages()
        if missing:
            raise RuntimeError(
                "Orthanc is not installed. Install it: sudo apt-get install " + " ".join(missing)
            )
        self._wait_for_previous_exit()
        config = self.write_configuration()
        self.process = spawn(
            [ORTHANC_BINARY, f"--logdir={self.directory / 'logs'}", str(config)],
            self.directory / "logs" / "stdout.log",
        )
        (self.directory / "orthanc.pid").write_text(str(self.process.pid))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"Orthanc exited at start (code {self.process.returncode}); "
                    f"see {self.directory / 'logs'}"
                )
            if self.is_ready():
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"Orthanc did not answer within {timeout:g} s; see its logs")

    def _wait_for_previous_exit(self, timeout: float = 30.0) -> None:
        """A second Orthanc on the same storage fails while the first is exiting: wait for it,
        and say so plainly if it does not go away or if a port is taken."""
        pid_file = self.directory / "orthanc.pid"
        pid = None
        if pid_file.exists():
            try:
                pid = int(pid_file.read_text())
            except ValueError:
                pid = None
        deadline = time.monotonic() + timeout
        while pid is not None and _pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if pid is not None and _pid_alive(pid):
            raise RuntimeError(
                f"another Orthanc (pid {pid}) still uses {self.directory}; stop it first"
            )
        for port in (self.http_port, self.dicom_port):
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    raise RuntimeError(
                        f"port {port} is already in use; choose others with ORTHANC_HTTP_PORT "
                        "and ORTHANC_DICOM_PORT"
                    )

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM, then wait until the process is gone (Orthanc needs a few seconds)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def environment(self) -> dict[str, str]:
        return {
            "ORTHANC_URL": self.url,
            "ORTHANC_USER": USERNAME,
            "ORTHANC_PASSWORD": self.password,
        }


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child counts as gone.
    try:
        return Path(f"/proc/{pid}/status").read_text().find("State:\tZ") == -1
    except OSError:
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run a command next to a local Orthanc.")
    parser.add_argument("--dir", default="var/orthanc", help="folder for config, storage, logs")
    parser.add_argument(
        "--http-port", type=int, default=int(os.environ.get("ORTHANC_HTTP_PORT", 8042))
    )
    parser.add_argument(
        "--dicom-port", type=int, default=int(os.environ.get("ORTHANC_DICOM_PORT", 4242))
    )
    parser.add_argument(
        "--beside",
        action="append",
        default=[],
        help="a command run beside the main one and stopped with it (e.g. a worker)",
    )
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- CMD ARGS...")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to run after --")
    server = LocalOrthanc(Path(args.dir).resolve(), args.http_port, args.dicom_port)
    try:
        server.start()
    except RuntimeError as exc:
        print(f"local Orthanc: {exc}", file=sys.stderr)
        return 1
    print(
        f"local Orthanc: {server.url} (DICOM port {server.dicom_port}, AE {AE_TITLE}), "
        f"data in {server.directory}",
        file=sys.stderr,
    )
    child = None
    environment = {**os.environ, **server.environment()}
    workers: list[subprocess.Popen] = []

    def stop_child(signum: int, _frame: object) -> None:
        # Killed (e.g. by a terminal closing): stop the command, then Orthanc in `finally`.
        if child is not None and child.poll() is None:
            child.send_signal(signum)
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop_child)
    signal.signal(signal.SIGHUP, stop_child)
    try:
        for line in args.beside:
            workers.append(subprocess.Popen(shlex.split(line), env=environment))  # noqa: S603
        child = subprocess.Popen(command, env=environment)  # noqa: S603
        return child.wait()
    except KeyboardInterrupt:
        if child is not None:
            child.wait()
        return 130
    finally:
        for process in [child, *workers]:
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
