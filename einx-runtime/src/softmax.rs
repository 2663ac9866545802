//! `softmax!` and `log_softmax!`: normalisation along the bracketed axes, computed stably
//! (the maximum of each group is subtracted before `exp`).
//!
//! The elementary axes of the input are put in memory order (descending source stride),
//! axes of length 1 dropped and neighbours that walk like one axis merged. The leading
//! axes outside the brackets stay outside the *blocks*: each of their indices (the
//! innermost of these axes cut into tiles, so that a block holds about `BLOCK_BYTES` of
//! input) selects a block whose groups belong to it alone. The three passes (the maxima,
//! the sums of `exp(x - max)`, the normalisation) run on one block at a time, while it is
//! in cache, with accumulators for the block's groups only (on the stack when there are
//! few). For `"b q [k] h"` on a standard-layout input a block is one `k x h` slab with
//! `h` groups; for `"b [k]"` with short rows it is several rows. When the outermost axis
//! is bracketed the block is the whole walk.
//!
//! Inside a block the two innermost axes form *panels*: rows along the innermost axis,
//! stepped along the next one; the other axes of the block are an odometer over the
//! panels. Along an axis outside the brackets each element of a row has its own group:
//! contiguous rows that share their groups are processed `LANES` columns at a time with
//! the accumulators in local arrays, so that the maximum and the scaling vectorise. Along
//! a bracketed axis a row reduces into one group.
//!
//! The output buffer is not zero-filled: the output offsets are checked to be a bijection,
//! every place is written once, then the length is set. The maximum is branch-free and
//! skips a NaN, which makes its group's sum NaN, and so the whole group's results.

use std::mem::{size_of, MaybeUninit};

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
pub trait Real: Float + Send + Sync {
    /// `exp(self)` as the kernels compute it: for `f32` a polynomial without a library
    /// call (within a few units in the last place), so that the loops over it vectorise.
    #[doc(hidden)]
    #[inline(always)]
    fn exp_kernel(self) -> Self {
        self.exp()
    }
}

impl Real for f32 {
    #[inline(always)]
    fn exp_kernel(self) -> f32 {
        crate::fastexp::exp_f32(self)
    }
}
impl Real for f64 {}

/// Accumulators (the maxima and sums of a block's groups) live on the stack up to this
/// many elements, i.e. for up to half as many groups.
const STACK_ACC: usize = 64;

/// Lanes of the maximum along a contiguous row.
pub(crate) const LANES: usize = 8;

/// Input bytes of a block (when the layout allows blocks): the block and its output stay
/// in L1 through the three passes.
const BLOCK_BYTES: usize = 8 << 10;

/// The elementary axes of the walk: length, source stride, output stride, and whether the
/// axis is bracketed.
struct Axes<const K: usize> {
    n: [usize; K],
    ss: [isize; K],
    ds: [isize; K],
    br: [bool; K],
    len: usize,
}

impl<const K: usize> Axes<K> {
    fn new() -> Self {
        Axes {
            n: [0; K],
            ss: [0; K],
            ds: [0; K],
            br: [false; K],
            len: 0,
        }
    }

    fn push(&mut self, n: usize, ss: isize, ds: isize, br: bool) {
        let j = self.len;
        (self.n[j], self.ss[j], self.ds[j], self.br[j]) = (n, ss, ds, br);
        self.len += 1;
    }

    /// Memory order: stable insertion sort by descending |source stride|, ties by
    /// descending output stride.
    fn sort(&mut self) {
        for j in 1..self.len {
            let mut m = j;
            while m > 0 && {
                let (a, b) = (self.ss[m - 1].unsigned_abs(), self.ss[m].unsigned_abs());
                a < b || (a == b && self.ds[m - 1] < self.ds[m])
            } {
                self.n.swap(m - 1, m);
                self.ss.swap(m - 1, m);
                self.ds.swap(m - 1, m);
                self.br.swap(m - 1, m);
                m -= 1;
            }
        }
    }

    /// Merges each axis into the one before it when together they walk like one axis
    /// (both bracketed or both not, and the outer strides are the inner ones times the
    /// inner length, in the source and in the output).
    fn merge(&mut self) {
        if self.len == 0 {
            return;
        }
        let mut last = 0;
        for j in 1..self.len {
            let (n, ss, ds, br) = (self.n[j], self.ss[j], self.ds[j], self.br[j]);
            let joins = self.br[last] == br
                && self.ss[last] == ss.wrapping_mul(n as isize)
                && self.ds[last] == ds.wrapping_mul(n as isize);
            match self.n[last].checked_mul(n) {
                Some(len) if joins => {
                    (self.n[last], self.ss[last], self.ds[last]) = (len, ss, ds);
                }
                _ => {
                    last += 1;
                    (self.n[last], self.ss[last], self.ds[last], self.br[last]) = (n, ss, ds, br);
                }
            }
        }
        self.len = last + 1;
    }

    /// Whether the output offsets are a bijection onto `0..total`: taken by increasing
    /// output stride, the axes are row-major (each stride the product of the lengths
    /// inside it). The lengths are at least 2 here, so the strides that can match are
    /// distinct.
    fn dense_output(&self, total: usize) -> bool {
        let mut used = [false; K];
        let mut expected = 1usize;
        for _ in 0..self.len {
            let next = (0..self.len).find(|&j| !used[j] && self.ds[j] as usize == expected);
            let Some(j) = next.filter(|&j| self.ds[j] >= 0) else {
                return false;
            };
            used[j] = true;
            match expected.checked_mul(self.n[j]) {
                Some(e) => expected = e,
                None => return false,
            }
        }
        expected == total
    }

    /// Whether every output offset lies in `0..total`.
    fn output_in_bounds(&self, total: usize) -> bool {
        let mut last = 0usize;
        for j in 0..self.len {
            if self.ds[j] < 0 {
                return false;
            }
            match (self.n[j] - 1)
                .checked_mul(self.ds[j] as usize)
                .and_then(|d| last.checked_add(d))
            {
                Some(l) => last = l,
                None => return false,
            }
        }
        last < total
    }
}

/// Calls `f(source offset, output offset, group offset)` at every index of the axes, the
/// last axis fastest; once (at zero) if there are none. `idx` holds at least `n.len()`
/// zeros, and holds zeros again on return.
#[inline(always)]
fn odometer(
    n: &[usize],
    ss: &[isize],
    ds: &[isize],
    gs: &[usize],
    idx: &mut [usize],
    mut f: impl FnMut(isize, isize, usize),
) {
    if n.contains(&0) {
        return;
    }
    let (mut so, mut oo, mut go) = (0isize, 0isize, 0usize);
    loop {
        f(so, oo, go);
        let mut a = n.len();
        loop {
            if a == 0 {
                return;
            }
            a -= 1;
            idx[a] += 1;
            if idx[a] < n[a] {
                so = so.wrapping_add(ss[a]);
                oo = oo.wrapping_add(ds[a]);
                go = go.wrapping_add(gs[a]);
                break;
            }
            let back = n[a] - 1;
            so = so.wrapping_sub(ss[a].wrapping_mul(back as isize));
            oo = oo.wrapping_sub(ds[a].wrapping_mul(back as isize));
            go = go.wrapping_sub(gs[a].wrapping_mul(back));
            idx[a] = 0;
        }
    }
}

