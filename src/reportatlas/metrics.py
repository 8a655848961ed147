"""Metrics: the quantities a report states about a place or about a 街道 as a whole.

``extract_metrics(report, articles, places)`` finds every quantity in the report's
*normalised* text (so ``580余/处`` cut by a column line break is read as ``580余处``) and
maps offsets back to the ORIGINAL text with ``report.to_original``.  Decisions:

* ``value`` is in the base unit (see :mod:`reportatlas.numbers`): 元, 平方米, 米, 立方米,
  ``%``; counts keep their measure word (个, 家, 人 …).  A range (3至5亿元) gives the lower
  bound in ``value`` and the upper bound in ``high``.
* ``raw`` is the NORMALISED surface (no column line break, half-width digits);
  ``start``/``end`` are ORIGINAL offsets, so ``report.text[start:end]`` is the original
  surface.  ``sentence`` is the normalised sentence.
* A year (2019年) is the ``period`` of the quantities after it in its sentence, not a
  metric.  It is a metric (unit ``年``, value = the year) only as a date of completion or
  construction: ``预计2024年全部建成投运`` (deadline), ``建于1995年``.  A month deadline
  (``预计6月底完工``) is a metric with unit ``月`` (value = the month).
* Not metrics: ordinals and names (第十一届, 十九大, 1号线, 82号院, 220千伏), anything in
  quotes (slogans such as “7个100%”), ages (60岁以上), anniversaries (70周年), durations
  (24小时, 3天), a bare 一 before a measure word (一个 = "a").
* Also not metrics: counts used as figures of speech (三项措施, 八项规定, 六个聚焦).
* The subject, in this order: a place the quantity modifies (``总投资约50亿元的…芝麻街产业园``);
  the nearest place mention before the number in the same clause; the subject of a series
  (``1号楼建至17层，2号楼建至16层``) or of the previous count (``西岗村13个小组400名党员``);
  the park/zone a clause-opening 园区/板块/片区 points back to; the nearest site, park or zone
  in an earlier clause of the sentence (not past a "；" or a 街道 name, and not one that has
  its own quantity already); the place a clause of the sentence opens with
  (``中原小微企业园是…，占地122.3亩``); else the article's 街道.  A count right after a list
  of places (``颐苑、江南小镇、聂寨、盛世4个社区``, ``A、B等7家``) is about the 街道.
* The label is the words before the number in its clause (after the subject, the previous
  quantity or a period), trimmed of adverbs; a count after a verb takes the counted noun
  (``新增830个停车位`` → 新增停车位).  Adjacent quantities share a label (``6户8人``).
"""
from __future__ import annotations

import bisect
import re
from dataclasses import asdict, dataclass
from typing import Any, Iterable, Sequence

from .corpus import SENTENCE_END, Report
from .numbers import Quantity, find_all, finditer_near, quantity_from_match, scan_quantities

__all__ = ["Metric", "extract_metrics", "find_quantities"]

CLAUSE_END = SENTENCE_END + "，,；;：:"
QUOTES = {"“": "”", "《": "》", "「": "」", "\"": "\""}

# words around a label that say nothing about what is counted, trimmed from labels
_LEAD_WORDS = ("其中", "目前", "截至目前", "项目", "已经", "已", "共计", "共有", "共", "累计", "合计",
               "总计", "先后", "全年", "今年", "上半年", "下半年", "同时", "并", "还", "又", "达到", "完成",
               "实现", "现有", "拥有", "辖区", "该街道", "街道", "均", "全部", "分别", "相继", "积极", "及时",
               "成功", "初步", "基本")
_TRAIL_WORDS = ("约", "近", "超过", "超", "逾", "达到", "达", "共计", "共", "累计", "计", "为", "了", "有",
                "至", "近", "已", "的", "到", "完成", "实现", "保持在", "保持", "总计", "合计")
_LEAD = re.compile("^(?:" + "|".join(_LEAD_WORDS) + ")+")
_TRAIL = re.compile("(?:" + "|".join(_TRAIL_WORDS) + ")+$")

