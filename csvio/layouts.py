"""Built-in column layouts of the exports teams arrive with (HubSpot, Salesforce) and their detection.

A layout maps the header names of one export to the columns of one import kind. Uploading a
file proposes the layout whose headers the file matches best (or this project's own columns);
the user can change any column on the mapping step, and save the result as a named mapping.
Header names are compared as `normalise_header` makes them (case, spaces, `-` and `_`), so
`Account.Name`, `account.name` and `Account Name` are told apart only where the exports do.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


def normalise_header(name: str) -> str:
    return "_".join(name.strip().strip("\ufeff").casefold().replace("-", " ").replace("_", " ").split())


@dataclass(frozen=True)
class Layout:
    key: str
    label: str
    kind: str
    # Export header → import column; headers not named here are proposed as *ignore*.
    columns: dict[str, str]

    def target(self, header: str) -> str | None:
        return self._normalised().get(normalise_header(header))

    def _normalised(self) -> dict[str, str]:
        return {normalise_header(name): column for name, column in self.columns.items()}


LAYOUTS = [
    Layout(
        "hubspot-companies",
        _("HubSpot companies export"),
        "accounts",
        {
            "Record ID": "external_id",
            "Company name": "name",
            "Company owner": "owner",
            "Industry": "industry",
            "Country/Region": "region",
            "Number of Employees": "size_tier",
            "Description": "notes",
        },
    ),
    Layout(
        "salesforce-accounts-report",
        _("Salesforce accounts report"),
        "accounts",
        {
            "Account ID": "external_id",
            "Account Name": "name",
            "Account Owner": "owner",
            "Industry": "industry",
            "Billing Country": "region",
            "Employees": "size_tier",
            "Description": "notes",
        },
    ),
    Layout(
        "salesforce-accounts-api",
        _("Salesforce accounts (Data Loader)"),
        "accounts",
        {
            "Id": "external_id",
            "Name": "name",
            "Owner.Email": "owner",
            "Industry": "industry",
            "BillingCountry": "region",
            "NumberOfEmployees": "size_tier",
            "Description": "notes",
        },
    ),
    Layout(
        "hubspot-contacts",
        _("HubSpot contacts export"),
        "contacts",
        {
            "Record ID": "external_id",
            "First Name": "first_name",
            "Last Name": "last_name",
            "Email": "email",
            "Phone Number": "phone",
            "Company Name": "account",
            "Job Title": "title",
            "Associated Company IDs": "account_external_id",
            "Company ID": "account_external_id",
        },
    ),
    Layout(
        "salesforce-contacts-report",
        _("Salesforce contacts report"),
        "contacts",
        {
            "Contact ID": "external_id",
            "Account ID": "account_external_id",
            "First Name": "first_name",
            "Last Name": "last_name",
            "Email": "email",
            "Phone": "phone",
            "Account Name": "account",
            "Title": "title",
            "Department": "function",
            "Description": "notes",
        },
    ),
    Layout(
        "salesforce-contacts-api",
        _("Salesforce contacts (Data Loader)"),
        "contacts",
        {
            "Id": "external_id",
            "FirstName": "first_name",
            "LastName": "last_name",
            "Email": "email",
            "Phone": "phone",
            "Account.Name": "account",
            "Title": "title",
            "AccountId": "account_external_id",
            "Department": "function",
            "Description": "notes",
        },
    ),
    Layout(
        "hubspot-deals",
        _("HubSpot deals export"),
        "deals",
        {
            "Record ID": "external_id",
            "Deal Name": "name",
            "Associated Company": "account",
            "Associated Company IDs": "account_external_id",
            "Company ID": "account_external_id",
            "Amount": "amount",
            "Currency": "currency",
            "Deal Stage": "stage",
            "Deal owner": "owner",
            "Close Date": "expected_close",
            "Create Date": "created_at",
        },
    ),
    Layout(
        "salesforce-opportunities-report",
        _("Salesforce opportunities report"),
        "deals",
        {
            "Opportunity ID": "external_id",
            "Account ID": "account_external_id",
            "Opportunity Name": "name",
            "Account Name": "account",
            "Amount": "amount",
            "Opportunity Currency": "currency",
            "Stage": "stage",
            "Opportunity Owner": "owner",
            "Close Date": "expected_close",
            "Created Date": "created_at",
        },
    ),
    Layout(
        "salesforce-opportunities-api",
        _("Salesforce opportunities (Data Loader)"),
        "deals",
        {
            "Id": "external_id",
            "Name": "name",
            "Account.Name": "account",
            "Amount": "amount",
            "AccountId": "account_external_id",
            "CurrencyIsoCode": "currency",
            "StageName": "stage",
            "Owner.Email": "owner",
            "CloseDate": "expected_close",
            "CreatedDate": "created_at",
        },
    ),
]
BY_KEY = {layout.key: layout for layout in LAYOUTS}
OWN = "own"


def own_target(importer, header: str) -> str | None:
    """The column a header names in this project's own files (its export, its documented aliases)."""
    name = normalise_header(header)
    name = importer.aliases.get(name, name)
    return name if name in importer.columns else None


def propose(importer, headers: list[str]) -> tuple[str, dict[str, str]]:
    """(layout key, header → column or "") the file's headers match best; own columns when nothing fits better."""
    own = {h: own_target(importer, h) or "" for h in headers}
    best_key, best, best_score = OWN, own, sum(1 for column in own.values() if column)
    for layout in LAYOUTS:
        if layout.kind != importer.kind:
            continue
        proposed = {h: _usable(importer, layout.target(h)) for h in headers}
        score = sum(1 for column in proposed.values() if column)
        if score > best_score:
            best_key, best, best_score = layout.key, proposed, score
    return best_key, _first_wins(best)


def _usable(importer, column: str | None) -> str:
    return column if column and column in importer.columns else ""


def _first_wins(mapping: dict[str, str]) -> dict[str, str]:
    """Two file columns for one target: the first is read, the others are proposed as ignored."""
    seen, result = set(), {}
    for header, column in mapping.items():
        result[header] = "" if column in seen else column
        if column:
            seen.add(column)
    return result
