"""The atlas: extracted places and metrics, geocoded, joined and written to one GeoPackage.

``build_atlas`` runs extract → geocode → layers → join → write (→ maps) and writes
``atlas.gpkg`` (EPSG:4326) with the layers ``sites`` (points), ``roads`` (lines) and
``areas`` (polygons), the tables ``mentions``, ``metrics``, ``atlas_layers`` and
``atlas_meta`` described in docs/architecture.md, and re-imports the user layers kept as
``<atlas folder>/layers/*.geojson``.

Everything is written into a temporary folder beside the target first and only moved into
place once the atlas and its maps are complete, so a failure half-way leaves the previous
atlas and maps untouched.  Rebuilding from the same reports gives the same layers.  This
module makes the rows; :mod:`reportatlas.atlas_write` writes them (in a writer process
forked at the start of the build, see there), and :mod:`reportatlas.buildkit` keeps what
the build needs from the gazetteer ready on disk.

How features are made from mentions:

* a mention the geocoder resolves to the thing itself (precision exact / intersection /
  road, or a result of the same kind as the mention) becomes that gazetteer entry's
  feature (id = the gazetteer id); all mentions of it are counted on it;
* a mention the geocoder can only place through something else (its community, its 街道,
  a nearby station) becomes its own point feature in ``sites`` (id ``approx:<type>:<name>``)
  at that anchor, with ``approximate = True``, the anchor's precision and an
  ``uncertainty_m`` radius;
* an unresolved mention keeps its row in ``mentions`` with ``status = "unresolved"``.

Every 街道 and district of the gazetteer is in ``areas`` even when no report names it,
carrying its aggregated metrics: ``total_investment_yuan`` of a 街道 is the sum over the
distinct subjects located in it (each subject counted once, with its largest stated
investment); when nothing in it states an investment, the 街道's own stated figure is used.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

from . import paths
from .atlas_write import (  # noqa: F401 - the atlas's layout, also reached as layers.*
    CORE_LAYERS, CRS, FEATURE_COLUMNS, LAYER_GEOMETRY, LAYER_TITLES, MENTION_COLUMNS, METRIC_COLUMNS,
    NUMERIC_METRICS, RadiusOf, Writer)
from .crs import METRIC_CRS  # noqa: F401 - also reached as layers.METRIC_CRS
from .errors import InputError, ReportAtlasError
from .precision import APPROXIMATE, rank

log = logging.getLogger("reportatlas.layers")

ADMIN_KINDS = {"district", "subdistrict", "community", "village"}
DEFAULT_UNCERTAINTY_M = {"nearby": 300.0, "community": 600.0, "subdistrict": 1500.0,
                         "district": 4000.0}
OWN_AREA_LABELS = {"面积", "辖区面积", "总面积", "区域面积", "占地面积"}


class AtlasError(InputError):
    """The atlas cannot be built from what was given."""


@dataclass
class AtlasSummary:
    atlas_path: Path
    maps_dir: Path | None
    counts: dict[str, int]
    by_precision: list[dict[str, Any]]
    unresolved: list[str]
    mentions: int
    metrics: int
    user_layers: list[str] = field(default_factory=list)
    maps: list[Path] = field(default_factory=list)
    skipped_layers: list[str] = field(default_factory=list)

    def precision_rows(self) -> list[dict[str, Any]]:
        """Rows for the summary table: one per layer, one column per precision."""
        return self.by_precision


# ----------------------------------------------------------------------------- helpers

def _kinds_match(kind: str | None, place_type: str | None) -> bool:
    if not kind or not place_type:
        return False
    if kind == place_type:
        return True
    pair = {kind, place_type}
    return pair <= {"community", "village"} or pair <= {"site", "landmark", "poi"}


def _layer_for(geom) -> str | None:
    gtype = geom.geom_type
    if gtype in ("Point", "MultiPoint"):
        return "sites"
    if gtype in ("LineString", "MultiLineString", "LinearRing"):
        return "roads"
    if gtype in ("Polygon", "MultiPolygon"):
        return "areas"
    return None


def _get(obj: Any, name: str, default=None):
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _echo(progress: bool, message: str) -> None:
    if progress:
        print(message, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- features

class _Features:
    """Accumulates features by id, keeping the best-placed geometry for each."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}

    def add(self, fid: str, row: dict[str, Any]) -> None:
        old = self.rows.get(fid)
        if old is None:
            self.rows[fid] = dict(row, mentions=row.get("mentions", 0))
            return
        if rank(row.get("precision")) < rank(old.get("precision")):
            keep = old["mentions"]
            self.rows[fid] = dict(row, mentions=keep)

    def count(self, fid: str) -> None:
        self.rows[fid]["mentions"] += 1


