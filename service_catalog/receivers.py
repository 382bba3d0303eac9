# What the service catalog does when another app's records change (connected in apps.py).
from accounts.models import Account, Contact
from service_catalog.ledger_sums import ledger_sums_refresh


def merged_ledger_sums(sender, *, survivor, **kwargs) -> None:
    """Two accounts or people merged: the survivor's ledger rows now count the duplicate's grants.

    The duplicate's rows went with it (CASCADE); the survivor's are recomputed, and so are the
    totals of every year he has grants in (the number of groups changed). In the merge's transaction.
    """
    if sender is Account:
        ledger_sums_refresh(accounts=[survivor.pk])
    elif sender is Contact:
        ledger_sums_refresh(recipients=[survivor.pk])
