"""System notes: stored as facts, worded in the active language; old sentences turned into facts by the migrations."""

# Chinese text is written with full-width punctuation, as the catalog writes it.
# ruff: noqa: RUF001

import datetime
import importlib

import pytest
from django.apps import apps
from django.utils import translation

from coachcrm.notes import note_facts, note_text, note_text_lazy
from tests import factories

DAY = datetime.date(2026, 3, 5)

# Every kind, as facts and in both languages.
KINDS = [
    (
        note_facts("owner_chosen", by="Mia Manager"),
        "Owner chosen by Mia Manager when the account was created.",
        "所有人由 Mia Manager 在创建客户时选定。",
    ),
    (
        note_facts("territory", territory="East", order=2, members=3, skipped=["North", "West"]),
        "Owner via territory East, rule 2, round-robin among 3 members. Skipped (no available member): North, West.",
        "所有人经由销售区域 East（规则 2，在 3 名成员中轮流分配）确定。已跳过（无可用成员）：North、West。",
    ),
    (
        note_facts("territory", territory="East", order=1, members=1, skipped=[]),
        "Owner via territory East, rule 1, its only available member.",
        "所有人经由销售区域 East（规则 1，其唯一可用成员）确定。",
    ),
    (
        note_facts("no_territory", by="Ann Rep", skipped=[]),
        "No territory covers this account: owned by the person who created it, Ann Rep.",
        "没有销售区域覆盖此客户：归创建者 Ann Rep 所有。",
    ),
    (
        note_facts("reassigned", previous="Ann Rep", by="Mia Manager", date=DAY, reason="Bob knows them"),
        "Reassigned from Ann Rep by Mia Manager on 03/05/2026: Bob knows them",
        "Mia Manager 于 2026年3月5日 从 Ann Rep 处重新分配：Bob knows them",
    ),
    (
        note_facts("departure", previous="Ann Rep", date=DAY),
        "Taken over from Ann Rep, who departed on 03/05/2026.",
        "接手自 Ann Rep（已于 2026年3月5日 离职）。",
    ),
    (note_facts("lapsed", since=DAY), "No interaction since 03/05/2026.", "自2026年3月5日起无互动。"),
    (note_facts("moved", account="Blue Harbour"), "moved to Blue Harbour", "已转到 Blue Harbour"),
    (
        note_facts("leaving_only_holder", name="Ann Rep", date=DAY),
        "Ann Rep leaves on 03/05/2026 and is the only holder.",
        "Ann Rep 将于 2026年3月5日 离职，且是唯一的关系负责人。",
    ),
    (
        note_facts("leaving_not_kept_warm", name="Ann Rep", date=DAY, days=60),
        "Ann Rep leaves on 03/05/2026 and no other holder logged an interaction in 60 days.",
        "Ann Rep 将于 2026年3月5日 离职，且其他关系负责人在 60 天内没有记录互动。",
    ),
    (
        note_facts("coach_moved", account="Old Works", since=DAY, deals=["Fleet renewal", "Grid upgrade"]),
        "Former coach at Old Works (since 03/05/2026); deals won with them: Fleet renewal, Grid upgrade.",
        "曾是 Old Works 的教练（自 2026年3月5日 起）；借助其赢得的商机：Fleet renewal、Grid upgrade。",
    ),
    (
        note_facts("coach_moved", account="Old Works", since=DAY, deals=[]),
        "Former coach at Old Works (since 03/05/2026); deals won with them: none yet.",
        "曾是 Old Works 的教练（自 2026年3月5日 起）；借助其赢得的商机：暂无。",
    ),
    (
        note_facts("gate", stage="Coach confirmed", account="Acme"),
        "Coach confirmed needs an active coach at Acme, and there is none. "
        "Record a coach at the account first (or ask your manager for an override).",
        "阶段“教练已确认”要求客户“Acme”有一名有效教练，但目前没有。请先在该客户处记录一名教练（或请经理破例放行）。",
    ),
    (
        note_facts(
            "gate",
            stage="Coach confirmed",
            account="Acme",
            requirement="qualified",
            coach="Chen Okafor",
            coach_id=1,
            missing=["strength", "wants_us_to_win"],
            verified_on=DAY,
        ),
        "Coach confirmed needs a qualified coach: Chen Okafor is an informant; a coach must want us to win "
        "— verify the criteria.",
        "阶段“教练已确认”要求一名合格的教练：Chen Okafor 只是线人；教练必须希望我们赢——请核实各项标准。",
    ),
    (
        note_facts(
            "gate",
            stage="Proposal",
            account="Acme",
            requirement="verified",
            coach="Chen Okafor",
            coach_id=1,
            missing=["unverified"],
            verified_on=DAY,
        ),
        "Proposal needs a verified coach: Chen Okafor was not verified since 03/05/2026 — verify the criteria.",
        "阶段“方案”要求一名已核实的教练：Chen Okafor 自 2026年3月5日 起未再核实——请核实各项标准。",
    ),
    (
        note_facts("left_company", account="Acme", date=DAY),
        "Left Acme on 03/05/2026: his position there ended.",
        "已于 2026年3月5日 离开 Acme：其在该公司的职位已结束。",
    ),
    (
        note_facts("no_active_coach", account="Acme"),
        "Acme has no active coach any more.",
        "客户“Acme”已没有有效教练。",
    ),
]