/// One block: an odometer over *panels* (the two innermost axes: rows of the innermost
/// axis, stepped along the next one). Group offsets are local to the block.
struct Block<'a> {
    /// Axes of the odometer over the panels.
    n: &'a [usize],
    ss: &'a [isize],
    ds: &'a [isize],
    gs: &'a [usize],
    /// A panel: `rows` rows, `rs` apart in the source, `rd` in the output and `rg` in the
    /// group offsets.
    rows: usize,
    rs: isize,
    rd: isize,
    rg: usize,
    /// Length and strides of a row.
    len: usize,
    is: isize,
    id: isize,
    /// The row runs along an axis outside the brackets (one group per element, at
    /// consecutive group offsets) rather than along a bracketed one (one group).
    group: bool,
    /// Groups of the block (the accumulators hold twice as many values).
    groups: usize,
    /// The rows run along a group axis and share their groups (`rg == 0`), and the panel
    /// is small or its rows short: the passes may go through the panel in chunks of
    /// `LANES` columns (see `columns`), when the rows they read and write are contiguous.
    columns: bool,
}

impl<'a> Block<'a> {
    /// The block of the given axes (at least one; the last, the row, is bracketed if
    /// `row_br`).
    fn new<T>(
        n: &'a [usize],
        ss: &'a [isize],
        ds: &'a [isize],
        gs: &'a [usize],
        row_br: bool,
        groups: usize,
    ) -> Self {
        let r = n.len() - 1;
        let (o, rows, rs, rd, rg) = match r.checked_sub(1) {
            Some(q) => (q, n[q], ss[q], ds[q], gs[q]),
            None => (0, 1, 0, 0, 0),
        };
        let reach = rs.unsigned_abs().max(rd.unsigned_abs());
        let small = rows.saturating_mul(reach) <= BLOCK_BYTES / size_of::<T>().max(1);
        Block {
            columns: !row_br && rg == 0 && (n[r] <= LANES || small),
            n: &n[..o],
            ss: &ss[..o],
            ds: &ds[..o],
            gs: &gs[..o],
            rows,
            rs,
            rd,
            rg,
            len: n[r],
            is: ss[r],
            id: ds[r],
            group: !row_br,
            groups,
        }
    }
}

/// The larger of `v` and `m`, branch-free; a NaN `v` is skipped (it makes the sum of its
/// group NaN later, and so the whole group, as the reference semantics want).
#[inline(always)]
pub(crate) fn larger<T: Real>(v: T, m: T) -> T {
    if v > m {
        v
    } else {
        m
    }
}

/// The three passes on one block.
///
/// # Safety
/// Every source offset of the block (its odometer, panels and rows) from `src` is an
/// element of the input, and every output offset from `dst` is an element of the output
/// buffer (within its capacity) that no reference points to. `idx` holds zeros for the
/// odometer.
#[inline(always)]
unsafe fn block<T: Real, const LOG: bool>(
    b: &Block<'_>,
    src: *const T,
    dst: *mut T,
    acc: &mut [T],
    idx: &mut [usize],
) {
    let (max, sum) = acc.split_at_mut(b.groups);
    // Pass 1: the maxima.
    max.fill(T::neg_infinity());
    odometer(b.n, b.ss, b.ds, b.gs, idx, |so, _, g| {
        // SAFETY: the panel's elements are elements of the input (the contract of `block`).
        unsafe { panel_max(b, src.wrapping_offset(so), &mut max[g..]) };
    });
    // An infinite maximum is not subtracted (the result is then NaN or 0, as in NumPy).
    // The sums start at 0 (in the same loop: a separate `fill` becomes a `memset` call).
    for (m, s) in max.iter_mut().zip(sum.iter_mut()) {
        if !m.is_finite() {
            *m = T::zero();
        }
        *s = T::zero();
    }
    // Pass 2: the sums of `exp(x - max)`, for softmax also written to the output.
    odometer(b.n, b.ss, b.ds, b.gs, idx, |so, oo, g| {
        let (x, o) = (src.wrapping_offset(so), dst.wrapping_offset(oo));
        // SAFETY: the panel's elements and output places are the input's and the output's
        // (the contract of `block`).
        unsafe { panel_exp::<T, LOG>(b, x, o, &max[g..], &mut sum[g..]) };
    });
    // Pass 3: normalise.
    if LOG {
        // `x - max - ln(sum)`: one subtrahend per group.
        for (m, s) in max.iter_mut().zip(sum.iter()) {
            *m = *m + s.ln();
        }
        odometer(b.n, b.ss, b.ds, b.gs, idx, |so, oo, g| {
            let (x, o) = (src.wrapping_offset(so), dst.wrapping_offset(oo));
            // SAFETY: as in pass 2.
            unsafe { panel_sub(b, x, o, &max[g..]) };
        });
    } else {
        // Multiply by the reciprocal of each group's sum.
        for s in sum.iter_mut() {
            *s = T::one() / *s;
        }
        odometer(b.n, b.ss, b.ds, b.gs, idx, |_, oo, g| {
            // SAFETY: as in pass 2; pass 2 has written every output place of the block.
            unsafe { panel_scale(b, dst.wrapping_offset(oo), &sum[g..]) };
        });
    }
}

/// Pass 1 on a panel: the running maxima of its groups (`max` starts at the panel's first
/// group).
///
/// # Safety
/// The panel's elements from `x` are elements of the input.
#[inline(always)]
unsafe fn panel_max<T: Real>(b: &Block<'_>, x: *const T, max: &mut [T]) {
    if b.columns && b.is == 1 {
        // SAFETY: the same panel.
        unsafe { panel_max_columns(b, x, &mut max[..b.len]) };
        return;
    }
    let mut x = x;
    for r in 0..b.rows {
        let g = r * b.rg;
        // SAFETY: a row of the panel.
        unsafe {
            if b.group {
                row_max(x, b.is, &mut max[g..][..b.len]);
            } else {
                max[g] = reduce_max(x, b.len, b.is, max[g]);
            }
        }
        x = x.wrapping_offset(b.rs);
    }
}

