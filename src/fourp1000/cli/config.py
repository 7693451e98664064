"""The config file: option defaults for every command, and a column map.

``fourp1000.yaml`` in the working directory (or ``--config FILE``)::

    on_error: skip            # top level: any command that has the option
    depth: 0-40
    estimate:                 # per command: overrides the top level
      depth_method: spline
    columns:                  # input headers -> our columns (as --columns)
      Corg: {column: soc, unit: g/kg}

Keys are option names with dashes or underscores. Options given on the command line win.
"""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import InputError
from .common import echo_err

CONFIG_NAME = "fourp1000.yaml"


def read_config(path: Path) -> dict:
    """Load a config file with the rules of data files (encoding sniffed: UTF-8, a BOM or
    latin-1; size, depth and aliases bounded; :func:`fourp1000.io.text.read_yaml_file`);
    raises InputError naming the file."""
    from ..io.text import read_yaml_file

    doc = read_yaml_file(str(path)) or {}
    if not isinstance(doc, dict):
        raise InputError(f"{path}: a config file must be a mapping of option names to values")
    return doc


def apply_config(ctx: click.Context, config_file: str | None) -> None:
    """Turn the config file into click's ``default_map`` (per command) and ``obj['column_map']``."""
    path = Path(config_file) if config_file else Path.cwd() / CONFIG_NAME
    ctx.ensure_object(dict)
    if not path.is_file():
        if config_file:
            raise click.BadParameter(f"{config_file}: no such file", param_hint="--config")
        return
    try:
        doc = read_config(path)
    except InputError as exc:
        echo_err(f"Error: {exc}")
        ctx.exit(1)
    group = ctx.command  # a click.Group: every command is loaded to check the keys
    commands = {name: group.get_command(ctx, name) for name in group.list_commands(ctx)}  # type: ignore[attr-defined]
    columns = doc.pop("columns", None)
    if columns is not None:
        if not isinstance(columns, dict):
            echo_err(f"Error: {path}: 'columns' must be a mapping of headers to columns")
            ctx.exit(1)
        ctx.obj["column_map"] = {str(k): v for k, v in columns.items()}
    sections = {str(k): v for k, v in doc.items() if k in commands and isinstance(v, dict)}
    top = {str(k).replace("-", "_"): v for k, v in doc.items() if k not in sections}
    unknown = [k for k in top if not any(_param_name(cmd, k) for cmd in commands.values())]
    if unknown:
        echo_err(f"Error: {path}: unknown option(s) {', '.join(sorted(unknown))}")
        ctx.exit(1)
    default_map: dict[str, dict] = {}
    for name, cmd in commands.items():
        values = {_param_name(cmd, k): v for k, v in top.items() if _param_name(cmd, k)}
        values.update({_param_name(cmd, str(k).replace("-", "_")) or str(k).replace("-", "_"): v
                       for k, v in sections.get(name, {}).items()})
        if values:
            default_map[name] = values
    ctx.default_map = default_map
    ctx.obj["config_path"] = str(path)


def _param_name(cmd: click.Command, key: str) -> str | None:
    """The parameter a config key sets: by its name or by its long option (``format`` sets
    ``--format``, whose parameter is ``fmt``); None if the command has none."""
    for p in cmd.params:
        longs = [o.lstrip("-").replace("-", "_") for o in getattr(p, "opts", []) if o.startswith("--")]
        if key == p.name or key in longs:
            return p.name
    return None
