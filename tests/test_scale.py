"""The dask engine (reportatlas.scale) gives the same answers as the single-machine path.

References: reportatlas.query's local functions (what `engine="local"` runs) and, where
that helps to check the semantics independently, plain geopandas written out here.  The
cluster is a small in-process LocalCluster so the tests fit two cores.
"""
from __future__ import annotations

import math
import socket

import numpy as np
import pytest

geopandas = pytest.importorskip("geopandas")
pytest.importorskip("dask_geopandas")
distributed = pytest.importorskip("distributed")

import pandas as pd  # noqa: E402
from hypothesis import given, settings, strategies as st  # noqa: E402
from shapely.geometry import LineString, Point, Polygon, box  # noqa: E402

from reportatlas import query, scale  # noqa: E402
from reportatlas.errors import GeometryError, InputError, QueryError, ReportAtlasError  # noqa: E402

BBOX = (113.45, 34.68, 113.70, 34.82)  # 中原区, lon/lat
NAMES = ["芝麻街", "二砂", "百花", "碧沙岗", "西流湖", "须水", "常庄", "秦岭"]


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
    lon = rng.uniform(BBOX[0], BBOX[2], n).round(4)   # rounding makes exact duplicates (ties) likely
    lat = rng.uniform(BBOX[1], BBOX[3], n).round(4)
    investment = rng.integers(1, 500, n) * 1.0e6 + rng.random(n) * 1e3  # fractional on purpose
    investment[rng.random(n) < 0.05] = np.nan
    names = [f"{NAMES[i % len(NAMES)]}{i % 97}号" for i in range(n)]   # repeated names: ties by name
    frame = geopandas.GeoDataFrame(
        {"id": [f"site:{i}" for i in range(n)], "name": names, "total_investment_yuan": investment},
        geometry=geopandas.points_from_xy(lon, lat), crs="EPSG:4326")
    frame.loc[[5, 17], "geometry"] = None   # rows without a position are skipped by both engines
    return frame


def make_areas():
    """街道-like polygons: 乙 and 丙 overlap (the smaller one wins), 丁 lies outside the sites."""
    return geopandas.GeoDataFrame(
        {"name": ["甲街道", "乙街道", "丙街道", "丁街道"]},
        geometry=[box(113.45, 34.68, 113.55, 34.82), box(113.55, 34.68, 113.70, 34.76),
                  Polygon([(113.60, 34.74), (113.70, 34.74), (113.70, 34.82), (113.62, 34.82)]),
                  box(114.0, 35.0, 114.1, 35.1)],
        crs="EPSG:4326")


SITES = make_sites(3000)
AREAS = make_areas()


def assert_same_rows(got, expected):
    assert list(got.columns) == list(expected.columns)
    assert got["id"].tolist() == expected["id"].tolist()
    assert list(got.index) == list(expected.index)
    if "distance_m" in expected:
        assert got["distance_m"].tolist() == expected["distance_m"].tolist()   # bit for bit
    assert got.geometry.geom_equals_exact(expected.geometry, tolerance=0).all()


# ----------------------------------------------------------------------------- near / along

@pytest.mark.parametrize("npartitions", [1, 3, 7])
def test_near_identical_to_local(npartitions):
    target = Point(113.60, 34.75)
    got = scale.near(SITES, target, 1500, npartitions=npartitions)
    expected = query.near(SITES, target, 1500)
    assert len(expected) > 20
    assert_same_rows(got, expected)


def test_near_via_query_engine_option_on_a_distributed_client(client):
    # query.near(engine="dask") uses dask's default scheduler: the active distributed client
    target = Point(113.52, 34.70)
    with client.as_current():
        got = query.near(SITES, target, 2000, engine="dask")
    assert_same_rows(got, query.near(SITES, target, 2000))


def test_near_measures_metres_not_degrees():
    # 0.01° of latitude is about 1,109 m here, 0.01° of longitude about 915 m
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
    expected = query.along(SITES, road, 300)
    assert len(expected) > 20
    assert_same_rows(got, expected)


def test_spatially_partitioned_input_skips_far_partitions_and_finds_the_same():
    located = SITES.dropna(subset=["geometry"])
    by_lon = located.iloc[np.argsort(located.geometry.x.to_numpy(), kind="stable")].reset_index(drop=True)
    ddf = scale.to_dask(by_lon, npartitions=6)    # six north–south strips
    ddf.calculate_spatial_partitions()
    target = Point(113.66, 34.80)
    assert scale._prune(ddf, scale._metric(target), 2500).npartitions < 6
    got = scale.near(ddf, target, 2500)
    expected = query.near(SITES, target, 2500)
    assert sorted(got["id"]) == sorted(expected["id"])
    assert got["distance_m"].tolist() == expected["distance_m"].tolist()


