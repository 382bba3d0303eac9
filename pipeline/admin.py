# Django admin for stages and deals; deals move only through the gate-keeping actions.
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from pipeline import services
from pipeline.models import GateSweep, Opportunity, Stage, StageChange


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
class StageAdmin(admin.ModelAdmin):
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


@admin.register(Opportunity)
class OpportunityAdmin(SimpleHistoryAdmin):
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
        "had_coach_at_close",
        "stage_entered_at",
        "source_display",
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
        data = {f: form.cleaned_data[f] for f in ("name", "product_line", "amount", "owner", "expected_close")}
        if change:
            services.opportunity_update(opportunity=obj, by=request.user, **data)
        else:
            saved = services.opportunity_create(
                by=request.user, account=form.cleaned_data["account"], stage=form.cleaned_data["stage"], **data
            )
            obj.pk = saved.pk

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        for stage in Stage.objects.all():
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