def _base_areas(area_rows: list[dict[str, Any]], features: _Features) -> None:
    """The gazetteer's districts and 街道 (``buildkit.area_rows``) as ``areas`` features."""
    for rec in area_rows:
        geom = rec.get("geometry")
        if geom is None or geom.is_empty or _layer_for(geom) != "areas":
            continue
        precision = rec.get("precision") or rec.get("kind")
        if rec.get("kind") == "subdistrict" and precision == "district":
            # a 街道 known only as its whole district (上街区's six): stacking six copies of the
            # district would claim a division nobody knows; it is drawn once a report names it
            continue
        features.add(str(rec["id"]), {
            "id": str(rec["id"]), "name": rec.get("name"), "kind": rec.get("kind"),
            "subdistrict": rec.get("subdistrict") or (rec.get("name") if rec.get("kind") == "subdistrict" else None),
            "district": rec.get("district") or (rec.get("name") if rec.get("kind") == "district" else None),
            "precision": precision, "confidence": _float(rec.get("confidence")),
            "source": rec.get("source"), "approximate": precision in APPROXIMATE,
            "uncertainty_m": None, "geometry": geom, "layer": "areas", "mentions": 0,
        })


def _float(value) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if out != out else out


def _feature_from_result(mention, result) -> tuple[str, dict[str, Any]] | None:
    """(feature id, feature row) for a resolved mention, or None if it cannot be drawn."""
    geom = _get(result, "geometry")
    if geom is None or geom.is_empty:
        return None
    precision = _get(result, "precision")
    kind = _get(result, "kind")
    place_type = _get(mention, "place_type")
    itself = precision in ("exact", "intersection", "road") or _kinds_match(kind, place_type)
    if kind in ("community", "village") and precision in ("subdistrict", "district"):
        itself = False  # its geometry is its 街道's (or district's): draw a point, not that polygon
    if itself and _get(result, "id"):
        layer = _layer_for(geom)
        if layer is None:
            return None
        fid = str(_get(result, "id"))
        return fid, {
            "id": fid, "name": _get(result, "name") or _get(mention, "name"), "kind": kind,
            "subdistrict": _get(result, "subdistrict") or _get(mention, "article") or None,
            "district": _get(result, "district") or _get(mention, "district") or None,
            "precision": precision, "confidence": _float(_get(result, "confidence")),
            "source": _get(result, "source"), "approximate": precision in APPROXIMATE,
            "uncertainty_m": RadiusOf(geom) if precision in APPROXIMATE and layer == "areas" else None,
            "geometry": geom, "layer": layer,
        }
    # placed through something else: a point of its own at the anchor, drawn as approximate
    point = geom if geom.geom_type == "Point" else geom.representative_point()
    if geom.geom_type in ("Polygon", "MultiPolygon", "LineString", "MultiLineString"):
        radius = RadiusOf(geom)
    else:
        radius = DEFAULT_UNCERTAINTY_M.get(precision or "", 300.0)
    name = _get(mention, "name")
    fid = f"approx:{place_type}:{name}"
    if precision in ("exact", "intersection", "road"):
        precision = "nearby"  # the anchor is exact, the thing itself only near it
    return fid, {
        "id": fid, "name": name, "kind": place_type,
        "subdistrict": _get(result, "subdistrict") or _get(mention, "article") or None,
        "district": _get(result, "district") or _get(mention, "district") or None,
        "precision": precision, "confidence": _float(_get(result, "confidence")),
        "source": f"anchored on {_get(result, 'name')} ({_get(result, 'source')})",
        "approximate": True, "uncertainty_m": radius, "geometry": point, "layer": "sites",
    }


