"""Hive columns of a log type of ``logs.json``: the one place that names and types them, read by the
schema's checks (``tables_config``) and by the Terraform context (``streamalert_cli.terraform.tables``).
Plain Python, no marshmallow: the deploy tooling imports it for ``--help`` too."""

from __future__ import annotations

import re
from dataclasses import dataclass

from config_schemas.models import LogType, ValueType

BUILT_IN_TABLE = "alerts"
_NOT_HIVE = re.compile(r"[^a-z0-9_]+")
# The Hive type of each JSON type of logs.json; objects and arrays are read as their JSON text
# (json_extract and friends query them), which the JSON SerDe gives for a string column
HIVE_TYPES = {
    ValueType.STRING: "string",
    ValueType.INTEGER: "bigint",
    ValueType.NUMBER: "double",
    ValueType.BOOLEAN: "boolean",
    ValueType.OBJECT: "string",
    ValueType.ARRAY: "string",
}


@dataclass(frozen=True)
class HiveColumn:
    """A column of a created table: its Hive name and type, and the record key it reads (``key``)."""

    name: str
    type: str
    key: str

    @property
    def mapped(self) -> bool:
        """True when the Hive name is not the key: the JSON SerDe maps it (``mapping.<name>``)."""
        return self.name != self.key


def hive_column_name(key: str) -> str:
    """The Hive column of a record key: lower case (Glue lower-cases names), each run of characters other
    than letters, digits and ``_`` made one ``_``, and ``_`` put before a leading digit:
    ``detail-type`` -> ``detail_type``, ``eventName`` -> ``eventname``, ``2fa`` -> ``_2fa``."""
    name = _NOT_HIVE.sub("_", key.lower())
    return f"_{name}" if name[:1].isdigit() else name


def hive_columns(log_type: LogType) -> tuple[HiveColumn, ...]:
    """The columns of a table created from ``log_type``, in the schema's order."""
    return tuple(HiveColumn(hive_column_name(key), HIVE_TYPES[kind], key) for key, kind in log_type.schema)
