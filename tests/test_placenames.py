"""The place finder's helpers that exist for speed give what the plain way gives."""
from __future__ import annotations

from hypothesis import given, settings, strategies as st

from reportatlas.corpus import Article, Report
from reportatlas.extract import KnownName
from reportatlas.placenames import (_PROJECT_LIST_ANCHOR, _PROJECT_LIST_RE, PlaceFinder, _ending_at,
                                    _project_list_floor)

# pieces of project lists: names, separators, quotes (quoted items hold any character),
# the anchors, and characters no list holds
_LIST_PIECES = st.lists(st.sampled_from(["青槐", "雅苑", "汝水", "华庭", "A1", "、", "、", ",", "。", " ", "\n",
                                         "“", "”", "“青槐雅苑”", "“汝水,华庭”", "“a。b”", "等项目", "等重点项目",
                                         "等在建项目", "等", "项目", "(", "!"]), max_size=50).map("".join)


def _lists(text, **kw):
    return [(m.span(), m.groups()) for m in _ending_at(_PROJECT_LIST_RE, _PROJECT_LIST_ANCHOR, text, **kw)]


@settings(max_examples=500, deadline=None)
@given(_LIST_PIECES)
def test_project_lists_searched_from_the_floor_are_those_searched_from_far_before(text):
    assert _lists(text, floor=_project_list_floor) == _lists(text)


def test_the_floor_is_after_the_last_character_no_list_holds():
    text = "今年。推进青槐雅苑、汝水华庭等项目"
    anchor = text.index("等")
    assert _project_list_floor(text, 0, anchor) == text.index("推")
    # inside quotes any character may belong to a list: the floor stays before the quote
    text = "今年。推进“青槐。雅苑”等项目"
    assert _project_list_floor(text, 0, text.index("等")) == text.index("推")


def _report(text):
    return Report(path=None, name="t.txt", text=text, encoding="utf-8", normalized=text,
                  offsets=list(range(len(text))))


def _find(finder, text):
    return [(p.mention, p.place_type) for p in finder.find(_report(text), [])]


def test_one_stem_decision_meets_different_surroundings():
    # the decision for a stem and its type word is kept by the finder; what the characters
    # around it say is looked at for every mention
    finder = PlaceFinder([KnownName("中原区", "district")])
    finder.autoflush = False
    got = _find(finder, "打造“青槐路”品牌,青槐路拓宽;召开街道会议,槐林街道办事处成立,槐林街道举办活动")
    assert got.count(("青槐路", "road")) == 1            # the one in quotes is a slogan
    assert ("槐林街道", "subdistrict") in got             # followed by 办事处
    assert got.count(("槐林街道", "subdistrict")) == 1    # alone, an unknown 街道 is not a name
    assert not any(m == "召开街道" for m, _ in got)


def _in_subdistrict(subdistrict, text):
    """The mentions of ``text``, one article of ``subdistrict``, by a finder that knows only it."""
    finder = PlaceFinder([KnownName(subdistrict, "subdistrict", subdistrict)])
    finder.autoflush = False
    return finder.find(_report(text), [Article("t.txt", 0, subdistrict, "中原区", 0, len(text), "")])


def test_abbreviation_after_a_preposition_and_ring_roads():
    got = [(p.mention, p.name, p.place_type)
           for p in _in_subdistrict("中原西路街道", "中原西路街道沿西三环路推进,在中西扬帆,到中西路口")]
    assert ("西三环路", "西三环路", "road") in got
    assert got.count(("中西", "中原西路街道", "subdistrict")) == 1   # not before 路


def test_abbreviations_are_not_found_overlapping():
    # an abbreviation that starts with a preposition (到到 for 到甲到乙街道) may follow itself
    # by one character: as with a look-behind regex, the second one is not a mention
    got = [(p.start, p.mention) for p in _in_subdistrict("到甲到乙街道", "工作在到到到,")]
    assert got == [(3, "到到")]


_SERIES_PIECES = st.lists(st.sampled_from(["电力", "一", "二", "三", "东", "西", "、", "、", "厂", "家属院", "广场",
                                           "青槐", "路", "3", "个", "社区", "村", "等", ",", "。", "城", "东门",
                                           "绿都", "a", " "]), max_size=40).map("".join)


@settings(max_examples=500, deadline=None)
@given(_SERIES_PIECES)
def test_list_forms_found_near_their_anchors_are_all_of_them(text):
    from reportatlas import placenames as pn
    for rx, anchor, out in ((pn._SERIES_LIST_RE, pn._SERIES_LIST_ANCHOR, pn._SERIES_LIST_OUT),
                            (pn._COUNTED_LIST_RE, pn._COUNTED_LIST_ANCHOR, pn._COUNTED_LIST_OUT),
                            (pn._GATE_RE, pn._GATE_ANCHOR, pn._GATE_OUT)):
        near = [(m.span(), m.groups()) for m in pn._runs_with(rx, anchor, out, text)]
        assert near == [(m.span(), m.groups()) for m in rx.finditer(text)]


