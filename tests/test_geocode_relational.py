"""Parsing relational place descriptions (crossings, segments, extents) and their geometry."""
from __future__ import annotations

import pytest
from shapely.geometry import LineString, Point

from reportatlas import relational as rel
from reportatlas.nameindex import normalize


@pytest.mark.parametrize("text,a,b,direction,metres", [
    ("甲一路与乙二路交叉口", "甲一路", "乙二路", None, None),
    ("甲一路乙二路交叉口向南100路东", "甲一路", "乙二路", "南", 100),         # bare number = metres
    ("甲一路与乙二路交叉口向北300米路东某店", "甲一路", "乙二路", "北", 300),
    ("甲一路和乙二街交汇处东北角50米", "甲一路", "乙二街", "东北", 50),
    ("甲一路与乙二路交叉口向南五十米", "甲一路", "乙二路", "南", 50),         # Chinese numerals
    ("甲一路与乙二路交叉口往西二百五十米", "甲一路", "乙二路", "西", 250),
    ("甲一路与乙二路交叉口北1.2公里", "甲一路", "乙二路", "北", 1200),
    ("某市某区甲一路与乙二路交叉口", "甲一路", "乙二路", None, None),         # administrative prefix
    ("甲一路101号（与乙二路交叉口）", "甲一路", "乙二路", None, None),        # said in brackets
    ("甲一路56号(乙二路交叉口东北角)", "甲一路", "乙二路", None, None),
    ("甲一路与乙二路西南角", "甲一路", "乙二路", None, None),
    ("西九环与乙二路交叉口", "西九环", "乙二路", None, None),                 # ring roads end in 环
])
def test_parse_crossing(text, a, b, direction, metres):
    found = rel.parse_crossing(normalize(text))
    assert found == rel.Crossing(a, b, direction, None if metres is None else float(metres))


@pytest.mark.parametrize("text", ["党建与业务融合", "甲一路", "甲一路306号", "某某社区与某某村", "东起甲路"])
def test_not_a_crossing(text):
    assert rel.parse_crossing(normalize(text)) is None


@pytest.mark.parametrize("text", ["丙三路（甲一路—乙二路）", "丙三路(甲一路-乙二路)", "丙三路甲一路至乙二路段",
                                  "丙三路（甲一路至乙二路段）", "丙三路从甲一路到乙二路段"])
def test_parse_segment(text):
    assert rel.parse_segment(normalize(text)) == rel.Segment("丙三路", "甲一路", "乙二路")


def test_parse_extent_in_any_order():
    found = rel.parse_extent(normalize("辖区北至丁路，南起丙路，东起甲路，西至乙路，面积约3平方公里"))
    assert found == rel.Extent(east="甲路", west="乙路", south="丙路", north="丁路")
    assert rel.parse_extent("东起甲路，西至乙路") is None


def test_crossing_point_prefers_the_line_that_runs_through():
    through = LineString([(0, 0), (1000, 0)])
    short = LineString([(400, 150), (400, 900)])        # stops 150 m short
    point, gap = rel.crossing_point(short, through, tolerance=300)
    assert gap == pytest.approx(150) and point.equals(Point(400, 0))
    assert rel.crossing_point(short, through, tolerance=100) is None


def test_extended_crossing_prolongs_lines_that_stop_short():
    through = LineString([(0, 0), (1000, 0)])
    far = LineString([(400, 1500), (400, 3000)])
    assert rel.crossing_point(far, through, tolerance=400) is None
    point, beyond = rel.extended_crossing(far, through, extend=2000)
    assert point.equals(Point(400, 0)) and beyond == pytest.approx(1500)
    assert rel.extended_crossing(far, through, extend=1000) is None
    parallel = LineString([(0, 100), (1000, 100)])
    assert rel.extended_crossing(parallel, through, extend=5000) is None


def test_crossing_point_picks_the_intersection_nearest_context():
    ring = LineString([(0, 0), (1000, 0), (1000, 1000), (0, 1000)])
    across = LineString([(500, -100), (500, 1100)])
    point, _ = rel.crossing_point(across, ring, near=Point(500, 900))
    assert point.equals(Point(500, 1000))


def test_offset_directions():
    assert rel.offset(Point(0, 0), "北", 300).equals(Point(0, 300))
    p = rel.offset(Point(0, 0), "东南", 100)
    assert p.x == pytest.approx(70.71, abs=0.01) and p.y == pytest.approx(-70.71, abs=0.01)


def test_metric_round_trip_is_lossless():
    p = Point(113.6, 34.75)
    back = rel.to_wgs84(rel.to_metric(p))
    assert back.x == pytest.approx(113.6, abs=1e-9) and back.y == pytest.approx(34.75, abs=1e-9)


# --- properties ----------------------------------------------------------------------------------

from hypothesis import given, settings, strategies as st  # noqa: E402

from reportatlas.nameindex import normalize as _normalize  # noqa: E402

DIRECTIONS = ["东", "西", "南", "北", "东北", "东南", "西北", "西南"]


@settings(max_examples=60, deadline=None)
@given(direction=st.sampled_from(DIRECTIONS), metres=st.integers(min_value=1, max_value=5000))
def test_offset_is_parsed_and_applied_exactly(direction, metres):
    found = rel.parse_crossing(_normalize(f"甲一路与乙二路交叉口向{direction}{metres}米"))
    assert found.direction == direction and found.metres == metres
    moved = rel.offset(Point(500000, 3800000), found.direction, found.metres)
    assert moved.distance(Point(500000, 3800000)) == pytest.approx(metres, rel=1e-9)


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="东西路街道村社区委会办事处站（）() 　ＡＢ12３与-—", min_size=1, max_size=20))
def test_normalize_is_idempotent(text):
    once = _normalize(text)
    assert _normalize(once) == once
