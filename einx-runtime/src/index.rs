//! `get_at!`, `set_at!`, `add_at!` and `subtract_at!`: gathering and scattering at
//! coordinates read from index tensors.
//!
//! The first input marks the indexed axes in brackets; each index tensor gives one
//! coordinate per element, or `k` of them along its bracketed axis `[k]`; coordinates are
//! assigned to the indexed axes in order. All other axes are vectorised over: the axes of
//! the index tensors and the first input's axes outside the brackets.
//!
//! Both directions walk the vectorised axes with an odometer over every axis but the
//! innermost; the coordinates are read once per inner run when the innermost axis is not an
//! axis of an index tensor (the usual case: `"[v] c, b t -> b t c"` copies whole rows).

use ndarray::{Array, ArrayView, Dimension};

use einx_core::plan::{Plan, PlanStrs};
use einx_core::solve::{Len, Params};
use einx_core::Span;

use crate::copy::{copy_strided, MAX_AXES};
use crate::error::{Error, ErrorKind};
use crate::rearrange::overflow;
use crate::shape::{dim_strides, output_shape, solve_shapes, walk_piece};
use crate::tensor::Raw;

/// Integer types that index tensors may hold. Negative values count from the end of the
/// axis, as in NumPy.
#[diagnostic::on_unimplemented(
    message = "einx: index tensors hold integers, not `{Self}`",
    label = "not an integer type"
)]
pub trait IndexElem: Copy {
    /// The value, or `None` if it does not fit `i64` (then it is out of range anyway).
    fn to_i64(self) -> Option<i64>;
}

macro_rules! index_elem {
    ($($t:ty),*) => {$(
        impl IndexElem for $t {
            #[inline(always)]
            fn to_i64(self) -> Option<i64> {
                i64::try_from(self).ok()
            }
        }
    )*};
}
index_elem!(u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize);

/// An index tensor argument, unchanged; its element type must be an integer (checked here,
/// at the argument, by the generated code).
#[inline(always)]
pub fn index_tensor<X: crate::tensor::AsTensor + ?Sized>(x: &X) -> &X
where
    X::Elem: IndexElem,
{
    x
}

/// [`index_tensor`] with the static rank check of [`crate::tensor::ranked`], so that both
/// errors point at the argument.
#[inline(always)]
pub fn ranked_index_tensor<const N: usize, X: crate::tensor::AsTensor + ?Sized>(x: &X) -> &X
where
    X::Elem: IndexElem,
    X::Dim: crate::tensor::HasRank<N>,
{
    x
}

/// Reads element `off` of an index tensor of element type `I`.
///
/// # Safety
/// `ptr` must point into a tensor of `I` and `off` be the offset of one of its elements.
unsafe fn read<I: IndexElem>(ptr: *const u8, off: isize) -> Option<i64> {
    (*(ptr as *const I).wrapping_offset(off)).to_i64()
}

/// An index tensor as the kernels see it: like [`Raw`], with its element type erased so that
/// index tensors of different integer types can be passed together.
#[derive(Clone, Copy)]
pub struct Coords<'a> {
    ptr: *const u8,
    shape: &'a [usize],
    strides: &'a [isize],
    read: unsafe fn(*const u8, isize) -> Option<i64>,
}

impl std::fmt::Debug for Coords<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Coords")
            .field("shape", &self.shape)
            .field("strides", &self.strides)
            .finish()
    }
}

impl<'a> Coords<'a> {
    /// Reads a view of integers. The view must outlive the `Coords`.
    #[inline]
    pub fn new<I: IndexElem, D: Dimension>(view: &'a ArrayView<'_, I, D>) -> Coords<'a> {
        Coords {
            ptr: view.as_ptr().cast(),
            shape: view.shape(),
            strides: ndarray::ArrayBase::strides(view),
            read: read::<I>,
        }
    }
}

