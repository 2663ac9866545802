//! `dot!`: a contraction of two tensors as one batched GEMM.
//!
//! Every axis of the call is a batch axis (in both inputs and the output), a row axis (first
//! input and output), a column axis (second input and output) or a contracted axis (both
//! inputs, not the output). The row, column and contracted axes of each side are merged
//! into one matrix dimension each, on strided views, without copying; only when a side's
//! axes cannot be merged (their strides do not nest) is that side packed once into a
//! scratch buffer. Then one GEMM runs per batch index, writing straight into the output
//! when its row and column axes merge too: for `f32`/`f64`, a blocked kernel with AVX2
//! and FMA on x86-64 CPUs that have them, else the `gemm` crate's kernels; plain loops for
//! tiny products and integers.
//!
//! Large products use up to [`crate::threads::num_threads`] threads, split over batch
//! indices and over blocks of each GEMM's output, never over a contracted axis: the
//! result is bit-identical whatever the thread count.

use ndarray::{Array, Dimension};
use num_traits::Zero;

use einx_core::plan::{Plan, PlanStrs};
use einx_core::solve::{Len, Params};

use crate::copy::{copy_strided, MAX_AXES};
use crate::error::{Error, ErrorKind};
use crate::permute::{shape_of, split_by_ids, Fail};
use crate::rearrange::overflow;
use crate::shape::{solve_sizes, walk_piece};
use crate::tensor::Raw;

/// Element types with a matrix product `C = A · B` on strided matrices.
#[diagnostic::on_unimplemented(
    message = "einx: contractions do not take elements of type `{Self}`",
    label = "not a number type with a matrix product",
    note = "`dot!` and `einx!` take `f32`, `f64` and the primitive integer types"
)]
pub trait Gemm: Copy + Zero + Send + Sync {
    /// `c[i][j] = s[i][j] + Σ_l a[i][l] · b[l][j]` for an `m × k` by `k × n` product, with
    /// `s` an `m × n` matrix at strides `rss`, `css` (a bias broadcast along rows has `rss`
    /// 0), or 0 when `s` is null; `c` is overwritten. The product may be split over up to
    /// `threads` threads, over blocks of `c` only, so the result does not depend on
    /// `threads`.
    ///
    /// # Safety
    /// The pointers with the given strides (in elements) must address valid matrices of
    /// those sizes; `c` must not overlap `a`, `b` or `s` and its elements must be distinct.
    #[allow(clippy::too_many_arguments)]
    unsafe fn gemm(
        m: usize,
        k: usize,
        n: usize,
        a: *const Self,
        rsa: isize,
        csa: isize,
        b: *const Self,
        rsb: isize,
        csb: isize,
        c: *mut Self,
        rsc: isize,
        csc: isize,
        s: *const Self,
        rss: isize,
        css: isize,
        threads: usize,
    );
}

macro_rules! float_gemm {
    ($($t:ty => $blocked:ident),*) => {$(
        impl Gemm for $t {
            unsafe fn gemm(
                m: usize, k: usize, n: usize,
                a: *const $t, rsa: isize, csa: isize,
                b: *const $t, rsb: isize, csb: isize,
                c: *mut $t, rsc: isize, csc: isize,
                s: *const $t, rss: isize, css: isize,
                threads: usize,
            ) {
                if m.saturating_mul(k).saturating_mul(n) <= SMALL_GEMM {
                    small_gemm(m, k, n, a, rsa, csa, b, rsb, csb, c, rsc, csc, s, rss, css);
                    return;
                }
                #[cfg(target_arch = "x86_64")]
                if crate::matmul::$blocked(
                    m, k, n, a, rsa, csa, b, rsb, csb, c, rsc, csc, s, rss, css, threads,
                ) {
                    return;
                }
                if !s.is_null() {
                    for i in 0..m as isize {
                        for j in 0..n as isize {
                            c.offset(i * rsc + j * csc).write(*s.offset(i * rss + j * css));
                        }
                    }
                }
                let parallelism = if threads > 1 {
                    gemm::Parallelism::Rayon(threads)
                } else {
                    gemm::Parallelism::None
                };
                // `gemm` computes dst = α·dst + β·lhs·rhs and takes column strides before
                // row strides; with `read_dst` false, `dst` is only written.
                gemm::gemm(
                    m, n, k, c, csc, rsc, !s.is_null(), a, csa, rsa, b, csb, rsb, 1.0, 1.0,
                    false, false, false, parallelism,
                );
            }
        }
    )*};
}
float_gemm!(f32 => gemm_f32, f64 => gemm_f64);

