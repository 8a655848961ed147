"""Metric extraction: numbers, units, qualifiers, periods, subjects and offsets.

Fixture texts are short sentences written for these tests (not taken from the reports).
The integration tests at the end read ../shared/reports and check facts verified by eye.
"""
from __future__ import annotations

import json
import re
from itertools import accumulate
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import pytest

from reportatlas.errors import InputError, ReportAtlasError
from reportatlas.metrics import Metric, extract_metrics, find_quantities
from reportatlas.numbers import parse_cn_integer, parse_number, parse_quantity

GOLD = Path(__file__).resolve().parents[1] / "benchmarks" / "gold" / "metrics.jsonl"


# --------------------------------------------------------------------------- fixtures

@dataclass(frozen=True)
class FakeReport:
    """Original text with single line breaks (newspaper columns) removed in ``normalized``."""
    text: str
    name: str = "fixture.txt"
    normalized: str = field(init=False)
    offsets: tuple = field(init=False, repr=False)

    def __post_init__(self):
        keep = [i for i, ch in enumerate(self.text)
                if not (ch == "\n" and self.text[i - 1:i] != "\n" and self.text[i + 1:i + 2] != "\n")]
        object.__setattr__(self, "offsets", tuple(keep))
        object.__setattr__(self, "normalized", "".join(self.text[i] for i in keep))

    def to_original(self, start, end):
        return self.offsets[start], self.offsets[end - 1] + 1

    def to_normalized(self, pos):
        import bisect
        return bisect.bisect_left(self.offsets, pos)


def article(sd="青松街道", start=0, end=10**6):
    return SimpleNamespace(report="fixture.txt", index=0, subdistrict=sd, district="中原区",
                           start=start, end=end, headline="")


def place(text, name, place_type="site", nth=0, report="fixture.txt"):
    """A place mention at the nth occurrence of ``name`` in the ORIGINAL ``text``."""
    starts = [m.start() for m in re.finditer(re.escape(name), text)]
    s = starts[nth]
    return SimpleNamespace(report=report, name=name, place_type=place_type, start=s,
                           end=s + len(name), mention=name)


def run(text, places=(), sd="青松街道"):
    rep = FakeReport(text)
    return rep, extract_metrics(rep, [article(sd)], [place(text, *p) if isinstance(p, tuple)
                                                     else place(text, p) for p in places])


def by_raw(metrics, raw):
    found = [m for m in metrics if m.raw == raw]
    assert found, f"{raw!r} not among {[m.raw for m in metrics]}"
    return found[0]


# --------------------------------------------------------------------------- numbers

@pytest.mark.parametrize("text,value", [
    ("1,200", 1200), ("55.54", 55.54), ("5.2万", 52000), ("1.2亿", 1.2e8), ("一百二十", 120),
    ("两万", 20000), ("十五", 15), ("十", 10), ("三千零五", 3005), ("二〇一九", 2019),
    ("两万三千", 23000), ("１２", 12), ("一亿二千万", 1.2e8),
])
def test_parse_number(text, value):
    assert parse_number(text) == pytest.approx(value)


@pytest.mark.parametrize("bad", ["", "abc", "12a", "万"])
def test_parse_number_refuses_non_numbers(bad):
    with pytest.raises(InputError):
        parse_number(bad)


def test_parse_cn_integer_refuses_latin():
    with pytest.raises(ReportAtlasError):
        parse_cn_integer("十x")


@pytest.mark.parametrize("text,value,unit", [
    ("10亿元", 1e9, "元"), ("4.5万元", 45000, "元"), ("18540元", 18540, "元"),
    ("122.3亩", 122.3 * 666.67, "平方米"), ("240公顷", 2.4e6, "平方米"),
    ("14.5平方公里", 1.45e7, "平方米"), ("1200平方米", 1200, "平方米"), ("30平米", 30, "平方米"),
    ("8000米", 8000, "米"), ("3公里", 3000, "米"), ("2千米", 2000, "米"),
    ("50万立方米", 5e5, "立方米"), ("70%", 70, "%"), ("百分之五十", 50, "%"),
])
def test_units_normalised_to_base_unit(text, value, unit):
    q = parse_quantity(text)
    assert (q.value, q.unit) == (pytest.approx(value), unit)


