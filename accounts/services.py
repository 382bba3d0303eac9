# Every write to accounts, people and positions: create, update, reassign, move, job changes, bulk imports.
import dataclasses
import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.utils import bulk_update_with_history

import access
from accounts import signals
from accounts.models import (
    Account,
    AccountNotDuplicate,
    Contact,
    ContactNotDuplicate,
    Employment,
    NotDuplicate,
    RecordMerge,
    normalize_company_name,
)
from accounts.territories import coverage_refresh, territory_route, territory_router
from coachcrm.bulk import RowErrors, create_with_history
from coachcrm.inputs import date_check, single_line_check
from coachcrm.merge import reference_counts, references_move
from coachcrm.notes import note_facts
from team.models import User
from team.services import notify
from webhooks.services import event_emit


def _short_date(day: datetime.date) -> str:
    return formats.date_format(day, "SHORT_DATE_FORMAT")


class DuplicateError(ValidationError):
    """A record that already exists; `existing` is it, so the page can link to it."""

    def __init__(self, message, *, existing):
        super().__init__(message, code="duplicate")
        self.existing = existing


def account_name_check(*, name: str, exclude_pk: int | None = None) -> str:
    normalized = normalize_company_name(name)
    if not normalized:
        raise ValidationError({"name": _("Enter a company name.")})
    existing = Account.objects.exclude(pk=exclude_pk).filter(normalized_name=normalized).first()
    if existing:
        raise DuplicateError(
            _("An account with this name already exists: %(name)s.") % {"name": existing.name}, existing=existing
        )
    return normalized


def account_assignable_owners(*, by: User):
    """Who a manager or admin may make the owner of an account."""
    return User.objects.active() if by.is_admin else User.objects.active().team_of(by)


def account_owner_check(*, by: User, owner: User, allowed_pks: set[int] | None = None) -> User:
    """The owner a manager or admin names must be an active user he may assign to."""
    if allowed_pks is None:
        allowed_pks = set(account_assignable_owners(by=by).filter(pk=owner.pk).values_list("pk", flat=True))
    if owner.pk not in allowed_pks:
        raise ValidationError({"owner": _("%(name)s cannot own accounts you assign.") % {"name": owner}})
    return owner


@transaction.atomic
def account_create(
    *,
    by: User,
    name: str,
    region,
    industry,
    size_tier: str = Account.SizeTier.MID,
    product_lines=(),
    owner: User | None = None,
    notes: str = "",
) -> Account:
    """Create an account, refusing a second one under the same normalised name, and route it to its owner."""
    single_line_check(name=name)
    name = name.strip()
    normalized = account_name_check(name=name)
    account = Account(
        name=name, normalized_name=normalized, region=region, industry=industry, size_tier=size_tier, notes=notes
    )
    product_lines = list(product_lines)
    if owner is not None and not by.is_rep:
        # A manager or admin may name the owner; everyone else's accounts (a rep's page,
        # imports, a coach's move) are routed by the territories.
        account.owner = account_owner_check(by=by, owner=owner)
        account.assignment_facts = note_facts("owner_chosen", by=by)
    else:
        account.owner, account.territory, account.assignment_facts = territory_route(
            account=account, by=by, product_line_ids=[line.pk for line in product_lines]
        )
    try:
        # A savepoint, so that losing a race to a concurrent create leaves the outer
        # transaction usable and the user gets the same message as above.
        with transaction.atomic():
            account.save()
    except IntegrityError:
        account_name_check(name=name)
        raise
    account.product_lines.set(product_lines)
    coverage_refresh(accounts=[account.pk])
    return account


