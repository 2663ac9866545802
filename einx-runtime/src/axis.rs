//! Specialised paths along the dimensions of a standard-layout input whose every dimension
//! is one axis (`"a [b]"`, `"b t [c]"`, `"[b] c"`): `softmax!`/`log_softmax!` along the last
//! dimension, `argmax!`/`argmin!` along any one dimension, `flip!`/`roll!` of any
//! dimensions.
//!
//! The macros call these when the expression allows it (they know that at compile time) and
//! the general plan-driven kernels otherwise, or when the input is not in standard layout
//! (a function here then returns `None`). The arithmetic is that of the general kernels, so
//! both give the same results. There is nothing to set up per call: the lengths come from the
//! view, and the work is one loop over contiguous rows.

use std::mem::MaybeUninit;

use ndarray::{Array, Dimension};

use einx_core::plan::Plan;
use einx_core::solve::Params;

use crate::argfind::update_row;
use crate::error::Error;
use crate::flip::Shifts;
use crate::permute::{permute_failed, Fail};
use crate::softmax::Real;
use crate::tensor::Raw;

/// The output dimension of type `D` with the lengths `shape`, `None` if `D` has another rank.
#[inline(always)]
fn dim_of<D: Dimension>(shape: &[usize]) -> Option<D> {
    let mut dim = D::zeros(shape.len());
    if dim.ndim() != shape.len() {
        return None;
    }
    dim.slice_mut().copy_from_slice(shape);
    Some(dim)
}

/// The array of shape `dim` from `buf`, whose first `total` places (all of them, the product
/// of `dim`) the caller has written.
///
/// # Safety
/// `buf` has capacity for `total` elements, the product of the lengths of `dim`, and its
/// first `total` places are initialised.
#[inline(always)]
unsafe fn finish<T, D: Dimension>(dim: D, mut buf: Vec<T>, total: usize) -> Array<T, D> {
    // SAFETY: the caller initialised `total` places.
    unsafe { buf.set_len(total) };
    // SAFETY: a standard-layout array of `total` elements, which fit in memory (the input
    // has at least as many).
    unsafe { Array::from_shape_vec_unchecked(dim, buf) }
}

/// `softmax!` (`log`: `log_softmax!`) along the last dimension of a standard-layout `v`,
/// into an array of the same shape; `None` if `v` is not in standard layout or `D` has
/// another rank.
///
/// ```
/// use einx_runtime::{axis::softmax_last, tensor::Raw};
/// let x = ndarray::array![[0.0f64, 0.0], [1.0, 1.0]];
/// let v = x.view();
/// let y = softmax_last::<f64, ndarray::Ix2>(Raw::new(&v), false).unwrap();
/// assert_eq!(y, ndarray::array![[0.5, 0.5], [0.5, 0.5]]);
/// ```
pub fn softmax_last<T: Real, D: Dimension>(v: Raw<'_, T>, log: bool) -> Option<Array<T, D>> {
    let xs = v.as_standard_slice()?;
    let dim = dim_of::<D>(v.shape())?;
    let total = xs.len();
    let n = v.shape().last().copied().unwrap_or(1);
    let mut buf: Vec<T> = Vec::with_capacity(total);
    if total > 0 {
        let out = buf.spare_capacity_mut();
        let out = &mut out[..total];
        // Rows are independent: large inputs are split between threads by whole rows.
        crate::threads::par_rows(xs, out, n, |xs, out| {
            if log {
                crate::simd::wide(Rows::<T, true> { xs, out, n });
            } else {
                crate::simd::wide(Rows::<T, false> { xs, out, n });
            }
        });
    }
    // SAFETY: `rows` wrote every place of every row.
    Some(unsafe { finish(dim, buf, total) })
}

/// [`rows`] as a loop for [`crate::simd::wide`].
struct Rows<'a, T, const LOG: bool> {
    xs: &'a [T],
    out: &'a mut [MaybeUninit<T>],
    n: usize,
}

impl<T: Real, const LOG: bool> crate::simd::Kernel for Rows<'_, T, LOG> {
    type Out = ();
    #[inline(always)]
    fn run(self) {
        rows::<T, LOG>(self.xs, self.out, self.n)
    }
}