PERIOD_RE = re.compile(
    r"截至(?:目前|\d{4}年)?(?:\d{1,2}月(?:底|末|份)?)?"
    r"|\d{4}年\d{1,2}月至\d{4}年\d{1,2}月|(?:\d{4}年|今年|去年)\d{1,2}月份?"
    r"|(?:\d{4}年|今年|去年|全年)?(?:\d{1,2}至\d{1,2}月份?|上半年|下半年|一季度|第[一二三四]季度|年初|以来)"
    r"|\d{4}年(?:底|末|度)?|今年|去年|全年|近年来|“十[二三四]五”(?:时期|期间)?")
YEAR_EVENT_RE = re.compile(
    r"(?:(?P<pre>建于|始建于|预计|计划|确保|力争|争取|预计到|计划到|到)\s?)?"
    r"(?P<year>(?:19|20)\d{2})年(?P<when>底|末|年底|内|上半年|下半年|\d{1,2}月(?:底|末|上旬|中旬|下旬)?)?"
    r"(?P<ante>前)?"
    r"(?P<verb>(?:全部|基本|全面)?(?:建成投运|建成投用|建成|完成|竣工|完工|投运|投用|开工|交付|实现))?")
MONTH_EVENT_RE = re.compile(
    r"(?P<pre>今年|明年)?(?P<month>\d{1,2})月(?P<when>底|末|上旬|中旬|下旬|前)?(?:前)?"
    r"(?P<verb>完工|开工建设|开工|完成|竣工|建成|交付|投用|投运)")
# the characters a match of each of these can start with (numbers.finditer_near)
_PERIOD_FIRST = re.compile(r"[截\d今去全上下一第年以近“]")
_YEAR_EVENT_FIRST = re.compile(r"[建始预计确力争到12]")
_MONTH_EVENT_FIRST = re.compile(r"[今明\d]")
# words every match of each holds, at most so many characters after the match's start
# (numbers.finditer_near): the 年 of the year (after 始建于, a space and four digits), the 月
# of the month (after 今年 and two digits)
_YEAR_EVENT_ANCHOR, _YEAR_EVENT_BACK = ("年",), 8
_MONTH_EVENT_ANCHOR, _MONTH_EVENT_BACK = ("月",), 4
_PERIOD_ANCHOR, _PERIOD_BACK = ("年", "月", "截至", "以来", "季度", "五”"), 5
# what follows "三项", "六个" … when the count is a figure of speech, not a statistic
_RHETORIC = r"措施|规定|重点|工作|底线|聚焦|原则|要求|理念|机制|方面|举措|精神|目标"
_EXCLUDED_AFTER = ("号", "岁", "周年", "届", "级", "千伏", "点", "批次")

# patterns of the functions below, compiled once
_RHETORIC_RE = re.compile(_RHETORIC)
_COUNT_AFTER_RE = re.compile(r"\d|[一二三四五六七八九十两]")
_ETC_END_RE = re.compile(r"等\s?$")
_LIST_GAP_RE = re.compile(r"(?:共|这|计)?\s?")
_MODIFIES_RE = re.compile(r"[^，。；、,;]{0,14}?的")
_QUOTE_CHARS_RE = re.compile(r"[“”《》「」]")
_LABEL_SPLIT_RE = re.compile(r"[、（）()\s]")
_COUNTED_NOUN_RE = re.compile(r"[^\s，。；、：,;:（(“”的和及]{1,8}")
_PERIOD_LEAD_RE = re.compile(r"(?:在|于|自|从)?")
_SAME_LABEL_GAP_RE = re.compile(r"[、，,]?(?:累计|共计|合计|共)?")


@dataclass
class Metric:
    report: str
    article: str
    subject: str
    subject_type: str
    metric: str
    value: float
    unit: str
    raw: str
    qualifier: str | None
    period: str | None
    start: int
    end: int
    sentence: str
    high: float | None = None     # upper bound of a range; None otherwise

    def to_record(self) -> dict[str, Any]:
        return asdict(self)


# --------------------------------------------------------------------------- finding

_CLAUSE_MARK = re.compile("[" + re.escape(CLAUSE_END) + "]")


def _around(marks: Sequence[int], pos: int, lo: int, hi: int) -> tuple[int, int]:
    """The stretch of ``[lo, hi)`` between two of the (sorted) ``marks`` that holds ``pos``
    (``pos`` not itself a mark): from one past the last mark before it to the next mark."""
    j = bisect.bisect_right(marks, pos)
    return (marks[j - 1] + 1 if j else lo), (marks[j] if j < len(marks) else hi)


def _clause_start(rev: str, pos: int, lo: int) -> int:
    """One past the last clause end in ``[lo, pos)`` of the text ``rev`` is the reverse of
    (``lo`` when there is none).  A regular expression only searches forward: searching the
    reversed text finds the nearest end before ``pos`` without scanning from ``lo``."""
    n = len(rev)
    m = _CLAUSE_MARK.search(rev, n - pos, n - lo)
    return n - m.start() if m else lo


def _clause_around(text: str, rev: str, pos: int, sentence: tuple[int, int]) -> tuple[int, int]:
    """The clause of ``sentence`` that holds ``pos`` (not itself a clause end); ``rev`` is
    ``text[::-1]``."""
    after = _CLAUSE_MARK.search(text, pos, sentence[1])
    return _clause_start(rev, pos, sentence[0]), (after.start() if after else sentence[1])


def _clause_starts(text: str, lo: int, hi: int) -> list[int]:
    """``i + 1`` for every clause end ``i`` in ``[lo, hi)``."""
    return [m.end() for m in _CLAUSE_MARK.finditer(text, lo, hi)]


_OPENING_QUOTES = re.compile("[" + "".join(QUOTES) + "]")


def _in_quotes(text: str, pos: int, sent_start: int) -> bool:
    if not _OPENING_QUOTES.search(text, sent_start, pos):
        return False             # no quote opens before the number in its sentence
    seg = text[sent_start:pos]
    for o, c in QUOTES.items():
        if o == c:
            if seg.count(o) % 2:
                return True
        elif seg.count(o) > seg.count(c):
            return True
    return False


def _acceptable(text: str, m: re.Match, sent_start: int) -> bool:
    a, b = m.start(), m.end("q")
    # (the cheap tests first; the quotes last but one: they search the sentence)
    before = text[a - 1] if a else ""
    if before == "第" or (before and (before.isdigit() or before.isascii() and before.isalpha())):
        return False
    if text.startswith(_EXCLUDED_AFTER, b) or text.startswith("号", m.end("unit")):
        return False
    if _in_quotes(text, a, sent_start):
        return False
    num = m.group("num") or m.group("pct") or ""
    if num and not num[0].isdigit():                       # a Chinese numeral
        if num == "一" or m.group("unit") == "期":
            return False
        if num in ("千", "百") and not (m.group("mult") or m.group("pre")):
            return False                                   # 千家万户; but 百万平方米, 达到千平方米
        if _RHETORIC_RE.match(text[m.end("unit"):m.end("unit") + 3]):
            return False                                   # 三项措施, 八项规定, 六个聚焦
        if m.group("pre") is None and re.match(r"[一二三四五六七八九两][^\d，。、；]{1,3}[一二三四五六七八九两]",
                                               text[a:a + 6]):
            return False                                   # 一街一色, 三跨三保 …
    return True


def find_quantities(text: str) -> list[tuple[int, int, Quantity]]:
    """All quantities in ``text`` as ``(start, end, Quantity)`` (offsets into ``text``)."""
    return _find_quantities(text, find_all(text, SENTENCE_END))


def _find_quantities(text: str, sent_marks: list[int]) -> list[tuple[int, int, Quantity]]:
    """:func:`find_quantities` given the positions of the sentence ends."""
    out = []
    bisect_right = bisect.bisect_right
    for m in scan_quantities(text):
        k = bisect_right(sent_marks, m.start())      # the sentence starts after mark k - 1
        if _acceptable(text, m, sent_marks[k - 1] + 1 if k else 0):
            out.append((m.start(), m.end("q"), quantity_from_match(m)))
    return out


