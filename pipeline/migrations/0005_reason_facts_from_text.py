"""Turn the reasons the system wrote on deals into facts, so that each reader gets his language.

Converted: the gate's hold-back reason, the send-back's reason (on the deal and its stage
change) and a moved coach's provenance, in English or Chinese, when they parse whole. Anything
else keeps showing as written; the old text stays in its column either way.
"""

import re

from django.db import migrations
from django.utils import translation

GATE_PATTERNS = [
    re.compile(
        r"(?P<stage>.+) needs an active coach at (?P<account>.+), and there is none\. "
        r"Record a coach at the account first \(or ask your manager for an override\)\."
    ),
    re.compile(r"阶段“(?P<stage>.+)”要求客户“(?P<account>.+)”有一名有效教练，但目前没有。请先在该客户处记录一名教练（或请经理破例放行）。"),
]
# What the demo organisation wrote on its held-back deals before the hold-back had facts.
DEMO_GATE = re.compile(r"(?P<stage>.+) needs an active coach at the account, and there is none\.")
SENT_BACK_PATTERNS = [
    re.compile(r"(?P<account>.+) has no active coach any more\."),
    re.compile(r"客户“(?P<account>.+)”已没有有效教练。"),
]
SOURCE_PATTERNS = [
    (
        re.compile(
            r"Former coach at (?P<account>.+) \(since (?P<since>\d{4}-\d{2}-\d{2})\); deals won with them: (?P<deals>.+)\.",
            re.S,
        ),
        "none yet",
    ),
    (
        re.compile(
            r"曾是 (?P<account>.+) 的教练（自 (?P<since>\d{4}-\d{2}-\d{2}) 起）；借助其赢得的商机：(?P<deals>.+)。", re.S
        ),
        "暂无",
    ),
]


def parse_held_back_reason(text: str, *, stage_names: dict[str, str], account: str) -> dict | None:
    """The facts of a hold-back reason the gate or a send-back wrote; None if it is not one.

    `stage_names` maps a stage's name and its Chinese label to its name (the message named the
    stage as the mover read it); `account` is the deal's account, for the demo's wording.
    """
    for pattern in GATE_PATTERNS:
        match = pattern.fullmatch(text)
        if match and match["stage"] in stage_names:
            return {"kind": "gate", "stage": stage_names[match["stage"]], "account": match["account"]}
    match = DEMO_GATE.fullmatch(text)
    if match and match["stage"] in stage_names:
        return {"kind": "gate", "stage": stage_names[match["stage"]], "account": account}
    return parse_sent_back_reason(text)


def parse_sent_back_reason(text: str) -> dict | None:
    for pattern in SENT_BACK_PATTERNS:
        if match := pattern.fullmatch(text):
            return {"kind": "no_active_coach", "account": match["account"]}
    return None


def parse_source(text: str) -> dict | None:
    """The facts of a moved coach's provenance (coach_moved); None for any other source."""
    for pattern, none_yet in SOURCE_PATTERNS:
        if match := pattern.fullmatch(text):
            deals = [] if match["deals"] == none_yet else match["deals"].split(", ")
            return {"kind": "coach_moved", "account": match["account"], "since": match["since"], "deals": deals}
    return None


def _stage_names(Stage) -> dict[str, str]:
    names = {}
    for name in Stage.objects.values_list("name", flat=True):
        with translation.override("zh-hans"):
            names[translation.gettext(name)] = name
        names[name] = name
    return names


def forwards(apps, schema_editor):
    Opportunity = apps.get_model("pipeline", "Opportunity")
    Stage = apps.get_model("pipeline", "Stage")
    StageChange = apps.get_model("pipeline", "StageChange")
    stage_names = _stage_names(Stage)

    changed = []
    deals = (
        Opportunity.objects.exclude(held_back_reason="", source="")
        .select_related("account")
        .only("held_back_reason", "source", "account__name")
        .iterator(chunk_size=2000)
    )
    for deal in deals:
        held = parse_held_back_reason(deal.held_back_reason, stage_names=stage_names, account=deal.account.name)
        source = parse_source(deal.source)
        if held or source:
            deal.held_back_facts, deal.source_facts = held or {}, source or {}
            changed.append(deal)
    Opportunity.objects.bulk_update(changed, ["held_back_facts", "source_facts"], batch_size=500)

    changed = []
    for change in StageChange.objects.filter(kind="sent_back").exclude(reason="").only("reason").iterator(chunk_size=2000):
        if facts := parse_sent_back_reason(change.reason):
            change.reason_facts = facts
            changed.append(change)
    StageChange.objects.bulk_update(changed, ["reason_facts"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("pipeline", "0004_opportunity_reason_facts"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
