"""The geocoder's ladder, relational forms, context and unresolved names, on a made-up world."""
from __future__ import annotations

import pytest
from pyproj import Geod
from shapely.geometry import Point, shape

from reportatlas import relational as rel
from reportatlas.errors import InputError, NotFoundError, ReportAtlasError
from reportatlas.geocode import CONTRACT_FIELDS, Geocoder
from reportatlas.nameindex import normalize
from test_geocode_world import world, metres

GEOD = Geod(ellps="WGS84")


@pytest.fixture(scope="module")
def coder():
    return Geocoder(world(), overrides=[])


def pt(res):
    return (res.lon, res.lat)


def dist_to_line(point, line_coords):
    """Metres from a (lon, lat) point to a straight WGS-84 line (via EPSG:4547)."""
    from shapely.geometry import LineString

    return rel.to_metric(Point(point)).distance(rel.to_metric(LineString(line_coords)))


# --- ladder: exact, alias, variants -------------------------------------------------------------

def test_exact_name_returns_the_entry_position(coder):
    res = coder.geocode("须水站")
    assert res.status == "ok" and res.precision == "exact" and res.kind == "metro_station"
    assert pt(res) == pytest.approx((113.55, 34.76))
    assert res.subdistrict == "甲街道" and res.source == "test-fixture"
    assert set(res.to_record()) == set(CONTRACT_FIELDS)


def test_alias_resolves_to_its_entry(coder):
    res = coder.geocode("纺机老厂")
    assert res.ok and res.name == "老纺织厂" and res.method == "alias"


@pytest.mark.parametrize("query,name", [
    ("  須水站 ".replace("須", "须"), "须水站"),
    ("东西路　", "东西路"),              # full-width space
    ("东西大道", "东西路"),              # 路 / 大道 variants
    ("南北大街", "南北路"),
    ("乙街道办事处", "乙街道"),            # no office entry: the 街道 itself
    ("甲街道办事处", "甲街道办事处"),      # the office, a point
    ("甲街道", "甲街道"),                  # the area, not its office

    ("张庄村委会", "张庄村"),
    ("和平社区居委会", "和平社区"),
    ("郑州市测试区甲街道", "甲街道"),     # administrative prefixes
])
def test_name_variants(coder, query, name):
    res = coder.geocode(query)
    assert res.ok and res.name == name


def test_a_place_with_a_station_named_after_it_is_only_nearby(coder):
    res = coder.geocode("须水")
    assert res.name == "须水站" and res.precision == "nearby" and "named after" in res.method
    assert coder.geocode("须水", place_type="station").precision == "exact"


def test_names_inside_a_query_must_be_in_the_context_subdistrict(coder):
    assert coder.geocode("和平社区3号院", context="甲街道").name == "和平社区"
    res = coder.geocode("和平社区3号院", context="乙街道")   # 和平社区 is in 甲街道
    assert res.name != "和平社区"


def test_a_town_renamed_subdistrict_is_found_by_either_name():
    from reportatlas.nameindex import NameIndex

    index = NameIndex.build(["某水街道", "某水站"], [[], []], ["subdistrict", "bus_stop"])
    assert [row for row, _ in index.lookup(normalize("某水镇"))] == [0]
    assert [row for row, _ in index.lookup(normalize("某水乡"))] == [0]
    assert 0 not in [row for row, _ in index.lookup("某水")]      # the bare stem is not the 街道


def test_fullwidth_text_is_normalised():
    assert normalize("Ａ１路（东段）") == "a1路(东段)"


def test_road_result_point_lies_on_the_road(coder):
    res = coder.geocode("东西路")
    assert res.geometry_type == "LineString" and res.precision == "road"
    assert res.lat == pytest.approx(34.75) and res.lon == pytest.approx(113.60)


def test_district_result_has_no_single_subdistrict(coder):
    res = coder.geocode("测试区")
    assert res.kind == "district" and res.subdistrict is None and res.district == "测试区"


def test_polygon_result_point_is_inside(coder):
    res = coder.geocode("乙街道")
    assert res.precision == "subdistrict"
    assert res.geometry.contains(Point(pt(res)))


# --- relational forms -----------------------------------------------------------------------------

@pytest.mark.parametrize("query", ["东西路与南北路交叉口", "南北路东西路交叉口", "南北路和东西路交汇处东北角",
                                   "东西路与南北路"])
def test_crossing_computed_from_two_road_lines(coder, query):
    res = coder.geocode(query)
    assert res.ok and res.precision == "intersection" and res.kind == "crossing"
    assert dist_to_line(pt(res), [(113.52, 34.75), (113.68, 34.75)]) < 1
    assert dist_to_line(pt(res), [(113.58, 34.71), (113.58, 34.79)]) < 1
    assert res.subdistrict == "甲街道"


def test_crossing_entry_is_preferred_to_computing(coder):
    res = coder.geocode("二号路与东西路交叉口")
    assert pt(res) == pytest.approx((113.6403, 34.7502))
    assert res.method == "crossing entry" and res.subdistrict == "乙街道"


