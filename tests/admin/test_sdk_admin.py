"""The administration API through the official openai SDK (``client.admin.organization``),
with strict response validation: every answer parses as the SDK's own types."""

from __future__ import annotations

import time
from collections.abc import Iterator

import openai
import pytest

from tests.conftest import VIA_OPENAI
from tests.fakes import openai_wire as ow
from tests.server import MASTER_KEY, LiveServer, sdk

HELLO = [{"role": "user", "content": "hi"}]


@pytest.fixture
def org(org_server: LiveServer) -> Iterator[openai.OpenAI]:
    client = openai.OpenAI(base_url=org_server.url + "/v1", api_key="unused", admin_api_key=MASTER_KEY,
                           max_retries=0, timeout=60, _strict_response_validation=True)
    yield client
    client.close()


def test_projects_service_accounts_and_keys(org_server: LiveServer, org: openai.OpenAI, fake_openai) -> None:
    admin = org.admin.organization
    project = admin.projects.create(name="SDK project")
    assert project.object == "organization.project" and project.name == "SDK project"
    assert admin.projects.retrieve(project.id).id == project.id
    assert admin.projects.update(project.id, name="SDK renamed").name == "SDK renamed"
    assert project.id in [p.id for p in admin.projects.list(limit=100)]

    created = admin.projects.service_accounts.create(project.id, name="deployer", expires_in_seconds=3600)
    assert created.api_key is not None and created.api_key.value.startswith("sk-sy-")
    fake_openai.script(ow.completion("hello from the sdk"))
    reply = sdk(org_server, created.api_key.value).chat.completions.create(model=VIA_OPENAI, messages=HELLO)
    assert reply.choices[0].message.content == "hello from the sdk"

    account = admin.projects.service_accounts.retrieve(created.id, project_id=project.id)
    assert (account.name, account.role) == ("deployer", "member")
    assert admin.projects.service_accounts.update(created.id, project_id=project.id, role="owner").role == "owner"
    second = admin.projects.service_accounts.api_keys.create(created.id, project_id=project.id, name="second")
    assert second.value.startswith("sk-sy-")

    keys = list(admin.projects.api_keys.list(project.id, limit=1))  # auto-paginates over two pages
    assert {k.id for k in keys} == {created.api_key.id, second.id}
    first = admin.projects.api_keys.retrieve(created.api_key.id, project_id=project.id)
    assert first.owner.type == "service_account" and first.owner.service_account is not None
    assert first.owner.service_account.id == created.id
    assert first.expires_at is not None and first.expires_at > time.time() + 3000
    renewed = admin.projects.api_keys.update(second.id, project_id=project.id, expires_in_seconds=60)
    assert renewed.expires_at is not None and renewed.expires_at <= time.time() + 90
    with pytest.raises(openai.BadRequestError) as caught:
        admin.projects.api_keys.update(second.id, project_id=project.id, scopes=["api.all.read"])
    assert caught.value.body["param"] == "scopes"

    assert admin.projects.api_keys.delete(second.id, project_id=project.id).deleted is True
    with pytest.raises(openai.AuthenticationError):
        sdk(org_server, second.value).models.list()
    assert admin.projects.service_accounts.delete(created.id, project_id=project.id).deleted is True
    with pytest.raises(openai.AuthenticationError):
        sdk(org_server, created.api_key.value).models.list()

    archived = admin.projects.archive(project.id)
    # an admin client built with project= still manages the organization, even if that project is archived
    scoped = openai.OpenAI(base_url=org_server.url + "/v1", api_key="unused", admin_api_key=MASTER_KEY,
                           project=project.id, max_retries=0, _strict_response_validation=True)
    assert scoped.admin.organization.projects.retrieve(project.id).status == "archived"
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=org_server.url + "/v1", api_key=MASTER_KEY, project=project.id,
                      max_retries=0).models.list()
    assert archived.status == "archived" and archived.archived_at is not None
    assert project.id not in [p.id for p in admin.projects.list(limit=100)]
    assert project.id in [p.id for p in admin.projects.list(limit=100, include_archived=True)]