def _events(text: str, taken: list[tuple[int, int]]) -> list[tuple[int, int, Quantity, str]]:
    """Dates that are metrics: completion deadlines and construction years."""
    out = []
    years = find_all(text, _YEAR_EVENT_ANCHOR)
    for m in finditer_near(YEAR_EVENT_RE, _YEAR_EVENT_FIRST, years, text, _YEAR_EVENT_BACK):
        verb, pre = m.group("verb"), m.group("pre") or ""
        built = pre in ("建于", "始建于")
        # "2018年完成改造" reports the past (a period); a deadline looks ahead: 预计/计划/到…, …前
        if not (built or verb and (pre or m.group("ante"))):
            continue
        if verb and _COUNT_AFTER_RE.match(text[m.end():m.end() + 1]):
            continue                              # "到2025年底完成22所": the count is the metric
        a = m.start("year")
        b = m.end()
        when = (m.group("when") or "") + (m.group("ante") or "")
        out.append((a, b, Quantity(float(m.group("year")), "年", "date", when or None),
                    "建成年份" if built else verb))
    year_spans = [(a, b) for a, b, *_ in out]
    months = find_all(text, _MONTH_EVENT_ANCHOR)
    for m in finditer_near(MONTH_EVENT_RE, _MONTH_EVENT_FIRST, months, text, _MONTH_EVENT_BACK):
        if any(a < m.end() and m.start() < b for a, b in year_spans):
            continue                              # "2026年6月底前交付" is a year deadline
        out.append((m.start("month"), m.end(), Quantity(float(m.group("month")), "月", "date",
                                                         m.group("when")), m.group("verb")))
    return [e for e in out if not any(a < e[1] and e[0] < b for a, b in taken)]


# --------------------------------------------------------------------------- attribution

@dataclass(slots=True)
class _Place:
    start: int       # normalised offsets
    end: int
    name: str
    place_type: str


def _to_normalized(offsets: Sequence[int], pos: int, guess: int) -> int:
    """``bisect_left(offsets, pos)`` (what ``Report.to_normalized`` gives), trying ``guess``
    first: the normalised index of a place is close to its original one (normalisation
    drops a few characters here and there), so the guess is nearly always right and two
    look-ups replace the ~20 of a binary search."""
    if 0 < guess < len(offsets) and offsets[guess - 1] < pos <= offsets[guess]:
        return guess
    return bisect.bisect_left(offsets, pos)


def _norm_places(report, places: Iterable[Any]) -> list[_Place]:
    out = []
    to_norm = getattr(report, "to_normalized", None)
    offsets = getattr(report, "offsets", None) if isinstance(report, Report) else None
    name = report.name
    shift = 0                           # normalised minus original start of the last place
    n_offsets = len(offsets) if offsets is not None else 0
    for p in places:
        if getattr(p, "report", name) != name:
            continue
        if offsets is not None:         # Report.to_normalized, guessing from the last place
            start, last = p.start, p.end - 1
            a = start + shift
            if not (0 < a < n_offsets and offsets[a - 1] < start <= offsets[a]):   # (the usual case inline)
                a = _to_normalized(offsets, start, a)
            b = a + (last - start)
            if not (0 < b < n_offsets and offsets[b - 1] < last <= offsets[b]):
                b = _to_normalized(offsets, last, b)
            b += 1
            shift = a - start
        elif to_norm is not None:
            a, b = to_norm(p.start), to_norm(p.end - 1) + 1
        else:
            a, b = p.start, p.end
        out.append(_Place(a, b, p.name, p.place_type))
    out.sort(key=lambda p: (p.start, -p.end))
    return out


_TOPIC_TYPES = {"site", "park", "residential_compound", "zone", "community", "village",
                "subdistrict", "landmark", "road", "other"}
_SKIP_TYPES = {"district", "metro_line"}


def _is_list_count(text: str, places: list[_Place], i: int, num_start: int) -> bool:
    """Place ``i`` ends a list counted by the number: ``A、B4个``, ``A、B等7家``."""
    p = places[i]
    gap = text[p.end:num_start]
    if len(gap) <= 15 and _ETC_END_RE.search(gap):
        return True                                   # "西流湖公园管理处、市委党校等7家"
    if not _LIST_GAP_RE.fullmatch(gap):
        return False
    return i > 0 and text[places[i - 1].end:p.start] in ("、", "和", "及", "与")