@transaction.atomic
def account_reassign(*, account: Account, owner: User, by: User, reason: str) -> Account:
    """Give an account to another owner (the fix for a territory conflict), with the reason in its history."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the account changes hands; it goes into its history.")})
    account = Account.objects.select_for_update().select_related("owner").get(pk=account.pk)
    if by.is_manager:
        team = User.objects.team_of(by)
        if not team.filter(pk=account.owner_id).exists():
            raise ValidationError(
                _("%(owner)s is not in your team: ask his manager or an admin to reassign %(account)s.")
                % {"owner": account.owner, "account": account}
            )
        if not team.filter(pk=owner.pk).exists():
            raise ValidationError({"owner": _("You can hand accounts only to people in your team.")})
    elif not by.is_admin:
        raise ValidationError(_("Only a manager or an admin can reassign an account."))
    if owner.pk == account.owner_id:
        raise ValidationError({"owner": _("%(name)s already owns %(account)s.") % {"name": owner, "account": account}})
    if not User.objects.available().filter(pk=owner.pk).exists():
        raise ValidationError({"owner": _("%(name)s is leaving or has left: choose someone else.") % {"name": owner}})
    previous = account.owner
    account.owner = owner
    account.territory = None
    # Facts, not a sentence: each reader gets "why this owner" in his own language.
    account.assignment_facts = note_facts(
        "reassigned", previous=previous, by=by, date=timezone.localdate(), reason=reason
    )
    account.assignment_note = ""
    account._change_reason = reason[:100]
    account._history_user = by
    account.save(update_fields=["owner", "territory", "assignment_note", "assignment_facts"])
    notify(
        user=owner,
        message=gettext_lazy("%(by)s gave you the account %(account)s: %(reason)s"),
        params={"by": by, "account": account, "reason": reason},
        link=account.get_absolute_url(),
    )
    return account


@transaction.atomic
def account_update(*, account: Account, by: User, reason: str = "", **fields) -> Account:
    """Change an account's fields; renaming it onto another account's name is refused.

    A new owner goes through `account_reassign` (a reason, the team rule, history, a notice),
    so the edit page, the admin and the API cannot change hands more quietly than Reassign.
    A rep's `owner` is ignored: his accounts are his own.
    """
    product_lines = fields.pop("product_lines", None)
    owner = fields.pop("owner", None)
    if "name" in fields:
        single_line_check(name=fields["name"])
        fields["name"] = fields["name"].strip()
        account.normalized_name = account_name_check(name=fields["name"], exclude_pk=account.pk)
    for field, value in fields.items():
        setattr(account, field, value)
    account.save()
    if product_lines is not None:
        account.product_lines.set(product_lines)
    if product_lines is not None or fields.keys() & {"region", "industry", "size_tier"}:
        # Region, industry, size and product lines decide which territories cover it.
        coverage_refresh(accounts=[account.pk])
    if owner is not None and owner.pk != account.owner_id and not by.is_rep:
        account = account_reassign(account=account, owner=owner, by=by, reason=reason)
    return account


def contact_email_check(*, email: str, exclude_pk: int | None = None) -> str:
    email = email.strip().lower()
    if email:
        existing = Contact.objects.with_email_key().exclude(pk=exclude_pk).filter(email_key=email).first()
        if existing:
            raise _email_taken(existing)
    return email


def _email_taken(existing: Contact) -> DuplicateError:
    """The refusal of an e-mail somebody else has (contact_email_check and its bulk variant)."""
    return DuplicateError(
        _("A contact with this e-mail already exists: %(name)s.") % {"name": existing}, existing=existing
    )


@transaction.atomic
def contact_create(
    *,
    by: User,
    first_name: str,
    last_name: str,
    account: Account,
    title: str,
    start_date: datetime.date,
    function: str = Employment.Function.OTHER,
    seniority: str = Employment.Seniority.STAFF,
    email: str = "",
    phone: str = "",
    notes: str = "",
) -> Contact:
    """Create a person together with his current position, refusing a known e-mail."""
    single_line_check(first_name=first_name, last_name=last_name, phone=phone)
    contact = Contact.objects.create(
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        email=contact_email_check(email=email),
        phone=phone,
        notes=notes,
    )
    employment_add(
        by=by,
        contact=contact,
        account=account,
        title=title,
        function=function,
        seniority=seniority,
        start_date=start_date,
    )
    return contact


@transaction.atomic
def contact_update(*, contact: Contact, by: User, **fields) -> Contact:
    """Change a person's own fields (his positions change through the employment services)."""
    single_line_check(**{f: fields[f] for f in ("first_name", "last_name", "phone") if f in fields})
    if "email" in fields:
        fields["email"] = contact_email_check(email=fields["email"], exclude_pk=contact.pk)
    for field, value in fields.items():
        setattr(contact, field, value)
    contact.full_clean()
    contact.save()
    return contact


@transaction.atomic
def employment_add(
    *,
    by: User,
    contact: Contact,
    account: Account,
    title: str,
    start_date: datetime.date,
    end_date: datetime.date | None = None,
    function: str = Employment.Function.OTHER,
    seniority: str = Employment.Seniority.STAFF,
) -> Employment:
    """Add a position to a person's timeline; a second current position is refused."""
    # Lock the person so two simultaneous "add position" requests cannot both pass the
    # one-current-position check (the unique index would then fail with a 500).
    single_line_check(title=title)
    Contact.objects.select_for_update().filter(pk=contact.pk).first()
    current = contact.employments.current().select_related("account").first() if end_date is None else None
    _position_check(contact=contact, start_date=start_date, end_date=end_date, current=current)
    return Employment.objects.create(
        contact=contact,
        account=account,
        title=title.strip(),
        function=function,
        seniority=seniority,
        start_date=start_date,
        end_date=end_date,
    )


def _position_check(
    *, contact: Contact, start_date: datetime.date, end_date: datetime.date | None, current: Employment | None
) -> None:
    """employment_add's rules (and its bulk variant's): dates in range, no end before the start, one current."""
    date_check(start_date, field="start_date", past=True)
    date_check(end_date, field="end_date")
    if end_date is not None and end_date < start_date:
        raise ValidationError({"end_date": _("The end date cannot be before the start date.")})
    if end_date is None and current is not None:
        raise ValidationError(
            _("%(name)s already has a current position (%(position)s). End it first, or record a move.")
            % {"name": contact, "position": current}
        )


