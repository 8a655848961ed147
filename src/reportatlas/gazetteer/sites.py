"""Sites, compounds and parks named in POI addresses ("中原中路171号万达广场3层").

A restaurant whose address places it inside 锦艺城 or 王府小区 is evidence of where that
site is.  Each site is placed at the median of its POIs when they agree (all within
``max_spread_m`` of the median); a name whose POIs fall into places kilometres apart
(two 万达广场) is left out rather than averaged into a point between them.
"""
from __future__ import annotations

import re
from collections import defaultdict

import numpy as np

from .datum import from_metric, to_metric

_SUFFIX = r"(?:购物中心|商业中心|财富中心|广场|小区|花园|大厦|市场|公园|家园|新城|商场|苑|城|茂)"
_CANDIDATE = re.compile(rf"[\u4e00-\u9fff]{{2,14}}?{_SUFFIX}")
#: characters after which a new name starts in an address
_CUT = re.compile(r"号院|号|米|里|角|口|(?<!小)区|街道|道|路|街|院|层|楼|座|旁|对面|内|至|与|和|近|位于|附近|交汇处|"
                  r"[东西南北]{1,2}侧|[往向以][东西南北]|\d")
_GENERIC = {"购物中心", "商业中心", "财富中心", "广场", "小区", "花园", "大厦", "市场", "公园", "家园",
            "新城", "商场", "文化广场", "农贸市场", "菜市场", "商业广场", "中心广场"}
KIND_BY_SUFFIX = (("公园", "park"), ("小区", "residential_compound"), ("花园", "residential_compound"),
                  ("家园", "residential_compound"), ("苑", "residential_compound"))


def site_names(address: str) -> list[str]:
    """Site names an address mentions, in order: "中原中路171号万达广场3层" → ["万达广场"]."""
    out = []
    for m in _CANDIDATE.finditer(re.sub(r"\s+", "", address)):
        name = _CUT.split(m.group())[-1]
        if len(name) >= 3 and name not in _GENERIC and re.search(rf"{_SUFFIX}$", name):
            out.append(name)
    return list(dict.fromkeys(out))


def site_kind(name: str) -> str:
    for suffix, kind in KIND_BY_SUFFIX:
        if name.endswith(suffix):
            return kind
    return "site"


def locate_sites(pois: list[dict], *, max_spread_m: float = 600.0, min_evidence: int = 1) -> list[dict]:
    """One record per site name whose POIs agree: name, kind, lon, lat, evidence, spread_m, keys."""
    found: dict[str, list[dict]] = defaultdict(list)
    for p in pois:
        for name in site_names(p["address"]):
            found[name].append(p)
    for name in sorted(found):  # "东朗悦公园" is 朗悦公园 seen from its east side
        if name[0] in "东西南北" and name[1:] in found:
            found[name[1:]].extend(found.pop(name))
    out = []
    for name, ps in sorted(found.items()):
        if len(ps) < min_evidence:
            continue
        x, y = to_metric([p["lon"] for p in ps], [p["lat"] for p in ps])
        mx, my = float(np.median(x)), float(np.median(y))
        d = np.hypot(x - mx, y - my)
        if d.max() > max_spread_m:  # namesakes in different places: do not average them
            continue
        lon, lat = from_metric([mx], [my])
        out.append({"name": name, "kind": site_kind(name), "lon": float(lon[0]), "lat": float(lat[0]),
                    "evidence": len(ps), "spread_m": float(np.median(d)), "keys": sorted(p["key"] for p in ps)})
    return out