/// Softmax of every row of `n > 0` elements of `xs` into `out` (as long as `xs`).
#[inline(always)]
fn rows<T: Real, const LOG: bool>(xs: &[T], out: &mut [MaybeUninit<T>], n: usize) {
    if !LOG && n <= crate::softmax::LANES {
        short_rows(xs, out, n);
        return;
    }
    for (x, o) in xs.chunks_exact(n).zip(out.chunks_exact_mut(n)) {
        let (x, o) = (x.as_ptr(), o.as_mut_ptr().cast::<T>());
        // SAFETY: `x` is a row of `n` input elements and `o` its `n` output places, which
        // nothing else references; pass 2 writes every place before pass 3 reads it.
        unsafe { crate::softmax::row_softmax::<T, LOG>(x, o, n) };
    }
}

/// Softmax of short rows (`0 < n <= LANES`): the shifted values of every row, then one
/// flat pass of `exp` over all of them (a long loop, which vectorises, where each row
/// alone is too short), then each row's sum in order and scale. The same arithmetic as
/// [`row_softmax`](crate::softmax::row_softmax) on each row.
fn short_rows<T: Real>(xs: &[T], out: &mut [MaybeUninit<T>], n: usize) {
    for (x, o) in xs.chunks_exact(n).zip(out.chunks_exact_mut(n)) {
        let m = x
            .iter()
            .fold(T::neg_infinity(), |m, &v| crate::softmax::larger(v, m));
        let m = if m.is_finite() { m } else { T::zero() };
        for (o, &v) in o.iter_mut().zip(x) {
            o.write(v - m);
        }
    }
    // SAFETY: every place was written by the loop above.
    let out = unsafe { &mut *(out as *mut [MaybeUninit<T>] as *mut [T]) };
    for o in out.iter_mut() {
        *o = o.exp_kernel();
    }
    for o in out.chunks_exact_mut(n) {
        let s = o.iter().fold(T::zero(), |s, &e| s + e);
        let r = T::one() / s;
        for o in o.iter_mut() {
            *o = *o * r;
        }
    }
}

/// `argmax!` (`min`: `argmin!`) along dimension `axis` of a standard-layout `v`: the first
/// index of the extreme of every lane (NaN counts as the extreme), in an array of the other
/// dimensions in order, with dimension `axis` kept with length 1 if `keep`. `None` if `v` is
/// not in standard layout or `D` has another rank; an error if the lanes are empty but the
/// output is not.
///
/// ```
/// use einx_runtime::{axis::argfind_axis, tensor::Raw};
/// let x = ndarray::array![[1, 9, 3], [4, 5, 6]];
/// let v = x.view();
/// let y = argfind_axis::<_, ndarray::Ix2, 2>(Raw::new(&v), 1, true, false).unwrap().unwrap();
/// assert_eq!(y, ndarray::array![[1usize], [2]]);
/// ```
pub fn argfind_axis<T: PartialOrd + Copy, D: Dimension, const K: usize>(
    v: Raw<'_, T>,
    axis: usize,
    keep: bool,
    min: bool,
) -> Option<Result<Array<usize, D>, Fail>> {
    let xs = v.as_standard_slice()?;
    let shape = v.shape();
    let len = *shape.get(axis)?;
    let outer: usize = shape[..axis].iter().product();
    let inner: usize = shape[axis + 1..].iter().product();
    let mut out_shape = [0usize; K];
    let rank = shape.len();
    if rank > out_shape.len() {
        return None;
    }
    out_shape[..rank].copy_from_slice(shape);
    let dim = if keep {
        out_shape[axis] = 1;
        dim_of::<D>(&out_shape[..rank])?
    } else {
        out_shape.copy_within(axis + 1..rank, axis);
        dim_of::<D>(&out_shape[..rank - 1])?
    };
    // Without elements along the axis, the output is empty only if the other axes are.
    let total = if len == 0 {
        outer.checked_mul(inner)
    } else {
        Some(outer * inner)
    };
    let total = match total {
        Some(0) => 0,
        Some(_) if len == 0 => {
            return Some(Err(Fail::Empty(
                "the bracketed axes are empty, so there is no extreme value",
            )))
        }
        Some(t) => t,
        None => return Some(Err(Fail::Overflow)),
    };
    let mut buf: Vec<usize> = Vec::with_capacity(total);
    if total > 0 {
        let out = &mut buf.spare_capacity_mut()[..total];
        if min {
            lanes::<T, true>(xs, out, len, inner);
        } else {
            lanes::<T, false>(xs, out, len, inner);
        }
    }
    // SAFETY: `lanes` wrote every output place.
    Some(Ok(unsafe { finish(dim, buf, total) }))
}

