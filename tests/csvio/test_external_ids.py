"""External ids: a second import of an updated export updates by id, related files link by id, merges keep them."""

import datetime
from pathlib import Path

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Account, Contact
from csvio import external_ids, services
from csvio.models import ExternalId, ImportBatch
from pipeline.models import Opportunity
from tests import factories

FIXTURES = Path(__file__).parent / "fixtures"
COUNTRY_REGIONS = {"Germany": "North", "Norway": "North", "United States": "West", "United Kingdom": "West"}


@pytest.fixture
def setup(db, settings):
    settings.CRM_CURRENCY = "EUR"
    regions = {name: factories.RegionFactory(name=name) for name in ("North", "East", "West")}
    for name in ("Finance", "Healthcare", "Manufacturing", "Retail"):
        factories.IndustryFactory(name=name)
    factories.ProductLineFactory(name="Analytics")
    admin = factories.AdminFactory(username="admin")
    alice = factories.RepFactory(username="alice", first_name="Alice", last_name="Rep", email="alice@crm.example")
    return {"admin": admin, "alice": alice, "regions": regions}


def _fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def _upload(user, kind, text, **map_values):
    batch = services.import_batch_create(by=user, kind=kind, filename=f"{kind}.csv", data=text.encode())
    if map_values:
        batch = services.import_batch_map(
            batch=batch, by=user, columns=batch.report["mapping"], defaults=batch.report["defaults"], values=map_values
        )
    return batch


def _rows(batch):
    return [(r["label"], r["outcome"], r["detail"]) for r in batch.report["rows"]]


def _companies(setup, text=None):
    """The HubSpot companies export imported by the admin (countries mapped onto regions)."""
    batch = _upload(setup["admin"], "accounts", text or _fixture("hubspot-companies.csv"), region=COUNTRY_REGIONS)
    assert batch.report["ok"], batch.report["rows"]
    return services.import_batch_confirm(batch=batch, by=setup["admin"])


def _ids(model) -> dict[str, str]:
    return dict(ExternalId.objects.filter(kind=external_ids.kind_of(model)).values_list("external_id", "object_id"))


def test_an_import_keeps_each_records_id_in_its_source_and_the_dry_run_says_so(setup):
    batch = _upload(setup["admin"], "accounts", _fixture("hubspot-companies.csv"), region=COUNTRY_REGIONS)
    assert _rows(batch)[:2] == [
        ("Borealis Bank", "created", "Will create (HubSpot 9876543201)."),
        ("Cedar Health", "created", "Will create (HubSpot 9876543202)."),
    ]
    assert not ExternalId.objects.exists()  # a dry run writes nothing
    services.import_batch_confirm(batch=batch, by=setup["admin"])
    cedar = Account.objects.get(name="Cedar Health")
    assert _ids(Account)["9876543202"] == cedar.pk
    assert [str(e) for e in cedar.external_ids.all()] == ["HubSpot id 9876543202"]
    assert set(ExternalId.objects.values_list("source", "kind")) == {("hubspot", "account")}


def test_a_second_import_of_an_updated_export_updates_by_id_instead_of_duplicating(setup):
    _companies(setup)
    count, ids = Account.objects.count(), ExternalId.objects.count()
    cedar = Account.objects.get(name="Cedar Health")
    history = cedar.history.count()
    # Renamed in HubSpot, and Pioneer Steel grew: the same ids, other names and values.
    text = (
        _fixture("hubspot-companies.csv")
        .replace("Cedar Health,", "Cedar Health Group,", 1)
        .replace("Machinery,60,", "Machinery,600,", 1)
    )
    batch = _upload(setup["admin"], "accounts", text, region=COUNTRY_REGIONS)
    assert batch.report["counts"] == {"created": 0, "updated": 2, "duplicate": 1, "error": 0}
    rows = _rows(batch)
    assert rows[1] == ("Cedar Health Group", "updated", "Will update Cedar Health (HubSpot 9876543202): name.")
    assert rows[2] == ("Pioneer Steel", "updated", "Will update Pioneer Steel (HubSpot 9876543203): size_tier.")
    assert rows[0][1:] == ("duplicate", "Already in CoachCRM as Borealis Bank (HubSpot 9876543201); nothing to change.")

    assert services.import_batch_confirm(batch=batch, by=setup["admin"]).status == ImportBatch.Status.IMPORTED
    assert (Account.objects.count(), ExternalId.objects.count()) == (count, ids)
    cedar.refresh_from_db()
    assert cedar.name == "Cedar Health Group"
    assert Account.objects.get(name="Pioneer Steel").size_tier == Account.SizeTier.MID
    assert cedar.history.count() == history + 1
    assert cedar.history.first().history_user == setup["admin"]
    # And a third import of the same file changes nothing.
    again = _upload(setup["admin"], "accounts", text, region=COUNTRY_REGIONS)
    assert {r["outcome"] for r in again.report["rows"]} == {"duplicate"}


