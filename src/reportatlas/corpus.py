"""Read the reports: decode, normalise with a way back, split into articles owned by a 街道.

``load_reports`` accepts folders and files (``.txt``/``.md``), decodes UTF-8 (with or
without BOM) and GBK/GB18030, and refuses empty, binary or undecodable files with a
:class:`~reportatlas.errors.DecodingError` naming the file.

Normalisation (``Report.normalized``) folds full-width ASCII (digits, Latin letters,
punctuation, the ideographic space) to half-width, drops spaces between a CJK character
and a digit, and removes the newspaper-column line breaks that cut words and numbers in
two.  Every normalised character remembers the original character it came from, so
``Report.to_original`` turns normalised offsets into offsets into ``Report.text``.

``split_articles`` finds the articles of a report by their headlines (``中原区X街道办事处``,
``——X街道…``, a page header ``X街道``) and by which 街道 the paragraphs talk about, so that
an article whose headline comes after its first paragraphs still owns them.
"""
from __future__ import annotations

import json
import re
from array import array
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Sequence

from . import paths
from .errors import DecodingError, InputError, InputFileNotFound

SUFFIXES = (".txt", ".md")
TERMINAL = set("。！？!?；;…")
#: what ends a sentence for the extractors (places keep their sentence, metrics look for
#: their subject and label in it): 。！？!? and line breaks
SENTENCE_END = "。！？!?\n"
CJK = r"\u3400-\u9fff"


