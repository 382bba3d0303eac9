"""The buying committee: its services, the map's data and gaps, visibility, pages, CSV and API."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.services import employment_set_reports_to
from coaches.models import StanceReport
from coaches.services import stance_report_record
from pipeline import selectors, services
from pipeline.models import OpportunityContact
from tests import factories

TODAY = timezone.localdate


@pytest.fixture
def outsider(db):
    """A rep of another team: the coach's only holder, so the deal's owner may not see the coach."""
    return factories.RepFactory(manager=factories.ManagerFactory())


@pytest.fixture
def deal(rep, stages):
    return factories.OpportunityFactory(account=factories.AccountFactory(owner=rep), owner=rep)


@pytest.fixture
def coach(deal, rep):
    return factories.CoachFactory(account=deal.account, holder=rep)


def on_committee(deal, role, **kwargs):
    return factories.OpportunityContactFactory(opportunity=deal, role=role, **kwargs)


def gap_codes(committee):
    return [gap["code"] for gap in committee["gaps"]]


# --- services ---------------------------------------------------------------------------------


def test_committee_member_set_creates_then_updates_the_role(deal, rep):
    person = factories.person_at(deal.account)
    row = services.committee_member_set(opportunity=deal, contact=person, role="economic_buyer", by=rep, holder=rep)
    assert (row.role, row.holder) == ("economic_buyer", rep)
    touched = TODAY() - datetime.timedelta(days=2)
    again = services.committee_member_set(
        opportunity=deal, contact=person, role="economic_buyer", by=rep, last_touch_on=touched
    )
    assert again.pk == row.pk
    again.refresh_from_db()
    # An empty holder changes nothing; the date is recorded.
    assert (again.holder, again.last_touch_on) == (rep, touched)


def test_committee_member_set_records_stance_and_reporting_line(deal, rep):
    boss, person = factories.person_at(deal.account), factories.person_at(deal.account)
    services.committee_member_set(
        opportunity=deal,
        contact=person,
        role="user",
        by=rep,
        stance="opponent",
        stance_note="Win him at the demo.",
        reports_to=boss,
    )
    report = StanceReport.objects.get(contact=person)
    assert (report.stance, report.coach, report.recorded_by, report.note) == (
        "opponent",
        None,
        rep,
        "Win him at the demo.",
    )
    assert person.employments.current().get().reports_to == boss


def test_committee_member_set_refuses_a_person_from_elsewhere(deal, rep):
    stranger = factories.person_at(factories.AccountFactory())
    with pytest.raises(ValidationError) as error:
        services.committee_member_set(opportunity=deal, contact=stranger, role="user", by=rep)
    assert "contact" in error.value.message_dict
    assert not OpportunityContact.objects.exists()


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("role", {"role": "chief"}),
        ("last_touch_on", {"last_touch_on": datetime.date(2999, 1, 1)}),
        ("stance", {"stance": "hostile"}),
    ],
)
def test_committee_member_set_refuses_bad_input_and_writes_nothing(deal, rep, field, kwargs):
    person = factories.person_at(deal.account)
    arguments = {"role": "user", **kwargs}
    with pytest.raises(ValidationError) as error:
        services.committee_member_set(opportunity=deal, contact=person, by=rep, **arguments)
    assert field in error.value.message_dict
    assert not OpportunityContact.objects.exists() and not StanceReport.objects.exists()


def test_stance_report_record_refuses_a_lapsed_coach_and_another_account(deal, rep, coach):
    person = factories.person_at(deal.account)
    stranger = factories.person_at(factories.AccountFactory())
    with pytest.raises(ValidationError, match="does not work at"):
        stance_report_record(by=rep, contact=stranger, stance="neutral", coach=coach)
    coach.status = "lapsed"
    coach.save()
    with pytest.raises(ValidationError, match="no longer an active coach"):
        stance_report_record(by=rep, contact=person, stance="neutral", coach=coach)


def test_stance_report_record_of_a_rep_needs_a_current_position(rep):
    retired = factories.EmploymentFactory(end_date=TODAY()).contact
    with pytest.raises(ValidationError, match="no current position"):
        stance_report_record(by=rep, contact=retired, stance="neutral")


def test_employment_set_reports_to_refuses_self_elsewhere_and_loops(deal, rep):
    a, b, c = (factories.person_at(deal.account) for _ in range(3))
    position = {p: p.employments.get() for p in (a, b, c)}
    with pytest.raises(ValidationError, match="himself"):
        employment_set_reports_to(employment=position[a], reports_to=a, by=rep)
    with pytest.raises(ValidationError, match="does not work at"):
        employment_set_reports_to(
            employment=position[a], reports_to=factories.person_at(factories.AccountFactory()), by=rep
        )
    employment_set_reports_to(employment=position[b], reports_to=a, by=rep)
    employment_set_reports_to(employment=position[c], reports_to=b, by=rep)
    # a → c would close the loop c → b → a → c.
    with pytest.raises(ValidationError, match="already reports"):
        employment_set_reports_to(employment=position[a], reports_to=c, by=rep)
    employment_set_reports_to(employment=position[c], reports_to=None, by=rep)
    position[c].refresh_from_db()
    assert position[c].reports_to is None


# --- the map's data ---------------------------------------------------------------------------


def test_committee_groups_people_by_first_role_with_style_stance_holders_and_lines(deal, rep, coach):
    boss = on_committee(deal, "economic_buyer", holder=rep, last_touch_on=TODAY()).contact
    maker = on_committee(deal, "decision_maker").contact
    on_committee(deal, "influencer", contact=maker)  # a second role: drawn once, in the first
    maker.employments.update(reports_to=boss)
    factories.StyleReportFactory(coach=coach, contact=maker, style="driver")
    factories.StanceReportFactory(coach=coach, contact=maker, stance="supporter", reported_on=TODAY())
    committee = selectors.opportunity_committee(opportunity=deal, user=rep)
    assert [g["role"] for g in committee["groups"]] == ["economic_buyer", "decision_maker"]
    person = committee["groups"][1]["people"][0]
    assert person["roles"] == ["decision_maker", "influencer"]
    assert person["style"]["style"] == "driver" and person["style"]["coach"] == str(coach.contact)
    assert person["stance"]["stance"] == "supporter" and person["stance"]["coach_sourced"]
    assert committee["groups"][0]["people"][0]["holders"] == [rep.username]
    assert committee["lines"] == [{"from": maker.pk, "to": boss.pk}]


def test_committee_coach_carries_his_holders_and_last_touch(deal, rep, coach):
    factories.HolderFactory(coach=coach, user=factories.RepFactory())
    coach.last_interaction_on = TODAY() - datetime.timedelta(days=4)
    coach.save()
    on_committee(deal, "coach", contact=coach.contact)
    person = selectors.opportunity_committee(opportunity=deal, user=rep)["people"][0]
    assert person["is_coach"] and len(person["holders"]) == 2
    assert person["last_touch"] == coach.last_interaction_on


def test_committee_gaps_on_an_empty_committee(deal, rep):
    assert gap_codes(selectors.opportunity_committee(opportunity=deal, user=rep)) == [
        "no_economic_buyer",
        "no_decision_maker",
    ]


def test_committee_gap_unknown_style_asks_the_coach_by_name(deal, rep, coach):
    maker = on_committee(deal, "decision_maker", holder=rep).contact
    gaps = selectors.opportunity_committee(opportunity=deal, user=rep)["gaps"]
    style = next(g for g in gaps if g["code"] == "style_unknown")
    assert str(coach.contact) in style["text"]
    assert style["url"] == reverse("coaches:stylereport-create", args=[maker.pk])


def test_committee_gap_unknown_style_without_a_coach_links_to_record_one(deal, rep):
    on_committee(deal, "decision_maker", holder=rep)
    style = next(
        g for g in selectors.opportunity_committee(opportunity=deal, user=rep)["gaps"] if g["code"] == "style_unknown"
    )
    assert style["url"].startswith(reverse("coaches:coach-create"))


def test_committee_gap_single_threaded_and_nobody(deal, rep):
    first = on_committee(deal, "economic_buyer")
    assert "no_relationship" in gap_codes(selectors.opportunity_committee(opportunity=deal, user=rep))
    first.holder = rep
    first.save()
    on_committee(deal, "decision_maker", holder=rep)
    committee = selectors.opportunity_committee(opportunity=deal, user=rep)
    single = next(g for g in committee["gaps"] if g["code"] == "single_threaded")
    assert rep.username in single["text"]
    on_committee(deal, "user", holder=factories.RepFactory())
    assert "single_threaded" not in gap_codes(selectors.opportunity_committee(opportunity=deal, user=rep))


def test_committee_gap_opponent_with_power_and_no_plan(deal, rep):
    blocker = on_committee(deal, "blocker", holder=rep).contact
    stance_report_record(by=rep, contact=blocker, stance="opponent")
    assert "opponent_no_plan" in gap_codes(selectors.opportunity_committee(opportunity=deal, user=rep))
    stance_report_record(by=rep, contact=blocker, stance="opponent", note="Meet his boss first.")
    assert "opponent_no_plan" not in gap_codes(selectors.opportunity_committee(opportunity=deal, user=rep))


def test_committee_gap_stance_unknown_for_power(deal, rep):
    on_committee(deal, "economic_buyer", holder=rep)
    assert "stance_unknown" in gap_codes(selectors.opportunity_committee(opportunity=deal, user=rep))


@pytest.mark.parametrize("size", [1, 20])
def test_committee_query_count_does_not_grow_with_people(deal, rep, coach, size, django_assert_num_queries):
    # Guards the N+1s of the map: a position, a style, a stance, a holder or a coach per person.
    for index in range(size):
        person = on_committee(deal, ["economic_buyer", "user", "influencer"][index % 3], holder=rep).contact
        factories.StyleReportFactory(coach=coach, contact=person)
        factories.StanceReportFactory(coach=coach, contact=person)
    on_committee(deal, "coach", contact=coach.contact)
    # Roles, positions, styles, stances, the visible coaches and their holders.
    with django_assert_num_queries(6):
        committee = selectors.opportunity_committee(opportunity=deal, user=rep)
    assert len(committee["people"]) == size + 1


# --- visibility -------------------------------------------------------------------------------


@pytest.fixture
def hidden_coach(deal, outsider):
    """A coach at the deal's account whom the deal's owner may not see, and what he reported."""
    coach = factories.CoachFactory(account=deal.account, holder=outsider)
    maker = on_committee(deal, "decision_maker").contact
    on_committee(deal, "coach", contact=coach.contact)
    factories.StyleReportFactory(coach=coach, contact=maker, style="amiable")
    factories.StanceReportFactory(coach=coach, contact=maker, stance="opponent", note="Secret plan")
    return coach


def test_committee_hides_coach_sourced_facts_from_a_non_holder(deal, rep, hidden_coach, outsider):
    committee = selectors.opportunity_committee(opportunity=deal, user=rep)
    assert [p["name"] for p in committee["people"]] != [] and all(not p["is_coach"] for p in committee["people"])
    maker = committee["people"][0]
    assert maker["style"] is None and maker["stance"] is None
    assert str(hidden_coach.contact) not in str(committee)
    # The holder sees it all.
    holder_view = selectors.opportunity_committee(opportunity=deal, user=outsider)
    assert str(hidden_coach.contact) in str(holder_view)


def test_committee_shows_a_reps_own_stance_to_whoever_sees_the_person(deal, rep, hidden_coach, outsider):
    maker = deal.contact_roles.get(role="decision_maker").contact
    stance_report_record(by=outsider, contact=maker, stance="neutral", reported_on=TODAY())
    StanceReport.objects.filter(coach__isnull=False).update(reported_on=TODAY() - datetime.timedelta(days=3))
    committee = selectors.opportunity_committee(opportunity=deal, user=rep)
    assert committee["people"][0]["stance"]["stance"] == "neutral"


def test_committee_page_svg_table_csv_and_api_hide_coach_facts(client, deal, rep, hidden_coach):
    client.force_login(rep)
    secret = str(hidden_coach.contact)
    page = client.get(deal.get_absolute_url())
    assert page.status_code == 200
    body = page.content.decode()
    assert 'data-testid="committee-map"' in body and 'data-testid="committee-table"' in body
    # The map, its gaps and table (the edit form lists the account's people, the coach among them,
    # as a person: who is our coach is what stays hidden).
    section = body[body.index('data-testid="committee"') : body.index('id="committee-form"')]
    assert secret not in section and "our coach" not in section
    assert "Secret plan" not in body
    assert "Amiable</text>" not in section and "Amiable<div" not in section
    export = client.get(reverse("pipeline:committee-export", args=[deal.pk]))
    csv = b"".join(export.streaming_content).decode()
    assert "decision_maker" in csv
    assert secret not in csv and "amiable" not in csv and "opponent" not in csv
    api = client.get(f"/api/v1/opportunities/{deal.pk}/committee/")
    assert api.status_code == 200
    assert secret not in api.content.decode() and "Secret plan" not in api.content.decode()
    reports = client.get("/api/v1/stance-reports/").json()
    assert reports["count"] == 0 if "count" in reports else reports == []


# --- pages and API ----------------------------------------------------------------------------


def test_committee_page_of_another_users_deal_is_404(client, other_rep, deal):
    client.force_login(other_rep)
    assert client.get(deal.get_absolute_url()).status_code == 404
    assert client.get(reverse("pipeline:committee-export", args=[deal.pk])).status_code == 404
    assert client.post(reverse("pipeline:committee-set", args=[deal.pk]), {}).status_code == 404
    assert client.get(f"/api/v1/opportunities/{deal.pk}/committee/").status_code == 404


def test_committee_set_page_saves_and_redirects(rep_client, deal, rep):
    person = factories.person_at(deal.account)
    response = rep_client.post(
        reverse("pipeline:committee-set", args=[deal.pk]),
        {"contact": person.pk, "role": "economic_buyer", "holder": rep.pk, "stance": "supporter"},
    )
    assert response.status_code == 302 and response["Location"].endswith("#committee")
    assert deal.contact_roles.get().holder == rep
    assert StanceReport.objects.get().stance == "supporter"


def test_committee_set_page_form_error_is_400_with_the_form_open(rep_client, deal):
    response = rep_client.post(reverse("pipeline:committee-set", args=[deal.pk]), {"role": "economic_buyer"})
    assert response.status_code == 400
    assert 'id="committee-form" open' in response.content.decode()


def test_committee_set_page_wrong_method_is_405(rep_client, deal):
    assert rep_client.get(reverse("pipeline:committee-set", args=[deal.pk])).status_code == 405


def test_committee_gap_link_presets_the_form(rep_client, deal):
    body = rep_client.get(f"{deal.get_absolute_url()}?role=economic_buyer").content.decode()
    assert 'id="committee-form" open' in body
    assert '<option value="economic_buyer" selected>' in body


def test_committee_api_post_sets_and_returns_the_committee(rep_client, deal, rep):
    person = factories.person_at(deal.account)
    response = rep_client.post(
        f"/api/v1/opportunities/{deal.pk}/committee/",
        {"contact": person.pk, "role": "decision_maker", "stance": "neutral"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["people"][0]["stance"]["stance"] == "neutral"


def test_committee_api_refuses_a_person_from_elsewhere_as_json(rep_client, deal):
    stranger = factories.person_at(factories.AccountFactory(owner=deal.owner))
    response = rep_client.post(
        f"/api/v1/opportunities/{deal.pk}/committee/",
        {"contact": stranger.pk, "role": "decision_maker"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "contact" in response.json()["fields"]


def test_stance_report_api_records_a_reps_own(rep_client, deal, rep):
    person = factories.person_at(deal.account)
    response = rep_client.post(
        "/api/v1/stance-reports/", {"contact": person.pk, "stance": "supporter"}, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["recorded_by"] == rep.pk


def test_reports_to_on_the_person_page_and_api(rep_client, deal):
    boss, person = factories.person_at(deal.account), factories.person_at(deal.account)
    position = person.employments.get()
    response = rep_client.post(reverse("accounts:employment-reports-to", args=[position.pk]), {"reports_to": boss.pk})
    assert response.status_code == 302
    position.refresh_from_db()
    assert position.reports_to == boss
    assert 'data-testid="reports-to"' in rep_client.get(person.get_absolute_url()).content.decode()
    api = rep_client.post(
        f"/api/v1/contacts/{person.pk}/positions/{position.pk}/reports-to/",
        {"reports_to": None},
        content_type="application/json",
    )
    assert api.status_code == 200, api.content
    position.refresh_from_db()
    assert position.reports_to is None


# --- the account's committee (its open deals together) ----------------------------------------


@pytest.fixture
def second_deal(deal, rep):
    return factories.OpportunityFactory(account=deal.account, owner=rep)


def test_account_committee_draws_each_person_once_across_the_open_deals(deal, second_deal, rep, stages):
    buyer = on_committee(deal, "economic_buyer", holder=rep).contact
    on_committee(second_deal, "influencer", contact=buyer)
    maker = on_committee(second_deal, "decision_maker").contact
    closed = factories.OpportunityFactory(account=deal.account, stage=stages["Lost"], status="lost")
    on_committee(closed, "blocker")  # a closed deal's committee is not the account's
    committee = selectors.account_committee(account=deal.account, user=rep)
    assert [p["id"] for p in committee["people"]] == [buyer.pk, maker.pk]
    person = committee["people"][0]
    assert person["roles"] == ["economic_buyer", "influencer"]
    assert [d["id"] for d in person["deals"]] == [deal.pk, second_deal.pk]
    assert {d["id"] for d in committee["deals"]} == {deal.pk, second_deal.pk}


def test_account_committee_gaps_follow_the_deal_rules_over_the_union(deal, second_deal, rep):
    on_committee(deal, "economic_buyer", holder=rep)
    maker = on_committee(second_deal, "decision_maker").contact
    committee = selectors.account_committee(account=deal.account, user=rep)
    codes = gap_codes(committee)
    # One deal names the buyer, the other the decision maker: neither is missing for the account.
    assert "no_economic_buyer" not in codes and "no_decision_maker" not in codes
    assert "single_threaded" in codes and "style_unknown" in codes
    # A gap about a person links to the committee form of the deal he is on.
    stance = next(g for g in committee["gaps"] if g["code"] == "stance_unknown" and str(maker) in g["text"])
    assert stance["url"].startswith(second_deal.get_absolute_url()) and f"contact={maker.pk}" in stance["url"]


def test_account_committee_without_an_open_deal_has_no_gaps(rep, stages):
    account = factories.AccountFactory(owner=rep)
    committee = selectors.account_committee(account=account, user=rep)
    assert (committee["people"], committee["gaps"], committee["deals"]) == ([], [], [])


def test_account_committee_hides_coach_sourced_facts_from_a_non_holder(client, deal, rep, hidden_coach, outsider):
    secret = str(hidden_coach.contact)
    assert secret not in str(selectors.account_committee(account=deal.account, user=rep))
    assert secret in str(selectors.account_committee(account=deal.account, user=outsider))
    client.force_login(rep)
    page = client.get(reverse("pipeline:account-committee", args=[deal.account_id])).content.decode()
    assert secret not in page and "Secret plan" not in page and "our coach" not in page
    export = client.get(reverse("pipeline:account-committee-export", args=[deal.account_id]))
    csv = b"".join(export.streaming_content).decode()
    assert "decision_maker" in csv and deal.name in csv
    assert secret not in csv and "amiable" not in csv and "opponent" not in csv
    api = client.get(f"/api/v1/accounts/{deal.account_id}/committee/")
    assert api.status_code == 200 and secret not in api.content.decode()


def test_account_committee_page_draws_the_map_linked_from_the_account(rep_client, deal, rep):
    on_committee(deal, "economic_buyer", holder=rep)
    url = reverse("pipeline:account-committee", args=[deal.account_id])
    assert url in rep_client.get(deal.account.get_absolute_url()).content.decode()
    body = rep_client.get(url).content.decode()
    assert 'data-testid="committee-map"' in body and 'data-testid="committee-map-narrow"' in body
    assert 'data-testid="committee-table"' in body and deal.name in body


def test_account_committee_of_another_users_account_is_404(client, other_rep, deal):
    client.force_login(other_rep)
    assert client.get(reverse("pipeline:account-committee", args=[deal.account_id])).status_code == 404
    assert client.get(reverse("pipeline:account-committee-export", args=[deal.account_id])).status_code == 404
    assert client.get(f"/api/v1/accounts/{deal.account_id}/committee/").status_code == 404


def test_account_committee_page_wrong_method_is_405(rep_client, deal):
    assert rep_client.post(reverse("pipeline:account-committee", args=[deal.account_id])).status_code == 405


@pytest.mark.parametrize("size", [1, 20])
def test_account_committee_query_count_does_not_grow_with_people(
    deal, second_deal, rep, coach, size, django_assert_num_queries
):
    # Guards the N+1s of the account map: a deal, a position, a style, a stance or a holder per person.
    for index in range(size):
        person = on_committee([deal, second_deal][index % 2], ["economic_buyer", "user"][index % 2], holder=rep).contact
        factories.StyleReportFactory(coach=coach, contact=person)
        factories.StanceReportFactory(coach=coach, contact=person)
    on_committee(second_deal, "coach", contact=coach.contact)
    # The deals, then the deal map's six: roles, positions, styles, stances, coaches, holders.
    with django_assert_num_queries(7):
        committee = selectors.account_committee(account=deal.account, user=rep)
    assert len(committee["people"]) == size + 1
