"""Every registered task, run twice with the same arguments: the second run changes nothing (issue 16).

Delivery is at least once (the outbox re-sends a job whose publish was not marked, Redis
redelivers a message a killed worker never acknowledged), so a second run of any job must
leave the database, the e-mail sent and the webhooks posted as the first run left them.

Each task has a scenario below that gives its first run something to do (asserted, so the test
cannot pass on a task that does nothing). A task registered without a scenario fails
`test_every_registered_task_has_a_scenario`: a new task gets its second-run proof here.
"""

import datetime

import pytest
import time_machine
from django.apps import apps
from django.core import mail
from django.utils import timezone

from coachcrm import jobs
from coachcrm.celery import app
from coachcrm.models import Job
from coaches.models import Coach
from pipeline.models import StageChange
from team.models import Email, User
from tests import factories
from tests.webhooks.conftest import Receiver

# A Tuesday at 10:00 in the default TIME_ZONE (UTC): after DIGEST_HOUR, a working day.
NOW = datetime.datetime(2026, 3, 3, 10, 0, tzinfo=datetime.UTC)
DAY = datetime.timedelta(days=1)


class Context:
    """What a scenario may need besides the database: the users, the stages, a webhook receiver."""

    def __init__(self, rep, manager, admin, stages):
        self.rep, self.manager, self.admin, self.stages = rep, manager, admin, stages
        self.receiver = None

    def webhook(self, events, settings):
        from webhooks import services

        settings.WEBHOOKS_ALLOW_PRIVATE = True  # the receiver is on 127.0.0.1
        self.receiver = Receiver()
        self.receiver.thread.start()
        return services.webhook_create(by=self.admin, url=self.receiver.url, events=events)

    def close(self):
        if self.receiver:
            self.receiver.server.shutdown()
            self.receiver.server.server_close()


SCENARIOS = {}
# Tables a task writes a line to on every run, by design (a run log, not a change of business data).
RUN_LOGS = {}


def scenario(name, run_logs=()):
    def register(setup):
        SCENARIOS[name], RUN_LOGS[name] = setup, set(run_logs)
        return setup

    return register


def _leaving(ctx, when=None):
    ctx.rep.status, ctx.rep.departure_date = User.Status.LEAVING, when or timezone.localdate()
    ctx.rep.save()
    return factories.CoachFactory(account=factories.AccountFactory(owner=ctx.rep), holder=ctx.rep)


def _coach_lost(ctx):
    account = factories.AccountFactory(owner=ctx.rep)
    coach = factories.CoachFactory(account=account, holder=ctx.rep)
    factories.OpportunityFactory(account=account, owner=ctx.rep, stage=ctx.stages["Negotiation"])
    Coach.objects.filter(pk=coach.pk).update(status=Coach.Status.ENDED)
    return account


@scenario("agenda.tasks.digests_send_task")
def _digests(ctx, settings):
    settings.DIGEST_HOUR = 8
    factories.TaskFactory(owner=ctx.rep)
    return {}


@scenario("agenda.tasks.tasks_due_emit_task")
def _tasks_due(ctx, settings):
    ctx.webhook(["task.due"], settings)
    factories.TaskFactory(owner=ctx.rep)
    return {}


@scenario("team.tasks.email_send_task")
def _email_send(ctx, settings):
    from team import services

    return {"email_id": services.email_queue(to=ctx.rep.email, subject="Hello", body="x").pk}


@scenario("team.tasks.emails_retry_task")
def _emails_retry(ctx, settings):
    from team import services

    email = services.email_queue(to=ctx.rep.email, subject="Hello", body="x")
    Job.objects.all().delete()  # its job lost (a broker outage in embedded mode): the retry's work
    Email.objects.filter(pk=email.pk).update(created_at=timezone.now() - datetime.timedelta(minutes=10))
    return {}


@scenario("team.tasks.security_events_prune_task")
def _security_events_prune(ctx, settings):
    settings.SECURITY_EVENTS_KEEP_DAYS = 30
    factories.SecurityEventFactory(user=ctx.rep, created_at=timezone.now() - 31 * DAY)
    return {}