def test_crossing_of_a_road_that_stops_short_uses_closest_approach(coder):
    res = coder.geocode("短路与东西路交叉口")
    assert res.precision == "intersection"
    # on 东西路 (which runs through), right below 短路's southern end 222 m away
    assert dist_to_line(pt(res), [(113.52, 34.75), (113.68, 34.75)]) < 1
    assert metres(pt(res), (113.62, 34.75)) < 5   # the line is straight in metres, not in degrees
    assert "closest approach" in res.method


def test_crossing_of_roads_far_apart_prolongs_the_short_one(coder):
    res = coder.geocode("远路与东西路交叉口")
    assert res.precision == "intersection" and "prolonged" in res.method
    assert metres(pt(res), (113.66, 34.75)) < 10
    assert res.confidence < coder.geocode("东西路与南北路交叉口").confidence
    strict = Geocoder(world(), overrides=[], extend_roads_m=0)
    assert strict.geocode("远路与东西路交叉口").precision == "road"   # only "somewhere on a road"


def test_crossing_with_a_road_known_only_as_a_point(coder):
    res = coder.geocode("点路与东西路交叉口")
    assert res.precision == "intersection" and "nearest" in res.method
    assert metres(pt(res), (113.57, 34.75)) < 5        # on 东西路, right below the point
    assert res.confidence < 0.3


def test_subdistrict_prefix_is_dropped_from_an_address(coder):
    res = coder.geocode("乙街道东西路与二号路交叉口")
    assert res.method == "crossing entry"


def test_crossing_offset_moves_the_stated_distance(coder):
    base = coder.geocode("东西路与南北路交叉口")
    moved = coder.geocode("东西路与南北路交叉口向北300米路东")
    az, _, d = GEOD.inv(base.lon, base.lat, moved.lon, moved.lat)
    assert d == pytest.approx(300, abs=2)
    assert abs(az) < 1  # due north
    west = coder.geocode("东西路与南北路交叉口往西150")     # no unit: metres
    az, _, d = GEOD.inv(base.lon, base.lat, west.lon, west.lat)
    assert d == pytest.approx(150, abs=2) and abs(abs(az) - 90) < 1


def test_crossing_with_one_unknown_road_is_on_the_known_road(coder):
    res = coder.geocode("东西路与无名路交叉口")
    assert res.ok and res.precision == "road" and res.name == "东西路"


@pytest.mark.parametrize("query", ["东西路（南北路—二号路）", "东西路(南北路-二号路)", "东西路南北路至二号路段"])
def test_segment_between_two_crossings(coder, query):
    res = coder.geocode(query)
    assert res.ok and res.precision == "road" and res.geometry_type == "LineString"
    # the 南北路 end is where the lines cross; the 二号路 end is the gazetteer's crossing entry
    # (113.6403, 34.7502), preferred to the line intersection and projected onto 东西路
    expected = metres((113.58, 34.75), (113.6403, 34.75))
    assert res.length_m == pytest.approx(expected, rel=0.002)   # EPSG:4547 vs geodesic: ppm
    ends = sorted(c[0] for c in (res.geometry.coords[0], res.geometry.coords[-1]))
    assert ends == pytest.approx([113.58, 113.6403], abs=2e-5)
    assert res.geometry.length < coder.geocode("东西路").geometry.length


def test_segment_end_at_a_road_that_stops_short(coder):
    res = coder.geocode("东西路（南北路—远路）")   # 远路 stops 1.7 km north of 东西路
    assert res.precision == "road" and res.geometry_type == "LineString"
    assert res.length_m == pytest.approx(metres((113.58, 34.75), (113.66, 34.75)), rel=0.002)


def test_extent_polygon_between_four_roads(coder):
    res = coder.geocode("东起二号路，西至南北路，南起南环路，北至北环路")
    assert res.ok and res.geometry_type == "Polygon"
    poly = res.geometry
    assert poly.contains(Point(113.61, 34.75))
    assert not poly.contains(Point(113.57, 34.75)) and not poly.contains(Point(113.61, 34.785))
    assert poly.bounds == pytest.approx((113.58, 34.72, 113.64, 34.78), abs=3e-5)  # ~3 m
    assert poly.contains(Point(pt(res)))


def test_extent_with_an_unknown_side_is_unresolved_not_one_of_its_roads(coder):
    res = coder.geocode("东起二号路，西至南北路，南起南环路，北至某铁路线")
    assert res.status == "unresolved" and res.geometry is None


def test_extent_in_wrong_directions_is_not_a_polygon(coder):
    res = coder.geocode("东起南北路，西至二号路，南起北环路，北至南环路")
    assert res.geometry_type != "Polygon"


# --- names inside the query --------------------------------------------------------------------------

def test_road_without_a_line_is_placed_on_its_known_crossings(coder):
    res = coder.geocode("孤路")     # no line, but one crossing names it
    assert res.ok and res.precision == "road" and res.geometry_type == "Point"
    assert pt(res) == pytest.approx((113.545, 34.75))
    assert "crossing" in res.method