def test_an_account_known_by_name_gets_the_files_id(setup):
    known = factories.AccountFactory(name="Cedar Health", owner=setup["alice"], region=setup["regions"]["West"])
    batch = _upload(setup["admin"], "accounts", _fixture("hubspot-companies.csv"), region=COUNTRY_REGIONS)
    row = _rows(batch)[1]
    assert row[1] == "updated" and row[2].startswith("Will update Cedar Health (HubSpot 9876543202):")
    assert "external id" in row[2]
    services.import_batch_confirm(batch=batch, by=setup["admin"])
    assert _ids(Account)["9876543202"] == known.pk
    assert Account.objects.filter(name="Cedar Health").count() == 1


def test_one_id_for_two_names_in_a_file_is_a_row_error_and_nothing_is_written(setup):
    text = _fixture("hubspot-companies.csv").replace("9876543203,Pioneer Steel", "9876543201,Pioneer Steel")
    batch = _upload(setup["admin"], "accounts", text, region=COUNTRY_REGIONS)
    assert not batch.report["ok"]
    error = next(r for r in batch.report["rows"] if r["outcome"] == "error")
    assert error["column"] == "external_id"
    assert error["detail"] == "HubSpot 9876543201 is on another row of the file, for another name."
    assert services.import_batch_confirm(batch=batch, by=setup["admin"]).status == ImportBatch.Status.PENDING
    assert not Account.objects.exists() and not ExternalId.objects.exists()


def test_an_id_taken_by_another_record_is_refused_with_a_clear_error(setup):
    cedar, pioneer = factories.AccountFactory(name="Cedar"), factories.AccountFactory(name="Pioneer")
    external_ids.external_ids_add(source="hubspot", records=[(cedar, "123")])
    with pytest.raises(ValidationError) as refused:
        external_ids.external_ids_add(source="hubspot", records=[(pioneer, "123")])
    assert refused.value.message_dict == {"external_id": ["These ids already belong to other records: HubSpot 123."]}
    with pytest.raises(ValidationError, match="appears twice"):
        external_ids.external_ids_add(source="salesforce", records=[(cedar, "9"), (pioneer, "9")])
    # The same id again for the same record changes nothing; another system's 123 is another id.
    assert external_ids.external_ids_add(source="hubspot", records=[(cedar, "123")]) == []
    external_ids.external_ids_add(source="salesforce", records=[(pioneer, "123")])
    assert ExternalId.objects.count() == 2


def test_a_late_refusal_rolls_back_the_ids_too(setup, monkeypatch):
    # All or nothing: an id taken by another record between the checks and the insert keeps nothing.
    from accounts.importers import AccountImporter

    batch = _upload(setup["admin"], "accounts", _fixture("hubspot-companies.csv"), region=COUNTRY_REGIONS)
    assert batch.report["ok"]
    prepare = AccountImporter.prepare

    def racing(self, rows):
        prepare(self, rows)
        factories.ExternalIdFactory(external_id="9876543203", record=factories.AccountFactory(name="Elsewhere"))

    monkeypatch.setattr(AccountImporter, "prepare", racing)
    batch = services.import_batch_confirm(batch=batch, by=setup["admin"])
    assert batch.status == ImportBatch.Status.PENDING
    assert "These ids already belong to other records: HubSpot 9876543203." in batch.report["file_errors"]
    assert list(Account.objects.values_list("name", flat=True)) == ["Elsewhere"]
    assert ExternalId.objects.count() == 1