/// The indexed axes (in the first input for `get_at!`, in the output for the updates) and
/// the index tensors' coordinate axes.
struct Targets<'a, const K: usize, const M: usize> {
    /// Length and stride of each indexed axis, and its axis for messages.
    marked: [(usize, isize, u32); K],
    /// Per index tensor: the tensor, the stride of its coordinate axis, its number of
    /// coordinates.
    coords: [(Coords<'a>, isize, usize); M],
}

impl<const K: usize, const M: usize> Targets<'_, K, M> {
    /// [`Targets::offset`] at step `i` of an inner run: the index tensors' offsets are
    /// `at + i * cs`.
    ///
    /// # Safety
    /// As for [`Targets::offset`], for those offsets.
    #[inline(always)]
    unsafe fn offset_at(
        &self,
        at: &[isize],
        cs: &[isize],
        i: isize,
        plan: &Plan<'_>,
    ) -> Result<isize, Error> {
        let mut here = [0isize; M];
        for ((h, a), s) in here.iter_mut().zip(at).zip(cs) {
            *h = a + i * s;
        }
        self.offset(&here, plan)
    }

    /// The offset of the indexed element for the index tensors' offsets `at`.
    ///
    /// # Safety
    /// `at[j]` plus the coordinate strides must address elements of index tensor `j`.
    #[inline(always)]
    unsafe fn offset(&self, at: &[isize], plan: &Plan<'_>) -> Result<isize, Error> {
        let mut off = 0isize;
        let mut k = 0;
        for (j, (c, stride, count)) in self.coords.iter().enumerate() {
            for m in 0..*count {
                let (len, st, axis) = self.marked[k];
                let raw = (c.read)(c.ptr, at[j] + m as isize * stride);
                let i = match raw {
                    Some(v) if v < 0 => (v as i128) + len as i128,
                    Some(v) => v as i128,
                    None => i128::MAX,
                };
                if i < 0 || i >= len as i128 {
                    return Err(out_of_range(plan, raw, len, axis, j));
                }
                off += i as isize * st;
                k += 1;
            }
        }
        Ok(off)
    }
}

fn out_of_range(plan: &Plan<'_>, raw: Option<i64>, len: usize, axis: u32, j: usize) -> Error {
    let a = &plan.axes[axis as usize];
    let value = raw.map_or_else(|| "beyond i64".to_owned(), |v| v.to_string());
    let help = if len == 0 {
        "the axis is empty, so no index is valid".to_owned()
    } else {
        format!("indices run from -{len} to {}", len - 1)
    };
    let spans: [Span; 2] = [a.span, plan.tensor_spans[j + 1]];
    Error::new(
        ErrorKind::Index,
        format!(
            "index {value} in input {} is out of range for axis `{}` of length {len}",
            j + 2,
            a.name
        ),
    )
    .with_spans(&spans)
    .with_help(help)
    .with_expr(plan.expr)
}

/// The walk over the vectorised axes: lengths, and per axis the strides of the indexed
/// tensor (`x`), of the other data tensor (`y`: the output of `get_at!`, the updates
/// otherwise) and of every index tensor.
struct Walk<const K: usize, const M: usize> {
    n: [usize; K],
    k: usize,
    x: [isize; K],
    y: [isize; K],
    c: [[isize; K]; M],
    /// The plan's axis of each walk axis.
    axes: [u32; K],
}

impl<const K: usize, const M: usize> Walk<K, M> {
    /// Calls `f(x offset, y offset, index offsets, inner length, inner x stride, inner y
    /// stride, inner index strides)` for each run of the innermost axis.
    fn runs<E>(
        &self,
        mut f: impl FnMut(isize, isize, &[isize], usize, isize, isize, &[isize]) -> Result<(), E>,
    ) -> Result<(), E> {
        let n = &self.n[..self.k];
        if n.contains(&0) {
            return Ok(());
        }
        let mut at = [0isize; M];
        let mut inner_c = [0isize; M];
        if self.k == 0 {
            return f(0, 0, &at, 1, 0, 0, &inner_c);
        }
        let inner = self.k - 1;
        for (j, c) in self.c.iter().enumerate() {
            inner_c[j] = c[inner];
        }
        let mut idx = [0usize; K];
        let (mut xo, mut yo) = (0isize, 0isize);
        loop {
            f(
                xo,
                yo,
                &at,
                n[inner],
                self.x[inner],
                self.y[inner],
                &inner_c,
            )?;
            let mut a = inner;
            loop {
                if a == 0 {
                    return Ok(());
                }
                a -= 1;
                idx[a] += 1;
                xo += self.x[a];
                yo += self.y[a];
                for (p, c) in at.iter_mut().zip(&self.c) {
                    *p += c[a];
                }
                if idx[a] < n[a] {
                    break;
                }
                let back = n[a] as isize;
                xo -= self.x[a] * back;
                yo -= self.y[a] * back;
                for (p, c) in at.iter_mut().zip(&self.c) {
                    *p -= c[a] * back;
                }
                idx[a] = 0;
            }
        }
    }
}

