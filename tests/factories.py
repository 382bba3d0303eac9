"""Factories for every model, in one place."""

import datetime
import importlib
from decimal import Decimal

import factory
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import Account, Contact, Employment, Industry, ProductLine, Region, normalize_company_name
from team.models import User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.django.Password("pw-for-tests")
    role = User.Role.REP


class RepFactory(UserFactory):
    role = User.Role.REP
    manager = factory.SubFactory("tests.factories.ManagerFactory")


class ManagerFactory(UserFactory):
    role = User.Role.MANAGER


class AdminFactory(UserFactory):
    role = User.Role.ADMIN
    is_staff = True
    is_superuser = True


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ["name"]

    name = factory.Iterator(["North", "East", "West"])


class IndustryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Industry
        django_get_or_create = ["name"]

    name = factory.Iterator(["Manufacturing", "Finance", "Healthcare", "Retail"])


class ProductLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductLine
        django_get_or_create = ["name"]

    name = factory.Iterator(["Analytics", "Cloud", "Support"])


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Company {n}")
    normalized_name = factory.LazyAttribute(lambda o: normalize_company_name(o.name))
    region = factory.SubFactory(RegionFactory)
    industry = factory.SubFactory(IndustryFactory)
    size_tier = Account.SizeTier.MID
    owner = factory.SubFactory(RepFactory)

    @factory.post_generation
    def coverage(obj, create, extracted, **kwargs):
        # Derived data the services keep: which territories cover the account.
        if create:
            importlib.import_module("accounts.territories").coverage_refresh(accounts=[obj.pk])


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"person{n}@customer.example")


class EmploymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Employment

    contact = factory.SubFactory(ContactFactory)
    account = factory.SubFactory(AccountFactory)
    title = "Head of IT"
    function = Employment.Function.IT
    seniority = Employment.Seniority.DIRECTOR
    start_date = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=400))
    end_date = None


def person_at(account: Account, **kwargs) -> Contact:
    """A contact currently working at the account."""
    return EmploymentFactory(account=account, **kwargs).contact


# --- service_catalog ------------------------------------------------------------------------


class ServiceItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "service_catalog.ServiceItem"

    name = factory.Sequence(lambda n: f"Service item {n}")
    category = "service"
    unit_cost = Decimal("100.00")
    active = True


class GrantFactory(factory.django.DjangoModelFactory):
    """An approved grant, as if the rep had granted it within his authority."""

    class Meta:
        model = "service_catalog.Grant"

    item = factory.SubFactory(ServiceItemFactory)
    quantity = 1
    unit_cost = factory.LazyAttribute(lambda o: o.item.unit_cost)
    amount = factory.LazyAttribute(lambda o: o.unit_cost * o.quantity)
    account = factory.SubFactory(AccountFactory)
    recipient = factory.LazyAttribute(lambda o: person_at(o.account))
    rep = factory.LazyAttribute(lambda o: o.account.owner)
    reason = "relationship"
    status = "approved"
    authorised_by = factory.LazyAttribute(lambda o: o.rep if o.status == "approved" else None)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # As the grant services do: the ledger's kept sums follow every grant written.
        from service_catalog.ledger_sums import ledger_sums_grant

        grant = super()._create(model_class, *args, **kwargs)
        ledger_sums_grant(grant)
        return grant


# --- coaches and pipeline -------------------------------------------------------------------


def default_stages() -> dict:
    """The default stages by name; created if a transactional test flushed the migration's rows."""
    from pipeline.models import Stage

    module = importlib.import_module("pipeline.migrations.0002_default_stages")
    stages = {}
    requirements = importlib.import_module("pipeline.migrations.0008_coach_requirement_from_flag").DEFAULT_REQUIREMENTS
    for name, order, probability, _flag, is_won, is_lost in module.DEFAULT_STAGES:
        stages[name] = Stage.objects.get_or_create(
            name=name,
            defaults={
                "order": order,
                "probability": probability,
                "coach_requirement": requirements.get(name, "none"),
                "is_won": is_won,
                "is_lost": is_lost,
            },
        )[0]
    return stages


def _cadence(o) -> int:
    from coaches.models import Coach

    return o.cadence_days or Coach.DEFAULT_CADENCE_DAYS[o.strength]


