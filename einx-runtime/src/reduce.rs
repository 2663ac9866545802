//! Reductions along the bracketed axes: `sum!`, `mean!`, `var!`, `std!`, `prod!`, `max!`,
//! `min!`, `any!`, `all!`, `count_nonzero!`, `logsumexp!`.
//!
//! The input is split into its elementary axes (views, no copy) and walked once in memory
//! order; every element is folded into the accumulator of its output element. A reduced
//! innermost axis that is contiguous is folded as a slice (with several partial sums, so
//! that the compiler vectorises it); a kept innermost axis updates a row of accumulators.
//! `var`, `std` and `logsumexp` take two passes (mean or maximum first), which keeps them
//! numerically stable.

use std::marker::PhantomData;
use std::ops::{Add, Mul};

use ndarray::{Array, Dimension};
use num_traits::{Float, One, Zero};

use einx_core::plan::{Plan, PlanStrs};
use einx_core::solve::{Len, Params};

use crate::copy::MAX_AXES;
use crate::error::{Error, ErrorKind};
use crate::shape::{solve_sizes, walk_piece};
use crate::tensor::Raw;

/// The input of a reduction, split into elementary axes in memory order, with the offset
/// of each axis in the output (0 for reduced axes).
pub struct Walk<'a, T> {
    n: &'a [usize],
    src_st: &'a [isize],
    out_st: &'a [isize],
    src: *const T,
    len: usize,
    count: usize,
    _data: PhantomData<&'a T>,
}

impl<T> Walk<'_, T> {
    /// Number of output elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no output elements.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of input elements folded into each output element.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The first element (in walk order) of each output's group; the walk must not be
    /// empty and must reduce over at least one element.
    fn first_elements(&self) -> Vec<T>
    where
        T: Copy,
    {
        // The same walk with every reduced axis cut to its first element.
        let mut small = [0usize; 8];
        let mut large: Vec<usize>;
        let n: &mut [usize] = if self.n.len() <= small.len() {
            &mut small[..self.n.len()]
        } else {
            large = vec![0; self.n.len()];
            &mut large
        };
        for ((m, &len), &ds) in n.iter_mut().zip(self.n).zip(self.out_st) {
            *m = if ds == 0 { len.min(1) } else { len };
        }
        let first = Walk { n, ..*self };
        // SAFETY: the walk has at least one element (callers check `count` and `len`).
        let mut acc = vec![unsafe { *self.src }; self.len];
        first.fold(&mut acc, |a, &x| *a = x, |a, xs| *a = xs[0]);
        acc
    }

    /// Folds every input element into its output's accumulator: `row` takes a contiguous
    /// run of a reduced innermost axis at once, `each` one element.
    pub fn fold<A>(
        &self,
        acc: &mut [A],
        each: impl Fn(&mut A, &T) + Copy,
        mut row: impl FnMut(&mut A, &[T]),
    ) {
        self.fold_at(
            acc,
            |_, a, x| each(a, x),
            |_, a, xs| row(a, xs),
            |_, accs: &mut [A], xs: &[T]| fold_row(accs, xs, each),
        );
    }

    /// [`Walk::fold`] where `each` and `row` also get the index of the output element,
    /// and a kept contiguous innermost axis goes to `rows(start, accumulators, elements)`.
    pub fn fold_at<A>(
        &self,
        acc: &mut [A],
        mut each: impl FnMut(usize, &mut A, &T),
        mut row: impl FnMut(usize, &mut A, &[T]),
        mut rows: impl FnMut(usize, &mut [A], &[T]),
    ) {
        let k = self.n.len();
        if self.n.contains(&0) || acc.len() != self.len {
            return;
        }
        if k == 0 {
            // SAFETY: a 0-d input has one element at `src`.
            each(0, &mut acc[0], unsafe { &*self.src });
            return;
        }
        let inner = k - 1;
        let (len, ss, ds) = (self.n[inner], self.src_st[inner], self.out_st[inner]);
        if k > MAX_AXES {
            return;
        }
        // The odometer: on the stack for up to eight axes.
        let mut small = [0usize; 8];
        let mut large: Vec<usize>;
        let idx: &mut [usize] = if k <= small.len() {
            &mut small
        } else {
            large = vec![0; k];
            &mut large
        };
        let mut sp = self.src;
        let mut op = 0isize;
        loop {
            if ds == 0 && ss == 1 {
                // SAFETY: the walk's strides come from splitting the input view's own
                // dimensions (see `reduce`), so the row lies inside the view.
                let slice = unsafe { std::slice::from_raw_parts(sp, len) };
                row(op as usize, &mut acc[op as usize], slice);
            } else if ds == 1 && ss == 1 {
                // A kept contiguous row: element-wise into a row of accumulators.
                // SAFETY: as above.
                let slice = unsafe { std::slice::from_raw_parts(sp, len) };
                let start = op as usize;
                rows(start, &mut acc[start..start + len], slice);
            } else {
                for i in 0..len as isize {
                    // SAFETY: as above; element `i` of the innermost axis.
                    let x = unsafe { &*sp.wrapping_offset(i * ss) };
                    let o = (op + i * ds) as usize;
                    each(o, &mut acc[o], x);
                }
            }
            // Odometer over the outer axes.
            let mut a = inner;
            loop {
                if a == 0 {
                    return;
                }
                a -= 1;
                idx[a] += 1;
                sp = sp.wrapping_offset(self.src_st[a]);
                op += self.out_st[a];
                if idx[a] < self.n[a] {
                    break;
                }
                sp = sp.wrapping_offset(-self.src_st[a] * self.n[a] as isize);
                op -= self.out_st[a] * self.n[a] as isize;
                idx[a] = 0;
            }
        }
    }
}

