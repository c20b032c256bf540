from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path, register_converter, reverse_lazy

from sso.views import (
    acs,
    audit,
    console,
    domains,
    events,
    login,
    people,
    saml,
    session_limits,
    wizard,
    wizard_sp,
)


class ProfileSidConverter:
    """A profile's public id (models.new_profile_sid, the profile_sid_format constraint).

    Anything else cannot name a profile: it is a 404 before any view runs or any query is made
    (a NUL byte in a query is a database error on PostgreSQL).
    """

    regex = "JI[0-9a-f]{32}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ProfileSidConverter, "sid")

app_name = "sso"

PROFILE = "admin-center/sso/<sid:sid>/"

urlpatterns = [
    path("login/", login.EmailStepView.as_view(), name="login"),
    path("login/password/", login.PasswordStepView.as_view(), name="login_password"),
    path("signup/", login.SignUpView.as_view(), name="signup"),
    path("signup/verify/<str:token>/", login.EmailVerifyView.as_view(), name="email_verify"),
    path(
        "login/verify-email/resend/",
        login.EmailVerificationResendView.as_view(),
        name="email_verification_resend",
    ),
    path("logout/", login.LogoutView.as_view(), name="logout"),
    path(
        "password-reset/",
        login.PasswordResetView.as_view(),
        name="password_reset",
    ),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(
            template_name="sso/login/password_reset_done.html"
        ),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="sso/login/password_reset_confirm.html",
            success_url=reverse_lazy("sso:password_reset_complete"),
        ),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="sso/login/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
    path("console/", console.console, name="console"),
    path("sso/saml2/<sid:sid>/metadata/", saml.MetadataView.as_view(), name="saml2_metadata"),
    path("sso/saml2/<sid:sid>/login/", saml.LoginView.as_view(), name="saml2_login"),
    path("sso/saml2/<sid:sid>/acs/", acs.AssertionConsumerServiceView.as_view(), name="saml2_acs"),
    path("sso/saml2/<sid:sid>/slo/", saml.SingleLogoutView.as_view(), name="saml2_slo"),
    # Admin Center
    path("admin-center/", wizard.admin_center_home, name="admin_center"),
    path("admin-center/sso/", wizard.SingleSignOnView.as_view(), name="admin_sso"),
    path(
        "admin-center/sso/enforcement/",
        wizard.EnforcementView.as_view(),
        name="admin_sso_enforcement",
    ),
    path(
        "admin-center/sso/reference/",
        events.SupportReferenceView.as_view(),
        name="admin_support_reference",
    ),
    path(
        "admin-center/organization/", people.OrganizationView.as_view(), name="admin_organization"
    ),
    path(
        "admin-center/organization/session-limit/",
        people.SessionLimitView.as_view(),
        name="admin_session_limit",
    ),
    path("admin-center/people/", people.PeopleView.as_view(), name="admin_people"),
    path("admin-center/people/invite/", people.InviteView.as_view(), name="admin_invite"),
    path(
        "admin-center/people/<int:pk>/role/",
        people.MembershipRoleView.as_view(),
        name="admin_person_role",
    ),
    path(
        "admin-center/people/<int:pk>/remove/",
        people.MembershipRemoveView.as_view(),
        name="admin_person_remove",
    ),
    path(
        "admin-center/people/invitations/<int:pk>/resend/",
        people.InvitationResendView.as_view(),
        name="admin_invitation_resend",
    ),
    path(
        "admin-center/people/invitations/<int:pk>/revoke/",
        people.InvitationRevokeView.as_view(),
        name="admin_invitation_revoke",
    ),
    path(
        "invitations/<str:token>/", people.InvitationAcceptView.as_view(), name="invitation_accept"
    ),
    path("admin-center/domains/", domains.DomainsView.as_view(), name="admin_domains"),
    path("admin-center/audit-log/", audit.AuditLogView.as_view(), name="admin_audit_log"),
    path(
        "admin-center/audit-log/export.csv",
        audit.AuditLogExportView.as_view(),
        name="admin_audit_log_export",
    ),
    path(PROFILE, wizard_sp.SPMetadataStepView.as_view(), name="wizard_sp_metadata"),
    path(
        PROFILE + "sp-certificate/",
        wizard_sp.SPCertificateView.as_view(),
        name="wizard_sp_certificate",
    ),
    path(
        PROFILE + "sp-values.txt",
        wizard_sp.SPValuesDownloadView.as_view(),
        name="wizard_sp_values",
    ),
    path(
        PROFILE + "sp-key-rollover/",
        wizard_sp.SPKeyRolloverView.as_view(),
        name="wizard_sp_key_rollover",
    ),
    path(
        PROFILE + "configure-idp/",
        wizard.ConfigureIdPStepView.as_view(),
        name="wizard_configure_idp",
    ),
    path(
        PROFILE + "idp-metadata/", wizard.IdPMetadataStepView.as_view(), name="wizard_idp_metadata"
    ),
    path(PROFILE + "test/", wizard.TestStepView.as_view(), name="wizard_test"),
    path(
        PROFILE + "certificates/remove/",
        wizard.CertificateRemoveView.as_view(),
        name="wizard_certificate_remove",
    ),
    path(
        PROFILE + "idp-metadata/change/",
        wizard.MetadataChangeView.as_view(),
        name="wizard_metadata_change",
    ),
    path(
        PROFILE + "session-limits/",
        session_limits.ProfileSessionLimitsView.as_view(),
        name="profile_session_limits",
    ),
    path(PROFILE + "events/", events.LoginEventListView.as_view(), name="profile_login_events"),
    path(
        PROFILE + "events/<int:pk>/",
        events.LoginEventDetailView.as_view(),
        name="profile_login_event",
    ),
    path(
        PROFILE + "events/<int:pk>/response.xml",
        events.LoginEventResponseView.as_view(),
        name="profile_login_event_response",
    ),
    path(PROFILE + "activate/", wizard.ProfileActivateView.as_view(), name="profile_activate"),
    path(PROFILE + "disable/", wizard.ProfileDisableView.as_view(), name="profile_disable"),
    path(PROFILE + "delete/", wizard.ProfileDeleteView.as_view(), name="profile_delete"),
]
