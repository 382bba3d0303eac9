import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import formats, timezone

from accounts import services
from accounts.models import Account, Contact, Employment
from coaches.models import CoachMove
from pipeline.models import Opportunity
from tests import factories


@pytest.fixture
def lookups(db):
    return {"region": factories.RegionFactory(), "industry": factories.IndustryFactory()}


def test_account_create_by_rep_is_owned_by_the_rep(rep, lookups):
    account = services.account_create(by=rep, name="  Acme Tools ", owner=factories.RepFactory(), **lookups)
    assert account.name == "Acme Tools"
    assert account.owner == rep
    assert account.normalized_name == "acme tools"


def test_account_create_by_manager_may_choose_the_owner(manager, rep, lookups):
    account = services.account_create(by=manager, name="Acme", owner=rep, **lookups)
    assert account.owner == rep


def test_account_create_sets_product_lines(rep, lookups):
    line = factories.ProductLineFactory(name="Cloud")
    account = services.account_create(by=rep, name="Acme", product_lines=[line], **lookups)
    assert list(account.product_lines.all()) == [line]


def test_account_create_refuses_a_duplicate_name_and_points_to_it(rep, lookups):
    existing = services.account_create(by=rep, name="Acme Ltd", **lookups)
    with pytest.raises(services.DuplicateError) as excinfo:
        services.account_create(by=rep, name="ACME", **lookups)
    assert excinfo.value.existing == existing
    assert "already exists" in excinfo.value.messages[0]
    assert Account.objects.count() == 1


def test_account_create_refuses_an_empty_name(rep, lookups):
    with pytest.raises(ValidationError) as excinfo:
        services.account_create(by=rep, name=" -- ", **lookups)
    assert "name" in excinfo.value.error_dict


def test_account_update_refuses_renaming_onto_another_account(rep, lookups):
    services.account_create(by=rep, name="Acme", **lookups)
    other = services.account_create(by=rep, name="Borealis", **lookups)
    with pytest.raises(services.DuplicateError):
        services.account_update(account=other, by=rep, name="Acme Inc")
    other.refresh_from_db()
    assert other.name == "Borealis"


def test_account_update_keeps_its_own_name(rep, lookups):
    account = services.account_create(by=rep, name="Acme", **lookups)
    services.account_update(account=account, by=rep, name="Acme Ltd", notes="big")
    account.refresh_from_db()
    assert (account.name, account.notes) == ("Acme Ltd", "big")


def test_account_update_by_rep_cannot_change_the_owner(rep, other_rep, lookups):
    account = services.account_create(by=rep, name="Acme", **lookups)
    services.account_update(account=account, by=rep, owner=other_rep)
    account.refresh_from_db()
    assert account.owner == rep


def test_contact_create_records_the_current_position(rep):
    account = factories.AccountFactory(owner=rep)
    contact = services.contact_create(
        by=rep,
        first_name="Chen",
        last_name="Li",
        email="Chen.Li@Example.com",
        account=account,
        title="CFO",
        start_date=datetime.date(2024, 1, 1),
    )
    assert contact.email == "chen.li@example.com"
    position = contact.employments.get()
    assert (position.account, position.title, position.end_date) == (account, "CFO", None)


def test_contact_create_refuses_a_known_email_in_any_case(rep):
    account = factories.AccountFactory(owner=rep)
    existing = factories.ContactFactory(email="chen@example.com")
    with pytest.raises(services.DuplicateError) as excinfo:
        services.contact_create(
            by=rep, first_name="C", last_name="L", email="CHEN@example.com", account=account, title="x",
            start_date=datetime.date(2024, 1, 1),
        )  # fmt: skip
    assert excinfo.value.existing == existing
    assert existing.employments.count() == 0


def test_contact_update_refuses_another_contacts_email(rep):
    factories.ContactFactory(email="taken@example.com")
    contact = factories.ContactFactory(email="mine@example.com")
    with pytest.raises(services.DuplicateError):
        services.contact_update(contact=contact, by=rep, email="Taken@example.com")
    contact.refresh_from_db()
    assert contact.email == "mine@example.com"


