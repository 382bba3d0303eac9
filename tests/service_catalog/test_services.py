import datetime
import threading
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from service_catalog import services
from service_catalog.models import Authority, Grant, ServiceItem
from team.models import Notification, User
from tests import factories

D = Decimal
NO_LIMITS = dict.fromkeys(Authority.LIMIT_FIELDS)


@pytest.fixture(autouse=True)
def _mid_june():
    # Far from month and year boundaries, so that "this month" and "this year" are stable.
    with time_machine.travel(datetime.datetime(2026, 6, 15, 12, tzinfo=datetime.UTC), tick=False):
        yield


@pytest.fixture
def account(rep):
    return factories.AccountFactory(owner=rep)


@pytest.fixture
def recipient(account):
    return factories.person_at(account)


def set_limits(role=User.Role.REP, **limits):
    Authority.objects.update_or_create(role=role, user=None, defaults={**NO_LIMITS, **limits})


def grant(rep, account, recipient, *, cost="100.00", quantity=1, **kwargs):
    item = kwargs.pop("item", None) or factories.ServiceItemFactory(unit_cost=D(cost))
    return services.grant_request(
        by=rep, item=item, quantity=quantity, account=account, recipient=recipient, reason="relationship", **kwargs
    )


# --- the happy path -------------------------------------------------------------------------


def test_grant_within_the_default_authority_is_approved_at_once(rep, account, recipient):
    result = grant(rep, account, recipient, cost="150.00", quantity=2)
    assert result.status == Grant.Status.APPROVED
    assert result.amount == D("300.00")
    assert result.authorised_by == rep
    assert result.over_limits == []
    assert not Notification.objects.exists()


def test_grant_amount_is_computed_on_the_server_from_the_current_unit_cost(rep, account, recipient):
    item = factories.ServiceItemFactory(unit_cost=D("12.34"))
    stale_copy = ServiceItem.objects.get(pk=item.pk)
    ServiceItem.objects.filter(pk=item.pk).update(unit_cost=D("20.00"))
    result = grant(rep, account, recipient, item=stale_copy, quantity=3)
    assert (result.unit_cost, result.amount) == (D("20.00"), D("60.00"))


# --- every limit at, just under and just over its boundary -----------------------------------


@pytest.mark.parametrize("limit", Authority.LIMIT_FIELDS)
@pytest.mark.parametrize(("offset", "approved"), [("-0.01", True), ("0.00", True), ("0.01", False)])
def test_each_limit_alone_at_under_and_over_the_boundary(rep, account, recipient, limit, offset, approved):
    set_limits(**{limit: D("300.00")})
    if limit == "per_grant":
        cost = D("300.00") + D(offset)
    else:
        factories.GrantFactory(rep=rep, account=account, recipient=recipient, item__unit_cost=D("200.00"))
        cost = D("100.00") + D(offset)
    result = grant(rep, account, recipient, cost=cost)
    assert result.is_pending is not approved
    if not approved:
        assert [(e["limit"], e["over"]) for e in result.over_limits] == [(limit, "0.01")]


def test_several_limits_exceeded_together_are_all_reported(rep, account, recipient):
    set_limits(per_grant=D("300"), per_month=D("1000"), per_account_year=D("3000"), per_recipient_year=D("500"))
    factories.GrantFactory(rep=rep, account=account, recipient=recipient, item__unit_cost=D("250.00"))
    result = grant(rep, account, recipient, cost="400.00")
    assert {e["limit"]: e["over"] for e in result.over_limits} == {
        "per_grant": "100.00",
        "per_recipient_year": "150.00",
    }


def test_combined_limits_the_tightest_one_decides(rep, account, recipient):
    set_limits(per_grant=D("300"), per_month=D("350"))
    factories.GrantFactory(rep=rep, account=account, recipient=recipient, item__unit_cost=D("100.00"))
    assert grant(rep, account, recipient, cost="250.00").status == Grant.Status.APPROVED  # 350 of 350
    result = grant(rep, account, recipient, cost="0.01")
    assert [e["limit"] for e in result.over_limits] == ["per_month"]