@dataclass(frozen=True)
class Report:
    path: Path
    name: str
    text: str
    encoding: str
    normalized: str
    # normalised index → original index: an array of machine integers (a few bytes a
    # character instead of an int object each; pickled as one block of bytes)
    offsets: Sequence[int] = field(repr=False, default=(), hash=False)

    def __reduce__(self):   # the offsets as one block of bytes: faster back from a worker process
        offsets = self.offsets
        if not isinstance(offsets, array):
            offsets = _offset_array(offsets, len(self.text))
        return (_report, (self.path, self.name, self.text, self.encoding, self.normalized,
                          offsets.typecode, offsets.tobytes()))

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Original ``(start, end)`` of the normalised span ``[start, end)``."""
        if not 0 <= start <= end <= len(self.normalized):
            raise InputError(f"span {start}:{end} is outside the normalised text of {self.name} "
                             f"(length {len(self.normalized)})")
        if start == end:
            pos = self.offsets[start] if start < len(self.offsets) else len(self.text)
            return pos, pos
        return self.offsets[start], self.offsets[end - 1] + 1

    def to_normalized(self, pos: int) -> int:
        """Index of the first normalised character that comes from original ``pos`` or later."""
        import bisect
        return bisect.bisect_left(self.offsets, pos)


def _offset_array(offsets: Iterable[int], text_length: int) -> array:
    return array("i" if text_length < 2**31 else "q", offsets)


def _report(path, name, text, encoding, normalized, code: str, offsets: bytes) -> Report:
    block = array(code)
    block.frombytes(offsets)
    return Report(path=path, name=name, text=text, encoding=encoding, normalized=normalized,
                  offsets=block)


@dataclass(frozen=True)
class Article:
    report: str
    index: int
    subdistrict: str
    district: str
    start: int
    end: int
    headline: str


# --------------------------------------------------------------------------- loading

def load_reports(paths_: Iterable[str | Path] | str | Path) -> list[Report]:
    """Load reports from folders (their ``.txt``/``.md`` files, sorted) and files."""
    return [read_report(f) for f in report_files(paths_)]


def report_files(paths_: Iterable[str | Path] | str | Path) -> list[Path]:
    """The files :func:`load_reports` reads, in its order, without reading them."""
    if isinstance(paths_, (str, Path)):
        paths_ = [paths_]
    files: list[Path] = []
    for p in paths_:
        p = Path(p)
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() in SUFFIXES)
            if not found:
                raise InputError(f"no .txt or .md reports in folder {p}; give a folder of reports or files")
            files.extend(found)
        elif p.is_file():
            files.append(p)
        else:
            raise InputFileNotFound(f"report not found: {p} (give a folder of .txt/.md reports or files)")
    return files


def read_report(path: str | Path) -> Report:
    path = Path(path)
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise InputError(f"{path} is a folder; give it to load_reports") from None
    text, encoding = decode_bytes(data, name=str(path))
    normalized, offsets = _normalize(text)
    return Report(path=path, name=path.name, text=text, encoding=encoding,
                  normalized=normalized, offsets=offsets)


def decode_bytes(data: bytes, *, name: str = "<bytes>") -> tuple[str, str]:
    """Decode report bytes; returns ``(text, encoding)`` or raises DecodingError."""
    if not data.strip():
        raise DecodingError(f"{name}: the file is empty; expected a report in UTF-8 or GBK text")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DecodingError(f"{name}: UTF-16 text is not read; save the report as UTF-8 (or GBK)")
    if b"\x00" in data:
        raise DecodingError(f"{name}: looks binary (NUL bytes); expected a UTF-8 or GBK text report")
    if data.startswith(b"\xef\xbb\xbf"):
        candidates = ["utf-8-sig"]
    else:
        candidates = ["utf-8", "gb18030"]
    for enc in candidates:
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        if _looks_like_text(text):
            if not text.strip():
                break
            return text, enc
    raise DecodingError(f"{name}: cannot decode as UTF-8 or GBK/GB18030 text "
                        "(binary or another encoding?); save the report as UTF-8")


_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0e-\x1f\ue000-\uf8ff\ufffd]")


def _looks_like_text(text: str) -> bool:
    """Fewer than 1 % control characters (other than line breaks and tabs), private-use
    characters or replacement characters."""
    if not text:
        return False
    return len(_BAD_CHARS.findall(text)) / len(text) < 0.01


# --------------------------------------------------------------------------- normalising

def _fold(ch: str) -> str:
    o = ord(ch)
    if 0xFF01 <= o <= 0xFF5E:
        return chr(o - 0xFEE0)
    if ch == "\u3000":
        return " "
    return ch


def _is_cjk(ch: str) -> bool:
    return bool(ch) and "\u3400" <= ch <= "\u9fff"


_FOLD_TABLE = {o: o - 0xFEE0 for o in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def _fold_text(text: str) -> str:
    """``text.translate(_FOLD_TABLE)``, faster: ``str.translate`` looks every character of
    CJK text up in the table.  Here each full-width character that occurs is replaced
    everywhere by one ``str.replace``; a report holds only a few distinct ones (mostly ，)."""
    if "\u3000" in text:
        text = text.replace("\u3000", " ")
    # U+FF01 … U+FF5E are the characters whose high byte in UTF-16-LE is 0xFF (at an odd
    # offset) and low byte 0x01 … 0x5E: found by bytes.find, much faster than a regex that
    # looks at every character; other 0xFF bytes (a low byte, U+FF5F …) are passed over
    data = text.encode("utf-16-le", "surrogatepass")
    i = data.find(b"\xff", 1)
    while i > 0:
        low = data[i - 1]
        if i % 2 and 0x01 <= low <= 0x5E:
            text = text.replace(chr(0xFF00 + low), chr(0x20 + low))
            data = text.encode("utf-16-le", "surrogatepass")
        i = data.find(b"\xff", i + 1)
    return text


def _positions(text: str, chars: str) -> set[int]:
    """Where each of ``chars`` occurs in ``text`` (str.find, not a regex that looks at
    every character)."""
    out = set()
    for ch in chars:
        i = text.find(ch)
        while i >= 0:
            out.add(i)
            i = text.find(ch, i + 1)
    return out


def normalize(text: str) -> tuple[str, list[int]]:
    """Normalised text and, for each of its characters, the index in ``text``.

    Characters are folded all at once (:func:`_fold_text`); only spaces, carriage returns
    and column breaks are looked at one by one, the stretches between them are copied."""
    normalized, idx = _normalize(text)
    return normalized, idx.tolist()


_IDENTITY = array("i")      # 0, 1, 2, …: the offsets of a copied stretch are a slice of it


def _identity(n: int) -> array:
    global _IDENTITY
    if n >= 2**31:
        return array("q", range(n))
    if len(_IDENTITY) < n:
        _IDENTITY = array("i", range(max(n, 2 * len(_IDENTITY))))
    return _IDENTITY


def _normalize(text: str) -> tuple[str, array]:
    """:func:`normalize` with the offsets as an array of machine integers."""
    # which line breaks are column breaks (to be removed)
    joins = _column_breaks(text)
    folded = _fold_text(text)
    specials = sorted(_positions(text, " \r\u3000").union(joins))
    specials.append(len(text))
    out: list[str] = []
    i, n, si = 0, len(text), 0
    ident = _identity(n)
    idx = array(ident.typecode)
    copy = idx.extend
    prev = ""
    while i < n:
        while specials[si] < i:
            si += 1
        k = specials[si]
        if k > i:                      # an ordinary stretch: copied as it is
            out.append(folded[i:k])
            copy(ident[i:k])            # offsets i … k-1, copied as a block
            prev = folded[k - 1]
            i = k
            if i == n:
                break
        # i is a special character (k == i)
        j = joins.get(i)
        if j is not None:
            i = j
            continue
        if text[i] == "\r":
            i += 1
            continue
        f = folded[i]
        if f == " ":
            # drop spaces between a CJK character and a digit (e.g. "对 186户", "在 2017年")
            j = i
            while j < n and folded[j] == " ":
                j += 1
            nxt = folded[j] if j < n else ""
            if (_is_cjk(prev) and nxt.isdigit()) or (prev.isdigit() and _is_cjk(nxt)):
                i = j
                continue
        out.append(f)
        idx.append(i)
        prev = f
        i += 1
    return "".join(out), idx


_BREAK_SPACES = " \t\r\u3000"
# a lone line break between two non-space characters, not before a heading (# or ——); the
# look-behind comes after the \n so that the regex engine looks for \n first
_WRAP_RE = re.compile(r"\n(?<=\S\n)(?=\S)(?!#|——)")
# any other line break (a space or the text's start or end on one side), with what follows
# it of its run: a second break and spaces
_BREAK_RUN_RE = re.compile(r"\n(?:(?<!\S\n)|(?!\S))(?:[ \t\r\u3000]*\n)?[ \t\r\u3000]*")


def _column_breaks(text: str) -> dict[int, int]:
    """{start of a removable break: index after it}.

    A single line break between two non-empty lines is a column wrap.  A blank line
    (two breaks) also cuts a sentence when the paragraph before it is long and does not
    end a sentence and the text after it goes on (long paragraph, or starts with closing
    punctuation).  Runs of three or more breaks separate captions and are kept.
    """
    # The breaks are the matches of "[ \t\r\u3000]*\n(?:[ \t\r\u3000]*\n)?[ \t\r\u3000]*".
    # Most are a lone \n with text on both sides (a column wrap, joined unless a heading
    # follows): those are found by one regex without a Python step each; the others are
    # found from their line break on (a regex that starts with a character class would be
    # tried at every character of the text) and their leading spaces are added here.
    joins = {m.start(): m.end() for m in _WRAP_RE.finditer(text)}
    for m in _BREAK_RUN_RE.finditer(text):
        a, b = m.start(), m.end()
        while a and text[a - 1] in _BREAK_SPACES:
            a -= 1
        if a == 0 or b >= len(text):
            continue
        if text[b] == "\n" or text[a - 1] == "\n":
            continue  # part of a longer run
        if _removable(text, a, b, m.group().count("\n")):
            joins[a] = b
    return joins


def _removable(text: str, a: int, b: int, breaks: int) -> bool:
    """Whether the run of ``breaks`` line breaks (with spaces) ``text[a:b]`` between two
    lines is removed (the rule of :func:`_column_breaks`)."""
    prev_line = text[text.rfind("\n", 0, a) + 1:a].strip()
    nl = text.find("\n", b)
    next_line = text[b: nl if nl >= 0 else len(text)].strip()
    if not prev_line or not next_line or next_line.startswith(("#", "——")):
        return False
    if breaks == 1:
        return True
    if breaks != 2:
        return False
    last = prev_line[-1]
    if last in TERMINAL or last in "”」）)" and len(prev_line) < 30:
        return False
    return len(prev_line) >= 30 and (len(next_line) >= 30 or next_line[-1] in TERMINAL | {"。"}
                                     or next_line[0] in "”」）)，,、。")


# --------------------------------------------------------------------------- articles

@lru_cache(maxsize=1)
def hierarchy() -> dict[str, dict[str, list[str]]]:
    """区 → 街道 → [社区/村] from geodata/names/subdistrict_hierarchy.json (jionlp, Apache-2.0)."""
    path = paths.geodata_dir() / "names" / "subdistrict_hierarchy.json"
    if not path.exists():
        path = paths.REPO_ROOT / "geodata" / "names" / "subdistrict_hierarchy.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))["tree"]
    except (OSError, ValueError, KeyError):
        return {}


def subdistrict_district() -> dict[str, str]:
    return dict(_subdistrict_district())


@lru_cache(maxsize=1)
def _subdistrict_district() -> dict[str, str]:
    return {sd: dist for dist, sds in hierarchy().items() for sd in sds
            if sd.endswith(("街道", "镇", "乡"))}


@lru_cache(maxsize=1)
def _subdistrict_starts() -> tuple[list[tuple[str, str, str]], tuple[str, ...]]:
    """(full form, district, 街道) in the order _subdistrict_at tries them (longest 街道 first,
    with its district before it, then alone), and all full forms for one quick test."""
    known = _subdistrict_district()
    forms = [(prefix + sd, known[sd], sd) for sd in sorted(known, key=len, reverse=True)
             for prefix in (known[sd], "")]
    return forms, tuple(f for f, _, _ in forms)


_GENERIC_PREFIX = set("该本全各此每个我其两多")
_SD_RE = re.compile(rf"(?:(中原区|上街区|[{CJK}]{{2}}区))?([{CJK}]{{2,6}}?)街道")


def _subdistrict_at(s: str) -> tuple[str, str] | None:
    """``(district, 街道 name)`` if ``s`` starts with a 街道 name."""
    s = s.lstrip("#* \t>——-")
    forms, any_form = _subdistrict_starts()
    if s.startswith(any_form):
        for form, district, sd in forms:
            if s.startswith(form):
                return district, sd
    m = _SD_RE.match(s)
    if m and m.group(2)[0] not in _GENERIC_PREFIX and not m.group(2).endswith(("各", "本", "的")):
        return m.group(1) or "", m.group(2) + "街道"
    return None


_SENTENCE_PUNCT = re.compile("[。，,；;：:！？!?]")


def _headline_owner(line: str) -> tuple[str, str] | None:
    """Owner of a headline line, or None if the line is not a headline."""
    s = line.strip()
    if not s or len(s) > 80 or _SENTENCE_PUNCT.search(s):
        return None  # headlines are not sentences
    if "——" in s:
        tail = s.split("——", 1)[1]
        hit = _subdistrict_at(tail)
        if hit:
            return hit
    return _subdistrict_at(s)


def _paragraphs(text: str) -> list[tuple[int, int]]:
    """(start, end) of paragraphs: blocks of text separated by blank lines."""
    line = r"[^\S\n]*\S[^\n]*"
    return [(m.start(), m.end()) for m in re.finditer(rf"{line}(?:\n{line})*", text)]


def _vote(par: str, names: set[str]) -> str | None:
    """The 街道 a paragraph talks about most (None if none or a tie)."""
    best, most, tie = None, 0, False
    for sd in names:
        n = par.count(sd)
        if n > most:
            best, most, tie = sd, n, False
        elif n and n == most:
            tie = True
    return None if tie else best


def _best_cut(votes: list[str | None], lo: int, hi: int, before: str, after: str) -> int:
    """Where paragraphs ``lo … hi-1`` go over from the article of ``before`` to that of
    ``after``: the last cut in ``lo … hi`` with the best score, which counts the paragraphs
    before the cut voting for ``before`` and those from it on voting for ``after``, less
    those before it voting for ``after``.  Moving the cut past a paragraph changes the
    score by that paragraph's vote alone, so the scores are kept as a running sum."""
    score = sum(1 for j in range(lo, hi) if votes[j] == after)     # the cut at lo
    best, best_score = lo, score
    for cut in range(lo + 1, hi + 1):
        vote = votes[cut - 1]
        score += (vote == before) - 2 * (vote == after)
        if score >= best_score:
            best, best_score = cut, score
    return best