@scenario("team.tasks.departure_flag_at_risk_task")
def _flag(ctx, settings):
    _leaving(ctx, timezone.localdate() + 14 * DAY)
    return {"user_id": ctx.rep.pk}


@scenario("team.tasks.user_depart_task")
def _depart(ctx, settings):
    _leaving(ctx)
    return {"user_id": ctx.rep.pk}


@scenario("team.tasks.departures_sweep_task")
def _departures_sweep(ctx, settings):
    _leaving(ctx)  # marked while the broker was down: the sweep flags and departs him
    return {}


@scenario("team.tasks.handovers_remind_task")
def _handovers_remind(ctx, settings):
    coach = factories.CoachFactory(holder=ctx.rep)
    factories.HandoverFactory(coach=coach, to_user=ctx.manager, due_on=timezone.localdate() + DAY)
    return {}


@scenario("pipeline.tasks.account_send_back_task")
def _send_back(ctx, settings):
    return {"account_id": _coach_lost(ctx).pk}


@scenario("pipeline.tasks.gate_sweep_task", run_logs=["pipeline.GateSweep"])  # its managers' report
def _gate_sweep(ctx, settings):
    account = factories.AccountFactory(owner=ctx.rep)  # no coach at all
    factories.OpportunityFactory(account=account, owner=ctx.rep, stage=ctx.stages["Coach confirmed"])
    return {}


@scenario("pipeline.tasks.dashboard_facts_rebuild_task")
def _dashboard_facts(ctx, settings):
    deal = factories.OpportunityFactory(owner=ctx.rep, stage=ctx.stages["Qualified"])
    factories.StageChangeFactory(opportunity=deal, from_stage=ctx.stages["Lead"], to_stage=ctx.stages["Qualified"])
    StageChange.objects.update(left_back_at=timezone.now())  # a fact written around the services
    return {}


@scenario("coaches.tasks.visible_repair_task")
def _visible_repair(ctx, settings):
    from coaches.models import VisibleAccount

    account = factories.AccountFactory(owner=ctx.rep)
    VisibleAccount.objects.filter(account=account).delete()  # a write around the services
    return {}


@scenario("coaches.tasks.coach_moved_task")
def _coach_moved(ctx, settings):
    from accounts.services import contact_move

    factories.ProductLineFactory(name="Cloud")
    coach = factories.CoachFactory(account=factories.AccountFactory(owner=ctx.rep), holder=ctx.rep)
    contact_move(contact=coach.contact, by=ctx.rep, new_account_name="Blue Harbour", title="CIO",
                 start_date=timezone.localdate() - 5 * DAY)  # fmt: skip
    return Job.objects.get(task="coaches.tasks.coach_moved_task").kwargs  # what the move enqueued


@scenario("coaches.tasks.coaches_lapse_untouched_task")
def _lapse(ctx, settings):
    settings.COACH_LAPSE_DAYS = 120
    coach = factories.CoachFactory(holder=ctx.rep, established_on=timezone.localdate() - 400 * DAY)
    Coach.objects.filter(pk=coach.pk).update(last_interaction_on=timezone.localdate() - 200 * DAY)
    return {}


@scenario("coaches.tasks.coaches_end_departed_task")
def _end_departed(ctx, settings):
    from accounts.models import Employment

    account = factories.AccountFactory(owner=ctx.rep)
    coach = factories.CoachFactory(account=account, holder=ctx.rep)
    factories.OpportunityFactory(account=account, owner=ctx.rep, stage=ctx.stages["Negotiation"])
    # The position ended behind the services' back (a restore, a script): the periodic job catches it.
    Employment.objects.filter(contact=coach.contact, account=account).update(end_date=timezone.localdate() - DAY)
    return {}


@scenario("webhooks.tasks.webhook_deliver_task")
def _webhook_deliver(ctx, settings):
    from webhooks import services

    ctx.webhook(["coach.ended"], settings)
    [delivery] = services.event_emit(event="coach.ended", data={"coach": 1})
    return {"delivery_pk": delivery.pk}


@scenario("webhooks.tasks.webhooks_deliver_due_task")
def _webhooks_deliver_due(ctx, settings):
    from webhooks import services

    ctx.webhook(["coach.ended"], settings)
    services.event_emit(event="coach.ended", data={"coach": 1})
    Job.objects.all().delete()  # its job lost: the sweep's work
    return {}


