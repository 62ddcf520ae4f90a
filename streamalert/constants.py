"""Names shared by every function, template and script: defined once, imported everywhere."""

from __future__ import annotations

# Environment variables
ENV_CONFIG_DIR = "STREAMALERT_CONFIG_DIR"
# Long-poll wait of each SQS receive of the refresh function, 0 to 2 seconds (default 1)
ENV_RECEIVE_WAIT_SECONDS = "STREAMALERT_RECEIVE_WAIT_SECONDS"

# The placeholder that config values may hold, replaced by account.prefix
PREFIX_PLACEHOLDER = "<prefix>"

# Defaults documented for users
DEFAULT_DATABASE = "streamalert"
DEFAULT_RESULTS_BUCKET = f"{PREFIX_PLACEHOLDER}-streamalert-athena-results"
DEFAULT_REFRESH_INTERVAL = "rate(10 minutes)"

# AWS service limits the code works within
SQS_MAX_BATCH = 10
SQS_MAX_VISIBILITY_SECONDS = 12 * 60 * 60
GLUE_MAX_PARTITIONS_PER_BATCH = 100
ATHENA_MAX_QUERY_BYTES = 262_144

# Keys that S3 writes for console-made "folders": nothing to register
S3_FOLDER_SUFFIX = "_$folder$"


def athena_function_name(prefix: str) -> str:
    return f"{prefix}_streamalert_athena_partition_refresh"


def athena_queue_name(prefix: str) -> str:
    return f"{prefix}_streamalert_athena_data_bucket_notifications"


def alerts_bucket_name(prefix: str) -> str:
    return f"{prefix}.streamalerts"


def alerts_queue_name(prefix: str) -> str:
    return f"{prefix}_streamalert_alerts"


def athena_dead_letter_queue_name(prefix: str) -> str:
    return f"{athena_queue_name(prefix)}_dlq"


# CloudWatch metrics the refresh function writes in its logs (embedded metric format)
ATHENA_METRICS_NAMESPACE = "StreamAlert/AthenaPartitionRefresh"
