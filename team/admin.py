# Django admin for users and API tokens; writes go through the services.
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from knox.admin import AuthTokenAdmin
from knox.models import AuthToken

from team import services
from team.models import Email, SecurityEvent, User


@admin.register(User)
class CrmUserAdmin(UserAdmin):
    list_display = ["username", "first_name", "last_name", "role", "manager", "status", "is_active"]
    list_filter = ["role", "status", "is_active"]
    list_select_related = ["manager"]
    fieldsets = (
        *UserAdmin.fieldsets,
        (_("CoachCRM"), {"fields": ("role", "manager", "selling_style", "status", "departure_date")}),
    )
    add_fieldsets = (*UserAdmin.add_fieldsets, (_("CoachCRM"), {"fields": ("role", "manager", "selling_style")}))
    actions = ["deactivate", "reset_second_factor"]

    def has_delete_permission(self, request, obj=None):
        # Users are never deleted: their accounts, interactions and grants keep their author.
        return False

    def user_change_password(self, request, id, form_url=""):
        """Django's "set password" form; a password set here is audited and mailed, his API tokens revoked."""
        if not str(id).isdigit():
            return super().user_change_password(request, id, form_url)
        with transaction.atomic():
            before = User.objects.filter(pk=id).values_list("password", flat=True).first()
            response = super().user_change_password(request, id, form_url)
            user = User.objects.filter(pk=id).first()
            if user is not None and before is not None and user.password != before:
                services.password_changed(user=user, request=request, how="set by an admin", by=request.user)
        return response

    @admin.action(description=_("Reset the second factor of selected users"))
    def reset_second_factor(self, request, queryset):
        for user in queryset:
            services.mfa_reset(user=user, by=request.user, request=request)
        self.message_user(request, _("Second factor reset: they set it up again at their next login."))

    @admin.action(description=_("Deactivate selected users"))
    def deactivate(self, request, queryset):
        for user in queryset:
            try:
                services.user_deactivate(user=user, by=request.user)
            except ValidationError as error:
                self.message_user(request, f"{user}: {' '.join(error.messages)}", messages.ERROR)


# knox's admin (imported above, so it is registered before we replace it) can mint tokens,
# which would skip api_token_create's per-user limit: here tokens are listed and revoked only.
admin.site.unregister(AuthToken)


@admin.register(AuthToken)
class ApiTokenAdmin(AuthTokenAdmin):
    """API tokens: made by logging in through the API; an admin sees and revokes them here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        services.api_token_revoke(token=obj, by=request.user, request=request)

    def delete_queryset(self, request, queryset):
        for token in queryset.select_related("user"):
            services.api_token_revoke(token=token, by=request.user, request=request)


@admin.register(Email)
class EmailAdmin(admin.ModelAdmin):
    """Outgoing e-mails: what went out, what still waits, and why one failed (read-only)."""

    list_display = ["created_at", "recipient", "subject", "status", "attempts", "last_error", "sent_at"]
    list_filter = ["status"]
    search_fields = ["recipient", "subject"]
    # The body of a password reset holds its link: admins see that one was sent, not the link.
    exclude = ["body"]
    readonly_fields = ["recipient", "subject", "status", "attempts", "last_error", "created_at", "sent_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SecurityEvent)
class SecurityEventAdmin(admin.ModelAdmin):
    """The login audit, read-only: recorded by the sign-in signals and the services, pruned daily."""

    list_display = ["created_at", "kind", "username", "user", "by", "address", "detail"]
    list_filter = ["kind", "created_at"]
    list_select_related = ["user", "by"]
    search_fields = ["username", "address"]
    date_hierarchy = "created_at"
    readonly_fields = ["created_at", "kind", "user", "username", "by", "address", "user_agent", "detail"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
