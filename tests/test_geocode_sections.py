"""Crossings named with another section of a road (嵩山北路 for 嵩山路) and offsets that are not offsets."""
from __future__ import annotations

import geopandas as gpd
import pytest
from pyproj import Geod
from shapely.geometry import LineString

from reportatlas import relational as rel
from reportatlas.geocode import Geocoder
from reportatlas.nameindex import normalize

# invented roads: 甲山路 runs south–north at lon 113.60 from lat 34.70 to 34.76; 甲山北路 is its
# northern section, known only from lat 34.80 on (2.4 km north of 丙河路, 4.4 km of 乙原路);
# 乙原路 runs west–east at lat 34.74; 丙河路 west–east at lat 34.78 (crosses 甲山北路's gap).
ROADS = [
    ("甲山路", LineString([(113.60, 34.70), (113.60, 34.76)])),
    ("甲山北路", LineString([(113.60, 34.80), (113.601, 34.83)])),
    ("乙原路", LineString([(113.55, 34.74), (113.65, 34.74)])),
    ("丙河西路", LineString([(113.55, 34.78), (113.58, 34.78)])),
    ("丁湖路", LineString([(113.62, 34.70), (113.62, 34.85)])),
    ("戊短路", LineString([(113.606, 34.730), (113.607, 34.7308)])),   # ~130 m, pointing north-east
]


def _coder(**kwargs) -> Geocoder:
    frame = gpd.GeoDataFrame(
        [dict(id=f"road:{n}", name=n, aliases="", kind="road", subdistrict=None, district="测试区", precision="road",
              source="test-fixture", datum_in="wgs84", licence="test", method="made up", evidence=3,
              confidence=0.8, geometry=g) for n, g in ROADS], crs=4326)
    return Geocoder(frame, overrides=[], **kwargs)


def _metres(res, lon, lat) -> float:
    return abs(Geod(ellps="WGS84").inv(res.lon, res.lat, lon, lat)[2])


def test_road_variants_are_other_sections_of_the_same_name():
    assert rel.road_variants("甲山北路")[0] == "甲山路"
    assert set(rel.road_variants("甲山北路")) == {"甲山路", "甲山东路", "甲山西路", "甲山南路", "甲山中路"}
    assert "乙原西路" in rel.road_variants("乙原路") and "乙原路" not in rel.road_variants("乙原路")
    assert rel.road_variants("西三环") == [] and rel.road_variants("路") == []


def test_crossing_with_a_section_the_lines_do_not_reach_uses_the_road_of_that_name():
    res = _coder().geocode("甲山北路与乙原路交叉口")
    assert res.precision == "intersection"
    assert _metres(res, 113.60, 34.74) < 5
    assert "甲山路 for 甲山北路" in res.method


def test_a_section_that_meets_the_other_road_itself_is_preferred():
    # 丁湖路 has no sections; 甲山北路 does not meet 乙原路 but 甲山路 does: the exact pair wins
    # whenever the exact lines meet (here 丁湖路 × 乙原路 at lon 113.62)
    res = _coder().geocode("丁湖路与乙原路交叉口")
    assert _metres(res, 113.62, 34.74) < 5 and "for" not in res.method


def test_section_found_by_prolonging_when_nothing_meets():
    # 丙河路 is unknown; its west section 丙河西路 ends 2 km west of 甲山路, and prolonged meets it
    res = _coder().geocode("甲山路与丙河路交叉口")
    assert res.precision == "intersection"
    assert _metres(res, 113.60, 34.78) < 5
    assert "丙河西路 for 丙河路" in res.method and "prolonged" in res.method
    assert res.confidence < _coder().geocode("甲山路与乙原路交叉口").confidence


def test_a_short_line_is_not_prolonged_along_its_noisy_direction():
    # prolonged south-west, 戊短路 would meet 甲山路 ~600 m south; its middle is 600 m east of
    # 甲山路 at lat 34.7304, so the crossing is taken there, at low confidence
    res = _coder().geocode("甲山路与戊短路交叉口")
    assert res.precision == "intersection" and "short line" in res.method
    assert _metres(res, 113.60, 34.7304) < 20
    assert res.confidence < 0.5


def test_no_section_no_invented_crossing():
    res = _coder().geocode("乙原路与戊江路交叉口")
    assert res.precision == "road" and "unknown" in res.method


@pytest.mark.parametrize("text,direction,metres", [
    ("甲一路与乙二路交叉口东南角一楼", None, None),            # a floor, not 1 m
    ("甲一路与乙二路交叉口西南角202号", None, None),           # a house number, not 202 m
    ("甲一路与乙二路交叉口向北300米楼上", "北", 300.0),
    ("甲一路与乙二路交叉口往北200路东", "北", 200.0),
])
def test_numbers_that_are_not_distances(text, direction, metres):
    found = rel.parse_crossing(normalize(text))
    assert (found.direction, found.metres) == (direction, metres)


def test_a_road_that_bounds_its_subdistrict_names_the_one_its_returned_point_is_in():
    # the 街道 polygons share an edge that is the road itself (as when a polygon is built from
    # its bounding roads): the point returned (rounded to 1e-7°) must lie in the 街道 named
    from shapely.geometry import Point, Polygon

    edge = [(113.5917815, 34.7031313), (113.6098862, 34.7971717)]
    west = Polygon([(113.50, 34.70), (edge[0][0], 34.70), *edge, (edge[1][0], 34.80), (113.50, 34.80)])
    east = Polygon([(113.70, 34.70), (edge[0][0], 34.70), *edge, (edge[1][0], 34.80), (113.70, 34.80)])
    rows = [dict(id=f"subdistrict:{n}", name=n, kind="subdistrict", subdistrict=n, precision="subdistrict",
                 confidence=0.6, geometry=g) for n, g in (("甲街道", west), ("乙街道", east))]
    rows.append(dict(id="road:界路", name="界路", kind="road", subdistrict=None, precision="road", confidence=0.8,
                     geometry=LineString(edge)))
    coder = Geocoder(gpd.GeoDataFrame(rows, crs=4326), overrides=[])
    for ctx in ("甲街道", "乙街道", None):
        res = coder.geocode("界路", context=ctx)
        assert res.subdistrict in ("甲街道", "乙街道")
        assert {"甲街道": west, "乙街道": east}[res.subdistrict].covers(Point(res.lon, res.lat)), ctx
