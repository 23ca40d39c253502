"""Forms of the matching pages: 不相关 feedback, the weights, the feedback filter."""

from __future__ import annotations

import math
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, HiddenField, SearchField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from market.recommendations.reasons import RULE_LABELS
from market.recommendations.service import REASON_MAX
from matching.weights import SOFT_RULES

SIDE_LABELS: dict[str, Any] = {"need": _l("需求方"), "offering": _l("供给方")}


class FeedbackForm(FlaskForm):
    partner = HiddenField(validators=[DataRequired(message=_l("缺少要反馈的条目。"))])
    reason = TextAreaField(
        _l("不相关的原因"),
        validators=[
            DataRequired(message=_l("请填写不相关的原因。")),
            Length(max=REASON_MAX, message=_l("原因不能超过 %(max)d 个字。")),
        ],
        render_kw={"rows": 3, "maxlength": REASON_MAX},
    )
    next = HiddenField()


def _between_0_and_100(form: Any, field: Field) -> None:
    try:
        value = float(str(field.data).strip())
    except (TypeError, ValueError):
        raise ValidationError(_l("请输入 0 到 100 之间的数。")) from None
    if not math.isfinite(value) or not 0 <= value <= 100:
        raise ValidationError(_l("请输入 0 到 100 之间的数。"))


def _points(label: Any) -> StringField:
    # A text field parsed here, so every message is ours (and in Chinese).
    return StringField(
        label,
        validators=[InputRequired(message=_l("请填写数值。")), _between_0_and_100],
        render_kw={"inputmode": "decimal"},
    )


class WeightsForm(FlaskForm):
    threshold = _points(_l("显示阈值（低于此分数的配对不展示）"))
    category = _points(RULE_LABELS["category"])
    capability = _points(RULE_LABELS["capability"])
    industry = _points(RULE_LABELS["industry"])
    park = _points(RULE_LABELS["park"])
    verified = _points(RULE_LABELS["verified"])
    price = _points(RULE_LABELS["price"])
    freshness = _points(RULE_LABELS["freshness"])
    response = _points(RULE_LABELS["response"])

    def weights(self) -> dict[str, float]:
        """The validated weights (call after ``validate``)."""
        return {rule: float(getattr(self, rule).data) for rule in SOFT_RULES}

    def fill(self, threshold: float, weights: dict[str, float]) -> None:
        self.threshold.data = f"{threshold:g}"
        for rule in SOFT_RULES:
            getattr(self, rule).data = f"{weights.get(rule, 0.0):g}"


class FeedbackFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = SearchField(_l("搜索"), validators=[Optional(), Length(max=100)])
    side = SelectField(_l("反馈方"), validators=[Optional()])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.side.choices = [("", _l("全部")), *SIDE_LABELS.items()]

    def query(self) -> str:
        return "" if self.q.errors else str(self.q.data or "").strip()

    def side_value(self) -> str:
        return "" if self.side.errors else str(self.side.data or "")
