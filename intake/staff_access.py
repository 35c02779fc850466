"""How staff reach the admin: two-factor authentication and session limits; and the one
setting a staff member keeps for themselves, whether they are emailed of submissions.

A password alone never opens the admin. After signing in, a staff member proves a second factor
with an authenticator app (TOTP) or one of their single-use backup codes; someone without an
authenticator yet enrols on the same page by scanning a QR code. Staff sessions end after
`STAFF_IDLE_MINUTES` without a request and `STAFF_SESSION_HOURS` after signing in, whatever
happens in between.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import django_otp
import segno
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model, logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.logs import security_event
from intake.models import User
from intake.review.notifications import MEDICAL_LEAD, OPT_IN_ROLES, PRACTITIONER
from intake.tasks import worker_health

BACKUP_CODES = 10
SIGNED_IN_AT = "staff_signed_in_at"
LAST_SEEN_AT = "staff_last_seen_at"
# The session is written at most this often just to record activity.
SEEN_RESOLUTION = 60


class StaffLoginForm(AdminAuthenticationForm):
    """The admin's sign-in form, refusing a username longer than any account can have.

    Such a username is never checked, so nothing stores it: django-axes would otherwise record
    the failed attempt under it, in a column it does not fit, and fail the request.
    """

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        user_model = get_user_model()
        limit = getattr(user_model._meta.get_field(user_model.USERNAME_FIELD), "max_length", None)
        if isinstance(username, str) and limit and len(username) > limit:
            raise self.get_invalid_login_error()
        return super().clean()


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=16,
        help_text="The 6-digit code from your authenticator app, or one of your backup codes.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True}),
    )

    def clean_code(self) -> str:
        return "".join(str(self.cleaned_data["code"]).split())


def confirmed_authenticator(user: Any) -> TOTPDevice | None:
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).first()


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("admin:index")


def _page_context(request: HttpRequest) -> dict[str, Any]:
    # The admin's look, without its navigation: nothing in it opens before the second step.
    return {
        **admin.site.each_context(request),
        "available_apps": [],
        "is_nav_sidebar_enabled": False,
    }


def _qr_svg(url: str) -> str:
    return segno.make(url, error="m").svg_inline(scale=5, dark="#1b1b1b", light="#ffffff")


@never_cache
@sensitive_post_parameters("code")
@login_required
def two_factor(request: HttpRequest) -> HttpResponse:
    """Verify the second factor, or enrol an authenticator app if the user has none yet."""
    user = request.user
    if not user.is_staff:
        return redirect("intake:home")
    if getattr(user, "is_verified", lambda: False)():
        return HttpResponseRedirect(_next_url(request))
    confirmed = confirmed_authenticator(user)
    enrolling = confirmed is None
    device: TOTPDevice = confirmed or (
        TOTPDevice.objects.devices_for_user(user, confirmed=False).first()
        or TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    )
    form = CodeForm(request.POST or None)
    backup_codes: list[str] = []
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["code"]
        with transaction.atomic():
            matched = _match(user, device, code, enrolling=enrolling)
            if matched is not None and enrolling:
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                backup_codes = issue_backup_codes(user)
        if matched is not None:
            django_otp.login(request, matched)
            # Fully signed in now: a session key seen between the two steps must not carry over.
            request.session.cycle_key()
            security_event(request, "two_factor_enrolled" if enrolling else "two_factor_verified")
            if backup_codes:
                return render(
                    request,
                    "registration/backup_codes.html",
                    {
                        **_page_context(request),
                        "codes": backup_codes,
                        "next": _next_url(request),
                        "title": "Your backup codes",
                    },
                )
            return HttpResponseRedirect(_next_url(request))
        security_event(request, "two_factor_failed")
        form.add_error("code", "That code is not right, or has been used already. Try again.")
    context = {
        **_page_context(request),
        "title": "Set up two-step sign-in" if enrolling else "Two-step sign-in",
        "form": form,
        "enrolling": enrolling,
        "next": _next_url(request),
    }
    if enrolling:
        context["qr_svg"] = mark_safe(_qr_svg(device.config_url))  # noqa: S308 (segno's own SVG)
        context["secret"] = _spaced(device.config_url.split("secret=")[1].split("&")[0])
    return render(request, "registration/two_factor.html", context, status=200)


def _spaced(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _match(user: Any, device: TOTPDevice, code: str, *, enrolling: bool) -> Any:
    """The device that accepts the code; a used TOTP code or backup code never works twice.

    Runs in the caller's transaction with the device rows locked, so two requests with the same
    code cannot both be accepted.
    """
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
    if device.verify_token(code):
        return device
    if enrolling:
        return None
    backup = StaticDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
    if backup is not None and backup.verify_token(code):
        return backup
    return None


def issue_backup_codes(user: Any) -> list[str]:
    """Replace the user's backup codes with new single-use ones and return them (shown once)."""
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name="Backup codes", defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def reset_two_factor(user: Any) -> int:
    """Remove every second factor of a user, who enrols again at their next sign-in."""
    totp, _ = TOTPDevice.objects.filter(user=user).delete()
    static, _ = StaticDevice.objects.filter(user=user).delete()
    return int(totp + static)


