"""Place mentions: known names (Aho-Corasick) plus names found by their shape.

Work happens on ``Report.normalized``; every mention is mapped back to ORIGINAL offsets.

* Known names (``KnownName`` from the gazetteer, or the 街道/社区/村 name list) are matched
  with one pyahocorasick automaton, longest match first.
* Unknown names are found by their shape: a name stem followed by a type word (路, 大道,
  小区, 家属院, 号院, 社区, 村, 街道, 广场, 产业园, 安置区, 地块, 变电站, 片区, 板块 …).  The
  stem runs left from the type word over CJK/alphanumeric characters and is cut after the
  last verb or function word (新建, 推进, 位于, 在, 对, 以 …); stems that are generic
  (老旧小区, 断头路, 4个社区 …) are dropped.
* Lists: ``电力一、二、三厂家属院`` gives three compounds, ``青槐东、西广场`` two, and
  ``槐荫、杏坛、汝南3个社区`` three communities.
* Short forms: a bare ``二期安置区`` after ``洛达庙一期安置区`` is ``洛达庙二期安置区``; the
  abbreviation of a 街道 (``中西`` for 中原西路街道) after a preposition (在中西…) is that 街道.

Speed: boundary words and known names inside a stem come from Aho-Corasick automata; what a
type word makes of the text before it is decided once per distinct stem window and type word
(a finder keeps these decisions, so build one finder per set of known names and reuse it);
jieba's POS tagger runs only on stems holding a dictionary verb of two or more characters
(:mod:`reportatlas.placeverbs`).  Regexes run over whole reports start with a literal
character where they can: one that starts with a character class or a look-behind is tried
at every character of the text.
"""
from __future__ import annotations

import bisect
import re
from operator import attrgetter
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Iterator

import ahocorasick
import ahocorasick_rs

from .corpus import SENTENCE_END, Article, Report, article_at, hierarchy
from .extract import KnownName, PlaceMention
from .numbers import find_all
from .placestems import boundary_automaton, canonical, good_stem, refine_type, trim_left
from .placeverbs import VERB_CUTS, verb_cut
from .placewords import (BOUNDARY_WORDS, BUILTIN_NAMES, CJK, KIND_TYPES, NOT_AFTER, NUM_CN, STEM_CHAR,
                         SUFFIX_RE, SUFFIX_TYPE, ZHENGZHOU_DISTRICTS)


@dataclass(slots=True)
class _Cand:
    start: int      # normalised offsets
    end: int
    name: str
    place_type: str
    priority: int   # 3 lists, 2 known / short forms, 1 shape
    known: bool = False


_MISSING = object()
_LAST_NON_STEM = re.compile("(?s).*[^" + STEM_CHAR.pattern[1:])   # up to the last character a stem cannot hold
_ROAD_LIKE = ("路", "街", "大道", "大街", "村")
# type word → (place_type, max stem, how far left its stem may reach, characters after it
# that end no name, whether a road's stem stops at another 路/街)
_SUFFIX_INFO = {s: (t, n, max(n, 12), NOT_AFTER.get(s, ""), s in _ROAD_LIKE) for s, (t, n) in SUFFIX_TYPE.items()}
_OFFICE, _UNQUOTED = "office", "unquoted"   # the checks of PlaceFinder._shape
_INNER_WORDS = ("街道", "园区", "片区", "社区", "小区", "板块", "商圈")

# patterns of the functions below, compiled once
_LIST_PUNCT_RE = re.compile(r"[,。、]")
_PHASE_NAME_RE = re.compile(rf"([{NUM_CN}0-9]+期)(.+)")
_PHASED_NAME_RE = re.compile(rf"(.+?)[{NUM_CN}0-9]+期(.*)")
_SITE_HEAD_RE = re.compile(r"(广场|大厦|酒店|商务楼|佳苑|心苑)$")


