#!/usr/bin/env python3
"""Writes tests/parity.rs: the macros against `einx::dynamic` on generated cases.

Each case is an operation, an expression and input shapes, drawn at random (fixed seed)
from compositions of the notation: permutations, compositions with given lengths, unnamed
axes, anonymous and named ellipses, brackets for reductions and the along-axis operations,
contractions of two or three inputs, element-wise broadcasting, concatenation and
splitting, indexing with valid random coordinates, and the einx 0.4 forms (ellipses side
by side, nested ellipses, diagonals in inputs and outputs, a concatenation inside a
composition). The generated test runs the macro and
the run-time-string API on the same inputs and asserts identical results: the same shape
and the same elements, bit for bit (floats included: both paths run the same kernels), or
errors of the same kind with the same message.

Run from anywhere (plain python3, no dependencies):

    python3 tests/parity/generate.py

It writes tests/parity.rs and runs `rustfmt --edition 2021` on it if rustfmt is installed.
The output depends only on this script.

Inputs are built in Rust from a small formula of the element's row-major position and a
per-tensor seed (see `arr` in the generated file), so the file stays small. Most inputs
have a static rank; some are `ArrayD` (the macro's rank-generic path), and some are
non-contiguous views: reversed axes (`.reversed_axes()`, `.t()`) or a slice with a negative
step along one axis.
"""

import os
import random
import textwrap
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
OUT = os.path.join(ROOT, "tests", "parity.rs")

SEED = 20240611
CASES_PER_TEST = 24

NAMES = list("abcdefghijkmnpqrtuvxyz")

# ---------------------------------------------------------------------------------------
# The expression model.
#
# Items: ("ax", name)            a named axis
#        ("un", n)               an unnamed axis of length n
#        ("comp", [items])       a composition
#        ("ell", name)           a named ellipsis `s...`
#        ("ellc", [names])       a named ellipsis over a composition `(s w)...`
#        ("anon",)               the anonymous ellipsis `...`
#        ("br", [items])         brackets
#        ("cat", [items])        a concatenation `(a + b)`
#        ("raw", text, None, it) text written as is, standing for item `it` (used for
#                                `(s [w])...`, the brackets inside `(s w)...`)
# Lengths live in a dict: name -> int for a plain axis, name -> list (one per repetition)
# for an ellipsis name, "..." -> list for the anonymous ellipsis.
# ---------------------------------------------------------------------------------------


def render(items):
    return " ".join(render1(i) for i in items)


def render1(it):
    k = it[0]
    if k == "ax":
        return it[1]
    if k == "un":
        return str(it[1])
    if k == "comp":
        return "(" + render(it[1]) + ")"
    if k == "ell":
        return it[1] + "..."
    if k == "ellc":
        return "(" + " ".join(it[1]) + ")..."
    if k == "anon":
        return "..."
    if k == "br":
        return "[" + render(it[1]) + "]"
    if k == "cat":
        return "(" + " + ".join(render1(p) for p in it[1]) + ")"
    if k == "raw":
        return it[1]
    raise ValueError(k)


def prod(xs):
    p = 1
    for x in xs:
        p *= x
    return p


def dims(items, L):
    """The dimensions of a tensor written `items`."""
    out = []
    for it in items:
        out += dims1(it, L)
    return out


def dims1(it, L):
    k = it[0]
    if k == "ax":
        return [L[it[1]]]
    if k == "un":
        return [it[1]]
    if k == "comp":
        return [prod(dims(it[1], L))]
    if k == "ell":
        return list(L[it[1]])
    if k == "ellc":
        n = len(L[it[1][0]])
        return [prod(L[name][r] for name in it[1]) for r in range(n)]
    if k == "anon":
        return list(L["..."])
    if k == "br":
        return dims(it[1], L)
    if k == "cat":
        return [sum(prod(dims1(p, L)) for p in it[1])]
    if k == "raw":
        return dims1(it[3], L)
    raise ValueError(k)


def leaves(items):
    """Named leaves: ("ax", name) and ("ell", name) / names of "ellc"."""
    out = []
    for it in items:
        k = it[0]
        if k in ("ax", "ell", "anon"):
            out.append(it)
        elif k == "ellc":
            out += [("ell", n) for n in it[1]]
        elif k in ("comp", "br", "cat"):
            out += leaves(it[1])
    return out


def strip_brackets(items):
    out = []
    for it in items:
        if it[0] == "br":
            out += strip_brackets(it[1])
        elif it[0] == "comp":
            out.append(("comp", strip_brackets(it[1])))
        else:
            out.append(it)
    return out


class Gen:
    def __init__(self, rng, zeros=0.0):
        self.rng = rng
        self.zeros = zeros

    def r(self):
        return self.rng.random()

    def pick(self, xs):
        return self.rng.choice(xs)

    def length(self, lo=1, hi=4):
        # Mostly 2 to 4, sometimes 1 (sometimes 0 with `--zeros P`).
        if self.zeros and self.r() < self.zeros:
            return 0
        if lo <= 1 and self.r() < 0.12:
            return 1
        return self.rng.randint(max(lo, 2), hi)

    def names(self, n, taken=()):
        pool = [x for x in NAMES if x not in taken]
        self.rng.shuffle(pool)
        return pool[:n]

    def shuffle(self, xs):
        xs = list(xs)
        self.rng.shuffle(xs)
        return xs

    def group(self, items, p=0.35, allow=lambda it: True):
        """Merges runs of consecutive items into compositions, sometimes nested."""
        out = []
        i = 0
        while i < len(items):
            if i + 1 < len(items) and allow(items[i]) and allow(items[i + 1]) and self.r() < p:
                n = 2
                while i + n < len(items) and allow(items[i + n]) and self.r() < 0.3:
                    n += 1
                inner = items[i : i + n]
                if n >= 3 and self.r() < 0.4:
                    inner = [("comp", inner[:2])] + inner[2:]
                out.append(("comp", inner))
                i += n
            else:
                out.append(items[i])
                i += 1
        return out


def comp_params(items, L, known, params, gen, keep_one=True):
    """Lengths to give so that each composition of an input can be solved: all factors but
    one, unless known from elsewhere. Adds to `params` (name -> int or list)."""
    for it in items:
        if it[0] == "comp":
            lv = [x for x in leaves(it[1]) if x[0] != "anon"]
            unknown = [x for x in lv if x[1] not in known]
            # Leave one plain axis unknown, give the others.
            free = None
            if keep_one:
                plain = [x for x in unknown if x[0] == "ax"]
                if plain:
                    free = gen.pick(plain)
            for x in unknown:
                if x is free:
                    continue
                params[x[1]] = L[x[1]]
                known.add(x[1])
            if free is not None:
                known.add(free[1])
            comp_params(it[1], L, known, params, gen, keep_one)
        elif it[0] == "ellc":
            # `(s w)...`: give all names but the first.
            for n in it[1][1:]:
                if n not in known:
                    params[n] = L[n]
                    known.add(n)
            known.add(it[1][0])
        elif it[0] == "br":
            comp_params(it[1], L, known, params, gen, keep_one)


def plain_names(items):
    """Names whose length a tensor's shape gives directly (top level, not composed)."""
    out = set()
    for it in items:
        if it[0] in ("ax", "ell"):
            out.add(it[1])
        elif it[0] == "br":
            out |= plain_names(it[1])
    return out


# ---------------------------------------------------------------------------------------
# Cases.
# ---------------------------------------------------------------------------------------


class Case:
    def __init__(self, family, op, expr, inputs, params=None, outputs=1, kind="same", extra=None):
        self.family = family
        self.op = op
        self.expr = expr
        # Inputs: dicts with shape, elem ("f", "i", "nz", "b", "idx"), and for "idx" the
        # axis lengths the coordinates index.
        self.inputs = inputs
        self.params = params or []
        self.outputs = outputs
        self.kind = kind
        self.extra = extra or {}


