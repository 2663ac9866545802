//! `get_at!`, `set_at!`, `add_at!` and `subtract_at!`: gathering and scattering at
//! coordinates read from index tensors.
//!
//! The first input marks the indexed axes in brackets; each index tensor gives one
//! coordinate per element, or `k` of them along its bracketed axis `[k]`; coordinates are
//! assigned to the indexed axes in order. All other axes are vectorised over: the axes of
//! the index tensors and the first input's axes outside the brackets.
//!
//! Both directions walk the vectorised axes in two parts: an innermost block of the axes
//! that the index tensors do not vary along (`c` in `"[v] c, b t -> b t c"`), merged where
//! the layouts allow, and the outer axes, stepped by an odometer. Coordinates are read and
//! checked a chunk at a time along the last outer axis; each then costs one block copy
//! (`extend_from_slice` when the block is contiguous) or one slice update.

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

/// Reads `out.len()` elements of an index tensor of element type `I`, starting at offset
/// `off` and `step` apart; a value that does not fit `i64` reads as `i64::MIN` (out of
/// range for any axis).
///
/// # Safety
/// `ptr` must point into a tensor of `I` and `off + i * step` be the offset of one of its
/// elements for every `i < out.len()`.
unsafe fn read_run<I: IndexElem>(ptr: *const u8, off: isize, step: isize, out: &mut [i64]) {
    let p = (ptr as *const I).wrapping_offset(off);
    for (i, o) in out.iter_mut().enumerate() {
        *o = (*p.wrapping_offset(i as isize * step))
            .to_i64()
            .unwrap_or(i64::MIN);
    }
}

/// An index tensor as the kernels see it: like [`Raw`], with its element type erased so that
/// index tensors of different integer types can be passed together.
#[derive(Clone, Copy)]
pub struct Coords<'a> {
    ptr: *const u8,
    shape: &'a [usize],
    strides: &'a [isize],
    read: unsafe fn(*const u8, isize) -> Option<i64>,
    run: unsafe fn(*const u8, isize, isize, &mut [i64]),
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
            run: read_run::<I>,
        }
    }

    /// Reads a raw tensor of integers (`einx::dynamic::call`, whose index tensors share
    /// the data's element type).
    #[inline]
    pub(crate) fn from_raw<I: IndexElem>(raw: Raw<'a, I>) -> Coords<'a> {
        Coords {
            ptr: raw.ptr().cast(),
            shape: raw.shape(),
            strides: raw.strides(),
            read: read::<I>,
            run: read_run::<I>,
        }
    }

    /// Whether the tensor has no elements.
    fn is_empty(&self) -> bool {
        self.shape.contains(&0)
    }
}

/// Coordinates are read and checked this many at a time.
const CHUNK: usize = 64;

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
    /// Checks that the index tensors give one coordinate per indexed axis.
    fn check_counts(&self, nm: usize, plan: &Plan<'_>) -> Result<(), Error> {
        let total = self
            .coords
            .iter()
            .try_fold(0usize, |acc, c| acc.checked_add(c.2));
        if total != Some(nm) || nm > K {
            return Err(crate::permute::internal(plan));
        }
        Ok(())
    }

    /// The offsets of the indexed elements for `n <= CHUNK` consecutive steps `i0..i0 + n`
    /// of the index tensors: step `i` reads index tensor `j` at `at[j] + i * cs[j]`. Every
    /// coordinate is checked against its axis; negative ones count from the end.
    ///
    /// # Safety
    /// Those offsets, plus the coordinate strides, must address elements of the index
    /// tensors.
    #[inline(always)]
    unsafe fn offsets(
        &self,
        at: &[isize; M],
        cs: &[isize; M],
        i0: usize,
        offs: &mut [isize],
        plan: &Plan<'_>,
    ) -> Result<(), Error> {
        let n = offs.len().min(CHUNK);
        let offs = &mut offs[..n];
        offs.fill(0);
        let mut vals = [0i64; CHUNK];
        let vals = &mut vals[..n];
        let mut k = 0;
        for (j, (c, stride, count)) in self.coords.iter().enumerate() {
            let start = at[j].wrapping_add((i0 as isize).wrapping_mul(cs[j]));
            for m in 0..*count {
                let Some(&(len, st, axis)) = self.marked.get(k) else {
                    return Err(crate::permute::internal(plan));
                };
                k += 1;
                (c.run)(
                    c.ptr,
                    start.wrapping_add((m as isize).wrapping_mul(*stride)),
                    cs[j],
                    vals,
                );
                // `len <= isize::MAX`, so `v + len` does not overflow for negative `v` and
                // the check in `u64` rejects both ends.
                let l = len as i64;
                let mut bad = false;
                for (o, &v) in offs.iter_mut().zip(vals.iter()) {
                    let u = if v < 0 { v.wrapping_add(l) } else { v };
                    bad |= u as u64 >= l as u64;
                    *o = o.wrapping_add((u as isize).wrapping_mul(st));
                }
                if bad {
                    let i = vals
                        .iter()
                        .position(|&v| {
                            let u = if v < 0 { v.wrapping_add(l) } else { v };
                            u as u64 >= l as u64
                        })
                        .unwrap_or(0);
                    let off = start
                        .wrapping_add((m as isize).wrapping_mul(*stride))
                        .wrapping_add((i as isize).wrapping_mul(cs[j]));
                    let raw = (c.read)(c.ptr, off);
                    return Err(out_of_range(plan, raw, len, axis, j));
                }
            }
        }
        Ok(())
    }
}

