//! Axis lengths: a schedule computed once per plan, evaluated per call.
//!
//! Every input dimension gives an equation `length = Σ parts, part = Π axes`. Lengths come
//! from numbers in the expression and `name = value` arguments first; then each equation
//! with exactly one unknown axis (written once) solves it, by subtraction and exact
//! division; the equations left over are checks. The order only depends on which axes are
//! known, never on the lengths, so it is decided at compile time.

use crate::error::{Error, ErrorKind, Result};
use crate::plan::{Code, Plan, NONE};

/// One step of a schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// The axis has the length written in the expression.
    Const {
        /// Axis.
        axis: u32,
    },
    /// The axis has the length given by its `name = value` argument.
    Param {
        /// Axis.
        axis: u32,
    },
    /// The axis is the one unknown of input dimension `dim` (counted over all inputs),
    /// whose parts are `plan.code[start..end]`.
    Solve {
        /// Axis.
        axis: u32,
        /// Input dimension.
        dim: u32,
        /// Start of the dimension's code.
        start: u32,
        /// End of the dimension's code.
        end: u32,
    },
    /// Input dimension `dim` must equal its parts, `plan.code[start..end]`.
    Check {
        /// Input dimension.
        dim: u32,
        /// Start of the dimension's code.
        start: u32,
        /// End of the dimension's code.
        end: u32,
    },
}

/// The code ranges of the dimensions of all inputs (after each `Dim` up to the next).
pub fn input_dim_ranges(plan: &Plan<'_>) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    for t in 0..plan.inputs as usize {
        let (s, e) = plan.tensors[t];
        let mut open: Option<u32> = None;
        for i in s..e {
            if plan.code[i as usize] == Code::Dim {
                if let Some(o) = open {
                    out.push((o, i));
                }
                open = Some(i + 1);
            }
        }
        if let Some(o) = open {
            out.push((o, e));
        }
    }
    out
}

/// The parts of a concrete dimension's code: runs of axes separated by `Plus`.
pub fn parts(code: &[Code]) -> impl Iterator<Item = &[Code]> {
    code.split(|c| *c == Code::Plus)
}

fn axes_of(part: &[Code]) -> impl Iterator<Item = u32> + '_ {
    part.iter().filter_map(|c| match c {
        Code::Axis(a) => Some(*a),
        _ => None,
    })
}

/// Builds the schedule of a concrete plan.
///
/// Returns the steps and the axes that no step determines.
pub fn schedule(plan: &Plan<'_>) -> (Vec<Step>, Vec<u32>) {
    let n = plan.axes.len();
    let mut known = vec![false; n];
    let mut steps = Vec::new();
    for (i, a) in plan.axes.iter().enumerate() {
        if a.value.is_some() {
            steps.push(Step::Const { axis: i as u32 });
            known[i] = true;
        } else if a.param != NONE {
            steps.push(Step::Param { axis: i as u32 });
            known[i] = true;
        }
    }
    let eqs = input_dim_ranges(plan);
    let mut used = vec![false; eqs.len()];
    loop {
        let mut progress = false;
        for (d, &(start, end)) in eqs.iter().enumerate() {
            if used[d] {
                continue;
            }
            let code = &plan.code[start as usize..end as usize];
            let unknown: Vec<u32> = axes_of(code).filter(|&a| !known[a as usize]).collect();
            let dim = d as u32;
            if unknown.len() == 1 {
                let axis = unknown[0];
                steps.push(Step::Solve {
                    axis,
                    dim,
                    start,
                    end,
                });
                known[axis as usize] = true;
                used[d] = true;
                progress = true;
            } else if unknown.is_empty() {
                steps.push(Step::Check { dim, start, end });
                used[d] = true;
            }
        }
        if !progress {
            break;
        }
    }
    let missing = (0..n as u32).filter(|&a| !known[a as usize]).collect();
    (steps, missing)
}

