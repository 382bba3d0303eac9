import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import Account
from csvio import services
from csvio.models import ImportBatch
from tests import factories


@pytest.fixture
def lookups(db):
    return {"region": factories.RegionFactory(name="North"), "industry": factories.IndustryFactory(name="Retail")}


def _file(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("accounts.csv", text.encode(), content_type="text/csv")


def test_upload_dry_run_then_confirm(rep_client, rep, lookups):
    response = rep_client.post(
        reverse("csvio:import-create", args=["accounts"]), {"file": _file("name,region,industry\nAcme,North,Retail\n")}
    )
    batch = ImportBatch.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("csvio:import-detail", args=[batch.pk])
    assert not Account.objects.exists()
    page = rep_client.get(response.url)
    assert b"Confirm import" in page.content
    assert b"1 to create" in page.content
    response = rep_client.post(reverse("csvio:import-confirm", args=[batch.pk]))
    assert response.status_code == 302
    assert response.url == reverse("accounts:account-list")
    assert Account.objects.get().name == "Acme"


def test_dry_run_with_errors_shows_them_and_offers_no_confirm(rep_client, rep, lookups):
    rep_client.post(
        reverse("csvio:import-create", args=["accounts"]), {"file": _file("name,region,industry\nAcme,Mars,Retail\n")}
    )
    page = rep_client.get(reverse("csvio:import-detail", args=[ImportBatch.objects.get().pk]))
    assert b"Unknown value Mars" in page.content
    assert b"Confirm import" not in page.content


def test_upload_without_a_file_is_a_form_error(rep_client):
    response = rep_client.post(reverse("csvio:import-create", args=["accounts"]), {})
    assert response.status_code == 200
    assert response.context["form"].errors["file"]
    assert not ImportBatch.objects.exists()


def test_unknown_kind_is_404(rep_client):
    assert rep_client.get(reverse("csvio:import-create", args=["spaceships"])).status_code == 404


def test_another_users_upload_is_404(rep_client, other_rep, lookups):
    batch = services.import_batch_create(
        by=other_rep, kind="accounts", filename="f.csv", data=b"name,region,industry\nAcme,North,Retail\n"
    )
    assert rep_client.get(reverse("csvio:import-detail", args=[batch.pk])).status_code == 404
    assert rep_client.post(reverse("csvio:import-confirm", args=[batch.pk])).status_code == 404
    assert not Account.objects.exists()


def test_confirm_needs_post(rep_client, rep, lookups):
    batch = services.import_batch_create(by=rep, kind="accounts", filename="f.csv", data=b"name,region,industry\n")
    assert rep_client.get(reverse("csvio:import-confirm", args=[batch.pk])).status_code == 405


def _mapping_post(batch, **overrides):
    data = {f"column_{i}": column for i, column in enumerate(batch.report["mapping"].values())}
    return {**data, **overrides}


def test_mapping_step_changes_a_column_and_checks_again(rep_client, rep, lookups):
    text = "Firma,Gebiet,Branche\nAcme,North,Retail\n"
    rep_client.post(reverse("csvio:import-create", args=["accounts"]), {"file": _file(text)})
    batch = ImportBatch.objects.get()
    assert batch.report["missing_columns"] == ["name", "region", "industry"]
    page = rep_client.get(reverse("csvio:import-detail", args=[batch.pk]))
    assert b"Columns and values" in page.content and b"Gebiet" in page.content
    response = rep_client.post(
        reverse("csvio:import-map", args=[batch.pk]),
        {"column_0": "name", "column_1": "region", "column_2": "industry", "save_as": "German sheet"},
    )
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.report["ok"] and batch.columns == {"Firma": "name", "Gebiet": "region", "Branche": "industry"}
    form = rep_client.get(reverse("csvio:import-create", args=["accounts"]))
    assert b"German sheet" in form.content  # offered for the next file


def test_mapping_step_with_an_unknown_column_is_a_form_error(rep_client, rep, lookups):
    rep_client.post(
        reverse("csvio:import-create", args=["accounts"]), {"file": _file("name,region,industry\nA,North,Retail\n")}
    )
    batch = ImportBatch.objects.get()
    response = rep_client.post(reverse("csvio:import-map", args=[batch.pk]), _mapping_post(batch, column_0="nonsense"))
    assert response.status_code == 200
    assert b"Select a valid choice" in response.content


def test_mapping_step_of_another_users_upload_is_404_and_needs_post(rep_client, other_rep, lookups):
    batch = services.import_batch_create(
        by=other_rep, kind="accounts", filename="a.csv", data=b"name,region,industry\nA,North,Retail\n"
    )
    assert rep_client.post(reverse("csvio:import-map", args=[batch.pk]), _mapping_post(batch)).status_code == 404
    rep_client.force_login(other_rep)
    assert rep_client.get(reverse("csvio:import-map", args=[batch.pk])).status_code == 405
