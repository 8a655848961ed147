"""The dask engine (reportatlas.scale) gives the same answers as the single-machine path.

The reference is plain geopandas written out here (project to EPSG:4547, measure, filter;
sjoin + groupby), and reportatlas.query's local functions where they exist.  The cluster is
a small in-process LocalCluster so the tests fit two cores.
"""
from __future__ import annotations

import math
import socket

import numpy as np
import pytest

geopandas = pytest.importorskip("geopandas")
pytest.importorskip("dask_geopandas")
distributed = pytest.importorskip("distributed")

from hypothesis import given, settings, strategies as st  # noqa: E402
from shapely.geometry import LineString, Point, Polygon, box  # noqa: E402

from reportatlas import scale  # noqa: E402
from reportatlas.errors import GeometryError, InputError, QueryError, ReportAtlasError  # noqa: E402

BBOX = (113.45, 34.68, 113.70, 34.82)  # 中原区, lon/lat


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                       dashboard_address=None)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def make_sites(n: int, seed: int = 7):
    rng = np.random.default_rng(seed)
    lon = rng.uniform(BBOX[0], BBOX[2], n).round(5)   # rounding makes exact duplicates (ties) likely
    lat = rng.uniform(BBOX[1], BBOX[3], n).round(5)
    investment = rng.integers(1, 500, n) * 1.0e6 + rng.random(n)  # fractional: sums are not trivially exact
    investment[rng.random(n) < 0.05] = np.nan
    return geopandas.GeoDataFrame(
        {"id": [f"site:{i}" for i in range(n)], "total_investment_yuan": investment},
        geometry=geopandas.points_from_xy(lon, lat), crs="EPSG:4326")


def make_areas():
    """Three 街道-like polygons; 乙 and 丙 overlap, 丁 is empty of sites (outside the bbox)."""
    return geopandas.GeoDataFrame(
        {"name": ["甲街道", "乙街道", "丙街道", "丁街道"]},
        geometry=[box(113.45, 34.68, 113.55, 34.82), box(113.55, 34.68, 113.70, 34.76),
                  Polygon([(113.60, 34.74), (113.70, 34.74), (113.70, 34.82), (113.62, 34.82)]),
                  box(114.0, 35.0, 114.1, 35.1)],
        crs="EPSG:4326")


SITES = make_sites(3000)
AREAS = make_areas()


def reference_near(features, target, distance_m):
    projected = features.to_crs(scale.METRIC_CRS)
    target_m = geopandas.GeoSeries([target], crs="EPSG:4326").to_crs(scale.METRIC_CRS).iloc[0]
    out = features.copy()
    out["distance_m"] = projected.distance(target_m)
    return out[out["distance_m"] <= distance_m].sort_values("distance_m", kind="stable")


def assert_same_rows(got, expected):
    assert list(got.index) == list(expected.index)
    assert list(got["id"]) == list(expected["id"])
    if "distance_m" in expected:
        assert got["distance_m"].tolist() == expected["distance_m"].tolist()
    assert got.geometry.geom_equals_exact(expected.geometry, tolerance=0).all()


# ----------------------------------------------------------------------------- near / along

@pytest.mark.parametrize("npartitions", [1, 3, 7])
def test_near_identical_to_local(npartitions):
    target = Point(113.60, 34.75)
    got = scale.near(SITES, target, 1500, npartitions=npartitions)
    expected = reference_near(SITES, target, 1500)
    assert len(expected) > 20
    assert_same_rows(got, expected)
    assert got["distance_m"].is_monotonic_increasing


def test_near_on_distributed_client(client):
    target = Point(113.52, 34.70)
    got = scale.near(SITES, target, 2000, client=client, npartitions=4)
    assert_same_rows(got, reference_near(SITES, target, 2000))


