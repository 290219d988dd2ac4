"""`make stack`: the production topology without Docker, on loopback, from Debian's packages.

PostgreSQL (a cluster of its own), Redis, Orthanc with its index in PostgreSQL, ``replicas``
gunicorn instances of the portal in production settings, the study index follower and Nginx over
HTTPS (deploy/nginx/), everything under one folder (``var/stack/`` by default). The end-to-end
tests (portal/tests/test_stack.py) and ``make bench`` start the same thing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from devtools.local_server import free_port, spawn
from devtools.stack.servers import (
    ROOT,
    Nginx,
    OrthancOnPostgreSQL,
    PostgreSQL,
    Redis,
    StackError,
    secret,
    self_signed_certificate,
    stop_process,
    wait_for_port,
)

__all__ = ["Stack", "StackError"]

NOT_INHERITED = {"DJANGO_ALLOW_ASYNC_UNSAFE", "PORTAL_TESTING", "DEBUG", "CACHE_URL"}


@dataclass
class Stack:
    directory: Path
    https_port: int = 8443
    http_port: int = 8080
    dicom_port: int = 4242
    replicas: int = 2
    web_workers: int = 2
    bytes_via: str = "nginx"
    ohif_dist: Path = ROOT / "var" / "ohif" / "dist"
    # A server block added for `make bench` only (never in the deployed configuration).
    nginx_extra: str = ""
    log: bool = True
    web: list[subprocess.Popen | None] = field(default_factory=list)
    web_ports: list[int] = field(default_factory=list)
    follower: subprocess.Popen | None = None

    def __post_init__(self) -> None:
        self.directory = self.directory.resolve()
        self.postgres = PostgreSQL(self.directory / "postgresql", free_port())
        self.redis = Redis(self.directory / "redis", free_port())
        self.orthanc = OrthancOnPostgreSQL(
            self.directory / "orthanc", http_port=free_port(), dicom_port=self.dicom_port
        )
        self.nginx = Nginx(self.directory / "nginx", {})

    @property
    def temp_dir(self) -> Path:
        return self.directory / "portal" / "tmp"

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    def environment(self) -> dict[str, str]:
        """The portal's settings in this stack (deploy/.env.example says what each means)."""
        origins = [f"https://{host}:{self.https_port}" for host in ("localhost", "127.0.0.1")]
        # What a test process or a developer's shell set for themselves stays out.
        inherited = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
        return {
            **inherited,
            "PORTAL_ENV": "production",
            "DEBUG": "false",
            "SECRET_KEY": secret(self.directory / "secrets" / "secret-key", 48),
            "ALLOWED_HOSTS": "localhost,127.0.0.1",
            "CSRF_TRUSTED_ORIGINS": ",".join(origins),
            "PORTAL_VAR_DIR": str(self.directory / "portal"),
            # Uploads spooled to disk land here too, not in the machine's /tmp.
            "TMPDIR": str(self.temp_dir),
            "DATABASE_URL": self.postgres.url("portal"),
            "CACHE_URL": self.redis.url,
            **self.orthanc.environment(),
            "OHIF_DIST_DIR": str(self.ohif_dist),
            "TRUSTED_PROXY_COUNT": "1",
            "TRUST_X_FORWARDED_PROTO": "true",
            "SECURE_COOKIES": "true",
            "ALLOW_DEMO_DATA": "true",  # the demo account and patients, said in the README
            "DICOMWEB_BYTES_VIA": self.bytes_via,
            "GUNICORN_WORKERS": str(self.web_workers),
            "FORWARDED_ALLOW_IPS": "127.0.0.1",
        }

    def manage(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """``manage.py ARGS`` with the stack's settings; StackError if it fails and ``check``."""
        done = subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", *args],
            cwd=ROOT, env=self.environment(), capture_output=True, text=True,
        )  # fmt: skip
        if check and done.returncode != 0:
            raise StackError(f"manage.py {args[0]} failed:\n{done.stderr[-3000:]}")
        return done

    def say(self, message: str) -> None:
        if self.log:
            print(f"stack: {message}", file=sys.stderr, flush=True)

    def start(self) -> Stack:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        if not (self.ohif_dist / "index.html").exists():
            raise StackError(f"OHIF is not installed in {self.ohif_dist}: run `make viewer`")
        self.temp_dir.mkdir(parents=True, exist_ok=True)
        self.postgres.start()
        self.say(f"PostgreSQL on 127.0.0.1:{self.postgres.port}")
        self.redis.start()
        self.say(f"Redis on 127.0.0.1:{self.redis.port}")
        self.orthanc.database = {
            "Host": "127.0.0.1",
            "Port": self.postgres.port,
            "Database": "orthanc",
            "Username": "postgres",
            "Password": self.postgres.password,
        }
        self.orthanc.start()
        self.say(f"Orthanc on {self.orthanc.url}, C-STORE on port {self.dicom_port}")
        for command in (
            ("migrate", "--noinput", "-v", "0"),
            ("collectstatic", "--noinput", "-v", "0"),
            ("check", "--deploy", "--database", "default", "--fail-level", "ERROR"),
            ("seed_demo",),
            ("load_demo_study",),
        ):
            self.manage(*command)
        for replica in range(self.replicas):
            self.web_ports.append(free_port())
            self.web.append(self.start_web(replica))
        self.follower = self._spawn(
            "sync", [sys.executable, "manage.py", "orthanc_sync", "--follow"]
        )
        self.nginx.values = self.nginx_values()
        self.nginx.start(self.https_port, self.nginx_extra)
        self.say(f"Nginx on {self.url} (http://127.0.0.1:{self.http_port} redirects)")

    def start_web(self, replica: int) -> subprocess.Popen:
        port = self.web_ports[replica]
        process = self._spawn(
            f"web-{replica + 1}",
            [sys.executable, "-m", "gunicorn", "--config", "deploy/gunicorn.conf.py",
             "portal.wsgi:application"],
            GUNICORN_BIND=f"127.0.0.1:{port}",
        )  # fmt: skip
        wait_for_port(port, process, f"web replica {replica + 1}")
        self.say(f"web replica {replica + 1} (gunicorn) on 127.0.0.1:{port}")
        return process

    def _spawn(self, name: str, command: list[str], **env: str) -> subprocess.Popen:
        return spawn(
            command, self.directory / "logs" / f"{name}.log", cwd=ROOT,
            env={**self.environment(), **env},
        )  # fmt: skip

    def restart_nginx(self, bytes_via: str) -> None:
        """Nginx again with DICOMWEB_BYTES_VIA=``bytes_via`` (and ``nginx_extra``)."""
        self.nginx.stop()
        self.bytes_via = bytes_via
        self.nginx.values = self.nginx_values()
        self.nginx.start(self.https_port, self.nginx_extra)

    def nginx_values(self) -> dict[str, str]:
        www = self.directory / "www"
        www.mkdir(parents=True, exist_ok=True)
        for name, target in (
            ("static", self.directory / "portal" / "staticfiles"),
            ("viewer", self.ohif_dist),
        ):
            link = www / name
            if link.is_symlink() or link.exists():
                link.unlink()
            link.symlink_to(target)
        cert, key = self_signed_certificate(self.directory / "tls")
        settings = self.environment()
        return {
            "NGINX_SERVER_NAME": "localhost 127.0.0.1",
            "NGINX_HTTPS_PORT": f"127.0.0.1:{self.https_port}",
            "NGINX_HTTP_PORT": f"127.0.0.1:{self.http_port}",
            "NGINX_HTTPS_REDIRECT_PORT": f":{self.https_port}",
            "NGINX_CERT": os.environ.get("STACK_CERT", str(cert)),
            "NGINX_CERT_KEY": os.environ.get("STACK_CERT_KEY", str(key)),
            "NGINX_HSTS_SECONDS": "31536000",
            "NGINX_PORTAL_SERVERS": " ".join(
                f"server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;" for port in self.web_ports
            ),
            "NGINX_ORTHANC_SERVERS": f"server 127.0.0.1:{self.orthanc.http_port};",
            "NGINX_ORTHANC_AUTHORIZATION": self.orthanc.authorization,
            "NGINX_ORTHANC_TIMEOUT_SECONDS": settings.get("ORTHANC_TIMEOUT_SECONDS", "20"),
            "NGINX_PORTAL_TIMEOUT_SECONDS": "60",
            "NGINX_UPLOAD_TIMEOUT_SECONDS": "3600",
            "NGINX_CLIENT_MAX_BODY_SIZE": settings.get("UPLOAD_MAX_BODY_BYTES", "8589934592"),
            "NGINX_CACHE_DIR": str(self.nginx.directory / "cache"),
            "NGINX_ACCESS_LOG": str(self.nginx.directory / "logs" / "access.log"),
            "NGINX_WWW_ROOT": str(www),
            "NGINX_DICOMWEB_BYTES_VIA": self.bytes_via,
        }

    def healthy(self) -> bool:
        import ssl

        context = ssl.create_default_context(cafile=self.directory / "tls" / "cert.pem")
        try:
            with urllib.request.urlopen(f"{self.url}/health", context=context, timeout=5) as answer:  # noqa: S310
                return answer.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def stop(self) -> None:
        self.nginx.stop()
        for process in [*self.web, self.follower]:
            stop_process(process)
        self.orthanc.stop()
        self.redis.stop()
        self.postgres.stop()
