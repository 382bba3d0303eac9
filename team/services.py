import datetime
from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Exists
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from knox.models import AuthToken
from knox.settings import knox_settings

from coachcrm.notes import note_facts
from coachcrm.templatetags.crm import money
from team.models import Notification, Territory, TerritoryCoverage, User


@transaction.atomic
def user_deactivate(*, user: User, by: User) -> User:
    """Switch a user off without deleting anything he ever touched."""
    if not by.is_admin:
        raise ValidationError(_("Only an admin can deactivate users."))
    if user.pk == by.pk:
        raise ValidationError(_("You cannot deactivate yourself."))
    user.is_active = False
    user.save(update_fields=["is_active"])
    api_tokens_revoke(user=user)
    return user


@transaction.atomic
def api_token_create(*, user: User) -> tuple[AuthToken, str]:
    """A new API token for one client of the user: (the stored row, the token string, shown only now)."""
    # Locks the user's row so that two logins at once cannot both pass the limit.
    User.objects.select_for_update().filter(pk=user.pk).first()
    # Expired tokens are swept here too (knox only sweeps them when one of his tokens is used),
    # so that what remains are the live ones the limit counts.
    AuthToken.objects.filter(user=user, expiry__lte=timezone.now()).delete()
    limit = knox_settings.TOKEN_LIMIT_PER_USER
    if limit is not None and AuthToken.objects.filter(user=user).count() >= limit:
        raise ValidationError(
            _(
                "You already have %(limit)s API tokens. Log out a client you no longer use "
                "(DELETE /api/v1/auth/token/ with its token), or revoke them all "
                "(DELETE /api/v1/users/%(id)s/token/)."
            )
            % {"limit": limit, "id": user.pk},
            code="token_limit",
        )
    return AuthToken.objects.create(user=user)


def api_token_revoke(*, token: AuthToken) -> None:
    """Log one client out: the other clients' tokens of the user keep working."""
    token.delete()


def api_tokens_revoke(*, user: User) -> int:
    """Revoke every API token of the user (all his clients); how many there were."""
    deleted, _by_model = AuthToken.objects.filter(user=user).delete()
    return deleted


def _require_admin(by: User) -> None:
    if not by.is_admin:
        raise ValidationError(_("Only an admin can manage users."))


def user_manager_check(*, user: User, manager: User | None) -> None:
    if manager is None:
        return
    if manager.pk is not None and manager.pk == user.pk:
        raise ValidationError({"manager": _("A user cannot be his own manager.")})
    if not manager.is_manager:
        raise ValidationError({"manager": _("%(name)s is not a manager.") % {"name": manager}})


@transaction.atomic
def user_create(
    *,
    by: User,
    username: str,
    password: str = "",
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    role: str = User.Role.REP,
    manager: User | None = None,
    selling_style: str = User.SellingStyle.UNKNOWN,
) -> User:
    """Add a user (admins only); without a password he cannot log in until one is set."""
    _require_admin(by)
    username = username.strip()
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": _("The user name %(name)s is taken.") % {"name": username}})
    user = User(
        username=username,
        first_name=first_name,
        last_name=last_name,
        email=email,
        role=role,
        selling_style=selling_style,
    )
    user_manager_check(user=user, manager=manager)
    user.manager = manager
    if password:
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise ValidationError({"password": error.messages}) from error
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    return user


@transaction.atomic
def user_update(*, user: User, by: User, **fields) -> User:
    """Change a user's name, e-mail, role, manager or selling style (admins only)."""
    _require_admin(by)
    if "manager" in fields:
        user_manager_check(user=user, manager=fields["manager"])
    if user.pk == by.pk and fields.get("role", by.role) != by.role:
        raise ValidationError({"role": _("You cannot change your own role.")})
    if fields.get("role", User.Role.MANAGER) != User.Role.MANAGER and user.reports.exists():
        raise ValidationError(
            {"role": _("%(name)s still manages people; give them another manager first.") % {"name": user}}
        )
    for field, value in fields.items():
        setattr(user, field, value)
    user.save()
    return user


def notify(*, user: User, message: str, params: dict | None = None, link: str = "", email: bool = True) -> Notification:
    """Tell a user something in the app and, by default, by e-mail once the transaction commits.

    Pass `message` as a gettext_lazy msgid and its `params`: the notice is rendered in the
    recipient's language (his choice, else the site default), not in the language of whoever
    triggered it. Lazy params (model instances, lazy strings, `note_text_lazy`) are
    rendered in it too, amounts (`Decimal`) as money and dates in his locale's format.
    """
    with translation.override(user.language or settings.LANGUAGE_CODE):
        text = str(message) % _notice_params(params) if params is not None else str(message)
        subject = _("CoachCRM: %(message)s") % {"message": text[:80]}
    notification = Notification.objects.create(user=user, message=text[:500], link=link)
    if email and user.email:
        transaction.on_commit(
            lambda: send_mail(
                subject=subject,
                message=text + (f"\n\n{link}" if link else ""),
                from_email=None,
                recipient_list=[user.email],
                fail_silently=True,
            )
        )
    return notification


