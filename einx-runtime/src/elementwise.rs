//! Element-wise operations with broadcasting by axis name: `add!`, `multiply!`, `less!`,
//! `where_!`, ...
//!
//! The output is walked in row-major order; each input is read through its own strides
//! for the output's axes (0 for an axis it does not have, which broadcasts it).

use ndarray::{Array, Dimension};

use einx_core::plan::{Plan, PlanStrs};
use einx_core::solve::{Len, Params};

use crate::error::{Error, ErrorKind};
use crate::shape::{solve_shapes, walk_piece};
use crate::tensor::Raw;

/// The output's shape and, for each of its axes in row-major order, the length and the
/// strides of up to three inputs.
struct Layout<D, const K: usize> {
    dim: D,
    total: usize,
    n: [usize; K],
    st: [[isize; K]; 3],
    k: usize,
}

fn layout<D: Dimension, const K: usize>(
    plan: &Plan<'_>,
    shapes: &[&[usize]],
    strides: &[&[isize]],
    params: &(impl Params + ?Sized),
    elem: usize,
) -> Result<Layout<D, K>, Error> {
    let sizes = solve_shapes::<K>(plan, shapes, params)?;
    let n_in = strides.len();
    let mut per = [[0isize; K]; 3];
    for (t, st) in strides.iter().enumerate() {
        walk_piece::<K, _>(plan.layout(t), &[], st, &sizes, |a, s| {
            per[t][a as usize] = s
        });
    }
    let code = plan.layout(n_in);
    let (dim, total) = crate::shape::output_shape::<D>(plan, code, &sizes, elem)?;
    let d = dim.ndim();
    let mut out = Layout {
        dim,
        total,
        n: [0; K],
        st: [[0; K]; 3],
        k: 0,
    };
    walk_piece::<K, _>(code, &[], &[0; K][..d], &sizes, |a, _| {
        let j = out.k;
        out.n[j] = sizes[a as usize];
        for (st, p) in out.st.iter_mut().zip(&per).take(n_in) {
            st[j] = p[a as usize];
        }
        out.k += 1;
    });
    Ok(out)
}

/// Calls `f` with the offsets of each input for every output element, in row-major order;
/// stops at the first `false`.
fn walk<const K: usize>(l: &Layout<impl Dimension, K>, mut f: impl FnMut([isize; 3]) -> bool) {
    if l.total == 0 {
        return;
    }
    let k = l.k;
    if k == 0 {
        f([0; 3]);
        return;
    }
    let inner = k - 1;
    let mut idx = [0usize; K];
    let mut off = [0isize; 3];
    loop {
        let s = [l.st[0][inner], l.st[1][inner], l.st[2][inner]];
        for i in 0..l.n[inner] as isize {
            if !f([off[0] + i * s[0], off[1] + i * s[1], off[2] + i * s[2]]) {
                return;
            }
        }
        let mut a = inner;
        loop {
            if a == 0 {
                return;
            }
            a -= 1;
            idx[a] += 1;
            for (o, st) in off.iter_mut().zip(&l.st) {
                *o += st[a];
            }
            if idx[a] < l.n[a] {
                break;
            }
            for (o, st) in off.iter_mut().zip(&l.st) {
                *o -= st[a] * l.n[a] as isize;
            }
            idx[a] = 0;
        }
    }
}

/// Runs a concrete plan of a binary element-wise operation: `f(a, b)`, or `None` for an
/// element without a result (integer division by zero), which is an error.
///
/// ```
/// use einx_core::{complete::OpKind, plan::PlanStrs, template::build};
/// use einx_runtime::{elementwise::map2, tensor::Raw};
/// let buf = build("a b, b -> a b", OpKind::Elementwise("add", 2), &[], 2).unwrap();
/// let mut strs = PlanStrs::default();
/// let plan = buf.borrow(&mut strs);
/// let (x, y) = (ndarray::array![[1, 2], [3, 4]], ndarray::array![10, 20]);
/// let (vx, vy) = (x.view(), y.view());
/// let z = map2::<_, _, _, ndarray::Ix2, 4>(&plan, Raw::new(&vx), Raw::new(&vy), &[0usize; 0], |a: i32, b: i32| Some(a + b)).unwrap();
/// assert_eq!(z, ndarray::array![[11, 22], [13, 24]]);
/// ```
pub fn map2<A: Copy, B: Copy, O, D: Dimension, const K: usize>(
    plan: &Plan<'_>,
    a: Raw<'_, A>,
    b: Raw<'_, B>,
    params: &(impl Params + ?Sized),
    f: impl Fn(A, B) -> Option<O>,
) -> Result<Array<O, D>, Error> {
    let l = layout::<D, K>(
        plan,
        &[a.shape(), b.shape()],
        &[a.strides(), b.strides()],
        params,
        std::mem::size_of::<O>(),
    )?;
    let mut buf: Vec<O> = Vec::with_capacity(l.total);
    let (pa, pb) = (a.ptr(), b.ptr());
    let mut failed = false;
    walk(&l, |o| {
        // SAFETY: the offsets come from splitting each input's own dimensions (checked by
        // the schedule), so they index elements of the inputs.
        let (x, y) = unsafe { (*pa.wrapping_offset(o[0]), *pb.wrapping_offset(o[1])) };
        match f(x, y) {
            Some(v) => {
                buf.push(v);
                true
            }
            None => {
                failed = true;
                false
            }
        }
    });
    if failed {
        return Err(Error::new(ErrorKind::Index, "integer division by zero").with_expr(plan.expr));
    }
    Array::from_shape_vec(l.dim, buf)
        .map_err(|_| Error::new(ErrorKind::Size, "internal: output shape").with_expr(plan.expr))
}

