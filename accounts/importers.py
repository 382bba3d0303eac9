"""CSV importers for accounts and for contacts with their current position.

Each row is checked against what is already in CoachCRM (loaded in bulk by `prepare`) and
written through the same services as the pages: deduplication by normalised account name and
by contact e-mail holds here too.
"""

import re
from functools import partial

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

import access
from accounts import services
from accounts.models import Account, Contact, Employment, Industry, ProductLine, Region, normalize_company_name
from csvio import external_ids
from csvio.importers import CREATED, DUPLICATE, UPDATED, Importer, Plan, RowError, choice_names, chunks, fold
from team.models import User


def _by_name(model) -> dict:
    return {fold(obj.name): obj for obj in model.objects.all()}


def _syn(**lists: tuple[str, ...]) -> dict[str, str]:
    """{folded synonym: name} from name → synonyms (the names of the CRM exports' picklists)."""
    return {fold(synonym): name.replace("_", " ") for name, synonyms in lists.items() for synonym in synonyms}


# The industries of HubSpot's and Salesforce's picklists, onto the usual names of an industry list.
# A synonym only applies when its name is in CoachCRM's list; else the value is left to the user.
INDUSTRY_SYNONYMS = _syn(
    Finance=(
        "Banking", "Financial Services", "Insurance", "Investment Banking", "Capital Markets",
        "Investment Management", "Accounting", "Venture Capital & Private Equity", "Financial",
    ),
    Healthcare=(
        "Hospital & Health Care", "Health Care", "Health, Wellness and Fitness", "Medical Devices",
        "Medical Practice", "Pharmaceuticals", "Biotechnology", "Mental Health Care", "Hospital and Health Care",
    ),
    Retail=("Consumer Goods", "Apparel & Fashion", "Apparel", "Supermarkets", "Consumer Electronics", "Wholesale"),
    Manufacturing=(
        "Machinery", "Industrial Automation", "Automotive", "Electrical/Electronic Manufacturing",
        "Mechanical or Industrial Engineering", "Chemicals", "Plastics", "Electronics", "Engineering",
    ),
    Technology=(
        "Computer Software", "Information Technology and Services", "Internet", "Computer Hardware", "Software",
    ),
)  # fmt: skip
FUNCTION_SYNONYMS = _syn(
    hr=("Human Resources", "People", "Personnel", "Talent"),
    it=("Information Technology", "Technology", "Engineering", "IT Services"),
    finance=("Accounting", "Controlling", "Treasury"),
    procurement=("Purchasing", "Buying", "Sourcing", "Supply Chain"),
    operations=("Ops", "Logistics", "Production"),
    executive=("Management", "Board", "C-Level", "Executive Management", "Leadership"),
)


def _changes(instance, wanted: dict) -> dict:
    return {f: v for f, v in wanted.items() if v not in (None, "") and getattr(instance, f) != v}


