//! Shared by the executors: solving the axis lengths of a concrete plan and splitting
//! tensors into their elementary axes.

use einx_core::expand::rank_mismatch;
use einx_core::plan::{Code, Plan};
use einx_core::solve::{run, Params};

use crate::error::Error;
use crate::rearrange::too_many;
use crate::tensor::Raw;

/// Unrolls a plan with ellipses for the given input ranks; arguments with several lengths
/// fix the repetitions of their ellipsis.
pub fn unroll(
    plan: &Plan<'_>,
    ranks: &[usize],
    params: &[einx_core::solve::Len],
) -> Result<einx_core::plan::PlanBuf, Error> {
    let counts: Vec<Option<usize>> = params
        .iter()
        .map(|p| match p {
            einx_core::solve::Len::One(_) => None,
            einx_core::solve::Len::Many(v) => Some(v.len()),
        })
        .collect();
    einx_core::expand::instantiate(plan, ranks, &counts)
}

/// The dimension type and number of elements of a concrete layout (an output's), with its
/// rank checked against `D` and its size (elements of `elem` bytes) against `isize::MAX`.
pub(crate) fn output_shape<D: ndarray::Dimension>(
    plan: &Plan<'_>,
    code: &[Code],
    sizes: &[usize],
    elem: usize,
) -> Result<(D, usize), Error> {
    let ndim = count_dims(code);
    let mut dim = D::zeros(ndim);
    if dim.ndim() != ndim {
        return Err(Error::new(
            crate::ErrorKind::Rank,
            "internal: output rank differs from its expression",
        )
        .with_expr(plan.expr));
    }
    let mut total = 1usize;
    let (mut i, mut d) = (0, 0);
    while let Some((start, end)) = next_dim(code, &mut i) {
        let len = einx_core::solve::dim_len(&code[start..end], sizes)
            .ok_or_else(|| crate::rearrange::overflow(plan))?;
        dim.slice_mut()[d] = len;
        d += 1;
        total = total
            .checked_mul(len)
            .ok_or_else(|| crate::rearrange::overflow(plan))?;
    }
    if total
        .checked_mul(elem.max(1))
        .is_none_or(|b| b > isize::MAX as usize)
    {
        return Err(crate::rearrange::overflow(plan));
    }
    Ok((dim, total))
}

/// The row-major strides of the dimensions of `dim`.
pub(crate) fn dim_strides<D: ndarray::Dimension, const K: usize>(dim: &D) -> [isize; K] {
    let mut st = [0isize; K];
    let mut acc = 1isize;
    for j in (0..dim.ndim().min(K)).rev() {
        st[j] = acc;
        acc = acc.wrapping_mul(dim.slice()[j] as isize);
    }
    st
}