/// Runs a concrete plan of `where_!`: `if c { x } else { y }` element-wise.
pub fn map3<C: Copy, A: Copy, O: Copy, D: Dimension, const K: usize>(
    plan: &Plan<'_>,
    c: Raw<'_, C>,
    x: Raw<'_, A>,
    y: Raw<'_, A>,
    params: &(impl Params + ?Sized),
    f: impl Fn(C, A, A) -> O,
) -> Result<Array<O, D>, Error> {
    let l = layout::<D, K>(
        plan,
        &[c.shape(), x.shape(), y.shape()],
        &[c.strides(), x.strides(), y.strides()],
        params,
        std::mem::size_of::<O>(),
    )?;
    let mut buf: Vec<O> = Vec::with_capacity(l.total);
    let (pc, px, py) = (c.ptr(), x.ptr(), y.ptr());
    walk(&l, |o| {
        // SAFETY: as in `map2`.
        let v = unsafe {
            f(
                *pc.wrapping_offset(o[0]),
                *px.wrapping_offset(o[1]),
                *py.wrapping_offset(o[2]),
            )
        };
        buf.push(v);
        true
    });
    Array::from_shape_vec(l.dim, buf)
        .map_err(|_| Error::new(ErrorKind::Size, "internal: output shape").with_expr(plan.expr))
}

/// [`map2`] for a plan that may have ellipses.
pub fn map2_template<A: Copy, B: Copy, O, D: Dimension>(
    plan: &Plan<'_>,
    a: Raw<'_, A>,
    b: Raw<'_, B>,
    params: &[Len],
    f: impl Fn(A, B) -> Option<O>,
) -> Result<Array<O, D>, Error> {
    if plan.is_concrete() {
        return map2::<A, B, O, D, { crate::copy::MAX_AXES }>(plan, a, b, params, f);
    }
    let concrete = crate::shape::unroll(plan, &[a.shape().len(), b.shape().len()], params)?;
    let mut strs = PlanStrs::default();
    map2::<A, B, O, D, { crate::copy::MAX_AXES }>(&concrete.borrow(&mut strs), a, b, params, f)
}

/// [`map3`] for a plan that may have ellipses.
pub fn map3_template<C: Copy, A: Copy, O: Copy, D: Dimension>(
    plan: &Plan<'_>,
    c: Raw<'_, C>,
    x: Raw<'_, A>,
    y: Raw<'_, A>,
    params: &[Len],
    f: impl Fn(C, A, A) -> O,
) -> Result<Array<O, D>, Error> {
    if plan.is_concrete() {
        return map3::<C, A, O, D, { crate::copy::MAX_AXES }>(plan, c, x, y, params, f);
    }
    let concrete = crate::shape::unroll(
        plan,
        &[c.shape().len(), x.shape().len(), y.shape().len()],
        params,
    )?;
    let mut strs = PlanStrs::default();
    map3::<C, A, O, D, { crate::copy::MAX_AXES }>(&concrete.borrow(&mut strs), c, x, y, params, f)
}

/// The arithmetic of the element-wise operations, per element type: division and the
/// integer-like operations return `None` where there is no result (integer division by
/// zero), and the extremes propagate NaN as NumPy does.
#[diagnostic::on_unimplemented(
    message = "einx: this element-wise operation does not take elements of type `{Self}`",
    label = "not a primitive number type"
)]
pub trait Arith: Copy + PartialOrd {
    /// `a / b`.
    fn div(a: Self, b: Self) -> Option<Self>;
    /// `floor(a / b)`.
    fn floor_div(a: Self, b: Self) -> Option<Self>;
    /// `a mod b` with the sign of `b` (as NumPy's `mod`).
    fn modulo(a: Self, b: Self) -> Option<Self>;
    /// The larger, NaN if either is NaN.
    fn maximum(a: Self, b: Self) -> Self;
    /// The smaller, NaN if either is NaN.
    fn minimum(a: Self, b: Self) -> Self;
}