class CoachFactory(factory.django.DjangoModelFactory):
    """An active coach; the contact currently works at the account, and `holder` holds it as primary."""

    class Meta:
        model = "coaches.Coach"
        skip_postgeneration_save = True

    account = factory.SubFactory(AccountFactory)
    contact = factory.LazyAttribute(lambda o: person_at(o.account))
    strength = "coach"
    credible = True
    trusts_us = True
    wants_us_to_win = True
    established_on = factory.LazyFunction(timezone.localdate)
    last_interaction_on = None
    cadence_days = None
    # Derived as the services keep it: last touch + cadence.
    next_touch_due = factory.LazyAttribute(
        lambda o: (o.last_interaction_on or o.established_on) + datetime.timedelta(days=_cadence(o))
    )

    @factory.post_generation
    def holder(obj, create, extracted, **kwargs):
        if create:
            HolderFactory(coach=obj, user=extracted or obj.account.owner, is_primary=True)


class HolderFactory(factory.django.DjangoModelFactory):
    """A holder; the coach's kept holder count (`Coach.holder_count`) follows, as the services keep it."""

    class Meta:
        model = "coaches.Holder"

    coach = factory.SubFactory(CoachFactory)
    user = factory.SubFactory(RepFactory)
    is_primary = False

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from coaches.services import holder_counts_refresh

        with transaction.atomic():
            holder = super()._create(model_class, *args, **kwargs)
            holder_counts_refresh(coaches=(holder.coach,))
        return holder


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "coaches.Interaction"

    coach = factory.SubFactory(CoachFactory)
    user = factory.LazyAttribute(lambda o: o.coach.account.owner)
    kind = "meeting"
    occurred_on = factory.LazyFunction(timezone.localdate)


class OpportunityFactory(factory.django.DjangoModelFactory):
    """An open deal in Lead (pass `stage=` a Stage to start elsewhere, bypassing the gate)."""

    class Meta:
        model = "pipeline.Opportunity"

    account = factory.SubFactory(AccountFactory)
    name = factory.Sequence(lambda n: f"Deal {n}")
    product_line = factory.SubFactory(ProductLineFactory)
    amount = 10000
    stage = factory.LazyFunction(lambda: default_stages()["Lead"])
    owner = factory.LazyAttribute(lambda o: o.account.owner)


class StageChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "pipeline.StageChange"
        skip_postgeneration_save = True  # a save after `visit_facts` would write its stale copy over them

    opportunity = factory.SubFactory(OpportunityFactory)
    from_stage = None
    to_stage = factory.LazyAttribute(lambda o: o.opportunity.stage)
    kind = "advance"
    # The deal's owner, as the services write it (pipeline.stage_facts.stage_owners_refresh).
    owner = factory.LazyAttribute(lambda o: o.opportunity.owner)

    @factory.post_generation
    def visit_facts(self, create, extracted, **kwargs):
        """The deal's visit facts, as the services keep them for every move they write (pipeline.stage_facts)."""
        if create:
            from pipeline.stage_facts import stage_facts_refresh

            stage_facts_refresh([self.opportunity_id])


# --- buying styles and coach moves ----------------------------------------------------------


def default_playbook() -> dict:
    """The shipped playbook cards by style; created if a transactional test flushed the migration's rows."""
    from coaches.models import PlaybookCard

    module = importlib.import_module("coaches.migrations.0003_default_playbook")
    fields = ["in_short", "pace", "detail", "bring", "ask", "avoid", "close"]
    return {
        row[0]: PlaybookCard.objects.get_or_create(style=row[0], defaults=dict(zip(fields, row[1:], strict=True)))[0]
        for row in module.DEFAULT_CARDS
    }


class StyleReportFactory(factory.django.DjangoModelFactory):
    """A high-confidence report by an active coach about a person at the coach's account."""

    class Meta:
        model = "coaches.StyleReport"

    coach = factory.SubFactory(CoachFactory)
    contact = factory.LazyAttribute(lambda o: person_at(o.coach.account))
    recorded_by = factory.LazyAttribute(lambda o: o.coach.account.owner)
    style = "analytical"
    confidence = "high"
    reported_on = factory.LazyFunction(timezone.localdate)


