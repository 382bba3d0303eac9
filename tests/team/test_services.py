import datetime
import re
import threading
from collections import Counter

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone
from knox.models import AuthToken

from accounts import services as account_services
from accounts.models import Account
from coaches import services as coach_services
from coaches.models import Coach, Handover, Holder, Interaction
from pipeline.models import Opportunity
from team import departures, services
from team.models import Notification, Territory, User
from tests import factories


@pytest.fixture
def industry(db):
    return factories.IndustryFactory(name="Finance")


def new_account(by, region, industry, **kwargs):
    kwargs.setdefault("name", f"Company {Account.objects.count() + 1}")
    return account_services.account_create(by=by, region=region, industry=industry, **kwargs)


# --- routing --------------------------------------------------------------------------------


def test_route_gives_the_account_to_the_first_matching_territory_by_precedence(rep, north, industry):
    first, second = factories.RepFactory(), factories.RepFactory()
    factories.TerritoryFactory(name="North", region=north, members=[first])
    factories.TerritoryFactory(name="Everything", members=[second])
    account = new_account(rep, north, industry)
    assert account.owner == first
    assert account.territory.name == "North"


def test_route_skips_territories_whose_rule_does_not_match(rep, north, east, industry):
    line, other_line = factories.ProductLineFactory(name="Cloud"), factories.ProductLineFactory(name="Support")
    winner = factories.RepFactory()
    factories.TerritoryFactory(region=east, members=[factories.RepFactory()])
    factories.TerritoryFactory(size_tier=Account.SizeTier.KEY, members=[factories.RepFactory()])
    factories.TerritoryFactory(product_line=other_line, members=[factories.RepFactory()])
    factories.TerritoryFactory(industry=factories.IndustryFactory(name="Retail"), members=[factories.RepFactory()])
    factories.TerritoryFactory(
        region=north, product_line=line, size_tier=Account.SizeTier.MID, industry=industry, members=[winner]
    )
    account = new_account(rep, north, industry, size_tier=Account.SizeTier.MID, product_lines=[line])
    assert account.owner == winner


def test_route_follows_a_reordered_precedence(admin_user, rep, north, industry):
    regional = factories.TerritoryFactory(name="North", region=north, members=[factories.RepFactory()])
    catch_all = factories.TerritoryFactory(name="All", members=[factories.RepFactory()])
    services.territory_move(territory=catch_all, by=admin_user, up=True)
    assert new_account(rep, north, industry).territory == catch_all
    assert list(Territory.objects.in_precedence()) == [catch_all, regional]


def test_route_takes_the_members_in_turn(rep, north, industry):
    a, b, c = factories.RepFactory(), factories.RepFactory(), factories.RepFactory()
    factories.TerritoryFactory(region=north, members=[c, a, b])
    owners = [new_account(rep, north, industry).owner for _ in range(4)]
    assert owners == [a, b, c, a]


def test_route_skips_members_who_are_leaving_departed_or_deactivated(rep, north, industry):
    a = factories.RepFactory()
    leaving = factories.RepFactory(status=User.Status.LEAVING)
    departed = factories.RepFactory(status=User.Status.DEPARTED, departure_date="2025-01-01")
    off = factories.RepFactory(is_active=False)
    b = factories.RepFactory()
    factories.TerritoryFactory(region=north, members=[a, leaving, departed, off, b])
    owners = [new_account(rep, north, industry).owner for _ in range(3)]
    assert owners == [a, b, a]


def test_route_falls_through_a_territory_without_available_members(rep, north, industry):
    factories.TerritoryFactory(name="Empty North", region=north, members=[factories.RepFactory(is_active=False)])
    backup = factories.RepFactory()
    factories.TerritoryFactory(name="Backup", members=[backup])
    account = new_account(rep, north, industry)
    assert account.owner == backup
    assert "Skipped (no available member): Empty North." in account.assignment_note_display


