import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from pricing import average_discount, convert, quote  # noqa: E402


def test_average_discount():
    assert average_discount([{"percent": 10}, {"percent": 20}]) == 15


def test_quote_with_discount():
    cart = {"items": [{"price": 10.0, "qty": 2}, {"price": 5.0}], "discounts": [{"percent": 10}]}
    assert quote(cart) == {"subtotal": 25.0, "discount": 10.0, "total": 22.5, "currency": "EUR"}


def test_convert():
    assert convert(10.0, "EUR") == 10.0
    assert round(convert(10.0, "USD"), 2) == 10.8
