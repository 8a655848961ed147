"""Synthetic data for the benchmarks: report-like text, sites, 街道 areas and a road.

Everything is generated from the name lists and sentence templates written below (our own
wording, not report text) with a seeded ``random.Random``: the same seed gives the same
bytes.  The 街道/社区/村 names come from ``geodata/names/subdistrict_hierarchy.json``
(names only, from jionlp, Apache-2.0; see geodata/SOURCES.md); roads are real road names of
the area; compounds, sites and numbers are invented.

    python benchmarks/synth.py corpus OUT_DIR --mb 8 --seed 1   # write report files
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


def write_corpus(folder: str | Path, *, mb: float, seed: int = 1, report_kb: int = 20) -> list[Path]:
    """Write report files of about ``report_kb`` KB each until ``mb`` MB of UTF-8 are written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    names = place_names(seed)
    target, written, paths = int(mb * 1_000_000), 0, []
    while written < target:
        chunks, size = [], 0
        while size < report_kb * 1000:
            text = report_text(rng, names, articles=2)
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
    s = sub.add_parser("sites", help="write synthetic sites (GeoParquet)")
    s.add_argument("out")
    s.add_argument("-n", type=int, default=100_000)
    s.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.what == "corpus":
        paths = write_corpus(args.out, mb=args.mb, seed=args.seed)
        print(f"{len(paths)} files, {sum(p.stat().st_size for p in paths) / 1e6:.1f} MB in {args.out}")
    else:
        sites(args.n, seed=args.seed).to_parquet(args.out)
        print(f"{args.n} sites → {args.out}")


if __name__ == "__main__":
    main()
