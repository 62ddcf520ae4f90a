"""The refresh block's ``tables``: what each table named in ``refresh_type`` is, besides the built-in
``alerts`` table.

```json
"tables": {
  "cloudtrail": {"log": "cloudtrail:events"},
  "flows": {"existing": true, "layout": "hive", "partition_keys": ["account", "dt"]},
  "events": {"log": "cloudwatch:events", "format": "parquet",
             "projection": {"source": "acme-firehose-data/events", "start": "2024-01-01"}}
}
```
A table with ``log`` is created (and kept by destroy) by the deploy from that log type of ``logs.json``;
one with ``"existing": true`` is checked by the deploy before planning and never changed. ``layout``
(``firehose``, the default, or ``hive``) says how its objects are foldered, which gives its partition keys.
A ``projection`` table has no refresh route: Athena computes its hourly partitions.

The Hive columns a log type makes are ``config_schemas.hive``'s.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping, Sequence
from typing import Any

from marshmallow import ValidationError, post_load, validates_schema

from config_schemas.fields import (
    StrictBoolean,
    StrictField,
    StrictList,
    StrictNested,
    StrictSchema,
    StrictString,
    describe,
    identifier_problem,
    parse_source,
)
from config_schemas.hive import BUILT_IN_TABLE, hive_column_name, hive_columns
from config_schemas.models import (
    LogType,
    Projection,
    RefreshType,
    TableDeclaration,
    TableFormat,
    TableLayout,
    TableRoute,
    ValueType,
)
from streamalert.partitions import FIREHOSE_COLUMN

TABLES_KEY = "tables"
THREE_WAYS = (
    f'name the built-in table "{BUILT_IN_TABLE}", declare it in {TABLES_KEY} with "log": "<a log type of '
    f'logs.json>" for the deploy to create it, or with "existing": true for a table that exists'
)
_PARTITION_KEY = re.compile(r"[a-z][a-z0-9_]{0,127}")
_FORMATS = ", ".join(f'"{kind.value}"' for kind in TableFormat)
_LAYOUTS = ", ".join(f'"{kind.value}"' for kind in TableLayout)


def column_problems(declaration: TableDeclaration, log_type: LogType) -> list[str]:
    """Why the table cannot be created from ``log_type``: two keys that make one column, a column that is
    a partition key, and for Parquet (read by name, no mapping) keys Hive cannot hold or whose nested type
    is not known."""
    problems: list[str] = []
    seen: dict[str, str] = dict.fromkeys(declaration.partition_keys, "a partition key")
    for column in hive_columns(log_type):
        earlier = seen.get(column.name)
        if earlier is not None:
            problems.append(
                f'key "{column.key}" of {log_type.name} makes column {column.name}, which is already '
                f"{earlier}: rename a key in logs.json, or declare the table existing"
            )
        seen.setdefault(column.name, f'the column of key "{column.key}"')
    if declaration.format is TableFormat.PARQUET:
        for key, kind in log_type.schema:
            if hive_column_name(key) != key.lower():
                problems.append(
                    f'key "{key}" of {log_type.name} is no Hive column name and Parquet columns are read '
                    'by name: use "format": "json", or declare the table existing'
                )
            if kind in (ValueType.OBJECT, ValueType.ARRAY):
                problems.append(
                    f'key "{key}" of {log_type.name} is an {kind.value}, whose Parquet type logs.json does '
                    "not give: declare the table existing (created with its real types)"
                )
    return problems


def _parse_partition_key(name: Any) -> str:
    if isinstance(name, str) and _PARTITION_KEY.fullmatch(name):
        return name
    raise ValueError(
        "a partition key is lowercase letters, digits and underscores, starting with a letter (Glue "
        f"lower-cases names; MSCK skips names starting with _), got {describe(name)}"
    )


class StartDate(StrictField[datetime.date]):
    """A ``YYYY-MM-DD`` date."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("must be a date, YYYY-MM-DD", **kwargs)

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> datetime.date:
        if isinstance(value, str) and len(value) == 10:
            try:
                return datetime.date.fromisoformat(value)
            except ValueError:
                pass
        raise self.refuse(value)


