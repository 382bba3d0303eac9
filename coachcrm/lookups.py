"""`field__any_of=<queryset>`: membership in a short subquery that PostgreSQL can estimate.

`owner__in=<team subquery>` is planned as a semi-join whose size PostgreSQL does not know: for
a manager's dashboard it estimated 62% of the 100,000 deals and scanned them all to keep his
team's 5%. `owner = ANY(ARRAY(subquery))` evaluates the subquery once (an InitPlan) and lets
the planner use the column's index; an array it cannot see is estimated at 10 elements, right
for a team. SQLite has no arrays: there it is the plain `IN (subquery)`. For short sets only
(a team, not a scope of thousands of accounts).
"""

from django.db.models import ForeignKey, Lookup


class AnyOf(Lookup):
    lookup_name = "any_of"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY(ARRAY{rhs})", (*lhs_params, *rhs_params)

    def as_sqlite(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} IN {rhs}", (*lhs_params, *rhs_params)


def register() -> None:
    ForeignKey.register_lookup(AnyOf)
