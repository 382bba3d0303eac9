# Django admin for coaches, holders, interactions, style reports and playbook cards; writes go through the services.
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from coaches.models import Coach, CoachMove, Handover, Holder, Interaction, PlaybookCard, StanceReport, StyleReport


class HolderInline(admin.TabularInline):
    model = Holder
    extra = 0
    can_delete = False
    readonly_fields = ["user", "is_primary", "since"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Coach)
class CoachAdmin(SimpleHistoryAdmin):
    """Read-only: coaches change through the app's services (holders, status, send-back)."""

    list_display = ["contact", "account", "strength", "status", "last_interaction_on", "at_risk"]
    list_filter = ["status", "strength", "at_risk"]
    list_select_related = ["contact", "account"]
    search_fields = ["contact__last_name", "account__name"]
    inlines = [HolderInline]
    # The reasons as each reader reads them (coachcrm.notes), not the stored text alone.
    exclude = ["status_reason", "at_risk_reason"]
    readonly_fields = ["status_reason_display", "at_risk_reason_display"]

    @admin.display(description=_("reason for the status"))
    def status_reason_display(self, obj):
        return obj.status_reason_display

    @admin.display(description=_("why at risk"))
    def at_risk_reason_display(self, obj):
        return obj.at_risk_reason_display

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Interaction)
class InteractionAdmin(admin.ModelAdmin):
    list_display = ["coach", "kind", "occurred_on", "user"]
    list_filter = ["kind"]
    list_select_related = ["coach__contact", "coach__account", "user"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PlaybookCard)
class PlaybookCardAdmin(SimpleHistoryAdmin):
    """The mirror playbook's text: one card per buying style (and one for an unknown style), edited here."""

    list_display = ["style", "in_short"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records made by the app's services; the admin site only shows them."""


@admin.register(Handover)
class HandoverAdmin(SimpleHistoryAdmin):
    """Read-only: handovers open, change hands and close through the departure services."""

    list_display = ["coach", "from_user", "to_user", "due_on", "status"]
    list_filter = ["status"]
    list_select_related = ["coach__contact", "coach__account", "from_user", "to_user"]
    exclude = ["reason"]
    readonly_fields = ["reason_display"]

    @admin.display(description=_("why at risk"))
    def reason_display(self, obj):
        return obj.reason_display

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(StyleReport)
class StyleReportAdmin(ReadOnlyAdmin):
    list_display = ["contact", "style", "confidence", "reported_on", "coach", "recorded_by"]
    list_filter = ["style", "confidence"]
    list_select_related = ["contact", "coach__contact", "coach__account", "recorded_by"]
    search_fields = ["contact__last_name"]


@admin.register(StanceReport)
class StanceReportAdmin(ReadOnlyAdmin):
    """Recorded through `stance_report_record` (the deal's committee, the API); read-only here."""

    list_display = ["contact", "stance", "reported_on", "coach", "recorded_by"]
    list_filter = ["stance"]
    list_select_related = ["contact", "coach__contact", "coach__account", "recorded_by"]
    search_fields = ["contact__last_name"]


@admin.register(CoachMove)
class CoachMoveAdmin(ReadOnlyAdmin):
    list_display = ["contact", "from_account", "to_account", "start_date", "opportunity"]
    list_select_related = ["contact", "from_account", "to_account", "opportunity"]
    search_fields = ["contact__last_name", "to_account__name"]
