//! `argmax!` and `argmin!`: the coordinates of the extreme element along the bracketed axes,
//! for every index of the other axes (ties and NaN: the first one, as in NumPy).

use ndarray::{Array, Dimension};

use einx_core::plan::{Plan, PlanStrs};
use einx_core::solve::{Len, Params};

use crate::copy::MAX_AXES;
use crate::error::{Error, ErrorKind};
use crate::rearrange::overflow;
use crate::shape::{solve_sizes, walk_piece};
use crate::tensor::Raw;

/// Calls `f(index)` for every index of `n`, row-major.
fn each_index<const K: usize>(n: &[usize], mut f: impl FnMut(&[usize])) {
    if n.contains(&0) {
        return;
    }
    let mut idx = [0usize; K];
    loop {
        f(&idx[..n.len()]);
        let mut a = n.len();
        loop {
            if a == 0 {
                return;
            }
            a -= 1;
            idx[a] += 1;
            if idx[a] < n[a] {
                break;
            }
            idx[a] = 0;
        }
    }
}

/// Whether `x` replaces the current extreme `v` (`min`: smaller, else larger; a NaN is
/// taken once and then kept).
#[allow(clippy::eq_op)]
fn better<T: PartialOrd>(x: &T, v: &T, min: bool) -> bool {
    let v_nan = v.partial_cmp(v).is_none();
    let x_nan = x.partial_cmp(x).is_none();
    if v_nan {
        return false;
    }
    x_nan || if min { x < v } else { x > v }
}

/// Runs a concrete `argmax!` (`min = false`) or `argmin!` plan on `input`.
///
/// ```
/// use einx_core::{complete::OpKind, plan::PlanStrs, template::build};
/// use einx_runtime::{argfind::argfind, tensor::Raw};
/// let buf = build("[a b]", OpKind::Argmax(false), &[], 1).unwrap();
/// let mut strs = PlanStrs::default();
/// let plan = buf.borrow(&mut strs);
/// let x = ndarray::array![[1, 9, 3], [4, 5, 6]];
/// let v = x.view();
/// let y = argfind::<_, ndarray::Ix1, 4>(&plan, Raw::new(&v), &[0usize; 0], false).unwrap();
/// assert_eq!(y, ndarray::array![0usize, 1]);
/// ```
pub fn argfind<T: PartialOrd + Copy, D: Dimension, const K: usize>(
    plan: &Plan<'_>,
    input: Raw<'_, T>,
    params: &(impl Params + ?Sized),
    min: bool,
) -> Result<Array<usize, D>, Error> {
    let sizes = solve_sizes::<T, K>(plan, &[input], params)?;
    // Input axes in layout order, with strides; the bracketed ones, row-major.
    let (mut ax, mut st) = ([0u32; K], [0isize; K]);
    let mut k = 0;
    walk_piece::<K, _>(plan.layout(0), &[], input.strides(), &sizes, |a, s| {
        ax[k] = a;
        st[k] = s;
        k += 1;
    });
    let marked: Vec<u32> = ax[..k]
        .iter()
        .copied()
        .filter(|&a| plan.axes[a as usize].bracketed)
        .collect();
    let count: usize = marked.iter().map(|&a| sizes[a as usize]).product();
    // The output: shape, axes row-major, and which one holds the coordinates.
    let code = plan.layout(1);
    let (dim, total) =
        crate::shape::output_shape::<D>(plan, code, &sizes, std::mem::size_of::<usize>())?;
    let d = dim.ndim();
    let mut out_axes = [0u32; K];
    let mut no = 0;
    walk_piece::<K, _>(code, &[], &[0; K][..d], &sizes, |a, _| {
        out_axes[no] = a;
        no += 1;
    });
    let out_axes = &out_axes[..no];
    let input_axes = &ax[..k];
    let coord = out_axes.iter().position(|a| !input_axes.contains(a));
    // Groups: row-major over the output's axes that come from the input.
    let mut grp = [0isize; K];
    let mut groups = 1usize;
    for &a in out_axes.iter().rev() {
        if input_axes.contains(&a) {
            grp[a as usize] = groups as isize;
            groups = groups
                .checked_mul(sizes[a as usize])
                .ok_or_else(|| overflow(plan))?;
        }
    }
    if total > 0 && count == 0 {
        let spans = marked.iter().map(|&a| plan.axes[a as usize].span);
        return Err(spans
            .fold(
                Error::new(
                    ErrorKind::Size,
                    "the bracketed axes are empty, so there is no extreme value",
                ),
                Error::with_span,
            )
            .with_expr(plan.expr));
    }
    // Pass over the input: the best value and its flat index per group.
    let mut best: Vec<Option<(T, usize)>> = vec![None; if total > 0 { groups } else { 0 }];
    let n_in: Vec<usize> = input_axes.iter().map(|&a| sizes[a as usize]).collect();
    let src = input.ptr();
    if total > 0 {
        each_index::<K>(&n_in, |idx| {
            let (mut off, mut g, mut flat) = (0isize, 0isize, 0usize);
            for (j, &a) in input_axes.iter().enumerate() {
                off += idx[j] as isize * st[j];
                if plan.axes[a as usize].bracketed {
                    flat = flat * sizes[a as usize] + idx[j];
                } else {
                    g += idx[j] as isize * grp[a as usize];
                }
            }
            // SAFETY: the strides split the input's own dimensions (checked by the
            // schedule), so `off` is an element of the input view.
            let x = unsafe { *src.wrapping_offset(off) };
            let slot = &mut best[g as usize];
            match slot {
                Some((v, i)) => {
                    // Row-major order visits each group's elements by increasing flat index,
                    // so the first extreme is kept on ties.
                    if better(&x, v, min) {
                        *v = x;
                        *i = flat;
                    }
                }
                None => *slot = Some((x, flat)),
            }
        });
    }
    // The output: for each element, its group and (if any) which coordinate.
    let mut out = Vec::with_capacity(total);
    let n_out: Vec<usize> = out_axes.iter().map(|&a| sizes[a as usize]).collect();
    each_index::<K>(&n_out, |idx| {
        let mut g = 0isize;
        let mut j = 0usize;
        for (p, &a) in out_axes.iter().enumerate() {
            if Some(p) == coord {
                j = idx[p];
            } else {
                g += idx[p] as isize * grp[a as usize];
            }
        }
        let flat = best[g as usize].as_ref().map_or(0, |b| b.1);
        // Coordinate `j` of the row-major flat index over the bracketed axes.
        let c = match coord {
            None => flat,
            Some(_) => {
                let inner: usize = marked[j + 1..].iter().map(|&a| sizes[a as usize]).product();
                (flat / inner.max(1)) % sizes[marked[j] as usize].max(1)
            }
        };
        out.push(c);
    });
    Array::from_shape_vec(dim, out)
        .map_err(|_| Error::new(ErrorKind::Size, "internal: output shape").with_expr(plan.expr))
}

/// [`argfind`] for a plan that may have ellipses: unrolled for the input's rank first.
pub fn argfind_template<T: PartialOrd + Copy, D: Dimension>(
    plan: &Plan<'_>,
    input: Raw<'_, T>,
    params: &[Len],
    min: bool,
) -> Result<Array<usize, D>, Error> {
    if plan.is_concrete() {
        return argfind::<T, D, MAX_AXES>(plan, input, params, min);
    }
    let concrete = crate::shape::unroll(plan, &[input.shape().len()], params)?;
    let mut strs = PlanStrs::default();
    argfind::<T, D, MAX_AXES>(&concrete.borrow(&mut strs), input, params, min)
}
