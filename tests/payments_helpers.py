"""`Payments` built directly on a store and a fake KISPG, with the moves of a shopper and of KISPG."""
from __future__ import annotations

from webview_toolkit.kispg.signing import edi_date_now, sign
from webview_toolkit.payments import Payments
from webview_toolkit.store import OrderStore, new_ord_no

from .fake_kispg import FakeKispg

KEY = "unit-test-merchant-key-" + "q" * 20
AMOUNT = 39000


class Shop:
    """One store, one fake KISPG, one Payments; helpers that act as shopper and KISPG."""

    def __init__(self, url: str, **payments_options):
        self.store = OrderStore(url)
        self.kispg = FakeKispg()
        options = {"settle_after": 0, "check_interval": 0, **payments_options}
        self.payments = Payments(self.store, self.kispg, mid=self.kispg.mid, merchant_key=KEY, **options)

    def order(self, amount: int = AMOUNT) -> str:
        return self.store.create(ord_no=new_ord_no(), goods_nm="상품", goods_amt=amount, ord_nm="홍길동",
                                 ord_tel="01012345678").ord_no

    def checkout(self, ord_no: str) -> tuple[str, str]:
        """The current attempt's KISPG ordNo and token, as the checkout page puts them in returnUrl."""
        page = self.store.checkout_order(ord_no)
        return page.kispg_ord_no, page.token

    def form(self, ord_no: str, *, tid: str | None = None, amt: int | None = None, result_cd: str = "0000",
             method: str = "card") -> dict:
        """The signed auth result KISPG posts for the current attempt (authenticating it at the fake)."""
        kispg_ord_no, _ = self.checkout(ord_no)
        amount = AMOUNT if amt is None else amt
        tid = tid or self.kispg.authenticate(kispg_ord_no, amount, method)
        if tid is None:  # KISPG's window refused the ordNo: the browser posts that failure
            return {"resultCd": "A127", "resultMsg": "MOID 중복 또는 이미 처리된 주문"}
        edi = edi_date_now()
        return {"resultCd": result_cd, "resultMsg": "정상처리", "payMethod": method, "tid": tid,
                "ordNo": kispg_ord_no, "amt": str(amount), "mbsReserved": "", "ediDate": edi,
                "encData": sign(self.kispg.mid, edi, amount, KEY)}

    def post(self, ord_no: str, form: dict, token: str | None = "current"):
        kispg_ord_no, current = self.checkout(ord_no)
        return self.payments.handle_return(form, kispg_ord_no, current if token == "current" else token)

    def pay(self) -> str:
        ord_no = self.order()
        self.post(ord_no, self.form(ord_no))
        assert self.status(ord_no) == "paid"
        return ord_no

    def status(self, ord_no: str) -> str:
        return self.store.get(ord_no).status

    def kinds(self, ord_no: str) -> list[str]:
        return [e["kind"] for e in self.store.events(ord_no)]
