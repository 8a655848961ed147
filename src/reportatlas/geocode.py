"""Geocoder: a name or an address → the best feature the gazetteer can stand behind.

The ladder, tried in order (precision words from :mod:`reportatlas.precision`):

1. user overrides, then the gazetteer's own entries: exact name → alias → loose key
   (suffix variants, see :mod:`reportatlas.nameindex`);
2. relational forms (:mod:`reportatlas.relational`): a segment "X路(A路-B路)" → the part of
   X between its crossings; a crossing "A路与B路交叉口(向北300米)" → the crossing entry, or the
   meeting point of the two road lines, moved by the stated offset; an extent "东起…西至…南起…
   北至…" → the polygon between the four roads (:mod:`reportatlas.geocode_relational`);
3. known names inside the query: a road with a house number ("X路306号" → road), a
   community or village (community), a 街道 (subdistrict), a district (district), another
   named feature (nearby);
4. an online provider, only when one was configured explicitly;
5. otherwise ``status="unresolved"``, no geometry, and the closest known names.

``context`` (an article's 街道) constrains and ranks candidates; ``place_type`` (the
extractor's type) prefers matching kinds.  Indexes are built once per Geocoder.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import shapely
from shapely.geometry import LineString, MultiLineString, Point, mapping

from . import relational as rel
from .errors import InputError, NotFoundError
from .geocode_relational import RelationalForms
from .nameindex import STATION_KINDS, STATION_SUFFIX, NameIndex, normalize, road_key
from .precision import rank

CONTRACT_FIELDS = ("query", "status", "name", "kind", "precision", "geometry_type", "lon", "lat",
                   "subdistrict", "source", "confidence", "suggestions")

#: extractor place_type → gazetteer kinds it prefers
PREFERRED_KINDS: dict[str, frozenset[str]] = {
    "road": frozenset({"road"}),
    "site": frozenset({"site", "poi", "zone", "park"}),
    "park": frozenset({"park", "poi", "site"}),
    "residential_compound": frozenset({"poi", "site", "community"}),
    "community": frozenset({"community"}),
    "village": frozenset({"village"}),
    "subdistrict": frozenset({"subdistrict"}),
    "district": frozenset({"district"}),
    "zone": frozenset({"zone", "site", "park"}),
    "landmark": frozenset({"poi", "site", "metro_station", "railway_station", "bus_stop", "substation", "park"}),
    "station": frozenset({"metro_station", "railway_station", "bus_stop"}),
    "metro_line": frozenset({"metro_line"}),
    "river": frozenset({"river"}),
    "crossing": frozenset({"crossing"}),
}
_ADMIN_PREFIXES = ("河南省", "郑州市", "郑州")
#: without a place_type hint, among equally good name matches: areas first, bus stops and offices last
KIND_ORDER = {k: i for i, k in enumerate((
    "subdistrict", "district", "community", "village", "metro_station", "railway_station", "road", "crossing",
    "site", "zone", "park", "landmark", "residential_compound", "substation", "power_plant", "poi", "bus_stop",
    "subdistrict_office"))}
_HOUSE_NUMBER = re.compile(r"^(?:\d+(?:-\d+)*号|\d+号院|中段|东段|西段|南段|北段|段|沿线|两侧|辖区)")
_CONTAINED_PRECISION = {"community": "community", "village": "community", "subdistrict": "subdistrict",
                        "district": "district"}


@dataclass
class GeocodeResult:
    """One answer.  ``to_record()`` gives the jsonl contract fields only."""

    query: str
    status: str = "unresolved"
    name: str | None = None
    kind: str | None = None
    precision: str | None = None
    geometry_type: str | None = None
    lon: float | None = None
    lat: float | None = None
    subdistrict: str | None = None
    source: str | None = None
    confidence: float | None = None
    suggestions: list[str] = field(default_factory=list)
    id: str | None = None
    district: str | None = None
    geometry: Any = None            # shapely geometry, WGS-84
    length_m: float | None = None   # for lines (a road segment)
    method: str | None = None       # how the answer was reached

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_record(self) -> dict:
        return {k: getattr(self, k) for k in CONTRACT_FIELDS}

    def to_feature(self) -> dict:
        props = self.to_record()
        props.update(id=self.id, district=self.district, length_m=self.length_m, method=self.method)
        return {"type": "Feature", "properties": props,
                "geometry": mapping(self.geometry) if self.geometry is not None else None}


@dataclass
class _Row:
    name: str
    kind: str
    geometry: Any
    id: str | None = None
    subdistrict: str | None = None
    district: str | None = None
    precision: str | None = None
    source: str | None = None
    confidence: float | None = None
    override: bool = False


def representative_point(geom) -> Point:
    """A point ON or IN the geometry: the middle of a line, a point on a polygon's surface."""
    if isinstance(geom, Point):
        return geom
    if isinstance(geom, (LineString, MultiLineString)):
        return geom.interpolate(0.5, normalized=True)
    return geom.point_on_surface()