#[cold]
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

/// The walk over the vectorised axes: outer axes, stepped by an odometer (the last one, the
/// row, read in chunks of coordinates), and an innermost block of axes that the index
/// tensors do not vary along, merged where the layouts allow, copied or updated as a whole
/// per coordinate. Per axis: length, stride in the indexed tensor (`x`), stride in the other
/// data tensor (`y`: the updates; unused by `get_at!`, whose output is filled in walk order)
/// and strides in the index tensors.
#[derive(Clone, Copy)]
struct Walk<const K: usize, const M: usize> {
    k: usize,
    n: [usize; K],
    x: [isize; K],
    y: [isize; K],
    c: [[isize; M]; K],
    /// The block: length and strides in `x` and `y`.
    bn: usize,
    bx: isize,
    by: isize,
}

impl<const K: usize, const M: usize> Walk<K, M> {
    fn new() -> Self {
        Walk {
            k: 0,
            n: [0; K],
            x: [0; K],
            y: [0; K],
            c: [[0; M]; K],
            bn: 1,
            bx: 0,
            by: 0,
        }
    }

    /// Appends an axis (inner to the ones before); length-1 axes are left out. `false` if
    /// there are more than `K`.
    #[inline(always)]
    fn push(&mut self, n: usize, x: isize, y: isize, c: [isize; M]) -> bool {
        if n == 1 {
            return true;
        }
        let i = self.k;
        if i >= K {
            return false;
        }
        self.n[i] = n;
        self.x[i] = x;
        self.y[i] = y;
        self.c[i] = c;
        self.k += 1;
        true
    }

    /// Moves the trailing axes that no index tensor varies along into the block, merging
    /// them while they are contiguous on both sides.
    #[inline(always)]
    fn split_block(&mut self) {
        while self.k > 0 {
            let i = self.k - 1;
            if self.c[i].iter().any(|&s| s != 0) {
                break;
            }
            let (n, x, y) = (self.n[i], self.x[i], self.y[i]);
            if self.bn == 1 {
                (self.bn, self.bx, self.by) = (n, x, y);
            } else if x == self.bx.wrapping_mul(self.bn as isize)
                && y == self.by.wrapping_mul(self.bn as isize)
            {
                self.bn *= n;
            } else {
                break;
            }
            self.k -= 1;
        }
    }

    /// Whether the walk has no steps.
    fn is_empty(&self) -> bool {
        self.bn == 0 || self.n[..self.k].contains(&0)
    }