def test_employment_add_refuses_a_second_current_position(rep):
    position = factories.EmploymentFactory()
    with pytest.raises(ValidationError, match="already has a current position"):
        services.employment_add(
            by=rep, contact=position.contact, account=factories.AccountFactory(), title="CEO",
            start_date=datetime.date(2025, 1, 1),
        )  # fmt: skip
    assert position.contact.employments.count() == 1


def test_employment_add_accepts_a_past_position_beside_the_current_one(rep):
    position = factories.EmploymentFactory()
    services.employment_add(
        by=rep, contact=position.contact, account=factories.AccountFactory(), title="Analyst",
        start_date=datetime.date(2010, 1, 1), end_date=datetime.date(2012, 1, 1),
    )  # fmt: skip
    assert position.contact.employments.count() == 2


def test_employment_add_refuses_an_end_before_the_start(rep):
    contact = factories.ContactFactory()
    with pytest.raises(ValidationError) as excinfo:
        services.employment_add(
            by=rep, contact=contact, account=factories.AccountFactory(), title="Analyst",
            start_date=datetime.date(2012, 1, 1), end_date=datetime.date(2010, 1, 1),
        )  # fmt: skip
    assert "end_date" in excinfo.value.error_dict
    assert not Employment.objects.exists()


def test_employment_end_closes_the_position(rep):
    position = factories.EmploymentFactory(start_date=datetime.date(2020, 1, 1))
    services.employment_end(employment=position, end_date=datetime.date(2024, 6, 30), by=rep)
    position.refresh_from_db()
    assert position.end_date == datetime.date(2024, 6, 30)


def test_employment_end_refuses_a_date_before_the_start(rep):
    position = factories.EmploymentFactory(start_date=datetime.date(2020, 1, 1))
    with pytest.raises(ValidationError):
        services.employment_end(employment=position, end_date=datetime.date(2019, 1, 1), by=rep)
    position.refresh_from_db()
    assert position.end_date is None


def test_employment_end_refuses_an_ended_position(rep):
    position = factories.EmploymentFactory(start_date=datetime.date(2020, 1, 1), end_date=datetime.date(2021, 1, 1))
    with pytest.raises(ValidationError, match="already ended"):
        services.employment_end(employment=position, end_date=datetime.date(2022, 1, 1), by=rep)


def test_history_records_who_changed_an_account(rep, lookups):
    account = services.account_create(by=rep, name="Acme", **lookups)
    services.account_update(account=account, by=rep, notes="changed")
    assert account.history.count() == 2


# --- contact_move -----------------------------------------------------------------------------


@pytest.fixture
def mover(rep):
    """A person at one of the rep's accounts since 400 days ago (not a coach)."""
    old = factories.AccountFactory(owner=rep, name="Old Works")
    return factories.person_at(old, contact__first_name="Mia", contact__last_name="Berg")


def _move(contact, by, start_date=None, **kwargs):
    kwargs.setdefault("title", "CIO")
    return services.contact_move(
        contact=contact, by=by, start_date=start_date or datetime.date.today() - datetime.timedelta(days=3), **kwargs
    )


def test_contact_move_to_an_existing_account_ends_the_old_position_the_day_before(rep, mover):
    target = factories.AccountFactory(name="Nordlicht AG")
    start = datetime.date.today() - datetime.timedelta(days=10)
    result = _move(mover, rep, start_date=start, new_account=target, function="it", seniority="c_level")
    old, new = mover.employments.order_by("start_date")
    assert old.end_date == start - datetime.timedelta(days=1) and old.account.name == "Old Works"
    assert new.account == target and new.start_date == start and new.end_date is None
    assert (new.title, new.function, new.seniority) == ("CIO", "it", "c_level")
    assert result.employment == new and not result.account_created and not result.coach_ended


def test_contact_move_by_name_reuses_the_account_under_another_spelling(rep, mover):
    target = factories.AccountFactory(name="Nordlicht AG")
    result = _move(mover, rep, new_account_name="  nordlicht  ")
    assert result.employment.account == target and not result.account_created
    assert Account.objects.filter(normalized_name="nordlicht").count() == 1