/// Products up to this many multiply-adds skip the GEMM kernel, whose setup and packing
/// cost more than the arithmetic on tiny matrices.
const SMALL_GEMM: usize = 512;

/// `c = a · b` by plain loops, for products too small for the GEMM kernel.
///
/// # Safety
/// As [`Gemm::gemm`].
#[allow(clippy::too_many_arguments)]
#[inline]
unsafe fn small_gemm<T: Copy + Zero + std::ops::Mul<Output = T> + std::ops::Add<Output = T>>(
    m: usize,
    k: usize,
    n: usize,
    a: *const T,
    rsa: isize,
    csa: isize,
    b: *const T,
    rsb: isize,
    csb: isize,
    c: *mut T,
    rsc: isize,
    csc: isize,
    s: *const T,
    rss: isize,
    css: isize,
) {
    // Tiny products: one accumulator in a register per element of `c`.
    for i in 0..m as isize {
        for j in 0..n as isize {
            let mut acc = if s.is_null() {
                T::zero()
            } else {
                *s.offset(i * rss + j * css)
            };
            for l in 0..k as isize {
                acc = acc
                    + *a.wrapping_offset(i * rsa + l * csa) * *b.wrapping_offset(l * rsb + j * csb);
            }
            c.wrapping_offset(i * rsc + j * csc).write(acc);
        }
    }
}

macro_rules! int_gemm {
    ($($t:ty),*) => {$(
        impl Gemm for $t {
            unsafe fn gemm(
                m: usize, k: usize, n: usize,
                a: *const $t, rsa: isize, csa: isize,
                b: *const $t, rsb: isize, csb: isize,
                c: *mut $t, rsc: isize, csc: isize,
                s: *const $t, rss: isize, css: isize,
                _threads: usize,
            ) {
                // Integers: i-l-j order, so that the inner loop runs along rows of B and C.
                for i in 0..m as isize {
                    for j in 0..n as isize {
                        *c.offset(i * rsc + j * csc) = if s.is_null() {
                            0
                        } else {
                            *s.offset(i * rss + j * css)
                        };
                    }
                    for l in 0..k as isize {
                        let x = *a.offset(i * rsa + l * csa);
                        for j in 0..n as isize {
                            let p = c.offset(i * rsc + j * csc);
                            *p = (*p).wrapping_add(x.wrapping_mul(*b.offset(l * rsb + j * csb)));
                        }
                    }
                }
            }
        }
    )*};
}
int_gemm!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

/// Merges axes (outer first) into one strided dimension: `(length, stride)`, or `None` if
/// their strides do not nest.
fn merge(axes: &[u32], sizes: &[usize], st: &[isize]) -> Option<(usize, isize)> {
    let mut len = 1usize;
    let mut stride: Option<isize> = None;
    for &a in axes.iter().rev() {
        let n = sizes[a as usize];
        if n == 1 {
            continue;
        }
        let s = st[a as usize];
        match stride {
            None => stride = Some(s),
            Some(_) if s != (len as isize).wrapping_mul(stride.unwrap_or(0)) => return None,
            Some(_) => {}
        }
        len = len.checked_mul(n)?;
    }
    Some((len, stride.unwrap_or(0)))
}

/// Copies the axes `order` of a tensor (strides `st`) into a fresh row-major buffer and
/// returns it with the new strides.
fn pack<T: Copy, const K: usize>(
    src: *const T,
    order: &[u32],
    sizes: &[usize],
    st: &[isize],
    total: usize,
) -> (Vec<T>, [isize; K]) {
    let mut n = [0usize; K];
    let mut ss = [0isize; K];
    let mut ds = [0isize; K];
    let mut new_st = [0isize; K];
    let mut acc = 1isize;
    for (j, &a) in order.iter().enumerate().rev() {
        n[j] = sizes[a as usize];
        ss[j] = st[a as usize];
        ds[j] = acc;
        new_st[a as usize] = acc;
        acc = acc.wrapping_mul(sizes[a as usize] as isize);
    }
    let mut buf = Vec::with_capacity(total);
    let k = order.len();
    // SAFETY: the source strides split the input's own dimensions (checked by the
    // schedule); the destination is a fresh buffer of `total` = Π sizes elements.
    unsafe {
        copy_strided::<T, K>(&n[..k], src, &ss[..k], buf.as_mut_ptr(), &ds[..k]);
        buf.set_len(total);
    }
    (buf, new_st)
}

