"""Mounted at /dev-idp/ by adminsite/urls.py while DEBUG and SSO_DEMO_IDP are on."""

from __future__ import annotations

from django.urls import path

from sso.devidp import views

app_name = "devidp"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("metadata/", views.metadata, name="metadata"),
    path("sso/", views.SignInView.as_view(), name="sso"),
    path("slo/", views.SingleLogoutView.as_view(), name="slo"),
]