@transaction.atomic
def employment_end(*, employment: Employment, end_date: datetime.date, by: User) -> Employment:
    """Close a position on a date; history is kept, never rewritten.

    A coach at that account is real only while the person works there: the coaches app ends
    his coach record now for an end date of today or earlier, or on the day for a later one
    (`accounts.signals.position_ended`).
    """
    employment = _employment_end(employment=employment, end_date=end_date)
    signals.position_ended.send(sender=Employment, employment=employment, by=by)
    return employment


def _employment_end(*, employment: Employment, end_date: datetime.date) -> Employment:
    """employment_end's rules and write, without the signal (a move says more: `contact_moved`)."""
    date_check(end_date, field="end_date")
    employment = Employment.objects.select_for_update().get(pk=employment.pk)
    if employment.end_date is not None:
        raise ValidationError(
            _("This position already ended on %(date)s.") % {"date": _short_date(employment.end_date)}
        )
    if end_date < employment.start_date:
        raise ValidationError(
            {
                "end_date": _("The end date cannot be before the start date (%(date)s).")
                % {"date": _short_date(employment.start_date)}
            }
        )
    employment.end_date = end_date
    employment.save(update_fields=["end_date"])
    return employment


EMPLOYMENT_UPDATABLE = {"title", "function", "seniority"}


@transaction.atomic
def employment_update(*, employment: Employment, by: User, end_date=None, **fields) -> Employment:
    """Correct a position's title, function or seniority; an end date given ends it (employment_end)."""
    unknown = set(fields) - EMPLOYMENT_UPDATABLE
    if unknown:
        raise TypeError(f"employment_update() got unexpected fields {sorted(unknown)}")
    if "title" in fields:
        fields["title"] = fields["title"].strip()
        if not fields["title"]:
            raise ValidationError({"title": _("Enter the title of the position.")})
    changed = {f: v for f, v in fields.items() if getattr(employment, f) != v}
    if changed:
        for field, value in changed.items():
            setattr(employment, field, value)
        employment.save(update_fields=sorted(changed))
    if end_date is not None and end_date != employment.end_date:
        employment = employment_end(employment=employment, end_date=end_date, by=by)
    elif end_date is None and employment.end_date is not None:
        raise ValidationError({"end_date": _("An ended position stays ended; history is never rewritten.")})
    return employment


@transaction.atomic
def employment_set_reports_to(*, employment: Employment, reports_to: Contact | None, by: User) -> Employment:
    """Record (or clear, with None) whom the person reports to in this position: a colleague at the same account."""
    if reports_to is not None:
        if not employment.is_current:
            raise ValidationError(_("This position has ended; record reporting lines on current positions."))
        if reports_to.pk == employment.contact_id:
            raise ValidationError({"reports_to": _("A person cannot report to himself.")})
        if not reports_to.employments.current().filter(account_id=employment.account_id).exists():
            raise ValidationError(
                {
                    "reports_to": _("%(name)s does not work at %(account)s now.")
                    % {"name": reports_to, "account": employment.account}
                }
            )
        # Walk up the new manager's line (current positions at the account): a loop would draw
        # an org chart without a top.
        seen, current = {employment.contact_id}, reports_to.pk
        lines = dict(
            Employment.objects.current()
            .filter(account_id=employment.account_id, reports_to__isnull=False)
            .values_list("contact_id", "reports_to_id")
        )
        while current is not None:
            if current in seen:
                raise ValidationError(
                    {
                        "reports_to": _("%(name)s already reports, directly or not, to %(person)s.")
                        % {"name": reports_to, "person": employment.contact}
                    }
                )
            seen.add(current)
            current = lines.get(current)
    employment.reports_to = reports_to
    employment.save(update_fields=["reports_to"])
    return employment


# Bulk variants for imports: the same rules as account_create / contact_create, checked for
# the whole batch with a few queries and written with bulk inserts (history included).
# Lookups go in slices of _BULK values (SQLite's parameter limit). Inserts leave the batch
# size to the backend: PostgreSQL inserts all rows in one UNNEST statement per table (a fixed
# number of queries however long the file), SQLite as many rows as its parameter limit allows.
_BULK = 500


def _taken(queryset, field: str, values: set[str]) -> set[str]:
    values, taken = list(values), set()
    for start in range(0, len(values), _BULK):
        chunk = values[start : start + _BULK]
        taken.update(queryset.filter(**{f"{field}__in": chunk}).order_by().values_list(field, flat=True))
    return taken


