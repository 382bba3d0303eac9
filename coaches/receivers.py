# The coaches' answers to account events: a person who moves company stops being our coach at the old one.
from coachcrm.notes import note_facts
from coaches import signals
from coaches.models import Coach
from coaches.services import coach_set_status, coaches_end_departed, coaches_merge_check


def end_coach_who_moved(sender, *, contact, to_account, start_date, account_created, by, **kwargs) -> bool:
    """Our active coach moved: his coach record ends (the old account's send-back follows) and the move is announced."""
    coach = Coach.objects.active().filter(contact=contact).first()
    if coach is None:
        return False
    coach_set_status(coach=coach, status=Coach.Status.ENDED, facts=note_facts("moved", account=to_account), by=by)
    signals.coach_moved.send(
        sender=Coach, old_coach=coach, to_account=to_account, start_date=start_date, account_created=account_created
    )
    return True


def merge_coaches(sender, *, loser, survivor, by, check_only, **kwargs) -> None:
    """Two accounts or two people merge: their coach records must not clash (two active ones become one)."""
    coaches_merge_check(sender=sender, loser=loser, survivor=survivor, by=by, check_only=check_only)


def end_coach_who_left(sender, *, employment, **kwargs) -> int:
    """A position ended today or earlier: his coach record at that account ends now (a later date: on its day)."""
    return coaches_end_departed(contact_ids=[employment.contact_id])
