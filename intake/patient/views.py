"""The patient's questionnaire: start, one step per section, check and consent, confirmation.

Patients have no accounts. The draft they are working on is named in their (server-side) session;
a "continue later" link carries a token to pick it up on any device. Answers are only ever sent in
POST bodies, never in URLs.
"""

from __future__ import annotations

import datetime
import logging
import smtplib
import uuid
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from clinic import mail
from clinic.contact import clinic_contact
from intake import published
from intake.models import (
    Draft,
    Flag,
    Invitation,
    QuestionSetVersion,
    ReCheck,
    ReCheckKind,
    Submission,
    token_digest,
)
from intake.patient.forms import ConsentForm, ReCheckForm, StartForm
from intake.patient.pages import blank_step_key, can_share, shared_page
from intake.patient.rate_limits import over_draft_limit, over_limit
from intake.patient.steps import Progress, StepTaken, step_form, take_step
from intake.questionnaire import (
    CHECK,
    SECTION,
    Questionnaire,
    Step,
    answer_summary,
    display_date,
)
from intake.rules import DATE_OF_BIRTH, Tier
from intake.submissions import (
    IncompleteQuestionnaire,
    InvitationAlreadyUsed,
    ReCheckAlreadyAnswered,
    answer_recheck,
    start_draft,
    stop_ineligible,
    submit_questionnaire,
)

SESSION_DRAFT = "intake_draft"
# In a step's address: the patient came from the check page to change it ("Change" links).
CHANGING = "change"
logger = logging.getLogger(__name__)


def _offered_version() -> QuestionSetVersion | None:
    """The version new patients start on: the latest published one of the default set."""
    return QuestionSetVersion.objects.offered(settings.DEFAULT_QUESTION_SET)


def _problem(
    request: HttpRequest,
    title: str,
    message: str,
    *,
    status: int,
    carry_on: Mapping[str, str] | None = None,
) -> HttpResponse:
    """A page that explains what happened, with the clinic's contact details; `carry_on`: a
    button (its url and label) for the way forward, where there is one."""
    context = {"title": title, "message": message, "carry_on": carry_on}
    return render(request, "intake/problem.html", context, status=status)


def _already_sent(request: HttpRequest, message: str, *, status: int = 410) -> HttpResponse:
    return _problem(request, "You've already sent your answers", message, status=status)


def _again(retry_after: int) -> str:
    """The time, as the clock on the patient's wall shows it, from which they can try again."""
    return f"{timezone.localtime() + datetime.timedelta(seconds=retry_after):%H:%M}"


def _paused(
    request: HttpRequest,
    retry_after: int,
    message: str,
    *,
    carry_on: Mapping[str, str] | None = None,
) -> HttpResponse:
    """A 429 page: `message` says what is and is not saved, and when to try again."""
    response = _problem(
        request, "Please try again a little later", message, status=429, carry_on=carry_on
    )
    response["Retry-After"] = str(retry_after)
    return response


def _too_many(request: HttpRequest, retry_after: int, what: str) -> HttpResponse:
    """The 429 page for starting a questionnaire: nothing was stored by this attempt."""
    return _paused(
        request,
        retry_after,
        f"We've had a lot of {what} from your connection in the last hour, so we've paused "
        f"them for now. Please try again after {_again(retry_after)}. Nothing from this attempt "
        "has been saved. If you've already started a questionnaire, your saved answers are "
        "safe: carry on in the same browser, or with your continue-later link.",
    )


def _link_missed(request: HttpRequest, what: str) -> HttpResponse:
    """A link that matches nothing: counted per address, and past
    RATE_LIMIT_LINK_MISSES_PER_HOUR the 429 page until the hour is out. A link that works is
    never refused, whatever others on the same address have guessed; nor is a continue-later
    link a newer one replaced counted here (`_link_replaced`)."""
    if retry_after := over_limit(request, "link_miss", settings.RATE_LIMIT_LINK_MISSES_PER_HOUR):
        return _paused(
            request,
            retry_after,
            "This link doesn't work, and we've had a lot of links that do not work from your "
            "connection in the last hour, so we've stopped checking them for now. Please check "
            f"the link and try again after {_again(retry_after)}. A link that works still "
            "opens as usual, and answers you have saved are safe.",
        )
    raise Http404(what)


