from __future__ import annotations

from typing import Any


def drop_trailing_slash_aliases(endpoints: list[tuple[Any, ...]], **kwargs: Any) -> list[Any]:
    """Every API path also answers with a trailing slash; document only the canonical form."""
    return [endpoint for endpoint in endpoints if not endpoint[0].endswith("/")]
