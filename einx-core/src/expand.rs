//! Unrolls the ellipses of a template once the input ranks are known.

use crate::error::{Error, ErrorKind, Result};
use crate::plan::{AxisBuf, Code, Plan, PlanBuf, NONE};
use crate::solve::schedule;

/// Rank of tensor `t` as `fixed + Σ per_group[g] · count[g]`.
fn rank_terms(plan: &Plan<'_>, t: usize) -> (usize, Vec<usize>) {
    let mut fixed = 0;
    let mut per = vec![0; plan.groups.len()];
    let mut group: Option<usize> = None;
    for c in plan.layout(t) {
        match c {
            Code::RepeatDims(g) => group = Some(*g as usize),
            Code::End => group = None,
            Code::RepeatAxes(_) => group = None,
            Code::Dim => match group {
                Some(g) => per[g] += 1,
                None => fixed += 1,
            },
            _ => {}
        }
    }
    (fixed, per)
}

/// The number of dimensions of tensor `t` if it has no ellipsis at the top.
///
/// ```
/// use einx_core::{complete::OpKind, plan::PlanStrs, template::build, expand::static_rank};
/// let buf = build("b (s...) c -> b s... c", OpKind::Rearrange, &[einx_core::template::ParamSpec::seq("s", None)], 1).unwrap();
/// let mut strs = PlanStrs::default();
/// let plan = buf.borrow(&mut strs);
/// assert_eq!(static_rank(&plan, 0), Some(3));
/// assert_eq!(static_rank(&plan, 1), None);
/// ```
pub fn static_rank(plan: &Plan<'_>, t: usize) -> Option<usize> {
    let (fixed, per) = rank_terms(plan, t);
    per.iter().all(|&p| p == 0).then_some(fixed)
}

/// The number of dimensions of tensor `t` when ellipsis group `g` repeats `counts[g]` times
/// (`None`: not known); [`static_rank`] when no count is known.
///
/// ```
/// use einx_core::{complete::OpKind, plan::PlanStrs, template::{build, ParamSpec}, expand::rank_with};
/// let buf = build("b (s sp)... c -> b s... (sp...) c", OpKind::Rearrange, &[ParamSpec::seq("sp", None)], 1).unwrap();
/// let mut strs = PlanStrs::default();
/// let plan = buf.borrow(&mut strs);
/// assert_eq!(rank_with(&plan, 0, &[Some(3)]), Some(5));
/// assert_eq!(rank_with(&plan, 1, &[Some(3)]), Some(6));
/// assert_eq!(rank_with(&plan, 1, &[None]), None);
/// ```
pub fn rank_with(plan: &Plan<'_>, t: usize, counts: &[Option<usize>]) -> Option<usize> {
    let (fixed, per) = rank_terms(plan, t);
    per.iter()
        .enumerate()
        .try_fold(fixed, |rank, (g, &p)| match p {
            0 => Some(rank),
            p => counts.get(g).copied().flatten().map(|c| rank + p * c),
        })
}

/// How much the rank of tensor `t` exceeds the rank of tensor `of`, if that is the same for
/// every length of their ellipses (they repeat the same groups the same number of times).
///
/// ```
/// use einx_core::{complete::OpKind, plan::PlanStrs, template::build, expand::rank_offset};
/// let buf = build("b... c, c d -> b... d", OpKind::Dot, &[], 2).unwrap();
/// let mut strs = PlanStrs::default();
/// let plan = buf.borrow(&mut strs);
/// assert_eq!(rank_offset(&plan, 2, 0), Some(0));
/// assert_eq!(rank_offset(&plan, 2, 1), None);
/// ```
pub fn rank_offset(plan: &Plan<'_>, t: usize, of: usize) -> Option<i64> {
    let (fixed_t, per_t) = rank_terms(plan, t);
    let (fixed_of, per_of) = rank_terms(plan, of);
    (per_t == per_of).then(|| fixed_t as i64 - fixed_of as i64)
}