def test_context_fallback_beats_a_district_level_answer():
    fallback = Geocoder(world(), overrides=[], context_fallback=True)
    res = fallback.geocode("测试区某某广场", context="乙街道")
    assert res.precision == "subdistrict" and res.name == "乙街道"
    assert fallback.geocode("测试区", context="乙街道").kind == "district"   # the district itself stays


def test_road_with_house_number_is_on_the_road(coder):
    res = coder.geocode("东西路306号")
    assert res.ok and res.precision == "road" and res.name == "东西路"


def test_named_feature_inside_an_unknown_name_is_only_nearby(coder):
    res = coder.geocode("老纺织厂创意园")
    assert res.precision == "nearby" and res.name == "老纺织厂"
    assert res.confidence < 0.8


@pytest.mark.parametrize("query,precision,name", [
    ("和平社区12号院", "community", "和平社区"),
    ("张庄村安置区", "community", "张庄村"),
    ("乙街道某某项目", "subdistrict", "乙街道"),
    ("测试区某某广场", "district", "测试区"),
])
def test_ladder_falls_back_to_the_containing_area(coder, query, precision, name):
    res = coder.geocode(query)
    assert res.ok and res.precision == precision and res.name == name


def test_entry_without_geometry_climbs_to_its_subdistrict(coder):
    res = coder.geocode("无坐标社区")
    assert res.ok and res.precision == "subdistrict" and res.name == "无坐标社区"
    assert 113.60 < res.lon < 113.70  # inside 乙街道
    assert res.subdistrict == "乙街道"


def test_every_resolved_point_is_inside_its_own_subdistrict(coder):
    areas = {r["name"]: r.geometry for _, r in world().iterrows() if r["kind"] == "subdistrict"}
    queries = ["须水站", "东西路", "南北路", "二号路", "东西路与南北路交叉口", "短路与东西路交叉口", "和平社区",
               "张庄村", "无坐标社区", "东西路（南北路—二号路）", "华山", "甲街道", "东西路306号"]
    for q in queries:
        res = coder.geocode(q)
        assert res.ok, q
        assert areas[res.subdistrict].covers(Point(pt(res))), q


# --- context and place_type ------------------------------------------------------------------------------

@pytest.mark.parametrize("context,lon", [("甲街道", 113.53), ("乙街道", 113.67), ("乙", 113.67),
                                         ("乙街道办事处", 113.67)])
def test_context_picks_the_namesake_in_the_articles_subdistrict(coder, context, lon):
    res = coder.geocode("幸福社区", context=context)
    assert res.lon == pytest.approx(lon)


def test_context_ranks_but_does_not_hide_names_elsewhere(coder):
    res = coder.geocode("须水站", context="乙街道")
    assert res.ok and res.subdistrict == "甲街道"


def test_unknown_context_is_a_clear_error_with_suggestions(coder):
    with pytest.raises(NotFoundError) as err:
        coder.geocode("东西路", context="丙街道")
    assert "丙街道" in str(err.value) and "甲街道" in err.value.suggestions


def test_place_type_prefers_matching_kind(coder):
    assert coder.geocode("华山", place_type="landmark").kind == "poi"
    assert coder.geocode("华山站", place_type="station").kind == "metro_station"
    assert coder.geocode("华山", place_type="station").kind == "metro_station"


def test_context_fallback_only_when_asked(coder):
    assert coder.geocode("某某双创园", context="乙街道").status == "unresolved"
    fallback = Geocoder(world(), overrides=[], context_fallback=True)
    res = fallback.geocode("某某双创园", context="乙街道")
    assert res.ok and res.precision == "subdistrict" and res.subdistrict == "乙街道"
    assert fallback.geocode("某某双创园").status == "unresolved"


# --- unresolved and bad input ------------------------------------------------------------------------------

def test_unresolved_has_no_position_and_suggests_close_names(coder):
    res = coder.geocode("东西陆")
    assert res.status == "unresolved"
    assert res.geometry is None and res.lon is None and res.lat is None and res.precision is None
    assert "东西路" in res.suggestions[:3]
    rec = res.to_record()
    assert rec["status"] == "unresolved" and rec["lon"] is None


def test_unresolved_name_sharing_nothing_has_no_suggestions(coder):
    res = coder.geocode("qqqq")
    assert res.status == "unresolved" and res.suggestions == []


@pytest.mark.parametrize("query", ["", "   ", None])
def test_empty_query_is_an_input_error(coder, query):
    with pytest.raises(InputError):
        coder.geocode(query)


def test_errors_are_reportatlas_errors():
    assert issubclass(NotFoundError, ReportAtlasError) and issubclass(InputError, ValueError)


def test_geocode_many_with_per_item_context(coder):
    out = coder.geocode_many(["幸福社区", ("幸福社区", "乙街道")], context="甲街道")
    assert [r.lon for r in out] == pytest.approx([113.53, 113.67])


def test_geojson_feature_carries_the_full_geometry(coder):
    feat = coder.geocode("东西路（南北路—二号路）").to_feature()
    assert feat["geometry"]["type"] == "LineString"
    assert shape(feat["geometry"]).length > 0 and feat["properties"]["length_m"] > 5000