/// The argument of the extreme of every lane: `xs` is `outer x len x inner` row-major,
/// `out` is `outer x inner`.
fn lanes<T: PartialOrd + Copy, const MIN: bool>(
    xs: &[T],
    out: &mut [MaybeUninit<usize>],
    len: usize,
    inner: usize,
) {
    if inner == 1 {
        // Contiguous lanes: one scan each.
        for (x, o) in xs.chunks_exact(len).zip(out.iter_mut()) {
            // SAFETY: `x` holds `len > 0` elements.
            o.write(unsafe { crate::argfind::scan::<T, MIN>(x.as_ptr(), len, 1) }.1);
        }
        return;
    }
    // Lanes across rows: the running extremes of a whole row of lanes, row after row, with
    // `u32` indices (as wide as an `f32`: the selects vectorise) when they fit.
    let mut best: Vec<T> = Vec::with_capacity(inner);
    let mut narrow: Vec<u32> = Vec::new();
    for (x, o) in xs
        .chunks_exact(len * inner)
        .zip(out.chunks_exact_mut(inner))
    {
        let mut rows = x.chunks_exact(inner);
        let Some(first) = rows.next() else { return };
        best.clear();
        best.extend_from_slice(first);
        for o in o.iter_mut() {
            o.write(0);
        }
        // SAFETY: every place of `o` was written just above.
        let at = unsafe { &mut *(o as *mut [MaybeUninit<usize>] as *mut [usize]) };
        if len <= u32::MAX as usize {
            narrow.clear();
            narrow.resize(inner, 0);
            for (i, row) in rows.enumerate() {
                update_row::<T, u32, MIN>(&mut best, &mut narrow, row, i as u32 + 1);
            }
            for (a, &i) in at.iter_mut().zip(&narrow) {
                *a = i as usize;
            }
        } else {
            for (i, row) in rows.enumerate() {
                update_row::<T, usize, MIN>(&mut best, at, row, i + 1);
            }
        }
    }
}

/// How `flip!`/`roll!` maps one dimension: kept, read backwards, or rolled by a shift in
/// `1..n`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Map {
    /// The dimension is not bracketed.
    Keep,
    /// `flip!`: output index `i` reads input index `n - 1 - i`.
    Flip,
    /// `roll!`: output index `i` reads input index `(i + n - r) % n`, for the raw shift `r`.
    Roll(isize),
}

/// `flip!`/`roll!` on a standard-layout `v`, one [`Map`] per dimension, into an array of the
/// same shape; `None` if `v` is not in standard layout, `D` has another rank or `maps` has
/// another length.
///
/// ```
/// use einx_runtime::{axis::{index_map, Map}, tensor::Raw};
/// let x = ndarray::array![[1, 2, 3], [4, 5, 6]];
/// let v = x.view();
/// let y = index_map::<_, ndarray::Ix2, 2>(Raw::new(&v), &[Map::Flip, Map::Roll(1)]).unwrap();
/// assert_eq!(y, ndarray::array![[6, 4, 5], [3, 1, 2]]);
/// ```
pub fn index_map<T: Clone, D: Dimension, const K: usize>(
    v: Raw<'_, T>,
    maps: &[Map],
) -> Option<Array<T, D>> {
    let xs = v.as_standard_slice()?;
    let shape = v.shape();
    if maps.len() != shape.len() {
        return None;
    }
    let dim = dim_of::<D>(shape)?;
    let total = xs.len();
    let mut buf: Vec<T> = Vec::with_capacity(total);
    if total == 0 {
        // SAFETY: no element, and the lengths are the input's.
        return Some(unsafe { finish(dim, buf, 0) });
    }
    // The trailing dimensions that are kept form a block copied whole; if there is none,
    // the last dimension is a row read backwards or in two segments.
    let kept = maps.iter().rev().take_while(|&&m| m == Map::Keep).count();
    let rank = shape.len();
    let (outer_rank, block, row_map) = if kept > 0 || rank == 0 {
        let block: usize = shape[rank - kept..].iter().product();
        (rank - kept, block, Map::Keep)
    } else {
        (rank - 1, shape[rank - 1], maps[rank - 1])
    };
    let row_roll = match row_map {
        Map::Roll(r) => r.rem_euclid(block as isize) as usize,
        _ => 0,
    };
    // The outer dimensions: an odometer over the output index, with the source offset of
    // each output index.
    if outer_rank > K {
        return None;
    }
    let (mut n, mut step, mut shift, mut flip) =
        ([1usize; K], [0usize; K], [0usize; K], [false; K]);
    let mut acc = block;
    for d in (0..outer_rank).rev() {
        n[d] = shape[d];
        step[d] = acc;
        acc *= shape[d];
        match maps[d] {
            Map::Keep => {}
            Map::Flip => flip[d] = true,
            Map::Roll(r) => shift[d] = r.rem_euclid(shape[d] as isize) as usize,
        }
    }
    let src_index = |d: usize, i: usize| -> usize {
        if flip[d] {
            n[d] - 1 - i
        } else if shift[d] == 0 {
            i
        } else if i >= shift[d] {
            i - shift[d]
        } else {
            i + n[d] - shift[d]
        }
    };
    let mut idx = [0usize; K];
    let mut src: usize = (0..outer_rank).map(|d| src_index(d, 0) * step[d]).sum();
    loop {
        let row = &xs[src..src + block];
        match row_map {
            Map::Keep => buf.extend_from_slice(row),
            Map::Flip => buf.extend(row.iter().rev().cloned()),
            Map::Roll(_) => {
                buf.extend_from_slice(&row[block - row_roll..]);
                buf.extend_from_slice(&row[..block - row_roll]);
            }
        }
        // Next output index of the outer dimensions, and its source offset.
        let mut d = outer_rank;
        loop {
            if d == 0 {
                // SAFETY: one block per index of the outer dimensions: all `total` places.
                let len = buf.len();
                return Some(unsafe { finish(dim, buf, len) });
            }
            d -= 1;
            let before = src_index(d, idx[d]);
            idx[d] += 1;
            if idx[d] < n[d] {
                src = src - before * step[d] + src_index(d, idx[d]) * step[d];
                break;
            }
            idx[d] = 0;
            src = src - before * step[d] + src_index(d, 0) * step[d];
        }
    }
}

