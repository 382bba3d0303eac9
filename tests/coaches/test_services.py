import datetime
import re
import threading

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from coachcrm.models import Job
from coaches import services
from coaches.models import Coach, Holder, Interaction
from pipeline.models import StageChange
from team.models import Notification
from tests import factories
from tests.locks import wait_until_someone_waits_for_a_lock


@pytest.fixture
def account(rep):
    return factories.AccountFactory(owner=rep)


def test_coach_record_makes_the_recorder_primary_holder(rep, account):
    contact = factories.person_at(account)
    coach = services.coach_record(by=rep, account=account, contact=contact, strength="champion", credible=True)
    assert coach.status == Coach.Status.ACTIVE
    assert coach.strength == "champion" and coach.credible and not coach.trusts_us
    assert coach.established_on == timezone.localdate()
    assert [(h.user, h.is_primary) for h in coach.holders.all()] == [(rep, True)]
    assert coach.history.count() == 1


def test_coach_record_refuses_a_contact_who_does_not_work_at_the_account(rep, account):
    elsewhere = factories.person_at(factories.AccountFactory())
    with pytest.raises(ValidationError) as excinfo:
        services.coach_record(by=rep, account=account, contact=elsewhere)
    assert "does not currently work at" in excinfo.value.message_dict["contact"][0]
    assert not Coach.objects.exists()


def test_coach_record_refuses_a_former_employee(rep, account):
    former = factories.EmploymentFactory(account=account, end_date=timezone.localdate()).contact
    with pytest.raises(ValidationError):
        services.coach_record(by=rep, account=account, contact=former)
    assert not Coach.objects.exists()


def test_coach_record_refuses_a_second_active_coach_role_for_one_contact(rep, account):
    coach = factories.CoachFactory(account=account)
    with pytest.raises(ValidationError) as excinfo:
        services.coach_record(by=rep, account=account, contact=coach.contact)
    assert "already our active coach" in excinfo.value.message_dict["contact"][0]
    assert Coach.objects.count() == 1


def test_coach_record_allows_a_new_role_after_the_old_one_ended(rep, account):
    coach = factories.CoachFactory(account=account, status=Coach.Status.ENDED)
    again = services.coach_record(by=rep, account=account, contact=coach.contact)
    assert again.pk != coach.pk


def test_coach_record_refuses_a_future_established_date(rep, account):
    with pytest.raises(ValidationError) as excinfo:
        services.coach_record(
            by=rep,
            account=account,
            contact=factories.person_at(account),
            established_on=timezone.localdate() + datetime.timedelta(days=1),
        )
    assert "established_on" in excinfo.value.message_dict


def test_coach_record_refuses_unknown_fields(rep, account):
    with pytest.raises(TypeError):
        services.coach_record(by=rep, account=account, contact=factories.person_at(account), status="ended")


def test_coach_record_clears_held_back_deals_and_tells_their_owners(rep, account, stages):
    held = factories.OpportunityFactory(account=account, held_back=True, held_back_reason="no coach")
    services.coach_record(by=rep, account=account, contact=factories.person_at(account))
    held.refresh_from_db()
    assert not held.held_back and held.held_back_reason == "" and held.held_back_since is None
    assert held.stage == stages["Lead"]  # it does not move by itself
    assert "may move past the gate" in Notification.objects.get(user=rep).message


def test_coach_verify_sets_the_date_and_corrects_the_criteria(rep):
    coach = factories.CoachFactory(trusts_us=False)
    services.coach_verify(coach=coach, by=rep, trusts_us=True, trusts_us_note="asked for our roadmap")
    coach.refresh_from_db()
    assert coach.last_verified_on == timezone.localdate()
    assert coach.trusts_us and coach.trusts_us_note == "asked for our roadmap"


def test_coach_verify_refuses_an_inactive_coach(rep):
    coach = factories.CoachFactory(status=Coach.Status.LAPSED)
    with pytest.raises(ValidationError, match="Only an active coach"):
        services.coach_verify(coach=coach, by=rep)
    coach.refresh_from_db()
    assert coach.last_verified_on is None


@pytest.mark.parametrize("status", [Coach.Status.LAPSED, Coach.Status.ENDED])
def test_coach_set_status_needs_a_reason(rep, status):
    coach = factories.CoachFactory()
    with pytest.raises(ValidationError) as excinfo:
        services.coach_set_status(coach=coach, status=status, reason="  ", by=rep)
    assert "reason" in excinfo.value.message_dict
    coach.refresh_from_db()
    assert coach.status == Coach.Status.ACTIVE


