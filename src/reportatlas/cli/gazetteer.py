"""``reportatlas gazetteer build|import-osm``: build the offline gazetteer, add OSM data."""
from __future__ import annotations

from pathlib import Path

import click


@click.group("gazetteer")
def gazetteer() -> None:
    """Build the offline gazetteer (geodata/gazetteer.geojson) and add OpenStreetMap data."""


@gazetteer.command("build")
@click.option("--sources", type=click.Path(path_type=Path), default=None,
              help="Source geodata folder (default: ../shared/geodata).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Output folder (default: the repository's geodata/).")
def build_cmd(sources: Path | None, out_dir: Path | None) -> None:
    """Rebuild the gazetteer from the source folder; the same sources give the same bytes."""
    from ..gazetteer.build import build_gazetteer

    summary = build_gazetteer(sources, out_dir)
    counts = ", ".join(f"{k} {v}" for k, v in summary["entries"].items())
    click.echo(f"wrote {summary['path']}: {sum(summary['entries'].values())} entries ({counts})")
    click.echo(f"label points judged {summary['label_datum']['chosen']}; "
               f"roads with a line: {summary['roads']['with_line']}")


@gazetteer.command("import-osm")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Gazetteer folder (default: the repository's geodata/).")
def import_osm_cmd(file: Path, out_dir: Path | None) -> None:
    """Add the named roads, places and POIs of an OpenStreetMap extract (.osm or .pbf).

    They go to gazetteer_osm.geojson beside the gazetteer and take precedence over
    derived entries of the same name and kind.
    """
    from ..gazetteer.osm import import_osm

    result = import_osm(file, out_dir=out_dir)
    click.echo(f"wrote {result['path']}: {result['added']} entries from {file} "
               f"(roads {result['roads']}, places {result['places']}, pois {result['pois']})")
