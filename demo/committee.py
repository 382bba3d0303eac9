"""Demo buying committees: one deal with a full committee (stances, holders, reporting lines), one with gaps."""

import datetime

from accounts.models import Contact, Employment
from coaches import services as coach_services
from coaches.models import Coach, StanceReport
from pipeline import services
from pipeline.models import Opportunity, OpportunityContact

# (first, last, title, function, seniority, role, stance, holder, plan): the people added to the
# first coached deal's account, so that its committee has every role.
PEOPLE = [
    ("Grace", "Okafor", "Chief Financial Officer", "finance", "c_level", "economic_buyer", "neutral", "alice", ""),
    ("Tom", "Lindqvist", "IT Architect", "it", "manager", "technical_evaluator", "supporter", "bob", ""),
    ("Priya", "Raman", "Service Desk Lead", "it", "staff", "user", "supporter", "alice", ""),
    ("Henrik", "Moller", "Head of Procurement", "procurement", "director", "blocker", "opponent", "", ""),
]


def seed(*, users: dict, today: datetime.date) -> None:
    """After the style reports: committees on the first two coached deals of alice's that have a decision maker."""
    if StanceReport.objects.exists():
        return
    deals = list(
        Opportunity.objects.open()
        .filter(account__owner=users["alice"], contact_roles__role=OpportunityContact.Role.DECISION_MAKER)
        .distinct()
        .order_by("pk")[:2]
    )
    if not deals:
        return
    _full(deal=deals[0], users=users, today=today)
    if len(deals) > 1:
        _thin(deal=deals[1], users=users, today=today)


def _full(*, deal: Opportunity, users: dict, today: datetime.date) -> None:
    alice = users["alice"]
    coach = Coach.objects.active().filter(account=deal.account).select_related("contact").first()
    maker = deal.contact_roles.filter(role=OpportunityContact.Role.DECISION_MAKER).select_related("contact").first()
    added = {}
    for index, (first, last, title, function, seniority, role, stance, holder, plan) in enumerate(PEOPLE):
        email = f"{first}.{last}.demo{deal.pk}@example.com".lower()
        contact, created = Contact.objects.get_or_create(email=email, defaults={"first_name": first, "last_name": last})
        if created:
            Employment.objects.create(
                contact=contact,
                account=deal.account,
                title=title,
                function=function,
                seniority=seniority,
                start_date=today - datetime.timedelta(days=400 + 90 * index),
            )
        added[role] = contact
        services.committee_member_set(
            opportunity=deal,
            contact=contact,
            role=role,
            by=alice,
            holder=users[holder] if holder else None,
            last_touch_on=today - datetime.timedelta(days=3 + 9 * index) if holder else None,
            # The buyer's stance comes from the coach; the others are what the reps saw.
            stance=stance,
            stance_coach=coach if role == "economic_buyer" else None,
            stance_note=plan,
        )
    eb = added["economic_buyer"]
    if coach is not None:
        coach_services.style_report_record(
            by=alice, contact=eb, coach=coach, style="driver", confidence="high", note="Decides in one meeting."
        )
        coach_services.style_report_record(
            by=alice, contact=added["technical_evaluator"], coach=coach, style="analytical", confidence="high"
        )
    services.committee_member_set(
        opportunity=deal,
        contact=maker.contact,
        role=OpportunityContact.Role.DECISION_MAKER,
        by=alice,
        holder=alice,
        last_touch_on=today - datetime.timedelta(days=6),
        stance="supporter",
        stance_coach=coach,
        stance_note="Sponsored the pilot.",
        reports_to=eb,
    )
    for role, boss in (("technical_evaluator", maker.contact), ("user", added["technical_evaluator"]), ("blocker", eb)):
        services.committee_member_set(opportunity=deal, contact=added[role], role=role, by=alice, reports_to=boss)


def _thin(*, deal: Opportunity, users: dict, today: datetime.date) -> None:
    """A deal with the usual gaps: no economic buyer, one rep knows everyone, an opponent with no plan."""
    maker = deal.contact_roles.filter(role=OpportunityContact.Role.DECISION_MAKER).select_related("contact").first()
    services.committee_member_set(
        opportunity=deal,
        contact=maker.contact,
        role=OpportunityContact.Role.DECISION_MAKER,
        by=users["alice"],
        holder=users["alice"],
        last_touch_on=today - datetime.timedelta(days=21),
        stance="opponent",
    )