def test_route_ignores_inactive_territories(rep, north, industry):
    factories.TerritoryFactory(region=north, members=[factories.RepFactory()], active=False)
    account = new_account(rep, north, industry)
    assert account.owner == rep
    assert account.territory is None


def test_route_falls_back_to_the_creator_and_says_so(rep, north, industry):
    account = new_account(rep, north, industry)
    assert account.owner == rep
    assert account.assignment_note_display == (
        f"No territory covers this account: owned by the person who created it, {rep}."
    )


def test_explanation_names_territory_rule_and_round_robin(rep, north, industry):
    factories.TerritoryFactory(name="Other", region=factories.RegionFactory(name="West"))
    factories.TerritoryFactory(name="East / Key accounts", region=north, members=factories.RepFactory.create_batch(2))
    account = new_account(rep, north, industry)
    assert (
        account.assignment_note_display
        == "Owner via territory East / Key accounts, rule 2, round-robin among 2 members."
    )


def test_explanation_for_a_single_member(rep, north, industry):
    factories.TerritoryFactory(name="North", region=north, members=[factories.RepFactory()])
    assert new_account(rep, north, industry).assignment_note_display == (
        "Owner via territory North, rule 1, its only available member."
    )


def test_manager_naming_an_owner_is_not_routed(manager, rep, north, industry):
    factories.TerritoryFactory(region=north, members=[factories.RepFactory()])
    account = new_account(manager, north, industry, owner=rep)
    assert account.owner == rep
    assert account.territory is None
    assert account.assignment_note_display == f"Owner chosen by {manager} when the account was created."


def test_rep_naming_an_owner_is_routed_anyway(rep, other_rep, north, industry):
    member = factories.RepFactory()
    factories.TerritoryFactory(region=north, members=[member])
    assert new_account(rep, north, industry, owner=other_rep).owner == member


def test_route_moves_the_cursor_without_a_history_row(rep, north, industry):
    member = factories.RepFactory()
    territory = factories.TerritoryFactory(region=north, members=[member])
    before = territory.history.count()
    new_account(rep, north, industry)
    territory.refresh_from_db()
    assert territory.last_assigned == member
    assert territory.history.count() == before


def test_route_refused_duplicate_moves_no_cursor(rep, north, industry):
    a, b = factories.RepFactory(), factories.RepFactory()
    territory = factories.TerritoryFactory(region=north, members=[a, b])
    new_account(rep, north, industry, name="Acme")
    with pytest.raises(ValidationError):
        new_account(rep, north, industry, name="ACME Ltd")
    territory.refresh_from_db()
    assert territory.last_assigned == a


# --- territory administration ---------------------------------------------------------------


def test_territory_create_appends_to_the_precedence_with_members(admin_user, rep, north):
    first = services.territory_create(by=admin_user, name="North", members=[rep], region=north)
    second = services.territory_create(by=admin_user, name=" All ")
    assert (first.order, second.order) == (1, 2)
    assert second.name == "All"
    assert list(first.members.all()) == [rep]
    # Change history: the row, then its members (simple-history records the M2M change).
    assert [h.history_type for h in first.history.order_by("history_id")] == ["+", "~"]
    assert [m.user for m in first.history.latest().members.all()] == [rep]


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"name": "  "}, "name", "Enter a name."),
        ({"name": "north"}, "name", "There is already a territory called north."),
    ],
)
def test_territory_create_refuses_bad_names(admin_user, kwargs, field, message):
    factories.TerritoryFactory(name="North")
    with pytest.raises(ValidationError) as error:
        services.territory_create(by=admin_user, **kwargs)
    assert error.value.message_dict == {field: [message]}
    assert Territory.objects.count() == 1


def test_territory_members_must_be_active_reps(admin_user, manager):
    departed = factories.RepFactory(status=User.Status.DEPARTED, departure_date="2025-01-01", first_name="Dee")
    with pytest.raises(ValidationError) as error:
        services.territory_create(by=admin_user, name="X", members=[manager, departed])
    assert "Only active sales reps can be members" in error.value.message_dict["members"][0]
    assert not Territory.objects.exists()


