"""Real-world files: encodings, bad uploads and the export → import round trip."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.models import Account, Contact
from csvio import importers, services
from csvio.models import ImportBatch
from tests import factories

HEADER = "name,region,industry\n"


@pytest.fixture
def lookups(db):
    return {"region": factories.RegionFactory(name="North"), "industry": factories.IndustryFactory(name="Retail")}


def _post(client, data: bytes, name="accounts.csv"):
    return client.post(
        reverse("csvio:import-create", args=["accounts"]),
        {"file": SimpleUploadedFile(name, data, content_type="text/csv")},
    )


@pytest.mark.parametrize(
    ("data", "names"),
    [
        ((HEADER + "Acme,North,Retail\n").encode("utf-8"), ["Acme"]),
        (("\ufeff" + HEADER + "Müller AG,North,Retail\n").encode("utf-8"), ["Müller AG"]),
        # Excel's "Unicode Text": UTF-16 LE with a BOM, tab separated.
        ("\ufeffname\tregion\tindustry\r\nMüller AG\tNorth\tRetail\r\n".encode("utf-16-le"), ["Müller AG"]),
        ("\ufeffname\tregion\tindustry\r\n华为技术\tNorth\tRetail\r\n".encode("utf-16-be"), ["华为技术"]),
        ((HEADER + "Müller AG,North,Retail\nCafé Crème,North,Retail\n").encode("cp1252"), ["Café Crème", "Müller AG"]),
        # Excel on a Chinese Windows writes GB18030.
        (("name;region;industry\n上海电气集团;North;Retail\n").encode("gb18030"), ["上海电气集团"]),
    ],
    ids=["utf8", "utf8-bom", "utf16le-tab", "utf16be", "cp1252", "gb18030"],
)
def test_encodings_are_detected(rep, lookups, data, names):
    batch = services.import_batch_create(by=rep, kind="accounts", filename="f.csv", data=data)
    assert batch.report["ok"], batch.report
    services.import_batch_confirm(batch=batch, by=rep)
    assert sorted(Account.objects.values_list("name", flat=True)) == names


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (HEADER.encode() + b"Ac\x00me,North,Retail\n", "NUL bytes"),
        (b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)), "Excel workbook"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(200), "Excel workbook"),
        (b"%PDF-1.7\n" + bytes(range(256)), "not a CSV file"),
        (bytes(range(1, 32)) * 20, "not look like a text CSV"),
    ],
    ids=["nul", "xlsx", "xls", "pdf", "binary"],
)
def test_bad_files_are_a_form_error_not_a_500(rep_client, lookups, data, message):
    response = _post(rep_client, data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_a_file_over_the_limit_is_a_form_error(rep_client, lookups, settings):
    settings.CSV_IMPORT_MAX_BYTES = 100
    response = _post(rep_client, (HEADER + "Acme,North,Retail\n" * 20).encode())
    assert response.status_code == 200
    assert "larger than" in response.content.decode()


def test_the_command_refuses_a_binary_file_with_the_reason(admin_user, tmp_path):
    path = tmp_path / "book.xlsx"
    path.write_bytes(b"PK\x03\x04" + bytes(100))
    with pytest.raises(CommandError, match="Excel workbook"):
        call_command("import_csv", "accounts", str(path), "--user", admin_user.username)


@pytest.mark.parametrize(
    ("cell", "value"),
    [("'+1 555 0100", "+1 555 0100"), ("'=1+1", "=1+1"), ("'-5", "-5"), ("'@home", "@home"), ("'quoted", "'quoted")],
)
def test_unguard_reverses_only_the_export_guard(cell, value):
    assert importers.unguard(cell) == value


def _download(client, url) -> bytes:
    response = client.get(url)
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def test_contacts_export_then_import_changes_nothing(rep_client, rep, lookups):
    account = factories.AccountFactory(owner=rep, name="Acme", region=lookups["region"], industry=lookups["industry"])
    contact = factories.ContactFactory(
        email="ann@acme.test", first_name="Ann", last_name="Lee", phone="+1 555 0100", notes="=not a formula"
    )
    factories.EmploymentFactory(contact=contact, account=account, title="-CTO-")
    data = _download(rep_client, reverse("accounts:contact-export"))
    assert b"'+1 555 0100" in data  # the export guards it for spreadsheets
    batch = services.import_batch_create(by=rep, kind="contacts", filename="contacts.csv", data=data)
    assert [(r["outcome"], r["detail"]) for r in batch.report["rows"]] == [
        ("duplicate", "Already in CoachCRM as Ann Lee; nothing to change.")
    ]
    contact.refresh_from_db()
    assert (contact.phone, contact.notes) == ("+1 555 0100", "=not a formula")
    assert Contact.objects.count() == 1


def test_accounts_export_then_import_changes_nothing(rep_client, rep, lookups):
    factories.AccountFactory(
        owner=rep, name="+Plus Ltd", region=lookups["region"], industry=lookups["industry"], notes="-risky"
    )
    data = _download(rep_client, reverse("accounts:account-export"))
    batch = services.import_batch_create(by=rep, kind="accounts", filename="accounts.csv", data=data)
    assert [r["outcome"] for r in batch.report["rows"]] == ["duplicate"], batch.report


def test_deals_export_then_import_changes_nothing(rep_client, rep, lookups):
    factories.default_stages()
    account = factories.AccountFactory(owner=rep, name="Acme", region=lookups["region"], industry=lookups["industry"])
    factories.OpportunityFactory(account=account, owner=rep, name="=Renewal 2027")
    data = _download(rep_client, reverse("pipeline:opportunity-export"))
    batch = services.import_batch_create(by=rep, kind="deals", filename="opportunities.csv", data=data)
    assert batch.report["ignored_columns"] == ["held_back", "has_coach"]
    assert [(r["outcome"], r["label"]) for r in batch.report["rows"]] == [("duplicate", "=Renewal 2027")]