@pytest.mark.parametrize("word", ["个", "家", "人", "户", "辆", "处", "栋", "层", "所", "座", "条",
                                  "件", "次", "名", "间", "套", "项", "份", "台", "起", "场", "支",
                                  "人次"])
def test_counts_keep_their_measure_word(word):
    q = parse_quantity(f"12{word}")
    assert (q.value, q.unit, q.kind) == (12, word, "count")


def test_multipliers_and_chinese_numerals():
    assert parse_quantity("5.2万人").value == 52000
    assert parse_quantity("两万人").value == 20000
    assert parse_quantity("一百二十户").value == 120
    q = parse_quantity("100余万元")
    assert (q.value, q.qualifier) == (1e6, "余")
    q = parse_quantity("5万余元")
    assert (q.value, q.qualifier) == (5e4, "余")


@pytest.mark.parametrize("text,qualifier,value", [
    ("约20万平方米", "约", 2e5), ("580余处", "余", 580), ("30多人", "多", 30),
    ("99%以上", "以上", 99), ("近50场", "近", 50), ("超300家", "超", 300), ("达100%", "达", 100),
    ("约2400余平方米", "约+余", 2400), ("数十家", "数", 10),
])
def test_qualifiers(text, qualifier, value):
    q = parse_quantity(text)
    assert (q.qualifier, q.value) == (qualifier, value)


def test_ranges_keep_both_bounds():
    q = parse_quantity("3至5亿元")
    assert (q.value, q.high, q.unit) == (3e8, 5e8, "元")
    q = parse_quantity("3-5公里")
    assert (q.value, q.high, q.unit) == (3000, 5000, "米")


@pytest.mark.parametrize("bad", ["", "十二", "1号线", "abc元", "70周年"])
def test_parse_quantity_refuses_what_is_not_a_quantity(bad):
    with pytest.raises(InputError):
        parse_quantity(bad)


# --------------------------------------------------------------------------- finding

def test_not_quantities_are_skipped():
    text = ("第十一届运动会期间，落实“三个一”工作法和“7个100%”要求，"
            "为60岁以上老人服务，82号院和1号线沿线一个一个地查，走访千家万户，周五两次巡查。")
    found = [text[a:b] for a, b, _ in find_quantities(text)]
    assert found == ["两次"]


def test_chinese_numeral_counts_are_found():
    text = "组建志愿服务队十余支，在六个小区试点，成立八支队伍。"
    found = {text[a:b]: q.value for a, b, q in find_quantities(text)}
    assert found == {"十余支": 10, "六个": 6, "八支": 8}


# --------------------------------------------------------------------------- subjects

def test_site_sentence_all_quantities_belong_to_the_site():
    text = "青松科技园是市级项目，占地30亩，建筑面积约2万平方米，计划总投资5亿元。"
    _, ms = run(text, ["青松科技园"])
    assert [m.subject for m in ms] == ["青松科技园"] * 3
    area = by_raw(ms, "30亩")
    assert area.value == pytest.approx(20000.1) and area.unit == "平方米"
    assert area.metric == "占地"
    assert by_raw(ms, "5亿元").metric == "计划总投资"
    assert by_raw(ms, "约2万平方米").qualifier == "约"


def test_statistic_of_the_whole_subdistrict_falls_back_to_it():
    text = "全年新增城镇就业800人，发放低保金12万元。"
    _, ms = run(text, sd="青松街道")
    assert [(m.subject, m.subject_type) for m in ms] == [("青松街道", "subdistrict")] * 2
    assert by_raw(ms, "800人").metric == "新增城镇就业"
    assert by_raw(ms, "800人").period == "全年"


def test_nearest_place_in_the_clause_wins():
    text = "街道投入资金50万元，松林路改造长度1200米，柏树村新建公厕2座。"
    _, ms = run(text, [("松林路", "road"), ("柏树村", "village")])
    assert by_raw(ms, "50万元").subject == "青松街道"
    assert by_raw(ms, "1200米").subject == "松林路"
    assert by_raw(ms, "2座").subject == "柏树村"


def test_count_of_a_list_of_places_is_about_the_subdistrict():
    text = "辖区甲园、乙园、丙园3个社区成立联合党委。"
    _, ms = run(text, [("甲园", "community"), ("乙园", "community"), ("丙园", "community")])
    assert by_raw(ms, "3个").subject == "青松街道"


