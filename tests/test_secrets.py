"""The merchant key appears in no page, no API answer, no log line and no sandbox record."""
import logging

import pytest

from .service_helpers import MERCHANT_KEY, UA, create_order, pay

pytestmark = pytest.mark.postgres

ADMIN = {"Authorization": "Bearer admin-token"}


def test_key_never_leaves_the_server(client, caplog):
    caplog.set_level(logging.DEBUG)
    bodies = []
    for ua in UA.values():
        ord_no = pay(client, ua=ua)
        for path in (f"/checkout/{ord_no}", f"/orders/{ord_no}", f"/api/orders/{ord_no}", "/device-test"):
            bodies.append(client.get(path, headers={"User-Agent": ua}).get_data(as_text=True))
        bodies.append(client.post(f"/api/orders/{ord_no}/cancel", json={"amount": 1}, headers=ADMIN).get_data(as_text=True))
    pending = create_order(client)
    bodies.append(client.get(f"/checkout/{pending}").get_data(as_text=True))
    bodies.append(client.post("/kispg/return", data={"ordNo": pending, "resultCd": "0000", "amt": "1"}).get_data(as_text=True))
    bodies.append(client.get("/sandbox/kispg/_calls").get_data(as_text=True))
    app_logger = logging.getLogger("webview_toolkit")
    app_logger.warning("a careless line with the key %s", MERCHANT_KEY)
    assert len(bodies) > 30
    assert all(MERCHANT_KEY not in body for body in bodies)
    lines = [record.getMessage() for record in caplog.records]
    assert any("[merchant key]" in line for line in lines), "the redactor rewrote the careless line"
    assert all(MERCHANT_KEY not in line for line in lines)


def test_one_redactor_per_logger_however_many_apps(tmp_path):
    from webview_toolkit.web import create_app
    from webview_toolkit.web.extensions import KeyRedactor

    from .service_helpers import service_config
    for index in range(3):
        (tmp_path / str(index)).mkdir()
        create_app(service_config(tmp_path / str(index), KISPG_MERCHANT_KEY=f"key-number-{index}-" + "x" * 30))
    logger = logging.getLogger("webview_toolkit")
    redactors = [f for f in logger.filters if isinstance(f, KeyRedactor)]
    assert len(redactors) == 1
    record = logging.LogRecord("webview_toolkit", logging.INFO, __file__, 1, "k=%s", ("key-number-1-" + "x" * 30,), None)
    redactors[0].filter(record)
    assert record.getMessage() == "k=[merchant key]"
