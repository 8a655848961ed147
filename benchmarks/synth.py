"""Synthetic data for the benchmarks: report-like text, sites, 街道 areas and a road.

Everything is generated from the name lists and sentence templates written below (our own
wording, not report text) with a seeded ``random.Random``: the same seed gives the same
bytes.  The 街道/社区/村 names come from ``geodata/names/subdistrict_hierarchy.json``
(names only, from jionlp, Apache-2.0; see geodata/SOURCES.md); roads are real road names of
the area; compounds, sites and numbers are invented.

    python benchmarks/synth.py corpus OUT_DIR --mb 8 --seed 1   # report files (--style reports|dense)
    python benchmarks/synth.py sites OUT.parquet -n 100000        # sites in the 中原区 bbox
"""
from __future__ import annotations

import argparse
import json
import math
import random
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BBOX = (113.45, 34.68, 113.70, 34.82)  # 中原区, lon/lat (WGS-84)

ROADS = [
    "建设西路", "中原西路", "中原中路", "桐柏路", "秦岭路", "嵩山路", "伏牛路", "华山路", "工人路",
    "须水河路", "陇海西路", "航海西路", "郑上路", "棉纺路", "淮河西路", "汝河路", "颍河路", "化工路",
    "西三环", "西四环", "煤仓街", "电厂路", "冉屯路", "互助路", "协作路", "友爱路", "百花路",
    "文化宫路", "绿东村路", "杜康路", "桐淮路", "郑密路", "凯旋路", "市场街", "计划路", "长椿路",
]
PLACE_STEMS = ["芝麻", "锦艺", "万科", "正商", "绿都", "永威", "帝湖", "碧沙", "西岗", "凯田", "华润",
               "康桥", "亚星", "宏江", "和润", "盛世", "颐和", "天汇", "晶华", "澜景", "湾景", "思源"]
COMPOUND_TAILS = ["花园", "小区", "家园", "新城", "城", "苑", "府", "里", "公馆", "华庭"]
SITE_TAILS = ["产业园", "文创园", "科创园", "商务中心", "广场", "安置区", "综合体", "物流园",
              "孵化基地", "双创园", "体育公园", "邻里中心"]
PROJECTS = ["老旧小区改造", "雨污分流", "道路提升", "拆迁安置", "棚户区改造", "背街小巷整治",
            "口袋公园建设", "智慧社区建设", "污水管网改造", "停车场建设"]
SLOGANS = ["党建引领促发展", "项目建设提速度", "城市更新见实效", "民生实事暖人心", "产业升级添动能",
           "基层治理出新招", "营商环境再优化", "生态宜居展新颜"]
VERBS = ["加快推进", "全面启动", "稳步实施", "有序开展", "高标准建设", "持续推动"]
OUTCOMES = ["已完成主体施工", "正在进行装修", "预计年底竣工", "完成征收签约", "实现投产运营",
            "进入招商阶段", "完成规划设计"]
FILLERS = [
    "坚持以人民为中心的发展思想，把各项任务分解到岗、落实到人。",
    "街道党工委每周召开专题会议，研究解决推进中的困难和问题。",
    "辖区群众的获得感、幸福感和安全感不断增强。",
    "通过网格化管理，做到小事不出社区、大事不出街道。",
    "各社区结合实际，形成了一批可复制、可推广的经验做法。",
    "下一步，将继续聚焦重点任务，确保各项目标按期完成。",
]


def _hierarchy() -> dict[str, dict[str, list[str]]]:
    data = json.loads((REPO / "geodata" / "names" / "subdistrict_hierarchy.json").read_text("utf-8"))
    return data["tree"]


def zhongyuan_subdistricts() -> dict[str, list[str]]:
    """街道 of 中原区 → its 社区/村 names."""
    return _hierarchy()["中原区"]