def test_near_measures_metres_not_degrees():
    # 0.01° of latitude is about 1,109 m here; 0.01° of longitude about 915 m
    sites = geopandas.GeoDataFrame({"id": ["north", "east"]},
                                   geometry=[Point(113.6, 34.76), Point(113.61, 34.75)], crs="EPSG:4326")
    found = scale.near(sites, Point(113.6, 34.75), 1000, npartitions=2)
    assert found["id"].tolist() == ["east"]
    assert 905 < found["distance_m"].iloc[0] < 925
    found = scale.near(sites, Point(113.6, 34.75), 1200, npartitions=2)
    assert found["id"].tolist() == ["east", "north"]
    assert 1100 < found["distance_m"].iloc[1] < 1120


def test_along_a_road_identical_to_local(client):
    road = LineString([(113.47, 34.70), (113.58, 34.73), (113.68, 34.80)])
    got = scale.along(SITES, road, 300, client=client, npartitions=5)
    expected = reference_near(SITES, road, 300)
    assert len(expected) > 20
    assert_same_rows(got, expected)


def test_spatially_partitioned_input_prunes_but_finds_the_same():
    ddf = scale.to_dask(SITES, npartitions=6).spatial_shuffle(npartitions=6)
    target = Point(113.66, 34.80)
    got = scale.near(ddf, target, 2500)
    expected = reference_near(SITES, target, 2500)
    assert sorted(got["id"]) == sorted(expected["id"])
    assert sorted(got["distance_m"]) == sorted(expected["distance_m"])


# ----------------------------------------------------------------------------- contains / nearest

def test_contains_identical_to_local_and_in_input_order(client):
    area = AREAS.geometry.iloc[2]
    got = scale.contains(SITES, area, client=client, npartitions=4)
    assert_same_rows(got, SITES[SITES.within(area)])


def test_contains_within_excludes_the_outline_intersects_keeps_it():
    sites = geopandas.GeoDataFrame({"id": ["inside", "on edge", "outside"]},
                                   geometry=[Point(113.5, 34.7), Point(113.55, 34.7), Point(113.6, 34.7)],
                                   crs="EPSG:4326")
    area = box(113.45, 34.68, 113.55, 34.72)
    assert scale.contains(sites, area, npartitions=2)["id"].tolist() == ["inside"]
    assert scale.contains(sites, area, predicate="intersects", npartitions=2)["id"].tolist() == ["inside", "on edge"]


def test_nearest_k_identical_to_local_with_ties_in_input_order(client):
    sites = SITES.copy()
    # three exact duplicates of one point, spread over partitions: ties keep input order
    dup = sites.geometry.iloc[10]
    for i in (500, 1500, 2900):
        sites.loc[sites.index[i], "geometry"] = dup
    target = Point(dup.x + 0.00001, dup.y)
    got = scale.nearest(sites, target, 6, client=client, npartitions=5)
    expected = reference_near(sites, target, float("inf")).head(6)
    assert_same_rows(got, expected)
    assert got["id"].tolist()[:4] == ["site:10", "site:500", "site:1500", "site:2900"]


# ----------------------------------------------------------------------------- assign / aggregate

def reference_aggregate(points, areas):
    joined = geopandas.sjoin(points, areas, predicate="within")
    groups = {name: g["total_investment_yuan"] for name, g in joined.groupby("name")}
    return joined, groups


@pytest.mark.parametrize("npartitions", [1, 4, 9])
def test_aggregate_per_area_identical_to_sjoin(npartitions, client):
    got = scale.aggregate(SITES, AREAS, value="total_investment_yuan", client=client, npartitions=npartitions)
    joined, groups = reference_aggregate(SITES, AREAS)
    assert got.index.tolist() == ["甲街道", "乙街道", "丙街道", "丁街道"]
    for name in ["甲街道", "乙街道", "丙街道"]:
        values = groups[name].dropna()
        assert got.loc[name, "count"] == len(groups[name])
        assert got.loc[name, "sum"] == math.fsum(values)          # exactly, not approximately
        assert got.loc[name, "mean"] == math.fsum(values) / len(values)
        assert got.loc[name, "min"] == values.min() and got.loc[name, "max"] == values.max()
    # overlapping areas count a point in both; the empty area is listed with zeros
    assert got["count"].sum() == len(joined) > joined["id"].nunique()
    assert got.loc["丁街道", "count"] == 0 and got.loc["丁街道", "sum"] == 0.0
    assert math.isnan(got.loc["丁街道", "mean"])


