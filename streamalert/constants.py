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
# Bytes of one SendMessageBatch call (the total of its bodies): the limit every queue accepts
SQS_MAX_BATCH_BYTES = 262_144
SQS_MAX_VISIBILITY_SECONDS = 12 * 60 * 60
# A standard queue holds at most this many messages in flight (received, not yet deleted or visible again)
SQS_MAX_IN_FLIGHT = 120_000
GLUE_MAX_PARTITIONS_PER_BATCH = 100
GLUE_MAX_PARTITIONS_PER_GET = 1000
ATHENA_MAX_QUERY_BYTES = 262_144

# Keys that S3 writes for console-made "folders": nothing to register
S3_FOLDER_SUFFIX = "_$folder$"

# Where alerts go: the alert processor's outputs, by the names rules and lambda.json use. The alerts
# bucket output is always on: it is what makes every alert searchable in Athena.
ALERTS_S3_OUTPUT = "s3:alerts"
LOG_OUTPUT = "log"
ALERT_OUTPUTS = (ALERTS_S3_OUTPUT, LOG_OUTPUT)
# Alert objects are written under alerts/dt=YYYY-MM-DD-HH/<alert id>.json of the alerts bucket
ALERTS_KEY_PREFIX = "alerts"


def lambda_log_group_name(function_name: str) -> str:
    """The log group Lambda writes a function's logs to."""
    return f"/aws/lambda/{function_name}"


def athena_function_name(prefix: str) -> str:
    return f"{prefix}_streamalert_athena_partition_refresh"


def athena_queue_name(prefix: str) -> str:
    return f"{prefix}_streamalert_athena_data_bucket_notifications"


def alerts_bucket_name(prefix: str) -> str:
    return f"{prefix}.streamalerts"


def alerts_queue_name(prefix: str) -> str:
    return f"{prefix}_streamalert_alerts"


def alerts_dead_letter_queue_name(prefix: str) -> str:
    return f"{alerts_queue_name(prefix)}_dlq"


def rule_processor_function_name(prefix: str) -> str:
    return f"{prefix}_streamalert_rule_processor"


def rule_processor_dead_letter_queue_name(prefix: str) -> str:
    """Where Lambda puts the S3 events of invocations that failed every retry (on-failure destination)."""
    return f"{rule_processor_function_name(prefix)}_dlq"


def alert_processor_function_name(prefix: str) -> str:
    return f"{prefix}_streamalert_alert_processor"


def athena_dead_letter_queue_name(prefix: str) -> str:
    return f"{athena_queue_name(prefix)}_dlq"


# CloudWatch metrics the refresh function writes in its logs (embedded metric format)
ATHENA_METRICS_NAMESPACE = "StreamAlert/AthenaPartitionRefresh"


# Deployment: what scripts/deploy and the Terraform templates name
ENV_TF_PLUGIN_DIR = "STREAMALERT_TF_PLUGIN_DIR"
LAMBDA_ALIAS = "production"
LAMBDA_LOG_RETENTION_DAYS = 14
QUEUE_RETENTION_SECONDS = 14 * 24 * 60 * 60
DEAD_LETTER_MAX_RECEIVE_COUNT = 5
ATHENA_RESULTS_EXPIRATION_DAYS = 30
DEFAULT_TERRAFORM_STATE_KEY = "streamalert/terraform.tfstate"


def source_bucket_name(prefix: str) -> str:
    """Where scripts/deploy uploads the Lambda zips (created by the deploy itself, never destroyed)."""
    return f"{prefix}-streamalert-source"


def terraform_state_bucket_name(prefix: str) -> str:
    return f"{prefix}-streamalert-terraform-state"


def athena_workgroup_name(prefix: str) -> str:
    return f"{prefix}_streamalert"


# The Lambda runtime every function is deployed on (boto3 comes with it), and its architecture: the
# compiled wheels vendored into the zips (streamalert_cli/packaging.py) are built for both
LAMBDA_PYTHON_VERSION = "3.12"
LAMBDA_RUNTIME = f"python{LAMBDA_PYTHON_VERSION}"
LAMBDA_ARCHITECTURE = "x86_64"


def alarms_topic_name(prefix: str) -> str:
    """The SNS topic every alarm of the deployment notifies (its subscriptions are the user's)."""
    return f"{prefix}_streamalert_alarms"
