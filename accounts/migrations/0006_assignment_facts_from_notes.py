"""Turn the "why this owner" sentences written so far into facts, so that each reader gets his language.

Only the sentences the services wrote (in English or in Chinese, the languages they could be
written in) are converted, and only when they parse whole; anything else keeps showing as it
was written. The old text stays in `assignment_note` either way: nothing is lost.
"""

import datetime
import re

from django.db import migrations

_SKIPPED_EN = r"(?: Skipped \(no available member\): (?P<skipped>.+)\.)?"
_SKIPPED_ZH = r"(?: 已跳过（无可用成员）：(?P<skipped>.+)。)?"
PATTERNS = [
    ("owner_chosen", re.compile(r"Owner chosen by (?P<by>.+) when the account was created\.")),
    ("owner_chosen", re.compile(r"所有人由 (?P<by>.+) 在创建客户时选定。")),
    (
        "territory",
        re.compile(
            r"Owner via territory (?P<territory>.+), rule (?P<order>\d+), "
            r"(?:round-robin among (?P<members>\d+) members|its only available member)\." + _SKIPPED_EN
        ),
    ),
    (
        "territory",
        re.compile(
            r"所有人经由销售区域 (?P<territory>.+)（规则 (?P<order>\d+)，"
            r"(?:在 (?P<members>\d+) 名成员中轮流分配|其唯一可用成员)）确定。" + _SKIPPED_ZH
        ),
    ),
    (
        "no_territory",
        re.compile(r"No territory covers this account: owned by the person who created it, (?P<by>.+?)\." + _SKIPPED_EN),
    ),
    ("no_territory", re.compile(r"没有销售区域覆盖此客户：归创建者 (?P<by>.+?) 所有。" + _SKIPPED_ZH)),
    (
        "reassigned",
        re.compile(
            r"Reassigned from (?P<previous>.+?) by (?P<by>.+?) on (?P<month>\d{1,2})/(?P<day>\d{1,2})/(?P<year>\d{4}): "
            r"(?P<reason>.*)",
            re.S,
        ),
    ),
    (
        "reassigned",
        re.compile(
            r"(?P<by>.+?) 于 (?P<year>\d{4})年(?P<month>\d{1,2})月(?P<day>\d{1,2})日 从 (?P<previous>.+?) 处重新分配："
            r"(?P<reason>.*)",
            re.S,
        ),
    ),
]


def parse_assignment_note(text: str) -> dict | None:
    """The facts of a note written by account_create, the routing or account_reassign; None if it is not one."""
    for kind, pattern in PATTERNS:
        match = pattern.fullmatch(text)
        if match is None:
            continue
        found = match.groupdict()
        if kind == "owner_chosen":
            return {"kind": kind, "by": found["by"]}
        if kind == "reassigned":
            date = datetime.date(int(found["year"]), int(found["month"]), int(found["day"]))
            return {
                "kind": kind,
                "previous": found["previous"],
                "by": found["by"],
                "date": date.isoformat(),
                "reason": found["reason"],
            }
        skipped = found["skipped"].split(", ") if found["skipped"] else []
        if kind == "territory":
            members = int(found["members"]) if found["members"] else 1
            return {
                "kind": kind,
                "territory": found["territory"],
                "order": int(found["order"]),
                "members": members,
                "skipped": skipped,
            }
        return {"kind": kind, "by": found["by"], "skipped": skipped}
    return None


def forwards(apps, schema_editor):
    Account = apps.get_model("accounts", "Account")
    changed = []
    for account in Account.objects.exclude(assignment_note="").only("pk", "assignment_note").iterator(chunk_size=2000):
        facts = parse_assignment_note(account.assignment_note)
        if facts is not None:
            account.assignment_facts = facts
            changed.append(account)
    Account.objects.bulk_update(changed, ["assignment_facts"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_account_assignment_facts"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
