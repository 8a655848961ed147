"""diskcache: what is cached comes back the same, and a bad cache never changes a result."""
from __future__ import annotations

import numpy as np
import pytest
from pyproj import Transformer

from reportatlas import diskcache


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("REPORTATLAS_CACHE_DIR", str(tmp_path / "cache"))
    diskcache.transformer.cache_clear()
    yield tmp_path / "cache"
    diskcache.transformer.cache_clear()


def points():
    rng = np.random.default_rng(7)
    return rng.uniform(112.5, 114.5, 2000), rng.uniform(34.0, 35.5, 2000)


def test_cached_transformer_transforms_exactly_like_pyproj(cache):
    expected = Transformer.from_crs("EPSG:4326", "EPSG:4547", always_xy=True).transform(*points())
    first = diskcache.transformer("EPSG:4326", "EPSG:4547")           # asks PROJ, fills the cache
    assert len(list(cache.glob("transformer-*.json"))) == 1
    diskcache.transformer.cache_clear()
    second = diskcache.transformer("EPSG:4326", "EPSG:4547")          # rebuilt from the cache
    for tr in (first, second):
        x, y = tr.transform(*points())
        assert np.array_equal(x, expected[0]) and np.array_equal(y, expected[1])
    # Zhengzhou in CGCS2000 / 3-degree GK CM 114E: x a little west of the 500 km false easting
    x, y = second.transform(113.6, 34.75)
    assert 460_000 < x < 470_000 and 3_840_000 < y < 3_850_000


def test_broken_cached_transformer_is_made_again(cache):
    diskcache.transformer("EPSG:4326", "EPSG:4547")
    for f in cache.glob("transformer-*.json"):
        f.write_text("{not projjson")
    diskcache.transformer.cache_clear()
    x, _ = diskcache.transformer("EPSG:4326", "EPSG:4547").transform(113.6, 34.75)
    assert x == Transformer.from_crs("EPSG:4326", "EPSG:4547", always_xy=True).transform(113.6, 34.75)[0]


def test_write_read_and_prune(cache):
    paths = [diskcache.path_for("thing", diskcache.key("input", str(i)), ".bin") for i in range(6)]
    assert len(set(paths)) == 6
    for i, path in enumerate(paths):
        diskcache.write(path, f"value {i}".encode(), keep=3)
    assert diskcache.read(paths[-1]) == b"value 5"
    assert len(list(cache.glob("thing-*.bin"))) == 3
    assert diskcache.read(cache / "thing-missing.bin") is None


def test_no_cache_folder(monkeypatch):
    monkeypatch.setenv("REPORTATLAS_CACHE_DIR", "")
    assert diskcache.path_for("thing", diskcache.key("x"), ".bin") is None
    diskcache.write(None, b"ignored")
    assert diskcache.read(None) is None


def test_key_separates_parts():
    assert diskcache.key("ab", "c") != diskcache.key("a", "bc")
    assert diskcache.key(b"ab") == diskcache.key("ab")
