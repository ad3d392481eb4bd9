"""Security headers on every response of a lab server: `install_headers(app)`.

The policy allows scripts, styles, fetches and forms from the server's own origin only, so the
pages carry no inline script or style (site/static holds them); no other site may frame a page.
A response that sets one of these headers itself keeps its own value (e.g. a downloadable report
with its inline style can send its own Content-Security-Policy).
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask, Response

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",  # the pages' empty data: favicon
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))



def policy_with_style_nonce(nonce: str) -> str:
    """The policy, plus style elements carrying this page's nonce: xterm.js builds its colour and
    size rules as <style> elements, which the page script stamps with the nonce."""
    return CONTENT_SECURITY_POLICY.replace("style-src 'self'", f"style-src 'self' 'nonce-{nonce}'")


SECURITY_HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def install_headers(app: Flask, headers: Mapping[str, str] = SECURITY_HEADERS) -> None:
    """Add `headers` to every response the app sends, error pages and static files included."""

    @app.after_request
    def secure(response: Response) -> Response:
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response
