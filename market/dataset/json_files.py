"""Reading one JSON file of a data set: strict JSON (no NaN, no duplicate keys), a
depth limit, errors as the format's RecordError."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flask_babel import gettext as _

from market.dataset import records
from market.dataset.records import RecordError

# --- reading ---------------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    raise ValueError(_("不允许的数值 %(v)s", v=name))


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(_("对象中重复的字段 %(key)s", key=key))
        seen[key] = value
    return seen


def read_file(path: Path) -> tuple[list[Any] | None, RecordError | None]:
    """The JSON array in ``path``, or the error that names why it cannot be read."""
    name = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return None, RecordError(name, None, None, _("缺少必需的文件"))
    except UnicodeDecodeError:
        return None, RecordError(name, None, None, _("文件不是 UTF-8 编码"))
    except OSError as exc:
        return None, RecordError(name, None, None, _("无法读取文件：%(e)s", e=exc.strerror or exc))
    try:
        data = json.loads(
            text, object_pairs_hook=_no_duplicate_keys, parse_constant=_reject_constant
        )
    except json.JSONDecodeError as exc:
        return None, RecordError(
            name,
            None,
            None,
            _(
                "JSON 格式错误（第 %(line)d 行第 %(col)d 列）：%(msg)s",
                line=exc.lineno,
                col=exc.colno,
                msg=exc.msg,
            ),
        )
    except ValueError as exc:
        return None, RecordError(name, None, None, _("JSON 格式错误：%(msg)s", msg=exc))
    except RecursionError:
        # Nested past what the parser can descend: deeper than any record, by far.
        return None, _too_deep(name)
    if _depth_exceeds(data, records.MAX_JSON_DEPTH):
        return None, _too_deep(name)
    if not isinstance(data, list):
        return None, RecordError(name, None, None, _("文件内容应为一个 JSON 数组（[…]）"))
    return data, None


def _too_deep(name: str) -> RecordError:
    return RecordError(
        name, None, None, _("JSON 嵌套层数过多（最多 %(n)d 层）", n=records.MAX_JSON_DEPTH)
    )


def _depth_exceeds(data: Any, limit: int) -> bool:
    """Whether arrays and objects nest more than ``limit`` deep (walked without recursion)."""
    level: list[Any] = [data] if isinstance(data, list | dict) else []
    for _depth in range(limit):
        level = [
            child
            for node in level
            for child in (node.values() if isinstance(node, dict) else node)
            if isinstance(child, list | dict)
        ]
        if not level:
            return False
    return True
