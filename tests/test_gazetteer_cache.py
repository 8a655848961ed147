"""gazetteer.load(): the parsed GeoJSON is cached on disk, and the cache never serves stale data."""
from __future__ import annotations

import pandas as pd
import pytest
from shapely.geometry import Point, Polygon

from reportatlas import gazetteer
from reportatlas.errors import InputError
from reportatlas.gazetteer.io import dumps


def entry(eid, name, kind, geom, **extra):
    base = {"id": eid, "name": name, "aliases": [], "kind": kind, "subdistrict": "须水街道",
            "district": "中原区", "adcode": 410102, "precision": "exact", "source": "test",
            "datum_in": "wgs84", "licence": "test fixture", "method": "made in code", "evidence": 1,
            "confidence": 0.9, "geometry": geom}
    base.update(extra)
    return base


def write_gazetteer(folder, names=("煤机路站", "须水公园")):
    entries = [entry("subdistrict:须水街道", "须水街道", "subdistrict",
                     Polygon([(113.50, 34.75), (113.56, 34.75), (113.56, 34.79), (113.50, 34.79)]),
                     aliases=["须水"], precision="subdistrict")]
    entries += [entry(f"poi:{i}", n, "poi", Point(113.52 + i / 100, 34.77)) for i, n in enumerate(names)]
    path = folder / "gazetteer.geojson"
    path.write_text(dumps(entries), encoding="utf-8")
    return path


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("REPORTATLAS_CACHE_DIR", str(folder))
    gazetteer.clear_cache()
    yield folder
    gazetteer.clear_cache()


def fresh(path):
    gazetteer.clear_cache()
    return gazetteer.load(path).entries


def assert_same(a, b):
    pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"))
    assert a.crs == b.crs
    assert list(a.geometry.geom_equals_exact(b.geometry, 0)) == [True] * len(a)


def test_cached_load_equals_parsing_the_geojson(tmp_path, cache, monkeypatch):
    path = write_gazetteer(tmp_path)
    first = fresh(path)
    assert len(list(cache.glob("gazetteer-*.pickle"))) == 1
    second = fresh(path)   # from the cache file
    monkeypatch.setenv("REPORTATLAS_CACHE_DIR", "")
    parsed = fresh(path)   # no cache at all
    for frame in (first, second):
        assert_same(frame, parsed)
    assert parsed.set_index("id").loc["subdistrict:须水街道", "aliases"] == ["须水"]
    assert parsed["adcode"].dtype == "Int64"


def test_a_changed_geojson_is_parsed_again(tmp_path, cache):
    path = write_gazetteer(tmp_path)
    assert "须水公园" in set(fresh(path)["name"])
    write_gazetteer(tmp_path, names=("西流湖公园",))
    names = set(fresh(path)["name"])
    assert "西流湖公园" in names and "须水公园" not in names


def test_a_broken_cache_file_is_ignored(tmp_path, cache):
    path = write_gazetteer(tmp_path)
    expected = fresh(path)
    for f in cache.glob("gazetteer-*.pickle"):
        f.write_bytes(b"not a pickle")
    assert_same(fresh(path), expected)


def test_an_unwritable_cache_folder_does_not_stop_loading(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("REPORTATLAS_CACHE_DIR", str(blocker / "cache"))
    path = write_gazetteer(tmp_path)
    assert len(fresh(path)) == 3
    gazetteer.clear_cache()


def test_old_versions_are_pruned(tmp_path, cache):
    path = write_gazetteer(tmp_path)
    for i in range(gazetteer.CACHE_KEEP + 2):
        write_gazetteer(tmp_path, names=(f"测试{i}号公园",))
        fresh(path)
    assert len(list(cache.glob("gazetteer-*.pickle"))) == gazetteer.CACHE_KEEP


def test_an_unreadable_gazetteer_is_one_clear_error(tmp_path, cache):
    path = tmp_path / "gazetteer.geojson"
    path.write_bytes(b"\xff\xfe not json")
    gazetteer.clear_cache()
    with pytest.raises(InputError, match="gazetteer build"):
        gazetteer.load(path)
