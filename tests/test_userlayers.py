"""add-layer / list-layers / remove-layer on a small atlas built in code (tests/fake_atlas.py).

Datum checks use the offsets measured on the shared geodata (README there): around
Zhengzhou GCJ-02 ≈ WGS-84 + (0.0061°, −0.0012°) and BD-09 ≈ WGS-84 + (0.0126°, +0.0047°).
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from fake_atlas import make_atlas
from reportatlas import userlayers
from reportatlas.cli import main
from reportatlas.errors import (DatumError, DecodingError, GeometryError, InputError, LayerExistsError,
                                NotFoundError)


@pytest.fixture(autouse=True)
def no_gazetteer(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("REPORTATLAS_GEODATA", str(tmp_path_factory.mktemp("nogazetteer")))


@pytest.fixture()
def atlas(tmp_path) -> Path:
    return make_atlas(tmp_path / "atlas")


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


def snapshot(atlas: Path) -> tuple[str, list[str]]:
    layers = atlas.parent / "layers"
    files = sorted(p.name for p in layers.iterdir()) if layers.exists() else []
    return hashlib.sha256(atlas.read_bytes()).hexdigest(), files


def stored(atlas: Path, name: str):
    import pyogrio

    return pyogrio.read_dataframe(atlas, layer=f"user_{name}")


def add(path, atlas, **kw):
    kw.setdefault("render", False)
    return userlayers.add_layer(path, atlas=atlas, **kw)


# -- reading ----------------------------------------------------------------------------------
@pytest.mark.parametrize("header", ["name,lon,lat", "名称,经度,纬度", "POI名称,经度(lon),纬度(lat)",
                                    "title,lng,lat", "Name,Longitude,Latitude", "name,x,y", "名称,LNG,LAT"])
def test_csv_column_spellings(atlas, tmp_path, header):
    csv = write(tmp_path / "pts.csv", f"{header}\n甲,113.59,34.745\n乙,113.61,34.755\n")
    result = add(csv, atlas, name="点")
    frame = stored(atlas, "点")
    assert result.count == 2 and list(frame["name"]) == ["甲", "乙"]
    assert frame.geometry.iloc[0].x == pytest.approx(113.59) and frame.geometry.iloc[0].y == pytest.approx(34.745)


def test_gbk_csv_is_read(atlas, tmp_path):
    csv = write(tmp_path / "gbk.csv", "名称,经度,纬度\n须水某店,113.59,34.745\n", encoding="gbk")
    add(csv, atlas, name="gbk")
    assert list(stored(atlas, "gbk")["name"]) == ["须水某店"]


@pytest.mark.parametrize("datum, dlon, dlat", [("gcj02", 0.0061, -0.0012), ("bd09", 0.0126, 0.0047)])
def test_datum_is_converted_to_wgs84(atlas, tmp_path, datum, dlon, dlat):
    csv = write(tmp_path / "amap.csv", "name,lon,lat\n店,113.6,34.75\n")
    add(csv, atlas, name="店", datum=datum)
    geom = stored(atlas, "店").geometry.iloc[0]
    # stored WGS-84 = datum coordinates minus the measured offset (±0.0005° ≈ 50 m)
    assert geom.x == pytest.approx(113.6 - dlon, abs=5e-4)
    assert geom.y == pytest.approx(34.75 - dlat, abs=5e-4)
    saved = json.loads((atlas.parent / "layers" / "店.geojson").read_text(encoding="utf-8"))
    assert saved["features"][0]["geometry"]["coordinates"] == pytest.approx([geom.x, geom.y], abs=1e-7)


def test_projected_geopackage_is_reprojected(atlas, tmp_path):
    import geopandas as gpd
    from shapely.geometry import Point

    src = gpd.GeoDataFrame({"name": ["甲"]}, geometry=[Point(113.59, 34.745)], crs=4326).to_crs(4547)
    src.to_file(tmp_path / "proj.gpkg", driver="GPKG")
    add(tmp_path / "proj.gpkg", atlas, name="proj")
    geom = stored(atlas, "proj").geometry.iloc[0]
    assert (geom.x, geom.y) == pytest.approx((113.59, 34.745), abs=1e-7)
    with pytest.raises(DatumError, match="drop --datum"):
        add(tmp_path / "proj.gpkg", atlas, name="proj2", datum="gcj02")


def test_shapefile_geojson_and_kml(atlas, tmp_path):
    import geopandas as gpd
    from shapely.geometry import LineString

    lines = gpd.GeoDataFrame({"name": ["新路"]}, geometry=[LineString([(113.585, 34.745), (113.61, 34.752)])], crs=4326)
    lines.to_file(tmp_path / "roads.shp")
    assert add(tmp_path / "roads.shp", atlas, name="新路").geometry_type == "LineString"
    lines.to_file(tmp_path / "roads.geojson", driver="GeoJSON")
    assert add(tmp_path / "roads.geojson", atlas, name="新路2").count == 1
    kml = write(tmp_path / "pts.kml", """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document>
