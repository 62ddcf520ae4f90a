"""A handler run from its zip as Lambda runs it: the runtime's interpreter, the zip and boto3 alone on its
path; what the zip lacks fails the run, naming it."""

from __future__ import annotations

import json
import time
import zipfile
from pathlib import Path

import pytest

from streamalert_cli.zip_runner import (
    LambdaFunction,
    LambdaRuntime,
    ZipRunError,
    emulator_environment,
    run_zip,
)

ALERT_HANDLER = LambdaFunction("acme_streamalert_alert_processor", "apps.alert_processor.main.handler", 10)
# No handler here calls AWS; a closed port if one did
NO_AWS = emulator_environment("http://127.0.0.1:9", "us-east-1")


def without(source: Path, destination: Path, prefix: str) -> Path:
    """A copy of the zip without the entries whose names start with ``prefix``."""
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(destination, "w") as copy:
        kept = [info for info in original.infolist() if not info.filename.startswith(prefix)]
        assert len(kept) < len(original.infolist()), f"the zip has no {prefix}"
        for info in kept:
            copy.writestr(info, original.read(info))
    return destination


def handler_zip(path: Path, source: str) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("probe.py", source)
    return path


def test_a_zip_built_by_the_packaging_returns_the_handlers_result(
    runtime: LambdaRuntime, alert_zip: Path, tmp_path: Path
) -> None:
    log_path = tmp_path / "alert-handler.log"

    run = run_zip(
        alert_zip, ALERT_HANDLER, {}, runtime=runtime, aws_environment=NO_AWS, step="alert handler",
        log_path=log_path,
    )  # fmt: skip

    assert run.result == {"batchItemFailures": []}
    assert "Not an SQS event" in run.output
    assert log_path.read_text() == run.output


@pytest.mark.parametrize(
    ("missing", "named"),
    [
        ("apps/alert_processor/processor.py", "No module named 'apps.alert_processor.processor'"),
        ("marshmallow/", "No module named 'marshmallow'"),  # a vendored dependency
    ],
)
def test_a_zip_missing_a_module_fails_naming_it(
    runtime: LambdaRuntime, alert_zip: Path, tmp_path: Path, missing: str, named: str
) -> None:
    broken = without(alert_zip, tmp_path / "alert_processor.zip", missing)

    with pytest.raises(ZipRunError, match=r"Runtime\.ImportModuleError") as raised:
        run_zip(
            broken, ALERT_HANDLER, {}, runtime=runtime, aws_environment=NO_AWS, step="alert handler",
            log_path=tmp_path / "log",
        )  # fmt: skip

    message = str(raised.value)
    assert message.startswith(f"alert handler failed: {broken} (apps.alert_processor.main.handler): ")
    assert named in message


def test_a_zip_whose_config_file_is_absent_fails_naming_it(
    runtime: LambdaRuntime, alert_zip: Path, tmp_path: Path
) -> None:
    broken = without(alert_zip, tmp_path / "alert_processor.zip", "conf/lambda.json")

    with pytest.raises(ZipRunError, match=r"ConfigFileError: .*lambda\.json"):
        run_zip(
            broken, ALERT_HANDLER, {}, runtime=runtime, aws_environment=NO_AWS, step="alert handler",
            log_path=tmp_path / "log",
        )  # fmt: skip


def test_a_hanging_handler_is_cut_by_the_timeout(runtime: LambdaRuntime, tmp_path: Path) -> None:
    source = "import time\ndef handler(event, context):\n    print('waiting', flush=True)\n    time.sleep(60)"
    hanging = handler_zip(tmp_path / "hang.zip", source)
    started = time.monotonic()

    with pytest.raises(ZipRunError, match=r"hang\.zip \(probe\.handler\) timed out after 2s.*waiting"):
        run_zip(
            hanging, LambdaFunction("f", "probe.handler", timeout=1), {}, runtime=runtime,
            aws_environment=NO_AWS, step="probe", log_path=tmp_path / "log", init_seconds=1,
        )  # fmt: skip
    assert time.monotonic() - started < 10


def test_the_handler_sees_the_zip_the_runtime_boto3_and_the_function_environment_alone(
    runtime: LambdaRuntime, tmp_path: Path
) -> None:
    source = (
        "import importlib.util, os, sys, boto3\n"
        "def handler(event, context):\n"
        "    return {\n"
        "        'event': event, 'function': context.function_name,\n"
        "        'remaining': context.get_remaining_time_in_millis(),\n"
        "        'importable': [n for n in ('streamalert_cli', 'moto') if importlib.util.find_spec(n)],\n"
        "        'boto3': boto3.__file__, 'level': os.environ.get('LOG_LEVEL'),\n"
        "        'endpoint': os.environ.get('AWS_ENDPOINT_URL'), 'home': os.environ.get('HOME'),\n"
        "    }\n"
    )
    function = LambdaFunction("probe", "probe.handler", timeout=30, environment={"LOG_LEVEL": "debug"})

    run = run_zip(
        handler_zip(tmp_path / "probe.zip", source), function, {"Records": []}, runtime=runtime,
        aws_environment=NO_AWS, step="probe", log_path=tmp_path / "log",
    )  # fmt: skip

    assert run.result["event"] == {"Records": []}
    assert run.result["function"] == "probe"
    assert 25_000 < run.result["remaining"] <= 30_000
    assert run.result["importable"] == []
    assert Path(run.result["boto3"]).is_relative_to(runtime.libraries)
    assert (run.result["level"], run.result["endpoint"]) == ("debug", "http://127.0.0.1:9")
    assert run.result["home"] is None  # nothing of this process's environment


def test_a_handler_that_exits_without_a_result_fails(runtime: LambdaRuntime, tmp_path: Path) -> None:
    source = "import os\ndef handler(event, context):\n    print('bye', flush=True)\n    os._exit(3)\n"

    with pytest.raises(ZipRunError, match=r"handler\): exited with 3 and no result; last output: bye"):
        run_zip(
            handler_zip(tmp_path / "probe.zip", source), LambdaFunction("f", "probe.handler", 5), {},
            runtime=runtime, aws_environment=NO_AWS, step="probe", log_path=tmp_path / "log",
        )  # fmt: skip


def test_a_handler_returning_nothing_has_a_null_result(runtime: LambdaRuntime, tmp_path: Path) -> None:
    source = "def handler(event, context):\n    print('{\"log\": 1}')\n    return None\n"

    run = run_zip(
        handler_zip(tmp_path / "probe.zip", source), LambdaFunction("f", "probe.handler", 5), {},
        runtime=runtime, aws_environment=NO_AWS, step="probe", log_path=tmp_path / "log",
    )  # fmt: skip

    assert run.result is None
    assert json.loads(run.output.splitlines()[0]) == {"log": 1}