_TOPIC_AFTER = re.compile(r"(?:项目)?(?:是|为|位于|:|：|\(|（|占地|总投资|建于|始建于)")
_LEAD_ADVERB = re.compile(r"(?:目前|截至目前|同时|其中|此外|另外)[,，]?")
_ANAPHOR = re.compile(r"(?:该|整个)?(?:园区|板块|片区)")
_ANAPHOR_TYPES = {"园区": (("site", "park", "zone"), "园"), "板块": (("zone",), ""),
                  "片区": (("zone",), "")}
_SERIES = re.compile(r"\d+号楼|[A-Z]\d+地块|其中")


def _subject(text: str, places: list[_Place], clause: tuple[int, int], sentence: tuple[int, int],
             num_start: int, num_end: int, fallback: tuple[str, str],
             prev: tuple | None = None, qty_starts: Sequence[int] = (),
             qty_subjects: Sequence[str] = (), starts: Sequence[int] | None = None,
             memo: dict | None = None) -> tuple[str, str, int]:
    """(subject, subject_type, where the label may start).

    ``prev`` is ``(end, subject, subject_type, clause_start, from_place)`` of the previous
    quantity of the same sentence, or None.  ``starts`` are the places' starts;
    ``memo`` (one dict per text and place list) keeps what was found in each sentence.
    """
    if memo is None:
        memo = {}
    if starts is None:
        starts = [p.start for p in places]
    # "总投资约50亿元的…园区芝麻街产业园": a quantity modifying the place named after it
    m = _MODIFIES_RE.match(text, num_end, clause[1])
    if m:
        after = m.end()
        limit = min(clause[1], after + 20)
        for i in range(bisect.bisect_left(starts, after), len(places)):
            p = places[i]
            if p.start >= limit:
                break
            if p.place_type not in _SKIP_TYPES and p.place_type != "subdistrict":
                return p.name, p.place_type, clause[0]
    # the nearest place before the number in the same clause
    for i in range(bisect.bisect_left(starts, num_start) - 1, -1, -1):
        p = places[i]
        if p.start < clause[0]:
            break
        if p.end > num_start or p.place_type in _SKIP_TYPES:
            continue
        if text[p.start - 1:p.start] == "占":           # "占朱屯村总安置量的65%": X is the whole
            continue
        if prev is not None and prev[3] == clause[0] and p.end <= prev[0]:
            return prev[1], prev[2], prev[0]           # "西岗村13个小组400名党员": same subject
        if _is_list_count(text, places, i, num_start):
            return fallback[0], fallback[1], p.end
        return p.name, p.place_type, p.end
    # "…1号楼建至17层，2号楼建至16层": a series continues the previous clause's subject
    if prev is not None and prev[4] and _SERIES.match(text, clause[0], num_start):
        return prev[1], prev[2], clause[0]
    if prev is not None and prev[4] and prev[3] == clause[0]:
        return prev[1], prev[2], prev[0]
    # what is left needs a place that starts in the sentence before the clause or a pointing
    # word before the number (most quantities have neither: they are about the 街道)
    words = memo.get("words")
    if words is None:
        words = memo["words"] = find_all(text, _ANAPHOR_WORDS)
    i = bisect.bisect_left(starts, sentence[0])
    if (i == len(starts) or starts[i] >= clause[0]) and not _any_in(words, sentence[0], num_start):
        return fallback[0], fallback[1], clause[0]
    # "园区整体运营后…", "板块内已落地项目…": a word that points back to a park or zone
    semi = max(text.rfind(";", sentence[0], clause[0]), text.rfind("；", sentence[0], clause[0]))
    lo = max(sentence[0], semi + 1)
    # the clause starts of the sentence (lo is one of them) that open with a pointing word
    # or a place, found once per sentence: (clause start, pointing word or None, place index or -1)
    key = sentence
    openings = memo.get(key)
    if openings is None:
        openings = memo[key] = _openings(text, sentence, places, starts, words)
    ana = None                     # the pointing word opens a clause: "园区整体运营后，…"
    for cs, hit, _ in reversed(openings):
        if cs > clause[0]:
            continue
        if cs < lo:
            break
        if hit and hit.end() <= num_start:
            ana = hit
            break
    if ana:
        heads = _ANAPHOR_TYPES[ana.group(0)[-2:]]
        for j in range(bisect.bisect_left(starts, ana.start()) - 1, -1, -1):
            p = places[j]
            if p.start < ana.start() - 1200:
                break
            if p.place_type in heads[0] and (not heads[1] or heads[1] in p.name):
                return p.name, p.place_type, clause[0]
    # the nearest site before the number in an earlier clause of the sentence, unless the
    # 街道 is named after it ("协调解决X园…的问题，有效盘活了122.3亩")
    # ("；" ends the search; a place that already had a quantity of its own is not reused)
    for p in reversed(places[bisect.bisect_left(starts, lo):bisect.bisect_left(starts, clause[0])]):
        if p.place_type == "subdistrict":
            break
        k = bisect.bisect_left(qty_starts, p.end)
        between = qty_subjects[k:bisect.bisect_left(qty_starts, clause[0], lo=k)]
        if any(subj != p.name for subj in between):
            break                                     # the place went with a list count
        if p.place_type in ("site", "zone", "park"):
            return p.name, p.place_type, clause[0]
    # the topic of the sentence: a clause that opens with a place (中原小微企业园是…，占地…)
    for cs, _, j in reversed(openings):
        if cs > clause[0] or j < 0 or places[j].start >= clause[0]:
            continue
        p = places[j]
        if p.place_type not in _TOPIC_TYPES or p.place_type == "subdistrict":
            continue
        sentence_opening = cs == sentence[0]
        if sentence_opening or _TOPIC_AFTER.match(text, p.end):
            return p.name, p.place_type, clause[0]
    return fallback[0], fallback[1], clause[0]