def _link_replaced(request: HttpRequest) -> HttpResponse:
    """An earlier continue-later link of a questionnaire still in progress."""
    return _problem(
        request,
        "This link has been replaced",
        "Each time you save your answers to continue later, we give you a new link and the "
        "earlier ones stop working. This is one of the earlier ones. Your answers are still "
        "saved: please use the newest link — the one in the most recent email we sent you, or "
        "the last one you copied. If you can't find it, you can start again, or contact us and "
        "we'll help.",
        status=410,
    )


def _sending_paused(request: HttpRequest, retry_after: int, check_step: int) -> HttpResponse:
    """The 429 page for a questionnaire sent too many times in an hour: its answers are saved."""
    return _paused(
        request,
        retry_after,
        "Your answers are saved. We've had a lot of attempts to send this questionnaire in the "
        "last hour, so we've paused sending it for now. Please try again after "
        f"{_again(retry_after)}: come back to the last page in this browser, or use your "
        "continue-later link if you saved one, and type your name again to confirm.",
        carry_on={
            "url": reverse("intake:step", kwargs={"number": check_step}),
            "label": "Back to check your answers",
        },
    )


def _draft_expired(request: HttpRequest, title: str) -> HttpResponse:
    return _problem(
        request,
        title,
        "Unfinished questionnaires are deleted after a while to protect your privacy. "
        "Please start again — it takes about 10 minutes.",
        status=410,
    )


def _begin(request: HttpRequest, draft: Draft) -> None:
    # A new session key, so that a session identifier set before the start is never reused. A
    # browser that came without one gets a new key when the session is first saved.
    if request.session.session_key is not None:
        request.session.cycle_key()
    request.session[SESSION_DRAFT] = str(draft.pk)
    # A patient's browser keeps their place as long as the draft lasts, and a week more to tell
    # them it expired rather than forget them (staff sessions are shorter: STAFF_SESSION_HOURS).
    request.session.set_expiry(datetime.timedelta(days=settings.DRAFT_DAYS + 7))


def _about(version: QuestionSetVersion | None) -> dict[str, Any]:
    """The version a start page offers, and the treatment's name as its question set gives it."""
    if version is None:
        return {"version": None}
    definition = published.questionnaire(version).definition
    # As published: the question set's own row can change without anyone approving it.
    return {
        "version": version,
        "title": definition.title,
        "treatment": definition.treatment,
        "description": definition.description,
    }


@login_not_required
@never_cache
@require_http_methods(["GET", "HEAD"])
def home(request: HttpRequest) -> HttpResponse:
    """The public start page: what the questionnaire is for and what happens to the answers."""
    version = _offered_version()

    def page(extra: Mapping[str, Any]) -> str:
        form = StartForm(today=timezone.localdate(), date_example=extra.get("date_example"))
        context = {**_about(version), "form": form, **extra}
        return render_to_string("intake/start.html", context, request)

    if version is not None and can_share(request):
        # The same for every new patient of this version: rendered once per process.
        return shared_page(request, version, "start", page)
    return HttpResponse(page({}))


@login_not_required
@never_cache
@require_POST
def start(request: HttpRequest) -> HttpResponse:
    """Start a questionnaire without an invitation, with the appointment date if booked."""
    version = _offered_version()
    if version is None:
        raise Http404("No questionnaire is available.")
    form = StartForm(request.POST, today=timezone.localdate())
    if not form.is_valid():
        context = {**_about(version), "form": form}
        return render(request, "intake/start.html", context, status=400)
    if retry_after := over_limit(request, "start", settings.RATE_LIMIT_STARTS_PER_HOUR):
        return _too_many(request, retry_after, "new questionnaires")
    draft, _ = start_draft(
        version, now=timezone.now(), treatment_date=form.cleaned_data["treatment_date"]
    )
    _begin(request, draft)
    return redirect("intake:step", number=1)