class SourceField(StrictField[Any]):
    """A source, ``bucket`` or ``bucket/prefix``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("must be a source, bucket or bucket/prefix", **kwargs)

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> Any:
        try:
            return parse_source(value)
        except ValueError as err:
            raise ValidationError(str(err)) from err


class ProjectionSchema(StrictSchema):
    """``projection``: the one source of the table's objects, and the first day Athena projects."""

    source = SourceField(required=True)
    start = StartDate(required=True)

    @post_load
    def make_projection(self, data: dict[str, Any], **kwargs: Any) -> Projection:
        return Projection(**data)


def _choice(enum_type: Any, names: str) -> StrictString:
    values = tuple(kind.value for kind in enum_type)

    def problem(value: str) -> str | None:
        return None if value in values else f"must be one of {names}, got {describe(value)}"

    return StrictString(f"must be one of {names}", check=problem)


class TableSchema(StrictSchema):
    """One table of ``tables``: ``log`` (created) or ``existing`` (checked), its layout and format."""

    log = StrictString("must be the name of a log type of logs.json", load_default=None)
    existing = StrictBoolean(load_default=False)
    layout = _choice(TableLayout, _LAYOUTS)
    partition_keys = StrictList(
        "must be an array of partition key names", _parse_partition_key, unique=True, load_default=None
    )
    format = _choice(TableFormat, _FORMATS)
    projection = StrictNested(ProjectionSchema, load_default=None)

    @validates_schema(skip_on_field_errors=True)
    def check_kind_and_layout(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors: dict[str, list[str]] = {}
        existing, log = data["existing"], data["log"]
        if existing == (log is not None):
            both = "both" if existing else "neither"
            errors.setdefault("_schema", []).append(
                f'has {both} "log" and "existing": give "log" (a log type of logs.json) for a table the '
                'deploy creates, or "existing": true for a table that exists'
            )
        if existing and "format" in data:
            errors.setdefault("format", []).append(
                "is for a table the deploy creates: an existing table keeps its own format"
            )
        if existing and data["projection"] is not None:
            errors.setdefault("projection", []).append(
                "is set by the deploy on a table it creates: it never changes an existing table (set the "
                "projection properties on it yourself and leave it out of lambda.json)"
            )
        layout = _layout(data)
        keys = data["partition_keys"]
        if layout is None and keys is not None:
            errors.setdefault("partition_keys", []).append(
                'come with a layout: add "layout": "hive" (name=value/ folders) for these keys'
            )
        if layout is TableLayout.FIREHOSE and keys is not None and tuple(keys) != (FIREHOSE_COLUMN,):
            errors.setdefault("partition_keys", []).append(
                f'the firehose layout (YYYY/MM/DD/HH/ folders) gives one partition key, "{FIREHOSE_COLUMN}": '
                f'leave partition_keys out, or use "layout": "hive" for name=value/ folders'
            )
        if layout is TableLayout.HIVE and not keys:
            errors.setdefault("partition_keys", []).append(
                'is required by the hive layout: the names of its name=value/ folders, in order, e.g. ["dt"]'
            )
        hourly = tuple(keys or (FIREHOSE_COLUMN,)) == (FIREHOSE_COLUMN,)
        if data["projection"] is not None and not hourly:
            errors.setdefault("projection", []).append(
                f'projects tables whose one partition key is the hour "{FIREHOSE_COLUMN}", not '
                f"{', '.join(keys or ())}: leave projection out and map the table's sources in refresh_type"
            )
        if errors:
            raise ValidationError(errors)

    @post_load
    def make_declaration(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        layout = _layout(data)
        keys = data["partition_keys"]
        return {
            "log": data["log"],
            "layout": layout,
            "partition_keys": tuple(keys) if keys else (FIREHOSE_COLUMN,) if layout else (),
            "format": TableFormat(data.get("format", TableFormat.JSON.value)),
            "projection": data["projection"],
        }


def _layout(data: Mapping[str, Any]) -> TableLayout | None:
    """The declared layout; a created table's default is firehose, an existing one's is not checked."""
    if "layout" in data:
        return TableLayout(data["layout"])
    return None if data["existing"] else TableLayout.FIREHOSE


class TablesField(StrictField[tuple[TableDeclaration, ...]]):
    """``tables``: table names mapped to their declarations, loaded as ``TableDeclaration`` entries."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            'must be an object mapping table names to {"log": ...} or {"existing": true}', **kwargs
        )

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> tuple[TableDeclaration, ...]:
        if not isinstance(value, Mapping):
            raise self.refuse(value)
        declarations: list[TableDeclaration] = []
        errors: dict[str, Any] = {}
        for name, block in value.items():
            problem = identifier_problem(name, "table")
            if problem is None and name == BUILT_IN_TABLE:
                problem = (
                    f'"{BUILT_IN_TABLE}" is the built-in alerts table: the deploy creates it, leave it out'
                )
            if not isinstance(block, Mapping):
                errors[name] = [
                    problem or f'must be a JSON object like {{"log": ...}}, got {describe(block)}'
                ]
                continue
            try:
                loaded = TableSchema().load(block)
            except ValidationError as err:
                errors[name] = err.messages_dict
                if problem:
                    errors[name].setdefault("_schema", []).append(problem)
                continue
            if problem:
                errors[name] = [problem]
                continue
            declarations.append(TableDeclaration(name=name, **loaded))
        if errors:
            raise ValidationError(errors)
        return tuple(declarations)


def route_problems(
    routes: Sequence[TableRoute], declarations: Sequence[TableDeclaration]
) -> tuple[dict[tuple[str, str], list[str]], dict[str, list[str]]]:
    """The problems between ``refresh_type`` and ``tables``: by (refresh type, source) for a routed table
    that is none of the three kinds or whose layout its refresh type cannot register, and by table for a
    declaration no route feeds, a projected table that is also routed, or a created table fed by more
    than one source (its LOCATION is one folder)."""
    by_route: dict[tuple[str, str], list[str]] = {}
    by_table: dict[str, list[str]] = {}
    declared = {declaration.name: declaration for declaration in declarations}
    for route in routes:
        where = (route.refresh_type.value, str(route.source))
        declaration = declared.get(route.table)
        if declaration is None:
            if route.table != BUILT_IN_TABLE:
                by_route.setdefault(where, []).append(
                    f'table "{route.table}" is not a table the deploy knows: {THREE_WAYS}'
                )
            continue
        if declaration.projection is not None:
            continue  # told once, by table
        if route.refresh_type is RefreshType.REPAIR_HIVE_TABLE and declaration.layout is TableLayout.FIREHOSE:
            by_route.setdefault(where, []).append(
                f'table "{route.table}" has the firehose layout (YYYY/MM/DD/HH/ folders), which MSCK REPAIR '
                "TABLE does not read: use add_glue_partition or add_hive_partition, or the hive layout"
            )
    for declaration in declarations:
        fed_by = [route for route in routes if route.table == declaration.name]
        if declaration.projection is not None:
            if fed_by:
                by_table.setdefault(declaration.name, []).append(
                    "is projected (Athena computes its partitions): remove it from refresh_type "
                    f"({', '.join(str(route.source) for route in fed_by)})"
                )
        elif not fed_by and not declaration.existing:
            by_table.setdefault(declaration.name, []).append(
                "is created over its source's folder, but no source feeds it: map a source to it in "
                "refresh_type, give it a projection, or remove it"
            )
        elif not declaration.existing and len(fed_by) > 1:
            by_table.setdefault(declaration.name, []).append(
                "is created over one folder, its LOCATION, but is fed by "
                f"{', '.join(str(route.source) for route in fed_by)}: map one source to it, or declare "
                "the table existing"
            )
    return by_route, by_table