@time_machine.travel("2026-03-02 10:00 +00:00")
def test_contacts_link_to_their_accounts_by_the_company_id_before_the_name(setup):
    _companies(setup)
    # The contacts export names the company differently from the companies export: the id links them.
    text = (
        "Record ID,First Name,Last Name,Email,Phone Number,Associated Company IDs,Company Name,Job Title\n"
        "51,Ingrid,Larsen,ingrid.larsen@borealis-bank.example,+49 30 5550111,9876543201,Borealis Bank AG,CFO\n"
        "52,Tomás,García,tomas.garcia@cedar-health.example,,9876543202;9876543201,Cedar,CIO\n"
        "53,Mei,Chen,,,,Cedar Health,Operations Manager\n"  # no id: by name
    )
    batch = _upload(setup["alice"], "contacts", text)
    assert batch.report["mapping"]["Associated Company IDs"] == "account_external_id"
    assert batch.report["ok"], batch.report["rows"]
    services.import_batch_confirm(batch=batch, by=setup["alice"])
    positions = {c.last_name: c.employments.get().account.name for c in Contact.objects.all()}
    assert positions == {"Larsen": "Borealis Bank", "García": "Cedar Health", "Chen": "Cedar Health"}
    assert set(_ids(Contact)) == {"51", "52", "53"}

    # An updated export: his e-mail and phone changed in HubSpot; the Record ID finds him.
    updated = text.replace("tomas.garcia@cedar-health.example,", "t.garcia@cedar-health.example,+1 617 555 0150")
    batch = _upload(setup["alice"], "contacts", updated)
    row = _rows(batch)[1]
    assert row == ("Tomás García", "updated", "Will update Tomás García (HubSpot 52): phone, email.")
    services.import_batch_confirm(batch=batch, by=setup["alice"])
    assert Contact.objects.count() == 3
    garcia = Contact.objects.get(last_name="García")
    assert (garcia.email, garcia.phone) == ("t.garcia@cedar-health.example", "+1 617 555 0150")
    assert garcia.history.first().history_user == setup["alice"]


def test_an_account_id_unknown_among_the_users_accounts_is_a_row_error(setup):
    _companies(setup)
    hidden = factories.AccountFactory(name="Hidden", owner=factories.RepFactory())
    factories.ExternalIdFactory(external_id="777", record=hidden)
    text = "Record ID,First Name,Last Name,Associated Company IDs,Company Name,Job Title\n60,Ann,Lee,777,,CFO\n"
    batch = _upload(setup["alice"], "contacts", text)
    row = batch.report["rows"][0]
    assert (row["outcome"], row["column"]) == ("error", "account_external_id")
    assert row["detail"] == "No account with HubSpot 777 among yours; import the accounts first."


@time_machine.travel("2026-06-15 10:00 +00:00")
def test_deals_link_by_account_id_and_a_second_import_updates_them(setup):
    factories.default_stages()
    _companies(setup)
    for account in Account.objects.all():
        factories.CoachFactory(
            account=account,
            strength="coach",
            credible=True,
            trusts_us=True,
            wants_us_to_win=True,
            last_verified_on=timezone.localdate(),
        )
    text = (
        "Record ID,Deal Name,Deal Stage,Close Date,Amount,Create Date,Associated Company,Associated Company IDs\n"
        "7001,Borealis - rollout,Presentation Scheduled,2026-09-30 00:00,48000,2026-01-12 10:02,Borealis,9876543201\n"
        "7002,Cedar - renewal,Qualified To Buy,2026-07-15 00:00,12500,2026-02-03 15:40,Cedar Health,\n"
    )
    batch = _upload(setup["alice"], "deals", text)
    assert batch.report["ok"], batch.report["rows"]
    assert _rows(batch)[0] == ("Borealis - rollout", "created", "Will create (HubSpot 7001).")
    services.import_batch_confirm(batch=batch, by=setup["alice"])
    rollout = Opportunity.objects.get(name="Borealis - rollout")
    assert rollout.account.name == "Borealis Bank"
    assert set(_ids(Opportunity)) == {"7001", "7002"}

    # Renamed, a new amount and a later stage in HubSpot: its own fields follow, its stage stays.
    updated = text.replace(
        "Borealis - rollout,Presentation Scheduled,2026-09-30 00:00,48000",
        "Borealis - rollout v2,Contract Sent,2026-10-31 00:00,50000",
    )
    batch = _upload(setup["alice"], "deals", updated)
    assert _rows(batch)[0] == (
        "Borealis - rollout v2",
        "updated",
        "Will update Borealis - rollout (HubSpot 7001): amount, expected_close, name. "
        "Its stage stays Proposal: move it on its page.",
    )
    assert _rows(batch)[1][1] == "duplicate"
    services.import_batch_confirm(batch=batch, by=setup["alice"])
    assert Opportunity.objects.count() == 2
    rollout.refresh_from_db()
    assert (rollout.name, rollout.amount, rollout.expected_close, rollout.stage.name) == (
        "Borealis - rollout v2",
        50000,
        datetime.date(2026, 10, 31),
        "Proposal",
    )
    assert rollout.history.first().history_user == setup["alice"]