def _geocode_mentions(extraction, geocoder, features: _Features, progress: bool):
    cache: dict[tuple, Any] = {}
    rows: list[dict[str, Any]] = []
    places = list(extraction.places)
    for i, m in enumerate(places, 1):
        key = (m.name, m.article or None, m.place_type)
        if key not in cache:
            try:
                cache[key] = geocoder.geocode(m.name, context=m.article or None, place_type=m.place_type)
            except ReportAtlasError as exc:
                log.warning("could not geocode %s: %s", m.name, exc)
                cache[key] = None
        result = cache[key]
        made = None
        if result is not None and _get(result, "status") == "ok":
            made = _feature_from_result(m, result)
        row = {"report": m.report, "article": m.article, "start": int(m.start), "end": int(m.end),
               "mention": m.mention, "name": m.name, "place_type": m.place_type,
               "sentence": m.sentence, "feature_id": None, "layer": None,
               "status": "unresolved", "precision": None}
        if made is not None:
            fid, feat = made
            features.add(fid, feat)
            features.count(fid)
            row.update(feature_id=fid, layer=features.rows[fid]["layer"], status="ok",
                       precision=features.rows[fid]["precision"])
        rows.append(row)
        if progress and len(places) > 200 and i % 200 == 0:
            _echo(progress, f"  geocoded {i}/{len(places)} mentions")
    return rows


# ----------------------------------------------------------------------------- metrics

def _is_investment(metric: str, unit: str) -> bool:
    return "投资" in (metric or "") and unit == "元"


def _is_area(metric: str, unit: str) -> bool:
    return unit in ("平方米", "m2", "m²") and "面积" in (metric or "")


def _metric_rows(extraction, features: _Features, mention_rows) -> list[dict[str, Any]]:
    by_name: dict[str, str] = {}
    for row in mention_rows:  # first resolved mention of a name wins
        if row["feature_id"] and row["name"] not in by_name:
            by_name[row["name"]] = row["feature_id"]
    admin_by_name = {r["name"]: fid for fid, r in features.rows.items()
                     if r["kind"] in ("subdistrict", "district")}
    out = []
    for m in extraction.metrics:
        fid = None
        if m.subject_type in ("subdistrict", "district") or m.subject in admin_by_name:
            fid = admin_by_name.get(m.subject)
        if fid is None:
            fid = by_name.get(m.subject)
        feat = features.rows.get(fid) if fid else None
        subdistrict = (feat or {}).get("subdistrict") or m.article or None
        if feat is not None and feat["kind"] == "district":
            subdistrict = None
        out.append({
            "subject": m.subject, "subject_id": fid, "subject_layer": feat["layer"] if feat else None,
            "subdistrict": subdistrict, "metric": m.metric, "value": _float(m.value),
            "unit": m.unit, "qualifier": m.qualifier, "period": m.period, "quote": m.sentence,
            "raw": m.raw, "report": m.report, "article": m.article, "start": int(m.start),
            "end": int(m.end),
        })
    return out


