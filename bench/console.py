"""The admin console in the bench (issue 12): a session made as a user would (the sign-in form),
for wrk to list invoices with, 50 a page, at deep keyset cursors."""

import http.cookiejar
import re
import urllib.parse
import urllib.request

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def session_cookie(base_url: str, secret: str) -> str:
    """`invoicing_console=…` for a session signed in with the admin token `secret`."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(f"{base_url}/admin/sign-in", timeout=30) as response:
        page = response.read().decode()
    match = _CSRF.search(page)
    if match is None:
        raise RuntimeError("the sign-in page has no CSRF token")
    form = urllib.parse.urlencode({"csrf": match.group(1), "token": secret, "next": "/admin"})
    with opener.open(f"{base_url}/admin/sign-in", data=form.encode(), timeout=30) as response:
        response.read()
    for cookie in jar:
        if cookie.name == "invoicing_console":
            return f"invoicing_console={cookie.value}"
    raise RuntimeError("signing in to the console set no session cookie")
