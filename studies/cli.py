"""Every study's command line, derived from its ``Config`` dataclass (cleanrl style): one flag per field.

Field ``name`` becomes ``--name`` (underscores as dashes); its help is the field's entry in the class docstring's
``Attributes:`` section, with the default. Types: ``bool`` -> ``--name/--no-name``; ``int``, ``float``, ``str``;
``X | None`` -> also accepts ``none``; ``tuple[X, ...]`` -> one or more values; ``dict`` -> a JSON object. A study
may convert a field's raw value (``converters``) and add options that are not part of its config (``extras``).

Configuration errors (the ``ValueError`` of ``Config.__post_init__``, an unusable ``--out``) print one line naming
the flag, the value and what is allowed, and exit with status 2, as argparse does; no traceback.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import re
import sys
import types
import typing
from typing import Any, Callable, Mapping, NoReturn, Sequence

from .report import ReportFolderError, check_out_dir

__all__ = ["StudyArgumentParser", "config_from_args", "config_parser", "field_docs", "run_cli"]

_ENTRY = re.compile(r"^(\s*)([A-Za-z_][A-Za-z0-9_]*): ?(.*)$")


class StudyArgumentParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line (``prog: error: ...``) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def field_docs(cls: type) -> dict[str, str]:
    """``{field: text}`` from the ``Attributes:`` section of ``cls``'s docstring (Google style), markup removed."""
    lines = (cls.__doc__ or "").expandtabs().splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip() == "Attributes:"), None)
    if start is None:
        return {}
    docs: dict[str, list[str]] = {}
    indent, current = None, None
    for line in lines[start + 1:]:
        if not line.strip():
            continue
        width = len(line) - len(line.lstrip())
        match = _ENTRY.match(line)
        if match and (indent is None or width == indent):
            indent, current = width, match.group(2)
            docs[current] = [match.group(3)]
        elif indent is not None and width > indent and current is not None:
            docs[current].append(line.strip())
        else:
            break
    return {name: _plain(" ".join(parts)) for name, parts in docs.items()}


def _plain(text: str) -> str:
    text = re.sub(r":[a-z]+:`~?([^`]+)`", r"\1", text)
    return re.sub(r"``([^`]*)``", r"\1", text)


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _strip_optional(tp: Any) -> tuple[Any, bool]:
    """``X | None`` -> ``(X, True)``; a union of several types keeps its first (``str | Mapping`` -> ``str``)."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return args[0], len(args) < len(typing.get_args(tp))
    return tp, False


def _scalar(tp: Any, optional: bool) -> Callable[[str], Any]:
    base = {int: int, float: float, str: str}.get(tp)
    if base is None:
        raise TypeError(f"no command-line conversion for type {tp!r}")

    def convert(text: str) -> Any:
        if optional and text.lower() == "none":
            return None
        return base(text)

    convert.__name__ = base.__name__  # argparse names the type in its "invalid int value" message
    return convert


def _json_object(text: str) -> Any:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a JSON object ({exc.msg})") from exc
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"{text!r} is not a JSON object")
    return value


def _default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    raise TypeError(f"field {f.name!r} has no default: every study setting needs one")


def _show(value: Any) -> str:
    if isinstance(value, (tuple, list)):
        return " ".join(map(str, value)) if value else "(empty)"
    if isinstance(value, dict):
        return json.dumps(value)
    return repr(value) if isinstance(value, str) else str(value)


def config_parser(prog: str, config_cls: type, description: str | None = None, *,
                  converters: Mapping[str, Callable[[Any], Any]] | None = None) -> StudyArgumentParser:
    """One flag per field of the dataclass ``config_cls``; each field must have an ``Attributes:`` entry."""
    docs = field_docs(config_cls)
    hints = typing.get_type_hints(config_cls)
    parser = StudyArgumentParser(prog=prog, description=(description or "").split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    for f in dataclasses.fields(config_cls):
        if f.name not in docs:
            raise TypeError(f"{config_cls.__qualname__}.{f.name} has no entry in the Attributes section of its "
                            "docstring (the entry is the flag's help)")
        default = _default(f)
        help_text = f"{docs[f.name]} (default: {_show(default)})".replace("%", "%%")
        tp, optional = _strip_optional(hints[f.name])
        kwargs: dict[str, Any] = {"dest": f.name, "default": argparse.SUPPRESS, "help": help_text}
        origin = typing.get_origin(tp) or tp
        if tp is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        elif origin in (tuple, list):
            item = typing.get_args(tp)[0] if typing.get_args(tp) else str
            kwargs.update(nargs="+", type=_scalar(item, optional), metavar=f.name.upper().rstrip("S") or "X")
        elif origin in (dict, Mapping):
            kwargs.update(type=_json_object, metavar="JSON")
        else:
            kwargs.update(type=_scalar(tp, optional), metavar=f.name.upper())
        parser.add_argument(_flag(f.name), **kwargs)
    parser.set_defaults(_converters=dict(converters or {}))
    return parser


def config_from_args(parser: argparse.ArgumentParser, config_cls: type, args: argparse.Namespace) -> Any:
    """The config of the parsed flags (unset flags keep the field defaults); a config error exits with status 2."""
    converters = getattr(args, "_converters", {})
    values = {}
    for f in dataclasses.fields(config_cls):
        if hasattr(args, f.name):
            value = getattr(args, f.name)
            if isinstance(value, list):
                value = None if None in value else tuple(value)
            if f.name in converters and value is not None:
                value = converters[f.name](value)
            values[f.name] = value
    try:
        return config_cls(**values)
    except (ValueError, TypeError) as exc:
        parser.error(flag_message(exc, config_cls))


def flag_message(exc: BaseException, config_cls: type) -> str:
    """``argument --name: <message>`` when the message starts with a field's name (the house style does)."""
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    match = re.match(r"([A-Za-z_][A-Za-z0-9_]*)", message)
    names = {f.name for f in dataclasses.fields(config_cls)}
    if match and match.group(1) in names:
        return f"argument {_flag(match.group(1))}: {message}"
    return message


def run_cli(name: str, description: str | None, config_cls: type, main: Callable[[Any], dict[str, Any]],
            argv: Sequence[str] | None = None, *, converters: Mapping[str, Callable[[Any], Any]] | None = None,
            extras: Callable[[argparse.ArgumentParser], None] | None = None,
            setup: Callable[[argparse.ArgumentParser, argparse.Namespace], None] | None = None) -> int:
    """Parse ``argv`` into a ``config_cls``, check the report folder, then log to stderr at INFO, run
    ``main(config)`` and print where the report went. ``extras`` adds options outside the config; ``setup`` acts
    on them (after the config is validated, before the run)."""
    parser = config_parser(f"python -m studies {name}", config_cls, description, converters=converters)
    if extras is not None:
        extras(parser)
    args = parser.parse_args(list(argv) if argv is not None else None)
    config = config_from_args(parser, config_cls, args)
    effective = config.effective() if hasattr(config, "effective") else config
    try:
        if getattr(effective, "out", None) is not None:
            check_out_dir(effective.out, overwrite=getattr(effective, "overwrite", False))
    except ReportFolderError as exc:
        parser.error(flag_message(exc, config_cls))
    if setup is not None:
        setup(parser, args)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        results = main(config)
    except ReportFolderError as exc:  # the folder changed under the run: the old report is untouched
        parser.error(flag_message(exc, config_cls))
    sys.stdout.write(f"report written to {results['out']}\n")
    return 0