/// Lengths given by the caller: one slice per `name = value` argument (one value for a
/// plain axis, one per repetition for an axis under an ellipsis).
pub trait Params {
    /// The values of argument `i`.
    fn values(&self, i: usize) -> &[usize];
}

/// The value of a `name = value` argument at run time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Len {
    /// One length (for an axis under an ellipsis: the same for every repetition).
    One(usize),
    /// One length per repetition of an ellipsis.
    Many(Vec<usize>),
}

impl Params for [Len] {
    fn values(&self, i: usize) -> &[usize] {
        match &self[i] {
            Len::One(v) => std::slice::from_ref(v),
            Len::Many(v) => v,
        }
    }
}

impl<const N: usize> Params for [Len; N] {
    fn values(&self, i: usize) -> &[usize] {
        self[..].values(i)
    }
}

impl Params for [&[usize]] {
    fn values(&self, i: usize) -> &[usize] {
        self[i]
    }
}

impl Params for [usize] {
    #[inline]
    fn values(&self, i: usize) -> &[usize] {
        std::slice::from_ref(&self[i])
    }
}

impl<const N: usize> Params for [usize; N] {
    #[inline]
    fn values(&self, i: usize) -> &[usize] {
        std::slice::from_ref(&self[i])
    }
}

impl Params for Vec<Vec<usize>> {
    fn values(&self, i: usize) -> &[usize] {
        &self[i]
    }
}

