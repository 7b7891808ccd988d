"""Tests for which receiver URLs may be posted to (the config's checks are in test_config)."""
import pytest

from webview_toolkit.webhooks.receivers import delivery_problem, is_private, parse_urls, shown


def test_urls_split_on_commas_and_whitespace():
    assert parse_urls(" https://a.example/h,https://b.example/h  https://c.example ") == (
        "https://a.example/h", "https://b.example/h", "https://c.example")
    assert parse_urls(None) == parse_urls("") == ()


def test_shown_drops_credentials_and_query():
    assert shown("https://user:secret@hooks.example:8443/in?token=t") == "https://hooks.example:8443/in"


@pytest.mark.parametrize("address, private", [
    ("127.0.0.1", True), ("10.0.0.1", True), ("172.16.5.4", True), ("192.168.1.1", True), ("100.64.0.1", True),
    ("169.254.169.254", True), ("::1", True), ("fc00::1", True), ("fe80::1%eth0", True), ("::ffff:127.0.0.1", True),
    ("0.0.0.0", True), ("224.0.0.1", True), ("8.8.8.8", False), ("2001:4860:4860::8888", False),
])
def test_private_addresses(address, private):
    assert is_private(address) is private


def test_a_name_is_checked_by_what_it_resolves_to():
    assert delivery_problem("https://hooks.example/in", allow_private=False, resolve=lambda h: ["93.184.216.34"]) is None
    assert "private" in delivery_problem("https://hooks.example/in", allow_private=False,
                                         resolve=lambda h: ["93.184.216.34", "10.0.0.2"])

    def unresolvable(host):
        raise OSError("Name or service not known")

    assert "cannot resolve" in delivery_problem("https://hooks.example/in", allow_private=False, resolve=unresolvable)
    # Allowed: nothing is resolved at all.
    assert delivery_problem("http://10.0.0.2/in", allow_private=True, resolve=unresolvable) is None
