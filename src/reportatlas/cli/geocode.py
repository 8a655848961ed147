"""``reportatlas geocode``: names or addresses → positions, with precision and provenance."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..errors import InputError, InputFileNotFound
from ._common import emit_jsonl, format_table

_TABLE_COLUMNS = ("query", "status", "name", "kind", "precision", "lon", "lat", "subdistrict", "confidence",
                  "suggestions")
_HEADERS = {"query": "查询", "status": "状态", "name": "名称", "kind": "类型", "precision": "精度",
            "lon": "经度", "lat": "纬度", "subdistrict": "街道", "confidence": "置信度", "suggestions": "建议"}


def _read_queries(path: str) -> list[tuple[str, str | None]]:
    """One query per line; an optional TAB then the line's own context (街道)."""
    if path == "-":
        text = sys.stdin.read()
    else:
        p = Path(path)
        if p.is_dir():
            raise InputError(f"--file expects a text file with one query per line, got the folder {path}")
        if not p.is_file():
            raise InputFileNotFound(f"query file not found: {path}")
        try:
            text = p.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InputError(f"query file {path} is not UTF-8 text: save it as UTF-8, one query per line") from None
        except OSError as exc:
            raise InputError(f"cannot read query file {path}: {exc.strerror}") from None
    out = []
    for line in text.splitlines():
        query, _, ctx = line.partition("\t")
        if query.strip():
            out.append((query.strip(), ctx.strip() or None))
    return out


def _load_gazetteer(path: str | None):
    if path is None:
        return None
    p = Path(path)
    if not p.exists():
        raise InputFileNotFound(f"gazetteer file not found: {path}")
    import geopandas as gpd

    try:
        return gpd.read_file(p)
    except Exception as exc:  # pyogrio raises its own DataSourceError
        raise InputError(f"cannot read gazetteer {path}: {str(exc).splitlines()[0]}") from None


@click.command("geocode")
@click.argument("queries", nargs=-1)
@click.option("--file", "query_file", metavar="FILE", help="Read queries from FILE (one a line; '-' = stdin; "
              "an optional TAB then a per-line 街道).")
@click.option("--context", metavar="街道", help="The 街道 the names belong to (ranks and constrains candidates).")
@click.option("--place-type", metavar="TYPE", help="Hint from the extractor: road, site, community, village, …")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "geojson", "table"]), default="jsonl",
              show_default=True)
@click.option("--overrides", "overrides", multiple=True, metavar="FILE",
              help="CSV/GeoJSON of better positions (taken first; repeatable). Default: geodata/overrides.csv|geojson.")
@click.option("--no-default-overrides", is_flag=True, help="Ignore geodata/overrides.* .")
@click.option("--datum", "datum", metavar="DATUM", help="Datum of override coordinates without a datum column: "
              "wgs84 (default), cgcs2000, gcj02, bd09.")
@click.option("--gazetteer", "gazetteer_path", metavar="PATH", help="Use this gazetteer file instead of geodata/.")
@click.option("--fallback-context", is_flag=True, help="Resolve names known nowhere to the --context 街道 "
              "(precision subdistrict) instead of leaving them unresolved.")
@click.option("--online", type=click.Choice(["amap", "tianditu", "nominatim"]), default=None,
              help="Ask this online geocoder for what the offline gazetteer cannot place (off by default).")
@click.option("--key", envvar=None, help="API key of the online geocoder (or REPORTATLAS_<PROVIDER>_KEY).")
@click.option("--online-url", metavar="URL", help="Base URL of the online geocoder (for a mirror or a test server).")
@click.option("--cache", "cache_dir", metavar="DIR", help="Cache of online answers (default ~/.cache/reportatlas).")
def geocode(queries, query_file, context, place_type, fmt, overrides, no_default_overrides, datum,
            gazetteer_path, fallback_context, online, key, online_url, cache_dir):
    """Resolve place names or addresses (煤机路, 中原路与桐柏路交叉口, 文化宫路（中原路—建设路）)
    to WGS-84 positions, printing one JSON object per query.

    \b
    Examples:
      reportatlas geocode 煤机路 --context 三官庙街道
      reportatlas geocode --file names.txt --format jsonl
      reportatlas geocode 须水站 --format geojson > pts.geojson
    """
    from ..geocode import Geocoder
    from ..online import OnlineGeocoder
    from ..overrides import default_override_files

    items = [(q, None) for q in queries]
    if query_file:
        items += _read_queries(query_file)
    if not items:
        raise InputError("no query: give names or addresses as arguments, or --file FILE")
    for q, _ in items:
        if not q.strip():
            raise InputError("empty query: give a place name or an address, e.g. 煤机路")
    files = ([] if no_default_overrides else default_override_files()) + [Path(f) for f in overrides]
    provider = OnlineGeocoder(online, key=key, base_url=online_url, cache_dir=cache_dir) if online else None
    coder = Geocoder(_load_gazetteer(gazetteer_path), overrides=files, online=provider,
                     overrides_datum=datum, context_fallback=fallback_context)
    if context:
        context = coder.resolve_context(context)
    results = [coder.geocode(q, context=c or context, place_type=place_type) for q, c in items]
    if fmt == "jsonl":
        emit_jsonl(r.to_record() for r in results)
    elif fmt == "geojson":
        fc = {"type": "FeatureCollection", "features": [r.to_feature() for r in results]}
        click.echo(json.dumps(fc, ensure_ascii=False))
    else:
        rows = [r.to_record() for r in results]
        click.echo(format_table(rows, _TABLE_COLUMNS, headers=_HEADERS))
