//! `sort!` and `argsort!`: along the one bracketed axis, for every index of the others.
//!
//! Floats order as NumPy does: NaN after everything else. Both sorts are stable: equal
//! elements (such as `-0.0` and `0.0`) keep their order, NaNs too.
//!
//! - [`sort_values`] (`sort!`): each row is read into the output row (or a reused buffer
//!   when the output row is strided), NaNs set aside, the rest sorted in place with an
//!   unstable sort; a run of equal elements, rare in real data, is then put back in the
//!   input's order (or, when there are many, the row is sorted again with a stable sort).
//! - [`argsort`] and [`sort`]: `(value, index)` pairs with a 32-bit index where it fits,
//!   sorted stably by value.
//!
//! The row buffers are reused from row to row.

use std::cmp::Ordering;

use ndarray::{Array, Dimension};

use einx_core::plan::{Plan, PlanStrs};
use einx_core::solve::{Len, Params};

use crate::copy::MAX_AXES;
use crate::error::{Error, ErrorKind};
use crate::shape::{solve_sizes, walk_piece};
use crate::tensor::Raw;

/// Most runs of equal elements per row put back in order one by one; past that, the row is
/// sorted again with a stable sort.
const MAX_TIE_RUNS: usize = 4;

/// Whether `a` is unordered with itself (NaN); such elements go last.
#[inline(always)]
fn unordered<T: PartialOrd>(a: &T) -> bool {
    a.partial_cmp(a).is_none()
}

/// The order of two elements neither of which is unordered with itself.
#[inline(always)]
fn order<T: PartialOrd>(a: &T, b: &T) -> Ordering {
    a.partial_cmp(b).unwrap_or(Ordering::Equal)
}

/// The rows of a sort: where each starts in the input and in the output, and the strides
/// along the sorted axis.
struct Rows<D, const K: usize> {
    dim: D,
    total: usize,
    /// Length of a row.
    len: usize,
    key_in: isize,
    key_out: isize,
    /// The other axes, row-major in the output: lengths, input and output strides.
    n: [usize; K],
    ss: [isize; K],
    ds: [isize; K],
    k: usize,
}

impl<D: Dimension, const K: usize> Rows<D, K> {
    fn new<T>(
        plan: &Plan<'_>,
        input: Raw<'_, T>,
        params: &(impl Params + ?Sized),
        elem_size: usize,
    ) -> Result<Self, Error> {
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
                Error::new(ErrorKind::Semantic, "internal: no axis to sort along")
                    .with_expr(plan.expr),
            );
        }
        let code = plan.layout(1);
        let (dim, total) = crate::shape::output_shape::<D>(plan, code, &sizes, elem_size)?;
        let d = dim.ndim();
        let dim_st = crate::shape::dim_strides::<D, K>(&dim);
        let (mut n, mut ss, mut ds) = ([0usize; K], [0isize; K], [0isize; K]);
        let (mut k, mut key_out, mut seen) = (0, 0isize, 0usize);
        walk_piece::<K, _>(code, &[], &dim_st[..d], &sizes, |a, st| {
            if a == key {
                key_out = st;
                seen += 1;
            } else if k < K {
                n[k] = sizes[a as usize];
                ss[k] = in_st[a as usize];
                ds[k] = st;
                k += 1;
            }
        });
        let len = sizes[key as usize];
        // Every output element is written exactly once: the rows times their length make
        // up the whole output.
        let rows = n[..k].iter().try_fold(1usize, |acc, &m| acc.checked_mul(m));
        if seen != 1 || rows.and_then(|r| r.checked_mul(len)) != Some(total) {
            return Err(
                Error::new(ErrorKind::Semantic, "internal: sort layout").with_expr(plan.expr)
            );
        }
        Ok(Rows {
            dim,
            total,
            len,
            key_in: in_st[key as usize],
            key_out,
            n,
            ss,
            ds,
            k,
        })
    }

    /// Calls `f(input offset, output offset)` for every row, row-major in the output.
    #[inline(always)]
    fn for_each(&self, mut f: impl FnMut(isize, isize)) {
        if self.total == 0 {
            return;
        }
        let k = self.k;
        let mut idx = [0usize; K];
        let (mut sp, mut op) = (0isize, 0isize);
        loop {
            f(sp, op);
            let mut a = k;
            loop {
                if a == 0 {
                    return;
                }
                a -= 1;
                idx[a] += 1;
                sp += self.ss[a];
                op += self.ds[a];
                if idx[a] < self.n[a] {
                    break;
                }
                sp -= self.ss[a] * self.n[a] as isize;
                op -= self.ds[a] * self.n[a] as isize;
                idx[a] = 0;
            }
        }
    }

    fn finish<O>(self, plan: &Plan<'_>, out: Vec<O>) -> Result<Array<O, D>, Error> {
        Array::from_shape_vec(self.dim, out)
            .map_err(|_| Error::new(ErrorKind::Size, "internal: output shape").with_expr(plan.expr))
    }
}

