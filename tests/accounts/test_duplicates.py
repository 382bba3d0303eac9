"""The possible-duplicates list: accounts.selectors.duplicate_pairs and the "not a duplicate" services."""

import itertools

import pytest
from django.core.exceptions import ValidationError

from accounts import selectors, services
from accounts.models import AccountNotDuplicate, ContactNotDuplicate
from tests import factories

_NAMES = itertools.count()


def _pairs(user, kind, match) -> list[tuple]:
    rows = selectors.duplicate_pairs(user=user, kind=kind, match=match)
    return [
        (p.first.pk, p.second.pk, p.key) for p in selectors.duplicate_pairs_resolve(rows=rows, kind=kind, match=match)
    ]


def _person(account, **fields):
    # A name of its own unless the test gives one: a shared random name would make a pair of its own.
    n = next(_NAMES)
    fields.setdefault("first_name", f"First{n}")
    fields.setdefault("last_name", f"Last{n}")
    contact = factories.ContactFactory(**fields)
    factories.EmploymentFactory(contact=contact, account=account)
    return contact


@pytest.fixture
def team_account(rep):
    return factories.AccountFactory(name="Team Account", owner=rep)


def test_duplicate_pairs_find_accounts_whose_names_differ_only_by_spaces(admin_user, rep):
    first = factories.AccountFactory(name="Cedar Health", owner=rep)
    second = factories.AccountFactory(name="CedarHealth Inc.", owner=rep)
    factories.AccountFactory(name="Cedar Clinics", owner=rep)

    assert _pairs(admin_user, "account", "name") == [(first.pk, second.pk, "cedarhealth")]


def test_duplicate_pairs_pair_each_duplicate_with_the_oldest_of_its_key(admin_user, rep):
    first = factories.AccountFactory(name="Acme", owner=rep)
    second = factories.AccountFactory(name="A cme", owner=rep)
    third = factories.AccountFactory(name="AC ME", owner=rep)

    assert _pairs(admin_user, "account", "name") == [(first.pk, second.pk, "acme"), (first.pk, third.pk, "acme")]


def test_duplicate_pairs_find_people_by_email_without_case_or_tag(admin_user, team_account):
    first = _person(team_account, email="jane.doe@acme.example")
    second = _person(team_account, email="Jane.Doe+hubspot@ACME.example")
    _person(team_account, email="jane.roe@acme.example")

    assert _pairs(admin_user, "contact", "email") == [(first.pk, second.pk, "jane.doe@acme.example")]


def test_duplicate_pairs_find_people_by_the_digits_of_their_phone(admin_user, team_account):
    first = _person(team_account, phone="+1 (555) 010-0200")
    second = _person(team_account, phone="1.555.010.0200")
    _person(team_account, phone="+1 555 010 0201")
    _person(team_account, phone="")
    _person(team_account, phone="")

    assert _pairs(admin_user, "contact", "phone") == [(first.pk, second.pk, "15550100200")]


def test_duplicate_pairs_find_people_by_full_name_in_any_case(admin_user, team_account):
    first = _person(team_account, first_name="Wei", last_name="Zhang")
    second = _person(team_account, first_name="WEI", last_name="zhang")
    _person(team_account, first_name="Wei", last_name="Zhao")

    assert _pairs(admin_user, "contact", "name") == [(first.pk, second.pk, "wei zhang")]


def test_duplicate_pairs_leave_out_dismissed_pairs_until_restored(manager, rep):
    first = factories.AccountFactory(name="Birch Labs", owner=rep)
    second = factories.AccountFactory(name="BirchLabs", owner=manager)

    services.duplicate_dismiss(first=second, second=first, by=manager)

    assert _pairs(manager, "account", "name") == []
    dismissal = AccountNotDuplicate.objects.get()
    assert (dismissal.first, dismissal.second, dismissal.by) == (first, second, manager)
    assert list(selectors.duplicates_dismissed(user=manager, kind="account")) == [dismissal]

    assert services.duplicate_restore(first=first, second=second, by=manager) is True
    assert _pairs(manager, "account", "name") == [(first.pk, second.pk, "birchlabs")]
    assert services.duplicate_restore(first=first, second=second, by=manager) is False