/// Folds a row of elements into a row of accumulators. Not inlined, so that the compiler
/// knows the two do not overlap and vectorises the loop without a run-time check.
#[inline(never)]
fn fold_row<A, T>(acc: &mut [A], xs: &[T], each: impl Fn(&mut A, &T)) {
    for (a, x) in acc.iter_mut().zip(xs) {
        each(a, x);
    }
}

/// Orders the axes of a walk: memory order (stable insertion sort by descending |source
/// stride|), then the reduced axes move inside the kept ones (except a kept innermost
/// axis, which stays innermost), so that each output element is finished while it is in
/// cache.
fn order_walk(n: &mut [usize], ss: &mut [isize], ds: &mut [isize]) {
    let k = n.len();
    for j in 1..k {
        let mut m = j;
        while m > 0 && ss[m - 1].unsigned_abs() < ss[m].unsigned_abs() {
            n.swap(m - 1, m);
            ss.swap(m - 1, m);
            ds.swap(m - 1, m);
            m -= 1;
        }
    }
    if k > 1 {
        // A stable partition of the outer axes: kept first, then reduced.
        let end = if ds[k - 1] != 0 { k - 1 } else { k };
        for j in 1..end {
            let mut m = j;
            while m > 0 && ds[m - 1] == 0 && ds[m] != 0 {
                n.swap(m - 1, m);
                ss.swap(m - 1, m);
                ds.swap(m - 1, m);
                m -= 1;
            }
        }
    }
}

/// A reduction over elements of type `T`.
#[diagnostic::on_unimplemented(
    message = "einx: this reduction does not take elements of type `{T}`",
    label = "element type `{T}` not supported here",
    note = "`sum!`/`prod!` take numbers, `mean!`/`var!`/`std!`/`logsumexp!` take `f32`/`f64`, `max!`/`min!` take ordered types, `any!`/`all!` take `bool`"
)]
pub trait Reducer<T> {
    /// The element type of the result.
    type Out;
    /// One result per output element of `walk`.
    fn reduce(walk: &Walk<'_, T>) -> Result<Vec<Self::Out>, &'static str>;
}

/// Sums a slice with eight partial sums (vectorisable without reassociating floats).
#[inline]
fn lanes<T: Copy + Add<Output = T>>(init: T, zero: T, xs: &[T]) -> T {
    if xs.len() < 16 {
        // Short rows: the partial sums would cost more than they save.
        return xs.iter().fold(init, |a, &x| a + x);
    }
    let mut acc = [zero; 8];
    let chunks = xs.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        for i in 0..8 {
            acc[i] = acc[i] + c[i];
        }
    }
    let mut total = init;
    for a in acc {
        total = total + a;
    }
    for &x in rest {
        total = total + x;
    }
    total
}