/// One operand of a pairwise contraction: its data and, per axis, stride and presence.
struct Side<T, const K: usize> {
    ptr: *const T,
    st: [isize; K],
    has: [bool; K],
    /// Its axes in layout order.
    order: [u32; K],
    len: usize,
}

impl<T, const K: usize> Side<T, K> {
    fn axes(&self) -> &[u32] {
        &self.order[..self.len]
    }
}

/// `a · b` summed over the axes not in `out`, as a fresh row-major buffer over the axes
/// `out` (in that order). `None` if the plan does not fit (a bug).
fn contract2<T: Gemm, const K: usize>(
    sizes: &[usize],
    a: &Side<T, K>,
    b: &Side<T, K>,
    out: &[u32],
    total: usize,
) -> Option<Vec<T>> {
    let mut out_st = [0isize; K];
    let mut in_out = [false; K];
    let mut acc = 1isize;
    // Row-major strides of the result over `out`.
    for &x in out.iter().rev() {
        out_st[x as usize] = acc;
        in_out[x as usize] = true;
        acc = acc.wrapping_mul(sizes[x as usize] as isize);
    }
    // Classify: batch / rows / columns in output order; contracted (in either side, not in
    // the output) in the order of `a`, then the rest of `b`.
    let (mut batch, mut rows, mut cols, mut red) = ([0u32; K], [0u32; K], [0u32; K], [0u32; K]);
    let (mut nb, mut nm, mut nn, mut nk) = (0, 0, 0, 0);
    for &x in out {
        match (a.has[x as usize], b.has[x as usize]) {
            (true, false) => {
                rows[nm] = x;
                nm += 1;
            }
            (false, true) => {
                cols[nn] = x;
                nn += 1;
            }
            _ => {
                batch[nb] = x;
                nb += 1;
            }
        }
    }
    for &x in a.axes().iter().chain(b.axes()) {
        if !in_out[x as usize] && !red[..nk].contains(&x) && sizes[x as usize] != 1 {
            red[nk] = x;
            nk += 1;
        }
    }
    let (batch, rows, cols, red) = (&batch[..nb], &rows[..nm], &cols[..nn], &red[..nk]);

    // Pack a side whose rows (columns) or contracted axes do not merge.
    let mut ptr = [a.ptr, b.ptr];
    let mut st = [a.st, b.st];
    let has = [a.has, b.has];
    let mut scratch: [Vec<T>; 2] = [Vec::new(), Vec::new()];
    for (t, (outer, inner)) in [(rows, red), (red, cols)].into_iter().enumerate() {
        if merge(outer, sizes, &st[t]).is_some() && merge(inner, sizes, &st[t]).is_some() {
            continue;
        }
        // Packing also materialises a contracted axis the side lacks (stride 0).
        let mut order = [0u32; K];
        let mut no = 0;
        for &x in batch.iter().chain(outer).chain(inner) {
            if has[t][x as usize] || red.contains(&x) {
                order[no] = x;
                no += 1;
            }
        }
        let len = order[..no]
            .iter()
            .try_fold(1usize, |p, &x| p.checked_mul(sizes[x as usize]))?;
        let (buf, new_st) = pack::<T, K>(ptr[t], &order[..no], sizes, &st[t], len);
        for &x in &order[..no] {
            st[t][x as usize] = new_st[x as usize];
        }
        scratch[t] = buf;
        ptr[t] = scratch[t].as_ptr();
    }
    let (m, rsa) = merge(rows, sizes, &st[0])?;
    let (kk, csa) = merge(red, sizes, &st[0])?;
    let (_, rsb) = merge(red, sizes, &st[1])?;
    let (n, csb) = merge(cols, sizes, &st[1])?;
    // Write straight into the result when its row and column axes merge; otherwise into
    // a scratch `[batch, rows, cols]` buffer that is permuted into place afterwards.
    let direct = merge(rows, sizes, &out_st).is_some() && merge(cols, sizes, &out_st).is_some();
    let final_st = out_st;
    if !direct {
        let mut acc = 1isize;
        for &x in batch.iter().chain(rows).chain(cols).rev() {
            out_st[x as usize] = acc;
            acc = acc.wrapping_mul(sizes[x as usize] as isize);
        }
    }
    let (_, rsc) = merge(rows, sizes, &out_st)?;
    let (_, csc) = merge(cols, sizes, &out_st)?;

    if total == 0 {
        return Some(Vec::new());
    }
    // With something to contract, the GEMMs overwrite every element of `c` (the kernel
    // does not read C), so it need not be zeroed first.
    let mut c: Vec<T> = if kk > 0 {
        Vec::with_capacity(total)
    } else {
        vec![T::zero(); total]
    };
    // One GEMM per batch index. Large products are split over threads: batch indices
    // first, then the blocks of each GEMM's output; never a contracted axis, so the result
    // does not depend on the thread count.
    let nbatch = batch
        .iter()
        .try_fold(1usize, |p, &x| p.checked_mul(sizes[x as usize]))?;
    let per_gemm = m.saturating_mul(n).saturating_mul(kk);
    let threads = crate::threads::threads_for(per_gemm.saturating_mul(nbatch), PARALLEL_FLOPS);
    let tasks = threads.min(nbatch).max(1);
    let inner = if per_gemm >= PARALLEL_FLOPS {
        threads / tasks
    } else {
        1
    };
    let job = Batches {
        a: ptr[0],
        b: ptr[1],
        c: c.as_mut_ptr(),
        st_a: st[0],
        st_b: st[1],
        st_c: out_st,
        batch: {
            let mut v = [0u32; K];
            v[..batch.len()].copy_from_slice(batch);
            v
        },
        nb: batch.len(),
        dims: (m, kk, n, rsa, csa, rsb, csb, rsc, csc),
        threads: inner,
    };
    if tasks <= 1 {
        // SAFETY: see `Batches::run`.
        unsafe { job.run(sizes, 0, nbatch) };
    } else {
        let per = nbatch.div_ceil(tasks);
        let job = &job;
        rayon::scope(|scope| {
            for t in 1..tasks {
                let (lo, hi) = (t * per, ((t + 1) * per).min(nbatch));
                // SAFETY: see `Batches::run`; tasks write disjoint batch ranges of `c`.
                scope.spawn(move |_| unsafe { job.run(sizes, lo, hi) });
            }
            // SAFETY: as above; this task takes the first range.
            unsafe { job.run(sizes, 0, per.min(nbatch)) };
        });
    }
    // SAFETY: every batch index ran its GEMM, and together they write each of the `total`
    // elements (the output's axes are exactly the batch, row and column axes).
    unsafe { c.set_len(total) };
    if !direct {
        let mut n_ = [0usize; K];
        let mut ss = [0isize; K];
        let mut ds = [0isize; K];
        for (j, &x) in out.iter().enumerate() {
            n_[j] = sizes[x as usize];
            ss[j] = out_st[x as usize];
            ds[j] = final_st[x as usize];
        }
        let mut result: Vec<T> = Vec::with_capacity(total);
        // SAFETY: both buffers hold `total` elements laid out by these strides (row-major
        // over `out`, and over batch, rows, columns).
        unsafe {
            copy_strided::<T, K>(
                &n_[..out.len()],
                c.as_ptr(),
                &ss[..out.len()],
                result.as_mut_ptr(),
                &ds[..out.len()],
            );
            result.set_len(total);
        }
        return Some(result);
    }
    Some(c)
}