def test_quantity_modifying_the_place_after_it():
    text = "目前，总投资约8亿元的翠湖产业园已开工。"
    _, ms = run(text, ["翠湖产业园"])
    assert by_raw(ms, "约8亿元").subject == "翠湖产业园"


# --------------------------------------------------------------------------- periods, dates

def test_periods():
    text = "截至9月底，清理广告300余处。2021年上半年帮助就业120人。今年以来新增企业15家。"
    _, ms = run(text)
    assert by_raw(ms, "300余处").period == "截至9月底"
    assert by_raw(ms, "120人").period == "2021年上半年"
    assert by_raw(ms, "15家").period == "今年以来"


def test_a_year_is_a_period_unless_it_is_a_deadline_or_a_building_date():
    text = "2018年完成改造5处。翠湖产业园预计2026年全部建成投运。松园小区建于1990年。"
    _, ms = run(text, ["翠湖产业园", ("松园小区", "residential_compound")])
    assert [m.raw for m in ms if m.unit == "年"] == ["2026年全部建成投运", "1990年"]
    deadline = by_raw(ms, "2026年全部建成投运")
    assert (deadline.value, deadline.subject) == (2026, "翠湖产业园")
    built = by_raw(ms, "1990年")
    assert (built.subject, built.metric) == ("松园小区", "建成年份")
    assert by_raw(ms, "5处").period == "2018年"


def test_month_deadline():
    text = "松林路预计9月底完工。"
    _, ms = run(text, [("松林路", "road")])
    m = by_raw(ms, "9月底完工")
    assert (m.value, m.unit, m.subject) == (9, "月", "松林路")


# --------------------------------------------------------------------------- offsets

def test_offsets_point_into_the_original_across_a_column_break():
    text = "上半年清理门口乱摆乱放58余\n处，拆除违建约2.5\n万平方米。"
    rep, ms = run(text)
    m = by_raw(ms, "58余处")
    assert text[m.start:m.end] == "58余\n处"
    m2 = by_raw(ms, "约2.5万平方米")
    assert text[m2.start:m2.end] == "约2.5\n万平方米"
    assert m2.value == 25000


def test_metrics_take_the_article_they_sit_in():
    text = "甲街道新增就业100人。\n\n\n乙街道新增就业200人。"
    rep = FakeReport(text)
    split = text.index("乙街道")
    arts = [article("甲街道", 0, split), article("乙街道", split, len(text))]
    ms = extract_metrics(rep, arts, [])
    assert [(m.raw, m.article, m.subject) for m in ms] == [("100人", "甲街道", "甲街道"),
                                                           ("200人", "乙街道", "乙街道")]


def test_metric_record_is_json_ready():
    _, ms = run("新增停车位300个。")
    rec = ms[0].to_record()
    assert json.loads(json.dumps(rec, ensure_ascii=False))["value"] == 300
    assert {"report", "article", "subject", "metric", "value", "unit", "raw", "qualifier",
            "period", "start", "end"} <= set(rec)
    assert isinstance(ms[0], Metric)


# --------------------------------------------------------------------------- integration

def _load(shared_reports, stem):
    corpus = pytest.importorskip("reportatlas.corpus")
    path = next(shared_reports.glob(f"{stem}*.txt"))
    rep = corpus.read_report(path)
    return rep, corpus.split_articles(rep)


@pytest.mark.integration
def test_small_business_park_facts(shared_reports):
    rep, arts = _load(shared_reports, "001_")
    name = "中原小微企业园"
    mentions = [SimpleNamespace(report=rep.name, name=name, place_type="site", start=m.start(),
                                end=m.end()) for m in re.finditer(name, rep.text)]
    ms = extract_metrics(rep, arts, mentions)
    area = [m for m in ms if m.raw == "122.3亩"][0]
    assert area.value == pytest.approx(81533.7, abs=1) and area.unit == "平方米"
    assert area.subject == name and area.article == "须水街道"
    assert rep.text[area.start:area.end] == "122.3亩"
    invest = [m for m in ms if m.raw == "10亿元"][0]
    assert (invest.value, invest.subject, invest.metric) == (1e9, name, "计划总投资")
    floor = [m for m in ms if m.raw == "约20万平方米"][0]
    assert (floor.value, floor.qualifier, floor.subject) == (2e5, "约", name)
    jobs = [m for m in ms if m.raw == "383人"][0]
    assert (jobs.subject, jobs.subject_type) == ("须水街道", "subdistrict")