# ----------------------------------------------------------------------------- contains / nearest / which

def test_contains_identical_to_local(client):
    area = AREAS.geometry.iloc[2]
    got = scale.contains(SITES, area, client=client, npartitions=4)
    assert_same_rows(got, query.contains(SITES, area))


def test_contains_keeps_points_on_the_outline():
    sites = geopandas.GeoDataFrame({"id": ["inside", "on edge", "outside"], "name": ["c", "b", "a"]},
                                   geometry=[Point(113.5, 34.7), Point(113.55, 34.7), Point(113.6, 34.7)],
                                   crs="EPSG:4326")
    area = box(113.45, 34.68, 113.55, 34.72)
    assert scale.contains(sites, area, npartitions=2)["id"].tolist() == ["on edge", "inside"]  # by name


def test_nearest_k_identical_to_local_with_ties(client):
    sites = SITES.copy()
    dup = sites.geometry.iloc[10]
    for i in (500, 1500, 2900):           # exact duplicates spread over partitions
        sites.loc[sites.index[i], "geometry"] = dup
        sites.loc[sites.index[i], "name"] = "同名"
    sites.loc[sites.index[10], "name"] = "同名"
    target = Point(dup.x + 0.00001, dup.y)
    got = scale.nearest(sites, target, 6, client=client, npartitions=5)
    assert_same_rows(got, query.nearest(sites, target, 6))
    assert got["id"].tolist()[:4] == ["site:10", "site:500", "site:1500", "site:2900"]


def test_which_identical_to_local():
    got = scale.which(Point(113.65, 34.75), AREAS, npartitions=2)
    expected = query.which(Point(113.65, 34.75), AREAS)
    assert got["name"].tolist() == expected["name"].tolist() == ["丙街道", "乙街道"]
    assert got["area_km2"].tolist() == expected["area_km2"].tolist()


# ----------------------------------------------------------------------------- assign / aggregate

@pytest.mark.parametrize(("stat", "npartitions"), [("count", 1), ("count", 9), ("min", 4), ("max", 7)])
def test_aggregate_per_area_identical_to_local(stat, npartitions, client):
    metric = None if stat == "count" else "total_investment_yuan"
    got = scale.aggregate(SITES, AREAS, metric=metric, stat=stat, client=client, npartitions=npartitions)
    expected = query.aggregate(SITES, AREAS, metric=metric, stat=stat)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert set(got["subdistrict"]) == {"甲街道", "乙街道", "丙街道", "丁街道"}


@pytest.mark.parametrize("stat", ["sum", "mean"])
def test_aggregate_sums_are_exact_and_match_local(stat, client):
    got = scale.aggregate(SITES, AREAS, metric="total_investment_yuan", stat=stat, client=client, npartitions=7)
    expected = query.aggregate(SITES, AREAS, metric="total_investment_yuan", stat=stat)
    # same groups, counts and order; values equal to the last bit or two of pandas' summation …
    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-13)
    # … and exactly the correctly rounded sum of the values in each area (checked independently)
    polys = AREAS.assign(_area=AREAS.to_crs(scale.METRIC_CRS).area)
    placed = geopandas.sjoin(SITES.dropna(subset=["geometry"]), polys, predicate="covered_by")
    placed = placed.sort_values("_area", kind="stable")
    placed = placed[~placed.index.duplicated(keep="first")]
    for name, group in placed.groupby("name_right"):
        values = group["total_investment_yuan"].dropna()
        exact = math.fsum(values) if stat == "sum" else math.fsum(values) / len(values)
        assert got.set_index("subdistrict").loc[name, "value"] == exact
    assert got.set_index("subdistrict").loc["丁街道", "n"] == 0


def test_aggregate_sum_does_not_depend_on_partitioning():
    sums = [scale.aggregate(SITES, AREAS, metric="total_investment_yuan", npartitions=n)["value"].tolist()
            for n in (1, 5, 13)]
    assert sums[0] == sums[1] == sums[2]


