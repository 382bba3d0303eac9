# The Django admin of external ids: shown on the records they belong to, read-only (imports write them).
from django.contrib import admin
from django.utils.translation import gettext_lazy as _


class ExternalIdsShown:
    """A record admin's read-only "external ids" field (add `external_ids_display` to its readonly_fields).

    Read-only: only an import writes them (csvio.external_ids), so that no id ends on a second record
    and upserts stay right. A field rather than an inline: an inline's formset would need its
    management form in every POST of the change form, scripts and tests included.
    """

    @admin.display(description=_("external ids"))
    def external_ids_display(self, obj):
        return ", ".join(str(external) for external in obj.external_ids.all()) or "—"