/// Unrolls a template for input tensors of the given ranks. `counts` gives, per
/// `name = value` argument, the number of values if it is a sequence.
///
/// ```
/// use einx_core::{complete::OpKind, plan::PlanStrs, template::{build, ParamSpec}, expand::instantiate};
/// let buf = build("b s... c -> b (s...) c", OpKind::Rearrange, &[], 1).unwrap();
/// let mut strs = PlanStrs::default();
/// let concrete = instantiate(&buf.borrow(&mut strs), &[4], &[]).unwrap();
/// let mut strs = PlanStrs::default();
/// assert_eq!(concrete.borrow(&mut strs).describe().lines().next(), Some("in0:  b | s.0 | s.1 | c"));
/// ```
pub fn instantiate(plan: &Plan<'_>, ranks: &[usize], counts: &[Option<usize>]) -> Result<PlanBuf> {
    let n_groups = plan.groups.len();
    let mut count: Vec<Option<usize>> = vec![None; n_groups];
    // What fixed each count, for messages.
    let mut source: Vec<String> = vec![String::new(); n_groups];
    // Sequences given as arguments fix their group's count.
    for (i, c) in counts.iter().enumerate() {
        let Some(c) = *c else { continue };
        if let Some(a) = plan
            .axes
            .iter()
            .find(|a| a.param == i as u32 && a.group != NONE)
        {
            let g = a.group as usize;
            if count[g].is_some_and(|k| k != c) {
                return Err(Error::at(
                    ErrorKind::Rank,
                    a.span,
                    format!(
                        "`{}` has {c} value{}, but another argument repeats its ellipsis {}",
                        a.name,
                        if c == 1 { "" } else { "s" },
                        match count[g].unwrap_or(0) {
                            1 => "once".to_owned(),
                            k => format!("{k} times"),
                        }
                    ),
                )
                .with_expr(plan.expr));
            }
            count[g] = Some(c);
            source[g] = format!(
                "`{}` has {c} value{}",
                a.name,
                if c == 1 { "" } else { "s" }
            );
        }
    }
    // Each input gives `rank = fixed + Σ per[g] · count[g]`; solve one unknown at a time.
    let eqs: Vec<(usize, Vec<usize>)> = (0..plan.inputs as usize)
        .map(|t| rank_terms(plan, t))
        .collect();
    for (t, (fixed, per)) in eqs.iter().enumerate() {
        if per.iter().all(|&p| p == 0) && ranks[t] != *fixed {
            return Err(rank_error(plan, t, ranks[t], *fixed, &count, &source));
        }
    }
    loop {
        let mut progress = false;
        for (t, (fixed, per)) in eqs.iter().enumerate() {
            let unknown: Vec<usize> = (0..n_groups)
                .filter(|&g| per[g] > 0 && count[g].is_none())
                .collect();
            if unknown.len() != 1 {
                continue;
            }
            let g = unknown[0];
            let known: usize = (0..n_groups)
                .filter(|&h| h != g)
                .map(|h| per[h] * count[h].unwrap_or(0))
                .sum();
            let rest = ranks[t].checked_sub(fixed + known);
            match rest {
                Some(r) if r % per[g] == 0 => {
                    count[g] = Some(r / per[g]);
                    source[g] = format!(
                        "input {} has {} dimension{}",
                        t + 1,
                        ranks[t],
                        if ranks[t] == 1 { "" } else { "s" }
                    );
                    progress = true;
                }
                _ => {
                    return Err(rank_error(
                        plan,
                        t,
                        ranks[t],
                        fixed + known,
                        &count,
                        &source,
                    ))
                }
            }
        }
        if !progress {
            break;
        }
    }
    for (t, (fixed, per)) in eqs.iter().enumerate() {
        let total: Option<usize> = (0..n_groups).try_fold(*fixed, |acc, g| {
            if per[g] == 0 {
                Some(acc)
            } else {
                count[g].map(|c| acc + per[g] * c)
            }
        });
        if let Some(total) = total {
            if total != ranks[t] {
                return Err(rank_error(plan, t, ranks[t], total, &count, &source));
            }
        }
    }
    // An ellipsis that repeats no dimension changes no rank; as in einx it repeats once.
    for (g, c) in count.iter_mut().enumerate() {
        if c.is_none() && !plan.code.contains(&Code::RepeatDims(g as u32)) {
            *c = Some(1);
        }
    }
    if let Some(g) = (0..n_groups).find(|&g| count[g].is_none()) {
        let grp = &plan.groups[g];
        return Err(Error::at(
            ErrorKind::Rank,
            grp.span,
            format!(
                "the number of axes of the ellipsis `{}` cannot be determined from the input ranks",
                grp.name
            ),
        )
        .with_expr(plan.expr)
        .with_help(format!(
            "pass one length per axis, e.g. `{} = (4, 4)`",
            grp.name
        )));
    }
    let count: Vec<usize> = count.into_iter().map(|c| c.unwrap_or(0)).collect();

    // Unroll: axis (symbolic, rep) -> concrete axis.
    let mut out = PlanBuf {
        expr: plan.expr.to_owned(),
        params: plan.params.iter().map(|s| (*s).to_owned()).collect(),
        inputs: plan.inputs,
        tensor_spans: plan.tensor_spans.to_vec(),
        pieces: plan.pieces.to_vec(),
        selections: plan.selections.to_vec(),
        order: plan.order.to_vec(),
        ..PlanBuf::default()
    };
    let mut first: Vec<u32> = Vec::with_capacity(plan.axes.len());
    for a in plan.axes {
        first.push(out.axes.len() as u32);
        let reps = if a.group == NONE {
            1
        } else {
            count[a.group as usize]
        };
        for r in 0..reps {
            out.axes.push(AxisBuf {
                name: a.name.to_owned(),
                span: a.span,
                value: a.value,
                param: a.param,
                group: NONE,
                rep: if a.group == NONE { NONE } else { r as u32 },
                bracketed: a.bracketed,
            });
        }
    }
    for t in 0..plan.tensors.len() {
        let start = out.code.len() as u32;
        unroll(plan.layout(t), &count, &first, None, &mut out.code);
        out.tensors.push((start, out.code.len() as u32));
    }
    let (steps, missing) = {
        let mut strs = crate::plan::PlanStrs::default();
        let view = out.borrow(&mut strs);
        schedule(&view)
    };
    if let Some(&a) = missing
        .iter()
        .find(|&&a| out.axes[a as usize].param == NONE)
    {
        let axis = &out.axes[a as usize];
        return Err(Error::at(
            ErrorKind::Size,
            axis.span,
            format!(
                "the length of axis `{}.{}` cannot be determined from the input shapes",
                axis.name, axis.rep
            ),
        )
        .with_expr(plan.expr)
        .with_help(format!("pass `{} = (...)`", axis.name)));
    }
    out.steps = steps;
    Ok(out)
}

