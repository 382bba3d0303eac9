# Django admin for accounts, people, positions, lookups and territories; writes go through the services.
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from accounts import services
from accounts.models import Account, Contact, Employment, Industry, ProductLine, Region, Territory
from coachcrm.forms import AdminFormUser, service_dry_run
from csvio.admin import ExternalIdsShown


def _merge_action(merge):
    """An admin action merging the two selected records: the older (lower id) stays, the newer merges into it."""

    def action(modeladmin, request, queryset):
        records = list(queryset.order_by("pk")[:3])
        if len(records) != 2:
            modeladmin.message_user(request, _("Select exactly two records to merge."), messages.ERROR)
            return
        survivor, loser = records
        try:
            merge(loser, into=survivor, by=request.user)
        except ValidationError as error:
            modeladmin.message_user(request, " ".join(error.messages), messages.ERROR)
        else:
            modeladmin.message_user(
                request, _("%(loser)s was merged into %(survivor)s.") % {"loser": loser, "survivor": survivor}
            )

    action.short_description = _("Merge the two selected (the older one stays)")
    action.__name__ = "merge_selected"
    return action


@admin.register(Region, Industry, ProductLine)
class LookupAdmin(admin.ModelAdmin):
    search_fields = ["name"]


class EmploymentInline(admin.TabularInline):
    model = Employment
    fk_name = "contact"
    extra = 0
    autocomplete_fields = ["account"]
    # Positions change through the services (one current position, dates in order).
    readonly_fields = ["account", "title", "function", "seniority", "start_date", "end_date", "reports_to"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class AccountAdminForm(forms.ModelForm):
    class Meta:
        model = Account
        fields = ["name", "region", "industry", "size_tier", "product_lines", "owner", "notes"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            # Empty: the territories route the new account, as on every other entry point.
            self.fields["owner"].required = False
            self.fields["owner"].help_text = _("Leave empty to route it by the territories.")

    def clean_name(self):
        name = self.cleaned_data["name"]
        try:
            services.account_name_check(name=name, exclude_pk=self.instance.pk)
        except ValidationError as error:
            raise ValidationError(error.messages) from error
        return name


@admin.register(Account)
class AccountAdmin(ExternalIdsShown, SimpleHistoryAdmin):
    form = AccountAdminForm
    list_display = ["name", "region", "industry", "size_tier", "owner", "territory"]
    list_filter = ["region", "industry", "size_tier"]
    list_select_related = ["region", "industry", "owner", "territory"]
    readonly_fields = ["territory", "assignment_note_display", "external_ids_display"]
    search_fields = ["name"]
    autocomplete_fields = ["owner"]
    filter_horizontal = ["product_lines"]
    actions = [_merge_action(lambda record, **kw: services.account_merge(account=record, **kw))]

    @admin.display(description=_("why this owner"))
    def assignment_note_display(self, obj):
        return obj.assignment_note_display

    def get_readonly_fields(self, request, obj=None):
        # Changing hands needs a reason: the app's Reassign page (or the API with `reason`) does it.
        return [*self.readonly_fields, "owner"] if obj is not None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        # Through the services, so that the duplicate rule holds here too.
        data = {
            f: form.cleaned_data[f]
            for f in ("name", "region", "industry", "size_tier", "owner", "notes")
            if f in form.cleaned_data
        }
        if change:
            # Product lines too, so the territories' coverage follows them (save_related sets them again, unchanged).
            services.account_update(
                account=obj, by=request.user, product_lines=form.cleaned_data["product_lines"], **data
            )
        else:
            saved = services.account_create(by=request.user, product_lines=form.cleaned_data["product_lines"], **data)
            obj.pk, obj.normalized_name = saved.pk, saved.normalized_name
            obj.owner, obj.territory, obj.assignment_facts = saved.owner, saved.territory, saved.assignment_facts


CONTACT_FIELDS = ["first_name", "last_name", "email", "phone", "notes", "past_buyer"]


class ContactAdminForm(forms.ModelForm):
    """A person's own fields, saved through contact_update (the e-mail rule holds here too)."""

    class Meta:
        model = Contact
        fields = CONTACT_FIELDS

    def clean(self):
        data = super().clean()
        if self.instance.pk is not None and not self.errors:
            fields = {f: data[f] for f in CONTACT_FIELDS if f in data}
            contact = Contact.objects.get(pk=self.instance.pk)
            service_dry_run(self, lambda: services.contact_update(contact=contact, by=self.user, **fields))
        return data


@admin.register(Contact)
class ContactAdmin(ExternalIdsShown, AdminFormUser, SimpleHistoryAdmin):
    """People change through the services; a new person comes with his position, on the app's page or an import."""

    form = ContactAdminForm
    list_display = ["last_name", "first_name", "email"]
    search_fields = ["first_name", "last_name", "email"]
    inlines = [EmploymentInline]
    readonly_fields = ["external_ids_display"]
    actions = [_merge_action(lambda record, **kw: services.contact_merge(contact=record, **kw))]

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        fields = {f: form.cleaned_data[f] for f in CONTACT_FIELDS if f in form.cleaned_data}
        services.contact_update(contact=Contact.objects.get(pk=obj.pk), by=request.user, **fields)


class EmploymentAdminForm(forms.ModelForm):
    """A position's title, function, seniority and end, saved through employment_update (which ends it)."""

    class Meta:
        model = Employment
        fields = ["title", "function", "seniority", "end_date"]

    def clean(self):
        data = super().clean()
        if not self.errors:
            employment = Employment.objects.get(pk=self.instance.pk)
            service_dry_run(self, lambda: services.employment_update(employment=employment, by=self.user, **data))
        return data


@admin.register(Employment)
class EmploymentAdmin(AdminFormUser, SimpleHistoryAdmin):
    """Through employment_update: ending a position here ends the coach record there, as on every other entry point."""

    form = EmploymentAdminForm
    list_display = ["contact", "account", "title", "start_date", "end_date"]
    list_select_related = ["contact", "account"]
    search_fields = ["contact__last_name", "account__name", "title"]
    readonly_fields = ["contact", "account", "start_date"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = {f: form.cleaned_data[f] for f in ("title", "function", "seniority", "end_date")}
        services.employment_update(employment=Employment.objects.get(pk=obj.pk), by=request.user, **data)


@admin.register(Territory)
class TerritoryAdmin(SimpleHistoryAdmin):
    """Read-only here: territories are edited on the Territories page, through the services."""

    list_display = ["order", "name", "region", "product_line", "size_tier", "industry", "active"]
    list_select_related = ["region", "product_line", "industry"]
    ordering = ["order"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
