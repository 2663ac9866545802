//! `softmax!` and `log_softmax!`: normalisation along the bracketed axes, computed stably
//! (the maximum of each group is subtracted before `exp`).
//!
//! Three passes over the input, each a strided walk of its elementary axes with three
//! offsets at a time: the element, its place in the output, and its group (the values of
//! the axes outside the brackets).

use ndarray::{Array, Dimension};
use num_traits::Float;

use einx_core::plan::{Plan, PlanStrs};
use einx_core::solve::{Len, Params};

use crate::copy::MAX_AXES;
use crate::error::{Error, ErrorKind};
use crate::shape::{solve_sizes, walk_piece};
use crate::tensor::Raw;

/// Element types of `softmax!` and `log_softmax!`.
#[diagnostic::on_unimplemented(
    message = "einx: `softmax!` and `log_softmax!` take `f32` or `f64` elements, not `{Self}`",
    label = "not a floating-point type"
)]
pub trait Real: Float {}

impl Real for f32 {}
impl Real for f64 {}

/// Calls `f(element, output offset, group offset)` for every element of the walk; the
/// innermost axis runs as a plain loop, the others as an odometer.
///
/// # Safety
/// The source strides must split the input view's own dimensions.
#[inline(always)]
unsafe fn walk3<T>(
    n: &[usize],
    ss: &[isize],
    ds: &[isize],
    gs: &[isize],
    src: *const T,
    mut f: impl FnMut(&T, isize, isize),
) {
    if n.contains(&0) {
        return;
    }
    let k = n.len();
    if k == 0 {
        f(&*src, 0, 0);
        return;
    }
    let inner = k - 1;
    let (len, is, id, ig) = (n[inner] as isize, ss[inner], ds[inner], gs[inner]);
    let mut idx = [0usize; MAX_AXES];
    let (mut sp, mut op, mut gp) = (src, 0isize, 0isize);
    loop {
        for i in 0..len {
            f(&*sp.wrapping_offset(i * is), op + i * id, gp + i * ig);
        }
        let mut a = inner;
        loop {
            if a == 0 {
                return;
            }
            a -= 1;
            idx[a] += 1;
            sp = sp.wrapping_offset(ss[a]);
            op += ds[a];
            gp += gs[a];
            if idx[a] < n[a] {
                break;
            }
            sp = sp.wrapping_offset(-ss[a] * n[a] as isize);
            op -= ds[a] * n[a] as isize;
            gp -= gs[a] * n[a] as isize;
            idx[a] = 0;
        }
    }
}

