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
