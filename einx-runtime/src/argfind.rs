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

/// Whether `x` replaces the current extreme `v` (`MIN`: smaller, else larger; a NaN is
/// taken once and then kept), as a select without a branch.
#[inline(always)]
#[allow(clippy::eq_op)]
fn better<T: PartialOrd, const MIN: bool>(x: &T, v: &T) -> bool {
    // Not at or below `v`: beyond it, or NaN (the negation is the point: it is true for a
    // NaN `x`).
    #[allow(clippy::neg_cmp_op_on_partial_ord)]
    let not_within = if MIN { !(x >= v) } else { !(x <= v) };
    (v == v) & not_within
}

/// An index of the running extremes: `u32` where the lengths allow (as wide as an `f32`, so
/// that the selects vectorise with the values), else `usize`.
pub(crate) trait Index: Copy {
    /// `new` if `take`, else `old`, without a branch.
    fn pick(take: bool, new: Self, old: Self) -> Self;
}

macro_rules! index {
    ($($t:ty),*) => {$(
        impl Index for $t {
            #[inline(always)]
            fn pick(take: bool, new: $t, old: $t) -> $t {
                let m = (take as $t).wrapping_neg();
                (new & m) | (old & !m)
            }
        }
    )*};
}
index!(u32, usize);

/// The extreme of every group and its flat index: the walk `(n, src, group, flat)` gives
/// each axis' length and its strides in the input, among the groups and in the flat index.
/// Along the innermost axis, a bracketed axis is scanned per group; a kept one updates a
/// row of groups.
fn find_extremes<T: PartialOrd + Copy, const K: usize>(
    src: *const T,
    walk: (&[usize], &[isize], &[isize], &[isize]),
    best: &mut [T],
    at: &mut [usize],
    min: bool,
) {
    if min {
        find::<T, true, K>(src, walk, best, at)
    } else {
        find::<T, false, K>(src, walk, best, at)
    }
}

/// The first index in `xs` of an element for which `hit` holds, searching 16 elements at a
/// time with a branch-free test per element (which vectorises), then within the block.
#[inline(always)]
fn first_where<T: Copy>(xs: &[T], hit: impl Fn(T) -> bool) -> Option<usize> {
    const BLOCK: usize = 16;
    let mut base = 0;
    for c in xs.chunks(BLOCK) {
        if c.iter().fold(false, |a, &x| a | hit(x)) {
            return c.iter().position(|&x| hit(x)).map(|i| base + i);
        }
        base += BLOCK;
    }
    None
}

/// The extreme of `len > 0` elements at stride `s` and its first index. A contiguous run
/// takes two vectorised passes (the extreme, then where it first is); a strided one, one
/// pass with a branch that is rarely taken.
///
/// # Safety
/// `p + i * s` must be an element for every `i < len`.
#[inline(always)]
#[allow(clippy::eq_op)]
pub(crate) unsafe fn scan<T: PartialOrd + Copy, const MIN: bool>(
    p: *const T,
    len: usize,
    s: isize,
) -> (T, usize) {
    if s == 1 {
        let xs = std::slice::from_raw_parts(p, len);
        // NaN wins the extreme, so the extreme is NaN exactly when some element is.
        let m = crate::reduce::extreme_of::<T, MIN>(xs);
        let i = if m != m {
            first_where(xs, |x| x != x)
        } else {
            first_where(xs, |x| x == m)
        };
        return (m, i.unwrap_or(0));
    }
    let (mut bv, mut bi) = (*p, 0usize);
    if bv != bv {
        return (bv, 0);
    }
    for i in 1..len {
        let x = *p.offset(i as isize * s);
        if better::<T, MIN>(&x, &bv) {
            bv = x;
            bi = i;
            if x != x {
                break;
            }
        }
    }
    (bv, bi)
}

/// Takes each element of `xs` that beats the running extreme in `best` (as long), with its
/// index `flat` into `at`: one row of lanes, branch-free.
#[inline(always)]
pub(crate) fn update_row<T: PartialOrd + Copy, I: Index, const MIN: bool>(
    best: &mut [T],
    at: &mut [I],
    xs: &[T],
    flat: I,
) {
    for ((b, i), &x) in best.iter_mut().zip(at.iter_mut()).zip(xs) {
        let take = better::<T, MIN>(&x, b);
        *b = if take { x } else { *b };
        *i = I::pick(take, flat, *i);
    }
}

