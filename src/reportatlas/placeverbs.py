"""Verb cuts of the place finder: where a name's stem starts after a verb or adverb that
jieba's dictionary and POS tagger know (督导检查华庭 → 华庭), for the words the lists in
:mod:`reportatlas.placewords` miss.  The tagger is slow to set up, so it runs only on stems
holding a dictionary verb, and its decisions are kept on disk between runs.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import ahocorasick

_VERBISH = ("v", "vn", "vd", "d", "p", "c", "ad", "t")
_VERB_LINE = re.compile(r"^(\S\S+) \d+ (?:" + "|".join(_VERBISH) + r")[a-z]*\r?$", re.M)
_NOUNISH = ("n", "ns", "nr", "nz", "nt", "j", "m", "x", "eng", "f", "s", "a", "b", "l", "i")


@lru_cache(maxsize=1)
def _verb_automaton():
    """Verbs, adverbs, prepositions … of two or more characters in jieba's dictionary, or
    None without jieba.  Read from the dictionary file (fast) so that the POS tagger, whose
    set-up takes seconds, runs only on stems that hold such a word.  (The tagger's HMM also
    makes verbs of characters the dictionary does not join, such as 投用; the common ones
    of the reports are in ``placewords.BOUNDARY_WORDS`` instead.)"""
    try:
        import jieba
    except ImportError:  # pragma: no cover - jieba is a dependency; keep working without it
        return None
    words = Path(jieba.__file__).with_name("dict.txt").read_text(encoding="utf-8")
    auto = ahocorasick.Automaton()
    for word in _VERB_LINE.findall(words):   # "word freq tag" lines with a verbish tag
        auto.add_word(word, len(word))
    auto.make_automaton()
    return auto


class VerbCuts:
    """Verb cuts already decided, kept on disk (:mod:`reportatlas.diskcache`) between runs,
    keyed by jieba's version and dictionary and by this rule, so that a run over stems seen
    before needs neither jieba's dictionary nor its tagger."""
    RULE = "verb_cut 1 " + " ".join(_VERBISH) + " / " + " ".join(_NOUNISH)
    LIMIT = 100_000

    def __init__(self):
        self.cuts: dict[str, int] | None = None
        self.path = None
        self.dirty = False

    def load(self) -> dict[str, int]:
        if self.cuts is None:
            self.cuts = {}
            try:
                import importlib.metadata
                import importlib.util
                import json

                from . import diskcache
                spec = importlib.util.find_spec("jieba")   # not imported: that takes 0.2 s
                if spec is None or spec.origin is None:
                    return self.cuts
                stat = Path(spec.origin).with_name("dict.txt").stat()
                digest = diskcache.key(self.RULE, importlib.metadata.version("jieba"), str(stat.st_size),
                                       str(int(stat.st_mtime)))
                self.path = diskcache.path_for("verbcuts", digest, ".json")
                data = diskcache.read(self.path)
                if data:
                    loaded = json.loads(data)
                    if isinstance(loaded, dict):
                        self.cuts = {k: v for k, v in loaded.items() if isinstance(v, int)}
            except (ImportError, OSError, ValueError):   # no cache: decide again
                pass
        return self.cuts

    def add(self, stem: str, cut: int) -> None:
        cuts = self.load()
        if len(cuts) < self.LIMIT:
            cuts[stem] = cut
            self.dirty = True

    def flush(self) -> None:
        if self.dirty and self.path is not None:
            import json

            from . import diskcache
            try:   # keep what another process (a worker of extract(jobs=…)) wrote meanwhile
                data = diskcache.read(self.path)
                on_disk = json.loads(data) if data else {}
                if isinstance(on_disk, dict):
                    for k, v in on_disk.items():
                        if isinstance(v, int) and len(self.cuts) < self.LIMIT:
                            self.cuts.setdefault(k, v)
            except (OSError, ValueError):
                pass
            diskcache.write(self.path, json.dumps(self.cuts, ensure_ascii=False).encode("utf-8"), keep=2)
        self.dirty = False


VERB_CUTS = VerbCuts()


@lru_cache(maxsize=16384)
def verb_cut(stem: str) -> int:
    """Characters of ``stem`` to drop: everything up to the last verb or adverb (by jieba's
    dictionary) that is followed by a noun of two or more characters, as in 督导检查华庭 → 华庭.
    Words the lists in :mod:`placewords` miss are caught here.  The tagger runs only when a
    dictionary verb of two or more characters ends at least two characters before the end;
    decisions are remembered on disk (:class:`VerbCuts`)."""
    known = VERB_CUTS.load().get(stem)
    if known is not None:
        return known
    cut = _tagged_verb_cut(stem)
    VERB_CUTS.add(stem, cut)
    return cut


def _tagged_verb_cut(stem: str) -> int:
    verbs = _verb_automaton()
    if verbs is None or not any(end + 3 <= len(stem) for end, _n in verbs.iter(stem)):
        return 0
    import jieba
    import jieba.posseg as pseg
    jieba.setLogLevel(60)
    tokens = [(w, f) for w, f in pseg.cut(stem)]
    pos = 0
    cut = 0
    for i, (word, flag) in enumerate(tokens):
        pos += len(word)
        rest = stem[pos:]
        if flag.startswith(_VERBISH) and len(word) >= 2 and len(rest) >= 2 and i + 1 < len(tokens) \
                and tokens[i + 1][1].startswith(_NOUNISH) and not tokens[i + 1][1].startswith("vn") \
                and not (i > 0 and tokens[i - 1][1] in ("ns", "nr", "nz", "j")):  # 上街通用航空: one name
            cut = pos
    return cut