def test_territory_update_keeps_a_member_who_has_since_left(admin_user):
    member = factories.RepFactory()
    territory = factories.TerritoryFactory(name="North", members=[member])
    User.objects.filter(pk=member.pk).update(status=User.Status.DEPARTED, departure_date="2025-01-01")
    member.refresh_from_db()
    services.territory_update(territory=territory, by=admin_user, name="North 2", members=[member])
    territory.refresh_from_db()
    assert territory.name == "North 2"
    assert territory.history.latest().name == "North 2"


def test_territory_update_changes_the_rule(admin_user, north):
    territory = factories.TerritoryFactory()
    services.territory_update(territory=territory, by=admin_user, region=north, size_tier=Account.SizeTier.KEY)
    territory.refresh_from_db()
    assert (territory.region, territory.size_tier) == (north, "key")


def test_territory_update_refuses_unknown_fields(admin_user):
    territory = factories.TerritoryFactory()
    with pytest.raises(ValidationError, match="Unknown territory fields: colour"):
        services.territory_update(territory=territory, by=admin_user, colour="red")


@pytest.mark.parametrize("who", ["rep", "manager"])
def test_only_admins_edit_territories(request, who):
    user = request.getfixturevalue(who)
    territory = factories.TerritoryFactory()
    for call in (
        lambda: services.territory_create(by=user, name="X"),
        lambda: services.territory_update(territory=territory, by=user, name="Y"),
        lambda: services.territory_deactivate(territory=territory, by=user),
        lambda: services.territory_move(territory=territory, by=user, up=True),
    ):
        with pytest.raises(ValidationError, match=re.escape("Only an admin can edit territories.")):
            call()
    territory.refresh_from_db()
    assert territory.active and territory.name != "Y"


def test_territory_deactivate_once(admin_user):
    territory = factories.TerritoryFactory(name="North")
    services.territory_deactivate(territory=territory, by=admin_user)
    territory.refresh_from_db()
    assert not territory.active
    with pytest.raises(ValidationError, match=re.escape("North is already inactive.")):
        services.territory_deactivate(territory=territory, by=admin_user)


def test_territory_move_swaps_with_the_neighbour(admin_user):
    a, _b, c = (factories.TerritoryFactory(name=n) for n in "ABC")
    services.territory_move(territory=c, by=admin_user, up=True)
    assert [t.name for t in Territory.objects.in_precedence()] == ["A", "C", "B"]
    services.territory_move(territory=a, by=admin_user, up=False)
    assert [t.name for t in Territory.objects.in_precedence()] == ["C", "A", "B"]
    assert sorted(Territory.objects.values_list("order", flat=True)) == [1, 2, 3]


def test_territory_move_refuses_past_the_ends(admin_user):
    a, b = factories.TerritoryFactory(name="A"), factories.TerritoryFactory(name="B")
    with pytest.raises(ValidationError, match=re.escape("A is already the first.")):
        services.territory_move(territory=a, by=admin_user, up=True)
    with pytest.raises(ValidationError, match=re.escape("B is already the last.")):
        services.territory_move(territory=b, by=admin_user, up=False)


# --- concurrency: accounts created at once share the territory fairly ------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_take_the_members_in_turn():
    """Twenty accounts created at once in one territory: the row lock keeps the turns exact."""
    region, industry = factories.RegionFactory(name="North"), factories.IndustryFactory(name="Finance")
    creator = factories.RepFactory()
    members = factories.RepFactory.create_batch(4)
    factories.TerritoryFactory(region=region, members=members)
    barrier = threading.Barrier(20)
    errors = []

    def create(index):
        try:
            barrier.wait()
            new_account(creator, region, industry, name=f"Race {index}")
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    owners = Counter(Account.objects.values_list("owner_id", flat=True))
    assert owners == {member.pk: 5 for member in members}


