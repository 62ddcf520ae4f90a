"""Finding a source's partition folders with delimiter listings, level by level, so that the cost grows with
the number of folders, not of objects: only folders that can lead to one of the table's partitions are
listed (``name=value/`` segments of its partition columns in order, or ``YYYY/MM/DD/HH/`` pruned by the
dates asked), and a partition folder itself is never listed. Whether a folder found is a partition is the
runtime's answer (streamalert.partitions), the very rules the refresh applies to each object's key."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from config_schemas.models import RefreshType, TableRoute
from streamalert.glue import TableInfo
from streamalert.partitions import (
    FIREHOSE_COLUMN,
    Partition,
    PartitionKeyError,
    check_repairable,
    check_under_table,
    conform_to_table,
    partition_from_key,
)

_FIREHOSE_WIDTHS = (4, 2, 2, 2)  # YYYY/MM/DD/HH


@dataclass(frozen=True)
class DateRange:
    """The days asked for (either end open). A partition's day is the first ten characters of its ``dt``
    value (``2024-01-31`` of ``2024-01-31-05``); a partition without a ``dt`` day is in every range."""

    since: datetime.date | None = None
    until: datetime.date | None = None

    def may_hold(self, hour_path: tuple[int, ...]) -> bool:
        """True when a folder ``YYYY[/MM[/DD]]`` can hold days of the range (compared by its own depth)."""
        depth = len(hour_path[:3])
        if self.since and hour_path[:3] < _as_tuple(self.since)[:depth]:
            return False
        return not (self.until and hour_path[:3] > _as_tuple(self.until)[:depth])

    def holds(self, partition: Partition) -> bool:
        columns = [column.lower() for column in partition.columns]
        if FIREHOSE_COLUMN not in columns or not (self.since or self.until):
            return True
        try:
            day = datetime.date.fromisoformat(partition.values[columns.index(FIREHOSE_COLUMN)][:10])
        except ValueError:
            return True
        return (self.since is None or day >= self.since) and (self.until is None or day <= self.until)


def _as_tuple(day: datetime.date) -> tuple[int, int, int]:
    return (day.year, day.month, day.day)


@dataclass(frozen=True)
class Rejected:
    """A folder whose objects the refresh would reject: it is listed, never registered."""

    location: str
    reason: str


def partition_of(bucket: str, folder: str, table: TableInfo, refresh_type: RefreshType) -> Partition:
    """The partition of the objects of ``folder`` (``a/dt=1/``), by the checks the refresh applies to each
    object key; PartitionKeyError says why the refresh would reject them."""
    partition = conform_to_table(partition_from_key(bucket, f"{folder}x"), table.partition_keys)
    if refresh_type is RefreshType.REPAIR_HIVE_TABLE:
        check_repairable(partition, table.location)
    else:
        check_under_table(partition, table.location)
    return partition


@dataclass(frozen=True)
class _Level:
    """A folder to list, and how far along a partition path it is: ``hive`` columns matched so far, or the
    ``hour_path`` of a Firehose ``YYYY/MM/...`` path."""

    prefix: str
    hive: int = 0
    hour_path: tuple[int, ...] = ()


class FolderWalker:
    """Lists a bucket's folders with ``ListObjectsV2(Delimiter="/")``; ``on_listed`` hears of each folder
    listed (its pages are one listing)."""

    def __init__(self, s3: Any, on_listed: Callable[[], None] = lambda: None) -> None:
        self._s3 = s3
        self._on_listed = on_listed

    def walk(self, route: TableRoute, table: TableInfo, dates: DateRange) -> Iterator[Partition | Rejected]:
        """Each partition folder of the route's source (in listing order), or why it is rejected."""
        bucket = route.source.bucket
        shape = _Shape(tuple(column.lower() for column in table.partition_keys), dates)
        pending = [_Level(f"{route.source.prefix}/" if route.source.prefix else "")]
        while pending:
            level = pending.pop()
            leaves: list[str] = []
            deeper: list[_Level] = []
            for folder in self._folders(bucket, level.prefix):
                name = folder[len(level.prefix) : -1]
                step = shape.next_level(folder, name, level)
                if step is None:
                    continue
                if step == "leaf":
                    leaves.append(folder)
                elif isinstance(step, _Level):
                    deeper.append(step)
            for folder in leaves:
                try:
                    yield partition_of(bucket, folder, table, route.refresh_type)
                except PartitionKeyError as err:
                    yield Rejected(f"s3://{bucket}/{folder}", str(err))
            pending.extend(reversed(deeper))  # depth first, in listing order

    def _folders(self, bucket: str, prefix: str) -> Iterator[str]:
        self._on_listed()
        pages = self._s3.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix, Delimiter="/"
        )
        for page in pages:
            for common in page.get("CommonPrefixes", []):
                yield common["Prefix"]


@dataclass(frozen=True)
class _Shape:
    """The folders that can lead to a partition of a table: its partition columns (lower case), in order,
    or Firehose hours when its one column is ``dt``, within the dates asked."""

    keys: tuple[str, ...]
    dates: DateRange

    def next_level(self, folder: str, name: str, level: _Level) -> _Level | str | None:
        """What a folder found in ``level`` is: a deeper level to list, ``"leaf"`` (a folder whose objects
        would name a partition, or be rejected: no deeper listing), or None (it leads to no partition)."""
        column, equals, _ = name.partition("=")
        if level.hour_path:
            return _next_hour(folder, name, level.hour_path, self.dates)
        if equals:
            if level.hive >= len(self.keys) - 1 or column.lower() != self.keys[level.hive]:
                return "leaf"  # the table's last column, or a column it lacks: the checks say which
            return _Level(folder, hive=level.hive + 1)
        if level.hive:
            return "leaf"  # a plain folder among name=value ones: its objects would be rejected
        if self.keys == (FIREHOSE_COLUMN,) and name.isdigit() and len(name) == _FIREHOSE_WIDTHS[0]:
            return _next_hour(folder, name, (), self.dates)
        return _Level(folder)


def _next_hour(folder: str, name: str, hour_path: tuple[int, ...], dates: DateRange) -> _Level | str | None:
    if not (name.isdigit() and len(name) == _FIREHOSE_WIDTHS[len(hour_path)]):
        return None
    path = (*hour_path, int(name))
    if not dates.may_hold(path):
        return None
    return "leaf" if len(path) == len(_FIREHOSE_WIDTHS) else _Level(folder, hour_path=path)
