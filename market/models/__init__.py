"""ORM models, split by aggregate."""

from market.models.base import install_ref_listener, utcnow
from market.models.listing import ListingEvent, Need, Offering, offering_parks
from market.models.organization import Organization
from market.models.park import Park
from market.models.search_outbox import SearchOutbox
from market.models.user import User, UserSession, hash_token

__all__ = [
    "ListingEvent",
    "Need",
    "Offering",
    "Organization",
    "Park",
    "SearchOutbox",
    "User",
    "UserSession",
    "hash_token",
    "install_ref_listener",
    "offering_parks",
    "utcnow",
]
