"""The signed-in landing page (stands for the product's console)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
def console(request: HttpRequest) -> HttpResponse:
    memberships = request.user.memberships.select_related("organization")
    return render(request, "sso/console.html", {"memberships": memberships})
