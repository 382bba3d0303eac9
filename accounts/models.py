import re
import unicodedata

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, pgettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from coachcrm.notes import note_text

# Legal-form words that do not tell two companies apart ("Acme Ltd" is "ACME").
_LEGAL_SUFFIXES = {
    "inc", "incorporated", "ltd", "limited", "llc", "llp", "plc", "gmbh", "ag", "sa", "sas",
    "srl", "spa", "bv", "nv", "co", "corp", "corporation", "company", "group", "holding",
    "holdings", "oy", "ab", "as", "kg", "pty", "the",
}  # fmt: skip
_CJK_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司", "集团", "公司")


def normalize_company_name(name: str) -> str:
    """The key under which two spellings of one company name are the same account."""
    text = unicodedata.normalize("NFKC", name).casefold().strip()
    for suffix in _CJK_SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix):
            text = text[: -len(suffix)]
    text = text.replace("&", " and ")
    words = [w for w in re.split(r"[^\w]+", text) if w]
    while len(words) > 1 and (words[-1] in _LEGAL_SUFFIXES or words[-1] == "and"):
        words.pop()
    if len(words) > 1 and words[0] == "the":
        words.pop(0)
    return " ".join(words)


def pgettext_noop(context: str, message: str) -> str:
    """Mark `message` for the catalog under `context` and return it unchanged (Django has no such marker).

    For names stored in English and translated on display with `pgettext(context, name)`;
    the project's makemessages reads this keyword (coachcrm/management/commands/makemessages.py).
    """
    return message


class NamedLookup(models.Model):
    name = models.CharField(_("name"), max_length=80, unique=True)

    # The catalog context of the names: "Finance" the industry (金融) is not "Finance" the
    # function of a position (财务), so each kind of lookup is translated under its own.
    label_context = ""

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self):
        return self.label

    @property
    def label(self) -> str:
        """The name in the user's language: the demo's names are in the catalog (demo/accounts.py), others as typed."""
        return pgettext(self.label_context, self.name)


class Region(NamedLookup):
    label_context = "region"

    class Meta(NamedLookup.Meta):
        verbose_name = _("region")


class Industry(NamedLookup):
    label_context = "industry"

    class Meta(NamedLookup.Meta):
        verbose_name = _("industry")
        verbose_name_plural = _("industries")


class ProductLine(NamedLookup):
    label_context = "product line"

    class Meta(NamedLookup.Meta):
        verbose_name = _("product line")


class AccountQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Accounts the user may see: an admin all; a rep those he owns, holds a coach at or his territories
        cover; a manager his team's."""
        if user.is_admin:
            return self
        return self.filter(pk__in=visible_account_ids(user))


def visible_account_ids(user):
    """The ids of the accounts a (non-admin) user may see, as one subquery: deals, grants and people scope by it.

    A UNION of three id sets, each answered from an index: owned (`owner`), held (the holders'
    `user`) and covered by an active territory of his (`TerritoryCoverage`, which the services keep,
    so the territory rules are not tested against every account on every page).
    """
    from coaches.models import Holder
    from team.models import TerritoryCoverage, User

    def by(field: str) -> dict:
        # A rep by his id as a constant, which PostgreSQL estimates from its statistics (a rep in
        # no territory: no coverage rows), so his pages use the indexes; a manager by his team.
        return {f"{field}__in": User.objects.team_of(user)} if user.is_manager else {field: user.pk}

    owned = Account.objects.filter(**by("owner")).order_by().values("pk")
    held = Holder.objects.filter(**by("user")).order_by().values("coach__account_id")
    covered = TerritoryCoverage.objects.filter(territory__active=True, **by("user")).order_by().values("account_id")
    return owned.union(held, covered)


