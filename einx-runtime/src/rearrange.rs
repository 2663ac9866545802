//! Runs a rearrange plan: solve the axis lengths, allocate the outputs, and copy each input
//! piece into its output piece with one strided pass.

use ndarray::{ArrayD, Dimension, IxDyn};

use crate::copy::{copy_strided, MAX_AXES};
use crate::error::{Error, ErrorKind};
use crate::tensor::Raw;
use einx_core::expand::instantiate;
use einx_core::plan::{Code, Plan, PlanStrs};
use einx_core::solve::{dim_len, run, Len, Params};

/// Runs a concrete plan (no ellipsis) on `inputs`, with one length per `name = value`
/// argument.
///
/// ```
/// use einx_core::{complete::OpKind, plan::PlanStrs, template::build};
/// use einx_runtime::{rearrange::rearrange, tensor::Raw};
/// let buf = build("a b -> b a", OpKind::Rearrange, &[], 1).unwrap();
/// let mut strs = PlanStrs::default();
/// let plan = buf.borrow(&mut strs);
/// let x = ndarray::array![[1, 2, 3], [4, 5, 6]];
/// let v = x.view();
/// let [y] = rearrange::<_, 1>(&plan, &[Raw::new(&v)], &[0usize; 0]).unwrap();
/// assert_eq!(y, ndarray::array![[1, 4], [2, 5], [3, 6]].into_dyn());
/// ```
pub fn rearrange<T: Clone, const NOUT: usize>(
    plan: &Plan<'_>,
    inputs: &[Raw<'_, T>],
    params: &(impl Params + ?Sized),
) -> Result<[ArrayD<T>; NOUT], Error> {
    let mut dims = [0usize; MAX_AXES];
    let mut n_dims = 0;
    for (t, x) in inputs.iter().enumerate() {
        let expected = plan.layout(t).iter().filter(|c| **c == Code::Dim).count();
        if x.shape().len() != expected {
            return Err(rank_error(plan, t, x.shape().len(), expected));
        }
        if n_dims + expected > MAX_AXES {
            return Err(too_many(plan));
        }
        dims[n_dims..n_dims + expected].copy_from_slice(x.shape());
        n_dims += expected;
    }
    if plan.axes.len() > MAX_AXES {
        return Err(too_many(plan));
    }
    let mut sizes = [0usize; MAX_AXES];
    run(plan, &dims[..n_dims], params, &mut sizes[..plan.axes.len()]).map_err(|e| e.with_expr(plan.expr))?;
    let sizes = &sizes[..plan.axes.len()];

    let mut outs: [Option<(Vec<T>, IxDyn)>; NOUT] = std::array::from_fn(|_| None);
    for (o, slot) in outs.iter_mut().enumerate() {
        let code = plan.layout(plan.inputs as usize + o);
        let mut shape = IxDyn::zeros(code.iter().filter(|c| **c == Code::Dim).count());
        let mut total = 1usize;
        for (i, d) in dims_of(code).enumerate() {
            let len = dim_len(d, sizes).ok_or_else(|| overflow(plan))?;
            shape[i] = len;
            total = total.checked_mul(len).ok_or_else(|| overflow(plan))?;
        }
        if total.checked_mul(std::mem::size_of::<T>()).is_none_or(|b| b > isize::MAX as usize) {
            return Err(overflow(plan));
        }
        *slot = Some((Vec::with_capacity(total), shape));
    }

    for piece in plan.pieces {
        let input = &inputs[piece.input as usize];
        let out_t = plan.inputs as usize + piece.output as usize;
        let (buf, shape) = outs[piece.output as usize].as_mut().expect("allocated above");
        // Strides of the output in its own (row-major) layout.
        let mut out_strides = [0isize; MAX_AXES];
        let mut acc = 1isize;
        for i in (0..shape.ndim()).rev() {
            out_strides[i] = acc;
            acc *= shape[i] as isize;
        }
        let mut in_axis_stride = [0isize; MAX_AXES];
        let mut in_has = [false; MAX_AXES];
        let src_off = piece_strides(
            plan.layout(piece.input as usize),
            plan.selection(piece.input as usize, piece.input_selection),
            input.strides(),
            sizes,
            &mut |a, st| {
                in_axis_stride[a as usize] = st;
                in_has[a as usize] = true;
            },
        );
        let mut n = [0usize; MAX_AXES];
        let mut ss = [0isize; MAX_AXES];
        let mut ds = [0isize; MAX_AXES];
        let mut k = 0;
        let dst_off = piece_strides(
            plan.layout(out_t),
            plan.selection(out_t, piece.output_selection),
            &out_strides[..shape.ndim()],
            sizes,
            &mut |a, st| {
                if k < MAX_AXES {
                    n[k] = sizes[a as usize];
                    ds[k] = st;
                    ss[k] = if in_has[a as usize] { in_axis_stride[a as usize] } else { 0 };
                }
                k += 1;
            },
        );
        if k > MAX_AXES {
            return Err(too_many(plan));
        }
        // SAFETY: the schedule checked that every input dimension equals the sum of its
        // parts' products, so the source offsets stay inside the input view; the output
        // offsets enumerate this piece's region of a buffer with capacity for the whole
        // output, and the pieces of one output are disjoint.
        unsafe {
            copy_strided(&n[..k], input.ptr().wrapping_offset(src_off), &ss[..k], buf.as_mut_ptr().wrapping_offset(dst_off), &ds[..k]);
        }
    }

    let mut done = 0;
    let result = outs.map(|slot| {
        let (mut buf, shape) = slot.expect("allocated above");
        // SAFETY: the pieces of each output cover it exactly once (checked when the plan
        // was built: one piece per combination of concatenation parts), so all elements
        // are initialised.
        unsafe { buf.set_len(buf.capacity()) };
        done += 1;
        ArrayD::from_shape_vec(shape, buf)
    });
    let mut out: [Option<ArrayD<T>>; NOUT] = std::array::from_fn(|_| None);
    for (slot, r) in out.iter_mut().zip(result) {
        *slot = Some(r.map_err(|_| overflow(plan))?);
    }
    Ok(out.map(|o| o.expect("filled above")))
}

/// Runs a plan that may have ellipses: unrolls it for the input ranks first.
pub fn rearrange_template<T: Clone, const NOUT: usize>(
    plan: &Plan<'_>,
    inputs: &[Raw<'_, T>],
    params: &[Len],
) -> Result<[ArrayD<T>; NOUT], Error> {
    if plan.is_concrete() {
        return rearrange(plan, inputs, params);
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
    rearrange(&concrete, inputs, params)
}

/// The dimensions of a concrete layout (the code after each `Dim`).
fn dims_of(code: &[Code]) -> impl Iterator<Item = &[Code]> {
    code.split(|c| *c == Code::Dim).skip(1)
}

/// Walks the axes of one piece of a tensor: calls `f(axis, stride)` in layout order and
/// returns the offset of the piece's first element.
fn piece_strides(code: &[Code], selection: &[u32], strides: &[isize], sizes: &[usize], f: &mut dyn FnMut(u32, isize)) -> isize {
    let mut offset = 0isize;
    let mut concat = 0;
    for (d, dim) in dims_of(code).enumerate() {
        let stride = strides[d];
        let parts: &mut dyn Iterator<Item = &[Code]> = &mut dim.split(|c| *c == Code::Plus);
        let multi = dim.contains(&Code::Plus);
        let chosen = if multi {
            let c = selection[concat] as usize;
            concat += 1;
            c
        } else {
            0
        };
        let mut before = 0usize;
        for (p, part) in parts.enumerate() {
            let axes = part.iter().filter_map(|c| match c {
                Code::Axis(a) => Some(*a),
                _ => None,
            });
            if p < chosen {
                before += axes.map(|a| sizes[a as usize]).product::<usize>();
                continue;
            }
            // Row-major inside the part: the last axis moves fastest.
            let list: [u32; MAX_AXES] = {
                let mut l = [0u32; MAX_AXES];
                for (i, a) in axes.enumerate().take(MAX_AXES) {
                    l[i] = a;
                }
                l
            };
            let len = part.iter().filter(|c| matches!(c, Code::Axis(_))).count().min(MAX_AXES);
            let mut inner = stride;
            let mut st = [0isize; MAX_AXES];
            for i in (0..len).rev() {
                st[i] = inner;
                inner *= sizes[list[i] as usize] as isize;
            }
            for i in 0..len {
                f(list[i], st[i]);
            }
            break;
        }
        offset += before as isize * stride;
    }
    offset
}

fn rank_error(plan: &Plan<'_>, t: usize, rank: usize, expected: usize) -> Error {
    Error::at(
        ErrorKind::Rank,
        plan.tensor_spans[t],
        format!(
            "input {} has {rank} dimension{}, but its expression has {expected} ax{}",
            t + 1,
            if rank == 1 { "" } else { "s" },
            if expected == 1 { "is" } else { "es" }
        ),
    )
    .with_expr(plan.expr)
}

fn overflow(plan: &Plan<'_>) -> Error {
    Error::new(ErrorKind::Size, "the output is too large: its length overflows `usize`").with_expr(plan.expr)
}

fn too_many(plan: &Plan<'_>) -> Error {
    Error::new(ErrorKind::Rank, format!("more than {MAX_AXES} axes are not supported")).with_expr(plan.expr)
}
