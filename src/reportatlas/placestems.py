"""What a stem and its type word make (used by :mod:`reportatlas.placenames`).

``trim_left`` cuts a stem after its last boundary word (``BOUNDARY_WORDS``: verbs,
prepositions and other words no name starts with), ``good_stem`` says whether what is left
can name a place with that type word (not a count, a generic word or a slogan),
``refine_type`` turns a few endings into their own type (公园 → park, 小区 → residential
compound) and ``canonical`` gives the spelling a name is kept under (CCD for 郑州中央文化区).
"""
from __future__ import annotations

import re
from functools import lru_cache

import ahocorasick

from .placewords import BOUNDARY_WORDS, CENTRE_KINDS, GENERIC_NAMES, GENERIC_STEMS, NOT_ROADS, NUM_CN


@lru_cache(maxsize=1)
def boundary_automaton() -> "ahocorasick.Automaton":
    """Every boundary word, with its rank in ``BOUNDARY_WORDS`` (the order the stem rule
    tries them in)."""
    auto = ahocorasick.Automaton()
    for rank, w in enumerate(BOUNDARY_WORDS):
        auto.add_word(w, (rank, w))
    auto.make_automaton()
    return auto


_COUNT_ONLY_RE = re.compile(rf"[0-9{NUM_CN}百千万余多几两个条座处家项所]+")
_COUNT_LEAD_RE = re.compile(rf"[0-9{NUM_CN}]+[个条座处家项所批名]")
_PEOPLE_COUNT_RE = re.compile(r"[0-9]+[余多]?[名位人户]")


@lru_cache(maxsize=65536)
def trim_left(stem: str) -> int:
    """Characters to drop from the left of ``stem``: up to the end of the boundary word whose
    last occurrence ends furthest right, short of the end of ``stem``."""
    last: dict[str, int] = {}      # each word's last occurrence, as str.rfind finds it
    for end, (_rank, w) in boundary_automaton().iter(stem):
        last[w] = end + 1
    n = len(stem)
    return max((e for e in last.values() if e < n), default=0)


@lru_cache(maxsize=65536)
def good_stem(stem: str, suffix: str) -> bool:
    if not stem or stem in GENERIC_STEMS or stem + suffix in GENERIC_NAMES:
        return False
    if suffix == "街坊" and stem.isdigit():
        return True
    if _COUNT_ONLY_RE.fullmatch(stem):
        return False  # 4个社区, 两条路
    if _COUNT_LEAD_RE.match(stem):
        return False
    if suffix in ("路", "街", "大道", "大街", "村", "社区", "街道") and len(stem) < 2:
        return False
    if stem[0] == "两" or suffix == "街道" and stem[0] in "该本全各每":
        return False
    if suffix in ("中心", "项目", "园", "厂", "园区", "市场", "街区") and len(stem) < 2:
        return False
    if any(g in stem for g in ("老旧", "无主管", "辖区", "所有", "相关", "各类", "周边", "全市",
                               "全区", "这些", "多个", "其他", "养老服务", "日间照料", "党群服务")):
        return False
    if _PEOPLE_COUNT_RE.search(stem):
        return False
    if stem.endswith(("个", "条", "座", "处", "家", "的", "年", "型")):
        return False
    if suffix == "村" and stem[-1] in "乡农":
        return False  # 和美乡村, 农村
    if any(g in stem for g in ("复合型", "多元", "一体化", "嵌入式", "断头", "园中", "文明", "示范", "市级",
                               "村级", "镇级", "区级", "街道级",
                               "省级", "国家级", "口袋", "护城")):
        return False
    if "个" in stem or len(stem) < 2 and suffix not in ("号院", "街坊"):
        return False
    if suffix == "街道" and len(stem) > 5:
        return False
    name = stem + suffix
    if stem.endswith("之") or suffix == "街" and name[-2:] in ("扫街", "逛街", "沿街", "临街", "背街", "上街"):
        return False
    if suffix == "路" and name[-2:] in NOT_ROADS:
        return False
    if suffix == "中心" and (len(stem) < 4 or not stem.endswith(CENTRE_KINDS)):
        return False
    if suffix in ("片区", "板块", "商圈") and stem[-1] in NUM_CN + "0123456789":
        return False
    if suffix in ("社区", "小区") and stem.endswith(("样板", "示范", "特色", "个性化")):
        return False
    if suffix in ("站", "火车站") and (len(stem) < 2 or any(g in stem for g in _GENERIC_STATIONS)):
        return False
    return True


_GENERIC_STATIONS = ("服务", "地铁", "公交", "车", "工作", "加油", "中转", "驿", "监测", "网", "平台", "电",
                     "水", "气", "广播", "收费", "检查", "救助", "保障", "基", "首")


def refine_type(name: str, ptype: str) -> str:
    if name.endswith("园博园"):
        return "park"
    if name.endswith("商业街"):
        return "site"
    if name.endswith(("公园", "游园")):
        return "park"
    if name.endswith(("家属院", "号院", "小区", "花园")) and ptype == "site":
        return "residential_compound"
    return ptype


def canonical(name: str, ptype: str) -> str:
    if name.endswith("铁路线"):
        return name[:-1]
    if ptype == "zone":
        for pre in ("郑州中央文化区", "CCD"):
            if name.startswith(pre) and len(name) > len(pre):
                rest = name[len(pre):]
                return "CCD" + {"北部核心板块": "北部片区"}.get(rest, rest)
    return name
