"""Word lists of the place finder (:mod:`reportatlas.placenames`).

Type words and their place types, the verbs and function words after which a name
starts, and the stems and names that are generic.  Facts about the language of the
reports, not about any one report.
"""
from __future__ import annotations

import re

from .extract import KnownName

CJK = "\u3400-\u9fff"
NUM_CN = "一二三四五六七八九十"

# Zhengzhou's districts (names only; facts, used to recognise district mentions)
ZHENGZHOU_DISTRICTS = ("中原区", "二七区", "管城回族区", "管城区", "金水区", "上街区", "惠济区")

# gazetteer kind → place_type; kinds not listed are not matched in running text
KIND_TYPES = {
    "district": "district", "subdistrict": "subdistrict", "community": "community",
    "village": "village", "road": "road", "site": "site", "park": "park", "zone": "zone",
    "substation": "site", "metro_line": "metro_line", "river": "river", "landmark": "landmark",
    "railway_station": "landmark", "residential_compound": "residential_compound",
    "railway": "other", "power_plant": "site",
}
for _t in ("road", "site", "park", "residential_compound", "community", "village", "subdistrict",
           "district", "zone", "landmark", "metro_line", "river", "other"):
    KIND_TYPES.setdefault(_t, _t)

# type words, longest first within the regex; (word, place_type, max stem length)
SUFFIXES: list[tuple[str, str, int]] = [
    ("家属院", "residential_compound", 8), ("街坊", "residential_compound", 4), ("号院", "residential_compound", 8),
    ("小区", "residential_compound", 6), ("花园", "residential_compound", 6),
    ("佳苑", "residential_compound", 6), ("心苑", "residential_compound", 6),
    ("社区", "community", 6), ("街道", "subdistrict", 6),
    ("安置区", "site", 8), ("安置房", "site", 8), ("地块", "site", 8), ("变电站", "site", 8),
    ("博物馆", "site", 12), ("医院", "site", 6), ("大厦", "site", 8), ("广场", "site", 8),
    ("酒店", "site", 5), ("综合体", "site", 8), ("生活区", "residential_compound", 6),
    ("体育馆", "site", 6), ("图书馆", "site", 6), ("文化馆", "site", 6), ("纪念馆", "site", 6), ("商务楼", "site", 6), ("科技城", "site", 4), ("老厂区", "site", 4),
    ("市场", "site", 6), ("街区", "site", 6), ("中心", "site", 10),
    ("产业园", "site", 10), ("公园", "park", 6), ("游园", "park", 6),
    ("园", "site", 10), ("厂", "site", 6),
    ("片区", "zone", 11), ("板块", "zone", 11), ("商圈", "zone", 4), ("新区", "zone", 4),
    ("中央文化区", "zone", 3), ("中央科技活力区", "zone", 0),
    ("铁路线", "other", 4),
    ("河", "river", 3), ("湖", "river", 3), ("火车站", "landmark", 4), ("机场", "landmark", 6), ("站", "landmark", 4),
    ("大道", "road", 5), ("大街", "road", 5), ("路", "road", 5), ("街", "road", 4), ("村", "village", 5),
]
SUFFIX_TYPE = {s: (t, n) for s, t, n in SUFFIXES}
SUFFIX_RE = re.compile("|".join(sorted((re.escape(s) for s, _, _ in SUFFIXES), key=len, reverse=True)))