def test_aggregate_metrics_table_by_column_identical_to_local():
    rng = np.random.default_rng(3)
    n = 400
    metrics = pd.DataFrame({
        "subdistrict": rng.choice(["甲街道", "乙街道", "丙街道", ""], n),
        "metric": rng.choice(["总投资", "占地面积"], n),
        "value": rng.integers(1, 100, n) * 1e7,
        "unit": rng.choice(["元", "平方米"], n),
    })
    for stat in ("count", "sum", "max"):
        got = scale.aggregate(metrics, AREAS, metric="总投资", stat=stat, npartitions=3)
        expected = query.aggregate(metrics, AREAS, metric="总投资", stat=stat)
        pd.testing.assert_frame_equal(got, expected, check_exact=True)   # integer-valued: sums exact
    assert "unit" in got.columns and len(got) >= 4


def test_assign_gives_each_point_its_smallest_area(client):
    got = scale.assign(SITES, AREAS, client=client, npartitions=4)
    assert got.loc[got["id"] == "site:5", "subdistrict"].item() == ""          # no geometry
    inside_c = SITES.geometry.covered_by(AREAS.geometry.iloc[2]).to_numpy()
    assert (got.loc[inside_c, "subdistrict"] == "丙街道").all()               # smaller than 乙
    counts = got["subdistrict"].value_counts()
    expected = query.aggregate(SITES, AREAS, stat="count").set_index("subdistrict")["n"]
    for name in ["甲街道", "乙街道", "丙街道"]:
        assert counts[name] == expected[name]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e300, max_value=1e300),
                max_size=60))
def test_exact_sum_is_correctly_rounded(values):
    assert scale.exact_sum(values) == math.fsum(values)


def test_exact_sum_skips_nan():
    assert scale.exact_sum([0.1, float("nan"), 0.2]) == math.fsum([0.1, 0.2])


# ----------------------------------------------------------------------------- bad input

def test_bad_input_raises_one_clear_error():
    target = Point(113.6, 34.75)
    with pytest.raises(QueryError, match="zero or more metres"):
        scale.near(SITES, target, -5)
    with pytest.raises(GeometryError, match="WGS-84"):
        scale.near(SITES, Point(500000, 3840000), 100)       # metres passed as degrees
    with pytest.raises(GeometryError, match="no CRS"):
        scale.near(SITES.set_crs(None, allow_override=True), target, 100)
    with pytest.raises(QueryError, match="k must be"):
        scale.nearest(SITES, target, 0)
    with pytest.raises(InputError, match="GeoDataFrame"):
        scale.near([(113.6, 34.75)], target, 100)
    with pytest.raises(QueryError, match="no column 'street'"):
        scale.aggregate(SITES, AREAS, metric="street")
    with pytest.raises(QueryError, match="Polygon"):
        scale.contains(SITES, target)
    with pytest.raises(QueryError, match="LineString"):
        scale.along(SITES, target, 10)
    with pytest.raises(InputError, match="either client= or scheduler="):
        scale.near(SITES, target, 100, client=object(), scheduler="tcp://x:1")


def test_unreachable_scheduler_is_a_reportatlas_error(monkeypatch):
    monkeypatch.setattr(scale, "CONNECT_TIMEOUT_S", 1)
    with socket.socket() as s:   # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv(scale.SCHEDULER_ENV, f"tcp://127.0.0.1:{port}")
    with pytest.raises(QueryError, match="cannot reach the dask scheduler") as info:
        query.near(SITES, Point(113.6, 34.75), 100, engine="dask")
    assert isinstance(info.value, ReportAtlasError)


def test_prefilters_change_nothing_for_mixed_geometries_and_far_rows():
    """Lines, polygons, far-away and empty rows go through the degree prefilters unharmed."""
    far = geopandas.GeoDataFrame(
        {"id": ["line", "poly", "far", "antimeridian", "empty"], "name": ["l", "p", "f", "a", "e"]},
        geometry=[LineString([(113.0, 34.75), (114.0, 34.751)]), box(113.601, 34.751, 113.7, 34.8),
                  Point(116.4, 39.9), Point(179.9, -10), Polygon()], crs="EPSG:4326")
    mixed = pd.concat([SITES.iloc[:500], far], ignore_index=True)
    for target, d in ((Point(113.60, 34.75), 800), (LineString([(113.5, 34.7), (113.6, 34.8)]), 300)):
        assert_same_rows(scale.near(mixed, target, d, npartitions=3), query.near(mixed, target, d))
    assert_same_rows(scale.contains(mixed, AREAS.geometry.iloc[2], npartitions=3),
                     query.contains(mixed, AREAS.geometry.iloc[2]))
    for target in (Point(113.60, 34.75), LineString([(113.5, 34.7), (113.6, 34.8)]), Point(116.0, 39.0)):
        for k in (1, 7):
            got = scale.nearest(SITES, target, k, npartitions=3)
            assert_same_rows(got, query.nearest(SITES, target, k))


