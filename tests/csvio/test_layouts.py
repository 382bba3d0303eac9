"""Files with the exact header rows of HubSpot and Salesforce exports: proposed mapping, values, import."""

from pathlib import Path

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import call_command

from accounts.importers import AccountImporter
from accounts.models import Account, Contact, Employment, Region
from csvio import importers, layouts, services
from csvio.forms import ImportMappingForm
from csvio.models import ImportMapping
from tests import factories

FIXTURES = Path(__file__).parent / "fixtures"
# The regions of the team, onto which the exports' countries are mapped on the value step.
COUNTRY_REGIONS = {"Germany": "North", "Norway": "North", "United States": "West", "United Kingdom": "West"}


@pytest.fixture
def setup(db):
    regions = {name: factories.RegionFactory(name=name) for name in ("North", "East", "West")}
    for name in ("Finance", "Healthcare", "Manufacturing", "Retail"):
        factories.IndustryFactory(name=name)
    admin = factories.AdminFactory(username="admin")
    alice = factories.RepFactory(username="alice", first_name="Alice", last_name="Rep", email="alice@crm.example")
    return {"admin": admin, "alice": alice, "regions": regions}


def _upload(user, kind, name, **kwargs):
    data = (FIXTURES / name).read_bytes()
    return services.import_batch_create(by=user, kind=kind, filename=name, data=data, **kwargs)


def _map(batch, user, *, values=None, defaults=None, save_as=""):
    return services.import_batch_map(
        batch=batch,
        by=user,
        columns=batch.report["mapping"],
        defaults=defaults if defaults is not None else batch.report["defaults"],
        values=values or {},
        save_as=save_as,
    )


def _accounts(setup):
    """The accounts the contact files name, as the companies files would have created them."""
    for name in ("Borealis Bank", "Cedar Health", "Pioneer Steel", "Evergreen Foods", "Fjord Insurance"):
        factories.AccountFactory(name=name, owner=setup["alice"], region=setup["regions"]["North"])


def test_hubspot_companies_map_by_header_and_values_by_synonym(setup):
    batch = _upload(setup["admin"], "accounts", "hubspot-companies.csv")
    report = batch.report
    assert report["layout"] == "hubspot-companies"
    assert report["mapping"] == {
        "Record ID": "external_id",
        "Company name": "name",
        "Company owner": "owner",
        "Create Date": "",
        "Phone Number": "",
        "Last Activity Date": "",
        "City": "",
        "Country/Region": "region",
        "Industry": "industry",
        "Number of Employees": "size_tier",
        "Annual Revenue": "",
        "Company Domain Name": "",
        "Lifecycle Stage": "",
    }
    # Industry values by synonym (BANKING → Finance); countries are not regions: shown unmatched, not dropped.
    industry = {v["value"]: v["match"] for v in report["values"]["industry"]["found"]}
    assert industry == {"BANKING": "Finance", "Hospital & Health Care": "Healthcare", "Machinery": "Manufacturing"}
    region = {v["value"]: v["match"] for v in report["values"]["region"]["found"]}
    assert region == {"Germany": "", "United Kingdom": "", "United States": ""}
    owner = {v["value"]: v["match"] for v in report["values"]["owner"]["found"]}
    assert owner == {"Alice Rep": "alice"}
    assert {r["column"] for r in report["rows"]} == {"region"}
    assert not report["ok"]

    batch = _map(batch, setup["admin"], values={"region": COUNTRY_REGIONS}, save_as="HubSpot companies")
    assert batch.report["ok"], batch.report
    services.import_batch_confirm(batch=batch, by=setup["admin"])
    bank = Account.objects.get(name="Borealis Bank")
    assert (bank.region.name, bank.industry.name, bank.size_tier, bank.owner) == (
        "North",
        "Finance",
        "key",
        setup["alice"],
    )
    assert Account.objects.get(name="Pioneer Steel").size_tier == "small"
    assert ImportMapping.objects.get().values == {"region": COUNTRY_REGIONS}


def test_a_saved_mapping_imports_the_next_export_from_the_command(setup, tmp_path):
    batch = _upload(setup["admin"], "accounts", "hubspot-companies.csv")
    _map(batch, setup["admin"], values={"region": COUNTRY_REGIONS}, save_as="HubSpot companies")
    call_command(
        "import_csv", "accounts", str(FIXTURES / "hubspot-companies.csv"), "--mapping", "HubSpot companies", "--commit"
    )
    assert Account.objects.count() == 3


def test_salesforce_accounts_report_maps_and_a_default_region_fills_every_row(setup):
    batch = _upload(setup["admin"], "accounts", "salesforce-accounts-report.csv")
    assert batch.report["layout"] == "salesforce-accounts-report"
    assert batch.report["mapping"]["Billing Country"] == "region"
    # The user reads the region from nowhere: one region for every row.
    columns = {**batch.report["mapping"], "Billing Country": ""}
    batch = services.import_batch_map(
        batch=batch, by=setup["admin"], columns=columns, defaults={"region": "East"}, values={}
    )
    assert batch.report["ok"], batch.report
    services.import_batch_confirm(batch=batch, by=setup["admin"])
    foods = Account.objects.get(name="Evergreen Foods")
    assert (foods.region.name, foods.industry.name, foods.size_tier) == ("East", "Retail", "key")
    assert Account.objects.get(name="Fjord Insurance").industry.name == "Finance"