class Account(models.Model):
    class SizeTier(models.TextChoices):
        KEY = "key", _("Key account")
        MID = "mid", _("Mid-size")
        SMALL = "small", _("Small")

    name = models.CharField(_("name"), max_length=200)
    # Kept by the services from `name`; the unique index is what makes deduplication hold
    # under concurrent creates.
    normalized_name = models.CharField(max_length=200, unique=True, editable=False)
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="accounts")
    industry = models.ForeignKey(
        Industry, verbose_name=_("industry"), on_delete=models.PROTECT, related_name="accounts"
    )
    size_tier = models.CharField(_("size tier"), max_length=8, choices=SizeTier.choices, default=SizeTier.MID)
    product_lines = models.ManyToManyField(
        ProductLine, verbose_name=_("product lines"), blank=True, related_name="accounts"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="owned_accounts"
    )
    notes = models.TextField(_("notes"), blank=True)
    # The territory that routed it to its owner (account_create); account_reassign empties it.
    territory = models.ForeignKey(
        "team.Territory",
        verbose_name=_("territory"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="routed_accounts",
    )
    # Why the owner owns it ("Owner via territory East, rule 2, round-robin"), as facts worded
    # for each reader (coachcrm.notes): set by the routing in account_create, by account_reassign
    # and by a departure. `assignment_note` keeps the sentences written before there were facts.
    assignment_note = models.CharField(_("why this owner"), max_length=300, blank=True)
    assignment_facts = models.JSONField(_("why this owner"), default=dict, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    history = HistoricalRecords()
    objects = AccountQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("account")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("accounts:account-detail", args=[self.pk])

    @property
    def assignment_note_display(self) -> str:
        """Why the owner owns it, in the reader's language ("" when nothing was recorded)."""
        return note_text(self.assignment_facts, self.assignment_note)


class ContactQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Contacts who hold or held a position at an account the user may see."""
        if user.is_admin:
            return self
        positions = Employment.objects.filter(account_id__in=visible_account_ids(user))
        return self.filter(pk__in=positions.values("contact_id"))

    def with_email_key(self):
        """People with an e-mail, annotated `email_key` (lower case): the key deduplication matches on."""
        # `email <> ''` repeats the condition of the partial unique index on LOWER(email):
        # without it PostgreSQL cannot use that index and scans every contact for each lookup.
        return self.exclude(email="").annotate(email_key=Lower("email"))


class Contact(models.Model):
    first_name = models.CharField(_("first name"), max_length=80)
    last_name = models.CharField(_("last name"), max_length=80)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    # Set when a coach moves and was on deals we won: such people's new prospects come first.
    past_buyer = models.BooleanField(_("past buyer"), default=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    history = HistoricalRecords()
    objects = ContactQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name"]
        verbose_name = _("contact")
        constraints = [
            models.UniqueConstraint(Lower("email"), condition=~Q(email=""), name="contact_email_unique"),
        ]

    def __str__(self):
        return f"{self.first_name} {self.last_name}".strip()

    def get_absolute_url(self):
        return reverse("accounts:contact-detail", args=[self.pk])

    @property
    def full_name(self) -> str:
        return str(self)


class EmploymentQuerySet(models.QuerySet):
    def current(self):
        return self.filter(end_date__isnull=True)

    def former(self):
        return self.filter(end_date__isnull=False)


class Employment(models.Model):
    class Function(models.TextChoices):
        HR = "hr", _("HR")
        IT = "it", _("IT")
        FINANCE = "finance", pgettext_lazy("function of a position", "Finance")
        PROCUREMENT = "procurement", _("Procurement")
        OPERATIONS = "operations", _("Operations")
        EXECUTIVE = "executive", _("Executive")
        OTHER = "other", _("Other")

    class Seniority(models.TextChoices):
        STAFF = "staff", _("Staff")
        MANAGER = "manager", _("Manager")
        DIRECTOR = "director", _("Director")
        VP = "vp", _("Vice president")
        C_LEVEL = "c_level", _("C-level")

    contact = models.ForeignKey(
        Contact, verbose_name=_("contact"), on_delete=models.CASCADE, related_name="employments"
    )
    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="employments"
    )
    title = models.CharField(_("title"), max_length=120)
    function = models.CharField(_("function"), max_length=16, choices=Function.choices, default=Function.OTHER)
    seniority = models.CharField(_("seniority"), max_length=16, choices=Seniority.choices, default=Seniority.STAFF)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"), null=True, blank=True)

    history = HistoricalRecords()
    objects = EmploymentQuerySet.as_manager()

    class Meta:
        ordering = ["-start_date", "-pk"]
        verbose_name = _("position")
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="employment_ends_after_start",
            ),
            # A person holds one current position; a move ends the old one first.
            models.UniqueConstraint(
                fields=["contact"], condition=Q(end_date__isnull=True), name="employment_one_current"
            ),
        ]
        indexes = [models.Index(fields=["account", "end_date"])]

    def __str__(self):
        return gettext("%(title)s at %(account)s") % {"title": self.title, "account": self.account}

    @property
    def is_current(self) -> bool:
        return self.end_date is None