def test_duplicate_dismiss_twice_keeps_one_row(admin_user, team_account):
    first = _person(team_account, first_name="Ann", last_name="Lee")
    second = _person(team_account, first_name="Ann", last_name="Lee")

    services.duplicate_dismiss(first=first, second=second, by=admin_user)
    services.duplicate_dismiss(first=first, second=second, by=admin_user)

    assert ContactNotDuplicate.objects.count() == 1
    assert _pairs(admin_user, "contact", "name") == []


def test_duplicate_pairs_of_a_manager_are_those_of_his_team_only(manager, rep, other_rep):
    ours = factories.AccountFactory(name="Oak Partners", owner=rep)
    factories.AccountFactory(name="OakPartners", owner=manager)
    # Another team's pair, and a pair half his: neither is his to merge.
    factories.AccountFactory(name="Pine Works", owner=other_rep)
    factories.AccountFactory(name="PineWorks", owner=other_rep)
    factories.AccountFactory(name="Elm Co", owner=rep)
    factories.AccountFactory(name="E lm", owner=other_rep)

    assert [first for first, _second, _key in _pairs(manager, "account", "name")] == [ours.pk]


def test_duplicate_pairs_of_a_manager_are_among_the_people_he_sees(manager, team_account, other_rep):
    theirs = factories.AccountFactory(owner=other_rep)
    mine = _person(team_account, phone="555 0300")
    _person(team_account, phone="5550300")
    _person(theirs, phone="555-0400")
    _person(theirs, phone="5550400")
    _person(theirs, phone="555-0300")  # shares our key, but is not his to see

    pairs = _pairs(manager, "contact", "phone")

    assert [(first, key) for first, _second, key in pairs] == [(mine.pk, "5550300")]


def test_duplicate_pairs_are_none_for_a_rep(rep):
    factories.AccountFactory(name="Fir Tree", owner=rep)
    factories.AccountFactory(name="FirTree", owner=rep)

    assert _pairs(rep, "account", "name") == []


def test_duplicate_dismiss_refuses_a_pair_the_user_may_not_merge(manager, rep, other_rep):
    ours = factories.AccountFactory(owner=rep)
    theirs = factories.AccountFactory(owner=other_rep)

    with pytest.raises(ValidationError) as refused:
        services.duplicate_dismiss(first=ours, second=theirs, by=manager)

    assert refused.value.code == "permission_denied"
    assert not AccountNotDuplicate.objects.exists()


def test_duplicate_dismiss_refuses_a_record_paired_with_itself(admin_user, rep):
    account = factories.AccountFactory(owner=rep)

    with pytest.raises(ValidationError):
        services.duplicate_dismiss(first=account, second=account, by=admin_user)


def test_account_merge_drops_the_losers_dismissals(admin_user, rep):
    first = factories.AccountFactory(name="Ash Ltd", owner=rep)
    second = factories.AccountFactory(name="A sh", owner=rep)
    third = factories.AccountFactory(name="AS H", owner=rep)
    services.duplicate_dismiss(first=first, second=third, by=admin_user)
    services.duplicate_dismiss(first=second, second=third, by=admin_user)

    services.account_merge(account=third, into=first, by=admin_user)

    assert not AccountNotDuplicate.objects.exists()
    assert _pairs(admin_user, "account", "name") == [(first.pk, second.pk, "ash")]


def test_duplicate_pairs_hide_only_the_pair_dismissed(admin_user, rep):
    first = factories.AccountFactory(name="Maple Co", owner=rep)
    second = factories.AccountFactory(name="Ma ple", owner=rep)
    third = factories.AccountFactory(name="M aple", owner=rep)
    # Two that are not the oldest: (first, third) is still to review.
    services.duplicate_dismiss(first=second, second=third, by=admin_user)

    assert _pairs(admin_user, "account", "name") == [(first.pk, second.pk, "maple"), (first.pk, third.pk, "maple")]
