# The API's `?external_id=…&source=…` filter, shared by the lists of records that have external ids.
import django_filters
from django.utils.translation import gettext_lazy as _

from coachcrm.filters import CrmFilterSet
from csvio import external_ids
from csvio.models import ExternalId


class ExternalIdFilters(CrmFilterSet):
    """`?external_id=123&source=hubspot`: the record with that id (from any system without `source`).

    `?source=hubspot` alone: the records imported from that system. One subquery on the ids'
    table, no join: a record with two ids of one system is listed once.
    """

    external_id = django_filters.CharFilter(label=_("External id"), method="by_external_id")
    source = django_filters.ChoiceFilter(
        label=_("Source system"), choices=ExternalId.Source.choices, method="by_external_id"
    )

    def by_external_id(self, queryset, name, value):
        wanted = {key: self.form.cleaned_data.get(key) for key in ("external_id", "source")}
        if name == "source" and wanted["external_id"]:
            return queryset  # applied with the id
        ids = ExternalId.objects.filter(kind=external_ids.kind_of(queryset.model))
        ids = ids.filter(**{key: value for key, value in wanted.items() if value})
        return queryset.filter(pk__in=ids.values("object_id"))