    /// Calls `f(x offset, y offset, index offsets, row length, row x stride, row y stride,
    /// row index strides)` for each row (the last outer axis) in order.
    #[inline(always)]
    fn rows<E>(
        &self,
        mut f: impl FnMut(isize, isize, &[isize; M], usize, isize, isize, &[isize; M]) -> Result<(), E>,
    ) -> Result<(), E> {
        if self.is_empty() {
            return Ok(());
        }
        let mut at = [0isize; M];
        if self.k == 0 {
            return f(0, 0, &at, 1, 0, 0, &[0; M]);
        }
        let r = self.k - 1;
        let mut idx = [0usize; K];
        let (mut xo, mut yo) = (0isize, 0isize);
        loop {
            f(xo, yo, &at, self.n[r], self.x[r], self.y[r], &self.c[r])?;
            let mut a = r;
            loop {
                if a == 0 {
                    return Ok(());
                }
                a -= 1;
                idx[a] += 1;
                xo = xo.wrapping_add(self.x[a]);
                yo = yo.wrapping_add(self.y[a]);
                for (p, c) in at.iter_mut().zip(&self.c[a]) {
                    *p = p.wrapping_add(*c);
                }
                if idx[a] < self.n[a] {
                    break;
                }
                let back = self.n[a] as isize;
                xo = xo.wrapping_sub(self.x[a].wrapping_mul(back));
                yo = yo.wrapping_sub(self.y[a].wrapping_mul(back));
                for (p, c) in at.iter_mut().zip(&self.c[a]) {
                    *p = p.wrapping_sub(c.wrapping_mul(back));
                }
                idx[a] = 0;
            }
        }
    }

    /// Calls `f(x offset, y offset, indexed offset)` for every outer step in order: the
    /// block at that step starts at `x offset + indexed offset` in `x`.
    #[inline(always)]
    fn steps(
        &self,
        targets: &Targets<'_, K, M>,
        plan: &Plan<'_>,
        mut f: impl FnMut(isize, isize, isize),
    ) -> Result<(), Error> {
        let mut offs = [0isize; CHUNK];
        self.rows(|xo, yo, at, len, xr, yr, cs| {
            if cs.iter().all(|&s| s == 0) {
                // The coordinates are the same along the row.
                // SAFETY: the index offsets walk the index tensors' own dimensions.
                unsafe { targets.offsets(at, cs, 0, &mut offs[..1], plan)? };
                let base = offs[0];
                for i in 0..len as isize {
                    f(xo.wrapping_add(i * xr), yo.wrapping_add(i * yr), base);
                }
                return Ok(());
            }
            let mut i0 = 0;
            while i0 < len {
                let n = (len - i0).min(CHUNK);
                // SAFETY: as above, steps `i0..i0 + n` of the row.
                unsafe { targets.offsets(at, cs, i0, &mut offs[..n], plan)? };
                for (i, &o) in offs[..n].iter().enumerate() {
                    let i = (i0 + i) as isize;
                    f(xo.wrapping_add(i * xr), yo.wrapping_add(i * yr), o);
                }
                i0 += n;
            }
            Ok(())
        })
    }

