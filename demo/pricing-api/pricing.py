"""Quote calculation for shopping carts. Prices are in EUR; a cart may ask for its total in another currency."""

# EUR per unit of each currency we quote in (EUR itself needs no entry).
RATES = {"USD": 1.08, "GBP": 0.86}


def average_discount(discounts):
    total = sum(d["percent"] for d in discounts)
    return total / len(discounts)


def convert(amount, currency):
    if currency == "EUR":
        return amount
    if currency not in RATES:
        raise ValueError(f"no exchange rate for {currency}")
    return amount * RATES[currency]


def quote(cart):
    subtotal = sum(item["price"] * item.get("qty", 1) for item in cart["items"])
    discount = average_discount(cart.get("discounts", []))
    total = round(subtotal * (1 - discount / 100), 2)
    currency = cart.get("currency", "EUR")
    return {
        "subtotal": round(subtotal, 2),
        "discount": discount,
        "total": round(convert(total, currency), 2),
        "currency": currency,
    }