# the three list forms of PlaceFinder._lists; each is tried only near its anchor (a fixed
# piece every match holds), which is much cheaper than trying it at every character
_COUNTED_LIST_RE = re.compile(rf"([{CJK}A-Za-z0-9]{{2,12}}、(?:[{CJK}A-Za-z0-9]{{2,6}}、)*[{CJK}A-Za-z0-9]{{2,6}})"
                              rf"(?:等)?([0-9{NUM_CN}]+)个(社区|村|行政村|小区|街道)")
_COUNTED_LIST_ANCHOR = re.compile("个(?:社区|村|行政村|小区|街道)")
_COUNTED_LIST_OUT = re.compile(rf"[^{CJK}A-Za-z0-9、]")        # no match holds these
_PROJECT_LIST_RE = re.compile(rf"((?:“[^”“]{{2,12}}”[、,]?)+|(?:[{CJK}A-Za-z0-9]{{2,12}}、)+[{CJK}A-Za-z0-9]{{2,12}})"
                              rf"等(?:在建设|在建|在谈|重点|建设)?项目")
_PROJECT_LIST_ANCHOR = re.compile("等(?:在建设|在建|在谈|重点|建设)?项目")
_SERIES_LIST_RE = re.compile(rf"([{CJK}]{{1,6}}?)([{NUM_CN}东西南北])((?:、[{NUM_CN}东西南北])+)"
                             rf"([{CJK}]{{0,4}}(?:{SUFFIX_RE.pattern}))")
# (、 first and the characters around it looked behind and ahead for: a regex that starts with
# a character class is tried at every character of the text)
_SERIES_LIST_ANCHOR = re.compile(rf"、(?<=[{NUM_CN}东西南北]、)(?=[{NUM_CN}东西南北])")
_SERIES_LIST_OUT = re.compile(rf"[^{CJK}、]")
_GATE_RE = re.compile(rf"([{CJK}]{{2,6}}城)(?=[东西南北]门)")
_GATE_ANCHOR = re.compile("城[东西南北]门")
_GATE_OUT = re.compile(rf"[^{CJK}]")
_LINE_RE = re.compile(r"(?<![0-9A-Za-z])(\d{1,2})号线")
# 西三环(路) and 北部(核心)片区/板块: found from 环 and 部 with what comes before them looked
# behind for (a regex that starts with a character class is tried at every character)
_RING_ROAD_RE = re.compile(r"环(?<=[东西南北][二三四五]环)(?:路)?")
_PART_ZONE_RE = re.compile(r"部(?<=[东南西北]部)(?:核心)?(?:片区|板块)")
_LAST_OUT = {out: re.compile(rf"(?s).*{out.pattern}") for out in (_COUNTED_LIST_OUT, _SERIES_LIST_OUT, _GATE_OUT)}


@lru_cache(maxsize=1)
def _type_word_finder() -> tuple[list[str], "ahocorasick_rs.AhoCorasick"]:
    words = list(SUFFIX_TYPE)
    return words, ahocorasick_rs.AhoCorasick(words, matchkind=ahocorasick_rs.MatchKind.LeftmostLongest,
                                             implementation=ahocorasick_rs.Implementation.DFA)


def _type_words(text: str) -> tuple[list[str], list[tuple[int, int, int]]]:
    """The type words of ``text`` as ``SUFFIX_RE.finditer`` finds them (left to right, the
    longest where several start, not overlapping): ``(words, [(index in words, start,
    end), …])``, by ahocorasick-rs's DFA (faster than the regex, whose alternatives are
    tried one by one)."""
    words, finder = _type_word_finder()
    try:
        return words, finder.find_matches_as_indexes(text)
    except UnicodeEncodeError:   # lone surrogates, which the Rust side refuses: the regex
        index = {w: i for i, w in enumerate(words)}
        return words, [(index[m.group()], m.start(), m.end()) for m in SUFFIX_RE.finditer(text)]