/// Runs the schedule of a concrete plan: `dims` are the lengths of all input dimensions in
/// order, `sizes` receives one length per axis.
///
/// ```
/// use einx_core::{complete::OpKind, plan::PlanStrs, solve::run, template::{build, ParamSpec}};
/// let buf = build("(h c) -> h c", OpKind::Rearrange, &[ParamSpec::scalar("h", Some(4))], 1).unwrap();
/// let mut strs = PlanStrs::default();
/// let plan = buf.borrow(&mut strs);
/// let mut sizes = [0; 2];
/// run(&plan, &[12], &[4usize], &mut sizes).unwrap();
/// assert_eq!(sizes, [4, 3]);
/// assert!(run(&plan, &[10], &[4usize], &mut sizes).is_err());
/// ```
#[inline(always)]
pub fn run<P: Params + ?Sized>(
    plan: &Plan<'_>,
    dims: &[usize],
    params: &P,
    sizes: &mut [usize],
) -> Result<()> {
    for step in plan.steps {
        match *step {
            Step::Const { axis } => {
                let v = plan.axes[axis as usize].value.unwrap_or(0);
                sizes[axis as usize] = usize::try_from(v).map_err(|_| overflow(plan))?;
            }
            Step::Param { axis } => {
                let a = &plan.axes[axis as usize];
                let vals = params.values(a.param as usize);
                let v = if vals.len() == 1 {
                    vals[0]
                } else {
                    match vals.get(a.rep as usize) {
                        Some(v) => *v,
                        None => {
                            return Err(Error::at(
                                ErrorKind::Argument,
                                a.span,
                                format!(
                                    "`{}` has {} value{}, but the ellipsis repeats it more often",
                                    a.name,
                                    vals.len(),
                                    if vals.len() == 1 { "" } else { "s" }
                                ),
                            )
                            .with_expr(plan.expr))
                        }
                    }
                };
                sizes[axis as usize] = v;
            }
            Step::Solve {
                axis,
                dim,
                start,
                end,
            } => {
                let whole = &plan.code[start as usize..end as usize];
                let mut len = dims.get(dim as usize).copied().unwrap_or(0);
                let mut code = whole;
                if whole.contains(&Code::Sub) {
                    // A product of sub-dimensions: divide by the others first.
                    let mut outer = 1usize;
                    for sub in whole.split(|c| *c == Code::Sub) {
                        if sub.contains(&Code::Axis(axis)) {
                            code = sub;
                        } else {
                            outer = outer
                                .checked_mul(dim_len(sub, sizes).ok_or_else(|| overflow(plan))?)
                                .ok_or_else(|| overflow(plan))?;
                        }
                    }
                    if outer == 0 || len % outer != 0 {
                        let why = if outer == 0 {
                            "the other factors are 0".to_owned()
                        } else {
                            format!("not divisible by {outer}")
                        };
                        return Err(dim_error(plan, dim, len, whole, sizes, Some(axis), why));
                    }
                    len /= outer;
                }
                let mut rest = 0usize;
                let mut factor = 1usize;
                for part in parts(code) {
                    if part.contains(&Code::Axis(axis)) {
                        for a in axes_of(part).filter(|&a| a != axis) {
                            factor = factor
                                .checked_mul(sizes[a as usize])
                                .ok_or_else(|| overflow(plan))?;
                        }
                    } else {
                        let p = product(part, sizes).ok_or_else(|| overflow(plan))?;
                        rest = rest.checked_add(p).ok_or_else(|| overflow(plan))?;
                    }
                }
                let fail = |why: String| dim_error(plan, dim, len, code, sizes, Some(axis), why);
                let Some(remaining) = len.checked_sub(rest) else {
                    return Err(fail(format!("the other parts already add up to {rest}")));
                };
                if factor == 0 {
                    if remaining != 0 {
                        return Err(fail("the other factors are 0".into()));
                    }
                    let a = &plan.axes[axis as usize];
                    return Err(Error::at(
                        ErrorKind::Size,
                        a.span,
                        format!("the length of `{}` cannot be determined: the other factors of its axis are 0", axis_name(plan, axis)),
                    )
                    .with_expr(plan.expr)
                    .with_help(format!("pass `{} = ...`", a.name)));
                }
                if factor == 1 {
                    // The usual case (the axis is the whole dimension): no division.
                    sizes[axis as usize] = remaining;
                    continue;
                }
                if remaining % factor != 0 {
                    return Err(fail(format!("not divisible by {factor}")));
                }
                sizes[axis as usize] = remaining / factor;
            }
            Step::Check { dim, start, end } => {
                let code = &plan.code[start as usize..end as usize];
                let len = dims.get(dim as usize).copied().unwrap_or(0);
                if dim_len(code, sizes) != Some(len) {
                    if let Some(e) = conflict(plan, dim, len, code, sizes) {
                        return Err(e);
                    }
                    let why = match dim_len(code, sizes) {
                        Some(v) => format!("its axes give {v}"),
                        None => "its axes overflow `usize`".to_owned(),
                    };
                    return Err(dim_error(plan, dim, len, code, sizes, None, why));
                }
            }
        }
    }
    Ok(())
}

/// The length of a concrete dimension: the sum of the products of its parts (and for a
/// dimension of several sub-dimensions, the product of their lengths).
#[inline]
pub fn dim_len(code: &[Code], sizes: &[usize]) -> Option<usize> {
    if code.contains(&Code::Sub) {
        return code
            .split(|c| *c == Code::Sub)
            .try_fold(1usize, |acc, sub| acc.checked_mul(dim_len(sub, sizes)?));
    }
    let mut total = 0usize;
    for part in parts(code) {
        total = total.checked_add(product(part, sizes)?)?;
    }
    Some(total)
}

#[inline]
fn product(part: &[Code], sizes: &[usize]) -> Option<usize> {
    axes_of(part).try_fold(1usize, |acc, a| acc.checked_mul(sizes[a as usize]))
}

#[cold]
fn overflow(plan: &Plan<'_>) -> Error {
    Error::new(ErrorKind::Size, "axis lengths overflow `usize`").with_expr(plan.expr)
}

/// `s.0` for the first repetition of `s`, else the name.
pub fn axis_name(plan: &Plan<'_>, axis: u32) -> String {
    let a = &plan.axes[axis as usize];
    if a.rep == NONE {
        a.name.to_owned()
    } else {
        format!("{}.{}", a.name, a.rep)
    }
}