def test_a_merge_keeps_the_ids_of_both_records_on_the_survivor(setup):
    survivor = factories.AccountFactory(name="Cedar Health", owner=setup["alice"])
    loser = factories.AccountFactory(name="Cedar Health Clinics", owner=setup["alice"])
    factories.ExternalIdFactory(external_id="1", record=survivor)
    factories.ExternalIdFactory(source="salesforce", external_id="001A", record=loser)
    preview = account_services.merge_preview(record=loser, into=survivor, by=setup["admin"])
    assert {"label": "external id", "count": 1, "key": "csvio.ExternalId.object_id"} in preview["moves"]

    log = account_services.account_merge(account=loser, into=survivor, by=setup["admin"])

    assert sorted(str(e) for e in survivor.external_ids.all()) == ["HubSpot id 1", "Salesforce id 001A"]
    assert log.moved["csvio.ExternalId.object_id"] == 1
    # The next Salesforce import finds the survivor by the merged record's id.
    assert external_ids.external_ids_find(model=Account, source="salesforce", ids={"001A"}) == {"001A": survivor.pk}


def test_a_contact_merge_keeps_his_ids(setup):
    account = factories.AccountFactory(owner=setup["alice"])
    survivor, loser = factories.person_at(account), factories.ContactFactory()
    factories.ExternalIdFactory(external_id="52", record=loser)
    account_services.contact_merge(contact=loser, into=survivor, by=setup["admin"])
    assert [e.external_id for e in survivor.external_ids.all()] == ["52"]


def test_a_deleted_record_takes_its_ids_with_it(setup):
    account = factories.AccountFactory()
    factories.ExternalIdFactory(record=account)
    account.delete()
    assert not ExternalId.objects.exists()


def test_the_api_shows_the_ids_and_filters_by_them(token_client, rep, other_rep, stages):
    from django.urls import reverse

    client = token_client(rep)
    account = factories.AccountFactory(owner=rep)
    factories.ExternalIdFactory(external_id="123", record=account)
    factories.ExternalIdFactory(source="salesforce", external_id="123", record=factories.AccountFactory(owner=rep))
    hidden = factories.AccountFactory(owner=other_rep)
    factories.ExternalIdFactory(external_id="999", record=hidden)
    contact = factories.person_at(account)
    factories.ExternalIdFactory(external_id="52", record=contact)
    deal = factories.OpportunityFactory(account=account)
    factories.ExternalIdFactory(source="salesforce", external_id="006X", record=deal)

    data = client.get(reverse("api:account-detail", args=[account.pk])).json()
    assert data["external_ids"] == [{"source": "hubspot", "external_id": "123"}]
    found = client.get(reverse("api:account-list"), {"external_id": "123", "source": "hubspot"}).json()
    assert [a["id"] for a in found["results"]] == [account.pk]
    assert client.get(reverse("api:account-list"), {"external_id": "123"}).json()["count"] == 2
    # Another team's account is not found by its id either.
    assert client.get(reverse("api:account-list"), {"external_id": "999"}).json()["count"] == 0
    contacts = client.get(reverse("api:contact-list"), {"external_id": "52"}).json()["results"]
    assert [(c["id"], c["external_ids"]) for c in contacts] == [
        (contact.pk, [{"source": "hubspot", "external_id": "52"}])
    ]
    deals = client.get(reverse("api:opportunity-list"), {"source": "salesforce"}).json()["results"]
    assert [d["id"] for d in deals] == [deal.pk]
    assert client.get(reverse("api:account-list"), {"source": "nowhere"}).status_code == 400

    # Read-only: sent back unchanged it is accepted (GET-modify-PUT), changed it is refused.
    url = reverse("api:account-detail", args=[account.pk])
    assert client.patch(url, {"notes": "x", "external_ids": data["external_ids"]}, format="json").status_code == 200
    response = client.patch(url, {"external_ids": [{"source": "hubspot", "external_id": "1"}]}, format="json")
    assert response.status_code == 400
    assert response.json()["fields"]["external_ids"] == ["This field cannot be set here."]
    assert [e.external_id for e in account.external_ids.all()] == ["123"]


