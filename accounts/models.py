# Accounts, contacts and employments (the career timeline), the lookups, and territories with their coverage.
import re
import unicodedata

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.db import models
from django.db.models import CharField, F, Func, Q, TextField, Value
from django.db.models.functions import Concat, Lower, Replace
from django.utils import timezone
from django.utils.translation import gettext, pgettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from coachcrm.links import reverse_pk
from coachcrm.merge import reference_label
from coachcrm.notes import note_text
from team.models import User

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
        verbose_name_plural = _("regions")


class Industry(NamedLookup):
    label_context = "industry"

    class Meta(NamedLookup.Meta):
        verbose_name = _("industry")
        verbose_name_plural = _("industries")


class ProductLine(NamedLookup):
    label_context = "product line"

    class Meta(NamedLookup.Meta):
        verbose_name = _("product line")
        verbose_name_plural = _("product lines")


def account_name_key():
    """The key under which two accounts may be one company: the normalised name without its spaces.

    `normalized_name` itself is unique, so "CedarHealth" and "Cedar Health" are what is left to find.
    """
    return Replace(F("normalized_name"), Value(" "), Value(""))


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
        "Territory",
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
    # Its ids in the CRM it was imported from (csvio.ExternalId), deleted with it, moved by a merge.
    external_ids = GenericRelation("csvio.ExternalId")

    class Meta:
        ordering = ["name"]
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        indexes = [
            # The possible-duplicates list groups by it (accounts.selectors.duplicate_pairs).
            models.Index(account_name_key(), name="account_name_key"),
            # The account list's order: its first page is read off the index instead of sorting
            # every visible account (an admin's 20,000: 28 -> 1 ms).
            models.Index(fields=["name", "id"], name="account_by_name"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse_pk("accounts:account-detail", self.pk)

    @property
    def assignment_note_display(self) -> str:
        """Why the owner owns it, in the reader's language ("" when nothing was recorded)."""
        return note_text(self.assignment_facts, self.assignment_note)


class PersonText(Func):
    """A person's first name, last name, e-mail and phone as one string, space-separated.

    What the global search matches, and (upper-cased) the expression of the trigram index of
    agenda's migration 0004, so that one index answers the four fields.
    """

    template = "(%(expressions)s)"
    arg_joiner = " || ' ' || "
    output_field = TextField()

    def __init__(self):
        super().__init__(*(F(field) for field in ("first_name", "last_name", "email", "phone")))


class ContactQuerySet(models.QuerySet):
    def matching(self, q: str):
        """People whose first name, last name, e-mail or phone contains `q` (case-insensitive)."""
        if " " in q:
            # A space could span two fields of the joined string ("Smith john@"): match them one
            # by one, and "first last" as the two names (no index answers this rarer case).
            first, _space, last = q.partition(" ")
            return self.filter(
                Q(first_name__icontains=q)
                | Q(last_name__icontains=q)
                | Q(email__icontains=q)
                | Q(phone__icontains=q)
                | Q(first_name__icontains=first, last_name__icontains=last)
            )
        # Without a space `q` cannot span fields: containing it in the joined string is containing
        # it in one of them, and one trigram index answers that (four of them, PostgreSQL skipped).
        return self.annotate(person_text=PersonText()).filter(person_text__icontains=q)

    def with_email_key(self):
        """People with an e-mail, annotated `email_key` (lower case): the key deduplication matches on."""
        # `email <> ''` repeats the condition of the partial unique index on LOWER(email):
        # without it PostgreSQL cannot use that index and scans every contact for each lookup.
        return self.exclude(email="").annotate(email_key=Lower("email"))


class EmailKey(Func):
    """An e-mail in lower case without its "+tag": jane+crm@acme.com and Jane@acme.com are one inbox.

    E-mails are unique case-insensitively (contact_email_unique), so the tag is what is left to match.
    The same value on both databases, and immutable, so an index holds it.
    """

    output_field = CharField()

    def __init__(self, field: str = "email"):
        super().__init__(F(field))

    def as_sql(self, compiler, connection, **extra):
        x = "%(expressions)s"
        extra["template"] = (
            f"LOWER(CASE WHEN INSTR({x}, '+') > 0 AND INSTR({x}, '+') < INSTR({x}, '@')"
            f" THEN SUBSTR({x}, 1, INSTR({x}, '+') - 1) || SUBSTR({x}, INSTR({x}, '@')) ELSE {x} END)"
        )
        return super().as_sql(compiler, connection, **extra)

    def as_postgresql(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, template=r"REGEXP_REPLACE(LOWER(%(expressions)s), '\+[^@]*@', '@')")


# Characters a phone number is written with besides its digits: "+1 (555) 010-0.00/1" is 15550100001.
PHONE_PUNCTUATION = " -().+/"


def contact_phone_key():
    """The digits of a person's phone: the key two people's phones match on."""
    key = F("phone")
    for character in PHONE_PUNCTUATION:
        key = Replace(key, Value(character), Value(""))
    return key


def contact_name_key():
    """A person's full name in lower case: the key two people's names match on."""
    return Concat(Lower("first_name"), Value(" "), Lower("last_name"), output_field=CharField())


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
    # Its ids in the CRM it was imported from (csvio.ExternalId), deleted with it, moved by a merge.
    external_ids = GenericRelation("csvio.ExternalId")
    objects = ContactQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        constraints = [
            models.UniqueConstraint(Lower("email"), condition=~Q(email=""), name="contact_email_unique"),
        ]
        indexes = [
            # The contact list's order: a page of 25 is read off the index, each person tested against
            # the scope, instead of sorting every visible person (a manager's 31,000, an admin's 100,000).
            models.Index(fields=["last_name", "first_name", "id"], name="contact_by_name"),
            # The possible-duplicates list groups by these (accounts.selectors.duplicate_pairs).
            models.Index(EmailKey(), condition=~Q(email=""), name="contact_email_key"),
            models.Index(contact_phone_key(), condition=~Q(phone=""), name="contact_phone_key"),
            models.Index(contact_name_key(), name="contact_name_key"),
        ]

    def __str__(self):
        return f"{self.first_name} {self.last_name}".strip()

    def get_absolute_url(self):
        return reverse_pk("accounts:contact-detail", self.pk)

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
    # The reporting line in this position, when known: drawn as the org chart of the buying committee.
    reports_to = models.ForeignKey(
        Contact,
        verbose_name=_("reports to"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="direct_reports",
    )

    history = HistoricalRecords()
    objects = EmploymentQuerySet.as_manager()

    class Meta:
        ordering = ["-start_date", "-pk"]
        verbose_name = _("position")
        verbose_name_plural = _("positions")
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


# --- territories ----------------------------------------------------------------------------
# They lived in the team app until the apps were layered: their tables keep its names
# (`db_table`, `table_name`), so moving them changed no table (migrations accounts 0007, team 0008).


class HistoryInTeamTables(HistoricalRecords):
    """HistoricalRecords whose many-to-many history keeps its table of the team app too.

    django-simple-history names that table after the model's app and offers no option for it.
    """

    def get_meta_options_m2m(self, through_model):
        options = super().get_meta_options_m2m(through_model)
        return {**options, "db_table": "team_" + self.get_history_model_name(through_model).lower()}


class TerritoryQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)

    def in_precedence(self):
        return self.order_by("order", "pk")

    def covering(self, account, product_line_ids=None):
        """Active territories whose rule matches the account, first by precedence.

        `product_line_ids` stands in for the account's product lines while it is not saved yet.
        """
        if product_line_ids is None:
            product_line_ids = account.product_lines.values("pk")
        rule = territory_rule(
            region=account.region_id,
            industry=account.industry_id,
            size_tier=account.size_tier,
            product_lines=product_line_ids,
        )
        return self.active().filter(rule).in_precedence()

    def covering_ref(self, depth: int = 1):
        """Active territories matching the account of an enclosing query, `depth` queries out."""
        product_lines = Account.product_lines.through.objects.filter(account_id=outer_ref("pk", depth + 1))
        rule = territory_rule(
            region=outer_ref("region_id", depth),
            industry=outer_ref("industry_id", depth),
            size_tier=outer_ref("size_tier", depth),
            product_lines=product_lines.values("productline_id"),
        )
        return self.active().filter(rule).in_precedence()


def territory_rule(*, region, industry, size_tier, product_lines) -> Q:
    """A territory matches when each of its four conditions is empty ("any") or equals the account's."""
    return (
        (Q(region__isnull=True) | Q(region_id=region))
        & (Q(industry__isnull=True) | Q(industry_id=industry))
        & (Q(size_tier="") | Q(size_tier=size_tier))
        & (Q(product_line__isnull=True) | Q(product_line_id__in=product_lines))
    )


def outer_ref(name: str, depth: int = 1):
    """A reference to a field of the query `depth` levels out (1 is plain OuterRef)."""
    ref = name
    for _level in range(depth):
        ref = models.OuterRef(ref)
    return ref


class Territory(models.Model):
    """A rule over region, product line, size tier and industry that routes new accounts to its members."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    # Precedence: the first active territory (lowest order) whose rule matches an account wins it.
    order = models.PositiveIntegerField(_("precedence"), unique=True)
    members = models.ManyToManyField(
        User, verbose_name=_("members"), blank=True, related_name="territories", db_table="team_territory_members"
    )
    region = models.ForeignKey(
        "accounts.Region",
        verbose_name=_("region"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="territories",
    )
    product_line = models.ForeignKey(
        "accounts.ProductLine",
        verbose_name=_("product line"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="territories",
    )
    size_tier = models.CharField(_("size tier"), max_length=8, choices=Account.SizeTier.choices, blank=True)
    industry = models.ForeignKey(
        "accounts.Industry",
        verbose_name=_("industry"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="territories",
    )
    active = models.BooleanField(_("active"), default=True)
    # The round-robin cursor: the member who got the last routed account. Moved with
    # queryset.update() under a row lock, so it leaves no history row per account.
    last_assigned = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    history = HistoryInTeamTables(
        m2m_fields=[members], excluded_fields=["last_assigned"], table_name="team_historicalterritory"
    )
    objects = TerritoryQuerySet.as_manager()

    class Meta:
        db_table = "team_territory"
        ordering = ["order", "pk"]
        verbose_name = _("territory")
        verbose_name_plural = _("territories")

    def __str__(self):
        return self.name

    def next_member(self, *, after_id: int | None, exclude: User | None = None, members=None) -> User | None:
        """The member who may take new work after `after_id`, in a fixed order (by id), wrapping.

        `members`: the territory's available members by id, when the caller read them already.
        """
        if members is None:
            members = self.members.available().order_by("pk")
        members = [m for m in members if exclude is None or m.pk != exclude.pk]
        later = [m for m in members if after_id is not None and m.pk > after_id]
        return (later or members or [None])[0]

    def matches(self, *, region_id, industry_id, size_tier: str, product_line_ids) -> bool:
        """The rule of `territory_rule`, for accounts already in memory (bulk work)."""
        return (
            self.region_id in (None, region_id)
            and self.industry_id in (None, industry_id)
            and self.size_tier in ("", size_tier)
            and (self.product_line_id is None or self.product_line_id in product_line_ids)
        )

    def rule_display(self) -> str:
        """The rule in words: "East · Key account · any industry · any product line"."""
        parts = [
            str(self.region) if self.region_id else _("any region"),
            str(self.product_line) if self.product_line_id else _("any product line"),
            self.get_size_tier_display() if self.size_tier else _("any size"),
            str(self.industry) if self.industry_id else _("any industry"),
        ]
        return " · ".join(str(p) for p in parts)


class TerritoryCoverage(models.Model):
    """A member of an active territory whose rule covers an account: derived data, kept by
    `accounts.territories.coverage_refresh`.

    "The accounts my territories cover" is then an index lookup on the user, which PostgreSQL
    also estimates right (a rep in no territory has no rows), instead of every territory's rule
    tested against every account on every page.
    """

    # The leading column of the unique index, which serves the lookups by user.
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+", db_index=False)
    territory = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="coverage")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="coverage")

    class Meta:
        db_table = "team_territorycoverage"
        constraints = [
            models.UniqueConstraint(fields=["user", "account", "territory"], name="territory_covers_once"),
        ]

    def __str__(self):
        return f"{self.territory_id} covers {self.account_id} for {self.user_id}"


class RecordMerge(models.Model):
    """A merge of two duplicates: the record that went, by name, and what moved to the one that stayed.

    The loser is deleted (its own history keeps its last state, the "deleted" row); this log is
    what the survivor's page shows, so nobody wonders where "Cedar Health Inc" went.
    """

    class Kind(models.TextChoices):
        ACCOUNT = "account", _("account")
        CONTACT = "contact", _("contact")

    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    account = models.ForeignKey(
        Account, verbose_name=_("account"), null=True, blank=True, on_delete=models.CASCADE, related_name="merges"
    )
    contact = models.ForeignKey(
        Contact, verbose_name=_("contact"), null=True, blank=True, on_delete=models.CASCADE, related_name="merges"
    )
    merged_id = models.PositiveIntegerField(_("id of the merged record"))
    merged_name = models.CharField(_("merged record"), max_length=200)
    # What moved, as {label: count} in the merger's words at the time (a log, like the history).
    moved = models.JSONField(_("moved"), default=dict, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    merged_at = models.DateTimeField(_("merged"), default=timezone.now)

    class Meta:
        ordering = ["-merged_at", "-pk"]
        verbose_name = _("merge")
        verbose_name_plural = _("merges")

    def __str__(self):
        return f"{self.merged_name} → {self.account or self.contact}"

    def moved_display(self) -> list[tuple[str, int]]:
        """What moved, in the reader's words: [("opportunities", 3), …]."""
        return [(reference_label(key, n), n) for key, n in sorted(self.moved.items())]


class NotDuplicate(models.Model):
    """Two records someone said are not duplicates: the possible-duplicates list no longer shows the pair.

    `first` is the lower id (the unique index on both answers the lookups by it). The rows go with
    either record (a merge deletes the loser's).
    """

    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    dismissed_at = models.DateTimeField(_("dismissed"), default=timezone.now)

    class Meta:
        abstract = True
        ordering = ["-dismissed_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["first", "second"], name="%(class)s_unique"),
            models.CheckConstraint(condition=Q(first__lt=F("second")), name="%(class)s_ordered"),
        ]

    def __str__(self):
        return f"{self.first} ≠ {self.second}"


class AccountNotDuplicate(NotDuplicate):
    first = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+", db_index=False)
    second = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")

    class Meta(NotDuplicate.Meta):
        verbose_name = _("accounts that are not duplicates")
        verbose_name_plural = _("accounts that are not duplicates")


class ContactNotDuplicate(NotDuplicate):
    first = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+", db_index=False)
    second = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")

    class Meta(NotDuplicate.Meta):
        verbose_name = _("people who are not duplicates")
        verbose_name_plural = _("people who are not duplicates")
