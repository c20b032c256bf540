from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

admin.site.site_header = "Admin Center support"
admin.site.site_title = "Admin Center support"

handler400 = "sso.views.errors.bad_request"
handler403 = "sso.views.errors.permission_denied"
handler404 = "sso.views.errors.page_not_found"
handler500 = "sso.views.errors.server_error"

urlpatterns = [
    path("", RedirectView.as_view(url="/console/", permanent=False)),
    path("django-admin/", admin.site.urls),
    path("", include("sso.urls")),
]

# The demo IdP signs anyone in without a password: never routed without DEBUG (and the
# check sso.E003 refuses to start when SSO_DEMO_IDP is on without DEBUG).
if settings.DEBUG and settings.SSO_DEMO_IDP:
    urlpatterns.insert(0, path("dev-idp/", include("sso.devidp.urls")))