def place_names(seed: int = 0) -> dict[str, list[str]]:
    """The invented compound and site names the corpus uses, by kind (deterministic)."""
    rng = random.Random(seed)
    compounds = sorted({rng.choice(PLACE_STEMS) + rng.choice(COMPOUND_TAILS) for _ in range(120)})
    sites = sorted({rng.choice(PLACE_STEMS + ROADS[:10]).removesuffix("路") + rng.choice(SITE_TAILS)
                    for _ in range(160)})
    return {"road": list(ROADS), "residential_compound": compounds, "site": sites}


def _number(rng: random.Random) -> str:
    kind = rng.randrange(9)
    if kind == 0:
        return f"总投资约{rng.randint(2, 120)}亿元"
    if kind == 1:
        return f"总投资{rng.randint(800, 9800)}万元"
    if kind == 2:
        return f"占地{rng.randint(12, 900)}亩"
    if kind == 3:
        return f"建筑面积{rng.randint(2, 60)}.{rng.randint(1, 9)}万平方米"
    if kind == 4:
        return f"全长{rng.randint(300, 5200)}米"
    if kind == 5:
        return f"涉及{rng.randint(20, 2400)}户"
    if kind == 6:
        return f"完成率达到{rng.randint(60, 100)}%"
    if kind == 7:
        return f"新增就业岗位{rng.randint(50, 3000)}个"
    return f"入驻企业{rng.randint(5, 180)}家"


def _sentence(rng: random.Random, sub: str, communities: list[str], names: dict[str, list[str]]) -> str:
    kind = rng.randrange(7)
    road, road2 = rng.sample(names["road"], 2)
    site = rng.choice(names["site"])
    compound = rng.choice(names["residential_compound"])
    community = rng.choice(communities) if communities else sub
    if kind == 0:
        return f"位于{road}与{road2}交叉口的{site}{rng.choice(VERBS)}，{_number(rng)}，{rng.choice(OUTCOMES)}。"
    if kind == 1:
        return f"{sub}{rng.choice(VERBS)}{compound}{rng.choice(PROJECTS)}项目，{_number(rng)}，{_number(rng)}。"
    if kind == 2:
        return f"{road}（{road2}—{rng.choice(names['road'])}）{rng.choice(PROJECTS)}工程{rng.choice(OUTCOMES)}，{_number(rng)}。"
    if kind == 3:
        return f"{community}依托{site}，{_number(rng)}，带动周边{rng.randint(2, 9)}个小区协同发展。"
    if kind == 4:
        return (f"辖区东起{road}，西至{road2}，南起{rng.choice(names['road'])}，北至{rng.choice(names['road'])}，"
                f"面积约{rng.randint(3, 20)}.{rng.randint(1, 9)}平方公里。")
    if kind == 5:
        return f"{rng.randint(2018, 2025)}年以来，{compound}等{rng.randint(3, 30)}个小区完成{rng.choice(PROJECTS)}。"
    return rng.choice(FILLERS)


def report_text(rng: random.Random, names: dict[str, list[str]], *, articles: int = 6) -> str:
    """One report: several articles, each headed by its 街道 and a slogan, paragraphs below."""
    tree = zhongyuan_subdistricts()
    parts = []
    for sub in rng.sample(sorted(tree), min(articles, len(tree))):
        parts.append(f"中原区{sub}办事处 {rng.choice(SLOGANS)}")
        for _ in range(rng.randint(3, 6)):
            lead = f"{sub}{rng.choice(VERBS)}{rng.choice(PROJECTS)} "
            body = "".join(_sentence(rng, sub, tree[sub], names) for _ in range(rng.randint(3, 7)))
            parts.append(lead + "\n\n" + body)
    return "\n\n".join(parts) + "\n"


# ----------------------------------------------------------------------------- realistic style
# The reports are mostly prose about work (party building, services, governance) with a place
# or a number now and then: ~6.2k sentences, ~3.6k place mentions and ~3.1k metrics per MB,
# a third of the places unknown to the gazetteer, a tenth of the text in narrow newspaper
# columns.  The "reports" style below is built to match those densities (benchmarks/README.md
# prints both); every sentence is assembled from small parts, so that sentences and invented
# names rarely repeat, as in real text.