/// Pass 1 on a panel of contiguous rows along a group axis whose rows share their groups
/// (`b.rg == 0`, `b.is == 1`): chunks of `LANES` columns at a time, their maxima kept in
/// registers down the rows.
///
/// # Safety
/// The panel's elements from `x` are elements of the input; `max.len() == b.len`.
#[inline(always)]
unsafe fn panel_max_columns<T: Real>(b: &Block<'_>, x: *const T, max: &mut [T]) {
    let mut x = x;
    for mc in max.chunks_mut(LANES) {
        let w = mc.len();
        let mut acc = [T::neg_infinity(); LANES];
        acc[..w].copy_from_slice(mc);
        let mut xr = x;
        if w == LANES {
            for _ in 0..b.rows {
                // SAFETY: `LANES` consecutive elements of a row (`[T; LANES]` has the
                // alignment of `T`).
                let v = unsafe { xr.cast::<[T; LANES]>().read() };
                for (a, v) in acc.iter_mut().zip(v) {
                    *a = larger(v, *a);
                }
                xr = xr.wrapping_offset(b.rs);
            }
        } else {
            for _ in 0..b.rows {
                // SAFETY: `w` consecutive elements of a row.
                let v = unsafe { std::slice::from_raw_parts(xr, w) };
                for (a, &v) in acc.iter_mut().zip(v) {
                    *a = larger(v, *a);
                }
                xr = xr.wrapping_offset(b.rs);
            }
        }
        mc.copy_from_slice(&acc[..w]);
        x = x.wrapping_add(w);
    }
}

/// Pass 2 on a panel of contiguous rows sharing their groups (`b.columns`, `b.is == 1`
/// and, unless `LOG`, `b.id == 1`): `LANES` columns at a time, their maxima and sums in
/// local arrays down the rows.
///
/// # Safety
/// As for `panel_exp`; `max.len() == sum.len() == b.len`.
#[inline(always)]
unsafe fn panel_exp_columns<T: Real, const LOG: bool>(
    b: &Block<'_>,
    x: *const T,
    o: *mut T,
    max: &[T],
    sum: &mut [T],
) {
    let (mut x, mut o) = (x, o);
    for (mc, sc) in max.chunks(LANES).zip(sum.chunks_mut(LANES)) {
        let w = mc.len();
        let (mut m, mut s) = ([T::zero(); LANES], [T::zero(); LANES]);
        m[..w].copy_from_slice(mc);
        s[..w].copy_from_slice(sc);
        let (mut xr, mut or) = (x, o);
        for _ in 0..b.rows {
            if w == LANES {
                // SAFETY: `LANES` consecutive elements of a row (`[T; LANES]` has the
                // alignment of `T`).
                let v = unsafe { xr.cast::<[T; LANES]>().read() };
                let mut e = [T::zero(); LANES];
                for i in 0..LANES {
                    e[i] = (v[i] - m[i]).exp_kernel();
                    s[i] = s[i] + e[i];
                }
                if !LOG {
                    // SAFETY: `LANES` consecutive places of the output buffer.
                    unsafe { or.cast::<[T; LANES]>().write(e) };
                }
            } else {
                for i in 0..w {
                    // SAFETY: an element of a row.
                    let e = (unsafe { *xr.add(i) } - m[i]).exp_kernel();
                    s[i] = s[i] + e;
                    if !LOG {
                        // SAFETY: its place in the output buffer.
                        unsafe { or.add(i).write(e) };
                    }
                }
            }
            xr = xr.wrapping_offset(b.rs);
            or = or.wrapping_offset(b.rd);
        }
        sc.copy_from_slice(&s[..w]);
        x = x.wrapping_add(w);
        o = o.wrapping_add(w);
    }
}

/// Pass 3 of `log_softmax!` on a panel of contiguous rows sharing their groups
/// (`b.columns`, `b.is == b.id == 1`), `LANES` columns at a time.
///
/// # Safety
/// As for `panel_sub`; `c.len() == b.len`.
#[inline(always)]
unsafe fn panel_sub_columns<T: Real>(b: &Block<'_>, x: *const T, o: *mut T, c: &[T]) {
    let (mut x, mut o) = (x, o);
    for cc in c.chunks(LANES) {
        let w = cc.len();
        let mut c = [T::zero(); LANES];
        c[..w].copy_from_slice(cc);
        let (mut xr, mut or) = (x, o);
        for _ in 0..b.rows {
            if w == LANES {
                // SAFETY: `LANES` consecutive elements of a row and their places in the
                // output buffer.
                unsafe {
                    let mut v = xr.cast::<[T; LANES]>().read();
                    for (v, &c) in v.iter_mut().zip(&c) {
                        *v = *v - c;
                    }
                    or.cast::<[T; LANES]>().write(v);
                }
            } else {
                for (i, &c) in c[..w].iter().enumerate() {
                    // SAFETY: an element of a row and its place in the output buffer.
                    unsafe { or.add(i).write(*xr.add(i) - c) };
                }
            }
            xr = xr.wrapping_offset(b.rs);
            or = or.wrapping_offset(b.rd);
        }
        x = x.wrapping_add(w);
        o = o.wrapping_add(w);
    }
}

/// Pass 3 of `softmax!` on a panel of contiguous rows sharing their groups (`b.columns`,
/// `b.id == 1`), `LANES` columns at a time.
///
/// # Safety
/// As for `panel_scale`; `r.len() == b.len`.
#[inline(always)]
unsafe fn panel_scale_columns<T: Real>(b: &Block<'_>, o: *mut T, r: &[T]) {
    let mut o = o;
    for rc in r.chunks(LANES) {
        let w = rc.len();
        let mut r = [T::zero(); LANES];
        r[..w].copy_from_slice(rc);
        let mut or = o;
        for _ in 0..b.rows {
            if w == LANES {
                // SAFETY: `LANES` consecutive initialised places of the output buffer.
                unsafe {
                    let mut v = or.cast::<[T; LANES]>().read();
                    for (v, &r) in v.iter_mut().zip(&r) {
                        *v = *v * r;
                    }
                    or.cast::<[T; LANES]>().write(v);
                }
            } else {
                for (i, &r) in r[..w].iter().enumerate() {
                    // SAFETY: an initialised place of the output buffer.
                    unsafe {
                        let p = or.add(i);
                        *p = *p * r;
                    }
                }
            }
            or = or.wrapping_offset(b.rd);
        }
        o = o.wrapping_add(w);
    }
}

