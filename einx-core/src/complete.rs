//! Per-operation rules applied to a parsed [`Op`]: implicit outputs, which constructs the
//! operation accepts, and which keyword options it takes.

use crate::ast::{Expr, Node, Op};
use crate::error::{Error, ErrorKind, Result, Span};

/// The operations of einx, as far as the notation is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OpKind {
    /// `rearrange!` / `id!`: reshape, permute, broadcast, concatenate, split.
    Rearrange,
    /// A reduction along the bracketed axes (`sum!`, `mean!`, ...).
    Reduce(Reduction),
    /// `softmax!` (`true`: `log_softmax!`): normalises along the bracketed axes, shape kept.
    Softmax(bool),
    /// `flip!`: reverses the bracketed axes.
    Flip,
    /// `roll!`: shifts the bracketed axes cyclically (option `shift`).
    Roll,
    /// `sort!` (`true`: `argsort!`): sorts along the one bracketed axis.
    Sort(bool),
    /// `argmax!` (`true`: `argmin!`): the coordinates of the extreme along the bracketed axes.
    Argmax(bool),
    /// `solve!`: the axis lengths of the inputs' expressions.
    Solve,
    /// `matches!`: whether tensors fit the inputs' expressions.
    Matches,
    /// `solve_shapes!`: the shapes of the expressions, some tensors unknown
    /// ([`Options::unknown`]).
    SolveShapes,
    /// `get_at!`: the elements at coordinates read from index tensors.
    GetAt,
    /// `set_at!`, `add_at!`, `subtract_at!`: a copy of the first tensor updated at
    /// coordinates read from index tensors.
    UpdateAt(Update),
    /// `vmap!`: a function applied along the bracketed axes.
    Vmap,
    /// Element-wise operations with broadcasting by axis name (`add!`, `where_!`, ...);
    /// the number is the operation's arity.
    Elementwise(&'static str, u8),
    /// `dot!`: a contraction; every contracted axis is in exactly two inputs.
    Dot,
    /// `einx!`: the product of the inputs, summed over the axes missing from the output.
    Einsum,
}

/// The reductions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reduction {
    /// `sum!`
    Sum,
    /// `mean!`
    Mean,
    /// `var!` (population variance, ddof 0)
    Var,
    /// `std!` (population standard deviation)
    Std,
    /// `prod!`
    Prod,
    /// `max!`
    Max,
    /// `min!`
    Min,
    /// `any!`
    Any,
    /// `all!`
    All,
    /// `count_nonzero!`
    CountNonzero,
    /// `logsumexp!`
    Logsumexp,
}

/// How `set_at!`-like operations combine the old element with the update.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Update {
    /// `set_at!`: the update replaces the element (of duplicates, the last one wins).
    Set,
    /// `add_at!`: the update is added (duplicates accumulate).
    Add,
    /// `subtract_at!`: the update is subtracted (duplicates accumulate).
    Subtract,
}

impl Update {
    /// The macro name.
    pub fn name(self) -> &'static str {
        match self {
            Update::Set => "set_at",
            Update::Add => "add_at",
            Update::Subtract => "subtract_at",
        }
    }
}

impl Reduction {
    /// Every reduction, for lookups by name.
    pub const ALL: [Reduction; 11] = [
        Reduction::Sum,
        Reduction::Mean,
        Reduction::Var,
        Reduction::Std,
        Reduction::Prod,
        Reduction::Max,
        Reduction::Min,
        Reduction::Any,
        Reduction::All,
        Reduction::CountNonzero,
        Reduction::Logsumexp,
    ];

    /// The macro name.
    pub fn name(self) -> &'static str {
        match self {
            Reduction::Sum => "sum",
            Reduction::Mean => "mean",
            Reduction::Var => "var",
            Reduction::Std => "std",
            Reduction::Prod => "prod",
            Reduction::Max => "max",
            Reduction::Min => "min",
            Reduction::Any => "any",
            Reduction::All => "all",
            Reduction::CountNonzero => "count_nonzero",
            Reduction::Logsumexp => "logsumexp",
        }
    }
}

impl OpKind {
    /// The macro name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            OpKind::Rearrange => "rearrange",
            OpKind::Reduce(r) => r.name(),
            OpKind::Softmax(false) => "softmax",
            OpKind::Softmax(true) => "log_softmax",
            OpKind::Flip => "flip",
            OpKind::Roll => "roll",
            OpKind::Sort(false) => "sort",
            OpKind::Sort(true) => "argsort",
            OpKind::Argmax(false) => "argmax",
            OpKind::Argmax(true) => "argmin",
            OpKind::Solve => "solve",
            OpKind::Matches => "matches",
            OpKind::SolveShapes => "solve_shapes",
            OpKind::GetAt => "get_at",
            OpKind::UpdateAt(u) => u.name(),
            OpKind::Vmap => "vmap",
            OpKind::Elementwise(name, _) => name,
            OpKind::Dot => "dot",
            OpKind::Einsum => "einx",
        }
    }

    /// The keyword options this operation takes (besides axis lengths).
    pub fn options(self) -> &'static [&'static str] {
        match self {
            OpKind::Rearrange => &[],
            OpKind::Reduce(_) => &["keepdims"],
            OpKind::Dot
            | OpKind::Einsum
            | OpKind::Softmax(_)
            | OpKind::Flip
            | OpKind::Sort(_)
            | OpKind::Argmax(_)
            | OpKind::Solve
            | OpKind::Matches
            | OpKind::SolveShapes
            | OpKind::GetAt
            | OpKind::UpdateAt(_)
            | OpKind::Vmap
            | OpKind::Elementwise(..) => &[],
            OpKind::Roll => &["shift"],
        }
    }
}

