"""Small stand-ins for the extraction, the gazetteer and the geocoder, built in code.

The texts are our own; the coordinates are rough boxes around western Zhengzhou
(113.5–113.7 E, 34.7–34.8 N), enough to test joins, layers and drawing.
"""
from __future__ import annotations

from types import SimpleNamespace

import geopandas as gpd
from shapely.geometry import LineString, Point, box

HOSTILE = "<img src=x onerror=alert(1)>"

SD_A = box(113.60, 34.74, 113.64, 34.77)  # 三官庙街道 (made-up box)
SD_B = box(113.55, 34.74, 113.60, 34.77)  # 须水街道 (made-up box)
DISTRICT = box(113.50, 34.70, 113.70, 34.80)


def _entry(id, name, kind, geom, subdistrict=None, precision="subdistrict"):
    return {"id": id, "name": name, "kind": kind, "subdistrict": subdistrict, "district": "中原区",
            "precision": precision, "confidence": 0.5, "source": "test boxes", "geometry": geom}


class FakeGazetteer:
    def subdistricts(self):
        return gpd.GeoDataFrame([
            _entry("subdistrict:三官庙街道", "三官庙街道", "subdistrict", SD_A, "三官庙街道"),
            _entry("subdistrict:须水街道", "须水街道", "subdistrict", SD_B, "须水街道"),
        ], crs="EPSG:4326")

    def districts(self):
        return gpd.GeoDataFrame([_entry("district:中原区", "中原区", "district", DISTRICT,
                                        precision="district")], crs="EPSG:4326")

    def known_names(self):
        return []


def result(name, kind, geom, precision, id=None, subdistrict=None, source="test"):
    return SimpleNamespace(status="ok", name=name, kind=kind, geometry=geom, precision=precision,
                           id=id or f"{kind}:{name}", subdistrict=subdistrict, district="中原区",
                           source=source, confidence=0.8)


UNRESOLVED = SimpleNamespace(status="unresolved", name=None, kind=None, geometry=None,
                             precision=None, id=None, subdistrict=None, district=None,
                             source=None, confidence=None)


class FakeGeocoder:
    """Answers from a table; anything else is unresolved.  Records its calls."""

    def __init__(self):
        self.calls = []
        self.table = {
            "煤机路": result("煤机路", "road", LineString([(113.61, 34.75), (113.63, 34.755)]),
                          "road", subdistrict="三官庙街道"),
            "须水站": result("须水站", "metro_station", Point(113.57, 34.76), "exact",
                          id="metro:须水", subdistrict="须水街道"),
            "芝麻街双创园": result("芝麻街双创园", "site", Point(113.615, 34.752), "exact",
                             subdistrict="三官庙街道"),
            # known only through its 街道: becomes an approximate point
            "某某小微园": result("三官庙街道", "subdistrict", SD_A, "subdistrict",
                            id="subdistrict:三官庙街道", subdistrict="三官庙街道"),
            # a community the gazetteer only knows by its 街道: not drawn as the 街道's polygon
            "某某社区": result("某某社区", "community", SD_A, "subdistrict", id="community:某某社区",
                           subdistrict="三官庙街道"),
            "三官庙街道": result("三官庙街道", "subdistrict", SD_A, "subdistrict",
                            id="subdistrict:三官庙街道", subdistrict="三官庙街道"),
            HOSTILE: result(HOSTILE, "site", Point(113.58, 34.755), "exact", id="site:hostile",
                            subdistrict="须水街道"),
        }

    def geocode(self, query, *, context=None, place_type=None):
        self.calls.append((query, context, place_type))
        return self.table.get(query, UNRESOLVED)


def mention(name, place_type, article, report="r1.txt", start=0, sentence=None):
    return SimpleNamespace(report=report, article=article, district="中原区", mention=name,
                           name=name, place_type=place_type, start=start, end=start + len(name),
                           sentence=sentence or f"测试句子：{name}在这里。", known=True)


def metric(subject, subject_type, name, value, unit, article, report="r1.txt", start=0):
    return SimpleNamespace(report=report, article=article, subject=subject,
                           subject_type=subject_type, metric=name, value=value, unit=unit,
                           raw=f"{value}{unit}", qualifier=None, period=None, start=start,
                           end=start + 5, sentence=f"测试：{subject}{name}{value}{unit}。")


def fake_extraction():
    places = [
        mention("煤机路", "road", "三官庙街道", start=10),
        mention("煤机路", "road", "三官庙街道", report="r2.txt", start=40),
        mention("芝麻街双创园", "site", "三官庙街道", start=60),
        mention("某某小微园", "site", "三官庙街道", start=90),
        mention("须水站", "metro_station", "须水街道", start=120),
        mention("某某社区", "community", "三官庙街道", start=130),
        mention("不存在的路", "road", "须水街道", start=150),
        mention(HOSTILE, "site", "须水街道", start=170, sentence=f"危险名称{HOSTILE}测试"),
        mention("三官庙街道", "subdistrict", "三官庙街道", start=0),
    ]
    metrics = [
        metric("芝麻街双创园", "site", "总投资", 3e8, "元", "三官庙街道", start=62),
        metric("芝麻街双创园", "site", "总投资", 3e8, "元", "三官庙街道", report="r2.txt", start=70),
        metric("芝麻街双创园", "site", "占地面积", 20000.0, "平方米", "三官庙街道", start=64),
        metric("某某小微园", "site", "总投资", 1e8, "元", "三官庙街道", start=92),
        metric("无名项目", "site", "总投资", 5e7, "元", "三官庙街道", start=95),
        metric("三官庙街道", "subdistrict", "面积", 3.2e6, "平方米", "三官庙街道", start=5),
        metric(HOSTILE, "site", "总投资", 2e7, "元", "须水街道", start=172),
    ]
    reports = [SimpleNamespace(name="r1.txt"), SimpleNamespace(name="r2.txt")]
    return SimpleNamespace(reports=reports, articles=[], places=places, metrics=metrics)
