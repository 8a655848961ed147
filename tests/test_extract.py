"""Place extraction: known and unknown names, lists, short forms, non-places, offsets, the CLI.

Unit fixtures are short texts written for these tests; tests/data/ruhelu_report.txt is a
made-up report about 汝河路街道 whose roads, compounds and sites no gazetteer knows."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from reportatlas.cli import main
from reportatlas.corpus import read_report
from reportatlas.extract import Extraction, KnownName, PlaceMention, extract
from reportatlas.placenames import hierarchy_known_names

DATA = Path(__file__).parent / "data"
PLACE_KEYS = {"kind", "report", "article", "mention", "name", "place_type", "start", "end"}
METRIC_KEYS = {"kind", "report", "article", "subject", "metric", "value", "unit", "raw",
               "qualifier", "period", "start", "end"}


def places_of(tmp_path, text: str, *, name="r.txt", known=None) -> list[PlaceMention]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return extract([path], known_names=known if known is not None else hierarchy_known_names()).places


def names(places, place_type=None) -> list[str]:
    return [p.name for p in places if place_type is None or p.place_type == place_type]


# --------------------------------------------------------------------------- shapes

def test_unknown_names_are_found_by_their_shape(tmp_path):
    places = places_of(tmp_path, "中原区汝河路街道办事处\n\n街道新建青槐路和杏林大道，改造银杏苑小区、"
                                 "青槐路18号院，推进青槐科技产业园和杏林变电站建设，完善汝河文体公园。")
    got = {(p.name, p.place_type) for p in places}
    assert {("青槐路", "road"), ("杏林大道", "road"), ("银杏苑小区", "residential_compound"),
            ("青槐路18号院", "residential_compound"), ("青槐科技产业园", "site"),
            ("杏林变电站", "site"), ("汝河文体公园", "park")} <= got
    # the verbs before a name are not part of it
    assert not any(p.name.startswith(("新建", "改造", "推进", "完善")) for p in places)


def test_known_names_are_matched_and_marked_known(tmp_path):
    known = [KnownName("青槐路", "road", "汝河路街道"), KnownName("汝河文体公园", "park", aliases=("文体公园",)),
             KnownName("汝河路街道", "subdistrict")]
    places = places_of(tmp_path, "汝河路街道在青槐路旁扩建文体公园。", known=known)
    by_mention = {p.mention: p for p in places}
    assert by_mention["青槐路"].known and by_mention["青槐路"].place_type == "road"
    assert by_mention["文体公园"].name == "汝河文体公园"       # alias → canonical name
    assert by_mention["文体公园"].place_type == "park"


def test_types_of_places(tmp_path):
    places = places_of(tmp_path, "西流湖街道位于西三环以西，1号线、14号线在此交汇，"
                                 "辖区有西岗村、凯旋路社区、常西湖新区和中原万达广场。")
    types = {p.name: p.place_type for p in places}
    assert types["西流湖街道"] == "subdistrict"
    assert types["西三环"] == "road"
    assert types["1号线"] == types["14号线"] == "metro_line"
    assert types["西岗村"] == "village"
    assert types["凯旋路社区"] == "community"
    assert types["常西湖新区"] == "zone"
    assert types["中原万达广场"] == "site"
    assert "凯旋路" not in types          # the road inside a community name is not a second place


# --------------------------------------------------------------------------- lists and short forms

def test_lists_with_shared_parts_are_expanded(tmp_path):
    places = places_of(tmp_path, "街道整治了郑棉三、四、五厂家属院，并推进青槐东、西广场项目。")
    assert names(places, "residential_compound") == ["郑棉三厂家属院", "郑棉四厂家属院", "郑棉五厂家属院"]
    assert names(places, "site") == ["青槐东广场", "青槐西广场"]


def test_counted_list_of_communities(tmp_path):
    places = places_of(tmp_path, "街道为任庄、汇丰、桃源、鸿盛4个社区配齐了网格员。")
    assert names(places, "community") == ["任庄社区", "汇丰社区", "桃源社区", "鸿盛社区"]
    assert [p.mention for p in places if p.place_type == "community"] == ["任庄", "汇丰", "桃源", "鸿盛"]


def test_quoted_project_list(tmp_path):
    places = places_of(tmp_path, "街道南侧“青槐雅苑”“汝水华庭”“杏林新天地”等项目稳步推进。")
    assert names(places, "site") == ["青槐雅苑", "汝水华庭", "杏林新天地"]


def test_ellipsis_takes_the_name_of_the_first_phase(tmp_path):
    places = places_of(tmp_path, "汝南一期安置区已交付，二期安置区正在开工。")
    assert names(places, "site") == ["汝南一期安置区", "汝南二期安置区"]
    assert places[-1].mention == "二期安置区"


def test_shorter_form_after_full_name(tmp_path):
    places = places_of(tmp_path, "郑棉三厂家属院是九十年代的老院子，今年三厂家属院率先完成了改造。")
    assert names(places, "residential_compound") == ["郑棉三厂家属院", "郑棉三厂家属院"]


def test_subdistrict_abbreviation_after_preposition(tmp_path):
    text = ("中原区中原西路街道办事处 创新发展\n\n中原西路街道推进项目建设，"
            "打造“活力中西”，让发展在中西扬帆远航。")
    places = places_of(tmp_path, text)
    abbr = [p for p in places if p.mention == "中西"]
    assert len(abbr) == 1 and abbr[0].name == "中原西路街道"   # the slogan “活力中西” is not counted


# --------------------------------------------------------------------------- not places

def test_slogans_organisations_and_generic_words_are_not_places(tmp_path):
    text = ("围绕“四个中原”建设，开展“惠享生活·乐购中原”活动。三官庙街道党工委引进郑州某某商贸有限公司，"
            "推进老旧小区改造，打通断头路，新建日间照料中心，理清思路。以上街区获批试点为契机。")
    places = places_of(tmp_path, text)
    got = names(places)
    for bad in ("四个中原", "乐购中原", "三官庙街道党工委", "郑州某某商贸有限公司", "老旧小区",
                "断头路", "日间照料中心", "理清思路", "以上街区"):
        assert bad not in got
    assert "三官庙街道" in got
    assert ("上街区", "district") in {(p.name, p.place_type) for p in places}


# --------------------------------------------------------------------------- offsets

def test_offsets_point_into_the_original_text_across_column_breaks(tmp_path):
    text = " 街道走访了槐荫、江\n南小镇、杏坛3个社区。新建青\n槐路，改造银杏苑\n小区，投资５０\n０万元。\n"
    path = tmp_path / "cols.txt"
    path.write_text(text, encoding="utf-8")
    ex = extract([path], known_names=hierarchy_known_names())
    assert {"江南小镇社区", "槐荫社区", "青槐路", "银杏苑小区"} <= set(names(ex.places))
    for p in ex.places:
        assert text[p.start:p.end].replace("\n", "") == p.mention
        assert p.sentence and p.mention in p.sentence


def test_gbk_report_gives_the_same_places(tmp_path):
    text = (DATA / "ruhelu_report.txt").read_text(encoding="utf-8")
    gbk = tmp_path / "ruhelu_gbk.txt"
    gbk.write_bytes(text.encode("gbk"))
    a = extract([DATA / "ruhelu_report.txt"], known_names=hierarchy_known_names()).places
    b = extract([gbk], known_names=hierarchy_known_names()).places
    assert [(p.name, p.start, p.end) for p in a] == [(p.name, p.start, p.end) for p in b]


# --------------------------------------------------------------------------- a report about another 街道

RUHELU_EXPECTED = {
    ("青槐路", "road"), ("汝水东街", "road"), ("杏林大道", "road"),
    ("青槐科技产业园", "site"), ("杏林变电站", "site"), ("汝河文体公园", "park"),
    ("汝南一期安置区", "site"), ("汝南二期安置区", "site"),
    ("银杏苑小区", "residential_compound"), ("青槐路18号院", "residential_compound"),
    ("电力一厂家属院", "residential_compound"), ("电力二厂家属院", "residential_compound"),
    ("槐荫社区", "community"), ("杏坛社区", "community"), ("小王庄村", "village"),
    ("汝河滨水片区", "zone"), ("汝河路街道", "subdistrict"), ("中原区", "district"),
}


def test_report_about_another_subdistrict():
    ex = extract([DATA / "ruhelu_report.txt"])
    assert [(a.subdistrict, a.district) for a in ex.articles] == [("汝河路街道", "中原区")]
    got = {(p.name, p.place_type) for p in ex.places}
    assert RUHELU_EXPECTED <= got
    assert got - RUHELU_EXPECTED == set()          # nothing else taken for a place
    assert all(p.article == "汝河路街道" for p in ex.places)
    roads = [p for p in ex.places if p.place_type == "road"]
    assert roads and not any(p.known for p in roads)


# --------------------------------------------------------------------------- Extraction object

def test_extraction_records_and_frames(tmp_path):
    path = tmp_path / "r.txt"
    path.write_text("中原区须水街道办事处\n\n须水街道新建青槐路，总投资约3亿元。", encoding="utf-8")
    ex = extract(path)
    assert isinstance(ex, Extraction)
    records = list(ex.records())
    places = [r for r in records if r["kind"] == "place"]
    assert places and all(PLACE_KEYS <= set(r) for r in places)
    frame = ex.places_frame()
    assert list(frame["name"]) == [p.name for p in ex.places]
    assert len(ex.metrics_frame()) == len(ex.metrics)


def test_reports_can_be_given_as_report_objects(tmp_path):
    path = tmp_path / "r.txt"
    path.write_text("须水街道新建青槐路。", encoding="utf-8")
    ex = extract([read_report(path)], known_names=hierarchy_known_names())
    assert "青槐路" in names(ex.places)


# --------------------------------------------------------------------------- the shared reports

@pytest.fixture(scope="module")
def shared_extraction(shared_reports):
    return extract([shared_reports])


@pytest.mark.integration
def test_key_places_of_the_shared_reports(shared_extraction):
    got = {(p.report[:3], p.name, p.place_type, p.article) for p in shared_extraction.places}
    for item in [("000", "煤机路", "road", "三官庙街道"),
                 ("000", "二砂文创园", "site", "中原西路街道"),
                 ("000", "洛达庙二期安置区", "site", "中原西路街道"),
                 ("001", "中原小微企业园", "site", "须水街道"),
                 ("002", "郑棉五厂家属院", "residential_compound", "棉纺路街道"),
                 ("002", "桐柏220千伏变电站", "site", "绿东村街道"),
                 ("003", "江南小镇社区", "community", "中心路街道"),
                 ("003", "上街区", "district", "中心路街道"),
                 ("004", "西流湖街道", "subdistrict", "西流湖街道"),
                 ("004", "CCD北部片区", "zone", "西流湖街道"),
                 ("004", "14号线", "metro_line", "西流湖街道")]:
        assert item in got, item
    bad = {p.name for p in shared_extraction.places}
    assert not bad & {"四个中原", "乐购中原", "以上街区", "老旧小区", "三力中西"}


@pytest.mark.integration
def test_every_offset_of_the_shared_reports_leads_back_to_the_mention(shared_extraction):
    texts = {r.name: r.text for r in shared_extraction.reports}
    for p in shared_extraction.places:
        assert texts[p.report][p.start:p.end].replace("\n", "") == p.mention, p


@pytest.mark.integration
def test_quality_against_the_gold_set(shared_reports):
    places, _ = _scorer().run(shared_reports, "hierarchy")
    assert places["recall"] >= 0.95
    assert places["precision"] >= 0.90


# --------------------------------------------------------------------------- CLI

def test_cli_jsonl_contract(tmp_path, capsys):
    assert main(["extract", str(DATA / "ruhelu_report.txt"), "--format", "jsonl"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    records = [json.loads(line) for line in lines]
    places = [r for r in records if r["kind"] == "place"]
    metrics = [r for r in records if r["kind"] == "metric"]
    assert len(places) >= len(RUHELU_EXPECTED)
    for r in places:
        assert PLACE_KEYS <= set(r)
        assert r["report"] == "ruhelu_report.txt" and r["article"] == "汝河路街道"
        assert isinstance(r["start"], int) and isinstance(r["end"], int)
    for r in metrics:
        assert METRIC_KEYS <= set(r)
        assert isinstance(r["value"], (int, float))


def test_cli_table_is_for_people(capsys):
    assert main(["extract", str(DATA / "ruhelu_report.txt"), "--only", "places"]) == 0
    out = capsys.readouterr().out
    assert "青槐科技产业园" in out and "地名" in out
    assert "{" not in out


def test_cli_jobs_gives_the_same_records(capsys):
    files = [str(DATA / "ruhelu_report.txt"), str(DATA / "xiawo_report.txt")]
    outputs = []
    for jobs in ("1", "2"):
        assert main(["extract", *files, "--format", "jsonl", "--jobs", jobs]) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1]
    assert {json.loads(line)["report"] for line in outputs[0].splitlines()} == {"ruhelu_report.txt", "xiawo_report.txt"}


def test_cli_jobs_must_be_positive(capsys):
    assert main(["extract", str(DATA / "ruhelu_report.txt"), "--jobs", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--jobs" in err[0]


def test_cli_missing_file_is_one_line(capsys):
    assert main(["extract", "no/such/report.txt"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no/such/report.txt" in err[0]


def test_verbs_not_in_the_word_lists_are_not_part_of_names(tmp_path):
    places = places_of(tmp_path, "街道督导检查华庭路施工，修缮汝南村戏楼，投用青槐路停车场，"
                                 "督促杏林苑小区整改，筹备汝河路街道邻里节。")
    assert {"华庭路", "汝南村", "青槐路", "杏林苑小区", "汝河路街道"} <= set(names(places))
    assert all(len(p.name) <= 5 for p in places)


def test_common_words_before_type_words_are_not_places(tmp_path):
    places = places_of(tmp_path, "街道不断提高站位，深化社区治理，打造自治型社区品牌，"
                                 "10余名社区党员参加活动，理清思路，探索新路。")
    assert places == []


XIAWO_EXPECTED = {
    ("上街区", "district"), ("峡窝镇", "subdistrict"), ("马固村", "village"), ("方顶村", "village"),
    ("石榴采摘园", "site"), ("樱桃观光园", "site"), ("工业路", "road"), ("通航路", "road"),
    ("通航产业园", "site"), ("郑州上街机场", "landmark"), ("沙固村", "village"), ("老寨河村", "village"),
    ("上街通用航空产业园", "site"),
}


def test_report_about_a_town_of_shangjie():
    """A second made-up report (a 镇 of 上街区): its places come out, generic words do not."""
    ex = extract([DATA / "xiawo_report.txt"])
    assert [(a.subdistrict, a.district) for a in ex.articles] == [("峡窝镇", "上街区")]
    got = {(p.name, p.place_type) for p in ex.places}
    assert got == XIAWO_EXPECTED          # not 村级文化广场, 和美乡村, 特色园区 …


def _scorer():
    bench = Path(__file__).resolve().parents[1] / "benchmarks"
    sys.path.insert(0, str(bench))
    try:
        import score_extraction
    finally:
        sys.path.remove(str(bench))
    return score_extraction


def test_scorer_matches_by_report_overlap_and_name():
    se = _scorer()
    gold = [{"report": "a", "article": "x", "name": "青槐路", "place_type": "road", "start": 10, "end": 13},
            {"report": "a", "article": "x", "name": "槐荫社区", "place_type": "community", "start": 20, "end": 24},
            {"report": "b", "article": "y", "name": "青槐路", "place_type": "road", "start": 10, "end": 13}]
    pred = [{"report": "a", "article": "x", "name": "青槐路", "place_type": "road", "start": 9, "end": 13},
            {"report": "a", "article": "x", "name": "槐荫", "place_type": "community", "start": 20, "end": 22},
            {"report": "b", "article": "y", "name": "青槐路", "place_type": "road", "start": 30, "end": 33},
            {"report": "b", "article": "y", "name": "青槐路", "place_type": "road", "start": 11, "end": 12}]
    s = se.score_places(gold, pred)
    assert s["matched"] == 2                        # wrong name and no overlap do not count
    assert s["recall"] == pytest.approx(2 / 3) and s["precision"] == pytest.approx(2 / 4)
    assert s["per_type"]["road"]["recall"] == 1.0 and s["per_type"]["community"]["recall"] == 0.0
    m = se.score_metrics([{"report": "a", "subject": "青槐路", "value": 5.0, "unit": "个", "start": 5, "end": 7}],
                         [{"report": "a", "subject": "汝河路街道", "value": 5, "unit": "个", "start": 6, "end": 8}])
    assert m["recall"] == 1.0 and m["subject_accuracy"] == 0.0 and m["value_unit_accuracy"] == 1.0


def test_readme_section_is_replaced_not_duplicated(tmp_path):
    se = _scorer()
    readme = tmp_path / "README.md"
    readme.write_text("# Benchmarks\n\n## Speed\n\nfast\n\n## Extraction quality\n\nold\n\n## Other\n\nkeep\n",
                      encoding="utf-8")
    se.write_section("## Extraction quality\n\nnew numbers\n", readme)
    text = readme.read_text(encoding="utf-8")
    assert text.count("## Extraction quality") == 1 and "new numbers" in text and "old" not in text
    assert "## Speed\n\nfast" in text and "## Other\n\nkeep" in text


def test_a_compound_named_by_its_gate(tmp_path):
    places = places_of(tmp_path, "街道在金槐城南门、汝水东路等处新增停车位。")
    assert ("金槐城", "residential_compound") in {(p.name, p.place_type) for p in places}


# --------------------------------------------------------------------------- caches

def _mentions(places):
    return [(p.report, p.name, p.place_type, p.start, p.end, p.sentence) for p in places]


def test_a_finder_used_for_many_reports_gives_what_a_fresh_one_gives(tmp_path):
    """The finder remembers the names it decided per stem; a report read after others
    (sharing stems, with other context around them) comes out as on a fresh finder."""
    from reportatlas.corpus import split_articles
    from reportatlas.placenames import PlaceFinder

    texts = ["中原区汝河路街道办事处\n\n街道新建青槐路，“幸福汝河”品牌叫响，改造银杏苑小区。",
             "中原区汝河路街道办事处\n\n召开街道会议，青槐路拓宽，幸福汝河治理完成，督导检查华庭路施工。",
             "中原区汝河路街道办事处\n\n其中中华山路、青槐路18号院，“青槐路”与银杏苑小区二期同步推进。"]
    reports = []
    for i, t in enumerate(texts):
        path = tmp_path / f"r{i}.txt"
        path.write_text(t, encoding="utf-8")
        reports.append(read_report(path))
    known = hierarchy_known_names() + [KnownName("华山路", "road")]
    shared = PlaceFinder(known)
    used = [_mentions(shared.find(r, split_articles(r))) for r in reports + reports[::-1]]
    fresh = [_mentions(PlaceFinder(known).find(r, split_articles(r))) for r in reports + reports[::-1]]
    assert used == fresh
    got = {n for ms in fresh for _r, n, *_ in ms}
    assert {"青槐路", "银杏苑小区", "华庭路", "华山路", "青槐路18号院"} <= got
    assert "召开街道" not in got and "会议" not in " ".join(got)
    assert "幸福汝河" not in {n for _r, n, *_ in fresh[0]}   # in quotes: a slogan
    assert "幸福汝河" in {n for _r, n, *_ in fresh[1]}       # the same words as a river


_RUN_TWICE = """
import json, sys
from reportatlas.extract import extract
from reportatlas.placenames import hierarchy_known_names
ex = extract([sys.argv[1]], known_names=hierarchy_known_names())
print(json.dumps({"places": [[p.name, p.start, p.end] for p in ex.places],
                  "tagger": "jieba.posseg" in sys.modules}, ensure_ascii=False))
