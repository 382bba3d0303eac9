"""What the system writes on a record is read in the reader's language, not in that of whoever triggered it.

Each case: an English-speaking actor (or a job) writes the note; the same record is then
read by a Chinese and by an English reader, on the page and through the API.
"""

# Chinese text is written with full-width punctuation, as the catalog writes it.
# ruff: noqa: RUF001

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext_lazy

from accounts import services as account_services
from coaches import services as coach_services
from coaches.models import Coach, Handover
from departures import services as departure_services
from pipeline import services as pipeline_services
from pipeline.models import Opportunity
from service_catalog import services as grant_services
from team.models import Notification, User
from team.services import notify
from tests import factories

ZH = {"accept-language": "zh-CN"}
EN = {"accept-language": "en"}


def _short_date(day: datetime.date, language: str) -> str:
    with translation.override(language):
        return formats.date_format(day, "SHORT_DATE_FORMAT")


def _page(client, url, headers) -> str:
    response = client.get(url, headers=headers)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def mia(db):
    return factories.ManagerFactory(first_name="Mia", last_name="Manager")


@pytest.fixture
def ann(mia):
    return factories.RepFactory(first_name="Ann", last_name="Rep", manager=mia)


@pytest.fixture
def bo(mia):
    return factories.RepFactory(first_name="Bo", last_name="Chen", manager=mia)


# --- why this owner -------------------------------------------------------------------------


def test_a_reassignment_note_is_in_each_readers_language(client, mia, ann, bo):
    account = factories.AccountFactory(owner=ann, name="Acme Tools")
    with translation.override("en"):
        account_services.account_reassign(account=account, owner=bo, by=mia, reason="Bob knows them")
    today = timezone.localdate()
    client.force_login(bo)

    zh = _page(client, account.get_absolute_url(), ZH)
    en = _page(client, account.get_absolute_url(), EN)
    # In "Why is this mine?" and in the change history's entry for the reassignment.
    assert zh.count(f"Mia Manager 于 {_short_date(today, 'zh-hans')} 从 Ann Rep 处重新分配：Bob knows them") == 2
    assert "Reassigned from" not in zh and "&#x27;kind&#x27;" not in zh
    assert f"Reassigned from Ann Rep by Mia Manager on {_short_date(today, 'en')}: Bob knows them" in en

    url = reverse("api:account-detail", args=[account.pk])
    assert client.get(url, headers=ZH).json()["assignment_note"].startswith("Mia Manager 于 ")
    assert client.get(url, headers=EN).json()["assignment_note"].startswith("Reassigned from Ann Rep")


def test_a_routing_note_is_in_each_readers_language(client, mia, ann):
    north = factories.RegionFactory(name="North")
    factories.TerritoryFactory(name="North", region=north, members=[ann])
    industry = factories.IndustryFactory()
    with translation.override("en"):
        account = account_services.account_create(by=ann, name="Osprey", region=north, industry=industry)
    client.force_login(mia)
    zh = _page(client, account.get_absolute_url(), ZH)
    assert "所有人经由销售区域 North（规则 1，其唯一可用成员）确定。" in zh
    assert "Owner via territory" not in zh
    en = _page(client, account.get_absolute_url(), EN)
    assert "Owner via territory North, rule 1, its only available member." in en


def test_a_note_written_before_there_were_facts_shows_as_written(client, ann):
    account = factories.AccountFactory(owner=ann, assignment_note="Given to Ann at the kick-off.")
    client.force_login(ann)
    assert "Given to Ann at the kick-off." in _page(client, account.get_absolute_url(), ZH)
    assert account.assignment_note_display == "Given to Ann at the kick-off."


def test_the_admin_shows_the_note_in_the_readers_language(client, mia, ann):
    account = factories.AccountFactory(owner=ann)
    account_services.account_reassign(account=account, owner=mia, by=mia, reason="Mine now")
    client.force_login(factories.AdminFactory(is_staff=True, is_superuser=True))
    page = _page(client, reverse("admin:accounts_account_change", args=[account.pk]), ZH)
    assert "从 Ann Rep 处重新分配：Mine now" in page


# --- coaches: lapsed, moved, at risk, handed over -------------------------------------------


def test_a_lapse_reason_is_in_each_readers_language(client, ann, settings):
    settings.COACH_LAPSE_DAYS = 120
    with time_machine.travel(timezone.now() - datetime.timedelta(days=200)):
        coach = factories.CoachFactory(holder=ann)
    with translation.override("en"):
        coach_services.coaches_lapse_untouched()
    since = coach.established_on
    client.force_login(ann)

    assert f"自{_short_date(since, 'zh-hans')}起无互动。" in _page(client, coach.get_absolute_url(), ZH)
    assert f"No interaction since {_short_date(since, 'en')}." in _page(client, coach.get_absolute_url(), EN)
    url = reverse("api:coach-detail", args=[coach.pk])
    assert client.get(url, headers=ZH).json()["status_reason"] == f"自{_short_date(since, 'zh-hans')}起无互动。"
    # The holder's notice went out in his language too (the site default, English).
    assert Notification.objects.get(user=ann).message.startswith("1 of your coaches lapsed")