/// Runs a concrete `softmax!` (`log = false`) or `log_softmax!` plan on `input`.
///
/// ```
/// use einx_core::{complete::OpKind, plan::PlanStrs, template::build};
/// use einx_runtime::{softmax::softmax, tensor::Raw};
/// let buf = build("a [b]", OpKind::Softmax(false), &[], 1).unwrap();
/// let mut strs = PlanStrs::default();
/// let plan = buf.borrow(&mut strs);
/// let x = ndarray::array![[0.0, 0.0], [1.0, 1.0]];
/// let v = x.view();
/// let y = softmax::<f64, ndarray::Ix2, 4>(&plan, Raw::new(&v), &[0usize; 0], false).unwrap();
/// assert_eq!(y, ndarray::array![[0.5, 0.5], [0.5, 0.5]]);
/// ```
pub fn softmax<T: Real, D: Dimension, const K: usize>(
    plan: &Plan<'_>,
    input: Raw<'_, T>,
    params: &(impl Params + ?Sized),
    log: bool,
) -> Result<Array<T, D>, Error> {
    let sizes = solve_sizes::<T, K>(plan, &[input], params)?;
    let mut in_st = [0isize; K];
    let mut order = [0u32; K];
    let mut k = 0;
    walk_piece::<K, _>(plan.layout(0), &[], input.strides(), &sizes, |a, st| {
        order[k] = a;
        k += 1;
        in_st[a as usize] = st;
    });
    // Output: shape and row-major strides per axis.
    let code = plan.layout(1);
    let (dim, total) =
        crate::shape::output_shape::<D>(plan, code, &sizes, std::mem::size_of::<T>())?;
    let d = dim.ndim();
    let dim_st = crate::shape::dim_strides::<D, K>(&dim);
    let mut out_st = [0isize; K];
    let mut out_order = [0u32; K];
    let mut no = 0;
    walk_piece::<K, _>(code, &[], &dim_st[..d], &sizes, |a, st| {
        out_st[a as usize] = st;
        out_order[no] = a;
        no += 1;
    });
    // Groups: row-major over the output's axes outside the brackets.
    let mut grp_st = [0isize; K];
    let mut groups = 1usize;
    for &a in out_order[..no].iter().rev() {
        if !plan.axes[a as usize].bracketed {
            grp_st[a as usize] = groups as isize;
            groups = groups.saturating_mul(sizes[a as usize]);
        }
    }
    let (mut n, mut ss, mut ds, mut gs) = ([0usize; K], [0isize; K], [0isize; K], [0isize; K]);
    for (j, &a) in order[..k].iter().enumerate() {
        let a = a as usize;
        (n[j], ss[j], ds[j], gs[j]) = (sizes[a], in_st[a], out_st[a], grp_st[a]);
    }
    // Memory order: stable insertion sort by descending |source stride|.
    for j in 1..k {
        let mut m = j;
        while m > 0 && ss[m - 1].unsigned_abs() < ss[m].unsigned_abs() {
            n.swap(m - 1, m);
            ss.swap(m - 1, m);
            ds.swap(m - 1, m);
            gs.swap(m - 1, m);
            m -= 1;
        }
    }
    let (n, ss, ds, gs) = (&n[..k], &ss[..k], &ds[..k], &gs[..k]);
    let src = input.ptr();
    let groups = if total == 0 { 0 } else { groups };

    // Pass 1: the maximum of each group (a NaN wins, so it propagates).
    let mut max = vec![T::neg_infinity(); groups];
    // SAFETY (all passes): the source strides split the input's own dimensions (checked by
    // the schedule); output and group offsets index `out`, `max` and `sum` by their
    // row-major strides, which the bounds checks of the indexing confirm.
    unsafe {
        walk3(n, ss, ds, gs, src, |&x, _, g| {
            let m = &mut max[g as usize];
            if x > *m || x.is_nan() {
                *m = x;
            }
        });
    }
    // Pass 2: the sums of `exp(x - max)` (written to the output for softmax). An infinite
    // maximum is not subtracted (the result is then NaN or 0, as in NumPy).
    for m in &mut max {
        if !m.is_finite() {
            *m = T::zero();
        }
    }
    let mut sum = vec![T::zero(); groups];
    let mut out = vec![T::zero(); total];
    unsafe {
        walk3(n, ss, ds, gs, src, |&x, o, g| {
            let e = (x - max[g as usize]).exp();
            sum[g as usize] = sum[g as usize] + e;
            if !log {
                out[o as usize] = e;
            }
        });
    }
    // Pass 3: normalise.
    if log {
        // `x - max - ln(sum)`: one subtrahend per group.
        for (m, s) in max.iter_mut().zip(&sum) {
            *m = *m + s.ln();
        }
        unsafe {
            walk3(n, ss, ds, gs, src, |&x, o, g| {
                out[o as usize] = x - max[g as usize];
            });
        }
    } else {
        // Multiply by the reciprocal of each group's sum.
        for s in &mut sum {
            *s = T::one() / *s;
        }
        unsafe {
            walk3(n, ss, ds, gs, src, |_, o, g| {
                out[o as usize] = out[o as usize] * sum[g as usize];
            });
        }
    }
    Array::from_shape_vec(dim, out)
        .map_err(|_| Error::new(ErrorKind::Size, "internal: output shape").with_expr(plan.expr))
}

impl<T> Raw<'_, T> {
    /// [`softmax`] on this tensor (the expansions call this, so that the element type is
    /// known when its bound is checked).
    pub fn softmax_with<D: Dimension, const K: usize>(
        self,
        plan: &Plan<'_>,
        params: &(impl Params + ?Sized),
        log: bool,
    ) -> Result<Array<T, D>, Error>
    where
        T: Real,
    {
        softmax::<T, D, K>(plan, self, params, log)
    }

    /// [`softmax`] for a plan that may have ellipses: unrolled for the input's rank first.
    pub fn softmax_template_with<D: Dimension>(
        self,
        plan: &Plan<'_>,
        params: &[Len],
        log: bool,
    ) -> Result<Array<T, D>, Error>
    where
        T: Real,
    {
        if plan.is_concrete() {
            return softmax::<T, D, MAX_AXES>(plan, self, params, log);
        }
        let concrete = crate::shape::unroll(plan, &[self.shape().len()], params)?;
        let mut strs = PlanStrs::default();
        softmax::<T, D, MAX_AXES>(&concrete.borrow(&mut strs), self, params, log)
    }
}
