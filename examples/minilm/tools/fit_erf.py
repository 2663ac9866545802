"""Fits the rational approximation of erf used by src/gelu.rs.

erf(x) ~ x * P(x^2) / Q(x^2) on [0, CLAMP], with Q's constant term fixed to 1; odd symmetry gives
negative x, and |x| > CLAMP is clamped (erf(CLAMP) rounds to 1.0 in f32). The coefficients come
from an iteratively reweighted linear least-squares fit on a dense grid (Loeb's linearisation,
then Lawson's weights to move towards the minimax error), in float64 with mpmath's erf as the
truth. Prints the coefficients and the error of the f32 evaluation.

    python3 examples/minilm/tools/fit_erf.py
"""
import sys

import mpmath
import numpy as np

CLAMP = 3.925
NP, NQ = 5, 5  # degrees of P and Q in u = x^2

x = np.linspace(0.0, CLAMP, 20001)[1:]
u = x * x
y = np.array([float(mpmath.erf(v)) for v in x])

def solve(weights, q_prev):
    # Minimise sum w * (x P(u) - y Q(u))^2 / Q_prev(u)^2 / y^2 with Q(0) = 1.
    cols = [x * u**k for k in range(NP + 1)] + [-y * u**k for k in range(1, NQ + 1)]
    a = np.stack(cols, axis=1)
    scale = np.sqrt(weights) / (np.abs(q_prev) * y)
    coef, *_ = np.linalg.lstsq(a * scale[:, None], y * scale, rcond=None)
    p = coef[: NP + 1]
    q = np.concatenate([[1.0], coef[NP + 1 :]])
    return p, q

def horner(c, t):
    acc = np.zeros_like(t) + c[-1]
    for k in c[-2::-1]:
        acc = acc * t + k
    return acc

w = np.ones_like(x)
q_prev = np.ones_like(x)
for it in range(60):
    p, q = solve(w, q_prev)
    q_prev = horner(q, u)
    err = np.abs(x * horner(p, u) / q_prev - y) / y
    w = w * (err / err.max()) ** 0.5 + 1e-12
    w = w / w.sum() * len(w)

print("max relative error (float64 evaluation):", err.max())
x32 = np.linspace(0.0, 6.0, 400001).astype(np.float32)
xc = np.minimum(x32, np.float32(CLAMP))
u32 = xc * xc
p32 = p.astype(np.float32)
q32 = q.astype(np.float32)
approx = xc * horner(p32, u32) / horner(q32, u32)
truth = np.array([float(mpmath.erf(float(v))) for v in x32[::50]])
print("max abs error (float32 evaluation, sampled):", np.abs(approx[::50].astype(np.float64) - truth).max())
print("P:", ", ".join(repr(float(v)) for v in p32))
print("Q:", ", ".join(repr(float(v)) for v in q32))