def test_territory_router_routes_many_accounts_round_robin_like_territory_route(admin_user):
    from accounts.models import Account
    from team.services import territory_router

    north = factories.RegionFactory(name="North")
    alice, bob = factories.RepFactory(), factories.RepFactory()
    factories.TerritoryFactory(region=north, members=[alice, bob])
    route = territory_router(by=admin_user)
    owners = []
    for _ in range(4):
        account = Account(region=north, industry=factories.IndustryFactory(), size_tier="mid")
        owner, territory, why = route(account=account, product_line_ids=[])
        owners.append(owner)
        assert territory is not None and why["kind"] == "territory" and why["members"] == 2
    assert owners[0] != owners[1] and owners[0] == owners[2] and owners[1] == owners[3]


"""The departure services: mark leaving, flag at-risk coaches, hand over, depart."""


TODAY = timezone.localdate()


def days(n: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=n)


@pytest.fixture
def leaving(rep, manager):
    rep.status, rep.departure_date = User.Status.LEAVING, days(10)
    rep.save()
    return rep


def coach_of(user, **kwargs):
    return factories.CoachFactory(account=factories.AccountFactory(owner=user), holder=user, **kwargs)


# --- user_mark_leaving ------------------------------------------------------------------------


def test_mark_leaving_saves_and_flags_on_commit(rep, manager, django_capture_on_commit_callbacks):
    coach = coach_of(rep)
    with django_capture_on_commit_callbacks(execute=True):
        user = departures.user_mark_leaving(user=rep, departure_date=days(30), by=manager)
    rep.refresh_from_db()
    coach.refresh_from_db()
    assert rep.status == User.Status.LEAVING and rep.departure_date == days(30)
    assert rep.departure_flagged_at is not None and not user.departure_jobs_delayed
    assert coach.at_risk and Handover.objects.get().coach == coach


def test_mark_leaving_by_an_admin_is_allowed(rep, admin_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        departures.user_mark_leaving(user=rep, departure_date=TODAY, by=admin_user)
    rep.refresh_from_db()
    assert rep.status == User.Status.LEAVING


@pytest.mark.parametrize("who", ["other manager", "the rep himself", "another rep"])
def test_mark_leaving_refuses_anyone_but_his_manager_or_an_admin(rep, other_rep, who):
    by = {"other manager": factories.ManagerFactory(), "the rep himself": rep, "another rep": other_rep}[who]
    with pytest.raises(ValidationError, match="manager or an admin"):
        departures.user_mark_leaving(user=rep, departure_date=days(5), by=by)
    rep.refresh_from_db()
    assert rep.status == User.Status.ACTIVE


def test_mark_leaving_refuses_a_past_date(rep, manager):
    with pytest.raises(ValidationError) as error:
        departures.user_mark_leaving(user=rep, departure_date=days(-1), by=manager)
    assert "cannot be in the past" in error.value.message_dict["departure_date"][0]
    rep.refresh_from_db()
    assert rep.status == User.Status.ACTIVE and rep.departure_date is None


def test_mark_leaving_refuses_a_departed_rep_and_a_rep_without_manager(rep, manager, admin_user):
    rep.status, rep.departure_date = User.Status.DEPARTED, days(-3)
    rep.save()
    with pytest.raises(ValidationError, match="already departed"):
        departures.user_mark_leaving(user=rep, departure_date=days(5), by=manager)
    loner = factories.RepFactory(manager=None)
    with pytest.raises(ValidationError, match="has no manager"):
        departures.user_mark_leaving(user=loner, departure_date=days(5), by=admin_user)


def test_mark_leaving_again_changes_the_date_without_flagging_twice(rep, manager, django_capture_on_commit_callbacks):
    coach_of(rep)
    with django_capture_on_commit_callbacks(execute=True):
        departures.user_mark_leaving(user=rep, departure_date=days(30), by=manager)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        departures.user_mark_leaving(user=rep, departure_date=days(20), by=manager)
    assert callbacks == []  # already flagged: nothing to enqueue
    rep.refresh_from_db()
    assert rep.departure_date == days(20) and Handover.objects.count() == 1


def test_mark_leaving_with_the_broker_down_saves_and_says_the_jobs_are_delayed(
    rep, manager, monkeypatch, django_capture_on_commit_callbacks
):
    from kombu.exceptions import OperationalError

    from team import tasks

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.departure_flag_at_risk_task, "delay", broker_down)
    coach = coach_of(rep)
    with django_capture_on_commit_callbacks(execute=True):
        user = departures.user_mark_leaving(user=rep, departure_date=days(30), by=manager)
    assert user.departure_jobs_delayed
    rep.refresh_from_db()
    assert rep.status == User.Status.LEAVING and rep.departure_flagged_at is None
    monkeypatch.undo()
    # The daily sweep finds the departure without flags and enqueues the flagging.
    with django_capture_on_commit_callbacks(execute=True):
        result = departures.departures_sweep()
    assert result["flagging"] == 1
    rep.refresh_from_db()
    coach.refresh_from_db()
    assert rep.departure_flagged_at is not None and coach.at_risk