def test_both_engines_skip_the_same_rows_before_measuring():
    """One prefilter: a dask partition keeps exactly the rows the local index would measure
    for a point or an area target (a road: the local index cuts it into pieces, fewer rows)."""
    mixed = pd.concat([SITES.iloc[:800], geopandas.GeoDataFrame(
        {"id": ["line", "poly"], "name": ["l", "p"]},
        geometry=[LineString([(113.0, 34.75), (114.0, 34.751)]), box(113.601, 34.751, 113.7, 34.8)],
        crs="EPSG:4326")], ignore_index=True)
    found = query.index(mixed)
    road = LineString([(113.5, 34.7), (113.6, 34.8)])
    for target, reach in ((Point(113.60, 34.75), 800.0), (Point(113.5, 34.7), 1500.0), (AREAS.geometry.iloc[2], 0.0),
                          (road, 300.0)):
        kept = scale._candidates(mixed, target, reach)
        local = found.within_reach(target, reach)
        if target.geom_type == "LineString":
            assert set(local) <= set(kept.index) and len(local) < len(kept)
        else:
            assert kept.index.tolist() == local.tolist() and 0 < len(local) < len(mixed)
        assert set(query.near(mixed, target, reach).index) <= set(local)


def test_aggregate_grid_shortcut_inside_partitions_matches_local(monkeypatch):
    """Partitions of 50,000 points or more are placed by the local engine's grid first;
    forced on for small partitions here, the answers equal the local engine's plain loop."""
    from reportatlas import query_index

    expected = {stat: query.aggregate(SITES, AREAS, metric="total_investment_yuan", stat=stat)
                for stat in ("count", "max")}
    monkeypatch.setattr(query_index, "GRID_MIN_POINTS", 0)
    monkeypatch.setattr(query_index, "GRID", 16)
    for stat, want in expected.items():
        got = scale.aggregate(SITES, AREAS, metric="total_investment_yuan", stat=stat, npartitions=3)
        pd.testing.assert_frame_equal(got, want, check_exact=True)


def test_the_callers_polygons_are_never_prepared_in_place(monkeypatch):
    """shapely.prepare changes a geometry in place, and two dask threads preparing one shared
    polygon at once crashed GEOS (seen at 100k sites, 2 partitions): queries prepare copies."""
    import shapely

    from reportatlas import query_index

    monkeypatch.setattr(query_index, "GRID_MIN_POINTS", 0)
    areas = make_areas()
    area = areas.geometry.iloc[2]
    query.contains(SITES, area)
    query.aggregate(SITES, areas, stat="count")
    with dask_threads():
        scale.contains(SITES, area, npartitions=4)
        scale.aggregate(SITES, areas, stat="count", npartitions=4)
    assert not shapely.is_prepared(area)
    assert not shapely.is_prepared(np.asarray(areas.geometry.values)).any()


def test_many_threads_on_one_area_polygon_agree():
    from concurrent.futures import ThreadPoolExecutor

    area = make_areas().geometry.iloc[2]
    expected = query.contains(SITES, area)["id"].tolist()
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: query.contains(SITES, area)["id"].tolist(), range(24)))
    assert all(r == expected for r in results) and len(expected) > 100


def dask_threads():
    import dask

    return dask.config.set(scheduler="threads", num_workers=2)


@pytest.mark.parametrize("k", [1, 4, 30, 5000])
def test_nearest_of_lines_polygons_and_far_rows_identical_to_local(k):
    """nearest in each partition uses the local engine's prefilter (boxes grown until they
    hold k rows, then bounded by the k-th exact distance), for every kind of geometry."""
    extra = geopandas.GeoDataFrame(
        {"id": ["line", "poly", "far", "empty"], "name": ["l", "p", "f", "e"]},
        geometry=[LineString([(113.0, 34.75), (114.0, 34.751)]), box(113.601, 34.751, 113.7, 34.8),
                  Point(116.4, 39.9), Polygon()], crs="EPSG:4326")
    mixed = pd.concat([SITES.iloc[:700], extra, SITES.iloc[700:900]], ignore_index=True)
    for target in (Point(113.60, 34.75), Point(113.9, 35.2), LineString([(113.5, 34.7), (113.6, 34.8)]),
                   box(113.58, 34.74, 113.62, 34.77)):
        got = scale.nearest(mixed, target, k, npartitions=3)
        assert_same_rows(got, query.nearest(mixed, target, k))
        assert len(got) == min(k, len(mixed) - 3)
