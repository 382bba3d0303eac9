"""Input ranges and single-line text: one set of checks, refused alike by page, API, import and service."""

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import Account, Contact
from coachcrm.inputs import date_check, latest_date, single_line_check
from coaches.models import Interaction
from csvio import services as csvio_services
from departures.services import user_mark_leaving
from pipeline.models import Opportunity
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