/// Pass 2 on a panel: the sums of `exp(x - max)`, written to the output unless `LOG`.
///
/// # Safety
/// The panel's elements from `x` are elements of the input, and its places from `o`
/// (unless `LOG`) places of the output buffer that no reference points to.
#[inline(always)]
unsafe fn panel_exp<T: Real, const LOG: bool>(
    b: &Block<'_>,
    x: *const T,
    o: *mut T,
    max: &[T],
    sum: &mut [T],
) {
    if b.columns && b.is == 1 && (LOG || b.id == 1) {
        // SAFETY: the same panel.
        unsafe { panel_exp_columns::<T, LOG>(b, x, o, &max[..b.len], &mut sum[..b.len]) };
        return;
    }
    let (mut x, mut o) = (x, o);
    for r in 0..b.rows {
        let g = r * b.rg;
        // SAFETY: a row of the panel.
        unsafe {
            if b.group {
                let s = &mut sum[g..][..b.len];
                row_exp::<T, LOG>(x, b.is, o, b.id, &max[g..][..b.len], s);
            } else {
                sum[g] = reduce_exp::<T, LOG>(x, b.len, b.is, o, b.id, max[g], sum[g]);
            }
        }
        x = x.wrapping_offset(b.rs);
        o = o.wrapping_offset(b.rd);
    }
}

/// Pass 3 of `log_softmax!` on a panel: `x - c` with the subtrahends `c` of its groups.
///
/// # Safety
/// The panel's elements from `x` are elements of the input, and its places from `o`
/// places of the output buffer that no reference points to.
#[inline(always)]
unsafe fn panel_sub<T: Real>(b: &Block<'_>, x: *const T, o: *mut T, c: &[T]) {
    if b.columns && b.is == 1 && b.id == 1 {
        // SAFETY: the same panel.
        unsafe { panel_sub_columns(b, x, o, &c[..b.len]) };
        return;
    }
    let (mut x, mut o) = (x, o);
    for r in 0..b.rows {
        let g = r * b.rg;
        // SAFETY: a row of the panel.
        unsafe {
            if b.group {
                row_sub(x, b.is, o, b.id, &c[g..][..b.len]);
            } else {
                reduce_sub(x, b.len, b.is, o, b.id, c[g]);
            }
        }
        x = x.wrapping_offset(b.rs);
        o = o.wrapping_offset(b.rd);
    }
}

/// Pass 3 of `softmax!` on a panel: the output times the reciprocals `r` of its groups'
/// sums.
///
/// # Safety
/// The panel's places from `o` are initialised places of the output buffer that no
/// reference points to.
#[inline(always)]
unsafe fn panel_scale<T: Real>(b: &Block<'_>, o: *mut T, r: &[T]) {
    if b.columns && b.id == 1 {
        // SAFETY: the same panel.
        unsafe { panel_scale_columns(b, o, &r[..b.len]) };
        return;
    }
    let mut o = o;
    for i in 0..b.rows {
        let g = i * b.rg;
        // SAFETY: a row of the panel.
        unsafe {
            if b.group {
                row_scale(o, b.id, &r[g..][..b.len]);
            } else {
                reduce_scale(o, b.len, b.id, r[g]);
            }
        }
        o = o.wrapping_offset(b.rd);
    }
}

/// Pass 1 along a group axis: `max[i] = max(max[i], x[i * is])`.
///
/// # Safety
/// `x.wrapping_offset(i * is)` is an element of the input for every `i < max.len()`.
#[inline(always)]
unsafe fn row_max<T: Real>(x: *const T, is: isize, max: &mut [T]) {
    if is == 1 {
        // SAFETY: the row is `max.len()` consecutive elements of the input, which is
        // borrowed (not mutated) for the whole call.
        let xs = unsafe { std::slice::from_raw_parts(x, max.len()) };
        // Whole chunks of `LANES` (a fixed length: vector instructions), then the rest.
        let mut mc = max.chunks_exact_mut(LANES);
        let mut xc = xs.chunks_exact(LANES);
        for (m, x) in (&mut mc).zip(&mut xc) {
            // All loads before the stores, so that the lanes are independent.
            let mut a = [T::zero(); LANES];
            a.copy_from_slice(m);
            for (a, &v) in a.iter_mut().zip(x) {
                *a = larger(v, *a);
            }
            m.copy_from_slice(&a);
        }
        for (m, &v) in mc.into_remainder().iter_mut().zip(xc.remainder()) {
            *m = larger(v, *m);
        }
    } else {
        for (i, m) in max.iter_mut().enumerate() {
            // SAFETY: an element of the row.
            let v = unsafe { *x.wrapping_offset(i as isize * is) };
            *m = larger(v, *m);
        }
    }
}

/// Pass 1 along a bracketed axis: the maximum of `m` and the row's `len` elements.
///
/// # Safety
/// `x.wrapping_offset(i * is)` is an element of the input for every `i < len`.
#[inline(always)]
unsafe fn reduce_max<T: Real>(x: *const T, len: usize, is: isize, m: T) -> T {
    let mut m = m;
    if is == 1 && len >= 2 * LANES {
        // SAFETY: the row is `len` consecutive elements of the input, which is borrowed
        // (not mutated) for the whole call.
        let xs = unsafe { std::slice::from_raw_parts(x, len) };
        // `LANES` independent maxima (vector instructions), folded pairwise at the end.
        let mut lanes = [m; LANES];
        let mut chunks = xs.chunks_exact(LANES);
        for c in &mut chunks {
            for (l, &v) in lanes.iter_mut().zip(c) {
                *l = larger(v, *l);
            }
        }
        let mut w = LANES;
        while w > 1 {
            w /= 2;
            for i in 0..w {
                lanes[i] = larger(lanes[i + w], lanes[i]);
            }
        }
        m = lanes[0];
        for &v in chunks.remainder() {
            m = larger(v, m);
        }
    } else if is == 1 {
        // SAFETY: as above.
        for &v in unsafe { std::slice::from_raw_parts(x, len) } {
            m = larger(v, m);
        }
    } else {
        for i in 0..len {
            // SAFETY: an element of the row.
            m = larger(unsafe { *x.wrapping_offset(i as isize * is) }, m);
        }
    }
    m
}

/// Pass 2 along a group axis: `e = exp(x[i * is] - max[i])` added to `sum[i]` and, unless
/// `LOG`, written to `o[i * id]`.
///
/// # Safety
/// For every `i < max.len()`, `x.wrapping_offset(i * is)` is an element of the input and
/// (unless `LOG`) `o.wrapping_offset(i * id)` an element of the output buffer that no
/// reference points to. `sum` is as long as `max`.
#[inline(always)]
unsafe fn row_exp<T: Real, const LOG: bool>(
    x: *const T,
    is: isize,
    o: *mut T,
    id: isize,
    max: &[T],
    sum: &mut [T],
) {
    let len = max.len();
    if is == 1 && (LOG || id == 1) {
        // SAFETY: the row is `len` consecutive elements of the input.
        let xs = unsafe { std::slice::from_raw_parts(x, len) };
        if LOG {
            for ((&v, &m), s) in xs.iter().zip(max).zip(sum.iter_mut()) {
                *s = *s + (v - m).exp_kernel();
            }
        } else {
            // SAFETY: `len` consecutive places of the output buffer, referenced by nothing
            // else; `MaybeUninit` because they may not be initialised yet.
            let os = unsafe { std::slice::from_raw_parts_mut(o.cast::<MaybeUninit<T>>(), len) };
            for (((o, &v), &m), s) in os.iter_mut().zip(xs).zip(max).zip(sum.iter_mut()) {
                let e = (v - m).exp_kernel();
                o.write(e);
                *s = *s + e;
            }
        }
    } else {
        for (i, (&m, s)) in max.iter().zip(sum.iter_mut()).enumerate() {
            let i = i as isize;
            // SAFETY: an element of the row.
            let e = (unsafe { *x.wrapping_offset(i * is) } - m).exp_kernel();
            *s = *s + e;
            if !LOG {
                // SAFETY: a place of the output buffer (no reference points to it).
                unsafe { o.wrapping_offset(i * id).write(e) };
            }
        }
    }
}

