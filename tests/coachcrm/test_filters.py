"""coachcrm.filters.CrmFilterSet: the form class kept per class, language and set of filters.

What a user may choose is his own (nothing carries over from another user's request), the
labels are in the request's language, and the lists filter as before.
"""

from django.http import QueryDict
from django.utils import translation

from accounts.filters import AccountFilter
from accounts.models import Account
from pipeline.filters import OpportunityFilter
from pipeline.models import Opportunity
from tests import factories


def _deal_filter(user, query=""):
    return OpportunityFilter(QueryDict(query), queryset=Opportunity.objects.all(), user=user)


def test_the_form_class_is_built_once_per_language_and_each_form_has_its_own_fields(rep, manager):
    first, second = _deal_filter(rep), _deal_filter(manager)
    assert type(first.form) is type(second.form)
    assert first.form.fields["owner"] is not second.form.fields["owner"]
    with translation.override("zh-hans"):
        chinese = _deal_filter(rep)
        assert type(chinese.form) is not type(first.form)
        assert str(chinese.form.fields["held_back"].label) != "Held back"
    assert str(_deal_filter(rep).form.fields["held_back"].label) == "Held back"


def test_a_users_owner_choices_are_his_own_whoever_asked_before(rep, other_rep, manager, admin_user):
    team_mate = factories.RepFactory(manager=manager)

    def owners(user):
        return set(_deal_filter(user).form.fields["owner"].queryset)

    assert owners(rep) == {rep}
    assert owners(admin_user) >= {rep, other_rep, manager, team_mate}
    assert owners(manager) == {manager, rep, team_mate}
    assert owners(rep) == {rep}  # after the admin's and the manager's requests


def test_an_owner_outside_the_users_choices_is_refused_not_applied(rep, other_rep, stages):
    mine = factories.OpportunityFactory(owner=rep)
    factories.OpportunityFactory(owner=other_rep)
    _deal_filter(factories.AdminFactory())  # an admin's request first: his choices include other_rep

    filterset = _deal_filter(rep, f"owner={other_rep.pk}")

    assert not filterset.is_valid()
    assert "owner" in filterset.errors
    assert list(_deal_filter(rep, f"owner={rep.pk}").qs) == [mine]


def test_a_filter_dropped_for_a_rep_is_there_for_the_next_manager(rep, manager):
    accounts = Account.objects.all()
    rep_filter = AccountFilter(QueryDict(f"owner={manager.pk}"), queryset=accounts, user=rep)
    assert "owner" not in rep_filter.form.fields
    assert rep_filter.is_valid()  # the owner he may not choose is ignored, not an error

    manager_filter = AccountFilter(QueryDict(""), queryset=accounts, user=manager)
    assert "owner" in manager_filter.form.fields
    assert set(manager_filter.form.fields["owner"].queryset) == {manager, rep}