@pytest.mark.parametrize(("facts", "english", "chinese"), KINDS, ids=[k[0]["kind"] for k in KINDS])
def test_each_kind_of_note_is_worded_in_the_active_language(facts, english, chinese):
    with translation.override("en"):
        assert note_text(facts) == english
    with translation.override("zh-hans"):
        assert note_text(facts) == chinese


def test_facts_keep_records_by_name_and_dates_as_iso(db):
    account = factories.AccountFactory(name="Acme Tools")
    facts = note_facts("coach_moved", account=account, since=DAY, deals=[])
    assert facts == {"kind": "coach_moved", "account": "Acme Tools", "since": "2026-03-05", "deals": []}


def test_facts_refuse_an_unknown_kind_and_a_time():
    with pytest.raises(ValueError, match="Unknown kind"):
        note_facts("typo", by="x")
    with pytest.raises(TypeError, match="dates, not times"):
        note_facts("lapsed", since=datetime.datetime(2026, 3, 5, 12, 0, tzinfo=datetime.UTC))


def test_without_facts_the_old_text_shows_as_written():
    assert note_text({}, "Written before") == "Written before"
    assert note_text({"kind": "no longer known"}, "Written before") == "Written before"
    assert note_text(None) == ""


def test_the_lazy_note_is_worded_when_it_is_read():
    text = note_text_lazy(note_facts("moved", account="Blue Harbour"))
    with translation.override("zh-hans"):
        assert str(text) == "已转到 Blue Harbour"
    with translation.override("en"):
        assert str(text) == "moved to Blue Harbour"


# --- the data migrations: old sentences (English or Chinese) become facts ------------------


def _migration(name):
    return importlib.import_module(name)


ACCOUNTS = "accounts.migrations.0006_assignment_facts_from_notes"
COACHES = "coaches.migrations.0006_reason_facts_from_text"
PIPELINE = "pipeline.migrations.0005_reason_facts_from_text"


# The kinds the services wrote as sentences before (a departure wrote no note).
@pytest.mark.parametrize(("facts", "english", "chinese"), KINDS[:5], ids=[k[0]["kind"] for k in KINDS[:5]])
def test_assignment_notes_in_either_language_parse_back_to_their_facts(facts, english, chinese):
    parse = _migration(ACCOUNTS).parse_assignment_note
    # The old services joined the skipped territories with ", " and to the note with a space.
    chinese = chinese.replace("确定。已跳过", "确定。 已跳过").replace("North、West", "North, West")
    assert parse(english) == facts
    assert parse(chinese) == facts


def test_assignment_notes_that_are_not_the_services_are_left_alone():
    parse = _migration(ACCOUNTS).parse_assignment_note
    assert parse("Given to Ann at the kick-off.") is None
    assert parse("Reassigned from Ann by Bo on a sunny day: no") is None