def test_a_shorter_form_takes_the_last_full_name_of_its_type():
    finder = PlaceFinder([KnownName("中原区", "district")])
    finder.autoflush = False
    got = finder.find(_report("整治郑棉三厂家属院,改造国棉三厂家属院;三厂家属院完工"), [])
    assert [(p.mention, p.name) for p in got] == [("郑棉三厂家属院", "郑棉三厂家属院"),
                                                  ("国棉三厂家属院", "国棉三厂家属院"),
                                                  ("三厂家属院", "国棉三厂家属院")]


def _resolve_plainly(cands):
    """_resolve's rule written plainly: candidates in order (lists, longest, known before
    shape, leftmost), each kept unless it overlaps one kept before (list items may share
    their span)."""
    order = sorted(cands, key=lambda c: (-(c.priority == 3), -(c.end - c.start), -c.priority, c.start))
    chosen = []
    for c in order:
        clash = [k for k in chosen if k.start < c.end and c.start < k.end]
        if clash and not (c.priority == 3 and all((k.start, k.end) == (c.start, c.end) for k in clash)):
            continue
        chosen.append(c)
    return sorted(chosen, key=lambda c: (c.start, c.end))


_CANDS = st.lists(st.tuples(st.integers(0, 30), st.integers(1, 6), st.sampled_from([1, 2, 3])), max_size=25)


@settings(max_examples=500, deadline=None)
@given(_CANDS)
def test_resolve_keeps_what_the_plain_rule_keeps(spans):
    from reportatlas.placenames import _Cand, _resolve
    cands = [_Cand(a, a + n, f"n{i}", "site", p) for i, (a, n, p) in enumerate(spans)]
    assert [c.name for c in _resolve(cands)] == [c.name for c in _resolve_plainly(cands)]


def test_mentions_take_the_article_that_article_at_gives():
    from reportatlas.corpus import article_at
    finder = PlaceFinder([KnownName("青槐路", "road"), KnownName("杏林路", "road")])
    finder.autoflush = False
    text = "新建青槐路。\n\n另一街道打通杏林路。"
    first = Article("t.txt", 0, "甲街道", "中原区", 3, 8, "")
    second = Article("t.txt", 1, "乙街道", "中原区", 10, len(text), "")
    got = {p.mention: p.article for p in finder.find(_report(text), [first, second])}
    assert got == {"青槐路": "甲街道", "杏林路": "乙街道"}
    # articles in another order (not as split_articles gives them): as article_at says
    middle = Article("t.txt", 2, "丙街道", "中原区", 1, 9, "")
    for articles in ([second, first], [second], [first], [first, second, middle]):
        for p in finder.find(_report(text), articles):
            assert p.article == article_at(articles, p.start).subdistrict


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("。！？!?\n,路街a1 ")), max_size=60))
def test_sentence_ends_are_every_end_character_in_order(text):
    import re

    from reportatlas.corpus import SENTENCE_END
    from reportatlas.numbers import find_all
    assert find_all(text, SENTENCE_END) == [m.start() for m in re.finditer("[。！？!?\n]", text)]


def test_known_names_are_found_in_text_with_a_lone_surrogate():
    # such text does not come from a decoded file, but a Report may be built from any str:
    # the names are found the slow way, at the same places
    finder = PlaceFinder([KnownName("青槐路", "road"), KnownName("中原区", "district")])
    finder.autoflush = False
    clean = "中原区新建青槐路,中原区委"
    odd = clean.replace("新建", "新\ud800建")
    got = [(p.mention, p.start) for p in finder.find(_report(clean), [])]
    assert got == [("中原区", 0), ("青槐路", 5)]       # not 中原区委 (the party committee)
    assert [(p.mention, p.start) for p in finder.find(_report(odd), [])] == [("中原区", 0), ("青槐路", 6)]


_TYPE_WORD_TEXT = st.lists(st.sampled_from(["街", "道", "区", "坊", "中", "央", "文化", "科技活力", "心", "苑", "园", "产业",
                                            "公", "铁路", "线", "火车", "站", "大", "厦", "路", "村", "青槐", ",",
                                            "\U0001f600", "\ud800"]), max_size=30).map("".join)


@settings(max_examples=500, deadline=None)
@given(_TYPE_WORD_TEXT)
def test_type_words_are_those_the_regex_finds(text):
    from reportatlas.placenames import _type_words
    from reportatlas.placewords import SUFFIX_RE
    words, found = _type_words(text)
    assert [(words[i], a, b) for i, a, b in found] == [(m.group(), *m.span()) for m in SUFFIX_RE.finditer(text)]
