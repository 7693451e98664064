"""The CLI reference (docs/cli-reference.md), generated from the commands' own help.

Regenerate with ``python -m fourp1000.cli.reference > docs/cli-reference.md``;
``tests/test_docs.py`` fails when the file and the code disagree.
"""

from __future__ import annotations

import click


def command_help(name: str | None = None, width: int = 100) -> str:
    """``fourp1000 [NAME] --help`` as text, at a fixed width (independent of the terminal)."""
    from . import main

    root = click.Context(main, info_name="fourp1000", terminal_width=width, max_content_width=width,
                         help_option_names=["-h", "--help"])
    if name is None:
        return main.get_help(root)
    cmd = main.get_command(root, name)
    ctx = click.Context(cmd, info_name=name, parent=root, terminal_width=width, max_content_width=width,
                        help_option_names=["-h", "--help"])
    return cmd.get_help(ctx)


def markdown() -> str:
    """The whole reference: the group's help, then each command's, in a code block."""
    from . import main

    parts = ["# CLI reference", "",
             "Generated from `--help` (`python -m fourp1000.cli.reference > docs/cli-reference.md`).",
             "Conventions and exit codes: [cli.md](cli.md).", "",
             "## fourp1000", "", "```text", command_help().rstrip(), "```", ""]
    for name in main.list_commands(click.Context(main)):
        parts += [f"## fourp1000 {name}", "", "```text", command_help(name).rstrip(), "```", ""]
    return "\n".join(parts)


if __name__ == "__main__":
    print(markdown(), end="")
