"""Abuse limits on the public pages: per-address rate limits and request size limits."""

import datetime
import re
import uuid

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from factories import DETAILS, complete_until_check, make_invitation, step_url, submit

from intake import published
from intake.models import Draft, Submission

pytestmark = pytest.mark.django_db


def start_new(client: Client):
    return client.post("/start/", {"treatment_date": ""})


def test_starting_questionnaires_is_limited_per_address_per_hour(version, settings):
    settings.RATE_LIMIT_STARTS_PER_HOUR = 3

    allowed = [start_new(Client()).status_code for _ in range(3)]
    refused = start_new(Client())
    other_address = Client(REMOTE_ADDR="198.51.100.7").post("/start/", {"treatment_date": ""})

    assert allowed == [302, 302, 302]
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 3601
    text = refused.content.decode()
    assert "Please try again after" in text and "Nothing from this attempt has been saved" in text
    assert other_address.status_code == 302
    assert Draft.objects.count() == 4


def test_behind_the_proxy_each_client_address_has_its_own_limit(version, settings):
    settings.RATE_LIMIT_STARTS_PER_HOUR = 1
    settings.PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.0.0.2"}

    first = Client(**proxy, HTTP_X_FORWARDED_FOR="203.0.113.1").post("/start/", {})
    second = Client(**proxy, HTTP_X_FORWARDED_FOR="203.0.113.2").post("/start/", {})
    # A client cannot dodge the limit by writing its own X-Forwarded-For entries.
    spoofed = Client(**proxy, HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.1").post("/start/", {})

    assert (first.status_code, second.status_code, spoofed.status_code) == (302, 302, 429)


def test_ipv6_clients_are_counted_per_64_network(version, settings):
    settings.RATE_LIMIT_STARTS_PER_HOUR = 1

    first = Client(REMOTE_ADDR="2001:db8:1:2::10").post("/start/", {})
    same_network = Client(REMOTE_ADDR="2001:db8:1:2:ffff::1").post("/start/", {})
    other_network = Client(REMOTE_ADDR="2001:db8:1:3::10").post("/start/", {})

    assert (first.status_code, same_network.status_code, other_network.status_code) == (
        302,
        429,
        302,
    )


def test_patients_on_one_connection_are_never_refused_sending_their_own_questionnaire(
    version, settings
):
    # A waiting room on the clinic's Wi-Fi is one address; sending is counted per questionnaire.
    settings.RATE_LIMIT_SUBMITS_PER_DRAFT_PER_HOUR = 1
    patients = [Client(REMOTE_ADDR="203.0.113.80") for _ in range(3)]
    checks = []
    for patient in patients:
        start_new(patient)
        checks.append(complete_until_check(patient, version))

    sent = [submit(patient, check) for patient, check in zip(patients, checks, strict=True)]
    again = submit(patients[0], checks[0])  # a double click, or Back and Submit again

    assert [response["Location"] for response in sent] == [reverse("intake:done")] * 3
    assert again.status_code == 302 and again["Location"] == reverse("intake:done")
    assert Submission.objects.count() == 3


def test_a_questionnaire_sent_again_and_again_is_paused_saying_its_answers_are_saved(
    version, settings
):
    settings.RATE_LIMIT_SUBMITS_PER_DRAFT_PER_HOUR = 1
    client = Client()
    start_new(client)
    check = complete_until_check(client, version)
    answers = Draft.objects.get().answers
    now = datetime.datetime.now(datetime.UTC)
    hour = now.replace(minute=0, second=5, microsecond=0) + datetime.timedelta(hours=1)
    with time_machine.travel(hour, tick=False) as clock:
        # An attempt that does not go through (here: an answer went missing) still counts.
        Draft.objects.update(answers={})
        assert submit(client, check).status_code == 302
        Draft.objects.update(answers=answers)
        refused = submit(client, check)
        kept = Draft.objects.get()
        clock.move_to(hour + datetime.timedelta(hours=1))
        next_hour = submit(client, check)

    text = refused.content.decode()
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 3601
    assert "Your answers are saved" in text
    assert "Nothing from this attempt has been saved" not in text
    assert "Please try again after" in text and "continue-later link" in text
    assert f'href="{step_url(check)}"' in text  # back to the check page
    assert next_hour["Location"] == reverse("intake:done")
    assert kept.answers == answers and kept.submission_id is None
    assert Submission.objects.count() == 1


def test_limits_on_one_address_leave_room_for_a_full_waiting_room(version):
    # The defaults: 30 patients on the clinic's Wi-Fi each start, save and ask for the email.
    room = [Client(REMOTE_ADDR="203.0.113.90") for _ in range(30)]

    started = [start_new(patient).status_code for patient in room]
    saved = [
        patient.post(step_url(1), DETAILS | {"treatment_date": "", "action": "save"})
        for patient in room
    ]

    assert started == [302] * 30
    assert all(response.status_code == 200 for response in saved)
    assert len(mail.outbox) == 30


def test_continue_later_emails_are_capped_but_the_link_is_always_shown(version, settings):
    settings.RATE_LIMIT_EMAILS_PER_HOUR = 1
    client = Client()
    start_new(client)
    client.post(step_url(1), DETAILS | {"treatment_date": ""})

    first = client.post(step_url(2), {"action": "save"})
    second = client.post(step_url(2), {"action": "save"})

    assert len(mail.outbox) == 1
    assert "/continue/" in first.content.decode() and "/continue/" in second.content.decode()
    assert second.status_code == 200
    assert "Your answers are saved" in second.content.decode()
    assert "We couldn" in second.content.decode()


def test_a_request_with_too_many_fields_is_refused(version):
    client = Client()
    start_new(client)
    fields = {f"field_{n}": "x" for n in range(5000)}

    response = client.post(step_url(1), fields)

    assert response.status_code == 400
    assert Draft.objects.get().details == {}


def test_an_oversized_body_is_refused(version):
    client = Client()
    start_new(client)

    response = client.post(step_url(1), DETAILS | {"full_name": "A" * 1_200_000})

    assert response.status_code == 400
    assert Draft.objects.get().details == {}


def test_the_largest_form_a_draft_in_the_admin_fits_within_the_limits(client, version, settings):
    from urllib.parse import urlencode

    from factories import change_form_data, logged_in, staff

    draft = version.new_draft()
    logged_in(client, staff("cara", "Clinic admin"))
    page = client.get(f"/admin/intake/questionsetversion/{draft.pk}/change/")
    data = change_form_data(page)

    saved = client.post(f"/admin/intake/questionsetversion/{draft.pk}/change/", data)

    fields = sum(len(value) if isinstance(value, list) else 1 for value in data.values())
    assert fields < settings.DATA_UPLOAD_MAX_NUMBER_FIELDS / 2
    assert len(urlencode(data, doseq=True)) < settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 4
    assert saved.status_code == 302


def test_the_largest_step_fits_within_the_field_limit(version, settings):
    from factories import section_post

    steps = published.questionnaire(version).steps
    largest = max(
        (len(section_post(version, step.section_key)), step.number) for step in steps[1:-1]
    )

    assert largest[0] < settings.DATA_UPLOAD_MAX_NUMBER_FIELDS / 2


def test_a_free_text_answer_has_a_maximum_length(version):

    client = Client()
    start_new(client)
    complete_until_check(client, version)
    number = published.questionnaire(version).step_of_question("other_medicines").number

    response = client.post(step_url(number), {"other_medicines": "x" * 5000})

    assert response.status_code == 400
    assert "in 2000 characters or fewer (your answer has 5000)" in response.content.decode()


def test_an_hourly_limit_holds_across_an_idle_gap_inside_its_hour(version, settings):
    # The database cache (the default without Redis) rewrote a count with a five-minute
    # timeout on every increment: five idle minutes started the count afresh.
    settings.RATE_LIMIT_STARTS_PER_HOUR = 3
    hour = datetime.datetime(2026, 12, 7, 10, 0, 5, tzinfo=datetime.UTC)
    with time_machine.travel(hour, tick=False) as clock:
        allowed = [start_new(Client()).status_code for _ in range(3)]
        clock.move_to(hour + datetime.timedelta(minutes=20))
        after_a_pause = start_new(Client())
        clock.move_to(hour + datetime.timedelta(hours=1, minutes=1))
        next_hour = start_new(Client())

    assert allowed == [302, 302, 302]
    assert after_a_pause.status_code == 429
    assert next_hour.status_code == 302


def redis_cache():
    """The Redis on these machines, if it answers; the test is skipped only where it does not."""
    import redis

    try:
        redis.Redis("127.0.0.1", 6379, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("Redis is not running on 127.0.0.1:6379.")
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/15",
            "KEY_PREFIX": f"limits-test-{uuid.uuid4().hex}",
        }
    }


