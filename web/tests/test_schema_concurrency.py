"""The OpenAPI schema is public and generated on the first request; gunicorn's threaded workers
may be asked for it several times at once, before it is made."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests


@pytest.mark.django_db(transaction=True)
def test_the_schema_answers_requests_arriving_together(live_server):
    from web.api.schema_view import SchemaView

    SchemaView._made.clear()  # not made yet in this process: the requests make it together
    url = live_server.url.replace("//localhost:", "//127.0.0.1:") + "/api/schema"

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(lambda _: requests.get(url, timeout=60).status_code, range(18)))

    assert statuses == [200] * 18
    assert len(SchemaView._made) == 1  # made once, then kept