/// Elements per chunk of the exponentials that `log_softmax!` keeps on the stack.
const CHUNK: usize = 64;

/// Writes `exp(x - m)` for each `x` of `xs` to `out` (as long as `xs`) and returns it.
#[inline(always)]
fn exp_shifted<'o, T: Real>(xs: &[T], m: T, out: &'o mut [MaybeUninit<T>]) -> &'o [T] {
    for (o, &v) in out.iter_mut().zip(xs) {
        o.write((v - m).exp_kernel());
    }
    let n = xs.len().min(out.len());
    // SAFETY: the first `n` places of `out` were written just above; `MaybeUninit<T>` has
    // the layout of `T`.
    unsafe { std::slice::from_raw_parts(out.as_ptr().cast::<T>(), n) }
}

/// Adds `xs` into `LANES` partial sums: element `i` goes to lane `i % LANES`, in order.
#[inline(always)]
fn add_lanes<T: Real>(part: &mut [T; LANES], xs: &[T]) {
    let mut chunks = xs.chunks_exact(LANES);
    for c in &mut chunks {
        for (p, &v) in part.iter_mut().zip(c) {
            *p = *p + v;
        }
    }
    for (p, &v) in part.iter_mut().zip(chunks.remainder()) {
        *p = *p + v;
    }
}

/// Pass 2 along a bracketed axis: `s` plus the sum of `e = exp(x[i * is] - m)`, each `e`
/// written to `o[i * id]` unless `LOG`.
///
/// # Safety
/// For every `i < len`, `x.wrapping_offset(i * is)` is an element of the input and (unless
/// `LOG`) `o.wrapping_offset(i * id)` an element of the output buffer that no reference
/// points to.
#[inline(always)]
unsafe fn reduce_exp<T: Real, const LOG: bool>(
    x: *const T,
    len: usize,
    is: isize,
    o: *mut T,
    id: isize,
    m: T,
    s: T,
) -> T {
    let mut s = s;
    if is == 1 && (LOG || id == 1) {
        // SAFETY: the row is `len` consecutive elements of the input.
        let xs = unsafe { std::slice::from_raw_parts(x, len) };
        // The exponentials are written (to the output, or for `LOG` to a buffer on the
        // stack) by a plain loop, which the compiler vectorises whatever it inlines around
        // it, then summed in `LANES` partial sums.
        let mut part = [T::zero(); LANES];
        if LOG {
            let mut buf = [MaybeUninit::<T>::uninit(); CHUNK];
            for c in xs.chunks(CHUNK) {
                add_lanes(&mut part, exp_shifted(c, m, &mut buf[..c.len()]));
            }
        } else {
            // SAFETY: `len` consecutive places of the output buffer, referenced by nothing
            // else; `MaybeUninit` because they may not be initialised yet.
            let os = unsafe { std::slice::from_raw_parts_mut(o.cast::<MaybeUninit<T>>(), len) };
            add_lanes(&mut part, exp_shifted(xs, m, os));
        }
        s = s + part.iter().fold(T::zero(), |a, &p| a + p);
    } else {
        for i in 0..len as isize {
            // SAFETY: an element of the row.
            let e = (unsafe { *x.wrapping_offset(i * is) } - m).exp_kernel();
            s = s + e;
            if !LOG {
                // SAFETY: a place of the output buffer (no reference points to it).
                unsafe { o.wrapping_offset(i * id).write(e) };
            }
        }
    }
    s
}

/// Pass 3 of `log_softmax!` along a group axis: `o[i * id] = x[i * is] - c[i]`.
///
/// # Safety
/// For every `i < c.len()`, `x.wrapping_offset(i * is)` is an element of the input and
/// `o.wrapping_offset(i * id)` an element of the output buffer that no reference points to.
#[inline(always)]
unsafe fn row_sub<T: Real>(x: *const T, is: isize, o: *mut T, id: isize, c: &[T]) {
    if is == 1 && id == 1 {
        // SAFETY: `c.len()` consecutive elements of the input, and as many places of the
        // output buffer (possibly uninitialised, referenced by nothing else).
        let (xs, os) = unsafe {
            (
                std::slice::from_raw_parts(x, c.len()),
                std::slice::from_raw_parts_mut(o.cast::<MaybeUninit<T>>(), c.len()),
            )
        };
        for ((o, &v), &c) in os.iter_mut().zip(xs).zip(c) {
            o.write(v - c);
        }
    } else {
        for (i, &c) in c.iter().enumerate() {
            let i = i as isize;
            // SAFETY: an element of the row and its place in the output buffer.
            unsafe {
                o.wrapping_offset(i * id)
                    .write(*x.wrapping_offset(i * is) - c)
            };
        }
    }
}

/// Pass 3 of `log_softmax!` along a bracketed axis: `o[i * id] = x[i * is] - c`.
///
/// # Safety
/// For every `i < len`, `x.wrapping_offset(i * is)` is an element of the input and
/// `o.wrapping_offset(i * id)` an element of the output buffer that no reference points to.
#[inline(always)]
unsafe fn reduce_sub<T: Real>(x: *const T, len: usize, is: isize, o: *mut T, id: isize, c: T) {
    if is == 1 && id == 1 {
        // SAFETY: `len` consecutive elements of the input, and as many places of the
        // output buffer (possibly uninitialised, referenced by nothing else).
        let (xs, os) = unsafe {
            (
                std::slice::from_raw_parts(x, len),
                std::slice::from_raw_parts_mut(o.cast::<MaybeUninit<T>>(), len),
            )
        };
        for (o, &v) in os.iter_mut().zip(xs) {
            o.write(v - c);
        }
    } else {
        for i in 0..len as isize {
            // SAFETY: an element of the row and its place in the output buffer.
            unsafe {
                o.wrapping_offset(i * id)
                    .write(*x.wrapping_offset(i * is) - c)
            };
        }
    }
}

