"""Config dataclasses on the command line: every field becomes a `--flag` with its default.

Like trl's example scripts, minus the dependency: bools get `--x/--no-x`, lists take
several values (`--models random constant`), `None` defaults take a value of the annotated
type, and an optional field with a default (`cache: str | None = "..."`) also gets `--no-x`,
which sets it to None. A flag's description is the comment beside its field, so it is written
once; its valid values come from the caller (`choices`).
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import inspect
import io
import tokenize
import types
import typing
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any, TypeVar

from helpers.plumbing.errors import ConfigError

T = TypeVar("T")


def _optional(annotation: Any) -> bool:
    return typing.get_origin(annotation) in (typing.Union, types.UnionType) and type(None) in typing.get_args(
        annotation
    )


def _base_type(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return _base_type(next(a for a in typing.get_args(annotation) if a is not type(None)))
    return annotation


@cache
def field_comments(cls: type) -> dict[str, str]:
    """The comment beside each field of `cls` (or on the line above it), by field name."""
    comments: dict[str, str] = {}
    for klass in reversed(cls.__mro__[:-1]):
        try:
            source = inspect.getsource(klass)
        except (OSError, TypeError):
            continue
        source = inspect.cleandoc("\n" + source) + "\n"
        tokens = [t for t in tokenize.generate_tokens(io.StringIO(source).readline) if t.type == tokenize.COMMENT]
        beside = {t.start[0]: t.string.lstrip("# ").strip() for t in tokens}
        alone = {n for n, t in zip(beside, tokens) if t.line.lstrip().startswith("#")}
        for node in ast.parse(source).body[0].body:
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                found = [beside[n] for n in range(node.lineno, node.end_lineno + 1) if n in beside]
                if not found and node.lineno - 1 in alone:
                    found = [beside[node.lineno - 1]]
                if found:
                    comments[node.target.id] = found[-1]
    return comments


def add_arguments(parser: argparse.ArgumentParser, cls: type, choices: Mapping[str, Iterable] | None = None) -> None:
    """One flag per simple field of `cls` (nested dataclasses are left to the caller), described
    by the field's comment; `choices` names the valid values of fields by name."""
    hints = typing.get_type_hints(cls)
    comments = field_comments(cls)
    for field in dataclasses.fields(cls):
        if field.metadata.get("cli") is False:
            continue  # e.g. secrets: never a flag, so never in shell history
        kind = _base_type(hints[field.name])
        flag = "--" + field.name.replace("_", "-")
        default = field.default_factory() if field.default_factory is not dataclasses.MISSING else field.default
        if dataclasses.is_dataclass(kind):
            continue
        about = comments.get(field.name, "").replace("%", "%%")  # argparse reads % as a format code
        valid = list((choices or {}).get(field.name, ())) or None
        if kind is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=default, help=about)
            continue
        shown = " ".join(map(str, default)) if isinstance(default, list) else default
        if default is not None and "default" not in about:
            about = f"{about} (default: {str(shown).replace('%', '%%')})"
        if typing.get_origin(kind) is list:
            parser.add_argument(flag, nargs="+", default=default, choices=valid, help=about)
        else:
            parser.add_argument(flag, type=kind, default=default, choices=valid, help=about)
        if _optional(hints[field.name]) and default is not None:
            parser.add_argument(
                f"--no-{flag[2:]}", dest=field.name, action="store_const", const=None, help=f"no {flag[2:]}"
            )


# A number on the command line is a size, count, limit or rate: never negative, save the -1 that
# some fields take for "all" or "every CPU", and zero only where zero means something.
MINUS_ONE = {"max_steps": "whole epochs", "forest_jobs": "one process per CPU"}
ZERO = {"validation_size", "workers", "max_retries", "seed", "lora_dropout", "nn_dropout", "weight_decay"}
ZERO |= {"warmup_ratio", "keep_all_from", "validation_share", "max_grad_norm", "poll_seconds", "w2v_workers"}
ZERO |= {"port", "delay", "threshold"}


NAMES = {"model", "dataset", "name", "run_name"}  # a name on the leaderboard, in a path


def checked(name: str, value: Any) -> None:
    """One line naming the flag when `value` is no size, count or rate for it, or a blank name."""
    if isinstance(value, str) and name in NAMES and not value.strip():
        raise ConfigError(f"--{name.replace('_', '-')} {value!r}: give a name, not a blank")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return
    flag = f"--{name.replace('_', '-')} {value}"
    if name in MINUS_ONE and value == -1:
        return
    if value < 0 or (value == 0 and name not in ZERO):
        least = "0 or more" if name in ZERO else "above 0"
        sentinel = f", or -1 for {MINUS_ONE[name]}" if name in MINUS_ONE else ""
        raise ConfigError(f"{flag}: must be {least}{sentinel}")
    if name == "port" and value > 65535:
        raise ConfigError(f"{flag}: a port is a number from 0 to 65535")


def from_arguments(cls: type[T], namespace: argparse.Namespace, **extra: Any) -> T:
    """Build `cls` from the parsed flags that belong to it, plus any `extra` fields; a number
    that is no size, count or rate is refused before any work."""
    names = {field.name for field in dataclasses.fields(cls)}
    values = {k: v for k, v in vars(namespace).items() if k in names}
    for name, value in values.items():
        checked(name, value)
    values.update(extra)
    return cls(**values)


def as_flags(config: Any) -> list[str]:
    """The command-line flags that rebuild `config`: one for each field that differs from its
    default, so a stage can run another stage with settings that live in one place."""
    flags: list[str] = []
    for field in dataclasses.fields(config):
        if field.metadata.get("cli") is False or dataclasses.is_dataclass(getattr(config, field.name)):
            continue
        value = getattr(config, field.name)
        default = field.default_factory() if field.default_factory is not dataclasses.MISSING else field.default
        if value == default:
            continue
        name = field.name.replace("_", "-")
        if isinstance(value, bool):
            flags.append(f"--{name}" if value else f"--no-{name}")
        elif value is None:
            flags.append(f"--no-{name}")  # an optional field whose default is not None
        elif isinstance(value, list):
            flags += [f"--{name}", *map(str, value)]
        else:
            flags += [f"--{name}", str(value)]
    return flags
