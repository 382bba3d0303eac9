"""CSV importer of deals (opportunities), from this project's export or another CRM's.

Every row goes through `opportunity_import`, so the coach gate holds: a deal in a stage its
account's missing coach bars is imported before the gate and held back, which the dry run
says row by row. Closed deals keep their status and close date, for the dashboard's history.
"""

import re
from decimal import Decimal, InvalidOperation
from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

import access
from accounts.importers import accounts_by_external_id, accounts_by_name, owner_keys, row_account
from accounts.models import ProductLine
from coachcrm.inputs import amount_check
from coaches.models import REAL_COACH, Coach, CoachRequirement
from csvio import external_ids
from csvio.importers import CREATED, DUPLICATE, UPDATED, Importer, Plan, RowError, chunks, fold
from pipeline import services
from pipeline.models import Opportunity, Stage
from team.models import User


def _syn(**lists: tuple[str, ...]) -> dict[str, str]:
    return {fold(synonym): name for name, synonyms in lists.items() for synonym in synonyms}


# HubSpot's default pipeline (internal values and labels) and Salesforce's default stage picklist,
# onto CoachCRM's default stages; a stage renamed by the admin is matched by its name, or chosen.
STAGE_SYNONYMS = _syn(
    Lead=("appointmentscheduled", "Appointment Scheduled", "Prospecting", "New"),
    Qualified=(
        "qualifiedtobuy", "Qualified To Buy", "Qualification", "Needs Analysis", "Value Proposition",
        "Id. Decision Makers", "Perception Analysis",
    ),
    Proposal=("presentationscheduled", "Presentation Scheduled", "Proposal/Price Quote", "Proposal"),
    Negotiation=(
        "decisionmakerboughtin", "Decision Maker Bought-In", "contractsent", "Contract Sent", "Negotiation/Review",
    ),
    Won=("closedwon", "Closed Won", "Won"),
    Lost=("closedlost", "Closed Lost", "Lost"),
)  # fmt: skip


def parse_amount(value: str) -> Decimal:
    """An amount as exports write it: `12000`, `12,000.50`, `12.000,50`, `€ 12 000`."""
    text = re.sub(r"[^\d,.\-]", "", value)
    if "," in text and "." in text:
        # The last separator is the decimal one.
        text = text.replace(",", "") if text.rfind(".") > text.rfind(",") else text.replace(".", "").replace(",", ".")
    elif "," in text:
        # `12,000` is twelve thousand; `12,5` is twelve and a half.
        text = text.replace(",", "") if re.fullmatch(r"-?\d{1,3}(,\d{3})+", text) else text.replace(",", ".")
    return Decimal(text)