def test_coach_set_status_refuses_reviving_an_ended_coach(rep):
    coach = factories.CoachFactory(status=Coach.Status.ENDED)
    with pytest.raises(ValidationError, match="cannot become active"):
        services.coach_set_status(coach=coach, status=Coach.Status.ACTIVE, reason="", by=rep)


def test_coach_set_status_revives_a_lapsed_coach_and_releases_held_back_deals(rep, account, stages):
    coach = factories.CoachFactory(account=account, status=Coach.Status.LAPSED)
    held = factories.OpportunityFactory(account=account, held_back=True)
    services.coach_set_status(coach=coach, status=Coach.Status.ACTIVE, reason="back in touch", by=rep)
    held.refresh_from_db()
    assert coach.status == Coach.Status.ACTIVE
    assert not held.held_back


def test_coach_set_status_revival_refuses_a_contact_who_left(rep, account):
    coach = factories.CoachFactory(account=account, status=Coach.Status.LAPSED)
    coach.contact.employments.update(end_date=timezone.localdate())
    with pytest.raises(ValidationError, match="does not currently work"):
        services.coach_set_status(coach=coach, status=Coach.Status.ACTIVE, reason="", by=rep)


def test_ending_the_last_coach_sends_gated_deals_back(rep, account, stages, django_capture_on_commit_callbacks):
    coach = factories.CoachFactory(account=account)
    gated = factories.OpportunityFactory(account=account, stage=stages["Proposal"])
    early = factories.OpportunityFactory(account=account, stage=stages["Lead"])
    with django_capture_on_commit_callbacks(execute=True):
        services.coach_set_status(coach=coach, status=Coach.Status.ENDED, reason="left the project", by=rep)
    gated.refresh_from_db()
    early.refresh_from_db()
    assert gated.stage == stages["Qualified"] and gated.held_back
    assert early.stage == stages["Lead"]
    change = gated.stage_changes.get()
    assert (change.kind, change.by, change.from_stage) == (StageChange.Kind.SENT_BACK, None, stages["Proposal"])
    assert "sent back" in Notification.objects.get(user=rep).message
    assert mail.outbox[0].to == [rep.email]


def test_lapsing_one_of_two_coaches_sends_nothing_back(rep, account, stages, django_capture_on_commit_callbacks):
    coach = factories.CoachFactory(account=account)
    factories.CoachFactory(account=account)
    gated = factories.OpportunityFactory(account=account, stage=stages["Proposal"])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.coach_set_status(coach=coach, status=Coach.Status.LAPSED, reason="quiet", by=rep)
    gated.refresh_from_db()
    assert gated.stage == stages["Proposal"]
    assert callbacks == []


def test_send_back_is_enqueued_only_on_commit(rep, account, stages, django_capture_on_commit_callbacks):
    coach = factories.CoachFactory(account=account)
    gated = factories.OpportunityFactory(account=account, stage=stages["Proposal"])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.coach_set_status(coach=coach, status=Coach.Status.ENDED, reason="left", by=rep)
    gated.refresh_from_db()
    assert gated.stage == stages["Proposal"]
    assert len(callbacks) == 1


def test_holder_add_and_primary_switch(rep, other_rep):
    coach = factories.CoachFactory(holder=rep)
    holder = services.holder_add(coach=coach, user=other_rep, by=rep)
    assert not holder.is_primary
    services.holder_set_primary(holder=holder, by=rep)
    assert [(h.user, h.is_primary) for h in coach.holders.order_by("pk")] == [(rep, False), (other_rep, True)]


def test_holder_add_as_primary_demotes_the_old_primary(rep, other_rep):
    coach = factories.CoachFactory(holder=rep)
    services.holder_add(coach=coach, user=other_rep, by=rep, is_primary=True)
    assert coach.holders.get(is_primary=True).user == other_rep


def test_holder_add_refuses_a_duplicate_and_an_inactive_user(rep):
    coach = factories.CoachFactory(holder=rep)
    with pytest.raises(ValidationError, match="already holds"):
        services.holder_add(coach=coach, user=rep, by=rep)
    gone = factories.RepFactory(is_active=False)
    with pytest.raises(ValidationError, match="not an active user"):
        services.holder_add(coach=coach, user=gone, by=rep)
    assert coach.holders.count() == 1


