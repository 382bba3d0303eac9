# Django admin for catalog items, authority and grants; writes go through the services.
from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from simple_history.admin import SimpleHistoryAdmin

from service_catalog import services
from service_catalog.models import Authority, Grant, ServiceItem


class ServiceItemAdminForm(forms.ModelForm):
    class Meta:
        model = ServiceItem
        fields = ["name", "category", "description", "unit_cost", "max_quantity", "active"]


@admin.register(ServiceItem)
class ServiceItemAdmin(SimpleHistoryAdmin):
    form = ServiceItemAdminForm
    list_display = ["name", "category", "unit_cost", "max_quantity", "active"]
    list_filter = ["category", "active"]
    search_fields = ["name"]

    def has_delete_permission(self, request, obj=None):
        # Deactivate instead: an item ever granted stays, so that the ledger stays whole.
        return False

    def save_model(self, request, obj, form, change):
        # Through the services, so that the catalog's rules hold here too.
        data = {f: form.cleaned_data[f] for f in ServiceItemAdminForm.Meta.fields}
        try:
            if change:
                services.service_item_update(item=obj, by=request.user, **data)
            else:
                obj.pk = services.service_item_create(by=request.user, **data).pk
        except ValidationError as error:
            raise ValidationError(error.messages) from error


@admin.register(Authority)
class AuthorityAdmin(SimpleHistoryAdmin):
    list_display = ["__str__", "per_grant", "per_month", "per_account_year", "per_recipient_year"]
    list_select_related = ["user"]
    autocomplete_fields = ["user"]


@admin.register(Grant)
class GrantAdmin(admin.ModelAdmin):
    """Read-only: grants are made and decided through the app, so that every limit is checked."""

    list_display = ["created_at", "item", "quantity", "amount", "account", "recipient", "rep", "status"]
    list_filter = ["status", "reason"]
    list_select_related = ["item", "account", "recipient", "rep"]
    search_fields = ["account__name", "recipient__last_name", "rep__username"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
