"""The demo rep's day: alice has overdue and today's tasks, coaches due for a touch and a handover due."""

import datetime

from agenda.models import Task
from coaches.models import Coach, Handover
from pipeline.models import Opportunity


def seed(*, users: dict, today: datetime.date) -> None:
    """Tasks for alice (one of them from her manager) and a handover from bob to her; a second run adds nothing."""
    alice, bob = users["alice"], users["bob"]
    coach = Coach.objects.active().filter(holders__user=alice).order_by("pk").first()
    deal = Opportunity.objects.open().filter(owner=alice).order_by("pk").first()
    yesterday = today - datetime.timedelta(days=1)
    tasks = [
        ("Send the pricing sheet promised last week", today - datetime.timedelta(days=2), alice, coach, None),
        ("Confirm the demo date with the buyer", today, alice, None, deal),
        ("Prepare the quarterly review", today + datetime.timedelta(days=4), alice, None, None),
        ("Ask for the org chart of the new division", yesterday, users["manager"], coach, None),
    ]
    for subject, due_on, created_by, about_coach, about_deal in tasks:
        Task.objects.get_or_create(
            owner=alice,
            subject=subject,
            defaults={
                "due_on": due_on,
                "created_by": created_by,
                "coach": about_coach,
                "opportunity": about_deal,
                "account_id": (about_deal or about_coach).account_id if (about_deal or about_coach) else None,
            },
        )
    # A handover from bob to alice, due in three days: a coach bob holds alone.
    bobs = (
        Coach.objects.active()
        .filter(holders__user=bob)
        .exclude(holders__user=alice)
        .exclude(handovers__status=Handover.Status.OPEN)
        .order_by("pk")
        .first()
    )
    if bobs is not None and not Handover.objects.open().filter(to_user=alice).exists():
        Handover.objects.create(
            coach=bobs,
            from_user=bob,
            to_user=alice,
            reason="Bob moves to the partner team next month.",
            due_on=today + datetime.timedelta(days=3),
        )
