# Template context for every page: the navigation menu by role, the unread notices, the language switch.
from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

EVERYONE = {"rep", "manager", "admin"}
REP, MANAGER, ADMIN = {"rep"}, {"manager"}, {"admin"}

# The navigation: (menu, label, URL name, roles that see it). Entries with a menu are grouped
# into that dropdown, in this order; a feature adds its pages here and nowhere else.
MENU = [
    (None, _("Home"), "home", EVERYONE),
    (None, _("Accounts"), "accounts:account-list", EVERYONE),
    (None, _("Contacts"), "accounts:contact-list", EVERYONE),
    (None, _("Dashboard"), "pipeline:dashboard", EVERYONE),
    (_("Pipeline"), _("Board"), "pipeline:opportunity-board", EVERYONE),
    (_("Pipeline"), _("Opportunities"), "pipeline:opportunity-list", EVERYONE),
    (_("Pipeline"), _("Needs a coach"), "pipeline:opportunity-held-back", EVERYONE),
    (_("Coaches"), _("My coaches"), "coaches:coach-list", EVERYONE),
    (_("Coaches"), _("Moved coaches"), "coaches:coachmove-list", EVERYONE),
    (_("Extras"), _("What I may give"), "service_catalog:allowance", REP | MANAGER),
    (_("Extras"), _("Approvals"), "service_catalog:approval-list", MANAGER | ADMIN),
    (_("Extras"), _("Ledger"), "service_catalog:ledger", EVERYONE),
    (_("Extras"), _("Catalog"), "service_catalog:item-list", ADMIN),
    (_("Coaches"), _("My handovers"), "departures:handover-list", EVERYONE),
    (_("Team"), _("Team"), "departures:team-list", MANAGER | ADMIN),
    (_("Team"), _("Territories"), "accounts:territory-list", ADMIN),
    (_("Team"), _("Conflicts"), "accounts:territory-conflicts", MANAGER | ADMIN),
    (_("Team"), _("Possible duplicates"), "accounts:duplicate-list", MANAGER | ADMIN),
    (_("Team"), _("Security events"), "team:securityevent-list", ADMIN),
    (_("Team"), _("Webhooks"), "webhooks:webhook-list", ADMIN),
]


# Built menus by (role, staff, language, URL prefix and conf): the same for every request of that
# kind, so each page pays neither the reverse() calls nor the translation of lazy labels again.
_BUILT: dict[tuple, list[dict]] = {}


def navigation_for(user) -> list[dict]:
    """The navigation the user's role can use: links, and dropdowns of links."""
    if not user.is_authenticated:
        return []
    key = (user.role, user.is_staff, get_language(), get_script_prefix(), get_urlconf())
    built = _BUILT.get(key)
    if built is None:
        built = _BUILT[key] = _build_navigation(user.role, user.is_staff)
    return built


def _build_navigation(role, is_staff) -> list[dict]:
    entries, menus = [], {}
    for menu, label, url_name, roles in MENU:
        if role not in roles:
            continue
        link = {"label": str(label), "url": reverse(url_name)}
        if menu is None:
            entries.append(link)
        elif menu in menus:
            menus[menu]["children"].append(link)
        else:
            menus[menu] = {"label": str(menu), "children": [link]}
            entries.append(menus[menu])
    if is_staff:
        entries.append({"label": str(_("Admin site")), "url": reverse("admin:index")})
    return entries


def crm(request):
    user = getattr(request, "user", None)
    authenticated = user is not None and user.is_authenticated
    return {
        "CRM_CURRENCY": settings.CRM_CURRENCY,
        "nav_items": navigation_for(user) if authenticated else [],
        # Lazy, so that pages which never render the navigation pay no query for it.
        "unread_notifications": user.unread_notification_count if authenticated else 0,
    }