def test_with_redis_a_count_keeps_its_expiry_to_the_end_of_its_hour(version, settings, rf):
    from django.core.cache import cache

    from intake.patient.rate_limits import HOUR, over_limit

    settings.CACHES = redis_cache()
    request = rf.post("/start/", REMOTE_ADDR="203.0.113.9")

    counted = [over_limit(request, "start", 2) for _ in range(3)]

    assert counted[:2] == [None, None]
    assert counted[2] is not None and 0 < counted[2] <= HOUR + 1
    client = cache._cache.get_client()
    (key,) = client.keys(f"{settings.CACHES['default']['KEY_PREFIX']}:*")
    assert client.ttl(key) > counted[2]  # to the end of the hour, not five minutes
    client.delete(key)


def test_guessing_links_is_stopped_but_one_mistyped_link_is_not(version, settings):
    settings.RATE_LIMIT_LINK_MISSES_PER_HOUR = 3
    _, token = make_invitation(version)
    guesser = Client(REMOTE_ADDR="203.0.113.50")
    patient = Client(REMOTE_ADDR="198.51.100.20")

    misses = [
        guesser.get(f"/{kind}/{'x' * 40}/").status_code
        for kind in ("continue", "invitation", "continue")
    ]
    stopped = [guesser.get(f"/{kind}/{'y' * 40}/") for kind in ("continue", "invitation")]
    mistyped = patient.get(f"/invitation/{token[:-1]}/")
    corrected = patient.get(f"/invitation/{token}/")

    assert misses == [404, 404, 404]
    assert [response.status_code for response in stopped] == [429, 429]
    assert "links that do not work" in stopped[0].content.decode()
    assert "Nothing from this attempt" not in stopped[0].content.decode()
    assert mistyped.status_code == 404
    assert corrected.status_code == 200
    # A link that works is never refused, whatever others on the address have guessed.
    assert guesser.get(f"/invitation/{token}/").status_code == 200


