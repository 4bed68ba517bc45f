"""Checks shared by the order book tests (a helper module, not a test module)."""
from __future__ import annotations

import copy

import numpy as np

from marketgames.book import OrderBook
from marketgames.book import kernels as K


def raw_state(book) -> object:
    """Every bit of a book's state, not only what its queries show (for "a refused operation changes nothing")."""
    if isinstance(book, OrderBook):
        return book._buf.tobytes(), book._events.tobytes(), sorted(book._slot_of.items())
    fields = {k: v for k, v in vars(book).items() if k != "_orders"}
    return [tuple(vars(o).values()) for o in book._orders], copy.deepcopy(fields)


def check_buffer(buf: np.ndarray) -> None:
    """Internal consistency of a kernel book: links, level sizes, best prices, free list, active count."""
    n, cap = int(buf[K.H_N_TICKS]), int(buf[K.H_CAPACITY])
    head, tail, lq = buf[K.H_OFF_HEAD], buf[K.H_OFF_TAIL], buf[K.H_OFF_LEVEL_QTY]
    nxt, prv, qty = buf[K.H_OFF_NEXT], buf[K.H_OFF_PREV], buf[K.H_OFF_QTY]
    seen = set()
    for side in (K.BUY, K.SELL):
        nonempty = []
        for p in range(n):
            lvl = side * n + p
            s, last, total = buf[head + lvl], -1, 0
            while s != -1:
                assert s not in seen and buf[prv + s] == last and buf[qty + s] > 0
                assert buf[buf[K.H_OFF_PRICE] + s] == p and buf[buf[K.H_OFF_SIDE] + s] == side
                seen.add(s)
                total += buf[qty + s]
                last, s = s, buf[nxt + s]
            assert buf[tail + lvl] == last and buf[lq + lvl] == total
            if total:
                nonempty.append(p)
        if side == K.BUY:
            assert buf[K.H_BEST_BID] == (max(nonempty) if nonempty else -1)
        else:
            assert buf[K.H_BEST_ASK] == (min(nonempty) if nonempty else n)
    assert buf[K.H_N_ACTIVE] == len(seen)
    free, s = 0, buf[K.H_FREE_HEAD]
    while s != -1:
        assert s not in seen and buf[qty + s] == 0
        free, s = free + 1, buf[nxt + s]
    assert free + len(seen) == cap