def _any_in(positions: Sequence[int], lo: int, hi: int) -> bool:
    """Whether one of the (sorted) ``positions`` is in ``[lo, hi)``."""
    i = bisect.bisect_left(positions, lo)
    return i < len(positions) and positions[i] < hi


_ANAPHOR_WORDS = ("园区", "板块", "片区")   # the core of every _ANAPHOR match (they cannot overlap)
_ADVERB_MAX = 5                                # the longest _LEAD_ADVERB match (截至目前，)


def _openings(text: str, sentence: tuple[int, int], places: list[_Place], starts: Sequence[int],
              words: Sequence[int] | None = None) -> list[tuple]:
    """``(clause start, pointing word or None, index of the place or -1)`` for the clauses of
    ``sentence`` that open (after a leading adverb) with a pointing word or a place.

    ``words`` are the positions of every 园区/板块/片区 in ``text``: then only the clause starts
    a few characters before a place or such a word are looked at (no other can open with one)."""
    out = []
    n = len(places)
    s0, s1 = sentence
    if words is None:
        cands = [s0] + _clause_starts(text, s0, s1)
    else:
        # a place opening the clause at cs starts at cs … cs + _ADVERB_MAX; a pointing word
        # (该/整个 + the core word) has its core word at most 2 characters later
        near = set()
        for lo_back, positions, lo, hi in (
                (_ADVERB_MAX, starts, bisect.bisect_left(starts, s0), bisect.bisect_right(starts, s1 + _ADVERB_MAX)),
                (_ADVERB_MAX + 2, words, bisect.bisect_left(words, s0), bisect.bisect_right(words, s1 + _ADVERB_MAX + 2))):
            for i in range(lo, hi):
                at = positions[i]
                first = at - lo_back if at - lo_back > s0 else s0
                if first == s0:
                    near.add(s0)
                # clause starts e + 1 in [first, at] for clause ends e of the sentence
                e_lo = first - 1 if first - 1 > s0 else s0
                e_hi = at - 1 if at - 1 < s1 - 1 else s1 - 1
                if e_lo <= e_hi:
                    near.update(_clause_starts(text, e_lo, e_hi + 1))
        cands = sorted(near)
    for cs in cands:
        adv = _LEAD_ADVERB.match(text, cs)
        lead = adv.end() if adv else cs
        j = bisect.bisect_left(starts, lead)
        if j >= n or places[j].start != lead:
            j = -1
        hit = _ANAPHOR.match(text, lead)
        if hit or j >= 0:
            out.append((cs, hit, j))
    return out