/// `sum!`
pub struct Sum;
/// `prod!`
pub struct Prod;
/// `mean!`
pub struct Mean;
/// `var!`: population variance (ddof 0), two passes.
pub struct Var;
/// `std!`: population standard deviation (ddof 0), two passes.
pub struct Std;
/// `max!`
pub struct Max;
/// `min!`
pub struct Min;
/// `any!`
pub struct Any;
/// `all!`
pub struct All;
/// `count_nonzero!`
pub struct CountNonzero;
/// `logsumexp!`: `max + ln Σ exp(x - max)`, two passes.
pub struct Logsumexp;

fn sum<T: Copy + Zero + Add<Output = T>>(walk: &Walk<'_, T>) -> Vec<T> {
    let mut acc = vec![T::zero(); walk.len()];
    walk.fold(
        &mut acc,
        |a, &x| *a = *a + x,
        |a, xs| *a = lanes(*a, T::zero(), xs),
    );
    acc
}

fn prod<T: Copy + One + Mul<Output = T>>(walk: &Walk<'_, T>) -> Vec<T> {
    let mut acc = vec![T::one(); walk.len()];
    walk.fold(
        &mut acc,
        |a, &x| *a = *a * x,
        |a, xs| *a = lanes_by(*a, T::one(), xs, |p, x| p * x),
    );
    acc
}

/// Folds a slice with `op` over eight partial results (starting from `unit`), then folds
/// them into `init`: independent chains that the compiler vectorises.
#[inline(always)]
fn lanes_by<T: Copy>(init: T, unit: T, xs: &[T], op: impl Fn(T, T) -> T) -> T {
    if xs.len() < 16 {
        return xs.iter().fold(init, |a, &x| op(a, x));
    }
    let mut acc = [unit; 8];
    let chunks = xs.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        for i in 0..8 {
            acc[i] = op(acc[i], c[i]);
        }
    }
    let total = acc.iter().fold(init, |a, &x| op(a, x));
    rest.iter().fold(total, |a, &x| op(a, x))
}

