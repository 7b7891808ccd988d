"""Error answers: a Korean page in the site's layout for shoppers, JSON for `/api/` and JSON callers.

The JSON shape is the API's own: `{"error": message, "fields": {name: problem}}`.
"""
from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from ..guards import JSONTooDeepError

PAGES = {
    400: ("잘못된 요청입니다", "요청을 처리할 수 없습니다. 주소와 입력한 내용을 확인해 주세요."),
    404: ("페이지를 찾을 수 없습니다", "주소가 정확한지 확인해 주세요. 주문번호가 잘못되었거나 없는 주문입니다."),
    405: ("허용되지 않는 요청입니다", "이 주소는 그런 방식으로 열 수 없습니다. 처음 화면에서 다시 시작해 주세요."),
    413: ("요청이 너무 큽니다", "보낸 내용이 허용된 크기를 넘었습니다. 내용을 줄여 다시 시도해 주세요."),
    429: ("요청이 너무 많습니다", "잠시 후 다시 시도해 주세요."),
    500: ("일시적인 오류가 발생했습니다", "잠시 후 다시 시도해 주세요. 결제가 진행 중이었다면 다시 결제하기 전에 "
                                  "주문 결과를 먼저 확인해 주세요. 중복으로 청구되지 않습니다."),
}
GENERIC = ("요청을 처리할 수 없습니다", "처음 화면에서 다시 시도해 주세요.")


def init_app(app: Flask) -> None:
    """Answer every HTTP error and every unhandled exception this way."""
    app.register_error_handler(HTTPException, http_error)
    # Only what would otherwise be Werkzeug's 500: in TESTING, exceptions still propagate to the test.
    app.register_error_handler(InternalServerError, internal_error)


def wants_json() -> bool:
    """Whether the caller reads JSON: the API, or a request that sent JSON."""
    # The device-report writes are a JSON API too (web/device_reports.py), whatever the sender claims.
    return (request.path.startswith("/api/") or request.is_json
            or (request.method == "POST" and request.path.startswith("/device-test/reports")))


def http_error(error: HTTPException):
    """The error as JSON or as a Korean page, with its status (and headers, e.g. Allow on a 405)."""
    status = error.code or 500
    if wants_json():
        fields = {"(body)": error.description} if isinstance(error, JSONTooDeepError) else {}
        response = jsonify(error=error.description if status < 500 else "internal error", fields=fields)
    else:
        title, message = PAGES.get(status, GENERIC)
        response = current_app.make_response(
            render_template("errors/message.html", title=title, message=message))
    response.status_code = status
    for name, value in error.get_headers():
        if name.lower() not in ("content-type", "content-length"):
            response.headers[name] = value
    return response


def internal_error(error: InternalServerError):
    """A 500: log what went wrong (with the request id), answer without a word of it."""
    original = getattr(error, "original_exception", None) or error
    current_app.logger.error("unhandled error on %s %s", request.method, request.path,
                             exc_info=(type(original), original, original.__traceback__))
    return http_error(InternalServerError())