def _notice_params(params: dict) -> dict:
    """A notice's parameters as its recipient reads them: amounts as money, dates in his locale's format."""
    formatted = {}
    for name, value in params.items():
        if isinstance(value, Decimal):
            # Every amount in a notice is money, in the CRM's currency (the `money` filter's rule).
            value = money(value)
        elif isinstance(value, datetime.datetime):
            value = formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
        elif isinstance(value, datetime.date):
            value = formats.date_format(value, "SHORT_DATE_FORMAT")
        formatted[name] = value
    return formatted


@transaction.atomic
def notifications_mark_read(*, user: User) -> int:
    """Mark all of the user's notices read."""
    return Notification.objects.filter(user=user).unread().update(read_at=timezone.now())


def user_set_language(*, user: User, language: str) -> User:
    """Remember the user's interface language ("" follows the browser)."""
    if language and language not in dict(settings.LANGUAGES):
        raise ValidationError(_("Unknown language: %(code)s.") % {"code": language})
    user.language = language
    user.save(update_fields=["language"])
    return user


# --- territories ----------------------------------------------------------------------------


def _require_admin(by: User) -> None:
    if not by.is_admin:
        raise ValidationError(_("Only an admin can edit territories."))


def _territory_fields(*, name: str, members, territory: Territory | None = None) -> dict:
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Enter a name.")})
    if Territory.objects.exclude(pk=territory.pk if territory else None).filter(name__iexact=name).exists():
        raise ValidationError({"name": _("There is already a territory called %(name)s.") % {"name": name}})
    members = list(members)
    # Only new members are checked: a member who has since left stays until removed, and
    # routing skips him, so renaming the territory does not fail over him.
    current = set(territory.members.values_list("pk", flat=True)) if territory else set()
    unavailable = [str(m) for m in members if m.pk not in current and not (m.is_rep and m.can_log_in)]
    if unavailable:
        raise ValidationError(
            {"members": _("Only active sales reps can be members: %(names)s.") % {"names": ", ".join(unavailable)}}
        )
    return {"name": name, "members": members}


@transaction.atomic
def territory_create(
    *,
    by: User,
    name: str,
    members=(),
    region=None,
    product_line=None,
    size_tier: str = "",
    industry=None,
) -> Territory:
    """Add a territory at the end of the precedence order."""
    _require_admin(by)
    fields = _territory_fields(name=name, members=members)
    # Lock the last territory so that two admins adding at once do not pick the same order.
    last = Territory.objects.select_for_update().order_by("-order").first()
    territory = Territory.objects.create(
        name=fields["name"],
        order=(last.order + 1) if last else 1,
        region=region,
        product_line=product_line,
        size_tier=size_tier,
        industry=industry,
    )
    territory.members.set(fields["members"])
    coverage_refresh(territories=[territory.pk])
    return territory


@transaction.atomic
def territory_update(*, territory: Territory, by: User, **fields) -> Territory:
    """Change a territory's name, members or rule; accounts already routed keep their owners."""
    _require_admin(by)
    territory = Territory.objects.select_for_update().get(pk=territory.pk)
    checked = _territory_fields(
        name=fields.pop("name", territory.name),
        members=fields.pop("members", territory.members.all()),
        territory=territory,
    )
    territory.name = checked["name"]
    for field in ("region", "product_line", "size_tier", "industry", "active"):
        if field in fields:
            setattr(territory, field, fields.pop(field))
    if fields:
        raise ValidationError(_("Unknown territory fields: %(names)s.") % {"names": ", ".join(sorted(fields))})
    territory.save()
    territory.members.set(checked["members"])
    coverage_refresh(territories=[territory.pk])
    return territory


@transaction.atomic
def territory_deactivate(*, territory: Territory, by: User) -> Territory:
    """Stop a territory routing accounts and widening visibility; it stays, with its history."""
    _require_admin(by)
    territory = Territory.objects.select_for_update().get(pk=territory.pk)
    if not territory.active:
        raise ValidationError(_("%(name)s is already inactive.") % {"name": territory})
    territory.active = False
    territory.save(update_fields=["active"])
    coverage_refresh(territories=[territory.pk])
    return territory


