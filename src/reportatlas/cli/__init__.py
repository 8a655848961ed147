"""The ``reportatlas`` command: one thin subcommand per user task, no logic here.

Each subcommand lives in its own module of this package and is registered below.
Errors derived from :class:`~reportatlas.errors.ReportAtlasError` (and a few built-in
ones a user can cause) become one line on stderr and exit code 2; nothing is traced back.
"""
from __future__ import annotations

import importlib
import sys

import click

from .. import __version__
from ..errors import ReportAtlasError
from ._common import setup_logging

# (command name, module, attribute) of each subcommand.  A module is imported only when its
# command runs (or help lists it), so ``reportatlas build`` does not import the query CLI;
# a module that is missing is skipped so that the command keeps working while stages are
# being built.
SUBCOMMANDS = [
    ("extract", "extract", "extract"),
    ("gazetteer", "gazetteer", "gazetteer"),
    ("geocode", "geocode", "geocode"),
    ("build", "build", "build"),
    ("render", "build", "render"),
    ("add-layer", "layers", "add_layer"),
    ("list-layers", "layers", "list_layers"),
    ("remove-layer", "layers", "remove_layer"),
    ("query", "query", "query"),
]


class _LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        for name, _, _ in SUBCOMMANDS:
            self.get_command(ctx, name)
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str):
        if cmd_name not in self.commands:
            for name, module_name, attr in SUBCOMMANDS:
                if name == cmd_name:
                    command = _load(module_name, attr)
                    if command is not None:
                        self.add_command(command, name)
                    break
        return self.commands.get(cmd_name)


def _load(module_name: str, attr: str):
    try:
        module = importlib.import_module(f"{__name__}.{module_name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"{__name__}.{module_name}":
            return None
        raise
    return getattr(module, attr, None)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="reportatlas")
@click.option("-v", "--verbose", count=True, help="Say more about what is being done (repeat for more).")
@click.option("-q", "--quiet", count=True, help="Say less: only errors.")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: int) -> None:
    """Turn district work reports (中原区 and its 街道) into a gazetteer, a GeoPackage atlas
    and maps that open in any browser, then query them.

    \b
    Typical use:
      reportatlas build                  # ../shared/reports → geodata/atlas.gpkg + maps/
      reportatlas extract REPORTS --format table
      reportatlas geocode 煤机路 --context 三官庙街道
      reportatlas query near 二砂文创园 --within 1km
    """
    ctx.ensure_object(dict)
    ctx.obj["verbosity"] = verbose - quiet
    setup_logging(verbose - quiet)


def _register() -> None:
    """Load every subcommand now (they are otherwise loaded when first used)."""
    for name, _, _ in SUBCOMMANDS:
        cli.get_command(None, name)


def main(argv: list[str] | None = None) -> int:
    try:
        cli.main(args=argv, prog_name="reportatlas", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("reportatlas: aborted", err=True)
        return 130
    except click.exceptions.ClickException as exc:
        click.echo(f"reportatlas: {exc.format_message()}", err=True)
        return exc.exit_code
    except ReportAtlasError as exc:
        click.echo(f"reportatlas: error: {exc}", err=True)
        return 2
    except (OSError, UnicodeError, ValueError) as exc:  # user-caused built-ins
        click.echo(f"reportatlas: error: {exc}", err=True)
        return 2
    except KeyboardInterrupt:
        click.echo("reportatlas: interrupted", err=True)
        return 130
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