@transaction.atomic
def accounts_create_many(*, by: User, rows: list[dict]) -> list[Account]:
    """account_create for many new accounts at once (imports), refusing the batch on any duplicate."""
    allowed_pks = None if by.is_rep else set(account_assignable_owners(by=by).values_list("pk", flat=True))
    route = territory_router(by=by)
    accounts, product_lines, seen = [], [], set()
    for row in rows:
        row = dict(row)
        single_line_check(name=row["name"])
        name = row.pop("name").strip()
        normalized = normalize_company_name(name)
        if not normalized:
            raise ValidationError({"name": _("Enter a company name.")})
        if normalized in seen:
            raise ValidationError({"name": _("%(name)s appears twice.") % {"name": name}})
        seen.add(normalized)
        owner = row.pop("owner", None)
        lines = list(row.pop("product_lines", ()))
        product_lines.append(lines)
        account = Account(name=name, normalized_name=normalized, **row)
        # As in account_create: a manager or admin may name an owner in his scope; otherwise
        # the territories route the account.
        if owner is not None and not by.is_rep:
            account.owner = account_owner_check(by=by, owner=owner, allowed_pks=allowed_pks)
            account.assignment_facts = note_facts("owner_chosen", by=by)
        else:
            account.owner, account.territory, account.assignment_facts = route(
                account=account, product_line_ids=[line.pk for line in lines]
            )
        accounts.append(account)
    route.flush()
    if taken := _taken(Account.objects.all(), "normalized_name", seen):
        raise ValidationError(
            {"name": _("These accounts already exist: %(names)s.") % {"names": ", ".join(sorted(taken))}}
        )
    create_with_history(accounts, Account, default_user=by)
    through = Account.product_lines.through
    through.objects.bulk_create(
        [
            through(account_id=a.pk, productline_id=p.pk)
            for a, lines in zip(accounts, product_lines, strict=True)
            for p in lines
        ]
    )
    coverage_refresh(accounts=[account.pk for account in accounts])
    return accounts


@transaction.atomic
def contacts_create_many(*, by: User, rows: list[dict]) -> list[Contact]:
    """contact_create for many new people with their current position (imports); a known e-mail refuses the batch."""
    contacts, positions, emails, start_dates = [], [], set(), set()
    for row in rows:
        email = row.get("email", "").strip().lower()
        if email in emails:
            raise ValidationError({"email": _("%(email)s appears twice.") % {"email": email}})
        if email:
            emails.add(email)
        single_line_check(
            first_name=row["first_name"], last_name=row["last_name"], phone=row.get("phone", ""), title=row["title"]
        )
        start_dates.add(row["start_date"])
        contacts.append(
            Contact(
                first_name=row["first_name"].strip(),
                last_name=row["last_name"].strip(),
                email=email,
                phone=row.get("phone", ""),
                notes=row.get("notes", ""),
            )
        )
        positions.append(
            Employment(
                account=row["account"],
                title=row["title"].strip(),
                function=row.get("function", Employment.Function.OTHER),
                seniority=row.get("seniority", Employment.Seniority.STAFF),
                start_date=row["start_date"],
            )
        )
    # Each distinct start date once: a file's rows mostly share theirs.
    for start_date in sorted(start_dates, key=str):
        date_check(start_date, field="start_date", past=True)
    if taken := _taken(Contact.objects.with_email_key(), "email_key", emails):
        raise ValidationError(
            {"email": _("These e-mails are already known: %(emails)s.") % {"emails": ", ".join(sorted(taken))}}
        )
    create_with_history(contacts, Contact, default_user=by)
    # New people have no position yet, so each gets exactly one current position.
    for contact, position in zip(contacts, positions, strict=True):
        position.contact = contact
    create_with_history(positions, Employment, default_user=by)
    return contacts


# Rows per UPDATE statement: PostgreSQL evaluates bulk_update's CASE WHEN pk = … THEN … per
# row, so one statement for 10,000 rows costs quadratic time; slices keep it linear.
_BULK_UPDATE = 1000


def _slices(values: list, size: int):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _contact_emails_check(changes: dict[int, tuple[Contact, str]]) -> dict[int, ValidationError]:
    """contact_email_check for many rows (index → (contact, new e-mail)): a taken e-mail is the row's error."""
    errors, wanted = {}, {}
    for index, (contact, email) in changes.items():
        if email and email in wanted:
            errors[index] = ValidationError({"email": _("%(email)s appears twice.") % {"email": email}})
        elif email:
            wanted[email] = (index, contact)
    # Any other person's e-mail is taken, even if he gives it up in the same batch: the rows
    # are updated at once, and the unique index would refuse the swap mid-statement.
    holders = Contact.objects.with_email_key().only("first_name", "last_name").order_by()
    for chunk in _slices(list(wanted), _BULK):
        for holder in holders.filter(email_key__in=chunk):
            index, contact = wanted[holder.email_key]
            if holder.pk != contact.pk:
                errors[index] = _email_taken(holder)
    return errors


