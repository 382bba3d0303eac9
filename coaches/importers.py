"""CSV importer of coaches: the coach export's columns, so an exported file imports back.

Each row is checked against what is already in CoachCRM (loaded in bulk by `prepare`) for the
dry run's report, then written through `coach_record` and `holder_add`, which check the rules
again: the person must work at the account now, and be nobody's active coach elsewhere.
"""

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

import access
from accounts.models import Employment, normalize_company_name
from coaches import services
from coaches.models import Coach
from csvio.importers import CREATED, DUPLICATE, Importer, Plan, RowError, chunks
from team.models import User

YES_NO_COLUMNS = ("credible", "trusts_us", "wants_us_to_win", "has_power")
# Written by the export for people to read; the import does not set them.
EXPORT_ONLY_COLUMNS = ("contact", "status", "at_risk")


class CoachImporter(Importer):
    kind = "coaches"
    label = gettext_lazy("Coaches")
    list_url_name = "coaches:coach-list"
    columns = (
        "contact_email",
        "account",
        "strength",
        *YES_NO_COLUMNS,
        "established_on",
        "holders",
        *EXPORT_ONLY_COLUMNS,
    )
    required = frozenset({"contact_email", "account"})
    aliases = {"email": "contact_email", "e_mail": "contact_email", "account_name": "account", "company": "account"}

    def prepare(self, rows):
        names = {normalize_company_name(row.get("account", "")) for row in rows} - {""}
        self.accounts = {}
        for chunk in chunks(names):
            visible = access.accounts(self.user).filter(normalized_name__in=chunk)
            self.accounts.update({a.normalized_name: a for a in visible})
        emails = {row.get("contact_email", "").lower() for row in rows} - {""}
        self.contacts = {}
        for chunk in chunks(emails):
            found = access.contacts(self.user).with_email_key().filter(email_key__in=chunk).order_by()
            self.contacts.update({c.email_key: c for c in found})
        contact_ids = [c.pk for c in self.contacts.values()]
        self.positions, self.active_coaches = set(), {}
        for chunk in chunks(contact_ids):
            current = Employment.objects.current().filter(contact_id__in=chunk)
            self.positions.update(current.values_list("contact_id", "account_id"))
            active = Coach.objects.active().filter(contact_id__in=chunk).select_related("account")
            self.active_coaches.update({c.contact_id: c for c in active})
        self.users = {u.username.casefold(): u for u in User.objects.active()}

    def row_label(self, row):
        return row.get("contact_email", "")

    def plan(self, row):
        status = row.get("status", "").strip()
        if status and status.casefold() not in (Coach.Status.ACTIVE, str(Coach.Status.ACTIVE.label).casefold()):
            raise RowError(
                "status",
                _("Only active coaches are imported; export with the health filter Active, or delete this row."),
            )
        email = self.required_value(row, "contact_email").lower()
        contact = self.contacts.get(email)
        if contact is None:
            raise RowError(
                "contact_email",
                _("No person with the e-mail %(email)s among yours; import the contacts first.") % {"email": email},
            )
        account_name = self.required_value(row, "account")
        account = self.accounts.get(normalize_company_name(account_name))
        if account is None:
            raise RowError(
                "account",
                _("No account named %(name)s among yours; import the accounts first.") % {"name": account_name},
            )
        if (contact.pk, account.pk) not in self.positions:
            raise RowError(
                "account",
                _("%(name)s does not currently work at %(account)s. Add the position first.")
                % {"name": contact, "account": account},
            )
        active = self.active_coaches.get(contact.pk)
        if active is not None and active.account_id == account.pk:
            return Plan(DUPLICATE, email, detail=_("Already our active coach there; skipped."))
        if active is not None:
            raise RowError(
                "contact_email",
                _("%(name)s is already our active coach at %(account)s; end that first.")
                % {"name": contact, "account": active.account},
            )
        established_on = self.date(row, "established_on", required=False, past=True)
        if established_on and established_on > timezone.localdate():
            raise RowError("established_on", _("The established date cannot be in the future."))
        holders = self._holders(row)
        fields = {
            "strength": self.choice(row, "strength", Coach.Strength, Coach.Strength.COACH),
            "established_on": established_on,
            **{column: self.yes_no(row, column) for column in YES_NO_COLUMNS},
        }

        def apply():
            # coach_record makes its `by` the primary holder: that is the file's first holder.
            coach = services.coach_record(by=holders[0], account=account, contact=contact, **fields)
            for user in holders[1:]:
                services.holder_add(coach=coach, user=user, by=self.user)

        return Plan(CREATED, email, apply)

    def _holders(self, row) -> list[User]:
        names = [n.strip() for n in row.get("holders", "").split(";") if n.strip()]
        if not names:
            return [self.user]
        holders = []
        for name in names:
            user = self.users.get(name.casefold())
            if user is None:
                raise RowError("holders", _("%(name)s is not an active user.") % {"name": name})
            if user not in holders:
                holders.append(user)
        # A rep's coaches are his own (as when he records one on the page); he cannot hand one to others only.
        if self.user.is_rep and self.user not in holders:
            raise RowError("holders", _("Name yourself among the holders: you import your own coaches."))
        return holders