# --- departure_flag_at_risk -----------------------------------------------------------------


def test_flag_sole_holder_is_at_risk_with_the_reason(leaving, manager):
    coach = coach_of(leaving)
    assert departures.departure_flag_at_risk(user_id=leaving.pk) == 1
    coach.refresh_from_db()
    assert coach.at_risk and "only holder" in coach.at_risk_reason_display
    handover = Handover.objects.get()
    assert (handover.from_user, handover.to_user, handover.due_on) == (leaving, manager, days(14))
    assert handover.status == Handover.Status.OPEN and handover.history.count() == 1
    assert Notification.objects.filter(user=manager, message__contains="handed over to you").exists()


def test_flag_stale_co_holder_leaves_the_coach_at_risk(leaving, other_rep, settings):
    settings.COACH_STALE_DAYS = 60
    coach = coach_of(leaving)
    factories.HolderFactory(coach=coach, user=other_rep)
    factories.InteractionFactory(coach=coach, user=other_rep, occurred_on=days(-61))
    factories.InteractionFactory(coach=coach, user=leaving, occurred_on=TODAY)
    assert departures.departure_flag_at_risk(user_id=leaving.pk) == 1
    coach.refresh_from_db()
    assert coach.at_risk and "no other holder logged an interaction in 60 days" in coach.at_risk_reason_display


def test_flag_healthy_co_holder_keeps_the_coach_safe(leaving, other_rep, settings):
    settings.COACH_STALE_DAYS = 60
    coach = coach_of(leaving)
    factories.HolderFactory(coach=coach, user=other_rep)
    factories.InteractionFactory(coach=coach, user=other_rep, occurred_on=days(-60))
    assert departures.departure_flag_at_risk(user_id=leaving.pk) == 0
    coach.refresh_from_db()
    assert not coach.at_risk and not Handover.objects.exists()
    assert User.objects.get(pk=leaving.pk).departure_flagged_at is not None


def test_flag_ignores_touches_by_non_holders_and_departed_co_holders(leaving, other_rep):
    coach = coach_of(leaving)
    factories.InteractionFactory(coach=coach, user=other_rep)  # not a holder
    gone = factories.RepFactory(status=User.Status.DEPARTED, departure_date=days(-1), is_active=False)
    factories.HolderFactory(coach=coach, user=gone)
    factories.InteractionFactory(coach=coach, user=gone)
    assert departures.departure_flag_at_risk(user_id=leaving.pk) == 1


def test_flag_skips_lapsed_coaches_and_active_reps(leaving, rep):
    coach_of(leaving, status=Coach.Status.LAPSED)
    assert departures.departure_flag_at_risk(user_id=leaving.pk) == 0
    active = factories.RepFactory()
    coach_of(active)
    assert departures.departure_flag_at_risk(user_id=active.pk) == 0
    assert not Handover.objects.exists()