@pytest.mark.integration
def test_column_break_number_in_report_003(shared_reports):
    rep, arts = _load(shared_reports, "003_")
    ms = extract_metrics(rep, arts, [])
    m = [m for m in ms if m.raw == "最高200元"][0]
    assert "\n" in rep.text[m.start:m.end] and m.value == 200 and m.qualifier == "最高"
    assert m.article == "中心路街道"
    four = [m for m in ms if m.raw == "4个"][0]    # 颐苑、江南小镇、聂寨、盛世 4 communities
    assert four.unit == "个" and four.subject == "中心路街道"


@pytest.mark.integration
def test_gold_spans_are_quantities_of_the_stated_value(shared_reports):
    """Each gold line points at its quantity in the original text, with the value it states."""
    corpus = pytest.importorskip("reportatlas.corpus")
    reports = {}
    lines = [json.loads(x) for x in GOLD.read_text(encoding="utf-8").splitlines() if x.strip()]
    assert len(lines) > 200
    for g in lines:
        rep = reports.setdefault(g["report"], corpus.read_report(shared_reports / g["report"]))
        surface = re.sub(r"\s+", "", rep.text[g["start"]:g["end"]])
        if g["unit"] in ("年", "月"):
            assert surface.startswith(str(int(g["value"]))), g
            continue
        q = parse_quantity(surface)
        assert (q.value, q.unit) == (pytest.approx(g["value"]), g["unit"]), g


@pytest.mark.integration
def test_recall_against_the_gold_set(shared_reports):
    corpus = pytest.importorskip("reportatlas.corpus")
    gold = [json.loads(x) for x in GOLD.read_text(encoding="utf-8").splitlines() if x.strip()]
    found = {}
    for rep in corpus.load_reports([shared_reports]):
        found[rep.name] = extract_metrics(rep, corpus.split_articles(rep), [])
    hit = sum(any(m.start < g["end"] and g["start"] < m.end for m in found[g["report"]])
              for g in gold)
    assert hit / len(gold) >= 0.9


def test_series_of_buildings_keeps_the_project():
    text = "截至9月底，翠湖广场项目3号楼建至12层，5号楼建至9层。"
    _, ms = run(text, ["翠湖广场"])
    assert [(m.raw, m.subject) for m in ms] == [("12层", "翠湖广场"), ("9层", "翠湖广场")]


def test_word_pointing_back_to_the_park():
    text = "翠湖产业园已开工。园区建成后，预计入驻企业300余家。"
    _, ms = run(text, ["翠湖产业园"])
    assert by_raw(ms, "300余家").subject == "翠湖产业园"


def test_count_after_a_list_ending_with_deng_is_about_the_subdistrict():
    text = "松林公园管理处、市图书馆等5家单位、40余名党员到社区报到。"
    _, ms = run(text, [("松林公园", "park"), ("市图书馆", "site")])
    assert [(m.raw, m.subject) for m in ms] == [("5家", "青松街道"), ("40余名", "青松街道")]


def test_second_count_after_a_place_shares_its_subject():
    text = "柏树村8个村民小组120名党员参加清洁。"
    _, ms = run(text, [("柏树村", "village")])
    assert [(m.raw, m.subject) for m in ms] == [("8个", "柏树村"), ("120名", "柏树村")]


def test_site_named_earlier_in_the_sentence():
    text = "街道协调解决翠湖产业园融资问题，盘活闲置土地45亩。"
    _, ms = run(text, [("翠湖产业园", "site")])
    assert by_raw(ms, "45亩").subject == "翠湖产业园"
    text2 = "青松街道走访企业，翠湖产业园新增企业3家；全年完成税收2亿元。"
    _, ms2 = run(text2, [("青松街道", "subdistrict"), ("翠湖产业园", "site")])
    assert by_raw(ms2, "2亿元").subject == "青松街道"


