"""The demo organisation's coaches: healthy ones, single-threaded, stale, at risk and lapsed.

Five of them show what the coach gate asks of a coach (see QUALIFICATION): a verified one, a
qualified one nobody verified lately, one whose verification expires next week, an informant
nobody verified (he opens no gate), and the rest as they come, whose deals the gate sweep sends
back on its first run.
"""

import datetime

from django.conf import settings

from accounts.models import Account, Employment
from coachcrm.notes import note_facts
from coaches.models import Coach, Holder, Interaction
from coaches.services import holder_counts_refresh

# (account index, days since established, days since last interaction or None, second holder, status, at risk)
DEMO_COACHES = [
    (0, 300, 5, True, "active", False),
    (1, 250, 12, False, "active", False),
    (2, 400, 80, False, "active", False),  # stale and single-threaded
    (3, 120, 20, True, "active", False),
    (4, 500, 70, True, "active", False),  # stale
    (5, 90, 3, False, "active", True),  # at risk
    (6, 200, 30, True, "active", False),
    (7, 150, None, False, "active", False),  # never touched: stale
    (8, 365, 200, False, "lapsed", False),
    (9, 60, 10, True, "active", False),
    (10, 700, 15, False, "active", False),
    (11, 45, 2, False, "active", False),
    (12, 220, 40, True, "active", False),
    (13, 330, 130, False, "ended", False),
]
# account index → (strength, the three criteria, days since last verified or None)
QUALIFICATION = {
    1: ("coach", True, None),  # qualified, verification expired: Coach confirmed, not Proposal
    3: ("coach", True, "expiring"),  # verification expires next week: on the holders' work list
    5: ("informant", False, None),  # an informant nobody verified: opens no gate
    9: ("champion", True, 10),  # verified: opens every gate
}
KINDS = ["meeting", "call", "favour_given", "insight", "favour_received", "message"]


def seed(*, users: dict, today: datetime.date) -> list[Coach]:
    """Create the demo coaches at the first accounts (those alice and bob own); existing ones stay."""
    accounts = list(Account.objects.filter(owner__in=[users["alice"], users["bob"]]).order_by("pk"))
    coaches = []
    for index, established, touched, shared, status, at_risk in DEMO_COACHES:
        if index >= len(accounts):
            break
        account = accounts[index]
        position = Employment.objects.current().filter(account=account).select_related("contact").order_by("pk").first()
        if position is None:
            continue
        last_touch = today - datetime.timedelta(days=touched if touched is not None else established)
        strength = ["informant", "coach", "champion"][index % 3]
        criteria = {"credible": index % 4 != 1, "trusts_us": True, "wants_us_to_win": index % 5 != 2}
        verified_on = today - datetime.timedelta(days=established // 3)
        if index in QUALIFICATION:
            strength, valid, verified_days = QUALIFICATION[index]
            criteria = dict.fromkeys(criteria, valid)
            if verified_days == "expiring":
                verified_days = settings.COACH_UNVERIFIED_DAYS - 7
            elif verified_days is None:
                verified_days = settings.COACH_UNVERIFIED_DAYS + 30
            verified_on = today - datetime.timedelta(days=verified_days) if valid else None
        coach, created = Coach.objects.get_or_create(
            account=account,
            contact=position.contact,
            defaults={
                "strength": strength,
                **criteria,
                "has_power": index % 3 == 2,
                "status": status,
                # A lapse as the lapse job records it (facts, worded for each reader); an end as typed.
                "status_reason": "Moved to another role." if status == "ended" else "",
                "status_facts": note_facts("lapsed", since=last_touch) if status == "lapsed" else {},
                "established_on": today - datetime.timedelta(days=established),
                "last_verified_on": verified_on,
                "last_interaction_on": today - datetime.timedelta(days=touched) if touched is not None else None,
                "at_risk": at_risk,
                "at_risk_reason": "The holder is leaving at the end of the month." if at_risk else "",
            },
        )
        coaches.append(coach)
        if not created:
            continue
        coach.touch_due_refresh()
        coach.save(update_fields=["next_touch_due"])
        Holder.objects.create(coach=coach, user=account.owner, is_primary=True, since=coach.established_on)
        if shared:
            other = users["bob"] if account.owner == users["alice"] else users["alice"]
            Holder.objects.create(coach=coach, user=other, since=coach.established_on)
        holder_counts_refresh(coaches=(coach,))
        if touched is not None:
            for step in range(3):
                Interaction.objects.create(
                    coach=coach,
                    user=account.owner,
                    kind=KINDS[(index + step) % len(KINDS)],
                    occurred_on=today - datetime.timedelta(days=touched + 20 * step),
                    note=["Lunch, talked about the budget", "Shared the org chart", "Introduced us to the CFO"][step],
                )
    return coaches
