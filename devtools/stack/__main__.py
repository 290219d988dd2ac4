"""``python -m devtools.stack`` (make stack): start the stack, print its address, run in the
foreground, stop everything on Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

from devtools.stack import Stack, StackError


def main(argv: list[str] | None = None) -> int:
    env = os.environ.get
    parser = argparse.ArgumentParser(description="The production topology on loopback.")
    parser.add_argument("--dir", default="var/stack", help="data, logs and secrets")
    parser.add_argument("--https-port", type=int, default=int(env("STACK_HTTPS_PORT", 8443)))
    parser.add_argument("--http-port", type=int, default=int(env("STACK_HTTP_PORT", 8080)))
    parser.add_argument("--dicom-port", type=int, default=int(env("ORTHANC_DICOM_PORT", 4242)))
    parser.add_argument("--replicas", type=int, default=int(env("WEB_REPLICAS", 2)))
    parser.add_argument(
        "--bytes-via", choices=("nginx", "django"), default=env("DICOMWEB_BYTES_VIA", "nginx")
    )
    args = parser.parse_args(argv)
    stack = Stack(
        Path(args.dir),
        https_port=args.https_port,
        http_port=args.http_port,
        dicom_port=args.dicom_port,
        replicas=args.replicas,
        bytes_via=args.bytes_via,
    )

    def stop(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
    try:
        stack.start()
        print(
            f"\nPreview DICOM on {stack.url}/  (self-signed certificate: accept it once)\n"
            f"  demo account: admin@imagine.fr / Admin123!   http://127.0.0.1:{args.http_port}/"
            f" redirects\n  data, logs and secrets: {stack.directory}   Ctrl-C stops everything\n",
            file=sys.stderr,
            flush=True,
        )
        while True:
            time.sleep(1)
    except StackError as exc:
        print(f"stack: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        # A second Ctrl-C or SIGTERM must not cut the stopping short.
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