@login_not_required
@never_cache
@sensitive_post_parameters()
@require_http_methods(["GET", "HEAD", "POST"])
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """An invitation link: a start page addressed to the patient, then their questionnaire."""
    invite = Invitation.objects.select_related("question_set").by_token(token)
    if invite is None:
        return _link_missed(request, "No such invitation.")
    if invite.is_used():
        return _already_sent(
            request,
            "Thank you — we already have your questionnaire from this link. If something has "
            "changed since, please contact the clinic.",
        )
    if invite.is_expired():
        return _problem(
            request,
            "This link has expired",
            "For your privacy, questionnaire links only work for a limited time. Please contact "
            "the clinic and we'll send you a new one.",
            status=410,
        )
    version = QuestionSetVersion.objects.offered(invite.question_set.slug)
    if version is None:
        raise Http404("No questionnaire is available.")
    if request.method == "POST":
        # The same link on another device, or after the session ended, carries on where the
        # patient stopped rather than starting again.
        draft = (
            invite.drafts.filter(submission__isnull=True, expires_at__gt=timezone.now())
            .order_by("-updated_at")
            .first()
        )
        if draft is None:
            if retry_after := over_limit(request, "start", settings.RATE_LIMIT_STARTS_PER_HOUR):
                return _too_many(request, retry_after, "new questionnaires")
            draft, _ = start_draft(version, now=timezone.now(), invitation=invite)
        _begin(request, draft)
        steps = published.questionnaire(draft.version).steps
        return redirect("intake:step", number=min(draft.steps_done + 1, len(steps)))
    context = {**_about(version), "invitation": invite, "token": token}
    return render(request, "intake/start.html", context)


@login_not_required
@never_cache
@require_http_methods(["GET", "HEAD"])
def resume(request: HttpRequest, token: str) -> HttpResponse:
    """A "continue later" link: pick the draft up again, on any device. An earlier link of the
    same draft, since replaced, says so (and what became of the draft) instead of opening it."""
    digest = token_digest(token)
    drafts = Draft.objects.with_version_hash()
    draft = drafts.filter(resume_digest=digest).first()
    replaced = draft is None
    if draft is None:
        draft = drafts.filter(replaced_links__token_digest=digest).first()
    if draft is None:
        return _link_missed(request, "No such questionnaire.")
    if draft.submission_id is not None:
        return _already_sent(request, "Thank you — this questionnaire has been sent to the clinic.")
    if draft.is_expired():
        return _draft_expired(request, "This link has expired")
    if replaced:
        return _link_replaced(request)
    _begin(request, draft)
    steps = published.questionnaire(draft.version).steps
    return redirect("intake:step", number=min(draft.steps_done + 1, len(steps)))


def _current_draft(request: HttpRequest) -> Draft | None:
    try:
        draft_id = uuid.UUID(str(request.session.get(SESSION_DRAFT)))
    except ValueError:
        return None
    return Draft.objects.for_patient(draft_id)