@transaction.atomic
def contacts_update_many(*, by: User, rows: list[dict]) -> list[Contact]:
    """contact_update and employment_add for many known people at once (imports); any refused row refuses all.

    Each row: `contact`, `fields` (his own fields to change) and optionally `position`
    (employment_add's arguments) or `end_position` (employment_end's `employment` and
    `end_date`). Refused rows raise RowErrors, by row index.
    """
    pks = [row["contact"].pk for row in rows]
    if len(set(pks)) != len(pks):
        raise ValidationError(_("A person appears twice; update him once."))
    # Lock the people, as employment_add does, so a position added meanwhile on a page cannot
    # make a second current one; and take them fresh, so a field the file leaves alone keeps
    # its current value rather than the one read before the lock.
    fresh = {}
    for chunk in _slices(pks, _BULK):
        fresh.update({c.pk: c for c in Contact.objects.select_for_update().filter(pk__in=chunk).order_by()})
    errors: dict[int, ValidationError] = {}
    contacts, updated_fields, emails = [], set(), {}
    for index, row in enumerate(rows):
        contact = fresh.get(row["contact"].pk)
        if contact is None:
            errors[index] = ValidationError(_("%(name)s was deleted meanwhile.") % {"name": row["contact"]})
            continue
        fields = dict(row.get("fields", {}))
        if "email" in fields:
            fields["email"] = fields["email"].strip().lower()
            emails[index] = (contact, fields["email"])
        for field, value in fields.items():
            setattr(contact, field, value)
        if fields:
            try:
                single_line_check(**{f: fields[f] for f in ("first_name", "last_name", "phone") if f in fields})
                # The e-mail's uniqueness is checked for the batch at once, below.
                contact.full_clean(validate_unique=False, validate_constraints=False)
            except ValidationError as error:
                errors[index] = error
                continue
            contacts.append(contact)
            updated_fields.update(fields)
    for index, error in _contact_emails_check(emails).items():
        errors.setdefault(index, error)
    positions = _positions_for(rows, fresh, errors)
    ends = []
    for index, row in enumerate(rows):
        if (end := row.get("end_position")) and index not in errors:
            if end["end_date"] < end["employment"].start_date:
                errors[index] = ValidationError(
                    {"end_date": _("The end date cannot be before the start date (%(date)s).")
                     % {"date": _short_date(end["employment"].start_date)}}
                )  # fmt: skip
            else:
                ends.append(end)
    if errors:
        raise RowErrors(dict(sorted(errors.items())))
    if contacts:
        bulk_update_with_history(contacts, Contact, sorted(updated_fields), batch_size=_BULK_UPDATE, default_user=by)
    if positions:
        create_with_history(positions, Employment, default_user=by)
    # One at a time, through employment_end: a file ends few positions, and each ends a coach record.
    for end in ends:
        employment_end(employment=end["employment"], end_date=end["end_date"], by=by)
    return [fresh[pk] for pk in pks]


def _positions_for(rows: list[dict], fresh: dict[int, Contact], errors: dict) -> list[Employment]:
    """employment_add's checks for the rows adding a position; the refused ones go into `errors`."""
    adding = {i: row for i, row in enumerate(rows) if row.get("position") and i not in errors}
    current = {}
    for chunk in _slices([row["contact"].pk for row in adding.values()], _BULK):
        found = Employment.objects.current().filter(contact_id__in=chunk).select_related("account").order_by()
        current.update({e.contact_id: e for e in found})
    positions = []
    for index, row in adding.items():
        contact, position = fresh[row["contact"].pk], dict(row["position"])
        try:
            single_line_check(title=position.get("title", ""))
            _position_check(
                contact=contact,
                start_date=position["start_date"],
                end_date=position.get("end_date"),
                current=current.get(contact.pk),
            )
        except ValidationError as error:
            errors[index] = error
            continue
        position["title"] = position["title"].strip()
        positions.append(Employment(contact=contact, **position))
    return positions


@dataclasses.dataclass(frozen=True)
class ContactMoveResult:
    employment: Employment
    account_created: bool
    coach_ended: bool


def _move_target(*, by: User, new_account, new_account_name: str, old_account: Account, region, industry):
    """The account a person moves to, and whether it was created: an existing one wins over a new one."""
    if (new_account is None) == (not new_account_name.strip()):
        raise ValidationError(_("Pick the new company from the accounts, or type its name; one of the two."))
    if new_account is not None:
        return new_account, False
    existing = Account.objects.filter(normalized_name=normalize_company_name(new_account_name)).first()
    if existing is not None:
        return existing, False
    try:
        account = account_create(
            by=by,
            name=new_account_name,
            region=region or old_account.region,
            industry=industry or old_account.industry,
        )
    except DuplicateError as duplicate:
        # Someone else moving to the same new company created it since the lookup above (the
        # unique name index made us wait for that commit): join it instead of refusing the move.
        # account_create's savepoint rolled back, so this transaction goes on cleanly.
        return duplicate.existing, False
    return account, True


