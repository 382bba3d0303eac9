"""The departure services: mark leaving, flag at-risk coaches, hand over, depart."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from knox.models import AuthToken

from accounts.models import Account
from coachcrm.models import Job
from coaches import services as coach_services
from coaches.models import Coach, Handover, Holder, Interaction
from departures import services
from pipeline.models import Opportunity
from team.models import Notification, User
from tests import factories

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
        services.user_mark_leaving(user=rep, departure_date=days(30), by=manager)
    rep.refresh_from_db()
    coach.refresh_from_db()
    assert rep.status == User.Status.LEAVING and rep.departure_date == days(30)
    assert rep.departure_flagged_at is not None
    assert coach.at_risk and Handover.objects.get().coach == coach


def test_mark_leaving_by_an_admin_is_allowed(rep, admin_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.user_mark_leaving(user=rep, departure_date=TODAY, by=admin_user)
    rep.refresh_from_db()
    assert rep.status == User.Status.LEAVING


@pytest.mark.parametrize("who", ["other manager", "the rep himself", "another rep"])
def test_mark_leaving_refuses_anyone_but_his_manager_or_an_admin(rep, other_rep, who):
    by = {"other manager": factories.ManagerFactory(), "the rep himself": rep, "another rep": other_rep}[who]
    with pytest.raises(ValidationError, match="manager or an admin"):
        services.user_mark_leaving(user=rep, departure_date=days(5), by=by)
    rep.refresh_from_db()
    assert rep.status == User.Status.ACTIVE


def test_mark_leaving_refuses_a_past_date(rep, manager):
    with pytest.raises(ValidationError) as error:
        services.user_mark_leaving(user=rep, departure_date=days(-1), by=manager)
    assert "cannot be in the past" in error.value.message_dict["departure_date"][0]
    rep.refresh_from_db()
    assert rep.status == User.Status.ACTIVE and rep.departure_date is None


def test_mark_leaving_refuses_a_departed_rep_and_a_rep_without_manager(rep, manager, admin_user):
    rep.status, rep.departure_date = User.Status.DEPARTED, days(-3)
    rep.save()
    with pytest.raises(ValidationError, match="already departed"):
        services.user_mark_leaving(user=rep, departure_date=days(5), by=manager)
    loner = factories.RepFactory(manager=None)
    with pytest.raises(ValidationError, match="has no manager"):
        services.user_mark_leaving(user=loner, departure_date=days(5), by=admin_user)


def test_mark_leaving_again_changes_the_date_without_flagging_twice(rep, manager, django_capture_on_commit_callbacks):
    coach_of(rep)
    with django_capture_on_commit_callbacks(execute=True):
        services.user_mark_leaving(user=rep, departure_date=days(30), by=manager)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.user_mark_leaving(user=rep, departure_date=days(20), by=manager)
    assert callbacks == []  # already flagged: nothing to enqueue
    rep.refresh_from_db()
    assert rep.departure_date == days(20) and Handover.objects.count() == 1


def test_mark_leaving_with_the_broker_down_saves_and_the_relay_flags_once_it_is_back(
    rep, manager, fake_broker, django_capture_on_commit_callbacks
):
    from coachcrm import jobs
    from coachcrm.celery import app

    fake_broker.down = True
    coach = coach_of(rep)
    with jobs.collecting_delayed() as delayed, django_capture_on_commit_callbacks(execute=True):
        services.user_mark_leaving(user=rep, departure_date=days(30), by=manager)
    assert len(delayed) == 1
    rep.refresh_from_db()
    assert rep.status == User.Status.LEAVING and rep.departure_flagged_at is None
    job = Job.objects.get()
    assert (job.task, job.kwargs, job.status) == (
        "team.tasks.departure_flag_at_risk_task",
        {"user_id": rep.pk},
        "pending",
    )
    # The broker is back (embedded here: the relay runs the job in-process).
    app.conf.task_always_eager = True
    assert jobs.relay()["sent"] == 1
    rep.refresh_from_db()
    coach.refresh_from_db()
    assert rep.departure_flagged_at is not None and coach.at_risk


# --- user_departure_cancel ------------------------------------------------------------------


def test_cancel_undoes_exactly_what_the_departure_did_and_twice_changes_nothing(leaving, manager, other_rep):
    flagged = coach_of(leaving)
    services.departure_flag_at_risk(user_id=leaving.pk)
    # A flag somebody set since the departure is his, not the departure's: it stays.
    reflagged = coach_of(leaving)
    services.departure_flag_at_risk(user_id=leaving.pk)
    coach_services.coach_flag_at_risk(coach=reflagged, reason="Champion quit")
    done = Handover.objects.get(coach=reflagged)
    done.status = Handover.Status.DONE
    done.save()
    result = services.user_departure_cancel(user=leaving, by=manager)
    assert result == {"handovers": 1, "coaches": 1}
    leaving.refresh_from_db()
    assert (leaving.status, leaving.departure_date, leaving.departure_flagged_at) == (User.Status.ACTIVE, None, None)
    flagged.refresh_from_db()
    reflagged.refresh_from_db()
    assert not flagged.at_risk and reflagged.at_risk
    assert Handover.objects.get(coach=flagged).status == Handover.Status.CANCELLED
    assert Handover.objects.get(pk=done.pk).status == Handover.Status.DONE
    assert Handover.objects.get(coach=flagged).history.first().history_change_reason.endswith("cancelled")
    assert Notification.objects.filter(user=manager, message__contains="is staying").count() == 1
    history = flagged.history.count()
    assert services.user_departure_cancel(user=leaving, by=manager) == {"handovers": 0, "coaches": 0}
    assert flagged.history.count() == history


def test_a_cancelled_departure_can_start_again_and_flags_anew(leaving, manager, django_capture_on_commit_callbacks):
    coach = coach_of(leaving)
    services.departure_flag_at_risk(user_id=leaving.pk)
    services.user_departure_cancel(user=leaving, by=manager)
    with django_capture_on_commit_callbacks(execute=True):
        services.user_mark_leaving(user=leaving, departure_date=days(20), by=manager)
    coach.refresh_from_db()
    assert coach.at_risk
    assert Handover.objects.open().filter(coach=coach).count() == 1


def test_cancel_is_refused_to_others_and_after_the_departure(leaving, manager, other_rep):
    with pytest.raises(ValidationError, match="manager or an admin"):
        services.user_departure_cancel(user=leaving, by=other_rep)
    leaving.status = User.Status.DEPARTED
    leaving.save()
    with pytest.raises(ValidationError, match="already departed"):
        services.user_departure_cancel(user=leaving, by=manager)


def test_departure_preview_counts_what_will_happen_and_writes_nothing(rep, other_rep, stages):
    from departures import selectors

    alone = coach_of(rep)
    shared = coach_of(rep)
    factories.HolderFactory(coach=shared, user=other_rep)
    factories.InteractionFactory(coach=shared, user=other_rep)
    factories.OpportunityFactory(account=alone.account)
    preview = selectors.departure_preview(rep=rep)
    assert preview == {"coaches_held": 2, "coaches_at_risk": 1, "accounts": 2, "open_deals": 1}
    assert not Handover.objects.exists()


# --- departure_flag_at_risk -----------------------------------------------------------------


def test_flag_sole_holder_is_at_risk_with_the_reason(leaving, manager):
    coach = coach_of(leaving)
    assert services.departure_flag_at_risk(user_id=leaving.pk) == 1
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
    assert services.departure_flag_at_risk(user_id=leaving.pk) == 1
    coach.refresh_from_db()
    assert coach.at_risk and "no other holder logged an interaction in 60 days" in coach.at_risk_reason_display


def test_flag_healthy_co_holder_keeps_the_coach_safe(leaving, other_rep, settings):
    settings.COACH_STALE_DAYS = 60
    coach = coach_of(leaving)
    factories.HolderFactory(coach=coach, user=other_rep)
    factories.InteractionFactory(coach=coach, user=other_rep, occurred_on=days(-60))
    assert services.departure_flag_at_risk(user_id=leaving.pk) == 0
    coach.refresh_from_db()
    assert not coach.at_risk and not Handover.objects.exists()
    assert User.objects.get(pk=leaving.pk).departure_flagged_at is not None


def test_flag_ignores_touches_by_non_holders_and_departed_co_holders(leaving, other_rep):
    coach = coach_of(leaving)
    factories.InteractionFactory(coach=coach, user=other_rep)  # not a holder
    gone = factories.RepFactory(status=User.Status.DEPARTED, departure_date=days(-1), is_active=False)
    factories.HolderFactory(coach=coach, user=gone)
    factories.InteractionFactory(coach=coach, user=gone)
    assert services.departure_flag_at_risk(user_id=leaving.pk) == 1


def test_flag_skips_lapsed_coaches_and_active_reps(leaving, rep):
    coach_of(leaving, status=Coach.Status.LAPSED)
    assert services.departure_flag_at_risk(user_id=leaving.pk) == 0
    active = factories.RepFactory()
    coach_of(active)
    assert services.departure_flag_at_risk(user_id=active.pk) == 0
    assert not Handover.objects.exists()


def test_flag_twice_opens_no_second_handover_and_keeps_the_first_flag(leaving):
    coach = coach_of(leaving)
    services.departure_flag_at_risk(user_id=leaving.pk)
    since = Coach.objects.get(pk=coach.pk).at_risk_since
    assert services.departure_flag_at_risk(user_id=leaving.pk) == 0
    coach.refresh_from_db()
    assert Handover.objects.count() == 1 and coach.at_risk_since == since
    assert coach.history.count() == 2  # created, flagged once


@pytest.mark.parametrize("coaches", [1, 20])
def test_flag_query_count_does_not_grow_with_coaches(leaving, coaches, django_assert_num_queries):
    for _ in range(coaches):
        coach_of(leaving)
    # savepoint, lock the user, the at-risk coaches (holder count, account and owner joined),
    # savepoint + bulk update of the flags + their history + release, bulk insert of the
    # handovers + their history, one notice for the one successor and its e-mail row, the
    # flagged-at stamp, release, and for the successors the active territories with their members and the
    # accounts' product lines, and the e-mail's job in the outbox (a fixed 4: savepoint, insert,
    # read back, release), and the webhook endpoints for coach.at_risk and handover.opened (one
    # each, however many coaches). Saving, proposing a successor or notifying per coach would add
    # queries per coach.
    with django_assert_num_queries(21):
        services.departure_flag_at_risk(user_id=leaving.pk)
    assert Handover.objects.count() == coaches


# --- successor choice -----------------------------------------------------------------------


def test_successor_is_the_account_owner_else_the_manager(leaving, manager, other_rep):
    at_others = factories.CoachFactory(account=factories.AccountFactory(owner=other_rep), holder=leaving)
    at_his = coach_of(leaving)
    services.departure_flag_at_risk(user_id=leaving.pk)
    assert Handover.objects.get(coach=at_others).to_user == other_rep
    assert Handover.objects.get(coach=at_his).to_user == manager


def test_successor_skips_an_owner_who_is_leaving_too(leaving, manager):
    owner = factories.RepFactory(status=User.Status.LEAVING, departure_date=days(3))
    coach = factories.CoachFactory(account=factories.AccountFactory(owner=owner), holder=leaving)
    services.departure_flag_at_risk(user_id=leaving.pk)
    assert Handover.objects.get(coach=coach).to_user == manager


def test_successor_by_territory_rules_when_available(leaving, other_rep):
    chosen = factories.RepFactory()
    region = factories.RegionFactory(name="Far North")
    factories.TerritoryFactory(region=region, members=[leaving, chosen])
    coach = factories.CoachFactory(account=factories.AccountFactory(owner=other_rep, region=region), holder=leaving)
    services.departure_flag_at_risk(user_id=leaving.pk)
    assert Handover.objects.get(coach=coach).to_user == chosen


# --- handover completion and reassignment ---------------------------------------------------


def test_handover_is_done_when_the_successor_holds_and_logs_an_interaction(leaving, manager):
    coach = coach_of(leaving)
    services.departure_flag_at_risk(user_id=leaving.pk)
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
    services.departure_flag_at_risk(user_id=leaving.pk)
    handover = Handover.objects.get(coach=coach)
    assert handover.status == Handover.Status.OPEN
    coach_services.interaction_log(coach=coach, by=manager, kind="meeting")
    handover.refresh_from_db()
    assert handover.status == Handover.Status.DONE


def test_handover_reassign_changes_the_successor_and_tells_him(leaving, manager, other_rep):
    handover = factories.HandoverFactory(coach=coach_of(leaving))
    colleague = factories.RepFactory(manager=manager)
    services.handover_reassign(handover=handover, to_user=colleague, by=manager)
    handover.refresh_from_db()
    assert handover.to_user == colleague and handover.history.count() == 2
    assert Notification.objects.filter(user=colleague).exists()


def test_handover_reassign_refusals(leaving, manager, other_rep):
    handover = factories.HandoverFactory(coach=coach_of(leaving))
    colleague = factories.RepFactory(manager=manager)
    with pytest.raises(ValidationError, match="manager or an admin"):
        services.handover_reassign(handover=handover, to_user=colleague, by=other_rep)
    with pytest.raises(ValidationError, match="other than the leaving rep"):
        services.handover_reassign(handover=handover, to_user=leaving, by=manager)
    with pytest.raises(ValidationError, match="already the successor"):
        services.handover_reassign(handover=handover, to_user=manager, by=manager)
    colleague.is_active = False
    colleague.save()
    with pytest.raises(ValidationError, match="not an active user"):
        services.handover_reassign(handover=handover, to_user=colleague, by=manager)
    Handover.objects.filter(pk=handover.pk).update(status=Handover.Status.DONE)
    with pytest.raises(ValidationError, match="only an open one"):
        services.handover_reassign(handover=handover, to_user=factories.RepFactory(), by=manager)
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
    assert services.handovers_remind() == 1
    notice = Notification.objects.get(user=manager)
    assert "2 handover(s)" in notice.message and "1 overdue" in notice.message
    assert services.handovers_remind() == 0
    assert Notification.objects.filter(user=manager).count() == 1


# --- user_depart ----------------------------------------------------------------------------


def test_depart_moves_ownership_with_history_and_deletes_nothing(leaving, manager, other_rep, stages):
    factories.HolderFactory(coach=coach_of(other_rep))  # holder and coach ids no longer line up
    coach = coach_of(leaving)
    services.departure_flag_at_risk(user_id=leaving.pk)
    colleague = factories.RepFactory(manager=manager)
    services.handover_reassign(handover=Handover.objects.get(), to_user=colleague, by=manager)
    quiet = factories.AccountFactory(owner=leaving)  # no coach: goes to his manager
    deal = factories.OpportunityFactory(account=coach.account, owner=leaving)
    won = factories.OpportunityFactory(account=quiet, owner=leaving, status=Opportunity.Status.WON)
    elsewhere = factories.OpportunityFactory(account=factories.AccountFactory(owner=other_rep), owner=leaving)
    interaction = factories.InteractionFactory(coach=coach, user=leaving)
    counts = {model: model.objects.count() for model in (Account, Opportunity, Coach, Interaction, Handover)}

    result = services.user_depart(user_id=leaving.pk, today=days(10))

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
    services.user_depart(user_id=leaving.pk, today=days(10))
    holder = coach.holders.get()
    assert holder.user == other_rep and holder.is_primary
    assert Holder.history.filter(user_id=leaving.pk, history_type="-").exists()


def test_depart_flags_first_when_the_task_never_ran(leaving, manager):
    coach = coach_of(leaving)
    services.user_depart(user_id=leaving.pk, today=days(10))
    assert Handover.objects.get().coach == coach
    assert coach.holders.get().user == manager


def test_depart_is_idempotent_and_refuses_before_the_date(leaving):
    with pytest.raises(ValidationError, match="not due to depart yet"):
        services.user_depart(user_id=leaving.pk, today=days(9))
    services.user_depart(user_id=leaving.pk, today=days(10))
    assert services.user_depart(user_id=leaving.pk, today=days(11)) == {}


def test_depart_gives_his_own_successions_to_his_manager(leaving, manager, other_rep):
    handover = factories.HandoverFactory(coach=coach_of(other_rep), to_user=leaving)
    services.user_depart(user_id=leaving.pk, today=days(10))
    handover.refresh_from_db()
    assert handover.to_user == manager


def test_departed_user_cannot_log_in(client, leaving):
    services.user_depart(user_id=leaving.pk, today=days(10))
    response = client.post("/login/", {"username": leaving.username, "password": "pw-for-tests"})
    assert response.status_code == 200 and not response.wsgi_request.user.is_authenticated


def test_departed_user_is_logged_out_of_his_session(client, leaving):
    client.force_login(leaving)
    services.user_depart(user_id=leaving.pk, today=days(10))
    response = client.get("/")
    assert response.status_code == 302 and "/login/" in response.url


def test_departed_users_api_tokens_are_deleted_and_stop_working(api_client, leaving, other_rep):
    _instance, token = AuthToken.objects.create(user=leaving)
    AuthToken.objects.create(user=leaving)
    AuthToken.objects.create(user=other_rep)
    services.user_depart(user_id=leaving.pk, today=days(10))
    assert list(AuthToken.objects.values_list("user", flat=True)) == [other_rep.pk]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api_client.get("/api/v1/accounts/").status_code == 401


def test_sweep_departs_those_whose_date_has_come(leaving, django_capture_on_commit_callbacks, time_machine):
    later = factories.RepFactory(
        status=User.Status.LEAVING, departure_date=days(30), departure_flagged_at=timezone.now()
    )
    time_machine.move_to(days(10), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        result = services.departures_sweep()
    assert result["departing"] == 1
    leaving.refresh_from_db()
    later.refresh_from_db()
    assert leaving.status == User.Status.DEPARTED and later.status == User.Status.LEAVING