class AccountImporter(Importer):
    kind = "accounts"
    label = gettext_lazy("Accounts")
    list_url_name = "accounts:account-list"
    columns = ("name", "region", "industry", "size_tier", "product_lines", "owner", "notes", "external_id")
    required = frozenset({"name", "region", "industry"})
    aliases = {"account": "name", "company": "name", "size": "size_tier", "product_line": "product_lines"}
    synonyms = {"industry": INDUSTRY_SYNONYMS}
    multi_value_columns = frozenset({"product_lines"})
    creatable_columns = frozenset({"region", "industry", "product_lines"})

    def value_create(self, column, name):
        model = {"region": Region, "industry": Industry, "product_lines": ProductLine}[column]
        return services.lookup_create(model=model, name=name, by=self.user).name

    def prepare(self, rows):
        self.regions, self.industries, self.lines = _by_name(Region), _by_name(Industry), _by_name(ProductLine)
        owners = User.objects.active() if self.user.is_admin else User.objects.active().team_of(self.user)
        self.owners = owner_keys(owners)
        names = {normalize_company_name(row.get("name", "")) for row in rows} - {""}
        self.existing, self.visible = {}, set()
        for chunk in chunks(names):
            # Region and industry joined: `plan` compares them with the file's (two queries a row otherwise).
            found = (
                Account.objects.filter(normalized_name__in=chunk)
                .select_related("owner", "region", "industry")
                .prefetch_related("product_lines")
            )
            self.existing.update({a.normalized_name: a for a in found})
            visible = access.accounts(self.user).filter(normalized_name__in=chunk)
            self.visible.update(visible.values_list("pk", flat=True))
        # A second import of the same export: its ids name the accounts, renamed or not.
        self.by_external, _hidden = external_ids.external_ids_records(
            queryset=Account.objects.select_related("owner", "region", "industry").prefetch_related("product_lines"),
            source=self.source,
            ids=self.external_ids_of(rows),
        )
        for chunk in chunks({a.pk for a in self.by_external.values()}):
            visible = access.accounts(self.user).filter(pk__in=chunk)
            self.visible.update(visible.values_list("pk", flat=True))
        self.seen_external: dict[str, str] = {}

    def value_choices(self):
        tables = {"region": self.regions, "industry": self.industries, "product_lines": self.lines}
        choices = {column: {key: obj.name for key, obj in table.items()} for column, table in tables.items()}
        choices["size_tier"] = choice_names(Account.SizeTier)
        if not self.user.is_rep:
            choices["owner"] = {key: user.username for key, user in self.owners.items()}
        return choices

    def match(self, column, value, known):
        if column == "size_tier" and value.replace(",", "").replace(" ", "").isdigit():
            return str(Account.SizeTier(self._size_tier({"size_tier": value})).label)
        return super().match(column, value, known)

    def _size_tier(self, row: dict) -> str:
        value = row.get("size_tier", "").replace(",", "").replace(" ", "")
        # HubSpot and Salesforce export the number of employees, not a tier.
        if value.isdigit():
            employees = int(value)
            if employees >= 1000:
                return Account.SizeTier.KEY
            return Account.SizeTier.MID if employees >= 100 else Account.SizeTier.SMALL
        return self.choice(row, "size_tier", Account.SizeTier, "")

    def plan(self, row):
        name = self.fitting(Account, "name", self.required_value(row, "name"))
        key = normalize_company_name(name)
        if not key:
            raise RowError("name", _("Enter a company name."))
        fields = {
            "region": self.lookup(row, "region", self.regions),
            "industry": self.lookup(row, "industry", self.industries),
            "size_tier": self._size_tier(row),
            "notes": row.get("notes", ""),
        }
        line_names = [n for n in re.split(r"[|,;]", row.get("product_lines", "")) if n.strip()]
        product_lines = [self.lookup({"product_lines": n}, "product_lines", self.lines) for n in line_names]
        # A rep's accounts are his own: an owner column is ignored for him, as in the API.
        owner = None if self.user.is_rep else self.lookup(row, "owner", self.owners, required=False)
        external_id = self.external_id(row)
        if external_id and self.seen_external.setdefault(external_id, key) != key:
            raise RowError(
                "external_id",
                _("%(id)s is on another row of the file, for another name.") % {"id": self.external_label(external_id)},
            )
        existing = self.by_external.get(external_id)
        linked = existing is not None
        if existing is None:
            existing = self.existing.get(key)
        if existing is None:
            create = {f: v for f, v in fields.items() if v}
            return Plan(
                CREATED,
                key,
                create={
                    "name": name,
                    "owner": owner,
                    "product_lines": product_lines,
                    **create,
                    "external_id": external_id,
                },
                detail=self.will_create(external_id),
            )
        if existing.pk not in self.visible:
            raise RowError("name", _("An account named %(name)s already exists in another team.") % {"name": existing})
        if linked and name != existing.name:
            # Renamed in the other CRM since the last import.
            other = self.existing.get(normalize_company_name(name))
            if other is not None and other.pk != existing.pk:
                raise RowError(
                    "name",
                    _("%(id)s is %(account)s here, and another account is named %(name)s: merge the two first.")
                    % {"id": self.external_label(external_id), "account": existing, "name": name},
                )
            fields["name"] = name
        changes = _changes(existing, {**fields, "owner": owner})
        if "owner" in changes:
            # A change of hands needs a reason for the account's history (account_reassign): the
            # Reassign page asks for it; a file cannot, so it is refused here, in the dry run.
            raise RowError(
                "owner",
                _("%(name)s belongs to %(owner)s: change its owner with Reassign on the account's page.")
                % {"name": existing, "owner": existing.owner},
            )
        if product_lines and set(product_lines) != set(existing.product_lines.all()):
            changes["product_lines"] = product_lines
        link = external_id if external_id and not linked else ""
        if not changes and not link:
            return Plan(DUPLICATE, key, detail=_nothing_to_change(existing, self, external_id))
        return Plan(
            UPDATED,
            key,
            partial(self._update, account=existing, changes=changes, link=link),
            detail=self.will_update(existing, external_id, [*changes, *([_("external id")] if link else [])]),
        )

    def _update(self, *, account, changes, link):
        if changes:
            account._history_user = self.user
            services.account_update(account=account, by=self.user, **changes)
        if link:
            external_ids.external_ids_add(source=self.source, records=[(account, link)])

    def create_many(self, creates):
        ids = [create.get("external_id", "") for create in creates]
        rows = [{k: v for k, v in create.items() if k != "external_id"} for create in creates]
        accounts = services.accounts_create_many(by=self.user, rows=rows)
        external_ids.external_ids_add(source=self.source, records=list(zip(accounts, ids, strict=True)))