# words after which a name starts (verbs, prepositions, conjunctions, adverbs, determiners)
BOUNDARY_WORDS = sorted(set("""
在 对 以 和 与 及 将 把 为 由 从 向 至 到 的 了 是 等 于 或 并 同 跟 让 使 给 被 经 沿 含 除 即 及其 以及 其中 目前
新建 建设 推进 打通 加快 位于 依托 围绕 启动 实施 完成 开展 谋划 打造 改造 提升 整治 包括 北接 南邻 东起
西起 南起 北起 西至 东至 南至 北至 下辖 辖区 重点 近期 积极 持续 引进 成立 设立 结合 针对 实现 推动 参与 进驻
加入 联合 走访 考察 签约 落地 已 正在 拟 共 该 各 全 每 这 那 此 其 管理 服务 紧盯 盘活 建立 推行 规范 开发
区域 对接 带动 负责 主打 建成 新增 投资 总投资 占地 还 也 都 又 再 就 才 只 且 而 但 若 当
做好 抓好 打好 破解 召开 理清 创新 探索 热爱 牵头 部分 所有 进行 配套 有 开工 拆除 清理 巡查 完善 征集
下沉 解决 贯彻 落实 贯彻落实 当前 内 区内 盯 紧盯 围挡 申请 协调 帮扶 慰问 服务于 走进 增强 进一步 占 进
参加 加大 举办 引导 非物质文化遗产 文化遗产 搭建 听取 考核 吸纳 最终 逐项 明确
深化 优化 强化 今年 去年 明年 年初 年底 上半年 下半年 近年 近年来 同时 此外 另外 率先 首先 随后 获评 荣获 评为 扩建 改建 修建 兴建 续建 筹建 援建 旁 路旁 附近 沿线 一带 以东 以西 以南 以北 东侧 西侧 南侧 北侧
迎接 发展 培育 借助 凭借 利用 形成 依照 按照 根据 通过 聚焦 立足 锚定 发挥 挖掘 承接 实行 创建 申报 作为 成为
先后 相继 分别 均 已经 基本 全面 加强 强化 深入 继续 着力 大力 全力 认真 切实 扎实 努力 争取 确保 保证 促进
召开 举办 组织 邀请 召集 动员 发动 对准 瞄准 对照 走进 来到 进入 前往 入驻 驻 坐落 座落 地处 毗邻 邻近 靠近
同步 一起 一道 携手 配合 协助 指导 支持 帮助 帮 为了 关于 对于 面向 基于 鉴于 随着 除了 包含 拥有 计划 预计
投用 提质 提档 焕新 复产
""".split()), key=len, reverse=True)

# stems that do not name one place
GENERIC_STEMS = set("""
老旧 老 小 各 该 本 全 每 两 几 多 辖区 所属 周边 相关 各类 重点 在建 新建 已建 道 道路 马路 公 断头 精品 主次
主干 背街 门户 沿街 城市 小游 游 家 校 乐 花 居民 居民小 无主管 养老服务 日间照料 社区养老服务 社区日间照料
党群服务 指挥 城运 服务 活动 示范 试点 安置 建设 商业 特色 历史文化 文化 产业 工业 都市型工业 微企 小微企业
农贸 集贸 区域 核心 南部 北部 东部 西部 中部 整个 园 首开 起步 幼儿 该村 行政 全村 农 新农 乡
一 二 三 四 五 六 七 八 九 十 思 出 门 线 网 路 街 村 厂 纺织 纺织厂 棉纺厂 地 重点项目 民生实事 在谈 安全
学校 医疗 卫生 购物 商务 地下 停车 泊位 公共 市政 省 市 区 国家 全国 中国 郑州 河南 新 老年人 儿童 残疾人 街道
""".split())

# whole names that are generic
GENERIC_NAMES = {"棉纺厂", "纺织厂", "钢铁长城", "长城", "新城", "商城", "县城", "全城", "园中园"}

# characters that may form a stem
STEM_CHAR = re.compile(rf"[{CJK}A-Za-z0-9]")

NOT_AFTER = {  # a type word followed by these is not the end of a name
    "路": "长队网面口段院子径线灯况演费上程", "街": "道区坊角头巷", "村": "民组委级两庄干落里",
    "社区": "工", "站": "位长点立队岗台", "中心": "工作城", "厂": "区房商长家", "园": "区林艺丁", "小区": "楼",
    "河": "流道段畔岸南北东西", "湖": "精区景畔南北东西", "地块": "", "市场": "化主", "片区": "党", "广场": "舞",
}


NOT_ROADS = {"道路", "思路", "新路", "一路", "马路", "出路", "门路", "进路", "引路", "来路", "小路",
              "大路", "老路", "网路", "线路", "套路", "弯路", "后路", "前路", "公路", "铁路"}
CENTRE_KINDS = ("培训", "孵化", "创意", "艺术", "活动", "政务", "运行", "文化")


# zones known by several names (facts about Zhengzhou's planning areas)
BUILTIN_NAMES = (
    KnownName("郑州中央文化区", "zone", "", ("CCD",)),
    KnownName("中央科技活力区", "zone", "", ("CTD",)),
)