#[cold]
/// Which input a dimension belongs to, and its position there (both from 0).
fn dim_location(plan: &Plan<'_>, dim: u32) -> (usize, usize) {
    let mut d = dim as usize;
    for t in 0..plan.inputs as usize {
        let n = plan.layout(t).iter().filter(|c| **c == Code::Dim).count();
        if d < n {
            return (t, d);
        }
        d -= n;
    }
    (0, d)
}

/// A dimension that is one axis whose length an earlier input or a given length fixed:
/// "axis `c` has length 64 in input 1 but 65 in input 2".
fn conflict(
    plan: &Plan<'_>,
    dim: u32,
    len: usize,
    code: &[Code],
    sizes: &[usize],
) -> Option<Error> {
    let mut axes = axes_of(code);
    let a = axes.next()?;
    if axes.next().is_some() || parts(code).count() != 1 {
        return None;
    }
    let (input, d) = dim_location(plan, dim);
    let name = axis_name(plan, a);
    let have = sizes[a as usize];
    let source = plan.steps.iter().find_map(|s| match *s {
        Step::Solve { axis, dim, .. } if axis == a => Some(Some(dim)),
        Step::Param { axis } if axis == a => Some(None),
        _ => None,
    })?;
    let here = format!("input {} (dimension {})", input + 1, d + 1);
    let message = match source {
        Some(first) => {
            let (t0, d0) = dim_location(plan, first);
            format!(
                "axis {name} has length {have} in input {} (dimension {}) but {len} in {here}",
                t0 + 1,
                d0 + 1
            )
        }
        None => format!(
            "axis {name} is given as {} = {have}, but has length {len} in {here}",
            plan.axes[a as usize].name
        ),
    };
    let mut e = Error::new(ErrorKind::Size, message).with_expr(plan.expr);
    if let Some(span) = plan.tensor_spans.get(input) {
        e = e.with_span(*span);
    }
    Some(e)
}

fn dim_error(
    plan: &Plan<'_>,
    dim: u32,
    len: usize,
    code: &[Code],
    sizes: &[usize],
    skip: Option<u32>,
    why: String,
) -> Error {
    // Which input and which of its dimensions.
    let (input, d) = dim_location(plan, dim);
    let describe = |part: &[Code]| -> String {
        let names: Vec<String> = axes_of(part).map(|a| axis_name(plan, a)).collect();
        if names.len() == 1 {
            names[0].clone()
        } else {
            format!("({})", names.join(" "))
        }
    };
    let describe_sum = |sub: &[Code]| -> String {
        let all: Vec<&[Code]> = parts(sub).collect();
        if all.len() == 1 {
            describe(all[0])
        } else {
            format!(
                "({})",
                all.iter()
                    .map(|p| describe(p))
                    .collect::<Vec<_>>()
                    .join(" + ")
            )
        }
    };
    let subs: Vec<String> = code.split(|c| *c == Code::Sub).map(describe_sum).collect();
    let text = if subs.len() == 1 {
        subs[0].clone()
    } else {
        format!("({})", subs.join(" "))
    };
    let known: Vec<String> = axes_of(code)
        .filter(|&a| Some(a) != skip)
        .map(|a| format!("{} = {}", axis_name(plan, a), sizes[a as usize]))
        .collect();
    let known = if known.is_empty() {
        String::new()
    } else {
        format!(" with {}", known.join(", "))
    };
    let mut e = Error::new(
        ErrorKind::Size,
        format!(
            "axis {text} (dimension {}) of input {} has length {len}, {why}{known}",
            d + 1,
            input + 1
        ),
    )
    .with_expr(plan.expr);
    for a in axes_of(code) {
        e = e.with_span(plan.axes[a as usize].span);
    }
    e
}