def _nothing_to_change(record, importer: Importer, external_id: str) -> str:
    if external_id:
        return _("Already in CoachCRM as %(name)s (%(id)s); nothing to change.") % {
            "name": record,
            "id": importer.external_label(external_id),
        }
    return _("Already in CoachCRM as %(name)s; nothing to change.") % {"name": record}


def owner_keys(users) -> dict:
    """A user by user name, e-mail or full name, folded: the other CRM names owners so."""
    keys = {}
    for user in users:
        for name in (user.get_full_name(), user.email, user.username):
            if name:
                keys[fold(name)] = user
    return keys


class ContactImporter(Importer):
    kind = "contacts"
    label = gettext_lazy("Contacts with their current position")
    list_url_name = "accounts:contact-list"
    columns = (
        "email",
        "first_name",
        "last_name",
        "phone",
        "account",
        "title",
        "function",
        "seniority",
        "start_date",
        "end_date",
        "notes",
        "external_id",
        # The account's id in the same system (HubSpot "Associated Company IDs", Salesforce "AccountId").
        "account_external_id",
    )
    required = frozenset({"first_name", "last_name", "account", "title", "start_date"})
    aliases = {"e_mail": "email", "company": "account", "account_name": "account", "position": "title"}
    synonyms = {"function": FUNCTION_SYNONYMS}

    def proposed_defaults(self):
        # Other CRMs do not know when someone took his position: "unknown, today" unless told.
        return {"start_date": timezone.localdate().isoformat()}

    def value_choices(self):
        return {"function": choice_names(Employment.Function), "seniority": choice_names(Employment.Seniority)}

    def row_label(self, row):
        return f"{row.get('first_name', '')} {row.get('last_name', '')}".strip()

    def prepare(self, rows):
        accounts_by_name(self, rows)
        self.accounts_by_external = accounts_by_external_id(self, rows)
        emails = {row.get("email", "").lower() for row in rows} - {""}
        self.existing, self.visible = {}, set()
        for chunk in chunks(emails):
            found = Contact.objects.with_email_key().filter(email_key__in=chunk).order_by()
            self.existing.update({c.email_key: c for c in found.prefetch_related("employments__account")})
        # A second import of the same export: its ids name the people, whatever their e-mail now.
        self.by_external, _hidden = external_ids.external_ids_records(
            queryset=Contact.objects.prefetch_related("employments__account"),
            source=self.source,
            ids=self.external_ids_of(rows),
        )
        self.seen_external: dict[str, str] = {}
        people = {c.pk for c in self.existing.values()} | {c.pk for c in self.by_external.values()}
        # Visibility only of the people found, by id: a file of new people costs no visibility
        # query, and an id list is cheaper for PostgreSQL than the lookup again as a subquery.
        for chunk in chunks(people):
            self.visible.update(access.contacts(self.user).filter(pk__in=chunk).values_list("pk", flat=True))

    def plan(self, row):
        first_name = self.required_value(row, "first_name")
        last_name = self.required_value(row, "last_name")
        email = row.get("email", "").lower()
        if email:
            try:
                validate_email(email)
            except ValidationError:
                raise RowError("email", _("%(value)s is not an e-mail address.") % {"value": email}) from None
            self.fitting(Contact, "email", email)
        account = row_account(self, row)
        position = {
            "account": account,
            "title": self.fitting(Employment, "title", self.required_value(row, "title")),
            "function": self.choice(row, "function", Employment.Function, Employment.Function.OTHER),
            "seniority": self.choice(row, "seniority", Employment.Seniority, Employment.Seniority.STAFF),
            "start_date": self.date(row, "start_date", past=True),
        }
        person = {
            "first_name": self.fitting(Contact, "first_name", first_name),
            "last_name": self.fitting(Contact, "last_name", last_name),
            "phone": self.fitting(Contact, "phone", row.get("phone", "")),
            "notes": row.get("notes", ""),
        }
        key = email or f"{first_name}|{last_name}|{account.pk}".casefold()
        external_id = self.external_id(row)
        if external_id and self.seen_external.setdefault(external_id, key) != key:
            raise RowError(
                "external_id",
                _("%(id)s is on another row of the file, for another person.")
                % {"id": self.external_label(external_id)},
            )
        existing = self.by_external.get(external_id)
        linked = existing is not None
        if linked and email and email != (existing.email or "").lower():
            # His e-mail changed in the other CRM since the last import.
            person["email"] = email
        if existing is None:
            existing = self.existing.get(email) if email else None
        # An end date ends a known person's current position there (and his coach record with it).
        end_date = self.date(row, "end_date", required=False)
        if existing is None:
            if end_date is not None:
                raise RowError("end_date", _("A new person comes with his current position; leave the end date empty."))
            return Plan(
                CREATED,
                key,
                create={"email": email, **person, **position, "external_id": external_id},
                detail=self.will_create(external_id),
            )
        if existing.pk not in self.visible:
            raise RowError("email", _("A contact with this e-mail already exists in another team."))
        current = next((e for e in existing.employments.all() if e.end_date is None), None)
        if current is not None and current.account_id != account.pk:
            raise RowError(
                "account",
                _("%(name)s currently works at %(account)s; record the job change on his page first.")
                % {"name": existing, "account": current.account},
            )
        changes = _changes(existing, person)
        if end_date is not None and current is None:
            raise RowError("end_date", _("%(name)s has no current position to end.") % {"name": existing})
        link = external_id if external_id and not linked else ""
        if not changes and current is not None and end_date is None and not link:
            return Plan(DUPLICATE, key, detail=_nothing_to_change(existing, self, external_id))
        update = {"contact": existing, "fields": changes, "position": None if current else position}
        if end_date is not None:
            update["end_position"] = {"employment": current, "end_date": end_date}
        fields = [*changes, *([] if current else ["position"]), *(["end_date"] if end_date else [])]
        if link:
            update["external_id"] = link
            fields.append(_("external id"))
        return Plan(UPDATED, key, update=update, detail=self.will_update(existing, external_id, fields))

    def create_many(self, creates):
        ids = [create.get("external_id", "") for create in creates]
        rows = [{k: v for k, v in create.items() if k != "external_id"} for create in creates]
        contacts = services.contacts_create_many(by=self.user, rows=rows)
        external_ids.external_ids_add(source=self.source, records=list(zip(contacts, ids, strict=True)))

    def update_many(self, updates):
        links = [(update["contact"], update.pop("external_id")) for update in updates if "external_id" in update]
        services.contacts_update_many(by=self.user, rows=updates)
        external_ids.external_ids_add(source=self.source, records=links)


