"""ORM models, split by aggregate."""

from market.models.base import install_ref_listener, utcnow
from market.models.catalogue import CatalogueEdition, CatalogueEntry
from market.models.concept_entry import ConceptEntry, ZeroResultQuery
from market.models.digest import DigestLedger, DigestPreference
from market.models.docking import Docking, DockingEvent
from market.models.jobs import ExpiryNotice, JobRun, SchedulerLease
from market.models.listing import ListingEvent, Need, Offering, offering_parks
from market.models.mail_queue import MailJob
from market.models.organization import Organization
from market.models.park import Park
from market.models.park_invitation import ParkInvitation
from market.models.recommendation import MatchFeedback, MatchOutbox, MatchSettings, Recommendation
from market.models.search_outbox import SearchOutbox
from market.models.signup_request import SignupRequest
from market.models.user import User, UserSession, hash_token

__all__ = [
    "CatalogueEdition",
    "CatalogueEntry",
    "ConceptEntry",
    "DigestLedger",
    "DigestPreference",
    "Docking",
    "DockingEvent",
    "ExpiryNotice",
    "JobRun",
    "ListingEvent",
    "MailJob",
    "MatchFeedback",
    "MatchOutbox",
    "MatchSettings",
    "Need",
    "Offering",
    "Organization",
    "Park",
    "ParkInvitation",
    "Recommendation",
    "SchedulerLease",
    "SearchOutbox",
    "SignupRequest",
    "User",
    "UserSession",
    "ZeroResultQuery",
    "hash_token",
    "install_ref_listener",
    "offering_parks",
    "utcnow",
]
