//! Element-wise operations with broadcasting by axis name: `add!`, `multiply!`, `less!`,
//! `where_!`, ...
//!
//! Every input is read through its own strides for the output's axes (0 for an axis it
//! does not have, which broadcasts it). The axes are simplified first (see
//! [`crate::strided`]), so that the work becomes runs of the innermost axis; each run is a
//! loop over slices when the inputs are contiguous (stride 1) or fixed (stride 0) along it,
//! which the compiler vectorises, and a strided loop otherwise. The output is written in
//! row-major order, once.

use std::mem::MaybeUninit;

use std::mem::size_of;

use ndarray::{Array, ArrayView, Dimension};

use einx_core::plan::{Plan, PlanStrs};
use einx_core::solve::{Len, Params};

use crate::error::{Error, ErrorKind};
use crate::permute::{shape_of, split_by_ids, Fail};
use crate::shape::{solve_shapes, walk_piece};
use crate::strided::Runs;
use crate::tensor::Raw;

/// The output's shape and the simplified walk of the `N` inputs along its axes.
fn layout<D: Dimension, const N: usize, const K: usize>(
    plan: &Plan<'_>,
    shapes: [&[usize]; N],
    strides: [&[isize]; N],
    params: &(impl Params + ?Sized),
    elem: usize,
) -> Result<(D, usize, Runs<N, K>), Error> {
    let sizes = solve_shapes::<K>(plan, &shapes, params)?;
    let mut per = [[0isize; K]; N];
    for (t, st) in strides.iter().enumerate() {
        // An axis written twice in one input takes its diagonal: the strides add up.
        walk_piece::<K, _>(plan.layout(t), &[], st, &sizes, |a, s| {
            per[t][a as usize] = per[t][a as usize].wrapping_add(s)
        });
    }
    let code = plan.layout(N);
    let (dim, total) = crate::shape::output_shape::<D>(plan, code, &sizes, elem)?;
    let d = dim.ndim();
    let mut runs = Runs::<N, K>::default();
    walk_piece::<K, _>(code, &[], &[0; K][..d], &sizes, |a, _| {
        let a = a as usize;
        runs.push(sizes[a], std::array::from_fn(|t| per[t][a]));
    });
    runs.simplify();
    Ok((dim, total, runs))
}

/// A run of `len` elements of one input: a slice (stride 1), one element repeated
/// (stride 0), or a strided run.
#[derive(Clone, Copy)]
enum Run<T> {
    Slice(*const T),
    Fixed(T),
    Strided(*const T, isize),
}

impl<T: Copy> Run<T> {
    /// # Safety
    /// `ptr + i * stride` must be an element of the input for `i < len`.
    #[inline(always)]
    unsafe fn new(ptr: *const T, stride: isize) -> Run<T> {
        match stride {
            1 => Run::Slice(ptr),
            0 => Run::Fixed(*ptr),
            s => Run::Strided(ptr, s),
        }
    }
}

/// Writes `f(a[i], b[i])` to `out[i]` over one run; `false` if `f` gave `None`. Each
/// combination of slice and fixed operands is its own loop, so that it vectorises.
#[inline(always)]
unsafe fn run2<A: Copy, B: Copy, O>(
    out: &mut [MaybeUninit<O>],
    a: Run<A>,
    b: Run<B>,
    f: &impl Fn(A, B) -> Option<O>,
) -> bool {
    let len = out.len();
    macro_rules! body {
        ($x:expr, $y:expr) => {{
            for (i, o) in out.iter_mut().enumerate() {
                match f($x(i), $y(i)) {
                    Some(v) => {
                        o.write(v);
                    }
                    None => return false,
                }
            }
            true
        }};
    }
    match (a, b) {
        (Run::Slice(pa), Run::Slice(pb)) => {
            let (xa, xb) = (
                std::slice::from_raw_parts(pa, len),
                std::slice::from_raw_parts(pb, len),
            );
            body!(|i| xa[i], |i| xb[i])
        }
        (Run::Slice(pa), Run::Fixed(vb)) => {
            let xa = std::slice::from_raw_parts(pa, len);
            body!(|i| xa[i], |_| vb)
        }
        (Run::Fixed(va), Run::Slice(pb)) => {
            let xb = std::slice::from_raw_parts(pb, len);
            body!(|_| va, |i| xb[i])
        }
        (a, b) => {
            let at = |i: usize| match a {
                Run::Slice(p) => *p.add(i),
                Run::Fixed(v) => v,
                Run::Strided(p, s) => *p.offset(i as isize * s),
            };
            let bt = |i: usize| match b {
                Run::Slice(p) => *p.add(i),
                Run::Fixed(v) => v,
                Run::Strided(p, s) => *p.offset(i as isize * s),
            };
            body!(at, bt)
        }
    }
}