def test_a_replaced_continue_later_link_is_not_counted_as_a_guess(version, settings):
    settings.RATE_LIMIT_LINK_MISSES_PER_HOUR = 1
    patient = Client(REMOTE_ADDR="198.51.100.30")
    start_new(patient)
    old = patient.post(step_url(1), DETAILS | {"treatment_date": "", "action": "save"})
    patient.post(step_url(1), DETAILS | {"treatment_date": "", "action": "save"})
    old_link = re.search(r"/continue/[^\"]+/", old.content.decode()).group(0)

    replaced = [patient.get(old_link).status_code for _ in range(3)]
    mistyped = patient.get(old_link[:-2] + "x/")

    assert replaced == [410, 410, 410]
    assert mistyped.status_code == 404  # the first miss of the hour, not past the limit


def test_a_clients_count_survives_many_other_clients_in_the_hour(version, settings, rf):
    from intake.patient.rate_limits import over_limit

    first = rf.post("/start/", REMOTE_ADDR="192.0.2.1")

    assert over_limit(first, "start", 1) is None
    for number in range(400):  # more than the database cache's default of 300 entries
        over_limit(
            rf.post("/start/", REMOTE_ADDR=f"198.51.{number // 250}.{number % 250}"), "start", 1
        )

    assert over_limit(first, "start", 1) is not None