@transaction.atomic
def contact_move(
    *,
    contact: Contact,
    by: User,
    new_account: Account | None = None,
    new_account_name: str = "",
    title: str,
    start_date: datetime.date,
    function: str = Employment.Function.OTHER,
    seniority: str = Employment.Seniority.STAFF,
    region=None,
    industry=None,
) -> ContactMoveResult:
    """A person changes companies: the current position ends the day before the new one starts.

    The new company is an existing account or one created by name (deduplicated). If he was
    our active coach, the coaches app ends that record and the pipeline opens a prospect at the new
    company once this commits (`accounts.signals.contact_moved`).
    """
    single_line_check(title=title, new_account_name=new_account_name)
    date_check(start_date, field="start_date", past=True)
    Contact.objects.select_for_update().filter(pk=contact.pk).first()
    current = contact.employments.current().select_related("account").first()
    if current is None:
        raise ValidationError(
            _("%(name)s has no current position to move from; add the new position instead.") % {"name": contact}
        )
    if start_date <= current.start_date:
        raise ValidationError(
            {
                "start_date": _(
                    "The new position must start after the current one began (%(date)s at %(account)s); "
                    "history is never rewritten."
                )
                % {"date": _short_date(current.start_date), "account": current.account}
            }
        )
    if not title.strip():
        raise ValidationError({"title": _("Enter the title of the new position.")})
    account, created = _move_target(
        by=by,
        new_account=new_account,
        new_account_name=new_account_name,
        old_account=current.account,
        region=region,
        industry=industry,
    )
    if account.pk == current.account_id:
        raise ValidationError(
            _("%(name)s already works at %(account)s; a new role there is a new position, not a move.")
            % {"name": contact, "account": account}
        )
    # Not employment_end: the move's own signal ends his coach record as "moved to …" and opens the prospect.
    _employment_end(employment=current, end_date=start_date - datetime.timedelta(days=1))
    employment = employment_add(
        by=by,
        contact=contact,
        account=account,
        title=title,
        function=function,
        seniority=seniority,
        start_date=start_date,
    )
    answers = signals.contact_moved.send(
        sender=Contact,
        contact=contact,
        from_account=current.account,
        to_account=account,
        start_date=start_date,
        account_created=created,
        by=by,
    )
    coach_ended = any(ended for _receiver, ended in answers)
    return ContactMoveResult(employment=employment, account_created=created, coach_ended=coach_ended)


class JobChangeResult:
    APPLIED = "applied"
    ALREADY_APPLIED = "already_applied"
    REFUSED = "refused"


def _job_change_person(*, by: User, contact_id: int | None, email: str) -> Contact:
    people = access.contacts(by)
    if contact_id is not None:
        person = people.filter(pk=contact_id).first()
    else:
        email = email.strip().lower()
        person = people.with_email_key().filter(email_key=email).first() if email else None
    if person is None:
        raise ValidationError(_("No person you can see has this id or e-mail."), code="unknown_person")
    return person


def _job_change_one(*, by: User, change: dict) -> dict:
    person = _job_change_person(by=by, contact_id=change.get("contact"), email=change.get("email", ""))
    result = {"contact": person.pk}
    # Lock the person before the idempotency check: the same change posted in parallel waits
    # here for the first to commit, then finds it applied (instead of contact_move refusing a
    # start date that is no longer after the current position's).
    Contact.objects.select_for_update().filter(pk=person.pk).first()
    current = person.employments.current().select_related("account").first()
    if (
        current is not None
        and current.start_date == change["start_date"]
        and current.account.normalized_name == normalize_company_name(change["company"])
    ):
        # Idempotent by person + company + start date: the feed may send the same move again.
        return {**result, "result": JobChangeResult.ALREADY_APPLIED, "employment": current.pk}
    moved = contact_move(
        contact=person,
        by=by,
        new_account_name=change["company"],
        title=change["title"],
        start_date=change["start_date"],
    )
    return {**result, "result": JobChangeResult.APPLIED, "employment": moved.employment.pk}


def job_changes_apply(*, by: User, changes: list[dict]) -> list[dict]:
    """Apply a feed's job changes one by one through contact_move; a refused one never blocks the others.

    Each change: `contact` (id) or `email`, `company` (name), `title`, `start_date`. Returns one
    result per change, in order: `applied`, `already_applied`, or `refused` with `reason` (and `code`).
    """
    results = []
    for index, change in enumerate(changes):
        try:
            # Its own transaction: a refusal rolls back this move only, never half of it.
            with transaction.atomic():
                result = _job_change_one(by=by, change=change)
        except ValidationError as error:
            code = next((e.code for e in getattr(error, "error_list", []) if e.code), "invalid")
            result = {"result": JobChangeResult.REFUSED, "reason": " ".join(error.messages), "code": code}
        results.append({"index": index, **result})
    return results


@transaction.atomic
def lookup_create(*, model, name: str, by: User):
    """Add a value to a list (region, industry, product line): admins only; an existing spelling is reused."""
    if not by.is_admin:
        raise ValidationError(
            _("Only an admin can add a %(list)s; choose one of the list or ask an admin.")
            % {"list": model._meta.verbose_name},
            code="permission_denied",
        )
    single_line_check(name=name)
    name = " ".join(name.split())
    max_length = model._meta.get_field("name").max_length
    if not name or len(name) > max_length:
        raise ValidationError({"name": _("Give a name of 1 to %(n)s characters.") % {"n": max_length}}, code="invalid")
    existing = model.objects.filter(name__iexact=name).first()
    return existing or model.objects.create(name=name)


