# The pipeline's answers to coach events: the gate's consequences of an account gaining or losing its coach.
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from accounts.models import ProductLine
from pipeline import services
from pipeline.tasks import account_send_back_task, coach_moved_task


def release_held_back(sender, *, account, **kwargs) -> None:
    """A coach is recorded, revived or verified: the held-back deals he qualifies for may move on.

    A verification may also have found him wanting (a criterion now "no"): the account's gate
    is checked again once the write commits.
    """
    services.account_release_held_back(account=account)
    account_send_back_task.delay_on_commit(account.pk)


def send_back(sender, *, account_ids, **kwargs) -> None:
    """Accounts left without an active coach: their gated deals go back, once the write commits."""
    for account_id in account_ids:
        account_send_back_task.delay_on_commit(account_id)


def open_prospect(sender, *, old_coach, to_account, start_date, account_created, **kwargs) -> None:
    """A coach moved company: a prospect opens there once the move commits (`coach_moved_task`)."""
    if not ProductLine.objects.exists():
        # Refused inside the move's transaction: the move is refused whole, not the prospect failing after it.
        raise ValidationError(_("A prospect needs a product line; ask an admin to add one first."))
    coach_moved_task.delay_on_commit(
        old_coach_id=old_coach.pk,
        to_account_id=to_account.pk,
        start_date=start_date.isoformat(),
        account_created=account_created,
    )
