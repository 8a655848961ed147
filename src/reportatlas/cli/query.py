"""``reportatlas query …``: spatial queries and read-only SQL over an atlas."""
from __future__ import annotations

import csv
import json
import sys

import click

from ._common import echo_err, emit_jsonl, format_table

OUT_FORMATS = ("table", "csv", "geojson", "jsonl")


def _atlas_option(f):
    return click.option("--atlas", "atlas_path", type=click.Path(dir_okay=False), default=None,
                        help="The atlas GeoPackage (default: geodata/atlas.gpkg).")(f)


def _output_options(f):
    f = click.option("--format", "fmt", type=click.Choice(OUT_FORMATS), default="table", show_default=True,
                     help="table (aligned), csv, geojson (a FeatureCollection) or jsonl.")(f)
    f = click.option("--map", "map_path", type=click.Path(dir_okay=False), default=None,
                     help="Also write an offline HTML map of the result to this file.")(f)
    f = click.option("--engine", type=click.Choice(("local", "dask")), default="local", show_default=True,
                     help="local (geopandas) or dask (dask-geopandas, reportatlas.scale).")(f)
    return _atlas_option(f)


def _layer_option(f):
    f = click.option("--include-unplaced", "--include-district-level", "include_unplaced", is_flag=True,
                     help="Keep features whose position is only known to their 街道 or district "
                          "(left out of distance queries by default).")(f)
    return click.option("--layer", "layers", multiple=True,
                        help="Search only this layer (repeatable): sites, roads, areas or a user layer.")(f)


@click.group("query")
def query() -> None:
    """Spatial queries over the atlas: near, along, contains, nearest, which, aggregate, sql.

    \b
    TARGET/AREA/ROAD is a name (atlas or gazetteer), an address, "lon,lat" or a feature id.
    Distances are metres measured in EPSG:4547: 500m, 1km, 1.5公里, 300米.
    """


def _open(atlas_path):
    from ..query_atlas import Atlas

    return Atlas(atlas_path)


def _emit(frame, target, *, fmt: str, map_path, title: str) -> None:
    from ..query_atlas import records

    for note in getattr(target, "notes", []) or []:
        echo_err(note)
    rows = records(frame)
    if fmt == "table":
        click.echo(format_table(rows))
    elif fmt == "csv":
        _write_csv(rows)
    elif fmt == "jsonl":
        emit_jsonl(rows)
    else:
        _write_geojson(frame, rows)
    if map_path:
        from ..query_map import result_map

        written = result_map(frame, target, title=title, out=map_path)
        echo_err(f"map written to {written}")


def _write_csv(rows) -> None:
    if not rows:
        return
    columns = list(dict.fromkeys(k for r in rows for k in r))
    writer = csv.DictWriter(sys.stdout, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)


def _write_geojson(frame, rows) -> None:
    from shapely.geometry import mapping

    features = []
    geoms = list(frame.geometry.values) if hasattr(frame, "geometry") else [None] * len(rows)
    for rec, geom in zip(rows, geoms):
        props = {k: v for k, v in rec.items() if k not in ("lon", "lat")}
        features.append({"type": "Feature", "properties": props,
                         "geometry": mapping(geom) if geom is not None and not geom.is_empty else None})
    click.echo(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False))


@query.command("near")
@click.argument("target")
@click.option("--within", required=True, help="Distance, e.g. 500m, 1km, 1.5公里.")
@_layer_option
@_output_options
def near_cmd(target, within, layers, include_unplaced, atlas_path, fmt, map_path, engine):
    """Features within a distance of TARGET."""
    from .. import query_atlas

    tgt, found = query_atlas.near(_open(atlas_path), target, within=within, layers=list(layers), engine=engine,
                                         include_unplaced=include_unplaced)
    _emit(found, tgt, fmt=fmt, map_path=map_path, title=f"near {tgt.name} ({within})")


@query.command("along")
@click.argument("road")
@click.option("--within", default="200m", show_default=True, help="Distance from the road line.")
@_layer_option
@_output_options
def along_cmd(road, within, layers, include_unplaced, atlas_path, fmt, map_path, engine):
    """Features along ROAD (within a distance of its line)."""
    from .. import query_atlas

    tgt, found = query_atlas.along(_open(atlas_path), road, within=within, layers=list(layers), engine=engine,
                                         include_unplaced=include_unplaced)
    _emit(found, tgt, fmt=fmt, map_path=map_path, title=f"along {tgt.name} ({within})")


