"""The access log's row ids counted reads the reader is not shown (docs/security.md "Ids count
nothing"). Every read of a sensitive category in any case writes an access-log row, and the
rows take their keys from one sequence: the coordinator reading a case's log saw, between
the prison's two reads of the case, the gap count the reads made meanwhile in cases they do not
see (the health service reading the person's treatment case, say), and a list's cursor
carried the last row's key too. Now a row's id is a keyed permutation of its key
(``core.public_ids``, kind ``access``), in the rows and in the cursor."""

import json
import zlib
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import signing
from django.urls import reverse

from permissions import grants
from permissions.models import AccessLog, CaseParticipant
from tests.clients import api
from tests.workflows.helpers import PERSON, start_prison_case

pytestmark = pytest.mark.django_db

OTHER_PERSON = {"name": "Kari Nordmann", "national_id": "29822099635"}


def _ids_between_nav_reads(users, agencies, reads_elsewhere: int) -> dict:
    """The prison reads the case's timeline, the health service reads that of a case the coordinator does not see
    ``reads_elsewhere`` times, the prison reads the case again; what bjorn's access log shows."""
    case = start_prison_case(users, agencies, person=PERSON)
    elsewhere = start_prison_case(users, agencies, person=OTHER_PERSON)
    CaseParticipant.objects.filter(case=elsewhere, kind="nav").delete()
    grants.revoke_agency_access(elsewhere, [agencies["nav"]])
    kari, helga = api(users["kari"]), api(users["helga"])
    assert kari.get(reverse("api-case-timeline", args=[case.pk])).status_code == 200
    for _ in range(reads_elsewhere):
        assert helga.get(reverse("api-case-timeline", args=[elsewhere.pk])).status_code == 200
    assert kari.get(reverse("api-case-timeline", args=[case.pk])).status_code == 200
    answer = api(users["bjorn"]).get(reverse("api-case-access-log", args=[case.pk]), {"page_size": 1}).json()
    rows = api(users["bjorn"]).get(reverse("api-case-access-log", args=[case.pk])).json()["results"]
    nav = [row["id"] for row in rows if row["username"] == "kari"]
    keys = sorted(AccessLog.objects.filter(case=case, username="kari").values_list("pk", flat=True))
    return {"shown": nav, "keys": keys, "next": answer["next"]}


def _cursor_values(link: str) -> list:
    """What anybody reads in a signed cursor (signed, not secret: base64 JSON, maybe zlib'd)."""
    payload = parse_qs(urlsplit(link).query)["cursor"][0].split(":")[0]
    data = signing.b64_decode(payload.lstrip(".").encode())
    return json.loads(zlib.decompress(data) if payload.startswith(".") else data)["v"]


def test_the_access_log_s_ids_count_no_reads_elsewhere(users, agencies, shipped):
    quiet = _ids_between_nav_reads(users, agencies, 0)
    busy = _ids_between_nav_reads(users, agencies, 3)
    # The prison's rows in the log: the same in both (the rows of each read) ...
    assert len(quiet["shown"]) == len(busy["shown"]) >= 2
    # ... their keys count the reads made between them elsewhere ...
    assert quiet["keys"][-1] - quiet["keys"][0] != busy["keys"][-1] - busy["keys"][0]
    # ... but the ids the coordinator is shown are none of them, and count nothing.
    for seen in (quiet, busy):
        assert not set(seen["shown"]) & set(seen["keys"])
        assert abs(max(seen["shown"]) - min(seen["shown"])) > 2**20, seen
        # The cursor of the next page holds the last row's id as shown, not its key.
        assert not set(_cursor_values(seen["next"])) & set(AccessLog.objects.values_list("pk", flat=True))
