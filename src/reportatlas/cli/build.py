"""``reportatlas build`` (reports → atlas.gpkg + maps) and ``reportatlas render`` (maps only)."""
from __future__ import annotations

from pathlib import Path

import click

from ._common import echo_err, format_table


def _verbosity(ctx: click.Context) -> int:
    root = ctx.find_root()
    return (root.obj or {}).get("verbosity", 0) if root.obj else 0


@click.command("build")
@click.argument("reports", nargs=-1, type=click.Path(path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write DIR/atlas.gpkg and DIR/maps/ (default: geodata/atlas.gpkg and maps/).")
@click.option("--no-maps", is_flag=True, help="Only write the atlas, not the HTML maps.")
@click.option("-q", "--quiet", is_flag=True, help="No progress and no summary.")
@click.pass_context
def build(ctx: click.Context, reports: tuple[Path, ...], out_dir: Path | None, no_maps: bool,
          quiet: bool) -> None:
    """Run extract → geocode → layers → maps on REPORTS (files or folders; default
    ../shared/reports) and write the atlas (GeoPackage, EPSG:4326) and the offline maps.

    \b
    Examples:
      reportatlas build                       # geodata/atlas.gpkg + maps/
      reportatlas build ../shared/reports --out /tmp/atlas
    """
    from ..errors import InputFileNotFound
    from ..layers import build_atlas

    for path in reports:
        if not path.exists():
            raise InputFileNotFound(f"no such report file or folder: {path}")
    quiet = quiet or _verbosity(ctx) < 0
    summary = build_atlas(list(reports) or None, out_dir=out_dir, progress=not quiet, maps=not no_maps)
    if quiet:
        return
    echo_err("")
    echo_err(format_table(summary.by_precision, headers={"layer": "图层 layer", "features": "要素"}))
    echo_err(f"\n{summary.mentions} mentions ({len(summary.unresolved)} names unresolved), "
             f"{summary.metrics} metrics")
    if summary.unresolved:
        shown = "、".join(summary.unresolved[:30])
        more = f" … (+{len(summary.unresolved) - 30})" if len(summary.unresolved) > 30 else ""
        echo_err(f"unresolved: {shown}{more}")
    if summary.user_layers:
        echo_err(f"user layers: {', '.join(summary.user_layers)}")
    for skipped in summary.skipped_layers:
        echo_err(f"skipped user layer {skipped}")
    echo_err(f"atlas: {summary.atlas_path}")
    if summary.maps_dir:
        echo_err(f"maps:  {summary.maps_dir / 'index.html'} (+{len(summary.maps) - 1} 街道 maps)")


@click.command("render")
@click.argument("atlas", required=False, type=click.Path(path_type=Path))
@click.option("--maps-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to write the maps (default: the folder recorded in the atlas).")
def render(atlas: Path | None, maps_dir: Path | None) -> None:
    """Redraw the HTML maps of ATLAS (default geodata/atlas.gpkg) without rebuilding it."""
    from .. import paths
    from ..render import render_maps

    written = render_maps(atlas or paths.default_atlas_path(), maps_dir)
    for path in written:
        click.echo(str(path))