def test_holder_remove_refuses_the_last_holder(rep):
    coach = factories.CoachFactory(holder=rep)
    with pytest.raises(ValidationError, match="only holder"):
        services.holder_remove(holder=coach.holders.get(), by=rep)
    assert coach.holders.count() == 1


def test_holder_remove_of_the_primary_promotes_the_next_holder(rep, other_rep):
    coach = factories.CoachFactory(holder=rep)
    services.holder_add(coach=coach, user=other_rep, by=rep)
    services.holder_remove(holder=coach.holders.get(user=rep), by=rep)
    assert [(h.user, h.is_primary) for h in coach.holders.all()] == [(other_rep, True)]
    assert Holder.history.filter(history_type="-").count() == 1


def test_interaction_log_refreshes_the_last_touch_but_not_backwards(rep):
    coach = factories.CoachFactory()
    today = timezone.localdate()
    services.interaction_log(coach=coach, by=rep, kind="meeting", occurred_on=today, note="lunch")
    services.interaction_log(coach=coach, by=rep, kind="call", occurred_on=today - datetime.timedelta(days=9))
    coach.refresh_from_db()
    assert coach.last_interaction_on == today
    assert Interaction.objects.filter(coach=coach).count() == 2


def test_interaction_log_refuses_the_future_and_ended_coaches(rep):
    coach = factories.CoachFactory()
    with pytest.raises(ValidationError) as excinfo:
        services.interaction_log(
            coach=coach, by=rep, kind="call", occurred_on=timezone.localdate() + datetime.timedelta(days=1)
        )
    assert "occurred_on" in excinfo.value.message_dict
    ended = factories.CoachFactory(status=Coach.Status.ENDED)
    with pytest.raises(ValidationError, match="has ended"):
        services.interaction_log(coach=ended, by=rep, kind="call")
    assert not Interaction.objects.exists()


def test_flag_at_risk_keeps_the_first_since_and_clear_resets(rep):
    coach = factories.CoachFactory()
    with pytest.raises(ValidationError):
        services.coach_flag_at_risk(coach=coach, reason="")
    services.coach_flag_at_risk(coach=coach, reason="holder leaving")
    since = coach.at_risk_since
    services.coach_flag_at_risk(coach=coach, reason="holder left")
    assert coach.at_risk and coach.at_risk_since == since and coach.at_risk_reason == "holder left"
    services.coach_clear_at_risk(coach=coach)
    coach.refresh_from_db()
    assert (coach.at_risk, coach.at_risk_reason, coach.at_risk_since) == (False, "", None)


def test_lapse_job_lapses_untouched_coaches_notifies_and_sends_back(
    rep, account, stages, settings, django_capture_on_commit_callbacks
):
    settings.COACH_LAPSE_DAYS = 120
    today = timezone.localdate()
    old = factories.CoachFactory(account=account, established_on=today - datetime.timedelta(days=400))
    factories.InteractionFactory(coach=old, occurred_on=today - datetime.timedelta(days=121))
    old.last_interaction_on = today - datetime.timedelta(days=121)
    old.save()
    fresh = factories.CoachFactory(established_on=today - datetime.timedelta(days=400))
    fresh.last_interaction_on = today - datetime.timedelta(days=119)
    fresh.save()
    gated = factories.OpportunityFactory(account=account, stage=stages["Negotiation"])

    with django_capture_on_commit_callbacks(execute=True):
        assert services.coaches_lapse_untouched() == 1
    old.refresh_from_db()
    fresh.refresh_from_db()
    gated.refresh_from_db()
    assert old.status == Coach.Status.LAPSED and "No interaction since" in old.status_reason_display
    assert fresh.status == Coach.Status.ACTIVE
    assert gated.stage == stages["Qualified"]
    assert Notification.objects.filter(user=rep, message__contains="lapsed").exists()

    # A second run changes nothing.
    with django_capture_on_commit_callbacks(execute=True):
        assert services.coaches_lapse_untouched() == 0
    assert gated.stage_changes.count() == 1


