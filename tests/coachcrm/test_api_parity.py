"""Every page has its API counterpart: a page added without one fails here until it gets one
(or a line in PAGE_ONLY saying why it needs none)."""

from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator

# Page URL name → the API URL name that does the same (through the same service or selector).
PARITY = {
    "home": "api:today",  # Today: tasks, touches due, verifications, handovers, held-back and late deals
    "agenda:digest-opt-out": "api:digest",
    "team:notification-list": "api:notification-list",
    "team:notification-read": "api:notification-read",
    "departures:team-list": "api:user-list",
    "departures:departure-detail": "api:handover-list",
    "departures:departure-create": "api:user-depart",
    "departures:handover-list": "api:handover-list",
    "departures:handover-reassign": "api:handover-reassign",
    "accounts:account-list": "api:account-list",
    "accounts:account-create": "api:account-list",
    "accounts:account-detail": "api:account-detail",
    "accounts:account-update": "api:account-detail",
    "accounts:account-reassign": "api:account-detail",  # PATCH owner + reason: account_reassign
    "accounts:contact-list": "api:contact-list",
    "accounts:contact-create": "api:contact-list",
    "accounts:contact-detail": "api:contact-detail",
    "accounts:contact-update": "api:contact-detail",
    "accounts:employment-create": "api:contact-positions",
    "accounts:employment-end": "api:contact-end-position",
    "accounts:contact-move": "api:contact-move",
    "accounts:account-merge": "api:account-merge",  # its preview step: api:account-merge-preview
    "accounts:contact-merge": "api:contact-merge",  # its preview step: api:contact-merge-preview
    "accounts:duplicate-list": "api:duplicate-list",  # ?show=dismissed: api:duplicate-dismissed
    "accounts:duplicate-dismiss": "api:duplicate-dismiss",
    "accounts:duplicate-restore": "api:duplicate-restore",
    "accounts:territory-list": "api:territory-list",
    "accounts:territory-create": "api:territory-list",
    "accounts:territory-update": "api:territory-detail",
    "accounts:territory-deactivate": "api:territory-deactivate",
    "accounts:territory-move": "api:territory-move",
    "accounts:territory-conflicts": "api:territory-conflict-list",
    "service_catalog:allowance": "api:service-item-list",
    "service_catalog:item-list": "api:service-item-list",
    "service_catalog:item-create": "api:service-item-list",
    "service_catalog:item-update": "api:service-item-detail",
    "service_catalog:item-deactivate": "api:service-item-deactivate",
    "service_catalog:authority-list": "api:authority-list",
    "service_catalog:authority-update": "api:authority-list",
    "service_catalog:grant-list": "api:grant-list",
    "service_catalog:grant-create": "api:grant-list",
    "service_catalog:grant-preview": "api:grant-preview",
    "service_catalog:grant-detail": "api:grant-detail",
    "service_catalog:grant-approve": "api:grant-approve",
    "service_catalog:grant-reject": "api:grant-reject",
    "service_catalog:grant-cancel": "api:grant-cancel",
    "service_catalog:approval-list": "api:grant-list",  # ?status=pending
    "service_catalog:ledger": "api:grant-list",
    "coaches:coach-list": "api:coach-list",
    "coaches:coach-create": "api:coach-list",
    "coaches:coach-detail": "api:coach-detail",
    "coaches:coach-verify": "api:coach-verify",
    "coaches:coach-status": "api:coach-set-status",
    "coaches:interaction-create": "api:interaction-list",
    "coaches:holder-create": "api:coach-holders",
    "coaches:holder-delete": "api:coach-holder-remove",
    "coaches:holder-primary": "api:coach-holder-primary",
    "coaches:stylereport-create": "api:stylereport-list",
    "coaches:coachmove-list": "api:coachmove-list",
    "pipeline:opportunity-board": "api:opportunity-list",
    "pipeline:opportunity-list": "api:opportunity-list",
    "pipeline:opportunity-held-back": "api:opportunity-list",  # ?held_back=true
    "pipeline:opportunity-create": "api:opportunity-list",
    "pipeline:opportunity-detail": "api:opportunity-detail",
    "pipeline:opportunity-update": "api:opportunity-detail",
    "pipeline:opportunity-move": "api:opportunity-move",
    "pipeline:opportunity-override": "api:opportunity-override",
    "pipeline:dashboard": "api:dashboard",
    "pipeline:opportunitycontact-create": "api:opportunity-people",
    "pipeline:opportunitycontact-delete": "api:opportunity-people-remove",
    "pipeline:opportunity-close": "api:opportunity-move",  # the confirmation of a move into Won or Lost
    "pipeline:opportunity-reopen": "api:opportunity-reopen",
    "pipeline:committee-set": "api:opportunity-committee",
    "pipeline:account-committee": "api:account-committee",
    "agenda:style-request": "api:task-style-request",
    "pipeline:forecast-deals": "api:dashboard",  # the forecast's drill-down: the dashboard's forecast figures
    "accounts:employment-reports-to": "api:contact-reports-to",
    "agenda:task-list": "api:task-list",
    "agenda:task-create": "api:task-list",
    "agenda:task-edit": "api:task-detail",
    "agenda:task-done": "api:task-done",
    "agenda:touch-create": "api:touches",
    "agenda:note-create": "api:notes",
    "agenda:search": "api:search",
    "agenda:timeline": "api:account-timeline",  # and contact-/opportunity-timeline
    "coaches:coach-cadence": "api:coach-cadence",
    "departures:departure-cancel": "api:user-depart-cancel",
    "csvio:import-create": "api:import-list",  # the upload, dry-run at once
    "csvio:import-detail": "api:import-detail",  # the dry-run report
    "csvio:import-map": "api:import-mapping",
    "csvio:import-confirm": "api:import-confirm",
    "csvio:import-progress": "api:import-progress",
    "csvio:import-cancel": "api:import-cancel",
    "team:securityevent-list": "api:security-event-list",
    "webhooks:webhook-list": "api:webhook-list",
    "webhooks:webhook-create": "api:webhook-list",  # the answer carries the secret, shown once
    "webhooks:webhook-detail": "api:webhook-deliveries",  # the endpoint (webhook-detail) and its delivery log
    "webhooks:webhook-update": "api:webhook-detail",
    "webhooks:webhook-active": "api:webhook-detail",  # PATCH {"active": false|true}
    "webhooks:webhook-rotate-secret": "api:webhook-rotate-secret",
    "webhooks:delivery-redeliver": "api:webhook-redeliver",
}