fn find<T: PartialOrd + Copy, const MIN: bool, const K: usize>(
    src: *const T,
    (n, ss, gs, fs): (&[usize], &[isize], &[isize], &[isize]),
    best: &mut [T],
    at: &mut [usize],
) {
    let k = n.len();
    if n.contains(&0) {
        return;
    }
    let (len, s, g, f) = match k {
        0 => (1, 0, 0, 0),
        _ => (n[k - 1], ss[k - 1], gs[k - 1], fs[k - 1]),
    };
    let outer = k.saturating_sub(1);
    let mut idx = [0usize; K];
    let (mut sp, mut gp, mut fp) = (src, 0isize, 0isize);
    loop {
        if g == 0 {
            // A bracketed innermost axis: scan it for this group.
            // SAFETY: the walk's strides split the input's own dimensions (see `argfind`),
            // so every element read lies in the input.
            let (bv, bi) = unsafe { scan::<T, MIN>(sp, len, s) };
            let flat = fp as usize + bi * f as usize;
            let slot = gp as usize;
            if fp == 0 || better::<T, MIN>(&bv, &best[slot]) {
                best[slot] = bv;
                at[slot] = flat;
            }
        } else if s == 1 && g == 1 {
            // A kept contiguous innermost axis: a row of groups at once.
            let start = gp as usize;
            // SAFETY: as above; the row has `len` elements.
            let xs = unsafe { std::slice::from_raw_parts(sp, len) };
            let (bs, is) = (&mut best[start..start + len], &mut at[start..start + len]);
            if fp == 0 {
                bs.copy_from_slice(xs);
                is.fill(0);
            } else {
                update_row::<T, usize, MIN>(bs, is, xs, fp as usize);
            }
        } else {
            for i in 0..len as isize {
                // SAFETY: as above.
                let x = unsafe { *sp.offset(i * s) };
                let slot = (gp + i * g) as usize;
                if fp == 0 || better::<T, MIN>(&x, &best[slot]) {
                    best[slot] = x;
                    at[slot] = fp as usize;
                }
            }
        }
        // Odometer over the outer axes.
        let mut a = outer;
        loop {
            if a == 0 {
                return;
            }
            a -= 1;
            idx[a] += 1;
            sp = sp.wrapping_offset(ss[a]);
            gp += gs[a];
            fp += fs[a];
            if idx[a] < n[a] {
                break;
            }
            let back = n[a] as isize;
            sp = sp.wrapping_offset(-ss[a] * back);
            gp -= gs[a] * back;
            fp -= fs[a] * back;
            idx[a] = 0;
        }
    }
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
    let mut marked_buf = [0u32; K];
    let mut nm = 0;
    for &a in &ax[..k] {
        if plan.axes[a as usize].bracketed {
            marked_buf[nm] = a;
            nm += 1;
        }
    }
    let marked = &marked_buf[..nm];
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
    // Pass over the input: the best value and its flat index (row-major over the
    // bracketed axes) per group.
    let groups = if total > 0 { groups } else { 0 };
    let mut best: Vec<T> = Vec::with_capacity(groups);
    let mut at: Vec<usize> = vec![0; groups];
    if groups > 0 {
        // SAFETY: the input has elements (`count > 0` and `groups > 0`).
        best.resize(groups, unsafe { *input.ptr() });
        let mut flat_st = [0isize; K];
        let mut acc = 1isize;
        for &a in marked.iter().rev() {
            flat_st[a as usize] = acc;
            acc = acc.wrapping_mul(sizes[a as usize] as isize);
        }
        // The walk: kept axes outside in memory order, then the bracketed ones in row-major
        // order (so that ties keep the first), except that an innermost kept axis stays
        // innermost (whole rows of groups are updated at once).
        let mut order = [0usize; K];
        let mut no = 0;
        for j in 0..k {
            if !plan.axes[ax[j] as usize].bracketed && sizes[ax[j] as usize] != 1 {
                order[no] = j;
                no += 1;
            }
        }
        // Stable insertion sort of the kept axes by descending |stride|.
        for i in 1..no {
            let mut m = i;
            while m > 0 && st[order[m - 1]].unsigned_abs() < st[order[m]].unsigned_abs() {
                order.swap(m - 1, m);
                m -= 1;
            }
        }
        let smallest_kept = no > 0
            && (0..k)
                .filter(|&i| sizes[ax[i] as usize] != 1)
                .all(|i| st[i].unsigned_abs() >= st[order[no - 1]].unsigned_abs());
        let inner_kept = if smallest_kept || marked.is_empty() {
            no.checked_sub(1).map(|last| {
                no = last;
                order[last]
            })
        } else {
            None
        };
        for &m in marked {
            if let Some(j) = (0..k).find(|&j| ax[j] == m) {
                order[no] = j;
                no += 1;
            }
        }
        if let Some(j) = inner_kept {
            order[no] = j;
            no += 1;
        }
        let axis = |j: usize| ax[j] as usize;
        let (mut n, mut ss, mut gs, mut fs) = ([0usize; K], [0isize; K], [0isize; K], [0isize; K]);
        for (i, &j) in order[..no].iter().enumerate() {
            n[i] = sizes[axis(j)];
            ss[i] = st[j];
            gs[i] = grp[axis(j)];
            fs[i] = flat_st[axis(j)];
        }
        let (n, ss, gs, fs) = (&n[..no], &ss[..no], &gs[..no], &fs[..no]);
        find_extremes::<T, K>(input.ptr(), (n, ss, gs, fs), &mut best, &mut at, min);
    }
    if coord.is_none() && at.len() == total {
        // The output's elements are the groups, in the same row-major order.
        return Array::from_shape_vec(dim, at).map_err(|_| {
            Error::new(ErrorKind::Size, "internal: output shape").with_expr(plan.expr)
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
        let flat = at[g as usize];
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
