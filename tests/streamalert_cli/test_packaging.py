"""Lambda zips: the same source gives the same bytes; the zip holds what the function imports."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from streamalert.constants import LAMBDA_ARCHITECTURE, LAMBDA_PYTHON_VERSION, LAMBDA_RUNTIME
from streamalert_cli import packaging
from streamalert_cli.packaging import (
    DEFAULT_WHEEL_DIR,
    MSGSPEC,
    REPO_ROOT,
    PackagingError,
    build_package,
    human_size,
    runtime_python,
    unpacked_wheel,
    zip_names,
)
from streamalert_cli.processors import PROCESSORS, by_name
from tests.helpers import s3_body
from tests.imports import tooling_imports

CONFIG_DIR = REPO_ROOT / "tests" / "fixtures" / "terraform" / "configs" / "basic"
APPS = {processor.app: processor for processor in PROCESSORS}
REFRESH = by_name("athena")


def test_the_same_source_gives_the_same_hash(tmp_path: Path) -> None:
    first = build_package(REFRESH, CONFIG_DIR, tmp_path / "one")
    second = build_package(REFRESH, CONFIG_DIR, tmp_path / "two")

    assert first.sha256_hex == second.sha256_hex
    assert first.path.read_bytes() == second.path.read_bytes()
    assert first.key == f"athena_refresh/{first.sha256_hex}.zip"


def test_a_changed_source_gives_another_hash(tmp_path: Path) -> None:
    config_dir = tmp_path / "conf"
    shutil.copytree(CONFIG_DIR, config_dir)
    before = build_package(REFRESH, config_dir, tmp_path / "out")
    lambda_json = config_dir / "lambda.json"
    lambda_json.write_text(lambda_json.read_text().replace('"memory": 128', '"memory": 256'))

    after = build_package(REFRESH, config_dir, tmp_path / "out")

    assert after.sha256_hex != before.sha256_hex


def test_touching_files_does_not_change_the_hash(tmp_path: Path) -> None:
    config_dir = tmp_path / "conf"
    shutil.copytree(CONFIG_DIR, config_dir)
    before = build_package(REFRESH, config_dir, tmp_path / "out")
    for path in config_dir.iterdir():
        path.touch()
        path.chmod(0o600)

    assert build_package(REFRESH, config_dir, tmp_path / "out").sha256_hex == before.sha256_hex


def test_the_zip_holds_the_function_its_framework_config_and_marshmallow(tmp_path: Path) -> None:
    package = build_package(REFRESH, CONFIG_DIR, tmp_path)
    names = zip_names(package.path)

    assert names == sorted(names)
    for expected in (
        "apps/__init__.py",
        "apps/athena_refresh/main.py",
        "streamalert/config.py",
        "config_schemas/models.py",
        "conf/global.json",
        "conf/lambda.json",
        "marshmallow/__init__.py",
    ):
        assert expected in names
    assert not any(
        name.startswith(("apps/rule_processor/", "boto3/", "botocore/", "tests/")) for name in names
    )
    assert not any("__pycache__" in name or name.endswith(".pyc") for name in names)
    assert any(name.startswith("marshmallow-") and name.endswith(".dist-info/METADATA") for name in names)
    assert package.size == package.path.stat().st_size
    assert package.entries == len(names)


def test_entries_carry_fixed_dates_and_modes(tmp_path: Path) -> None:
    package = build_package(REFRESH, CONFIG_DIR, tmp_path)

    with zipfile.ZipFile(package.path) as archive:
        infos = archive.infolist()
    assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {info.external_attr >> 16 for info in infos} == {0o100644}


def test_the_zipped_handler_imports_from_the_zip_alone(tmp_path: Path) -> None:
    package = build_package(REFRESH, CONFIG_DIR, tmp_path)
    with zipfile.ZipFile(package.path) as archive:
        archive.extractall(tmp_path / "task")

    assert (tmp_path / "task" / "apps" / "athena_refresh" / "main.py").is_file()
    assert (tmp_path / "task" / "conf" / "lambda.json").read_bytes() == (
        CONFIG_DIR / "lambda.json"
    ).read_bytes()


def test_an_unknown_app_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PackagingError, match="no function source"):
        build_package(dataclasses.replace(REFRESH, app="no_such_app"), CONFIG_DIR, tmp_path)


@pytest.mark.parametrize(("size", "text"), [(512, "512 B"), (2048, "2.0 KiB"), (3 * 1024 * 1024, "3.0 MiB")])
def test_sizes_are_printed_for_people(size: int, text: str) -> None:
    assert human_size(size) == text


ALL_PROCESSORS = REPO_ROOT / "tests" / "fixtures" / "terraform" / "configs" / "all_processors"


def test_the_rule_processor_zip_holds_the_rules_and_every_config_file(tmp_path: Path) -> None:
    names = zip_names(build_package(APPS["rule_processor"], ALL_PROCESSORS, tmp_path).path)

    for expected in (
        "apps/__init__.py",
        "apps/rule_processor/main.py",
        "rules/__init__.py",
        "rules/cloudtrail/__init__.py",
        "conf/global.json",
        "conf/lambda.json",
        "conf/logs.json",
        "streamalert/rules.py",
        "config_schemas/models.py",
        "marshmallow/__init__.py",
    ):
        assert expected in names
    assert not any(
        name.startswith(("apps/alert_processor/", "apps/athena_refresh/", "tests/")) for name in names
    )


def test_the_alert_processor_zip_holds_its_app_and_no_rules(tmp_path: Path) -> None:
    names = zip_names(build_package(APPS["alert_processor"], ALL_PROCESSORS, tmp_path).path)

    assert {"apps/__init__.py", "apps/alert_processor/main.py", "conf/logs.json", "conf/lambda.json"} <= set(
        names
    )
    assert not any(name.startswith(("rules/", "apps/rule_processor/")) for name in names)


# Each zip's top-level entries: the runtime, the config schemas, its app, its config and its vendored
# dependencies (``<name>-<version>.dist-info`` apart); the rule processor's rules too
ZIP_TOP_LEVEL = {
    "athena_refresh": {"streamalert", "config_schemas", "apps", "conf", "marshmallow", "msgspec"},
    "rule_processor": {"streamalert", "config_schemas", "apps", "conf", "rules", "marshmallow", "msgspec"},
    "alert_processor": {"streamalert", "config_schemas", "apps", "conf", "marshmallow"},
}
TOOLING_PATHS = ("streamalert_cli/", "benchmarks/", "tests/", "scripts/", "tf_templates/", "docs/", "build/")


def dist_info_name(entry: str) -> str | None:
    """``marshmallow`` for ``marshmallow-4.4.0.dist-info``, None for anything else."""
    name, _, rest = entry.partition("-")
    return name if rest.endswith(".dist-info") else None


@pytest.mark.parametrize("app", sorted(ZIP_TOP_LEVEL))
def test_a_zip_holds_the_runtime_its_app_config_and_dependencies_and_no_tooling(
    tmp_path: Path, app: str
) -> None:
    package = build_package(APPS[app], ALL_PROCESSORS, tmp_path)
    names = zip_names(package.path)
    top_level = {name.split("/")[0] for name in names}
    dist_infos = {entry for entry in top_level if dist_info_name(entry)}
    runtime = sorted(
        f"streamalert/{path.relative_to(REPO_ROOT / 'streamalert').as_posix()}"
        for path in (REPO_ROOT / "streamalert").rglob("*.py")
        if "__pycache__" not in path.parts
    )

    assert top_level - dist_infos == ZIP_TOP_LEVEL[app]
    assert {dist_info_name(entry) for entry in dist_infos} == ZIP_TOP_LEVEL[app] & {"marshmallow", "msgspec"}
    assert [name for name in names if name.startswith("streamalert/")] == runtime
    assert {name for name in names if name.startswith("apps/")} == {"apps/__init__.py"} | {
        name for name in names if name.startswith(f"apps/{app}/")
    }
    assert {name for name in names if name.startswith("conf/")} == {
        "conf/global.json",
        "conf/lambda.json",
        "conf/logs.json",
    }
    assert [name for name in names if name.startswith(TOOLING_PATHS) or "streamalert_cli" in name] == []
    with zipfile.ZipFile(package.path) as archive:
        tooling = {
            name: tooling_imports(archive.read(name).decode()) for name in names if name.endswith(".py")
        }
    assert {name: hits for name, hits in tooling.items() if hits} == {}


@pytest.mark.parametrize("app", sorted(ZIP_TOP_LEVEL))
def test_each_handler_imports_from_its_unpacked_zip_with_the_tooling_unimportable(
    tmp_path: Path, app: str
) -> None:
    with zipfile.ZipFile(build_package(APPS[app], ALL_PROCESSORS, tmp_path).path) as archive:
        archive.extractall(tmp_path / "task")
    script = (  # boto3 as the Lambda runtime provides it; the tooling and jinja2 cannot be imported
        "import importlib, json, sys\n"
        "sys.path.insert(0, '.')\n"
        "for name in ('streamalert_cli', 'jinja2', 'moto'):\n"
        "    sys.modules[name] = None\n"
        f"assert callable(importlib.import_module('apps.{app}.main').handler)\n"
        "ours = ('streamalert', 'config_schemas', 'apps', 'rules')\n"
        "print(json.dumps(sorted({getattr(m, '__file__', None) or '' for n, m in list(sys.modules.items())\n"
        "                         if m is not None and n.partition('.')[0] in ours})))"
    )

    result = subprocess.run(
        [sys.executable, "-I", "-c", script],
        cwd=tmp_path / "task",
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    loaded = [Path(name) for name in json.loads(result.stdout)]
    assert Path(tmp_path / "task" / "apps" / app / "main.py") in loaded
    assert all(path.is_relative_to(tmp_path / "task") for path in loaded)


@pytest.mark.parametrize("app", ["rule_processor", "alert_processor"])
def test_the_processor_zips_are_deterministic(tmp_path: Path, app: str) -> None:
    first = build_package(APPS[app], ALL_PROCESSORS, tmp_path / "one")
    second = build_package(APPS[app], ALL_PROCESSORS, tmp_path / "two")

    assert first.path.read_bytes() == second.path.read_bytes()


@pytest.fixture(scope="module")
def msgspec_wheel() -> Path:
    """The pinned msgspec wheel file for the Lambda runtime (fetched once into build/wheels)."""
    unpacked_wheel(MSGSPEC)
    return next(p for p in DEFAULT_WHEEL_DIR.glob("msgspec-*.whl") if packaging._sha256(p) == MSGSPEC.sha256)


def package_index_of(monkeypatch: pytest.MonkeyPatch, folder: Path, *wheels: Path) -> None:
    """pip as on a machine that reaches no package index: it finds only ``wheels``, copied to ``folder``."""
    folder.mkdir()
    for wheel_file in wheels:
        shutil.copy(wheel_file, folder)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(folder))


@pytest.mark.parametrize("app", ["athena_refresh", "rule_processor"])
def test_the_zips_that_read_notifications_hold_msgspec_built_for_the_lambda_runtime(
    tmp_path: Path, app: str
) -> None:
    names = zip_names(build_package(APPS[app], ALL_PROCESSORS, tmp_path).path)

    version = LAMBDA_PYTHON_VERSION.replace(".", "")
    machine = packaging._WHEEL_MACHINES[LAMBDA_ARCHITECTURE]
    assert f"msgspec/_core.cpython-{version}-{machine}-linux-gnu.so" in names
    assert "msgspec-0.22.0.dist-info/METADATA" in names


def test_the_alert_processor_zip_carries_no_msgspec(tmp_path: Path) -> None:
    names = zip_names(build_package(APPS["alert_processor"], ALL_PROCESSORS, tmp_path).path)

    assert not any(name.startswith("msgspec") for name in names)


def test_the_runtime_python_reads_notifications_with_the_vendored_msgspec(tmp_path: Path) -> None:
    runtime = runtime_python()
    if runtime is None:
        pytest.skip(f"no {LAMBDA_RUNTIME} on PATH to run the zip with")
    package = build_package(REFRESH, CONFIG_DIR, tmp_path)
    with zipfile.ZipFile(package.path) as archive:
        archive.extractall(tmp_path / "task")
    script = (  # the standard path refuses to run: the body must be read by msgspec's
        "import json, sys\n"
        "from streamalert import s3_events\n"
        "def refuse(body): raise AssertionError('read the standard way')\n"
        "s3_events._read_standard = refuse\n"
        "objects = s3_events.read_notification(sys.stdin.read()).objects\n"
        "print(json.dumps([s3_events._s3_fast is not None, [[o.bucket, o.key] for o in objects]]))"
    )

    result = subprocess.run(
        [runtime, "-I", "-S", "-c", f"import sys; sys.path.insert(0, '.')\n{script}"],  # the zip alone
        cwd=tmp_path / "task",
        input=s3_body(("acme-data", "logs/dt=2024-01-01-05/x.json")),
        capture_output=True,
        text=True,
        check=True,
    )

    assert json.loads(result.stdout) == [True, [["acme-data", "logs/dt=2024-01-01-05/x.json"]]]


def test_a_wheel_put_in_the_wheel_folder_is_used_without_a_package_index(
    msgspec_wheel: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package_index_of(monkeypatch, tmp_path / "no-index")
    wheel_dir = tmp_path / "wheels"
    wheel_dir.mkdir()
    shutil.copy(msgspec_wheel, wheel_dir)

    package = build_package(REFRESH, CONFIG_DIR, tmp_path / "out", wheel_dir=wheel_dir)

    assert (
        package.path.read_bytes() == build_package(REFRESH, CONFIG_DIR, tmp_path / "again").path.read_bytes()
    )


def test_without_a_package_index_or_the_wheel_the_build_says_how_to_get_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package_index_of(monkeypatch, tmp_path / "no-index")
    wheel_dir = tmp_path / "wheels"

    with pytest.raises(PackagingError, match=r"cannot fetch the wheel of msgspec==.*put that wheel file in"):
        build_package(REFRESH, CONFIG_DIR, tmp_path / "out", wheel_dir=wheel_dir)
    assert not (tmp_path / "out").exists()


def test_a_wheel_that_is_not_the_pinned_one_is_refused(
    msgspec_wheel: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package_index_of(monkeypatch, tmp_path / "index", msgspec_wheel)  # pip fetches the real wheel
    mispinned = dataclasses.replace(REFRESH, wheels=(dataclasses.replace(MSGSPEC, sha256="0" * 64),))

    with pytest.raises(PackagingError, match=r"not the pinned wheel \(sha256 0{64}\)"):
        build_package(mispinned, CONFIG_DIR, tmp_path / "out", wheel_dir=tmp_path / "wheels")