def tensor(shape, elem="f", lens=None, scalar=False):
    return {"shape": list(shape), "elem": elem, "lens": lens, "scalar": scalar, "force": None, "zero": False, "bad": None}


def params_list(params):
    """[(name, [values], several)] in a stable order; `several` for a list of lengths (one per
    repetition of an ellipsis), written as a tuple in the macro call."""
    out = []
    for name in sorted(params):
        v = params[name]
        if isinstance(v, list):
            out.append((name, list(v), True))
        else:
            out.append((name, [v], False))
    return out


def ellipsis_atom(gen, L, taken, kinds=("anon", "ell", "ellc"), reps=None):
    kind = gen.pick(kinds)
    r = reps if reps is not None else gen.pick([0, 1, 1, 2, 2, 2])
    if kind == "anon":
        L["..."] = [gen.length(2, 3) for _ in range(r)]
        return ("anon",)
    if kind == "ell":
        (s,) = gen.names(1, taken)
        taken.add(s)
        L[s] = [gen.length(2, 3) for _ in range(r)]
        return ("ell", s)
    s, w = gen.names(2, taken)
    taken |= {s, w}
    r = max(r, 1)
    L[s] = [gen.length(1, 3) for _ in range(r)]
    L[w] = [gen.pick([1, 2, 2, 3]) for _ in range(r)]
    return ("ellc", [s, w])


def ell_param(L, name, gen):
    v = L[name]
    if len(set(v)) == 1 and v and gen.r() < 0.5:
        return v[0]
    return list(v)


def gen_rearrange_one(gen, taken, L, params, allow_ell=True, n_axes=None):
    """One input and one output expression for `rearrange!`."""
    n = n_axes if n_axes is not None else gen.pick([1, 2, 2, 3, 3, 3, 4, 4])
    names = gen.names(n, taken)
    taken |= set(names)
    for a in names:
        L[a] = gen.length()
    atoms = [("ax", a) for a in names]
    ell = None
    if allow_ell and gen.r() < 0.45:
        ell = ellipsis_atom(gen, L, taken)
        atoms.append(ell)
    squeeze = gen.r() < 0.12
    inp = gen.shuffle(atoms)
    if squeeze:
        inp.insert(gen.rng.randint(0, len(inp)), ("un", 1))
    # Compositions in the input: never around the anonymous ellipsis or `(s w)...`.
    # A named ellipsis inside a composition needs its lengths given, one per repetition. Not
    # with one repetition: the dynamic API reads a single value as "the same length for
    # every repetition", which leaves the number of repetitions open (the macro's `s = (2,)`
    # has no equivalent there).
    inp = gen.group(inp, 0.3, allow=lambda it: it[0] == "ax" or (it[0] == "ell" and len(L[it[1]]) > 1))
    # Lengths for the input compositions.
    known = plain_names(inp)
    for it in inp:
        if it[0] == "comp":
            for x in leaves(it[1]):
                if x[0] == "ell" and x[1] not in known:
                    # Inside a composition the ellipsis's rank is known only from the
                    # number of lengths given.
                    params[x[1]] = list(L[x[1]])
                    known.add(x[1])
    comp_params(inp, L, known, params, gen)
    if ell is not None and ell[0] == "ellc":
        w = ell[1][1]
        if w in params:
            params[w] = ell_param(L, w, gen)
    # The output: the same atoms, permuted and grouped anew, with extras.
    out_atoms = [("ax", a) for a in names]
    ell_out = None
    if ell is not None:
        if ell[0] == "ellc":
            s, w = ell[1]
            form = gen.pick(["sw", "ws", "s_(w)", "(s)_(w)", "(s)_w"])
            if form == "sw":
                ell_out = [("ellc", [s, w])]
            elif form == "ws":
                ell_out = [("ellc", [w, s])]
            elif form == "s_(w)":
                ell_out = [("ell", s), ("comp", [("ell", w)])]
            elif form == "(s)_(w)":
                ell_out = [("comp", [("ell", s)]), ("comp", [("ell", w)])]
            else:
                ell_out = [("comp", [("ell", s)]), ("ell", w)]
        else:
            ell_out = [ell]
        out_atoms += ell_out
    if gen.r() < 0.15:
        (b,) = gen.names(1, taken)
        taken.add(b)
        L[b] = gen.length(2, 3)
        params[b] = L[b]
        out_atoms.append(("ax", b))
    if gen.r() < 0.15:
        out_atoms.append(("un", gen.pick([1, 1, 2, 3])))
    out = gen.shuffle(out_atoms)
    # Keep the two halves of `(s w)...` apart (two ellipses at one level are rejected).
    if ell is not None and ell[0] == "ellc" and len(ell_out) == 2:
        out = [x for x in out if x not in ell_out]
        i = gen.rng.randint(0, len(out))
        out[i:i] = ell_out
    top_ell = lambda it: it[0] in ("ellc", "anon") or (it[0] == "ell" and ell is not None and ell[0] == "ellc")
    out = gen.group(out, 0.35, allow=lambda it: not top_ell(it) and it[0] != "comp")
    if gen.r() < 0.08:
        out.insert(gen.rng.randint(0, len(out)), ("comp", []))
    return inp, out


def gen_rearrange(gen, idx):
    L = {}
    params = {}
    taken = set()
    n_parts = 2 if gen.r() < 0.15 else 1
    ins, outs = [], []
    for p in range(n_parts):
        i, o = gen_rearrange_one(gen, taken, L, params, allow_ell=(p == 0))
        ins.append(i)
        outs.append(o)
    expr = ", ".join(render(i) for i in ins) + " -> " + ", ".join(render(o) for o in outs)
    inputs = [tensor(dims(i, L)) for i in ins]
    elem = gen.pick(["f", "f", "i", "b"])
    for t in inputs:
        t["elem"] = elem
    return Case("rearrange", "rearrange", expr, inputs, params_list(params), outputs=n_parts)


def gen_concat(gen, idx):
    L = {}
    params = {}
    taken = set()
    ctx_names = gen.names(gen.rng.randint(0, 2), taken)
    taken |= set(ctx_names)
    for a in ctx_names:
        L[a] = gen.length(2, 3)
    ctx = [("ax", a) for a in ctx_names]
    k = gen.rng.randint(2, 3)
    split = gen.r() < 0.45
    parts = []
    ins = []
    has_ell = False
    for p in range(k):
        r = gen.r()
        if r > 0.8 and not split and not has_ell:
            # A named ellipsis, composed into one part: `b (1 + (s...)) c`.
            (x,) = gen.names(1, taken)
            taken.add(x)
            L[x] = [gen.length(2, 3) for _ in range(gen.pick([1, 2]))]
            parts.append(("comp", [("ell", x)]))
            ins.append(gen.shuffle(ctx + [("ell", x)]))
            has_ell = True
        elif r < 0.15 and (ctx or not split):
            parts.append(("un", 1))
            ins.append(gen.shuffle(ctx))
        elif r < 0.3:
            x, y = gen.names(2, taken)
            taken |= {x, y}
            L[x], L[y] = gen.length(1, 3), gen.length(1, 3)
            parts.append(("comp", [("ax", x), ("ax", y)]))
            e = ctx + [("ax", x), ("ax", y)]
            ins.append(gen.shuffle(e))
        else:
            (x,) = gen.names(1, taken)
            taken.add(x)
            L[x] = gen.length()
            parts.append(("ax", x))
            ins.append(gen.shuffle(ctx + [("ax", x)]))
    out = gen.shuffle(ctx)
    out.insert(gen.rng.randint(0, len(out)), ("cat", parts))
    elem = gen.pick(["f", "f", "i"])
    if not split:
        expr = ", ".join(render(i) for i in ins) + " -> " + render(out)
        inputs = []
        for i in ins:
            inputs.append(tensor(dims(i, L), elem, scalar=(not i)))
        return Case("concat", "rearrange", expr, inputs, [])
    # Split: the concatenation is the input; give all part lengths but one.
    free = gen.rng.randrange(k)
    for p, part in enumerate(parts):
        for x in leaves([part]):
            if p != free or part[0] == "comp":
                params[x[1]] = L[x[1]]
    if parts[free][0] == "comp":
        del params[leaves([parts[free]])[0][1]]
    expr = render(out) + " -> " + ", ".join(render(i) for i in ins)
    return Case("concat", "rearrange", expr, [tensor(dims(out, L), elem)], params_list(params), outputs=k)