def _text(value) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    text = str(value).strip()
    return text or None


def _aliases(value) -> list[str]:
    if value is None or (isinstance(value, float) and value != value):
        return []
    if isinstance(value, str):
        return [a.strip() for a in value.split("|") if a.strip()]
    return [str(a).strip() for a in value if str(a).strip()]


def _records(frame) -> list[dict]:
    """``frame.to_dict("records")`` (missing values of nullable columns as None), built column
    by column: 5x faster on the gazetteer's Arrow-backed string columns."""
    import pandas as pd

    columns = [str(c) for c in frame.columns]
    values = []
    for c in frame.columns:
        col = frame[c].to_numpy(dtype=object).tolist()
        if any(v is pd.NA for v in col):
            col = [None if v is pd.NA else v for v in col]
        values.append(col)
    return [dict(zip(columns, row)) for row in zip(*values)]


class Geocoder(RelationalForms):
    """Resolve names and addresses against a gazetteer (plus optional overrides / online).

    ``gazetteer``: a :class:`reportatlas.gazetteer.Gazetteer`, its ``entries`` GeoDataFrame,
    a path to a gazetteer file, or None for the committed one.  ``overrides``: None for the
    default files (geodata/overrides.csv|geojson if present), or a list of paths and/or
    :class:`~reportatlas.overrides.Override` objects ([] for none).  ``online``: an
    :class:`~reportatlas.online.OnlineGeocoder` or None (offline, the default).
    ``crossing_tolerance_m``: two road lines that come this close meet there;
    ``extend_roads_m``: lines that do not meet are prolonged straight by up to this much to find
    their crossing (derived road lines often stop short; 0 turns it off).
    ``context_fallback``: when True, a name that cannot be resolved at all but comes with a
    ``context`` 街道 resolves to that 街道 (precision "subdistrict", method says so).
    """

    def __init__(self, gazetteer=None, *, overrides=None, online=None, overrides_datum: str | None = None,
                 context_fallback: bool = False, crossing_tolerance_m: float = 400.0,
                 extend_roads_m: float = 2500.0):
        from .overrides import Override, default_override_files, load_overrides

        entries = self._entries(gazetteer)
        items = list(default_override_files() if overrides is None else overrides)
        loaded: list[Override] = []
        for item in items:
            loaded += [item] if isinstance(item, Override) else load_overrides(item, datum=overrides_datum)
        rows: list[_Row] = [
            _Row(name=o.name, kind=o.kind, geometry=o.geometry, id=f"override:{o.name}", subdistrict=o.subdistrict,
                 precision="exact", source=o.source, confidence=1.0, override=True) for o in loaded]
        # (the kind of an override without one is filled in below from the entry it replaces)
        aliases: list[list[str]] = [o.aliases for o in loaded]
        for rec in entries:
            geom = rec.get("geometry")
            if geom is not None and getattr(geom, "is_empty", True):
                geom = None
            conf = rec.get("confidence")
            rows.append(_Row(name=_text(rec.get("name")) or "", kind=_text(rec.get("kind")) or "other",
                             geometry=geom, id=_text(rec.get("id")), subdistrict=_text(rec.get("subdistrict")),
                             district=_text(rec.get("district")), precision=_text(rec.get("precision")),
                             source=_text(rec.get("source")),
                             confidence=None if conf is None or conf != conf else float(conf)))
            aliases.append(_aliases(rec.get("aliases")))
        kinds = {normalize(r.name): r.kind for r in reversed(rows) if not r.override}
        for r in rows:  # an override without a kind keeps the kind of the entry it replaces
            if r.override and r.kind == "override":
                r.kind = kinds.get(normalize(r.name), "override")
        self.rows = rows
        self.index = NameIndex.build([r.name for r in rows], aliases, [r.kind for r in rows])
        self.online = online
        self.context_fallback = context_fallback
        self.tolerance = crossing_tolerance_m
        self.extend = extend_roads_m
        self._metric: dict[int, Any] = {}
        self._memo: dict[tuple, GeocodeResult] = {}
        self._ctx: str | None = None   # the context of the query being answered
        self._areas = {k: [(i, r) for i, r in enumerate(rows) if r.kind == k and r.geometry is not None
                           and r.geometry.geom_type in ("Polygon", "MultiPolygon")]
                       for k in ("subdistrict", "district")}
        self._area_tree = {k: shapely.STRtree([r.geometry for _, r in v]) for k, v in self._areas.items()}
        self._subdistrict_names = sorted({r.name for r in rows if r.kind == "subdistrict"}
                                         | {r.subdistrict for r in rows if r.subdistrict})
        self._district_names = sorted({r.name for r in rows if r.kind == "district"} | {r.district for r in rows if r.district})
        self._crossings_by_road: dict[str, list[int]] = {}
        self._crossings = self._crossing_index()
        self._known_variants: dict[str, list[str]] = {}   # road name → its section names the gazetteer knows
        # administrative prefixes dropped from the front of an address, outermost first
        self._prefixes = _ADMIN_PREFIXES + tuple(sorted({normalize(d) for d in self._district_names}, key=len, reverse=True)) \
            + tuple(sorted({normalize(d) for d in self._subdistrict_names}, key=len, reverse=True))

    # -- construction helpers -----------------------------------------------------------------
    @staticmethod
    def _entries(gazetteer) -> list[dict]:
        if gazetteer is None or isinstance(gazetteer, (str, Path)):
            from .gazetteer import load

            gazetteer = load(gazetteer) if gazetteer is not None else load()
        frame = getattr(gazetteer, "entries", gazetteer)
        if frame is None:
            return []
        if hasattr(frame, "crs") and frame.crs is not None and frame.crs.to_epsg() != 4326:
            frame = frame.to_crs(4326)
        if hasattr(frame, "to_dict"):
            return _records(frame)
        return list(frame)

    def _crossing_index(self) -> dict[frozenset, list[int]]:
        out: dict[frozenset, list[int]] = {}
        for i, row in enumerate(self.rows):
            if row.kind != "crossing" or row.geometry is None:
                continue
            key = normalize(row.name)
            found = rel.parse_crossing(key) or rel.parse_crossing(key + "交叉口")
            if found:
                pair = self._pair(found.a, found.b)
                out.setdefault(pair, []).append(i)
                for road in pair:
                    self._crossings_by_road.setdefault(road, []).append(i)
        return out

    @staticmethod
    def _pair(a: str, b: str) -> frozenset:
        return frozenset({road_key(normalize(a)) or normalize(a), road_key(normalize(b)) or normalize(b)})

    # -- public API -------------------------------------------------------------------------
    def geocode(self, query: str, *, context: str | None = None, place_type: str | None = None) -> GeocodeResult:
        if query is None or not str(query).strip():
            raise InputError("empty query: give a place name or an address, e.g. 煤机路 or 中原路与桐柏路交叉口")
        query = str(query).strip()
        ctx = self.resolve_context(context) if context else None
        memo_key = (query, ctx, place_type)
        if memo_key in self._memo:
            return self._memo[memo_key]
        self._ctx = ctx
        try:
            result = self._geocode(query, ctx, place_type)
        finally:
            self._ctx = None
        self._memo[memo_key] = result
        return result

    def geocode_many(self, queries: Iterable, *, context: str | None = None) -> list[GeocodeResult]:
        """Each item a query string, or a (query, context) pair overriding ``context``."""
        out = []
        for item in queries:
            q, c = (item if isinstance(item, tuple) else (item, context))
            out.append(self.geocode(q, context=c))
        return out

    def resolve_context(self, context: str) -> str:
        """An article's 街道 (or a district) by any usual spelling → its full name."""
        key = normalize(context)
        for cand in (key, key + "街道", key.removesuffix("办事处") + "街道" if key.endswith("办事处") else key):
            for name in self._subdistrict_names + self._district_names:
                if normalize(name) == cand:
                    return name
        raise NotFoundError(f"unknown 街道 {context!r} for --context",
                            self._closest(context, self._subdistrict_names + self._district_names))

    # -- the ladder ---------------------------------------------------------------------------
    def _geocode(self, query: str, ctx: str | None, place_type: str | None) -> GeocodeResult:
        key = normalize(query)
        stripped = key
        for prefix in self._prefixes:
            if stripped.startswith(prefix) and len(stripped) > len(prefix):
                stripped = stripped[len(prefix):]
        keys = list(dict.fromkeys((key, stripped)))
        prefer = PREFERRED_KINDS.get(place_type or "", frozenset())
        result = None
        for k in keys:  # own name or alias; loose variants too when the hint wants another kind
            hits = list(self.index.exact.get(k, ()))
            if hits and prefer and not any(self.rows[i].kind in prefer for i, _ in hits):
                hits += self.index.loose(k)
            if hits and (result := self._pick(query, hits, ctx, place_type)) is not None:
                break
        if result is None:
            result = self._relational(query, stripped, ctx)
        if result is None and rel.parse_extent(stripped) is not None:
            # an extent whose bounding roads are not all known: naming one of them would mislead
            return GeocodeResult(query=query, suggestions=self.index.suggest(query),
                                 method="extent: not every bounding road is known")
        if result is None:
            for k in keys:
                hits = self.index.loose(k)
                if hits and (result := self._pick(query, hits, ctx, place_type)) is not None:
                    break
        if result is None:
            result = self._road_from_crossings(query, stripped)
        if result is None:
            result = self._contained(query, key, ctx, place_type)
        if self.online is not None and (result is None or rank(result.precision) >= rank("nearby")):
            online = self._online(query)
            if online is not None and (result is None or rank(online.precision) < rank(result.precision)):
                result = online
        coarse = result is not None and rank(result.precision) > rank("subdistrict") \
            and (result.method or "").startswith("the query names")   # "中原区XX广场", not 中原区 itself
        if ctx and self.context_fallback and (result is None or coarse):
            area = self._area_row(ctx)
            if area is not None and area.kind == "subdistrict":
                result = self._from_row(query, area, method=f"only the article's 街道 is known ({ctx})")
                result.confidence = round(min(result.confidence or 0.5, 0.5), 3)
        if result is None:
            return GeocodeResult(query=query, suggestions=self.index.suggest(query))
        return result

    def _pick(self, query: str, hits: list[tuple[int, int]], ctx: str | None, place_type: str | None):
        i = self._best(hits, ctx, place_type, query=query)
        quality = dict(hits)[i]
        row = self.rows[i]
        if quality == 2 and row.kind in STATION_KINDS and not STATION_SUFFIX.search(normalize(query)) \
                and place_type != "station":
            # 华山医院 → 华山医院站: the stop is named after the place, it is not the place
            return self._from_row(query, i, precision="nearby", confidence_factor=0.6,
                                  method=f"a station named after it ({row.name})")
        return self._from_row(query, i, method={0: "name", 1: "alias", 2: "name variant"}[quality])

    def _best(self, hits: list[tuple[int, int]], ctx: str | None, place_type: str | None, *,
              query: str | None = None) -> int:
        """The candidate to answer with: overrides, then in context, then of the hinted kind,
        then the name as written (三官庙街道 the 街道, not 三官庙街道办事处), name before alias
        before variant, then by kind, precision and confidence."""
        prefer = PREFERRED_KINDS.get(place_type or "", frozenset())

        def score(hit):
            i, quality = hit
            row = self.rows[i]
            return (not row.override, row.geometry is None, ctx is not None and not self._in_context(i, ctx),
                    bool(prefer) and row.kind not in prefer, query is not None and row.name != query, quality,
                    KIND_ORDER.get(row.kind, 12), rank(row.precision), -(row.confidence or 0))

        return min(hits, key=score)[0]

    def _in_context(self, i: int, ctx: str) -> bool:
        row = self.rows[i]
        if ctx in (row.subdistrict, row.district, row.name):
            return True
        if row.subdistrict or row.geometry is None:
            return False
        area = self._area_row(ctx)
        return area is not None and area.geometry.intersects(row.geometry)

    def _area_row(self, name: str) -> _Row | None:
        for kind in ("subdistrict", "district"):
            for _, row in self._areas[kind]:
                if row.name == name:
                    return row
        return None

    def _where(self, point: Point, kind: str) -> str | None:
        hits = self._area_tree[kind].query(point, predicate="intersects")
        return self._areas[kind][int(hits[0])][1].name if len(hits) else None

    def _result(self, query: str, geometry, **fields) -> GeocodeResult:
        """A resolved answer.  Its point is on/in the geometry — on the part inside the context
        街道 when a line or area passes through it — and its 街道 is the one containing that point
        (None outside every known 街道: the entry's own label is not repeated for a point elsewhere)."""
        point = representative_point(geometry)
        ctx = self._ctx
        if ctx and geometry.geom_type != "Point" and fields.get("kind") not in ("district", "subdistrict"):
            area = self._area_row(ctx)
            if area is not None and area.geometry.intersects(geometry):
                part = geometry.intersection(area.geometry)
                if not part.is_empty:
                    point = representative_point(part) if part.geom_type != "GeometryCollection" \
                        else part.representative_point()
        fields.pop("subdistrict", None)
        # the 街道 of the point as returned (rounded): a road that bounds its 街道 gives a point
        # on the boundary, which rounding may move to either side
        point = Point(round(point.x, 7), round(point.y, 7))
        res = GeocodeResult(query=query, status="ok", geometry=geometry, geometry_type=geometry.geom_type,
                            lon=point.x, lat=point.y,
                            subdistrict=self._where(point, "subdistrict"), **fields)
        if res.district is None:
            res.district = self._where(point, "district")
        if fields.get("kind") == "district":
            res.subdistrict = None
        if res.confidence is not None:
            res.confidence = round(float(res.confidence), 3)
        return res

    def _from_row(self, query: str, i_or_row, *, method: str, precision: str | None = None,
                  confidence_factor: float = 1.0) -> GeocodeResult | None:
        """The result for one entry; an entry without geometry climbs to its 街道, then district."""
        row = self.rows[i_or_row] if isinstance(i_or_row, int) else i_or_row
        conf = (row.confidence if row.confidence is not None else 0.5) * confidence_factor
        geometry = row.geometry
        if geometry is None:
            for level, parent in (("subdistrict", row.subdistrict), ("district", row.district)):
                area = self._area_row(parent) if parent else None
                if area is not None:
                    geometry, precision = area.geometry, level
                    method += f"; no position of its own, only its {'街道' if level == 'subdistrict' else '区'} {parent}"
                    conf = min(conf, area.confidence or 0.5)
                    break
            else:
                return None
        return self._result(query, geometry, name=row.name, kind=row.kind, precision=precision or row.precision,
                            subdistrict=row.subdistrict, source=row.source, confidence=conf,
                            id=row.id, district=row.district, method=method)

    # -- names inside the query -------------------------------------------------------------------
    def _contained(self, query: str, key: str, ctx: str | None, place_type: str | None) -> GeocodeResult | None:
        best = None
        taken: list[tuple[int, int]] = []
        for start, end, word in self.index.contained(key):
            if len(word) < 3 or word == key or any(s < end and start < e for s, e in taken):
                continue
            i = self._best(self.index.lookup(word), ctx, place_type)
            row = self.rows[i]
            if row.geometry is None and not (row.subdistrict or row.district):
                continue
            if ctx and row.kind not in ("subdistrict", "district") and not self._in_context(i, ctx):
                continue  # "保利商业街" in 中原西路街道's article is not 上街区's 商业街社区
            taken.append((start, end))
            if row.kind == "road":
                precision = "road" if _HOUSE_NUMBER.match(key[end:]) else "nearby"
            else:
                precision = _CONTAINED_PRECISION.get(row.kind, "nearby")
            if best is None or (rank(precision), -(end - start)) < (rank(best[0]), -best[2]):
                best = (precision, i, end - start)
        if best is None:
            return None
        precision, i, _ = best
        factor = {"road": 0.8, "nearby": 0.5}.get(precision, 0.7)
        return self._from_row(query, i, precision=precision, confidence_factor=factor,
                              method=f"the query names {self.rows[i].name} ({self.rows[i].kind})")

    def _online(self, query: str) -> GeocodeResult | None:
        hit = self.online.lookup(query)
        if hit is None:
            return None
        return self._result(query, Point(hit.lon, hit.lat), name=hit.name, kind="online", precision=hit.precision,
                            source=hit.source, confidence=0.6, method=f"online geocoder ({hit.datum_in} → WGS-84)")

    def _closest(self, text: str, names: list[str], limit: int = 5) -> list[str]:
        import difflib

        return difflib.get_close_matches(text, names, n=limit, cutoff=0.3) or names[:limit]