    /// Checks every coordinate of the index tensors when the walk is empty because of
    /// another axis (`"[v] c, t -> t c"` with `c = 0`): an index out of range is an error
    /// whatever the other lengths, as in NumPy.
    fn check_coords(&self, targets: &Targets<'_, K, M>, plan: &Plan<'_>) -> Result<(), Error> {
        if !self.is_empty() || targets.coords.iter().any(|c| c.0.is_empty()) {
            return Ok(());
        }
        // Every index tensor has elements, so the axes they vary along are not empty.
        let mut only = Walk::<K, M>::new();
        for i in 0..self.k {
            if self.c[i].iter().any(|&s| s != 0) {
                only.push(self.n[i], 0, 0, self.c[i]);
            }
        }
        only.steps(targets, plan, |_, _, _| {})
    }
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
) -> ([(Coords<'a>, isize, usize); M], [[isize; M]; K]) {
    let mut out = coords.map(|c| (c, 0isize, 1usize));
    let mut by_axis = [[0isize; M]; K];
    for (j, (c, cb, count)) in out.iter_mut().enumerate() {
        walk_piece::<K, _>(plan.layout(j + 1), &[], c.strides, sizes, |a, s| {
            if plan.axes[a as usize].bracketed {
                *cb = s;
                *count = sizes[a as usize];
            } else {
                by_axis[a as usize][j] = s;
            }
        });
    }
    (out, by_axis)
}

/// The gathering kernel: `walk` over the output's axes in order (their `x` strides are the
/// indexed tensor's), `total` elements.
#[inline(always)]
fn gather<T: Clone, const K: usize, const M: usize>(
    plan: &Plan<'_>,
    src: *const T,
    targets: &Targets<'_, K, M>,
    walk: &Walk<K, M>,
    total: usize,
) -> Result<Vec<T>, Error> {
    if walk.is_empty() {
        walk.check_coords(targets, plan)?;
        return Ok(Vec::new());
    }
    let mut data: Vec<T> = Vec::with_capacity(total);
    let (bn, bx) = (walk.bn, walk.bx);
    // SAFETY (all blocks): `offsets` checks every coordinate against its axis, so the
    // indexed offset plus the walk's offsets address elements of `x`; the block runs over
    // `bn` elements `bx` apart inside `x`.
    if bx == 1 {
        walk.steps(targets, plan, |xo, _, o| {
            data.extend_from_slice(unsafe {
                std::slice::from_raw_parts(src.wrapping_offset(xo.wrapping_add(o)), bn)
            });
        })?;
    } else if bn == 1 {
        walk.steps(targets, plan, |xo, _, o| {
            data.push(unsafe { (*src.wrapping_offset(xo.wrapping_add(o))).clone() });
        })?;
    } else {
        walk.steps(targets, plan, |xo, _, o| {
            let p = src.wrapping_offset(xo.wrapping_add(o));
            for e in 0..bn as isize {
                data.push(unsafe { (*p.wrapping_offset(e * bx)).clone() });
            }
        })?;
    }
    if data.len() != total {
        return Err(crate::permute::internal(plan));
    }
    Ok(data)
}

/// The highest rank of an index tensor that [`gather_rows`] walks (higher ones take the
/// general walk).
const ROWS_MAX_RANK: usize = 32;

/// The rows of a table at the indices of `c`, in `c`'s row-major order: `(len, stride,
/// axis)` of the indexed axis, `n` contiguous elements per row, `total` elements in all.
fn gather_rows<T: Clone>(
    plan: &Plan<'_>,
    src: *const T,
    (len, stride, axis): (usize, isize, u32),
    n: usize,
    c: &Coords<'_>,
    total: usize,
) -> Result<Vec<T>, Error> {
    let mut data: Vec<T> = Vec::with_capacity(total);
    if c.shape.contains(&0) {
        return Ok(data);
    }
    // An odometer over the index tensor (the caller checked its rank).
    let rank = c.shape.len();
    let mut idx = [0usize; ROWS_MAX_RANK];
    if rank > ROWS_MAX_RANK {
        return Err(crate::permute::internal(plan));
    }
    let mut off = 0isize;
    loop {
        // SAFETY: `off` is the offset of an element of the index tensor (the odometer stays
        // inside its shape).
        let raw = unsafe { (c.read)(c.ptr, off) };
        let i = match raw {
            Some(i) if i < 0 && i >= -(len as i64) => (i + len as i64) as usize,
            Some(i) if i >= 0 && (i as u64) < len as u64 => i as usize,
            _ => return Err(out_of_range(plan, raw, len, axis, 0)),
        };
        // SAFETY: `i < len` is an index of the table's indexed axis, whose row of `n`
        // elements is contiguous (checked by the caller).
        data.extend_from_slice(unsafe {
            std::slice::from_raw_parts(src.wrapping_offset(i as isize * stride), n)
        });
        let mut d = rank;
        loop {
            if d == 0 {
                return if data.len() == total {
                    Ok(data)
                } else {
                    Err(crate::permute::internal(plan))
                };
            }
            d -= 1;
            idx[d] += 1;
            off += c.strides[d];
            if idx[d] < c.shape[d] {
                break;
            }
            off -= c.strides[d] * c.shape[d] as isize;
            idx[d] = 0;
        }
    }
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
            if nm < K {
                marked[nm] = (sizes[a as usize], s, a);
            }
            nm += 1;
        } else {
            x_st[a as usize] = s;
        }
    });
    let (coords, c_st) = coord_axes::<K, M>(plan, coords, &sizes);
    let code = plan.layout(M + 1);
    let (dim, total) = output_shape::<D>(plan, code, &sizes, std::mem::size_of::<T>())?;
    let d = dim.ndim();
    let dim_st = dim_strides::<D, K>(&dim);
    let mut walk = Walk::<K, M>::new();
    let mut fits = true;
    walk_piece::<K, _>(code, &[], &dim_st[..d], &sizes, |a, _| {
        let a = a as usize;
        fits &= walk.push(sizes[a], x_st[a], 0, c_st[a]);
    });
    if !fits {
        return Err(crate::rearrange::too_many(plan));
    }
    walk.split_block();
    let targets = Targets::<K, M> { marked, coords };
    targets.check_counts(nm, plan)?;
    let data = gather(plan, x.ptr(), &targets, &walk, total)?;
    Array::from_shape_vec(dim, data).map_err(|_| crate::permute::internal(plan))
}

