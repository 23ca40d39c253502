"""The rule-based matcher: plain Python, no Flask and no ``market`` imports.

It takes needs, offerings and organizations as plain data plus candidates, and
returns ranked pairs with scores (0..100, the sum of the rules' parts) and the
parameters of every reason (see matching/README.md and ARCHITECTURE.md).
"""

from matching.blocking import Blocking, blocking_for_need, blocking_for_offering
from matching.bulk import AllMatches, recompute_all
from matching.context import Context
from matching.engine import complements_for_need, rank_for_need, rank_for_offering
from matching.rules import RULES, Rule
from matching.text import TextModel
from matching.types import (
    Enterprise,
    Match,
    NeedRecord,
    OfferingRecord,
    Part,
    Provider,
)
from matching.weights import Weights, load_weights

__all__ = [
    "RULES",
    "AllMatches",
    "Blocking",
    "Context",
    "Enterprise",
    "Match",
    "NeedRecord",
    "OfferingRecord",
    "Part",
    "Provider",
    "Rule",
    "TextModel",
    "Weights",
    "blocking_for_need",
    "blocking_for_offering",
    "complements_for_need",
    "load_weights",
    "rank_for_need",
    "rank_for_offering",
    "recompute_all",
]