COVERAGE_CHUNK = 5000


@transaction.atomic
def coverage_refresh(*, territories=None, accounts=None) -> int:
    """Rewrite which accounts the active territories' rules cover, member by member; the rows written.

    Every service that changes a territory's rule, members or activity, or an account's region,
    industry, size or product lines, calls it for what it changed (`None`: every territory /
    account). The rule itself is `territory_rule`, through `Territory.objects.covering_ref`.
    """
    from accounts.models import Account

    if isinstance(accounts, list | tuple | set) and len(accounts) > COVERAGE_CHUNK:
        # An import's ids, in pieces a database takes as query parameters (SQLite: 32,766).
        ids = list(accounts)
        return sum(
            coverage_refresh(territories=territories, accounts=ids[start : start + COVERAGE_CHUNK])
            for start in range(0, len(ids), COVERAGE_CHUNK)
        )
    stale = TerritoryCoverage.objects.all()
    scope = Account.objects.all()
    chosen = Territory.objects.active()
    if territories is not None:
        stale, chosen = stale.filter(territory__in=territories), chosen.filter(pk__in=territories)
    if accounts is not None:
        stale, scope = stale.filter(account__in=accounts), scope.filter(pk__in=accounts)
    stale.delete()
    members = defaultdict(list)
    for territory_id, user_id in Territory.members.through.objects.filter(territory__in=chosen).values_list(
        "territory_id", "user_id"
    ):
        members[territory_id].append(user_id)
    rows = [
        TerritoryCoverage(user_id=user_id, territory_id=territory_id, account_id=account_id)
        for territory_id, users in members.items()
        for account_id in scope.filter(Exists(Territory.objects.covering_ref().filter(pk=territory_id))).values_list(
            "pk", flat=True
        )
        for user_id in users
    ]
    # ignore_conflicts: two refreshes of one account racing write the same rows.
    TerritoryCoverage.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    return len(rows)


@transaction.atomic
def territory_move(*, territory: Territory, by: User, up: bool) -> Territory:
    """Swap a territory's precedence with its neighbour above (up) or below."""
    _require_admin(by)
    # Lock every territory: a swap touches two rows and must not interleave with another move.
    territories = list(Territory.objects.select_for_update().order_by("order"))
    index = next(i for i, t in enumerate(territories) if t.pk == territory.pk)
    other_index = index - 1 if up else index + 1
    if not 0 <= other_index < len(territories):
        # Two whole sentences: "first"/"last" spliced into one would not translate.
        message = _("%(name)s is already the first.") if up else _("%(name)s is already the last.")
        raise ValidationError(message % {"name": territories[index]})
    this, other = territories[index], territories[other_index]
    # `order` is unique: park one row on a free number so the swap never collides mid-way.
    this_order, other_order = this.order, other.order
    this.order = territories[-1].order + 1
    this.save(update_fields=["order"])
    other.order = this_order
    other.save(update_fields=["order"])
    this.order = other_order
    this.save(update_fields=["order"])
    return this


@transaction.atomic
def territory_route(*, account, by: User, product_line_ids=None) -> tuple[User, Territory | None, dict]:
    """Who gets a new account: round-robin in the first matching territory with an available member, else `by`.

    Returns the owner, the territory and the facts of why (`Account.assignment_facts`).
    """
    return _route(territories=Territory.objects.covering(account, product_line_ids), by=by)


def territory_router(*, by: User):
    """`territory_route` for many new accounts (imports): the covering territories are read once per kind of account."""
    covering = {}

    def route(*, account, product_line_ids) -> tuple[User, Territory | None, dict]:
        key = (account.region_id, account.industry_id, account.size_tier, tuple(sorted(product_line_ids)))
        if key not in covering:
            covering[key] = list(Territory.objects.covering(account, product_line_ids))
        return _route(territories=covering[key], by=by)

    return route


def _route(*, territories, by: User) -> tuple[User, Territory | None, dict]:
    skipped = []
    for territory in territories:
        # Lock the territory row: two accounts created at once must not both read the same
        # cursor and go to the same member (on SQLite the IMMEDIATE transaction serialises).
        locked = Territory.objects.select_for_update().get(pk=territory.pk)
        owner = locked.next_member(after_id=locked.last_assigned_id)
        if owner is None:
            skipped.append(locked.name)
            continue
        Territory.objects.filter(pk=locked.pk).update(last_assigned=owner)
        why = note_facts(
            "territory",
            territory=locked.name,
            order=locked.order,
            members=locked.members.available().count(),
            skipped=skipped,
        )
        return owner, locked, why
    return by, None, note_facts("no_territory", by=by, skipped=skipped)
