"""Settings of the platform's two indexes (offerings, needs).

The app maps a listing to a document with these fields (see search/README.md);
search itself knows nothing of the app's models.
"""

from __future__ import annotations

from search.types import IndexSettings, SearchableField

SEARCHABLE = (
    SearchableField("title", 8.0),
    SearchableField("tags", 4.0),
    SearchableField("category_name", 3.0),
    SearchableField("summary", 2.0, crop=True),
    SearchableField("org_name", 1.5),
    SearchableField("description", 1.0, crop=True),
)
FILTERABLE = (
    "kind",
    "categories",
    "regions",
    "industries",
    "org_kind",
    "parks",
    "price_band",
    "price_min",
    "price_max",
    "status",
)
SORTABLE = ("published_at", "price_min")
INDEXES = ("offerings", "needs")
# Words a person uses for what an index holds rather than for what is sought: a
# vendor searching the needs types 找有MES需求的企业, a buyer 视觉检测方案. Query
# understanding gives them no weight on that index.
INDEX_WORDS: dict[str, tuple[str, ...]] = {
    "needs": (
        "需求",
        "企业",
        "客户",
        "公司",
        "工厂",
        "厂家",
        "厂商",
        "甲方",
        "买家",
        "用户",
        "线索",
        "销售线索",
        "商机",
        "项目需求",
    ),
    "offerings": ("方案", "解决方案", "服务商", "供应商", "提供商", "厂商", "产品", "服务", "卖家"),
}


def listing_settings(synonyms: tuple[tuple[str, ...], ...] = ()) -> IndexSettings:
    """The settings both listing indexes use."""
    return IndexSettings(
        searchable=SEARCHABLE, filterable=FILTERABLE, sortable=SORTABLE, synonyms=synonyms
    )