# A made-up report (names and numbers invented for this test), annotated by hand before the
# extractor ever ran on it: (surface, value, unit, subject).
UNSEEN = """中原区青枫街道办事处 实干笃行谱新篇

青枫街道位于中原区西北部，辖区面积约6.8平方公里，下辖松涛、竹影、梅岭3个社区和枫林村。

今年以来，街道完成固定资产投资3.2亿元，新增市场主体410余家。枫林数字产业园总投资12亿元，占地86亩，已有28家企业签约入驻，预计2025年底前全面建成。松涛小区改造总面积4.6万平方米，惠及居民1200户。梅岭路全长1.8公里，6月底完成提升。

上半年，街道新增城镇就业652人，发放各类救助资金近90万元，居民医保参保率达98.5%。截至5月底，累计清理违规广告牌300余处，拆除违建约3500平方米。
"""
UNSEEN_GOLD = [
    ("约6.8平方公里", 6.8e6, "平方米", "青枫街道"), ("3个", 3, "个", "青枫街道"),
    ("3.2亿元", 3.2e8, "元", "青枫街道"), ("410余家", 410, "家", "青枫街道"),
    ("12亿元", 1.2e9, "元", "枫林数字产业园"), ("86亩", 86 * 666.67, "平方米", "枫林数字产业园"),
    ("28家", 28, "家", "枫林数字产业园"), ("2025年底前全面建成", 2025, "年", "枫林数字产业园"),
    ("4.6万平方米", 46000, "平方米", "松涛小区"), ("1200户", 1200, "户", "松涛小区"),
    ("1.8公里", 1800, "米", "梅岭路"), ("6月底完成", 6, "月", "梅岭路"),
    ("652人", 652, "人", "青枫街道"), ("近90万元", 9e5, "元", "青枫街道"),
    ("达98.5%", 98.5, "%", "青枫街道"), ("300余处", 300, "处", "青枫街道"),
    ("约3500平方米", 3500, "平方米", "青枫街道"),
]


def test_unseen_report_with_hand_made_places():
    places = [("枫林数字产业园", "site"), ("松涛小区", "residential_compound"), ("梅岭路", "road"),
              ("松涛", "community"), ("竹影", "community"), ("梅岭", "community"),
              ("枫林村", "village"), ("青枫街道", "subdistrict")]
    mentions = []
    for name, kind in places:
        for m in re.finditer(re.escape(name), UNSEEN):
            if not any(o.start <= m.start() < o.end for o in mentions):
                mentions.append(SimpleNamespace(report="fixture.txt", name=name, place_type=kind,
                                                start=m.start(), end=m.end()))
    rep = FakeReport(UNSEEN)
    ms = extract_metrics(rep, [article("青枫街道")], mentions)
    got = {m.raw: m for m in ms}
    assert sorted(got) == sorted(g[0] for g in UNSEEN_GOLD)
    for raw, value, unit, subject in UNSEEN_GOLD:
        m = got[raw]
        assert (m.value, m.unit, m.subject) == (pytest.approx(value), unit, subject), raw
    assert got["652人"].period == "上半年" and got["300余处"].period == "截至5月底"


@pytest.mark.integration
def test_unseen_report_through_the_whole_extractor(tmp_path):
    """The same made-up report through corpus + place finder + metrics (no hand-made places)."""
    extract = pytest.importorskip("reportatlas.extract")
    path = tmp_path / "qingfeng.txt"
    path.write_text(UNSEEN, encoding="utf-8")
    result = extract.extract([path])
    got = {m.raw: m for m in result.metrics}
    assert set(got) >= {g[0] for g in UNSEEN_GOLD}
    right = [raw for raw, _, _, subject in UNSEEN_GOLD if got[raw].subject == subject]
    assert len(right) / len(UNSEEN_GOLD) >= 0.85, \
        [(raw, got[raw].subject) for raw, *_ in UNSEEN_GOLD if raw not in right]


def test_empty_report_and_missing_articles():
    assert extract_metrics(FakeReport("标题\n\n"), [], []) == []
    ms = extract_metrics(FakeReport("新增停车位300个。"), [], [])
    assert [(m.raw, m.subject, m.article) for m in ms] == [("300个", "", "")]


def test_label_of_a_count_after_a_verb_names_the_counted_thing():
    _, ms = run("街道新增830个停车位，组建6支志愿服务队，辖区共有居民楼院40个。")
    assert [m.metric for m in ms] == ["新增停车位", "组建志愿服务队", "居民楼院"]


def test_share_of_a_whole_is_about_the_part():
    text = "松园二期安置房即将交付，占松园村安置总量的40%。"
    _, ms = run(text, [("松园二期安置房", "site"), ("松园村", "village")])
    assert by_raw(ms, "40%").subject == "松园二期安置房"


