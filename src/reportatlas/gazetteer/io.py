"""Reading and writing gazetteer files: GeoJSON, one feature per line, deterministic bytes.

Features are sorted by id, properties come in the fixed order of :data:`COLUMNS`,
coordinates are rounded to 1e-6 degrees (~0.1 m), aliases are stored ``|``-joined.
Files are written to a temporary name beside the target and renamed.
"""
from __future__ import annotations

from .._files import atomic_write_text

import json
from pathlib import Path
from typing import Iterable

COLUMNS = ("id", "name", "aliases", "kind", "subdistrict", "district", "adcode", "precision",
           "source", "datum_in", "licence", "method", "evidence", "confidence")


def _round(obj):
    if isinstance(obj, float):
        r = round(obj, 6)
        return 0.0 if r == 0 else r
    if isinstance(obj, (list, tuple)):
        return [_round(v) for v in obj]
    return obj


def feature(entry: dict) -> dict:
    """A GeoJSON feature dict from an entry dict (with a shapely ``geometry`` or None)."""
    from shapely.geometry import mapping

    props = {}
    for col in COLUMNS:
        value = entry.get(col)
        if col == "aliases":
            value = "|".join(sorted(dict.fromkeys(a for a in (value or []) if a and a != entry["name"])))
        elif col in ("evidence", "adcode") and value is not None:
            value = int(value)
        elif col == "confidence" and value is not None:
            value = round(float(value), 3)
        elif value is None:
            value = ""
        props[col] = value
    geom = entry.get("geometry")
    gj = None
    if geom is not None and not geom.is_empty:
        m = mapping(geom)
        gj = {"type": m["type"], "coordinates": _round(m["coordinates"])}
    return {"type": "Feature", "properties": props, "geometry": gj}


def dumps(entries: Iterable[dict], *, meta: dict | None = None, features: Iterable[dict] = ()) -> str:
    """The file text for ``entries`` (dicts) plus already-made GeoJSON ``features``."""
    feats = sorted([feature(e) for e in entries] + list(features), key=lambda f: f["properties"]["id"])
    head = {"type": "FeatureCollection", "name": "reportatlas_gazetteer",
            "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}}
    if meta:
        head["meta"] = meta
    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in feats]
    text = json.dumps(head, ensure_ascii=False, separators=(",", ":"))[:-1]
    return text + ',"features":[\n' + ",\n".join(lines) + "\n]}\n"


atomic_write = atomic_write_text  # the one implementation, in reportatlas._files


def read_features(path: Path) -> list[dict]:
    from ..errors import InputError

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return list(data["features"])
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise InputError(f"gazetteer file {str(path)!r} is unreadable ({exc}); rebuild it with "
                         "'reportatlas gazetteer build'") from None
