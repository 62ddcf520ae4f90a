"""The names of the files of a config directory. Standard library only: the processor registry, and with it
every script's ``--help``, reads them before marshmallow is installed."""

from __future__ import annotations

GLOBAL_FILE = "global.json"
LAMBDA_FILE = "lambda.json"
LOGS_FILE = "logs.json"
CONFIG_FILES = (GLOBAL_FILE, LAMBDA_FILE)
# Read when present: a deployment without a rule processor needs no log types
OPTIONAL_CONFIG_FILES = (LOGS_FILE,)