@login_not_required
@never_cache
@sensitive_post_parameters()
@require_http_methods(["GET", "HEAD", "POST"])
def step(request: HttpRequest, number: int) -> HttpResponse:
    """One step of the questionnaire: show it, or save it and move on."""
    draft = _current_draft(request)
    if draft is None:
        messages.info(request, "Your session has ended. Please start again, or use your link.")
        return redirect("intake:home")
    if draft.submission_id is not None:
        return redirect("intake:done")
    if draft.is_expired():
        return _draft_expired(request, "This questionnaire has expired")
    questionnaire = published.questionnaire(draft.version)
    steps = questionnaire.steps
    if not 1 <= number <= len(steps):
        raise Http404("No such step.")
    if number > draft.steps_done + 1:
        messages.info(request, "Please finish this step first.")
        return redirect("intake:step", number=draft.steps_done + 1)
    current = steps[number - 1]
    if current.kind == CHECK:
        return _check(request, draft, questionnaire)

    today = timezone.localdate()
    progress = _progress(draft)
    changing = request.GET.get(CHANGING) is not None
    if request.method != "POST":
        if current.kind == SECTION and can_share(request) and not changing:
            key = blank_step_key(
                questionnaire,
                current,
                draft.answers,
                today=today,
                treatment_date=draft.treatment_date,
            )
            if key is not None:
                # A step not yet answered looks the same to every patient shown its questions.
                return shared_page(
                    request,
                    draft.version,
                    key,
                    lambda extra: _render_step(request, draft, questionnaire, current, extra),
                )
        form = step_form(questionnaire, current, progress, None, today=today)
        context = {
            "draft": draft,
            "form": form,
            "step": current,
            "steps": steps,
            "changing": changing,
        }
        return render(request, "intake/step.html", context)

    action = request.POST.get("action", "")
    taken = take_step(
        questionnaire,
        current,
        progress,
        request.POST,
        action=action,
        today=today,
        changing=changing,
    )
    if taken.stopped:
        return _stopped(request, draft, taken, action=action, steps=steps, changing=changing)
    if taken.progress is not None:
        kept = taken.progress
        saved = draft.record_step(
            number,
            details=kept.details,
            answers=kept.answers,
            treatment_date=kept.treatment_date,
            complete=taken.complete,
        )
        if not saved:
            # Sent or forgotten from another tab meanwhile: say so rather than write it back.
            return _gone(request)
        if action == "save":
            return _saved(request, draft)
    if taken.go_to is not None:
        target = reverse("intake:step", args=[taken.go_to])
        if changing and action != "back" and taken.go_to != len(steps):
            # On the way back to the check page, by a step the change left unanswered.
            target += f"?{CHANGING}"
        return HttpResponseRedirect(target)
    context = {
        "draft": draft,
        "form": taken.form,
        "step": current,
        "steps": steps,
        "changing": changing,
    }
    return render(request, "intake/step.html", context, status=400)


# The button on the page that asks a stopped patient to check their details: they are right.
CONFIRM_STOP = "confirm_stop"
# ...or they want to change them.
EDIT_DETAILS = "edit_details"


def _stopped(
    request: HttpRequest,
    draft: Draft,
    taken: StepTaken,
    *,
    action: str,
    steps: tuple[Step, ...],
    changing: bool,
) -> HttpResponse:
    """Details that the question set's eligibility rules exclude (an under-18, say).

    First the patient is asked to check them, since a mistyped year would otherwise cost them
    their questionnaire; only once they say the details are right is the draft forgotten. The
    details they typed travel in the page, never stored.
    """
    context: dict[str, Any]
    if action == EDIT_DETAILS:
        context = {
            "draft": draft,
            "form": taken.form,
            "step": steps[0],
            "steps": steps,
            "changing": changing,
        }
        return render(request, "intake/step.html", context)
    if action != CONFIRM_STOP:
        typed = [
            (name, value)
            for name, value in request.POST.items()
            if name not in ("csrfmiddlewaretoken", "action")
        ]
        birth = taken.form.cleaned_data[DATE_OF_BIRTH]
        context = {
            "typed": typed,
            "date_of_birth": display_date(birth),
            "reasons": [flag.patient_guidance for flag in taken.stopped],
            "treatment_date": taken.form.cleaned_data.get("treatment_date"),
            "asks_treatment_date": "treatment_date" in taken.form.fields,
            "confirm": CONFIRM_STOP,
            "edit": EDIT_DETAILS,
        }
        return render(request, "intake/check_eligibility.html", context)
    if not stop_ineligible(draft, taken.stopped):
        return _gone(request)
    request.session.pop(SESSION_DRAFT, None)
    treatment = published.questionnaire(draft.version).definition.treatment
    context = {
        "reasons": [flag.patient_guidance for flag in taken.stopped],
        "treatment": treatment,
    }
    return render(request, "intake/not_eligible.html", context)


