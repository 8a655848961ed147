"""Name normalisation and the lookup indexes the geocoder builds once per gazetteer.

Keys are normalised so that the spellings found in reports, addresses and source files meet:
full-width → half-width (NFKC), no spaces or decorative punctuation, and administrative
suffix variants folded (街道办事处 → 街道, 村委会 → 村, 社区居委会 → 社区).  Two *loose* keys
catch the remaining variants, each only within its own family of kinds: a station with or
without 站 (须水 ↔ 须水站), a road with or without its 路/大道/大街 suffix (西四环 ↔ 西四环路).
"""
from __future__ import annotations

import difflib
import functools
import heapq
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Iterable

import ahocorasick

_DROP = re.compile(r"[\s\u3000·•・\"'“”‘’《》〈〉<>「」『』]+")
_SUFFIXES = (
    ("街道办事处", "街道"),
    ("社区居民委员会", "社区"),
    ("社区居委会", "社区"),
    ("村民委员会", "村"),
    ("村委会", "村"),
    ("居委会", "社区"),
)
_BRACKETS = re.compile(r"[（(][^（()）]*[)）]")
ROAD_SUFFIX = re.compile(r"(?:大道|大街|路|街)$")
STATION_SUFFIX = re.compile(r"(?:地铁站|公交站|火车站|车站|站)$")
ROAD_KINDS = frozenset({"road", "crossing"})
STATION_KINDS = frozenset({"metro_station", "bus_stop", "railway_station"})
#: 街道, 镇 and 乡 are renamed into one another (须水镇 became 须水街道): a loose key for them
ADMIN_SUFFIX = re.compile(r"(?:街道|镇|乡)$")


def normalize(text: str) -> str:
    """The primary lookup key of a name: NFKC, no spaces, folded administrative suffixes."""
    if type(text) is str:  # the same names come back many times (index build, queries)
        return _normalize_str(text)
    return _normalize(str(text))


def _normalize(text: str) -> str:
    key = unicodedata.normalize("NFKC", text)
    key = _DROP.sub("", key).lower().replace("—", "-").replace("–", "-")
    for long, short in _SUFFIXES:
        if key.endswith(long) and len(key) > len(long):
            key = key[: -len(long)] + short
            break
    if key.endswith("办事处") and len(key) > 3:
        key = key[:-3] + "街道"
    return key


_normalize_str = functools.lru_cache(maxsize=1 << 16)(_normalize)


def without_brackets(key: str) -> str:
    return _BRACKETS.sub("", key)


def road_key(key: str) -> str | None:
    """'西四环路' and '西四环' → '西四环'; None when the stem would be too short."""
    stem = ROAD_SUFFIX.sub("", key)
    return stem if len(stem) >= 2 else None


def admin_key(key: str) -> str | None:
    """'须水镇' and '须水街道' → '须水'."""
    stem = ADMIN_SUFFIX.sub("", key)
    return stem if len(stem) >= 2 and stem != key else None


def station_key(key: str) -> str | None:
    stem = STATION_SUFFIX.sub("", key)
    return stem if len(stem) >= 2 else None