"""


def test_verb_cuts_are_remembered_on_disk_between_runs(tmp_path):
    """A second run over the same stems needs no POS tagger (its decisions are cached in
    REPORTATLAS_CACHE_DIR) and finds the same places; with the cache off, the same again."""
    import os
    import subprocess

    path = tmp_path / "r.txt"
    path.write_text("中原区汝河路街道办事处\n\n街道督导检查华庭路施工，筹备汝河路街道邻里节。", encoding="utf-8")

    def run(cache: str) -> dict:
        env = {**os.environ, "REPORTATLAS_CACHE_DIR": cache}
        done = subprocess.run([sys.executable, "-c", _RUN_TWICE, str(path)], env=env, check=True,
                              capture_output=True, text=True, timeout=120)
        return json.loads(done.stdout)

    cache = str(tmp_path / "cache")
    first, second, uncached = run(cache), run(cache), run("")
    assert first["tagger"] and not second["tagger"] and uncached["tagger"]
    assert first["places"] == second["places"] == uncached["places"]
    assert "华庭路" in {name for name, *_ in first["places"]}


# --------------------------------------------------------------------------- several processes

def _records(ex: Extraction) -> list[dict]:
    return list(ex.records())


@pytest.mark.integration
def test_two_processes_give_the_records_of_one(shared_reports, tmp_path):
    names_ = hierarchy_known_names()
    one = extract([shared_reports], known_names=names_, jobs=1)
    two = extract([shared_reports], known_names=names_, jobs=2)
    assert _records(two) == _records(one)
    assert [r.name for r in two.reports] == [r.name for r in one.reports]
    assert two.articles == one.articles
    # what came back from a worker still maps normalised offsets to the original text
    for a, b in zip(one.reports, two.reports):
        assert b == a and b.to_original(10, 20) == a.to_original(10, 20)


def test_report_objects_and_files_keep_their_order_across_processes(tmp_path):
    texts = {f"r{i}.txt": f"须水街道新建青槐{i}路，投资{i + 1}万元。" for i in range(5)}
    for name, text in texts.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    given = read_report(tmp_path / "r4.txt")
    ex = extract([tmp_path / "r1.txt", given, tmp_path], known_names=hierarchy_known_names(), jobs=3)
    assert [r.name for r in ex.reports] == ["r4.txt", "r1.txt", "r0.txt", "r1.txt", "r2.txt", "r3.txt", "r4.txt"]
    assert [p.name for p in ex.places if p.place_type == "road"] == \
        ["青槐4路", "青槐1路", "青槐0路", "青槐1路", "青槐2路", "青槐3路", "青槐4路"]
    assert [m.value for m in ex.metrics] == [50000, 20000, 10000, 20000, 30000, 40000, 50000]


def test_a_bad_file_among_many_is_named_with_several_processes(tmp_path):
    from reportatlas.errors import DecodingError, InputError

    for i in range(4):
        (tmp_path / f"r{i}.txt").write_text("须水街道新建青槐路。", encoding="utf-8")
    (tmp_path / "r2.txt").write_bytes(b"\x00\x01binary")
    with pytest.raises(DecodingError, match="r2.txt"):
        extract([tmp_path], known_names=hierarchy_known_names(), jobs=2)
    with pytest.raises(InputError, match="jobs"):
        extract([tmp_path / "r0.txt"], known_names=hierarchy_known_names(), jobs=0)


def test_small_inputs_stay_in_one_process(tmp_path, monkeypatch):
    import reportatlas.extract as ex_mod

    for i in range(3):
        (tmp_path / f"r{i}.txt").write_text("须水街道新建青槐路。", encoding="utf-8")

    def no_pool(*args, **kwargs):
        raise AssertionError("a process pool was started for 3 small files")

    monkeypatch.setattr(ex_mod, "_extract_parallel", no_pool)
    assert len(extract([tmp_path], known_names=hierarchy_known_names()).reports) == 3
    # above the size limit, every core is used (here: the pool is asked for)
    monkeypatch.setattr(ex_mod, "PARALLEL_MIN_BYTES", 10)
    if len(__import__("os").sched_getaffinity(0)) > 1:
        with pytest.raises(AssertionError, match="process pool"):
            extract([tmp_path], known_names=hierarchy_known_names())


def test_a_worker_that_dies_is_an_error_not_a_hang(tmp_path, monkeypatch):
    import os
    import time

    import reportatlas.extract as ex_mod

    for i in range(6):
        (tmp_path / f"r{i}.txt").write_text(f"须水街道新建青槐{i}路，投资{i + 1}万元。", encoding="utf-8")
    # the forked worker inherits this: it dies on its first chunk without sending anything
    monkeypatch.setattr(ex_mod, "_work_chunk", lambda chunk: os._exit(3))
    # and this process is slow, so that the worker surely claims a chunk before the ends meet
    real = ex_mod._extract_items

    def slow(items, finder):
        time.sleep(0.3)
        return real(items, finder)

    monkeypatch.setattr(ex_mod, "_extract_items", slow)
    with pytest.raises(RuntimeError, match="exit codes 3"):
        extract([tmp_path], known_names=hierarchy_known_names(), jobs=2)


def test_the_work_is_shared_between_this_process_and_the_worker(tmp_path, monkeypatch):
    import reportatlas.extract as ex_mod

    for i in range(8):
        (tmp_path / f"r{i}.txt").write_text(f"须水街道新建青槐{i}路，投资{i + 1}万元。", encoding="utf-8")
    here = []
    real = ex_mod._extract_items

    def spy(items, finder):
        here.append([p.name for p in items])     # only calls in this process are seen
        return real(items, finder)

    monkeypatch.setattr(ex_mod, "_extract_items", spy)
    ex = extract([tmp_path], known_names=hierarchy_known_names(), jobs=2)
    assert [r.name for r in ex.reports] == [f"r{i}.txt" for i in range(8)]
    done_here = [n for chunk in here for n in chunk]
    # this process took chunks from the front, the worker the rest from the back
    assert done_here and done_here == [f"r{i}.txt" for i in range(len(done_here))]