class StanceReportFactory(factory.django.DjangoModelFactory):
    """A stance reported by an active coach about a person at the coach's account (coach=None: a rep's own)."""

    class Meta:
        model = "coaches.StanceReport"

    coach = factory.SubFactory(CoachFactory)
    contact = factory.LazyAttribute(lambda o: person_at(o.coach.account))
    recorded_by = factory.LazyAttribute(lambda o: o.coach.account.owner)
    stance = "supporter"
    reported_on = factory.LazyFunction(timezone.localdate)


class OpportunityContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "pipeline.OpportunityContact"

    opportunity = factory.SubFactory(OpportunityFactory)
    contact = factory.LazyAttribute(lambda o: person_at(o.opportunity.account))
    role = "decision_maker"


class CoachMoveFactory(factory.django.DjangoModelFactory):
    """A coach who moved, with the prospect and candidate coach record the task opened (no positions)."""

    class Meta:
        model = "coaches.CoachMove"

    contact = factory.SubFactory(ContactFactory)
    old_coach = factory.SubFactory(CoachFactory, contact=factory.SelfAttribute("..contact"), status="ended")
    from_account = factory.SelfAttribute("old_coach.account")
    to_account = factory.SubFactory(AccountFactory)
    new_coach = factory.SubFactory(
        CoachFactory, account=factory.SelfAttribute("..to_account"), contact=factory.SelfAttribute("..contact")
    )
    opportunity = factory.SubFactory(OpportunityFactory, account=factory.SelfAttribute("..to_account"))
    start_date = factory.LazyFunction(timezone.localdate)


# --- territories ----------------------------------------------------------------------------


class TerritoryFactory(factory.django.DjangoModelFactory):
    """An active territory at the end of the precedence order; pass `members=[...]`."""

    class Meta:
        model = "accounts.Territory"
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Territory {n}")
    order = factory.LazyFunction(
        lambda: (importlib.import_module("accounts.models").Territory.objects.aggregate(m=Max("order"))["m"] or 0) + 1
    )
    active = True

    @factory.post_generation
    def members(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.members.set(extracted)
        if create:
            importlib.import_module("accounts.territories").coverage_refresh(territories=[obj.pk])


# --- departures -----------------------------------------------------------------------------


class HandoverFactory(factory.django.DjangoModelFactory):
    """An open handover of a coach from its holder to his manager."""

    class Meta:
        model = "coaches.Handover"

    coach = factory.SubFactory(CoachFactory)
    from_user = factory.LazyAttribute(lambda o: o.coach.holders.get(is_primary=True).user)
    to_user = factory.LazyAttribute(lambda o: o.from_user.manager or ManagerFactory())
    reason = "Leaving and the only holder."


class TaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "agenda.Task"

    subject = factory.Sequence(lambda n: f"Task {n}")
    owner = factory.SubFactory(RepFactory)
    created_by = factory.LazyAttribute(lambda o: o.owner)
    due_on = factory.LazyFunction(timezone.localdate)


class SecurityEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "team.SecurityEvent"

    kind = "login"
    user = factory.SubFactory(RepFactory)
    username = factory.LazyAttribute(lambda o: o.user.username if o.user else "nobody")
    address = "192.0.2.10"


class WebhookFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "webhooks.Webhook"

    url = factory.Sequence(lambda n: f"https://93.184.216.34/hook/{n}")
    created_by = factory.SubFactory(AdminFactory)


class DeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "webhooks.Delivery"

    webhook = factory.SubFactory(WebhookFactory)
    event = "coach.ended"
    payload = factory.LazyAttribute(lambda o: {"event": o.event, "data": {"coach": 1}})
    status = "delivered"
    attempts = 1
    response_code = 200
    duration_ms = 42


class ExternalIdFactory(factory.django.DjangoModelFactory):
    """An account's id in HubSpot unless told otherwise (pass `record=` a contact or a deal)."""

    class Meta:
        model = "csvio.ExternalId"

    source = "hubspot"
    record = factory.SubFactory(AccountFactory)
    kind = factory.LazyAttribute(lambda o: o.record._meta.model_name)
    external_id = factory.Sequence(lambda n: f"{9000 + n}")