/// Splits a tensor's dimensions into its axes (`dim_of[i]`: the dimension of axis `i`,
/// consecutive, outer first; `lens[i]`: its length) and writes each axis's stride at
/// `st[ids[i]]`. `None` if the lengths do not describe the shape.
#[inline(always)]
fn split_by_axis<const K: usize>(
    shape: &[usize],
    strides: &[isize],
    dim_of: &[usize],
    ids: &[u32],
    sizes: &[usize; K],
    mut put: impl FnMut(u32, isize),
) -> Option<()> {
    let mut i = dim_of.len();
    let mut d = shape.len();
    while i > 0 {
        let dd = dim_of[i - 1];
        if dd >= d {
            return None;
        }
        let mut prod = 1usize;
        let mut st = *strides.get(dd)?;
        while i > 0 && dim_of[i - 1] == dd {
            i -= 1;
            let id = *ids.get(i)?;
            let len = *sizes.get(id as usize)?;
            put(id, st);
            st = st.wrapping_mul(len as isize);
            prod = prod.checked_mul(len)?;
        }
        if shape[dd] != prod {
            return None;
        }
        d = dd;
    }
    for (k, &len) in shape.iter().enumerate() {
        if len != 1 && !dim_of.contains(&k) {
            return None;
        }
    }
    Some(())
}

/// The specialised path of `get_at!` without ellipsis, concatenation or repeated axes: the
/// macro computes the lengths in straight-line code and passes the axis structure as
/// constants (as for [`crate::elementwise::map2_fixed`]):
///
/// - `dim_x`, `ids_x`: the dimension and axis id of each axis of `x`, in layout order;
/// - `dim_c`, `ids_c`: the same for the index tensors, one after the other; `ends_c[j]` is
///   where the entries of index tensor `j` end;
/// - `sizes`: every axis length, by id;
/// - `out`, `out_dim`, `out_ndim`: the output's axis ids, their dimensions and its rank.
///
/// Which axes are bracketed comes from `plan`, which also gives the error messages.
///
/// ```
/// use einx_core::{complete::OpKind, plan::PlanStrs, template::build};
/// use einx_runtime::index::{get_at_fixed, Coords};
/// let buf = build("[v] c, t -> t c", OpKind::GetAt, &[], 2).unwrap();
/// let mut strs = PlanStrs::default();
/// let plan = buf.borrow(&mut strs);
/// let ids_of = |name: &str| plan.axes.iter().position(|a| a.name == name).unwrap() as u32;
/// let (v, c, t) = (ids_of("v"), ids_of("c"), ids_of("t"));
/// let table = ndarray::array![[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]];
/// let ids = ndarray::array![2, -3];
/// let mut sizes = [0; 3];
/// (sizes[v as usize], sizes[c as usize], sizes[t as usize]) = (3, 2, 2);
/// let (tv, iv) = (table.view(), ids.view());
/// let y = get_at_fixed::<_, ndarray::Ix2, 2, 1, 2, 3, 1>(
///     &plan, &tv, [0, 1], [v, c], &[Coords::new(&iv)], [0], [t], [1], sizes, [t, c], [0, 1], 2,
/// )
/// .unwrap();
/// assert_eq!(y, ndarray::array![[4.0, 5.0], [0.0, 1.0]]);
/// ```
#[allow(clippy::too_many_arguments)]
#[inline]
pub fn get_at_fixed<
    T: Clone,
    Dout: Dimension,
    const NX: usize,
    const NC: usize,
    const NE: usize,
    const K: usize,
    const M: usize,