def locked_out(
    request: HttpRequest, original_response: HttpResponse | None, credentials: Any
) -> HttpResponse:
    """The page shown while sign-in is paused after too many failures (django-axes)."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "registration/locked_out.html", {"minutes": minutes}, status=429)


def record_sign_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        now = int(time.time())
        request.session[SIGNED_IN_AT] = now
        request.session[LAST_SEEN_AT] = now


def _redirect_back_to(url: str, request: HttpRequest) -> HttpResponseRedirect:
    return HttpResponseRedirect(f"{url}?{urlencode({'next': request.get_full_path()})}")


class StaffAccessMiddleware:
    """End staff sessions that are idle or too old, and require the second factor for the admin."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            expired = self._expired(request)
            if expired:
                security_event(request, "session_expired", reason=expired)
                logout(request)
                messages.info(request, "You were signed out. Please sign in again.")
                response = _redirect_back_to(reverse("admin:login"), request)
                response["Clear-Site-Data"] = '"cache", "storage"'  # as at signing out
                return response
            if user.is_staff and self._needs_second_factor(request):
                return _redirect_back_to(reverse("two_factor"), request)
        return self.get_response(request)

    def _expired(self, request: HttpRequest) -> str:
        now = int(time.time())
        signed_in = request.session.get(SIGNED_IN_AT)
        last_seen = request.session.get(LAST_SEEN_AT)
        if signed_in is None or last_seen is None:
            return "no_sign_in_time"
        if now - signed_in > settings.STAFF_SESSION_HOURS * 3600:
            return "lifetime"
        if now - last_seen > settings.STAFF_IDLE_MINUTES * 60:
            return "idle"
        if now - last_seen >= SEEN_RESOLUTION:
            request.session[LAST_SEEN_AT] = now
        return ""

    def _needs_second_factor(self, request: HttpRequest) -> bool:
        admin_root = reverse("admin:index")
        if not request.path.startswith(admin_root):
            return False
        if request.path in {reverse("admin:login"), reverse("admin:logout")}:
            return False
        return not request.user.is_verified()  # type: ignore[union-attr]


def sign_out(request: HttpRequest) -> HttpResponse:
    """The admin's sign-out, telling the browser to forget what the staff session left in its
    cache and storage: a clinic's computers are shared."""
    response: HttpResponse = admin.site.logout(request)
    if request.method == "POST":
        response["Clear-Site-Data"] = '"cache", "storage"'
    return response


def staff_status(request: HttpRequest) -> JsonResponse:
    """For staff (signed in, second step done): whether the background worker that sends
    notifications is alive, how long the oldest task has waited, and recent failures."""
    health = worker_health(fresh=True)
    if health is None:
        return JsonResponse({"tasks": "run at once in the request; no worker is needed"})
    return JsonResponse(health.as_dict())


class NotificationForm(forms.ModelForm[User]):
    class Meta:
        model = User
        fields = ["notify_of_submissions"]


@never_cache
def notification_preference(request: HttpRequest) -> HttpResponse:
    """A staff member's own choice of whether they are emailed when a submission needs review.

    Practitioners always are, so they have nothing to choose; clinic admins and medical leads
    choose here (medical leads are told of "not possible" outcomes whatever they choose)."""
    user = User.objects.get(username=request.user.get_username())
    roles = set(user.groups.values_list("name", flat=True))
    may_choose = PRACTITIONER not in roles and bool(roles & set(OPT_IN_ROLES))
    if request.method == "POST" and not may_choose:
        raise PermissionDenied("Your role decides whether you are emailed; there is no choice.")
    # An unticked box sends nothing: a POST with no fields is still a choice.
    form = NotificationForm(request.POST if request.method == "POST" else None, instance=user)
    if form.is_bound and form.is_valid():
        form.save()
        messages.success(
            request,
            "Saved: you will be emailed when a submission needs review."
            if user.notify_of_submissions
            else "Saved: you will not be emailed of new submissions.",
        )
        return redirect("notification_preference")
    context = {
        **admin.site.each_context(request),
        "title": "Notifications",
        "form": form,
        "may_choose": may_choose,
        "practitioner": PRACTITIONER in roles,
        "medical_lead": MEDICAL_LEAD in roles,
        "has_email": bool(user.email),
    }
    return render(request, "admin/notification_preference.html", context)