def test_month_limit_counts_only_what_the_rep_authorised_this_month(rep, account, recipient):
    set_limits(per_month=D("300"))
    factories.GrantFactory(rep=rep, account=account, recipient=recipient, item__unit_cost=D("250"))
    # Last month's, another rep's, and pending, rejected or cancelled grants do not count.
    factories.GrantFactory(
        rep=rep, account=account, recipient=recipient, item__unit_cost=D("900"),
        created_at=timezone.now() - datetime.timedelta(days=31),
    )  # fmt: skip
    factories.GrantFactory(account=account, recipient=recipient, rep=factories.RepFactory(), item__unit_cost=D("900"))
    for status in ("pending", "rejected", "cancelled"):
        factories.GrantFactory(rep=rep, account=account, recipient=recipient, item__unit_cost=D("900"), status=status)
    assert grant(rep, account, recipient, cost="50.00").status == Grant.Status.APPROVED
    assert grant(rep, account, recipient, cost="0.01").is_pending


def test_account_and_recipient_limits_count_every_reps_grants_this_calendar_year(rep, account, recipient):
    set_limits(per_account_year=D("1000"), per_recipient_year=D("500"))
    colleague = factories.RepFactory()
    factories.GrantFactory(rep=colleague, account=account, recipient=recipient, item__unit_cost=D("450"))
    last_year = timezone.now() - datetime.timedelta(days=200)
    factories.GrantFactory(
        rep=rep, account=account, recipient=recipient, item__unit_cost=D("900"), created_at=last_year
    )
    result = grant(rep, account, recipient, cost="60.00")
    assert [(e["limit"], e["total"], e["over"]) for e in result.over_limits] == [
        ("per_recipient_year", "510.00", "10.00")
    ]


def test_a_users_own_authority_row_replaces_his_roles(rep, account, recipient, admin_user):
    services.authority_set(by=admin_user, user=rep, per_grant="1000")
    assert grant(rep, account, recipient, cost="900.00").status == Grant.Status.APPROVED


def test_a_role_without_an_authority_row_has_nothing_pre_approved(rep, account, recipient):
    Authority.objects.filter(role=User.Role.REP).delete()
    assert grant(rep, account, recipient, cost="0.01").is_pending
    assert grant(rep, account, recipient, cost="0.00").status == Grant.Status.APPROVED


# --- refusals, with nothing changed ----------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        (D("1.5"), "whole number"),
        ("2", "whole number"),
        (True, "whole number"),
        (0, "at least 1"),
        (-3, "at least 1"),
    ],
)
def test_a_quantity_that_is_not_a_positive_whole_number_is_refused(rep, account, recipient, quantity, message):
    with pytest.raises(ValidationError) as error:
        grant(rep, account, recipient, quantity=quantity)
    assert message in error.value.message_dict["quantity"][0]
    assert not Grant.objects.exists()


def test_an_inactive_item_is_refused(rep, account, recipient):
    item = factories.ServiceItemFactory(name="Wine", active=False)
    with pytest.raises(ValidationError, match="Wine is no longer in the catalog"):
        grant(rep, account, recipient, item=item)
    assert not Grant.objects.exists()


def test_more_than_the_items_maximum_quantity_is_refused(rep, account, recipient):
    item = factories.ServiceItemFactory(name="Tickets", max_quantity=2)
    assert grant(rep, account, recipient, item=item, quantity=2).quantity == 2
    with pytest.raises(ValidationError, match="At most 2 of Tickets"):
        grant(rep, account, recipient, item=item, quantity=3)


def test_an_amount_too_large_for_the_ledger_is_refused(rep, account, recipient):
    with pytest.raises(ValidationError, match="too large"):
        grant(rep, account, recipient, cost="9999999.00", quantity=1_000)


def test_a_recipient_who_does_not_currently_work_at_the_account_is_refused(rep, account):
    elsewhere = factories.person_at(factories.AccountFactory(owner=rep))
    former = factories.EmploymentFactory(account=account, end_date=datetime.date(2026, 1, 1)).contact
    for person in (elsewhere, former):
        with pytest.raises(ValidationError, match="does not currently work at"):
            grant(rep, account, person)
    assert not Grant.objects.exists()


