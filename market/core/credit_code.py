"""统一社会信用代码 (GB 32100-2015) check-digit validation."""

from __future__ import annotations

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_VALUES = {ch: i for i, ch in enumerate(CHARSET)}


def check_digit(first17: str) -> str:
    """The 18th character for the given first 17; ValueError on a character outside the set."""
    total = sum(_VALUES[ch] * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def normalize(code: str) -> str:
    return code.strip().upper()


def is_valid(code: str) -> bool:
    """True when ``code`` is 18 characters from the GB 32100 set with a correct check digit."""
    code = normalize(code)
    if len(code) != 18 or any(ch not in _VALUES for ch in code):
        return False
    return check_digit(code[:17]) == code[17]