# --- merging duplicates -----------------------------------------------------------------------

# Derived rows the merge does not move: the survivor's coverage is refreshed, the loser's goes with it.
# Nor the pairs said not to be duplicates: the loser's go with it (the survivor may now match them).
MERGE_SKIP = (
    ("accounts.TerritoryCoverage", "account"),
    ("accounts.AccountNotDuplicate", "first"),
    ("accounts.AccountNotDuplicate", "second"),
    ("accounts.ContactNotDuplicate", "first"),
    ("accounts.ContactNotDuplicate", "second"),
    # Who sees the duplicate goes with it; the survivor's are rewritten (coaches.visibility, on record_merged).
    ("coaches.VisibleAccount", "account"),
    # The ledger's kept sums go with the duplicate and are recomputed for the survivor (service_catalog.receivers).
    ("service_catalog.LedgerGroup", "account"),
    ("service_catalog.LedgerGroup", "recipient"),
)


def _merge_check(*, record, into, by: User) -> None:
    if into is None or record.pk == into.pk:
        message = _("Pick the other record: a record cannot be merged into itself.")
        raise ValidationError({"into": ValidationError(message, code="merge_self")})
    if not access.may_merge(by, record, into):
        raise ValidationError(
            _("Only an admin or the manager of both owners can merge these records."), code="permission_denied"
        )


def merge_preview(*, record, into, by: User) -> dict:
    """What a merge of `record` into `into` would move ({"moves": [{label, count}]}) and what refuses it.

    The refusals are the merge's own (the same checks, without writing); "blocked" holds them.
    A fixed number of queries: one count per kind of row that points at the record.
    """
    blocked = []
    try:
        _merge_check(record=record, into=into, by=by)
        if isinstance(record, Contact):
            _positions_merge(loser=record, survivor=into, by=by, check_only=True)
        signals.record_merging.send(sender=type(record), loser=record, survivor=into, by=by, check_only=True)
    except ValidationError as error:
        blocked = error.messages
    return {"moves": reference_counts(record, skip=MERGE_SKIP), "blocked": blocked}


def _lock_pair(model, first, second) -> tuple:
    # Both rows, in id order, so two merges of the same pair cannot deadlock.
    locked = model.objects.select_for_update().filter(pk__in=[first.pk, second.pk]).order_by("pk")
    rows = {row.pk: row for row in locked}
    if len(rows) < 2:
        raise ValidationError(_("One of the two records no longer exists."), code="not_found")
    return rows[first.pk], rows[second.pk]


def _joined_notes(ours: str, theirs: str) -> str:
    """The survivor's notes, and the duplicate's after them unless they are there already."""
    ours, theirs = ours.strip(), theirs.strip()
    return ours if not theirs or theirs in ours else "\n\n".join(n for n in (ours, theirs) if n)


def _merge_log(*, kind: str, loser, survivor, moved: dict, by: User) -> RecordMerge:
    log = RecordMerge.objects.create(
        kind=kind,
        merged_id=loser.pk,
        merged_name=str(loser)[:200],
        moved=moved,
        by=by,
        **{kind: survivor},
    )
    loser._history_user = by
    loser.delete()
    return log


@transaction.atomic
def account_merge(*, account: Account, into: Account, by: User) -> RecordMerge:
    """Merge a duplicate account into another, which keeps everything of both; the duplicate goes.

    Everything that points at it moves (positions, coaches and their holders, deals, grants,
    tasks, notes, coach moves, earlier merges), each with a history row; its product lines
    and notes join the survivor's; its name stays in the survivor's merge log and in its own
    history. The coach rules then run for the survivor: held-back deals a coach of the other
    record qualifies for move on, and the gate is checked again (pipeline.receivers).
    """
    _merge_check(record=account, into=into, by=by)
    loser, survivor = _lock_pair(Account, account, into)
    signals.record_merging.send(sender=Account, loser=loser, survivor=survivor, by=by, check_only=False)
    moved = references_move(old=loser, new=survivor, by=by, skip=MERGE_SKIP)
    survivor.product_lines.add(*loser.product_lines.all())
    survivor.notes = _joined_notes(survivor.notes, loser.notes)
    survivor._history_user = by
    survivor._change_reason = "merge"
    survivor.save()
    loser_owner, loser_name, loser_pk = loser.owner, loser.name, loser.pk
    log = _merge_log(kind=RecordMerge.Kind.ACCOUNT, loser=loser, survivor=survivor, moved=moved, by=by)
    coverage_refresh(accounts=[survivor.pk])
    signals.record_merged.send(sender=Account, survivor=survivor, loser_id=loser_pk, by=by)
    event_emit(
        event="account.merged",
        data={"account": survivor.pk, "name": survivor.name, "merged_id": loser_pk, "merged_name": loser_name},
    )
    if loser_owner.pk not in (by.pk, survivor.owner_id):
        notify(
            user=loser_owner,
            message=gettext_lazy("%(by)s merged your account %(merged)s into %(account)s."),
            params={"by": by, "merged": loser_name, "account": survivor},
            link=survivor.get_absolute_url(),
        )
    return log


