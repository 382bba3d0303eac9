# Every write to the catalog, the authority matrix and grants: request, approve, refuse, under the limits.
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

import access
from accounts.models import Account, Contact, Employment
from coachcrm.inputs import MAX_AMOUNT, amount_check, quantity_check, single_line_check
from coachcrm.templatetags.crm import money
from pipeline.models import Opportunity
from service_catalog.ledger_sums import ledger_sums_grant
from service_catalog.models import Authority, Grant, ServiceItem, limits_exceeded
from service_catalog.selectors import authority_excess, grant_approver
from team.models import User
from team.services import notify
from webhooks.services import event_emit


def _require_admin(by: User, action: str) -> None:
    if not by.is_admin:
        raise ValidationError(_("Only an admin can %(action)s.") % {"action": action})


def _item_fields(*, name: str, unit_cost, max_quantity, exclude_pk: int | None = None) -> dict:
    single_line_check(name=name)
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Enter a name.")})
    if ServiceItem.objects.exclude(pk=exclude_pk).filter(name__iexact=name).exists():
        raise ValidationError({"name": _("The catalog already has an item called %(name)s.") % {"name": name}})
    if max_quantity is not None:
        max_quantity = quantity_check(max_quantity, field="max_quantity")
    return {"name": name, "unit_cost": amount_check(unit_cost, field="unit_cost"), "max_quantity": max_quantity}


@transaction.atomic
def service_item_create(
    *,
    by: User,
    name: str,
    unit_cost,
    category: str = ServiceItem.Category.SERVICE,
    description: str = "",
    max_quantity: int | None = None,
    active: bool = True,
) -> ServiceItem:
    """Add an item to the catalog."""
    _require_admin(by, _("edit the catalog"))
    fields = _item_fields(name=name, unit_cost=unit_cost, max_quantity=max_quantity)
    return ServiceItem.objects.create(category=category, description=description, active=active, **fields)


@transaction.atomic
def service_item_update(*, item: ServiceItem, by: User, **fields) -> ServiceItem:
    """Change an item; grants already made keep the unit cost they were made at."""
    _require_admin(by, _("edit the catalog"))
    item = ServiceItem.objects.select_for_update().get(pk=item.pk)
    fields.update(
        _item_fields(
            name=fields.get("name", item.name),
            unit_cost=fields.get("unit_cost", item.unit_cost),
            max_quantity=fields.get("max_quantity", item.max_quantity),
            exclude_pk=item.pk,
        )
    )
    for field, value in fields.items():
        setattr(item, field, value)
    item.save()
    return item


@transaction.atomic
def service_item_deactivate(*, item: ServiceItem, by: User) -> ServiceItem:
    """Take an item out of the catalog; it stays in the ledger (items are never deleted once granted)."""
    _require_admin(by, _("edit the catalog"))
    item = ServiceItem.objects.select_for_update().get(pk=item.pk)
    if not item.active:
        raise ValidationError(_("%(item)s is already inactive.") % {"item": item})
    item.active = False
    item.save(update_fields=["active"])
    return item


@transaction.atomic
def authority_set(*, by: User, role: str = "", user: User | None = None, **limits) -> Authority:
    """Set a role's limits, or one user's (replacing his role's row); an empty limit means no limit."""
    _require_admin(by, _("change the authority matrix"))
    if bool(role) == (user is not None):
        raise ValidationError(_("Give either a role or a user, not both."))
    unknown = set(limits) - set(Authority.LIMIT_FIELDS)
    if unknown:
        raise ValidationError(_("Unknown limits: %(names)s.") % {"names": ", ".join(sorted(unknown))})
    values = {
        name: None if limits.get(name) in (None, "") else amount_check(limits[name], field=name)
        for name in Authority.LIMIT_FIELDS
    }
    authority, _created = Authority.objects.update_or_create(role="" if user else role, user=user, defaults=values)
    return authority


def grant_event_data(grant: Grant) -> dict:
    """A grant in a webhook payload: ids, the amount and the decision."""
    return {
        "grant": grant.pk,
        "item": grant.item_id,
        "account": grant.account_id,
        "recipient": grant.recipient_id,
        "rep": grant.rep_id,
        "amount": grant.amount,
        "status": grant.status,
        "approver": grant.approver_id,
        "needs_admin": grant.needs_admin,
        "decided_by": grant.decided_by_id,
    }


