"""django-axes' bulk action "Clean up expired attempts", offered on *Axes > Access attempts*,
ignores the rows chosen: ``clean_expired_user_attempts`` deletes every expired attempt of the
site, every agency's users' among them, though the list shows an access administrator those of
the users she may manage alone (``UsernameRowsAdmin``). And it reads a time axes sets on a
sign-in's request only: it answered every operator with a 500. It is gone (h-review; the test
failed before); an attempt is deleted as any row is, the rows chosen among those listed."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from permissions.models import Membership, Role
from tests.permissions.access_admins import make_access_admin, signed_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

CLEANUP = "cleanup_expired_attempts"


def _expired_attempt(username: str) -> AccessAttempt:
    return AccessAttempt.objects.create(
        username=username,
        ip_address="192.0.2.9",
        user_agent="x",
        path_info="/login/",
        get_data="",
        post_data="",
        failures_since_start=2,
        attempt_time=timezone.now() - timedelta(days=2),
    )


def _act(client, action, attempt):
    url = reverse("admin:axes_accessattempt_changelist")
    return client.post(url, {"action": action, "_selected_action": [attempt.pk], "index": "0", "post": "yes"})


@pytest.mark.parametrize("superuser", [False, True])
def test_the_cleanup_of_every_agencys_attempts_is_offered_to_nobody(django_user_model, agencies, superuser):
    if superuser:
        operator = django_user_model.objects.create_superuser("ryddeoperator", password="x")
    else:
        operator = make_access_admin(django_user_model, agencies["nav"], "ryddeadmin-nav")
        axes = Permission.objects.filter(content_type__app_label="axes", content_type__model="accessattempt")
        operator.user_permissions.add(*axes)
    rows = {}
    for kind in ("nav", "prison"):
        user = django_user_model.objects.create_user(f"ryddebruker-{kind}")
        Membership.objects.create(user=user, agency=agencies[kind], role=Role.MEMBER)
        rows[kind] = _expired_attempt(user.username)
    client = signed_in(operator)
    listed = client.get(reverse("admin:axes_accessattempt_changelist"))
    assert CLEANUP not in dict(listed.context_data["action_form"].fields["action"].choices)

    answer = _act(client, CLEANUP, rows["nav"])

    assert answer.status_code in (200, 302)  # "no action chosen", as for any action not offered: no 500
    assert AccessAttempt.objects.filter(pk__in=[row.pk for row in rows.values()]).count() == 2
    # What an operator deletes is what she chose, of the rows she is shown: her own user's.
    _act(client, "delete_selected", rows["nav"])
    assert set(AccessAttempt.objects.values_list("pk", flat=True)) == {rows["prison"].pk}