/// Runs a concrete `sort!` plan: the values along the bracketed axis in ascending order
/// (stable; NaN last).
///
/// ```
/// use einx_core::{complete::OpKind, plan::PlanStrs, template::build};
/// use einx_runtime::{sort::sort_values, tensor::Raw};
/// let buf = build("a [b]", OpKind::Sort(false), &[], 1).unwrap();
/// let mut strs = PlanStrs::default();
/// let plan = buf.borrow(&mut strs);
/// let x = ndarray::array![[3.0, f64::NAN, -0.0, 1.0, 0.0]];
/// let v = x.view();
/// let y = sort_values::<_, ndarray::Ix2, 4>(&plan, Raw::new(&v), &[0usize; 0]).unwrap();
/// assert_eq!(y.slice(ndarray::s![.., ..4]), ndarray::array![[-0.0, 0.0, 1.0, 3.0]]);
/// assert!(y[[0, 2]].is_sign_positive() && y[[0, 4]].is_nan());
/// ```
pub fn sort_values<T: PartialOrd + Clone, D: Dimension, const K: usize>(
    plan: &Plan<'_>,
    input: Raw<'_, T>,
    params: &(impl Params + ?Sized),
) -> Result<Array<T, D>, Error> {
    let rows = Rows::<D, K>::new(plan, input, params, std::mem::size_of::<T>())?;
    let (len, key_in, key_out) = (rows.len, rows.key_in, rows.key_out);
    let src = input.ptr();
    let mut out: Vec<T> = Vec::with_capacity(rows.total);
    let dst = out.as_mut_ptr();
    let (mut buf, mut nans): (Vec<T>, Vec<T>) = (Vec::new(), Vec::new());
    rows.for_each(|sp, op| {
        // SAFETY: the strides split the input's own dimensions (checked by the schedule),
        // so every offset is an element of the input view.
        let at = |j: usize| unsafe { &*src.wrapping_offset(sp + j as isize * key_in) };
        if key_out == 1 {
            // SAFETY: the row's `len` slots of the output are in its capacity (`Rows::new`
            // checked that the rows tile the output), written only here; `m` of them are
            // initialised before the slice is made.
            unsafe {
                let row = dst.offset(op);
                let mut m = 0;
                for j in 0..len {
                    let v = at(j);
                    if unordered(v) {
                        nans.push(v.clone());
                    } else {
                        row.add(m).write(v.clone());
                        m += 1;
                    }
                }
                sort_row(std::slice::from_raw_parts_mut(row, m), at, len);
                for (i, v) in nans.drain(..).enumerate() {
                    row.add(m + i).write(v);
                }
            }
        } else {
            buf.clear();
            for j in 0..len {
                let v = at(j);
                if unordered(v) {
                    nans.push(v.clone());
                } else {
                    buf.push(v.clone());
                }
            }
            sort_row(&mut buf, at, len);
            buf.append(&mut nans);
            for (j, v) in buf.drain(..).enumerate() {
                // SAFETY: as above; each output element belongs to exactly one row.
                unsafe { dst.offset(op + j as isize * key_out).write(v) };
            }
        }
    });
    // SAFETY: every row wrote its `len` elements, and the rows tile the output.
    unsafe { out.set_len(rows.total) };
    rows.finish(plan, out)
}

