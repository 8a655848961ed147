"""Reading reports: encodings, refusals, normalisation with a way back, articles and owners.

Fixture texts are written here for the tests (not taken from the reports)."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from reportatlas.corpus import Article, load_reports, normalize, read_report, split_articles
from reportatlas.errors import DecodingError, InputError, InputFileNotFound, ReportAtlasError

SAMPLE = "中原区须水街道新建青槐路，全长１２００米，总投资约３亿元（ＣＣＤ配套）。\n"


# --------------------------------------------------------------------------- encodings

def test_utf8_with_and_without_bom(tmp_path):
    plain = tmp_path / "a.txt"
    plain.write_bytes(SAMPLE.encode("utf-8"))
    bom = tmp_path / "b.txt"
    bom.write_bytes(b"\xef\xbb\xbf" + SAMPLE.encode("utf-8"))
    a, b = load_reports([plain, bom])
    assert a.encoding == "utf-8" and b.encoding == "utf-8-sig"
    assert a.text == b.text == SAMPLE          # the BOM is not part of the text
    assert a.name == "a.txt"


def test_gbk_file_is_detected_and_decoded(tmp_path):
    path = tmp_path / "gbk.txt"
    path.write_bytes(SAMPLE.encode("gbk"))
    (report,) = load_reports([path])
    assert report.encoding == "gb18030"
    assert report.text == SAMPLE
    assert "青槐路" in report.normalized


@pytest.mark.parametrize("content, why", [
    (b"", "empty"),
    (b"  \n\n ", "empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "binary"),
    (b"caf\xe9 au lait \xff\xfe", "decode"),
])
def test_bad_files_are_refused_naming_the_file(tmp_path, content, why):
    path = tmp_path / f"bad_{why}.txt"
    path.write_bytes(content)
    with pytest.raises(DecodingError) as info:
        load_reports([path])
    message = str(info.value)
    assert path.name in message and "\n" not in message
    assert isinstance(info.value, ReportAtlasError) and isinstance(info.value, UnicodeError)


def test_folder_takes_txt_and_md_sorted_and_missing_paths_fail(tmp_path):
    (tmp_path / "2.md").write_text("棉纺路街道开展活动。", encoding="utf-8")
    (tmp_path / "1.txt").write_text("须水街道开展活动。", encoding="utf-8")
    (tmp_path / "notes.csv").write_text("x,y", encoding="utf-8")
    assert [r.name for r in load_reports(tmp_path)] == ["1.txt", "2.md"]
    with pytest.raises(InputFileNotFound):
        load_reports([tmp_path / "nope.txt"])
    empty = tmp_path / "empty_dir"
    empty.mkdir()
    with pytest.raises(InputError):
        load_reports([empty])


# --------------------------------------------------------------------------- normalising

def test_full_width_digits_and_punctuation_become_half_width():
    norm, _ = normalize("总投资约３亿元（ＣＣＤ）：１２００米，完成率１００％！")
    assert norm == "总投资约3亿元(CCD):1200米,完成率100%!"


def test_column_line_breaks_are_removed_and_offsets_lead_back():
    text = "街道走访了槐荫、江\n南小镇、杏坛3个社区\n的居民。"
    norm, idx = normalize(text)
    assert "江南小镇" in norm and "\n" not in norm
    for i, ch in enumerate(norm):          # every normalised character comes from the original
        assert text[idx[i]] == ch


def test_blank_line_inside_a_paragraph_is_joined_but_headings_are_kept():
    para = "今年街道共拆除违规广告牌120余块，修补破损路面与人行道砖580余"
    text = f"{para}\n\n处，劝导占道摊点三十余次，统一更换门头牌匾九十余个。\n\n坚持民生优先\n\n持续抓好民生事业，做好各项服务工作，让群众满意。"
    norm, _ = normalize(text)
    assert "580余处" in norm
    assert "坚持民生优先\n\n持续" in norm      # a short heading is not glued to the text


def test_spaces_between_cjk_and_digits_are_dropped():
    norm, _ = normalize("对 186户困难群众发放补贴，在 2017年完成")
    assert "对186户" in norm and "在2017年" in norm


def test_to_original_maps_a_normalised_span_to_the_original(tmp_path):
    path = tmp_path / "r.txt"
    text = "  新建青槐\n路和汝水东\n街，投资５０\n０万元。"
    path.write_text(text, encoding="utf-8")
    report = read_report(path)
    k = report.normalized.index("青槐路")
    a, b = report.to_original(k, k + 3)
    assert report.text[a:b].replace("\n", "") == "青槐路"
    k = report.normalized.index("500万元")
    a, b = report.to_original(k, k + 5)
    assert report.text[a:b] == "５０\n０万元"
    assert report.to_normalized(a) == k


# --------------------------------------------------------------------------- articles

TWO_ARTICLES = """

