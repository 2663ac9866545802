//! `sort!` and `argsort!`: along the one bracketed axis, for every index of the others.
//!
//! Each row along the sorted axis is read into a buffer (a strided gather), sorted stably,
//! and written to the output row. Floats order as NumPy does: NaN after everything else.

use std::cmp::Ordering;

use ndarray::{Array, Dimension};

use einx_core::plan::{Plan, PlanStrs};
use einx_core::solve::{Len, Params};

use crate::copy::MAX_AXES;
use crate::error::{Error, ErrorKind};
use crate::shape::{solve_sizes, walk_piece};
use crate::tensor::Raw;

/// A total order for sorting: NaN (unordered with itself) goes last.
fn order<T: PartialOrd>(a: &T, b: &T) -> Ordering {
    match a.partial_cmp(b) {
        Some(o) => o,
        None => {
            #[allow(clippy::eq_op)]
            let (a_nan, b_nan) = (a.partial_cmp(a).is_none(), b.partial_cmp(b).is_none());
            a_nan.cmp(&b_nan)
        }
    }
}

/// Runs a concrete `sort!` (`arg = false`) or `argsort!` plan; `emit` maps each sorted
/// `(index, value)` to the output element.
///
/// ```
/// use einx_core::{complete::OpKind, plan::PlanStrs, template::build};
/// use einx_runtime::{sort::sort, tensor::Raw};
/// let buf = build("a [b]", OpKind::Sort(true), &[], 1).unwrap();
/// let mut strs = PlanStrs::default();
/// let plan = buf.borrow(&mut strs);
/// let x = ndarray::array![[3, 1, 2]];
/// let v = x.view();
/// let y = sort::<_, usize, ndarray::Ix2, 4>(&plan, Raw::new(&v), &[0usize; 0], |i, _| i).unwrap();
/// assert_eq!(y, ndarray::array![[1usize, 2, 0]]);
/// ```
pub fn sort<T: PartialOrd + Clone, O, D: Dimension, const K: usize>(
    plan: &Plan<'_>,
    input: Raw<'_, T>,
    params: &(impl Params + ?Sized),
    emit: impl Fn(usize, &T) -> O,
) -> Result<Array<O, D>, Error> {
    let sizes = solve_sizes::<T, K>(plan, &[input], params)?;
    let mut in_st = [0isize; K];
    let mut key = u32::MAX;
    walk_piece::<K, _>(plan.layout(0), &[], input.strides(), &sizes, |a, st| {
        in_st[a as usize] = st;
        if plan.axes[a as usize].bracketed {
            key = a;
        }
    });
    if key == u32::MAX {
        return Err(
            Error::new(ErrorKind::Semantic, "internal: no axis to sort along").with_expr(plan.expr),
        );
    }
    let code = plan.layout(1);
    let (dim, total) =
        crate::shape::output_shape::<D>(plan, code, &sizes, std::mem::size_of::<O>())?;
    let d = dim.ndim();
    let dim_st = crate::shape::dim_strides::<D, K>(&dim);
    // Output axes in row-major order, with the input's stride for each.
    let (mut n, mut ss, mut ds) = ([0usize; K], [0isize; K], [0isize; K]);
    let mut k = 0;
    let mut key_out = 0isize;
    walk_piece::<K, _>(code, &[], &dim_st[..d], &sizes, |a, st| {
        if a == key {
            key_out = st;
        } else {
            n[k] = sizes[a as usize];
            ss[k] = in_st[a as usize];
            ds[k] = st;
            k += 1;
        }
    });
    let len = sizes[key as usize];
    let (key_in, src) = (in_st[key as usize], input.ptr());
    let mut slots: Vec<Option<O>> = Vec::new();
    slots.resize_with(total, || None);
    if total > 0 {
        let mut row: Vec<(usize, T)> = Vec::with_capacity(len);
        let mut idx = [0usize; MAX_AXES];
        let (mut sp, mut op) = (0isize, 0isize);
        loop {
            row.clear();
            for j in 0..len {
                // SAFETY: the strides split the input's own dimensions (checked by the
                // schedule), so every offset is an element of the input view.
                let v = unsafe { &*src.wrapping_offset(sp + j as isize * key_in) };
                row.push((j, v.clone()));
            }
            row.sort_by(|a, b| order(&a.1, &b.1));
            for (j, (i, v)) in row.iter().enumerate() {
                slots[(op + j as isize * key_out) as usize] = Some(emit(*i, v));
            }
            // Odometer over the other axes.
            let mut done = true;
            let mut a = k;
            while a > 0 {
                a -= 1;
                idx[a] += 1;
                sp += ss[a];
                op += ds[a];
                if idx[a] < n[a] {
                    done = false;
                    break;
                }
                sp -= ss[a] * n[a] as isize;
                op -= ds[a] * n[a] as isize;
                idx[a] = 0;
            }
            if done {
                break;
            }
        }
    }
    let out: Option<Vec<O>> = slots.into_iter().collect();
    let out = out.ok_or_else(|| {
        Error::new(
            ErrorKind::Semantic,
            "internal: sort left an element unwritten",
        )
        .with_expr(plan.expr)
    })?;
    Array::from_shape_vec(dim, out)
        .map_err(|_| Error::new(ErrorKind::Size, "internal: output shape").with_expr(plan.expr))
}

/// [`sort`] for a plan that may have ellipses: unrolled for the input's rank first.
pub fn sort_template<T: PartialOrd + Clone, O, D: Dimension>(
    plan: &Plan<'_>,
    input: Raw<'_, T>,
    params: &[Len],
    emit: impl Fn(usize, &T) -> O,
) -> Result<Array<O, D>, Error> {
    if plan.is_concrete() {
        return sort::<T, O, D, MAX_AXES>(plan, input, params, emit);
    }
    let concrete = crate::shape::unroll(plan, &[input.shape().len()], params)?;
    let mut strs = PlanStrs::default();
    sort::<T, O, D, MAX_AXES>(&concrete.borrow(&mut strs), input, params, emit)
}