def test_aggregate_sum_does_not_depend_on_partitioning():
    sums = {n: scale.aggregate(SITES, AREAS, value="total_investment_yuan", npartitions=n)["sum"].tolist()
            for n in (1, 2, 5, 13)}
    assert sums[1] == sums[2] == sums[5] == sums[13]


def test_aggregate_counts_only_without_value():
    got = scale.aggregate(SITES, AREAS, npartitions=3)
    assert list(got.columns) == ["count"]
    joined, groups = reference_aggregate(SITES, AREAS)
    assert got.loc["甲街道", "count"] == len(groups["甲街道"])


def test_assign_gives_each_point_its_area(client):
    got = scale.assign(SITES, AREAS, client=client, npartitions=4)
    joined = geopandas.sjoin(SITES, AREAS, predicate="within").drop(columns="index_right")
    key = ["id", "name"]
    assert sorted(map(tuple, got[key].values)) == sorted(map(tuple, joined[key].values))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e300, max_value=1e300),
                max_size=60))
def test_exact_sum_is_correctly_rounded(values):
    assert scale.exact_sum(values) == math.fsum(values)


def test_exact_sum_skips_nan():
    assert scale.exact_sum([0.1, float("nan"), 0.2]) == math.fsum([0.1, 0.2])


# ----------------------------------------------------------------------------- against query.py

def test_matches_reportatlas_query_local_functions():
    query = pytest.importorskip("reportatlas.query", reason="reportatlas.query not written yet")
    target = Point(113.60, 34.75)
    local = query.near(SITES, target, 1500)
    got = scale.near(SITES, target, 1500, npartitions=4)
    assert sorted(local["id"]) == sorted(got["id"])
    local = query.contains(SITES, AREAS.geometry.iloc[0])
    assert sorted(local["id"]) == sorted(scale.contains(SITES, AREAS.geometry.iloc[0], npartitions=4)["id"])


# ----------------------------------------------------------------------------- bad input

def test_bad_input_raises_one_clear_error():
    with pytest.raises(InputError, match="metres"):
        scale.near(SITES, Point(113.6, 34.75), -5)
    with pytest.raises(GeometryError, match="WGS-84"):
        scale.near(SITES, Point(500000, 3840000), 100)       # metres passed as degrees
    with pytest.raises(GeometryError, match="no CRS"):
        scale.near(SITES.set_crs(None, allow_override=True), Point(113.6, 34.75), 100)
    with pytest.raises(InputError, match="k must be"):
        scale.nearest(SITES, Point(113.6, 34.75), 0)
    with pytest.raises(InputError, match="GeoDataFrame"):
        scale.near([(113.6, 34.75)], Point(113.6, 34.75), 100)
    with pytest.raises(InputError, match="no column 'street'"):
        scale.aggregate(SITES, AREAS, by="street")
    with pytest.raises(GeometryError, match="Polygon"):
        scale.contains(SITES, Point(113.6, 34.75))
    with pytest.raises(InputError, match="either client= or scheduler="):
        scale.near(SITES, Point(113.6, 34.75), 100, client=object(), scheduler="tcp://x:1")


def test_unreachable_scheduler_is_a_reportatlas_error(monkeypatch):
    monkeypatch.setattr(scale, "CONNECT_TIMEOUT_S", 1)
    with socket.socket() as s:   # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(QueryError, match="cannot reach the dask scheduler") as info:
        scale.near(SITES, Point(113.6, 34.75), 100, scheduler=f"tcp://127.0.0.1:{port}")
    assert isinstance(info.value, ReportAtlasError)