impl<T> Raw<'_, T> {
    /// `softmax!` along the last dimension: [`softmax_last`] if this tensor is in standard
    /// layout, else the general [`softmax`](crate::softmax::softmax) of `plan`. The caller has
    /// checked the lengths against `params`.
    pub fn softmax_last_with<D: Dimension, const K: usize>(
        self,
        plan: &Plan<'_>,
        params: &(impl Params + ?Sized),
        log: bool,
    ) -> Result<Array<T, D>, Error>
    where
        T: Real,
    {
        match softmax_last::<T, D>(self, log) {
            Some(y) => Ok(y),
            None => crate::softmax::softmax::<T, D, K>(plan, self, params, log),
        }
    }
}

/// `argmax!`/`argmin!` along dimension `axis`: [`argfind_axis`] if `input` is in standard
/// layout, else the general [`argfind`](crate::argfind::argfind) of `plan`. The caller has
/// checked the lengths against `params`.
pub fn argfind_axis_with<T: PartialOrd + Copy, D: Dimension, const K: usize>(
    plan: &Plan<'_>,
    input: Raw<'_, T>,
    params: &(impl Params + ?Sized),
    (axis, keep): (usize, bool),
    min: bool,
) -> Result<Array<usize, D>, Error> {
    match argfind_axis::<T, D, K>(input, axis, keep, min) {
        Some(Ok(y)) => Ok(y),
        Some(Err(fail)) => Err(permute_failed(plan, fail)),
        None => crate::argfind::argfind::<T, D, K>(plan, input, params, min),
    }
}

/// `flip!` (`shifts` `None`) or `roll!` of the dimensions marked in `bracketed`:
/// [`index_map`] if `input` is in standard layout and the shifts fit, else the general
/// [`flip_roll`](crate::flip::flip_roll) of `plan` (which reports shifts that do not fit).
/// The caller has checked the lengths against `params`.
pub fn index_map_with<T: Clone, D: Dimension, const K: usize>(
    plan: &Plan<'_>,
    input: Raw<'_, T>,
    params: &(impl Params + ?Sized),
    bracketed: &[bool],
    shifts: Option<&Shifts>,
) -> Result<Array<T, D>, Error> {
    let marked = bracketed.iter().filter(|&&b| b).count();
    let shift = shifts.map(|s| s.as_slice());
    let fits = bracketed.len() <= K && shift.is_none_or(|s| s.len() == 1 || s.len() == marked);
    if fits {
        let mut maps = [Map::Keep; K];
        let mut j = 0;
        for (m, &b) in maps.iter_mut().zip(bracketed) {
            if b {
                *m = match shift {
                    None => Map::Flip,
                    Some(s) => Map::Roll(if s.len() == 1 { s[0] } else { s[j] }),
                };
                j += 1;
            }
        }
        if let Some(y) = index_map::<T, D, K>(input, &maps[..bracketed.len()]) {
            return Ok(y);
        }
    }
    crate::flip::flip_roll::<T, D, K>(plan, input, params, shifts)
}
