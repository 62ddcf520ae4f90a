"""The Glue tables the refresh module creates: the built-in ``alerts`` table and one a ``tables`` entry with
a ``log`` (``config_schemas.tables_config``), each a ``TableContext`` that one loop of
``athena_refresh.tf.j2`` renders. Existing tables are not here: the deploy never changes them
(``streamalert_cli.preflight`` checks them)."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from config_schemas.hive import BUILT_IN_TABLE, hive_columns
from config_schemas.models import (
    AthenaRefreshConfig,
    LogsConfig,
    Source,
    TableDeclaration,
    TableFormat,
    TableLayout,
)
from streamalert.constants import ALERTS_KEY_PREFIX
from streamalert.partitions import FIREHOSE_COLUMN

ALERTS_TABLE = BUILT_IN_TABLE
# The columns of an alert object as the alert processor writes it (streamalert/alerts.py, one JSON object
# a file); the JSON SerDe gives the nested ``record`` object as its JSON text
ALERTS_TABLE_COLUMNS = (
    ("id", "string"),
    ("rule_name", "string"),
    ("log_type", "string"),
    ("record", "string"),
    ("created", "string"),
    ("outputs", "array<string>"),
)
JSON_SERDE = "org.openx.data.jsonserde.JsonSerDe"
PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
# The last hour Athena projects: the hour of the query
_PROJECTION_END = "NOW"


@dataclass(frozen=True)
class Column:
    name: str
    type: str


@dataclass(frozen=True)
class StorageFormat:
    """How the objects are read: Hive's input and output formats, and the SerDe with its parameters."""

    classification: str
    input_format: str
    output_format: str
    serde: str
    serde_parameters: Mapping[str, str] = field(default_factory=dict)


JSON_STORAGE = StorageFormat(
    classification="json",
    input_format="org.apache.hadoop.mapred.TextInputFormat",
    output_format="org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
    serde=JSON_SERDE,
    serde_parameters={"ignore.malformed.json": "true"},
)
PARQUET_STORAGE = StorageFormat(
    classification="parquet",
    input_format="org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    output_format="org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    serde=PARQUET_SERDE,
    serde_parameters={"serialization.format": "1"},
)


@dataclass(frozen=True)
class TableContext:
    """One ``aws_glue_catalog_table`` (its resource is named after the table): ``parameters`` are the
    table's own (classification, projection), ``storage`` its formats."""

    name: str
    location: str
    columns: tuple[Column, ...]
    partition_keys: tuple[Column, ...]
    storage: StorageFormat
    parameters: Mapping[str, str]

    @property
    def resource(self) -> str:
        """Its Terraform address in the module (destroy keeps it: ``prevent_destroy``)."""
        return f"aws_glue_catalog_table.{self.name}"


def table_contexts(
    block: AthenaRefreshConfig, logs: LogsConfig, alerts_bucket: str
) -> tuple[TableContext, ...]:
    """The ``alerts`` table, then each table the config asks the deploy to create, in config order."""
    log_types = {log_type.name: log_type for log_type in logs.log_types}
    created = []
    for declaration in block.declared_tables:
        if declaration.log is None:
            continue
        source = _source_of(block, declaration)
        columns = hive_columns(log_types[declaration.log])  # validated: the log type exists
        storage = PARQUET_STORAGE if declaration.format is TableFormat.PARQUET else JSON_STORAGE
        mapped = {f"mapping.{c.name}": c.key for c in columns if c.mapped}
        if mapped and storage is JSON_STORAGE:
            # keys are matched as written; each column whose name is not its key is mapped to it
            parameters = {**storage.serde_parameters, "case.insensitive": "false", **mapped}
            storage = replace(storage, serde_parameters=parameters)
        location = source_location(source)
        table_parameters = {"classification": storage.classification, "EXTERNAL": "TRUE"}
        if declaration.projection is not None:
            table_parameters.update(
                projection_parameters(declaration, location, declaration.projection.start)
            )
        created.append(
            TableContext(
                name=declaration.name,
                location=location,
                columns=tuple(Column(c.name, c.type) for c in columns),
                partition_keys=tuple(Column(key, "string") for key in declaration.partition_keys),
                storage=storage,
                parameters=table_parameters,
            )
        )
    return (alerts_table(alerts_bucket), *created)


def alerts_table(alerts_bucket: str) -> TableContext:
    """The built-in table of the alert objects, ``alerts/dt=YYYY-MM-DD-HH/`` in the alerts bucket."""
    return TableContext(
        name=ALERTS_TABLE,
        location=f"s3://{alerts_bucket}/{ALERTS_KEY_PREFIX}/",
        columns=tuple(Column(name, kind) for name, kind in ALERTS_TABLE_COLUMNS),
        partition_keys=(Column(FIREHOSE_COLUMN, "string"),),
        storage=JSON_STORAGE,
        parameters={"classification": JSON_STORAGE.classification, "EXTERNAL": "TRUE"},
    )


def source_location(source: Source) -> str:
    """The table LOCATION of a source: its folder."""
    return f"s3://{source.bucket}/{source.filter_prefix}"


def projection_parameters(
    declaration: TableDeclaration, location: str, start: datetime.date
) -> dict[str, str]:
    """Athena's partition projection of the hour ``dt``: in the firehose layout the value is the folder
    path itself (``2024/01/31/05``), in the hive layout the ``dt=2024-01-31-05`` folder's value."""
    if declaration.layout is TableLayout.FIREHOSE:
        date_format, template = "yyyy/MM/dd/HH", f"{location}${{{FIREHOSE_COLUMN}}}/"
        first = f"{start:%Y/%m/%d}/00"
    else:
        date_format = "yyyy-MM-dd-HH"
        template = f"{location}{FIREHOSE_COLUMN}=${{{FIREHOSE_COLUMN}}}/"
        first = f"{start:%Y-%m-%d}-00"
    column = f"projection.{FIREHOSE_COLUMN}"
    return {
        "projection.enabled": "true",
        f"{column}.type": "date",
        f"{column}.format": date_format,
        f"{column}.range": f"{first},{_PROJECTION_END}",
        f"{column}.interval": "1",
        f"{column}.interval.unit": "HOURS",
        "storage.location.template": template,
    }


def _source_of(block: AthenaRefreshConfig, declaration: TableDeclaration) -> Source:
    """The one source of a created table: its projection's, or the one route that feeds it (validated)."""
    if declaration.projection is not None:
        return declaration.projection.source
    return next(route.source for route in block.routes if route.table == declaration.name)
