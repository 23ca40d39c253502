"""Factories for the catalogue tests: a park with staff, providers, enterprises and listings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from market.catalogue import compile as compile_
from market.catalogue import service
from market.core.extensions import db
from market.models import CatalogueEdition, Need, Offering, Organization, Park, User, utcnow
from tests.conftest import make_need, make_offering, make_org, make_park, make_user


@dataclass
class ParkSetup:
    """One park with a staff member, an enterprise, a provider and listings serving it."""

    park: Park
    staff: User
    operator: Organization
    enterprise: Organization
    provider: Organization
    offerings: list[Offering] = field(default_factory=list)
    needs: list[Need] = field(default_factory=list)


def make_park_setup(**park_fields: Any) -> ParkSetup:
    """A park in 江苏省 with: an offering naming the park, one serving 江苏省, one 全国
    (finance), one for 浙江省 only (not proposed), an archived one (not proposed); two
    open needs of its enterprise and a closed one (not proposed)."""
    park = make_park(**park_fields)
    operator = make_org(kind="park_operator", park=park, name=f"{park.name}管委会")
    staff = make_user(org=operator, role="park_staff")
    enterprise = make_org(kind="enterprise", park=park, name="苏州精密冲压有限公司")
    provider = make_org(kind="solution_provider", name="华东智能视觉科技有限公司")
    bank = make_org(kind="financial_institution", name="苏州科技银行")
    later = utcnow() + timedelta(days=90)
    setup = ParkSetup(park, staff, operator, enterprise, provider)
    setup.offerings = [
        make_offering(
            org=provider, title="冲压件表面缺陷视觉检测", parks=[park], regions=[], expires_at=later
        ),
        make_offering(
            org=provider,
            title="注塑机设备上云与OEE分析",
            category="platform.equipment_cloud",
            regions=["江苏省"],
            expires_at=later,
        ),
        make_offering(
            org=bank,
            kind="finance",
            category="finance.leasing",
            title="设备融资租赁",
            regions=["全国"],
            price_min=None,
            price_max=None,
            amount_min=500000,
            amount_max=5000000,
            rate_min=4.5,
            rate_max=6.0,
            expires_at=later,
        ),
    ]
    make_offering(org=provider, title="浙江专属方案", regions=["浙江省"], expires_at=later)
    make_offering(org=provider, title="已下架的方案", regions=["江苏省"], status="archived")
    setup.needs = [
        make_need(org=enterprise, title="冲压件表面划痕检测"),
        make_need(
            org=enterprise,
            title="车间5G专网覆盖",
            category="network.5g_private",
            deadline=(utcnow() + timedelta(days=60)).date(),
        ),
    ]
    make_need(org=enterprise, title="已关闭的需求", status="closed")
    db.session.flush()
    return setup


def make_edition(park: Park, **fields: Any) -> CatalogueEdition:
    """A draft for the park, through the service (so it starts as staff would start it)."""
    edition = service.new_edition(compile_.park_scope(park), None, fields.pop("title", None))
    for key, value in fields.items():
        setattr(edition, key, value)
    db.session.flush()
    return edition


def publish_edition(park: Park, **fields: Any) -> CatalogueEdition:
    edition = make_edition(park, **fields)
    service.publish(edition, None)
    db.session.commit()
    return edition
