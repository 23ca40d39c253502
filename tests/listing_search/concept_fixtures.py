"""A small concept map for tests of the admins' additions (independent of seed_data/concepts)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SMALL_MAP: dict[str, list[dict[str, Any]]] = {
    "application.json": [
        {
            "id": "wms",
            "name": "仓储管理",
            "synonyms": ["WMS", "仓库管理系统"],
            "english": ["warehouse management"],
            "categories": ["application.supply_chain"],
            "problems": ["发错货", "找不到货"],
        },
        {
            "id": "barcode",
            "name": "条码",
            "synonyms": ["条形码"],
            "broader": ["wms"],
            "categories": ["identifier.carrier"],
            "problems": ["发错货"],
        },
        {
            "id": "mes",
            "name": "生产管理",
            "synonyms": ["MES", "制造执行系统"],
            "english": ["manufacturing execution system"],
            "categories": ["application.mes"],
            "problems": ["生产进度看不到"],
        },
    ],
    "finance.json": [
        {
            "id": "leasing",
            "name": "融资租赁",
            "synonyms": ["设备租赁融资"],
            "categories": ["finance.leasing"],
            "problems": ["买设备钱不够"],
        }
    ],
}


def write_small_map(directory: Path) -> Path:
    """Write :data:`SMALL_MAP` as concept files into ``directory`` and return it."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, concepts in SMALL_MAP.items():
        data = {"version": "test-1", "concepts": concepts}
        (directory / name).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return directory