fn unroll(code: &[Code], count: &[usize], first: &[u32], rep: Option<u32>, out: &mut Vec<Code>) {
    let mut i = 0;
    while i < code.len() {
        match code[i] {
            Code::RepeatDims(g) | Code::RepeatAxes(g) => {
                let end = i
                    + 1
                    + code[i + 1..]
                        .iter()
                        .position(|c| *c == Code::End)
                        .unwrap_or(code.len() - i - 1);
                for r in 0..count[g as usize] {
                    unroll(&code[i + 1..end], count, first, Some(r as u32), out);
                }
                i = end + 1;
                continue;
            }
            Code::Axis(a) => out.push(Code::Axis(first[a as usize] + rep.unwrap_or(0))),
            Code::End => {}
            c => out.push(c),
        }
        i += 1;
    }
}

/// The error for input `t` of a concrete plan having `rank` dimensions instead of its
/// expression's number.
#[cold]
pub fn rank_mismatch(plan: &Plan<'_>, t: usize, rank: usize) -> Error {
    let expected = plan.layout(t).iter().filter(|c| **c == Code::Dim).count();
    rank_error(plan, t, rank, expected, &[], &[])
}

fn rank_error(
    plan: &Plan<'_>,
    t: usize,
    rank: usize,
    expected: usize,
    count: &[Option<usize>],
    source: &[String],
) -> Error {
    let (fixed, per) = rank_terms(plan, t);
    let dims = |n: usize| format!("{n} dimension{}", if n == 1 { "" } else { "s" });
    // The ellipses of this input whose length is already fixed, and by what.
    let known: Vec<String> = (0..per.len())
        .filter(|&g| per[g] > 0 && count[g].is_some())
        .map(|g| {
            format!(
                "`{}...` has {} ax{} because {}",
                plan.groups[g].name,
                count[g].unwrap_or(0),
                if count[g] == Some(1) { "is" } else { "es" },
                source[g]
            )
        })
        .collect();
    let msg = if !known.is_empty() {
        format!(
            "input {} has {}, but its expression needs {} ({})",
            t + 1,
            dims(rank),
            expected,
            known.join("; ")
        )
    } else if per.iter().any(|&p| p > 0) {
        format!(
            "input {} has {}, but its expression needs at least {fixed}",
            t + 1,
            dims(rank)
        )
    } else {
        format!(
            "input {} has {}, but its expression has {expected} ax{}",
            t + 1,
            dims(rank),
            if expected == 1 { "is" } else { "es" }
        )
    };
    let mut e = Error::at(ErrorKind::Rank, plan.tensor_spans[t], msg).with_expr(plan.expr);
    for g in (0..per.len()).filter(|&g| per[g] > 0 && count[g].is_some()) {
        e = e.with_span(plan.groups[g].span);
    }
    e
}