<Placemark><name>甲</name><Point><coordinates>113.59,34.745,0</coordinates></Point></Placemark>
<Folder><name>组</name><Placemark><name>乙</name><Point><coordinates>113.61,34.755</coordinates></Point></Placemark></Folder>
</Document></kml>""")
    add(kml, atlas, name="kml")
    frame = stored(atlas, "kml")
    assert sorted(frame["name"]) == ["乙", "甲"] and not frame.geometry.has_z.any()


# -- validation ---------------------------------------------------------------------------------
def test_swapped_rows_are_fixed_with_a_warning(atlas, tmp_path):
    csv = write(tmp_path / "s.csv", "name,lon,lat\n甲,113.59,34.745\n乙,34.755,113.61\n")
    result = add(csv, atlas, name="s")
    assert any("swapped" in w and "line 3" in w for w in result.warnings)
    geom = stored(atlas, "s").geometry.iloc[1]
    assert (geom.x, geom.y) == (113.61, 34.755)


def test_swapped_then_gcj02_is_converted_after_the_swap(atlas, tmp_path):
    csv = write(tmp_path / "s.csv", "name,lon,lat\n甲,34.75,113.6\n")
    add(csv, atlas, name="s", datum="gcj02")
    geom = stored(atlas, "s").geometry.iloc[0]
    assert geom.x == pytest.approx(113.6 - 0.0061, abs=5e-4) and geom.y == pytest.approx(34.75 + 0.0012, abs=5e-4)


def test_far_rows_are_flagged_and_all_far_is_refused(atlas, tmp_path):
    csv = write(tmp_path / "far.csv", "name,lon,lat\n甲,113.59,34.745\n北京,116.40,39.90\n")
    result = add(csv, atlas, name="far")
    assert any("far outside" in w and "line 3" in w for w in result.warnings)
    before = snapshot(atlas)
    csv2 = write(tmp_path / "all_far.csv", "name,lon,lat\n北京,116.40,39.90\n上海,121.47,31.23\n")
    with pytest.raises(GeometryError, match="far outside"):
        add(csv2, atlas, name="allfar")
    assert snapshot(atlas) == before


def test_invalid_polygon_repaired_and_collapsed_refused(atlas, tmp_path):
    bowtie = {"type": "Polygon", "coordinates": [[[113.58, 34.74], [113.59, 34.75], [113.59, 34.74],
                                                  [113.58, 34.75], [113.58, 34.74]]]}
    flat = {"type": "Polygon", "coordinates": [[[113.58, 34.74], [113.59, 34.74], [113.60, 34.74],
                                                [113.58, 34.74]]]}
    good = {"type": "Polygon", "coordinates": [[[113.58, 34.74], [113.59, 34.74], [113.59, 34.75],
                                                [113.58, 34.74]]]}

    def fc(*geoms):
        return json.dumps({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"name": f"面{i}"}, "geometry": g} for i, g in enumerate(geoms)]})

    result = add(write(tmp_path / "bow.geojson", fc(good, bowtie)), atlas, name="bow")
    assert any("repaired" in w and "feature 2" in w for w in result.warnings)
    frame = stored(atlas, "bow")
    assert frame.geometry.is_valid.all() and frame.geometry.iloc[1].area > 0
    before = snapshot(atlas)
    with pytest.raises(GeometryError, match="feature 2"):
        add(write(tmp_path / "flat.geojson", fc(good, flat)), atlas, name="flat")
    assert snapshot(atlas) == before


def test_duplicate_names_reported(atlas, tmp_path):
    csv = write(tmp_path / "d.csv", "name,lon,lat\n甲,113.59,34.745\n乙,113.6,34.75\n甲,113.61,34.755\n")
    result = add(csv, atlas, name="d")
    assert any("duplicate" in w and "甲 (line 2, line 4)" in w for w in result.warnings)
    assert result.count == 3


@pytest.mark.parametrize("content, error, message", [
    ("", DecodingError, "empty"),
    ("name,lon,lat\n", InputError, "no rows"),
    ("note,remark\n甲,x\n", InputError, "no lon/lat"),
    ("name,note\n甲,x\n", InputError, "no geocoder is available"),
    ("name,lon,lat\n甲,abc,34.7\n乙,113.6,\n", GeometryError, "line 2, line 3"),
    ("name,lon,lat\n甲,500000,3800000\n", GeometryError, "not longitude/latitude"),
])
def test_malformed_csv_refused_nothing_written(atlas, tmp_path, content, error, message):
    before = snapshot(atlas)
    with pytest.raises(error, match=message):
        add(write(tmp_path / "bad.csv", content), atlas, name="bad")
    assert snapshot(atlas) == before


def test_binary_and_broken_files_refused(atlas, tmp_path):
    before = snapshot(atlas)
    (tmp_path / "bin.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    with pytest.raises(DecodingError, match="binary"):
        add(tmp_path / "bin.csv", atlas, name="bin")
    with pytest.raises(InputError, match="not a readable"):
        add(write(tmp_path / "broken.geojson", '{"type": "FeatureCollection", "features": [{'), atlas, name="broken")
    with pytest.raises(InputError, match="expected"):
        add(write(tmp_path / "x.docx", "hello"), atlas, name="docx")
    with pytest.raises(FileNotFoundError):
        add(tmp_path / "missing.csv", atlas, name="missing")
    assert snapshot(atlas) == before


def test_address_rows_are_geocoded_and_failures_listed(atlas, tmp_path, monkeypatch):
    from types import SimpleNamespace

    from shapely.geometry import Point

    places = {"测试路与某路交叉口": Point(113.595, 34.75)}

    def fake_geocode(text):
        if text in places:
            return SimpleNamespace(status="ok", geometry=places[text], precision="intersection", name=text)
        return SimpleNamespace(status="unresolved", geometry=None, precision=None, name=None)

    monkeypatch.setattr(userlayers, "_geocoder", lambda: fake_geocode)
    csv = write(tmp_path / "addr.csv", "名称,详细地址\n甲店,测试路与某路交叉口\n乙店,不存在的地方\n")
    result = add(csv, atlas, name="addr")
    assert result.count == 1
    assert any("line 3" in w and "不存在的地方" in w for w in result.warnings)
    frame = stored(atlas, "addr")
    assert list(frame["precision"]) == ["intersection"]
    with pytest.raises(GeometryError, match="none of the 1 rows"):
        add(write(tmp_path / "none.csv", "名称,地址\n丙,无处\n"), atlas, name="none")
    with pytest.raises(DatumError, match="drop --datum"):
        add(csv, atlas, name="addr2", datum="gcj02")


# -- names, clashes, listing, removal ----------------------------------------------------------
def test_name_clash_needs_replace(atlas, tmp_path):
    one = write(tmp_path / "one.csv", "name,lon,lat\n甲,113.59,34.745\n")
    two = write(tmp_path / "two.csv", "name,lon,lat\n甲,113.59,34.745\n乙,113.6,34.75\n")
    add(one, atlas, name="层")
    with pytest.raises(LayerExistsError, match="--replace"):
        add(two, atlas, name="层")
    assert len(stored(atlas, "层")) == 1
    add(two, atlas, name="层", replace=True)
    assert len(stored(atlas, "层")) == 2
    rows = [r for r in userlayers.list_layers(atlas=atlas) if r["name"] == "层"]
    assert len(rows) == 1 and rows[0]["count"] == 2 and rows[0]["source"] == "two.csv"


@pytest.mark.parametrize("bad", ["../x", "a/b", "a\\b", ".hidden", "with space", "", "sites", "x" * 65, "a.b"])
def test_bad_layer_names_refused(atlas, tmp_path, bad):
    csv = write(tmp_path / "p.csv", "name,lon,lat\n甲,113.59,34.745\n")
    before = snapshot(atlas)
    with pytest.raises(InputError):
        add(csv, atlas, name=bad)
    assert snapshot(atlas) == before


def test_remove_layer(atlas, tmp_path):
    import pyogrio

    add(write(tmp_path / "p.csv", "name,lon,lat\n甲,113.59,34.745\n"), atlas, name="临时")
    assert (atlas.parent / "layers" / "临时.geojson").exists()
    userlayers.remove_layer("临时", atlas=atlas, render=False)
    assert "user_临时" not in {str(n) for n, _ in pyogrio.list_layers(atlas)}
    assert "临时" not in {r["name"] for r in userlayers.list_layers(atlas=atlas)}
    assert not (atlas.parent / "layers" / "临时.geojson").exists()
    # the GeoPackage is still sound and the core layers are intact
    assert len(pyogrio.read_dataframe(atlas, layer="sites")) == 4
    with pytest.raises(InputError, match="core layer"):
        userlayers.remove_layer("sites", atlas=atlas)
    with pytest.raises(NotFoundError):
        userlayers.remove_layer("临时", atlas=atlas)


def test_user_layer_is_queryable(atlas, tmp_path):
    from reportatlas import query_atlas as qa
    from reportatlas.sql import run_sql

    add(write(tmp_path / "p.csv", "name,lon,lat\n新店,113.5875,34.7475\n"), atlas, name="新店")
    _, found = qa.contains(qa.Atlas(atlas), "小公园", layers=["新店"])
    assert list(found["name"]) == ["新店"]
    result = run_sql(atlas, 'SELECT name FROM "user_新店"')
    assert result.rows == [("新店",)]


# -- command line ---------------------------------------------------------------------------------
def test_cli_add_list_remove(atlas, tmp_path, capsys):
    csv = write(tmp_path / "amap.csv", "POI名称,经度(lon),纬度(lat)\n甲,113.597,34.7356\n乙,113.60,34.75\n")
    assert main(["add-layer", str(csv), "--name", "餐饮", "--datum", "gcj02", "--atlas", str(atlas)]) == 0
    out = capsys.readouterr().out
    assert "餐饮" in out and "2 Point" in out
    maps = atlas.parent / "maps" / "index.html"
    assert maps.exists() and "user_餐饮" in maps.read_text(encoding="utf-8")
    assert main(["list-layers", "--atlas", str(atlas)]) == 0
    listing = capsys.readouterr().out
    line = next(l for l in listing.splitlines() if l.startswith("餐饮"))
    assert line.split()[1:5] == ["Point", "2", "user", "amap.csv"]
    assert main(["add-layer", str(csv), "--name", "餐饮", "--atlas", str(atlas)]) != 0
    err = capsys.readouterr().err
    assert "--replace" in err and len(err.strip().splitlines()) == 1
    assert main(["remove-layer", "餐饮", "--atlas", str(atlas)]) == 0
    assert "user_餐饮" not in maps.read_text(encoding="utf-8")


@pytest.mark.parametrize("args, message", [
    (["add-layer", "{csv}", "--name", "x", "--datum", "utm"], "utm"),
    (["add-layer", "{csv}", "--name", "a/b"], "invalid layer name"),
    (["add-layer", "{missing}", "--name", "x"], "no such file"),
    (["remove-layer", "roads"], "core layer"),
    (["remove-layer", "无"], "no user layer"),
])
def test_cli_bad_input_one_line(atlas, tmp_path, capsys, args, message):
    csv = write(tmp_path / "p.csv", "name,lon,lat\n甲,113.59,34.745\n")
    args = [a.format(csv=csv, missing=tmp_path / "missing.csv") for a in args]
    before = snapshot(atlas)
    assert main(args + ["--atlas", str(atlas)]) != 0
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert snapshot(atlas) == before


def test_cli_refusal_lists_every_problem_on_one_line(atlas, tmp_path, capsys):
    csv = write(tmp_path / "bad.csv", "name,lon,lat\n甲,abc,34.7\n乙,113.6,x\n")
    assert main(["add-layer", str(csv), "--name", "bad", "--atlas", str(atlas)]) != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "line 2, line 3" in err and "nothing was written" in err


def test_missing_datum_on_an_amap_looking_file_is_warned(atlas, tmp_path):
    csv = write(tmp_path / "poi_gcj02.csv", "name,lon,lat\n店,113.6,34.75\n")
    result = add(csv, atlas, name="未声明")
    assert any("--datum gcj02" in w for w in result.warnings)
    plain = write(tmp_path / "points.csv", "name,lon,lat\n店,113.6,34.75\n")
    assert add(plain, atlas, name="普通").warnings == []
