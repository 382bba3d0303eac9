"""Tasks, the touch with its next step, and the daily digest."""

import datetime

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from agenda import services
from agenda.models import DigestSent, Task
from team.models import Email, Notification
from tests import factories

MONDAY = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(MONDAY, tick=False)
    return MONDAY.date()


def test_task_create_for_oneself_links_the_account_of_the_coach(rep, frozen):
    coach = factories.CoachFactory(holder=rep)
    task = services.task_create(by=rep, subject="  Send the proposal ", coach=coach)
    assert (task.owner, task.subject, task.due_on, task.account_id) == (
        rep,
        "Send the proposal",
        frozen,
        coach.account_id,
    )


def test_task_create_by_a_manager_for_his_rep_but_not_for_another_team(rep, manager, other_rep):
    task = services.task_create(by=manager, owner=rep, subject="Call the CFO")
    assert task.owner == rep and task.created_by == manager
    with pytest.raises(ValidationError) as error:
        services.task_create(by=manager, owner=other_rep, subject="Not mine")
    assert "owner" in error.value.message_dict


def test_task_create_a_rep_cannot_give_a_task_to_someone_else(rep, other_rep):
    with pytest.raises(ValidationError):
        services.task_create(by=rep, owner=other_rep, subject="Do my work")


def test_task_create_refuses_an_empty_subject_and_a_deal_at_another_account(rep, stages):
    with pytest.raises(ValidationError) as error:
        services.task_create(by=rep, subject="   ")
    assert "subject" in error.value.message_dict
    deal = factories.OpportunityFactory(stage=stages["Lead"])
    with pytest.raises(ValidationError) as error:
        services.task_create(by=rep, subject="x", opportunity=deal, account=factories.AccountFactory())
    assert "account" in error.value.message_dict


def test_task_set_done_is_idempotent_and_can_be_undone(rep, frozen):
    task = factories.TaskFactory(owner=rep)
    services.task_set_done(task=task, by=rep)
    first = task.done_at
    services.task_set_done(task=task, by=rep)
    assert task.done_at == first is not None
    services.task_set_done(task=task, by=rep, done=False)
    assert Task.objects.open().filter(pk=task.pk).exists()


def test_touch_log_with_a_next_step_makes_a_task_due_at_the_next_touch(rep, frozen):
    coach = factories.CoachFactory(
        holder=rep, strength="champion", last_interaction_on=frozen - datetime.timedelta(days=20)
    )
    interaction, task = services.touch_log(
        coach=coach, by=rep, kind="call", note="Budget is in", next_step="Send the deck"
    )
    assert interaction.note == "Budget is in"
    assert (task.subject, task.due_on, task.coach) == ("Send the deck", frozen + datetime.timedelta(days=14), coach)


def test_touch_log_without_a_next_step_makes_no_task_and_a_date_alone_is_refused(rep, frozen):
    coach = factories.CoachFactory(holder=rep)
    assert services.touch_log(coach=coach, by=rep, kind="call")[1] is None
    with pytest.raises(ValidationError) as error:
        services.touch_log(coach=coach, by=rep, kind="call", next_step_on=frozen)
    assert "next_step" in error.value.message_dict
    assert coach.interactions.count() == 1  # the refused one rolled back


def test_digest_is_sent_once_a_day_in_the_users_language_and_not_when_nothing_is_due(rep, other_rep, frozen):
    rep.language = "zh-hans"
    rep.save()
    factories.TaskFactory(owner=rep, due_on=frozen - datetime.timedelta(days=1))
    factories.CoachFactory(holder=rep, strength="champion", last_interaction_on=frozen - datetime.timedelta(days=15))
    factories.TaskFactory(owner=other_rep, due_on=frozen + datetime.timedelta(days=3))  # not yet due
    sent = services.digests_send(day=frozen)
    assert sent == 1
    assert services.digests_send(day=frozen) == 0  # idempotent per day
    notice = Notification.objects.get(user=rep)
    assert "1" in notice.message and "Today" not in notice.message  # rendered in Chinese
    body = Email.objects.get(recipient=rep.email).body
    assert body.startswith(notice.message) and "Tasks" not in body  # the e-mail too
    assert DigestSent.objects.filter(user=rep, day=frozen).count() == 1
    assert not Notification.objects.filter(user=other_rep).exists()


def test_digest_opt_out_stops_it(rep, frozen):
    factories.TaskFactory(owner=rep)
    services.digest_set_opt_out(user=rep, opt_out=True)
    assert services.digests_send(day=frozen) == 0
    services.digest_set_opt_out(user=rep, opt_out=False)
    assert services.digests_send(day=frozen) == 1


def test_digest_sends_one_email(rep, frozen, django_capture_on_commit_callbacks):
    factories.TaskFactory(owner=rep)
    with django_capture_on_commit_callbacks(execute=True):
        services.digests_send(day=timezone.localdate())
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [rep.email]


def test_digest_email_lists_the_tasks_and_the_coaches_to_touch(
    rep, other_rep, frozen, django_capture_on_commit_callbacks
):
    factories.TaskFactory(owner=rep, subject="Send Chen the pilot plan", due_on=frozen - datetime.timedelta(days=1))
    factories.TaskFactory(owner=rep, subject="Not yet", due_on=frozen + datetime.timedelta(days=2))
    factories.TaskFactory(owner=other_rep, subject="Somebody else's", due_on=frozen)
    coach = factories.CoachFactory(
        holder=rep, strength="champion", last_interaction_on=frozen - datetime.timedelta(days=15)
    )
    factories.CoachFactory(
        holder=other_rep, strength="champion", last_interaction_on=frozen - datetime.timedelta(days=15)
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.digests_send(day=frozen)
    body = next(message.body for message in mail.outbox if message.to == [rep.email])
    assert "Today: 1 tasks due and 1 coaches to touch." in body
    assert "Send Chen the pilot plan" in body and "Not yet" not in body and "Somebody else" not in body
    assert f"{coach.contact} at {coach.account}" in body
    assert body.rstrip().endswith("/")  # the Today link, in full


def test_digest_email_lists_twenty_of_each_and_counts_the_rest(rep, frozen, django_capture_on_commit_callbacks):
    factories.TaskFactory.create_batch(services.DIGEST_LISTED + 3, owner=rep, due_on=frozen)
    with django_capture_on_commit_callbacks(execute=True):
        services.digests_send(day=frozen)
    body = mail.outbox[0].body
    assert body.count("\n- ") == services.DIGEST_LISTED
    assert "and 3 more" in body


def test_access_tasks_own_given_and_the_managers_team(rep, other_rep, manager, admin_user):
    import access

    mine = factories.TaskFactory(owner=rep)
    given = factories.TaskFactory(owner=rep, created_by=manager)
    theirs = factories.TaskFactory(owner=other_rep)
    assert set(access.tasks(rep)) == {mine, given}
    assert set(access.tasks(manager)) == {mine, given}
    assert set(access.tasks(other_rep)) == {theirs}
    assert set(access.tasks(admin_user)) == {mine, given, theirs}