def test_contact_move_by_a_new_name_creates_the_account_with_the_old_ones_region_and_industry(rep, mover):
    old = mover.employments.get().account
    result = _move(mover, rep, new_account_name="Blue Harbour Ltd")
    account = result.employment.account
    assert result.account_created and account.name == "Blue Harbour Ltd" and account.normalized_name == "blue harbour"
    assert (account.region, account.industry, account.owner) == (old.region, old.industry, rep)


def test_contact_move_may_name_the_new_accounts_region_and_industry(rep, mover):
    region, industry = factories.RegionFactory(name="South"), factories.IndustryFactory(name="Energy")
    account = _move(mover, rep, new_account_name="Volt", region=region, industry=industry).employment.account
    assert (account.region, account.industry) == (region, industry)


def test_two_people_moving_to_one_new_company_make_one_account(rep, mover):
    other = factories.person_at(mover.employments.get().account)
    _move(mover, rep, new_account_name="Blue Harbour")
    second = _move(other, rep, new_account_name="Blue Harbour Ltd.")
    assert not second.account_created
    assert Account.objects.filter(normalized_name="blue harbour").count() == 1


@pytest.mark.parametrize("days_after_start", [0, -30])
def test_contact_move_starting_on_or_before_the_current_start_is_refused(rep, mover, days_after_start):
    current = mover.employments.get()
    start = current.start_date + datetime.timedelta(days=days_after_start)
    with pytest.raises(ValidationError) as error:
        _move(mover, rep, start_date=start, new_account_name="Blue Harbour")
    assert "must start after the current one began" in error.value.message_dict["start_date"][0]
    assert formats.date_format(current.start_date, "SHORT_DATE_FORMAT") in error.value.message_dict["start_date"][0]
    assert mover.employments.get().end_date is None
    assert not Account.objects.filter(name="Blue Harbour").exists()


def test_contact_move_needs_exactly_one_of_account_and_name(rep, mover):
    with pytest.raises(ValidationError, match="one of the two"):
        _move(mover, rep)
    with pytest.raises(ValidationError, match="one of the two"):
        _move(mover, rep, new_account=factories.AccountFactory(), new_account_name="Blue")
    assert mover.employments.get().end_date is None


def test_contact_move_to_the_same_company_is_refused(rep, mover):
    with pytest.raises(ValidationError, match="already works at Old Works"):
        _move(mover, rep, new_account_name="Old Works Ltd")
    assert mover.employments.count() == 1


def test_contact_move_without_a_current_position_is_refused(rep, mover):
    position = mover.employments.get()
    services.employment_end(employment=position, end_date=datetime.date.today(), by=rep)
    with pytest.raises(ValidationError, match="no current position"):
        _move(mover, rep, new_account_name="Blue Harbour")


def test_contact_move_needs_a_title(rep, mover):
    with pytest.raises(ValidationError) as error:
        _move(mover, rep, new_account_name="Blue Harbour", title="  ")
    assert "title" in error.value.message_dict
    assert not Account.objects.filter(name="Blue Harbour").exists()


