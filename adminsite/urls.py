from __future__ import annotations

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