def test_lapse_job_counts_a_never_touched_coach_from_its_established_date(rep, settings):
    settings.COACH_LAPSE_DAYS = 120
    with time_machine.travel(timezone.now() - datetime.timedelta(days=130)):
        coach = factories.CoachFactory()
    assert services.coaches_lapse_untouched() == 1
    coach.refresh_from_db()
    assert coach.status == Coach.Status.LAPSED


def _untouched_coaches(n, *, holder, account=None):
    """n active coaches (each at its own account unless one is given) with no touch for 200 days."""
    with time_machine.travel(timezone.now() - datetime.timedelta(days=200)):
        return [factories.CoachFactory(holder=holder, **({"account": account} if account else {})) for _ in range(n)]


def test_lapse_job_writes_one_history_row_per_coach_with_the_reason(rep, settings):
    settings.COACH_LAPSE_DAYS = 120
    (coach,) = _untouched_coaches(1, holder=rep)
    services.coaches_lapse_untouched()
    latest = coach.history.first()
    assert (latest.status, latest.history_change_reason) == (Coach.Status.LAPSED, "lapse job")
    assert latest.status_facts == {"kind": "lapsed", "since": coach.established_on.isoformat()}
    assert coach.history.count() == 2  # created, lapsed


def test_lapse_job_sends_one_notice_per_holder_with_how_many_lapsed(rep, other_rep, settings):
    settings.COACH_LAPSE_DAYS = 120
    coaches = _untouched_coaches(3, holder=rep)
    factories.HolderFactory(coach=coaches[0], user=other_rep)
    _untouched_coaches(1, holder=factories.RepFactory())  # someone else's: not in rep's count
    mail.outbox.clear()

    assert services.coaches_lapse_untouched() == 4

    (notice,) = Notification.objects.filter(user=rep)
    assert notice.message.startswith("3 of your coaches lapsed: no interaction for 120 days.")
    assert notice.link == f"/coaches/?holder={rep.pk}"
    (other_notice,) = Notification.objects.filter(user=other_rep)
    assert other_notice.message.startswith("1 of your coaches lapsed")


def test_lapse_job_notice_is_in_the_holders_language(rep, settings):
    settings.COACH_LAPSE_DAYS = 120
    rep.language = "zh-hans"
    rep.save(update_fields=["language"])
    _untouched_coaches(2, holder=rep)
    services.coaches_lapse_untouched()
    assert Notification.objects.get(user=rep).message.startswith("您有 2 位教练已失效")


def test_lapse_job_sends_back_each_account_left_without_an_active_coach_once(rep, stages, settings):
    settings.COACH_LAPSE_DAYS = 120
    bare = factories.AccountFactory(owner=rep)
    _untouched_coaches(2, holder=rep, account=bare)  # two lapse here: one send-back, not two
    covered = factories.AccountFactory(owner=rep)
    _untouched_coaches(1, holder=rep, account=covered)
    factories.CoachFactory(account=covered, holder=rep)  # a fresh coach keeps this account covered
    assert services.coaches_lapse_untouched() == 3
    # Recorded in the outbox (the test's transaction never commits, so nothing is sent yet).
    enqueued = Job.objects.filter(task="pipeline.tasks.account_send_back_task").values_list("task", "kwargs", "status")
    assert list(enqueued) == [("pipeline.tasks.account_send_back_task", {"account_id": bare.pk}, "pending")]


def test_lapse_job_query_count_does_not_grow_with_the_lapsed_coaches(rep, other_rep, settings):
    # Guards the old per-coach loop (lock, refresh, save, history, holders, notice: ~13 queries
    # per lapsed coach): 1 and 30 lapsed coaches, same two holders, same number of queries.
    settings.COACH_LAPSE_DAYS = 120

    def count_queries(n):
        for coach in _untouched_coaches(n, holder=rep):
            factories.HolderFactory(coach=coach, user=other_rep)
        with CaptureQueriesContext(connection) as queries:
            assert services.coaches_lapse_untouched() == n
        return len(queries)

    assert count_queries(1) == count_queries(30)


def _statements(queries):
    """The kinds of statement run, in order; a bulk insert SQLite splits (999 parameters a batch) counts once."""
    kinds = [re.sub(r'"s\d+_x\d+"', "", q["sql"])[:60] for q in queries]
    return [k for i, k in enumerate(kinds) if not (k.startswith("INSERT") and i and kinds[i - 1] == k)]