# A second made-up report, annotated by hand before the extractor ran on it.
UNSEEN2 = """中原区枫桥街道 聚力攻坚促发展

枫桥街道辖区有居民小区46个，其中无物业小区19个。今年1至8月，完成税收1.36亿元，同比增长12%。

重点项目方面，锦江智造港项目计划总投资18.5亿元，规划建筑面积32万平方米，目前一期3栋厂房已封顶；石榴园安置区共建设住宅楼11栋，可安置群众2300余户，力争2026年6月底前交付。

民生方面，新建口袋公园2处、公共厕所4座，改造背街小巷15条，总长约3.2公里。全年为1.2万名老人发放高龄津贴，累计580余万元。东风渠沿线清理垃圾120余吨。
"""
UNSEEN2_GOLD = [
    ("46个", 46, "个", "枫桥街道"), ("19个", 19, "个", "枫桥街道"),
    ("1.36亿元", 1.36e8, "元", "枫桥街道"), ("12%", 12, "%", "枫桥街道"),
    ("18.5亿元", 1.85e9, "元", "锦江智造港"), ("32万平方米", 3.2e5, "平方米", "锦江智造港"),
    ("3栋", 3, "栋", "锦江智造港"), ("11栋", 11, "栋", "石榴园安置区"),
    ("2300余户", 2300, "户", "石榴园安置区"), ("2026年6月底前交付", 2026, "年", "石榴园安置区"),
    ("2处", 2, "处", "枫桥街道"), ("4座", 4, "座", "枫桥街道"), ("15条", 15, "条", "枫桥街道"),
    ("约3.2公里", 3200, "米", "枫桥街道"), ("1.2万名", 12000, "名", "枫桥街道"),
    ("580余万元", 5.8e6, "元", "枫桥街道"), ("120余吨", 120, "吨", "东风渠"),
]


def test_second_unseen_report_with_hand_made_places():
    places = [("锦江智造港", "site"), ("石榴园安置区", "site"), ("东风渠", "river"),
              ("枫桥街道", "subdistrict")]
    mentions = [SimpleNamespace(report="fixture.txt", name=n, place_type=k, start=m.start(),
                                end=m.end())
                for n, k in places for m in re.finditer(re.escape(n), UNSEEN2)]
    ms = extract_metrics(FakeReport(UNSEEN2), [article("枫桥街道")], mentions)
    got = {m.raw: m for m in ms}
    assert sorted(got) == sorted(g[0] for g in UNSEEN2_GOLD)
    wrong = [(raw, got[raw].value, got[raw].unit, got[raw].subject)
             for raw, value, unit, subject in UNSEEN2_GOLD
             if (got[raw].value, got[raw].unit, got[raw].subject) != (pytest.approx(value), unit, subject)]
    assert wrong == []
    assert got["1.36亿元"].period == "今年1至8月" and got["1.2万名"].period == "全年"


def test_period_inside_a_clause_does_not_reach_the_next_clause():
    text = "发放2021年3月至2022年2月申报的补贴金5万元，新增城镇就业80人。上半年，接访12次，办结10件。"
    _, ms = run(text)
    assert by_raw(ms, "5万元").period == "2021年3月至2022年2月"
    assert by_raw(ms, "80人").period is None
    assert by_raw(ms, "10件").period == "上半年"


# --------------------------------------------------------------------------- fast scanning

from hypothesis import example, given, settings, strategies as st  # noqa: E402

from reportatlas import metrics as _metrics  # noqa: E402
from reportatlas import numbers as _numbers  # noqa: E402

_SCANNED = [(_numbers.QUANTITY_RE, _numbers.QUANTITY_FIRST), (_metrics.PERIOD_RE, _metrics._PERIOD_FIRST),
            (_metrics.YEAR_EVENT_RE, _metrics._YEAR_EVENT_FIRST),
            (_metrics.MONTH_EVENT_RE, _metrics._MONTH_EVENT_FIRST)]
# the words the patterns are made of, plus some that are in none of them, put together as
# (words before a number, a number, words after it) so that most texts hold a match
_BEFORE = ["", "约", "近", "超过", "超", "逾", "达到", "达", "不少于", "不足", "不到", "最高", "至少", "最多",
           "数", "百分之", "今年", "去年", "全年", "明年", "上半年", "第一季度", "年初", "以来", "近年来", "截至",
           "目前", "建于", "始建于", "预计", "计划", "计划到", "确保", "力争", "争取", "到", "“十四五”", "时期",
           "路", "区", "，", " "]