class DealImporter(Importer):
    kind = "deals"
    label = gettext_lazy("Deals (opportunities)")
    list_url_name = "pipeline:opportunity-list"
    columns = (
        "name",
        "account",
        "product_line",
        "amount",
        "currency",
        "stage",
        "owner",
        "expected_close",
        "created_at",
        "closed_on",
        # Written by the export for people to read; the stage says it.
        "status",
        "external_id",
        # The account's id in the same system (HubSpot "Associated Company IDs", Salesforce "AccountId").
        "account_external_id",
    )
    required = frozenset({"name", "account", "product_line", "amount", "stage"})
    aliases = {"opportunity": "name", "deal": "name", "company": "account", "close_date": "expected_close"}
    synonyms = {"stage": STAGE_SYNONYMS}

    def proposed_defaults(self):
        # Other CRMs have no product line on a deal: with only one, it is every deal's.
        lines = list(ProductLine.objects.values_list("name", flat=True)[:2])
        return {"product_line": lines[0]} if len(lines) == 1 else {}

    def prepare(self, rows):
        accounts_by_name(self, rows)
        self.deals = {}
        self.accounts_by_external = accounts_by_external_id(self, rows)
        # A second import of the same export: its ids name the deals, renamed or not.
        self.by_external, self.hidden_external = external_ids.external_ids_records(
            queryset=access.opportunities(self.user).select_related("stage"),
            source=self.source,
            ids=self.external_ids_of(rows),
        )
        account_ids = {a.pk for a in self.accounts.values()} | {a.pk for a in self.accounts_by_external.values()}
        self.stages = {fold(s.name): s for s in Stage.objects.all()}
        # The accounts with an active coach, and those meeting each stage's requirement (the
        # gate's test for one row, Coach.missing_for), so the dry run says what the gate will do.
        levels = {s.coach_requirement for s in self.stages.values()} - {CoachRequirement.NONE}
        self.coached = set()
        self.meets = {level: set() for level in levels | {REAL_COACH}}
        for chunk in chunks(account_ids):
            for coach in Coach.objects.active().filter(account_id__in=chunk):
                self.coached.add(coach.account_id)
                for level, met in self.meets.items():
                    if not coach.missing_for(level):
                        met.add(coach.account_id)
            # A second import of the same file: a deal of the same name at the account is known.
            deals = Opportunity.objects.filter(account_id__in=chunk).values_list("pk", "account_id", "name")
            for pk, account_id, name in deals:
                self.deals[(account_id, fold(name))] = pk
        self.stages.update({fold(s.label): s for s in self.stages.values()})
        self.gated = Stage.objects.gated().exists()
        self.lines = {fold(p.name): p for p in ProductLine.objects.all()}
        owners = User.objects.active() if self.user.is_admin else User.objects.active().team_of(self.user)
        self.owners = owner_keys(owners)

    def value_choices(self):
        choices = {
            "stage": {key: stage.name for key, stage in self.stages.items()},
            "product_line": {key: line.name for key, line in self.lines.items()},
        }
        if not self.user.is_rep:
            choices["owner"] = {key: user.username for key, user in self.owners.items()}
        return choices

    def plan(self, row):
        name = self.fitting(Opportunity, "name", self.required_value(row, "name"))
        account = row_account(self, row)
        currency = row.get("currency", "").strip().upper()
        if currency and currency != settings.CRM_CURRENCY:
            raise RowError(
                "currency",
                _("Amounts are kept in %(crm)s; this one is in %(currency)s. Convert it in the file.")
                % {"crm": settings.CRM_CURRENCY, "currency": currency},
            )
        try:
            amount = parse_amount(self.required_value(row, "amount"))
        except InvalidOperation:
            raise RowError("amount", _("%(value)s is not an amount.") % {"value": row["amount"]}) from None
        try:
            amount = amount_check(amount, field="amount")
        except ValidationError as error:
            raise RowError("amount", " ".join(error.messages)) from None
        stage = self.lookup(row, "stage", self.stages)
        fields = {
            "account": account,
            "name": name,
            "product_line": self.lookup(row, "product_line", self.lines),
            "amount": amount,
            "stage": stage,
            # A rep's deals are his own: an owner column is ignored for him, as on the page.
            "owner": None if self.user.is_rep else self.lookup(row, "owner", self.owners, required=False),
            "expected_close": self.date(row, "expected_close", required=False),
            "created_on": self.date(row, "created_at", required=False),
            "closed_on": self.date(row, "closed_on", required=False),
        }
        key = f"{account.pk}|{fold(name)}"
        external_id = self.external_id(row)
        if external_id in self.hidden_external:
            label = self.external_label(external_id)
            raise RowError("external_id", _("%(id)s is a deal of another team.") % {"id": label})
        if external_id in self.by_external:
            return self._plan_update(self.by_external[external_id], external_id, key, fields)
        if (account.pk, fold(name)) in self.deals:
            if external_id:
                # Imported before without its id (or added by hand): it keeps the id from now on.
                deal = Opportunity(pk=self.deals[(account.pk, fold(name))], name=name)
                return Plan(
                    UPDATED,
                    key,
                    partial(external_ids.external_ids_add, source=self.source, records=[(deal, external_id)]),
                    detail=self.will_update(deal, external_id, [_("external id")]),
                )
            return Plan(DUPLICATE, key, detail=_("Already in CoachCRM at %(account)s; skipped.") % {"account": account})
        detail = ""
        if stage.is_closed:
            if stage.is_won and self.gated and account.pk not in self.meets[REAL_COACH]:
                detail = _("Won, with no coach on record at %(account)s.") % {"account": account}
        elif services.stage_needs_coach(stage) and account.pk not in self.meets[stage.coach_requirement]:
            if account.pk not in self.coached:
                detail = _("Will be held back: no coach at %(account)s.") % {"account": account}
            else:
                detail = _("Will be held back: %(stage)s needs %(requirement)s at %(account)s.") % {
                    "stage": stage,
                    "requirement": CoachRequirement(stage.coach_requirement).label,
                    "account": account,
                }
        return Plan(
            CREATED,
            key,
            partial(self._create, external_id=external_id, fields=fields),
            detail=" ".join(d for d in (self.will_create(external_id), detail) if d),
        )

    def _create(self, *, external_id: str, fields: dict):
        opportunity = services.opportunity_import(by=self.user, source=_("CSV import"), **fields)
        external_ids.external_ids_add(source=self.source, records=[(opportunity, external_id)])
        return opportunity

    def _update(self, *, deal: Opportunity, changes: dict):
        deal._history_user = self.user
        return services.opportunity_update(opportunity=deal, by=self.user, **changes)

    def _plan_update(self, deal: Opportunity, external_id: str, key: str, fields: dict) -> Plan:
        """A deal imported before, found by its id: its own fields follow the file; its stage does not."""
        if fields["account"].pk != deal.account_id:
            raise RowError(
                "account",
                _("%(id)s is a deal at %(account)s; CoachCRM does not move deals between accounts.")
                % {"id": self.external_label(external_id), "account": deal.account},
            )
        wanted = {f: fields[f] for f in sorted(services.UPDATABLE_FIELDS) if fields.get(f) is not None}
        changes = {f: v for f, v in wanted.items() if getattr(deal, f) != v}
        notes = []
        if fields["stage"].pk != deal.stage_id:
            # A stage moves through the gate, with its reason, on the deal's page: a file cannot give one.
            notes.append(_("Its stage stays %(stage)s: move it on its page.") % {"stage": deal.stage})
        if not changes:
            detail = _("Already in CoachCRM as %(name)s (%(id)s); nothing to change.") % {
                "name": deal,
                "id": self.external_label(external_id),
            }
            return Plan(DUPLICATE, key, detail=" ".join([detail, *notes]))
        return Plan(
            UPDATED,
            key,
            partial(self._update, deal=deal, changes=changes),
            detail=" ".join([self.will_update(deal, external_id, changes), *notes]),
        )
