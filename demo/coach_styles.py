"""Demo buying styles and coach moves: style reports, people on deals, and two coaches who moved."""

import datetime

from django.db.models import Q

from accounts.models import Account, Employment
from accounts.services import contact_move
from coaches import services
from coaches.models import BuyingStyle, Coach, CoachMove, StyleReport
from pipeline import services as pipeline_services
from pipeline.models import Opportunity, OpportunityContact

STYLES = [BuyingStyle.ANALYTICAL, BuyingStyle.DRIVER, BuyingStyle.AMIABLE, BuyingStyle.EXPRESSIVE]
# (days ago, contacted since). The first move types the company's name in another spelling (the
# account is found, not duplicated); the second picks the account. Both go to accounts that exist:
# a new account would shift the pipeline demo's account-by-index choice on the next run.
MOVES = [(20, True), (45, False)]


def seed(*, users: dict, today: datetime.date) -> None:
    """Style reports and decision makers on the coached accounts' open deals; then two coaches move."""
    if not StyleReport.objects.exists():
        _seed_styles(users=users, today=today)
    if not CoachMove.objects.exists():
        _seed_moves(users=users, today=today)


def _seed_styles(*, users: dict, today: datetime.date) -> None:
    coaches = list(
        Coach.objects.active().filter(account__owner__in=[users["alice"], users["bob"]]).select_related("account")
    )
    for index, coach in enumerate(coaches[:6]):
        deal = Opportunity.objects.open().filter(account=coach.account).order_by("pk").first()
        maker = (
            Employment.objects.current()
            .filter(account=coach.account)
            .exclude(contact=coach.contact)
            .select_related("contact")
            .order_by("pk")
            .first()
        )
        if deal is None or maker is None:
            continue
        OpportunityContact.objects.get_or_create(opportunity=deal, contact=maker.contact, role="decision_maker")
        OpportunityContact.objects.get_or_create(opportunity=deal, contact=coach.contact, role="coach")
        if index == 5 or StyleReport.objects.filter(contact=maker.contact).exists():
            continue  # the last one stays unknown: its card asks the coach
        holder = coach.holders.select_related("user").first().user
        if index % 2 == 0:  # an older, unsure report first: the history shows how the picture firmed up
            services.style_report_record(
                by=holder,
                contact=maker.contact,
                coach=coach,
                style=STYLES[(index + 1) % 4],
                confidence="low",
                reported_on=today - datetime.timedelta(days=60),
                note="First impression from the kick-off meeting.",
            )
        services.style_report_record(
            by=holder,
            contact=maker.contact,
            coach=coach,
            style=STYLES[index % 4],
            confidence="high",
            reported_on=today - datetime.timedelta(days=10 + index),
            note="Confirmed over lunch with our coach.",
        )


def _seed_moves(*, users: dict, today: datetime.date) -> None:
    won = Opportunity.objects.filter(status="won").values("account_id")
    # One coach with a deal we won at his account behind him, one without.
    with_win = (
        Coach.objects.active()
        .filter(account__owner__in=[users["alice"], users["bob"]], account_id__in=won)
        .order_by("pk")
        .first()
    )
    without = (
        Coach.objects.active()
        .filter(account__owner=users["alice"])
        .exclude(Q(account_id__in=won) | Q(pk=getattr(with_win, "pk", None)))
        .order_by("-pk")
        .first()
    )
    targets = list(
        Account.objects.filter(owner__in=[users["alice"], users["bob"]])
        .exclude(coaches__status="active")
        .order_by("-pk")[:2]
    )
    for coach, target, (days, contacted), typed in zip(
        [with_win, without], targets, MOVES, [True, False], strict=False
    ):
        if coach is None:
            continue
        start = today - datetime.timedelta(days=days)
        holder = coach.holders.select_related("user").first().user
        result = contact_move(
            contact=coach.contact,
            by=holder,
            new_account=None if typed else target,
            new_account_name=f"{target.name.upper()} Ltd." if typed else "",
            title="Head of Procurement",
            function="procurement",
            seniority="director",
            start_date=start,
        )
        # What the task does once this commits, done now so that the demo can log a touch on
        # the new record; the task's own run afterwards finds the move and makes nothing.
        move = pipeline_services.coach_moved(
            old_coach_id=coach.pk,
            to_account_id=result.employment.account_id,
            start_date=start,
            account_created=result.account_created,
        )
        if contacted and move and move.new_coach:
            services.interaction_log(coach=move.new_coach, by=holder, kind="meeting", note="Coffee at the new office.")
