# The pipeline's answers to coach events: the gate's consequences of an account gaining or losing its coach.
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from accounts.models import Account, Contact, ProductLine
from coachcrm import jobs
from pipeline import services
from pipeline.tasks import account_send_back_task, coach_moved_task


def release_held_back(sender, *, account, **kwargs) -> None:
    """A coach is recorded, revived or verified: the held-back deals he qualifies for may move on.

    A verification may also have found him wanting (a criterion now "no"): the account's gate
    is checked again once the write commits.
    """
    services.account_release_held_back(account=account)
    jobs.enqueue(account_send_back_task, key=f"account-send-back:{account.pk}", account_id=account.pk)


def send_back(sender, *, account_ids, **kwargs) -> None:
    """Accounts left without an active coach: their gated deals go back, once the write commits."""
    calls = {f"account-send-back:{account_id}": {"account_id": account_id} for account_id in account_ids}
    jobs.enqueue_many(account_send_back_task, calls)


def open_prospect(sender, *, old_coach, to_account, start_date, account_created, **kwargs) -> None:
    """A coach moved company: a prospect opens there once the move commits (`coach_moved_task`)."""
    if not ProductLine.objects.exists():
        # Refused inside the move's transaction: the move is refused whole, not the prospect failing after it.
        raise ValidationError(_("A prospect needs a product line; ask an admin to add one first."))
    jobs.enqueue(
        coach_moved_task,
        # What makes the prospect once: the person, the new company and the date (CoachMove's key).
        key=f"coach-moved:{old_coach.contact_id}:{to_account.pk}:{start_date.isoformat()}",
        old_coach_id=old_coach.pk,
        to_account_id=to_account.pk,
        start_date=start_date.isoformat(),
        account_created=account_created,
    )


def merge_contact_roles(sender, *, loser, survivor, check_only, **kwargs) -> None:
    """Two people merge: a role both records have on one deal is the survivor's once (the duplicate row goes)."""
    if sender is not Contact or check_only:
        return
    services.opportunity_contacts_dedupe(loser=loser, survivor=survivor)


def merged_account_gate(sender, *, survivor, **kwargs) -> None:
    """Two accounts merged: held-back deals may move on with the other record's coaches; the gate is checked."""
    if sender is Account:
        release_held_back(sender, account=survivor)