ACTORS = ["街道党工委", "各社区", "辖区各单位", "机关干部", "网格员", "志愿者队伍", "社区党支部", "驻街单位",
          "综治中心", "党员干部", "物业企业", "业委会", "社区两委", "工作专班", "执法中队"]
ADVERBS = ["始终", "坚持", "不断", "积极", "认真", "切实", "全力", "扎实", "持续", "主动", "深入", "大力"]
ACTIONS = ["强化基层党组织建设", "落实党建责任", "健全工作机制", "优化营商环境", "化解矛盾纠纷",
           "提升服务水平", "开展主题教育", "加强作风建设", "推进网格化管理", "整治环境卫生",
           "做好疫情防控", "开展文明创建", "完善便民服务", "推动项目落地", "破解发展难题",
           "理清工作思路", "夯实基层基础", "关爱困难群众", "筑牢安全防线", "擦亮服务品牌"]
PURPOSES = ["为街道发展注入动力", "让群众办事更方便", "形成了齐抓共管的局面", "打通服务群众最后一公里",
            "营造了良好氛围", "推动各项工作落地见效", "提升了群众满意度", "为项目建设保驾护航",
            "走出了一条新路子", "实现了党建与业务深度融合"]
EVENTS = ["宣讲活动", "义诊活动", "文艺演出", "培训班", "座谈会", "走访慰问", "安全检查", "集中整治行动",
          "招聘会", "志愿服务"]
PEOPLE = ["群众", "党员", "居民", "困难户", "退役军人", "企业职工", "青少年", "老年人"]
NAME_CHARS = "锦华和润康泰盛鑫嘉颐瑞祥福兴隆升宏远金玉翠碧枫桐槐柳松竹梅兰荷溪泉峰岚云星辰晨曦欣悦佳怡雅馨汇源澜湾"
PROJECT_WORDS = ["提质", "改造", "建设", "整治", "提升", "绿化", "亮化"]


def _name(rng: random.Random) -> str:
    return "".join(rng.sample(NAME_CHARS, rng.choice((2, 2, 3))))


def _figure(rng: random.Random) -> str:
    kind = rng.randrange(12)
    if kind == 0:
        return f"开展{rng.choice(EVENTS)}{rng.randint(2, 80)}次"
    if kind == 1:
        return f"服务{rng.choice(PEOPLE)}{rng.randint(30, 9000)}人次"
    if kind == 2:
        return f"发动{rng.choice(PEOPLE)}{rng.randint(20, 800)}名"
    if kind == 3:
        return f"帮扶{rng.randint(3, 200)}户"
    if kind == 4:
        return f"走访企业{rng.randint(5, 160)}家"
    if kind == 5:
        return f"排查隐患{rng.randint(10, 600)}处"
    if kind == 6:
        return f"发放资料{rng.randint(200, 9000)}份"
    if kind == 7:
        return f"整治面积{rng.randint(300, 90000)}平方米"
    if kind == 8:
        return f"投入资金{rng.randint(5, 900)}万元"
    if kind == 9:
        return f"满意率达到{rng.randint(85, 99)}%"
    if kind == 10:
        return f"新建{rng.randint(2, 30)}个{rng.choice(['党群服务站', '便民服务点', '停车场', '口袋公园'])}"
    return f"清理垃圾{rng.randint(5, 400)}吨"


PROSE = 26  # weight of prose sentences against 8 kinds of sentences naming places