@scenario("webhooks.tasks.deliveries_prune_task")
def _deliveries_prune(ctx, settings):
    settings.WEBHOOK_DELIVERIES_RETENTION_DAYS = 30
    factories.DeliveryFactory(created_at=timezone.now() - 31 * DAY)
    return {}


@scenario("coachcrm.tasks.jobs_relay_task")
def _jobs_relay(ctx, settings):
    account = _coach_lost(ctx)
    jobs.enqueue("pipeline.tasks.account_send_back_task", key=f"account-send-back:{account.pk}", account_id=account.pk)
    return {}  # waiting (its relay after the commit never ran): the periodic relay's work


@scenario("coachcrm.tasks.jobs_prune_task")
def _jobs_prune(ctx, settings):
    settings.JOBS_RETENTION_DAYS = 14
    Job.objects.create(task="x", key="k", status=Job.Status.SENT, created_at=timezone.now() - 15 * DAY)
    return {}


def _import_batch(ctx, settings):
    from csvio import services, tasks

    settings.CSV_IMPORT_BACKGROUND_ROWS = 2
    factories.RegionFactory(name="North")
    factories.IndustryFactory(name="Retail")
    text = "name,region,industry\n" + "".join(f"Company {i},North,Retail\n" for i in range(5))
    batch = services.import_batch_create(by=ctx.rep, kind="accounts", filename="big.csv", data=text.encode())
    tasks.import_batch_run_task(batch.pk)  # the dry run
    batch.refresh_from_db()
    return services.import_batch_confirm(batch=batch, by=ctx.rep)


@scenario("csvio.import_batch_run")
def _import_run(ctx, settings):
    return {"batch_id": _import_batch(ctx, settings).pk}


@scenario("csvio.import_batches_resume")
def _import_resume(ctx, settings):
    from csvio.models import ImportBatch

    batch = _import_batch(ctx, settings)
    Job.objects.all().delete()  # the confirmation's job lost (a killed worker, before the outbox)
    ImportBatch.objects.filter(pk=batch.pk).update(queued_at=timezone.now() - datetime.timedelta(minutes=20))
    return {}


def _ours() -> set[str]:
    app.loader.import_default_modules()
    return {name for name in app.tasks if not name.startswith("celery.")}


def test_every_registered_task_has_a_scenario():
    assert _ours() == set(SCENARIOS)


def _state(ctx) -> dict:
    """Every row of every table, the e-mail sent and the webhooks received: what a second run must not change."""
    state = {
        model._meta.label: list(model._base_manager.order_by("pk").values_list())
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy
    }
    state["mail.outbox"] = [(message.to, message.subject) for message in mail.outbox]
    state["webhooks received"] = [body for _headers, body in ctx.receiver.requests] if ctx.receiver else []
    return state


def _changes(before: dict, after: dict, ignore=()) -> list[str]:
    return sorted(name for name in after if before[name] != after[name] and name not in ignore)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_a_second_run_of_every_task_changes_nothing(
    name, rep, manager, admin_user, stages, settings, django_capture_on_commit_callbacks
):
    ctx = Context(rep, manager, admin_user, stages)
    app.loader.import_default_modules()  # every app's tasks.py, whichever test runs first
    task = app.tasks[name]
    try:
        with time_machine.travel(NOW, tick=False):
            kwargs = SCENARIOS[name](ctx, settings)
            before = _state(ctx)
            # The first run commits, so the jobs it enqueues run too (in process, as embedded).
            with django_capture_on_commit_callbacks(execute=True):
                task.apply(kwargs=kwargs, throw=True)
            first = _state(ctx)
            assert _changes(before, first), f"the scenario gives {name} nothing to do"
            with django_capture_on_commit_callbacks(execute=True):
                task.apply(kwargs=kwargs, throw=True)  # a re-send, or a redelivery
            second = _state(ctx)
    finally:
        ctx.close()
    changed = _changes(first, second, ignore=RUN_LOGS[name])
    assert not changed, f"a second run of {name} changed {changed}"