@time_machine.travel("2026-03-02 10:00 +00:00")
def test_hubspot_contacts_import_with_the_proposed_mapping(setup):
    _accounts(setup)
    batch = _upload(setup["alice"], "contacts", "hubspot-contacts.csv")
    assert batch.report["layout"] == "hubspot-contacts"
    assert batch.report["defaults"] == {"start_date": "2026-03-02"}
    assert batch.report["ok"], batch.report
    services.import_batch_confirm(batch=batch, by=setup["alice"])
    ingrid = Contact.objects.get(email="ingrid.larsen@borealis-bank.example")
    assert ingrid.phone == "+49 30 5550111"
    position = ingrid.employments.get()
    assert (position.account.name, position.title, str(position.start_date)) == (
        "Borealis Bank",
        "Head of Procurement",
        "2026-03-02",
    )
    assert Contact.objects.get(last_name="García").first_name == "Tomás"
    assert Contact.objects.count() == 3


def test_salesforce_contacts_report_maps_departments_to_functions(setup):
    _accounts(setup)
    batch = _upload(setup["alice"], "contacts", "salesforce-contacts-report.csv")
    assert batch.report["layout"] == "salesforce-contacts-report"
    functions = {v["value"]: v["match"] for v in batch.report["values"]["function"]["found"]}
    assert functions == {"Finance": "Finance", "Information Technology": "IT"}
    assert batch.report["ok"], batch.report
    services.import_batch_confirm(batch=batch, by=setup["alice"])
    assert Employment.objects.get(contact__last_name="Nordmann").function == Employment.Function.IT


def test_salesforce_data_loader_contacts_map_by_api_names(setup):
    _accounts(setup)
    batch = _upload(setup["alice"], "contacts", "salesforce-contacts-dataloader.csv")
    assert batch.report["layout"] == "salesforce-contacts-api"
    assert batch.report["mapping"]["Account.Name"] == "account"
    assert batch.report["mapping"]["AccountId"] == "account_external_id"
    assert batch.report["ok"], batch.report
    services.import_batch_confirm(batch=batch, by=setup["alice"])
    kari = Employment.objects.select_related("contact", "account").get(contact__last_name="Hansen")
    assert (kari.account.name, kari.function) == ("Fjord Insurance", Employment.Function.EXECUTIVE)
    assert Employment.objects.get(contact__last_name="Moreau").function == Employment.Function.PROCUREMENT


def test_own_export_columns_win_over_a_layout(setup):
    key, mapping = layouts.propose(
        __import__("accounts.importers", fromlist=["x"]).AccountImporter(user=setup["admin"]),
        ["name", "region", "industry", "Industry"],
    )
    assert key == layouts.OWN
    assert mapping == {"name": "name", "region": "region", "industry": "industry", "Industry": ""}


def test_an_unmatched_value_is_an_error_until_mapped_never_dropped(setup):
    text = "name,region,industry\nAcme,Nordics,Retail\n"
    batch = services.import_batch_create(by=setup["admin"], kind="accounts", filename="a.csv", data=text.encode())
    assert [(r["outcome"], r["column"]) for r in batch.report["rows"]] == [("error", "region")]
    assert batch.report["values"]["region"]["found"] == [{"value": "Nordics", "rows": 1, "match": ""}]
    batch = _map(batch, setup["admin"], values={"region": {"Nordics": "North"}})
    assert batch.report["ok"]


def test_an_admin_adds_a_missing_list_value_from_the_mapping_step(setup):
    text = "name,region,industry\nAcme,Nordics,Retail\nBirch,nordics,Retail\n"
    batch = services.import_batch_create(by=setup["admin"], kind="accounts", filename="a.csv", data=text.encode())
    form = ImportMappingForm(batch=batch, importer=AccountImporter, user=setup["admin"])
    cell = next(name for name, (column, _value) in form.value_cells.items() if column == "region")
    assert importers.NEW_VALUE in dict(form.fields[cell].choices)
    batch = _map(batch, setup["admin"], values={"region": {"Nordics": importers.NEW_VALUE}})
    assert batch.report["ok"], batch.report
    assert list(Region.objects.filter(name__iexact="nordics").values_list("name", flat=True)) == ["Nordics"]
    assert batch.values == {"region": {"Nordics": "Nordics"}}


def test_a_rep_cannot_add_a_list_value_and_nothing_is_created(setup):
    text = "name,region,industry\nAcme,Nordics,Retail\n"
    batch = services.import_batch_create(by=setup["alice"], kind="accounts", filename="a.csv", data=text.encode())
    form = ImportMappingForm(batch=batch, importer=AccountImporter, user=setup["alice"])
    assert all(importers.NEW_VALUE not in dict(form.fields[name].choices) for name in form.value_cells)
    with pytest.raises(ValidationError, match="Only an admin can add a region"):
        _map(batch, setup["alice"], values={"region": {"Nordics": importers.NEW_VALUE}})
    theirs = services.import_batch_create(by=setup["admin"], kind="accounts", filename="a.csv", data=text.encode())
    with pytest.raises(ValidationError, match="cannot be created here"):
        _map(theirs, setup["admin"], values={"size_tier": {"Huge": importers.NEW_VALUE}})
    assert not Region.objects.filter(name="Nordics").exists()


def test_values_match_case_and_accents_aside(setup):
    factories.RegionFactory(name="Île-de-France")
    text = "name,region,industry\nAcme,ILE DE FRANCE,retail\n"
    batch = services.import_batch_create(by=setup["admin"], kind="accounts", filename="a.csv", data=text.encode())
    assert batch.report["ok"], batch.report
