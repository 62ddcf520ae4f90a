"""Partitions worked out from object keys, and the checks that keep unsafe keys out of every query.

Two layouts are understood:
- Hive: ``name=value/`` folders, any number of them (``alerts/dt=2024-01-01-05/x.json``);
- Firehose: ``<anything>/YYYY/MM/DD/HH/file``, which becomes one column ``dt='YYYY-MM-DD-HH'``.
The partition's location is its folder: the key's path through its last partition folder.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from streamalert.exceptions import StreamAlertError

FIREHOSE_COLUMN = "dt"

_COLUMN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_SAFE_VALUE = re.compile(r"[A-Za-z0-9\-_.:/ ]+\Z")
# quotes, backslashes, controls, and lone surrogates (a key can carry one; no query or catalog call can)
_UNSAFE_FOLDER = re.compile(r"['\"\\\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_FIREHOSE_PARTS = (
    re.compile(r"[0-9]{4}\Z"),
    re.compile(r"(0[1-9]|1[0-2])\Z"),
    re.compile(r"(0[1-9]|[12][0-9]|3[01])\Z"),
    re.compile(r"([01][0-9]|2[0-3])\Z"),
)


class PartitionKeyError(StreamAlertError):
    """An object key that gives no safe partition: it never reaches a query or a catalog call."""


@dataclass(frozen=True, slots=True)
class Partition:
    """One partition of a table: column values in the table's order and the folder that holds them."""

    columns: tuple[str, ...]
    values: tuple[str, ...]
    location: str

    def spec(self) -> str:
        """A readable ``col='value'`` form for logs."""
        return ", ".join(
            f"{column}='{value}'" for column, value in zip(self.columns, self.values, strict=True)
        )


def partition_from_key(bucket: str, key: str) -> Partition:
    """The partition an object belongs to, from its (already URL-decoded) key.

    Raises PartitionKeyError when the key fits no layout or holds characters unsafe in a query.
    """
    folders = key.split("/")[:-1]
    hive = [index for index, folder in enumerate(folders) if "=" in folder]
    if hive:
        columns, values, depth = _hive_partition(folders, hive)
    elif len(folders) >= 4 and _is_firehose_hour(folders[-4:]):
        columns, values, depth = (FIREHOSE_COLUMN,), ("-".join(folders[-4:]),), len(folders)
    else:
        raise PartitionKeyError("key fits no partition layout (name=value/ folders or YYYY/MM/DD/HH/)")
    folder = "/".join(folders[:depth])
    if _UNSAFE_FOLDER.search(folder) or "" in folders[:depth] or _UNSAFE_FOLDER.search(bucket):
        raise PartitionKeyError(
            "partition folder holds quotes, backslashes, control characters, lone surrogates or //"
        )
    if "." in folders or ".." in folders:
        raise PartitionKeyError("key holds a '.' or '..' folder")
    return Partition(columns=columns, values=values, location=f"s3://{bucket}/{folder}/")


def _is_firehose_hour(folders: list[str]) -> bool:
    """True for ``YYYY/MM/DD/HH`` folders that name a real hour (no February 30th)."""
    if not all(part.match(folder) for part, folder in zip(_FIREHOSE_PARTS, folders, strict=True)):
        return False
    try:
        datetime.date(int(folders[0]), int(folders[1]), int(folders[2]))
    except ValueError:
        return False
    return True


def _hive_partition(folders: list[str], hive: list[int]) -> tuple[tuple[str, ...], tuple[str, ...], int]:
    if hive != list(range(hive[0], hive[-1] + 1)):
        raise PartitionKeyError("name=value folders are not contiguous")
    columns: list[str] = []
    values: list[str] = []
    for index in hive:
        name, _, value = folders[index].partition("=")
        if not _COLUMN_NAME.match(name):
            raise PartitionKeyError(f"partition column name {name!r} is not an identifier")
        if not _SAFE_VALUE.match(value):
            raise PartitionKeyError(
                f"partition value {value!r} holds characters other than "
                "ASCII letters, digits, '-_.:/' or space"
            )
        columns.append(name)
        values.append(value)
    return tuple(columns), tuple(values), hive[-1] + 1


def conform_to_table(partition: Partition, table_columns: tuple[str, ...]) -> Partition:
    """The partition with the table's own column names, if its columns are the table's partition keys
    in order (names compared case-insensitively); PartitionKeyError otherwise."""
    if tuple(c.lower() for c in partition.columns) != tuple(c.lower() for c in table_columns):
        raise PartitionKeyError(
            f"partition columns ({', '.join(partition.columns)}) are not the table's "
            f"partition keys ({', '.join(table_columns)})"
        )
    return Partition(columns=table_columns, values=partition.values, location=partition.location)


def as_folder(location: str) -> str:
    """A location compared as a folder: ``s3://b/dt=1`` and ``s3://b/dt=1/`` are one folder (Hive,
    MSCK and older tools write partition locations without the trailing slash)."""
    return location.rstrip("/") + "/"


def check_under_table(partition: Partition, table_location: str) -> None:
    """PartitionKeyError unless the partition's folder lies under the table's ``LOCATION``: a stray folder
    of a source (``tmp/dt=H/``) must not take a partition that the table's own folder holds."""
    if not table_location:
        raise PartitionKeyError("the table has no LOCATION: none of its partitions can be placed")
    if not partition.location.startswith(as_folder(table_location)):
        raise PartitionKeyError(
            f"partition folder {partition.location} is not under the table's LOCATION "
            f"{as_folder(table_location)}"
        )


def check_repairable(partition: Partition, table_location: str) -> None:
    """PartitionKeyError unless ``MSCK REPAIR TABLE`` registers the partition: Athena lists the table's
    ``LOCATION`` for ``name=value/`` folders right under it, one a partition column in the table's order,
    and skips everything else without a word: other layouts, deeper folders, folder names that are not
    lower case (``userId=1/``, ``DT=.../``), columns starting with ``_``, and values with ``:``."""
    check_under_table(partition, table_location)
    rest = partition.location[len(as_folder(table_location)) :].rstrip("/").split("/")
    expected = [
        f"{column.lower()}={value}" for column, value in zip(partition.columns, partition.values, strict=True)
    ]
    if rest != expected:
        raise PartitionKeyError(
            f"MSCK REPAIR TABLE registers only {'/'.join(expected)}/ folders (column names in lower case) "
            f"right under the table's LOCATION {as_folder(table_location)}, not {partition.location}"
        )
    hidden = [column for column in partition.columns if column.startswith("_")]
    if hidden:
        raise PartitionKeyError(
            f"MSCK REPAIR TABLE skips partition columns starting with '_' ({hidden[0]!r})"
        )
    refused = [value for value in partition.values if ":" in value]
    if refused:
        raise PartitionKeyError(f"MSCK REPAIR TABLE skips partition values with ':' ({refused[0]!r})")
