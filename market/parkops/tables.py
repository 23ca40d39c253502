"""The dashboard's tables: one definition feeds the chart, its table view and its CSV.

Also the 招商 shortlist's table; the CSV and XLSX writers (with the formula guard)
are core.tabular's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _

from market.core.tabular import Cell
from market.parkops.chains import Candidate
from market.parkops.figures import Dashboard


@dataclass(frozen=True)
class Table:
    """A titled table with a header row; ``chart`` says how the page draws it."""

    name: str
    title: str
    headers: tuple[str, ...]
    rows: list[tuple[Cell, ...]]
    chart: str | None = None  # "bar", "hbar", "line" or None (table only)
    # How many value columns the chart draws (the rest, such as rates, are table-only).
    series: int | None = None

    def chart_config(self) -> dict[str, Any]:
        """Labels (first column) and one dataset per other column, for static/js/park-charts.js."""
        return {
            "type": self.chart,
            "labels": [str(row[0]) for row in self.rows],
            "datasets": [
                {"label": header, "data": [row[i + 1] or 0 for row in self.rows]}
                for i, header in enumerate(self.headers[1:][: self.series])
            ],
        }


TABLE_NAMES = ("category", "month", "funnel", "providers")


def table(name: str, board: Dashboard) -> Table:
    """The dashboard table ``name`` (one of TABLE_NAMES); KeyError for another name."""
    from market.core.i18n import category_label

    if name == "category":
        return Table(
            name,
            _("各类别的供给与需求"),
            (_("类别"), _("供给（条）"), _("需求（条）")),
            [(category_label(c), v["offerings"], v["needs"]) for c, v in board.by_category.items()],
            chart="hbar",
        )
    if name == "month":
        return Table(
            name,
            _("按月新增"),
            (_("月份"), _("新发布供给"), _("新发布需求"), _("新发起对接"), _("其中达成合作")),
            [
                (m, v["offerings"], v["needs"], v["dockings"], v["deals"])
                for m, v in board.by_month.items()
            ],
            chart="line",
        )
    if name == "funnel":
        f = board.funnel
        rates = f.rates()
        return Table(
            name,
            _("对接漏斗"),
            (_("环节"), _("数量"), _("较上一环节（%）")),
            [
                (_("智能推荐"), f.recommended, None),
                (_("发起对接"), f.requested, rates["requested"]),
                (_("受理对接"), f.accepted, rates["accepted"]),
                (_("达成合作"), f.deals, rates["deals"]),
            ],
            chart="bar",
            series=1,
        )
    if name == "providers":
        return Table(
            name,
            _("最活跃的服务商"),
            (_("机构"), _("对接（次）"), _("合作（项）"), _("合作金额（元）")),
            [(p.name, p.dockings, p.deals, p.deal_amount) for p in board.providers],
        )
    raise KeyError(name)


def invitation_label(status: str | None) -> str:
    """已邀请/已接受/已谢绝/已过期 in the current language; empty when never invited."""
    labels = {
        "sent": _("已邀请"),
        "accepted": _("已接受"),
        "declined": _("已谢绝"),
        "expired": _("已过期"),
    }
    return labels.get(status or "", "")


def shortlist_table(
    candidates: Sequence[Candidate],
) -> tuple[tuple[str, ...], list[tuple[Cell, ...]]]:
    """Headers and rows of a 招商 shortlist export."""
    from market.core.i18n import category_label
    from market.core.urls import absolute_url

    headers = (
        _("供给编号"),
        _("供给"),
        _("服务商"),
        _("服务商所在省份"),
        _("类别"),
        _("适配本园区需求（条）"),
        _("最高匹配分"),
        _("邀请状态"),
        _("链接"),
    )
    rows: list[tuple[Cell, ...]] = [
        (
            c.offering.ref,
            c.offering.title,
            c.offering.org.name,
            c.offering.org.province,
            category_label(c.offering.category),
            c.fitting_needs,
            round(c.best_score, 1) if c.best_score is not None else None,
            invitation_label(c.invitation),
            absolute_url("offerings.detail", ref=c.offering.ref),
        )
        for c in candidates
    ]
    return headers, rows