def test_a_typed_status_reason_shows_as_typed(client, ann):
    coach = factories.CoachFactory(holder=ann)
    coach_services.coach_set_status(coach=coach, status=Coach.Status.ENDED, reason="Retired in May", by=ann)
    client.force_login(ann)
    assert "Retired in May" in _page(client, coach.get_absolute_url(), ZH)
    assert coach.status_facts == {}


def test_departure_reasons_are_in_each_readers_language(client, mia, ann, bo):
    coach = factories.CoachFactory(holder=ann, account=factories.AccountFactory(owner=bo))
    leaves_on = timezone.localdate() + datetime.timedelta(days=20)
    departure_services.user_mark_leaving(user=ann, departure_date=leaves_on, by=mia)
    with translation.override("en"):
        departure_services.departure_flag_at_risk(user_id=ann.pk)
    handover = Handover.objects.get(coach=coach)
    zh_reason = f"Ann Rep 将于 {_short_date(leaves_on, 'zh-hans')} 离职，且是唯一的关系负责人。"
    en_reason = f"Ann Rep leaves on {_short_date(leaves_on, 'en')} and is the only holder."
    client.force_login(handover.to_user)

    assert zh_reason in _page(client, reverse("departures:handover-list"), ZH)
    assert en_reason in _page(client, reverse("departures:handover-list"), EN)
    handovers = client.get(reverse("api:handover-list"), headers=ZH).json()["results"]
    assert [h["reason"] for h in handovers] == [zh_reason]
    client.force_login(mia)
    assert zh_reason in _page(client, coach.get_absolute_url(), ZH)
    assert client.get(reverse("api:coach-detail", args=[coach.pk]), headers=ZH).json()["at_risk_reason"] == zh_reason


# --- deals: held back at the gate, sent back, a moved coach's prospect ----------------------


def test_a_hold_back_and_a_send_back_are_in_each_readers_language(client, ann, stages):
    account = factories.AccountFactory(owner=ann, name="Acme Tools")
    deal = factories.OpportunityFactory(account=account, stage=stages["Qualified"])
    with translation.override("en"), pytest.raises(pipeline_services.GateError):
        pipeline_services.opportunity_move(opportunity=deal, stage=stages["Proposal"], by=ann)
    client.force_login(ann)

    zh = _page(client, deal.get_absolute_url(), ZH)
    assert "阶段“方案”要求客户“Acme Tools”有一名已核实的教练，但目前没有。" in zh
    assert "needs a verified coach" not in zh
    assert "Proposal needs a verified coach at Acme Tools" in _page(client, deal.get_absolute_url(), EN)
    url = reverse("api:opportunity-detail", args=[deal.pk])
    assert client.get(url, headers=ZH).json()["held_back_reason"].startswith("阶段“方案”要求客户“Acme Tools”")

    gated = factories.OpportunityFactory(account=account, stage=stages["Proposal"])
    with translation.override("en"):
        pipeline_services.account_send_back(account_id=account.pk)
    zh = _page(client, gated.get_absolute_url(), ZH)
    # On the hold-back, in the stage history and in the change history.
    assert zh.count("阶段“方案”要求客户“Acme Tools”有一名已核实的教练，但目前没有。") == 3
    assert "needs a verified coach" not in zh


def test_a_send_back_notice_gives_the_reason_in_the_owners_language(ann, stages):
    ann.language = "zh-hans"
    ann.save(update_fields=["language"])
    account = factories.AccountFactory(owner=ann, name="Acme Tools")
    factories.OpportunityFactory(account=account, stage=stages["Proposal"], name="Rollout")
    with translation.override("en"):
        pipeline_services.account_send_back(account_id=account.pk)
    message = Notification.objects.get(user=ann).message
    assert "阶段“方案”要求客户“Acme Tools”有一名已核实的教练，但目前没有。" in message
    assert "needs a verified coach" not in message


def test_a_moved_coachs_provenance_is_in_each_readers_language(client, ann, stages, django_capture_on_commit_callbacks):
    factories.ProductLineFactory(name="Cloud")
    coach = factories.CoachFactory(holder=ann, account=factories.AccountFactory(owner=ann, name="Old Works"))
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        account_services.contact_move(
            contact=coach.contact,
            by=ann,
            new_account_name="Blue Harbour",
            title="CIO",
            start_date=timezone.localdate(),
        )
    prospect = Opportunity.objects.get(account__name="Blue Harbour")
    since = _short_date(coach.established_on, "zh-hans")
    client.force_login(ann)

    zh = _page(client, prospect.get_absolute_url(), ZH)
    assert f"曾是 Old Works 的教练（自 {since} 起）；借助其赢得的商机：暂无。" in zh
    assert "Former coach" not in zh
    url = reverse("api:opportunity-detail", args=[prospect.pk])
    assert client.get(url, headers=EN).json()["source"].startswith("Former coach at Old Works")
    # And the old coach record says where he went, in Chinese too.
    assert "已转到 Blue Harbour" in _page(client, coach.get_absolute_url(), ZH)