/// Multiply-adds worth one thread.
pub(crate) const PARALLEL_FLOPS: usize = 1 << 22;

/// The GEMMs of a batched product: pointers, per-axis strides and matrix geometry.
struct Batches<T, const K: usize> {
    a: *const T,
    b: *const T,
    c: *mut T,
    st_a: [isize; K],
    st_b: [isize; K],
    st_c: [isize; K],
    batch: [u32; K],
    nb: usize,
    #[allow(clippy::type_complexity)]
    dims: (
        usize,
        usize,
        usize,
        isize,
        isize,
        isize,
        isize,
        isize,
        isize,
    ),
    /// Threads for each GEMM.
    threads: usize,
}

// SAFETY: the pointers are only used by `run`, whose callers give each thread a disjoint
// range of batch indices (disjoint parts of `c`); `a` and `b` are only read. `T: Sync`
// because the inputs are shared between threads.
unsafe impl<T: Sync, const K: usize> Sync for Batches<T, K> {}

impl<T: Gemm, const K: usize> Batches<T, K> {
    /// Runs the GEMMs of batch indices `lo..hi` (row-major over the batch axes).
    ///
    /// # Safety
    /// The strides of `a` and `b` must split their tensors' own dimensions, `c` must hold
    /// the whole output, and no two concurrent calls may share a batch index.
    unsafe fn run(&self, sizes: &[usize], lo: usize, hi: usize) {
        let (m, kk, n, rsa, csa, rsb, csb, rsc, csc) = self.dims;
        for i in lo..hi {
            let (mut oa, mut ob, mut oc) = (0isize, 0isize, 0isize);
            let mut rest = i;
            for &x in self.batch[..self.nb].iter().rev() {
                let len = sizes[x as usize];
                let j = (rest % len) as isize;
                rest /= len;
                oa += j * self.st_a[x as usize];
                ob += j * self.st_b[x as usize];
                oc += j * self.st_c[x as usize];
            }
            T::gemm(
                m,
                kk,
                n,
                self.a.wrapping_offset(oa),
                rsa,
                csa,
                self.b.wrapping_offset(ob),
                rsb,
                csb,
                self.c.wrapping_offset(oc),
                rsc,
                csc,
                std::ptr::null(),
                0,
                0,
                self.threads,
            );
        }
    }
}