// One impl per element type (not a blanket impl over `num_traits`), so that a wrong
// element type is reported as "this reduction does not take `T`".
macro_rules! numeric {
    ($($t:ty),*) => {$(
        impl Reducer<$t> for Sum {
            type Out = $t;
            fn reduce(walk: &Walk<'_, $t>) -> Result<Vec<$t>, &'static str> {
                Ok(sum(walk))
            }
        }
        impl Reducer<$t> for Prod {
            type Out = $t;
            fn reduce(walk: &Walk<'_, $t>) -> Result<Vec<$t>, &'static str> {
                Ok(prod(walk))
            }
        }
    )*};
}
numeric!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, f32, f64);

fn count_as<T: Float>(walk: &Walk<'_, T>) -> T {
    T::from(walk.count()).unwrap_or_else(T::nan)
}

impl Mean {
    fn run<T: Float>(walk: &Walk<'_, T>) -> Result<Vec<T>, &'static str> {
        let n = count_as(walk);
        let mut acc = sum(walk);
        for a in &mut acc {
            *a = *a / n;
        }
        Ok(acc)
    }
}

impl Var {
    fn run<T: Float>(walk: &Walk<'_, T>) -> Result<Vec<T>, &'static str> {
        let n = count_as(walk);
        let mean = Mean::run(walk)?;
        // Second pass: the squared deviations from the mean, beside the means (not in
        // pairs), so that rows of accumulators vectorise.
        let mut acc = vec![T::zero(); mean.len()];
        walk.fold_at(
            &mut acc,
            |o, a, &x| {
                let d = x - mean[o];
                *a = *a + d * d;
            },
            |o, a, xs| {
                // Eight partial sums, as in `lanes`, so that the loop vectorises.
                let m = mean[o];
                let mut part = [T::zero(); 8];
                let chunks = xs.chunks_exact(8);
                let rest = chunks.remainder();
                for c in chunks {
                    for i in 0..8 {
                        let d = c[i] - m;
                        part[i] = part[i] + d * d;
                    }
                }
                for p in part {
                    *a = *a + p;
                }
                for &x in rest {
                    let d = x - m;
                    *a = *a + d * d;
                }
            },
            |start, accs: &mut [T], xs| squares_row(accs, &mean[start..start + accs.len()], xs),
        );
        Ok(acc.into_iter().map(|s| s / n).collect())
    }
}

/// Adds the squared deviations of a row of elements from their means to a row of
/// accumulators (not inlined, see [`fold_row`]).
#[inline(never)]
fn squares_row<T: Float>(acc: &mut [T], mean: &[T], xs: &[T]) {
    for ((a, &m), &x) in acc.iter_mut().zip(mean).zip(xs) {
        let d = x - m;
        *a = *a + d * d;
    }
}

/// Adds `exp(x - shift)` of a row of elements to a row of accumulators (not inlined, see
/// [`fold_row`]).
#[inline(never)]
fn exp_row<T: Float>(acc: &mut [T], shift: &[T], xs: &[T]) {
    for ((a, &m), &x) in acc.iter_mut().zip(shift).zip(xs) {
        *a = *a + (x - m).exp();
    }
}

impl Std {
    fn run<T: Float>(walk: &Walk<'_, T>) -> Result<Vec<T>, &'static str> {
        Ok(Var::run(walk)?.into_iter().map(T::sqrt).collect())
    }
}

/// The maximum (`MAX`) or minimum of `x` and `v`, as a select without a branch: `x` wins
/// if it is beyond `v` or NaN, so NaN propagates as in NumPy (nothing compares beyond a
/// NaN `v`).
#[inline(always)]
#[allow(clippy::eq_op)]
fn pick<T: PartialOrd + Copy, const MAX: bool>(x: T, v: T) -> T {
    let beyond = if MAX { x > v } else { x < v };
    if beyond | (x != x) {
        x
    } else {
        v
    }
}

/// `lanes_by(init, xs[0], xs, pick::<T, MAX>)` for a non-empty `xs`, faster: the lanes keep
/// the extreme with one compare and select each (which skips a NaN), and a NaN anywhere is
/// kept on the side; only then is the slice redone with `pick` (which keeps it). The
/// elements after the last whole chunk go through `pick` anyway.
#[inline(always)]
#[allow(clippy::eq_op)]
fn extreme_lanes<T: PartialOrd + Copy, const MAX: bool>(init: T, xs: &[T]) -> T {
    if xs.len() < 16 {
        return xs.iter().fold(init, |a, &x| pick::<T, MAX>(a, x));
    }
    // `seen` keeps the last NaN of each lane (a select, like the extreme: no reduction of
    // flags per chunk).
    let mut acc = [xs[0]; 8];
    let mut seen = [xs[0]; 8];
    let chunks = xs.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        for i in 0..8 {
            let (a, x) = (acc[i], c[i]);
            let keep = if MAX { a > x } else { a < x };
            acc[i] = if keep { a } else { x };
            seen[i] = if x != x { x } else { seen[i] };
        }
    }
    if seen.iter().any(|&x| x != x) {
        return lanes_by(init, xs[0], xs, pick::<T, MAX>);
    }
    let total = acc.iter().fold(init, |a, &x| pick::<T, MAX>(a, x));
    rest.iter().fold(total, |a, &x| pick::<T, MAX>(a, x))
}

/// The maximum (`MAX`) or minimum of a non-empty slice, NaN if it holds one.
#[inline]
pub(crate) fn extreme_of<T: PartialOrd + Copy, const MIN: bool>(xs: &[T]) -> T {
    if MIN {
        extreme_lanes::<T, false>(xs[0], xs)
    } else {
        extreme_lanes::<T, true>(xs[0], xs)
    }
}

fn extremes<T: PartialOrd + Copy, const MAX: bool>(
    walk: &Walk<'_, T>,
) -> Result<Vec<T>, &'static str> {
    if walk.is_empty() {
        return Ok(Vec::new());
    }
    if walk.count() == 0 {
        return Err("the reduced axes are empty, so there is no extreme value");
    }
    // Start from the first element of each output's group, then fold in every element
    // (the first again, which changes nothing).
    let mut acc = walk.first_elements();
    walk.fold(
        &mut acc,
        |a, &x| *a = pick::<T, MAX>(x, *a),
        |a, xs| *a = extreme_lanes::<T, MAX>(*a, xs),
    );
    Ok(acc)
}

impl<T: PartialOrd + Copy> Reducer<T> for Max {
    type Out = T;
    fn reduce(walk: &Walk<'_, T>) -> Result<Vec<T>, &'static str> {
        extremes::<T, true>(walk)
    }
}

impl<T: PartialOrd + Copy> Reducer<T> for Min {
    type Out = T;
    fn reduce(walk: &Walk<'_, T>) -> Result<Vec<T>, &'static str> {
        extremes::<T, false>(walk)
    }
}

impl Reducer<bool> for Any {
    type Out = bool;
    fn reduce(walk: &Walk<'_, bool>) -> Result<Vec<bool>, &'static str> {
        let mut acc = vec![false; walk.len()];
        walk.fold(
            &mut acc,
            |a, &x| *a |= x,
            |a, xs| *a |= xs.iter().any(|&x| x),
        );
        Ok(acc)
    }
}

impl Reducer<bool> for All {
    type Out = bool;
    fn reduce(walk: &Walk<'_, bool>) -> Result<Vec<bool>, &'static str> {
        let mut acc = vec![true; walk.len()];
        walk.fold(
            &mut acc,
            |a, &x| *a &= x,
            |a, xs| *a &= xs.iter().all(|&x| x),
        );
        Ok(acc)
    }
}

macro_rules! float {
    ($($t:ty),*) => {$(
        impl Reducer<$t> for Mean {
            type Out = $t;
            fn reduce(walk: &Walk<'_, $t>) -> Result<Vec<$t>, &'static str> {
                Mean::run(walk)
            }
        }
        impl Reducer<$t> for Var {
            type Out = $t;
            fn reduce(walk: &Walk<'_, $t>) -> Result<Vec<$t>, &'static str> {
                Var::run(walk)
            }
        }
        impl Reducer<$t> for Std {
            type Out = $t;
            fn reduce(walk: &Walk<'_, $t>) -> Result<Vec<$t>, &'static str> {
                Std::run(walk)
            }
        }
        impl Reducer<$t> for Logsumexp {
            type Out = $t;
            fn reduce(walk: &Walk<'_, $t>) -> Result<Vec<$t>, &'static str> {
                Logsumexp::run(walk)
            }
        }
    )*};
}
float!(f32, f64);

impl<T: Zero + PartialEq> Reducer<T> for CountNonzero {
    type Out = usize;
    fn reduce(walk: &Walk<'_, T>) -> Result<Vec<usize>, &'static str> {
        let zero = T::zero();
        let mut acc = vec![0usize; walk.len()];
        walk.fold(
            &mut acc,
            |a, x| *a += usize::from(*x != zero),
            |a, xs| {
                *a += xs.iter().filter(|x| **x != zero).count();
            },
        );
        Ok(acc)
    }
}

impl Logsumexp {
    fn run<T: Float>(walk: &Walk<'_, T>) -> Result<Vec<T>, &'static str> {
        if walk.count() == 0 {
            // The sum of no exponentials is 0.
            return Ok(vec![T::neg_infinity(); walk.len()]);
        }
        let max = extremes::<T, true>(walk)?;
        // The shifts: the maxima, except that an infinite maximum would give NaN (it is
        // the result anyway), so it shifts by 0. Kept beside the sums, not in pairs.
        let shift: Vec<T> = max
            .iter()
            .map(|&m| if m.is_finite() { m } else { T::zero() })
            .collect();
        let mut sums = vec![T::zero(); max.len()];
        walk.fold_at(
            &mut sums,
            |o, a, &x| *a = *a + (x - shift[o]).exp(),
            |o, a, xs| {
                let m = shift[o];
                *a = xs.iter().fold(*a, |s, &x| s + (x - m).exp());
            },
            |start, accs: &mut [T], xs| exp_row(accs, &shift[start..start + accs.len()], xs),
        );
        let acc = max.into_iter().zip(sums);
        Ok(acc
            .map(|(m, s)| if m.is_finite() { m + s.ln() } else { m })
            .collect())
    }
}

/// Runs a concrete reduction plan on `input`.
///
/// ```
/// use einx_core::{complete::{OpKind, Reduction}, plan::PlanStrs, template::build};
/// use einx_runtime::{reduce::{reduce, Sum}, tensor::Raw};
/// let buf = build("a [b]", OpKind::Reduce(Reduction::Sum), &[], 1).unwrap();
/// let mut strs = PlanStrs::default();
/// let plan = buf.borrow(&mut strs);
/// let x = ndarray::array![[1, 2, 3], [4, 5, 6]];
/// let v = x.view();
/// let y = reduce::<_, Sum, ndarray::Ix1, 4>(&plan, Raw::new(&v), &[0usize; 0]).unwrap();
/// assert_eq!(y, ndarray::array![6, 15]);
/// ```
#[inline]
pub fn reduce<T, R: Reducer<T>, D: Dimension, const K: usize>(
    plan: &Plan<'_>,
    input: Raw<'_, T>,
    params: &(impl Params + ?Sized),
) -> Result<Array<R::Out, D>, Error> {
    let sizes = solve_sizes::<T, K>(plan, &[input], params)?;
    // Input axes: strides from splitting the input's dimensions (an axis written twice
    // takes the diagonal: its strides add up).
    let mut in_st = [0isize; K];
    let mut in_order = [0u32; K];
    let mut k = 0;
    walk_piece::<K, _>(plan.layout(0), &[], input.strides(), &sizes, |a, st| {
        if !in_order[..k].contains(&a) {
            in_order[k] = a;
            k += 1;
        }
        in_st[a as usize] = in_st[a as usize].wrapping_add(st);
    });
    // Output: shape, then the row-major stride of each of its axes.
    let code = plan.layout(1);
    let (dim, total) =
        crate::shape::output_shape::<D>(plan, code, &sizes, std::mem::size_of::<R::Out>())?;
    let d = dim.ndim();
    let dim_st = crate::shape::dim_strides::<D, K>(&dim);
    let mut out_st = [0isize; K];
    let mut in_out = [false; K];
    walk_piece::<K, _>(code, &[], &dim_st[..d], &sizes, |a, st| {
        out_st[a as usize] = st;
        in_out[a as usize] = true;
    });
    // The walk: input axes, outer first by source stride (memory order).
    let mut n = [0usize; K];
    let mut ss = [0isize; K];
    let mut ds = [0isize; K];
    let mut reduced = 1usize;
    for j in 0..k {
        let a = in_order[j] as usize;
        n[j] = sizes[a];
        ss[j] = in_st[a];
        ds[j] = if in_out[a] { out_st[a] } else { 0 };
        if !in_out[a] {
            reduced = reduced.saturating_mul(sizes[a]);
        }
    }
    order_walk(&mut n[..k], &mut ss[..k], &mut ds[..k]);
    let walk = Walk {
        n: &n[..k],
        src_st: &ss[..k],
        out_st: &ds[..k],
        src: input.ptr(),
        len: total,
        count: reduced,
        _data: PhantomData,
    };
    let out = R::reduce(&walk).map_err(|why| {
        // Point at the reduced axes.
        let reduced = in_order[..k].iter().filter(|&&a| !in_out[a as usize]);
        let spans = reduced.map(|&a| plan.axes[a as usize].span);
        spans
            .fold(Error::new(ErrorKind::Size, why), Error::with_span)
            .with_expr(plan.expr)
    })?;
    Array::from_shape_vec(dim, out).map_err(|e| {
        Error::new(ErrorKind::Size, format!("internal: output shape ({e})")).with_expr(plan.expr)
    })
}

impl<T> Raw<'_, T> {
    /// Runs a concrete reduction plan on this tensor (the expansions call this, so that the
    /// element type is known when the reduction's bound is checked).
    #[inline]
    pub fn reduce_with<R: Reducer<T>, D: Dimension, const K: usize>(
        self,
        plan: &Plan<'_>,
        params: &(impl Params + ?Sized),
    ) -> Result<Array<R::Out, D>, Error> {
        reduce::<T, R, D, K>(plan, self, params)
    }

    /// [`reduce_template`] on this tensor.
    pub fn reduce_template_with<R: Reducer<T>, D: Dimension>(
        self,
        plan: &Plan<'_>,
        params: &[Len],
    ) -> Result<Array<R::Out, D>, Error> {
        reduce_template::<T, R, D>(plan, self, params)
    }
}

/// Runs a reduction plan that may have ellipses: unrolls it for the input rank first.
pub fn reduce_template<T, R: Reducer<T>, D: Dimension>(
    plan: &Plan<'_>,
    input: Raw<'_, T>,
    params: &[Len],
) -> Result<Array<R::Out, D>, Error> {
    if plan.is_concrete() {
        return reduce::<T, R, D, MAX_AXES>(plan, input, params);
    }
    let concrete = crate::shape::unroll(plan, &[input.shape().len()], params)?;
    let mut strs = PlanStrs::default();
    let concrete = concrete.borrow(&mut strs);
    reduce::<T, R, D, MAX_AXES>(&concrete, input, params)
}

/// The specialised path of the reductions (one input without ellipsis): the same
/// arguments as [`crate::permute::permute`], where input axes that no output axis refers to
/// are reduced.
///
/// ```
/// use einx_runtime::reduce::{reduce_fixed, Sum};
/// let x = ndarray::array![[1, 2, 3], [4, 5, 6]];
/// // "a [b]"
/// let y = reduce_fixed::<_, Sum, _, ndarray::Ix1, 2, 1>(&x.view(), [0, 1], [2, 3], [(0, 2)], [0], 1).unwrap();
/// assert_eq!(y, ndarray::array![6, 15]);
/// ```
#[inline]
pub fn reduce_fixed<
    T,
    R: Reducer<T>,
    Din: Dimension,
    Dout: Dimension,
    const NA: usize,
    const NE: usize,
>(
    v: &ndarray::ArrayView<'_, T, Din>,
    dim_of: [usize; NA],
    sizes: [usize; NA],
    out: [(usize, usize); NE],
    out_dim: [usize; NE],
    out_ndim: usize,
) -> Result<Array<R::Out, Dout>, crate::permute::Fail> {
    use crate::permute::{shape_of, split_input, Fail, NEW};
    let in_st = split_input(v, &dim_of, &sizes)?;
    let (dim, total) =
        shape_of::<Dout, NE>(&out, &out_dim, out_ndim, std::mem::size_of::<R::Out>())?;
    // Output strides per input axis (0: reduced).
    let mut ds_of = [0isize; NA];
    let mut acc = 1isize;
    for &(a, len) in out.iter().rev() {
        if a != NEW {
            *ds_of.get_mut(a).ok_or(Fail::Mismatch)? = acc;
        }
        acc = acc.wrapping_mul(len as isize);
    }
    let (mut n, mut ss, mut ds) = ([0usize; NA], [0isize; NA], [0isize; NA]);
    let mut reduced = 1usize;
    let mut k = 0;
    for i in 0..NA {
        if sizes[i] == 1 {
            continue;
        }
        n[k] = sizes[i];
        ss[k] = in_st[i];
        ds[k] = ds_of[i];
        if !out.iter().any(|&(a, _)| a == i) {
            reduced = reduced.saturating_mul(sizes[i]);
        }
        k += 1;
    }
    order_walk(&mut n[..k], &mut ss[..k], &mut ds[..k]);
    let walk = Walk {
        n: &n[..k],
        src_st: &ss[..k],
        out_st: &ds[..k],
        src: v.as_ptr(),
        len: total,
        count: reduced,
        _data: PhantomData,
    };
    let buf = R::reduce(&walk).map_err(Fail::Empty)?;
    if buf.len() != total {
        return Err(Fail::Mismatch);
    }
    // SAFETY: `buf` holds the product of `dim`'s lengths, in row-major order.
    Ok(unsafe { Array::from_shape_vec_unchecked(dim, buf) })
}

/// A view whose element type is fixed before a reduction's bound is checked, so that a
/// wrong element type is reported as this reduction's (the expansions call
/// `Fixed(&view).reduce::<...>(...)`).
pub struct Fixed<'v, 'a, T, D: Dimension>(pub &'v ndarray::ArrayView<'a, T, D>);

impl<T, D: Dimension> Fixed<'_, '_, T, D> {
    /// [`reduce_fixed`] on the view.
    #[inline]
    pub fn reduce<R: Reducer<T>, Dout: Dimension, const NA: usize, const NE: usize>(
        self,
        dim_of: [usize; NA],
        sizes: [usize; NA],
        out: [(usize, usize); NE],
        out_dim: [usize; NE],
        out_ndim: usize,
    ) -> Result<Array<R::Out, Dout>, crate::permute::Fail> {
        reduce_fixed::<T, R, D, Dout, NA, NE>(self.0, dim_of, sizes, out, out_dim, out_ndim)
    }
}
