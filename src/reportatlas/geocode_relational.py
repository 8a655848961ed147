"""The relational forms of the geocoder's ladder (step 2 of :mod:`reportatlas.geocode`).

A segment "X路(A路-B路)" → the part of road X between its crossings with A and B; a crossing
"A路与B路交叉口(向北300米)" → a crossing entry, or where the two road lines meet (or nearly
meet, or would meet prolonged), moved by the stated offset, trying other section names of
either road (嵩山路 for 嵩山北路) when the names as written do not meet; an extent "东起…西至…
南起…北至…" → the polygon between the four roads.  Geometry is worked in metres
(:mod:`reportatlas.relational`).

:class:`RelationalForms` is a part of :class:`reportatlas.geocode.Geocoder`: it uses the
Geocoder's rows, name index, crossing indexes and its ``_best``/``_result``/``_from_row``.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

import shapely

from . import relational as rel
from .nameindex import normalize, road_key

if TYPE_CHECKING:  # pragma: no cover
    from .geocode import GeocodeResult

#: a derived road line shorter than this is too short to prolong (its direction is noise)
SHORT_LINE_M = 300.0


class RelationalForms:
    """Segments, crossings and extents; mixed into the Geocoder."""

    def _line(self, name: str, ctx: str | None) -> int | None:
        """The road (a line) by this name, best in context; None when unknown."""
        hits = [(i, q) for i, q in self.index.lookup(normalize(name))
                if self.rows[i].geometry is not None and self.rows[i].geometry.geom_type in ("LineString", "MultiLineString")]
        return self._best(hits, ctx, "road") if hits else None

    def _m(self, i: int):
        if i not in self._metric:
            self._metric[i] = rel.to_metric(self.rows[i].geometry)
        return self._metric[i]

    def _relational(self, query: str, key: str, ctx: str | None) -> GeocodeResult | None:
        seg = rel.parse_segment(key)
        if seg is not None:
            return self._segment(query, seg, ctx)
        crossing = rel.parse_crossing(key)
        if crossing is None:
            m = re.fullmatch(rf"({rel._ROAD})({rel._ROAD})", key)
            if m and self._line(m.group(1), ctx) is not None and self._line(m.group(2), ctx) is not None:
                crossing = rel.Crossing(m.group(1), m.group(2))
        if crossing is not None:
            return self._crossing(query, crossing, ctx)
        extent = rel.parse_extent(key)
        if extent is not None:
            return self._extent(query, extent, ctx)
        return None

    def _crossing_metric(self, a: str, b: str, ctx: str | None):
        """(point in metres, confidence, source, method, entry row or None) of the crossing of
        roads a and b, from the best evidence there is, in this order: a crossing entry or the
        two lines meeting (within the tolerance); the same for another section name of either
        road (嵩山路 for 嵩山北路); the lines prolonged, or a road known only as a point."""
        pairs = None
        for weak in (False, True):
            found = self._pair_metric(a, b, ctx, weak=weak)
            if found is not None:
                return found
            pairs = self._variant_pairs(a, b) if pairs is None else pairs
            variants = [(got, va, vb) for va, vb in pairs
                        if (got := self._pair_metric(va, vb, ctx, weak=weak)) is not None]
            if variants:   # the most confident; the first of equals
                (point, conf, source, method, _), va, vb = max(variants, key=lambda v: v[0][1])
                said = "、".join(f"{new} for {old}" for old, new in ((a, va), (b, vb)) if old != new)
                return point, conf * 0.7, source, f"{method} (taking {said}: another section of the same road)", None
        return None

    def _variant_pairs(self, a: str, b: str) -> list[tuple[str, str]]:
        """(a', b') where a' is a or another section name of a that the gazetteer knows, same for b."""
        memo = self._known_variants

        def known(name):
            if name not in memo:
                memo[name] = [v for v in rel.road_variants(name) if self.index.lookup(normalize(v))]
            return memo[name]
        va, vb = known(a), known(b)
        return [(a, y) for y in vb] + [(x, b) for x in va] + [(x, y) for x in va for y in vb]

    def _pair_metric(self, a: str, b: str, ctx: str | None, *, weak: bool):
        """The crossing of a and b: weak=False from a crossing entry or the two lines meeting;
        weak=True from the lines prolonged straight or a road known only as a point."""
        known = self._crossings.get(self._pair(a, b))
        if known:
            if weak:
                return None
            i = self._best([(j, 0) for j in known], ctx, "crossing")
            row = self.rows[i]
            return self._m(i), row.confidence or 0.5, row.source, "crossing entry", row
        ia, ib = self._line(a, ctx), self._line(b, ctx)
        if (ia is None) != (ib is None):
            return self._line_meets_point(ia if ia is not None else ib, b if ia is not None else a, ctx) if weak else None
        if ia is None or ib is None:
            return None
        base = min(self.rows[ia].confidence or 0.5, self.rows[ib].confidence or 0.5)
        if not weak:
            near = None
            if ctx and (area := self._area_row(ctx)) is not None:
                near = rel.to_metric(area.geometry.point_on_surface())
            found = rel.crossing_point(self._m(ia), self._m(ib), tolerance=self.tolerance, near=near)
            if found is None:
                return None
            point, gap = found
            conf = base * (1 - 0.5 * gap / self.tolerance)
            method = ("intersection of the two road lines" if gap == 0
                      else f"closest approach of the two road lines ({gap:.0f} m apart)")
        elif min(self._m(ia).length, self._m(ib).length) < SHORT_LINE_M:
            # a line of a few hundred metres has no reliable direction to prolong: its middle
            # is as much as it says (牡丹路 from two points 140 m apart)
            short, long_ = (ia, ib) if self._m(ia).length < self._m(ib).length else (ib, ia)
            return self._nearest_on_line(long_, short, f"the short line ({self._m(short).length:.0f} m)")
        elif self.extend and (found := rel.extended_crossing(self._m(ia), self._m(ib), extend=self.extend)):
            point, beyond = found
            conf = base * 0.5 * (1 - beyond / self.extend)
            method = f"where the two road lines would cross, prolonged straight ({beyond:.0f} m past the known line)"
        else:
            return None
        return point, conf, f"{self.rows[ia].source}; {self.rows[ib].source}", method, None

    def _line_meets_point(self, il: int, other: str, ctx: str | None):
        """Road ``other`` has no line, only a point (one stop or house number): its crossing with
        road line ``il`` is taken as the point of the line nearest to it, if within 1 km."""
        hits = [(i, q) for i, q in self.index.lookup(normalize(other))
                if self.rows[i].kind == "road" and self.rows[i].geometry is not None
                and self.rows[i].geometry.geom_type == "Point"]
        if not hits:
            return None
        return self._nearest_on_line(il, self._best(hits, ctx, "road"), "the one known point")

    def _nearest_on_line(self, il: int, ip: int, what: str):
        """The point of road line ``il`` nearest to road ``ip`` (a point, or a line too short to
        have a direction), if within 1 km; low confidence."""
        line, other = self._m(il), self._m(ip)
        point = other if other.geom_type == "Point" else other.centroid
        on_line = line.interpolate(line.project(point))
        gap = on_line.distance(point)
        if gap > 1000:
            return None
        conf = min(self.rows[il].confidence or 0.5, self.rows[ip].confidence or 0.5) * 0.5 * (1 - gap / 2000)
        method = f"the point of {self.rows[il].name} nearest to {what} of {self.rows[ip].name} ({gap:.0f} m)"
        return on_line, conf, f"{self.rows[il].source}; {self.rows[ip].source}", method, None

    def _crossing(self, query: str, c: rel.Crossing, ctx: str | None) -> GeocodeResult | None:
        found = self._crossing_metric(c.a, c.b, ctx)
        if found is None:
            for road in (c.a, c.b):  # one road known: the place is on it
                i = self._line(road, ctx)
                if i is not None:
                    return self._from_row(query, i, precision="road", confidence_factor=0.6,
                                          method=f"on {self.rows[i].name}; its crossing with the other road is unknown")
            return None
        point, conf, source, method, row = found
        if c.direction and c.metres:
            point = rel.offset(point, c.direction, c.metres)
            method += f", moved {c.metres:g} m {c.direction}"
        name = f"{self._canonical_road(c.a, ctx)}与{self._canonical_road(c.b, ctx)}交叉口"
        return self._result(query, rel.to_wgs84(point), name=row.name if row and not c.metres else name,
                            kind="crossing", precision="intersection", source=source, confidence=conf,
                            id=row.id if row and not c.metres else None, method=method)

    def _road_from_crossings(self, query: str, key: str) -> GeocodeResult | None:
        """A road with no line of its own, but named in known crossings: those points are on it."""
        if not re.fullmatch(rel._ROAD, key):
            return None
        rows = self._crossings_by_road.get(road_key(key) or key)
        if not rows:
            return None
        points = shapely.MultiPoint([self.rows[i].geometry for i in rows]).normalize()
        geometry = points.geoms[0] if len(points.geoms) == 1 else points
        conf = 0.6 * max(self.rows[i].confidence or 0.5 for i in rows)
        return self._result(query, geometry, name=query, kind="road", precision="road", confidence=conf,
                            source="; ".join(sorted({self.rows[i].source or "" for i in rows})),
                            method=f"no line for this road; {len(rows)} known crossing(s) on it")

    def _canonical_road(self, name: str, ctx: str | None) -> str:
        i = self._line(name, ctx)
        return self.rows[i].name if i is not None else name

    def _segment(self, query: str, s: rel.Segment, ctx: str | None) -> GeocodeResult | None:
        ix = self._line(s.road, ctx)
        if ix is None:
            return None
        x = self._m(ix)
        # each end: the crossing of X with the bounding road, found as for "X与A交叉口"
        ends = [self._crossing_metric(s.road, other, ctx) for other in (s.a, s.b)]
        row = self.rows[ix]
        if None in ends:
            res = self._from_row(query, ix, precision="road", confidence_factor=0.6,
                                 method="the whole road: a bounding crossing is unknown")
            res.length_m = round(x.length, 1)
            return res
        part = rel.segment_between(x, ends[0][0], ends[1][0])
        if part.length <= 0:
            return None
        name = f"{row.name}（{self._canonical_road(s.a, ctx)}—{self._canonical_road(s.b, ctx)}）"
        res = self._result(query, rel.to_wgs84(part), name=name, kind="road", precision="road", source=row.source,
                           confidence=(row.confidence or 0.5) * 0.9, id=row.id,
                           method="part of the road line between its crossings with the two named roads")
        res.length_m = round(part.length, 1)
        return res

    def _extent(self, query: str, e: rel.Extent, ctx: str | None) -> GeocodeResult | None:
        lines = []
        for name in (e.east, e.west, e.south, e.north):
            i = self._line(name, ctx)
            if i is None:
                return None
            lines.append(self._m(i))
        try:
            polygon, method = rel.extent_polygon(*lines)
        except ValueError:
            return None
        res = self._result(query, rel.to_wgs84(polygon), name=query, kind="zone", precision="road",
                           source="derived from the bounding roads", confidence=0.5, method=method)
        res.length_m = None
        return res
