from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


def navigation_for(user) -> list[dict]:
    """The navigation entries the user's role can use."""
    if not user.is_authenticated:
        return []
    items = [
        {"label": _("Home"), "url": reverse("home")},
        {"label": _("Accounts"), "url": reverse("accounts:account-list")},
        {"label": _("Contacts"), "url": reverse("accounts:contact-list")},
        {"label": _("My coaches"), "url": reverse("coaches:coach-list")},
        {"label": _("Pipeline"), "url": reverse("pipeline:opportunity-board")},
        {"label": _("Opportunities"), "url": reverse("pipeline:opportunity-list")},
        {"label": _("Needs a coach"), "url": reverse("pipeline:opportunity-held-back")},
    ]
    if user.is_admin or user.is_staff:
        items.append({"label": _("Admin site"), "url": reverse("admin:index")})
    if user.is_rep or user.is_manager:
        items.append({"label": _("What I may give"), "url": reverse("service_catalog:allowance")})
    if user.is_manager or user.is_admin:
        items.append({"label": _("Approvals"), "url": reverse("service_catalog:approval-list")})
    if user.is_admin:
        items.append({"label": _("Catalog"), "url": reverse("service_catalog:item-list")})
    items.append({"label": _("Ledger"), "url": reverse("service_catalog:ledger")})
    if user.is_manager or user.is_admin:
        items.append({"label": _("Team"), "url": reverse("team:team-list")})
    items.append({"label": _("My handovers"), "url": reverse("team:handover-list")})
    return items


def crm(request):
    user = getattr(request, "user", None)
    authenticated = user is not None and user.is_authenticated
    return {
        "CRM_CURRENCY": settings.CRM_CURRENCY,
        "nav_items": navigation_for(user) if authenticated else [],
        # Lazy, so that pages which never render the navigation pay no query for it.
        "unread_notifications": (lambda: user.notifications.unread().count()) if authenticated else 0,
    }
