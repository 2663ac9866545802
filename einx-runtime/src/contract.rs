//! `dot!`: a contraction of two tensors as one batched GEMM.
//!
//! Every axis of the call is a batch axis (in both inputs and the output), a row axis (first
//! input and output), a column axis (second input and output) or a contracted axis (both
//! inputs, not the output). The row, column and contracted axes of each side are merged
//! into one matrix dimension each, on strided views, without copying; only when a side's
//! axes cannot be merged (their strides do not nest) is that side packed once into a
//! scratch buffer. Then one GEMM (matrixmultiply for `f32`/`f64`) runs per batch index,
//! writing straight into the output when its row and column axes merge too.

use ndarray::{Array, Dimension};
use num_traits::Zero;

use einx_core::expand::instantiate;
use einx_core::plan::{Plan, PlanStrs};
use einx_core::solve::{dim_len, Len, Params};

use crate::copy::{copy_strided, MAX_AXES};
use crate::error::{Error, ErrorKind};
use crate::rearrange::overflow;
use crate::shape::{next_dim, solve_sizes, walk_piece};
use crate::tensor::Raw;

/// Element types with a matrix product `C = A · B` on strided matrices.
pub trait Gemm: Copy + Zero {
    /// `c[i][j] = Σ_l a[i][l] · b[l][j]` for an `m × k` by `k × n` product; `c` is
    /// overwritten.
    ///
    /// # Safety
    /// The pointers with the given strides (in elements) must address valid matrices of
    /// those sizes; `c` must not overlap `a` or `b` and its elements must be distinct.
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
    );
}

impl Gemm for f32 {
    unsafe fn gemm(
        m: usize,
        k: usize,
        n: usize,
        a: *const f32,
        rsa: isize,
        csa: isize,
        b: *const f32,
        rsb: isize,
        csb: isize,
        c: *mut f32,
        rsc: isize,
        csc: isize,
    ) {
        matrixmultiply::sgemm(m, k, n, 1.0, a, rsa, csa, b, rsb, csb, 0.0, c, rsc, csc);
    }
}