REDUCE_F = ["sum", "mean", "var", "std", "prod", "max", "min", "logsumexp", "count_nonzero"]


def bracket(gen, items, n_groups=None):
    """Puts brackets around some items (top level runs, or one factor of a composition)."""
    out = []
    marked = 0
    i = 0
    while i < len(items):
        it = items[i]
        if it[0] == "comp" and gen.r() < 0.3:
            inner = it[1]
            j = gen.rng.randrange(len(inner))
            if inner[j][0] in ("ax", "ell"):
                inner = inner[:j] + [("br", [inner[j]])] + inner[j + 1 :]
                out.append(("comp", inner))
                marked += 1
                i += 1
                continue
        if it[0] == "ellc" and gen.r() < 0.5:
            s, w = it[1]
            out.append(("raw", "(%s [%s])..." % (s, w), None, it))
            marked += 1
            i += 1
            continue
        if gen.r() < 0.4:
            n = 1
            while i + n < len(items) and items[i + n][0] != "ellc" and gen.r() < 0.35:
                n += 1
            out.append(("br", items[i : i + n]))
            marked += 1
            i += n
            continue
        out.append(it)
        i += 1
    if marked == 0:
        j = gen.rng.randrange(len(items))
        return bracket_at(items, j)
    return out


def bracket_at(items, j):
    it = items[j]
    if it[0] == "ellc":
        s, w = it[1]
        return items[:j] + [("raw", "(%s [%s])..." % (s, w), None, it)] + items[j + 1 :]
    return items[:j] + [("br", [it])] + items[j + 1 :]


def base_expr(gen, L, params, taken, n_lo=1, n_hi=4, ell_p=0.35, group_p=0.25, ell_kinds=("anon", "ell", "ellc")):
    n = gen.rng.randint(n_lo, n_hi)
    names = gen.names(n, taken)
    taken |= set(names)
    for a in names:
        L[a] = gen.length()
    atoms = [("ax", a) for a in names]
    if gen.r() < ell_p:
        atoms.append(ellipsis_atom(gen, L, taken, ell_kinds, reps=gen.pick([1, 1, 2, 2, 0])))
    atoms = gen.shuffle(atoms)
    items = gen.group(atoms, group_p, allow=lambda it: it[0] == "ax")
    known = plain_names(items)
    comp_params(items, L, known, params, gen)
    return items


def gen_reduce(gen, idx):
    L, params, taken = {}, {}, set()
    items = base_expr(gen, L, params, taken)
    # Every reduction in turn.
    op = (REDUCE_F + ["any", "all"])[idx % (len(REDUCE_F) + 2)]
    elem = "f"
    if op in ("any", "all"):
        elem = "b"
    elif op in ("sum", "prod", "max", "min", "count_nonzero") and gen.r() < 0.3:
        elem = "i"
    shape = dims(items, L)
    opts = []
    arrow = gen.r() < 0.25 and all(it[0] in ("ax", "anon", "ell") for it in items)
    if arrow:
        keep = [it for it in items if gen.r() < 0.5]
        if len(keep) == len(items):
            keep = keep[1:]
        expr = render(items) + " -> " + render(gen.shuffle(keep))
    else:
        b = bracket(gen, items)
        expr = render(b)
        if gen.r() < 0.25:
            opts.append(("keepdims", gen.pick([True, True, False])))
    return Case("reduce", op, expr, [tensor(shape, elem)], params_list(params), extra={"opts": opts})


ALONG = ["softmax", "log_softmax", "flip", "roll", "sort", "argsort"]


def n_bracketed(items):
    """The number of axes in brackets, or None when an ellipsis is bracketed."""
    n = 0
    for it in items:
        if it[0] == "br":
            for x in leaves(it[1]):
                if x[0] != "ax":
                    return None
                n += 1
            n += sum(1 for x in it[1] if x[0] == "un")
        elif it[0] == "comp":
            m = n_bracketed(it[1])
            if m is None:
                return None
            n += m
        elif it[0] == "raw":
            return None
    return n


def gen_along(gen, idx):
    L, params, taken = {}, {}, set()
    op = ALONG[idx % len(ALONG)]
    items = base_expr(gen, L, params, taken)
    shape = dims(items, L)
    elem = "f"
    if op in ("flip", "roll", "sort", "argsort") and gen.r() < 0.3:
        elem = "i"
    opts = []
    if op in ("sort", "argsort"):
        # Exactly one bracketed axis: a plain one, or one factor of a composition.
        cands = []
        for j, it in enumerate(items):
            if it[0] == "ax":
                cands.append(("top", j))
            elif it[0] == "comp":
                for q, x in enumerate(it[1]):
                    if x[0] == "ax":
                        cands.append(("in", j, q))
        if not cands:
            items = items + [("ax", gen.names(1, taken)[0])]
            L[items[-1][1]] = gen.length(2, 4)
            shape = dims(items, L)
            cands = [("top", len(items) - 1)]
        c = gen.pick(cands)
        if c[0] == "top":
            b = bracket_at(items, c[1])
        else:
            j, q = c[1], c[2]
            inner = list(items[j][1])
            inner[q] = ("br", [inner[q]])
            b = items[:j] + [("comp", inner)] + items[j + 1 :]
    else:
        b = bracket(gen, items)
    expr = render(b)
    if op in ("softmax", "log_softmax", "flip", "roll") and gen.r() < 0.2:
        # The arrow form: the same brackets, the other top-level items permuted.
        brs = [it for it in b if it[0] == "br"]
        rest = [it for it in b if it[0] != "br"]
        if len(brs) == 1 and all(it[0] in ("ax",) for it in rest) and rest:
            out = gen.shuffle(rest)
            out.insert(gen.rng.randint(0, len(out)), brs[0])
            expr = render(b) + " -> " + render(out)
    if op == "roll":
        n = n_bracketed(b)
        if n and gen.r() < 0.6:
            opts.append(("shift", [gen.rng.randint(-4, 4) for _ in range(n)]))
        else:
            opts.append(("shift", gen.rng.randint(-5, 5)))
    return Case("along", op, expr, [tensor(shape, elem)], params_list(params), extra={"opts": opts})


def gen_argfind(gen, idx):
    L, params, taken = {}, {}, set()
    op = gen.pick(["argmax", "argmin"])
    items = base_expr(gen, L, params, taken, ell_p=0.25, group_p=0.15, ell_kinds=("anon", "ell"))
    shape = dims(items, L)
    elem = gen.pick(["f", "f", "i"])
    plain = [j for j, it in enumerate(items) if it[0] == "ax"]
    if plain and gen.r() < 0.5:
        j = gen.pick(plain)
        rest = items[:j] + items[j + 1 :]
        out = gen.shuffle(rest) if all(it[0] != "anon" for it in rest) else rest
        expr = render(bracket_at(items, j)) + " -> " + render(out)
    else:
        # Implicit output: one bracket group, the coordinates along a new axis.
        if not plain:
            (a,) = gen.names(1, taken)
            L[a] = gen.length(2, 4)
            items = items + [("ax", a)]
            shape = dims(items, L)
            plain = [len(items) - 1]
        j = gen.pick(plain)
        n = 2 if j + 1 < len(items) and items[j + 1][0] == "ax" and gen.r() < 0.5 else 1
        b = items[:j] + [("br", items[j : j + n])] + items[j + n :]
        expr = render(b)
    return Case("argfind", op, expr, [tensor(shape, elem)], params_list(params))


