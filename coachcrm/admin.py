"""The jobs outbox in the Django admin: its backlog above the list, and a retry action for failed jobs."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from coachcrm import jobs
from coachcrm.models import Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["created_at", "task", "key", "status", "attempts", "sent_at", "last_error"]
    list_filter = ["status", "task"]
    search_fields = ["key", "task"]
    readonly_fields = [field.name for field in Job._meta.fields]
    actions = ["retry"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False  # jobs are recorded by the writes that cause them (coachcrm.jobs.enqueue)

    def has_change_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {**(extra_context or {}), "backlog": Job.objects.backlog()})

    @admin.action(description=_("Retry the selected failed jobs"), permissions=["view"])
    def retry(self, request, queryset):
        retried = jobs.retry(ids=list(queryset.filter(status=Job.Status.FAILED).values_list("pk", flat=True)))
        self.message_user(
            request,
            ngettext("%(count)d job sent again.", "%(count)d jobs sent again.", retried) % {"count": retried},
            messages.SUCCESS if retried else messages.WARNING,
        )
