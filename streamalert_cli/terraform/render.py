"""Render the Terraform of a deployment into a build directory: same config, byte-identical files.

Jinja runs with ``StrictUndefined`` and no autoescape; a finalizer refuses any value that did not go through
the ``hcl`` quoting filter (or ``ident`` for names), so nothing reaches a template raw. The blocks every
module shares are macros of ``tf_templates/_macros.tf.j2``: what a macro returns is template text whose
every value went through that finalizer already, so it is placed as it is.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

import jinja2

from config_schemas.models import Config
from streamalert.exceptions import StreamAlertError
from streamalert_cli.prerequisites import TERRAFORM_REQUIRED_VERSION
from streamalert_cli.processors import Processor
from streamalert_cli.terraform import context
from streamalert_cli.terraform.hcl import Hcl, hcl, ident

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATES_DIR = REPO_ROOT / "tf_templates"
ROOT_FILE = "main.tf"
SHARED_TEMPLATE = "shared.tf.j2"


class RenderError(StreamAlertError):
    """A template or a build directory that cannot be used."""


class _MacroOutputContext(jinja2.runtime.Context):
    """The template context: a macro's output counts as quoted (each value in it was, inside the macro)."""

    def call(self, obj: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        result = super().call(obj, *args, **kwargs)
        return Hcl(result) if isinstance(obj, jinja2.runtime.Macro) else result


def _refuse_unquoted(value: object) -> object:
    if isinstance(value, Hcl):
        return value
    raise RenderError(f"a value reached a template without the hcl filter: {value!r}")


def _checked(quote: Callable[[object], Hcl]) -> Callable[[object], Hcl]:
    """A filter that lets StrictUndefined raise (naming the missing value) before quoting."""

    def checked(value: object) -> Hcl:
        if isinstance(value, jinja2.Undefined):
            str(value)  # StrictUndefined raises UndefinedError here
        return quote(value)

    return checked


def environment(templates_dir: Path = TEMPLATES_DIR) -> jinja2.Environment:
    """The Jinja environment of every template: strict, unescaped, quoted by filters."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_refuse_unquoted,
    )
    env.context_class = _MacroOutputContext
    env.filters["hcl"] = _checked(hcl)
    env.filters["ident"] = _checked(ident)
    # The oldest terraform the templates work with: the deploy checks the same minimum before running it
    env.globals["terraform_required_version"] = TERRAFORM_REQUIRED_VERSION
    return env


def module_contexts(
    config: Config, processors: Sequence[Processor], target: context.DeployTarget
) -> tuple[context.ModuleContext, ...]:
    """The context of every processor's module for the target, in the order given."""
    return tuple(processor.module_context(config, target) for processor in processors)


def render_files(
    config: Config,
    target: context.DeployTarget,
    processors: Sequence[Processor],
    templates_dir: Path = TEMPLATES_DIR,
) -> dict[Path, str]:
    """Every file of the root module and its child modules, by path relative to the build directory."""
    env = environment(templates_dir)
    modules = module_contexts(config, processors, target)
    files: dict[Path, str] = {}
    shared = context.shared_context(config, target, modules)
    files[Path(ROOT_FILE)] = _render(env, SHARED_TEMPLATE, shared)
    for processor, module in zip(processors, modules, strict=True):
        files[Path(processor.module) / ROOT_FILE] = _render(env, processor.template, module)
    return files


def _render(
    env: jinja2.Environment, template: str, values: context.ModuleContext | context.SharedContext
) -> str:
    """Render a template with the attributes of its context as its variables."""
    try:
        return env.get_template(template).render({f.name: getattr(values, f.name) for f in fields(values)})
    except jinja2.TemplateNotFound as err:
        raise RenderError(f"template not found: {err.name}") from err
    except jinja2.UndefinedError as err:
        raise RenderError(f"{template}: {err.message}") from err


def check_build_dir(build_dir: Path) -> Path:
    """The resolved build directory; refuses the source tree (the repository root or any source folder)."""
    resolved = build_dir.resolve()
    source_dirs = [
        REPO_ROOT / name
        for name in ("tf_templates", "streamalert", "streamalert_cli", "apps", "config_schemas", "conf")
    ]
    if resolved == REPO_ROOT or any(resolved.is_relative_to(folder) for folder in source_dirs):
        raise RenderError(f"refusing to render into the source tree: {resolved}")
    return resolved


def write_files(files: Mapping[Path, str], build_dir: Path) -> list[Path]:
    """Write the files, and remove rendered ``.tf`` files and module folders this render no longer has."""
    build_dir = check_build_dir(build_dir)
    build_dir.mkdir(parents=True, exist_ok=True)
    keep_dirs = {path.parent for path in files if path.parent != Path(".")}
    for stale in sorted(build_dir.glob("*.tf")):
        if Path(stale.name) not in files:
            stale.unlink()
    for folder in sorted(p for p in build_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if (folder / ROOT_FILE).exists() and Path(folder.name) not in keep_dirs:
            shutil.rmtree(folder)
    written = []
    for relative, text in sorted(files.items()):
        path = build_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_bytes() != text.encode():
            path.write_bytes(text.encode())
        written.append(path)
    return written