def _realistic_sentence(rng: random.Random, sub: str, communities: list[str], names: dict[str, list[str]]) -> str:
    """One sentence in the style of the reports (on average ~0.55 places, ~0.5 metrics)."""
    road, road2 = rng.sample(names["road"], 2)
    community = rng.choice(communities) if communities else sub
    invented = _name(rng)
    kind = rng.randrange(PROSE + 8)
    if kind < PROSE:  # prose, sometimes led by the 街道, sometimes with a number
        lead = sub if rng.random() < 0.18 else rng.choice(ACTORS)
        parts = [f"{rng.choice(ADVERBS)}{rng.choice(ACTIONS)}" for _ in range(rng.randint(2, 6))]
        if rng.random() < 0.4:
            parts.insert(rng.randint(1, len(parts)), _figure(rng))
        return f"{lead}{'，'.join(parts)}，{rng.choice(PURPOSES)}。"
    kind -= PROSE - 12
    if kind == 12:
        return f"{community}{rng.choice(ADVERBS)}{rng.choice(ACTIONS)}，{_figure(rng)}，{_figure(rng)}。"
    if kind == 13:
        tail = rng.choice(SITE_TAILS)
        return (f"{sub}依托{invented}{tail}，{rng.choice(VERBS)}{rng.choice(PROJECTS)}，"
                f"{_number(rng)}，{rng.choice(OUTCOMES)}。")
    if kind == 14:
        return f"{road}{rng.choice(PROJECT_WORDS)}工程{rng.choice(OUTCOMES)}，{_figure(rng)}。"
    if kind == 15:
        return (f"{rng.choice(ACTORS)}对{invented}{rng.choice(COMPOUND_TAILS)}等老旧小区进行改造，"
                f"{_number(rng)}，{rng.choice(PURPOSES)}。")
    if kind == 16:
        items = "、".join(_name(rng) for _ in range(rng.randint(2, 4)))
        return f"辖区{items}等项目{rng.choice(OUTCOMES)}，{rng.choice(PURPOSES)}。"
    if kind == 17:
        picks = rng.sample(communities, min(len(communities), rng.randint(2, 4))) if communities else [sub]
        items = "、".join(c.removesuffix("社区").removesuffix("村") for c in picks)
        return f"{items}{len(picks)}个社区{rng.choice(ADVERBS)}{rng.choice(ACTIONS)}，{rng.choice(PURPOSES)}。"
    if kind == 18:
        return f"位于{road}与{road2}交叉口的{invented}{rng.choice(SITE_TAILS)}{rng.choice(OUTCOMES)}。"
    return f"{rng.choice(ACTORS)}在{community}召开{rng.choice(EVENTS)}，{rng.choice(PURPOSES)}。"


def _columns(text: str, rng: random.Random) -> str:
    """Break every paragraph into newspaper-column lines of 11-13 characters."""
    width = rng.randint(11, 13)
    return "\n".join("\n".join(p[i:i + width] for i in range(0, len(p), width)) for p in text.split("\n"))


def realistic_report_text(rng: random.Random, names: dict[str, list[str]], *, articles: int = 2) -> str:
    """One report in the density of the real ones: articles of sections of long paragraphs."""
    tree = zhongyuan_subdistricts()
    parts = []
    for sub in rng.sample(sorted(tree), min(articles, len(tree))):
        parts.append(f"中原区{sub}办事处 {rng.choice(SLOGANS)} {rng.choice(SLOGANS)}")
        for _ in range(rng.randint(3, 5)):
            parts.append(f"{rng.choice(ADVERBS)}{rng.choice(ACTIONS)} {rng.choice(SLOGANS)}")
            for _ in range(rng.randint(1, 3)):
                parts.append("".join(_realistic_sentence(rng, sub, tree[sub], names)
                                     for _ in range(rng.randint(4, 14))))
    text = "\n\n".join(parts) + "\n"
    return _columns(text, rng) if rng.random() < 0.12 else text


STYLES = {"reports": realistic_report_text, "dense": report_text}