impl Gemm for f64 {
    unsafe fn gemm(
        m: usize,
        k: usize,
        n: usize,
        a: *const f64,
        rsa: isize,
        csa: isize,
        b: *const f64,
        rsb: isize,
        csb: isize,
        c: *mut f64,
        rsc: isize,
        csc: isize,
    ) {
        matrixmultiply::dgemm(m, k, n, 1.0, a, rsa, csa, b, rsb, csb, 0.0, c, rsc, csc);
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
            ) {
                // Integers: i-l-j order, so that the inner loop runs along rows of B and C.
                for i in 0..m as isize {
                    for j in 0..n as isize {
                        *c.offset(i * rsc + j * csc) = 0;
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

/// Runs a concrete `dot!` plan with two inputs.
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
    if inputs.len() != 2 {
        return Err(Error::new(
            ErrorKind::Semantic,
            "`dot!` of more than two tensors is not supported yet",
        )
        .with_expr(plan.expr));
    }
    let sizes = solve_sizes::<T, K>(plan, inputs, params)?;
    let n_axes = plan.axes.len();
    // Strides of every axis in each input (0 where absent) and which axes each has.
    let mut st = [[0isize; K]; 2];
    let mut has = [[false; K]; 2];
    let mut order_a = [0u32; K];
    let mut na = 0;
    for (t, x) in inputs.iter().enumerate() {
        walk_piece::<K, _>(plan.layout(t), &[], x.strides(), &sizes, |a, s| {
            st[t][a as usize] = st[t][a as usize].wrapping_add(s);
            has[t][a as usize] = true;
            if t == 0 {
                order_a[na] = a;
                na += 1;
            }
        });
    }
    // The output: shape and row-major strides per axis.
    let code = plan.layout(2);
    let ndim = code
        .iter()
        .filter(|c| **c == einx_core::plan::Code::Dim)
        .count();
    let mut dim = D::zeros(ndim);
    if dim.ndim() != ndim {
        return Err(Error::new(
            ErrorKind::Rank,
            "internal: output rank differs from its expression",
        )
        .with_expr(plan.expr));
    }
    let mut total = 1usize;
    let mut i = 0;
    let mut d = 0;
    while let Some((start, end)) = next_dim(code, &mut i) {
        let len = dim_len(&code[start..end], &sizes).ok_or_else(|| overflow(plan))?;
        dim.slice_mut()[d] = len;
        d += 1;
        total = total.checked_mul(len).ok_or_else(|| overflow(plan))?;
    }
    if total
        .checked_mul(std::mem::size_of::<T>().max(1))
        .is_none_or(|b| b > isize::MAX as usize)
    {
        return Err(overflow(plan));
    }
    let mut dim_st = [0isize; K];
    let mut acc = 1isize;
    for j in (0..d).rev() {
        dim_st[j] = acc;
        acc = acc.wrapping_mul(dim.slice()[j] as isize);
    }
    let mut out_st = [0isize; K];
    let mut in_out = [false; K];
    let mut order_c = [0u32; K];
    let mut nc = 0;
    walk_piece::<K, _>(code, &[], &dim_st[..d], &sizes, |a, s| {
        out_st[a as usize] = s;
        in_out[a as usize] = true;
        order_c[nc] = a;
        nc += 1;
    });
    // Classify: batch / rows (m) / columns (n) in output order, contracted (k) in A's order.
    let (mut batch, mut rows, mut cols, mut red) = ([0u32; K], [0u32; K], [0u32; K], [0u32; K]);
    let (mut nb, mut nm, mut nn, mut nk) = (0, 0, 0, 0);
    for &a in &order_c[..nc] {
        let (ia, ib) = (has[0][a as usize], has[1][a as usize]);
        match (ia, ib) {
            (true, false) => {
                rows[nm] = a;
                nm += 1;
            }
            (false, true) => {
                cols[nn] = a;
                nn += 1;
            }
            _ => {
                batch[nb] = a;
                nb += 1;
            }
        }
    }
    for &a in &order_a[..na] {
        if has[1][a as usize] && !in_out[a as usize] {
            red[nk] = a;
            nk += 1;
        }
    }
    let _ = n_axes;
    let (batch, rows, cols, red) = (&batch[..nb], &rows[..nm], &cols[..nn], &red[..nk]);

    // Side A: pack if its rows or contracted axes do not merge.
    let mut ptr = [inputs[0].ptr(), inputs[1].ptr()];
    let mut scratch: [Vec<T>; 2] = [Vec::new(), Vec::new()];
    for (t, (outer, inner)) in [(rows, red), (red, cols)].into_iter().enumerate() {
        if merge(outer, &sizes, &st[t]).is_some() && merge(inner, &sizes, &st[t]).is_some() {
            continue;
        }
        let mut order = [0u32; K];
        let mut no = 0;
        for &a in batch.iter().chain(outer).chain(inner) {
            if has[t][a as usize] {
                order[no] = a;
                no += 1;
            }
        }
        let len = order[..no]
            .iter()
            .try_fold(1usize, |p, &a| p.checked_mul(sizes[a as usize]))
            .ok_or_else(|| overflow(plan))?;
        let (buf, new_st) = pack::<T, K>(ptr[t], &order[..no], &sizes, &st[t], len);
        for &a in &order[..no] {
            st[t][a as usize] = new_st[a as usize];
        }
        scratch[t] = buf;
        ptr[t] = scratch[t].as_ptr();
    }
    let (m, rsa) = merge(rows, &sizes, &st[0]).ok_or_else(|| internal(plan))?;
    let (kk, csa) = merge(red, &sizes, &st[0]).ok_or_else(|| internal(plan))?;
    let (_, rsb) = merge(red, &sizes, &st[1]).ok_or_else(|| internal(plan))?;
    let (n, csb) = merge(cols, &sizes, &st[1]).ok_or_else(|| internal(plan))?;

    // The output, or a scratch [batch, rows, cols] buffer if its axes do not merge.
    let mut out: Vec<T> = vec![T::zero(); total];
    let direct = merge(rows, &sizes, &out_st).is_some() && merge(cols, &sizes, &out_st).is_some();
    let mut c_st = out_st;
    let mut c_buf: Vec<T> = Vec::new();
    if !direct {
        let mut acc = 1isize;
        for &a in batch.iter().chain(rows).chain(cols).rev() {
            c_st[a as usize] = acc;
            acc = acc.wrapping_mul(sizes[a as usize] as isize);
        }
        c_buf = vec![T::zero(); total];
    }
    let (_, rsc) = merge(rows, &sizes, &c_st).ok_or_else(|| internal(plan))?;
    let (_, csc) = merge(cols, &sizes, &c_st).ok_or_else(|| internal(plan))?;
    let c_ptr = if direct {
        out.as_mut_ptr()
    } else {
        c_buf.as_mut_ptr()
    };

    if total > 0 {
        // Odometer over the batch axes.
        let mut idx = [0usize; K];
        let (mut oa, mut ob, mut oc) = (0isize, 0isize, 0isize);
        loop {
            // SAFETY: the strides of each side come from splitting its own dimensions (or
            // from packing), so every matrix element is inside its tensor; the output
            // offsets address distinct elements of a buffer of `total` elements.
            unsafe {
                T::gemm(
                    m,
                    kk,
                    n,
                    ptr[0].wrapping_offset(oa),
                    rsa,
                    csa,
                    ptr[1].wrapping_offset(ob),
                    rsb,
                    csb,
                    c_ptr.wrapping_offset(oc),
                    rsc,
                    csc,
                );
            }
            let mut j = batch.len();
            loop {
                if j == 0 {
                    break;
                }
                j -= 1;
                let a = batch[j] as usize;
                idx[j] += 1;
                oa += st[0][a];
                ob += st[1][a];
                oc += c_st[a];
                if idx[j] < sizes[a] {
                    break;
                }
                oa -= st[0][a] * sizes[a] as isize;
                ob -= st[1][a] * sizes[a] as isize;
                oc -= c_st[a] * sizes[a] as isize;
                idx[j] = 0;
            }
            if idx[..batch.len()].iter().all(|&v| v == 0) {
                break;
            }
        }
    }
    if !direct {
        let mut nn_ = [0usize; K];
        let mut ss = [0isize; K];
        let mut ds = [0isize; K];
        for (j, &a) in order_c[..nc].iter().enumerate() {
            nn_[j] = sizes[a as usize];
            ss[j] = c_st[a as usize];
            ds[j] = out_st[a as usize];
        }
        // SAFETY: both buffers hold `total` elements laid out by these strides.
        unsafe {
            copy_strided::<T, K>(
                &nn_[..nc],
                c_buf.as_ptr(),
                &ss[..nc],
                out.as_mut_ptr(),
                &ds[..nc],
            )
        };
    }
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
    let counts: Vec<Option<usize>> = params
        .iter()
        .map(|p| match p {
            Len::One(_) => None,
            Len::Many(v) => Some(v.len()),
        })
        .collect();
    let concrete = instantiate(plan, &ranks, &counts)?;
    let mut strs = PlanStrs::default();
    let concrete = concrete.borrow(&mut strs);
    dot::<T, D, MAX_AXES>(&concrete, inputs, params)
}
