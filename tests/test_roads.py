"""Crossings moved to where the two roads, fitted locally as straight lines, cross."""
from __future__ import annotations

import numpy as np
import pytest

from reportatlas.gazetteer import roads as R
from reportatlas.gazetteer.datum import from_metric, to_metric

X0, Y0 = to_metric([113.60], [34.75])
X0, Y0 = float(X0[0]), float(Y0[0])


def _wgs(points):
    """(lon, lat, key) for points given in metres from a made-up origin in western Zhengzhou."""
    lon, lat = from_metric([X0 + x for x, _ in points], [Y0 + y for _, y in points])
    return [(float(a), float(b), f"k{i}") for i, (a, b) in enumerate(zip(lon, lat))]


def _crossing_at(x, y):
    lon, lat = from_metric([X0 + x], [Y0 + y])
    return {"a": "甲路", "b": "乙路", "lon": float(lon[0]), "lat": float(lat[0])}


def _offset_m(c, x, y):
    cx, cy = to_metric([c["lon"]], [c["lat"]])
    return float(np.hypot(cx[0] - X0 - x, cy[0] - Y0 - y))


def test_stops_on_one_side_are_moved_to_the_junction():
    # 甲路 runs west–east along y = 0, 乙路 south–north along x = 0; both stops named for the
    # crossing stand 130-170 m east of it on 甲路, so their median is 150 m off
    road_pts = {"甲路": _wgs([(130, 5), (170, -5), (-600, 3), (-900, -4), (700, 2)]),
                "乙路": _wgs([(4, 400), (-3, 800), (2, -500), (-2, -900)])}
    c = _crossing_at(150, 0)
    R.refine_crossings([c], road_pts)
    assert _offset_m(c, 0, 0) < 10
    assert c["fitted_shift_m"] == pytest.approx(150, abs=10)


def test_a_sideways_outlier_does_not_bend_the_fit():
    road_pts = {"甲路": _wgs([(130, 5), (170, -5), (-600, 3), (-300, 250), (700, 2)]),   # (-300, 250): a namesake
                "乙路": _wgs([(4, 400), (-3, 800), (2, -500)])}
    c = _crossing_at(150, 0)
    R.refine_crossings([c], road_pts)
    assert _offset_m(c, 0, 0) < 15


@pytest.mark.parametrize("road_pts", [
    {"甲路": _wgs([(130, 5), (170, -5), (-600, 3)]), "乙路": _wgs([(0, 5000), (0, 5600)])},   # 乙路's points far away
    {"甲路": _wgs([(130, 5), (170, -5), (-600, 3)]), "乙路": _wgs([(300, 60), (-400, -150)])},  # meets at < 30°
    {"甲路": _wgs([(130, 5), (170, -5), (-600, 3)]), "乙路": _wgs([(0, 40), (0, 90)])},        # spans < 150 m
    {"甲路": _wgs([(130, 5), (170, -5), (-600, 3)])},                                            # 乙路 unknown
])
def test_no_move_without_a_clear_second_line(road_pts):
    c = _crossing_at(150, 0)
    before = (c["lon"], c["lat"])
    R.refine_crossings([c], road_pts)
    assert (c["lon"], c["lat"]) == before and c["fitted_shift_m"] is None


def test_a_move_beyond_the_limit_is_refused():
    road_pts = {"甲路": _wgs([(-600, 3), (-900, -4), (700, 2), (900, 0)]),
                "乙路": _wgs([(4, 400), (-3, 800), (2, -500)])}
    c = _crossing_at(500, 0)      # 500 m from where the lines cross
    R.refine_crossings([c], road_pts, max_shift_m=400)
    assert c["fitted_shift_m"] is None and _offset_m(c, 500, 0) < 1e-3


@pytest.mark.parametrize("address,pair", [
    ("甲一路与乙二路交叉口向北100米", ("甲一路", "乙二路")),
    ("甲一路乙二路交叉口向南100路东", ("甲一路", "乙二路")),          # no 与
    ("甲一路101号(与乙二路交叉口)", ("甲一路", "乙二路")),            # said in brackets
    ("甲一路与乙二街西南角某店", ("甲一路", "乙二街")),               # a corner, no crossing word
    ("某某街道丙三老街十字路口西北角1号", None),                      # a 街道, not two streets
    ("某某大学东门甲一路与乙二路向东200米", None),                    # a place run into the road name
    ("甲一路306号", None),
])
def test_crossing_addresses_the_geocoder_reads_are_evidence(address, pair):
    assert R.parse_crossing(address) == pair


def test_house_numbers_join_the_local_fit_without_changing_the_evidence():
    road_pts = {"甲路": [(113.60, 34.75, "stop:1")]}
    pois = [{"key": "poi:1", "address": "甲路12号", "lon": 113.61, "lat": 34.75},
            {"key": "poi:2", "address": "甲路与乙路交叉口", "lon": 113.62, "lat": 34.75},
            {"key": "poi:3", "address": "丙路8号院", "lon": 113.63, "lat": 34.76},
            {"key": "stop:1", "address": "甲路3号", "lon": 113.60, "lat": 34.75}]    # already counted
    out = R.with_address_points(road_pts, pois)
    assert out["甲路"] == [(113.60, 34.75, "stop:1"), (113.61, 34.75, "poi:1")]
    assert out["丙路"] == [(113.63, 34.76, "poi:3")]
    assert road_pts == {"甲路": [(113.60, 34.75, "stop:1")]}


@pytest.mark.parametrize("address,pair", [
    ("甲一路与丙花里交叉口东北40米", ("甲一路", "丙花里")),   # a 里 lane crossing a road
    ("丙花里与丁木里交叉口", None),                          # two lanes: nothing says they are streets
    ("甲一路与西十里交叉口", None),                          # 十里: a distance / village, not a lane
])
def test_lanes_count_only_where_they_cross_a_road(address, pair):
    assert R.parse_crossing(address) == pair


def test_a_stop_named_for_a_lane_is_crossing_evidence():
    stops = [{"file": "1.json", "dir": 0, "seq": i, "name": n, "key": f"stop:{i}", "lon": 113.60 + i * 0.004, "lat": 34.75}
             for i, n in enumerate(["甲一路丙花里站", "甲一路乙二路站", "甲一路某某小区"])]
    _, cross = R.collect_evidence(stops, [])
    assert set(cross) == {R.crossing_key("甲一路", "丙花里"), R.crossing_key("甲一路", "乙二路")}


def test_road_provenance_follows_its_evidence():
    from reportatlas.gazetteer.build import _road_provenance

    by_stops = _road_provenance([(0, 0, "stop:1.json:0:3"), (0, 0, "x:stop")])
    by_pois = _road_provenance([(0, 0, "poi:12"), (0, 0, "x:poi")])
    both = _road_provenance([(0, 0, "stop:1.json:0:3"), (0, 0, "poi:12")])
    assert (by_stops["datum_in"], by_pois["datum_in"], both["datum_in"]) == ("bd09", "gcj02", "bd09+gcj02")
    assert "POI" not in by_stops["source"] and "bus" not in by_pois["source"] and "POI" in both["source"]
    assert "bus" in both["licence"] and "POI" in both["licence"]
