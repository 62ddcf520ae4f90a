"""What the Lambda runtime does for one invocation, as a script the runtime's interpreter runs in a task
folder (``streamalert_cli.zip_runner`` starts it): import the handler, read the event on stdin, call the
handler with a context, print its result as JSON on a marked line.

Standard library only, and nothing of this package is importable where it runs: the unpacked zip and the
runtime's boto3 are the only paths it adds. A failure prints the traceback (to the logs, as Lambda does)
and a marked line in Lambda's error shape, then exits 1.

Arguments: task folder, libraries folder, handler (``apps.<app>.main.handler``), function name, function
version, memory (MB), timeout (seconds).
"""

from __future__ import annotations

import importlib
import json
import sys
import time
import traceback
import uuid
from typing import Any, NoReturn

RESULT_MARKER = "@@lambda-bootstrap result@@ "
ERROR_MARKER = "@@lambda-bootstrap error@@ "


class LocalLambdaContext:
    """What a Lambda context offers that handlers read: the function's names and the time left of its
    timeout, counted from the invocation (the import before it is the init phase, timed apart)."""

    def __init__(self, function_name: str, function_version: str, memory_mb: int, timeout_seconds: float):
        self.function_name = function_name
        self.function_version = function_version
        self.memory_limit_in_mb = memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _fail(error_type: str, message: str) -> NoReturn:
    traceback.print_exc()
    print(ERROR_MARKER + json.dumps({"errorType": error_type, "errorMessage": message}), flush=True)
    sys.exit(1)


def main(argv: list[str]) -> None:
    task, libraries, handler_name, function_name, version, memory, timeout = argv
    sys.path[:0] = [task, libraries]  # Lambda's order: the task folder first, then the runtime's boto3
    module_name, _, attribute = handler_name.rpartition(".")
    try:
        handler: Any = getattr(importlib.import_module(module_name), attribute)
    except Exception as err:  # Lambda reports any failure of the init phase this way
        _fail("Runtime.ImportModuleError", f"Unable to import module {module_name!r}: {err or type(err)}")
    event = json.loads(sys.stdin.read())
    context = LocalLambdaContext(function_name, version, int(memory), float(timeout))
    try:
        result = handler(event, context)
    except Exception as err:  # the invocation's error, as Lambda returns it to the caller
        _fail(type(err).__name__, str(err) or type(err).__name__)
    print(RESULT_MARKER + json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