def _runs_with(rx: re.Pattern, anchor: re.Pattern, out: re.Pattern, text: str) -> Iterator[re.Match]:
    """The matches of ``rx.finditer(text)`` when every match holds a match of ``anchor`` and
    no character ``out`` matches: ``rx`` runs only over the stretches between such characters
    that hold an anchor (``rx`` has no look-around, so the matches are the same)."""
    pos = 0
    last_out = _LAST_OUT[out]
    while True:
        a = anchor.search(text, pos)
        if a is None:
            return
        before = last_out.match(text, pos, a.start())
        lo = before.end() if before else pos
        after = out.search(text, a.end())
        hi = after.start() if after else len(text)
        yield from rx.finditer(text, lo, hi)
        pos = hi


def _ending_at(rx: re.Pattern, anchor: re.Pattern, text: str, *, reach: int = 600,
               floor=None) -> Iterator[re.Match]:
    """The matches of ``rx.finditer(text)`` when every match ends with a match of ``anchor``:
    ``rx`` is searched only in the ``reach`` characters up to each anchor, from
    ``floor(text, lo, anchor start)`` on when given (a position that no match found from
    ``lo`` goes past, so that the search from there finds the same matches after it)."""
    pos = 0
    for a in anchor.finditer(text):
        if a.end() <= pos:
            continue
        lo = max(pos, a.start() - reach)
        if floor is not None:
            lo = floor(text, lo, a.start())
        for m in rx.finditer(text, lo, a.end()):
            if m.end() == a.end():
                yield m
                pos = m.end()
                break


# a character that no match of _PROJECT_LIST_RE holds, unless a quote comes up to 12
# characters before it (a quoted item holds 2-12 characters of any kind, and a "," after it)
_PROJECT_LIST_LAST_OUT = re.compile(rf"(?s).*[^{CJK}A-Za-z0-9、“”]")


def _project_list_floor(text: str, lo: int, hi: int) -> int:
    """Just after the last character of ``text[lo:hi]`` that no match of _PROJECT_LIST_RE
    can hold (``lo`` if none): a match found from ``lo`` that starts before it ends before
    it, so the search may start there (a list is rarely longer than its clause)."""
    while True:
        m = _PROJECT_LIST_LAST_OUT.match(text, lo, hi)
        if m is None:
            return lo
        q = m.end() - 1
        w = max(lo, q - 12)
        if text.find("“", w, q) < 0 and text.find("”", w, q) < 0:
            return q + 1
        hi = q


def hierarchy_known_names() -> list[KnownName]:
    """Districts, 街道, 社区 and 村 of the committed name list (jionlp, Apache-2.0)."""
    out: list[KnownName] = [KnownName(d, "district") for d in ZHENGZHOU_DISTRICTS]
    for district, sds in hierarchy().items():
        for sd, units in sds.items():
            out.append(KnownName(sd, "subdistrict", sd))
            for u in units:  # 电业新村 is a 社区, 北陈伍寨村 a village
                kind = "village" if u.endswith("村") and not u.endswith("新村") else "community"
                out.append(KnownName(u, kind, sd))
    return out