def write_corpus(folder: str | Path, *, mb: float, seed: int = 1, report_kb: int = 20,
                 style: str = "reports") -> list[Path]:
    """Write report files of about ``report_kb`` KB each until ``mb`` MB of UTF-8 are written.

    ``style="reports"`` matches the density of places, metrics and sentences of the real
    reports; ``style="dense"`` is the older corpus with ~5x more places and ~3x more metrics
    per MB (kept so its figures can still be reported)."""
    make = STYLES[style]
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    names = place_names(seed)
    target, written, paths = int(mb * 1_000_000), 0, []
    while written < target:
        chunks, size = [], 0
        while size < report_kb * 1000:
            text = make(rng, names, articles=2)
            chunks.append(text)
            size += len(text.encode("utf-8"))
        path = folder / f"synth_{len(paths):05d}.txt"
        data = "\n".join(chunks).encode("utf-8")
        path.write_bytes(data)
        paths.append(path)
        written += len(data)
    return paths


# ----------------------------------------------------------------------------- geometry

def sites(n: int, *, seed: int = 0, start: int = 0):
    """``n`` sites uniformly in the 中原区 bbox, with the atlas' ``sites`` columns used by queries."""
    import geopandas as gpd
    import numpy as np

    rng = np.random.default_rng([seed, start])
    lon = rng.uniform(BBOX[0], BBOX[2], n)
    lat = rng.uniform(BBOX[1], BBOX[3], n)
    ids = np.arange(start, start + n)
    kinds = np.array(["site", "residential_compound", "park", "poi"])
    return gpd.GeoDataFrame(
        {"id": [f"site:{i}" for i in ids], "name": [f"地块{i}" for i in ids],
         "kind": kinds[rng.integers(0, len(kinds), n)],
         "total_investment_yuan": np.round(rng.lognormal(19, 1.5, n), -4)},
        geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")


def subdistrict_areas(*, seed: int = 0):
    """14 Voronoi cells over the bbox named after 中原区's 街道 (synthetic extents)."""
    import geopandas as gpd
    import numpy as np
    import shapely
    from shapely.geometry import box

    names = sorted(zhongyuan_subdistricts())
    rng = np.random.default_rng(seed)
    seeds = shapely.multipoints(np.column_stack([rng.uniform(BBOX[0], BBOX[2], len(names)),
                                                 rng.uniform(BBOX[1], BBOX[3], len(names))]))
    frame = box(*BBOX)
    cells = [c.intersection(frame) for c in shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=frame))]
    # voronoi cells come in no particular order: name each by the seed it contains
    points = shapely.get_parts(seeds)
    ordered = [next(c for c in cells if c.covers(p)) for p in points]
    return gpd.GeoDataFrame({"name": names, "kind": "subdistrict"}, geometry=ordered, crs="EPSG:4326")


def road_line():
    """A 20 km east–west road with bends across the bbox (stands in for 中原路)."""
    from shapely.geometry import LineString

    xs = [113.46 + i * 0.0115 for i in range(20)]
    return LineString([(x, 34.748 + 0.004 * math.sin(i / 2)) for i, x in enumerate(xs)])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    c = sub.add_parser("corpus", help="write synthetic report files")
    c.add_argument("out")
    c.add_argument("--mb", type=float, default=4.0)
    c.add_argument("--seed", type=int, default=1)
    c.add_argument("--style", choices=sorted(STYLES), default="reports")
    s = sub.add_parser("sites", help="write synthetic sites (GeoParquet)")
    s.add_argument("out")
    s.add_argument("-n", type=int, default=100_000)
    s.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.what == "corpus":
        paths = write_corpus(args.out, mb=args.mb, seed=args.seed, style=args.style)
        print(f"{len(paths)} files, {sum(p.stat().st_size for p in paths) / 1e6:.1f} MB in {args.out}")
    else:
        sites(args.n, seed=args.seed).to_parquet(args.out)
        print(f"{args.n} sites → {args.out}")


if __name__ == "__main__":
    main()