def _lock_budgets(*, user: User, account: Account, recipient: Contact) -> None:
    """Serialise every grant that draws on the same budgets until this transaction ends.

    The month budget belongs to the user, the yearly ones to the account and the person, so
    those three rows are locked, always in this order (user, account, person) so that two
    transactions can never wait on each other in a cycle. FOR NO KEY UPDATE, because the
    grant and notification rows we insert take FOR KEY SHARE on users: a plain FOR UPDATE
    here would deadlock against a manager approving (his row locked) while notifying the rep.
    On SQLite this is a no-op: IMMEDIATE transactions already let one writer in at a time.
    """
    list(User.objects.select_for_update(no_key=True).filter(pk=user.pk).values_list("pk"))
    list(Account.objects.select_for_update(no_key=True).filter(pk=account.pk).values_list("pk"))
    list(Contact.objects.select_for_update(no_key=True).filter(pk=recipient.pk).values_list("pk"))


def _excess_text(excess: list[dict]) -> str:
    return "; ".join(
        _("%(label)s: %(total)s over the limit of %(limit)s by %(over)s")
        % {"label": e["label"], "total": money(e["total"]), "limit": money(e["limit_value"]), "over": money(e["over"])}
        for e in limits_exceeded(excess)
    )


# Rendered when formatted, so that each recipient's notice lists the excess in his language.
_excess_text_lazy = lazy(_excess_text, str)


def _notify_admins(*, message: str, params: dict, link: str) -> None:
    for admin in User.objects.active().filter(role=User.Role.ADMIN):
        notify(user=admin, message=message, params=params, link=link)


def grant_check(
    *,
    by: User,
    item: ServiceItem,
    quantity: int,
    account: Account,
    recipient: Contact,
    opportunity: Opportunity | None = None,
) -> tuple[ServiceItem, int, Decimal]:
    """grant_request's rules on what goes to whom (the preview applies them too): the item, quantity, amount."""
    quantity = quantity_check(quantity, field="quantity")
    if not access.accounts(by).filter(pk=account.pk).exists():
        raise ValidationError({"account": _("You can only grant on accounts you work on.")})
    if not Employment.objects.current().filter(contact=recipient, account=account).exists():
        raise ValidationError(
            {
                "recipient": _("%(person)s does not currently work at %(account)s.")
                % {"person": recipient, "account": account}
            }
        )
    if opportunity is not None and opportunity.account_id != account.pk:
        raise ValidationError(
            {"opportunity": _("%(deal)s is not a deal at %(account)s.") % {"deal": opportunity, "account": account}}
        )
    item = ServiceItem.objects.get(pk=item.pk)  # the current price and state, not the caller's copy
    if not item.active:
        raise ValidationError({"item": _("%(item)s is no longer in the catalog.") % {"item": item}})
    if item.max_quantity is not None and quantity > item.max_quantity:
        raise ValidationError(
            {"quantity": _("At most %(n)s of %(item)s per grant.") % {"n": item.max_quantity, "item": item}}
        )
    amount = item.unit_cost * quantity
    if amount > MAX_AMOUNT:
        raise ValidationError({"quantity": _("That quantity makes the amount too large.")})
    return item, quantity, amount


@transaction.atomic
def grant_request(
    *,
    by: User,
    item: ServiceItem,
    quantity: int,
    account: Account,
    recipient: Contact,
    reason: str,
    details: str = "",
    opportunity: Opportunity | None = None,
) -> Grant:
    """Grant an item to a person: approved at once within every limit, else pending for the manager."""
    item, quantity, amount = grant_check(
        by=by, item=item, quantity=quantity, account=account, recipient=recipient, opportunity=opportunity
    )
    if reason not in Grant.Reason.values:
        raise ValidationError({"reason": _("Choose a reason for the grant.")})

    _lock_budgets(user=by, account=account, recipient=recipient)
    now = timezone.now()
    excess = authority_excess(user=by, amount=amount, account=account, recipient=recipient, on=timezone.localdate(now))
    grant = Grant(
        item=item,
        quantity=quantity,
        unit_cost=item.unit_cost,
        amount=amount,
        account=account,
        recipient=recipient,
        opportunity=opportunity,
        rep=by,
        reason=reason,
        details=details.strip(),
        created_at=now,
    )
    if not excess:
        grant.status = Grant.Status.APPROVED
        grant.authorised_by = by
        grant.save()
        ledger_sums_grant(grant)
        return grant

    grant.status = Grant.Status.PENDING
    grant.over_limits = excess
    grant.approver = grant_approver(by=by)
    grant.needs_admin = grant.approver is None
    grant.save()
    ledger_sums_grant(grant)
    event_emit(event="grant.pending", data=grant_event_data(grant))
    message = gettext_lazy("%(rep)s asks to grant %(grant)s (%(amount)s) at %(account)s — over %(over)s.")
    params = {"rep": by, "grant": grant, "amount": amount, "account": account, "over": _excess_text_lazy(excess)}
    if grant.needs_admin:
        _notify_admins(message=message, params=params, link=grant.get_absolute_url())
    else:
        notify(user=grant.approver, message=message, params=params, link=grant.get_absolute_url())
    return grant


