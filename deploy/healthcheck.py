"""The web container's health check (deploy/Dockerfile): the portal answers and reaches its
database. Orthanc being away is no reason to restart the portal or hold Nginx back: the portal
then answers 503 for images, and /health says "degraded"."""

import http.client
import json
import os
import sys


def main() -> int:
    port = int(os.environ.get("GUNICORN_BIND", "0.0.0.0:8000").rsplit(":", 1)[1])
    # A name Django accepts (ALLOWED_HOSTS), not a pattern.
    names = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "localhost").split(",")]
    host = next((h for h in names if h and not h.startswith((".", "*"))), "localhost")
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/health", headers={"Host": host})
        answer = connection.getresponse()
        body = json.loads(answer.read() or b"{}")
    except (OSError, ValueError) as exc:
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1
    if body.get("database") != "ok":
        print(f"unhealthy: HTTP {answer.status} {body}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