_NUMBER = ["", "3", "12", "2019", "5.5", "1,200", "一", "两", "十", "三十", "百", "千", "一百二十", "3至5", "6-8"]
_AFTER = ["", "万", "亿", "余", "多", "元", "万元", "亿元", "亩", "平方米", "个", "家", "%", "以上", "左右",
          "年", "年底", "月", "月底", "月份", "季度", "建成", "完工", "开工", "投运", "前", "，", "。", "路"]


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_BEFORE), st.sampled_from(_NUMBER), st.sampled_from(_AFTER),
                          st.sampled_from(_AFTER)).map("".join), max_size=4).map("".join))
@example("今年6月底完工，明年3月开工，约3亿元，预计2025年底建成")
def test_every_match_starts_with_one_of_its_first_characters(text):
    """The fast scans try a pattern only where its first-character class matches
    (QUANTITY_AT, finditer_near): no quantity, period or date starts anywhere else."""
    for rx, first in _SCANNED:
        assert [m.span() for m in rx.finditer(text) if first.match(text, m.start())] == \
            [m.span() for m in rx.finditer(text)]


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_BEFORE), st.sampled_from(_NUMBER), st.sampled_from(_AFTER),
                          st.sampled_from(_AFTER)).map("".join), max_size=4).map("".join))
@example("约3至5亿元，不少于1,200平方米，数十家，百分之九十五，达到千平方米，一百二十余户")
def test_the_quantity_scan_finds_what_the_quantity_pattern_finds(text):
    """scan_quantities (a first character, then QUANTITY_RE looked for back from it) gives
    the same quantities, with the same groups, as QUANTITY_RE.finditer."""
    fast = [((m.start(), m.end("q")), m.groupdict()) for m in _numbers.scan_quantities(text)]
    assert fast == [(m.span(), m.groupdict()) for m in _numbers.QUANTITY_RE.finditer(text)]


def test_quantities_and_periods_on_a_fixture_sentence():
    text = "截至2023年6月底，该园区总投资约3至5亿元，占地120亩，入驻企业数十家，预计2025年底建成投运。"
    spans = [text[a:b] for a, b, _ in find_quantities(text)]
    assert spans == ["约3至5亿元", "120亩", "数十家"]
    periods = [m.group() for m in _numbers.finditer_near(_metrics.PERIOD_RE, _metrics._PERIOD_FIRST,
                                                         _numbers.find_all(text, _metrics._PERIOD_ANCHOR),
                                                         text, _metrics._PERIOD_BACK)]
    assert periods[0].startswith("截至2023年6月")


_NEAR = [(_metrics.YEAR_EVENT_RE, _metrics._YEAR_EVENT_FIRST, _metrics._YEAR_EVENT_ANCHOR, _metrics._YEAR_EVENT_BACK),
         (_metrics.MONTH_EVENT_RE, _metrics._MONTH_EVENT_FIRST, _metrics._MONTH_EVENT_ANCHOR,
          _metrics._MONTH_EVENT_BACK),
         (_metrics.PERIOD_RE, _metrics._PERIOD_FIRST, _metrics._PERIOD_ANCHOR, _metrics._PERIOD_BACK)]


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_BEFORE), st.sampled_from(_NUMBER), st.sampled_from(_AFTER),
                          st.sampled_from(_AFTER)).map("".join), max_size=4).map("".join))
@example("始建于 2019年底前建成，到2025年完成，今年12月底前完工，计划到2030年6月开工")
@example("预计2019年2020年底完成3月4月底完工")
@example("截至2023年6月底，2022年7月至2023年1月，今年1至5月份，第三季度，近年来，“十四五”期间，全年以来")
def test_scanning_near_anchors_finds_what_finditer_finds(text):
    """Dates and periods tried only just before a year, a month … find what finditer finds."""
    for rx, first, anchor, back in _NEAR:
        anchors = _numbers.find_all(text, anchor)
        assert [m.span() for m in _numbers.finditer_near(rx, first, anchors, text, back)] == \
            [m.span() for m in rx.finditer(text)]


def _spans(text: str, ends: str) -> list[tuple[int, int]]:
    """The non-empty stretches of ``text`` between the characters of ``ends`` (sentences)."""
    marks = _numbers.find_all(text, ends)
    return [(a, b) for a, b in zip([0] + [m + 1 for m in marks], marks + [len(text)]) if a < b]