# --- amounts and dates inside notices -------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "1,234.50 EUR by 03/05/2026"), ("zh-hans", "1,234.50 EUR by 2026年3月5日")],
)
def test_notice_amounts_and_dates_are_formatted_for_the_recipient(ann, settings, language, expected):
    settings.CRM_CURRENCY = "EUR"
    ann.language = language
    ann.save(update_fields=["language"])
    with translation.override("en" if language != "en" else "zh-hans"):
        notify(
            user=ann,
            message=gettext_lazy("%(amount)s by %(date)s"),
            params={"amount": Decimal("1234.5"), "date": datetime.date(2026, 3, 5)},
            email=False,
        )
    assert Notification.objects.get(user=ann).message == expected


def test_a_grant_notice_shows_money_and_the_limit_in_the_approvers_language(mia, ann, settings):
    settings.CRM_CURRENCY = "EUR"
    mia.language = "zh-hans"
    mia.save(update_fields=["language"])
    account = factories.AccountFactory(owner=ann)
    item = factories.ServiceItemFactory(name="Dinner", unit_cost=Decimal("1350.00"))
    with translation.override("en"):
        grant_services.grant_request(
            by=ann,
            item=item,
            quantity=1,
            account=account,
            recipient=factories.person_at(account, contact__first_name="Lena", contact__last_name="Novak"),
            reason="relationship",
        )
    message = Notification.objects.get(user=mia).message
    assert "1 × Dinner（受赠人：Lena Novak）" in message
    assert "（1,350.00 EUR）" in message
    assert "每次赠予：1,350.00 EUR，超出限额300.00 EUR达1,050.00 EUR" in message
    assert "per grant" not in message and " for " not in message


def test_the_limits_a_grant_exceeded_read_in_the_readers_language(client, ann, mia, settings):
    settings.CRM_CURRENCY = "EUR"
    # Written by an English rep before labels were looked up: the stored label is English.
    over = {
        "authority": "Ann Rep",
        "limit": "per_grant",
        "label": "per grant",
        "limit_value": "300.00",
        "total": "1350.00",
        "over": "1050.00",
    }
    grant = factories.GrantFactory(
        account=factories.AccountFactory(owner=ann), status="pending", over_limits=[over], approver=mia
    )
    client.force_login(mia)
    page = _page(client, grant.get_absolute_url(), ZH)
    assert "Ann Rep的限额（每次赠予）：1,350.00 EUR / 300.00 EUR——超出 <strong>1,050.00 EUR</strong>" in page
    data = client.get(reverse("api:grant-detail", args=[grant.pk]), headers=ZH).json()
    assert data["over_limits"] == [{**over, "label": "每次赠予"}]


# --- one word, two meanings -----------------------------------------------------------------


def test_finance_the_industry_and_finance_the_function_each_have_their_chinese(client, ann):
    account = factories.AccountFactory(owner=ann, industry=factories.IndustryFactory(name="Finance"))
    factories.person_at(account, function="finance")
    client.force_login(ann)
    page = _page(client, account.get_absolute_url(), ZH)
    assert '<dd class="col-7">金融</dd>' in page
    assert ">财务<" in page
    with translation.override("zh-hans"):
        assert account.industry.label == "金融"
        assert factories.RegionFactory(name="North").label == "北区"


def test_words_used_in_two_meanings_translate_by_their_context():
    from coaches.models import CoachMove, Handover
    from pipeline.models import StageChange

    def label(model, field):
        return str(model._meta.get_field(field).verbose_name)

    with translation.override("zh-hans"):
        assert (label(Handover, "from_user"), label(Handover, "to_user")) == ("移交人", "接手人")
        assert (label(CoachMove, "from_account"), label(CoachMove, "to_account")) == ("原公司", "新公司")
        assert (label(StageChange, "from_stage"), label(StageChange, "to_stage")) == ("原阶段", "新阶段")
        assert (str(User.Status.ACTIVE.label), str(Coach.Status.ACTIVE.label)) == ("在职", "有效")


@pytest.mark.django_db
def test_the_playbook_headings_are_not_the_close_button():
    from django.template.loader import render_to_string

    from coaches.models import PlaybookCard

    entry = {"contact": "Lena Novak", "report": None, "card": PlaybookCard.objects.get(style="unknown")}
    with translation.override("zh-hans"):
        html = render_to_string("pipeline/_playbook.html", {"playbook": [entry]})
    assert "如何成交" in html and "详细程度" in html
    assert "关闭" not in html and "详情" not in html


# --- form labels ----------------------------------------------------------------------------


def test_filter_labels_end_with_the_colon_of_the_readers_language(client, ann):
    client.force_login(ann)
    zh = _page(client, reverse("accounts:account-list"), ZH)
    assert "地区：</label>" in zh
    assert "地区:</label>" not in zh
    assert "Region:</label>" in _page(client, reverse("accounts:account-list"), EN)