def _gone(request: HttpRequest) -> HttpResponse:
    """The draft was sent, or forgotten, from another tab while this page was open."""
    draft = _current_draft(request)
    if draft is not None and draft.submission_id is not None:
        return redirect("intake:done")
    request.session.pop(SESSION_DRAFT, None)
    messages.info(request, "Your questionnaire has ended in another window. Please start again.")
    return redirect("intake:home")


def _progress(draft: Draft) -> Progress:
    return Progress(
        details=draft.details,
        answers=draft.answers,
        treatment_date=draft.treatment_date,
        treatment_date_fixed=draft.invitation_id is not None,
    )


def _render_step(
    request: HttpRequest,
    draft: Draft,
    questionnaire: Questionnaire,
    current: Step,
    extra: Mapping[str, Any],
) -> str:
    """A step page with nothing posted (for the shared pages: the stand-in is in `extra`)."""
    form = step_form(questionnaire, current, _progress(draft), None, today=timezone.localdate())
    steps = questionnaire.steps
    context = {"draft": draft, "form": form, "step": current, "steps": steps, **extra}
    return render_to_string("intake/step.html", context, request)


def _saved(request: HttpRequest, draft: Draft) -> HttpResponse:
    """Give the patient a fresh "continue later" link, on screen and by email if we have one."""
    token = draft.replace_resume_link()
    link = request.build_absolute_uri(reverse("intake:resume", args=[token]))
    email = draft.details.get("email")
    # The link is always on screen; emails are capped so the form cannot be used to spam.
    emailed = (
        bool(email)
        and over_limit(request, "email", settings.RATE_LIMIT_EMAILS_PER_HOUR) is None
        and _send_resume_link(email, link, draft)
    )
    context = {"link": link, "email": email, "emailed": emailed, "expires_at": draft.expires_at}
    return render(request, "intake/saved.html", context)


def _send_resume_link(email: str, link: str, draft: Draft) -> bool:
    """Email the link; a mail server that is down must not cost the patient their link."""
    try:
        sent = mail.send(
            "continue-later",
            f"Continue your questionnaire – {settings.CLINIC_NAME}",
            (
                "You can carry on with your pre-consultation questionnaire from this link:\n\n"
                f"{link}\n\n"
                f"It works until {timezone.localtime(draft.expires_at):%-d %B %Y}, and it "
                "replaces any earlier link we sent you.\n\n"
                f"{clinic_contact().as_text()}"
            ),
            [email],
        )
    except (OSError, smtplib.SMTPException):
        logger.warning("Could not email a continue-later link", exc_info=True)
        return False
    return sent > 0


def _check(request: HttpRequest, draft: Draft, questionnaire: Questionnaire) -> HttpResponse:
    """The last step: every answer for a final check, then consent and submit."""
    steps = questionnaire.steps
    full_name = draft.details.get("full_name", "")
    # Bound on every POST, even an empty one, so that a post with no fields is told what is missing.
    data = request.POST if request.method == "POST" else None
    form = ConsentForm(data, full_name=full_name)
    if request.method == "POST" and form.is_valid():
        # Counted per questionnaire, not per address: a double click or a retry is fine, a
        # loop is stopped, and nobody else on the patient's connection can use up their turn.
        limit = settings.RATE_LIMIT_SUBMITS_PER_DRAFT_PER_HOUR
        if retry_after := over_draft_limit(draft.pk, "submit", limit):
            return _sending_paused(request, retry_after, len(steps))
        try:
            submit_questionnaire(
                draft.pk,
                consent_name=form.cleaned_data["signature"],
                now=timezone.now(),
                read=draft,
            )
        except IncompleteQuestionnaire as incomplete:
            messages.warning(request, "Please answer the questions on this step first.")
            return redirect("intake:step", number=incomplete.step.number)
        except InvitationAlreadyUsed:
            return _already_sent(
                request,
                "We already have a questionnaire from your invitation. If something has changed, "
                "please contact the clinic.",
                status=409,
            )
        return redirect("intake:done")
    context = {
        "draft": draft,
        "form": form,
        "step": steps[-1],
        "steps": steps,
        "summary": answer_summary(questionnaire.definition, draft.answers, steps),
        "date_of_birth": display_date(draft.details.get(DATE_OF_BIRTH, "")),
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "intake/check.html", context, status=status)


