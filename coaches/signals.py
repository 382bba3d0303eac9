# What a change of coaches tells the apps above: an account gained or lost its coach, a coach moved company.
"""Coach events, for the consequences that belong to higher layers (the pipeline's gate).

Each is sent inside the transaction of the write that caused it, so a receiver's own writes
commit or roll back with it; a receiver enqueues slower work for after the commit. Receivers
are connected in their app's `AppConfig.ready()`.
"""

from django.dispatch import Signal

# An active coach was recorded or revived at `account`.
account_coached = Signal()
# These accounts (`account_ids`) lost a coach and may lack the one a stage requires (the send-back re-checks).
accounts_uncoached = Signal()
# Our coach `old_coach` moved to `to_account` on `start_date`; `account_created` if the move created it.
coach_moved = Signal()
# A coach told us a person's buying style (`report`, a StyleReport).
style_reported = Signal()