def test_flag_twice_opens_no_second_handover_and_keeps_the_first_flag(leaving):
    coach = coach_of(leaving)
    departures.departure_flag_at_risk(user_id=leaving.pk)
    since = Coach.objects.get(pk=coach.pk).at_risk_since
    assert departures.departure_flag_at_risk(user_id=leaving.pk) == 0
    coach.refresh_from_db()
    assert Handover.objects.count() == 1 and coach.at_risk_since == since
    assert coach.history.count() == 2  # created, flagged once


@pytest.mark.parametrize("coaches", [1, 20])
def test_flag_query_count_does_not_grow_with_coaches(leaving, coaches, django_assert_num_queries):
    for _ in range(coaches):
        coach_of(leaving)
    # savepoint, lock the user, the at-risk coaches (holder count, account and owner joined),
    # savepoint + bulk update of the flags + their history + release, bulk insert of the
    # handovers + their history, one notice for the one successor, the flagged-at stamp,
    # release, and for the successors the active territories with their members and the
    # accounts' product lines. Saving, proposing a successor or notifying per coach would add
    # queries per coach.
    with django_assert_num_queries(14):
        departures.departure_flag_at_risk(user_id=leaving.pk)
    assert Handover.objects.count() == coaches


# --- successor choice -----------------------------------------------------------------------


def test_successor_is_the_account_owner_else_the_manager(leaving, manager, other_rep):
    at_others = factories.CoachFactory(account=factories.AccountFactory(owner=other_rep), holder=leaving)
    at_his = coach_of(leaving)
    departures.departure_flag_at_risk(user_id=leaving.pk)
    assert Handover.objects.get(coach=at_others).to_user == other_rep
    assert Handover.objects.get(coach=at_his).to_user == manager


def test_successor_skips_an_owner_who_is_leaving_too(leaving, manager):
    owner = factories.RepFactory(status=User.Status.LEAVING, departure_date=days(3))
    coach = factories.CoachFactory(account=factories.AccountFactory(owner=owner), holder=leaving)
    departures.departure_flag_at_risk(user_id=leaving.pk)
    assert Handover.objects.get(coach=coach).to_user == manager


def test_successor_by_territory_rules_when_available(leaving, other_rep):
    chosen = factories.RepFactory()
    region = factories.RegionFactory(name="Far North")
    factories.TerritoryFactory(region=region, members=[leaving, chosen])
    coach = factories.CoachFactory(account=factories.AccountFactory(owner=other_rep, region=region), holder=leaving)
    departures.departure_flag_at_risk(user_id=leaving.pk)
    assert Handover.objects.get(coach=coach).to_user == chosen


# --- handover completion and reassignment ---------------------------------------------------


def test_handover_is_done_when_the_successor_holds_and_logs_an_interaction(leaving, manager):
    coach = coach_of(leaving)
    departures.departure_flag_at_risk(user_id=leaving.pk)
    handover = Handover.objects.get()
    coach_services.interaction_log(coach=coach, by=manager, kind="call")
    handover.refresh_from_db()
    assert handover.status == Handover.Status.OPEN  # not a holder yet
    coach_services.holder_add(coach=coach, user=manager, by=manager)
    handover.refresh_from_db()
    coach.refresh_from_db()
    assert handover.status == Handover.Status.DONE and handover.done_at is not None
    assert not coach.at_risk


def test_handover_needs_an_interaction_after_it_opened(leaving, manager):
    coach = coach_of(leaving)
    factories.HolderFactory(coach=coach, user=manager)
    factories.InteractionFactory(coach=coach, user=manager, occurred_on=days(-90))
    departures.departure_flag_at_risk(user_id=leaving.pk)
    handover = Handover.objects.get(coach=coach)
    assert handover.status == Handover.Status.OPEN
    coach_services.interaction_log(coach=coach, by=manager, kind="meeting")
    handover.refresh_from_db()
    assert handover.status == Handover.Status.DONE