青槐科技产业园效果图

中原区汝河路街道办事处 民生为本 实干为先

汝河路街道今年新建青槐路，改造银杏苑小区。汝河路街道党工委加强党建。

下一步，汝河路街道将继续努力。 记者 甲乙

高举旗帜 强根基

秦岭路街道各级党组织开展学习活动，秦岭路街道社区服务不断加强。

凝心聚力 谋发展 ——秦岭路街道推进高质量发展

秦岭路街道完成道路整治，秦岭路街道新增停车位。



街道新貌



重温誓词

# 街道新气象 群众得实惠

## ——上街区济源路街道党建引领惠民生

济源路街道坚持党建引领，济源路街道建设社区服务中心。
"""


@pytest.fixture
def two_articles(tmp_path):
    path = tmp_path / "paper.txt"
    path.write_text(TWO_ARTICLES, encoding="utf-8")
    report = read_report(path)
    return report, split_articles(report)


def test_articles_and_their_owners(two_articles):
    report, articles = two_articles
    assert [a.subdistrict for a in articles] == ["汝河路街道", "秦岭路街道", "济源路街道"]
    assert [a.district for a in articles] == ["中原区", "中原区", "上街区"]
    assert all(isinstance(a, Article) and a.report == "paper.txt" for a in articles)
    # blocks tile the report in order
    assert articles[0].start < articles[0].end <= articles[1].start < articles[1].end <= articles[2].start


def test_headline_after_the_first_paragraphs_still_owns_them(two_articles):
    report, articles = two_articles
    first_para = report.text.index("秦岭路街道各级党组织")
    heading = report.text.index("高举旗帜")
    qinling = articles[1]
    assert qinling.start <= heading < first_para < qinling.end
    assert articles[0].end <= heading           # the byline stays with 汝河路街道


def test_captions_stay_in_the_block_and_titles_go_with_their_subtitle(two_articles):
    report, articles = two_articles
    caption = report.text.index("重温誓词")
    title = report.text.index("# 街道新气象")
    assert articles[1].start <= caption < articles[1].end
    assert articles[2].start == title
    assert report.text.index("青槐科技产业园效果图") < articles[0].end   # caption before the headline


def test_report_without_headline_is_one_article_owned_by_its_main_subdistrict(tmp_path):
    path = tmp_path / "plain.txt"
    path.write_text("建设路街道开展志愿活动。建设路街道新增停车位100个。须水街道参与。", encoding="utf-8")
    (article,) = split_articles(read_report(path))
    assert article.subdistrict == "建设路街道" and article.district == "中原区"


# --------------------------------------------------------------------------- the shared reports

EXPECTED_OWNERS = {
    "000": [("三官庙街道", "中原区"), ("中原西路街道", "中原区")],
    "001": [("中原西路街道", "中原区"), ("须水街道", "中原区")],
    "002": [("棉纺路街道", "中原区"), ("绿东村街道", "中原区")],
    "003": [("中心路街道", "上街区")],
    "004": [("桐柏路街道", "中原区"), ("西流湖街道", "中原区")],
}


@pytest.mark.integration
def test_shared_reports_articles_and_owners(shared_reports):
    reports = load_reports(shared_reports)
    assert [r.name[:3] for r in reports] == sorted(EXPECTED_OWNERS)
    for report in reports:
        articles = split_articles(report)
        assert [(a.subdistrict, a.district) for a in articles] == EXPECTED_OWNERS[report.name[:3]], report.name
        text = report.text
        if report.name.startswith("000"):
            # the 中原西路街道 article starts before its headline
            own = text.index("中原西路街道各级党组织")
            assert articles[1].start <= own < text.index("——中原西路街道")
            assert articles[0].end < own
        if report.name.startswith("002"):
            assert articles[0].start <= text.index("园博园志愿活动") < articles[0].end
            assert text[articles[1].start:].startswith("# 街道创品牌")


@pytest.mark.integration
def test_shared_reports_column_breaks(shared_reports):
    (report,) = load_reports([next(shared_reports.glob("003_*.txt"))])
    assert "江南小镇" in report.normalized
    assert "江\n南小镇" in report.text
    (report1,) = load_reports([next(shared_reports.glob("001_*.txt"))])
    assert "580余处" in report1.normalized


def test_cli_refuses_binary_file_with_one_line(tmp_path):
    path = tmp_path / "image.txt"
    path.write_bytes(b"\x00\x01\x02binary\x00")
    proc = subprocess.run([sys.executable, "-m", "reportatlas", "extract", str(path)],
                          capture_output=True, text=True)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "image.txt" in lines[0]
    assert proc.stdout == ""


def test_windows_line_endings(tmp_path):
    path = tmp_path / "crlf.txt"
    path.write_bytes(TWO_ARTICLES.replace("\n", "\r\n").encode("utf-8") + "辖区有江\r\n南小镇社区。".encode("utf-8"))
    report = read_report(path)
    assert "\r" not in report.normalized and "江南小镇" in report.normalized
    assert [a.subdistrict for a in split_articles(report)] == ["汝河路街道", "秦岭路街道", "济源路街道"]


def test_a_sentence_starting_with_another_subdistrict_is_not_a_headline(tmp_path):
    path = tmp_path / "cols.txt"
    path.write_text("中原区汝河路街道办事处 民生为本\n\n汝河路街道新建青槐路，\n须水街道派员前来交流，\n"
                    "双方签订协议。汝河路街道将继续推进。\n", encoding="utf-8")
    assert [a.subdistrict for a in split_articles(read_report(path))] == ["汝河路街道"]


def test_utf16_is_refused_with_a_hint(tmp_path):
    path = tmp_path / "u16.txt"
    path.write_bytes(SAMPLE.encode("utf-16"))
    with pytest.raises(DecodingError, match="UTF-8"):
        load_reports([path])


from hypothesis import given, settings, strategies as st  # noqa: E402

_TEXT = st.text(alphabet=st.sampled_from(list("街道路村社区１２３ＡＢ（），。、 \n\r\u3000ab12江南小镇")), max_size=80)


@settings(max_examples=200, deadline=None)
@given(_TEXT)
def test_normalised_characters_always_lead_back_to_the_original(text):
    norm, idx = normalize(text)
    assert len(norm) == len(idx)
    assert idx == sorted(set(idx))                     # strictly increasing
    for ch, i in zip(norm, idx):
        orig = text[i]
        assert ch == orig or (0xFF01 <= ord(orig) <= 0xFF5E and ord(orig) - 0xFEE0 == ord(ch)) \
            or (orig == "\u3000" and ch == " ")


def _column_breaks_by_one_regex(text):
    """How corpus._column_breaks finds its breaks, written plainly: every run of line breaks
    found by one regex and looked at in turn, each judged by the same rule (the reference
    the faster finding must agree with)."""
    from reportatlas.corpus import _removable
    joins = {}
    for m in re.finditer(r"[ \t\r\u3000]*\n(?:[ \t\r\u3000]*\n)?[ \t\r\u3000]*", text):
        a, b = m.start(), m.end()
        if a == 0 or b >= len(text) or text[b] == "\n" or text[a - 1] == "\n":
            continue
        if _removable(text, a, b, m.group().count("\n")):
            joins[a] = b
    return joins


# line breaks with spaces of all kinds around them (\xa0 and \x0b are spaces to str.isspace
# but not to the break rule), headings, long lines
_BREAKY = st.lists(st.sampled_from(["a", "街道", "，", "。", "”", " ", "\t", "\r", "\n", "\n", "\n\n", "\u3000",
                                    "\xa0", "\x0b", "#", "——", "—", "x" * 30, "路" * 31]), max_size=40).map("".join)


@settings(max_examples=400, deadline=None)
@given(_BREAKY)
def test_column_breaks_are_those_of_the_plain_rule(text):
    from reportatlas.corpus import _column_breaks
    assert _column_breaks(text) == _column_breaks_by_one_regex(text)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("，。（）１２ＡＢ\u3000 a1街道路\uff5e\uff01\uff5f\uff00\uff61仿\u01ff")
                                          + ["\U0001f600"]), max_size=60))
def test_full_width_folding_is_the_translation_table(text):
    from reportatlas.corpus import _FOLD_TABLE, _fold_text
    assert _fold_text(text) == text.translate(_FOLD_TABLE)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([None, "甲街道", "乙街道", "丙街道"]), max_size=30), st.data())
def test_best_cut_is_the_last_cut_with_the_best_score(votes, data):
    from reportatlas.corpus import _best_cut
    lo = data.draw(st.integers(0, len(votes)))
    hi = data.draw(st.integers(lo, len(votes)))

    def score(cut):   # counted in full for every cut
        return (sum(v == "甲街道" for v in votes[lo:cut]) + sum(v == "乙街道" for v in votes[cut:hi])
                - sum(v == "乙街道" for v in votes[lo:cut]))
    best = max(score(c) for c in range(lo, hi + 1))
    assert _best_cut(votes, lo, hi, "甲街道", "乙街道") == max(c for c in range(lo, hi + 1) if score(c) == best)