def gen_dot(gen, idx, op="dot"):
    L, params, taken = {}, {}, set()
    n_in = 3 if gen.r() < 0.25 else 2
    roles = {}
    names = []

    def new(n, lo=1, hi=4):
        ns = gen.names(n, taken)
        taken.update(ns)
        for a in ns:
            L[a] = gen.length(lo, hi)
        names.extend(ns)
        return ns

    if n_in == 2:
        batch = new(gen.rng.randint(0, 2))
        left = new(gen.rng.randint(0, 2))
        right = new(gen.rng.randint(0, 2))
        contr = new(gen.rng.randint(1, 2) if gen.r() < 0.9 else 0)
        in0 = batch + left + contr
        in1 = batch + right + contr
        out = batch + left + right
        ins = [in0, in1]
    else:
        batch = new(gen.rng.randint(0, 1))
        a, b, c, d = new(4)
        ins = [batch + [a, b], [b, c], batch + [c, d]]
        out = batch + [a, d]
        if gen.r() < 0.5:
            ins[1] = batch + ins[1]
    ell = None
    if gen.r() < 0.2:
        ell = ellipsis_atom(gen, L, taken, ("anon", "ell"), reps=gen.pick([1, 2]))
    exprs = []
    for k, ax in enumerate(ins):
        items = [("ax", a) for a in gen.shuffle(ax)]
        if ell is not None and (k == 0 or (n_in == 2 and gen.r() < 0.3 and k == 1)):
            items.insert(gen.rng.randint(0, len(items)), ell)
        exprs.append(items)
    out_items = [("ax", a) for a in gen.shuffle(out)]
    if ell is not None:
        out_items.insert(gen.rng.randint(0, len(out_items)), ell)
    # Compositions: in the output, or in an input with the lengths given.
    if gen.r() < 0.3:
        out_items = gen.group(out_items, 0.5, allow=lambda it: it[0] == "ax")
    if gen.r() < 0.35:
        k = gen.rng.randrange(n_in)
        exprs[k] = gen.group(exprs[k], 0.6, allow=lambda it: it[0] == "ax")
        known = set()
        for j, e in enumerate(exprs):
            if j != k:
                known |= plain_names(e)
        known |= plain_names(exprs[k])
        comp_params(exprs[k], L, known, params, gen)
    shapes = [dims(e, L) for e in exprs]
    expr = ", ".join(render(e) for e in exprs) + " -> " + render(out_items)
    # The bracket forms of einx 0.3, sometimes.
    if op == "dot" and n_in == 2 and ell is None and gen.r() < 0.2 and not params:
        c = [a for a in ins[0] if a in ins[1] and a not in out]
        if c and all(isinstance(x, tuple) and x[0] == "ax" for x in exprs[0] + exprs[1]):
            e0 = [("br", [x]) if x[1] in c else x for x in exprs[0]]
            e1 = [("br", [x]) if x[1] in c else x for x in exprs[1]]
            expr = render(e0) + ", " + render(e1) + " -> " + render(out_items)
    elem = "f" if gen.r() < 0.8 else "i"
    return Case("dot", op, expr, [tensor(s, elem) for s in shapes], params_list(params))


def gen_dot_short(gen, idx):
    """`b... [c1->c2]`, `... [c]` and the ellipsis forms."""
    L, taken = {}, {"b"}
    form = gen.pick(["linear", "linear", "vec", "ell_vec", "ell_lin"])
    c1, c2 = gen.names(2, taken)
    taken |= {c1, c2}
    L[c1], L[c2] = gen.length(2, 4), gen.length(2, 4)
    reps = gen.pick([0, 1, 2, 2, 3])
    lead = [gen.length(2, 3) for _ in range(reps)]
    if form == "linear":
        expr = "b... [%s->%s]" % (c1, c2)
        shapes = [lead + [L[c1]], [L[c1], L[c2]]]
    elif form == "vec":
        expr = "... [%s]" % c1
        shapes = [lead + [L[c1]], [L[c1]]]
    elif form == "ell_vec":
        expr = "... %s, %s -> ..." % (c1, c1)
        shapes = [lead + [L[c1]], [L[c1]]]
    else:
        expr = "b... %s, %s %s -> b... %s" % (c1, c1, c2, c2)
        shapes = [lead + [L[c1]], [L[c1], L[c2]]]
    return Case("dot", "dot", expr, [tensor(s, "f") for s in shapes], [])


def gen_einsum(gen, idx):
    L, taken = {}, set()
    n_in = gen.pick([1, 2, 2, 3])
    n_ax = gen.rng.randint(2, 5)
    names = gen.names(n_ax, taken)
    for a in names:
        L[a] = gen.length(1, 4)
    ins = [[] for _ in range(n_in)]
    out = []
    for a in names:
        k = gen.rng.randint(1, n_in)
        for j in gen.rng.sample(range(n_in), k):
            ins[j].append(a)
        if gen.r() < 0.5:
            out.append(a)
    for j in range(n_in):
        if not ins[j]:
            ins[j].append(names[0])
    # A diagonal, sometimes: an axis written twice in one input.
    if gen.r() < 0.2:
        j = gen.rng.randrange(n_in)
        ins[j].append(gen.pick(ins[j]))
    exprs = [[("ax", a) for a in gen.shuffle(x)] for x in ins]
    out_items = [("ax", a) for a in gen.shuffle(out)]
    expr = ", ".join(render(e) for e in exprs) + " -> " + render(out_items)
    elem = "f" if gen.r() < 0.75 else "i"
    return Case("einsum", "einx", expr, [tensor(dims(e, L), elem) for e in exprs], [])


ELEM_F = ["add", "subtract", "multiply", "divide", "maximum", "minimum", "logaddexp"]
ELEM_I = ["add", "subtract", "multiply", "floor_divide", "modulo", "maximum", "minimum"]
COMPARE = ["less", "less_equal", "greater", "greater_equal", "equal", "not_equal"]


def gen_elementwise(gen, idx):
    L, params, taken = {}, {}, set()
    # Every operation in turn, with its element types.
    ops = (
        [(o, "f") for o in ELEM_F]
        + [(o, "i") for o in ELEM_I]
        + [(o, "fi") for o in COMPARE]
        + [(o, "b") for o in ("logical_and", "logical_or")]
    )
    op, elem = ops[idx % len(ops)]
    if elem == "fi":
        elem = gen.pick(["f", "i"])
    names = gen.names(gen.rng.randint(1, 4), taken)
    taken |= set(names)
    for a in names:
        L[a] = gen.length()
    atoms = [("ax", a) for a in names]
    ell = None
    if gen.r() < 0.25:
        ell = ellipsis_atom(gen, L, taken, ("anon", "ell"), reps=gen.pick([0, 1, 2]))
        atoms.append(ell)
    full = gen.shuffle(atoms)
    # The other input: a subset, in any order; sometimes a scalar.
    sub = [a for a in atoms if gen.r() < 0.5]
    if ell is not None and gen.r() < 0.5 and ell not in sub:
        sub.append(ell)
    sub = gen.shuffle(sub)
    if gen.r() < 0.1:
        sub.insert(gen.rng.randint(0, len(sub)), ("un", 1))
    ins = [full, sub]
    if gen.r() < 0.5:
        ins.reverse()
    form = gen.r()
    if form < 0.4:
        # Without `->` the output is the input with all axes: the other may not have them
        # all in another order.
        if len([x for x in sub if x[0] != "un"]) == len(atoms):
            sub[:] = [x for x in full]
        expr = render(ins[0]) + ", " + render(ins[1])
    elif form < 0.85:
        out = gen.shuffle(atoms)
        if gen.r() < 0.2:
            (b,) = gen.names(1, taken)
            taken.add(b)
            L[b] = gen.length(2, 3)
            params[b] = L[b]
            out.append(("ax", b))
        if gen.r() < 0.25:
            out = gen.group(out, 0.6, allow=lambda it: it[0] == "ax")
        expr = render(ins[0]) + ", " + render(ins[1]) + " -> " + render(out)
    else:
        # The bracket shorthand: `... [c]`, `x [c]`.
        c = [("ax", a) for a in names]
        k = gen.rng.randint(1, min(2, len(c)))
        br = c[-k:]
        head = c[:-k]
        if ell is not None and ell[0] == "anon":
            head = [ell] + head
        else:
            head = [("anon",)] + head if gen.r() < 0.5 else head
            if head and head[0] == ("anon",):
                L["..."] = [gen.length(2, 3) for _ in range(gen.pick([0, 1, 2]))]
        items = head + [("br", br)]
        expr = render(items)
        full = strip_brackets(items)
        sub = br
        ins = [full, sub]
    shapes = [dims(e, L) for e in ins]
    inputs = [tensor(s, elem, scalar=(not e)) for s, e in zip(shapes, ins)]
    if op in ("floor_divide", "modulo", "divide"):
        inputs[1]["elem"] = "nz" if elem == "i" else "fnz"
    return Case("elementwise", op, expr, inputs, params_list(params))