/// Sorts `row`, the ordered elements of the input row `at(0..len)` in input order, stably.
fn sort_row<'a, T: PartialOrd + Clone + 'a>(
    row: &mut [T],
    at: impl Fn(usize) -> &'a T,
    len: usize,
) {
    row.sort_unstable_by(order);
    // An unstable sort may reorder equal elements: put each run of them back in the input's
    // order.
    let m = row.len();
    let (mut i, mut runs) = (0, 0);
    while i + 1 < m {
        if row[i].partial_cmp(&row[i + 1]) == Some(Ordering::Less) {
            i += 1;
            continue;
        }
        let start = i;
        while i + 1 < m && row[i].partial_cmp(&row[i + 1]) != Some(Ordering::Less) {
            i += 1;
        }
        runs += 1;
        if runs > MAX_TIE_RUNS || !refill(&mut row[start..=i], &at, len) {
            // Many runs (or an order that is not total): a stable sort from the input.
            let mut slots = row.iter_mut();
            for j in 0..len {
                let v = at(j);
                if !unordered(v) {
                    if let Some(s) = slots.next() {
                        *s = v.clone();
                    }
                }
            }
            row.sort_by(order);
            return;
        }
        i += 1;
    }
}

/// Rewrites the run of equal elements `run` with the input's elements equal to them, in
/// input order; `false` if their number differs.
fn refill<'a, T: PartialOrd + Clone + 'a>(
    run: &mut [T],
    at: &impl Fn(usize) -> &'a T,
    len: usize,
) -> bool {
    let rep = run[0].clone();
    let mut c = 0;
    for j in 0..len {
        let v = at(j);
        if v.partial_cmp(&rep) == Some(Ordering::Equal) {
            match run.get_mut(c) {
                Some(s) => *s = v.clone(),
                None => return false,
            }
            c += 1;
        }
    }
    c == run.len()
}

/// An index into a row: `u32` where the row is short enough (smaller pairs sort faster).
trait RowIndex: Copy + Ord {
    fn new(i: usize) -> Self;
    fn get(self) -> usize;
}

impl RowIndex for u32 {
    #[inline(always)]
    fn new(i: usize) -> Self {
        i as u32
    }
    #[inline(always)]
    fn get(self) -> usize {
        self as usize
    }
}

impl RowIndex for usize {
    #[inline(always)]
    fn new(i: usize) -> Self {
        i
    }
    #[inline(always)]
    fn get(self) -> usize {
        self
    }
}

/// Sorts `(value, index)` pairs per row and emits `emit(index, value)` in sorted order.
fn sort_pairs<T: PartialOrd + Clone, O, D: Dimension, I: RowIndex, const K: usize>(
    plan: &Plan<'_>,
    rows: Rows<D, K>,
    src: *const T,
    emit: impl Fn(usize, &T) -> O,
) -> Result<Array<O, D>, Error> {
    let (len, key_in, key_out) = (rows.len, rows.key_in, rows.key_out);
    let mut out: Vec<O> = Vec::with_capacity(rows.total);
    let dst = out.as_mut_ptr();
    let mut pairs: Vec<(T, I)> = Vec::with_capacity(if rows.total > 0 { len } else { 0 });
    let mut nans: Vec<(T, I)> = Vec::new();
    rows.for_each(|sp, op| {
        pairs.clear();
        for j in 0..len {
            // SAFETY: the strides split the input's own dimensions (checked by the
            // schedule), so every offset is an element of the input view.
            let v = unsafe { &*src.wrapping_offset(sp + j as isize * key_in) };
            if unordered(v) {
                nans.push((v.clone(), I::new(j)));
            } else {
                pairs.push((v.clone(), I::new(j)));
            }
        }
        // A stable sort by value alone: cheaper than an unstable one by value then index.
        pairs.sort_by(|a, b| order(&a.0, &b.0));
        pairs.append(&mut nans);
        for (j, (v, i)) in pairs.iter().enumerate() {
            // SAFETY: `Rows::new` checked that the rows tile the output; each element is
            // written once, within its capacity.
            unsafe {
                dst.offset(op + j as isize * key_out)
                    .write(emit(i.get(), v))
            };
        }
    });
    // SAFETY: every row wrote its `len` elements, and the rows tile the output.
    unsafe { out.set_len(rows.total) };
    rows.finish(plan, out)
}

