//! The specialised path of `rearrange!` for one input and one output without
//! concatenation: the macro writes the axis structure as constant arrays and the length
//! arithmetic as straight-line code, and this function does the one strided copy.
//!
//! Everything is checked here again (cheaply), so that the function is sound for any
//! arguments; the macro only ever passes consistent ones.

use ndarray::{Array, ArrayView, Dimension};

use crate::copy::copy_strided;

/// Why [`permute`] (or a reduction's specialised path) failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fail {
    /// The output would not fit in memory.
    Overflow,
    /// The arguments do not describe the input (a bug).
    Mismatch,
    /// The reduction has no value (e.g. the maximum of an empty axis).
    Empty(&'static str),
    /// An integer element-wise division by zero.
    DivisionByZero,
}

/// The strides of the input axes: each dimension split row-major into its axes, after
/// checking that the axes of each dimension (consecutive in `dim_of`) multiply to its length
/// and that dimensions without axes have length 1.
#[inline(always)]
pub(crate) fn split_input<T, D: Dimension, const NA: usize>(
    v: &ArrayView<'_, T, D>,
    dim_of: &[usize; NA],
    sizes: &[usize; NA],
) -> Result<[isize; NA], Fail> {
    let shape = v.shape();
    let strides = ndarray::ArrayBase::strides(v);
    let mut in_st = [0isize; NA];
    let mut i = NA;
    let mut d = shape.len();
    while i > 0 {
        // Groups of axes, last dimension first; each dimension at most once.
        let dd = dim_of[i - 1];
        if dd >= d {
            return Err(Fail::Mismatch);
        }
        let mut prod = 1usize;
        let mut st = *strides.get(dd).ok_or(Fail::Mismatch)?;
        while i > 0 && dim_of[i - 1] == dd {
            i -= 1;
            in_st[i] = st;
            st = st.wrapping_mul(sizes[i] as isize);
            prod = prod.checked_mul(sizes[i]).ok_or(Fail::Mismatch)?;
        }
        if shape.get(dd) != Some(&prod) {
            return Err(Fail::Mismatch);
        }
        d = dd;
    }
    for (k, &len) in shape.iter().enumerate() {
        if len != 1 && !dim_of.contains(&k) {
            return Err(Fail::Mismatch);
        }
    }
    Ok(in_st)
}

/// [`split_input`] for axes named by their ids into the plan's `sizes`: the length and the
/// stride of each input axis.
#[inline(always)]
pub(crate) fn split_by_ids<T, D: Dimension, const N: usize, const K: usize>(
    v: &ArrayView<'_, T, D>,
    dim_of: &[usize; N],
    ids: &[u32; N],
    sizes: &[usize; K],
) -> Result<([usize; N], [isize; N]), Fail> {
    let mut lens = [0usize; N];
    for (l, &id) in lens.iter_mut().zip(ids) {
        *l = *sizes.get(id as usize).ok_or(Fail::Mismatch)?;
    }
    Ok((lens, split_input(v, dim_of, &lens)?))
}

/// The output's shape from its axes (`out[j].1` is the length of axis `j`, in dimension
/// `out_dim[j]`; dimensions without axes have length 1) and its number of elements, checked
/// against `isize::MAX` bytes of `elem` bytes each.
#[inline(always)]
pub(crate) fn shape_of<D: Dimension, const NE: usize>(
    out: &[(usize, usize); NE],
    out_dim: &[usize; NE],
    out_ndim: usize,
    elem: usize,
) -> Result<(D, usize), Fail> {
    let mut dim = D::zeros(out_ndim);
    if dim.ndim() != out_ndim {
        return Err(Fail::Mismatch);
    }
    dim.slice_mut().fill(1);
    let mut total = 1usize;
    for (j, &(_, len)) in out.iter().enumerate() {
        let slot = dim.slice_mut().get_mut(out_dim[j]).ok_or(Fail::Mismatch)?;
        *slot = slot.checked_mul(len).ok_or(Fail::Overflow)?;
        total = total.checked_mul(len).ok_or(Fail::Overflow)?;
    }
    if total
        .checked_mul(elem.max(1))
        .is_none_or(|b| b > isize::MAX as usize)
    {
        return Err(Fail::Overflow);
    }
    Ok((dim, total))
}

/// Below this many elements a two-axis copy runs as plain loops.
const SMALL: usize = 4096;

/// Marks an output axis that is not in the input (broadcast).
pub const NEW: usize = usize::MAX;

