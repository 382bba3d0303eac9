"""Turn the reasons the system wrote on coaches and handovers into facts, so that each reader gets his language.

Converted: the lapse job's "No interaction since …" and a move's "moved to …" (status), and a
departure's at-risk reasons (coach and handover), in English or Chinese, when they parse whole.
What a person typed, and anything else, keeps showing as written; the old text stays in its
column either way.
"""

import re

from django.db import migrations

_DATE = r"(?P<date>\d{4}-\d{2}-\d{2})"
STATUS_PATTERNS = [
    ("lapsed", re.compile(r"No interaction since " + _DATE + r"\.")),
    ("lapsed", re.compile(r"自" + _DATE + r"起无互动。")),
    ("moved", re.compile(r"moved to (?P<account>.+)")),
    ("moved", re.compile(r"已转到 (?P<account>.+)")),
]
RISK_PATTERNS = [
    ("leaving_only_holder", re.compile(r"(?P<name>.+) leaves on " + _DATE + r" and is the only holder\.")),
    ("leaving_only_holder", re.compile(r"(?P<name>.+) 将于 " + _DATE + r" 离职，且是唯一的关系负责人。")),
    (
        "leaving_not_kept_warm",
        re.compile(
            r"(?P<name>.+) leaves on " + _DATE + r" and no other holder logged an interaction in (?P<days>\d+) days\."
        ),
    ),
    (
        "leaving_not_kept_warm",
        re.compile(r"(?P<name>.+) 将于 " + _DATE + r" 离职，且其他关系负责人在 (?P<days>\d+) 天内没有记录互动。"),
    ),
]
# What the demo organisation wrote on its lapsed coach before the lapse had facts.
DEMO_LAPSE = "No interaction for months."


def parse_status_reason(text: str, *, account_names: set[str]) -> dict | None:
    """The facts of a status reason the lapse job or a move wrote; None if it is not one.

    "moved to X" counts only when X is an account's name: a person may have typed those words.
    """
    for kind, pattern in STATUS_PATTERNS:
        match = pattern.fullmatch(text)
        if match is None:
            continue
        if kind == "lapsed":
            return {"kind": kind, "since": match["date"]}
        if match["account"] in account_names:
            return {"kind": kind, "account": match["account"]}
    return None


def parse_risk_reason(text: str) -> dict | None:
    """The facts of an at-risk reason a departure wrote; None if it is not one."""
    for kind, pattern in RISK_PATTERNS:
        match = pattern.fullmatch(text)
        if match is None:
            continue
        facts = {"kind": kind, "name": match["name"], "date": match["date"]}
        if kind == "leaving_not_kept_warm":
            facts["days"] = int(match["days"])
        return facts
    return None


def forwards(apps, schema_editor):
    Account = apps.get_model("accounts", "Account")
    Coach = apps.get_model("coaches", "Coach")
    Handover = apps.get_model("coaches", "Handover")
    moved_to = set()
    for coach in Coach.objects.filter(status="ended").exclude(status_reason="").only("status_reason").iterator():
        for _kind, pattern in STATUS_PATTERNS[2:]:
            if match := pattern.fullmatch(coach.status_reason):
                moved_to.add(match["account"])
    account_names = set(Account.objects.filter(name__in=moved_to).values_list("name", flat=True))

    changed = []
    coaches = (
        Coach.objects.exclude(status_reason="", at_risk_reason="")
        .only("status", "status_reason", "at_risk_reason", "last_interaction_on", "established_on")
        .iterator(chunk_size=2000)
    )
    for coach in coaches:
        status = parse_status_reason(coach.status_reason, account_names=account_names)
        if status is None and coach.status == "lapsed" and coach.status_reason == DEMO_LAPSE:
            since = coach.last_interaction_on or coach.established_on
            status = {"kind": "lapsed", "since": since.isoformat()}
        risk = parse_risk_reason(coach.at_risk_reason)
        if status or risk:
            coach.status_facts, coach.at_risk_facts = status or {}, risk or {}
            changed.append(coach)
    Coach.objects.bulk_update(changed, ["status_facts", "at_risk_facts"], batch_size=500)

    changed = []
    for handover in Handover.objects.exclude(reason="").only("reason").iterator(chunk_size=2000):
        if facts := parse_risk_reason(handover.reason):
            handover.reason_facts = facts
            changed.append(handover)
    Handover.objects.bulk_update(changed, ["reason_facts"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("coaches", "0005_coach_reason_facts"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