def test_an_account_outside_the_reps_scope_is_refused(rep, other_rep):
    account = factories.AccountFactory(owner=other_rep)
    with pytest.raises(ValidationError, match="accounts you work on"):
        grant(rep, account, factories.person_at(account))


def test_an_unknown_reason_is_refused(rep, account, recipient):
    with pytest.raises(ValidationError, match="Choose a reason"):
        services.grant_request(
            by=rep, item=factories.ServiceItemFactory(), quantity=1, account=account, recipient=recipient, reason="x"
        )


def test_the_database_refuses_a_zero_quantity_or_a_negative_amount(account, recipient):
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.GrantFactory(account=account, recipient=recipient, quantity=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.GrantFactory(account=account, recipient=recipient, unit_cost=D("-1"), amount=D("-1"))
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.GrantFactory(account=account, recipient=recipient, unit_cost=D("10"), amount=D("5"))
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.ServiceItemFactory(unit_cost=D("-0.01"))


# --- approval --------------------------------------------------------------------------------


def test_over_the_limit_the_grant_waits_for_the_manager_who_is_told(rep, manager, account, recipient):
    result = grant(rep, account, recipient, cost="350.00")
    assert (result.status, result.approver, result.needs_admin) == (Grant.Status.PENDING, manager, False)
    assert result.authorised_by is None
    notice = Notification.objects.get(user=manager)
    assert "350.00" in notice.message
    assert "by 50.00" in notice.message
    assert notice.link == result.get_absolute_url()


def test_the_manager_approves_within_his_authority_and_the_rep_is_told(rep, manager, account, recipient):
    pending = grant(rep, account, recipient, cost="350.00")
    result = services.grant_approve(grant=pending, by=manager, note="Good customer")
    assert (result.status, result.authorised_by, result.decided_by) == (Grant.Status.APPROVED, manager, manager)
    assert result.decision_note == "Good customer"
    assert "approved" in Notification.objects.get(user=rep).message


def test_an_approval_counts_against_the_managers_month_not_the_reps(rep, manager, account, recipient):
    set_limits(per_grant=D("300"), per_month=D("300"))
    services.grant_approve(grant=grant(rep, account, recipient, cost="350.00"), by=manager)
    assert grant(rep, account, recipient, cost="300.00").status == Grant.Status.APPROVED


def test_another_manager_cannot_decide(rep, account, recipient):
    pending = grant(rep, account, recipient, cost="350.00")
    stranger = factories.ManagerFactory()
    with pytest.raises(ValidationError, match="the rep's manager"):
        services.grant_approve(grant=pending, by=stranger)
    with pytest.raises(ValidationError, match="the rep's manager"):
        services.grant_reject(grant=pending, by=stranger, note="no")
    with pytest.raises(ValidationError):
        services.grant_approve(grant=pending, by=rep)
    pending.refresh_from_db()
    assert pending.is_pending


def test_over_the_managers_own_authority_the_approval_goes_to_an_admin(rep, manager, account, recipient, admin_user):
    pending = grant(rep, account, recipient, cost="2500.00")
    result = services.grant_approve(grant=pending, by=manager)
    assert (result.status, result.needs_admin) == (Grant.Status.PENDING, True)
    # The rep's default limits (per grant, month, person) and then the manager's (grant, person).
    assert [(e["authority"], e["limit"]) for e in result.over_limits][-2:] == [
        (str(manager), "per_grant"),
        (str(manager), "per_recipient_year"),
    ]
    assert Notification.objects.filter(user=admin_user).exists()
    with pytest.raises(ValidationError, match="waits for an admin"):
        services.grant_approve(grant=result, by=manager)
    approved = services.grant_approve(grant=result, by=admin_user)
    assert (approved.status, approved.authorised_by) == (Grant.Status.APPROVED, admin_user)


def test_a_rep_without_a_manager_asks_the_admins(account, recipient, admin_user):
    loner = factories.RepFactory(manager=None)
    account.owner = loner
    account.save()
    result = grant(loner, account, recipient, cost="350.00")
    assert (result.approver, result.needs_admin) == (None, True)
    assert Notification.objects.filter(user=admin_user).exists()


def test_an_admin_over_his_own_authority_is_refused(rep, account, recipient, admin_user):
    pending = grant(rep, account, recipient, cost="350.00")
    services.authority_set(by=admin_user, user=admin_user, per_grant="100")
    with pytest.raises(ValidationError, match="exceeds your own authority"):
        services.grant_approve(grant=pending, by=admin_user)


def test_a_rejection_needs_a_note_and_tells_the_rep(rep, manager, account, recipient):
    pending = grant(rep, account, recipient, cost="350.00")
    with pytest.raises(ValidationError, match="Say why"):
        services.grant_reject(grant=pending, by=manager, note="  ")
    result = services.grant_reject(grant=pending, by=manager, note="Too much this quarter")
    assert (result.status, result.decided_by) == (Grant.Status.REJECTED, manager)
    assert "Too much this quarter" in Notification.objects.get(user=rep).message


def test_a_decided_grant_cannot_be_decided_again(rep, manager, account, recipient):
    pending = grant(rep, account, recipient, cost="350.00")
    services.grant_approve(grant=pending, by=manager)
    with pytest.raises(ValidationError, match="no longer pending"):
        services.grant_reject(grant=pending, by=manager, note="oops")
    with pytest.raises(ValidationError, match="no longer pending"):
        services.grant_cancel(grant=pending, by=rep)


def test_a_rep_cancels_his_own_pending_grant_only(rep, manager, account, recipient):
    pending = grant(rep, account, recipient, cost="350.00")
    with pytest.raises(ValidationError, match="who asked for it"):
        services.grant_cancel(grant=pending, by=manager)
    assert services.grant_cancel(grant=pending, by=rep).status == Grant.Status.CANCELLED


# --- catalog and authority matrix ------------------------------------------------------------


def test_only_an_admin_edits_the_catalog(rep, admin_user):
    with pytest.raises(ValidationError, match="Only an admin"):
        services.service_item_create(by=rep, name="Lunch", unit_cost="20")
    item = services.service_item_create(by=admin_user, name=" Lunch ", unit_cost="20", category="hospitality")
    assert (item.name, item.unit_cost) == ("Lunch", D("20.00"))
    with pytest.raises(ValidationError, match="Only an admin"):
        services.service_item_update(item=item, by=rep, unit_cost="1")
    with pytest.raises(ValidationError, match="Only an admin"):
        services.service_item_deactivate(item=item, by=rep)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"name": "", "unit_cost": "1"}, "name", "Enter a name"),
        ({"name": "lunch", "unit_cost": "1"}, "name", "already has an item called lunch"),
        ({"name": "Tea", "unit_cost": "-0.01"}, "unit_cost", "cannot be negative"),
        ({"name": "Tea", "unit_cost": "abc"}, "unit_cost", "Enter an amount"),
        ({"name": "Tea", "unit_cost": "1", "max_quantity": 0}, "max_quantity", "at least 1"),
    ],
)
def test_bad_catalog_input_is_refused_with_a_clear_message(admin_user, fields, field, message):
    factories.ServiceItemFactory(name="Lunch")
    with pytest.raises(ValidationError) as error:
        services.service_item_create(by=admin_user, **fields)
    assert message in error.value.message_dict[field][0]
    assert ServiceItem.objects.count() == 1