def _join_metrics(features: _Features, metric_rows) -> None:
    per_feature: dict[str, list[dict]] = defaultdict(list)
    for row in metric_rows:
        if row["subject_id"]:
            per_feature[row["subject_id"]].append(row)
    for fid, feat in features.rows.items():
        rows = per_feature.get(fid, [])
        seen, items = set(), []
        for r in rows:
            key = (r["metric"], r["value"], r["unit"], r["qualifier"], r["period"])
            if key in seen:
                continue
            seen.add(key)
            items.append({k: r[k] for k in ("metric", "value", "unit", "qualifier", "period",
                                             "raw", "report", "article")})
        feat["metrics_json"] = json.dumps(items, ensure_ascii=False)
        inv = [r["value"] for r in rows if r["value"] is not None and _is_investment(r["metric"], r["unit"])]
        area = [r["value"] for r in rows if r["value"] is not None and _is_area(r["metric"], r["unit"])]
        if feat["kind"] in ADMIN_KINDS:
            area = [r["value"] for r in rows if r["value"] is not None
                    and _is_area(r["metric"], r["unit"]) and r["metric"] in OWN_AREA_LABELS]
        feat["total_investment_yuan"] = max(inv) if inv else None
        feat["area_m2"] = max(area) if area else None
    # 街道 and districts: sum over the distinct subjects located in them
    per_subject: dict[tuple[str, str], float] = {}
    for row in metric_rows:
        if row["value"] is None or not _is_investment(row["metric"], row["unit"]):
            continue
        feat = features.rows.get(row["subject_id"]) if row["subject_id"] else None
        if feat is not None and feat["kind"] in ("subdistrict", "district"):
            continue
        key = (row["subdistrict"] or "", row["subject_id"] or row["subject"])
        per_subject[key] = max(per_subject.get(key, 0.0), row["value"])
    sums: dict[str, float] = defaultdict(float)
    for (sd, _subject), value in per_subject.items():
        sums[sd] += value
    district_sums: dict[str, float] = defaultdict(float)
    for feat in features.rows.values():
        if feat["kind"] == "subdistrict":
            if sums.get(feat["name"]):
                feat["total_investment_yuan"] = sums[feat["name"]]
            if feat["total_investment_yuan"]:
                district_sums[feat["district"] or ""] += feat["total_investment_yuan"]
    for feat in features.rows.values():
        if feat["kind"] == "district" and not feat["total_investment_yuan"] and district_sums.get(feat["name"]):
            feat["total_investment_yuan"] = district_sums[feat["name"]]


# ----------------------------------------------------------------------------- moving into place

