"""The signed-in landing page (stands for the product's console)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from sso.models import Role


@login_required
def console(request: HttpRequest) -> HttpResponse:
    memberships = list(request.user.memberships.select_related("organization"))
    administers = any(m.role in (Role.OWNER, Role.ADMIN) for m in memberships)
    return render(
        request, "sso/console.html", {"memberships": memberships, "administers": administers}
    )