_VERBS = ("建立", "设立", "组建", "成立", "新增", "新建", "建成", "发放", "清理", "整治", "引进",
          "签订", "选拔出", "选派", "聘用", "配备", "慰问", "帮扶", "划分出", "划分", "创立", "办理",
          "下发", "发动", "抽调", "收集", "梳理", "组织", "召开", "开展", "动员", "涉及", "规范",
          "拆除", "化解", "消除", "张贴", "悬挂", "发布", "认定", "指导", "帮助", "入驻", "签约",
          "落地", "服务", "培训", "接访", "收到", "派发", "解决", "上移", "出动", "投入", "完成")
_VERB_SET = frozenset(_VERBS)
_VERB_LENGTHS = sorted({len(v) for v in _VERBS})
# the characters a _LEAD match can start with and a _TRAIL match can end with: a label
# that does not start (end) with one has nothing to trim, and the regex is not run
_LEAD_FIRST = frozenset(w[0] for w in _LEAD_WORDS)
_TRAIL_LAST = frozenset(w[-1] for w in _TRAIL_WORDS)


def _verb_at_end(before: str) -> str | None:
    """The one of ``_VERBS`` that ``before`` ends with (the verb of a count), or None.  (No
    verb ends with another, so at most one can; the tests check it.)"""
    for n in _VERB_LENGTHS:
        if before[-n:] in _VERB_SET:
            return before[-n:]
    return None


def _label(text: str, a: int, b: int, num_start: int, num_end: int, count: bool) -> str:
    """A short label from the words before the number (and, for counts, the noun after it)."""
    before = text[a:num_start]
    before = _QUOTE_CHARS_RE.sub("", _LABEL_SPLIT_RE.split(before)[-1])
    if before[:1] in _LEAD_FIRST:
        before = _LEAD.sub("", before)
    verb = _verb_at_end(before) if count else None
    if before[-1:] in _TRAIL_LAST:
        before = _TRAIL.sub("", before)
    if "的" in before[:-2]:                       # "符合条件的扶持对象" → 扶持对象
        before = before.rsplit("的", 1)[1]
    if len(before) >= 4 and before[0] in "对为在与向将把给":
        before = before[1:]
    before = before[-10:]
    if count:
        m = _COUNTED_NOUN_RE.match(text[num_end:b])
        if m and (len(before) <= 2 or verb):
            before = (verb or before) + m.group(0)
    return before.strip() or "数量"


def _period(text: str, clause_start: int, num_start: int, sent_periods,
            rev: str | None = None, sent_start: int = 0) -> str | None:
    """The last period before the number in its sentence that reaches it.

    ``rev`` is ``text[::-1]`` (made when not given), ``sent_start`` the sentence's start.

    A period opening a clause (``截至6月底，…``, ``上半年累计…``) holds for the rest of the
    sentence; one inside a clause (``发放2022年7月至2023年1月申报的补贴…``) only for that clause.
    """
    best = None
    for a, b, s in sent_periods:
        if b > num_start:
            continue
        if rev is None:
            rev = text[::-1]
        k = _clause_start(rev, a, sent_start)      # the start of the period's clause
        if a >= clause_start or _PERIOD_LEAD_RE.fullmatch(text[k:a]):
            best = (a, b, s)
    if best is None:
        return None
    # join "2019年" + "上半年" written side by side
    a, b, s = best
    for a2, b2, s2 in sent_periods:
        if b2 == a:
            return s2 + s
    return s


def _sentence_text(text: str, sentence: tuple[int, int], seen: dict[tuple[int, int], str]) -> str:
    got = seen.get(sentence)
    if got is None:
        got = seen[sentence] = text[sentence[0]:sentence[1]].strip()
    return got


# --------------------------------------------------------------------------- main entry