def _replace_dir(new: Path, target: Path) -> None:
    """Swap ``new`` in for ``target``.  Files in ``target`` that are not maps (a README, a
    user's notes) are carried over: a rebuild replaces the maps, nothing else."""
    old = None
    if target.exists():
        for item in target.iterdir():
            if item.is_file() and item.suffix.lower() != ".html" and not (new / item.name).exists():
                shutil.copy2(item, new / item.name)
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        target.rename(old)
    try:
        new.rename(target)
    except OSError:
        if old is not None:
            old.rename(target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# ----------------------------------------------------------------------------- build

def build_atlas(reports: Iterable[str | Path] | None = None, *, out_dir: str | Path | None = None,
                progress: bool = True, maps: bool = True, extraction=None, gazetteer=None,
                geocoder=None) -> AtlasSummary:
    """Build ``atlas.gpkg`` (and the maps) from the reports; see the module docstring.

    ``extraction``, ``gazetteer`` and ``geocoder`` may be given to reuse objects already
    made (or stand-ins in tests); by default the reports are extracted and what the build
    needs from the committed gazetteer comes from :func:`reportatlas.buildkit.load_kit`.
    The GeoPackage and the maps are written by :class:`reportatlas.atlas_write.Writer` (a
    forked process when that is possible, which imports the writer's libraries meanwhile).
    """
    if out_dir is not None:
        out_dir = Path(out_dir)
        atlas_path, maps_dir = out_dir / "atlas.gpkg", out_dir / "maps"
    else:
        atlas_path, maps_dir = paths.default_atlas_path(), paths.default_maps_dir()
    atlas_path = atlas_path.resolve()
    maps_dir = maps_dir.resolve()
    if atlas_path.parent.exists() and not atlas_path.parent.is_dir():
        raise AtlasError(f"--out {atlas_path.parent} is a file; give a folder for the atlas and maps")

    located = None
    fork = None   # the writer process decides (atlas_write.can_fork)
    if gazetteer is None:
        from .buildkit import is_cached, locate

        located = locate()
        # a cold build reads the gazetteer with pandas/geopandas itself: a writer process
        # importing them as well would hold a second copy for little gain
        fork = None if is_cached(located) else False
    writer = Writer(fork=fork)
    try:
        return _build(writer, reports, atlas_path=atlas_path, maps_dir=maps_dir, progress=progress,
                      maps=maps, extraction=extraction, gazetteer=gazetteer, geocoder=geocoder,
                      located=located)
    finally:
        writer.close()


def _build(writer: Writer, reports, *, atlas_path: Path, maps_dir: Path, progress: bool, maps: bool,
           extraction, gazetteer, geocoder, located=None) -> AtlasSummary:
    if reports is None and extraction is None:
        reports = [paths.default_reports_dir()]
    _echo(progress, "[1/5] loading the gazetteer")
    if gazetteer is None:
        from .buildkit import load_kit

        kit = load_kit(located=located)
        known_names, area_rows = kit.known_names, kit.area_rows
        geocoder = geocoder if geocoder is not None else kit.geocoder
    else:
        from .buildkit import area_rows as gazetteer_areas

        known_names, area_rows = None, gazetteer_areas(gazetteer)
        if geocoder is None:
            from .geocode import Geocoder
            # a name the gazetteer cannot place falls back to its article's 街道 (precision
            # "subdistrict", drawn approximate) rather than vanishing from the maps
            geocoder = Geocoder(gazetteer, context_fallback=True)
    if extraction is None:
        _echo(progress, "[2/5] reading and extracting the reports")
        from .extract import extract
        if known_names is None:
            known_names = gazetteer.known_names()
        extraction = extract(list(reports), known_names=known_names)

    _echo(progress, f"[3/5] geocoding {len(extraction.places)} place mentions")
    features = _Features()
    _base_areas(area_rows, features)
    mention_rows = _geocode_mentions(extraction, geocoder, features, progress)
    metric_rows = _metric_rows(extraction, features, mention_rows)
    _join_metrics(features, metric_rows)
    rows = list(features.rows.values())

    _echo(progress, "[4/5] writing the atlas")
    built_at = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    report_names = sorted({str(_get(r, "name", r)) for r in (extraction.reports or [])}
                          or {row["report"] for row in mention_rows})
    meta = {"maps_dir": str(maps_dir), "built_at": built_at,
            "reports": json.dumps(report_names, ensure_ascii=False), "crs": CRS,
            "generator": "reportatlas"}
    atlas_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{atlas_path.stem}.build-", dir=atlas_path.parent))
    try:
        written = writer.run(tmp=tmp, atlas_path=atlas_path, maps_dir=maps_dir, features=rows,
                             mention_rows=mention_rows, metric_rows=metric_rows, meta=meta, maps=maps,
                             progress=progress)
        os.replace(tmp / atlas_path.name, atlas_path)
        if maps:
            maps_dir.parent.mkdir(parents=True, exist_ok=True)
            _replace_dir(tmp / "maps", maps_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    counts = {layer: sum(1 for r in rows if r["layer"] == layer) for layer in CORE_LAYERS}
    by_precision = []
    for layer in CORE_LAYERS:
        row: dict[str, Any] = {"layer": layer, "features": counts[layer]}
        tally = Counter(r.get("precision") or "?" for r in rows if r["layer"] == layer)
        row.update({p: tally.get(p, 0) for p in ("exact", "intersection", "road", "nearby",
                                                  "community", "subdistrict", "district")})
        row["approximate"] = sum(1 for r in rows if r["layer"] == layer and r.get("approximate"))
        by_precision.append(row)
    unresolved = sorted({r["name"] for r in mention_rows if r["status"] == "unresolved"})
    return AtlasSummary(atlas_path=atlas_path, maps_dir=maps_dir if maps else None, counts=counts,
                        by_precision=by_precision, unresolved=unresolved,
                        mentions=len(mention_rows), metrics=len(metric_rows),
                        user_layers=written["user_layers"], maps=[maps_dir / p for p in written["maps"]],
                        skipped_layers=written["skipped"])