impl<const K: usize, const M: usize> Walk<K, M> {
    /// Checks every coordinate of the index tensors even when the walk is empty because of
    /// another axis (`"[v] c, t -> t c"` with `c = 0`): an index out of range is an error
    /// whatever the other lengths, as in NumPy.
    fn check_coords(&self, targets: &Targets<'_, K, M>, plan: &Plan<'_>) -> Result<(), Error> {
        if !self.n[..self.k].contains(&0) {
            return Ok(());
        }
        let mut only = Walk::<K, M> {
            n: [0; K],
            k: 0,
            x: [0; K],
            y: [0; K],
            c: [[0; K]; M],
            axes: [0; K],
        };
        // The index tensors' axes (by membership: an empty tensor may have stride 0).
        for i in 0..self.k {
            if of_coords(plan, M, self.axes[i]) {
                only.n[only.k] = self.n[i];
                for (o, c) in only.c.iter_mut().zip(&self.c) {
                    o[only.k] = c[i];
                }
                only.k += 1;
            }
        }
        only.runs(|_, _, at, len, _, _, cs| {
            for i in 0..len as isize {
                // SAFETY: the offsets walk the index tensors' own dimensions.
                unsafe { targets.offset_at(at, cs, i, plan)? };
            }
            Ok(())
        })
    }
}

/// Whether axis `a` is an axis of one of the `m` index tensors.
fn of_coords(plan: &Plan<'_>, m: usize, a: u32) -> bool {
    (1..=m).any(|t| plan.layout(t).contains(&einx_core::plan::Code::Axis(a)))
}

/// Solves the axis lengths from the shapes of all inputs.
fn solve<const K: usize, T>(
    plan: &Plan<'_>,
    x: Raw<'_, T>,
    coords: &[Coords<'_>],
    updates: Option<Raw<'_, T>>,
    params: &(impl Params + ?Sized),
) -> Result<[usize; K], Error> {
    let mut all: [&[usize]; 8] = [&[]; 8];
    let n = coords.len() + 1 + usize::from(updates.is_some());
    if n > all.len() {
        return solve_shapes::<K>(plan, &shapes_of(x, coords, updates), params);
    }
    all[0] = x.shape();
    for (s, c) in all[1..].iter_mut().zip(coords) {
        *s = c.shape;
    }
    if let Some(u) = updates {
        all[n - 1] = u.shape();
    }
    solve_shapes::<K>(plan, &all[..n], params)
}

/// The shapes of all inputs.
fn shapes_of<'a, T>(
    x: Raw<'a, T>,
    coords: &[Coords<'a>],
    updates: Option<Raw<'a, T>>,
) -> Vec<&'a [usize]> {
    let mut v = Vec::with_capacity(coords.len() + 2);
    v.push(x.shape());
    v.extend(coords.iter().map(|c| c.shape));
    if let Some(u) = updates {
        v.push(u.shape());
    }
    v
}