def test_contact_move_of_a_non_coach_opens_no_prospect(rep, mover, stages, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        result = _move(mover, rep, new_account_name="Blue Harbour")
    assert not result.coach_ended and callbacks == []
    assert not Opportunity.objects.exists() and not CoachMove.objects.exists()


def test_contact_move_keeps_every_position_in_the_timeline(rep, mover):
    _move(mover, rep, new_account_name="Blue Harbour", start_date=datetime.date.today() - datetime.timedelta(days=100))
    _move(mover, rep, new_account_name="Green Field", start_date=datetime.date.today())
    names = [e.account.name for e in mover.employments.order_by("start_date")]
    assert names == ["Old Works", "Blue Harbour", "Green Field"]
    assert Employment.objects.filter(contact=mover, end_date__isnull=True).count() == 1


# --- reassign -------------------------------------------------------------------------------


def test_account_reassign_by_manager_moves_owner_with_history_and_notice(manager, rep):
    colleague = factories.RepFactory(manager=manager)
    territory = factories.TerritoryFactory(members=[rep])
    account = factories.AccountFactory(owner=rep, territory=territory, assignment_note="Owner via territory X")
    services.account_reassign(account=account, owner=colleague, by=manager, reason="Bob knows them")
    account.refresh_from_db()
    assert account.owner == colleague
    assert account.territory is None
    # Facts, not a sentence (the old routing note is gone): each reader words them himself.
    assert account.assignment_note == ""
    assert account.assignment_facts == {
        "kind": "reassigned",
        "previous": str(rep),
        "by": str(manager),
        "date": timezone.localdate().isoformat(),
        "reason": "Bob knows them",
    }
    assert account.assignment_note_display.startswith(f"Reassigned from {rep} by {manager} on ")
    assert account.assignment_note_display.endswith(": Bob knows them")
    latest = account.history.latest()
    assert (latest.owner_id, latest.history_user, latest.history_change_reason) == (
        colleague.pk,
        manager,
        "Bob knows them",
    )
    assert colleague.notifications.get().link == account.get_absolute_url()


def test_account_reassign_by_admin_to_anyone(admin_user, rep, other_rep):
    account = factories.AccountFactory(owner=rep)
    services.account_reassign(account=account, owner=other_rep, by=admin_user, reason="Territory rule")
    account.refresh_from_db()
    assert account.owner == other_rep


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("no reason", "Say why the account changes hands"),
        ("same owner", "already owns"),
        ("leaving", "is leaving or has left"),
        ("outside team", "You can hand accounts only to people in your team."),
        ("not his account", "is not in your team"),
        ("rep", "Only a manager or an admin can reassign an account."),
    ],
)
def test_account_reassign_refusals_change_nothing(case, message, manager, rep, other_rep):
    account = factories.AccountFactory(owner=rep)
    kwargs = {"account": account, "owner": factories.RepFactory(manager=manager), "by": manager, "reason": "why"}
    if case == "no reason":
        kwargs["reason"] = "  "
    elif case == "same owner":
        kwargs["owner"] = rep
    elif case == "leaving":
        kwargs["owner"] = factories.RepFactory(manager=manager, status="leaving")
    elif case == "outside team":
        kwargs["owner"] = other_rep
    elif case == "not his account":
        kwargs["account"] = factories.AccountFactory(owner=other_rep)
    elif case == "rep":
        kwargs["by"] = rep
    before = kwargs["account"].history.count()
    with pytest.raises(ValidationError, match=message):
        services.account_reassign(**kwargs)
    kwargs["account"].refresh_from_db()
    assert kwargs["account"].owner != kwargs["owner"] or case == "same owner"
    assert kwargs["account"].history.count() == before


def test_account_update_hands_an_owner_change_to_reassign_and_needs_a_reason(manager, rep, lookups):
    other = factories.RepFactory(manager=manager)
    account = factories.AccountFactory(owner=rep, **lookups)
    with pytest.raises(ValidationError) as excinfo:
        services.account_update(account=account, by=manager, owner=other, notes="x")
    assert "reason" in excinfo.value.error_dict
    account.refresh_from_db()
    assert account.owner == rep
    services.account_update(account=account, by=manager, owner=other, reason="Rep moved to the East team")
    account.refresh_from_db()
    assert account.owner == other
    assert "Rep moved to the East team" in account.assignment_note_display


def test_account_update_by_a_manager_cannot_give_an_account_outside_his_team(manager, rep, other_rep, lookups):
    account = factories.AccountFactory(owner=rep, **lookups)
    with pytest.raises(ValidationError):
        services.account_update(account=account, by=manager, owner=other_rep, reason="why not")
    account.refresh_from_db()
    assert account.owner == rep


# --- contacts_update_many (the import's bulk updates) ----------------------------------------


def _position(account, **kwargs):
    return {"account": account, "title": " Buyer ", "start_date": datetime.date(2024, 1, 1), **kwargs}