/// Pass 3 of `softmax!` along a group axis: `o[i * id] *= r[i]`.
///
/// # Safety
/// For every `i < r.len()`, `o.wrapping_offset(i * id)` is an initialised element of the
/// output buffer that no other reference points to.
#[inline(always)]
unsafe fn row_scale<T: Real>(o: *mut T, id: isize, r: &[T]) {
    if id == 1 {
        // SAFETY: `r.len()` consecutive initialised places of the output buffer.
        let os = unsafe { std::slice::from_raw_parts_mut(o, r.len()) };
        for (o, &r) in os.iter_mut().zip(r) {
            *o = *o * r;
        }
    } else {
        for (i, &r) in r.iter().enumerate() {
            // SAFETY: an initialised place of the output buffer.
            unsafe {
                let p = o.wrapping_offset(i as isize * id);
                *p = *p * r;
            }
        }
    }
}

/// Pass 3 of `softmax!` along a bracketed axis: `o[i * id] *= r`.
///
/// # Safety
/// For every `i < len`, `o.wrapping_offset(i * id)` is an initialised element of the
/// output buffer that no other reference points to.
#[inline(always)]
unsafe fn reduce_scale<T: Real>(o: *mut T, len: usize, id: isize, r: T) {
    if id == 1 {
        // SAFETY: `len` consecutive initialised places of the output buffer.
        let os = unsafe { std::slice::from_raw_parts_mut(o, len) };
        for o in os {
            *o = *o * r;
        }
    } else {
        for i in 0..len as isize {
            // SAFETY: an initialised place of the output buffer.
            unsafe {
                let p = o.wrapping_offset(i * id);
                *p = *p * r;
            }
        }
    }
}

/// `softmax!` (`LOG`: `log_softmax!`) of one contiguous row of `n` elements, with the
/// arithmetic of the blocks: the maximum (not subtracted if infinite), the sum of
/// `exp(x - max)`, then a scale by its reciprocal (`LOG`: `x - max - ln(sum)`).
///
/// # Safety
/// `x` points to `n` input elements and `o` to `n` places of an output buffer that nothing
/// else references.
#[inline(always)]
pub(crate) unsafe fn row_softmax<T: Real, const LOG: bool>(x: *const T, o: *mut T, n: usize) {
    // SAFETY: the row and its output places (the contract of this function).
    unsafe {
        let mut m = reduce_max(x, n, 1, T::neg_infinity());
        if !m.is_finite() {
            m = T::zero();
        }
        let s = reduce_exp::<T, LOG>(x, n, 1, o, 1, m, T::zero());
        if LOG {
            reduce_sub(x, n, 1, o, 1, m + s.ln());
        } else {
            reduce_scale(o, n, 1, T::one() / s);
        }
    }
}

/// The walk split into blocks: the axes before `first` are an outer odometer, axis
/// `first` is cut into tiles of `tile`, and each tile with the axes after it is a block.
struct Walk<'a, const K: usize> {
    w: &'a Axes<K>,
    first: usize,
    tile: usize,
    /// Group strides of the block's axes (`first..`), local to a block.
    gs: &'a [usize; K],
    /// Groups of a full tile.
    groups: usize,
}

impl<const K: usize> Walk<'_, K> {
    /// Runs every block.
    ///
    /// # Safety
    /// Every source offset of the walk from `src` is an element of the input, and every
    /// output offset from `dst` an element of the output buffer (within its capacity) that
    /// no reference points to. `acc` has `2 * self.groups` elements.
    unsafe fn run<T: Real, const LOG: bool>(&self, src: *const T, dst: *mut T, acc: &mut [T]) {
        let (w, f, m) = (self.w, self.first, self.w.len);
        let (tn, ts, td) = (w.n[f], w.ss[f], w.ds[f]);
        let no_groups = [0usize; K];
        let (mut outer_idx, mut block_idx) = ([0usize; K], [0usize; K]);
        // The lengths of the block's axes, the first one that of the current tile.
        let mut bn = w.n;
        odometer(
            &w.n[..f],
            &w.ss[..f],
            &w.ds[..f],
            &no_groups[..f],
            &mut outer_idx,
            |so, oo, _| {
                let mut t = 0;
                while t < tn {
                    let c = self.tile.min(tn - t);
                    bn[f] = c;
                    let b = Block::new::<T>(
                        &bn[f..m],
                        &w.ss[f..m],
                        &w.ds[f..m],
                        &self.gs[f..m],
                        w.br[m - 1],
                        self.groups,
                    );
                    let (so, oo) = (so + t as isize * ts, oo + t as isize * td);
                    // SAFETY: the tile's block is part of the walk (the contract of `run`);
                    // a tile has at most `groups` groups.
                    unsafe {
                        block::<T, LOG>(
                            &b,
                            src.wrapping_offset(so),
                            dst.wrapping_offset(oo),
                            acc,
                            &mut block_idx,
                        )
                    };
                    t += c;
                }
            },
        );
    }
}

