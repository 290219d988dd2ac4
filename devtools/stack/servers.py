"""The servers of the production topology, run from Debian's packages on loopback.

Each keeps its data under one folder of ``var/stack/`` (its own PostgreSQL cluster, Redis,
Orthanc with its index in PostgreSQL, Nginx with its rendered configuration) and its secrets
there too (generated once, mode 600). deploy/ holds what production shares with them: the Nginx
template and gunicorn's settings.
"""

from __future__ import annotations

import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from devtools.local_server import DICOMWEB_PLUGIN, LocalOrthanc, spawn

ROOT = Path(__file__).resolve().parents[2]
NGINX_TEMPLATE = ROOT / "deploy" / "nginx" / "templates" / "portal.conf.template"
POSTGRESQL_INDEX_PLUGIN = "/usr/share/orthanc/plugins/libOrthancPostgreSQLIndex.so"
PLACEHOLDER = re.compile(r"\$\{(NGINX_[A-Z0-9_]+)\}")


class StackError(RuntimeError):
    """A server that cannot start, said plainly."""


def secret(path: Path, nbytes: int = 24) -> str:
    """The secret kept in ``path``, generated the first time."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(nbytes))
        path.chmod(0o600)
    return path.read_text().strip()


def wait_for_port(port: int, process: subprocess.Popen, name: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StackError(f"{name} exited at start (code {process.returncode})")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise StackError(f"{name} did not listen on port {port} within {timeout:g} s")


def stop_process(process: subprocess.Popen | None, timeout: float = 30) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def _as_postgres_user() -> list[str]:
    """PostgreSQL refuses to run as root: run it as the postgres system user then."""
    if os.geteuid() != 0:
        return []
    if subprocess.run(["id", "postgres"], capture_output=True).returncode != 0:  # noqa: S607
        subprocess.run(["useradd", "--system", "--no-create-home", "postgres"], check=True)  # noqa: S607
    return ["runuser", "-u", "postgres", "--"]


def _pg_bin() -> Path:
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True):
        return candidate.parent
    raise StackError("PostgreSQL is not installed: sudo apt-get install postgresql")


@dataclass
class PostgreSQL:
    """A cluster of the stack's own, password-protected, with one database per service."""

    directory: Path
    port: int
    databases: tuple[str, ...] = ("portal", "orthanc")
    process: subprocess.Popen | None = None

    @property
    def password(self) -> str:
        return secret(self.directory.parent / "secrets" / "postgres-password")

    def url(self, database: str) -> str:
        return f"postgres://postgres:{self.password}@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        run_as, bin_dir, data = _as_postgres_user(), _pg_bin(), self.directory / "data"
        self.directory.mkdir(parents=True, exist_ok=True)
        if run_as:
            shutil.chown(self.directory, "postgres")
            if subprocess.run([*run_as, "test", "-x", str(self.directory)]).returncode:  # noqa: S603
                raise StackError(
                    f"the postgres user cannot reach {self.directory}: choose a folder whose "
                    "parents others may traverse (chmod o+x), or run as another user"
                )
        if not (data / "PG_VERSION").exists():
            pwfile = self.directory / "pwfile"
            pwfile.write_text(self.password)
            if run_as:
                shutil.chown(pwfile, "postgres")
            done = subprocess.run(  # noqa: S603
                [*run_as, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres",
                 "--auth=scram-sha-256", f"--pwfile={pwfile}", "-E", "UTF8"],
                capture_output=True, text=True,
            )  # fmt: skip
            pwfile.unlink()
            if done.returncode != 0:
                raise StackError(f"initdb failed: {done.stderr.strip()}")
        # As root, the server itself runs as postgres (not under runuser, which would not pass
        # on SIGINT, PostgreSQL's fast shutdown).
        account = pwd.getpwnam("postgres") if run_as else None
        self.process = spawn(
            [str(bin_dir / "postgres"), "-D", str(data), "-p", str(self.port),
             "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={data}"],
            self.directory / "server.log",
            **({"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
               if account else {}),
        )  # fmt: skip
        wait_for_port(self.port, self.process, "PostgreSQL")
        self._create_databases()

    def _create_databases(self) -> None:
        import psycopg

        deadline = time.monotonic() + 30
        while True:
            try:
                connection = psycopg.connect(self.url("postgres"), autocommit=True)
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        with connection:
            existing = {row[0] for row in connection.execute("SELECT datname FROM pg_database")}
            for name in self.databases:
                if name not in existing:
                    connection.execute(f'CREATE DATABASE "{name}"')

    def stop(self) -> None:
        # SIGTERM is PostgreSQL's "smart" shutdown; SIGINT, "fast", ends sessions at once.
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(2)
        stop_process(self.process)


@dataclass
class Redis:
    directory: Path
    port: int
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        password = secret(self.directory.parent / "secrets" / "redis-password")
        return f"redis://:{password}@127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise StackError("Redis is not installed: sudo apt-get install redis-server")
        self.directory.mkdir(parents=True, exist_ok=True)
        password = secret(self.directory.parent / "secrets" / "redis-password")
        config = self.directory / "redis.conf"
        # A cache: nothing to persist. The password keeps other local users out.
        config.write_text(
            f'bind 127.0.0.1\nport {self.port}\nrequirepass {password}\nsave ""\n'
            f"appendonly no\ndir {self.directory}\nmaxmemory 256mb\nmaxmemory-policy allkeys-lru\n"
        )
        config.chmod(0o600)
        self.process = spawn([binary, str(config)], self.directory / "server.log")
        wait_for_port(self.port, self.process, "Redis")

    def stop(self) -> None:
        stop_process(self.process)


@dataclass
class OrthancOnPostgreSQL(LocalOrthanc):
    """The local Orthanc, its index in the stack's PostgreSQL (Debian's orthanc-postgresql):
    several Orthancs may share it, as in "Scaling out" in the README."""

    database: dict = field(default_factory=dict)

    def configuration(self) -> dict:
        configuration = super().configuration()
        configuration["Plugins"] = [DICOMWEB_PLUGIN, POSTGRESQL_INDEX_PLUGIN]
        configuration["PostgreSQL"] = {
            "EnableIndex": True,
            "EnableStorage": False,  # files on disk (a volume in compose)
            "Lock": False,  # other Orthancs may share the index
            **self.database,
        }
        return configuration

    def start(self, timeout: float = 60.0) -> OrthancOnPostgreSQL:
        if not Path(POSTGRESQL_INDEX_PLUGIN).exists():
            raise StackError("sudo apt-get install orthanc-postgresql")
        super().start(timeout)
        return self

    @property
    def authorization(self) -> str:
        return self._auth_header()


def render_nginx(values: dict[str, str], template: Path = NGINX_TEMPLATE) -> str:
    """The template with every ``${NGINX_...}`` filled, as the official image's envsubst does;
    a placeholder without a value is an error, never an empty directive."""
    text = template.read_text()
    missing = sorted(set(PLACEHOLDER.findall(text)) - set(values))
    if missing:
        raise StackError("no value for " + ", ".join(missing))
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], text)


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for localhost and 127.0.0.1, made at first start and kept."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    if not (cert.exists() and key.exists()):
        directory.mkdir(parents=True, exist_ok=True)
        subprocess.run(  # noqa: S603
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "825",  # noqa: S607
             "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
             "-keyout", str(key), "-out", str(cert)],
            check=True, capture_output=True,
        )  # fmt: skip
        key.chmod(0o600)
    return cert, key