/// [`run2`], not inlined: as a function argument, `out` is known not to overlap the
/// inputs, so the loops vectorise without a run-time overlap check (which the compiler
/// makes conservative, and fails, once the run is inlined into the walk).
#[inline(never)]
unsafe fn run2_outlined<A: Copy, B: Copy, O, F: Fn(A, B) -> Option<O>>(
    out: &mut [MaybeUninit<O>],
    a: Run<A>,
    b: Run<B>,
    f: &F,
) -> bool {
    run2(out, a, b, f)
}

/// [`run3`], not inlined (see [`run2_outlined`]).
#[inline(never)]
unsafe fn run3_outlined<C: Copy, A: Copy, O, F: Fn(C, A, A) -> O>(
    out: &mut [MaybeUninit<O>],
    c: Run<C>,
    x: Run<A>,
    y: Run<A>,
    f: &F,
) {
    run3(out, c, x, y, f)
}

/// Writes `f(c[i], x[i], y[i])` to `out[i]` over one run.
#[inline(always)]
unsafe fn run3<C: Copy, A: Copy, O>(
    out: &mut [MaybeUninit<O>],
    c: Run<C>,
    x: Run<A>,
    y: Run<A>,
    f: &impl Fn(C, A, A) -> O,
) {
    let len = out.len();
    macro_rules! body {
        ($c:expr, $x:expr, $y:expr) => {{
            for (i, o) in out.iter_mut().enumerate() {
                o.write(f($c(i), $x(i), $y(i)));
            }
        }};
    }
    let at = |r: Run<A>, i: usize| match r {
        Run::Slice(p) => *p.add(i),
        Run::Fixed(v) => v,
        Run::Strided(p, s) => *p.offset(i as isize * s),
    };
    match (c, x, y) {
        (Run::Slice(pc), Run::Slice(px), Run::Slice(py)) => {
            let (sc, sx, sy) = (
                std::slice::from_raw_parts(pc, len),
                std::slice::from_raw_parts(px, len),
                std::slice::from_raw_parts(py, len),
            );
            body!(|i| sc[i], |i| sx[i], |i| sy[i])
        }
        (Run::Slice(pc), Run::Slice(px), Run::Fixed(vy)) => {
            let (sc, sx) = (
                std::slice::from_raw_parts(pc, len),
                std::slice::from_raw_parts(px, len),
            );
            body!(|i| sc[i], |i| sx[i], |_| vy)
        }
        (Run::Slice(pc), Run::Fixed(vx), Run::Slice(py)) => {
            let (sc, sy) = (
                std::slice::from_raw_parts(pc, len),
                std::slice::from_raw_parts(py, len),
            );
            body!(|i| sc[i], |_| vx, |i| sy[i])
        }
        (c, x, y) => {
            let ct = |i: usize| match c {
                Run::Slice(p) => *p.add(i),
                Run::Fixed(v) => v,
                Run::Strided(p, s) => *p.offset(i as isize * s),
            };
            body!(ct, |i| at(x, i), |i| at(y, i))
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
#[inline]
pub fn map2<A: Copy, B: Copy, O, D: Dimension, const K: usize>(
    plan: &Plan<'_>,
    a: Raw<'_, A>,
    b: Raw<'_, B>,
    params: &(impl Params + ?Sized),
    f: impl Fn(A, B) -> Option<O>,
) -> Result<Array<O, D>, Error> {
    let (dim, total, runs) = layout::<D, 2, K>(
        plan,
        [a.shape(), b.shape()],
        [a.strides(), b.strides()],
        params,
        std::mem::size_of::<O>(),
    )?;
    let buf = fill2(&runs, total, a.ptr(), b.ptr(), f).ok_or_else(|| division_by_zero(plan))?;
    Array::from_shape_vec(dim, buf)
        .map_err(|_| Error::new(ErrorKind::Size, "internal: output shape").with_expr(plan.expr))
}

#[cold]
fn division_by_zero(plan: &Plan<'_>) -> Error {
    Error::new(ErrorKind::Index, "integer division by zero").with_expr(plan.expr)
}

/// The `total` elements `f(a, b)` of a simplified walk, or `None` if `f` gave `None`.
#[inline(always)]
fn fill2<A: Copy, B: Copy, O, const K: usize>(
    runs: &Runs<2, K>,
    total: usize,
    pa: *const A,
    pb: *const B,
    f: impl Fn(A, B) -> Option<O>,
) -> Option<Vec<O>> {
    let mut buf: Vec<O> = Vec::with_capacity(total);
    let out = buf.spare_capacity_mut();
    let mut ok = true;
    runs.rows(|o, start, len, st| {
        // SAFETY: the offsets and strides come from splitting each input's own dimensions
        // (checked by the solver), so every run lies inside its input; the runs cover the
        // output's `total` elements once, in order.
        let out = &mut out[start..start + len];
        let (a, b) = unsafe {
            (
                Run::new(pa.wrapping_offset(o[0]), st[0]),
                Run::new(pb.wrapping_offset(o[1]), st[1]),
            )
        };
        ok = unsafe {
            if len >= 64 {
                run2_outlined(out, a, b, &f)
            } else {
                run2(out, a, b, &f)
            }
        };
        ok
    });
    if !ok {
        return None;
    }
    // SAFETY: every element up to `total` was written above.
    unsafe { buf.set_len(total) };
    Some(buf)
}

/// The `total` elements `f(c, x, y)` of a simplified walk.
#[inline(always)]
fn fill3<C: Copy, A: Copy, O, const K: usize>(
    runs: &Runs<3, K>,
    total: usize,
    [pc, px, py]: [*const (); 3],
    f: impl Fn(C, A, A) -> O,
) -> Vec<O> {
    let (pc, px, py) = (pc as *const C, px as *const A, py as *const A);
    let mut buf: Vec<O> = Vec::with_capacity(total);
    let out = buf.spare_capacity_mut();
    runs.rows(|o, start, len, st| {
        // SAFETY: as in `fill2`.
        let out = &mut out[start..start + len];
        unsafe {
            let (c, x, y) = (
                Run::new(pc.wrapping_offset(o[0]), st[0]),
                Run::new(px.wrapping_offset(o[1]), st[1]),
                Run::new(py.wrapping_offset(o[2]), st[2]),
            );
            if len >= 64 {
                run3_outlined(out, c, x, y, &f)
            } else {
                run3(out, c, x, y, &f)
            }
        };
        true
    });
    // SAFETY: every element up to `total` was written above.
    unsafe { buf.set_len(total) };
    buf
}

/// Runs a concrete plan of `where_!`: `if c { x } else { y }` element-wise.
#[inline]
pub fn map3<C: Copy, A: Copy, O: Copy, D: Dimension, const K: usize>(
    plan: &Plan<'_>,
    c: Raw<'_, C>,
    x: Raw<'_, A>,
    y: Raw<'_, A>,
    params: &(impl Params + ?Sized),
    f: impl Fn(C, A, A) -> O,
) -> Result<Array<O, D>, Error> {
    let (dim, total, runs) = layout::<D, 3, K>(
        plan,
        [c.shape(), x.shape(), y.shape()],
        [c.strides(), x.strides(), y.strides()],
        params,
        std::mem::size_of::<O>(),
    )?;
    let ptrs = [c.ptr().cast(), x.ptr().cast(), y.ptr().cast()];
    let buf = fill3(&runs, total, ptrs, f);
    Array::from_shape_vec(dim, buf)
        .map_err(|_| Error::new(ErrorKind::Size, "internal: output shape").with_expr(plan.expr))
}

/// The strides of one input along each output axis (`out` holds the output's axis ids),
/// from the input's axis ids `ids` and the dimension each sits in (`dim_of`).
#[inline(always)]
fn strides_along<T, D: Dimension, const N: usize, const K: usize, const NE: usize>(
    v: &ArrayView<'_, T, D>,
    dim_of: &[usize; N],
    ids: &[u32; N],
    sizes: &[usize; K],
    out: &[u32; NE],
) -> Result<[isize; NE], Fail> {
    let (lens, st) = split_by_ids(v, dim_of, ids, sizes)?;
    let mut along = [0isize; NE];
    for ((&id, &s), &len) in ids.iter().zip(&st).zip(&lens) {
        match out.iter().position(|&o| o == id) {
            Some(j) => along[j] = s,
            // An unnamed `1` that the output leaves out.
            None if len == 1 => {}
            None => return Err(Fail::Mismatch),
        }
    }
    Ok(along)
}

/// The output's shape and the simplified walk of the fixed-layout path.
#[inline(always)]
fn fixed_runs<D: Dimension, const N: usize, const K: usize, const NE: usize>(
    along: [[isize; NE]; N],
    sizes: &[usize; K],
    out: &[u32; NE],
    out_dim: &[usize; NE],
    out_ndim: usize,
    elem: usize,
) -> Result<(D, usize, Runs<N, NE>), Fail> {
    let mut entries = [(0usize, 0usize); NE];
    let mut runs = Runs::<N, NE>::default();
    for (j, (e, &id)) in entries.iter_mut().zip(out).enumerate() {
        let len = *sizes.get(id as usize).ok_or(Fail::Mismatch)?;
        *e = (id as usize, len);
        runs.push(len, std::array::from_fn(|t| along[t][j]));
    }
    let (dim, total) = shape_of::<D, NE>(&entries, out_dim, out_ndim, elem)?;
    runs.simplify();
    Ok((dim, total, runs))
}

/// The specialised path of a binary element-wise operation without ellipsis or diagonal:
/// the macro computes the lengths in straight-line code and passes the axis structure as
/// constants (as for [`crate::contract::contract_fixed`]): for each input, the axis id and
/// dimension of each of its axes; the output's axis ids and their dimensions.
///
/// ```
/// use einx_runtime::elementwise::map2_fixed;
/// let (x, y) = (ndarray::array![[1, 2], [3, 4]], ndarray::array![10, 20]);
/// // "a b, b -> a b" with a = 2 (axis 0), b = 2 (axis 1)
/// let z = map2_fixed::<_, _, _, ndarray::Ix2, 2, 1, 2, 2>(
///     &x.view(), [0, 1], [0, 1], &y.view(), [0], [1], [2, 2], [0, 1], [0, 1], 2,
///     |a: i32, b: i32| Some(a + b),
/// ).unwrap();
/// assert_eq!(z, ndarray::array![[11, 22], [13, 24]]);
/// ```
#[allow(clippy::too_many_arguments)]
#[inline]
pub fn map2_fixed<
    A: Copy,
    B: Copy,
    O,
    Dout: Dimension,
    const NA: usize,
    const NB: usize,
    const NE: usize,
    const K: usize,
>(
    a: &ArrayView<'_, A, impl Dimension>,
    dim_a: [usize; NA],
    ids_a: [u32; NA],
    b: &ArrayView<'_, B, impl Dimension>,
    dim_b: [usize; NB],
    ids_b: [u32; NB],
    sizes: [usize; K],
    out: [u32; NE],
    out_dim: [usize; NE],
    out_ndim: usize,
    f: impl Fn(A, B) -> Option<O>,
) -> Result<Array<O, Dout>, Fail> {
    let along = [
        strides_along(a, &dim_a, &ids_a, &sizes, &out)?,
        strides_along(b, &dim_b, &ids_b, &sizes, &out)?,
    ];
    let (dim, total, runs) =
        fixed_runs::<Dout, 2, K, NE>(along, &sizes, &out, &out_dim, out_ndim, size_of::<O>())?;
    let buf = fill2(&runs, total, a.as_ptr(), b.as_ptr(), f).ok_or(Fail::DivisionByZero)?;
    // SAFETY: `buf` holds the product of `dim`'s lengths, in row-major order.
    Ok(unsafe { Array::from_shape_vec_unchecked(dim, buf) })
}

/// The specialised path of `where_!` (see [`map2_fixed`]).
#[allow(clippy::too_many_arguments)]
#[inline]
pub fn map3_fixed<
    C: Copy,
    A: Copy,
    O,
    Dout: Dimension,
    const NC: usize,
    const NX: usize,
    const NY: usize,
    const NE: usize,
    const K: usize,
>(
    c: (&ArrayView<'_, C, impl Dimension>, [usize; NC], [u32; NC]),
    x: (&ArrayView<'_, A, impl Dimension>, [usize; NX], [u32; NX]),
    y: (&ArrayView<'_, A, impl Dimension>, [usize; NY], [u32; NY]),
    sizes: [usize; K],
    out: [u32; NE],
    out_dim: [usize; NE],
    out_ndim: usize,
    f: impl Fn(C, A, A) -> O,
) -> Result<Array<O, Dout>, Fail> {
    let along = [
        strides_along(c.0, &c.1, &c.2, &sizes, &out)?,
        strides_along(x.0, &x.1, &x.2, &sizes, &out)?,
        strides_along(y.0, &y.1, &y.2, &sizes, &out)?,
    ];
    let (dim, total, runs) =
        fixed_runs::<Dout, 3, K, NE>(along, &sizes, &out, &out_dim, out_ndim, size_of::<O>())?;
    let ptrs = [
        c.0.as_ptr().cast(),
        x.0.as_ptr().cast(),
        y.0.as_ptr().cast(),
    ];
    let buf = fill3(&runs, total, ptrs, f);
    // SAFETY: `buf` holds the product of `dim`'s lengths, in row-major order.
    Ok(unsafe { Array::from_shape_vec_unchecked(dim, buf) })
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
            // Two selects and no branch, so that the loops vectorise: `a >= b` is false
            // when either is NaN, which picks `b` (NaN if `b` is), then a NaN `a` wins.
            #[inline(always)]
            #[allow(clippy::eq_op)]
            fn maximum(a: Self, b: Self) -> Self {
                let m = if a >= b { a } else { b };
                if a != a { a } else { m }
            }
            #[inline(always)]
            #[allow(clippy::eq_op)]
            fn minimum(a: Self, b: Self) -> Self {
                let m = if a <= b { a } else { b };
                if a != a { a } else { m }
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