def test_contacts_update_many_changes_fields_and_adds_positions_with_history_by_the_user(rep):
    acme = factories.AccountFactory(owner=rep)
    known = factories.person_at(acme, contact__phone="")
    jobless = factories.ContactFactory(notes="")
    services.contacts_update_many(
        by=rep,
        rows=[
            {"contact": known, "fields": {"phone": "+1 555"}},
            {"contact": jobless, "fields": {"notes": "met at the fair"}, "position": _position(acme)},
        ],
    )
    known.refresh_from_db()
    jobless.refresh_from_db()
    assert (known.phone, jobless.notes) == ("+1 555", "met at the fair")
    position = jobless.employments.get()
    assert (position.account, position.title, position.end_date) == (acme, "Buyer", None)
    assert known.history.first().history_type == "~"
    assert known.history.first().history_user == rep
    assert jobless.history.first().history_user == rep
    assert position.history.get().history_user == rep


def test_contacts_update_many_keeps_fields_the_row_leaves_alone(rep):
    """A field changed since the import read the person is not written back from the old copy."""
    contact = factories.ContactFactory(phone="", notes="")
    stale = Contact.objects.get(pk=contact.pk)
    services.contact_update(contact=contact, by=rep, notes="written meanwhile")
    services.contacts_update_many(by=rep, rows=[{"contact": stale, "fields": {"phone": "+1 555"}}])
    contact.refresh_from_db()
    assert (contact.phone, contact.notes) == ("+1 555", "written meanwhile")
    assert contact.history.first().notes == "written meanwhile"


def test_contacts_update_many_refuses_bad_rows_by_index_and_changes_nothing(rep):
    acme = factories.AccountFactory(owner=rep)
    ok = factories.ContactFactory(phone="")
    employed = factories.person_at(acme)
    factories.ContactFactory(email="taken@example.com")
    rows = [
        {"contact": ok, "fields": {"phone": "+1 555"}},
        {"contact": factories.ContactFactory(), "fields": {"phone": "1" * 41}},
        {"contact": factories.ContactFactory(), "fields": {"email": "Taken@Example.com"}},
        {"contact": employed, "fields": {}, "position": _position(acme)},
        {
            "contact": factories.ContactFactory(),
            "fields": {},
            "position": _position(acme, end_date=datetime.date(2023, 1, 1)),
        },
        {"contact": factories.ContactFactory(), "fields": {"email": "not an address"}},
    ]
    with pytest.raises(services.RowErrors) as excinfo:
        services.contacts_update_many(by=rep, rows=rows)
    errors = excinfo.value.rows
    assert sorted(errors) == [1, 2, 3, 4, 5]
    assert "phone" in errors[1].error_dict
    assert isinstance(errors[2], services.DuplicateError)
    assert "already exists" in errors[2].messages[0]
    assert "already has a current position" in errors[3].messages[0]
    assert "end_date" in errors[4].error_dict
    assert "email" in errors[5].error_dict
    ok.refresh_from_db()
    assert ok.phone == ""
    assert employed.employments.count() == 1
    assert not ok.history.filter(history_type="~").exists()


def test_contacts_update_many_matches_e_mails_in_any_case_and_refuses_one_twice(rep):
    mine = factories.ContactFactory(email="mine@example.com")
    services.contacts_update_many(by=rep, rows=[{"contact": mine, "fields": {"email": " MINE@example.com "}}])
    mine.refresh_from_db()
    assert mine.email == "mine@example.com"
    a, b = factories.ContactFactory(), factories.ContactFactory()
    rows = [
        {"contact": a, "fields": {"email": "new@example.com"}},
        {"contact": b, "fields": {"email": "NEW@example.com"}},
    ]
    with pytest.raises(services.RowErrors) as excinfo:
        services.contacts_update_many(by=rep, rows=rows)
    assert list(excinfo.value.rows) == [1]
    assert not Contact.objects.filter(email__iexact="new@example.com").exists()


def test_contacts_update_many_refuses_a_person_twice(rep):
    contact = factories.ContactFactory(phone="")
    rows = [{"contact": contact, "fields": {"phone": "1"}}, {"contact": contact, "fields": {"phone": "2"}}]
    with pytest.raises(ValidationError, match="appears twice"):
        services.contacts_update_many(by=rep, rows=rows)
    contact.refresh_from_db()
    assert contact.phone == ""