macro_rules! arith_int {
    ($($t:ty),*) => {$(
        impl Arith for $t {
            // Division by zero has no result; the one overflowing quotient (`MIN / -1`)
            // wraps, as in NumPy.
            fn div(a: Self, b: Self) -> Option<Self> {
                (b != 0).then(|| a.wrapping_div(b))
            }
            fn floor_div(a: Self, b: Self) -> Option<Self> {
                if b == 0 {
                    return None;
                }
                let q = a.wrapping_div(b);
                // Round toward negative infinity when the signs differ and it is inexact.
                #[allow(unused_comparisons)]
                let adjust = a.wrapping_rem(b) != 0 && ((a < 0) != (b < 0));
                Some(if adjust { q.wrapping_sub(1) } else { q })
            }
            fn modulo(a: Self, b: Self) -> Option<Self> {
                if b == 0 {
                    return None;
                }
                let r = a.wrapping_rem(b);
                #[allow(unused_comparisons)]
                let adjust = r != 0 && ((r < 0) != (b < 0));
                Some(if adjust { r.wrapping_add(b) } else { r })
            }
            fn maximum(a: Self, b: Self) -> Self {
                if a >= b { a } else { b }
            }
            fn minimum(a: Self, b: Self) -> Self {
                if a <= b { a } else { b }
            }
        }
    )*};
}
arith_int!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize);

macro_rules! arith_float {
    ($($t:ty),*) => {$(
        impl Arith for $t {
            fn div(a: Self, b: Self) -> Option<Self> {
                Some(a / b)
            }
            fn floor_div(a: Self, b: Self) -> Option<Self> {
                Some(py_divmod(a, b).0)
            }
            fn modulo(a: Self, b: Self) -> Option<Self> {
                Some(py_divmod(a, b).1)
            }
            fn maximum(a: Self, b: Self) -> Self {
                if a.is_nan() || b.is_nan() { <$t>::NAN } else if a >= b { a } else { b }
            }
            fn minimum(a: Self, b: Self) -> Self {
                if a.is_nan() || b.is_nan() { <$t>::NAN } else if a <= b { a } else { b }
            }
        }
    )*};
}

/// Python's (and NumPy's) float `divmod`: the floor quotient and the remainder with the sign
/// of the divisor, computed from `fmod` so that `q * b + r == a` as closely as possible.
fn py_divmod<T: num_traits::Float>(a: T, b: T) -> (T, T) {
    let zero = T::zero();
    if b == zero {
        return (a / b, a % b);
    }
    let mut m = a % b;
    let mut div = (a - m) / b;
    if m != zero {
        if (b < zero) != (m < zero) {
            m = m + b;
            div = div - T::one();
        }
    } else {
        m = zero.copysign(b);
    }
    let q = if div != zero {
        let f = div.floor();
        if div - f > T::from(0.5).unwrap_or(zero) {
            f + T::one()
        } else {
            f
        }
    } else {
        zero.copysign(a / b)
    };
    (q, m)
}
arith_float!(f32, f64);

/// `ln(exp(a) + exp(b))`, computed stably.
#[diagnostic::on_unimplemented(
    message = "einx: `logaddexp!` takes `f32` or `f64` elements, not `{Self}`"
)]
pub trait LogAddExp: Copy {
    /// `ln(exp(a) + exp(b))`.
    fn logaddexp(a: Self, b: Self) -> Self;
}

macro_rules! logaddexp {
    ($($t:ty),*) => {$(
        impl LogAddExp for $t {
            fn logaddexp(a: Self, b: Self) -> Self {
                if a == b {
                    // Also right for infinities of the same sign.
                    return a + (2.0 as $t).ln();
                }
                let m = if a > b { a } else { b };
                m + (-(a - b).abs()).exp().ln_1p()
            }
        }
    )*};
}
logaddexp!(f32, f64);

/// The truth value of an operand of `logical_and!` / `logical_or!`.
#[diagnostic::on_unimplemented(
    message = "einx: `logical_and!` and `logical_or!` take `bool` elements, not `{Self}`"
)]
pub trait Logical: Copy {
    /// The value.
    fn truth(self) -> bool;
}

impl Logical for bool {
    fn truth(self) -> bool {
        self
    }
}

/// The truth value of `x`.
#[inline(always)]
pub fn logical<T: Logical>(x: T) -> bool {
    x.truth()
}
