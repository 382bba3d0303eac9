"""A large confirmation: written a slice at a time, at a fixed query cost per slice, still all or nothing."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import Contact, Employment
from csvio import importers, services, tasks
from csvio.models import ImportBatch, ImportCancel
from tests import factories

HEADER = "first_name,last_name,email,phone,account,title,function,start_date\n"


@pytest.fixture
def accounts(rep):
    return [factories.AccountFactory(owner=rep, name=f"Firm {i}") for i in range(3)]


def _text(rows: int, start: int = 0) -> str:
    return HEADER + "".join(
        f"Ann,Lee{i},ann{i}@example.com,+1 555 {i:04d},Firm {i % 3},Buyer,hr,2024-0{1 + i % 9}-01\n"
        for i in range(start, start + rows)
    )


def _confirm_queries(user, text: str) -> int:
    importer = importers.importer_class("contacts")(user=user)
    with CaptureQueriesContext(connection) as captured:
        report = importers.run(importer, text, commit=True)
    assert report.committed, report.as_dict()
    return len(captured.captured_queries)


def test_the_confirmations_queries_are_fixed_per_slice(rep, accounts, settings):
    settings.CSV_IMPORT_WRITE_ROWS = 5
    at_10 = _confirm_queries(rep, _text(10))  # 2 slices
    at_15 = _confirm_queries(rep, _text(15, start=100))  # 3 slices
    at_200 = _confirm_queries(rep, _text(200, start=1000))  # 40 slices
    per_slice = at_15 - at_10
    assert 0 < per_slice <= 8
    assert at_200 == at_10 + 38 * per_slice
    assert Contact.objects.count() == Employment.objects.count() == 225


def _snapshot():
    people = sorted(Contact.objects.values_list("first_name", "last_name", "email", "phone", "notes"))
    positions = sorted(
        Employment.objects.values_list(
            "contact__email", "account__name", "title", "function", "seniority", "start_date", "end_date"
        )
    )
    history = sorted(
        Contact.history.values_list("email", "first_name", "last_name", "phone", "history_type", "history_user")
    )
    emails = dict(Contact.objects.values_list("pk", "email"))
    position_history = sorted(
        (emails[h.contact_id], h.account_id, h.title, h.start_date, h.history_type, h.history_user_id)
        for h in Employment.history.all()
    )
    return people, positions, history, position_history


def _imported_with(user, text, settings, write_rows):
    settings.CSV_IMPORT_WRITE_ROWS = write_rows
    with transaction.atomic():
        report = importers.run(importers.importer_class("contacts")(user=user), text, commit=True)
        snapshot = _snapshot(), report.as_dict()["rows"]
        transaction.set_rollback(True)
    return snapshot


def test_slices_import_exactly_what_one_write_did(rep, accounts, settings):
    # The oracle: the same file written at once (the path before slices) and a few rows at a time.
    known = factories.ContactFactory(email="ann7@example.com", first_name="Ann", last_name="Old")
    factories.EmploymentFactory(contact=known, account=accounts[1], end_date=None)
    text = _text(40) + "Bob,Stone,,,Firm 2,Owner,,2023-05-06\n"
    at_once = _imported_with(rep, text, settings, 10_000)
    sliced = _imported_with(rep, text, settings, 3)
    assert sliced == at_once
    people, positions, history, _positions = sliced[0]
    # 40 new people (Bob among them) and the one known, renamed from Ann Old to Ann Lee7.
    assert len(people) == 41 and len(positions) == 41
    assert [row["outcome"] for row in sliced[1]].count("updated") == 1
    assert len(history) == 40 + 1 + 1  # one "+" per new person, one "~" for the update, the factory's


@pytest.fixture
def large(settings):
    settings.CSV_IMPORT_BACKGROUND_ROWS = 2
    settings.CSV_IMPORT_WRITE_ROWS = 5


def _confirming(user, text):
    batch = services.import_batch_create(by=user, kind="contacts", filename="big.csv", data=text.encode())
    tasks.import_batch_run_task(batch.pk)
    batch.refresh_from_db()
    assert batch.report["ok"], batch.report
    return services.import_batch_confirm(batch=batch, by=user)


def _counts():
    return Contact.objects.count(), Employment.objects.count(), Contact.history.count(), Employment.history.count()


def test_a_row_refused_late_writes_nothing(rep, accounts, large):
    batch = _confirming(rep, _text(60))
    # Someone adds the person of the file's last row, in another team, between the dry run and the job.
    factories.ContactFactory(email="ann59@example.com")
    before = _counts()
    tasks.import_batch_run_task(batch.pk)
    batch.refresh_from_db()
    assert (batch.status, batch.report["ok"], batch.report["committed"]) == (ImportBatch.Status.PENDING, False, False)
    assert [(r["line"], r["column"]) for r in batch.report["rows"] if r["outcome"] == "error"] == [(61, "email")]
    assert _counts() == before


def test_a_conflict_in_the_last_slice_undoes_the_slices_written(rep, accounts, large, monkeypatch):
    batch = _confirming(rep, _text(60))
    write = importers._write

    def racing_write(importer, report, creates, updating, step):
        def step_then_race(fraction):
            step(fraction)
            if Contact.objects.count() == 55:
                # While the job writes, someone adds the person of the last slice.
                factories.ContactFactory(email="ann58@example.com")

        write(importer, report, creates, updating, step_then_race)

    monkeypatch.setattr(importers, "_write", racing_write)
    tasks.import_batch_run_task(batch.pk)
    batch.refresh_from_db()
    assert (batch.status, batch.report["ok"], batch.report["committed"]) == (ImportBatch.Status.PENDING, False, False)
    assert "ann58@example.com" in " ".join(batch.report["file_errors"])
    # The slices written before are undone (and the racing person with them: he was added inside the job).
    assert _counts() == (0, 0, 0, 0)


def test_a_cancel_seen_between_slices_rolls_back_what_was_written(rep, accounts, large, monkeypatch):
    batch = _confirming(rep, _text(60))
    seen = []
    write = importers._write

    def cancelling_write(importer, report, creates, updating, step):
        def step_then_cancel(fraction):
            step(fraction)
            if fraction > 0.5 and not seen:
                # Mid-way through the writes: some slices are in, and the user clicks Cancel.
                seen.append(Contact.objects.count())
                ImportCancel.objects.create(batch_id=batch.pk)

        write(importer, report, creates, updating, step_then_cancel)

    monkeypatch.setattr(importers, "_write", cancelling_write)
    tasks.import_batch_run_task(batch.pk)
    batch.refresh_from_db()
    assert seen == [5]  # the first slice was written when the cancel came
    assert (batch.status, batch.report["cancelled"]) == (ImportBatch.Status.PENDING, True)
    assert not Contact.objects.exists() and not Contact.history.exists() and not Employment.history.exists()
    assert not ImportCancel.objects.exists()


def test_a_second_import_of_the_same_file_changes_nothing(rep, accounts, large):
    batch = _confirming(rep, _text(30))
    tasks.import_batch_run_task(batch.pk)
    batch.refresh_from_db()
    assert batch.report["counts"]["created"] == 30
    before = (Contact.history.count(), Employment.history.count(), Employment.objects.count())
    again = _confirming(rep, _text(30))
    tasks.import_batch_run_task(again.pk)
    again.refresh_from_db()
    assert again.status == ImportBatch.Status.IMPORTED
    assert again.report["counts"] == {"created": 0, "updated": 0, "duplicate": 30, "error": 0}
    assert (Contact.history.count(), Employment.history.count(), Employment.objects.count()) == before


@pytest.mark.postgres  # SQLite has no row locks
def test_the_job_locks_its_batch_row_only(rep, accounts, large):
    # With the user's row locked too, a second file of his was skipped while the first one's job held it.
    batch = services.import_batch_create(by=rep, kind="contacts", filename="big.csv", data=_text(3).encode())
    with CaptureQueriesContext(connection) as captured:
        tasks.import_batch_run_task(batch.pk)
    locks = [q["sql"] for q in captured.captured_queries if "FOR UPDATE" in q["sql"]]
    assert locks and all('FOR UPDATE OF "csvio_importbatch" SKIP LOCKED' in sql for sql in locks[:1])