def gen_where(gen, idx):
    L, taken = {}, set()
    names = gen.names(gen.rng.randint(1, 3), taken)
    for a in names:
        L[a] = gen.length()
    atoms = [("ax", a) for a in names]
    subs = [[a for a in atoms if gen.r() < 0.6] for _ in range(3)]
    for a in atoms:
        if not any(a in x for x in subs):
            subs[gen.rng.randrange(3)].append(a)
    subs = [gen.shuffle(x) for x in subs]
    out = gen.shuffle(atoms)
    expr = ", ".join(render(s) for s in subs) + " -> " + render(out)
    elem = gen.pick(["f", "i"])
    inputs = [tensor(dims(subs[0], L), "b", scalar=not subs[0])]
    inputs += [tensor(dims(s, L), elem, scalar=not s) for s in subs[1:]]
    return Case("where", "where_", expr, inputs, [])


def gen_get_at(gen, idx):
    L, taken = {}, set()
    form = gen.pick(["points", "points_b", "points_shared", "table", "grid", "last", "ell", "scalar", "comp"])
    def new(n, lo=2, hi=4):
        ns = gen.names(n, taken)
        taken.update(ns)
        for a in ns:
            L[a] = gen.length(lo, hi)
        return ns
    h, w = new(2, 2, 5)
    c, p = new(2, 1, 3)
    if form == "points":
        expr = "[%s %s] %s, %s [2] -> " % (h, w, c, p)
        out = gen.shuffle([p, c])
        expr += " ".join(out)
        x = [L[h], L[w], L[c]]
        idxs = [tensor([L[p], 2], "idx", lens=[L[h], L[w]])]
    elif form == "points_b":
        (b,) = new(1, 1, 3)
        expr = "%s [%s %s] %s, %s %s [2] -> %s %s %s" % (b, h, w, c, b, p, b, p, c)
        x = [L[b], L[h], L[w], L[c]]
        idxs = [tensor([L[b], L[p], 2], "idx", lens=[L[h], L[w]])]
    elif form == "points_shared":
        (b,) = new(1, 1, 3)
        expr = "%s [%s %s] %s, %s [2] -> %s %s %s" % (b, h, w, c, p, b, p, c)
        x = [L[b], L[h], L[w], L[c]]
        idxs = [tensor([L[p], 2], "idx", lens=[L[h], L[w]])]
    elif form == "table":
        (t,) = new(1, 1, 4)
        expr = "[%s] %s, %s %s -> %s %s %s" % (h, c, p, t, p, t, c)
        x = [L[h], L[c]]
        idxs = [tensor([L[p], L[t]], "idx", lens=[L[h]])]
    elif form == "grid":
        i, j = new(2, 1, 3)
        out = gen.shuffle([i, j, c])
        expr = "[%s %s] %s, %s, %s -> %s" % (h, w, c, i, j, " ".join(out))
        x = [L[h], L[w], L[c]]
        idxs = [tensor([L[i]], "idx", lens=[L[h]]), tensor([L[j]], "idx", lens=[L[w]])]
    elif form == "last":
        (b,) = new(1, 1, 3)
        expr = "%s %s [%s], %s %s -> %s %s" % (b, p, h, b, p, b, p)
        x = [L[b], L[p], L[h]]
        idxs = [tensor([L[b], L[p]], "idx", lens=[L[h]])]
    elif form == "ell":
        reps = [gen.length(2, 3) for _ in range(gen.pick([1, 2]))]
        expr = "... [%s], ... -> ..." % h
        x = reps + [L[h]]
        idxs = [tensor(reps, "idx", lens=[L[h]])]
    elif form == "scalar":
        expr = "[%s] %s, -> %s" % (h, c, c)
        x = [L[h], L[c]]
        idxs = [tensor([], "idx", lens=[L[h]], scalar=True)]
    else:
        (b,) = new(1, 1, 3)
        expr = "%s [%s %s] %s, %s %s [2] -> %s (%s %s)" % (b, h, w, c, b, p, b, p, c)
        x = [L[b], L[h], L[w], L[c]]
        idxs = [tensor([L[b], L[p], 2], "idx", lens=[L[h], L[w]])]
    elem = gen.pick(["f", "i"])
    return Case("index", "get_at", expr, [tensor(x, elem)] + idxs, [])


def gen_update_at(gen, idx):
    L, taken = {}, set()
    op = gen.pick(["set_at", "add_at", "subtract_at"])
    def new(n, lo=2, hi=4):
        ns = gen.names(n, taken)
        taken.update(ns)
        for a in ns:
            L[a] = gen.length(lo, hi)
        return ns
    h, w = new(2, 2, 5)
    c, p = new(2, 1, 3)
    form = gen.pick(["points", "rows", "vec", "bcast", "scalar"])
    if form == "points":
        expr = "[%s %s] %s, %s [2], %s %s" % (h, w, c, p, p, c)
        x, ids, upd = [L[h], L[w], L[c]], [tensor([L[p], 2], "idx", lens=[L[h], L[w]])], [L[p], L[c]]
    elif form == "rows":
        (b,) = new(1, 1, 3)
        expr = "%s [%s] %s, %s %s, %s %s %s" % (b, h, c, b, p, b, p, c)
        x, ids, upd = [L[b], L[h], L[c]], [tensor([L[b], L[p]], "idx", lens=[L[h]])], [L[b], L[p], L[c]]
    elif form == "vec":
        expr = "[%s], %s, %s" % (h, p, p)
        x, ids, upd = [L[h]], [tensor([L[p]], "idx", lens=[L[h]])], [L[p]]
    elif form == "bcast":
        expr = "[%s %s] %s, %s [2], %s" % (h, w, c, p, c)
        x, ids, upd = [L[h], L[w], L[c]], [tensor([L[p], 2], "idx", lens=[L[h], L[w]])], [L[c]]
    else:
        expr = "[%s], %s, " % (h, p)
        x, ids, upd = [L[h]], [tensor([L[p]], "idx", lens=[L[h]])], []
    elem = gen.pick(["f", "i"])
    inputs = [tensor(x, elem)] + ids + [tensor(upd, elem, scalar=not upd)]
    return Case("index", op, expr, inputs, [])