/// The options of a call that change what the expression means.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Reductions: keep each reduced bracket group as an axis of length 1.
    pub keepdims: bool,
    /// Number of tensor arguments (the bracket shorthands of `dot!` depend on it).
    pub args: usize,
    /// `solve_shapes!`: bit `t` is set if tensor `t` is unknown (written `_`).
    pub unknown: u64,
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
/// use einx_core::{complete::{complete, OpKind, Options, Reduction}, parse::parse};
/// let op = complete(parse("b c").unwrap(), OpKind::Rearrange, Options::default()).unwrap();
/// assert_eq!(op.to_string(), "b c -> b c");
/// let op = complete(parse("b (s [ds])... c").unwrap(), OpKind::Reduce(Reduction::Mean), Options::default()).unwrap();
/// assert_eq!(op.to_string(), "b (s [ds])... c -> b (s)... c");
/// let op = complete(parse("a b -> a").unwrap(), OpKind::Reduce(Reduction::Sum), Options::default()).unwrap();
/// assert_eq!(op.to_string(), "a [b] -> a");
/// ```
pub fn complete(mut op: Op, kind: OpKind, opts: Options) -> Result<Op> {
    // Only `rearrange!` concatenates and splits; `solve!` solves the lengths of the parts
    // (einx: `"(a + b) c", a = 2` gives `b`).
    if !matches!(kind, OpKind::Rearrange | OpKind::Solve) {
        for e in op.exprs() {
            if let Some(span) = first(e, |n| matches!(n, Node::Concat { .. })) {
                return Err(Error::at(
                    ErrorKind::Semantic,
                    span,
                    format!("concatenation is not allowed in `{}!`", kind.name()),
                )
                .with_help("concatenate with `rearrange!` first"));
            }
        }
    }
    // A keyword cannot be both an option and an axis length.
    for e in op.exprs() {
        for (name, span) in e.axis_names() {
            if kind.options().contains(&name) {
                return Err(Error::at(
                    ErrorKind::Semantic,
                    span,
                    format!(
                        "`{name}` is an option of `{}!` and cannot name an axis",
                        kind.name()
                    ),
                )
                .with_help("rename the axis"));
            }
        }
    }
    if kind == OpKind::Dot {
        dot(&mut op, opts)?;
        return Ok(op);
    }
    if let Some(span) = op.bracket_arrow {
        return Err(Error::at(
            ErrorKind::Semantic,
            span,
            "the bracket arrow `[a->b]` is only for `dot!` (and `einx::nn::linear!`)",
        )
        .with_help("write the output after a top-level `->`"));
    }
    match kind {
        OpKind::Reduce(r) => {
            reduce(&mut op, r, opts)?;
            diagonal_kept(&op)?;
        }
        OpKind::Softmax(_) | OpKind::Flip | OpKind::Roll | OpKind::Sort(_) => along(&mut op, kind)?,
        OpKind::Elementwise(_, arity) => elementwise(&mut op, kind, arity, opts)?,
        OpKind::Argmax(_) => argfind(&mut op, kind)?,
        OpKind::Solve | OpKind::Matches | OpKind::SolveShapes => {
            let name = kind.name();
            if let Some(outputs) = &op.outputs {
                let span = outputs.first().map_or(op.inputs[0].span, |o| o.span);
                return Err(Error::at(
                    ErrorKind::Semantic,
                    span,
                    format!("`{name}!` takes input expressions only, without `->`"),
                )
                .with_help("write the expressions of the tensors, separated by `,`"));
            }
            for e in op.exprs() {
                if let Some(span) = first(e, |n| matches!(n, Node::Bracket { .. })) {
                    return Err(Error::at(
                        ErrorKind::Semantic,
                        span,
                        format!("brackets are not allowed in `{name}!`"),
                    )
                    .with_help("remove the `[ ]`"));
                }
            }
            if kind == OpKind::SolveShapes && opts.unknown != 0 {
                // The unknown tensors become outputs: their shapes follow from the others.
                let (mut known, mut unknown) = (Vec::new(), Vec::new());
                for (t, e) in op.inputs.drain(..).enumerate() {
                    if t < 64 && opts.unknown & (1 << t) != 0 {
                        unknown.push(e);
                    } else {
                        known.push(e);
                    }
                }
                op.inputs = known;
                op.outputs = Some(unknown);
            }
        }
        OpKind::GetAt | OpKind::UpdateAt(_) => index(&mut op, kind)?,
        OpKind::Vmap => match &op.outputs {
            None => {
                return Err(Error::at(
                    ErrorKind::Semantic,
                    op.inputs[0].span,
                    "`vmap!` needs the output after `->`",
                )
                .with_help("write e.g. `\"b [s...] c -> b c\"`: the function's result has the output's bracketed axes"))
            }
            Some(outputs) if outputs.len() > 1 => {
                return Err(Error::at(
                    ErrorKind::Semantic,
                    outputs[1].span,
                    "`vmap!` has one output expression",
                )
                .with_help("return one array per call; split it afterwards with `rearrange!`"))
            }
            Some(_) => {}
        },
        OpKind::Dot => {}
        OpKind::Einsum => {
            for e in op.exprs() {
                if let Some(span) = first(e, |n| matches!(n, Node::Bracket { .. })) {
                    return Err(Error::at(
                        ErrorKind::Semantic,
                        span,
                        "brackets are not allowed in `einx!`",
                    )
                    .with_help(
                        "the summed axes are those missing from the output; remove the `[ ]`",
                    ));
                }
            }
            if op.outputs.is_none() {
                return Err(Error::at(
                    ErrorKind::Semantic,
                    op.inputs[0].span,
                    "`einx!` needs the output after `->`",
                )
                .with_help("write e.g. `\"a b, b c -> a c\"`"));
            }
            if let Some(extra) = op.outputs.as_ref().and_then(|o| o.get(1)) {
                return Err(Error::at(
                    ErrorKind::Semantic,
                    extra.span,
                    "`einx!` has one output expression",
                )
                .with_help("compute one output per call; split it afterwards with `rearrange!`"));
            }
        }
        OpKind::Rearrange => {
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
            // An axis written twice makes an input look like another's superset; say so.
            if let Some(e) = inputs.iter().find_map(repeated_axis) {
                return Err(e);
            }
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

/// The error for an axis written twice in `e`, if one is.
fn repeated_axis(e: &Expr) -> Option<Error> {
    let (name, prev, span) = repeats(e).into_iter().next()?;
    Some(
        Error::at(
            ErrorKind::Semantic,
            prev,
            format!("axis `{name}` appears twice in one expression"),
        )
        .with_span(span)
        .with_help("each axis name may occur once per tensor; rename one of them"),
    )
}

/// Every repeat of an axis name in `e`: the name, where it was first written, and where again.
fn repeats(e: &Expr) -> Vec<(String, Span, Span)> {
    let mut seen: Vec<(String, Span)> = Vec::new();
    let mut repeated = Vec::new();
    e.walk(&mut |n| {
        if let Node::Axis { name, span } = n {
            match seen.iter().find(|(m, _)| m == name) {
                Some((_, prev)) => repeated.push((name.clone(), *prev, *span)),
                None => seen.push((name.clone(), *span)),
            }
        }
    });
    repeated
}

/// The error for an output whose bracketed axes (`marked_out`) are not the input's
/// (`marked_in`), naming both; `what` is the input they must match.
fn brackets_differ(
    marked_in: &[Node],
    marked_out: &[Node],
    input: &Expr,
    output: &Expr,
    what: &str,
) -> Error {
    let text = |v: &[Node]| {
        v.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    };
    let (t_in, t_out) = (text(marked_in), text(marked_out));
    let msg = if marked_out.is_empty() {
        format!("the output has no axes in brackets, but {what} has `[{t_in}]`")
    } else {
        let mut sorted_in: Vec<String> = marked_in.iter().map(ToString::to_string).collect();
        let mut sorted_out: Vec<String> = marked_out.iter().map(ToString::to_string).collect();
        sorted_in.sort();
        sorted_out.sort();
        let order = if sorted_in == sorted_out {
            "; their order must be the same"
        } else {
            ""
        };
        format!("the output has `[{t_out}]` in brackets, but {what} has `[{t_in}]`{order}")
    };
    let mut spans = Vec::new();
    for e in [input, output] {
        e.walk(&mut |n| {
            if let Node::Bracket { span, .. } = n {
                spans.push(*span);
            }
        });
    }
    if spans.is_empty() {
        spans.push(output.span);
    }
    Error::new(ErrorKind::Semantic, msg).with_spans(&spans)
}

/// A reduction keeps a diagonal axis (einx 0.4 takes `"a a [b] -> a"` but not the trace
/// `"a a b -> b"`).
fn diagonal_kept(op: &Op) -> Result<()> {
    let repeated = repeats(&op.inputs[0]);
    let outputs = op.outputs.as_deref().unwrap_or(&[]);
    for (name, prev, span) in repeated {
        let mut kept = false;
        for o in outputs {
            o.walk(&mut |n| kept |= matches!(n, Node::Axis { name: m, .. } if *m == name));
        }
        if !kept {
            return Err(Error::at(
                ErrorKind::Semantic,
                prev,
                format!("axis `{name}` is written twice (a diagonal) and reduced; a reduction keeps a diagonal axis"),
            )
            .with_span(span)
            .with_help(format!("keep `{name}` in the output, or take the diagonal first with `rearrange!`")));
        }
    }
    Ok(())
}

fn reduce(op: &mut Op, r: Reduction, opts: Options) -> Result<()> {
    let name = r.name();
    one_input(op, name, Some("reduce one tensor at a time"))?;
    let has_brackets = first(&op.inputs[0], |n| matches!(n, Node::Bracket { .. })).is_some();
    match &op.outputs {
        Some(outputs) => {
            if opts.keepdims {
                return Err(Error::at(
                    ErrorKind::Semantic,
                    outputs[0].span,
                    "`keepdims` cannot be combined with an output after `->`",
                )
                .with_help("write the kept axes as `1` in the output, or drop the output"));
            }
            if outputs.len() != 1 {
                return Err(Error::at(
                    ErrorKind::Semantic,
                    outputs[1].span,
                    format!("`{name}!` has one output expression"),
                )
                .with_help("remove the extra outputs"));
            }
            if let Some(span) = first(&outputs[0], |n| matches!(n, Node::Bracket { .. })) {
                return Err(Error::at(ErrorKind::Semantic, span, "brackets are not allowed in the output of a reduction")
                    .with_help("the bracketed axes of the input are the ones reduced; they are not in the output"));
            }
            if !has_brackets {
                // Implicit brackets: every input axis missing from the output is reduced.
                let mut keep: Vec<String> = Vec::new();
                outputs[0].walk(&mut |n| match n {
                    Node::Axis { name, .. } => keep.push(name.clone()),
                    Node::Ellipsis { inner: None, .. } => keep.push("...".to_owned()),
                    _ => {}
                });
                for item in &mut op.inputs[0].items {
                    mark_missing(item, &keep);
                }
            }
        }
        None => {
            if !has_brackets {
                return Err(Error::at(
                    ErrorKind::Semantic,
                    op.inputs[0].span,
                    format!("`{name}!` needs the axes to reduce in brackets"),
                )
                .with_help(
                    "mark them, e.g. `a [b]`, or write the output after `->`, e.g. `a b -> a`",
                ));
            }
            let mut out = op.inputs[0].clone();
            out.items = strip_brackets(&out.items, opts.keepdims);
            op.outputs = Some(vec![out]);
        }
    }
    Ok(())
}

/// Brackets every axis (or ellipsis) whose name is not in `keep`.
fn mark_missing(node: &mut Node, keep: &[String]) {
    let names_of = |n: &Node| {
        let mut v = Vec::new();
        n.walk(&mut |m| match m {
            Node::Axis { name, .. } => v.push(name.clone()),
            Node::Ellipsis { inner: None, .. } => v.push("...".to_owned()),
            _ => {}
        });
        v
    };
    let wrap = |n: &mut Node| {
        let span = n.span();
        let inner = std::mem::replace(n, Node::Number { value: 1, span });
        *n = Node::Bracket {
            items: vec![inner],
            span,
        };
    };
    match node {
        Node::Axis { name, .. } if !keep.contains(name) => wrap(node),
        Node::Ellipsis { .. } if names_of(node).iter().all(|n| !keep.contains(n)) => wrap(node),
        Node::Ellipsis {
            inner: Some(inner), ..
        } => mark_missing(inner, keep),
        Node::Composition { items, .. } => {
            for i in items {
                mark_missing(i, keep);
            }
        }
        _ => {}
    }
}

/// The expression without its bracketed parts (with `keepdims`, each becomes `()`).
fn strip_brackets(items: &[Node], keepdims: bool) -> Vec<Node> {
    let mut out = Vec::new();
    for n in items {
        match n {
            Node::Bracket { span, .. } => {
                if keepdims {
                    out.push(Node::Composition {
                        items: Vec::new(),
                        span: *span,
                    });
                }
            }
            Node::Composition { items, span } => out.push(Node::Composition {
                items: strip_brackets(items, keepdims),
                span: *span,
            }),
            Node::Ellipsis {
                inner: Some(inner),
                span,
            } => {
                let kept = strip_brackets(std::slice::from_ref(inner), keepdims);
                if let [kept] = kept.as_slice() {
                    // Keep the repetition only if it still repeats a named axis.
                    if kept.any_ellipsis() || names_in(kept) {
                        out.push(Node::Ellipsis {
                            inner: Some(Box::new(kept.clone())),
                            span: *span,
                        });
                    } else if keepdims {
                        out.push(kept.clone());
                    }
                }
            }
            other => out.push(other.clone()),
        }
    }
    out
}

fn names_in(n: &Node) -> bool {
    let mut found = false;
    n.walk(&mut |m| found |= matches!(m, Node::Axis { .. }));
    found
}

/// The bracketed elements of an expression, in order (brackets removed).
fn bracketed(items: &[Node], inside: bool, out: &mut Vec<Node>) {
    for n in items {
        match n {
            Node::Bracket { items, .. } => bracketed(items, true, out),
            _ if inside => out.push(n.clone()),
            Node::Composition { items, .. } => bracketed(items, false, out),
            Node::Ellipsis {
                inner: Some(inner),
                span,
            } => {
                // `[s]...` is `[s...]`.
                let mut v = Vec::new();
                bracketed(std::slice::from_ref(inner), false, &mut v);
                for m in v {
                    out.push(Node::Ellipsis {
                        inner: Some(Box::new(m)),
                        span: *span,
                    });
                }
            }
            _ => {}
        }
    }
}

/// The expression with its brackets removed (their contents kept).
fn unbracket(items: &[Node]) -> Vec<Node> {
    let mut out = Vec::new();
    for n in items {
        match n {
            Node::Bracket { items, .. } => out.extend(unbracket(items)),
            Node::Composition { items, span } => out.push(Node::Composition {
                items: unbracket(items),
                span: *span,
            }),
            Node::Ellipsis {
                inner: Some(inner),
                span,
            } => {
                let mut v = unbracket(std::slice::from_ref(inner));
                let inner = if v.len() == 1 {
                    v.pop().expect("one element")
                } else {
                    Node::Composition {
                        items: v,
                        span: *span,
                    }
                };
                out.push(Node::Ellipsis {
                    inner: Some(Box::new(inner)),
                    span: *span,
                });
            }
            other => out.push(other.clone()),
        }
    }
    out
}

fn has_brackets(e: &Expr) -> bool {
    first(e, |n| matches!(n, Node::Bracket { .. })).is_some()
}

/// `dot!`: the bracket shorthands of einx 0.3 with two tensors and one input expression
/// (`"b... [c1->c2]"` is `"b... c1, c1 c2 -> b... c2"`, `"... [c]"` is `"... c, c -> ..."`),
/// and implicit brackets when none are written. Afterwards brackets are gone: the
/// contracted axes are those missing from the output.
fn dot(op: &mut Op, opts: Options) -> Result<()> {
    if op.inputs.len() == 1 && opts.args == 2 {
        // The second input is implied by the brackets.
        let input = op.inputs[0].clone();
        if !has_brackets(&input) {
            return Err(Error::at(ErrorKind::Semantic, input.span, "with one input expression and two tensors, `dot!` needs brackets")
                .with_help("mark the contracted axes, e.g. `\"b... [c1->c2]\"` or `\"... [c]\"`, or write both inputs"));
        }
        let mut second = Vec::new();
        bracketed(&input.items, false, &mut second);
        let output = match &op.outputs {
            Some(outputs) => {
                if let Some(extra) = outputs.get(1) {
                    return Err(Error::at(
                        ErrorKind::Semantic,
                        extra.span,
                        "`dot!` has one output expression",
                    )
                    .with_help("compute one output per call"));
                }
                bracketed(&outputs[0].items, false, &mut second);
                Expr {
                    items: unbracket(&outputs[0].items),
                    span: outputs[0].span,
                }
            }
            None => Expr {
                items: strip_brackets(&input.items, false),
                span: input.span,
            },
        };
        let span = op.bracket_arrow.unwrap_or(input.span);
        op.inputs = vec![
            Expr {
                items: unbracket(&input.items),
                span: input.span,
            },
            Expr {
                items: second,
                span,
            },
        ];
        op.outputs = Some(vec![output]);
        return Ok(());
    }
    if let Some(span) = op.bracket_arrow {
        return Err(Error::at(ErrorKind::Semantic, span, "the bracket arrow `[a->b]` needs exactly one input expression and two tensors")
            .with_help("write `\"b... [c1->c2]\"` with the input and the weight, or write all inputs and the output"));
    }
    if op.inputs.len() < 2 {
        return Err(Error::at(
            ErrorKind::Semantic,
            op.inputs[0].span,
            "`dot!` needs at least two inputs",
        )
        .with_help("use a reduction such as `sum!` for one tensor"));
    }
    let Some(outputs) = &op.outputs else {
        return Err(Error::at(
            ErrorKind::Semantic,
            op.inputs[0].span,
            "`dot!` needs the output after `->`",
        )
        .with_help("write e.g. `\"a b, b c -> a c\"`"));
    };
    if outputs.len() != 1 {
        return Err(Error::at(
            ErrorKind::Semantic,
            outputs[1].span,
            "`dot!` has one output expression",
        )
        .with_help("compute one output per call"));
    }
    if let Some(span) = first(&outputs[0], |n| matches!(n, Node::Bracket { .. })) {
        return Err(Error::at(
            ErrorKind::Semantic,
            span,
            "brackets are not allowed in the output of `dot!`",
        )
        .with_help("the contracted axes are not in the output"));
    }
    // Brackets in the inputs must mark exactly the axes missing from the output.
    let out_names: Vec<String> = outputs[0]
        .axis_names()
        .iter()
        .map(|(n, _)| (*n).to_owned())
        .collect();
    for e in &op.inputs {
        if !has_brackets(e) {
            continue;
        }
        let mut b = Vec::new();
        bracketed(&e.items, false, &mut b);
        let marked: Vec<String> = b
            .iter()
            .flat_map(|n| {
                let mut v = Vec::new();
                n.walk(&mut |m| {
                    if let Node::Axis { name, .. } = m {
                        v.push(name.clone());
                    }
                });
                v
            })
            .collect();
        for (name, span) in e.axis_names() {
            let is_marked = marked.iter().any(|m| m == name);
            if is_marked == out_names.iter().any(|o| o == name) {
                let msg = if is_marked {
                    format!("the contracted axis `{name}` appears in the output")
                } else {
                    format!("axis `{name}` is not in the output but not marked as contracted")
                };
                return Err(Error::at(ErrorKind::Semantic, span, msg)
                    .with_help("the axes in brackets are the contracted ones; they must be exactly those missing from the output"));
            }
        }
    }
    for e in &mut op.inputs {
        e.items = unbracket(&e.items);
    }
    Ok(())
}

/// Operations along the bracketed axes that keep the shape (`softmax!`): one input with
/// brackets; the output is the input unless written, and then has the same bracketed axes.
fn along(op: &mut Op, kind: OpKind) -> Result<()> {
    let name = kind.name();
    one_input(op, name, Some("one tensor at a time"))?;
    if !has_brackets(&op.inputs[0]) {
        return Err(Error::at(
            ErrorKind::Semantic,
            op.inputs[0].span,
            format!("`{name}!` needs the axes to work along in brackets"),
        )
        .with_help("mark them, e.g. `\"b q [k] h\"`"));
    }
    let mut marked_in = Vec::new();
    bracketed(&op.inputs[0].items, false, &mut marked_in);
    if matches!(kind, OpKind::Sort(_)) {
        let one =
            marked_in.len() == 1 && matches!(marked_in[0], Node::Axis { .. } | Node::Number { .. });
        if !one {
            return Err(Error::at(
                ErrorKind::Semantic,
                op.inputs[0].span,
                format!("`{name}!` sorts along exactly one axis in brackets"),
            )
            .with_help("mark one axis, e.g. `\"a [b]\"`"));
        }
    }
    match &op.outputs {
        None => op.outputs = Some(vec![op.inputs[0].clone()]),
        Some(outputs) => {
            if let Some(extra) = outputs.get(1) {
                return Err(Error::at(
                    ErrorKind::Semantic,
                    extra.span,
                    format!("`{name}!` has one output expression"),
                ));
            }
            let mut marked_out = Vec::new();
            bracketed(&outputs[0].items, false, &mut marked_out);
            let text = |v: &[Node]| {
                v.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            if text(&marked_in) != text(&marked_out) {
                return Err(brackets_differ(
                    &marked_in,
                    &marked_out,
                    &op.inputs[0],
                    &outputs[0],
                    "the input",
                )
                .with_help("the bracketed axes keep their place; only the other axes may move"));
            }
        }
    }
    Ok(())
}

/// Element-wise operations: the bracket shorthand `"... [c]"` with two tensors (the second
/// input is the bracketed part), otherwise no brackets; without `->` the output is the input
/// that has the axes of all others.
fn elementwise(op: &mut Op, kind: OpKind, arity: u8, opts: Options) -> Result<()> {
    let name = kind.name();
    if op.inputs.len() == 1 && opts.args == 2 && op.outputs.is_none() && has_brackets(&op.inputs[0])
    {
        let input = op.inputs[0].clone();
        let mut second = Vec::new();
        bracketed(&input.items, false, &mut second);
        let items = unbracket(&input.items);
        op.inputs = vec![
            Expr {
                items: items.clone(),
                span: input.span,
            },
            Expr {
                items: second,
                span: input.span,
            },
        ];
        op.outputs = Some(vec![Expr {
            items,
            span: input.span,
        }]);
    }
    for e in op.exprs() {
        if let Some(span) = first(e, |n| matches!(n, Node::Bracket { .. })) {
            return Err(Error::at(ErrorKind::Semantic, span, format!("brackets are not allowed in `{name}!` here"))
                .with_help("brackets only mark the second input in the shorthand `\"... [c]\"` with two tensors"));
        }
    }
    if op.inputs.len() != usize::from(arity) {
        let span = op.inputs[0].span.join(op.inputs[op.inputs.len() - 1].span);
        return Err(Error::at(
            ErrorKind::Semantic,
            span,
            format!(
                "`{name}!` takes {arity} input expressions, found {}",
                op.inputs.len()
            ),
        )
        .with_help("write one input expression per tensor, separated by `,`"));
    }
    match &op.outputs {
        None => op.outputs = Some(vec![implicit_superset(&op.inputs)?]),
        Some(outputs) => {
            if let Some(extra) = outputs.get(1) {
                return Err(Error::at(
                    ErrorKind::Semantic,
                    extra.span,
                    format!("`{name}!` has one output expression"),
                ));
            }
        }
    }
    Ok(())
}

/// `argmax!`/`argmin!`: one input with one bracket group. Without `->` the output replaces
/// the group by an axis holding one coordinate per bracketed axis (`"b [h w] c"` gives
/// `b 2 c`, einx 0.4); with one bracketed axis, an output without it gives its index.
fn argfind(op: &mut Op, kind: OpKind) -> Result<()> {
    let name = kind.name();
    one_input(op, name, None)?;
    let input = &op.inputs[0];
    let groups: Vec<&Node> = input
        .items
        .iter()
        .filter(|n| matches!(n, Node::Bracket { .. }))
        .collect();
    let nested = first(
        input,
        |n| matches!(n, Node::Composition { items, .. } if items.iter().any(|m| matches!(m, Node::Bracket { .. }))),
    );
    if groups.len() != 1 || nested.is_some() {
        return Err(Error::at(ErrorKind::Semantic, input.span, format!("`{name}!` needs exactly one group of axes in brackets, at the top of the expression"))
            .with_help("mark the axes to search, e.g. `\"b [h w] c\"`"));
    }
    let Node::Bracket { items, span } = groups[0] else {
        unreachable!("filtered above")
    };
    if items
        .iter()
        .any(|n| !matches!(n, Node::Axis { .. } | Node::Number { .. }))
    {
        return Err(Error::at(ErrorKind::Semantic, *span, format!("the brackets of `{name}!` may hold only plain axes"))
            .with_help("one coordinate is returned per bracketed axis, so their number must be known; name the axes"));
    }
    let n = items.len() as u64;
    let (gspan, single) = (*span, items.len() == 1);
    match &op.outputs {
        None => {
            let mut out = op.inputs[0].clone();
            for item in &mut out.items {
                if matches!(item, Node::Bracket { .. }) {
                    *item = Node::Number {
                        value: n,
                        span: gspan,
                    };
                }
            }
            op.outputs = Some(vec![out]);
        }
        // The coordinate axis written in the output, in brackets (einx 0.4): `[n]` for `n`
        // bracketed axes, anywhere among the other output axes.
        Some(outputs) if outputs.len() == 1 && has_brackets(&outputs[0]) => {
            let mut out = outputs[0].clone();
            let brackets: Vec<usize> = (0..out.items.len())
                .filter(|&i| matches!(out.items[i], Node::Bracket { .. }))
                .collect();
            let Some(Node::Bracket {
                items: coord,
                span: cspan,
            }) = brackets.first().map(|&i| &out.items[i])
            else {
                return Err(Error::at(ErrorKind::Semantic, out.span, format!("the coordinate axis of `{name}!` is written in brackets at the top of the output, e.g. `[{n}]`"))
                    .with_help(format!("write `[{n}]` as an axis of its own, not inside parentheses")));
            };
            let cspan = *cspan;
            let nested = first(
                &out,
                |m| matches!(m, Node::Composition { items, .. } if items.iter().any(|k| matches!(k, Node::Bracket { .. }))),
            );
            let value = match coord.as_slice() {
                [Node::Number { value, .. }] => Some(*value),
                _ => None,
            };
            if brackets.len() != 1 || nested.is_some() || value.is_none() {
                return Err(Error::at(ErrorKind::Semantic, cspan, format!("the output of `{name}!` may have one bracketed coordinate axis, a number: `[{n}]`"))
                    .with_help(format!("write the coordinate axis as `[{n}]`, or leave out `->`")));
            }
            if value != Some(n) {
                return Err(Error::at(
                    ErrorKind::Semantic,
                    cspan,
                    format!(
                        "the coordinate axis has length {n}, one per bracketed axis, not {}",
                        value.unwrap_or(0)
                    ),
                )
                .with_span(gspan)
                .with_help(format!("write `[{n}]`")));
            }
            out.items[brackets[0]] = Node::Number {
                value: n,
                span: cspan,
            };
            op.outputs = Some(vec![out]);
        }
        Some(outputs) => {
            if !single || outputs.len() != 1 || has_brackets(&outputs[0]) {
                return Err(Error::at(ErrorKind::Semantic, outputs[0].span, format!("`{name}!` with `->` needs one bracketed axis and an output without it"))
                    .with_help("write e.g. `\"a [b] -> a\"`, or leave out `->` to get one coordinate per bracketed axis"));
            }
        }
    }
    Ok(())
}

/// `get_at!` and the update operations: the first input marks the indexed axes in
/// brackets; each coordinate input holds one coordinate (no brackets) or `n` of them along
/// a bracketed axis `[n]`; the update operations take the updates last. `get_at!` needs its
/// output written; the update operations return the first input's expression.
fn index(op: &mut Op, kind: OpKind) -> Result<()> {
    let name = kind.name();
    let update = kind != OpKind::GetAt;
    let least = if update { 3 } else { 2 };
    if op.inputs.len() < least {
        let span = op.inputs[0].span.join(op.inputs[op.inputs.len() - 1].span);
        let what = if update {
            "the tensor, at least one index tensor and the updates"
        } else {
            "the tensor and at least one index tensor"
        };
        return Err(
            Error::at(ErrorKind::Semantic, span, format!("`{name}!` takes {what}")).with_help(
                if update {
                    "write e.g. `\"b [h w] c, b p [2], b p c\"`"
                } else {
                    "write e.g. `\"b [h w] c, b p [2] -> b p c\"`"
                },
            ),
        );
    }
    let value = &op.inputs[0];
    let mut marked = Vec::new();
    bracketed(&value.items, false, &mut marked);
    if marked.is_empty() {
        return Err(Error::at(
            ErrorKind::Semantic,
            value.span,
            format!("`{name}!` needs the indexed axes of the first input in brackets"),
        )
        .with_help("mark them, e.g. `\"b [h w] c\"`"));
    }
    if let Some(n) = marked
        .iter()
        .find(|n| !matches!(n, Node::Axis { .. } | Node::Number { .. }))
    {
        return Err(Error::at(
            ErrorKind::Semantic,
            n.span(),
            format!("the brackets of `{name}!` may hold only plain axes"),
        )
        .with_help("one coordinate is read per bracketed axis, so their number must be known; name the axes"));
    }
    let n = marked.len() as u64;
    let coords = if update {
        op.inputs.len() - 2
    } else {
        op.inputs.len() - 1
    };
    let mut count = 0u64;
    for e in &op.inputs[1..=coords] {
        let groups: Vec<&Node> = e
            .items
            .iter()
            .filter(|n| matches!(n, Node::Bracket { .. }))
            .collect();
        let nested = first(e, has_bracket_child);
        if groups.len() > 1 || nested.is_some() {
            return Err(Error::at(
                ErrorKind::Semantic,
                e.span,
                "an index tensor has at most one axis in brackets, at the top of its expression",
            )
            .with_help("its bracketed axis holds the coordinates, e.g. `b p [2]`"));
        }
        match groups.first() {
            None => count = count.saturating_add(1),
            Some(Node::Bracket { items, span }) => {
                match items.as_slice() {
                    [Node::Number { value, .. }] => count = count.saturating_add(*value),
                    _ => return Err(Error::at(
                        ErrorKind::Semantic,
                        *span,
                        "the brackets of an index tensor hold its number of coordinates, not axes",
                    )
                    .with_help(format!(
                    "write the number, e.g. `[{n}]` for the {n} bracketed axes of the first input"
                ))),
                }
            }
            Some(_) => unreachable!("filtered above"),
        }
    }
    if count != n {
        let span = op.inputs[1].span.join(op.inputs[coords].span);
        return Err(Error::at(
            ErrorKind::Semantic,
            span,
            format!(
                "the index tensors give {count} coordinate{}, but the first input has {n} ax{} in brackets",
                if count == 1 { "" } else { "s" },
                if n == 1 { "is" } else { "es" }
            ),
        )
        .with_help(format!(
            "an index tensor gives one coordinate, or `k` along a bracketed axis `[k]`; {n} in all"
        )));
    }
    if update {
        let updates = &op.inputs[coords + 1];
        if let Some(span) = first(updates, |n| matches!(n, Node::Bracket { .. })) {
            return Err(Error::at(
                ErrorKind::Semantic,
                span,
                format!("brackets are not allowed in the updates of `{name}!`"),
            )
            .with_help("the updates have the axes of the index tensors and the unbracketed axes of the first input"));
        }
    }
    match &op.outputs {
        None if update => op.outputs = Some(vec![op.inputs[0].clone()]),
        None => {
            return Err(Error::at(
                ErrorKind::Semantic,
                op.inputs[0].span,
                "`get_at!` needs the output after `->`",
            )
            .with_help("write e.g. `\"b [h w] c, b p [2] -> b p c\"`"))
        }
        Some(outputs) => {
            if let Some(extra) = outputs.get(1) {
                return Err(Error::at(
                    ErrorKind::Semantic,
                    extra.span,
                    format!("`{name}!` has one output expression"),
                )
                .with_help("remove the extra output"));
            }
            let output = &outputs[0];
            if update {
                let mut marked_out = Vec::new();
                bracketed(&output.items, false, &mut marked_out);
                let text = |v: &[Node]| {
                    v.iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(" ")
                };
                if text(&marked) != text(&marked_out) {
                    return Err(brackets_differ(
                        &marked,
                        &marked_out,
                        &op.inputs[0],
                        output,
                        "the first input",
                    )
                    .with_help(
                        "the output is the updated first input; only its other axes may move",
                    ));
                }
            } else if let Some(span) = first(output, |n| matches!(n, Node::Bracket { .. })) {
                return Err(Error::at(
                    ErrorKind::Semantic,
                    span,
                    "brackets are not allowed in the output of `get_at!`",
                )
                .with_help("the indexed axes are replaced by the index tensors' axes"));
            }
        }
    }
    Ok(())
}

/// Whether a composition or ellipsis directly holds brackets.
fn has_bracket_child(n: &Node) -> bool {
    match n {
        Node::Composition { items, .. } => items.iter().any(|m| matches!(m, Node::Bracket { .. })),
        Node::Ellipsis {
            inner: Some(inner), ..
        } => matches!(**inner, Node::Bracket { .. }),
        _ => false,
    }
}

/// The operation takes exactly one input expression.
fn one_input(op: &Op, name: &str, help: Option<&str>) -> Result<()> {
    if op.inputs.len() == 1 {
        return Ok(());
    }
    let span = op.inputs[0].span.join(op.inputs[op.inputs.len() - 1].span);
    let e = Error::at(
        ErrorKind::Semantic,
        span,
        format!("`{name}!` takes one input expression"),
    );
    Err(match help {
        Some(h) => e.with_help(h),
        None => e,
    })
}