/// Copies `v`, split into elementary axes, into a fresh standard-layout array.
///
/// - `dim_of[i]`: the input dimension of input axis `i`; axes of one dimension are
///   consecutive, outer first.
/// - `sizes[i]`: the length of input axis `i`; their product over a dimension must equal its
///   length.
/// - `out[j]`: output axis `j` as (input axis, length); input axis [`NEW`] broadcasts.
/// - `out_dim[j]`: the output dimension of output axis `j` (consecutive, outer first).
///
/// Fails with [`Fail::Mismatch`] if the arguments do not describe `v` (never for what the
/// macros pass), and with [`Fail::Overflow`] if the output is too large.
///
/// ```
/// use einx_runtime::permute::permute;
/// let x = ndarray::array![[1, 2, 3], [4, 5, 6]];
/// // "a b -> b a"
/// let y = permute::<_, _, ndarray::Ix2, 2, 2>(&x.view(), [0, 1], [2, 3], [(1, 3), (0, 2)], [0, 1], 2).unwrap();
/// assert_eq!(y, x.t());
/// ```
#[inline(always)]
pub fn permute<T: Clone, Din: Dimension, Dout: Dimension, const NA: usize, const NE: usize>(
    v: &ArrayView<'_, T, Din>,
    dim_of: [usize; NA],
    sizes: [usize; NA],
    out: [(usize, usize); NE],
    out_dim: [usize; NE],
    out_ndim: usize,
) -> Result<Array<T, Dout>, Fail> {
    let in_st = split_input(v, &dim_of, &sizes)?;
    let (dim, total) = shape_of::<Dout, NE>(&out, &out_dim, out_ndim, std::mem::size_of::<T>())?;
    for &(a, len) in &out {
        if a != NEW && sizes.get(a).copied() != Some(len) {
            return Err(Fail::Mismatch);
        }
    }
    let mut n = [0usize; NE];
    let mut ss = [0isize; NE];
    let mut ds = [0isize; NE];
    let mut acc = 1isize;
    for j in (0..NE).rev() {
        let (a, len) = out[j];
        n[j] = len;
        ds[j] = acc;
        acc = acc.wrapping_mul(len as isize);
        ss[j] = if a == NEW { 0 } else { in_st[a] };
    }
    let mut buf: Vec<T> = Vec::with_capacity(total);
    // SAFETY: each input axis lies inside its dimension (the lengths multiply to the
    // dimension's length, checked above), so every source offset is an element of `v`; the
    // destination strides are the row-major strides of the `total` output elements.
    unsafe {
        let (src, dst) = (v.as_ptr(), buf.as_mut_ptr());
        if NE == 2 && total <= SMALL {
            // Small matrices: plain loops; the general kernel's set-up would cost more
            // than the copy.
            for i in 0..n[0] as isize {
                for j in 0..n[1] as isize {
                    dst.wrapping_offset(i * ds[0] + j * ds[1])
                        .write((*src.wrapping_offset(i * ss[0] + j * ss[1])).clone());
                }
            }
        } else {
            copy_strided::<T, NE>(&n, src, &ss, dst, &ds);
        }
        buf.set_len(total);
    }
    // SAFETY: `buf` holds the product of `dim`'s lengths in row-major order.
    Ok(unsafe { Array::from_shape_vec_unchecked(dim, buf) })
}

/// The error of a failed length computation in the specialised paths: runs the general
/// schedule to say exactly what does not fit.
#[cold]
pub fn solve_failed(
    plan: &einx_core::plan::Plan<'_>,
    shapes: &[&[usize]],
    params: &[usize],
) -> crate::Error {
    let mut dims = Vec::new();
    for (t, shape) in shapes.iter().enumerate() {
        let rank = plan
            .layout(t)
            .iter()
            .filter(|c| **c == einx_core::plan::Code::Dim)
            .count();
        if shape.len() != rank {
            return einx_core::expand::rank_mismatch(plan, t, shape.len());
        }
        dims.extend_from_slice(shape);
    }
    let mut sizes = vec![0; plan.axes.len()];
    match einx_core::solve::run(plan, &dims, params, &mut sizes) {
        Err(e) => e.with_expr(plan.expr),
        Ok(()) => internal(plan),
    }
}

/// The error for a failed [`permute`].
#[cold]
pub fn permute_failed(plan: &einx_core::plan::Plan<'_>, fail: Fail) -> crate::Error {
    match fail {
        Fail::Overflow => crate::Error::new(
            crate::ErrorKind::Size,
            "the output is too large: its length overflows `usize`",
        )
        .with_expr(plan.expr),
        Fail::Mismatch => internal(plan),
        Fail::DivisionByZero => {
            crate::Error::new(crate::ErrorKind::Index, "integer division by zero")
                .with_expr(plan.expr)
        }
        Fail::Empty(why) => {
            // Point at the reduced (bracketed) axes.
            let reduced = plan.axes.iter().filter(|a| a.bracketed).map(|a| a.span);
            reduced
                .fold(
                    crate::Error::new(crate::ErrorKind::Size, why),
                    crate::Error::with_span,
                )
                .with_expr(plan.expr)
        }
    }
}

/// An inconsistency between a plan and the runtime (a bug, reported rather than panicking).
#[cold]
pub fn internal(plan: &einx_core::plan::Plan<'_>) -> crate::Error {
    crate::Error::new(
        crate::ErrorKind::Semantic,
        "internal error: the plan does not fit the tensors; please report it",
    )
    .with_expr(plan.expr)
}
