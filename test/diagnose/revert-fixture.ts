/** A small pricing module in the versions the revert tests commit, and helpers to read them. */

/** As it ran for weeks: the guard keeps an empty list from dividing by zero. */
export const GUARDED = `def average_discount(discounts):
    if not discounts:
        return 0
    total = sum(d["percent"] for d in discounts)
    return total / len(discounts)


def quote(cart):
    subtotal = sum(item["price"] for item in cart["items"])
    return {"subtotal": subtotal, "discount": average_discount(cart.get("discounts", []))}
`;

/** The regression: "simplify" drops the guard, and rounds the subtotal in quote (a change that must stay). */
export const UNGUARDED = GUARDED.replace('    if not discounts:\n        return 0\n', '').replace(
  '"subtotal": subtotal,',
  '"subtotal": round(subtotal, 2),',
);

/** The guard dropped by rewriting the crashing line itself (so blame names the commit). */
export const REWRITTEN = GUARDED.replace(
  '    if not discounts:\n        return 0\n    total = sum(d["percent"] for d in discounts)\n    return total / len(discounts)',
  '    return sum(d["percent"] for d in discounts) / len(discounts)',
);

/** 1-based number of the first line holding `needle`. */
export const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;