def test_lapse_job_query_count_does_not_grow_with_holders_or_accounts(stages, settings):
    # Guards a notice written one by one (notification, e-mail, its job: ~6 queries per holder,
    # 1,090 queries at the bench's 179 holders): 5 and 50 lapsed coaches, each at an account of
    # its own with a gated deal to send back, each with a holder of his own (some with an
    # e-mail, some without), same statements.
    settings.COACH_LAPSE_DAYS = 120

    def statements(n):
        for i in range(n):
            holder = factories.RepFactory(email=f"holder{n}-{i}@example.com" if i % 2 else "")
            account = factories.AccountFactory(owner=holder)
            factories.OpportunityFactory(account=account, owner=holder, stage=stages["Negotiation"])
            _untouched_coaches(1, holder=holder, account=account)
        with CaptureQueriesContext(connection) as queries:
            assert services.coaches_lapse_untouched() == n
        assert Notification.objects.filter(message__contains="lapsed").count() == n
        assert Job.objects.filter(task="pipeline.tasks.account_send_back_task", status="pending").count() == n
        Notification.objects.all().delete()
        Job.objects.all().delete()
        return _statements(queries)

    few = statements(5)
    assert len(few) < 25
    assert few == statements(50)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_lapse_job_spares_a_coach_touched_while_it_waits_for_the_lock(settings):
    """An interaction logged while the job waits for the coach's row lock keeps the coach active."""
    settings.COACH_LAPSE_DAYS = 120
    rep = factories.RepFactory()
    (coach,) = _untouched_coaches(1, holder=rep)
    touched, errors = threading.Event(), []

    def touch_and_commit_once_the_job_waits():
        try:
            with transaction.atomic():
                services.interaction_log(coach=coach, by=rep, kind="call")  # holds the coach row
                touched.set()
                with connection.cursor() as cursor:
                    if not wait_until_someone_waits_for_a_lock(cursor):
                        errors.append("the lapse job never waited for the coach's lock")
        except Exception as error:
            errors.append(error)
            touched.set()
        finally:
            connection.close()

    thread = threading.Thread(target=touch_and_commit_once_the_job_waits)
    thread.start()
    touched.wait(10)
    lapsed = services.coaches_lapse_untouched()
    thread.join()
    assert errors == []
    assert lapsed == 0
    coach.refresh_from_db()
    assert coach.status == Coach.Status.ACTIVE and coach.last_interaction_on == timezone.localdate()


# --- style reports --------------------------------------------------------------------------


def test_style_report_record_keeps_who_reported_and_who_recorded(rep, account):
    coach = factories.CoachFactory(account=account, holder=rep)
    buyer = factories.person_at(account)
    report = services.style_report_record(
        by=rep, contact=buyer, coach=coach, style="driver", confidence="high", note=" Decides in the room "
    )
    assert (report.contact, report.coach, report.recorded_by) == (buyer, coach, rep)
    assert report.reported_on == timezone.localdate() and report.note == "Decides in the room"


def test_style_report_from_a_coach_who_is_no_longer_active_is_refused(rep, account):
    coach = factories.CoachFactory(account=account, holder=rep, status="lapsed")
    with pytest.raises(ValidationError, match="no longer an active coach"):
        services.style_report_record(
            by=rep, contact=factories.person_at(account), coach=coach, style="driver", confidence="high"
        )


def test_style_report_about_someone_at_another_company_is_refused(rep, account):
    coach = factories.CoachFactory(account=account, holder=rep)
    with pytest.raises(ValidationError) as error:
        services.style_report_record(
            by=rep,
            contact=factories.person_at(factories.AccountFactory()),
            coach=coach,
            style="driver",
            confidence="low",
        )
    assert "does not work at" in error.value.message_dict["coach"][0]


@pytest.mark.parametrize(
    ("field", "values"),
    [
        ("style", {"style": "bossy"}),
        ("confidence", {"confidence": "certain"}),
        ("reported_on", {"reported_on": datetime.date.today() + datetime.timedelta(days=2)}),
    ],
)
def test_style_report_with_bad_input_is_refused(rep, account, field, values):
    coach = factories.CoachFactory(account=account, holder=rep)
    kwargs = {"style": "amiable", "confidence": "medium", **values}
    with pytest.raises(ValidationError) as error:
        services.style_report_record(by=rep, contact=factories.person_at(account), coach=coach, **kwargs)
    assert field in error.value.message_dict
