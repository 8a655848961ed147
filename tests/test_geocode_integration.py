"""The geocoder on the committed gazetteer (geodata/gazetteer.geojson, built from ../shared/geodata)."""
from __future__ import annotations

import json

import pytest
from shapely.geometry import Point

from reportatlas import paths, relational as rel
from reportatlas.geocode import Geocoder

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def gaz():
    if not (paths.geodata_dir() / "gazetteer.geojson").is_file():
        pytest.skip("no committed gazetteer: run 'reportatlas gazetteer build'")
    from reportatlas.gazetteer import load

    return load()


@pytest.fixture(scope="module")
def coder(gaz):
    return Geocoder(gaz, overrides=[])


@pytest.fixture(scope="module")
def areas(gaz):
    return {r["name"]: r.geometry for _, r in gaz.subdistricts().iterrows()}


def test_a_subdistrict_is_its_polygon_not_its_office(coder):
    res = coder.geocode("三官庙街道")
    assert res.kind == "subdistrict" and res.geometry_type in ("Polygon", "MultiPolygon")
    assert coder.geocode("三官庙街道办事处").kind == "subdistrict_office"


def test_namesakes_in_two_subdistricts_follow_the_context(coder, gaz):
    e = gaz.entries[gaz.entries.geometry.notna() & (gaz.entries["subdistrict"] != "")]
    per_name = e.groupby("name")["subdistrict"].nunique()
    names = sorted(per_name[per_name > 1].index)[:8]
    if not names:
        pytest.skip("no name is known in two 街道 in this gazetteer")
    for name in names:
        for sub, rows in e[e["name"] == name].groupby("subdistrict"):
            res = coder.geocode(name, context=sub)
            assert res.id in set(rows["id"]), (name, sub, res.id)


def test_crossing_lies_on_both_roads(coder, gaz):
    res = coder.geocode("中原路与桐柏路交叉口")
    assert res.ok and res.precision == "intersection"
    roads = gaz.entries[(gaz.entries["kind"] == "road") & gaz.entries["name"].isin(["中原路", "桐柏路"])]
    assert len(roads) == 2
    p = rel.to_metric(Point(res.lon, res.lat))
    for geom in roads.geometry:
        assert rel.to_metric(geom).distance(p) < 300


def test_segment_between_crossings_is_part_of_the_road(coder):
    whole = coder.geocode("桐柏路", place_type="road")
    part = coder.geocode("桐柏路（中原路—建设路）")
    assert part.precision == "road" and part.geometry_type == "LineString"
    assert 200 < part.length_m < rel.to_metric(whole.geometry).length
    assert rel.to_metric(whole.geometry).buffer(1).contains(rel.to_metric(part.geometry))


def test_every_resolved_gold_place_is_inside_its_own_subdistrict(coder, areas):
    gold = [json.loads(line) for line in (paths.REPO_ROOT / "benchmarks" / "gold" / "places.jsonl")
            .read_text(encoding="utf-8").splitlines() if line.strip()]
    checked = 0
    for g in gold:
        ctx = g["article"] if g["article"] in areas else None
        res = coder.geocode(g["name"], context=ctx, place_type=g["place_type"])
        if res.ok and res.subdistrict:
            # a road that bounds the 街道 (西三环 along 西流湖街道's east side) is answered by a
            # point on the shared border: within 0.1 m counts as inside
            assert areas[res.subdistrict].dwithin(Point(res.lon, res.lat), 1e-6), g["name"]
            checked += 1
    assert checked > 100


def test_unknown_report_name_is_unresolved_with_suggestions(coder):
    res = coder.geocode("煤机路二号段的不存在项目")
    assert res.status in ("ok", "unresolved")
    none = coder.geocode("完全没有这个地方")
    assert none.status == "unresolved" and none.lon is None


def test_stated_extent_of_xiliuhu_matches_its_stated_area(coder):
    # a report gives 西流湖街道's extent by four roads and its area as about 14.5 km²
    res = coder.geocode("北至陇海铁路线，南起中原西路，西至西四环，东起西三环")
    assert res.ok and res.geometry_type == "Polygon" and res.subdistrict == "西流湖街道"
    area_km2 = rel.to_metric(res.geometry).area / 1e6
    assert area_km2 == pytest.approx(14.5, rel=0.15)
