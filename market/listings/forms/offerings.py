"""Forms of the offerings blueprint: the listing editor and the bulk upload."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    DateField,
    Field,
    FloatField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Optional, ValidationError

from market.core import reference
from market.dataset.field_rules import Record, Tags
from market.listings.forms import choices
from market.models import Offering, Organization

MULTI_HINT = _l("可多选：按住 Ctrl（Mac 上为 ⌘）点选。")


def check_order(low: Field, high: Field, message: Any) -> None:
    """Field error on ``high`` when both are filled in and ``low`` exceeds it."""
    if low.data is not None and high.data is not None and low.data > high.data:
        raise ValidationError(str(message))


def tags_text(tags: list[str]) -> str:
    return "、".join(tags)


class OfferingForm(FlaskForm):
    """One offering; the finance and training parts are shown only for those kinds."""

    kind = SelectField(_l("供给类型"), validators=[InputRequired(message=_l("请选择供给类型。"))])
    category = SelectField(_l("类别"), validators=[InputRequired(message=_l("请选择类别。"))])
    title = StringField(
        _l("标题"),
        validators=[DataRequired(message=_l("请填写标题。")), Record("offerings", "title")],
        description=_l("如：注塑机设备上云与 OEE 分析"),
    )
    summary = TextAreaField(
        _l("简介"),
        validators=[Optional(), Record("offerings", "summary")],
        description=_l("一两句话，显示在列表中。"),
    )
    description = TextAreaField(
        _l("详细描述"),
        validators=[Optional(), Record("offerings", "description")],
        description=_l("方案内容、实施周期、成功案例等。提交审核前必须填写。"),
    )
    tags = StringField(
        _l("标签"),
        validators=[Optional(), Tags()],
        description=_l("用逗号或顿号分隔，如：设备上云、OEE、数据采集"),
    )
    industries = SelectMultipleField(_l("适用行业"), description=MULTI_HINT)
    regions = SelectMultipleField(_l("服务地区"), description=MULTI_HINT)
    parks = SelectMultipleField(_l("服务园区"), description=MULTI_HINT)
    price_min = IntegerField(
        _l("最低价格（元）"), validators=[Optional(), Record("offerings", "price_min")]
    )
    price_max = IntegerField(
        _l("最高价格（元）"), validators=[Optional(), Record("offerings", "price_max")]
    )
    price_unit = StringField(
        _l("计价单位"),
        validators=[Optional(), Record("offerings", "price_unit")],
        description=_l("如：元/项目、元/年"),
    )
    # finance
    amount_min = IntegerField(
        _l("最低额度（元）"), validators=[Optional(), Record("offerings", "amount_min")]
    )
    amount_max = IntegerField(
        _l("最高额度（元）"), validators=[Optional(), Record("offerings", "amount_max")]
    )
    rate_min = FloatField(
        _l("最低年利率（%）"),
        validators=[Optional(), Record("offerings", "rate_min")],
        render_kw={"step": "any"},
    )
    rate_max = FloatField(
        _l("最高年利率（%）"),
        validators=[Optional(), Record("offerings", "rate_max")],
        render_kw={"step": "any"},
    )
    term_months_max = IntegerField(
        _l("最长期限（月）"),
        validators=[Optional(), Record("offerings", "term_months_max")],
    )
    eligible_sizes = SelectMultipleField(_l("适用企业规模"), description=MULTI_HINT)
    # training
    mode = SelectField(_l("培训方式"), validators=[Optional()])
    starts_on = DateField(
        _l("开班日期"),
        validators=[Optional(), Record("offerings", "starts_on")],
        format="%Y-%m-%d",
    )
    capacity = IntegerField(
        _l("招生人数"),
        validators=[Optional(), Record("offerings", "capacity")],
    )
    certificate = StringField(
        _l("结业证书"),
        validators=[Optional(), Record("offerings", "certificate")],
        description=_l("如：工业机器人系统运维员职业技能等级证书（中级）"),
    )
    save = SubmitField(_l("保存草稿"))
    save_submit = SubmitField(_l("保存并提交审核"))

    def __init__(self, org: Organization, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = choices.kind_choices(org.offering_kinds)
        self.category.choices = choices.category_choices(org.offering_kinds)
        self.industries.choices = choices.industry_choices()
        self.regions.choices = choices.region_choices()
        self.parks.choices = choices.park_choices()
        self.eligible_sizes.choices = choices.size_choices()
        self.mode.choices = choices.mode_choices()

    def validate_category(self, field: Field) -> None:
        kind = reference.category_kind(field.data or "")
        if kind is not None and kind != self.kind.data:
            raise ValidationError(
                _("该类别属于“%(kind)s”，与供给类型不一致。", kind=choices.kind_label(kind))
            )

    def validate_price_max(self, field: Field) -> None:
        check_order(self.price_min, field, _l("最高价格不能低于最低价格。"))

    def validate_amount_max(self, field: Field) -> None:
        check_order(self.amount_min, field, _l("最高额度不能低于最低额度。"))

    def validate_rate_max(self, field: Field) -> None:
        check_order(self.rate_min, field, _l("最高利率不能低于最低利率。"))

    @property
    def chosen_kind(self) -> str:
        """The kind the page is about, for showing the matching part of the form."""
        return str(self.kind.data or "")


# Columns copied into the form as they are; tags, parks and mode need converting.
PLAIN_FIELDS = (
    "kind",
    "category",
    "title",
    "summary",
    "description",
    "industries",
    "regions",
    "price_min",
    "price_max",
    "price_unit",
    "amount_min",
    "amount_max",
    "rate_min",
    "rate_max",
    "term_months_max",
    "eligible_sizes",
    "starts_on",
    "capacity",
    "certificate",
)


def offering_form_data(item: Offering) -> dict[str, Any]:
    """The form's initial values for editing ``item``."""
    data: dict[str, Any] = {name: getattr(item, name) for name in PLAIN_FIELDS}
    data["tags"] = tags_text(item.tags or [])
    data["parks"] = [p.ref for p in item.parks]
    data["mode"] = item.mode or ""
    return data


class UploadForm(FlaskForm):
    """A spreadsheet of offerings (xlsx or csv) made from the download template."""

    file = FileField(
        _l("文件"),
        validators=[
            FileRequired(message=_l("请选择要上传的文件。")),
            FileAllowed(["xlsx", "csv"], message=_l("只支持 .xlsx 或 .csv 文件。")),
        ],
    )
    upload = SubmitField(_l("上传并导入"))