def test_project_settings(org: openai.OpenAI) -> None:
    admin = org.admin.organization
    project = admin.projects.create(name="settings")
    limits = admin.projects.rate_limits.list_rate_limits(project.id).data
    limit = next(r for r in limits if r.model == VIA_OPENAI)
    updated = admin.projects.rate_limits.update_rate_limit(limit.id, project_id=project.id,
                                                           max_requests_per_1_minute=10)
    assert (updated.model, updated.max_requests_per_1_minute) == (VIA_OPENAI, 10)

    permissions = admin.projects.model_permissions.update(project.id, mode="allow_list", model_ids=[VIA_OPENAI])
    assert (permissions.mode, permissions.api_model_ids) == ("allow_list", [VIA_OPENAI])
    assert admin.projects.model_permissions.retrieve(project.id).api_model_ids == [VIA_OPENAI]
    assert admin.projects.model_permissions.delete(project.id).deleted is True

    spend = admin.projects.spend_limit.update(project.id, currency="USD", interval="month", threshold_amount=5000)
    assert (spend.threshold_amount, spend.interval, spend.currency) == (5000, "month", "USD")
    assert admin.projects.spend_limit.retrieve(project.id).threshold_amount == 5000
    assert admin.projects.spend_limit.delete(project.id).deleted is True
    with pytest.raises(openai.NotFoundError):
        admin.projects.spend_limit.retrieve(project.id)


def test_admin_keys_and_users(org_server: LiveServer, org: openai.OpenAI) -> None:
    admin = org.admin.organization
    key = admin.admin_api_keys.create(name="automation", expires_in_seconds=600)
    assert key.value.startswith("sk-sy-admin-") and key.expires_at is not None
    as_admin_key = openai.OpenAI(base_url=org_server.url + "/v1", api_key="unused", admin_api_key=key.value,
                                 max_retries=0, _strict_response_validation=True)
    assert key.id in [k.id for k in as_admin_key.admin.organization.admin_api_keys.list(limit=100)]
    assert as_admin_key.admin.organization.admin_api_keys.retrieve(key.id).name == "automation"
    assert admin.admin_api_keys.delete(key.id).deleted is True
    with pytest.raises(openai.AuthenticationError):
        as_admin_key.admin.organization.projects.list()

    user_body = org.post("/organization/users", body={"email": "grace@example.com", "name": "Grace"},
                         cast_to=dict, options={"security": {"admin_api_key_auth": True}})  # extension
    user_id = user_body["id"]
    user = admin.users.retrieve(user_id)
    assert (user.email, user.role) == ("grace@example.com", "reader")
    assert admin.users.update(user_id, role="owner").role == "owner"
    assert user_id in [u.id for u in admin.users.list(emails=["grace@example.com"])]
    project = admin.projects.create(name="with members")
    member = admin.projects.users.create(project.id, user_id=user_id, role="member")
    assert (member.id, member.role, member.email) == (user_id, "member", "grace@example.com")
    assert admin.projects.users.update(user_id, project_id=project.id, role="owner").role == "owner"
    assert [m.id for m in admin.projects.users.list(project.id)] == [user_id]
    assert admin.projects.users.delete(user_id, project_id=project.id).deleted is True
    assert admin.users.delete(user_id).deleted is True


def test_project_keys_are_refused_by_the_sdk_admin_calls(org_server: LiveServer, org: openai.OpenAI) -> None:
    project = org.admin.organization.projects.create(name="refuser")
    made = org.admin.organization.projects.service_accounts.create(project.id, name="bot")
    assert made.api_key is not None
    as_project = openai.OpenAI(base_url=org_server.url + "/v1", api_key="unused",
                               admin_api_key=made.api_key.value, max_retries=0)
    with pytest.raises(openai.PermissionDeniedError):
        as_project.admin.organization.projects.list()
    with pytest.raises(openai.PermissionDeniedError):
        as_project.admin.organization.admin_api_keys.create(name="escalate")
