# Django admin for catalog items, authority and grants; writes go through the services.
from django import forms
from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from coachcrm.forms import AdminFormUser, service_dry_run
from service_catalog import services
from service_catalog.models import Authority, Grant, ServiceItem


class ServiceItemAdminForm(forms.ModelForm):
    class Meta:
        model = ServiceItem
        fields = ["name", "category", "description", "unit_cost", "max_quantity", "active"]

    def clean(self):
        data = super().clean()
        if not self.errors:
            service_dry_run(self, lambda: self.save_through_services(self.user))
        return data

    def save_through_services(self, by) -> ServiceItem:
        data = {f: self.cleaned_data[f] for f in self.Meta.fields}
        if self.instance.pk is not None:
            return services.service_item_update(item=ServiceItem.objects.get(pk=self.instance.pk), by=by, **data)
        return services.service_item_create(by=by, **data)


@admin.register(ServiceItem)
class ServiceItemAdmin(AdminFormUser, SimpleHistoryAdmin):
    form = ServiceItemAdminForm
    list_display = ["name", "category", "unit_cost", "max_quantity", "active"]
    list_filter = ["category", "active"]
    search_fields = ["name"]

    def has_delete_permission(self, request, obj=None):
        # Deactivate instead: an item ever granted stays, so that the ledger stays whole.
        return False

    def save_model(self, request, obj, form, change):
        # Through the services, so that the catalog's rules hold here too; the form's clean() has
        # tried it in a rolled-back savepoint, so a refusal is a form error there, never a 500.
        obj.pk = form.save_through_services(request.user).pk


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
