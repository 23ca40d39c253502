"""The rule registry: every rule the matcher applies, with what its reasons carry.

A *hard* rule excludes a pair that breaks it; a few hard rules also leave a 0-point
:class:`~matching.types.Part` when they have something worth saying (服务江苏省,
符合申请条件, 开课日期). A *soft* rule gives up to its weight in points
(``seed_data/matching/weights.json``). ``params`` lists the keys the rule's
``Part.params`` may carry, so the app can render a sentence from ``(rule, params)``
in any language. The numbers behind the rules (partial credit, saturation) are the
constants below; ``matching/README.md`` explains each choice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    hard: bool
    description_zh: str
    params: tuple[str, ...] = ()


_ALL = (
    Rule(
        "listing_open",
        True,
        "供给已发布且未过期，需求处于征集中",
    ),
    Rule(
        "kind_category",
        True,
        "类型一致（方案、金融、培训），且类别同属一个一级类别（一级类别与其下子类兼容）",
    ),
    Rule(
        "region",
        True,
        "供给服务需求所在省份、明确服务其园区，或服务全国",
        ("scope", "province", "park_id"),
    ),
    Rule(
        "budget",
        True,
        "双方都给出时，报价下限不高于预算上限",
        ("price_min", "budget_max"),
    ),
    Rule(
        "finance_eligibility",
        True,
        "金融产品：企业规模在适用范围内（未限定则不限），融资金额在产品额度范围内",
        ("size", "eligible_sizes", "amount", "amount_min", "amount_max"),
    ),
    Rule(
        "training_dates",
        True,
        "培训课程尚未开课（或未定开课日期）",
        ("starts_on",),
    ),
    Rule(
        "category",
        False,
        "同属一个子类别得满分，同属一个一级类别得部分分",
        ("category", "level"),
    ),
    Rule(
        "capability",
        False,
        "需求与供给的文字和标签所述能力重合（同义词归一后的 TF-IDF 余弦相似度）",
        ("terms", "similarity"),
    ),
    Rule(
        "industry",
        False,
        "行业匹配：同一国民经济行业大类得满分，同一门类得部分分",
        ("industry", "level"),
    ),
    Rule(
        "park",
        False,
        "供给明确服务需求所在园区",
        ("park_id",),
    ),
    Rule(
        "verified",
        False,
        "提供方已通过认证",
        (),
    ),
    Rule(
        "price",
        False,
        "报价在预算内的位置（金融：融资金额在产品额度内）",
        ("position", "price_min", "price_max", "budget_min", "budget_max", "amount"),
    ),
    Rule(
        "freshness",
        False,
        "供给近期发布",
        ("days",),
    ),
    Rule(
        "response",
        False,
        "提供方对对接申请的响应记录（7 天内答复的比例）",
        ("rate_pct",),
    ),
)

RULES: Mapping[str, Rule] = MappingProxyType({r.name: r for r in _ALL})
HARD_RULES = tuple(r.name for r in _ALL if r.hard)
SOFT_RULE_NAMES = tuple(r.name for r in _ALL if not r.hard)

# Partial credit and shapes (fractions of a rule's weight).
CATEGORY_BRANCH_SHARE = 0.4  # same top-level branch but not the same leaf
INDUSTRY_SECTION_SHARE = 0.5  # same GB/T 4754 section (门类), not the same division
PRICE_OVERLAP_SHARE = 0.5  # the price range reaches above the budget
CAPABILITY_SATURATION = 0.45  # cosine at which the capability rule gives full points
FRESH_FULL_DAYS = 30  # published within this many days: full freshness points
FRESH_ZERO_DAYS = 365  # ...falling linearly to 0 at this age
NATIONWIDE = "全国"
SIZES = ("large", "medium", "small", "micro")
