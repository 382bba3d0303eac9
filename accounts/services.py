import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from accounts.models import Account, Contact, Employment, normalize_company_name
from team.models import User
from team.services import notify, territory_route


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
    name = name.strip()
    normalized = account_name_check(name=name)
    account = Account(
        name=name, normalized_name=normalized, region=region, industry=industry, size_tier=size_tier, notes=notes
    )
    product_lines = list(product_lines)
    if owner is not None and not by.is_rep:
        # A manager or admin may name the owner; everyone else's accounts (a rep's page,
        # imports, a coach's move) are routed by the territories.
        account.owner = owner
        account.assignment_note = _("Owner chosen by %(name)s when the account was created.") % {"name": by}
    else:
        account.owner, account.territory, account.assignment_note = territory_route(
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
    account.assignment_note = _("Reassigned from %(previous)s by %(by)s on %(date)s: %(reason)s") % {
        "previous": previous,
        "by": by,
        "date": formats.date_format(timezone.localdate(), "SHORT_DATE_FORMAT"),
        "reason": reason,
    }
    account.assignment_note = account.assignment_note[:300]
    account._change_reason = reason[:100]
    account._history_user = by
    account.save(update_fields=["owner", "territory", "assignment_note"])
    notify(
        user=owner,
        message=_("%(by)s gave you the account %(account)s: %(reason)s")
        % {"by": by, "account": account, "reason": reason},
        link=account.get_absolute_url(),
    )
    return account


@transaction.atomic
def account_update(*, account: Account, by: User, **fields) -> Account:
    """Change an account's fields; renaming it onto another account's name is refused."""
    product_lines = fields.pop("product_lines", None)
    if "name" in fields:
        fields["name"] = fields["name"].strip()
        account.normalized_name = account_name_check(name=fields["name"], exclude_pk=account.pk)
    if "owner" in fields and by.is_rep:
        fields.pop("owner")
    for field, value in fields.items():
        setattr(account, field, value)
    account.save()
    if product_lines is not None:
        account.product_lines.set(product_lines)
    return account


def contact_email_check(*, email: str, exclude_pk: int | None = None) -> str:
    email = email.strip().lower()
    if email:
        existing = Contact.objects.exclude(pk=exclude_pk).filter(email__iexact=email).first()
        if existing:
            raise DuplicateError(
                _("A contact with this e-mail already exists: %(name)s.") % {"name": existing}, existing=existing
            )
    return email


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
    Contact.objects.select_for_update().filter(pk=contact.pk).first()
    if end_date is not None and end_date < start_date:
        raise ValidationError({"end_date": _("The end date cannot be before the start date.")})
    if end_date is None:
        current = contact.employments.current().select_related("account").first()
        if current is not None:
            raise ValidationError(
                _("%(name)s already has a current position (%(position)s). End it first, or record a move.")
                % {"name": contact, "position": current}
            )
    return Employment.objects.create(
        contact=contact,
        account=account,
        title=title.strip(),
        function=function,
        seniority=seniority,
        start_date=start_date,
        end_date=end_date,
    )


@transaction.atomic
def employment_end(*, employment: Employment, end_date: datetime.date, by: User) -> Employment:
    """Close a position on a date; history is kept, never rewritten."""
    employment = Employment.objects.select_for_update().get(pk=employment.pk)
    if employment.end_date is not None:
        raise ValidationError(_("This position already ended on %(date)s.") % {"date": employment.end_date})
    if end_date < employment.start_date:
        raise ValidationError(
            {
                "end_date": _("The end date cannot be before the start date (%(date)s).")
                % {"date": employment.start_date}
            }
        )
    employment.end_date = end_date
    employment.save(update_fields=["end_date"])
    return employment
