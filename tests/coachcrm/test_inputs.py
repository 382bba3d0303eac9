"""Input ranges and single-line text: one set of checks, refused alike by page, API, import and service."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import Account, Contact
from coachcrm.inputs import (
    MAX_AMOUNT,
    MAX_QUANTITY,
    amount_check,
    date_check,
    latest_date,
    quantity_check,
    single_line_check,
)
from coaches.models import Interaction
from csvio import services as csvio_services
from departures.services import user_mark_leaving
from pipeline.models import Opportunity
from service_catalog.models import Authority, ServiceItem
from service_catalog.services import grant_request
from team.models import User
from tests import factories

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 6, 1)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime.datetime(2026, 6, 1, 9, tzinfo=datetime.UTC), tick=False):
        yield


@pytest.mark.parametrize(
    ("day", "past", "ok"),
    [
        (datetime.date(1950, 1, 1), True, True),
        (datetime.date(1949, 12, 31), True, False),
        (datetime.date(1, 1, 1), True, False),
        (TODAY, True, True),
        (TODAY + datetime.timedelta(days=1), True, False),
        (datetime.date(2036, 6, 1), False, True),
        (datetime.date(2036, 6, 2), False, False),
        (datetime.date(9999, 12, 31), False, False),
    ],
)
def test_date_check_keeps_dates_between_1950_and_ten_years_ahead(day, past, ok):
    if ok:
        assert date_check(day, field="d", past=past) == day
    else:
        with pytest.raises(ValidationError) as error:
            date_check(day, field="d", past=past)
        assert error.value.error_dict["d"][0].code == "date_out_of_range"


def test_latest_date_on_29_february_is_28_february_ten_years_on():
    with time_machine.travel(datetime.datetime(2028, 2, 29, 12, tzinfo=datetime.UTC), tick=False):
        assert latest_date() == datetime.date(2038, 2, 28)


@pytest.mark.parametrize("value", ["Acme\nLtd", "Acme\r\nBcc: x@example.com", "Ac\x00me", "Tab\there"])
def test_single_line_check_refuses_control_characters_naming_the_field(value):
    with pytest.raises(ValidationError) as error:
        single_line_check(name=value, title="fine")
    assert list(error.value.error_dict) == ["name"]
    assert "Line breaks" in error.value.error_dict["name"][0].message


def test_single_line_check_accepts_unicode_names():
    single_line_check(name="Zoë Ørsted-李", title="")


# --- through the API --------------------------------------------------------------------------


def test_api_refuses_an_account_name_with_a_line_break(token_client, rep):
    region, industry = factories.RegionFactory(name="North"), factories.IndustryFactory(name="Retail")
    response = token_client(rep).post(
        reverse("api:account-list"),
        {"name": "Acme\nBcc: victim@example.com", "region": region.name, "industry": industry.name},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["fields"]["name"] == ["Line breaks and control characters are not allowed here."]
    assert not Account.objects.exists()


def test_api_refuses_an_interaction_dated_1900(token_client, rep):
    coach = factories.CoachFactory(account=factories.AccountFactory(owner=rep))
    response = token_client(rep).post(
        reverse("api:interaction-list"),
        {"coach": coach.pk, "kind": "meeting", "occurred_on": "1900-01-01"},
        format="json",
    )
    assert response.status_code == 400
    assert "between" in response.json()["fields"]["occurred_on"][0]
    assert not Interaction.objects.exists()


def test_api_refuses_an_expected_close_in_1900(token_client, rep, stages):
    account = factories.AccountFactory(owner=rep)
    line = factories.ProductLineFactory()
    response = token_client(rep).post(
        reverse("api:opportunity-list"),
        {
            "account": account.pk,
            "name": "Deal",
            "product_line": line.name,
            "amount": "100",
            "expected_close": "1900-01-01",
        },
        format="json",
    )
    assert response.status_code == 400, response.json()
    assert "expected_close" in response.json()["fields"]
    assert not Opportunity.objects.exists()


# --- through the pages ------------------------------------------------------------------------


def test_contact_page_refuses_a_position_starting_in_the_year_1(rep_client, rep):
    account = factories.AccountFactory(owner=rep)
    response = rep_client.post(
        reverse("accounts:contact-create"),
        {"first_name": "Chen", "last_name": "Li", "account": account.pk, "title": "CFO", "function": "finance",
         "seniority": "c_level", "start_date": "0001-01-01"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "between" in str(response.context["form"].errors)
    assert not Contact.objects.exists()


def test_contact_page_refuses_a_last_name_with_a_line_break(rep_client, rep):
    account = factories.AccountFactory(owner=rep)
    response = rep_client.post(
        reverse("accounts:contact-create"),
        {"first_name": "Chen", "last_name": "Li\r\nX", "account": account.pk, "title": "CFO", "function": "finance",
         "seniority": "c_level", "start_date": "2024-01-01"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "Line breaks" in str(response.context["form"].errors["last_name"])
    assert not Contact.objects.exists()


# --- through the services and the import -----------------------------------------------------


def test_departure_on_9999_12_31_is_refused(manager, rep):
    with pytest.raises(ValidationError) as error:
        user_mark_leaving(user=rep, departure_date=datetime.date(9999, 12, 31), by=manager)
    assert "departure_date" in error.value.error_dict
    rep.refresh_from_db()
    assert rep.status == User.Status.ACTIVE


def test_import_reports_a_bad_start_date_and_a_line_break_on_their_rows(rep):
    factories.AccountFactory(owner=rep, name="Acme")
    text = (
        "first_name,last_name,account,title,start_date\n"
        "Ann,Ok,Acme,CFO,2024-01-01\n"
        "Bea,Early,Acme,CFO,0001-01-01\n"
        '"Cy","Two\nLines",Acme,CFO,2024-01-01\n'
        "Di,Future,Acme,CFO,2030-01-01\n"
    )
    batch = csvio_services.import_batch_create(by=rep, kind="contacts", filename="c.csv", data=text.encode())
    outcomes = [(r["outcome"], r["column"]) for r in batch.report["rows"]]
    assert outcomes == [("created", ""), ("error", "start_date"), ("error", "last_name"), ("error", "start_date")]


# --- Money and quantities ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-0.01", "cannot be negative"),
        ("1000000000", "too large"),
        ("1e12", "too large"),
        ("NaN", "Enter an amount"),
        ("twelve", "Enter an amount"),
    ],
)
def test_amount_check_refuses_negative_absurd_and_non_numbers(value, message):
    with pytest.raises(ValidationError, match=message) as error:
        amount_check(value, field="amount")
    assert list(error.value.error_dict) == ["amount"]


def test_amount_check_keeps_zero_and_the_maximum_to_the_cent():
    assert amount_check("0", field="amount") == Decimal("0.00")
    assert amount_check(MAX_AMOUNT, field="amount") == MAX_AMOUNT
    assert amount_check("12.345", field="amount") == Decimal("12.35")


@pytest.mark.parametrize(("value", "message"), [(0, "at least 1"), (MAX_QUANTITY + 1, "at most"), (10**30, "at most")])
def test_quantity_check_refuses_out_of_bounds(value, message):
    with pytest.raises(ValidationError, match=message):
        quantity_check(value, field="quantity")
    assert quantity_check(MAX_QUANTITY, field="quantity") == MAX_QUANTITY


def test_api_refuses_an_absurd_deal_amount_with_a_json_400(token_client, rep, stages):
    account, line = factories.AccountFactory(owner=rep), factories.ProductLineFactory()
    body = {"account": account.pk, "name": "Deal", "product_line": line.name, "amount": "5000000000"}
    response = token_client(rep).post(reverse("api:opportunity-list"), body, format="json")
    assert response.status_code == 400, response.json()
    assert "too large" in response.json()["fields"]["amount"][0]
    assert not Opportunity.objects.exists()


def test_api_refuses_a_negative_deal_amount_on_update(token_client, rep, stages):
    deal = factories.OpportunityFactory(account=factories.AccountFactory(owner=rep), owner=rep, amount=10)
    response = token_client(rep).patch(
        reverse("api:opportunity-detail", args=[deal.pk]), {"amount": "-5"}, format="json"
    )
    assert response.status_code == 400
    assert "amount" in response.json()["fields"]
    deal.refresh_from_db()
    assert deal.amount == 10


def test_deal_page_refuses_an_absurd_amount_on_the_field(rep_client, rep, stages):
    account, line = factories.AccountFactory(owner=rep), factories.ProductLineFactory()
    response = rep_client.post(
        reverse("pipeline:opportunity-create"),
        {"account": account.pk, "name": "New", "product_line": line.pk, "amount": "5000000000"},
    )
    assert response.status_code == 200
    assert "too large" in str(response.context["form"].errors["amount"])
    assert not Opportunity.objects.exists()


def test_deal_admin_refuses_an_absurd_amount_as_a_form_error(admin_client, stages):
    deal = factories.OpportunityFactory(amount=3)
    response = admin_client.post(
        reverse("admin:pipeline_opportunity_change", args=[deal.pk]),
        {"name": deal.name, "product_line": deal.product_line_id, "amount": "5000000000", "owner": deal.owner_id,
         "stage_changes-TOTAL_FORMS": "0", "stage_changes-INITIAL_FORMS": "0"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "too large" in str(response.context["adminform"].form.errors["amount"])
    deal.refresh_from_db()
    assert deal.amount == 3


def test_catalog_admin_refuses_an_absurd_unit_cost_and_maximum_quantity(admin_client):
    response = admin_client.post(
        reverse("admin:service_catalog_serviceitem_add"),
        {"name": "Tea", "category": "gift", "unit_cost": "2000000000", "max_quantity": str(MAX_QUANTITY + 1),
         "active": "on"},
    )  # fmt: skip
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "too large" in str(errors["unit_cost"]) and "at most" in str(errors["max_quantity"])
    assert not ServiceItem.objects.exists()


def test_authority_admin_refuses_a_negative_limit(admin_client):
    response = admin_client.post(reverse("admin:service_catalog_authority_add"), {"role": "rep", "per_grant": "-1"})
    assert response.status_code == 200
    assert "cannot be negative" in str(response.context["adminform"].form.errors["per_grant"])
    assert not Authority.objects.filter(per_grant__lt=0).exists()


def test_catalog_api_refuses_a_negative_unit_cost(token_client):
    admin = factories.AdminFactory()
    response = token_client(admin).post(
        reverse("api:service-item-list"), {"name": "Tea", "category": "gift", "unit_cost": "-1"}, format="json"
    )
    assert response.status_code == 400
    assert "unit_cost" in response.json()["fields"]


def test_grant_of_an_absurd_quantity_of_a_free_item_is_refused(rep):
    item = ServiceItem.objects.create(name="Brochure", unit_cost=0)
    account = factories.AccountFactory(owner=rep)
    recipient = factories.ContactFactory()
    with pytest.raises(ValidationError, match="at most") as error:
        grant_request(by=rep, item=item, quantity=10**9, account=account, recipient=recipient, reason="x")
    assert list(error.value.error_dict) == ["quantity"]


def test_import_reports_an_absurd_deal_amount_on_its_row(rep, stages):
    factories.AccountFactory(owner=rep, name="Acme")
    factories.ProductLineFactory(name="Analytics")
    text = (
        "name,account,product_line,amount,stage\n"
        "Fine,Acme,Analytics,1000,Lead\n"
        "Huge,Acme,Analytics,99999999999,Lead\n"
        "Negative,Acme,Analytics,-5,Lead\n"
    )
    batch = csvio_services.import_batch_create(by=rep, kind="deals", filename="d.csv", data=text.encode())
    outcomes = [(r["outcome"], r["column"]) for r in batch.report["rows"]]
    assert outcomes == [("created", ""), ("error", "amount"), ("error", "amount")]
    assert "too large" in batch.report["rows"][1]["detail"]
