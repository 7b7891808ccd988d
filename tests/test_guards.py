"""Request guards shared by the service and the sandbox: bearer tokens, loopback, JSON depth."""
import json

import pytest
from flask import Flask, request

from webview_toolkit.guards import (MAX_JSON_DEPTH, BoundedJSONProvider, JSONTooDeepError, bearer_token,
                                    install_limits, is_loopback, json_depth, token_matches)


@pytest.mark.parametrize("header, token", [
    ("Bearer abc", "abc"), ("bearer abc", "abc"), ("BeArEr abc", "abc"), ("  Bearer   abc  ", "abc"),
    ("Basic abc", None), ("Bearer", None), ("Bearer ", None), ("", None), (None, None), ("abc", None),
])
def test_bearer_scheme_is_case_insensitive(header, token):
    assert bearer_token(header) == token


def test_token_matches_only_the_exact_token():
    assert token_matches("bearer secret-token", "secret-token")
    assert not token_matches("Bearer secret-tokeN", "secret-token")
    assert not token_matches("Bearer secret-token", None), "no configured token: nobody matches"
    assert not token_matches("Bearer \udcff", "secret-token"), "a lone surrogate is a mismatch, not a crash"


@pytest.mark.parametrize("address, loopback", [
    ("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("::ffff:127.0.0.1", True),
    ("192.168.0.5", False), ("10.0.0.1", False), ("", False), (None, False), ("localhost", False),
])
def test_loopback(address, loopback):
    assert is_loopback(address) is loopback


@pytest.mark.parametrize("text, depth", [
    ("1", 0), ("[]", 1), ('{"a": [1, {"b": []}]}', 4), ('"[[[[[[["', 0), ('["\\"[[["]', 1),
    ("[" * 100_000, MAX_JSON_DEPTH + 1), ('{"a":' * 50, MAX_JSON_DEPTH + 1),
])
def test_json_depth(text, depth):
    assert json_depth(text) == depth


def test_the_provider_refuses_deep_json_and_reads_the_rest():
    provider = BoundedJSONProvider(Flask("x"))
    assert provider.loads('{"a": [1]}') == json.loads('{"a": [1]}')
    with pytest.raises(JSONTooDeepError, match=f"nested deeper than {MAX_JSON_DEPTH} levels"):
        provider.loads(b"[" * 5000)


def test_install_limits_refuses_a_large_body_before_any_view_reads_it():
    app = Flask("x")
    install_limits(app, 2048)
    read = []

    @app.post("/ignore")
    def ignore():
        read.append(request.content_length)
        return "fine"

    client = app.test_client()
    assert client.post("/ignore", data=b"x" * 2049).status_code == 413 and not read
    assert client.post("/ignore", data=b"x" * 2048).status_code == 200