def test_the_record_pages_and_the_admin_show_the_ids_small(client, rep, admin_user, stages):
    from django.urls import reverse

    account = factories.AccountFactory(owner=rep)
    factories.ExternalIdFactory(external_id="123", record=account)
    factories.ExternalIdFactory(source="salesforce", external_id="001A", record=account)
    contact = factories.person_at(account)
    factories.ExternalIdFactory(external_id="52", record=contact)
    deal = factories.OpportunityFactory(account=account)
    factories.ExternalIdFactory(source="salesforce", external_id="006X", record=deal)
    bare = factories.AccountFactory(owner=rep)

    client.force_login(rep)
    for record, shown in (
        (account, "HubSpot id 123 · Salesforce id 001A"),
        (contact, "HubSpot id 52"),
        (deal, "Salesforce id 006X"),
    ):
        html = client.get(record.get_absolute_url()).content.decode()
        assert f'data-testid="external-ids"><span class="visually-hidden">Imported from: </span>{shown}</p>' in html
    assert 'data-testid="external-ids"' not in client.get(bare.get_absolute_url()).content.decode()

    client.force_login(admin_user)
    for name, record, shown in (
        ("accounts_account", account, "HubSpot id 123, Salesforce id 001A"),
        ("accounts_contact", contact, "HubSpot id 52"),
        ("pipeline_opportunity", deal, "Salesforce id 006X"),
    ):
        response = client.get(reverse(f"admin:{name}_change", args=[record.pk]))
        assert response.status_code == 200
        assert shown in response.content.decode()


@time_machine.travel("2026-06-15 10:00 +00:00")
def test_salesforce_data_loader_opportunities_link_by_account_id(setup):
    factories.default_stages()
    for name, sf_id in (("Evergreen Foods", "0015g00000Z9yXwAAB"), ("Fjord Insurance", "0015g00000Z9yXxAAB")):
        account = factories.AccountFactory(name=name, owner=setup["alice"])
        factories.ExternalIdFactory(source="salesforce", external_id=sf_id, record=account)
    # Renamed in Salesforce since the accounts were imported: the AccountId still links them.
    text = _fixture("salesforce-opportunities-dataloader.csv").replace('"Evergreen Foods"', '"Evergreen Foods SAS"')
    batch = _upload(setup["admin"], "deals", text)
    assert batch.report["mapping"]["AccountId"] == "account_external_id"
    assert batch.report["ok"], batch.report["rows"]
    services.import_batch_confirm(batch=batch, by=setup["admin"])
    deal = Opportunity.objects.get(name="Evergreen - loyalty analytics")
    assert deal.account.name == "Evergreen Foods"
    assert [(e.source, e.external_id) for e in deal.external_ids.all()] == [("salesforce", "0065g00000B2cDeAAF")]


def test_a_bad_id_cell_is_its_rows_error(setup):
    text = f"name,region,industry,external_id\nAcme,North,Retail,{'9' * 101}\nBeta,North,Retail,7\n"
    batch = _upload(setup["admin"], "accounts", text)
    assert [(r["outcome"], r["column"]) for r in batch.report["rows"]] == [("error", "external_id"), ("created", "")]
    assert "at most 100 characters" in batch.report["rows"][0]["detail"]
    # A file in this project's own columns gives ids of an "other" system.
    assert batch.report["rows"][1]["detail"] == "Will create (Other system 7)."