@login_not_required
@never_cache
@require_http_methods(["GET", "HEAD"])
def done(request: HttpRequest) -> HttpResponse:
    """The confirmation: what happens next, and the advice tailored to the answers."""
    draft = _current_draft(request)
    if draft is None or draft.submission_id is None:
        return redirect("intake:home")
    submission = Submission.objects.select_related("version").filter(pk=draft.submission_id).first()
    if submission is None:
        raise Http404("No such submission.")
    flags = list(submission.current_flags().order_by("pk"))
    context = {
        "submission": submission,
        "treatment": published.questionnaire(submission.version).definition.treatment,
        "advice": (submission.version.definition or {}).get("advice", []),
        # Whether treatment may not be possible, even if no flag of that tier has words for it.
        "in_doubt": any(flag.tier == Tier.NOT_POSSIBLE for flag in flags),
        # Each tier's guidance for the patient, by the tier's value: not_possible, need_to_know,
        # manageable. Each sentence once, so that what the page counts is what it lists.
        **{tier.value: _guidance(flags, tier) for tier in Tier},
    }
    return render(request, "intake/done.html", context)


def _guidance(flags: list[Flag], tier: Tier) -> list[str]:
    """What the patient is told about a tier's flags: each sentence once, none empty."""
    return list(
        dict.fromkeys(f.patient_guidance for f in flags if f.tier == tier and f.patient_guidance)
    )


@login_not_required
@require_POST
def leave(request: HttpRequest) -> HttpResponseRedirect:
    """Forget the questionnaire in this browser (for a shared device)."""
    request.session.flush()
    return redirect("intake:home")


@login_not_required
@never_cache
@sensitive_post_parameters()
@require_http_methods(["GET", "HEAD", "POST"])
def recheck(request: HttpRequest, token: str) -> HttpResponse:
    """The re-check before treatment: the questions the version asks again, on one page, from
    the link emailed a couple of days before. The link works once, until the end of the
    treatment day; one that matches nothing counts as a guess, as a continue-later link does."""
    found = ReCheck.objects.by_token(token)
    if found is None or found.kind != ReCheckKind.BEFORE:
        return _link_missed(request, "No such re-check.")
    submission = found.submission
    if found.answered_at is not None:
        return _problem(
            request,
            "You've already answered these questions",
            "Thank you — we have your answers. Each link works once. If something has changed "
            "since, please contact us before your appointment.",
            status=410,
        )
    if found.is_expired() or submission.treatment_date != found.treatment_date:
        return _problem(
            request,
            "This link has expired",
            "This link was for an appointment that has passed or has been moved. If your "
            "appointment is still to come, we'll send you a new link a couple of days before "
            "it; if anything has changed in the meantime, please contact us.",
            status=410,
        )
    questionnaire = published.questionnaire(submission.version)
    form = ReCheckForm(
        questionnaire,
        keys=questionnaire.definition.asked_again,
        answers=submission.corrected_answers(),
        submitted_on=timezone.localdate(),
        reference_date=submission.treatment_date,
        ask_antiviral=submission.accepted_antiviral_plan() is not None,
        data=request.POST if request.method == "POST" else None,
    )
    context: dict[str, Any] = {
        "form": form,
        "submission": submission,
        "treatment": questionnaire.definition.treatment,
    }
    if request.method != "POST":
        return render(request, "intake/recheck.html", context)
    if not form.is_valid():
        return render(request, "intake/recheck.html", context, status=400)
    try:
        raised = answer_recheck(found, answers=form.answers(), extra=form.extra())
    except ReCheckAlreadyAnswered:
        return _problem(
            request,
            "You've already answered these questions",
            "Thank you — we have your answers. Each link works once.",
            status=410,
        )
    context["guidance"] = [flag.patient_guidance for flag in raised if flag.patient_guidance]
    return render(request, "intake/recheck_done.html", context)