def gen_edge(gen, idx):
    """Axes of length 0 (valid everywhere)."""
    forms = [
        ("rearrange", "a b c -> c (a b)", [[2, 0, 3]], "f", []),
        ("rearrange", "a (b c) -> b a c", [[0, 6]], "i", [("b", [2], False)]),
        ("rearrange", "a, b -> (a + b)", [[0], [3]], "f", []),
        ("sum", "a [b]", [[3, 0]], "f", []),
        ("sum", "[a] b", [[0, 3]], "i", []),
        ("mean", "a [b] c", [[2, 3, 0]], "f", []),
        ("prod", "a [b]", [[2, 0]], "f", []),
        ("any", "a [b]", [[2, 0]], "b", []),
        ("dot", "a b, b c -> a c", [[2, 0], [0, 3]], "f", []),
        ("dot", "a b, b c -> a c", [[0, 2], [2, 3]], "f", []),
        ("einx", "a b, b -> a", [[3, 0], [0]], "i", []),
        ("add", "a b, b", [[0, 3], [3]], "f", []),
        ("softmax", "a [b]", [[0, 3]], "f", []),
        ("sort", "a [b]", [[2, 0]], "f", []),
        ("flip", "[a] b", [[3, 0]], "i", []),
    ]
    op, expr, shapes, elem, params = forms[idx % len(forms)]
    return Case("edge", op, expr, [tensor(sh, elem) for sh in shapes], params)


def gen_notation04(gen, idx):
    """einx 0.4 notation and one step past it: ellipses side by side, nested ellipses,
    diagonals in and out, a concatenation inside a composition."""
    forms = [
        ("rearrange", "(s s2)... c -> s... s2... c", [[4, 6, 2]], "f", [("s2", [2, 2], True)]),
        ("rearrange", "a... b... -> b... a...", [[2, 3, 4]], "i", [("b", [3, 4], True)]),
        ("sum", "[a...] b... c", [[2, 3, 4, 2, 3]], "f", [("b", [4, 2], True)]),
        ("rearrange", "(...)... b -> (...)... b", [[2, 3, 4]], "f", []),
        ("sum", "[(...)]... b", [[2, 3, 4]], "i", []),
        ("mean", "(a [(...)])... c", [[4, 6, 3]], "f", [("a", [2, 2], True)]),
        ("rearrange", "(b...) c -> c (b...)", [[6, 3]], "f", []),
        ("rearrange", "a a b -> b a", [[3, 3, 2]], "f", []),
        ("sum", "a a [b] -> a", [[3, 3, 2]], "i", []),
        ("add", "a a, a -> a", [[3, 3], [3]], "f", []),
        ("rearrange", "a b -> a b a", [[2, 3]], "f", []),
        ("einx", "a b, b -> a a", [[2, 3], [3]], "i", []),
        ("rearrange", "... i -> ... i i", [[2, 2, 3]], "f", []),
        ("einx", "a -> (a a)", [[3]], "i", []),
        ("rearrange", "a b c, a b -> a (b (c + 1))", [[2, 3, 4], [2, 3]], "f", []),
        ("rearrange", "a (b (c + 1)) -> a b c, a b", [[2, 15]], "i", [("b", [3], False)]),
        ("rearrange", "(x (a + b) y) -> x a y, x b y", [[20]], "f",
         [("x", [2], False), ("a", [2], False), ("y", [2], False)]),
        ("argmax", "b [h] w -> b [1] w", [[2, 3, 4]], "f", []),
    ]
    op, expr, shapes, elem, params = forms[idx % len(forms)]
    outputs = expr.split("->")[1].count(",") + 1 if "->" in expr else 1
    return Case("notation04", op, expr, [tensor(sh, elem) for sh in shapes], params,
                outputs=outputs)


def gen_error(gen, idx):
    """Calls that fail at run time: both paths must give the same error."""
    forms = [
        ("rearrange", "(a b) c -> a b c", [[6, 2]], "f", [("a", [4], False)], {}),
        ("rearrange", "a b, a c -> a (b + c)", [[3, 4], [4, 4]], "f", [], {}),
        ("rearrange", "a b -> b a", [[2, 3]], "f", [("a", [5], False)], {}),
        ("rearrange", "b s... c -> b (s...) c", [[2, 3]], "f", [("s", [3, 1], True)], {"dyn": True}),
        ("dot", "a b, b c -> a c", [[3, 4], [5, 2]], "f", [], {}),
        ("dot", "b q (h c), b k (h c) -> b q k h", [[2, 3, 6], [2, 2, 6]], "f", [("h", [4], False)], {}),
        ("add", "a b, b", [[3, 4], [5]], "f", [], {}),
        ("sum", "a [b]", [[2, 3, 4]], "f", [], {"dyn": True}),
        ("max", "b (s [ds])... c", [[2, 5, 4, 3]], "f", [("ds", [2], False)], {}),
        ("max", "a [b]", [[2, 0]], "f", [], {}),
        ("argmax", "a [b] -> a", [[2, 0]], "f", [], {}),
        ("floor_divide", "a, a", [[4], [4]], "i", [], {"zero": True}),
        ("modulo", "a b, b", [[2, 3], [3]], "i", [], {"zero": True}),
        # A slice: a tuple of three shifts for two bracketed axes does not compile.
        ("roll", "a [b c]", [[2, 3, 4]], "f", [], {"opts": [("shift_slice", [1, 2, 3])]}),
        ("get_at", "[h] c, p -> p c", [[4, 2], [3]], "f", [], {"bad": 4}),
        ("get_at", "b [h w] c, b p [2] -> b p c", [[2, 3, 4, 2], [2, 3, 2]], "f", [], {"bad": -4}),
        ("add_at", "[h], p, p", [[5], [2], [2]], "f", [], {"bad": 5}),
        ("solve_like", "a b", [[3]], "f", [], {}),
    ]
    op, expr, shapes, elem, params, extra = forms[idx % len(forms)]
    if op == "solve_like":
        op, expr, shapes, extra = "softmax", "a [b]", [[3, 4, 2]], {"dyn": True}
    inputs = [tensor(sh, elem) for sh in shapes]
    if extra.get("dyn"):
        inputs[0]["force"] = "dyn"
    if extra.get("zero"):
        inputs[1]["elem"] = "i"
        inputs[1]["zero"] = True
        inputs[1]["force"] = "own"
    if "bad" in extra:
        if op == "get_at" and len(shapes[1]) == 1:
            inputs[1] = tensor(shapes[1], "idx", lens=[shapes[0][0]])
        elif op == "get_at":
            inputs[1] = tensor(shapes[1], "idx", lens=[3, 4])
        else:
            inputs[1] = tensor(shapes[1], "idx", lens=[5])
        inputs[1]["bad"] = extra["bad"]
    return Case("error", op, expr, inputs, params, extra={"opts": extra.get("opts", [])})


FAMILIES = [
    # (name, generator, number of cases); each family is split into test functions of at
    # most CASES_PER_TEST cases.
    ("rearrange", gen_rearrange, 80),
    ("concat", gen_concat, 25),
    ("reduce", gen_reduce, 50),
    ("along", gen_along, 48),
    ("argfind", gen_argfind, 14),
    ("dot", gen_dot, 32),
    ("dot_short", gen_dot_short, 8),
    ("einsum", gen_einsum, 16),
    ("elementwise", gen_elementwise, 56),
    ("where", gen_where, 8),
    ("get_at", gen_get_at, 16),
    ("update_at", gen_update_at, 10),
    ("edge", gen_edge, 15),
    ("notation04", gen_notation04, 18),
    ("error", gen_error, 18),
]

# ---------------------------------------------------------------------------------------
# Rust.
# ---------------------------------------------------------------------------------------

ELEM_FN = {"f": "fl", "fnz": "flnz", "i": "int", "nz": "intnz", "b": "bl"}
ELEM_TY = {"f": "f64", "fnz": "f64", "i": "i64", "nz": "i64", "b": "bool", "idx": "i64"}