def accounts_by_external_id(importer: Importer, rows: list[dict]) -> dict:
    """{account external id: account} of the file's `account_external_id` cells, among the user's accounts."""
    found, _hidden = external_ids.external_ids_records(
        queryset=access.accounts(importer.user),
        source=importer.source,
        ids=importer.external_ids_of(rows, "account_external_id"),
    )
    return found


def accounts_by_name(importer: Importer, rows: list[dict]) -> None:
    """The accounts the rows name among those the user sees, by normalised name (`importer.accounts`)."""
    importer.account_keys = {name: normalize_company_name(name) for name in {row.get("account", "") for row in rows}}
    importer.accounts = {}
    for chunk in chunks(set(importer.account_keys.values()) - {""}):
        visible = access.accounts(importer.user).filter(normalized_name__in=chunk)
        importer.accounts.update({a.normalized_name: a for a in visible})


def row_account(importer: Importer, row: dict) -> Account:
    """A row's account: by its id in the source system first (`account_external_id`), by its name second."""
    external_id = importer.external_id(row, "account_external_id")
    if external_id in importer.accounts_by_external:
        return importer.accounts_by_external[external_id]
    account_name = row.get("account", "").strip()
    if not account_name and external_id:
        raise RowError(
            "account_external_id",
            _("No account with %(id)s among yours; import the accounts first.")
            % {"id": importer.external_label(external_id)},
        )
    account_name = importer.required_value(row, "account")
    # A file names its few accounts over and over: each name was normalised once, by accounts_by_name.
    key = importer.account_keys.get(account_name) or normalize_company_name(account_name)
    account = importer.accounts.get(key)
    if account is None:
        raise RowError(
            "account",
            _("No account named %(name)s among yours; import the accounts first.") % {"name": account_name},
        )
    return account