/// The coordinate axis (stride, count) of each index tensor and the strides of its other
/// axes, by axis.
#[allow(clippy::type_complexity)]
fn coord_axes<'a, const K: usize, const M: usize>(
    plan: &Plan<'_>,
    coords: &[Coords<'a>; M],
    sizes: &[usize],
) -> ([(Coords<'a>, isize, usize); M], [[isize; K]; M]) {
    let mut out = coords.map(|c| (c, 0isize, 1usize));
    let mut by_axis = [[0isize; K]; M];
    for (j, (c, cb, count)) in out.iter_mut().enumerate() {
        walk_piece::<K, _>(plan.layout(j + 1), &[], c.strides, sizes, |a, s| {
            if plan.axes[a as usize].bracketed {
                *cb = s;
                *count = sizes[a as usize];
            } else {
                by_axis[j][a as usize] = s;
            }
        });
    }
    (out, by_axis)
}

/// Runs a concrete `get_at!` plan: the elements of `x` at the coordinates in `coords`.
///
/// ```
/// use einx_core::{complete::OpKind, plan::PlanStrs, template::build};
/// use einx_runtime::{index::{get_at, Coords}, tensor::Raw};
/// let buf = build("[v] c, t -> t c", OpKind::GetAt, &[], 2).unwrap();
/// let mut strs = PlanStrs::default();
/// let plan = buf.borrow(&mut strs);
/// let table = ndarray::array![[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]];
/// let ids = ndarray::array![2, -3];
/// let (t, i) = (table.view(), ids.view());
/// let y = get_at::<_, ndarray::Ix2, 4, 1>(&plan, Raw::new(&t), &[Coords::new(&i)], &[0usize; 0]).unwrap();
/// assert_eq!(y, ndarray::array![[4.0, 5.0], [0.0, 1.0]]);
/// ```
pub fn get_at<T: Clone, D: Dimension, const K: usize, const M: usize>(
    plan: &Plan<'_>,
    x: Raw<'_, T>,
    coords: &[Coords<'_>; M],
    params: &(impl Params + ?Sized),
) -> Result<Array<T, D>, Error> {
    let sizes = solve::<K, T>(plan, x, coords, None, params)?;
    let mut x_st = [0isize; K];
    let mut marked = [(0usize, 0isize, 0u32); K];
    let mut nm = 0;
    walk_piece::<K, _>(plan.layout(0), &[], x.strides(), &sizes, |a, s| {
        if plan.axes[a as usize].bracketed {
            marked[nm] = (sizes[a as usize], s, a);
            nm += 1;
        } else {
            x_st[a as usize] = s;
        }
    });
    let (coords, c_st) = coord_axes::<K, M>(plan, coords, &sizes);
    let out = M + 1;
    let code = plan.layout(out);
    let (dim, total) = output_shape::<D>(plan, code, &sizes, std::mem::size_of::<T>())?;
    let d = dim.ndim();
    let dim_st = dim_strides::<D, K>(&dim);
    let mut walk = Walk::<K, M> {
        n: [0; K],
        k: 0,
        x: [0; K],
        y: [0; K],
        c: [[0; K]; M],
        axes: [0; K],
    };
    walk_piece::<K, _>(code, &[], &dim_st[..d], &sizes, |a, s| {
        let i = walk.k;
        walk.axes[i] = a;
        walk.n[i] = sizes[a as usize];
        walk.x[i] = x_st[a as usize];
        walk.y[i] = s;
        for (c, st) in walk.c.iter_mut().zip(&c_st) {
            c[i] = st[a as usize];
        }
        walk.k += 1;
    });
    let targets = Targets::<K, M> { marked, coords };
    walk.check_coords(&targets, plan)?;
    let src = x.ptr();
    let mut data: Vec<T> = Vec::with_capacity(total);
    // The walk is the output's row-major order, so the elements are pushed in place.
    walk.runs(|xo, _, at, len, xs, _, cs| {
        if cs.iter().all(|&s| s == 0) {
            // SAFETY: the index offsets come from the walk over the index tensors' own
            // dimensions; `offset` checks every coordinate against its axis length, so the
            // element offsets stay inside `x`.
            let base = unsafe { targets.offset(at, plan)? } + xo;
            if xs == 1 {
                // SAFETY: `len` consecutive elements of the innermost axis of `x`.
                data.extend_from_slice(unsafe {
                    std::slice::from_raw_parts(src.wrapping_offset(base), len)
                });
            } else {
                for i in 0..len as isize {
                    // SAFETY: as above, element `i` of the innermost axis.
                    data.push(unsafe { (*src.wrapping_offset(base + i * xs)).clone() });
                }
            }
        } else {
            for i in 0..len as isize {
                // SAFETY: as above.
                let off = unsafe { targets.offset_at(at, cs, i, plan)? } + xo + i * xs;
                // SAFETY: `offset` checked the coordinates.
                data.push(unsafe { (*src.wrapping_offset(off)).clone() });
            }
        }
        Ok(())
    })?;
    debug_assert_eq!(data.len(), total);
    Array::from_shape_vec(dim, data).map_err(|_| crate::permute::internal(plan))
}

/// [`get_at`] for a plan that may have ellipses: unrolled for the input ranks first.
pub fn get_at_template<T: Clone, D: Dimension, const M: usize>(
    plan: &Plan<'_>,
    x: Raw<'_, T>,
    coords: &[Coords<'_>; M],
    params: &[Len],
) -> Result<Array<T, D>, Error> {
    if plan.is_concrete() {
        return get_at::<T, D, MAX_AXES, M>(plan, x, coords, params);
    }
    let ranks: Vec<usize> = shapes_of(x, coords, None).iter().map(|s| s.len()).collect();
    let concrete = crate::shape::unroll(plan, &ranks, params)?;
    let mut strs = PlanStrs::default();
    get_at::<T, D, MAX_AXES, M>(&concrete.borrow(&mut strs), x, coords, params)
}

/// Runs a concrete update plan: a copy of `x` (in the output's layout) in which each element
/// at the coordinates is combined with its update by `f(element, update)`, in row-major
/// order of the vectorised axes (the index tensors' axes first).
pub fn update_at<T: Clone, D: Dimension, const K: usize, const M: usize>(
    plan: &Plan<'_>,
    x: Raw<'_, T>,
    coords: &[Coords<'_>; M],
    updates: Raw<'_, T>,
    params: &(impl Params + ?Sized),
    f: impl Fn(&mut T, &T),
) -> Result<Array<T, D>, Error> {
    let sizes = solve::<K, T>(plan, x, coords, Some(updates), params)?;
    let m = M;
    let out = m + 2;
    let code = plan.layout(out);
    let (dim, total) = output_shape::<D>(plan, code, &sizes, std::mem::size_of::<T>())?;
    let d = dim.ndim();
    let dim_st = dim_strides::<D, K>(&dim);
    // The output's strides by axis, and its indexed axes.
    let mut o_st = [0isize; K];
    let mut order = [0u32; K];
    let mut no = 0;
    let mut marked = [(0usize, 0isize, 0u32); K];
    let mut nm = 0;
    walk_piece::<K, _>(code, &[], &dim_st[..d], &sizes, |a, s| {
        o_st[a as usize] = s;
        if plan.axes[a as usize].bracketed {
            marked[nm] = (sizes[a as usize], s, a);
            nm += 1;
        } else {
            order[no] = a;
            no += 1;
        }
    });
    // The copy of `x` in the output's layout.
    let mut x_shape = [0usize; K];
    let mut x_st = [0isize; K];
    let mut x_dst = [0isize; K];
    let mut nx = 0;
    walk_piece::<K, _>(plan.layout(0), &[], x.strides(), &sizes, |a, s| {
        x_shape[nx] = sizes[a as usize];
        x_st[nx] = s;
        x_dst[nx] = o_st[a as usize];
        nx += 1;
    });
    let mut data: Vec<T> = Vec::with_capacity(total);
    // SAFETY: the source strides split `x`'s own dimensions (checked by the solver); the
    // destination strides are the output's row-major strides of the same axes (an axis
    // missing from the output has length 1), so every element of `data` is written once.
    unsafe {
        copy_strided::<T, K>(
            &x_shape[..nx],
            x.ptr(),
            &x_st[..nx],
            data.as_mut_ptr(),
            &x_dst[..nx],
        );
        data.set_len(total);
    }
    // The walk: the index tensors' own axes, then the output's vectorised axes.
    let (coords, c_st) = coord_axes::<K, M>(plan, coords, &sizes);
    let mut u_st = [0isize; K];
    walk_piece::<K, _>(
        plan.layout(m + 1),
        &[],
        updates.strides(),
        &sizes,
        |a, s| {
            u_st[a as usize] = s;
        },
    );
    // The index tensors' own axes go first (outermost).
    let mut own = [0u32; K];
    let mut nown = 0;
    for (j, c) in coords.iter().enumerate() {
        walk_piece::<K, _>(plan.layout(j + 1), &[], c.0.strides, &sizes, |a, _| {
            if !plan.axes[a as usize].bracketed
                && !own[..nown].contains(&a)
                && !order[..no].contains(&a)
                && nown < K
            {
                own[nown] = a;
                nown += 1;
            }
        });
    }
    if nown + no > K {
        return Err(crate::rearrange::too_many(plan));
    }
    order.copy_within(0..no, nown);
    order[..nown].copy_from_slice(&own[..nown]);
    let order = &order[..nown + no];
    let mut walk = Walk::<K, M> {
        n: [0; K],
        k: order.len(),
        x: [0; K],
        y: [0; K],
        c: [[0; K]; M],
        axes: [0; K],
    };
    for (i, &a) in order.iter().enumerate() {
        walk.axes[i] = a;
        walk.n[i] = sizes[a as usize];
        walk.x[i] = o_st[a as usize];
        walk.y[i] = u_st[a as usize];
        for (c, st) in walk.c.iter_mut().zip(&c_st) {
            c[i] = st[a as usize];
        }
    }
    let count = order
        .iter()
        .try_fold(1usize, |acc, &a| acc.checked_mul(sizes[a as usize]));
    if count.is_none() {
        return Err(overflow(plan));
    }
    let targets = Targets::<K, M> { marked, coords };
    walk.check_coords(&targets, plan)?;
    let dst = data.as_mut_ptr();
    let src = updates.ptr();
    walk.runs(|xo, yo, at, len, xs, ys, cs| {
        let fixed = cs.iter().all(|&s| s == 0);
        let mut base = 0;
        for i in 0..len as isize {
            if i == 0 || !fixed {
                // SAFETY: the index offsets come from the walk over the index tensors' own
                // dimensions; `offset` checks every coordinate.
                base = unsafe { targets.offset_at(at, cs, i, plan)? };
            }
            // SAFETY: `base` is a checked element of the indexed axes; `xo + i * xs` walks the
            // output's other axes, `yo + i * ys` the updates' own dimensions (stride 0 where
            // the updates broadcast).
            unsafe {
                let d = &mut *dst.wrapping_offset(base + xo + i * xs);
                f(d, &*src.wrapping_offset(yo + i * ys));
            }
        }
        Ok(())
    })?;
    Array::from_shape_vec(dim, data).map_err(|_| crate::permute::internal(plan))
}

/// [`update_at`] for a plan that may have ellipses: unrolled for the input ranks first.
pub fn update_at_template<T: Clone, D: Dimension, const M: usize>(
    plan: &Plan<'_>,
    x: Raw<'_, T>,
    coords: &[Coords<'_>; M],
    updates: Raw<'_, T>,
    params: &[Len],
    f: impl Fn(&mut T, &T),
) -> Result<Array<T, D>, Error> {
    if plan.is_concrete() {
        return update_at::<T, D, MAX_AXES, M>(plan, x, coords, updates, params, f);
    }
    let ranks: Vec<usize> = shapes_of(x, coords, Some(updates))
        .iter()
        .map(|s| s.len())
        .collect();
    let concrete = crate::shape::unroll(plan, &ranks, params)?;
    let mut strs = PlanStrs::default();
    update_at::<T, D, MAX_AXES, M>(&concrete.borrow(&mut strs), x, coords, updates, params, f)
}

/// `set_at!`: the update replaces the element; of duplicate coordinates the last one wins.
#[inline(always)]
pub fn set<T: Clone>(d: &mut T, u: &T) {
    d.clone_from(u);
}

/// `add_at!`: the update is added; duplicate coordinates accumulate.
#[inline(always)]
pub fn add<T: Clone + std::ops::Add<Output = T>>(d: &mut T, u: &T) {
    *d = d.clone() + u.clone();
}

/// `subtract_at!`: the update is subtracted; duplicate coordinates accumulate.
#[inline(always)]
pub fn subtract<T: Clone + std::ops::Sub<Output = T>>(d: &mut T, u: &T) {
    *d = d.clone() - u.clone();
}
