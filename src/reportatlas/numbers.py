"""Numbers and quantities as Chinese reports write them.

``parse_number`` reads Arabic digits (``1,200``, ``55.54``, full-width digits), Chinese
numerals (``一百二十``, ``两万``, ``十余``) and both mixed with 万/亿 (``5.2万``).
``parse_quantity`` reads a whole quantity surface such as ``约20万平方米``, ``3至5亿元``,
``580余处`` or ``99%以上`` and normalises it to a base unit:

* money → 元 (``10亿元`` → 1e9), area → 平方米 (1 亩 = 666.67 m², 1 公顷 = 1e4 m²,
  1 平方公里 = 1e6 m²), length → 米, volume → 立方米, percentages → ``%``;
* counts keep their measure word as the unit (个, 家, 人, 户, 人次 …).

The same compiled pattern (:data:`QUANTITY_RE`) is used by :mod:`reportatlas.metrics` to
find quantities in running text, so what is found is exactly what can be parsed.

Chinese numerals are written out by hand here (a dozen lines) rather than pulling in a
conversion package: the reports only need integers up to 亿 and 百分之….
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Iterable, Iterator
from dataclasses import dataclass

from .errors import InputError

__all__ = ["Quantity", "UNITS", "QUANTITY_RE", "parse_number", "parse_cn_integer",
           "parse_quantity", "quantity_from_match"]

CN_DIGITS = {"零": 0, "〇": 0, "○": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4,
             "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
CN_SMALL = {"十": 10, "百": 100, "千": 1000}
MULTIPLIERS = {"万": 1e4, "亿": 1e8}

#: unit as written → (base unit, factor to the base unit, kind)
UNITS: dict[str, tuple[str, float, str]] = {
    "元": ("元", 1.0, "money"),
    "平方公里": ("平方米", 1e6, "area"), "平方千米": ("平方米", 1e6, "area"),
    "平方米": ("平方米", 1.0, "area"), "平米": ("平方米", 1.0, "area"),
    "㎡": ("平方米", 1.0, "area"), "公顷": ("平方米", 1e4, "area"),
    "亩": ("平方米", 666.67, "area"),
    "立方米": ("立方米", 1.0, "volume"),
    "公里": ("米", 1000.0, "length"), "千米": ("米", 1000.0, "length"),
    "米": ("米", 1.0, "length"),
    "%": ("%", 1.0, "percent"), "％": ("%", 1.0, "percent"),
}
#: measure words of counts; the unit of a count is the measure word itself
COUNT_WORDS = ("人次", "户次", "个", "家", "人", "户", "辆", "处", "栋", "幢", "层", "所",
               "座", "条", "件", "次", "名", "间", "套", "项", "份", "台", "起", "场", "支",
               "期", "本", "批", "宗", "张", "棵", "株", "盏", "吨")
for _w in COUNT_WORDS:
    UNITS.setdefault(_w, (_w, 1.0, "count"))

# The (tiny) set of characters that may form a Chinese numeral before a multiplier.
# digits alternate with 十/百/千 (一百二十, 十余, 三千零五): "周五两次" is not 52
_CN_NUM = "(?:[一二两三四五六七八九]?[十百千]零?)+[一二三四五六七八九]?|[一二两三四五六七八九]"
_AR_NUM = r"\d+(?:,\d{3})*(?:\.\d+)?"
_NUM = f"(?:{_AR_NUM}|{_CN_NUM})"

# patterns of the functions below, compiled once
_AR_NUMBER_RE = re.compile(rf"({_AR_NUM})([万亿]*)")
_PRE = "约|近|超过|超|逾|达到|达|不少于|不足|不到|最高|至少|最多"
_UNIT_ALT = "|".join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True))

#: a quantity; the group ``q`` is all of it (the match itself in ``QUANTITY_RE``, one
#: character of it in ``QUANTITY_AT``)
QUANTITY_RE = re.compile(
    rf"(?P<q>(?:(?P<pre>{_PRE})\s?)?(?P<some>数(?=[十百千]))?"
    rf"(?:百分之(?P<pct>{_NUM})"
    rf"|(?P<num>{_NUM})(?:\s?(?P<sep>至|到|-|—|~|～)\s?(?P<num2>{_NUM}))?"
    rf"(?P<q1>余|多)?(?P<mult>万|亿)?(?P<q2>余|多)?\s?(?P<unit>{_UNIT_ALT}))"
    rf"(?P<post>以上|以下|左右|余)?)"
)


# every character a QUANTITY_RE match can start with
QUANTITY_FIRST = re.compile(r"[约近超逾达不最至数百\d一二两三四五六七八九十千]")
#: one of those characters, then a look back at it from which QUANTITY_RE matches (its
#: groups set).  A pattern that starts with a character class lets the regex engine skip
#: the characters not in it in a tight loop (one that starts with a look-ahead is entered
#: at every character, ~3x slower); see scan_quantities.
QUANTITY_AT = re.compile(f"{QUANTITY_FIRST.pattern}(?<=(?={QUANTITY_RE.pattern}).)")


def scan_quantities(text: str) -> Iterator[re.Match]:
    """The quantities ``QUANTITY_RE.finditer(text)`` finds, as matches of
    :data:`QUANTITY_AT` with the same groups: ``m.start()`` is the quantity's start,
    ``m.end("q")`` its end and ``m.group("q")`` its text."""
    pos = 0
    search = QUANTITY_AT.search
    while True:
        m = search(text, pos)
        if m is None:
            return
        yield m
        pos = m.end("q")


def find_all(text: str, literals: Iterable[str]) -> list[int]:
    """The start of every occurrence of each of ``literals`` in ``text`` (sorted; occurrences
    of one literal do not overlap).  ``str.find`` runs at memory speed, several times faster
    than a regular expression's scan for a set of characters."""
    out = []
    for lit in literals:
        if not lit:
            raise ValueError("find_all: an empty literal occurs everywhere")
        find, step = text.find, len(lit)
        i = find(lit)
        while i >= 0:
            out.append(i)
            i = find(lit, i + step)
    out.sort()
    return out


