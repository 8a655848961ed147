"""A small made-up gazetteer shared by the geocoder tests (all names and coordinates invented).

Two 街道 side by side (甲街道 west of lon 113.60, 乙街道 east of it) in one district; roads
as straight lines so that the right answers can be worked out by hand:

- 东西路   west–east at lat 34.750, lon 113.52 → 113.68
- 南北路   south–north at lon 113.580, lat 34.71 → 34.79
- 二号路   south–north at lon 113.640
- 北环路 / 南环路  west–east at lat 34.780 / 34.720
- 短路     south–north at lon 113.620 from lat 34.752 (stops 222 m short of 东西路)
- 点路     known only as one point, 890 m north of 东西路 at lon 113.57
- 远路     south–north at lon 113.660 from lat 34.765 (stops 1.7 km short of 东西路)
"""
from __future__ import annotations

import geopandas as gpd
from shapely.geometry import LineString, Point, box

ROWS = [
    # id, name, aliases, kind, subdistrict, precision, confidence, geometry
    ("district:测试区", "测试区", "", "district", "", "district", 0.9, box(113.50, 34.70, 113.70, 34.80)),
    ("subdistrict:甲街道", "甲街道", "", "subdistrict", "甲街道", "subdistrict", 0.6, box(113.50, 34.70, 113.60, 34.80)),
    ("subdistrict:乙街道", "乙街道", "", "subdistrict", "乙街道", "subdistrict", 0.6, box(113.60, 34.70, 113.70, 34.80)),
    ("road:东西路", "东西路", "", "road", "", "road", 0.8, LineString([(113.52, 34.75), (113.68, 34.75)])),
    ("road:南北路", "南北路", "", "road", "甲街道", "road", 0.8, LineString([(113.58, 34.71), (113.58, 34.79)])),
    ("road:二号路", "二号路", "", "road", "乙街道", "road", 0.8, LineString([(113.64, 34.71), (113.64, 34.79)])),
    ("road:北环路", "北环路", "", "road", "", "road", 0.8, LineString([(113.55, 34.78), (113.67, 34.78)])),
    ("road:南环路", "南环路", "", "road", "", "road", 0.8, LineString([(113.55, 34.72), (113.67, 34.72)])),
    ("road:短路", "短路", "", "road", "乙街道", "road", 0.7, LineString([(113.62, 34.752), (113.62, 34.79)])),
    ("road:远路", "远路", "", "road", "乙街道", "road", 0.7, LineString([(113.66, 34.765), (113.66, 34.79)])),
    ("road:点路", "点路", "", "road", "甲街道", "road", 0.5, Point(113.57, 34.758)),
    ("crossing:东西路|二号路", "东西路与二号路", "", "crossing", "乙街道", "intersection", 0.9, Point(113.6403, 34.7502)),
    ("crossing:孤路|东西路", "孤路与东西路交叉口", "", "crossing", "甲街道", "intersection", 0.8, Point(113.545, 34.75)),
    ("metro:须水", "须水站", "", "metro_station", "甲街道", "exact", 0.95, Point(113.55, 34.76)),
    ("community:和平社区", "和平社区", "和平居委会", "community", "甲街道", "community", 0.7, Point(113.56, 34.74)),
    ("village:张庄村", "张庄村", "", "village", "乙街道", "community", 0.7, Point(113.66, 34.77)),
    ("community:甲:幸福社区", "幸福社区", "", "community", "甲街道", "community", 0.7, Point(113.53, 34.73)),
    ("community:乙:幸福社区", "幸福社区", "", "community", "乙街道", "community", 0.7, Point(113.67, 34.73)),
    ("community:无坐标社区", "无坐标社区", "", "community", "乙街道", "community", 0.5, None),
    ("poi:老纺织厂", "老纺织厂", "纺织厂旧址|纺机老厂", "poi", "甲街道", "exact", 0.8, Point(113.57, 34.77)),
    ("office:甲街道", "甲街道办事处", "", "subdistrict_office", "甲街道", "nearby", 0.5, Point(113.555, 34.755)),
    ("poi:华山", "华山", "", "poi", "乙街道", "exact", 0.8, Point(113.65, 34.74)),
    ("metro:华山", "华山站", "", "metro_station", "甲街道", "exact", 0.95, Point(113.59, 34.74)),
]


def world() -> gpd.GeoDataFrame:
    records = [dict(id=r[0], name=r[1], aliases=r[2], kind=r[3], subdistrict=r[4] or None, district="测试区",
                    adcode=410199, precision=r[5], source="test-fixture", datum_in="wgs84", licence="test",
                    method="made up", evidence=1, confidence=r[6], geometry=r[7]) for r in ROWS]
    return gpd.GeoDataFrame(records, geometry="geometry", crs="EPSG:4326")


def metres(a, b) -> float:
    """Geodesic distance in metres between two (lon, lat) points."""
    from pyproj import Geod

    _, _, d = Geod(ellps="WGS84").inv(a[0], a[1], b[0], b[1])
    return abs(d)