def test_coach_reasons_parse_back_only_when_the_system_wrote_them():
    migration = _migration(COACHES)
    assert migration.parse_status_reason("No interaction since 2026-03-05.", account_names=set()) == {
        "kind": "lapsed",
        "since": "2026-03-05",
    }
    assert migration.parse_status_reason("自2026-03-05起无互动。", account_names=set())["kind"] == "lapsed"
    moved = {"kind": "moved", "account": "Blue Harbour"}
    assert migration.parse_status_reason("moved to Blue Harbour", account_names={"Blue Harbour"}) == moved
    assert migration.parse_status_reason("已转到 Blue Harbour", account_names={"Blue Harbour"}) == moved
    # A person may type "moved to …": only an account's name makes it the move's note.
    assert migration.parse_status_reason("moved to another department", account_names={"Blue Harbour"}) is None
    assert migration.parse_risk_reason("Ann Rep leaves on 2026-03-05 and is the only holder.") == {
        "kind": "leaving_only_holder",
        "name": "Ann Rep",
        "date": "2026-03-05",
    }
    assert migration.parse_risk_reason("Ann Rep 将于 2026-03-05 离职，且其他关系负责人在 60 天内没有记录互动。") == {
        "kind": "leaving_not_kept_warm",
        "name": "Ann Rep",
        "date": "2026-03-05",
        "days": 60,
    }
    assert migration.parse_risk_reason("Reorganisation in March") is None


def test_deal_reasons_parse_back_in_either_language():
    migration = _migration(PIPELINE)
    stages = {"Proposal": "Proposal", "方案": "Proposal"}
    gate = {"kind": "gate", "stage": "Proposal", "account": "Acme"}
    english = (
        "Proposal needs an active coach at Acme, and there is none. "
        "Record a coach at the account first (or ask your manager for an override)."
    )
    chinese = "阶段“方案”要求客户“Acme”有一名有效教练，但目前没有。请先在该客户处记录一名教练（或请经理破例放行）。"
    assert migration.parse_held_back_reason(english, stage_names=stages, account="Acme") == gate
    assert migration.parse_held_back_reason(chinese, stage_names=stages, account="Acme") == gate
    demo = "Proposal needs an active coach at the account, and there is none."
    assert migration.parse_held_back_reason(demo, stage_names=stages, account="Acme") == gate
    assert migration.parse_held_back_reason("客户“Acme”已没有有效教练。", stage_names=stages, account="Acme") == {
        "kind": "no_active_coach",
        "account": "Acme",
    }
    source = "Former coach at Old Works (since 2026-03-05); deals won with them: Fleet renewal, Grid upgrade."
    assert migration.parse_source(source) == {
        "kind": "coach_moved",
        "account": "Old Works",
        "since": "2026-03-05",
        "deals": ["Fleet renewal", "Grid upgrade"],
    }
    assert migration.parse_source("曾是 Old Works 的教练（自 2026-03-05 起）；借助其赢得的商机：暂无。")["deals"] == []
    assert migration.parse_source("Trade fair in Hamburg") is None


def test_the_migrations_convert_rows_and_keep_the_old_text(rep, stages):
    account = factories.AccountFactory(owner=rep, assignment_note="所有人由 Mia Manager 在创建客户时选定。")
    typed = factories.AccountFactory(owner=rep, assignment_note="Given to Ann at the kick-off.")
    coach = factories.CoachFactory(status="lapsed", status_reason="No interaction since 2026-03-05.")
    deal = factories.OpportunityFactory(
        held_back=True, held_back_reason="Acme has no active coach any more.", source="Trade fair"
    )
    for name in (ACCOUNTS, COACHES, PIPELINE):
        _migration(name).forwards(apps, None)
    for row in (account, typed, coach, deal):
        row.refresh_from_db()
    assert account.assignment_facts == {"kind": "owner_chosen", "by": "Mia Manager"}
    assert account.assignment_note == "所有人由 Mia Manager 在创建客户时选定。"  # kept
    with translation.override("en"):
        assert account.assignment_note_display == "Owner chosen by Mia Manager when the account was created."
        assert coach.status_reason_display == "No interaction since 03/05/2026."
        assert deal.held_back_reason_display == "Acme has no active coach any more."
    assert typed.assignment_facts == {} and typed.assignment_note_display == "Given to Ann at the kick-off."
    assert deal.source_facts == {} and deal.source_display == "Trade fair"