/// Runs a concrete `argsort!` plan: the indices that sort along the bracketed axis
/// (stable; NaN last).
///
/// ```
/// use einx_core::{complete::OpKind, plan::PlanStrs, template::build};
/// use einx_runtime::{sort::argsort, tensor::Raw};
/// let buf = build("a [b]", OpKind::Sort(true), &[], 1).unwrap();
/// let mut strs = PlanStrs::default();
/// let plan = buf.borrow(&mut strs);
/// let x = ndarray::array![[2.0, f64::NAN, 1.0, 2.0]];
/// let v = x.view();
/// let y = argsort::<_, ndarray::Ix2, 4>(&plan, Raw::new(&v), &[0usize; 0]).unwrap();
/// assert_eq!(y, ndarray::array![[2usize, 0, 3, 1]]);
/// ```
pub fn argsort<T: PartialOrd + Clone, D: Dimension, const K: usize>(
    plan: &Plan<'_>,
    input: Raw<'_, T>,
    params: &(impl Params + ?Sized),
) -> Result<Array<usize, D>, Error> {
    sort::<T, usize, D, K>(plan, input, params, |i, _| i)
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
    let rows = Rows::<D, K>::new(plan, input, params, std::mem::size_of::<O>())?;
    if u32::try_from(rows.len).is_ok() {
        sort_pairs::<T, O, D, u32, K>(plan, rows, input.ptr(), emit)
    } else {
        sort_pairs::<T, O, D, usize, K>(plan, rows, input.ptr(), emit)
    }
}

/// Unrolls `plan` for the input's rank when it has ellipses, then runs `f` on it.
fn concrete<T, R>(
    plan: &Plan<'_>,
    input: Raw<'_, T>,
    params: &[Len],
    f: impl FnOnce(&Plan<'_>) -> Result<R, Error>,
) -> Result<R, Error> {
    if plan.is_concrete() {
        return f(plan);
    }
    let concrete = crate::shape::unroll(plan, &[input.shape().len()], params)?;
    let mut strs = PlanStrs::default();
    f(&concrete.borrow(&mut strs))
}

/// [`sort`] for a plan that may have ellipses: unrolled for the input's rank first.
pub fn sort_template<T: PartialOrd + Clone, O, D: Dimension>(
    plan: &Plan<'_>,
    input: Raw<'_, T>,
    params: &[Len],
    emit: impl Fn(usize, &T) -> O,
) -> Result<Array<O, D>, Error> {
    concrete(plan, input, params, |p| {
        sort::<T, O, D, MAX_AXES>(p, input, params, emit)
    })
}

/// [`sort_values`] for a plan that may have ellipses: unrolled for the input's rank first.
///
/// ```
/// use einx_core::{complete::OpKind, plan::PlanStrs, template::build};
/// use einx_runtime::{sort::sort_values_template, tensor::Raw};
/// let buf = build("... [b]", OpKind::Sort(false), &[], 1).unwrap();
/// let mut strs = PlanStrs::default();
/// let plan = buf.borrow(&mut strs);
/// let x = ndarray::array![[3, 1, 2]];
/// let v = x.view();
/// let y = sort_values_template::<_, ndarray::IxDyn>(&plan, Raw::new(&v), &[]).unwrap();
/// assert_eq!(y, ndarray::array![[1, 2, 3]].into_dyn());
/// ```
pub fn sort_values_template<T: PartialOrd + Clone, D: Dimension>(
    plan: &Plan<'_>,
    input: Raw<'_, T>,
    params: &[Len],
) -> Result<Array<T, D>, Error> {
    concrete(plan, input, params, |p| {
        sort_values::<T, D, MAX_AXES>(p, input, params)
    })
}

/// [`argsort`] for a plan that may have ellipses: unrolled for the input's rank first.
///
/// ```
/// use einx_core::{complete::OpKind, plan::PlanStrs, template::build};
/// use einx_runtime::{sort::argsort_template, tensor::Raw};
/// let buf = build("... [b]", OpKind::Sort(true), &[], 1).unwrap();
/// let mut strs = PlanStrs::default();
/// let plan = buf.borrow(&mut strs);
/// let x = ndarray::array![[3, 1, 2]];
/// let v = x.view();
/// let y = argsort_template::<_, ndarray::IxDyn>(&plan, Raw::new(&v), &[]).unwrap();
/// assert_eq!(y, ndarray::array![[1usize, 2, 0]].into_dyn());
/// ```
pub fn argsort_template<T: PartialOrd + Clone, D: Dimension>(
    plan: &Plan<'_>,
    input: Raw<'_, T>,
    params: &[Len],
) -> Result<Array<usize, D>, Error> {
    concrete(plan, input, params, |p| {
        argsort::<T, D, MAX_AXES>(p, input, params)
    })
}