def finditer_near(rx: re.Pattern, first: re.Pattern, anchors: Iterable[int], text: str, back: int) -> Iterator[re.Match]:
    """The matches of ``rx.finditer(text)`` when every match holds an anchor (a position of
    ``anchors``, sorted; e.g. :func:`find_all` of a word every match contains) at most
    ``back`` characters after the match's start: ``rx`` is tried only where ``first`` matches
    in the ``back`` characters before an anchor."""
    pos = 0
    search, match = first.search, rx.match
    for a in anchors:
        if a < pos:
            continue                   # inside the previous match
        k = max(pos, a - back)
        while True:
            c = search(text, k, a + 1)
            if c is None:
                break
            m = match(text, c.start())
            if m:
                yield m
                pos = m.end()
                break
            k = c.start() + 1


@dataclass(frozen=True)
class Quantity:
    """A parsed quantity: ``value`` (and ``high`` for a range) in ``unit``, the base unit."""

    value: float
    unit: str
    kind: str                      # money | area | length | volume | percent | count
    qualifier: str | None = None   # 约, 余, 以上, 近 … joined with "+" when several
    high: float | None = None      # upper bound of a range (3至5亿元 → value 3e8, high 5e8)
    raw: str = ""


def _to_halfwidth(text: str) -> str:
    return unicodedata.normalize("NFKC", text) if text else text