def _lock_pending(*, grant: Grant) -> Grant:
    grant = Grant.objects.select_for_update().select_related("item", "rep", "account", "recipient").get(pk=grant.pk)
    if not grant.is_pending:
        raise ValidationError(
            _("This grant is no longer pending (it is %(status)s).") % {"status": grant.get_status_display().lower()}
        )
    return grant


def _check_decider(*, grant: Grant, by: User) -> None:
    if grant.can_decide(by):
        return
    if grant.needs_admin:
        raise ValidationError(_("This grant is over your authority and waits for an admin."))
    if grant.approver_id != by.pk:
        raise ValidationError(
            _("Only %(approver)s (the rep's manager) or an admin can decide this grant.")
            % {"approver": grant.approver or _("an admin")}
        )


@transaction.atomic
def grant_approve(*, grant: Grant, by: User, note: str = "") -> Grant:
    """Approve a pending grant within the approver's own authority; over it, send it on to an admin.

    Returns the grant: approved, or still pending with `needs_admin` set when it went on.
    """
    # Same lock order as grant_request (user, account, person), then the grant itself.
    _lock_budgets(user=by, account=grant.account, recipient=grant.recipient)
    grant = _lock_pending(grant=grant)
    _check_decider(grant=grant, by=by)
    excess = authority_excess(
        user=by,
        amount=grant.amount,
        account=grant.account,
        recipient=grant.recipient,
        on=timezone.localdate(grant.created_at),
    )
    if excess:
        if by.is_admin:
            raise ValidationError(
                _("This grant exceeds your own authority: %(over)s.") % {"over": _excess_text(excess)}
            )
        grant.needs_admin = True
        grant.over_limits = [*grant.over_limits, *excess]
        grant.save(update_fields=["needs_admin", "over_limits"])
        # Still pending, now for the admins.
        event_emit(event="grant.pending", data=grant_event_data(grant))
        _notify_admins(
            message=gettext_lazy(
                "%(manager)s passed on %(rep)s's grant of %(grant)s (%(amount)s): over his authority, %(over)s."
            ),
            params={
                "manager": by,
                "rep": grant.rep,
                "grant": grant,
                "amount": grant.amount,
                "over": _excess_text_lazy(excess),
            },
            link=grant.get_absolute_url(),
        )
        return grant
    grant.status = Grant.Status.APPROVED
    grant.authorised_by = grant.decided_by = by
    grant.decided_at = timezone.now()
    grant.decision_note = note.strip()
    grant.save(update_fields=["status", "authorised_by", "decided_by", "decided_at", "decision_note"])
    ledger_sums_grant(grant)
    event_emit(event="grant.decided", data=grant_event_data(grant))
    notify(
        user=grant.rep,
        message=gettext_lazy("%(by)s approved your grant of %(grant)s."),
        params={"by": by, "grant": grant},
        link=grant.get_absolute_url(),
    )
    return grant


@transaction.atomic
def grant_reject(*, grant: Grant, by: User, note: str) -> Grant:
    """Refuse a pending grant, telling the rep why."""
    note = note.strip()
    if not note:
        raise ValidationError({"note": _("Say why the grant is rejected; the rep sees the note.")})
    grant = _lock_pending(grant=grant)
    _check_decider(grant=grant, by=by)
    grant.status = Grant.Status.REJECTED
    grant.decided_by = by
    grant.decided_at = timezone.now()
    grant.decision_note = note
    grant.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    ledger_sums_grant(grant)
    event_emit(event="grant.decided", data=grant_event_data(grant))
    notify(
        user=grant.rep,
        message=gettext_lazy("%(by)s rejected your grant of %(grant)s: %(note)s"),
        params={"by": by, "grant": grant, "note": note},
        link=grant.get_absolute_url(),
    )
    return grant


@transaction.atomic
def grant_cancel(*, grant: Grant, by: User) -> Grant:
    """Withdraw one's own pending grant (approved grants are never changed: a correction is a new entry)."""
    grant = _lock_pending(grant=grant)
    if not grant.can_cancel(by):
        raise ValidationError(_("Only %(rep)s, who asked for it, can cancel this grant.") % {"rep": grant.rep})
    grant.status = Grant.Status.CANCELLED
    grant.decided_by = by
    grant.decided_at = timezone.now()
    grant.save(update_fields=["status", "decided_by", "decided_at"])
    ledger_sums_grant(grant)
    return grant
