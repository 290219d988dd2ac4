"""The OpenAPI schema is public and generated on request; gunicorn's threaded workers may be
asked for it several times at once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests


@pytest.mark.django_db(transaction=True)
def test_the_schema_answers_requests_arriving_together(live_server):
    url = live_server.url.replace("//localhost:", "//127.0.0.1:") + "/api/schema"

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(lambda _: requests.get(url, timeout=60).status_code, range(18)))

    assert statuses == [200] * 18
