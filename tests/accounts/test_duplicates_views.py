"""The possible-duplicates page (accounts:duplicate-list) and its "not a duplicate" buttons."""

import pytest
from django.urls import reverse

from accounts.models import AccountNotDuplicate, ContactNotDuplicate
from tests import factories


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def _pair(owner, n=0, second_owner=None):
    first = factories.AccountFactory(name=f"Cedar Health {n}", owner=owner)
    second = factories.AccountFactory(name=f"CedarHealth {n}", owner=second_owner or owner)
    return first, second


def _post(client, name, first, second, kind="account"):
    data = {"kind": kind, "match": "name", "first": first.pk, "second": second.pk}
    return client.post(reverse(f"accounts:duplicate-{name}"), data)


def test_duplicate_list_shows_each_pair_with_why_and_a_merge_link(manager_client, rep, manager):
    first, second = _pair(rep, second_owner=manager)

    response = manager_client.get(reverse("accounts:duplicate-list"))

    assert response.status_code == 200
    [pair] = response.context["pairs"]
    assert (pair.first, pair.second, pair.key) == (first, second, "cedarhealth0")
    content = response.content.decode()
    assert "Same name" in content
    assert f"{reverse('accounts:account-merge', args=[second.pk])}?into={first.pk}" in content


def test_duplicate_list_shows_people_by_the_match_asked_for(admin_client, rep):
    account = factories.AccountFactory(owner=rep)
    first = factories.EmploymentFactory(account=account, contact__phone="+44 20 7946 0000").contact
    second = factories.EmploymentFactory(account=account, contact__phone="44 (20) 7946-0000").contact

    response = admin_client.get(reverse("accounts:duplicate-list"), {"kind": "contact", "match": "phone"})

    assert [(p.first, p.second) for p in response.context["pairs"]] == [(first, second)]
    assert reverse("accounts:contact-merge", args=[second.pk]) in response.content.decode()


def test_duplicate_list_leaves_out_another_teams_pair(manager_client, other_rep):
    _pair(other_rep)

    response = manager_client.get(reverse("accounts:duplicate-list"))

    assert response.context["pairs"] == []


def test_duplicate_list_is_not_a_reps_page(rep_client):
    assert rep_client.get(reverse("accounts:duplicate-list")).status_code == 404
    assert rep_client.post(reverse("accounts:duplicate-dismiss"), {}).status_code == 404


def test_duplicate_list_refuses_post(manager_client):
    assert manager_client.post(reverse("accounts:duplicate-list")).status_code == 405


def test_duplicate_dismiss_hides_the_pair_and_offers_undo(manager_client, rep):
    first, second = _pair(rep)

    response = _post(manager_client, "dismiss", second, first)

    assert response.status_code == 302
    assert AccountNotDuplicate.objects.filter(first=first, second=second).exists()
    page = manager_client.get(response.url)
    assert page.context["pairs"] == []
    assert page.context["undo"].cleaned_data["first"] == second.pk
    dismissed = manager_client.get(reverse("accounts:duplicate-list"), {"show": "dismissed"})
    assert [(d.first, d.second) for d in dismissed.context["page"]] == [(first, second)]


def test_duplicate_restore_lists_the_pair_again(manager_client, rep, manager):
    first, second = _pair(rep)
    AccountNotDuplicate.objects.create(first=first, second=second, by=manager)

    response = _post(manager_client, "restore", first, second)

    assert response.status_code == 302
    assert not AccountNotDuplicate.objects.exists()
    assert len(manager_client.get(response.url).context["pairs"]) == 1


def test_duplicate_dismiss_of_another_teams_pair_is_404(manager_client, rep, other_rep):
    first, second = _pair(other_rep)
    assert _post(manager_client, "dismiss", first, second).status_code == 404
    # Seen (a person at his team's account) is not enough when the accounts are not his to merge.
    ours, theirs = _pair(rep, n=1, second_owner=other_rep)
    assert _post(manager_client, "dismiss", ours, theirs).status_code == 404
    assert not AccountNotDuplicate.objects.exists()


def test_duplicate_dismiss_of_people_he_does_not_see_is_404(manager_client, rep, other_rep):
    ours = factories.EmploymentFactory(account=factories.AccountFactory(owner=rep)).contact
    theirs = factories.EmploymentFactory(account=factories.AccountFactory(owner=other_rep)).contact
    assert _post(manager_client, "dismiss", ours, theirs, kind="contact").status_code == 404
    assert not ContactNotDuplicate.objects.exists()


def test_duplicate_dismiss_with_a_wrong_form_says_so(manager_client):
    response = manager_client.post(reverse("accounts:duplicate-dismiss"), {"kind": "deal", "first": "x"}, follow=True)

    assert response.status_code == 200
    assert "Pick a pair from the list." in response.content.decode()
    assert not AccountNotDuplicate.objects.exists()


def test_duplicate_dismiss_refuses_get(manager_client):
    assert manager_client.get(reverse("accounts:duplicate-dismiss")).status_code == 405


@pytest.mark.parametrize("rows", [1, 50])
def test_duplicate_list_query_count_does_not_grow_with_pairs(
    manager_client, rep, manager, rows, django_assert_num_queries
):
    for n in range(rows):
        _pair(rep, n=n, second_owner=manager)
    # session, user, the duplicated records' ids (once, for the count and the page), count
    # (bounded), the page of duplicates with owner and region joined, the records they pair with
    # in one query (one per pair without it, and one per owner and region without the joins), the
    # unread badge.
    with django_assert_num_queries(7):
        response = manager_client.get(reverse("accounts:duplicate-list"))
    assert len(response.context["pairs"]) == min(rows, 25)


@pytest.mark.parametrize("rows", [1, 50])
def test_dismissed_list_query_count_does_not_grow_with_pairs(
    manager_client, rep, manager, rows, django_assert_num_queries
):
    for n in range(rows):
        AccountNotDuplicate.objects.create(first=_pair(rep, n=n)[0], second=_pair(rep, n=n + 100)[0], by=manager)
    # session, user, count, the page with both records, their owners and the dismisser joined
    # (four queries a row without the joins), the unread badge.
    with django_assert_num_queries(5):
        response = manager_client.get(reverse("accounts:duplicate-list"), {"show": "dismissed"})
    assert len(response.context["page"]) == min(rows, 25)
