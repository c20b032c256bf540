from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from sso.views import acs, console, saml

app_name = "sso"

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="sso/login/password.html"),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(next_page="/login/"), name="logout"),
    path("console/", console.console, name="console"),
    path("sso/saml2/<str:sid>/metadata/", saml.MetadataView.as_view(), name="saml2_metadata"),
    path("sso/saml2/<str:sid>/login/", saml.LoginView.as_view(), name="saml2_login"),
    path("sso/saml2/<str:sid>/acs/", acs.AssertionConsumerServiceView.as_view(), name="saml2_acs"),
]