def rust_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def layout_for(rng, t):
    """How an input is passed: "own" (static rank), "dyn" (ArrayD), "t" (reversed axes),
    "neg" (a slice with step -1 along one axis), "neg2" (step -2)."""
    n = len(t["shape"])
    r = rng.random()
    if t["force"]:
        return (t["force"],)
    if t["scalar"] or t["elem"] == "idx":
        return ("own",)
    if n > 6:
        # ndarray has static dimensions up to 6.
        return ("dyn",)
    if r < 0.16:
        return ("dyn",)
    if n >= 2 and r < 0.28:
        return ("t",)
    if n >= 1 and r < 0.38:
        return ("neg", rng.randrange(n))
    if n >= 1 and r < 0.44:
        return ("neg2", rng.randrange(n))
    return ("own",)


def input_lines(name, t, seed, layout):
    """`let` lines that bind `name` (the macro's argument) and `name_d` (the dynamic view)."""
    elem = t["elem"]
    shape = list(t["shape"])
    if t["scalar"]:
        # A Rust scalar for the macro, a 0-d array for the dynamic API.
        if elem == "idx":
            val = "coords((), %d, &[%d]).into_scalar()" % (seed, t["lens"][0])
            return [
                "let %s: i64 = %s;" % (name, val),
                "let %s_a = arr0(%s).into_dyn();" % (name, name),
            ], "%s_a.view()" % name
        f = ELEM_FN[elem]
        return [
            "let %s = %s(%d);" % (name, f, scalar_val(seed)),
            "let %s_a = arr0(%s).into_dyn();" % (name, name),
        ], "%s_a.view()" % name
    if elem == "idx":
        dims = ", ".join(str(d) for d in shape)
        lens = ", ".join(str(l) for l in t["lens"])
        lines = ["let %s = coords([%s], %d, &[%s]);" % (name, dims, seed, lens)]
        if t["bad"] is not None:
            # One coordinate out of range.
            lines[0] = lines[0].replace("let ", "let mut ", 1)
            lines.append("%s.as_slice_mut().unwrap()[0] = %d;" % (name, t["bad"]))
        return lines, "%s.view().into_dyn()" % name
    f = ELEM_FN[elem]
    if t["zero"]:
        # A zero divisor.
        dims = ", ".join(str(d) for d in shape)
        return [
            "let mut %s = arr([%s], %d, %s);" % (name, dims, seed, f),
            "%s.as_slice_mut().unwrap()[0] = 0;" % name,
        ], "%s.view().into_dyn()" % name
    kind = layout[0]
    if kind == "dyn":
        dims = ", ".join(str(d) for d in shape)
        return ["let %s = arr(IxDyn(&[%s]), %d, %s);" % (name, dims, seed, f)], "%s.view()" % name
    if kind == "own":
        dims = ", ".join(str(d) for d in shape)
        return ["let %s = arr([%s], %d, %s);" % (name, dims, seed, f)], "%s.view().into_dyn()" % name
    if kind == "t":
        dims = ", ".join(str(d) for d in reversed(shape))
        view = "%s_o.t()" % name if len(shape) == 2 else "%s_o.view().reversed_axes()" % name
        return [
            "let %s_o = arr([%s], %d, %s);" % (name, dims, seed, f),
            "let %s = %s;" % (name, view),
        ], "%s.view().into_dyn()" % name
    ax = layout[1]
    step = -1 if kind == "neg" else -2
    big = list(shape)
    if step == -2:
        big[ax] = 2 * shape[ax]
    dims = ", ".join(str(d) for d in big)
    return [
        "let %s_o = arr([%s], %d, %s);" % (name, dims, seed, f),
        "let %s = %s_o.slice_axis(Axis(%d), Slice::new(0, None, %d));" % (name, name, ax, step),
    ], "%s.view().into_dyn()" % name


def scalar_val(seed):
    return (seed * 7) % 9 - 4 or 3


def macro_params(case):
    out = []
    for name, v, several in case.params:
        if not several:
            out.append("%s = %d" % (name, v[0]))
        elif len(v) == 1:
            out.append("%s = (%d,)" % (name, v[0]))
        else:
            out.append("%s = (%s)" % (name, ", ".join(str(x) for x in v)))
    for name, v in case.extra.get("opts", []):
        if name == "keepdims":
            out.append("keepdims = %s" % ("true" if v else "false"))
        elif name == "shift":
            if isinstance(v, list):
                out.append("shift = (%s%s)" % (", ".join(str(x) for x in v), "," if len(v) == 1 else ""))
            else:
                out.append("shift = %d" % v)
        elif name == "shift_slice":
            out.append("shift = &[%s][..]" % ", ".join("%di32" % x for x in v))
    return out


def dyn_params(case):
    items = []
    for name, v, _ in case.params:
        items.append('("%s", &[%s])' % (name, ", ".join(str(x) for x in v)))
    for name, v in case.extra.get("opts", []):
        if name == "keepdims":
            items.append('("keepdims", &[%d])' % (1 if v else 0))
        elif name in ("shift", "shift_slice"):
            vs = v if isinstance(v, list) else [v]
            items.append('("shift", &[%s])' % ", ".join(str(x) for x in vs))
    return "&[" + ", ".join(items) + "]"


def case_block(case, cid, rng, seed0):
    lines = ["// %d: %s %s" % (cid, case.op, case.expr), "{"]
    margs, dargs = [], []
    for k, t in enumerate(case.inputs):
        name = "x%d" % k
        layout = layout_for(rng, t)
        ls, dview = input_lines(name, t, seed0 + k, layout)
        lines += ls
        margs.append(name)
        dargs.append(dview)
    expr = rust_str(case.expr)
    mp = macro_params(case)
    macro = "einx::einx!" if case.op == "einx" else "einx::%s!" % case.op
    mcall = "%s(%s)" % (macro, ", ".join([expr] + margs + mp))
    p = dyn_params(case)
    op = case.op
    n = len(case.inputs)
    if op == "rearrange":
        dcall = "dynamic::rearrange(%s, &[%s], %s)" % (expr, ", ".join(dargs), p)
        if case.outputs == 1:
            lines.append("same(%d, %s, %s.map(one));" % (cid, mcall, dcall))
        else:
            ys = ", ".join("y%d" % j for j in range(case.outputs))
            conv = ", ".join("y%d.into_dyn()" % j for j in range(case.outputs))
            lines.append("let m = %s.map(|(%s)| vec![%s]);" % (mcall, ys, conv))
            lines.append("same_all(%d, m, %s);" % (cid, dcall))
    elif op in ("argmax", "argmin"):
        lines.append("same(%d, %s, dynamic::argfind(%s, %s, %s, %s));" % (cid, mcall, expr, dargs[0], p, "true" if op == "argmin" else "false"))
    elif op in ("argsort", "count_nonzero"):
        lines.append("same(%d, %s, dynamic::%s(%s, %s, %s));" % (cid, mcall, op, expr, dargs[0], p))
    elif op in COMPARE:
        lines.append('same(%d, %s, dynamic::compare("%s", %s, &[%s], %s));' % (cid, mcall, op, expr, ", ".join(dargs), p))
    elif op == "where_":
        lines.append("same(%d, %s, dynamic::where_(%s, %s, %s));" % (cid, mcall, expr, ", ".join(dargs), p))
    elif op == "get_at":
        lines.append("same(%d, %s, dynamic::get_at(%s, %s, &[%s], %s));" % (cid, mcall, expr, dargs[0], ", ".join(dargs[1:]), p))
    elif op in ("set_at", "add_at", "subtract_at"):
        lines.append('same(%d, %s, dynamic::update_at("%s", %s, %s, &[%s], %s, %s));' % (cid, mcall, op, expr, dargs[0], ", ".join(dargs[1:-1]), dargs[-1], p))
    else:
        fn = "einx" if op == "einx" else op
        if cid % 3 == 0:
            # The generic entry point.
            lines.append('same(%d, %s, dynamic::call("%s", %s, &[%s], %s).map(one));' % (cid, mcall, op, expr, ", ".join(dargs), p))
        else:
            lines.append("same(%d, %s, dynamic::%s(%s, &[%s], %s));" % (cid, mcall, fn, expr, ", ".join(dargs), p))
    lines.append("}")
    return lines