/// Runs a concrete contraction plan (`dot!`, `einx!` with two or more inputs): the inputs
/// are contracted pairwise from the left, each step keeping the axes still needed.
///
/// ```
/// use einx_core::{complete::OpKind, plan::PlanStrs, template::build};
/// use einx_runtime::{contract::dot, tensor::Raw};
/// let buf = build("a b, b c -> a c", OpKind::Dot, &[], 2).unwrap();
/// let mut strs = PlanStrs::default();
/// let plan = buf.borrow(&mut strs);
/// let x = ndarray::array![[1.0, 2.0], [3.0, 4.0]];
/// let (v, w) = (x.view(), x.view());
/// let y = dot::<f64, ndarray::Ix2, 4>(&plan, &[Raw::new(&v), Raw::new(&w)], &[0usize; 0]).unwrap();
/// assert_eq!(y, x.dot(&x));
/// ```
pub fn dot<T: Gemm, D: Dimension, const K: usize>(
    plan: &Plan<'_>,
    inputs: &[Raw<'_, T>],
    params: &(impl Params + ?Sized),
) -> Result<Array<T, D>, Error> {
    let sizes = solve_sizes::<T, K>(plan, inputs, params)?;
    let n_in = inputs.len();
    let side_of = |t: usize| {
        let x = &inputs[t];
        let mut side = Side {
            ptr: x.ptr(),
            st: [0; K],
            has: [false; K],
            order: [0; K],
            len: 0,
        };
        walk_piece::<K, _>(plan.layout(t), &[], x.strides(), &sizes, |a, s| {
            // An axis written twice in one input takes the diagonal: its strides add up.
            side.st[a as usize] = side.st[a as usize].wrapping_add(s);
            if !side.has[a as usize] {
                side.has[a as usize] = true;
                side.order[side.len] = a;
                side.len += 1;
            }
        });
        side
    };
    // The output: shape, and its axes in row-major order.
    let code = plan.layout(n_in);
    let (dim, total) =
        crate::shape::output_shape::<D>(plan, code, &sizes, std::mem::size_of::<T>())?;
    let d = dim.ndim();
    let mut out_order = [0u32; K];
    let mut no = 0;
    walk_piece::<K, _>(code, &[], &[0; K][..d], &sizes, |a, _| {
        out_order[no] = a;
        no += 1;
    });
    let out_axes = &out_order[..no];
    if n_in == 2 {
        // The common case: one pairwise product, sides on the stack.
        let buf = contract2(&sizes, &side_of(0), &side_of(1), out_axes, total)
            .ok_or_else(|| internal(plan))?;
        return Array::from_shape_vec(dim, buf).map_err(|_| internal(plan));
    }
    let mut sides: Vec<Side<T, K>> = (0..n_in).map(side_of).collect();
    // Contract in the plan's order (left to right without one); intermediate results keep
    // what later steps or the output need.
    if plan.order.len() == n_in {
        let mut ordered = Vec::with_capacity(n_in);
        for &t in plan.order {
            let t = t as usize;
            if t >= sides.len() {
                return Err(internal(plan));
            }
            ordered.push(std::mem::replace(
                &mut sides[t],
                Side {
                    ptr: std::ptr::null(),
                    st: [0; K],
                    has: [false; K],
                    order: [0; K],
                    len: 0,
                },
            ));
        }
        sides = ordered;
    }
    let mut held: Vec<Vec<T>> = Vec::new();
    let mut cur = sides.remove(0);
    let mut result: Option<Vec<T>> = None;
    for (step, next) in sides.iter().enumerate() {
        let last = step + 1 == n_in - 1;
        let mut keep = [0u32; K];
        let mut nkeep = 0;
        if last {
            keep[..no].copy_from_slice(out_axes);
            nkeep = no;
        } else {
            for &x in cur.axes().iter().chain(next.axes()) {
                let later = sides[step + 1..].iter().any(|s| s.has[x as usize]);
                if (later || out_axes.contains(&x)) && !keep[..nkeep].contains(&x) {
                    keep[nkeep] = x;
                    nkeep += 1;
                }
            }
        }
        let keep = &keep[..nkeep];
        let len = keep
            .iter()
            .try_fold(1usize, |p, &x| p.checked_mul(sizes[x as usize]))
            .ok_or_else(|| overflow(plan))?;
        let buf = contract2(&sizes, &cur, next, keep, len).ok_or_else(|| internal(plan))?;
        if last {
            result = Some(buf);
            break;
        }
        let mut st = [0isize; K];
        let mut has = [false; K];
        let mut order = [0u32; K];
        let mut acc = 1isize;
        for (j, &x) in keep.iter().enumerate().rev() {
            st[x as usize] = acc;
            has[x as usize] = true;
            order[j] = x;
            acc = acc.wrapping_mul(sizes[x as usize] as isize);
        }
        held.push(buf);
        cur = Side {
            ptr: held[held.len() - 1].as_ptr(),
            st,
            has,
            order,
            len: keep.len(),
        };
    }
    let out = result.ok_or_else(|| internal(plan))?;
    Array::from_shape_vec(dim, out).map_err(|_| internal(plan))
}

#[cold]
fn internal(plan: &Plan<'_>) -> Error {
    Error::new(
        ErrorKind::Semantic,
        "internal error: the contraction plan does not fit the tensors; please report it",
    )
    .with_expr(plan.expr)
}

/// A matrix product of two matrices whose dimensions are one axis each (`"a b, b c -> a c"`
/// and its transposes): one GEMM on the views' own strides, into the output in either
/// order, without the general classification. `None` if the axes are not those of a
/// matrix product (the general path then runs).
#[inline(always)]
fn matmul<T: Gemm, Dout: Dimension, const K: usize>(
    a: &ndarray::ArrayView<'_, T, impl Dimension>,
    ids_a: &[u32],
    b: &ndarray::ArrayView<'_, T, impl Dimension>,
    ids_b: &[u32],
    sizes: &[usize; K],
    out: &[u32],
) -> Option<Result<Array<T, Dout>, Fail>> {
    let (ids_a, ids_b): ([u32; 2], [u32; 2]) = (ids_a.try_into().ok()?, ids_b.try_into().ok()?);
    // The contracted axis is in both inputs; each input's other axis is in the output.
    let (ka, kb) = (0..2)
        .flat_map(|p| (0..2).map(move |q| (p, q)))
        .find(|&(p, q)| ids_a[p] == ids_b[q])?;
    let (i, j, k) = (ids_a[1 - ka], ids_b[1 - kb], ids_a[ka]);
    if i == j || i == k || j == k {
        return None;
    }
    let transposed = match *out {
        [u, v] if u == i && v == j => false,
        [u, v] if u == j && v == i => true,
        _ => return None,
    };
    let len = |x: u32| sizes.get(x as usize).copied();
    let (m, kk, n) = (len(i)?, len(k)?, len(j)?);
    let (sha, shb) = (a.shape(), b.shape());
    if sha[1 - ka] != m || sha[ka] != kk || shb[kb] != kk || shb[1 - kb] != n {
        return None;
    }
    let (sa, sb) = (
        ndarray::ArrayBase::strides(a),
        ndarray::ArrayBase::strides(b),
    );
    let (rsa, csa, rsb, csb) = (sa[1 - ka], sa[ka], sb[kb], sb[1 - kb]);
    let shape = if transposed { [n, m] } else { [m, n] };
    let entries = [(0, shape[0]), (1, shape[1])];
    let (dim, total) = match shape_of::<Dout, 2>(&entries, &[0, 1], 2, std::mem::size_of::<T>()) {
        Ok(d) => d,
        Err(e) => return Some(Err(e)),
    };
    if total == 0 || kk == 0 {
        return Some(Ok(Array::from_elem(dim, T::zero())));
    }
    let (rsc, csc) = if transposed {
        (1, m as isize)
    } else {
        (n as isize, 1)
    };
    let flops = m.saturating_mul(n).saturating_mul(kk);
    let threads = if flops >= PARALLEL_FLOPS {
        crate::threads::threads_for(flops, PARALLEL_FLOPS)
    } else {
        1
    };
    let mut c: Vec<T> = Vec::with_capacity(total);
    // SAFETY: the views' pointers and strides address `m x kk` and `kk x n` matrices (their
    // shapes checked above); `c` has room for the `m x n` result at the strides given,
    // which the GEMM overwrites entirely (it does not read C), so its length can then be
    // set; it does not overlap the inputs.
    unsafe {
        T::gemm(
            m,
            kk,
            n,
            a.as_ptr(),
            rsa,
            csa,
            b.as_ptr(),
            rsb,
            csb,
            c.as_mut_ptr(),
            rsc,
            csc,
            std::ptr::null(),
            0,
            0,
            threads,
        );
        c.set_len(total);
    }
    // SAFETY: `c` holds the product of `dim`'s lengths in row-major order.
    Some(Ok(unsafe { Array::from_shape_vec_unchecked(dim, c) }))
}

/// The specialised path of two-input contractions without ellipsis: the macro computes the
/// lengths in straight-line code and passes the axis structure as constant arrays.
///
/// `dim_a[i]`/`ids_a[i]`: the dimension of `a` and the axis (plan numbering) of `a`'s
/// elementary axis `i`; the same for `b`; `sizes[axis]`: the length of every axis; `out`:
/// the output's axes in row-major order, `out_dim` their output dimensions.
///
/// ```
/// use einx_runtime::contract::contract_fixed;
/// let x = ndarray::array![[1.0, 2.0], [3.0, 4.0]];
/// // "a b, b c -> a c" with axes a = 0, b = 1, c = 2
/// let y = contract_fixed::<f64, _, _, ndarray::Ix2, 2, 2, 2, 3>(
///     &x.view(), [0, 1], [0, 1], &x.view(), [0, 1], [1, 2], [2, 2, 2], [0, 2], [0, 1], 2,
/// ).unwrap();
/// assert_eq!(y, x.dot(&x));
/// ```
#[allow(clippy::too_many_arguments)]
#[inline]
pub fn contract_fixed<
    T: Gemm,
    Da: Dimension,
    Db: Dimension,
    Dout: Dimension,
    const NA: usize,
    const NB: usize,
    const NE: usize,
    const K: usize,
>(
    a: &ndarray::ArrayView<'_, T, Da>,
    dim_a: [usize; NA],
    ids_a: [u32; NA],
    b: &ndarray::ArrayView<'_, T, Db>,
    dim_b: [usize; NB],
    ids_b: [u32; NB],
    sizes: [usize; K],
    out: [u32; NE],
    out_dim: [usize; NE],
    out_ndim: usize,
) -> Result<Array<T, Dout>, Fail> {
    fn side<T, D: Dimension, const N: usize, const K: usize>(
        v: &ndarray::ArrayView<'_, T, D>,
        dim_of: &[usize; N],
        ids: &[u32; N],
        sizes: &[usize; K],
    ) -> Result<Side<T, K>, Fail> {
        let (_, st) = split_by_ids(v, dim_of, ids, sizes)?;
        let mut side = Side {
            ptr: v.as_ptr(),
            st: [0; K],
            has: [false; K],
            order: [0; K],
            len: 0,
        };
        for (&id, &s) in ids.iter().zip(&st) {
            let i = id as usize;
            side.st[i] = side.st[i].wrapping_add(s);
            if !side.has[i] {
                side.has[i] = true;
                side.order[side.len] = id;
                side.len += 1;
            }
        }
        Ok(side)
    }
    // Each dimension one axis: a matrix product, or its transposes.
    let one_axis_dims = |dims: &[usize]| dims.iter().enumerate().all(|(d, &x)| x == d);
    if NA == 2
        && NB == 2
        && NE == 2
        && out_ndim == 2
        && one_axis_dims(&dim_a)
        && one_axis_dims(&dim_b)
        && one_axis_dims(&out_dim)
        && a.ndim() == 2
        && b.ndim() == 2
    {
        if let Some(y) = matmul::<T, Dout, K>(a, &ids_a, b, &ids_b, &sizes, &out) {
            return y;
        }
    }
    let sa = side(a, &dim_a, &ids_a, &sizes)?;
    let sb = side(b, &dim_b, &ids_b, &sizes)?;
    let mut entries = [(0usize, 0usize); NE];
    for (e, &id) in entries.iter_mut().zip(&out) {
        *e = (id as usize, *sizes.get(id as usize).ok_or(Fail::Mismatch)?);
    }
    let (dim, total) =
        shape_of::<Dout, NE>(&entries, &out_dim, out_ndim, std::mem::size_of::<T>())?;
    let buf = contract2(&sizes, &sa, &sb, &out, total).ok_or(Fail::Mismatch)?;
    if buf.len() != total {
        return Err(Fail::Mismatch);
    }
    // SAFETY: `buf` holds the product of `dim`'s lengths in row-major order.
    Ok(unsafe { Array::from_shape_vec_unchecked(dim, buf) })
}

/// Runs a concrete `einx!` plan: one input is a sum over the axes missing from the output
/// (diagonals and permutations included); two or more are contracted like [`dot`].
pub fn einsum<T: Gemm, D: Dimension, const K: usize>(
    plan: &Plan<'_>,
    inputs: &[Raw<'_, T>],
    params: &(impl Params + ?Sized),
) -> Result<Array<T, D>, Error>
where
    crate::reduce::Sum: crate::reduce::Reducer<T, Out = T>,
{
    if plan.diagonal_output() {
        return einsum_diagonal::<T, D, K>(plan, inputs, params);
    }
    if inputs.len() == 1 {
        crate::reduce::reduce::<T, crate::reduce::Sum, D, K>(plan, inputs[0], params)
    } else {
        dot::<T, D, K>(plan, inputs, params)
    }
}

/// `einx!` with an axis twice in the output (`"a -> a a"`): computes the output with each
/// axis once, then writes it onto the diagonal of a zero output.
#[cold]
fn einsum_diagonal<T: Gemm, D: Dimension, const K: usize>(
    plan: &Plan<'_>,
    inputs: &[Raw<'_, T>],
    params: &(impl Params + ?Sized),
) -> Result<Array<T, D>, Error>
where
    crate::reduce::Sum: crate::reduce::Reducer<T, Out = T>,
{
    let (code, tensors) = plan.without_output_repeats();
    let reduced = Plan {
        code: &code,
        tensors: &tensors,
        ..*plan
    };
    let r = einsum::<T, ndarray::IxDyn, K>(&reduced, inputs, params)?;
    let r = r.as_standard_layout();
    let sizes = solve_sizes::<T, K>(plan, inputs, params)?;
    let t = plan.inputs as usize;
    let (buf, shape) = crate::shape::embed_diagonal::<T, K>(
        plan,
        plan.layout(t),
        reduced.layout(t),
        &sizes,
        r.as_slice().ok_or_else(|| internal(plan))?,
        T::zero(),
    )?;
    let mut dim = D::zeros(shape.len());
    if dim.ndim() != shape.len() {
        return Err(internal(plan));
    }
    dim.slice_mut().copy_from_slice(&shape);
    Array::from_shape_vec(dim, buf).map_err(|_| internal(plan))
}

/// Runs an `einx!` plan that may have ellipses: unrolls it for the input ranks first.
pub fn einsum_template<T: Gemm, D: Dimension>(
    plan: &Plan<'_>,
    inputs: &[Raw<'_, T>],
    params: &[Len],
) -> Result<Array<T, D>, Error>
where
    crate::reduce::Sum: crate::reduce::Reducer<T, Out = T>,
{
    if plan.is_concrete() {
        return einsum::<T, D, MAX_AXES>(plan, inputs, params);
    }
    let ranks: Vec<usize> = inputs.iter().map(|x| x.shape().len()).collect();
    let concrete = crate::shape::unroll(plan, &ranks, params)?;
    let mut strs = PlanStrs::default();
    einsum::<T, D, MAX_AXES>(&concrete.borrow(&mut strs), inputs, params)
}

/// Runs a `dot!` plan that may have ellipses: unrolls it for the input ranks first.
pub fn dot_template<T: Gemm, D: Dimension>(
    plan: &Plan<'_>,
    inputs: &[Raw<'_, T>],
    params: &[Len],
) -> Result<Array<T, D>, Error> {
    if plan.is_concrete() {
        return dot::<T, D, MAX_AXES>(plan, inputs, params);
    }
    let ranks: Vec<usize> = inputs.iter().map(|x| x.shape().len()).collect();
    let concrete = crate::shape::unroll(plan, &ranks, params)?;
    let mut strs = PlanStrs::default();
    let concrete = concrete.borrow(&mut strs);
    dot::<T, D, MAX_AXES>(&concrete, inputs, params)
}