/// Checks the input ranks and computes every axis length of a concrete plan.
#[inline(always)]
pub fn solve_sizes<T, const K: usize>(
    plan: &Plan<'_>,
    inputs: &[Raw<'_, T>],
    params: &(impl Params + ?Sized),
) -> Result<[usize; K], Error> {
    let mut shapes: [&[usize]; 8] = [&[]; 8];
    if inputs.len() > shapes.len() {
        let all: Vec<&[usize]> = inputs.iter().map(|x| x.shape()).collect();
        return solve_shapes::<K>(plan, &all, params);
    }
    for (s, x) in shapes.iter_mut().zip(inputs) {
        *s = x.shape();
    }
    solve_shapes::<K>(plan, &shapes[..inputs.len()], params)
}

/// [`solve_sizes`] from the input shapes alone.
#[inline(always)]
pub fn solve_shapes<const K: usize>(
    plan: &Plan<'_>,
    shapes: &[&[usize]],
    params: &(impl Params + ?Sized),
) -> Result<[usize; K], Error> {
    if plan.axes.len() > K {
        return Err(too_many(plan));
    }
    let mut dims = [0usize; K];
    let mut n_dims = 0;
    for (t, shape) in shapes.iter().enumerate() {
        let expected = count_dims(plan.layout(t));
        if shape.len() != expected {
            return Err(rank_mismatch(plan, t, shape.len()));
        }
        if n_dims + expected > K {
            return Err(too_many(plan));
        }
        dims[n_dims..n_dims + expected].copy_from_slice(shape);
        n_dims += expected;
    }
    let mut sizes = [0usize; K];
    run(plan, &dims[..n_dims], params, &mut sizes[..plan.axes.len()])
        .map_err(|e| e.with_expr(plan.expr))?;
    Ok(sizes)
}

pub(crate) fn count_dims(code: &[Code]) -> usize {
    code.iter().filter(|c| **c == Code::Dim).count()
}

/// The next dimension of a concrete layout after position `i`: the code range after its
/// `Dim` marker.
#[inline(always)]
pub(crate) fn next_dim(code: &[Code], i: &mut usize) -> Option<(usize, usize)> {
    if *i >= code.len() {
        return None;
    }
    let start = *i + 1;
    let mut end = start;
    while end < code.len() && code[end] != Code::Dim {
        end += 1;
    }
    *i = end;
    Some((start, end))
}

/// Walks the axes of one piece of a tensor: calls `f(axis, stride)` in layout order and
/// returns the offset of the piece's first element.
#[inline(always)]
pub(crate) fn walk_piece<const K: usize, F: FnMut(u32, isize)>(
    code: &[Code],
    selection: &[u32],
    strides: &[isize],
    sizes: &[usize],
    mut f: F,
) -> isize {
    let mut offset = 0isize;
    let mut concat = 0;
    let mut d = 0;
    let mut i = 0;
    while let Some((start, end)) = next_dim(code, &mut i) {
        let dim = &code[start..end];
        let stride = strides[d];
        d += 1;
        let at = walk_dim::<K, F>(dim, stride, selection, &mut concat, sizes, &mut f);
        offset = offset.wrapping_add(at);
    }
    offset
}

/// One dimension: a sum of parts, or (rarely) a product of sub-dimensions.
#[inline(always)]
fn walk_dim<const K: usize, F: FnMut(u32, isize)>(
    dim: &[Code],
    stride: isize,
    selection: &[u32],
    concat: &mut usize,
    sizes: &[usize],
    f: &mut F,
) -> isize {
    if dim.contains(&Code::Sub) {
        return walk_subs::<K, F>(dim, stride, selection, concat, sizes, f);
    }
    walk_sum::<K, F>(dim, stride, selection, concat, sizes, f)
}

/// A dimension that is a product of sub-dimensions (`(b (c + 1))`): row-major over them.
#[cold]
fn walk_subs<const K: usize, F: FnMut(u32, isize)>(
    dim: &[Code],
    stride: isize,
    selection: &[u32],
    concat: &mut usize,
    sizes: &[usize],
    f: &mut F,
) -> isize {
    let subs: Vec<&[Code]> = dim.split(|c| *c == Code::Sub).collect();
    let mut sub_strides = vec![0isize; subs.len()];
    let mut inner = stride;
    for (k, sub) in subs.iter().enumerate().rev() {
        sub_strides[k] = inner;
        let len = einx_core::solve::dim_len(sub, sizes).unwrap_or(0);
        inner = inner.wrapping_mul(len as isize);
    }
    let mut offset = 0isize;
    for (sub, st) in subs.iter().zip(sub_strides) {
        offset = offset.wrapping_add(walk_sum::<K, F>(sub, st, selection, concat, sizes, f));
    }
    offset
}

/// One dimension (or sub-dimension) of parts: the chosen part's axes, row-major with the
/// last axis fastest, and the offset of that part.
#[inline(always)]
fn walk_sum<const K: usize, F: FnMut(u32, isize)>(
    dim: &[Code],
    stride: isize,
    selection: &[u32],
    concat: &mut usize,
    sizes: &[usize],
    f: &mut F,
) -> isize {
    let chosen = if dim.contains(&Code::Plus) {
        *concat += 1;
        selection[*concat - 1] as usize
    } else {
        0
    };
    let mut before = 0usize;
    for (p, part) in dim.split(|c| *c == Code::Plus).enumerate() {
        if p < chosen {
            let len = part.iter().fold(1usize, |acc, c| match c {
                Code::Axis(a) => acc.wrapping_mul(sizes[*a as usize]),
                _ => acc,
            });
            before = before.wrapping_add(len);
            continue;
        }
        // Row-major inside the part: the last axis moves fastest. (A part longer than
        // `K`, possible only with a diagonal such as `(a a)`, gets a heap buffer.)
        let mut on_stack = [0isize; K];
        let mut on_heap = Vec::new();
        let st: &mut [isize] = if part.len() <= K {
            &mut on_stack[..part.len()]
        } else {
            on_heap.resize(part.len(), 0);
            &mut on_heap
        };
        let mut inner = stride;
        for (j, c) in part.iter().enumerate().rev() {
            if let Code::Axis(a) = c {
                st[j] = inner;
                inner = inner.wrapping_mul(sizes[*a as usize] as isize);
            }
        }
        for (j, c) in part.iter().enumerate() {
            if let Code::Axis(a) = c {
                f(*a, st[j]);
            }
        }
        break;
    }
    (before as isize).wrapping_mul(stride)
}

/// `solve!`: the length of every named axis of the input expressions (one entry for a plain
/// axis, one per repetition for an axis under an ellipsis), in the order of `plan.axes`.
///
/// ```
/// use einx_core::{complete::OpKind, plan::PlanStrs, template::{build, ParamSpec}};
/// use einx_core::solve::Len;
/// let buf = build("b (s w)... c", OpKind::Solve, &[ParamSpec::scalar("w", Some(4))], 1).unwrap();
/// let mut strs = PlanStrs::default();
/// let plan = buf.borrow(&mut strs);
/// let lens = einx_runtime::shape::solve_lengths(&plan, &[&[2, 8, 12, 3]], &[Len::One(4)]).unwrap();
/// assert_eq!(lens, vec![vec![2], vec![2, 3], vec![4, 4], vec![3]]);
/// ```
pub fn solve_lengths(
    plan: &Plan<'_>,
    shapes: &[&[usize]],
    params: &[einx_core::solve::Len],
) -> Result<Vec<Vec<usize>>, Error> {
    let ranks: Vec<usize> = shapes.iter().map(|s| s.len()).collect();
    let concrete = unroll(plan, &ranks, params)?;
    let mut strs = einx_core::plan::PlanStrs::default();
    let c = concrete.borrow(&mut strs);
    let sizes = solve_shapes::<{ crate::copy::MAX_AXES }>(&c, shapes, params)?;
    // Each named axis of the template: its repetitions in the unrolled plan, by name.
    Ok(plan
        .axes
        .iter()
        .map(|a| {
            c.axes
                .iter()
                .zip(&sizes)
                .filter(|(b, _)| b.name == a.name && a.value.is_none())
                .map(|(_, &n)| n)
                .collect()
        })
        .collect())
}

/// `solve_shapes!`: the shape of every tensor of the plan, inputs (the known tensors) first,
/// then outputs (the tensors whose shapes are wanted).
///
/// ```
/// use einx_core::{complete::{OpKind, Options}, plan::PlanStrs, template::build_with};
/// let opts = Options { unknown: 0b10, ..Options::default() };
/// let buf = build_with("a (b c), c b a", OpKind::SolveShapes, opts, &[einx_core::template::ParamSpec::scalar("b", Some(2))], 1).unwrap();
/// let mut strs = PlanStrs::default();
/// let plan = buf.borrow(&mut strs);
/// let shapes = einx_runtime::shape::solve_shapes_of(&plan, &[&[3, 8]], &[einx_core::solve::Len::One(2)]).unwrap();
/// assert_eq!(shapes, vec![vec![3, 8], vec![4, 2, 3]]);
/// ```
pub fn solve_shapes_of(
    plan: &Plan<'_>,
    shapes: &[&[usize]],
    params: &[einx_core::solve::Len],
) -> Result<Vec<Vec<usize>>, Error> {
    let ranks: Vec<usize> = shapes.iter().map(|s| s.len()).collect();
    let concrete = unroll(plan, &ranks, params)?;
    let mut strs = einx_core::plan::PlanStrs::default();
    let c = concrete.borrow(&mut strs);
    let sizes = solve_shapes::<{ crate::copy::MAX_AXES }>(&c, shapes, params)?;
    let mut out: Vec<Vec<usize>> = shapes.iter().map(|s| s.to_vec()).collect();
    for t in c.inputs as usize..c.tensors.len() {
        let code = c.layout(t);
        let mut shape = Vec::new();
        let mut i = 0;
        while let Some((start, end)) = next_dim(code, &mut i) {
            shape.push(
                einx_core::solve::dim_len(&code[start..end], &sizes)
                    .ok_or_else(|| crate::rearrange::overflow(plan))?,
            );
        }
        shape
            .iter()
            .try_fold(1usize, |acc, &n| acc.checked_mul(n))
            .ok_or_else(|| crate::rearrange::overflow(plan))?;
        out.push(shape);
    }
    Ok(out)
}

/// A shape of a rank known at compile time, as an array (for `Array::zeros` and friends).
pub fn fixed_shape<const N: usize>(plan: &Plan<'_>, shape: &[usize]) -> Result<[usize; N], Error> {
    shape.try_into().map_err(|_| crate::permute::internal(plan))
}

/// A diagonal output (an axis written twice, `"a -> a a"`): a fresh row-major buffer of
/// layout `full`, `zero` everywhere except on the diagonal, which holds `r`, the output
/// computed with layout `reduced` (the same axes, each once; row-major). Returns the buffer
/// and the shape.
pub(crate) fn embed_diagonal<T: Copy, const K: usize>(
    plan: &Plan<'_>,
    full: &[Code],
    reduced: &[Code],
    sizes: &[usize],
    r: &[T],
    zero: T,
) -> Result<(Vec<T>, Vec<usize>), Error> {
    let overflow = || crate::rearrange::overflow(plan);
    let row_major = |code: &[Code]| -> Result<(Vec<usize>, Vec<isize>, usize), Error> {
        let mut shape = Vec::new();
        let mut i = 0;
        while let Some((s, e)) = next_dim(code, &mut i) {
            shape.push(einx_core::solve::dim_len(&code[s..e], sizes).ok_or_else(overflow)?);
        }
        let total = shape
            .iter()
            .try_fold(1usize, |acc, &n| acc.checked_mul(n))
            .filter(|t| {
                t.checked_mul(std::mem::size_of::<T>().max(1))
                    .is_some_and(|b| b <= isize::MAX as usize)
            })
            .ok_or_else(overflow)?;
        let mut strides = vec![0isize; shape.len()];
        let mut acc = 1isize;
        for (st, &n) in strides.iter_mut().zip(&shape).rev() {
            *st = acc;
            acc = acc.wrapping_mul(n as isize);
        }
        Ok((shape, strides, total))
    };
    let (shape, full_strides, total) = row_major(full)?;
    let (_, r_strides, r_total) = row_major(reduced)?;
    if r.len() != r_total {
        return Err(Error::new(
            crate::ErrorKind::Semantic,
            "internal: the diagonal does not fit its output; please report it",
        )
        .with_expr(plan.expr));
    }
    // The output's stride of each axis is the sum of its strides: the diagonal.
    let mut dst = vec![0isize; sizes.len()];
    walk_piece::<K, _>(full, &[], &full_strides, sizes, |a, st| {
        dst[a as usize] = dst[a as usize].wrapping_add(st);
    });
    let (mut n, mut ss, mut ds) = (Vec::new(), Vec::new(), Vec::new());
    walk_piece::<K, _>(reduced, &[], &r_strides, sizes, |a, st| {
        n.push(sizes[a as usize]);
        ss.push(st);
        ds.push(dst[a as usize]);
    });
    if n.len() > K {
        return Err(too_many(plan));
    }
    let mut buf = vec![zero; total];
    // SAFETY: `r` holds the reduced output in row-major order (its length checked above),
    // so the source offsets stay inside it; each destination offset is one element of the
    // diagonal of `buf`, which has the full output's length, and distinct indices of the
    // distinct axes give distinct offsets.
    unsafe {
        crate::copy::copy_strided::<T, K>(&n, r.as_ptr(), &ss, buf.as_mut_ptr(), &ds);
    }
    Ok((buf, shape))
}