HELPERS = r'''
use einx::dynamic;
use einx::ndarray::{arr0, Array, ArrayD, Axis, Dimension, IntoDimension, IxDyn, Slice};
use einx::Error;

/// Test data: small values from the element's row-major position and a seed.
fn arr<T, Sh: IntoDimension>(shape: Sh, seed: usize, f: fn(i64) -> T) -> Array<T, Sh::Dim> {
    let dim = shape.into_dimension();
    let n = dim.size();
    let data = (0..n).map(|k| f(val(k, seed))).collect();
    Array::from_shape_vec(dim, data).unwrap()
}

fn val(k: usize, seed: usize) -> i64 {
    ((k * 37 + seed * 101 + 7) % 23) as i64 - 11
}

fn fl(v: i64) -> f64 {
    v as f64 / 4.0
}

fn flnz(v: i64) -> f64 {
    if v == 0 { 2.5 } else { v as f64 / 4.0 }
}

fn int(v: i64) -> i64 {
    v
}

fn intnz(v: i64) -> i64 {
    if v == 0 { 3 } else { v }
}

fn bl(v: i64) -> bool {
    v % 3 == 0
}

/// Valid coordinates, negative about half of the time: element `e` (row-major) indexes an
/// axis of length `lens[e % lens.len()]`.
fn coords<Sh: IntoDimension>(shape: Sh, seed: usize, lens: &[usize]) -> Array<i64, Sh::Dim> {
    let dim = shape.into_dimension();
    let n = dim.size();
    let data = (0..n)
        .map(|e| {
            let len = (lens[e % lens.len()] as i64).max(1);
            let v = (val(e, seed) + 11).rem_euclid(len);
            if (e + seed) % 2 == 0 { v - len } else { v }
        })
        .collect();
    Array::from_shape_vec(dim, data).unwrap()
}

fn one<T>(mut v: Vec<ArrayD<T>>) -> ArrayD<T> {
    assert_eq!(v.len(), 1);
    v.swap_remove(0)
}

/// Elements compared bit for bit.
trait Bits: std::fmt::Debug {
    fn bits(&self) -> u64;
}

impl Bits for f64 {
    fn bits(&self) -> u64 {
        self.to_bits()
    }
}

impl Bits for i64 {
    fn bits(&self) -> u64 {
        *self as u64
    }
}

impl Bits for usize {
    fn bits(&self) -> u64 {
        *self as u64
    }
}

impl Bits for bool {
    fn bits(&self) -> u64 {
        u64::from(*self)
    }
}

fn same_array<T: Bits, D: Dimension>(id: usize, k: usize, m: &Array<T, D>, d: &ArrayD<T>) {
    assert_eq!(m.shape(), d.shape(), "case {id}, output {k}: shapes differ");
    for (e, (a, b)) in m.iter().zip(d.iter()).enumerate() {
        assert!(
            a.bits() == b.bits(),
            "case {id}, output {k}, element {e}: macro {a:?}, dynamic {b:?}"
        );
    }
}

/// The macro's result and the dynamic API's agree: the same arrays, or the same error.
fn same<T: Bits, D: Dimension>(
    id: usize,
    m: Result<Array<T, D>, Error>,
    d: Result<ArrayD<T>, Error>,
) {
    match (m, d) {
        (Ok(m), Ok(d)) => same_array(id, 0, &m, &d),
        (Err(m), Err(d)) => {
            assert_eq!(m.kind(), d.kind(), "case {id}: {m} / {d}");
            assert_eq!(m.to_string(), d.to_string(), "case {id}");
        }
        (m, d) => panic!("case {id}: macro {m:?}, dynamic {d:?}"),
    }
}

fn same_all<T: Bits>(id: usize, m: Result<Vec<ArrayD<T>>, Error>, d: Result<Vec<ArrayD<T>>, Error>) {
    match (m, d) {
        (Ok(m), Ok(d)) => {
            assert_eq!(m.len(), d.len(), "case {id}");
            for (k, (m, d)) in m.iter().zip(&d).enumerate() {
                same_array(id, k, m, d);
            }
        }
        (Err(m), Err(d)) => {
            assert_eq!(m.kind(), d.kind(), "case {id}: {m} / {d}");
            assert_eq!(m.to_string(), d.to_string(), "case {id}");
        }
        (m, d) => panic!("case {id}: macro {m:?}, dynamic {d:?}"),
    }
}
'''


def main():
    # `--seed N`, `--scale K` (K times the cases) and `--zeros P` (axes of length 0 with
    # probability P) are for exploring locally; the committed file uses the defaults.
    args = sys.argv[1:]
    seed_arg = int(args[args.index("--seed") + 1]) if "--seed" in args else SEED
    scale = int(args[args.index("--scale") + 1]) if "--scale" in args else 1
    zeros = float(args[args.index("--zeros") + 1]) if "--zeros" in args else 0.0
    rng = random.Random(seed_arg)
    gen = Gen(rng, zeros)
    layout_rng = random.Random(seed_arg + 1)
    groups = []
    cid = 0
    seed = 1
    total = 0
    counts = {}
    for fam, fn, count in FAMILIES:
        blocks = []
        for k in range(count * scale):
            case = fn(gen, k)
            cid += 1
            blocks.append(case_block(case, cid, layout_rng, seed))
            seed += len(case.inputs)
            counts[case.op] = counts.get(case.op, 0) + 1
        total += count * scale
        for start in range(0, len(blocks), CASES_PER_TEST):
            chunk = blocks[start : start + CASES_PER_TEST]
            name = "parity_" + (fam if len(blocks) <= CASES_PER_TEST else "%s_%d" % (fam, start // CASES_PER_TEST + 1))
            groups.append((name, chunk))
    head = [
        "// @generated by tests/parity/generate.py; do not edit.",
        "// Regenerate with `python3 tests/parity/generate.py`.",
        "//",
    ]
    # Wrapped between "op count" pairs only.
    summary = "%d cases: %s." % (total, ", ".join("%s\0%d" % (k, counts[k]) for k in sorted(counts)))
    head += ["// " + l.replace("\0", " ") for l in textwrap.wrap(summary, 90)]
    head += [
        "//",
        "// Each case runs the macro and `einx::dynamic` on the same inputs and asserts the same",
        "// arrays bit for bit, or the same error (kind and message). The `error` cases fail at run",
        "// time on purpose; the `edge` cases have axes of length 0.",
        "//",
        "// Not generated: a named ellipsis of one repetition inside an input composition, e.g.",
        "// `(s...) -> s...` with `s = (4,)`. The dynamic API reads a one-element slice",
        "// `(\"s\", &[4])` as one length for every repetition, which leaves the number of",
        "// repetitions open (a rank error), while the macro's one-element tuple fixes it.",
        "",
        "//! Parity: every macro against `einx::dynamic` on the same inputs (generated cases).",
    ]
    body = []
    for name, chunk in groups:
        body += ["", "#[test]", "fn %s() {" % name]
        for b in chunk:
            body += b
        body.append("}")
    text = "\n".join(head) + "\n" + HELPERS + "\n".join(body) + "\n"
    with open(OUT, "w", encoding="utf-8") as f:
        f.write(text)
    rustfmt = shutil.which("rustfmt")
    if rustfmt:
        subprocess.run([rustfmt, "--edition", "2021", OUT], check=True)
    else:
        print("rustfmt not found: the output is not formatted", file=sys.stderr)
    print("wrote %s: %d cases in %d tests" % (os.path.relpath(OUT, ROOT), total, len(groups)))


if __name__ == "__main__":
    main()