def test_item_changes_are_kept_in_history_and_grants_keep_their_price(admin_user, account, recipient):
    item = services.service_item_create(by=admin_user, name="Lunch", unit_cost="20")
    old = factories.GrantFactory(item=item, account=account, recipient=recipient)
    services.service_item_update(item=item, by=admin_user, unit_cost="25")
    assert [h.unit_cost for h in item.history.order_by("history_date")] == [D("20.00"), D("25.00")]
    old.refresh_from_db()
    assert old.amount == D("20.00")


def test_a_granted_item_is_deactivated_but_never_deleted(admin_user, account, recipient):
    item = factories.ServiceItemFactory()
    factories.GrantFactory(item=item, account=account, recipient=recipient)
    assert services.service_item_deactivate(item=item, by=admin_user).active is False
    with pytest.raises(ValidationError, match="already inactive"):
        services.service_item_deactivate(item=item, by=admin_user)
    with pytest.raises(ProtectedError):
        item.delete()


def test_authority_set_updates_a_role_and_refuses_bad_input(admin_user, rep):
    services.authority_set(by=admin_user, role="rep", per_grant="450", per_month="")
    row = Authority.objects.get(role="rep", user=None)
    assert (row.per_grant, row.per_month) == (D("450.00"), None)
    with pytest.raises(ValidationError, match="Only an admin"):
        services.authority_set(by=rep, role="rep", per_grant="1")
    with pytest.raises(ValidationError, match="either a role or a user"):
        services.authority_set(by=admin_user, role="rep", user=rep)
    with pytest.raises(ValidationError, match="cannot be negative"):
        services.authority_set(by=admin_user, role="rep", per_grant="-5")