def _positions_merge(*, loser: Contact, survivor: Contact, by: User, check_only: bool) -> None:
    """A person holds one current position: two current ones at one company become the survivor's.

    The duplicate's position there ends when the survivor's began (or on its own start, if later):
    its dates stay in the timeline. Current positions at two companies are a real conflict.
    """
    theirs = Employment.objects.current().filter(contact=loser).select_related("account").first()
    ours = Employment.objects.current().filter(contact=survivor).select_related("account").first()
    if theirs is None or ours is None:
        return
    if theirs.account_id != ours.account_id:
        raise ValidationError(
            _(
                "%(loser)s works at %(theirs)s and %(survivor)s at %(ours)s: end one of the two positions first "
                "(or record the move), then merge."
            )
            % {"loser": loser, "theirs": theirs.account, "survivor": survivor, "ours": ours.account},
            code="merge_conflict",
        )
    if check_only:
        return
    theirs.end_date = max(theirs.start_date, ours.start_date)
    theirs._history_user = by
    theirs._change_reason = "merge"
    theirs.save(update_fields=["end_date"])


@transaction.atomic
def contact_merge(*, contact: Contact, into: Contact, by: User) -> RecordMerge:
    """Merge a duplicate person into another, who keeps every position, coach record, role and grant.

    Two current positions at one company become one (`_positions_merge`); two active coach
    records at one account are joined by the coaches app, keeping the survivor's criteria (a
    merge never opens a gate the coach rules would refuse). His e-mail, phone and notes fill
    the survivor's empty ones.
    """
    _merge_check(record=contact, into=into, by=by)
    loser, survivor = _lock_pair(Contact, contact, into)
    _positions_merge(loser=loser, survivor=survivor, by=by, check_only=False)
    signals.record_merging.send(sender=Contact, loser=loser, survivor=survivor, by=by, check_only=False)
    moved = references_move(old=loser, new=survivor, by=by, skip=MERGE_SKIP)
    # He cannot report to himself.
    Employment.objects.filter(contact=survivor, reports_to=survivor).update(reports_to=None)
    fills = {name: getattr(loser, name) for name in ("email", "phone") if not getattr(survivor, name)}
    fills["notes"] = _joined_notes(survivor.notes, loser.notes)
    loser_pk, loser_name = loser.pk, str(loser)
    log = _merge_log(kind=RecordMerge.Kind.CONTACT, loser=loser, survivor=survivor, moved=moved, by=by)
    # After the delete: his e-mail is free for the survivor only then (the unique index).
    for name, value in fills.items():
        setattr(survivor, name, value)
    survivor.past_buyer = survivor.past_buyer or loser.past_buyer
    survivor._history_user = by
    survivor._change_reason = "merge"
    survivor.save()
    signals.record_merged.send(sender=Contact, survivor=survivor, loser_id=loser_pk, by=by)
    event_emit(
        event="contact.merged",
        data={"contact": survivor.pk, "name": str(survivor), "merged_id": loser_pk, "merged_name": loser_name},
    )
    return log


# --- possible duplicates that are not -----------------------------------------------------------


def _not_duplicate_pair(*, first, second, by: User) -> tuple:
    if type(first) is not type(second) or first.pk == second.pk:
        raise ValidationError(_("Pick two different records of the same kind."), code="invalid")
    if not access.may_merge(by, first, second):
        raise ValidationError(
            _("Only an admin or the manager of both owners can review these records."), code="permission_denied"
        )
    model = AccountNotDuplicate if isinstance(first, Account) else ContactNotDuplicate
    return model, min(first.pk, second.pk), max(first.pk, second.pk)


@transaction.atomic
def duplicate_dismiss(*, first: Account | Contact, second: Account | Contact, by: User) -> NotDuplicate:
    """Say two records are not duplicates: the possible-duplicates list stops showing the pair.

    A second call changes nothing; `duplicate_restore` undoes it.
    """
    model, low, high = _not_duplicate_pair(first=first, second=second, by=by)
    dismissal, _created = model.objects.get_or_create(first_id=low, second_id=high, defaults={"by": by})
    return dismissal


@transaction.atomic
def duplicate_restore(*, first: Account | Contact, second: Account | Contact, by: User) -> bool:
    """Undo `duplicate_dismiss`: the pair is a possible duplicate again. False when it was not dismissed."""
    model, low, high = _not_duplicate_pair(first=first, second=second, by=by)
    deleted, _rows = model.objects.filter(first_id=low, second_id=high).delete()
    return bool(deleted)
