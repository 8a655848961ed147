"""The build kit: what a build takes from the gazetteer, kept on disk and remade when its inputs change."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from shapely.geometry import box, mapping

from reportatlas import buildkit, gazetteer

AREA_A = box(113.60, 34.74, 113.64, 34.77)   # made-up boxes, not real boundaries
AREA_B = box(113.55, 34.74, 113.60, 34.77)
DISTRICT = box(113.50, 34.70, 113.70, 34.80)


def _feature(id, name, kind, geom, *, subdistrict="", aliases="", precision="exact"):
    props = {"id": id, "name": name, "aliases": aliases, "kind": kind, "subdistrict": subdistrict,
             "district": "中原区", "adcode": 410102, "precision": precision, "source": "test",
             "datum_in": "wgs84", "licence": "test", "method": "test", "evidence": 1, "confidence": 0.9}
    return {"type": "Feature", "properties": props, "geometry": mapping(geom)}


def _write_gazetteer(folder, road_name="测试路"):
    feats = [
        _feature("district:中原区", "中原区", "district", DISTRICT, precision="district"),
        _feature("subdistrict:甲街道", "甲街道", "subdistrict", AREA_A, subdistrict="甲街道", precision="subdistrict"),
        _feature("subdistrict:乙街道", "乙街道", "subdistrict", AREA_B, subdistrict="乙街道", precision="subdistrict"),
        _feature(f"road:{road_name}", road_name, "road", box(113.61, 34.75, 113.63, 34.751).exterior,
                 subdistrict="甲街道", precision="road"),
    ]
    folder.mkdir(exist_ok=True)
    (folder / "gazetteer.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False), encoding="utf-8")


@pytest.fixture
def small_geodata(tmp_path, monkeypatch):
    geodata = tmp_path / "geodata"
    _write_gazetteer(geodata)
    monkeypatch.setenv("REPORTATLAS_GEODATA", str(geodata))
    monkeypatch.setenv("REPORTATLAS_CACHE_DIR", str(tmp_path / "cache"))
    gazetteer.clear_cache()
    yield geodata
    gazetteer.clear_cache()


def _answers(kit, queries=("测试路", "甲街道", "乙", "没有这个地方")):
    return [kit.geocoder.geocode(q, context="甲街道").to_record() for q in queries]


def test_kit_from_the_cache_answers_like_a_fresh_one(small_geodata, tmp_path):
    fresh = buildkit.load_kit()
    assert not fresh.from_cache
    assert len(list((tmp_path / "cache").glob("buildkit-*.pickle"))) == 1
    cached = buildkit.load_kit()
    assert cached.from_cache
    assert cached.known_names == fresh.known_names
    assert {k.name for k in cached.known_names} >= {"中原区", "甲街道", "乙街道", "测试路"}
    assert [r["id"] for r in cached.area_rows] == ["district:中原区", "subdistrict:乙街道", "subdistrict:甲街道"]
    assert all(a["geometry"].equals(b["geometry"]) for a, b in zip(cached.area_rows, fresh.area_rows))
    assert _answers(cached) == _answers(fresh)
    road, *_, unknown = _answers(cached)
    assert road["status"] == "ok" and road["kind"] == "road"
    # the build's geocoder puts a name it cannot place at its article's 街道
    assert unknown["status"] == "ok" and unknown["precision"] == "subdistrict" and unknown["name"] == "甲街道"


def test_kit_is_made_again_when_the_gazetteer_changes(small_geodata):
    assert buildkit.load_kit().geocoder.geocode("测试路").status == "ok"
    _write_gazetteer(small_geodata, road_name="新测路")
    gazetteer.clear_cache()
    kit = buildkit.load_kit()
    assert not kit.from_cache
    assert kit.geocoder.geocode("新测路").status == "ok"
    assert kit.geocoder.geocode("测试路").status == "unresolved"


def test_kit_is_made_again_when_an_overrides_file_appears(small_geodata):
    buildkit.load_kit()
    (small_geodata / "overrides.csv").write_text("name,lon,lat\n测试广场,113.62,34.76\n", encoding="utf-8")
    kit = buildkit.load_kit()
    assert not kit.from_cache
    assert kit.geocoder.geocode("测试广场").status == "ok"


def test_broken_or_missing_cache_only_means_making_the_kit(small_geodata, tmp_path, monkeypatch):
    buildkit.load_kit()
    (entry,) = (tmp_path / "cache").glob("buildkit-*.pickle")
    entry.write_bytes(b"not a pickle")
    kit = buildkit.load_kit()
    assert not kit.from_cache and _answers(kit)[0]["status"] == "ok"
    monkeypatch.setenv("REPORTATLAS_CACHE_DIR", "")   # no cache at all
    kit = buildkit.load_kit()
    assert not kit.from_cache and _answers(kit)[0]["status"] == "ok"


def test_missing_gazetteer_is_the_usual_one_line_error(tmp_path, monkeypatch):
    monkeypatch.setenv("REPORTATLAS_GEODATA", str(tmp_path / "nowhere"))
    monkeypatch.setenv("REPORTATLAS_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(FileNotFoundError, match="reportatlas gazetteer build"):
        buildkit.load_kit()


def test_build_from_the_cached_kit_equals_a_build_from_the_gazetteer(shared_reports, tmp_path, monkeypatch):
    # the five reports, the committed gazetteer: a warm kit (unpickled Geocoder, areas, names)
    # must give the very atlas a freshly made Geocoder gives
    import sqlite3

    from reportatlas.layers import build_atlas

    monkeypatch.setenv("REPORTATLAS_CACHE_DIR", str(tmp_path / "cache"))
    gazetteer.clear_cache()
    buildkit.load_kit()                                   # fills the cache
    assert buildkit.load_kit().from_cache
    kit_build = build_atlas([shared_reports], out_dir=tmp_path / "kit", progress=False, maps=False)
    fresh = build_atlas([shared_reports], out_dir=tmp_path / "fresh", progress=False, maps=False,
                        gazetteer=gazetteer.load())

    def tables(path):
        with sqlite3.connect(path) as con:
            return {t: con.execute(f'SELECT * FROM "{t}"').fetchall()
                    for t in ("sites", "roads", "areas", "mentions", "metrics")}

    assert kit_build.counts == fresh.counts and kit_build.counts["sites"] > 50
    assert tables(kit_build.atlas_path) == tables(fresh.atlas_path)


def test_every_module_the_geocoder_is_made_of_is_in_the_kit_key():
    """A change to any module the kit's Geocoder is built from must make a new kit."""
    import subprocess
    import sys

    code = ("import sys, reportatlas.buildkit, reportatlas.geocode; "
            "print('\\n'.join(m.__file__ for n, m in sys.modules.items() if n.startswith('reportatlas.')))")
    files = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    package = Path(buildkit.PACKAGE_DIR)
    loaded = {Path(f).resolve().relative_to(package).as_posix() for f in files}
    assert loaded and not loaded - set(buildkit.KIT_SOURCES)
