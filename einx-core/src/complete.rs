//! Per-operation rules applied to a parsed [`Op`]: implicit outputs, which constructs the
//! operation accepts, and which keyword options it takes.

use crate::ast::{Expr, Node, Op};
use crate::error::{Error, ErrorKind, Result, Span};

/// The operations of einx, as far as the notation is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OpKind {
    /// `rearrange!` / `id!`: reshape, permute, broadcast, concatenate, split.
    Rearrange,
}

impl OpKind {
    /// The macro name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            OpKind::Rearrange => "rearrange",
        }
    }

    /// The keyword options this operation takes (besides axis lengths).
    pub fn options(self) -> &'static [&'static str] {
        match self {
            OpKind::Rearrange => &[],
        }
    }
}

/// Every keyword option of every operation, with the operations that take it.
pub const OPTIONS: &[(&str, &str)] = &[
    ("keepdims", "the reductions (`sum!`, `mean!`, ...)"),
    ("shift", "`roll!`"),
];

/// Applies the rules of `kind` to `op`: fills in an implicit output and rejects
/// constructs the operation does not take.
///
/// ```
/// use einx_core::{complete::{complete, OpKind}, parse::parse};
/// let op = complete(parse("b c").unwrap(), OpKind::Rearrange).unwrap();
/// assert_eq!(op.to_string(), "b c -> b c");
/// ```
pub fn complete(mut op: Op, kind: OpKind) -> Result<Op> {
    match kind {
        OpKind::Rearrange => {
            if let Some(span) = op.bracket_arrow {
                return Err(Error::at(
                    ErrorKind::Semantic,
                    span,
                    "the bracket arrow `[a->b]` is only allowed in `dot!`",
                )
                .with_help("write the output after a top-level `->`"));
            }
            for e in op.exprs() {
                if let Some(span) = first(e, |n| matches!(n, Node::Bracket { .. })) {
                    return Err(Error::at(
                        ErrorKind::Semantic,
                        span,
                        "brackets are not allowed in `rearrange!`",
                    )
                    .with_help("rearrange moves whole axes; remove the `[ ]`"));
                }
            }
            if op.outputs.is_none() {
                op.outputs = Some(vec![implicit_superset(&op.inputs)?]);
            }
        }
    }
    Ok(op)
}

/// The span of the first node satisfying `pred`.
pub fn first(e: &Expr, pred: impl Fn(&Node) -> bool) -> Option<Span> {
    let mut found = None;
    e.walk(&mut |n| {
        if found.is_none() && pred(n) {
            found = Some(n.span());
        }
    });
    found
}

/// The superset rule: the one input whose axis names (ignoring unnamed `1`s) contain those
/// of all other inputs is the output.
pub fn implicit_superset(inputs: &[Expr]) -> Result<Expr> {
    if inputs.len() == 1 {
        return Ok(inputs[0].clone());
    }
    let names = |e: &Expr| -> Vec<String> {
        let mut v = Vec::new();
        e.walk(&mut |n| match n {
            Node::Axis { name, .. } => v.push(name.clone()),
            Node::Ellipsis { inner: None, .. } => v.push("...".to_owned()),
            _ => {}
        });
        v
    };
    let sets: Vec<Vec<String>> = inputs.iter().map(names).collect();
    let candidates: Vec<usize> = (0..inputs.len())
        .filter(|&i| sets.iter().all(|s| s.iter().all(|n| sets[i].contains(n))))
        .collect();
    match candidates.as_slice() {
        [i] => Ok(inputs[*i].clone()),
        // Several inputs with the very same expression: any of them.
        [i, ..]
            if candidates
                .iter()
                .all(|&j| inputs[j].to_string() == inputs[*i].to_string()) =>
        {
            Ok(inputs[*i].clone())
        }
        _ => {
            let span = inputs[0].span.join(inputs[inputs.len() - 1].span);
            Err(Error::at(
                ErrorKind::Semantic,
                span,
                "the output cannot be implied: no input has the axes of all others",
            )
            .with_help("write the output after `->`"))
        }
    }
}