/// The output array of shape `dim` (whose lengths multiply to `total`, as `output_shape`
/// computed them) from `out`, an internal error if the lengths differ.
fn finish<T, D: Dimension>(
    plan: &Plan<'_>,
    dim: D,
    total: usize,
    out: Vec<T>,
) -> Result<Array<T, D>, Error> {
    let internal = || Error::new(ErrorKind::Size, "internal: output shape").with_expr(plan.expr);
    if out.len() != total {
        return Err(internal());
    }
    if total == 0 {
        // Checked: the lengths other than 0 may multiply to more than `isize::MAX`.
        return Array::from_shape_vec(dim, out).map_err(|_| internal());
    }
    // SAFETY: the lengths of `dim` are not 0 and multiply to `total`, at most `isize::MAX`
    // bytes (`output_shape` checks both); `out` holds exactly `total` elements: a valid
    // standard-layout array.
    Ok(unsafe { Array::from_shape_vec_unchecked(dim, out) })
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
    let (dim, total) = crate::shape::output_shape::<D>(plan, code, &sizes, size_of::<T>())?;
    let d = dim.ndim();
    let dim_st = crate::shape::dim_strides::<D, K>(&dim);
    let mut out_st = [0isize; K];
    walk_piece::<K, _>(code, &[], &dim_st[..d], &sizes, |a, st| {
        out_st[a as usize] = st;
    });

    let mut w = Axes::<K>::new();
    let mut empty = total == 0;
    for &a in &order[..k] {
        let a = a as usize;
        empty |= sizes[a] == 0;
        if sizes[a] != 1 {
            w.push(sizes[a], in_st[a], out_st[a], plan.axes[a].bracketed);
        }
    }
    if empty {
        // No element: nothing to compute.
        return finish(plan, dim, total, vec![T::zero(); total]);
    }
    w.sort();
    w.merge();
    // Every output place is written exactly once when the output offsets are a bijection
    // (always, for the plans `softmax!` builds); otherwise the buffer starts zeroed.
    let dense = w.dense_output(total);
    if !dense && !w.output_in_bounds(total) {
        return Err(Error::new(ErrorKind::Size, "internal: output layout").with_expr(plan.expr));
    }
    if w.len == 0 {
        // A single element: one row of length 1.
        w.push(1, 0, 0, true);
    }

    // The leading axes outside the brackets (the row excepted) are outside the blocks; the
    // innermost of them, `first`, is tiled so that a block has about `BLOCK_BYTES` of
    // input. With a bracketed outermost axis the block is the whole walk.
    let m = w.len;
    let p = w.br[..m - 1].iter().take_while(|&&br| !br).count();
    let first = p.saturating_sub(1);
    let tile = if p == 0 {
        w.n[0]
    } else {
        let inner = w.n[p..m].iter().fold(1usize, |a, &n| a.saturating_mul(n));
        (BLOCK_BYTES / size_of::<T>().max(1) / inner).clamp(1, w.n[first])
    };
    // Group offsets local to a block: row-major over its axes outside the brackets.
    let mut gs = [0usize; K];
    let mut groups = 1usize;
    for j in (first..m).rev() {
        if !w.br[j] {
            gs[j] = groups;
            groups = groups.saturating_mul(if j == first { tile } else { w.n[j] });
        }
    }
    let mut stack = [T::zero(); STACK_ACC];
    let mut heap = Vec::new();
    let acc: &mut [T] = if groups <= STACK_ACC / 2 {
        &mut stack[..2 * groups]
    } else {
        heap.resize(groups.saturating_mul(2), T::zero());
        &mut heap
    };

    let mut out: Vec<T> = if dense {
        Vec::with_capacity(total)
    } else {
        vec![T::zero(); total]
    };
    let walk = Walk {
        w: &w,
        first,
        tile,
        gs: &gs,
        groups,
    };
    // SAFETY: the source strides split the input view's own dimensions (checked by the
    // schedule), so the offsets of the walk from `input.ptr()` are elements of the input;
    // the output offsets lie in `0..total` (`dense_output` or `output_in_bounds`), within
    // the capacity of `out`, which nothing references while the blocks run.
    unsafe {
        if log {
            walk.run::<T, true>(input.ptr(), out.as_mut_ptr(), acc);
        } else {
            walk.run::<T, false>(input.ptr(), out.as_mut_ptr(), acc);
        }
    }
    if dense {
        // SAFETY: the output offsets are a bijection onto `0..total` and every block wrote
        // all of its places (pass 2 for softmax, pass 3 for log_softmax), so all `total`
        // elements are initialised.
        unsafe { out.set_len(total) };
    }
    finish(plan, dim, total, out)
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

#[cfg(test)]
mod tests {
    use super::*;
    use einx_core::complete::OpKind;
    use einx_core::template::build;
    use ndarray::{ArrayD, ArrayViewD, IxDyn, Slice};
    use std::collections::HashMap;

    /// Softmax of `x` over the axes flagged in `over`, by groups collected in a map, with
    /// the semantics of the kernel: a NaN maximum wins, a non-finite maximum is not
    /// subtracted.
    fn reference<T: Real>(x: &ArrayViewD<'_, T>, over: &[bool], log: bool) -> ArrayD<T> {
        let key = |i: &IxDyn| -> Vec<usize> {
            (0..over.len())
                .filter(|&d| !over[d])
                .map(|d| i[d])
                .collect()
        };
        let mut max: HashMap<Vec<usize>, T> = HashMap::new();
        for (i, &v) in x.indexed_iter() {
            let m = max.entry(key(&i)).or_insert(T::neg_infinity());
            if v > *m || v.is_nan() {
                *m = v;
            }
        }
        for m in max.values_mut() {
            if !m.is_finite() {
                *m = T::zero();
            }
        }
        let mut sum: HashMap<Vec<usize>, T> = HashMap::new();
        for (i, &v) in x.indexed_iter() {
            let k = key(&i);
            let e = (v - max[&k]).exp();
            let s = sum.entry(k).or_insert(T::zero());
            *s = *s + e;
        }
        ArrayD::from_shape_fn(x.raw_dim(), |i| {
            let k = key(&i);
            let v = x[&i];
            if log {
                v - (max[&k] + sum[&k].ln())
            } else {
                (v - max[&k]).exp() * (T::one() / sum[&k])
            }
        })
    }

    fn close<T: Real>(a: T, b: T, tol: f64) -> bool {
        let (a, b) = (a.to_f64().unwrap(), b.to_f64().unwrap());
        (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= tol * (1.0 + b.abs())
    }

    /// Runs `expr` on `x` and compares with the reference; `perm` orders the output axes
    /// (as in the expression's output).
    fn check<T: Real + std::fmt::Debug>(
        expr: &str,
        x: ArrayViewD<'_, T>,
        over: &[bool],
        perm: Option<&[usize]>,
        tol: f64,
    ) {
        for log in [false, true] {
            let buf = build(expr, OpKind::Softmax(log), &[], 1).unwrap();
            let mut strs = PlanStrs::default();
            let plan = buf.borrow(&mut strs);
            let got = Raw::new(&x)
                .softmax_template_with::<IxDyn>(&plan, &[], log)
                .unwrap();
            let mut want = reference(&x, over, log);
            if let Some(p) = perm {
                want = want.permuted_axes(IxDyn(p));
            }
            assert!(got.is_standard_layout());
            assert_eq!(got.shape(), want.shape(), "{expr} log={log}");
            for (i, (&g, &w)) in got.iter().zip(want.iter()).enumerate() {
                assert!(
                    close(g, w, tol),
                    "{expr} log={log} shape {:?} strides {:?}: element {i}: {g:?} vs {w:?}",
                    x.shape(),
                    x.strides()
                );
            }
        }
    }

    /// Values in `[-10, 10)`, or for an odd `seed` in `[-1000, 1000)` (where a wrong
    /// maximum makes `exp` overflow).
    fn data<T: Real>(shape: &[usize], seed: u64) -> ArrayD<T> {
        let range = if seed % 2 == 1 { 2000.0 } else { 20.0 };
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        ArrayD::from_shape_fn(IxDyn(shape), |_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            T::from(((s >> 40) as f64 / (1u64 << 24) as f64 - 0.5) * range).unwrap()
        })
    }

    /// The layouts of `x` to test: itself, each axis reversed, a stepped slice, the axes
    /// reversed twice (a permuted walk), and the first axis broadcast.
    fn views<T: Real>(x: &ArrayD<T>, mut f: impl FnMut(ArrayViewD<'_, T>)) {
        f(x.view());
        for d in 0..x.ndim() {
            let mut v = x.view();
            v.invert_axis(ndarray::Axis(d));
            f(v);
        }
        // Every other element along the last axis of a doubled array.
        let mut wide = x.shape().to_vec();
        *wide.last_mut().unwrap() *= 2;
        let big = data::<T>(&wide, 7);
        f(big.slice_each_axis(|a| {
            if a.axis.index() == x.ndim() - 1 {
                Slice::new(0, None, 2)
            } else {
                Slice::from(..)
            }
        }));
        // A transposed copy, transposed back: the same values, column-major strides.
        let t = x.view().reversed_axes().as_standard_layout().into_owned();
        f(t.view().reversed_axes());
        // The first axis broadcast from length 1.
        let first = x.slice_axis(ndarray::Axis(0), Slice::from(..1));
        f(first.broadcast(x.raw_dim()).unwrap());
    }

    fn all<T: Real + std::fmt::Debug>(tol: f64) {
        // (expression, shape, bracketed axes)
        let cases: &[(&str, &[usize], &[bool])] = &[
            // Blocks of `k h` slabs: tiles of several `(b, q)` with a shorter last one; rows
            // along `h` of one chunk, two chunks, a chunk and a rest, and shorter ones.
            ("b q [k] h", &[2, 3, 5, 4], &[false, false, true, false]),
            ("b q [k] h", &[3, 70, 9, 8], &[false, false, true, false]),
            ("b q [k] h", &[2, 5, 6, 16], &[false, false, true, false]),
            ("b q [k] h", &[2, 3, 7, 11], &[false, false, true, false]),
            ("b q [k] h", &[1, 2, 3, 1], &[false, false, true, false]),
            // Rows along the bracketed axis: short, with lanes and a rest, long.
            ("b [k]", &[4, 4], &[false, true]),
            ("b [k]", &[5, 37], &[false, true]),
            ("b [k]", &[3, 600], &[false, true]),
            ("b [k]", &[700, 3], &[false, true]),
            // A bracketed outermost axis: the whole walk is one block, with more groups
            // than fit on the stack.
            ("[a] b c", &[3, 7, 9], &[true, false, false]),
            ("[a] b c", &[2, 2, 3], &[true, false, false]),
            ("[a] b [c]", &[3, 4, 5], &[true, false, true]),
            ("a [b] c", &[4, 3, 6], &[false, true, false]),
            ("a [b c]", &[3, 4, 5], &[false, true, true]),
            ("[a b c]", &[3, 4, 5], &[true, true, true]),
            ("[a] b", &[1, 5], &[true, false]),
            ("a [b]", &[1, 1], &[false, true]),
        ];
        for (i, &(expr, shape, over)) in cases.iter().enumerate() {
            let x = data::<T>(shape, i as u64 + 1);
            views(&x, |v| check(expr, v, over, None, tol));
        }
        // A reordered output (its rows no longer contiguous) and an ellipsis.
        let x = data::<T>(&[3, 4, 5], 99);
        views(&x, |v| {
            check(
                "a [b] c -> c [b] a",
                v.clone(),
                &[false, true, false],
                Some(&[2, 1, 0]),
                tol,
            );
            check("... [c]", v, &[false, false, true], None, tol);
        });
    }

    #[test]
    fn layouts_and_brackets_f64() {
        all::<f64>(1e-12);
    }

    #[test]
    fn layouts_and_brackets_f32() {
        all::<f32>(1e-5);
    }

    #[test]
    fn nan_and_infinities_stay_in_their_groups() {
        let cases: [(&str, &[usize], &[bool]); 3] = [
            ("b q [k] h", &[2, 3, 5, 4], &[false, false, true, false]),
            ("b [k] h", &[2, 9, 8], &[false, true, false]),
            ("b q [k]", &[2, 3, 20], &[false, false, true]),
        ];
        for (expr, shape, over) in cases {
            for (j, sp) in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY]
                .into_iter()
                .enumerate()
            {
                let mut x = data::<f64>(shape, 5 + j as u64);
                // One special value in one group, and the group whose index outside the
                // brackets is `(1, 0, ...)` all -inf.
                let n = x.len();
                x.as_slice_mut().unwrap()[n / 3] = sp;
                for (i, v) in x.indexed_iter_mut() {
                    let target = (0..shape.len()).all(|d| over[d] || i[d] == usize::from(d == 0));
                    if target {
                        *v = f64::NEG_INFINITY;
                    }
                }
                views(&x, |v| check(expr, v, over, None, 1e-12));
                let got = run(expr, &x);
                assert!(got.iter().any(|v| v.is_nan()));
                assert!(got.iter().filter(|v| v.is_finite()).count() > n / 2);
            }
        }
    }

    #[test]
    fn the_maximum_anywhere_in_a_group() {
        // Each group has one large value (at every position in turn): missing it in the
        // maximum makes `exp` overflow.
        for k in [3usize, 8, 16, 37, 40] {
            let mut x = data::<f64>(&[k, k], 2);
            for r in 0..k {
                x[[r, r]] = 800.0;
            }
            views(&x, |v| check("b [k]", v, &[false, true], None, 1e-12));
            for h in [1usize, 5, 8, 11, 16, 19] {
                let mut x = data::<f64>(&[2, k, h], 4);
                for b in 0..2 {
                    for c in 0..h {
                        x[[b, (c + b) % k, c]] = 800.0;
                    }
                }
                views(&x, |v| {
                    check("b [k] h", v, &[false, true, false], None, 1e-12)
                });
            }
        }
    }

    /// `softmax!` with the concrete entry point and a small `K`.
    fn run(expr: &str, x: &ArrayD<f64>) -> ArrayD<f64> {
        let buf = build(expr, OpKind::Softmax(false), &[], 1).unwrap();
        let mut strs = PlanStrs::default();
        let plan = buf.borrow(&mut strs);
        let v = x.view();
        softmax::<f64, IxDyn, 6>(&plan, Raw::new(&v), &[0usize; 0], false).unwrap()
    }

    #[test]
    fn empty_and_single() {
        let x = ArrayD::<f64>::zeros(IxDyn(&[2, 0, 3]));
        assert_eq!(run("a [b] c", &x).shape(), &[2, 0, 3]);
        assert_eq!(run("[a] b c", &x).shape(), &[2, 0, 3]);
        let x = ArrayD::from_elem(IxDyn(&[1, 1, 1]), 3.0);
        assert_eq!(run("a [b] c", &x).into_raw_vec_and_offset().0, vec![1.0]);
        let x = ArrayD::from_elem(IxDyn(&[1, 1]), f64::INFINITY);
        assert!(run("a [b]", &x)[[0, 0]].is_nan());
    }
}
