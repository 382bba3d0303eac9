# What a change of accounts and people tells the apps above: a person moved to another company.
"""Account events, for the consequences that belong to higher layers (coaches).

Sent inside the transaction of the write; receivers are connected in their app's `AppConfig.ready()`
and answer with what they did (see `contact_moved`).
"""

from django.dispatch import Signal

# `contact` moved from `from_account` to `to_account` on `start_date` (`account_created` if the
# move created it), recorded `by` someone. A receiver answers True when it ended a coach record.
contact_moved = Signal()
# `employment` (a position) ended on its `end_date`, recorded `by` someone: a coach there is no longer real.
position_ended = Signal()
# `loser` (an Account or a Contact) is being merged into `survivor`, `by` someone, before the generic
# move of what points at it (coachcrm.merge): a receiver resolves the rows of its app that would
# conflict (two active coach records of one person) or refuses the merge with a ValidationError.
record_merging = Signal()
# The merge moved everything and deleted `loser_id`: receivers run the consequences on `survivor`
# (the coach qualification of its deals).
record_merged = Signal()
# `coverage_refresh` rewrote the territory coverage of `accounts` (ids; None: every account), which
# widens who sees them: the receiver rewrites what it keeps of visibility (coaches.visibility).
coverage_changed = Signal()
