"""The campaign report (活动总结): a park's or a province's figures for a period.

``build`` gives the dict that ``market report --json``, the API and the report page
share (the keys of interfaces.md first, more after); ``to_xlsx`` and ``to_pdf`` render
the same figures for 张主任 to file and print.
"""

from __future__ import annotations

import io
from typing import Any

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import func, select

from market.core.extensions import db
from market.core.report_period import Period
from market.models import Park
from market.parkops import figures as park_figures
from market.parkops.figures import Dashboard
from market.parkops.scope import Scope

# The order of the summary rows in XLSX and PDF; labels are looked up at render time.
SUMMARY_KEYS = (
    "offerings_serving_park",
    "open_needs",
    "enterprises",
    "catalogue_editions",
    "recommended",
    "docking_requests",
    "accepted",
    "deals",
    "deal_amount",
    "financing_applications",
    "financing_applied",
    "financing_granted",
    "training_registrations",
    "training_certificates",
    "unserved_needs",
)
MONEY_KEYS = frozenset({"deal_amount", "financing_applied", "financing_granted"})


def summary_labels() -> dict[str, str]:
    """Chinese (or English) row labels of the summary, by key."""
    return {
        "offerings_serving_park": _("服务本园区的供给（条）"),
        "open_needs": _("征集中需求（条）"),
        "enterprises": _("入驻企业（家）"),
        "catalogue_editions": _("发布供需目录（期）"),
        "recommended": _("智能推荐（对）"),
        "docking_requests": _("对接请求（次）"),
        "accepted": _("已受理对接（次）"),
        "deals": _("达成合作（项）"),
        "deal_amount": _("合作金额（元）"),
        "financing_applications": _("融资申请（笔）"),
        "financing_applied": _("申请融资金额（元）"),
        "financing_granted": _("获得融资金额（元）"),
        "training_registrations": _("培训报名（人次）"),
        "training_certificates": _("获得证书（人）"),
        "unserved_needs": _("尚无合适推荐的需求（条）"),
    }


def from_dashboard(board: Dashboard) -> dict[str, Any]:
    """The report dict of an already computed dashboard."""
    scope, period = board.scope, board.period
    head: dict[str, Any] = (
        {"park": scope.ref} if scope.park is not None else {"province": scope.province}
    )
    report: dict[str, Any] = {
        **head,
        "from": period.start.isoformat(),
        "to": period.end.isoformat(),
        "offerings_serving_park": board.pool.offerings,
        "open_needs": board.pool.open_needs,
        "enterprises": board.pool.enterprises,
        "catalogue_editions": len(board.editions),
        "docking_requests": board.funnel.requested,
        "deals": board.funnel.deals,
        "deal_amount": board.funnel.deal_amount,
        "financing_applied": board.financing.applied,
        "financing_granted": board.financing.granted,
        "training_registrations": board.training.registrations,
        "by_category": board.by_category,
        # More keys may follow (interfaces.md): these are the dashboard's other figures.
        "name": scope.name,
        "recommended": board.funnel.recommended,
        "accepted": board.funnel.accepted,
        "financing_applications": board.financing.applications,
        "training_certificates": board.training.certificates,
        "unserved_needs": board.unserved,
        "recommendation_threshold": board.threshold,
        "by_month": board.by_month,
    }
    if scope.park is None:
        report["parks"] = int(
            db.session.scalar(select(func.count(Park.id)).where(Park.province == scope.province))
            or 0
        )
    return report


def build(scope: Scope, period: Period) -> dict[str, Any]:
    """The report for ``scope`` over ``period`` (see park_figures for what each counts)."""
    return from_dashboard(park_figures.dashboard(scope, period))


def _title(report: dict[str, Any]) -> str:
    return _(
        "%(name)s 对接成效报告（%(start)s 至 %(end)s）",
        name=report["name"],
        start=report["from"],
        end=report["to"],
    )