class PlaceFinder:
    """Finds place mentions in reports; build once per set of known names."""

    def __init__(self, known_names: Iterable[KnownName]):
        self.known: dict[str, tuple[str, str]] = {}   # surface → (canonical, place_type)
        self.subdistricts: dict[str, str] = {}        # full 街道 name → district
        known_names = [kn for kn in known_names if KIND_TYPES.get(kn.kind)]
        for kn in known_names:            # canonical names first, then aliases
            if len(kn.name) >= 3:
                self.known.setdefault(kn.name, (kn.name, KIND_TYPES[kn.kind]))
            if KIND_TYPES[kn.kind] == "subdistrict":
                self.subdistricts[kn.name] = ""
        for kn in known_names:
            ptype = KIND_TYPES[kn.kind]
            for alias in kn.aliases or ():
                if len(alias) < 3 or alias in self.known:
                    continue
                if ptype in ("community", "village") and not alias.endswith(("社区", "村")):
                    continue  # 周新庄 alone names a project as often as the village
                self.known[alias] = (kn.name, ptype)
        for d in ZHENGZHOU_DISTRICTS:
            self.known.setdefault(d, (d, "district"))
        for kn in BUILTIN_NAMES:
            for surface in (kn.name, *kn.aliases):
                self.known.setdefault(surface, (kn.name, kn.kind))
        for district, sds in hierarchy().items():
            for sd in sds:
                self.subdistricts[sd] = district
        self._shape_cache: dict[tuple[str, str], tuple | None] = {}
        # 街道 abbreviations (中西 for 中原西路街道), all in one regex
        self._abbrs: dict[str, set[str]] = {}
        for sd in self.subdistricts:
            stem = sd[:-2] if sd.endswith("街道") else ""
            if len(stem) == 4:
                self._abbrs.setdefault(stem[0] + stem[2], set()).add(sd)
        # known names inside a stem (short strings, many lookups): pyahocorasick
        self.automaton = ahocorasick.Automaton()
        for i, (surface, (name, ptype)) in enumerate(self.known.items()):
            self.automaton.add_word(surface, (surface, name, ptype, i))
        if self.known:
            self.automaton.make_automaton()
        # known names in running text: the DFA of ahocorasick_rs reports every occurrence
        # (overlapping) with character offsets, several times faster than pyahocorasick
        # over a whole report; per name: (canonical name, type, characters after it that
        # make it no mention)
        surfaces = list(self.known)
        self._known_info = [(name, ptype, "委" if ptype == "district" else
                             NOT_AFTER.get(surface[-1], "") if ptype == "road" else "")
                            for surface, (name, ptype) in self.known.items()]
        self._known_finder = ahocorasick_rs.AhoCorasick(
            surfaces, implementation=ahocorasick_rs.Implementation.DFA) if surfaces else None

    # ------------------------------------------------------------------ public
    # write the verb cuts decided so far to disk after every report; extract() turns this
    # off and calls flush_cuts() once at the end instead
    autoflush = True

    @staticmethod
    def flush_cuts() -> None:
        VERB_CUTS.flush()

    def find(self, report: Report, articles: list[Article]) -> list[PlaceMention]:
        text = report.normalized
        known = self._known(text)
        cands = self._lists(text) + known + self._shapes(text, {(c.start, c.end) for c in known})
        chosen = _resolve(cands)
        chosen = self._short_forms(text, chosen, report, articles)
        out = []
        bounds = find_all(text, SENTENCE_END)
        nb = len(bounds)
        sentences: dict = {}    # one string per sentence, shared by its mentions
        name, offsets = report.name, report.offsets
        art_starts = [art.start for art in articles]
        if art_starts != sorted(art_starts):
            art_starts = None       # (split_articles gives them in order; others are searched in full)
        for c in chosen:
            a, b = c.start, c.end
            oa, ob = offsets[a], offsets[b - 1] + 1    # report.to_original(a, b) of a span inside the text
            if art_starts is None:
                art = article_at(articles, oa)
            else:   # article_at(articles, oa): the last article starting at or before oa, else the first
                i = bisect.bisect_right(art_starts, oa)
                art = articles[i - 1] if i else articles[0] if articles else None
            # the sentence around the mention, cut out once per pair of bounds
            j = bisect.bisect_left(bounds, a)
            k = bisect.bisect_left(bounds, b, j)
            sentence = sentences.get((j, k))
            if sentence is None:
                sentence = text[bounds[j - 1] + 1 if j else 0:bounds[k] + 1 if k < nb else len(text)].strip()
                sentence = sentences[(j, k)] = sentences.setdefault(sentence, sentence)
            # (the fields in their order: report, article, district, mention, name, place_type,
            # start, end, sentence, known)
            out.append(PlaceMention(name, art.subdistrict if art else "", art.district if art else "",
                                    text[a:b], c.name, c.place_type, oa, ob, sentence, c.known))
        if self.autoflush:
            VERB_CUTS.flush()
        return out

    # ------------------------------------------------------------------ known names
    def _known(self, text: str) -> list[_Cand]:
        if not self.known:
            return []
        out = []
        info = self._known_info
        try:
            found = self._known_finder.find_matches_as_indexes(text, overlapping=True)
        except UnicodeEncodeError:   # lone surrogates (not from a decoded file): the slow way
            found = [(i, end + 1 - len(surface), end + 1) for end, (surface, _, _, i) in self.automaton.iter(text)]
        for i, start, end in found:
            name, ptype, not_after = info[i]
            if not_after and text[end:end + 1] and text[end] in not_after:
                continue  # 中原区委 (the party committee), 红旗路段 (an award), 交通路网
            out.append(_Cand(start, end, name, ptype, 2, True))
        return out

    # ------------------------------------------------------------------ shapes
    def _shapes(self, text: str, known_spans: set[tuple[int, int]] = frozenset()) -> list[_Cand]:
        """Names found by their type word; none on the span of a known name (``known_spans``),
        which _resolve would always put first."""
        out: list[_Cand] = []
        cache = self._shape_cache
        last_gap = _LAST_NON_STEM.match
        words, found = _type_words(text)
        for i, ms, me in found:
            suffix = words[i]
            ptype, max_stem, reach, not_after, road_like = _SUFFIX_INFO[suffix]
            nxt = text[me:me + 1]
            if nxt and nxt in not_after:
                continue
            if suffix == "街" and nxt == "道":
                continue
            # how far left the stem may reach: inside the run of stem characters that holds
            # the type word, at most max(max_stem, 12) characters, not over another 路/街 for
            # a road
            lo = ms - reach if ms > reach else 0
            gap = last_gap(text, lo, ms)
            limit = gap.end() if gap else lo
            if road_like:
                limit = max(limit, text.rfind("路", limit, ms) + 1, text.rfind("街", limit, ms) + 1)
            if limit >= ms:
                continue
            # the outcome depends on the stem window and the type word (decided once per
            # distinct pair), then on a character or three around them (looked at here)
            key = (text[limit:ms], suffix)
            hit = cache.get(key, _MISSING)
            if hit is _MISSING:
                if len(cache) > 200_000:
                    cache.clear()
                hit = cache[key] = self._shape(*key)
            if hit is not None:
                rel, name, final_type, check = hit
                start = limit + rel
                if check is _OFFICE and not text.startswith(("办事处", "党工委"), me):
                    continue  # 召开街道: not a name
                if check is _UNQUOTED and nxt == "”" and start and text[start - 1] == "“":
                    continue  # a slogan in quotes: “项目强街”, “幸福汝河”
                if (start, me) not in known_spans:
                    out.append(_Cand(start, me, name, final_type, 1))
        for m in _runs_with(_GATE_RE, _GATE_ANCHOR, _GATE_OUT, text):   # 绿都城东门: a compound's gate
            cut = trim_left(m.group(1)[:-1])
            if len(m.group(1)) - cut >= 3:
                out.append(_Cand(m.start() + cut, m.end(), m.group(1)[cut:], "residential_compound", 1))
        for a in re.finditer("号线", text):                  # 1号线: one or two digits before it
            m = next(filter(None, (_LINE_RE.match(text, k, a.end()) for k in (a.start() - 2, a.start() - 1)
                                   if k >= 0)), None)
            if m:
                out.append(_Cand(m.start(), m.end(), m.group(), "metro_line", 1))
        for m in _RING_ROAD_RE.finditer(text):   # 西三环
            out.append(_Cand(m.start() - 2, m.end(), text[m.start() - 2:m.end()], "road", 1))
        return out

    def _shape(self, window: str, suffix: str) -> tuple[int, str, str, object] | None:
        """The name a type word makes with the ``window`` of text before it:
        ``(start in window, canonical name, place_type, check)`` or None.  ``check`` is the
        test of the characters around the mention that the caller makes: _UNQUOTED (a road
        or river alone in quotes is a slogan), _OFFICE (this 街道 is a name only before 办事处
        or 党工委), or None."""
        ptype, max_stem = _SUFFIX_INFO[suffix][:2]
        cut = self._stem_cut(window, max_stem, suffix, ptype)
        if cut is None:
            return None
        stem = window[cut:]
        if not good_stem(stem, suffix):
            return None
        name = stem + suffix
        if ptype == "road" and name not in self.known and self.known.get(name[1:], ("", ""))[1] == "road":
            cut, name = cut + 1, name[1:]  # 其中中华山路: the known 华山路
        check = None
        if suffix == "街道" and name not in self.known and stem[-1] not in "路街村镇湖山河庄寨庙园桥门":
            check = _OFFICE
        ptype = refine_type(name, ptype)
        if ptype in ("road", "river"):
            check = _UNQUOTED
        return cut, canonical(name, ptype), ptype, check

    def _stem_cut(self, stem: str, max_stem: int, suffix: str, ptype: str) -> int | None:
        """Characters to drop from the left of ``stem`` (None: no name)."""
        n = len(stem)
        cut = 0
        # known names inside the stem: a district or 街道 named inside the stem is a mention
        # of its own (start after it); other known names protect their characters below
        inside: list[tuple[int, int]] = []
        if self.known:
            for end, (surface, _name, inner_type, _i) in self.automaton.iter(stem):
                inside.append((end + 1 - len(surface), end + 1))
                if inner_type in ("district", "subdistrict") and end + 1 < n:
                    if inner_type == "district" and ptype in ("site", "park", "zone"):
                        continue  # 中原区政务中心 is one name
                    cut = max(cut, end + 1)
        for inner in _INNER_WORDS:
            k = stem.rfind(inner)
            if k >= 0 and k + len(inner) < n:
                cut = max(cut, k + len(inner))
        # boundary words (verbs, function words), tried in BOUNDARY_WORDS order; for each,
        # its last occurrence at or after the cut that is not inside a known name
        hits: dict[int, list[int]] = {}
        for end, (rank, w) in boundary_automaton().iter(stem):
            hits.setdefault(rank, []).append(end + 1 - len(w))
        for rank in sorted(hits):
            w = BOUNDARY_WORDS[rank]
            starts = hits[rank]
            j = len(starts) - 1
            while j >= 0 and starts[j] >= cut:
                k = starts[j]
                if any(a <= k < b for a, b in inside):
                    j = _prev_disjoint(starts, j, k, len(w))
                    continue
                if k + len(w) == n:
                    return None  # the type word follows a verb: 召开街道, 理清思路
                if stem[k + len(w):] in ("东", "西", "南", "北", "中"):
                    j = _prev_disjoint(starts, j, k, len(w))
                    continue  # 建设西路 is a name, not 建设 + 西路
                cut = max(cut, k + len(w))
                break
        cut += len(stem[cut:]) - len(stem[cut:].lstrip("区的了之"))
        if n - cut > 3:
            cut += verb_cut(stem[cut:])
        cut = max(cut, n - max_stem)
        return cut if cut < n else None

    # ------------------------------------------------------------------ lists
    def _lists(self, text: str) -> list[_Cand]:
        out: list[_Cand] = []
        # 槐荫、杏坛、汝南3个社区 (counted list: every item is a 社区)
        for m in _runs_with(_COUNTED_LIST_RE, _COUNTED_LIST_ANCHOR, _COUNTED_LIST_OUT, text):
            unit = m.group(3).replace("行政", "")
            ptype = {"社区": "community", "村": "village", "小区": "residential_compound",
                     "街道": "subdistrict"}[unit]
            pos = m.start(1)
            for item in m.group(1).split("、"):
                a, b = pos, pos + len(item)
                pos = b + 1
                # trim a leading verb/preposition from the first item
                if a == m.start(1):
                    cut = trim_left(item)
                    a, item = a + cut, item[cut:]
                if not item:
                    continue
                name = item if item.endswith(unit) else item + unit
                if name in self.known:
                    name = self.known[name][0]
                out.append(_Cand(a, b, name, ptype, 3, name in self.known))
        # project lists: “青槐雅苑”“汝水华庭”等项目 / 青槐雅苑、汝水华庭等在建项目
        for m in _ending_at(_PROJECT_LIST_RE, _PROJECT_LIST_ANCHOR, text, floor=_project_list_floor):
            pos = m.start(1)
            for item in re.finditer(r"“([^”“]+)”|([^、,“”]+)", m.group(1)):
                a, b = item.span(1) if item.group(1) else item.span(2)
                a, b = a + pos, b + pos
                surface = text[a:b]
                if a == m.start(1) and not item.group(1):
                    cut = trim_left(surface)
                    a, surface = a + cut, surface[cut:]
                if len(surface) < 2 or _LIST_PUNCT_RE.search(surface):
                    continue
                sm = SUFFIX_RE.search(surface)
                ptype = SUFFIX_TYPE[sm.group()][0] if sm and sm.end() == len(surface) else "site"
                out.append(_Cand(a, b, surface, refine_type(surface, ptype), 3))
        # 电力一、二、三厂家属院 / 青槐东、西广场
        for m in _runs_with(_SERIES_LIST_RE, _SERIES_LIST_ANCHOR, _SERIES_LIST_OUT, text):
            stem = m.group(1)
            cut = trim_left(stem)
            stem = stem[cut:]
            if not stem:
                continue
            rest = m.group(4)
            suffix = SUFFIX_RE.search(rest).group()
            ptype = refine_type(stem + rest, SUFFIX_TYPE[suffix][0])
            items = [m.group(2)] + m.group(3).split("、")[1:]
            for it in items:
                out.append(_Cand(m.start(1) + cut, m.end(), stem + it + rest, ptype, 3))
        return out

    # ------------------------------------------------------------------ short forms
    def _abbreviations(self, text: str) -> list[tuple[int, str]]:
        """(start, abbreviation) of every 街道 abbreviation after 在到于从 and not before 路街区,
        by start.  Each abbreviation is looked for by str.find: there are a few, and a
        regex for all of them would start with a character class or a look-behind, which is
        tried at every character of the text."""
        out = []
        for abbr in self._abbrs:
            k = text.find(abbr, 1)
            while k >= 0:
                if text[k - 1] in "在到于从" and text[k + len(abbr):k + len(abbr) + 1] not in ("路", "街", "区"):
                    out.append((k, abbr))
                k = text.find(abbr, k + 1)
        out.sort()
        return out

    def _short_forms(self, text: str, chosen: list[_Cand], report: Report,
                     articles: list[Article]) -> list[_Cand]:
        extra: list[_Cand] = []
        # ellipsis: 二期安置区 after 洛达庙一期安置区 → 洛达庙二期安置区
        for i, c in enumerate(chosen):
            m = _PHASE_NAME_RE.fullmatch(c.name)
            if not m:
                continue
            for prev in reversed(chosen[:i]):
                pm = _PHASED_NAME_RE.fullmatch(prev.name)
                if pm and pm.group(2) == m.group(2) and c.start - prev.end < 300:
                    c.name = pm.group(1) + c.name
                    break
        # a shorter form of a name given in full before: 三厂家属院 after 郑棉三厂家属院
        # (names seen so far, by type and by each of their endings of 3+ characters)
        # (type → ending → the last name seen with that ending that is longer than it)
        endings: dict[str, dict[str, str]] = {}
        for c in chosen:
            seen = endings.get(c.place_type)
            if seen is None:
                seen = endings[c.place_type] = {}
            name = c.name
            if not (c.known or c.priority == 3) and len(name) >= 3:
                name = c.name = seen.get(name, name)
            for k in range(1, len(name) - 2):
                seen[name[k:]] = name
        # bare 北部片区 after the zone it belongs to: CCD北部片区
        taken = [(c.start, c.end) for c in chosen]
        zones = [c for c in chosen if c.place_type == "zone" and c.name.startswith(("CCD", "郑州中央文化区"))]
        for m in _PART_ZONE_RE.finditer(text):
            a0 = m.start() - 1      # at the direction before 部
            if any(a < m.end() and a0 < b for a, b in taken):
                continue
            if any(0 <= a0 - z.end < 300 for z in zones):
                name = "CCD" + text[a0:a0 + 2] + "片区"
                extra.append(_Cand(a0, m.end(), name, "zone", 2))
        # a site named by its stem alone after its full name: 中原万达 (中原万达广场)
        taken = [(c.start, c.end) for c in chosen + extra]
        for c in list(chosen):
            if c.place_type not in ("site", "residential_compound") or c.priority == 3:
                continue
            sm = _SITE_HEAD_RE.search(c.name)
            stem = c.name[:sm.start()] if sm else ""
            if len(stem) < 4:
                continue
            for a0, b0 in _stem_alone(text, stem, c.start + 1):
                if not any(a < b0 and a0 < b for a, b in taken):
                    extra.append(_Cand(a0, b0, c.name, c.place_type, 2))
                    taken.append((a0, b0))
        # 街道 abbreviations after a preposition: 在中西扬帆 → 中原西路街道
        last = 0
        for a0, abbr in self._abbreviations(text):
            b0 = a0 + len(abbr)
            if a0 < last:
                continue  # overlaps the one before (two abbreviations are not found overlapping)
            last = b0
            oa, _ = report.to_original(a0, b0)
            art = article_at(articles, oa)
            if art is None or art.subdistrict not in self._abbrs[abbr]:
                continue
            if any(a < b0 and a0 < b for a, b in taken):
                continue
            extra.append(_Cand(a0, b0, art.subdistrict, "subdistrict", 2, True))
        return sorted(chosen + extra, key=attrgetter("start", "end"))