MAIN_CONFIG = """\
# Written by devtools.stack at each start: Nginx's main settings around the deployed template.
{user}worker_processes auto;
pid {root}/nginx.pid;
error_log {root}/logs/error.log warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    types {{ application/wasm wasm; }}
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 65;
    access_log {root}/logs/access.log;
    client_body_temp_path {root}/tmp/body;
    proxy_temp_path {root}/tmp/proxy;
    fastcgi_temp_path {root}/tmp/fastcgi;
    uwsgi_temp_path {root}/tmp/uwsgi;
    scgi_temp_path {root}/tmp/scgi;
    include {root}/conf.d/*.conf;
}}
"""


@dataclass
class Nginx:
    directory: Path
    values: dict[str, str]
    process: subprocess.Popen | None = None

    def write_configuration(self, extra: str = "") -> Path:
        for sub in ("conf.d", "logs", "tmp", "cache"):
            (self.directory / sub).mkdir(parents=True, exist_ok=True)
        (self.directory / "conf.d" / "portal.conf").write_text(render_nginx(self.values))
        (self.directory / "conf.d" / "portal.conf").chmod(0o600)  # holds Orthanc's credentials
        extra_path = self.directory / "conf.d" / "extra.conf"
        extra_path.unlink(missing_ok=True)
        if extra:
            extra_path.write_text(extra)
        # As root, the workers stay root: the files they serve may be in a private home.
        user = "user root root;\n" if os.geteuid() == 0 else ""
        main = self.directory / "nginx.conf"
        main.write_text(MAIN_CONFIG.format(root=self.directory, user=user))
        return main

    def start(self, port: int, extra: str = "") -> None:
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        if not Path(binary).exists():
            raise StackError("Nginx is not installed: sudo apt-get install nginx")
        main = self.write_configuration(extra)
        check = subprocess.run(  # noqa: S603
            [binary, "-t", "-q", "-p", str(self.directory), "-c", str(main)],
            capture_output=True, text=True,
        )  # fmt: skip
        if check.returncode != 0:
            raise StackError(f"Nginx refuses its configuration: {check.stderr.strip()}")
        self.process = spawn(
            [binary, "-p", str(self.directory), "-c", str(main), "-g", "daemon off;"],
            self.directory / "logs" / "stdout.log",
        )
        wait_for_port(port, self.process, "Nginx")

    def stop(self) -> None:
        stop_process(self.process)