def to_xlsx(report: dict[str, Any], board: Dashboard | None = None) -> bytes:
    """A workbook: 汇总 (summary), 分类 (by category), 月度 (by month), and, given the
    dashboard, 服务商 (most active providers)."""
    from market.core.i18n import category_label

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = _("汇总")
    sheet.append([_title(report)])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([_("统计区间"), f"{report['from']} — {report['to']}"])
    sheet.append([])
    labels = summary_labels()
    sheet.append([_("指标"), _("数值")])
    for key in SUMMARY_KEYS:
        sheet.append([labels[key], int(report[key])])
        if key in MONEY_KEYS:
            sheet.cell(row=sheet.max_row, column=2).number_format = "#,##0"
    sheet.column_dimensions["A"].width = 32
    sheet.column_dimensions["B"].width = 18

    cats = book.create_sheet(_("分类"))
    cats.append([_("类别代码"), _("类别"), _("供给（条）"), _("需求（条）")])
    for code, counts in report["by_category"].items():
        cats.append([code, category_label(code), counts["offerings"], counts["needs"]])
    cats.column_dimensions["A"].width = 28
    cats.column_dimensions["B"].width = 24

    months = book.create_sheet(_("月度"))
    months.append([_("月份"), _("新发布供给"), _("新发布需求"), _("新发起对接"), _("其中达成合作")])
    for month, row in report["by_month"].items():
        months.append([month, row["offerings"], row["needs"], row["dockings"], row["deals"]])

    if board is not None:
        providers = book.create_sheet(_("服务商"))
        providers.append(
            [_("机构编号"), _("机构"), _("对接（次）"), _("合作（项）"), _("合作金额（元）")]
        )
        for p in board.providers:
            providers.append([p.ref, p.name, p.dockings, p.deals, p.deal_amount])
        providers.column_dimensions["B"].width = 36
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_pdf(report: dict[str, Any], board: Dashboard | None = None) -> bytes:
    """The report as an A4 PDF (the catalogue's PDF module, Chinese fonts embedded): a
    cover, the summary, categories, months and, given the dashboard, the providers.

    Raises pdf_document.FontMissing when no Chinese font is installed.
    """
    from market.core.i18n import category_label, money
    from market.core.pdf import PdfDocument

    title = _title(report)
    doc = PdfDocument(title=title, footer=title)
    doc.cover(
        str(report["name"]),
        _("对接成效报告"),
        [_("统计区间：%(start)s 至 %(end)s", start=report["from"], end=report["to"])],
    )
    doc.new_page()
    labels = summary_labels()
    doc.heading(_("汇总"), 0)
    doc.table(
        [_("指标"), _("数值")],
        [
            [labels[k], money(report[k]) if k in MONEY_KEYS else str(report[k])]
            for k in SUMMARY_KEYS
        ],
        [3, 1],
    )
    doc.heading(_("各类别的供给与需求"), 0)
    doc.table(
        [_("类别"), _("供给（条）"), _("需求（条）")],
        [
            [category_label(code), str(c["offerings"]), str(c["needs"])]
            for code, c in report["by_category"].items()
        ]
        or [[_("本期暂无数据。"), "", ""]],
        [3, 1, 1],
    )
    doc.heading(_("按月新增"), 0)
    doc.table(
        [_("月份"), _("新发布供给"), _("新发布需求"), _("新发起对接"), _("其中达成合作")],
        [
            [m, str(r["offerings"]), str(r["needs"]), str(r["dockings"]), str(r["deals"])]
            for m, r in report["by_month"].items()
        ],
        [2, 1, 1, 1, 1],
    )
    if board is not None and board.providers:
        doc.heading(_("最活跃的服务商"), 0)
        doc.table(
            [_("机构"), _("对接（次）"), _("合作（项）"), _("合作金额（元）")],
            [
                [p.name, str(p.dockings), str(p.deals), money(p.deal_amount)]
                for p in board.providers
            ],
            [3, 1, 1, 1.5],
        )
    doc.paragraph(
        _(
            "口径：资源池为统计截止日前发布、目前仍公开的条目；对接、融资、培训按发起时间"
            "计入区间，显示其目前到达的环节；供需目录按发布时间计入。"
        ),
        size=9,
    )
    return doc.output()