def extract_metrics(report, articles: Sequence[Any] = (), places: Iterable[Any] = ()) -> list[Metric]:
    """Every stated quantity of ``report``, attributed to a place or to the article's 街道.

    ``report`` has ``name``, ``text`` (original), ``normalized`` and ``to_original``;
    ``articles`` have ``subdistrict``, ``district``, ``start``, ``end`` (original offsets);
    ``places`` are place mentions with original ``start``/``end``, ``name``, ``place_type``.
    """
    text = report.normalized
    # the sentence ends of the whole text; the clause ends around a quantity are searched
    # for when it is met (fewer than half the sentences hold a quantity)
    sent_marks = find_all(text, SENTENCE_END)
    rev = text[::-1]
    plist = _norm_places(report, places)
    pstarts = [p.start for p in plist]
    arts = sorted(articles, key=lambda a: a.start)
    art_starts = [a.start for a in arts]
    periods = [(m.start(), m.end(), m.group(0))
               for m in finditer_near(PERIOD_RE, _PERIOD_FIRST, find_all(text, _PERIOD_ANCHOR), text, _PERIOD_BACK)]
    period_starts = [p[0] for p in periods]

    found = [(a, b, q, None) for a, b, q in _find_quantities(text, sent_marks)]
    found += _events(text, [(a, b) for a, b, _, _ in found])
    found.sort(key=lambda f: f[0])
    qty_starts = [f[0] for f in found]

    out: list[Metric] = []
    sentence_texts: dict[tuple[int, int], str] = {}   # one string per sentence, shared
    subjects: list[str] = []       # out[i].subject, kept in step
    memo: dict = {}                # _subject's findings in each sentence
    name, to_original = report.name, report.to_original
    bisect_left, bisect_right = bisect.bisect_left, bisect.bisect_right
    # each article's 街道 and the subject a quantity about nothing named falls back to
    owners = []
    for art in arts or [None]:
        sd = getattr(art, "subdistrict", "") or ""
        district = getattr(art, "district", "") or ""
        owners.append((sd, (sd or district, "subdistrict" if sd else ("district" if district else ""))))
    last_end: int | None = None
    last_sentence = last_clause = -1
    sentence = (-1, -1)
    last_from_place = False
    for k, (a, b, q, event_label) in enumerate(found):
        if not sentence[0] <= a < sentence[1]:     # the first quantity of its sentence
            sentence = _around(sent_marks, a, 0, len(text))
        clause = _clause_around(text, rev, a, sentence)
        oa, ob = to_original(a, b)
        ai = bisect_right(art_starts, oa) - 1 if arts else 0
        sd, fallback = owners[ai if ai > 0 else 0]
        prev = None
        if out and last_end is not None and last_sentence == sentence[0]:
            prev = (last_end, out[-1].subject, out[-1].subject_type, last_clause, last_from_place)
        subject, stype, label_from = _subject(text, plist, clause, sentence, a, b, fallback, prev,
                                              qty_starts, subjects, pstarts, memo)
        # labels start after the previous quantity in the same clause
        # (and after a period written before it: "1至5月份已完成财税…")
        p_lo, p_hi = bisect_left(period_starts, sentence[0]), bisect_left(period_starts, a)
        if p_lo == p_hi:                   # no period before the number in its sentence
            in_sentence = []
            prev_end = label_from if label_from > clause[0] else clause[0]
        else:
            in_sentence = [p for p in periods[p_lo:p_hi] if p[1] <= a]
            prev_end = max([label_from, clause[0]] + [e for s, e, _ in in_sentence if s >= clause[0]])
        if k and clause[0] <= found[k - 1][0] and found[k - 1][1] <= a:
            prev_end = max(prev_end, found[k - 1][1])
        label = event_label or _label(text, prev_end, clause[1], a, b, q.kind == "count")
        if label == "数量" and out and last_end is not None and last_sentence == sentence[0] \
                and _SAME_LABEL_GAP_RE.fullmatch(text[last_end:a]):
            label = out[-1].metric            # 6户8人, 403人、93780元: the same label
        period = _period(text, clause[0], a, in_sentence, rev, sentence[0])
        if q.kind == "date":
            period = None
        # (the fields in their order: report, article, subject, subject_type, metric, value,
        # unit, raw, qualifier, period, start, end, sentence, high)
        out.append(Metric(name, sd, subject, stype, label, q.value, q.unit, text[a:b], q.qualifier,
                          period, oa, ob, _sentence_text(text, sentence, sentence_texts), q.high))
        subjects.append(subject)
        last_end, last_sentence, last_clause = b, sentence[0], clause[0]
        last_from_place = (subject, stype) != fallback
    return out
