"""Large files: the confirmation as a background job, its progress, cancel, resume and all-or-nothing."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account
from csvio import importers, selectors, services, tasks
from csvio.models import ImportBatch
from tests import factories


@pytest.fixture
def lookups(db, settings):
    # Every file of these tests counts as large.
    settings.CSV_IMPORT_BACKGROUND_ROWS = 2
    factories.RegionFactory(name="North")
    factories.IndustryFactory(name="Retail")


TEXT = "name,region,industry\n" + "".join(f"Company {i},North,Retail\n" for i in range(5))


def _confirming(user):
    batch = services.import_batch_create(by=user, kind="accounts", filename="big.csv", data=TEXT.encode())
    tasks.import_batch_run_task(batch.pk)  # the dry run, a job too for a large file
    batch.refresh_from_db()
    return services.import_batch_confirm(batch=batch, by=user)


def test_a_large_file_is_confirmed_by_a_job_after_the_commit(rep, lookups, django_capture_on_commit_callbacks):
    batch = services.import_batch_create(by=rep, kind="accounts", filename="big.csv", data=TEXT.encode())
    tasks.import_batch_run_task(batch.pk)
    batch.refresh_from_db()
    with django_capture_on_commit_callbacks() as callbacks:
        batch = services.import_batch_confirm(batch=batch, by=rep)
    assert batch.status == ImportBatch.Status.CONFIRMING
    assert not Account.objects.exists()  # the request did not wait for the rows
    assert len(callbacks) == 1
    callbacks[0]()
    batch.refresh_from_db()
    assert (batch.status, batch.report["counts"]["created"]) == (ImportBatch.Status.IMPORTED, 5)
    assert Account.objects.count() == 5


def test_a_second_run_of_the_job_changes_nothing(rep, lookups):
    batch = _confirming(rep)
    assert tasks.import_batch_run_task(batch.pk) == ImportBatch.Status.IMPORTED
    assert tasks.import_batch_run_task(batch.pk) == "skipped"
    assert Account.objects.count() == 5


def test_a_row_refused_late_blocks_the_whole_file(rep, lookups):
    batch = _confirming(rep)
    # Someone creates one of the accounts between the dry run and the job.
    factories.AccountFactory(name="Company 3")
    tasks.import_batch_run_task(batch.pk)
    batch.refresh_from_db()
    assert (batch.status, batch.report["ok"]) == (ImportBatch.Status.PENDING, False)
    assert [r["line"] for r in batch.report["rows"] if r["outcome"] == "error"] == [5]
    assert Account.objects.count() == 1


def test_cancel_rolls_back_and_the_file_waits(rep, lookups):
    batch = _confirming(rep)
    services.import_batch_cancel(batch=batch, by=rep)
    tasks.import_batch_run_task(batch.pk)
    batch.refresh_from_db()
    assert (batch.status, batch.report["cancelled"]) == (ImportBatch.Status.PENDING, True)
    assert batch.report["ok"]  # its dry run stands: it can be confirmed again
    assert not Account.objects.exists()


def test_cancel_is_kept_in_the_database_not_the_cache(rep, lookups):
    from django.core.cache import cache

    from csvio.models import ImportCancel

    batch = _confirming(rep)
    services.import_batch_cancel(batch=batch, by=rep)
    cache.clear()  # a cache flushed, restarted or absent loses nothing
    tasks.import_batch_run_task(batch.pk)
    batch.refresh_from_db()
    assert (batch.status, batch.report["cancelled"]) == (ImportBatch.Status.PENDING, True)
    assert not Account.objects.exists()
    assert not ImportCancel.objects.exists()  # the request is spent: a new confirmation runs
    batch = services.import_batch_confirm(batch=batch, by=rep)
    tasks.import_batch_run_task(batch.pk)
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.IMPORTED


def test_a_requeued_job_keeps_the_cancel_asked_for_before_it_was_lost(rep, lookups):
    batch = _confirming(rep)  # its job is lost
    services.import_batch_cancel(batch=batch, by=rep)
    ImportBatch.objects.filter(pk=batch.pk).update(queued_at=timezone.now() - datetime.timedelta(hours=1))
    assert services.import_batches_resume() == 1
    tasks.import_batch_run_task(batch.pk)
    batch.refresh_from_db()
    assert (batch.status, batch.report["cancelled"]) == (ImportBatch.Status.PENDING, True)
    assert not Account.objects.exists()


def test_only_a_confirming_batch_of_ones_own_is_cancelled(rep, other_rep, lookups):
    batch = _confirming(rep)
    with pytest.raises(services.ValidationError):
        services.import_batch_cancel(batch=batch, by=other_rep)
    tasks.import_batch_run_task(batch.pk)
    batch.refresh_from_db()
    with pytest.raises(services.ValidationError, match="not being checked or imported"):
        services.import_batch_cancel(batch=batch, by=rep)


def test_a_lost_job_is_requeued_by_the_periodic_resume(rep, lookups, django_capture_on_commit_callbacks):
    batch = _confirming(rep)  # its job is lost: the on-commit callback never ran
    assert services.import_batches_resume() == 0  # too recent to be lost
    ImportBatch.objects.filter(pk=batch.pk).update(queued_at=timezone.now() - datetime.timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.import_batches_resume_task() == 1
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.IMPORTED


def test_progress_is_reported_while_planning_and_writing(rep, lookups):
    done = []
    text = "name,region,industry\n" + "".join(f"Company {i},North,Retail\n" for i in range(2500))
    report = importers.run(importers.importer_class("accounts")(user=rep), text, commit=True, progress=done.append)
    assert report.committed
    assert done == sorted(done)
    assert done[0] == 0 and 1250 in done and done[-1] >= 2000


def test_progress_page_polls_then_reloads_when_done(rep_client, rep, lookups):
    batch = _confirming(rep)
    services.cache.set(services.progress_key(batch.pk), {"done": 2, "total": 5})
    assert selectors.import_batch_progress(batch=batch)["percent"] == 40
    page = rep_client.get(reverse("csvio:import-detail", args=[batch.pk]))
    assert b"2 of 5 rows" in page.content
    assert b"Cancel import" in page.content
    partial = rep_client.get(reverse("csvio:import-progress", args=[batch.pk]))
    assert partial.status_code == 200 and b'hx-trigger="every 2s"' in partial.content
    tasks.import_batch_run_task(batch.pk)
    done = rep_client.get(reverse("csvio:import-progress", args=[batch.pk]))
    assert (done.status_code, done["HX-Refresh"]) == (204, "true")


def test_progress_and_cancel_of_another_users_batch_are_404(rep_client, other_rep, lookups):
    batch = _confirming(other_rep)
    assert rep_client.get(reverse("csvio:import-progress", args=[batch.pk])).status_code == 404
    assert rep_client.post(reverse("csvio:import-cancel", args=[batch.pk])).status_code == 404


def test_cancel_needs_post(rep_client, rep, lookups):
    batch = _confirming(rep)
    assert rep_client.get(reverse("csvio:import-cancel", args=[batch.pk])).status_code == 405
    response = rep_client.post(reverse("csvio:import-cancel", args=[batch.pk]))
    assert response.status_code == 302


def test_a_large_files_dry_run_is_a_job_too(rep, lookups, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        batch = services.import_batch_create(by=rep, kind="accounts", filename="big.csv", data=TEXT.encode())
    assert (batch.status, batch.report) == (ImportBatch.Status.CHECKING, {})
    with pytest.raises(services.ValidationError, match="still being checked"):
        services.import_batch_confirm(batch=batch, by=rep)
    callbacks[0]()
    batch.refresh_from_db()
    assert (batch.status, batch.report["counts"]["created"]) == (ImportBatch.Status.PENDING, 5)
    assert not Account.objects.exists()


def test_a_cancelled_check_leaves_an_empty_report(rep, lookups):
    batch = services.import_batch_create(by=rep, kind="accounts", filename="big.csv", data=TEXT.encode())
    services.import_batch_cancel(batch=batch, by=rep)
    tasks.import_batch_run_task(batch.pk)
    batch.refresh_from_db()
    assert (batch.status, batch.report["cancelled"], batch.report["rows"]) == (ImportBatch.Status.PENDING, True, [])
