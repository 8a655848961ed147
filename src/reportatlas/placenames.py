"""Place mentions: known names (Aho-Corasick) plus names found by their shape.

Work happens on ``Report.normalized``; every mention is mapped back to ORIGINAL offsets.

* Known names (``KnownName`` from the gazetteer, or the 街道/社区/村 name list) are matched
  with one pyahocorasick automaton, longest match first.
* Unknown names are found by their shape: a name stem followed by a type word (路, 大道,
  小区, 家属院, 号院, 社区, 村, 街道, 广场, 产业园, 安置区, 地块, 变电站, 片区, 板块 …).  The
  stem runs left from the type word over CJK/alphanumeric characters and is cut after the
  last verb or function word (新建, 推进, 位于, 在, 对, 以 …); stems that are generic
  (老旧小区, 断头路, 4个社区 …) are dropped.
* Lists: ``郑棉三、四、五厂家属院`` gives three compounds, ``润河锦绣东、西广场`` two, and
  ``颐苑、江南小镇、聂寨、盛世4个社区`` four communities.
* Short forms: a bare ``二期安置区`` after ``洛达庙一期安置区`` is ``洛达庙二期安置区``; the
  abbreviation of a 街道 (``中西`` for 中原西路街道) after a preposition (在中西…) is that 街道.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

import ahocorasick

from .corpus import Article, Report, article_at, hierarchy
from .extract import KnownName, PlaceMention

CJK = "\u3400-\u9fff"
NUM_CN = "一二三四五六七八九十"

# Zhengzhou's districts (names only; facts, used to recognise district mentions)
ZHENGZHOU_DISTRICTS = ("中原区", "二七区", "管城回族区", "管城区", "金水区", "上街区", "惠济区")

# gazetteer kind → place_type; kinds not listed are not matched in running text
KIND_TYPES = {
    "district": "district", "subdistrict": "subdistrict", "community": "community",
    "village": "village", "road": "road", "site": "site", "park": "park", "zone": "zone",
    "substation": "site", "metro_line": "metro_line", "river": "river", "landmark": "landmark",
    "railway_station": "landmark", "residential_compound": "residential_compound",
    "railway": "other", "power_plant": "site",
}
for _t in ("road", "site", "park", "residential_compound", "community", "village", "subdistrict",
           "district", "zone", "landmark", "metro_line", "river", "other"):
    KIND_TYPES.setdefault(_t, _t)

# type words, longest first within the regex; (word, place_type, max stem length)
SUFFIXES: list[tuple[str, str, int]] = [
    ("家属院", "residential_compound", 8), ("街坊", "residential_compound", 4), ("号院", "residential_compound", 8),
    ("小区", "residential_compound", 6), ("花园", "residential_compound", 6),
    ("佳苑", "residential_compound", 6), ("心苑", "residential_compound", 6),
    ("社区", "community", 6), ("街道", "subdistrict", 6),
    ("安置区", "site", 8), ("安置房", "site", 8), ("地块", "site", 8), ("变电站", "site", 8),
    ("博物馆", "site", 12), ("医院", "site", 6), ("大厦", "site", 8), ("广场", "site", 8),
    ("酒店", "site", 5), ("综合体", "site", 8), ("生活区", "residential_compound", 6),
    ("体育馆", "site", 6), ("图书馆", "site", 6), ("文化馆", "site", 6), ("纪念馆", "site", 6), ("商务楼", "site", 6), ("科技城", "site", 4), ("老厂区", "site", 4),
    ("市场", "site", 6), ("街区", "site", 6), ("中心", "site", 10),
    ("产业园", "site", 10), ("公园", "park", 6), ("游园", "park", 6),
    ("园", "site", 10), ("厂", "site", 6),
    ("片区", "zone", 11), ("板块", "zone", 11), ("商圈", "zone", 4), ("新区", "zone", 4),
    ("中央文化区", "zone", 3), ("中央科技活力区", "zone", 0),
    ("铁路线", "other", 4),
    ("河", "river", 3), ("湖", "river", 3),
    ("大道", "road", 5), ("大街", "road", 5), ("路", "road", 5), ("街", "road", 4), ("村", "village", 5),
]
SUFFIX_TYPE = {s: (t, n) for s, t, n in SUFFIXES}
_SUFFIX_RE = re.compile("|".join(sorted((re.escape(s) for s, _, _ in SUFFIXES), key=len, reverse=True)))

# words after which a name starts (verbs, prepositions, conjunctions, adverbs, determiners)
BOUNDARY_WORDS = sorted(set("""
在 对 以 和 与 及 将 把 为 由 从 向 至 到 的 了 是 等 于 或 并 同 跟 让 使 给 被 经 沿 含 除 即 及其 以及 其中 目前
新建 建设 推进 打通 加快 位于 依托 围绕 启动 实施 完成 开展 谋划 打造 改造 提升 整治 包括 北接 南邻 东起
西起 南起 北起 西至 东至 南至 北至 下辖 辖区 重点 近期 积极 持续 引进 成立 设立 结合 针对 实现 推动 参与 进驻
加入 联合 走访 考察 签约 落地 已 正在 拟 共 该 各 全 每 这 那 此 其 管理 服务 紧盯 盘活 建立 推行 规范 开发
区域 对接 带动 负责 主打 建成 新增 投资 总投资 占地 还 也 都 又 再 就 才 只 且 而 但 若 当
做好 抓好 打好 破解 召开 理清 创新 探索 热爱 牵头 部分 所有 进行 配套 有 开工 拆除 清理 巡查 完善 征集 下沉 解决 贯彻 落实 贯彻落实 当前 内 区内 盯 紧盯 围挡 申请 协调 帮扶 慰问 服务于 走进 增强 进一步 占 进 参加 加大 举办 引导 非物质文化遗产 文化遗产 搭建 听取 考核 吸纳 最终 逐项 明确
获评 荣获 评为 扩建 改建 修建 兴建 续建 筹建 援建 旁 路旁 附近 沿线 一带 以东 以西 以南 以北 东侧 西侧 南侧 北侧
迎接 发展 培育 借助 凭借 利用 形成 依照 按照 根据 通过 聚焦 立足 锚定 发挥 挖掘 承接 实行 创建 申报 作为 成为
先后 相继 分别 均 已经 基本 全面 加强 强化 深入 继续 着力 大力 全力 认真 切实 扎实 努力 争取 确保 保证 促进
召开 举办 组织 邀请 召集 动员 发动 对准 瞄准 对照 走进 来到 进入 前往 入驻 驻 坐落 座落 地处 毗邻 邻近 靠近
同步 一起 一道 携手 配合 协助 指导 支持 帮助 帮 为了 关于 对于 面向 基于 鉴于 随着 除了 包含 拥有 计划 预计
""".split()), key=len, reverse=True)

# stems that do not name one place
GENERIC_STEMS = set("""
老旧 老 小 各 该 本 全 每 两 几 多 辖区 所属 周边 相关 各类 重点 在建 新建 已建 道 道路 马路 公 断头 精品 主次
主干 背街 门户 沿街 城市 小游 游 家 校 乐 花 居民 居民小 无主管 养老服务 日间照料 社区养老服务 社区日间照料
党群服务 指挥 城运 服务 活动 示范 试点 安置 建设 商业 特色 历史文化 文化 产业 工业 都市型工业 微企 小微企业
农贸 集贸 区域 核心 南部 北部 东部 西部 中部 整个 园 首开 起步 幼儿 该村 行政 全村 农 新农 乡
一 二 三 四 五 六 七 八 九 十 思 出 门 线 网 路 街 村 厂 纺织 纺织厂 棉纺厂 地 重点项目 民生实事 在谈 安全
学校 医疗 卫生 购物 商务 地下 停车 泊位 公共 市政 省 市 区 国家 全国 中国 郑州 河南 新 老年人 儿童 残疾人 街道
""".split())

# whole names that are generic
GENERIC_NAMES = {"棉纺厂", "纺织厂", "钢铁长城", "长城", "新城", "商城", "县城", "全城", "园中园"}

# characters that may form a stem
_STEM_CHAR = re.compile(rf"[{CJK}A-Za-z0-9]")

_NOT_AFTER = {  # a type word followed by these is not the end of a name
    "路": "长队网面口段院子径线灯况演费上程", "街": "道区坊角头巷", "村": "民组委级两庄干落里",
    "社区": "党委工作", "中心": "工作城", "厂": "区房商长家", "园": "区林艺丁", "小区": "楼",
    "河": "流道段畔岸南北东西", "湖": "精区景畔南北东西", "地块": "", "市场": "化主", "片区": "党", "广场": "舞",
}


@dataclass
class _Cand:
    start: int      # normalised offsets
    end: int
    name: str
    place_type: str
    priority: int   # 3 lists, 2 known / short forms, 1 shape
    known: bool = False


def hierarchy_known_names() -> list[KnownName]:
    """Districts, 街道, 社区 and 村 of the committed name list (jionlp, Apache-2.0)."""
    out: list[KnownName] = [KnownName(d, "district") for d in ZHENGZHOU_DISTRICTS]
    for district, sds in hierarchy().items():
        for sd, units in sds.items():
            out.append(KnownName(sd, "subdistrict", sd))
            for u in units:
                kind = "village" if u.endswith("村") and not u.endswith("新村") else "community"
                if u.endswith("新村"):
                    kind = "community"
                out.append(KnownName(u, kind, sd))
    return out


class PlaceFinder:
    """Finds place mentions in reports; build once per set of known names."""

    def __init__(self, known_names: Iterable[KnownName]):
        self.known: dict[str, tuple[str, str]] = {}   # surface → (canonical, place_type)
        self.subdistricts: dict[str, str] = {}        # full 街道 name → district
        for kn in known_names:
            ptype = KIND_TYPES.get(kn.kind)
            if ptype is None:
                continue
            for surface in (kn.name, *tuple(kn.aliases or ())):
                if surface and len(surface) >= 3 and surface not in self.known:
                    self.known[surface] = (kn.name, ptype)
            if ptype == "subdistrict":
                self.subdistricts[kn.name] = ""
        for d in ZHENGZHOU_DISTRICTS:
            self.known.setdefault(d, (d, "district"))
        for kn in BUILTIN_NAMES:
            for surface in (kn.name, *kn.aliases):
                self.known.setdefault(surface, (kn.name, kn.kind))
        for district, sds in hierarchy().items():
            for sd in sds:
                self.subdistricts[sd] = district
        self.automaton = ahocorasick.Automaton()
        for surface, value in self.known.items():
            self.automaton.add_word(surface, (surface, *value))
        if self.known:
            self.automaton.make_automaton()

    # ------------------------------------------------------------------ public
    def find(self, report: Report, articles: list[Article]) -> list[PlaceMention]:
        text = report.normalized
        cands = self._lists(text) + self._known(text) + self._shapes(text)
        chosen = _resolve(cands)
        chosen = self._short_forms(text, chosen, report, articles)
        out = []
        for c in chosen:
            oa, ob = report.to_original(c.start, c.end)
            art = article_at(articles, oa)
            out.append(PlaceMention(
                report=report.name, article=art.subdistrict if art else "",
                district=art.district if art else "", mention=text[c.start:c.end],
                name=c.name, place_type=c.place_type, start=oa, end=ob,
                sentence=_sentence(text, c.start, c.end), known=c.known))
        return out

    # ------------------------------------------------------------------ known names
    def _known(self, text: str) -> list[_Cand]:
        if not self.known:
            return []
        out = []
        for end, (surface, name, ptype) in self.automaton.iter(text):
            start = end - len(surface) + 1
            if ptype == "district" and text[end + 1:end + 2] == "委":
                continue  # 中原区委: the party committee
            out.append(_Cand(start, end + 1, name, ptype, 2, True))
        return out

    # ------------------------------------------------------------------ shapes
    def _shapes(self, text: str) -> list[_Cand]:
        out: list[_Cand] = []
        for m in _SUFFIX_RE.finditer(text):
            suffix = m.group()
            ptype, max_stem = SUFFIX_TYPE[suffix]
            nxt = text[m.end():m.end() + 1]
            if nxt and nxt in _NOT_AFTER.get(suffix, ""):
                continue
            if suffix == "街" and text[m.end():m.end() + 1] == "道":
                continue
            stem_start = self._stem_start(text, m.start(), max_stem, suffix, ptype)
            if stem_start is None:
                continue
            stem = text[stem_start:m.start()]
            if not _good_stem(stem, suffix):
                continue
            name = stem + suffix
            if suffix == "街道" and name not in self.known and stem[-1] not in "路街村镇湖山河庄寨庙园桥门" \
                    and not text.startswith(("办事处", "党工委"), m.end()):
                continue  # 召开街道: not a name
            ptype = _refine_type(name, ptype)
            if ptype in ("road", "river") and text[stem_start - 1:stem_start] == "“" \
                    and text[m.end():m.end() + 1] == "”":
                continue  # a slogan in quotes: “项目强街”, “幸福汝河”
            out.append(_Cand(stem_start, m.end(), _canonical(name, ptype), ptype, 1))
        for m in re.finditer(r"(?<![0-9A-Za-z])(\d{1,2})号线", text):
            out.append(_Cand(m.start(), m.end(), m.group(), "metro_line", 1))
        for m in re.finditer(r"([东西南北])([二三四五])环(?:路)?", text):
            if m.group(1):
                out.append(_Cand(m.start(), m.end(), m.group(), "road", 1))
        return out

    def _stem_start(self, text: str, suffix_start: int, max_stem: int, suffix: str,
                    ptype: str = "") -> int | None:
        i = suffix_start
        limit = max(suffix_start - max(max_stem, 12), 0)
        while i > limit and _STEM_CHAR.match(text[i - 1]):
            if suffix in ("路", "街", "大道", "大街", "村") and text[i - 1] in "路街":
                break
            i -= 1
        if i == suffix_start:
            return None
        stem = text[i:suffix_start]
        cut = 0
        # a district or 街道 named inside the stem is a mention of its own: start after it
        kind = ptype
        for end, (surface, _name, ptype) in self.automaton.iter(stem) if self.known else ():
            if ptype in ("district", "subdistrict") and end + 1 < len(stem):
                if ptype == "district" and kind in ("site", "park", "zone"):
                    continue  # 中原区政务中心 is one name
                cut = max(cut, end + 1)
        for inner in ("街道", "园区", "片区", "社区", "小区", "板块", "商圈"):
            k = stem.rfind(inner)
            if k >= 0 and k + len(inner) < len(stem):
                cut = max(cut, k + len(inner))
        # keep a known name that ends inside the stem (a road in 工农路32号院, a village in …)
        for w in BOUNDARY_WORDS:
            k = stem.rfind(w)
            while k >= cut:
                if _inside_known(stem, k, self.known):
                    k = stem.rfind(w, 0, k)
                    continue
                if k + len(w) == len(stem):
                    return None  # the type word follows a verb: 召开街道, 理清思路
                if stem[k + len(w):] in ("东", "西", "南", "北", "中"):
                    k = stem.rfind(w, 0, k)
                    continue  # 建设西路 is a name, not 建设 + 西路
                cut = max(cut, k + len(w))
                break
        cut += len(stem[cut:]) - len(stem[cut:].lstrip("区的了之"))
        cut = max(cut, len(stem) - max_stem)
        return i + cut if cut < len(stem) else None

    # ------------------------------------------------------------------ lists
    def _lists(self, text: str) -> list[_Cand]:
        out: list[_Cand] = []
        # 颐苑、江南小镇、聂寨、盛世4个社区 / 凯旋路、花语里、水木清城3个社区
        for m in re.finditer(rf"([{CJK}A-Za-z0-9]{{2,12}}、(?:[{CJK}A-Za-z0-9]{{2,6}}、)*[{CJK}A-Za-z0-9]{{2,6}})"
                             rf"(?:等)?([0-9{NUM_CN}]+)个(社区|村|行政村|小区|街道)", text):
            unit = m.group(3).replace("行政", "")
            ptype = {"社区": "community", "村": "village", "小区": "residential_compound",
                     "街道": "subdistrict"}[unit]
            pos = m.start(1)
            for item in m.group(1).split("、"):
                a, b = pos, pos + len(item)
                pos = b + 1
                # trim a leading verb/preposition from the first item
                if a == m.start(1):
                    cut = _trim_left(item)
                    a, item = a + cut, item[cut:]
                if not item:
                    continue
                name = item if item.endswith(unit) else item + unit
                if name in self.known:
                    name = self.known[name][0]
                out.append(_Cand(a, b, name, ptype, 3, name in self.known))
        # project lists: “方圆经纬”“宏江瀚苑”等项目 / 宏江溢彩年华、和润林湖湖景二期等在建设项目
        for m in re.finditer(rf"((?:“[^”“]{{2,12}}”[、,]?)+|(?:[{CJK}A-Za-z0-9]{{2,12}}、)+[{CJK}A-Za-z0-9]{{2,12}})"
                             rf"等(?:在建设|在建|在谈|重点|建设)?项目", text):
            pos = m.start(1)
            for item in re.finditer(r"“([^”“]+)”|([^、,“”]+)", m.group(1)):
                a, b = item.span(1) if item.group(1) else item.span(2)
                a, b = a + pos, b + pos
                surface = text[a:b]
                if a == m.start(1) and not item.group(1):
                    cut = _trim_left(surface)
                    a, surface = a + cut, surface[cut:]
                if len(surface) < 2 or re.search(r"[,。、]", surface):
                    continue
                sm = _SUFFIX_RE.search(surface)
                ptype = SUFFIX_TYPE[sm.group()][0] if sm and sm.end() == len(surface) else "site"
                out.append(_Cand(a, b, surface, _refine_type(surface, ptype), 3))
        # 郑棉三、四、五厂家属院 / 润河锦绣东、西广场
        for m in re.finditer(rf"([{CJK}]{{1,6}}?)([{NUM_CN}东西南北])((?:、[{NUM_CN}东西南北])+)"
                             rf"([{CJK}]{{0,4}}(?:{_SUFFIX_RE.pattern}))", text):
            stem = m.group(1)
            cut = _trim_left(stem)
            stem = stem[cut:]
            if not stem:
                continue
            rest = m.group(4)
            suffix = _SUFFIX_RE.search(rest).group()
            ptype = _refine_type(stem + rest, SUFFIX_TYPE[suffix][0])
            items = [m.group(2)] + m.group(3).split("、")[1:]
            for it in items:
                out.append(_Cand(m.start(1) + cut, m.end(), stem + it + rest, ptype, 3))
        return out

    # ------------------------------------------------------------------ short forms
    def _short_forms(self, text: str, chosen: list[_Cand], report: Report,
                     articles: list[Article]) -> list[_Cand]:
        extra: list[_Cand] = []
        # ellipsis: 二期安置区 after 洛达庙一期安置区 → 洛达庙二期安置区
        for i, c in enumerate(chosen):
            m = re.fullmatch(rf"([{NUM_CN}0-9]+期)(.+)", c.name)
            if not m:
                continue
            for prev in reversed(chosen[:i]):
                pm = re.fullmatch(rf"(.+?)[{NUM_CN}0-9]+期(.*)", prev.name)
                if pm and pm.group(2) == m.group(2) and c.start - prev.end < 300:
                    c.name = pm.group(1) + c.name
                    break
        # a shorter form of a name given in full before: 三厂家属院 after 郑棉三厂家属院
        for i, c in enumerate(chosen):
            if c.known or c.priority == 3:
                continue
            for prev in reversed(chosen[:i]):
                if prev.place_type == c.place_type and prev.name != c.name and prev.name.endswith(c.name) \
                        and len(c.name) >= 3:
                    c.name = prev.name
                    break
        # bare 北部片区 after the zone it belongs to: CCD北部片区
        taken = [(c.start, c.end) for c in chosen]
        zones = [c for c in chosen if c.place_type == "zone" and c.name.startswith(("CCD", "郑州中央文化区"))]
        for m in re.finditer(r"([东南西北]部)(?:核心)?(片区|板块)", text):
            if any(a < m.end() and m.start() < b for a, b in taken):
                continue
            if any(0 <= m.start() - z.end < 300 for z in zones):
                name = "CCD" + m.group(1) + "片区"
                extra.append(_Cand(m.start(), m.end(), name, "zone", 2))
        # a site named by its stem alone after its full name: 中原万达 (中原万达广场)
        taken = [(c.start, c.end) for c in chosen + extra]
        for c in list(chosen):
            if c.place_type not in ("site", "residential_compound") or c.priority == 3:
                continue
            sm = re.search(r"(广场|大厦|酒店|商务楼|佳苑|心苑)$", c.name)
            stem = c.name[:sm.start()] if sm else ""
            if len(stem) < 4:
                continue
            for m in re.finditer(re.escape(stem) + r"(?=[等、,和与及]|$)", text):
                if m.start() > c.start and not any(a < m.end() and m.start() < b for a, b in taken):
                    extra.append(_Cand(m.start(), m.end(), c.name, c.place_type, 2))
                    taken.append(m.span())
        # 街道 abbreviations after a preposition: 在中西扬帆 → 中原西路街道
        for sd in self.subdistricts:
            stem = sd[:-2] if sd.endswith("街道") else ""
            if len(stem) != 4:
                continue
            abbr = stem[0] + stem[2]
            for m in re.finditer(rf"(?<=[在到于从])" + abbr + rf"(?![{CJK}]{{0}}[路街区])", text):
                oa, _ = report.to_original(m.start(), m.end())
                art = article_at(articles, oa)
                if art is None or art.subdistrict != sd:
                    continue
                if any(a < m.end() and m.start() < b for a, b in taken):
                    continue
                extra.append(_Cand(m.start(), m.end(), sd, "subdistrict", 2, True))
        return sorted(chosen + extra, key=lambda c: (c.start, c.end))


def _inside_known(stem: str, k: int, known: dict) -> bool:
    """True if position ``k`` of ``stem`` is inside a known name that the stem contains."""
    for length in range(3, len(stem) + 1):
        for a in range(0, len(stem) - length + 1):
            if a <= k < a + length and stem[a:a + length] in known:
                return True
    return False


def _trim_left(stem: str) -> int:
    cut = 0
    for w in BOUNDARY_WORDS:
        k = stem.rfind(w)
        if k >= 0 and k + len(w) < len(stem):
            cut = max(cut, k + len(w))
    return cut


def _good_stem(stem: str, suffix: str) -> bool:
    if not stem or stem in GENERIC_STEMS or stem + suffix in GENERIC_NAMES:
        return False
    if suffix == "街坊" and stem.isdigit():
        return True
    if re.fullmatch(rf"[0-9{NUM_CN}百千万余多几两个条座处家项所]+", stem):
        return False  # 4个社区, 两条路
    if re.match(rf"[0-9{NUM_CN}]+[个条座处家项所批名]", stem):
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
    if stem.endswith(("个", "条", "座", "处", "家", "的", "年")):
        return False
    if any(g in stem for g in ("复合型", "多元", "一体化", "嵌入式", "断头", "园中", "文明", "示范", "市级",
                               "省级", "国家级", "口袋", "护城")):
        return False
    if "个" in stem or len(stem) < 2 and suffix not in ("号院", "街坊"):
        return False
    if suffix == "街道" and len(stem) > 5:
        return False
    name = stem + suffix
    if stem.endswith("之") or suffix == "街" and name[-2:] in ("扫街", "逛街", "沿街", "临街", "背街", "上街"):
        return False
    if suffix == "路" and name[-2:] in _NOT_ROADS:
        return False
    if suffix == "中心" and (len(stem) < 4 or not stem.endswith(_CENTRE_KINDS)):
        return False
    if suffix in ("片区", "板块", "商圈") and stem[-1] in NUM_CN + "0123456789":
        return False
    if suffix in ("社区", "小区") and stem.endswith(("样板", "示范", "特色", "个性化")):
        return False
    return True


_NOT_ROADS = {"道路", "思路", "新路", "一路", "马路", "出路", "门路", "进路", "引路", "来路", "小路",
              "大路", "老路", "网路", "线路", "套路", "弯路", "后路", "前路", "公路", "铁路"}
_CENTRE_KINDS = ("培训", "孵化", "创意", "艺术", "活动", "政务", "运行", "文化")


def _refine_type(name: str, ptype: str) -> str:
    if name.endswith("园博园"):
        return "park"
    if name.endswith("商业街"):
        return "site"
    if name.endswith(("公园", "游园")):
        return "park"
    if name.endswith(("家属院", "号院", "小区", "花园")) and ptype == "site":
        return "residential_compound"
    return ptype


# zones known by several names (facts about Zhengzhou's planning areas)
BUILTIN_NAMES = (
    KnownName("郑州中央文化区", "zone", "", ("CCD",)),
    KnownName("中央科技活力区", "zone", "", ("CTD",)),
)


def _canonical(name: str, ptype: str) -> str:
    if ptype == "zone":
        for pre in ("郑州中央文化区", "CCD"):
            if name.startswith(pre) and len(name) > len(pre):
                rest = name[len(pre):]
                return "CCD" + {"北部核心板块": "北部片区"}.get(rest, rest)
    return name


def _resolve(cands: list[_Cand]) -> list[_Cand]:
    """Non-overlapping candidates: lists first, then the longest, then known before shape."""
    order = sorted(cands, key=lambda c: (-(c.priority == 3), -(c.end - c.start), -c.priority, c.start))
    chosen: list[_Cand] = []
    spans: list[tuple[int, int]] = []
    for c in order:
        if c.priority == 3:
            if any(a < c.end and c.start < b and not (a == c.start and b == c.end) for a, b in spans):
                continue
        elif any(a < c.end and c.start < b for a, b in spans):
            continue
        chosen.append(c)
        spans.append((c.start, c.end))
    return sorted(chosen, key=lambda c: (c.start, c.end))


def _sentence(text: str, a: int, b: int) -> str:
    s = max(text.rfind(ch, 0, a) for ch in "。！？!?\n") + 1
    ends = [k for k in (text.find(ch, b) for ch in "。！？!?\n") if k >= 0]
    e = min(ends) + 1 if ends else len(text)
    return text[s:e].strip()