# --- concurrency: many simultaneous grants against one budget --------------------------------

THREADS = 50


def _race(*, users, account, recipient, item) -> list[Exception]:
    """Every user in `users` asks for one grant at the same moment, each on his own connection."""
    barrier = threading.Barrier(len(users))
    errors = []

    def request(user):
        try:
            barrier.wait()
            services.grant_request(
                by=user, item=item, quantity=1, account=account, recipient=recipient, reason="relationship"
            )
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=request, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def _check_no_overspend(budget: str) -> None:
    rep = factories.RepFactory()
    account = factories.AccountFactory(owner=rep)
    recipient = factories.person_at(account)
    item = factories.ServiceItemFactory(unit_cost=D("100.00"))
    if budget == "month":
        # One rep, fifty requests against his monthly budget of ten items.
        set_limits(per_month=D("1000"))
        users = [rep] * THREADS
    else:
        # The rep and his manager at once against one person's yearly cap: the lock is on the
        # person, not on either user.
        set_limits(per_recipient_year=D("1000"))
        set_limits(role=User.Role.MANAGER, per_recipient_year=D("1000"))
        users = [rep, rep.manager] * (THREADS // 2)

    errors = _race(users=users, account=account, recipient=recipient, item=item)

    assert errors == []
    grants = Grant.objects.filter(recipient=recipient)
    assert grants.count() == THREADS
    assert grants.approved().count() == 10
    assert sum(g.amount for g in grants.approved()) == D("1000.00")
    assert grants.pending().count() == THREADS - 10


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("budget", ["month", "recipient"])
def test_concurrent_grants_never_overspend_on_postgresql(budget):
    _check_no_overspend(budget)


@pytest.mark.sqlite
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("budget", ["month", "recipient"])
def test_concurrent_grants_never_overspend_on_sqlite(budget):
    _check_no_overspend(budget)


def test_grant_request_links_a_deal_at_the_same_account(rep, stages):
    item = factories.ServiceItemFactory(unit_cost=Decimal("10"))
    account = factories.AccountFactory(owner=rep)
    recipient = factories.person_at(account)
    deal = factories.OpportunityFactory(account=account, owner=rep)
    grant = services.grant_request(
        by=rep, item=item, quantity=1, account=account, recipient=recipient, reason=Grant.Reason.RELATIONSHIP,
        opportunity=deal,
    )  # fmt: skip
    assert grant.opportunity == deal


def test_grant_request_refuses_a_deal_at_another_account(rep, stages):
    item = factories.ServiceItemFactory(unit_cost=Decimal("10"))
    account = factories.AccountFactory(owner=rep)
    recipient = factories.person_at(account)
    elsewhere = factories.OpportunityFactory(account=factories.AccountFactory(owner=rep), owner=rep)
    with pytest.raises(ValidationError) as excinfo:
        services.grant_request(
            by=rep, item=item, quantity=1, account=account, recipient=recipient, reason=Grant.Reason.RELATIONSHIP,
            opportunity=elsewhere,
        )  # fmt: skip
    assert "opportunity" in excinfo.value.error_dict
    assert not Grant.objects.exists()