def split_articles(report: Report) -> list[Article]:
    """Articles of a report, each owned by its 街道, with original offsets."""
    text = report.text
    pars = _paragraphs(text)
    if not pars:
        return []
    # headlines: (paragraph index, owner, headline text)
    heads: list[tuple[int, tuple[str, str], str]] = []
    for k, (a, b) in enumerate(pars):
        for line in text[a:b].split("\n"):
            if "，" in line:
                continue    # a sentence (the quick test for most lines of a report)
            owner = _headline_owner(line)
            if owner:
                heads.append((k, owner, line.strip()))
                break
    # merge consecutive headlines of the same owner
    blocks: list[tuple[int, tuple[str, str], str]] = []
    for h in heads:
        if blocks and blocks[-1][1][1] == h[1][1]:
            continue
        blocks.append(h)
    if not blocks:
        owner = _dominant_owner(text)
        return [Article(report.name, 0, owner[1], owner[0], pars[0][0], pars[-1][1], "")]
    names = {b[1][1] for b in blocks}
    votes = [_vote(text[a:b], names) for a, b in pars]
    starts = [0]
    for i in range(1, len(blocks)):
        prev_k, k = blocks[i - 1][0], blocks[i][0]
        owner = blocks[i][1][1]
        start = k
        # a title line just above a "——X街道" subtitle belongs to the new article
        if "——" in blocks[i][2] and blocks[i][2].lstrip("#* ").startswith("——") and k - 1 > prev_k:
            pa, pb = pars[k - 1]
            prev = text[pa:pb].strip()
            if len(prev) <= 40 and prev[-1] not in TERMINAL:
                start = k - 1
        # paragraphs before the headline that talk about the new owner (headline after text)
        best = _best_cut(votes, prev_k + 1, start, blocks[i - 1][1][1], owner)
        if best < start:
            # also take the section heading(s) just above the first paragraph of the new owner
            while best - 1 > prev_k:
                pa, pb = pars[best - 1]
                prev = text[pa:pb].strip()
                if votes[best - 1] is None and len(prev) <= 30 and prev[-1] not in TERMINAL \
                        and text[max(pa - 3, 0):pa].count("\n") <= 2:
                    best -= 1
                else:
                    break
            start = best
        starts.append(start)
    articles = []
    for i, (k, (district, sd), headline) in enumerate(blocks):
        a = pars[starts[i]][0] if i else pars[0][0]
        b = pars[starts[i + 1] - 1][1] if i + 1 < len(blocks) else pars[-1][1]
        district = district or _subdistrict_district().get(sd, "") or _dominant_district(text[a:b])
        articles.append(Article(report.name, i, sd, district, a, b, headline))
    return articles


def _dominant_owner(text: str) -> tuple[str, str]:
    known = _subdistrict_district()
    counts = Counter({sd: text.count(sd) for sd in known if sd in text})
    if counts:
        sd = counts.most_common(1)[0][0]
        return known[sd], sd
    m = Counter(m.group(1) + "街道" for m in re.finditer(rf"([{CJK}]{{2,4}})街道", text)
                if m.group(1)[0] not in _GENERIC_PREFIX)
    if m:
        return _dominant_district(text), m.most_common(1)[0][0]
    return _dominant_district(text), ""


def _dominant_district(text: str) -> str:
    counts = Counter(d for d in hierarchy() if d in text)
    return counts.most_common(1)[0][0] if counts else ""


def article_at(articles: list[Article], pos: int) -> Article | None:
    """The article whose block holds original offset ``pos`` (or the nearest one before)."""
    best = None
    for art in articles:
        if art.start <= pos:
            best = art
    return best or (articles[0] if articles else None)
