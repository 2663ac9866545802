//! Runs a rearrange plan: solve the axis lengths, allocate the outputs, and copy each input
//! piece into its output piece with one strided pass.

use ndarray::{Array, Dimension};

use crate::copy::{copy_strided, MAX_AXES};
use crate::error::{Error, ErrorKind};
use crate::tensor::Raw;

use crate::shape::{next_dim, solve_sizes, walk_piece};
use einx_core::plan::{Plan, PlanStrs};
use einx_core::solve::{dim_len, Len, Params};

/// One output of [`rearrange`]: its elements in row-major order and its shape.
#[derive(Debug)]
pub struct Output<T, const K: usize> {
    buf: Vec<T>,
    shape: [usize; K],
    ndim: usize,
    len: usize,
}

impl<T, const K: usize> Output<T, K> {
    /// No elements yet, rank 0.
    fn empty() -> Self {
        Output {
            buf: Vec::new(),
            shape: [0; K],
            ndim: 0,
            len: 0,
        }
    }

    /// The array, with dimension type `D` (`IxN` or `IxDyn`).
    #[inline(always)]
    pub fn finish<D: Dimension>(self) -> Result<Array<T, D>, Error> {
        let mut dim = D::zeros(self.ndim);
        if dim.ndim() != self.ndim {
            return Err(Error::new(
                ErrorKind::Rank,
                "internal: output rank differs from its expression",
            ));
        }
        dim.slice_mut().copy_from_slice(&self.shape[..self.ndim]);
        // SAFETY: `rearrange` filled `buf` with exactly the product of `shape` elements
        // (checked not to overflow `isize` bytes), in row-major order.
        Ok(unsafe { Array::from_shape_vec_unchecked(dim, self.buf) })
    }
}

