"""The built-in demo IdP of `make run`: a development-only identity provider served by the
product itself under /dev-idp/, so that SSO and single logout (both ways) can be seen working
before any IdP is configured.

Routed only while DEBUG is on (adminsite/urls.py), and the system check sso.E003 refuses to
start when SSO_DEMO_IDP is on without DEBUG: it signs anyone in without a password.
"""
