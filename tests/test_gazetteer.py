"""The gazetteer build: datums, determinism, 街道 tiling, roads, known facts, errors.

Integration tests build from ../shared/geodata (the ``shared_geodata`` fixture) once per
session into a temporary folder; unit tests use small fixtures written here.
"""
from __future__ import annotations

import json
import shutil
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
import shapely

from reportatlas import paths
from reportatlas.errors import DatumError, InputError, InputFileNotFound, ReportAtlasError
from reportatlas.gazetteer import load
from reportatlas.gazetteer.build import build_gazetteer
from reportatlas.gazetteer.datum import to_metric, to_wgs84

ZHONGYUAN_SUBDISTRICTS = {"三官庙街道", "中原西路街道", "建设路街道", "林山寨街道", "柳湖街道", "桐柏路街道",
                          "棉纺路街道", "汝河路街道", "秦岭路街道", "绿东村街道", "航海西路街道", "莲湖街道",
                          "西流湖街道", "须水街道"}


@pytest.fixture(scope="session")
def built(shared_geodata, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gazetteer")
    build_gazetteer(shared_geodata, out)
    return out


@pytest.fixture(scope="session")
def gaz(built):
    return load(built)


def _entry(gaz, entry_id):
    row = gaz.by_id(entry_id)
    assert row is not None, f"{entry_id} missing from the gazetteer"
    return row


def _metres(geom):
    from reportatlas.gazetteer.build import _geom_to

    return _geom_to(geom, 4326, 4547)


# --- datums ---------------------------------------------------------------------------------

def test_gcj02_and_bd09_round_trip_to_wgs84():
    import prcoords

    lon, lat = 113.6, 34.75
    gcj = prcoords.wgs_gcj((lat, lon))
    bd = prcoords.wgs_bd((lat, lon))
    x, y = to_wgs84([gcj.lon, bd.lon], [gcj.lat, bd.lat], "gcj02")[0][:1], None
    gx, gy = to_wgs84([gcj.lon], [gcj.lat], "GCJ-02")
    bx, by = to_wgs84([bd.lon], [bd.lat], "bd09")
    # the shift itself is hundreds of metres; the inverse brings it back to ~centimetres
    assert abs(gcj.lon - lon) > 0.004
    assert abs(gx[0] - lon) < 1e-6 and abs(gy[0] - lat) < 1e-6
    assert abs(bx[0] - lon) < 1e-6 and abs(by[0] - lat) < 1e-6
    assert to_wgs84([lon], [lat], "cgcs2000")[0][0] == lon


def test_unknown_datum_and_swapped_coordinates_are_clear_errors():
    with pytest.raises(DatumError, match="unknown datum 'gcj03'"):
        to_wgs84([113.6], [34.7], "gcj03")
    with pytest.raises(DatumError, match="outside China"):
        to_wgs84([34.7], [113.6], "gcj02")  # lat/lon swapped


def test_gcj02_district_file_converted_lands_on_the_wgs84_one(shared_geodata):
    """The GCJ-02 district polygons, converted on ingest, match the WGS-84 ones to metres,
    while unconverted they are hundreds of metres off (so the test can fail)."""
    from reportatlas.gazetteer.sources import read_geojson

    wgs = read_geojson(shared_geodata / "districts/districts_amap_wgs84.geojson").set_index("adcode")
    conv = read_geojson(shared_geodata / "districts/districts_cnmaps_gcj02.geojson", datum="gcj02").set_index("adcode")
    raw = read_geojson(shared_geodata / "districts/districts_cnmaps_gcj02.geojson").set_index("adcode")
    gaps, raw_gaps = [], []
    for adcode in (410102, 410106):
        target = _metres(wgs.loc[adcode].geometry).boundary
        for src, out in ((conv, gaps), (raw, raw_gaps)):
            pts = shapely.points(shapely.get_coordinates(_metres(src.loc[adcode].geometry)))
            out.extend(shapely.distance(pts, target))
    assert np.median(gaps) < 5.0
    assert np.median(raw_gaps) > 200.0


def test_label_point_datum_is_decided_with_numbers(built):
    summary = json.loads((built / "gazetteer_build.json").read_text(encoding="utf-8"))
    check = summary["label_datum"]
    assert check["chosen"] in ("wgs84", "gcj02", "bd09")
    assert set(check["candidates"]) == {"wgs84", "gcj02", "bd09"}
    best = check["candidates"][check["chosen"]]
    assert best["inside_share"] == max(c["inside_share"] for c in check["candidates"].values())


# --- determinism and format -----------------------------------------------------------------

def test_build_twice_gives_identical_bytes(shared_geodata, built, tmp_path):
    build_gazetteer(shared_geodata, tmp_path)
    for name in ("gazetteer.geojson", "gazetteer_build.json"):
        assert (tmp_path / name).read_bytes() == (built / name).read_bytes()


def test_committed_gazetteer_is_the_current_build(built):
    committed = paths.REPO_ROOT / "geodata" / "gazetteer.geojson"
    assert committed.stat().st_size < 5_000_000
    assert committed.read_bytes() == (built / "gazetteer.geojson").read_bytes(), \
        "geodata/gazetteer.geojson is stale: run 'reportatlas gazetteer build'"


def test_entries_have_every_contract_column_and_unique_ids(gaz):
    df = gaz.entries
    for col in ("id", "name", "aliases", "kind", "subdistrict", "district", "adcode", "precision", "source",
                "datum_in", "licence", "method", "evidence", "confidence", "geometry"):
        assert col in df.columns
    assert df["id"].is_unique
    assert str(df.crs).endswith("4326")
    assert df.geometry.notna().all()
    assert set(df["precision"]) <= {"exact", "intersection", "road", "nearby", "community", "subdistrict", "district"}
    assert ((df["confidence"] > 0) & (df["confidence"] <= 1)).all()
    assert (df["licence"] != "").all() and (df["method"] != "").all()
    assert all(isinstance(a, list) for a in df["aliases"])


def test_load_is_cached_and_gives_the_api(gaz, built):
    assert load(built) is gaz
    names = {k.name: k for k in gaz.known_names()}
    assert names["须水街道"].kind == "subdistrict"
    assert names["须水街道"].subdistrict == "须水街道"
    assert "须水办事处" in names["须水街道"].aliases
    assert len(gaz.districts()) == 8
    assert set(gaz.districts()["adcode"]) >= {410102, 410106}


# --- 街道 polygons --------------------------------------------------------------------------

def test_every_zhongyuan_subdistrict_has_a_polygon_with_method(gaz):
    subs = gaz.subdistricts()
    zy = subs[subs["district"] == "中原区"]
    assert set(zy["name"]) == ZHONGYUAN_SUBDISTRICTS
    assert (zy["precision"] == "subdistrict").all()
    assert zy.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    assert (zy["method"].str.len() > 10).all()
    assert "中心路街道" in set(subs["name"])


def test_shangjie_subdistricts_are_not_split_without_evidence(gaz):
    """No source locates anything inside 上街区, so its 街道 are not cut up by guesswork: each
    answers with the district polygon at precision `district`, low confidence, and says why."""
    subs = gaz.subdistricts()
    sj = subs[subs["district"] == "上街区"]
    assert "中心路街道" in set(sj["name"]) and len(sj) == 6
    district = gaz.districts().set_index("name").loc["上街区"].geometry
    assert (sj["precision"] == "district").all() and (sj["confidence"] <= 0.1).all()
    assert all(g.equals(district) for g in sj.geometry)
    assert sj["method"].str.contains("no source locates anything inside 上街区").all()


def test_zhongyuan_subdistricts_tile_the_district(gaz):
    """中原区's 14 街道, with the 高新区 街道 whose offices lie inside Amap's 中原区 outline,
    cover the district polygon without gaps or overlaps."""
    district_wgs = gaz.districts().set_index("name").loc["中原区"].geometry
    district = _metres(district_wgs)
    subs = gaz.subdistricts()
    inside = subs[(subs["precision"] == "subdistrict") & subs.geometry.within(district_wgs.buffer(1e-6))]
    assert set(inside["district"]) == {"中原区", "高新区"}
    assert set(inside["name"]) >= ZHONGYUAN_SUBDISTRICTS
    polys = [_metres(g) for g in inside.geometry]
    union = shapely.union_all(polys)
    assert union.symmetric_difference(district).area < 1e-4 * district.area
    # coordinates are rounded to 1e-6° (~0.1 m): borders kilometres long may leave slivers
    # of a few m², nothing more
    overlaps = [a.intersection(b).area for a, b in combinations(polys, 2)]
    assert max(overlaps) < 100.0  # m²
    assert sum(overlaps) < 1e-5 * district.area


def test_xiliuhu_follows_its_stated_extent(gaz):
    """西流湖街道's boundary runs along its four bounding lines: 西三环, 西四环, 中原西路, the 陇海 railway."""
    xlh = _metres(_entry(gaz, "subdistrict:西流湖街道").geometry)
    # …or along 中原区's own border where the four roads reach beyond the district
    bounds = shapely.union_all([_metres(_entry(gaz, i).geometry) for i in
                                ("road:西三环", "road:西四环", "road:中原西路", "railway:陇海铁路")]
                               + [_metres(_entry(gaz, "district:中原区").geometry).boundary])
    # every vertex lies on one of them, but where two derived lines both stop short of each
    # other the corner is the middle of their gap (a few hundred metres from each)
    vertices = shapely.points(shapely.get_coordinates(xlh))
    gaps = shapely.distance(vertices, bounds)
    assert np.median(gaps) < 1 and max(gaps) < 500
    # the report states about 14.5 km²; the polygon is the area between the four roads
    assert xlh.area / 1e6 == pytest.approx(14.5, rel=0.05)


def test_xiliuhu_polygon_is_the_geocoders_answer_to_its_extent(gaz):
    """The gazetteer's 街道 polygon and the geocoder's answer to the stated extent are one construction."""
    from reportatlas.geocode import Geocoder

    res = Geocoder(gaz).geocode("东起西三环，西至西四环，南起中原西路，北至陇海铁路线")
    assert res.ok and res.geometry_type == "Polygon"
    answer, polygon = _metres(res.geometry), _metres(_entry(gaz, "subdistrict:西流湖街道").geometry)
    assert answer.symmetric_difference(polygon).area < 0.01 * polygon.area


def test_known_points_fall_in_their_subdistrict(gaz):
    # metro 秦岭路 station stands on 秦岭路 inside 秦岭路街道's area; 碧沙岗 in 林山寨街道
    assert _entry(gaz, "metro:秦岭路")["subdistrict"] == "秦岭路街道"
    assert _entry(gaz, "metro:西流湖")["subdistrict"] == "西流湖街道"
    # 须水站 (west of 西四环, north of 建设西路) is in 须水街道, not in 西流湖街道 east of 西四环
    assert _entry(gaz, "metro:须水")["subdistrict"] == "须水街道"
    # 高新区's offices inside Amap's 中原区 outline get their own areas
    assert _entry(gaz, "subdistrict:沟赵街道")["district"] == "高新区"
    # every located community of 中原区 lies in the district
    district = gaz.districts().set_index("name").loc["中原区"].geometry.buffer(0.005)
    comm = gaz.entries[(gaz.entries["kind"].isin(["community", "village"])) & (gaz.entries["precision"] == "community")
                       & (gaz.entries["district"] == "中原区")]
    assert len(comm) > 50
    assert comm.geometry.within(district).all()


def test_communities_lie_in_their_own_subdistrict_or_say_why(gaz):
    subs = gaz.subdistricts().set_index("name")
    df = gaz.entries
    located = df[df["kind"].isin(["community", "village"]) & (df["precision"] == "community")]
    assert len(located) > 50
    for row in located.itertuples():
        inside = subs.loc[row.subdistrict].geometry.buffer(0.0005).contains(row.geometry)
        flagged = "doubtful" in row.method or "outside its 街道" in row.method
        assert inside or flagged, row.name
        if flagged:
            assert row.confidence < 0.45
    # the 二砂 works lend their name to 须水街道's 二砂村, kilometres away: flagged, not used
    ersha = df[(df["name"] == "二砂村")].iloc[0]
    assert "doubtful" in ersha["method"]


def test_office_label_points_lie_in_their_own_subdistrict(gaz):
    subs = gaz.subdistricts().set_index("name")
    for name in ZHONGYUAN_SUBDISTRICTS - {"汝河路街道", "西流湖街道"}:
        office = _entry(gaz, f"office:{name}")
        assert subs.loc[name].geometry.contains(office.geometry), name


# --- roads and crossings --------------------------------------------------------------------

@pytest.mark.parametrize("road", ["中原路", "中原西路", "建设西路", "西三环", "西四环", "桐柏路", "陇海路", "化工路"])
def test_report_roads_are_lines_with_evidence(gaz, road):
    row = _entry(gaz, f"road:{road}")
    assert row.geometry.geom_type in ("LineString", "MultiLineString")
    assert row["evidence"] >= 2
    assert row["precision"] == "road"
    assert _metres(row.geometry).length > 1000


def test_zhongyuan_road_passes_its_tongbai_crossing(gaz):
    line = _metres(_entry(gaz, "road:中原路").geometry)
    cross = _metres(_entry(gaz, "crossing:中原路|桐柏路").geometry)
    stop = _metres(_entry(gaz, "stop:中原路桐柏路").geometry)
    assert line.distance(cross) < 100
    assert cross.distance(stop) < 200
    # and runs east-west: the line spans far more longitude than latitude
    minx, miny, maxx, maxy = line.bounds
    assert (maxx - minx) > 5 * (maxy - miny)


def test_longhai_railway_is_a_line(gaz):
    row = _entry(gaz, "railway:陇海铁路")
    assert row.geometry.geom_type == "LineString" and row["licence"].startswith("ODbL")


def test_crossing_names_are_symmetric_aliases(gaz):
    row = _entry(gaz, "crossing:中原路|桐柏路")
    assert row["kind"] == "crossing" and row["precision"] == "intersection"
    assert "桐柏路与中原路交叉口" in row["aliases"]


def test_stop_and_address_parsing():
    from reportatlas.gazetteer.roads import parse_crossing, parse_stop

    assert parse_stop("中原路桐柏路站") == ("中原路", "桐柏路")
    assert parse_stop("西四环郑上路站") == ("西四环", "郑上路")
    assert parse_stop("经开第五大街经南三路") == ("经开第五大街", "经南三路")
    assert parse_stop("中原西路柳沟") == ("中原西路", "柳沟")
    assert parse_stop("郑州铁路局") == (None, None)
    assert parse_stop("市第九人民医院") == (None, None)
    assert parse_crossing("西四环与建设西路交叉口向北300米路东") == ("西四环", "建设西路")
    assert parse_crossing("郑州市中原区桐柏路与伊河路交叉口东南角") == ("桐柏路", "伊河路")
    assert parse_crossing("陇海西路306号") is None


def test_road_line_is_ordered_and_drops_a_far_namesake():
    from reportatlas.gazetteer.roads import build_road_line

    # five points along a road running east, shuffled, plus one 20 km away
    pts = [(113.60, 34.75), (113.62, 34.75), (113.61, 34.7502), (113.63, 34.7501), (113.64, 34.75), (113.80, 34.95)]
    geom, used = build_road_line(pts)
    assert geom.geom_type == "LineString"
    xs = [c[0] for c in geom.coords]
    assert xs == sorted(xs) or xs == sorted(xs, reverse=True)
    assert max(xs) < 113.7 and used == 5
    assert build_road_line([(113.6, 34.75)]) == (None, 0)


def test_sites_from_poi_addresses():
    from reportatlas.gazetteer.sites import locate_sites, site_names

    assert site_names("某某路171号星河广场3层") == ["星河广场"]
    assert site_names("高新区青松公园1号馆") == ["青松公园"]
    assert site_names("甲路与乙街交叉口西北侧青竹小区东门") == ["青竹小区"]
    assert site_names("甲路88号") == []
    pois = [{"address": "甲路1号星河广场", "lon": 113.600, "lat": 34.750, "key": "poi:1"},
            {"address": "甲路3号星河广场2层", "lon": 113.601, "lat": 34.750, "key": "poi:2"},
            # two places called 月亮城 4 km apart: not averaged into a point between them
            {"address": "乙路月亮城", "lon": 113.60, "lat": 34.75, "key": "poi:3"},
            {"address": "丙路月亮城", "lon": 113.65, "lat": 34.75, "key": "poi:4"}]
    sites = {s["name"]: s for s in locate_sites(pois)}
    assert set(sites) == {"星河广场"}
    assert sites["星河广场"]["evidence"] == 2 and 113.600 <= sites["星河广场"]["lon"] <= 113.601


def test_site_entries_in_the_build(gaz):
    row = _entry(gaz, "site:锦艺城")
    assert row["district"] == "中原区" and row["evidence"] >= 10 and row["precision"] == "nearby"


# --- held-out builds ------------------------------------------------------------------------

def test_holdout_excludes_source_records(shared_geodata):
    from reportatlas.gazetteer.build import build_entries

    entries, summary = build_entries(shared_geodata, holdout=lambda key: key.startswith("poi:"))
    assert summary["records"]["pois"] == 0
    assert not [e for e in entries if e["kind"] == "poi"]
    entries2, summary2 = build_entries(shared_geodata, holdout={"metro:0", "metro:1"})
    assert summary2["records"]["metro"] == 158


# --- import-osm ------------------------------------------------------------------------------

OSM_XML = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="reportatlas-test">
 <node id="1" lat="34.7480" lon="113.5900" version="1"/>
 <node id="2" lat="34.7482" lon="113.6000" version="1"/>
 <node id="3" lat="34.7485" lon="113.6100" version="1"/>
 <node id="4" lat="34.7600" lon="113.6050" version="1"><tag k="place" v="village"/><tag k="name" v="试验村"/></node>
 <node id="5" lat="34.7550" lon="113.6060" version="1"><tag k="amenity" v="school"/><tag k="name" v="试验&lt;小学&gt;"/></node>
 <node id="6" lat="34.7551" lon="113.6061" version="1"><tag k="amenity" v="bench"/></node>
 <node id="7" lat="34.7700" lon="113.5300" version="1"/>
 <node id="8" lat="34.7700" lon="113.5700" version="1"/>
 <node id="9" lat="34.7500" lon="113.5700" version="1"/>
 <node id="12" lat="34.7500" lon="113.5300" version="1"/>
 <way id="10" version="1"><nd ref="1"/><nd ref="2"/><tag k="highway" v="primary"/><tag k="name" v="中原路"/></way>
 <way id="20" version="1"><nd ref="7"/><nd ref="8"/><nd ref="9"/><nd ref="12"/><nd ref="7"/>
  <tag k="boundary" v="administrative"/><tag k="admin_level" v="8"/><tag k="name" v="西流湖街道"/></way>
 <way id="11" version="1"><nd ref="2"/><nd ref="3"/><tag k="highway" v="primary"/><tag k="name" v="中原路"/></way>
</osm>
"""


def _gazetteer_copy(built, tmp_path) -> Path:
    folder = tmp_path / "gz"
    folder.mkdir()
    shutil.copy(built / "gazetteer.geojson", folder / "gazetteer.geojson")
    return folder


def test_import_osm_adds_roads_places_and_pois_that_take_precedence(built, tmp_path, capsys):
    from reportatlas.cli import main

    folder = _gazetteer_copy(built, tmp_path)
    osm = tmp_path / "extract.osm"
    osm.write_text(OSM_XML, encoding="utf-8")
    assert main(["gazetteer", "import-osm", str(osm), "--out", str(folder)]) == 0
    assert "roads 1, places 2, pois 1" in capsys.readouterr().out
    gaz = load(folder)
    road = gaz.by_id("road:中原路")
    assert road["source"].startswith("OpenStreetMap") and road["licence"].startswith("ODbL")
    assert road.geometry.geom_type == "LineString" and len(road.geometry.coords) == 3
    village = gaz.by_id("osm_village:试验村")
    assert village["kind"] == "village" and village["district"] == "中原区"
    assert gaz.by_id("osm_poi:试验<小学>") is not None  # names are stored as given, escaped on output
    # a real 街道 boundary replaces the derived polygon
    xlh = gaz.by_id("subdistrict:西流湖街道")
    assert xlh["source"].startswith("OpenStreetMap") and xlh.geometry.geom_type in ("Polygon", "MultiPolygon")
    assert xlh.geometry.bounds == pytest.approx((113.53, 34.75, 113.57, 34.77))
    # derived entries not in the extract are still there, and the main file is untouched
    assert gaz.by_id("road:桐柏路")["source"].startswith("bus_lines")
    assert (folder / "gazetteer.geojson").read_bytes() == (built / "gazetteer.geojson").read_bytes()
    # a second import keeps the first one's entries
    osm2 = tmp_path / "more.osm"
    osm2.write_text(OSM_XML.replace("试验村", "另一村").replace('"中原路"', '"桐柏路"').replace("西流湖街道", "须水街道"),
                    encoding="utf-8")
    assert main(["gazetteer", "import-osm", str(osm2), "--out", str(folder)]) == 0
    gaz = load(folder)
    assert gaz.by_id("osm_village:试验村") is not None and gaz.by_id("osm_village:另一村") is not None
    assert gaz.by_id("road:桐柏路")["source"].startswith("OpenStreetMap")


def test_import_osm_reads_pbf(built, tmp_path):
    """A .pbf extract (written here with pyosmium) is read like the XML one; a single way
    named once stays one line."""
    osmium = pytest.importorskip("osmium")
    from reportatlas.gazetteer.osm import import_osm

    pbf = tmp_path / "extract.osm.pbf"
    writer = osmium.SimpleWriter(str(pbf))
    writer.add_node(osmium.osm.mutable.Node(id=1, location=(113.59, 34.748), tags={}))
    writer.add_node(osmium.osm.mutable.Node(id=2, location=(113.60, 34.7482), tags={}))
    writer.add_node(osmium.osm.mutable.Node(id=3, location=(113.605, 34.76), tags={"place": "village", "name": "试验村"}))
    writer.add_way(osmium.osm.mutable.Way(id=10, nodes=[1, 2], tags={"highway": "primary", "name": "试验路"}))
    writer.close()
    folder = _gazetteer_copy(built, tmp_path)
    result = import_osm(pbf, out_dir=folder)
    assert (result["roads"], result["places"]) == (1, 1)
    road = load(folder).by_id("road:试验路")
    assert road.geometry.geom_type == "LineString"
    assert road.geometry.coords[0] == pytest.approx((113.59, 34.748))


def test_import_osm_bad_file_is_one_line(built, tmp_path, capsys):
    from reportatlas.cli import main

    folder = _gazetteer_copy(built, tmp_path)
    bad = tmp_path / "broken.osm"
    bad.write_text("<osm><node id=", encoding="utf-8")
    assert main(["gazetteer", "import-osm", str(bad), "--out", str(folder)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "broken.osm" in err
    assert not (folder / "gazetteer_osm.geojson").exists()
    assert main(["gazetteer", "import-osm", str(tmp_path / "nope.osm"), "--out", str(folder)]) == 2
    assert "does not exist" in capsys.readouterr().err


# --- bad sources ----------------------------------------------------------------------------

def test_missing_source_folder_is_a_clear_error(tmp_path, capsys):
    from reportatlas.cli import main

    with pytest.raises(InputFileNotFound):
        build_gazetteer(tmp_path / "nowhere", tmp_path / "out")
    assert main(["gazetteer", "build", "--sources", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "nowhere" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("target,content", [
    ("metro/metro_stations_wgs84.geojson", '{"type": "FeatureCollection", "features": [{"type": '),
    ("poi/zhongyuan_food_poi_gcj02.csv", "区域,POI名称,详细地址,经度(lon),纬度(lat)\n中原区,店,某路1号,east,north\n"),
    ("transit/bus_lines_2013_bd09/100l.json", '[{"label_no": 1, "station_name": "某站"}]'),
])
def test_malformed_source_fails_before_writing(shared_geodata, tmp_path, target, content):
    src = tmp_path / "src"
    shutil.copytree(shared_geodata, src)
    (src / target).write_text(content, encoding="utf-8")
    out = tmp_path / "out"
    with pytest.raises(ReportAtlasError) as info:
        build_gazetteer(src, out)
    assert isinstance(info.value, InputError)
    assert Path(target).name in str(info.value)
    assert not (out / "gazetteer.geojson").exists()