@dataclass
class NameIndex:
    """Normalised name → entry rows, plus a multi-pattern automaton and a suggestion index.

    ``quality`` of a hit: 0 = the entry's own name, 1 = one of its aliases, 2 = a loose
    (suffix-variant or bracket-free) key.
    """

    names: list[str]
    kinds: list[str]
    exact: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    loose_road: dict[str, list[int]] = field(default_factory=dict)
    loose_station: dict[str, list[int]] = field(default_factory=dict)
    loose_plain: dict[str, list[int]] = field(default_factory=dict)
    loose_admin: dict[str, list[int]] = field(default_factory=dict)
    automaton: ahocorasick.Automaton | None = None
    _chars: dict[str, set[int]] = field(default_factory=dict)
    _display: list[str] = field(default_factory=list)
    _display_keys: list[str] = field(default_factory=list)

    @classmethod
    def build(cls, names: Iterable[str], aliases: Iterable[Iterable[str]], kinds: Iterable[str]) -> "NameIndex":
        names, aliases, kinds = list(names), [list(a) for a in aliases], list(kinds)
        index = cls(names=names, kinds=kinds)
        exact: dict[str, list[tuple[int, int]]] = defaultdict(list)
        loose_road: dict[str, list[int]] = defaultdict(list)
        loose_station: dict[str, list[int]] = defaultdict(list)
        loose_plain: dict[str, list[int]] = defaultdict(list)
        loose_admin: dict[str, list[int]] = defaultdict(list)
        for row, (name, alias_list, kind) in enumerate(zip(names, aliases, kinds)):
            for quality, text in [(0, name)] + [(1, a) for a in alias_list]:
                key = normalize(text)
                if not key:
                    continue
                exact[key].append((row, quality))
                plain = without_brackets(key)
                if plain != key and plain:
                    loose_plain[plain].append(row)
                if kind in ROAD_KINDS and (rk := road_key(key)):
                    loose_road[rk].append(row)
                if kind in STATION_KINDS and (sk := station_key(key)):
                    loose_station[sk].append(row)
                if kind == "subdistrict" and (ak := admin_key(key)):
                    loose_admin[ak].append(row)
        index.exact, index.loose_road = dict(exact), dict(loose_road)
        index.loose_station, index.loose_plain = dict(loose_station), dict(loose_plain)
        index.loose_admin = dict(loose_admin)
        automaton = ahocorasick.Automaton()
        for key in index.exact:
            if len(key) >= 2:
                automaton.add_word(key, key)
        if len(automaton):
            automaton.make_automaton()
            index.automaton = automaton
        display = sorted({n for n in names if n})
        index._display = display
        index._display_keys = [normalize(n) for n in display]
        chars: dict[str, set[int]] = defaultdict(set)
        for i, key in enumerate(index._display_keys):
            for ch in set(key):
                chars[ch].add(i)
        index._chars = dict(chars)
        return index

    def lookup(self, key: str) -> list[tuple[int, int]]:
        """Rows whose name or alias has this key, else rows matching a loose key."""
        return list(self.exact[key]) if key in self.exact else self.loose(key)

    def loose(self, key: str) -> list[tuple[int, int]]:
        """Rows matching a loose key only: bracket-free, road or station suffix variants."""
        hits: list[tuple[int, int]] = []
        plain = without_brackets(key)
        if plain in self.exact and plain != key:
            hits += [(row, 2) for row, _ in self.exact[plain]]
        hits += [(row, 2) for row in self.loose_plain.get(key, ())]
        if not STATION_SUFFIX.search(key) and (ROAD_SUFFIX.search(key) or key.endswith("环")):
            hits += [(row, 2) for row in self.loose_road.get(road_key(key) or "", ())]
        if sk := station_key(key):
            hits += [(row, 2) for row in self.loose_station.get(sk, ())]
        if ADMIN_SUFFIX.search(key) and (ak := admin_key(key)):
            hits += [(row, 2) for row in self.loose_admin.get(ak, ())]
        seen: set[int] = set()
        return [(r, q) for r, q in hits if not (r in seen or seen.add(r))]

    def contained(self, key: str) -> list[tuple[int, int, str]]:
        """Known names occurring inside ``key``: (start, end, matched key), longest first."""
        if self.automaton is None:
            return []
        found = [(end - len(word) + 1, end + 1, word) for end, word in self.automaton.iter(key)]
        found.sort(key=lambda t: (-(t[1] - t[0]), t[0]))
        return found

    def suggest(self, text: str, *, limit: int = 5) -> list[str]:
        """The closest known names: a shortlist by shared characters (the rarer ones count;
        characters in more than 5 % of names such as 路 only when nothing rarer is shared),
        then ordered by difflib's similarity ratio."""
        key = normalize(text)
        if not key or not self._display:
            return []
        common = max(50, len(self._display) // 20)
        present = [ch for ch in set(key) if ch in self._chars]
        rare = [ch for ch in present if len(self._chars[ch]) <= common]
        counts: Counter[int] = Counter()
        for ch in rare or present:
            counts.update(self._chars[ch])
        if not counts:
            return []
        shortlist = heapq.nlargest(40, counts, key=lambda i: (counts[i], -len(self._display_keys[i])))
        matcher = difflib.SequenceMatcher(None, b=key)   # b is cached: set the query once

        def similarity(i: int, exact: bool) -> float:
            matcher.set_seq1(self._display_keys[i])
            return (matcher.ratio() if exact else matcher.quick_ratio()) + 0.05 * counts[i]

        rough = heapq.nlargest(3 * limit, shortlist, key=lambda i: similarity(i, False))
        scored = sorted(rough, key=lambda i: (-similarity(i, True), self._display[i]))
        return [self._display[i] for i in scored[:limit]]