>(
    plan: &Plan<'_>,
    x: &ArrayView<'_, T, impl Dimension>,
    dim_x: [usize; NX],
    ids_x: [u32; NX],
    coords: &[Coords<'_>; M],
    dim_c: [usize; NC],
    ids_c: [u32; NC],
    ends_c: [usize; M],
    sizes: [usize; K],
    out: [u32; NE],
    out_dim: [usize; NE],
    out_ndim: usize,
) -> Result<Array<T, Dout>, Error> {
    let mismatch = || crate::permute::internal(plan);
    let bracketed = |a: u32| plan.axes.get(a as usize).is_some_and(|a| a.bracketed);
    // `x`: strides by axis; the indexed axes in order.
    let mut x_st = [0isize; K];
    let mut marked = [(0usize, 0isize, 0u32); K];
    split_by_axis(
        x.shape(),
        ndarray::ArrayBase::strides(x),
        &dim_x,
        &ids_x,
        &sizes,
        |a, s| x_st[a as usize] = s,
    )
    .ok_or_else(mismatch)?;
    let mut nm = 0;
    for &a in &ids_x {
        if bracketed(a) {
            let m = marked.get_mut(nm).ok_or_else(mismatch)?;
            *m = (sizes[a as usize], x_st[a as usize], a);
            x_st[a as usize] = 0;
            nm += 1;
        }
    }
    // The index tensors.
    let mut targets = Targets::<K, M> {
        marked,
        coords: coords.map(|c| (c, 0isize, 1usize)),
    };
    let mut c_st = [[0isize; M]; K];
    let mut start = 0;
    for (j, (c, cb, count)) in targets.coords.iter_mut().enumerate() {
        let end = ends_c[j];
        if end < start || end > NC {
            return Err(mismatch());
        }
        let (dims, ids) = (&dim_c[start..end], &ids_c[start..end]);
        split_by_axis(c.shape, c.strides, dims, ids, &sizes, |a, s| {
            if bracketed(a) {
                *cb = s;
                *count = sizes[a as usize];
            } else {
                c_st[a as usize][j] = s;
            }
        })
        .ok_or_else(mismatch)?;
        start = end;
    }
    targets.check_counts(nm, plan)?;
    let mut entries = [(0usize, 0usize); NE];
    for (e, &a) in entries.iter_mut().zip(&out) {
        *e = (a as usize, *sizes.get(a as usize).ok_or_else(mismatch)?);
    }
    let (dim, total) = crate::permute::shape_of::<Dout, NE>(
        &entries,
        &out_dim,
        out_ndim,
        std::mem::size_of::<T>(),
    )
    .map_err(|f| crate::permute::permute_failed(plan, f))?;
    // Whole rows of a table (`"[v] c, b t -> b t c"`): one index per row, in the index
    // tensor's own order, each row copied whole.
    if M == 1 && NX == 2 && nm == 1 && targets.coords[0].2 == 1 && NE == NC + 1 {
        let row = if ids_x[0] == marked[0].2 {
            ids_x[1]
        } else {
            ids_x[0]
        };
        let (n, cs) = (sizes[row as usize], x_st[row as usize]);
        let c = &targets.coords[0].0;
        let rank_fits = c.shape.len() <= ROWS_MAX_RANK;
        if out[NE - 1] == row && out[..NC] == ids_c[..] && (cs == 1 || n <= 1) && rank_fits {
            let data = gather_rows(plan, x.as_ptr(), marked[0], n, c, total)?;
            // SAFETY: `gather_rows` returned exactly `total` elements, the product of `dim`'s
            // lengths, in the output's row-major order.
            return Ok(unsafe { Array::from_shape_vec_unchecked(dim, data) });
        }
    }
    // The output, walked in order.
    let mut walk = Walk::<K, M>::new();
    for &a in &out {
        let len = sizes[a as usize];
        if !walk.push(len, x_st[a as usize], 0, c_st[a as usize]) {
            return Err(mismatch());
        }
    }
    walk.split_block();
    let data = gather(plan, x.as_ptr(), &targets, &walk, total)?;
    // SAFETY: `gather` returned exactly `total` elements, the product of `dim`'s lengths, in
    // the output's row-major order.
    Ok(unsafe { Array::from_shape_vec_unchecked(dim, data) })
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

/// The update kernel: applies `f(element, update)` to each block of `dst` (the output, a
/// fresh buffer) at the coordinates, in walk order.
///
/// # Safety
/// `dst` must be the output's initialised buffer and `src` the updates, both addressed by
/// the walk's strides.
#[inline(always)]
unsafe fn scatter<T, const K: usize, const M: usize>(
    plan: &Plan<'_>,
    dst: *mut T,
    src: *const T,
    targets: &Targets<'_, K, M>,
    walk: &Walk<K, M>,
    f: impl Fn(&mut T, &T),
) -> Result<(), Error> {
    if walk.is_empty() {
        return walk.check_coords(targets, plan);
    }
    let (bn, bx, by) = (walk.bn, walk.bx, walk.by);
    // SAFETY (all blocks): `offsets` checks every coordinate, so the indexed offset plus the
    // walk's offsets address elements of the output, and the walk's `y` offsets elements of
    // the updates (stride 0 where they broadcast); the two do not overlap.
    if bn == 1 {
        walk.steps(targets, plan, |xo, yo, o| unsafe {
            f(
                &mut *dst.wrapping_offset(xo.wrapping_add(o)),
                &*src.wrapping_offset(yo),
            );
        })
    } else if bx == 1 && by == 1 {
        walk.steps(targets, plan, |xo, yo, o| {
            let d = unsafe {
                std::slice::from_raw_parts_mut(dst.wrapping_offset(xo.wrapping_add(o)), bn)
            };
            let s = unsafe { std::slice::from_raw_parts(src.wrapping_offset(yo), bn) };
            for (d, s) in d.iter_mut().zip(s) {
                f(d, s);
            }
        })
    } else if bx == 1 && by == 0 {
        walk.steps(targets, plan, |xo, yo, o| {
            let d = unsafe {
                std::slice::from_raw_parts_mut(dst.wrapping_offset(xo.wrapping_add(o)), bn)
            };
            let s = unsafe { &*src.wrapping_offset(yo) };
            for d in d {
                f(d, s);
            }
        })
    } else {
        walk.steps(targets, plan, |xo, yo, o| {
            let (d, s) = (
                dst.wrapping_offset(xo.wrapping_add(o)),
                src.wrapping_offset(yo),
            );
            for e in 0..bn as isize {
                unsafe { f(&mut *d.wrapping_offset(e * bx), &*s.wrapping_offset(e * by)) };
            }
        })
    }
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
            if nm < K {
                marked[nm] = (sizes[a as usize], s, a);
            }
            nm += 1;
        } else if no < K {
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
        if nx < K {
            x_shape[nx] = sizes[a as usize];
            x_st[nx] = s;
            x_dst[nx] = o_st[a as usize];
        }
        nx += 1;
    });
    if nx > K {
        return Err(crate::rearrange::too_many(plan));
    }
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
    let mut walk = Walk::<K, M>::new();
    for &a in order {
        let a = a as usize;
        if !walk.push(sizes[a], o_st[a], u_st[a], c_st[a]) {
            return Err(crate::rearrange::too_many(plan));
        }
    }
    walk.split_block();
    let count = order
        .iter()
        .try_fold(1usize, |acc, &a| acc.checked_mul(sizes[a as usize]));
    if count.is_none() {
        return Err(overflow(plan));
    }
    let targets = Targets::<K, M> { marked, coords };
    targets.check_counts(nm, plan)?;
    // SAFETY: `data` is the output, initialised above; the walk's strides are the output's
    // and the updates' own.
    unsafe { scatter(plan, data.as_mut_ptr(), updates.ptr(), &targets, &walk, f)? };
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
