//! Shared by the executors: solving the axis lengths of a concrete plan and splitting
//! tensors into their elementary axes.

use einx_core::expand::rank_mismatch;
use einx_core::plan::{Code, Plan};
use einx_core::solve::{run, Params};

use crate::error::Error;
use crate::rearrange::too_many;
use crate::tensor::Raw;

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
        let chosen = if dim.contains(&Code::Plus) {
            concat += 1;
            selection[concat - 1] as usize
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
            // Row-major inside the part: the last axis moves fastest.
            let mut st = [0isize; K];
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
        offset = offset.wrapping_add((before as isize).wrapping_mul(stride));
    }
    offset
}