def parse_cn_integer(text: str) -> int:
    """``一百二十`` → 120, ``两万三千`` → 23000, ``十五`` → 15, ``二〇一九`` → 2019."""
    if not text or any(ch not in CN_DIGITS and ch not in CN_SMALL and ch not in MULTIPLIERS
                       for ch in text) or all(ch in MULTIPLIERS for ch in text):
        raise InputError(f"not a Chinese numeral: {text!r} (expected e.g. 一百二十 or 两万)")
    if all(ch in CN_DIGITS for ch in text) and len(text) > 1:   # positional: 二〇一九
        return int("".join(str(CN_DIGITS[ch]) for ch in text))
    total = section = digit = 0
    for ch in text:
        if ch in CN_DIGITS:
            digit = CN_DIGITS[ch]
        elif ch in CN_SMALL:
            section += (digit or 1) * CN_SMALL[ch]   # a leading 十 means 一十
            digit = 0
        elif ch == "万":
            total += (section + digit) * 10_000
            section = digit = 0
        else:  # 亿
            total = (total + section + digit) * 100_000_000
            section = digit = 0
    return total + section + digit


def parse_number(text: str) -> float:
    """Parse ``1,200``, ``55.54``, ``5.2万``, ``一百二十``, ``两万``, ``1.2亿`` to a float."""
    if isinstance(text, str):
        return _parse_number(text)
    raise InputError(f"not a number: {text!r} (expected digits or a Chinese numeral)")


@lru_cache(maxsize=65536)
def _parse_number(text: str) -> float:
    s = _to_halfwidth(text.strip()) if isinstance(text, str) else ""
    if not s:
        raise InputError(f"not a number: {text!r} (expected digits or a Chinese numeral)")
    m = _AR_NUMBER_RE.fullmatch(s)
    if m:                                     # 5.2万, 1,200, 1.2亿
        factor = 1.0
        for ch in m.group(2):
            factor *= MULTIPLIERS[ch]
        return float(m.group(1).replace(",", "")) * factor
    try:
        return float(parse_cn_integer(s))
    except InputError:
        raise InputError(f"not a number: {text!r} (expected digits like 5.2万 or a "
                         f"Chinese numeral like 一百二十)") from None


_FROM_MATCH: dict[str, Quantity] = {}


def quantity_from_match(m: re.Match) -> Quantity:
    """Build a :class:`Quantity` from a :data:`QUANTITY_RE` or :data:`QUANTITY_AT` match.

    Built once per surface: the pattern reads nothing past its match, so the same surface
    always has the same groups (Quantity is immutable, so one object is shared)."""
    surface = m.group("q")
    q = _FROM_MATCH.get(surface)
    if q is None:
        if len(_FROM_MATCH) >= 65536:
            _FROM_MATCH.clear()
        q = _FROM_MATCH[surface] = _quantity_from_match(m)
    return q


def _quantity_from_match(m: re.Match) -> Quantity:
    quals = [q for q in (m.group("pre"), m.group("some"), m.group("q1"), m.group("q2"),
                         m.group("post")) if q]
    if m.group("pct") is not None:
        return Quantity(parse_number(m.group("pct")), "%", "percent",
                        "+".join(quals) or None, None, m.group("q"))
    unit, factor, kind = UNITS[m.group("unit")]
    mult = MULTIPLIERS.get(m.group("mult") or "", 1.0)
    value = parse_number(m.group("num")) * mult * factor
    high = None
    if m.group("num2") is not None:
        high = parse_number(m.group("num2")) * mult * factor
    return Quantity(round(value, 6), unit, kind, "+".join(quals) or None,
                    None if high is None else round(high, 6), m.group("q"))


def parse_quantity(text: str) -> Quantity:
    """Parse one quantity surface, e.g. ``约20万平方米`` → 200000 平方米 (qualifier 约).

    Raises :class:`~reportatlas.errors.InputError` when ``text`` is not one quantity.
    """
    s = _to_halfwidth(text.strip()) if isinstance(text, str) else ""
    m = QUANTITY_RE.fullmatch(s)
    if not m:
        raise InputError(f"not a quantity: {text!r} (expected a number with a unit, "
                         f"e.g. 约20万平方米, 3至5亿元, 580余处 or 70%)")
    q = quantity_from_match(m)
    return Quantity(q.value, q.unit, q.kind, q.qualifier, q.high, text)