_OPENING_TOKENS = ["园区", "该园区", "整个片区", "板块", "目前，", "截至目前,", "其中", "同时", "，", "；", "。",
                   "芝麻街", "建设", "区", "该"]


@settings(max_examples=800, deadline=None)
@given(st.lists(st.sampled_from(_OPENING_TOKENS), max_size=14).map("".join), st.data())
def test_clause_openings_found_near_places_are_those_of_every_clause_start(text, data):
    """Looking only a few characters before each place and each 园区/板块/片区 finds the same
    clause openings as looking at every clause start of the sentence."""
    spots = sorted(set(data.draw(st.lists(st.integers(0, max(len(text) - 1, 0)), max_size=5)))) if text else []
    places = [_metrics._Place(a, a + 1, "P", "site") for a in spots]
    starts = [p.start for p in places]
    words = _numbers.find_all(text, _metrics._ANAPHOR_WORDS)
    for sentence in _spans(text, _metrics.SENTENCE_END):
        fast = _metrics._openings(text, sentence, places, starts, words)
        every = _metrics._openings(text, sentence, places, starts)
        assert [(cs, hit and hit.span(), j) for cs, hit, j in fast] == \
            [(cs, hit and hit.span(), j) for cs, hit, j in every]


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="ab，。；\n!", max_size=30))
def test_clause_ends_and_the_clause_around_a_position(text):
    """_around gives the clause holding a position (from one past the clause end before it to
    the one after it) in the clause ends find_all finds, and _clause_around the same by
    searching around the position, as a plain scan of the text would."""
    marks = _numbers.find_all(text, _metrics.CLAUSE_END)
    assert marks == [i for i, ch in enumerate(text) if ch in _metrics.CLAUSE_END]
    for pos, ch in enumerate(text):
        if ch in _metrics.CLAUSE_END:
            continue
        start = max([i + 1 for i in marks if i < pos], default=0)
        end = min([i for i in marks if i > pos], default=len(text))
        assert _metrics._around(marks, pos, 0, len(text)) == (start, end)
        # the clause searched for around pos, given its sentence
        sentence = (max([i + 1 for i in marks if i < pos and text[i] in _metrics.SENTENCE_END], default=0),
                    min([i for i in marks if i > pos and text[i] in _metrics.SENTENCE_END], default=len(text)))
        assert _metrics._clause_around(text, text[::-1], pos, sentence) == (start, end)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 3), max_size=60), st.integers(-5, 70), st.integers(-5, 70))
def test_normalised_index_from_a_guess_is_that_of_a_binary_search(steps, pos, guess):
    """_to_normalized gives bisect_left(offsets, pos) whatever the guess (right, wrong, out
    of range), for offsets that grow by 0–3 (characters dropped or expanded)."""
    import bisect
    from array import array
    offsets = array("i", accumulate(steps)) if steps else array("i")
    assert _metrics._to_normalized(offsets, pos, guess) == bisect.bisect_left(offsets, pos)


_LABEL_PIECES = list(_metrics._VERBS[:12]) + ["选拔出", "划分出", "划分", "出", "分", "人", "的", "约", "达到",
                                               "其中", "累计", "已", "街道", "x"] + list(_metrics._TRAIL_WORDS[:6])


@settings(max_examples=800, deadline=None)
@given(st.lists(st.sampled_from(_LABEL_PIECES), max_size=5).map("".join))
def test_label_shortcuts_change_nothing(label):
    """The verb at the end of a label is the first of _VERBS it ends with; a label whose first
    (last) character starts (ends) no lead (trail) word has nothing for the regex to trim."""
    assert not [(a, b) for a in _metrics._VERBS for b in _metrics._VERBS if a != b and a.endswith(b)]
    assert _metrics._verb_at_end(label) == next((v for v in _metrics._VERBS if label.endswith(v)), None)
    if label[:1] not in _metrics._LEAD_FIRST:
        assert _metrics._LEAD.sub("", label) == label
    if label[-1:] not in _metrics._TRAIL_LAST:
        assert _metrics._TRAIL.sub("", label) == label


@given(st.lists(st.integers(0, 30), max_size=8).map(sorted), st.integers(0, 30), st.integers(0, 30))
def test_any_in_tells_whether_a_position_is_in_the_range(positions, lo, hi):
    assert _metrics._any_in(positions, lo, hi) == any(lo <= p < hi for p in positions)
