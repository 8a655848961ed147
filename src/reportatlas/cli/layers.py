"""``reportatlas add-layer`` / ``list-layers`` / ``remove-layer``: the user's own map layers."""
from __future__ import annotations

import click

from ._common import echo_err, format_table

_ATLAS = click.option("--atlas", "atlas_path", type=click.Path(dir_okay=False), default=None,
                      help="The atlas GeoPackage (default: geodata/atlas.gpkg).")


@click.command("add-layer")
@click.argument("file", type=click.Path(dir_okay=True))
@click.option("--name", required=True, help="Layer name (Chinese fine; no '/', '.' or spaces).")
@click.option("--datum", type=click.Choice(("wgs84", "cgcs2000", "gcj02", "bd09")), default=None,
              help="Datum of lon/lat without a CRS: Amap exports are gcj02, Baidu bd09 (default wgs84).")
@click.option("--replace", is_flag=True, help="Overwrite an existing user layer of that name.")
@click.option("--no-render", is_flag=True, help="Do not re-render the maps.")
@_ATLAS
def add_layer(file, name, datum, replace, no_render, atlas_path):
    """Add FILE (CSV, GeoJSON, GeoPackage, Shapefile, KML) to the atlas as layer NAME."""
    from ..userlayers import add_layer as add

    result = add(file, name=name, atlas=atlas_path, datum=datum, replace=replace, render=not no_render)
    click.echo(f"added layer {result.name}: {result.count} {result.geometry_type} features "
               f"({len(result.warnings)} warnings); saved as {result.geojson}")
    for path in result.maps:
        echo_err(f"map: {path}")


@click.command("list-layers")
@_ATLAS
def list_layers(atlas_path):
    """List the atlas' map layers: name, geometry type, count, role, source."""
    from ..userlayers import list_layers as listing

    rows = listing(atlas=atlas_path)
    click.echo(format_table(rows, ["name", "geometry_type", "count", "role", "source"]))


@click.command("remove-layer")
@click.argument("name")
@click.option("--no-render", is_flag=True, help="Do not re-render the maps.")
@_ATLAS
def remove_layer(name, no_render, atlas_path):
    """Remove the user layer NAME (core layers cannot be removed)."""
    from ..userlayers import remove_layer as remove

    remove(name, atlas=atlas_path, render=not no_render)
    click.echo(f"removed layer {name}")