def test_handover_reassign_changes_the_successor_and_tells_him(leaving, manager, other_rep):
    handover = factories.HandoverFactory(coach=coach_of(leaving))
    colleague = factories.RepFactory(manager=manager)
    departures.handover_reassign(handover=handover, to_user=colleague, by=manager)
    handover.refresh_from_db()
    assert handover.to_user == colleague and handover.history.count() == 2
    assert Notification.objects.filter(user=colleague).exists()


def test_handover_reassign_refusals(leaving, manager, other_rep):
    handover = factories.HandoverFactory(coach=coach_of(leaving))
    colleague = factories.RepFactory(manager=manager)
    with pytest.raises(ValidationError, match="manager or an admin"):
        departures.handover_reassign(handover=handover, to_user=colleague, by=other_rep)
    with pytest.raises(ValidationError, match="other than the leaving rep"):
        departures.handover_reassign(handover=handover, to_user=leaving, by=manager)
    with pytest.raises(ValidationError, match="already the successor"):
        departures.handover_reassign(handover=handover, to_user=manager, by=manager)
    colleague.is_active = False
    colleague.save()
    with pytest.raises(ValidationError, match="not an active user"):
        departures.handover_reassign(handover=handover, to_user=colleague, by=manager)
    Handover.objects.filter(pk=handover.pk).update(status=Handover.Status.DONE)
    with pytest.raises(ValidationError, match="only an open one"):
        departures.handover_reassign(handover=handover, to_user=factories.RepFactory(), by=manager)
    handover.refresh_from_db()
    assert handover.to_user == manager


def test_one_open_handover_per_coach_and_from_user_in_the_database(leaving):
    from django.db import IntegrityError

    handover = factories.HandoverFactory(coach=coach_of(leaving))
    with pytest.raises(IntegrityError):
        factories.HandoverFactory(coach=handover.coach, from_user=leaving)


def test_handovers_remind_successors_once_a_day(leaving, manager):
    factories.HandoverFactory(coach=coach_of(leaving), due_on=days(2))
    factories.HandoverFactory(coach=coach_of(leaving), due_on=days(-1))
    factories.HandoverFactory(coach=coach_of(leaving), due_on=days(10))  # not due soon
    assert departures.handovers_remind() == 1
    notice = Notification.objects.get(user=manager)
    assert "2 handover(s)" in notice.message and "1 overdue" in notice.message
    assert departures.handovers_remind() == 0
    assert Notification.objects.filter(user=manager).count() == 1


# --- user_depart ----------------------------------------------------------------------------


def test_depart_moves_ownership_with_history_and_deletes_nothing(leaving, manager, other_rep, stages):
    factories.HolderFactory(coach=coach_of(other_rep))  # holder and coach ids no longer line up
    coach = coach_of(leaving)
    departures.departure_flag_at_risk(user_id=leaving.pk)
    colleague = factories.RepFactory(manager=manager)
    departures.handover_reassign(handover=Handover.objects.get(), to_user=colleague, by=manager)
    quiet = factories.AccountFactory(owner=leaving)  # no coach: goes to his manager
    deal = factories.OpportunityFactory(account=coach.account, owner=leaving)
    won = factories.OpportunityFactory(account=quiet, owner=leaving, status=Opportunity.Status.WON)
    elsewhere = factories.OpportunityFactory(account=factories.AccountFactory(owner=other_rep), owner=leaving)
    interaction = factories.InteractionFactory(coach=coach, user=leaving)
    counts = {model: model.objects.count() for model in (Account, Opportunity, Coach, Interaction, Handover)}

    result = departures.user_depart(user_id=leaving.pk, today=days(10))

    assert result == {"holders": 1, "accounts": 2, "opportunities": 2}
    assert counts == {model: model.objects.count() for model in (Account, Opportunity, Coach, Interaction, Handover)}
    leaving.refresh_from_db()
    assert leaving.status == User.Status.DEPARTED and not leaving.is_active and not leaving.can_log_in
    assert Account.objects.get(pk=coach.account_id).owner == colleague  # follows the confirmed successor
    assert Account.objects.get(pk=quiet.pk).owner == manager
    assert Opportunity.objects.get(pk=deal.pk).owner == colleague
    assert Opportunity.objects.get(pk=elsewhere.pk).owner == other_rep
    assert Opportunity.objects.get(pk=won.pk).owner == leaving  # closed deals stay his
    assert coach.holders.get().user == colleague
    assert Interaction.objects.get(pk=interaction.pk).user == leaving  # still the author
    history = Account.objects.get(pk=quiet.pk).history.first()
    assert history.owner_id == manager.pk and history.history_change_reason == f"departure of {leaving.username}"
    # "Why this owner" says so, in each reader's language (the date in his format).
    assert Account.objects.get(pk=quiet.pk).assignment_facts == {
        "kind": "departure",
        "previous": str(leaving),
        "date": days(10).isoformat(),
    }
    assert history.prev_record.owner_id == leaving.pk
    assert Opportunity.history.filter(id=deal.pk, owner_id=colleague.pk).exists()