# Pages that need no endpoint, each with the reason.
PAGE_ONLY = {
    "login": "the API trades a password for a token instead (auth-token)",
    "logout": "DELETE auth/token/ revokes the client's token",
    "locked-out": "the API answers 429 locked_out itself",
    "language-set": "API clients send Accept-Language on each request",
    "health": "not a page action: the load balancer's probe, already JSON",
    "accounts:territory-preview": "a form's live preview; a client sees the result of territory create/update",
    # CSV files are a browser's way in and out; integrations use the JSON resources.
    "accounts:account-export": "CSV download; the list endpoint pages the same rows",
    "accounts:contact-export": "CSV download; the list endpoint pages the same rows",
    "service_catalog:grant-export": "CSV download; the list endpoint pages the same rows",
    "coaches:coach-export": "CSV download; the list endpoint pages the same rows",
    "pipeline:opportunity-export": "CSV download; the list endpoint pages the same rows",
    "pipeline:dashboard-export": "CSV download of the dashboard endpoint's figures",
    "pipeline:committee-export": "CSV download; the committee endpoint gives the same data",
    "pipeline:account-committee-export": "CSV download; the account committee endpoint gives the same data",
    "csp-report": "the browser's Content-Security-Policy violation reports, not a person's action",
    "health-ready": "not a page action: the load balancer's readiness probe, already JSON",
    "login-code": "the token login takes the second factor's `code` itself",
    "password_reset": "signed-out password recovery by e-mail; API clients hold tokens, not passwords",
    "password_reset_done": "signed-out password recovery by e-mail",
    "password_reset_confirm": "signed-out password recovery by e-mail",
    "password_reset_complete": "signed-out password recovery by e-mail",
    "team:profile": "the person's own sign-in security (password, second factor); tokens are minted after it",
    "team:password-change": "the person's own sign-in security; changing it revokes his tokens",
    "team:mfa-setup": "the person's own sign-in security (TOTP enrolment with a QR code)",
    "api-schema": "the API itself",
    "api-docs": "the API itself",
}


def _names(patterns, namespace=None, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace or namespace
            if inner and namespace and pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}"
            yield from _names(pattern.url_patterns, inner, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}:{pattern.name}" if namespace else pattern.name, prefix + str(pattern.pattern)


def _page_names():
    return {
        name
        for name, route in _names(get_resolver().url_patterns)
        if not route.startswith(("admin/", "api/v1/")) and not name.startswith("admin:")
    }


def test_every_page_has_an_api_counterpart_or_a_reason():
    missing = _page_names() - PARITY.keys() - PAGE_ONLY.keys()
    assert not missing, f"pages without an API counterpart (add one, or a reason in PAGE_ONLY): {sorted(missing)}"


def test_the_parity_table_names_only_pages_and_endpoints_that_exist():
    pages = _page_names()
    assert not (PARITY.keys() | PAGE_ONLY.keys()) - pages
    api_names = {name for name, _route in _names(get_resolver().url_patterns) if name.startswith("api:")}
    assert not set(PARITY.values()) - api_names


def test_every_api_counterpart_is_in_the_schema():
    # The endpoints a page action maps to are documented, so a client can find them.
    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    documented = {path.rstrip("/") for path in paths}
    for api_name in set(PARITY.values()):
        route = next(route for name, route in _names(get_resolver().url_patterns) if name == api_name)
        template = route.replace("api/v1/^", "/api/v1/").rstrip("$")
        for group, value in (
            ("(?P<pk>[^/.]+)", "{id}"),
            ("<int:pk>", "{id}"),
            ("(?P<holder_pk>\\d+)", "{holder_pk}"),
            ("(?P<role_pk>\\d+)", "{role_pk}"),
            ("(?P<position_pk>\\d+)", "{position_pk}"),
            ("(?P<delivery_pk>\\d+)", "{delivery_pk}"),
        ):
            template = template.replace(group, value)
        template = "/" + template.lstrip("/")
        assert template.rstrip("/") in documented, f"{api_name} ({template}) is not in the schema"
