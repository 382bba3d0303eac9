# Django admin for stages and deals; deals move only through the gate-keeping actions.
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from coachcrm.forms import AdminFormUser, service_dry_run
from csvio.admin import ExternalIdsShown
from pipeline import services
from pipeline.models import GateSweep, LossReason, Opportunity, Stage, StageChange


class LabelledListEditable:
    """Name each input of an editable list "<field> · <row>": under column headers they have no label of their own.

    (axe, and screen readers: every form field needs an accessible name.)
    """

    def get_changelist_form(self, request, **kwargs):
        base = super().get_changelist_form(request, **kwargs)
        model = self.model

        class LabelledForm(base):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                for name, field in self.fields.items():
                    field.widget.attrs["aria-label"] = f"{model._meta.get_field(name).verbose_name} · {self.instance}"

        return LabelledForm


class StageAdminForm(forms.ModelForm):
    """A stricter coach requirement says first how many deals the sweep will send back; saving again confirms."""

    confirm_send_back = forms.BooleanField(
        label=_("Send them back"),
        required=False,
        help_text=_("Tick to save a requirement that sends deals back."),
    )

    class Meta:
        model = Stage
        fields = list(services.STAGE_FIELDS)

    def clean(self):
        data = super().clean()
        requirement = data.get("coach_requirement")
        if self.instance.pk and requirement and requirement != self.initial.get("coach_requirement"):
            count = services.stage_sweep_preview(stage=self.instance, requirement=requirement)
            if count and not data.get("confirm_send_back"):
                self.add_error(
                    "coach_requirement",
                    ngettext(
                        "%(count)s open deal in this stage lacks this coach: the sweep will send it back. "
                        "Tick “Send them back” and save again to confirm.",
                        "%(count)s open deals in this stage lack this coach: the sweep will send them back. "
                        "Tick “Send them back” and save again to confirm.",
                        count,
                    )
                    % {"count": count},
                )
        return data


@admin.register(Stage)
class StageAdmin(LabelledListEditable, admin.ModelAdmin):
    form = StageAdminForm
    list_display = ["name", "order", "probability", "coach_requirement", "is_won", "is_lost"]
    list_editable = ["order", "probability"]

    def save_model(self, request, obj, form, change):
        # Through the stage services, so that the API and the admin keep the same rules.
        fields = {name: form.cleaned_data[name] for name in services.STAGE_FIELDS if name in form.cleaned_data}
        if change:
            services.stage_update(stage=Stage.objects.get(pk=obj.pk), by=request.user, **fields)
        else:
            obj.pk = services.stage_create(by=request.user, **fields).pk


@admin.register(LossReason)
class LossReasonAdmin(LabelledListEditable, admin.ModelAdmin):
    list_display = ["name", "order", "active"]
    list_editable = ["order", "active"]

    def has_delete_permission(self, request, obj=None):
        # Lost deals keep their reason: retire one with "active" instead.
        return False


class StageChangeInline(admin.TabularInline):
    model = StageChange
    extra = 0
    can_delete = False
    readonly_fields = ["at", "from_stage", "to_stage", "kind", "by", "reason_display"]
    fields = readonly_fields

    @admin.display(description=_("reason"))
    def reason_display(self, obj):
        return obj.reason_display

    def has_add_permission(self, request, obj=None):
        return False


class OpportunityAdminForm(forms.ModelForm):
    class Meta:
        model = Opportunity
        fields = ["account", "name", "product_line", "amount", "stage", "owner", "expected_close"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "stage" in self.fields:
            # A new deal starts before the gate; it moves on through the "Move to …" actions.
            self.fields["stage"].queryset = Stage.objects.open().exclude(pk__in=Stage.objects.gated())

    def clean(self):
        data = super().clean()
        if not self.errors:
            service_dry_run(self, lambda: self.save_through_services(self.user))
        return data

    def save_through_services(self, by) -> Opportunity:
        data = {f: self.cleaned_data[f] for f in ("name", "product_line", "amount", "owner", "expected_close")}
        if self.instance.pk is not None:
            opportunity = Opportunity.objects.get(pk=self.instance.pk)
            return services.opportunity_update(opportunity=opportunity, by=by, **data)
        return services.opportunity_create(
            by=by, account=self.cleaned_data["account"], stage=self.cleaned_data["stage"], **data
        )


@admin.register(Opportunity)
class OpportunityAdmin(ExternalIdsShown, AdminFormUser, SimpleHistoryAdmin):
    form = OpportunityAdminForm
    list_display = ["name", "account", "stage", "status", "amount", "owner", "held_back"]
    list_filter = ["stage", "status", "held_back"]
    list_select_related = ["account", "stage", "owner"]
    search_fields = ["name", "account__name"]
    autocomplete_fields = ["account", "owner"]
    inlines = [StageChangeInline]
    readonly_fields = [
        "status",
        "held_back",
        "held_back_reason_display",
        "held_back_since",
        "closed_at",
        "loss_reason",
        "loss_note",
        "had_coach_at_close",
        "stage_entered_at",
        "source_display",
        "external_ids_display",
    ]

    @admin.display(description=_("why held back"))
    def held_back_reason_display(self, obj):
        return obj.held_back_reason_display

    @admin.display(description=_("source"))
    def source_display(self, obj):
        return obj.source_display

    def get_readonly_fields(self, request, obj=None):
        # The stage never changes in this form: only opportunity_move and opportunity_override
        # (the actions below) change it, so the coach gate holds in the admin too.
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "account", "stage"] if obj is not None else fields

    def save_model(self, request, obj, form, change):
        # The form's clean() has tried this in a rolled-back savepoint: a refusal is a form error there.
        obj.pk = form.save_through_services(request.user).pk

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        # A loss needs its reason, one deal at a time on the deal's page: no bulk "Move to Lost".
        for stage in Stage.objects.filter(is_lost=False):
            name = f"move_to_stage_{stage.pk}"
            actions[name] = (self._mover(stage), name, _("Move selected to %(stage)s") % {"stage": stage})
        return actions

    @staticmethod
    def _mover(stage):
        def move(modeladmin, request, queryset):
            for opportunity in queryset.select_related("account", "stage", "owner"):
                try:
                    services.opportunity_move(opportunity=opportunity, stage=stage, by=request.user)
                except ValidationError as error:
                    modeladmin.message_user(request, f"{opportunity}: {' '.join(error.messages)}", messages.ERROR)
                else:
                    modeladmin.message_user(request, f"{opportunity}: {stage}", messages.SUCCESS)

        return move


@admin.register(GateSweep)
class GateSweepAdmin(admin.ModelAdmin):
    """The gate sweep's runs: how many deals each sent back, and why (read-only)."""

    list_display = ["ran_at", "sent_back", "reasons"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