def test_depart_removes_his_row_where_a_co_holder_keeps_the_coach(leaving, other_rep):
    coach = coach_of(leaving)
    factories.HolderFactory(coach=coach, user=other_rep)
    factories.InteractionFactory(coach=coach, user=other_rep)
    departures.user_depart(user_id=leaving.pk, today=days(10))
    holder = coach.holders.get()
    assert holder.user == other_rep and holder.is_primary
    assert Holder.history.filter(user_id=leaving.pk, history_type="-").exists()


def test_depart_flags_first_when_the_task_never_ran(leaving, manager):
    coach = coach_of(leaving)
    departures.user_depart(user_id=leaving.pk, today=days(10))
    assert Handover.objects.get().coach == coach
    assert coach.holders.get().user == manager


def test_depart_is_idempotent_and_refuses_before_the_date(leaving):
    with pytest.raises(ValidationError, match="not due to depart yet"):
        departures.user_depart(user_id=leaving.pk, today=days(9))
    departures.user_depart(user_id=leaving.pk, today=days(10))
    assert departures.user_depart(user_id=leaving.pk, today=days(11)) == {}


def test_depart_gives_his_own_successions_to_his_manager(leaving, manager, other_rep):
    handover = factories.HandoverFactory(coach=coach_of(other_rep), to_user=leaving)
    departures.user_depart(user_id=leaving.pk, today=days(10))
    handover.refresh_from_db()
    assert handover.to_user == manager


def test_departed_user_cannot_log_in(client, leaving):
    departures.user_depart(user_id=leaving.pk, today=days(10))
    response = client.post("/login/", {"username": leaving.username, "password": "pw-for-tests"})
    assert response.status_code == 200 and not response.wsgi_request.user.is_authenticated


def test_departed_user_is_logged_out_of_his_session(client, leaving):
    client.force_login(leaving)
    departures.user_depart(user_id=leaving.pk, today=days(10))
    response = client.get("/")
    assert response.status_code == 302 and "/login/" in response.url


def test_departed_users_api_tokens_are_deleted_and_stop_working(api_client, leaving, other_rep):
    _instance, token = AuthToken.objects.create(user=leaving)
    AuthToken.objects.create(user=leaving)
    AuthToken.objects.create(user=other_rep)
    departures.user_depart(user_id=leaving.pk, today=days(10))
    assert list(AuthToken.objects.values_list("user", flat=True)) == [other_rep.pk]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api_client.get("/api/v1/accounts/").status_code == 401


def test_sweep_departs_those_whose_date_has_come(leaving, django_capture_on_commit_callbacks, time_machine):
    later = factories.RepFactory(
        status=User.Status.LEAVING, departure_date=days(30), departure_flagged_at=timezone.now()
    )
    time_machine.move_to(days(10), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        result = departures.departures_sweep()
    assert result["departing"] == 1
    leaving.refresh_from_db()
    later.refresh_from_db()
    assert leaving.status == User.Status.DEPARTED and later.status == User.Status.LEAVING
