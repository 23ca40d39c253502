"""Synthetic but realistic listings for the search benchmark.

Documents are built from the vocabulary of the field (categories, equipment,
processes, acronyms, provinces, industries) with a seeded RNG, so two runs with
the same seed produce the same corpus and the same queries.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

CATEGORIES: dict[str, tuple[str, list[str]]] = {
    "network.5g_private": ("5G 专网", ["5G专网", "MEC", "边缘计算", "无线覆盖", "切片"]),
    "network.5g_factory": ("5G 全连接工厂", ["5G全连接工厂", "AGV", "远程控制", "机器视觉"]),
    "network.tsn": ("时间敏感网络（TSN）", ["TSN", "确定性网络", "OPC UA", "工业以太网"]),
    "network.intranet": ("企业内网改造", ["内网改造", "工业PON", "IPv6", "网络安全"]),
    "identifier.node": ("标识解析二级节点", ["标识解析", "二级节点", "Handle", "OID"]),
    "identifier.carrier": ("主动标识载体", ["主动标识", "UICC", "模组", "RFID"]),
    "identifier.traceability": ("标识应用与产品追溯", ["产品追溯", "一物一码", "防伪溯源"]),
    "platform.iiot": ("工业互联网平台", ["工业互联网平台", "IIoT", "低代码", "微服务"]),
    "platform.equipment_cloud": ("设备上云", ["设备上云", "OEE", "数据采集", "设备联网"]),
    "platform.data_collection": ("数据采集与边缘计算", ["数据采集", "边缘网关", "SCADA", "PLC"]),
    "platform.industrial_app": ("工业 APP / SaaS", ["SaaS", "工业APP", "订阅", "云化部署"]),
    "security.classification": ("分类分级与定级", ["数据分类分级", "定级备案", "等保"]),
    "security.assessment": ("风险评估与检测", ["等保测评", "渗透测试", "风险评估", "漏洞扫描"]),
    "security.protection": ("安全防护", ["工控安全", "防火墙", "主机加固", "白名单"]),
    "security.monitoring": ("安全监测与态势感知", ["态势感知", "安全监测", "流量审计"]),
    "security.emergency": ("应急响应与运维", ["应急响应", "安全运维", "攻防演练"]),
    "application.diagnosis": ("数字化转型诊断评估", ["数字化转型", "诊断评估", "两化融合"]),
    "application.mes": ("生产管理（MES）", ["MES", "制造执行系统", "生产排程", "APS"]),
    "application.erp": ("经营管理（ERP）", ["ERP", "财务管理", "进销存", "业财一体化"]),
    "application.quality": ("智能质检", ["智能质检", "机器视觉", "缺陷检测", "SPC"]),
    "application.energy": ("能耗与碳管理", ["能耗管理", "碳排放", "碳足迹", "光伏"]),
    "application.digital_twin": ("数字孪生", ["数字孪生", "三维建模", "仿真", "虚拟调试"]),
    "application.supply_chain": ("供应链协同", ["供应链协同", "SRM", "WMS", "TMS"]),
    "application.safety": ("安全生产与环保监测", ["安全生产", "VOCs", "环保监测", "EHS"]),
    "finance.loan": ("信贷", ["科技贷", "信用贷款", "知识产权质押", "贴息"]),
    "finance.leasing": ("融资租赁", ["融资租赁", "设备融资租赁", "售后回租", "直租"]),
    "finance.insurance": ("保险", ["首台套", "网络安全保险", "财产险", "保险补偿"]),
    "finance.equity": ("股权投资", ["股权投资", "天使轮", "专精特新", "产业基金"]),
    "finance.supply_chain": ("供应链金融", ["供应链金融", "应收账款", "保理", "票据"]),
    "talent.lecture": ("培训讲座", ["培训讲座", "数字化转型", "专家讲座", "沙龙"]),
    "talent.online": ("线上学习", ["线上课程", "直播课", "工业互联网", "Python"]),
    "talent.internship": ("实习实训", ["实习实训", "PLC", "工业机器人", "实训基地"]),
    "talent.certification": ("技能认证", ["职业技能等级认定", "技能认证", "PLC", "电工"]),
}
EQUIPMENT = [
    "注塑机",
    "冲压机",
    "数控机床",
    "CNC",
    "激光切割机",
    "焊接机器人",
    "空压机",
    "锅炉",
    "产线",
    "AGV",
    "立体仓库",
    "PLC",
    "变频器",
    "伺服电机",
    "视觉相机",
    "传感器",
    "边缘网关",
    "工控机",
    "压铸机",
    "涂装线",
    "热处理炉",
    "检测设备",
]
PROCESSES = [
    "冲压",
    "焊接",
    "注塑",
    "机加工",
    "喷涂",
    "装配",
    "压铸",
    "热处理",
    "表面处理",
    "包装",
    "仓储",
    "物流",
    "质检",
    "能耗",
    "排产",
    "维修",
    "巡检",
    "追溯",
]
PRODUCTS = [
    "汽车零部件",
    "冲压件",
    "电子元器件",
    "纺织品",
    "精密模具",
    "锂电池",
    "光伏组件",
    "医疗器械",
    "食品饮料",
    "化工原料",
    "家具",
    "五金件",
    "轴承",
    "线缆",
    "PCB",
]
VERBS = ["实现", "提升", "降低", "打通", "支持", "覆盖", "提供", "助力", "优化", "保障"]
GOALS = [
    "生产效率",
    "良品率",
    "设备利用率",
    "能耗成本",
    "交付周期",
    "库存周转",
    "安全合规",
    "数据可视化",
    "远程运维",
    "故障预警",
    "质量追溯",
    "人员技能",
]
ADJ = ["智能", "一站式", "轻量化", "低成本", "国产化", "云端", "模块化", "快速部署", "标准化"]
ORG_PREFIX = [
    "苏州",
    "无锡",
    "南京",
    "杭州",
    "宁波",
    "上海",
    "深圳",
    "合肥",
    "成都",
    "武汉",
    "青岛",
    "常州",
    "佛山",
    "东莞",
    "西安",
    "天津",
]
ORG_CORE = ["智联", "工云", "数造", "精工", "华信", "中控", "鼎新", "云启", "博远", "汇通"]
ORG_SUFFIX = [
    "科技有限公司",
    "信息技术有限公司",
    "智能装备有限公司",
    "融资租赁有限公司",
    "职业培训学校",
    "网络安全技术有限公司",
    "银行股份有限公司",
]
PROVINCES = [
    "江苏省",
    "浙江省",
    "上海市",
    "广东省",
    "山东省",
    "安徽省",
    "四川省",
    "湖北省",
    "福建省",
    "河南省",
    "湖南省",
    "北京市",
    "天津市",
    "河北省",
    "陕西省",
    "重庆市",
    "辽宁省",
    "江西省",
    "广西壮族自治区",
    "云南省",
]
INDUSTRIES = ["C36", "C34", "C39", "C38", "C29", "C33", "C35", "C26", "C27", "C17", "C13", "C30"]
ORG_KINDS = ["solution_provider", "financial_institution", "training_body", "enterprise"]
PRICE_BANDS = [(0, 50_000), (50_000, 200_000), (200_000, 1_000_000), (1_000_000, 5_000_000)]


def price_band(price: int | None) -> str:
    """The facet bucket for a price (元): ``<5万``, ``5-20万``, ``20-100万`` or ``>100万``."""
    if price is None:
        return "面议"
    if price < 50_000:
        return "<5万"
    if price < 200_000:
        return "5-20万"
    if price < 1_000_000:
        return "20-100万"
    return ">100万"


def _sentence(rng: random.Random, cat_terms: list[str]) -> str:
    return (
        f"{rng.choice(['面向', '针对', '服务'])}{rng.choice(PRODUCTS)}企业"
        f"{rng.choice(PROCESSES)}环节，"
        f"基于{rng.choice(cat_terms)}与{rng.choice(EQUIPMENT)}{rng.choice(VERBS)}"
        f"{rng.choice(GOALS)}，{rng.choice(VERBS)}{rng.choice(GOALS)}。"
    )


def make_document(n: int, rng: random.Random) -> dict[str, Any]:
    """One listing as a search document (the shape of ``search.listings``)."""
    code = rng.choice(list(CATEGORIES))
    cat_name, cat_terms = CATEGORIES[code]
    top = code.split(".")[0]
    kind = {"finance": "finance", "talent": "training"}.get(top, "solution")
    term = rng.choice(cat_terms)
    product, adj = rng.choice(PRODUCTS), rng.choice(ADJ)
    title = f"{product}{adj}{term}{rng.choice(['解决方案', '服务', '平台', '项目', '系统'])}"
    if rng.random() < 0.3:
        title = f"{rng.choice(EQUIPMENT)}{term}{rng.choice(['改造', '升级', '建设'])}"
    price = rng.choice([None, rng.randrange(10, 5000) * 1000])
    return {
        "id": f"S-{n:07d}",
        "kind": kind,
        "title": title,
        "summary": _sentence(rng, cat_terms),
        "description": "".join(_sentence(rng, cat_terms) for _ in range(rng.randint(2, 5))),
        "tags": rng.sample(cat_terms, k=min(3, len(cat_terms))),
        "org_name": rng.choice(ORG_PREFIX) + rng.choice(ORG_CORE) + rng.choice(ORG_SUFFIX),
        "category_name": cat_name,
        "categories": [top, code],
        "regions": rng.sample(PROVINCES, k=rng.randint(1, 3)),
        "industries": rng.sample(INDUSTRIES, k=rng.randint(1, 2)),
        "org_kind": rng.choice(ORG_KINDS),
        "parks": [f"P-{rng.randrange(60):03d}"],
        "price_min": price,
        "price_band": price_band(price),
        "published_at": 1_700_000_000 + n * 17 % 60_000_000,
        "status": "published",
    }


def documents(count: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    """``count`` listings, deterministic for a given ``seed``."""
    rng = random.Random(seed)
    for n in range(count):
        yield make_document(n, rng)
