"""Which configured table an object belongs to."""

from __future__ import annotations

from collections.abc import Iterable

from config_schemas.models import TableRoute


class SourceRouter:
    """Finds the route of a (bucket, key): sources of one bucket never overlap, so at most one matches."""

    def __init__(self, routes: Iterable[TableRoute]) -> None:
        self._by_bucket: dict[str, list[TableRoute]] = {}
        for route in routes:
            self._by_bucket.setdefault(route.source.bucket, []).append(route)

    def route(self, bucket: str, key: str) -> TableRoute | None:
        for route in self._by_bucket.get(bucket, ()):
            if route.source.matches(key):
                return route
        return None