@query.command("contains")
@click.argument("area")
@_layer_option
@_output_options
def contains_cmd(area, layers, include_unplaced, atlas_path, fmt, map_path, engine):
    """Features inside AREA (a 街道, community, zone or park)."""
    from .. import query_atlas

    tgt, found = query_atlas.contains(_open(atlas_path), area, layers=list(layers), engine=engine,
                                         include_unplaced=include_unplaced)
    _emit(found, tgt, fmt=fmt, map_path=map_path, title=f"in {tgt.name}")


@query.command("nearest")
@click.argument("target")
@click.option("-k", "k", type=click.IntRange(min=1), default=5, show_default=True, help="How many.")
@_layer_option
@_output_options
def nearest_cmd(target, k, layers, include_unplaced, atlas_path, fmt, map_path, engine):
    """The k features nearest to TARGET, with distances in metres."""
    from .. import query_atlas

    tgt, found = query_atlas.nearest(_open(atlas_path), target, k=k, layers=list(layers), engine=engine,
                                         include_unplaced=include_unplaced)
    _emit(found, tgt, fmt=fmt, map_path=map_path, title=f"nearest to {tgt.name}")


@query.command("which")
@click.argument("point")
@_output_options
def which_cmd(point, atlas_path, fmt, map_path, engine):
    """Which 街道 / community / zone POINT (a place or "lon,lat") falls in."""
    from .. import query_atlas

    tgt, found = query_atlas.which(_open(atlas_path), point, engine=engine)
    _emit(found, tgt, fmt=fmt, map_path=map_path, title=f"areas holding {tgt.name}")


@query.command("aggregate")
@click.option("--by", default="subdistrict", show_default=True, help="Group by this column of the metrics table.")
@click.option("--metric", default=None, help="The metric label, e.g. 总投资.")
@click.option("--stat", type=click.Choice(("sum", "count", "mean", "min", "max")), default="sum", show_default=True)
@_atlas_option
@click.option("--format", "fmt", type=click.Choice(("table", "csv", "jsonl")), default="table", show_default=True)
@click.option("--engine", type=click.Choice(("local", "dask")), default="local", show_default=True)
def aggregate_cmd(by, metric, stat, atlas_path, fmt, engine):
    """Per-街道 table of a metric: sum, count or mean of its values (in its base unit)."""
    from .. import query_atlas

    table = query_atlas.aggregate(_open(atlas_path), by=by, metric=metric, stat=stat, engine=engine)
    rows = [{k: (None if isinstance(v, float) and v != v else (v.item() if hasattr(v, "item") else v))
             for k, v in r.items()} for r in table.to_dict("records")]
    for r in rows:
        value = r.pop("value")
        r[stat] = int(value) if isinstance(value, float) and value.is_integer() and abs(value) < 1e15 else value
    if fmt == "table":
        click.echo(format_table(rows))
    elif fmt == "csv":
        _write_csv(rows)
    else:
        emit_jsonl(rows)


@query.command("sql")
@click.argument("statement")
@_atlas_option
@click.option("--format", "fmt", type=click.Choice(OUT_FORMATS), default="table", show_default=True)
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Fetch at most this many rows.")
def sql_cmd(statement, atlas_path, fmt, limit):
    """Run one read-only SELECT over the atlas with DuckDB spatial.

    \b
    Tables: sites, roads, areas (geometry column geom, WGS-84), mentions, metrics,
    atlas_layers, atlas_meta and user_<name> for each user layer.  Example:
      reportatlas query sql "SELECT subdistrict, count(*) FROM sites GROUP BY 1"
    """
    from .. import paths
    from ..sql import run_sql

    result = run_sql(atlas_path or paths.default_atlas_path(), statement, limit=limit)
    if fmt == "geojson":
        from shapely.geometry import mapping

        geo = result.geometry_columns()
        recs = result.records(geometry_as="shapely")
        features = []
        for rec in recs:
            geom = rec.pop(result.columns[geo[0]]) if geo else None
            props = {k: (v.wkt if hasattr(v, "wkt") else v) for k, v in rec.items()}
            features.append({"type": "Feature", "properties": props,
                             "geometry": mapping(geom) if geom is not None else None})
        click.echo(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False, default=str))
        return
    rows = result.records()
    if fmt == "table":
        click.echo(format_table(rows, result.columns) if rows else format_table([]))
    elif fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(result.columns)
        writer.writerows([[r[c] for c in result.columns] for r in rows])
    else:
        emit_jsonl(rows)