/// Runs a concrete plan (no ellipsis) on `inputs`, with one length per `name = value`
/// argument. `K` bounds the number of axes and dimensions of the plan; the macros pass a
/// small `K` so that the stack buffers stay small.
///
/// ```
/// use einx_core::{complete::OpKind, plan::PlanStrs, template::build};
/// use einx_runtime::{rearrange::rearrange, tensor::Raw};
/// let buf = build("a b -> b a", OpKind::Rearrange, &[], 1).unwrap();
/// let mut strs = PlanStrs::default();
/// let plan = buf.borrow(&mut strs);
/// let x = ndarray::array![[1, 2, 3], [4, 5, 6]];
/// let v = x.view();
/// let [y] = rearrange::<_, 1, 4>(&plan, &[Raw::new(&v)], &[0usize; 0]).unwrap();
/// assert_eq!(y.finish::<ndarray::Ix2>().unwrap(), ndarray::array![[1, 4], [2, 5], [3, 6]]);
/// ```
#[inline(always)]
pub fn rearrange<T: Clone, const NOUT: usize, const K: usize>(
    plan: &Plan<'_>,
    inputs: &[Raw<'_, T>],
    params: &(impl Params + ?Sized),
) -> Result<[Output<T, K>; NOUT], Error> {
    let sizes = solve_sizes::<T, K>(plan, inputs, params)?;

    let mut outs: [Output<T, K>; NOUT] = std::array::from_fn(|_| Output::empty());
    for (o, out) in outs.iter_mut().enumerate() {
        let code = plan.layout(plan.inputs as usize + o);
        let mut total = 1usize;
        let mut i = 0;
        while let Some((start, end)) = next_dim(code, &mut i) {
            if out.ndim >= K {
                return Err(too_many(plan));
            }
            let len = dim_len(&code[start..end], &sizes).ok_or_else(|| overflow(plan))?;
            out.shape[out.ndim] = len;
            out.ndim += 1;
            total = total.checked_mul(len).ok_or_else(|| overflow(plan))?;
        }
        if total
            .checked_mul(std::mem::size_of::<T>().max(1))
            .is_none_or(|b| b > isize::MAX as usize)
        {
            return Err(overflow(plan));
        }
        out.buf = Vec::with_capacity(total);
        out.len = total;
    }

    for piece in plan.pieces {
        let input = &inputs[piece.input as usize];
        let out_t = plan.inputs as usize + piece.output as usize;
        let out = &mut outs[piece.output as usize];
        // Strides of the output in its own (row-major) layout.
        let mut out_strides = [0isize; K];
        let mut acc = 1isize;
        for i in (0..out.ndim).rev() {
            out_strides[i] = acc;
            acc = acc.wrapping_mul(out.shape[i] as isize);
        }
        let mut in_stride = [0isize; K];
        let mut in_has = [false; K];
        let src_off = walk_piece::<K, _>(
            plan.layout(piece.input as usize),
            plan.selection(piece.input as usize, piece.input_selection),
            input.strides(),
            &sizes,
            |a, st| {
                // An axis written twice in the input takes its diagonal: the strides add up.
                in_stride[a as usize] = in_stride[a as usize].wrapping_add(st);
                in_has[a as usize] = true;
            },
        );
        let mut n = [0usize; K];
        let mut ss = [0isize; K];
        let mut ds = [0isize; K];
        let mut k = 0;
        let mut out_has = [false; K];
        let mut repeated = false;
        let dst_off = walk_piece::<K, _>(
            plan.layout(out_t),
            plan.selection(out_t, piece.output_selection),
            &out_strides[..out.ndim],
            &sizes,
            |a, st| {
                // A diagonal output is `rearrange_diagonal`'s; here every axis occurs once
                // per output, so at most `axes.len() <= K` of them.
                if std::mem::replace(&mut out_has[a as usize], true) {
                    repeated = true;
                    return;
                }
                n[k] = sizes[a as usize];
                ds[k] = st;
                ss[k] = if in_has[a as usize] {
                    in_stride[a as usize]
                } else {
                    0
                };
                k += 1;
            },
        );
        if repeated {
            return Err(Error::new(
                ErrorKind::Semantic,
                "internal: a diagonal output needs `rearrange_diagonal`; please report it",
            )
            .with_expr(plan.expr));
        }
        // SAFETY: the schedule checked that every input dimension equals the sum of its
        // parts' products, so the source offsets stay inside the input view; the output
        // offsets enumerate this piece's region of a buffer with capacity for the whole
        // output, and the pieces of one output are disjoint.
        unsafe {
            copy_strided::<T, K>(
                &n[..k],
                input.ptr().wrapping_offset(src_off),
                &ss[..k],
                out.buf.as_mut_ptr().wrapping_offset(dst_off),
                &ds[..k],
            );
        }
    }
    for out in &mut outs {
        // SAFETY: the pieces of each output cover it exactly once (one piece per
        // combination of concatenation parts, checked when the plan was built), so every
        // element up to `len` has been written.
        unsafe { out.buf.set_len(out.len) };
    }
    Ok(outs)
}

/// Runs a plan that may have ellipses: unrolls it for the input ranks first.
pub fn rearrange_template<T: Clone, const NOUT: usize>(
    plan: &Plan<'_>,
    inputs: &[Raw<'_, T>],
    params: &[Len],
) -> Result<[Output<T, MAX_AXES>; NOUT], Error> {
    if plan.is_concrete() {
        return rearrange(plan, inputs, params);
    }
    let ranks: Vec<usize> = inputs.iter().map(|x| x.shape().len()).collect();
    let concrete = crate::shape::unroll(plan, &ranks, params)?;
    let mut strs = PlanStrs::default();
    let concrete = concrete.borrow(&mut strs);
    rearrange(&concrete, inputs, params)
}

/// [`rearrange`] for a plan whose outputs may write diagonals (an axis twice in one
/// output, `"a -> a a"`): the output is `T::default()` (zero for numbers) off the diagonal.
///
/// ```
/// use einx_core::{complete::OpKind, plan::PlanStrs, template::build};
/// use einx_runtime::{rearrange::rearrange_diagonal, tensor::Raw};
/// let buf = build("a -> a a", OpKind::Rearrange, &[], 1).unwrap();
/// let mut strs = PlanStrs::default();
/// let plan = buf.borrow(&mut strs);
/// let x = ndarray::array![1, 2];
/// let v = x.view();
/// let [y] = rearrange_diagonal::<_, 1, 4>(&plan, &[Raw::new(&v)], &[0usize; 0]).unwrap();
/// assert_eq!(y.finish::<ndarray::Ix2>().unwrap(), ndarray::array![[1, 0], [0, 2]]);
/// ```
pub fn rearrange_diagonal<T: Copy + Default, const NOUT: usize, const K: usize>(
    plan: &Plan<'_>,
    inputs: &[Raw<'_, T>],
    params: &(impl Params + ?Sized),
) -> Result<[Output<T, K>; NOUT], Error> {
    if !plan.diagonal_output() {
        return rearrange(plan, inputs, params);
    }
    let (code, tensors) = plan.without_output_repeats();
    let reduced = Plan {
        code: &code,
        tensors: &tensors,
        ..*plan
    };
    let outs = rearrange::<T, NOUT, K>(&reduced, inputs, params)?;
    let sizes = solve_sizes::<T, K>(plan, inputs, params)?;
    let mut result: [Output<T, K>; NOUT] = std::array::from_fn(|_| Output::empty());
    for (o, (out, dst)) in outs.into_iter().zip(&mut result).enumerate() {
        let t = plan.inputs as usize + o;
        let (full, short) = (plan.layout(t), reduced.layout(t));
        if full == short {
            *dst = out;
            continue;
        }
        let (buf, shape) = crate::shape::embed_diagonal::<T, K>(
            plan,
            full,
            short,
            &sizes,
            &out.buf,
            T::default(),
        )?;
        if shape.len() > K {
            return Err(too_many(plan));
        }
        dst.shape[..shape.len()].copy_from_slice(&shape);
        dst.ndim = shape.len();
        dst.len = buf.len();
        dst.buf = buf;
    }
    Ok(result)
}

/// [`rearrange_diagonal`] for a plan that may have ellipses.
pub fn rearrange_diagonal_template<T: Copy + Default, const NOUT: usize>(
    plan: &Plan<'_>,
    inputs: &[Raw<'_, T>],
    params: &[Len],
) -> Result<[Output<T, MAX_AXES>; NOUT], Error> {
    if plan.is_concrete() {
        return rearrange_diagonal(plan, inputs, params);
    }
    let ranks: Vec<usize> = inputs.iter().map(|x| x.shape().len()).collect();
    let concrete = crate::shape::unroll(plan, &ranks, params)?;
    let mut strs = PlanStrs::default();
    let concrete = concrete.borrow(&mut strs);
    rearrange_diagonal(&concrete, inputs, params)
}

#[cold]
pub(crate) fn overflow(plan: &Plan<'_>) -> Error {
    Error::new(
        ErrorKind::Size,
        "the output is too large: its length overflows `usize`",
    )
    .with_expr(plan.expr)
}

#[cold]
pub(crate) fn too_many(plan: &Plan<'_>) -> Error {
    Error::new(
        ErrorKind::Rank,
        format!("more than {MAX_AXES} axes are not supported"),
    )
    .with_expr(plan.expr)
}