def _stem_alone(text: str, stem: str, start: int) -> Iterator[tuple[int, int]]:
    """Spans of ``stem`` at or after ``start`` followed by 等、,和与及 or the end of the text
    (what ``re.finditer(re.escape(stem) + "(?=[等、,和与及]|$)", text)`` finds there), without
    compiling a pattern per stem."""
    n = len(text)
    k = text.find(stem, start)
    while k >= 0:
        e = k + len(stem)
        if e == n or text[e] in "等、,和与及" or (e == n - 1 and text[e] == "\n"):
            yield k, e
            k = text.find(stem, e)
        else:
            k = text.find(stem, k + 1)


def _prev_disjoint(starts: list[int], j: int, k: int, wlen: int) -> int:
    """Index of the previous occurrence of a word (``starts`` ascending) that ends at or
    before ``k``, as ``str.rfind(word, 0, k)`` finds it; -1 if none."""
    j -= 1
    while j >= 0 and starts[j] + wlen > k:
        j -= 1
    return j


def _resolve(cands: list[_Cand]) -> list[_Cand]:
    """Non-overlapping candidates: lists first, then the longest, then known before shape.

    The chosen spans are disjoint (list items may share one span), so one sorted list of
    them and a binary search per candidate find any overlap."""
    # the order (lists first, longest, highest priority, leftmost) as one integer a candidate:
    # integers compare much faster than tuples in the sort
    m = max((c.end for c in cands), default=0) + 1
    order = sorted(cands, key=lambda c: (((c.priority != 3) * m + m - (c.end - c.start)) * 4 + 3 - c.priority)
                   * m + c.start)
    chosen: list[_Cand] = []
    starts: list[int] = []   # distinct chosen spans, sorted (starts and ends in step)
    ends: list[int] = []
    for c in order:
        j = bisect.bisect_left(starts, c.end) - 1   # the last span starting before c ends
        if j >= 0 and ends[j] > c.start:
            if not (c.priority == 3 and starts[j] == c.start and ends[j] == c.end):
                continue
            chosen.append(c)  # another item of a list on the same span
            continue
        chosen.append(c)
        k = j + 1
        starts.insert(k, c.start)
        ends.insert(k, c.end)
    return sorted(chosen, key=lambda c: c.start * m + c.end)     # by (start, end)
