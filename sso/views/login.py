"""Email-first login: the email step routes to SSO or to the password step; sign-up; sign-out."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import auth, messages
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from sso.domains.selectors import profile_for_email, trusted_domain_sso_off_for
from sso.forms import EmailForm, PasswordForm, SignUpForm
from sso.login.logout import sso_logout_start
from sso.login.services import password_login
from sso.login.throttling import client_ip
from sso.models import SSOProfile
from sso.organizations.accounts import user_email_verification_resend, user_email_verify
from sso.organizations.selectors import email_verification_for_token
from sso.organizations.services import organization_signup
from sso.profiles.presets import preset_for
from sso.profiles.selectors import profile_idp_name
from sso.reasons import LoginRefused, Reason
from sso.validators import email_domain, same_origin_path
from sso.views.headers import to_any_idp

SESSION_EMAIL_KEY = "login_email"
# Set only after the right password of an unverified account: who may ask for a new link.
SESSION_VERIFY_KEY = "login_verify_email"


def _next(request: HttpRequest) -> str:
    return same_origin_path(request.POST.get("next") or request.GET.get("next"))


def _sso_login_url(profile: SSOProfile, next_path: str, email: str = "") -> str:
    """The SP login URL; with the typed email as a login hint when the profile's IdP takes one
    (the login view checks it again)."""
    url = reverse("sso:saml2_login", args=[profile.sid])
    query = {"next": next_path} if next_path else {}
    if email and preset_for(profile.idp_kind).login_hint_parameter:
        query["login_hint"] = email
    return f"{url}?{urlencode(query)}" if query else url


def _with_next(url: str, next_path: str) -> str:
    return f"{url}?{urlencode({'next': next_path})}" if next_path else url


@method_decorator([never_cache, to_any_idp], name="dispatch")
class EmailStepView(View):
    """Log In, step 1. The answer never reveals whether an account exists."""

    def get(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            return redirect(_next(request) or "sso:console")
        form = EmailForm(initial={"email": request.session.get(SESSION_EMAIL_KEY, "")})
        return render(request, "sso/login/email.html", {"form": form, "next": _next(request)})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = EmailForm(request.POST)
        next_path = _next(request)
        if not form.is_valid():
            return render(
                request, "sso/login/email.html", {"form": form, "next": next_path}, status=400
            )
        email = form.cleaned_data["email"]
        profile = profile_for_email(email=email)
        # "Use a password instead" is how break-glass owners (and, without enforcement,
        # anyone) reach the password step; the password step applies the policy.
        if profile is not None and "use_password" not in request.POST:
            return redirect(_sso_login_url(profile, next_path, email))
        request.session[SESSION_EMAIL_KEY] = email
        return redirect(_with_next(reverse("sso:login_password"), next_path))


@method_decorator([never_cache, sensitive_post_parameters("password")], name="dispatch")
class PasswordStepView(View):
    template_name = "sso/login/password.html"

    def dispatch(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        self.email = request.session.get(SESSION_EMAIL_KEY, "")
        if not self.email:
            return redirect(_with_next(reverse("sso:login"), _next(request)))
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(PasswordForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = PasswordForm(request.POST)
        if not form.is_valid():
            return self._render(form, status=400)
        try:
            user = password_login(
                email=self.email,
                password=form.cleaned_data["password"],
                client_ip=client_ip(request),
            )
        except LoginRefused as refusal:
            form.add_error(None, refusal.user_message)
            if refusal.reason == Reason.EMAIL_UNVERIFIED:
                request.session[SESSION_VERIFY_KEY] = self.email
            sso_url = _sso_login_url(refusal.profile, _next(request)) if refusal.profile else ""
            # Said only after the right password: a password form is of no use to this person.
            hide = refusal.reason == Reason.SSO_REQUIRED and bool(sso_url)
            return self._render(form, status=refusal.status, sso_url=sso_url, hide_password=hide)
        auth.login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        request.session.pop(SESSION_EMAIL_KEY, None)
        return redirect(_next(request) or "sso:console")

    def _render(
        self,
        form: PasswordForm,
        *,
        status: int = 200,
        sso_url: str = "",
        hide_password: bool = False,
    ) -> HttpResponse:
        context = {
            "form": form,
            "email": self.email,
            "next": _next(self.request),
            "sso_url": sso_url,
            "hide_password": hide_password,
            # Whatever the account: the email step said as much about the domain.
            "sso_off": None if sso_url else trusted_domain_sso_off_for(email=self.email),
            "resend": self.request.session.get(SESSION_VERIFY_KEY) == self.email,
        }
        return render(self.request, self.template_name, context, status=status)


@method_decorator([never_cache, sensitive_post_parameters("password"), to_any_idp], name="dispatch")
class SignUpView(View):
    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, "sso/login/signup.html", {"form": SignUpForm()})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = SignUpForm(request.POST)
        if not form.is_valid():
            return render(request, "sso/login/signup.html", {"form": form}, status=400)
        profile = profile_for_email(email=form.cleaned_data["email"])
        if profile is not None:
            # The domain signs its people in through SSO (as the email step says too).
            context = {
                "form": form,
                "sso_domain": email_domain(form.cleaned_data["email"]),
                "sso_url": _sso_login_url(profile, ""),
            }
            return render(request, "sso/login/signup.html", context)
        user = organization_signup(
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password"],
            organization_name=form.cleaned_data["organization_name"],
        )
        # No session yet: the account signs in once the emailed link proves the address.
        return render(request, "sso/login/verify_sent.html", {"email": user.email})


class PasswordResetView(auth_views.PasswordResetView):
    """Forgot Password. The same answer whether or not an account exists; an email of a domain
    that signs in through SSO also hears so, as the email step would have told it."""

    template_name = "sso/login/password_reset.html"
    email_template_name = "sso/login/password_reset_email.txt"
    subject_template_name = "sso/login/password_reset_subject.txt"
    success_url = reverse_lazy("sso:password_reset_done")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)  # sends only to accounts with a usable password
        email = form.cleaned_data["email"]
        profile = profile_for_email(email=email)
        sso_off = None if profile else trusted_domain_sso_off_for(email=email)
        if profile is None and sso_off is None:
            return response
        context = {
            "sso_domain": email_domain(email),
            "sso_url": _sso_login_url(profile, "") if profile else "",
            "sso_off": sso_off,
        }
        return render(self.request, "sso/login/password_reset_done.html", context)


@method_decorator(never_cache, name="dispatch")
class EmailVerificationResendView(View):
    def post(self, request: HttpRequest) -> HttpResponse:
        email = request.session.pop(SESSION_VERIFY_KEY, "")
        if not email:
            return redirect("sso:login")
        user_email_verification_resend(email=email)
        return render(request, "sso/login/verify_sent.html", {"email": email})


@method_decorator(never_cache, name="dispatch")
class EmailVerifyView(View):
    """The sign-up link: a button confirms, so that a mail scanner fetching it proves nothing."""

    template_name = "sso/login/verify.html"

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        verification = email_verification_for_token(token=token)
        status = 200 if verification is not None else 404
        context = {"invalid": verification is None}
        return render(request, self.template_name, context, status=status)

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        user = user_email_verify(token=token)
        if user is None:
            return render(request, self.template_name, {"invalid": True}, status=404)
        messages.success(request, "Your email address is confirmed. Log in to continue.")
        request.session[SESSION_EMAIL_KEY] = user.email
        return redirect("sso:login")


def signed_out(
    request: HttpRequest, profile: SSOProfile | None, *, at_idp: bool = False
) -> HttpResponse:
    """Where a signed-out browser lands: the profile's default redirect URL, or Log In."""
    if profile is not None and profile.default_redirect_url:
        return HttpResponseRedirect(profile.default_redirect_url)
    if at_idp:
        messages.success(request, "You are signed out here and at your identity provider.")
    else:
        messages.success(request, "You are signed out.")
    return redirect("sso:login")


@method_decorator(never_cache, name="dispatch")
class LogoutView(View):
    """Sign out here, then at the IdP (single logout) after an SSO sign-in whose IdP has a
    single logout URL.

    The way on to the IdP is a page that refreshes to it rather than a redirect: browsers
    check a form's CSP form-action on every redirect its submission follows, and the sign-out
    form is on every page."""

    def post(self, request: HttpRequest) -> HttpResponse:
        sign_out = sso_logout_start(request=request)
        if sign_out.idp_logout_url:
            context = {
                "url": sign_out.idp_logout_url,
                "idp_name": profile_idp_name(profile=sign_out.profile),
            }
            return render(request, "sso/login/signing_out.html", context)
        return signed_out(request, sign_out.profile)
