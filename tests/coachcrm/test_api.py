"""The API as a whole: schema, docs, and schemathesis exploring every operation."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from knox.models import AuthToken
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests import factories


def test_schema_is_served_to_a_token_holder(token_client, rep):
    response = token_client(rep).get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/accounts/{id}/" in paths
    assert "404" in paths["/api/v1/accounts/{id}/"]["get"]["responses"]


def test_schema_is_not_served_anonymously(api_client):
    assert api_client.get("/api/schema/").status_code == 401


def test_schema_generates_without_warnings_and_documents_the_token():
    # A warning would mean drf-spectacular could not describe an authentication class (knox's
    # own extension does not match our subclass) or some operation.
    from drf_spectacular.drainage import GENERATOR_STATS

    GENERATOR_STATS.reset()
    schema = SchemaGenerator().get_schema(request=None, public=True)
    assert not GENERATOR_STATS
    assert schema["components"]["securitySchemes"]["tokenAuth"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": 'Token-based authentication with required prefix "Token"',
    }


def test_docs_page_loads_swagger_from_the_package_not_a_cdn(rep_client):
    response = rep_client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()


def test_docs_page_sends_anonymous_users_to_the_login_page(client):
    response = client.get("/api/docs/")
    assert response.status_code == 302
    assert response.url.startswith("/login/")


# The schema as served, generated in-process; schemathesis calls the WSGI app directly, so
# its requests run inside the test's database transaction.
api_schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
api_schema.app = get_wsgi_application()


@pytest.fixture
def _same_db_connection():
    # Like Django's test client: a real WSGI request would close the connection when it ends,
    # and with it the test's transaction (PostgreSQL then answers "connection already closed").
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _organisation():
    """A small organisation, so that every operation has something to find: alice, a rep, and her world."""
    manager = factories.ManagerFactory()
    alice = factories.RepFactory(manager=manager, username="alice")
    account = factories.AccountFactory(owner=alice)
    factories.ProductLineFactory()
    coach = factories.CoachFactory(account=account)
    factories.InteractionFactory(coach=coach)
    factories.OpportunityFactory(account=account, stage=factories.default_stages()["Qualified"])
    factories.TaskFactory(owner=alice, account=account)
    factories.GrantFactory(account=account, recipient=coach.contact)
    return {"rep": alice, "admin": factories.AdminFactory()}


@pytest.fixture(params=["rep", "admin"])
def explorer_headers(request, db, _same_db_connection):
    """A rep's token (what she may not do is a 403/404, never a 500), then an admin's (every operation open)."""
    user = _organisation()[request.param]
    return {"Authorization": f"Token {AuthToken.objects.create(user=user)[1]}"}


EVERY_CHECK = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]


@pytest.mark.django_db
@api_schema.parametrize()
# Bounded so the suite stays quick on two cores: a handful of examples per operation.
@settings(max_examples=4, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
def test_api_gives_no_server_error_and_keeps_to_its_schema(case, explorer_headers):
    case.call_and_validate(headers=explorer_headers, checks=EVERY_CHECK)


@pytest.mark.django_db
def test_api_workflows_through_the_schemas_links_give_no_server_error(explorer_headers):
    """Stateful: schemathesis chains operations by the links it infers (create, then read, change, act on it)."""

    class Workflow(api_schema.as_state_machine()):
        def get_call_kwargs(self, case):
            return {"headers": explorer_headers}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=EVERY_CHECK)

    # Bounded: a few short scenarios per role keep its CI cost to seconds.
    Workflow.run(
        settings=settings(
            max_examples=10,
            stateful_step_count=6,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )
