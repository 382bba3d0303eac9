"""The import pages' API (/api/v1/imports/): upload and dry run, mapping, confirm, progress, cancel."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Account
from csvio import tasks
from csvio.models import ImportBatch
from tests import factories

TEXT = "name,region,industry\nAcme,North,Retail\nBirch,North,Retail\n"


@pytest.fixture
def lookups(db):
    factories.RegionFactory(name="North")
    factories.IndustryFactory(name="Retail")


def _upload(api, text=TEXT, **extra):
    return api.post("/api/v1/imports/", {"kind": "accounts", "content": text, "filename": "a.csv", **extra})


def test_upload_dry_runs_and_confirm_imports_every_row(token_client, rep, lookups):
    api = token_client(rep)
    response = _upload(api)
    assert response.status_code == 201
    batch = response.json()
    assert (batch["status"], batch["row_count"], batch["report"]["ok"]) == ("pending", 2, True)
    assert not Account.objects.exists()  # a dry run writes nothing

    confirmed = api.post(f"/api/v1/imports/{batch['id']}/confirm/")
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "imported"
    assert Account.objects.count() == 2
    again = api.post(f"/api/v1/imports/{batch['id']}/confirm/")
    assert again.status_code == 400 and "already imported" in again.json()["detail"]


def test_upload_takes_a_multipart_file(token_client, rep, lookups):
    upload = SimpleUploadedFile("accounts.csv", TEXT.encode("utf-16"), content_type="text/csv")
    response = token_client(rep).post("/api/v1/imports/", {"kind": "accounts", "file": upload}, format="multipart")
    assert response.status_code == 201
    assert (response.json()["filename"], response.json()["row_count"]) == ("accounts.csv", 2)


def test_upload_refuses_bad_input_with_a_clear_error(token_client, rep, lookups):
    api = token_client(rep)
    assert _upload(api, kind="unicorns").json()["fields"]["kind"]
    assert api.post("/api/v1/imports/", {"kind": "accounts"}).json()["fields"]["file"]
    upload = SimpleUploadedFile("photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", content_type="text/csv")
    binary = api.post("/api/v1/imports/", {"kind": "accounts", "file": upload}, format="multipart")
    assert binary.status_code == 400 and binary.json()["fields"]["file"]
    unknown = _upload(api, status="imported")
    assert unknown.status_code == 400 and unknown.json()["code"] == "unknown_field"
    assert not ImportBatch.objects.exists()


def test_mapping_maps_the_columns_and_dry_runs_again(token_client, rep, lookups):
    api = token_client(rep)
    batch = _upload(api, text="Company,Area,Sector\nAcme,North,Retail\n").json()
    body = {"columns": {"Company": "name", "Area": "region", "Sector": "industry"}}
    mapped = api.put(f"/api/v1/imports/{batch['id']}/mapping/", body)
    assert mapped.status_code == 200 and mapped.json()["report"]["ok"]
    wrong = api.put(f"/api/v1/imports/{batch['id']}/mapping/", {"columns": {"Company": "nickname"}})
    assert wrong.status_code == 400 and "nickname" in wrong.json()["detail"]


def test_another_users_upload_is_404(token_client, rep, other_rep, lookups):
    batch = _upload(token_client(rep)).json()
    api = token_client(other_rep)
    assert api.get(f"/api/v1/imports/{batch['id']}/").status_code == 404
    assert api.post(f"/api/v1/imports/{batch['id']}/confirm/").status_code == 404
    assert api.post(f"/api/v1/imports/{batch['id']}/cancel/").status_code == 404
    assert api.get("/api/v1/imports/").json()["count"] == 0


def test_a_large_file_confirms_in_the_background_with_progress_and_cancel(token_client, rep, lookups, settings):
    settings.CSV_IMPORT_BACKGROUND_ROWS = 1
    api = token_client(rep)
    batch = _upload(api).json()
    assert batch["status"] == "checking" and batch["progress"]["total"] == batch["row_count"]
    tasks.import_batch_run_task(batch["id"])  # the dry run's job
    confirmed = api.post(f"/api/v1/imports/{batch['id']}/confirm/")
    assert confirmed.status_code == 202 and confirmed.json()["status"] == "confirming"
    progress = api.get(f"/api/v1/imports/{batch['id']}/progress/").json()
    assert progress["status"] == "confirming" and progress["done"] == 0

    assert api.post(f"/api/v1/imports/{batch['id']}/cancel/").status_code == 200
    tasks.import_batch_run_task(batch["id"])
    done = api.get(f"/api/v1/imports/{batch['id']}/").json()
    assert (done["status"], done["report"]["cancelled"]) == ("pending", True)
    assert not Account.objects.exists()
    assert api.post(f"/api/v1/imports/{batch['id']}/cancel/").status_code == 400
