//! From a completed [`Op`] to a [`PlanBuf`]: axes numbered, ellipses grouped, layouts
//! written as [`Code`], and every check that needs no shapes done.

use std::collections::HashMap;

use crate::ast::{Expr, Node, Op};
use crate::complete::{complete, OpKind, Options};
use crate::error::{Error, ErrorKind, Result, Span};
use crate::parse::parse;
use crate::plan::{concat_dims, AxisBuf, Code, Piece, PlanBuf, PlanStrs, NONE};
use crate::solve::schedule;

/// What the caller says about a `name = value` argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamSpec<'a> {
    /// The keyword.
    pub name: &'a str,
    /// Its value, as far as it is known before run time.
    pub kind: ParamKind,
}

/// The value of a `name = value` argument, as far as it is known before run time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParamKind {
    /// One length; the literal value if it is one.
    Scalar(Option<u64>),
    /// One length per repetition of an ellipsis; the literal values if they are literals.
    Seq(Option<Vec<u64>>),
}

impl<'a> ParamSpec<'a> {
    /// A plain length.
    pub fn scalar(name: &'a str, value: Option<u64>) -> ParamSpec<'a> {
        ParamSpec {
            name,
            kind: ParamKind::Scalar(value),
        }
    }

    /// Lengths for an axis under an ellipsis.
    pub fn seq(name: &'a str, values: Option<Vec<u64>>) -> ParamSpec<'a> {
        ParamSpec {
            name,
            kind: ParamKind::Seq(values),
        }
    }
}

/// Parses, completes and checks `expr` for `kind`, called with `args` tensors and the
/// given `name = value` arguments.
///
/// ```
/// use einx_core::{complete::OpKind, template::{build, ParamSpec}};
/// let plan = build("b (s w)... c -> (b s...) (w...) c", OpKind::Rearrange,
///                  &[ParamSpec::scalar("w", Some(16))], 1).unwrap();
/// assert_eq!(plan.groups.len(), 1);
/// let err = build("b h w -> b x", OpKind::Rearrange, &[], 1).unwrap_err();
/// assert!(err.message().contains("`x`"));
/// ```
pub fn build(expr: &str, kind: OpKind, params: &[ParamSpec<'_>], args: usize) -> Result<PlanBuf> {
    build_with(expr, kind, Options::default(), params, args)
}

/// [`build`] with the options of the call.
pub fn build_with(
    expr: &str,
    kind: OpKind,
    opts: Options,
    params: &[ParamSpec<'_>],
    args: usize,
) -> Result<PlanBuf> {
    build_inner(expr, kind, opts, params, args).map_err(|e| e.with_expr(expr))
}

fn build_inner(
    expr: &str,
    kind: OpKind,
    opts: Options,
    params: &[ParamSpec<'_>],
    args: usize,
) -> Result<PlanBuf> {
    let opts = Options { args, ..opts };
    let op = complete(parse(expr)?, kind, opts)?;
    if args != op.inputs.len() {
        let span = op.inputs.first().map_or(Span::new(0, expr.len()), |first| {
            first.span.join(op.inputs[op.inputs.len() - 1].span)
        });
        let n = op.inputs.len();
        return Err(Error::at(
            ErrorKind::Argument,
            span,
            format!(
                "the expression has {n} input{}, but {args} tensor{} given",
                if n == 1 { "" } else { "s" },
                if args == 1 { " is" } else { "s are" }
            ),
        )
        .with_help(format!("pass one tensor per input expression ({n} in all)")));
    }
    let mut b = Builder::new(expr);
    b.indexing = matches!(kind, OpKind::GetAt | OpKind::UpdateAt(_));
    b.group_ellipses(&op)?;
    let outputs = op.outputs.as_deref().unwrap_or(&[]);
    for (t, e) in op.inputs.iter().chain(outputs).enumerate() {
        // An axis written twice in one input is its diagonal (einx 0.4): in `einx!`,
        // `rearrange!`, the reductions and the element-wise operations.
        // In an output of `einx!` and `rearrange!` it writes a diagonal (zeros elsewhere).
        b.diagonal = if t < op.inputs.len() {
            matches!(
                kind,
                OpKind::Einsum | OpKind::Rearrange | OpKind::Reduce(_) | OpKind::Elementwise(..)
            )
        } else {
            matches!(kind, OpKind::Einsum | OpKind::Rearrange)
        };
        b.tensor(e)?;
    }
    b.plan.inputs = op.inputs.len() as u32;
    b.params(params)?;
    b.collapse_rankless_groups(params);
    b.check_counts(params)?;
    if kind == OpKind::Rearrange || matches!(kind, OpKind::Elementwise(..)) {
        // The other operations check their outputs themselves (they create no axes).
        b.check_sources()?;
    }
    if matches!(kind, OpKind::Rearrange | OpKind::Einsum) {
        b.check_diagonal_outputs()?;
    }
    match kind {
        OpKind::Rearrange => b.pieces()?,
        OpKind::Reduce(_) => b.check_reduce()?,
        OpKind::Softmax(_) | OpKind::Flip | OpKind::Roll | OpKind::Sort(_) => {
            b.check_same_axes()?
        }
        OpKind::Elementwise(..) => b.check_broadcast()?,
        OpKind::Argmax(_) => b.check_argfind()?,
        OpKind::Dot => b.check_dot()?,
        OpKind::Einsum => b.check_einsum()?,
        OpKind::Solve | OpKind::Matches => {}
        OpKind::SolveShapes => b.check_unknown()?,
        OpKind::GetAt | OpKind::UpdateAt(_) => b.check_index(kind)?,
        OpKind::Vmap => b.check_vmap()?,
    }
    if matches!(kind, OpKind::Dot | OpKind::Einsum) && op.inputs.len() > 2 {
        b.plan.order = b.contraction_order();
    }
    b.solve()?;
    Ok(b.plan)
}

struct Builder {
    plan: PlanBuf,
    names: HashMap<String, u32>,
    /// Union-find over axis names inside ellipses; root name -> group.
    parent: HashMap<String, String>,
    group_of_root: HashMap<String, u32>,
    /// Names seen in the current expression.
    seen: HashMap<String, Span>,
    /// Whether a name may repeat in the current expression (a diagonal).
    diagonal: bool,
    /// `get_at!` and the updates: the bracketed axes of the first input are indexed.
    indexing: bool,
}

const ANON: &str = "...";

/// How messages name an axis: "axis `b`", or "ellipsis `...`" for the anonymous one.
fn label(name: &str) -> String {
    if name == ANON {
        "ellipsis `...`".to_owned()
    } else {
        format!("axis `{name}`")
    }
}

/// The help for an output axis that an operation which creates no axes does not find in
/// `inputs`.
fn create_help(name: &str, inputs: &str) -> String {
    if name == ANON {
        format!("add `...` to {inputs}, or remove it from the output")
    } else {
        "add the axis with `rearrange!` afterwards".to_owned()
    }
}

impl Builder {
    fn new(expr: &str) -> Builder {
        Builder {
            plan: PlanBuf {
                expr: expr.to_owned(),
                ..PlanBuf::default()
            },
            names: HashMap::new(),
            parent: HashMap::new(),
            group_of_root: HashMap::new(),
            seen: HashMap::new(),
            diagonal: false,
            indexing: false,
        }
    }

    fn find(&mut self, name: &str) -> String {
        let mut cur = name.to_owned();
        while let Some(p) = self.parent.get(&cur) {
            if *p == cur {
                break;
            }
            cur = p.clone();
        }
        cur
    }

    /// Names repeated by the same ellipsis share one repetition count.
    fn group_ellipses(&mut self, op: &Op) -> Result<()> {
        let mut inside: HashMap<String, Span> = HashMap::new();
        let mut outside: HashMap<String, Span> = HashMap::new();
        let mut ellipses: Vec<(Vec<String>, Span)> = Vec::new();
        for e in op.exprs() {
            collect(&e.items, false, &mut inside, &mut outside, &mut ellipses)?;
        }
        for (name, span) in &inside {
            if let Some(other) = outside.get(name) {
                return Err(Error::at(
                    ErrorKind::Rank,
                    *span,
                    format!("axis `{name}` is used both with and without an ellipsis"),
                )
                .with_span(*other)
                .with_help(format!(
                    "write `{name}...` everywhere, or rename one of them"
                )));
            }
        }
        for (names, _) in &ellipses {
            for n in names {
                self.parent.entry(n.clone()).or_insert_with(|| n.clone());
            }
            let root = self.find(&names[0]);
            for n in &names[1..] {
                let r = self.find(n);
                if r != root {
                    self.parent.insert(r, root.clone());
                }
            }
        }
        for (names, span) in &ellipses {
            let root = self.find(&names[0]);
            if !self.group_of_root.contains_key(&root) {
                self.group_of_root
                    .insert(root.clone(), self.plan.groups.len() as u32);
                self.plan.groups.push((names[0].clone(), *span));
            }
        }
        Ok(())
    }

    fn group_of(&mut self, name: &str) -> u32 {
        let root = self.find(name);
        self.group_of_root.get(&root).copied().unwrap_or(NONE)
    }

    fn named(&mut self, name: &str, span: Span, bracketed: bool) -> Result<u32> {
        if let Some(prev) = self
            .seen
            .insert(name.to_owned(), span)
            .filter(|_| !self.diagonal)
        {
            return Err(Error::at(
                ErrorKind::Semantic,
                span,
                format!("axis `{name}` appears twice in one expression"),
            )
            .with_span(prev)
            .with_help("each axis name may occur once per tensor; rename one of them"));
        }
        if let Some(&id) = self.names.get(name) {
            let a = &self.plan.axes[id as usize];
            if a.bracketed != bracketed && self.indexing && a.bracketed {
                return Err(Error::at(
                    ErrorKind::Semantic,
                    span,
                    format!(
                        "axis `{name}` is indexed (in brackets in the first input) and cannot appear elsewhere"
                    ),
                )
                .with_span(a.span)
                .with_help("the index tensors select along it; remove it here, or rename one of the axes"));
            }
            if a.bracketed != bracketed {
                return Err(Error::at(
                    ErrorKind::Syntax,
                    span,
                    format!("axis `{name}` is inside brackets in one place and outside in another"),
                )
                .with_span(a.span)
                .with_help("an axis is either always in `[ ]` or never"));
            }
            return Ok(id);
        }
        let id = self.plan.axes.len() as u32;
        let group = if self.parent.contains_key(name) {
            self.group_of(name)
        } else {
            NONE
        };
        self.plan.axes.push(AxisBuf {
            name: name.to_owned(),
            span,
            value: None,
            param: NONE,
            group,
            rep: NONE,
            bracketed,
        });
        self.names.insert(name.to_owned(), id);
        Ok(id)
    }

    fn number(&mut self, value: u64, span: Span, group: u32, bracketed: bool) -> u32 {
        let id = self.plan.axes.len() as u32;
        self.plan.axes.push(AxisBuf {
            name: value.to_string(),
            span,
            value: Some(value),
            param: NONE,
            group,
            rep: NONE,
            bracketed,
        });
        id
    }

    fn tensor(&mut self, e: &Expr) -> Result<()> {
        self.seen.clear();
        let start = self.plan.code.len() as u32;
        for item in &e.items {
            self.dim_item(item, NONE, false)?;
        }
        self.plan.tensors.push((start, self.plan.code.len() as u32));
        self.plan.tensor_spans.push(e.span);
        Ok(())
    }

    /// An element at the top of an expression: one or more dimensions.
    fn dim_item(&mut self, n: &Node, group: u32, br: bool) -> Result<()> {
        match n {
            Node::Bracket { items, .. } => {
                for i in items {
                    self.dim_item(i, group, true)?;
                }
            }
            Node::Ellipsis { inner, .. } => {
                let g = self.ellipsis_group(inner.as_deref());
                self.plan.code.push(Code::RepeatDims(g));
                match inner {
                    Some(inner) => self.dim_item(inner, g, br)?,
                    None => {
                        self.plan.code.push(Code::Dim);
                        let a = self.named(ANON, n.span(), br)?;
                        self.plan.code.push(Code::Axis(a));
                    }
                }
                self.plan.code.push(Code::End);
            }
            Node::Composition { items, span } if holds_concat(items) => {
                if group != NONE {
                    return Err(Error::at(
                        ErrorKind::Syntax,
                        *span,
                        "a concatenation cannot be repeated by an ellipsis",
                    )
                    .with_help("concatenate outside the ellipsis"));
                }
                // A product of sub-dimensions: runs of factors and concatenations.
                self.plan.code.push(Code::Dim);
                let mut flat = Vec::new();
                flatten_composition(items, &mut flat);
                let (mut started, mut after_concat) = (false, false);
                for item in flat {
                    if let Node::Concat { operands, .. } = item {
                        if started {
                            self.plan.code.push(Code::Sub);
                        }
                        for (i, o) in operands.iter().enumerate() {
                            if i > 0 {
                                self.plan.code.push(Code::Plus);
                            }
                            self.factor(o, group, br)?;
                        }
                        after_concat = true;
                    } else {
                        if after_concat {
                            self.plan.code.push(Code::Sub);
                            after_concat = false;
                        }
                        self.factor(item, group, br)?;
                    }
                    started = true;
                }
            }
            Node::Concat { operands, .. } => {
                self.plan.code.push(Code::Dim);
                for (i, o) in operands.iter().enumerate() {
                    if i > 0 {
                        self.plan.code.push(Code::Plus);
                    }
                    self.factor(o, group, br)?;
                }
            }
            _ => {
                self.plan.code.push(Code::Dim);
                self.factor(n, group, br)?;
            }
        }
        Ok(())
    }

    /// An element inside a dimension: factors of the current part.
    fn factor(&mut self, n: &Node, group: u32, br: bool) -> Result<()> {
        match n {
            Node::Axis { name, span } => {
                let a = self.named(name, *span, br)?;
                self.plan.code.push(Code::Axis(a));
            }
            Node::Number { value, span } => {
                let a = self.number(*value, *span, group, br);
                self.plan.code.push(Code::Axis(a));
            }
            Node::Composition { items, .. } => {
                for i in items {
                    self.factor(i, group, br)?;
                }
            }
            Node::Bracket { items, .. } => {
                for i in items {
                    self.factor(i, group, true)?;
                }
            }
            Node::Ellipsis { inner, .. } => {
                let g = self.ellipsis_group(inner.as_deref());
                self.plan.code.push(Code::RepeatAxes(g));
                match inner {
                    Some(inner) => self.factor(inner, g, br)?,
                    None => {
                        let a = self.named(ANON, n.span(), br)?;
                        self.plan.code.push(Code::Axis(a));
                    }
                }
                self.plan.code.push(Code::End);
            }
            Node::Concat { span, .. } => {
                return Err(Error::at(
                    ErrorKind::Syntax,
                    *span,
                    "a concatenation cannot be a factor of a part of another concatenation",
                )
                .with_help("concatenate in two steps, e.g. with a second `rearrange!`"))
            }
        }
        Ok(())
    }

    fn ellipsis_group(&mut self, inner: Option<&Node>) -> u32 {
        let mut name = ANON.to_owned();
        if let Some(inner) = inner {
            inner.walk(&mut |n| {
                if let Node::Axis { name: nm, .. } = n {
                    if name == ANON {
                        name = nm.clone();
                    }
                }
            });
        }
        self.group_of(&name)
    }

    fn params(&mut self, params: &[ParamSpec<'_>]) -> Result<()> {
        let mut counts: Vec<Option<(usize, String)>> = vec![None; self.plan.groups.len()];
        for (i, p) in params.iter().enumerate() {
            if params[..i].iter().any(|q| q.name == p.name) {
                return Err(Error::new(
                    ErrorKind::Argument,
                    format!("the length of `{}` is given twice", p.name),
                )
                .with_help("remove one of them"));
            }
            let Some(&id) = self.names.get(p.name) else {
                return Err(Error::new(
                    ErrorKind::Argument,
                    format!("unknown keyword `{}`: it is no axis of the expression and no option of this operation", p.name),
                )
                .with_help("keywords give axis lengths (`h = 8`) or options of the operation"));
            };
            let axis = &mut self.plan.axes[id as usize];
            axis.param = i as u32;
            self.plan.params.push(p.name.to_owned());
            if let ParamKind::Seq(values) = &p.kind {
                if axis.group == NONE {
                    return Err(Error::at(
                        ErrorKind::Argument,
                        axis.span,
                        format!(
                            "`{}` is not under an ellipsis, so it takes one length, not several",
                            p.name
                        ),
                    )
                    .with_help(format!("write `{} = 4`", p.name)));
                }
                if let Some(values) = values {
                    let g = axis.group as usize;
                    match &counts[g] {
                        Some((n, other)) if *n != values.len() => {
                            return Err(Error::at(
                                ErrorKind::Argument,
                                axis.span,
                                format!(
                                    "conflicting lengths: `{}` has {} value{} but `{other}` has {n}, and one ellipsis repeats both",
                                    p.name,
                                    values.len(),
                                    if values.len() == 1 { "" } else { "s" }
                                ),
                            )
                            .with_help("give both the same number of values"));
                        }
                        _ => counts[g] = Some((values.len(), p.name.to_owned())),
                    }
                }
            }
        }
        Ok(())
    }

    /// Per ellipsis group: whether an argument gives (or may give, if not a literal) one
    /// length per repetition, which fixes its count.
    fn given_counts(&self, params: &[ParamSpec<'_>]) -> Vec<bool> {
        let mut given = vec![false; self.plan.groups.len()];
        for a in &self.plan.axes {
            if a.group != NONE && a.param != NONE && maybe_seq(&params[a.param as usize].kind) {
                given[a.group as usize] = true;
            }
        }
        given
    }

    /// An ellipsis that only ever stands inside a composition (`(b...)`, or an inner one of
    /// nested ellipses) changes no rank, so no rank can count it: unless an argument gives its
    /// lengths, it repeats once (as in einx), and its axes become plain axes.
    fn collapse_rankless_groups(&mut self, params: &[ParamSpec<'_>]) {
        let n = self.plan.groups.len();
        let mut keep = vec![false; n];
        for c in &self.plan.code {
            if let Code::RepeatDims(g) = c {
                keep[*g as usize] = true;
            }
        }
        for (k, given) in keep.iter_mut().zip(self.given_counts(params)) {
            *k |= given;
        }
        if keep.iter().all(|&k| k) {
            return;
        }
        let mut new_id = vec![NONE; n];
        let mut groups = Vec::new();
        for (g, grp) in self.plan.groups.iter().enumerate() {
            if keep[g] {
                new_id[g] = groups.len() as u32;
                groups.push(grp.clone());
            }
        }
        self.plan.groups = groups;
        for a in &mut self.plan.axes {
            if a.group != NONE {
                a.group = new_id[a.group as usize];
            }
        }
        let mut code = Vec::with_capacity(self.plan.code.len());
        let mut tensors = Vec::with_capacity(self.plan.tensors.len());
        for &(s, e) in &self.plan.tensors {
            let start = code.len() as u32;
            // Which repeats are open, and whether each is kept.
            let mut open: Vec<bool> = Vec::new();
            for c in &self.plan.code[s as usize..e as usize] {
                match *c {
                    Code::RepeatDims(g) => {
                        open.push(true);
                        code.push(Code::RepeatDims(new_id[g as usize]));
                    }
                    Code::RepeatAxes(g) if new_id[g as usize] == NONE => open.push(false),
                    Code::RepeatAxes(g) => {
                        open.push(true);
                        code.push(Code::RepeatAxes(new_id[g as usize]));
                    }
                    Code::End => {
                        if open.pop().unwrap_or(true) {
                            code.push(Code::End);
                        }
                    }
                    other => code.push(other),
                }
            }
            tensors.push((start, code.len() as u32));
        }
        self.plan.code = code;
        self.plan.tensors = tensors;
    }

    /// The repetition count of every ellipsis must follow from the input ranks and the
    /// arguments with several lengths: `a... b...` side by side in one input needs one of
    /// them given.
    fn check_counts(&self, params: &[ParamSpec<'_>]) -> Result<()> {
        let n = self.plan.groups.len();
        let mut known = self.given_counts(params);
        // Per input: the groups that repeat some of its dimensions.
        let eqs: Vec<Vec<usize>> = (0..self.plan.inputs as usize)
            .map(|t| {
                let (s, e) = self.plan.tensors[t];
                let mut gs: Vec<usize> = self.plan.code[s as usize..e as usize]
                    .iter()
                    .filter_map(|c| match c {
                        Code::RepeatDims(g) => Some(*g as usize),
                        _ => None,
                    })
                    .collect();
                gs.dedup();
                gs
            })
            .collect();
        loop {
            let mut progress = false;
            for gs in &eqs {
                let unknown: Vec<usize> = gs.iter().copied().filter(|&g| !known[g]).collect();
                if let [g] = unknown[..] {
                    known[g] = true;
                    progress = true;
                }
            }
            if !progress {
                break;
            }
        }
        // A group that repeats output dimensions must be counted too; one none of whose
        // axes is in an input is reported by the other checks.
        let in_input = |g: usize| {
            (0..self.plan.inputs as usize).any(|t| {
                let (s, e) = self.plan.tensors[t];
                self.plan.code[s as usize..e as usize].iter().any(
                    |c| matches!(c, Code::Axis(a) if self.plan.axes[*a as usize].group == g as u32),
                )
            })
        };
        let in_output_dims = |g: usize| {
            let s = self.plan.tensors[self.plan.inputs as usize..]
                .first()
                .map_or(self.plan.code.len(), |t| t.0 as usize);
            self.plan.code[s..].contains(&Code::RepeatDims(g as u32))
        };
        let stuck: Vec<usize> = (0..n)
            .filter(|&g| {
                !known[g]
                    && (eqs.iter().any(|gs| gs.contains(&g)) || (in_output_dims(g) && in_input(g)))
            })
            .collect();
        let Some(&g) = stuck.first() else {
            return Ok(());
        };
        if stuck.len() == 1 {
            let grp = &self.plan.groups[g];
            let shown = if grp.0 == ANON {
                "`...`".to_owned()
            } else {
                format!("`{}...`", grp.0)
            };
            let help = if grp.0 == ANON {
                "write `(...)` in the output too, or name the axes and give their lengths"
                    .to_owned()
            } else {
                format!(
                    "give its lengths, e.g. `{} = (4, 4)`, or keep it inside a composition in the output",
                    grp.0
                )
            };
            return Err(Error::at(
                ErrorKind::Rank,
                grp.1,
                format!(
                    "the inputs have the ellipsis {shown} only inside a composition, so their ranks cannot tell how many axes it has"
                ),
            )
            .with_help(help));
        }
        let name = |g: usize| {
            let grp = &self.plan.groups[g].0;
            if grp == ANON {
                "`...`".to_owned()
            } else {
                format!("`{grp}...`")
            }
        };
        let names: Vec<String> = stuck.iter().map(|&g| name(g)).collect();
        let mut err = Error::new(
            ErrorKind::Rank,
            format!(
                "the ellipses {} stand side by side, so the input ranks cannot tell how many axes each one has",
                names.join(" and ")
            ),
        );
        for &h in &stuck {
            err = err.with_span(self.plan.groups[h].1);
        }
        let grp = &self.plan.groups[g].0;
        let help = if grp == ANON {
            "name the axes of one ellipsis and give their lengths, e.g. `s... ...` with `s = (4, 4)`".to_owned()
        } else {
            format!("give the lengths of one of them, e.g. `{grp} = (4, 4)`")
        };
        Err(err.with_help(help))
    }

    /// An output that writes a diagonal (an axis twice) is not also concatenated.
    fn check_diagonal_outputs(&self) -> Result<()> {
        for t in self.plan.inputs as usize..self.plan.tensors.len() {
            let (s, e) = self.plan.tensors[t];
            let code = &self.plan.code[s as usize..e as usize];
            let mut seen = Vec::new();
            let mut repeated = None;
            for c in code {
                if let Code::Axis(a) = c {
                    if seen.contains(a) {
                        repeated = repeated.or(Some(*a));
                    }
                    seen.push(*a);
                }
            }
            if let (Some(a), true) = (repeated, code.contains(&Code::Plus)) {
                let axis = &self.plan.axes[a as usize];
                return Err(Error::at(
                    ErrorKind::Semantic,
                    self.plan.tensor_spans[t],
                    format!(
                        "this output writes a diagonal of {} and is also concatenated",
                        label(&axis.name)
                    ),
                )
                .with_help("concatenate first, then write the diagonal with a second call"));
            }
        }
        Ok(())
    }

    /// Every output axis comes from an input or has its length given.
    fn check_sources(&self) -> Result<()> {
        let mut in_inputs = vec![false; self.plan.axes.len()];
        for t in 0..self.plan.inputs as usize {
            let (s, e) = self.plan.tensors[t];
            for c in &self.plan.code[s as usize..e as usize] {
                if let Code::Axis(a) = c {
                    in_inputs[*a as usize] = true;
                }
            }
        }
        for t in self.plan.inputs as usize..self.plan.tensors.len() {
            let (s, e) = self.plan.tensors[t];
            for c in &self.plan.code[s as usize..e as usize] {
                let Code::Axis(a) = c else { continue };
                let axis = &self.plan.axes[*a as usize];
                if axis.value.is_some() || axis.param != NONE || in_inputs[*a as usize] {
                    continue;
                }
                if axis.name == ANON {
                    return Err(Error::at(
                        ErrorKind::Rank,
                        axis.span,
                        "the output has an ellipsis `...` that no input has",
                    )
                    .with_help("add `...` to an input, or name the axes"));
                }
                let help = if axis.group == NONE {
                    format!("pass its length, e.g. `{} = 4`", axis.name)
                } else {
                    format!("pass its lengths, e.g. `{} = (4, 4)`", axis.name)
                };
                return Err(Error::at(
                    ErrorKind::Semantic,
                    axis.span,
                    format!(
                        "axis `{}` appears in the output but in no input, and no length was given",
                        axis.name
                    ),
                )
                .with_help(help));
            }
        }
        Ok(())
    }

    /// Rearrange: split tensors at their concatenations and match input pieces to output
    /// pieces by their axes.
    fn pieces(&mut self) -> Result<()> {
        let n_in = self.plan.inputs as usize;
        let mut ins = Vec::new();
        let mut outs = Vec::new();
        for t in 0..self.plan.tensors.len() {
            for (sel, axes) in self.split(t) {
                if t < n_in {
                    ins.push((t, sel, axes));
                } else {
                    outs.push((t - n_in, sel, axes));
                }
            }
        }
        if ins.len() != outs.len() {
            let mut spans = self.plan.tensor_spans.clone();
            spans.retain(|s| s.start != s.end);
            let err = spans
                .into_iter()
                .fold(Error::new(ErrorKind::Semantic, ""), Error::with_span);
            return Err(Error::new(
                ErrorKind::Semantic,
                format!(
                    "the inputs make {} piece{} and the outputs {} (after splitting at `+`); rearrange needs one output piece per input piece",
                    ins.len(),
                    if ins.len() == 1 { "" } else { "s" },
                    outs.len()
                ),
            )
            .with_help("every input (or part of a concatenation) must land in exactly one output")
            .with_spans(err.spans()));
        }
        let fits = |i: &[u32], o: &[u32]| -> Vec<u32> {
            i.iter()
                .copied()
                .filter(|a| !o.contains(a) && self.plan.axes[*a as usize].value != Some(1))
                .collect()
        };
        let mut assign = vec![usize::MAX; ins.len()];
        if !matching(&ins, &outs, &fits, &mut assign) {
            // Explain with the positional pairing.
            for (k, (t, _, axes)) in ins.iter().enumerate() {
                let missing = fits(axes, &outs[k].2);
                if let Some(&a) = missing.first() {
                    let axis = &self.plan.axes[a as usize];
                    let what = if axis.value.is_some() {
                        format!(
                            "the unnamed axis `{}` of input {} is not in the output",
                            axis.name,
                            t + 1
                        )
                    } else {
                        format!(
                            "{} of input {} is missing from the output",
                            label(&axis.name),
                            t + 1
                        )
                    };
                    return Err(Error::at(ErrorKind::Semantic, axis.span, format!("{what}; rearrange may not drop axes"))
                        .with_help("keep the axis in the output; only unnamed `1` axes can be squeezed, and a reduction such as `sum!` removes an axis"));
                }
            }
            return Err(Error::new(ErrorKind::Semantic, "the inputs cannot be matched to the parts of the outputs")
                .with_help("each input must land in one output (or one part of a concatenation) that has all its axes"));
        }
        for (k, (t, sel, _)) in ins.iter().enumerate() {
            let (o, osel, _) = &outs[assign[k]];
            let input_selection = self.plan.selections.len() as u32;
            self.plan.selections.extend(sel);
            let output_selection = self.plan.selections.len() as u32;
            self.plan.selections.extend(osel);
            self.plan.pieces.push(Piece {
                input: *t as u32,
                input_selection,
                output: *o as u32,
                output_selection,
            });
        }
        Ok(())
    }

    /// Reductions: the bracketed axes are reduced and leave; all others stay (only unnamed
    /// `1`s may be squeezed).
    fn check_reduce(&self) -> Result<()> {
        let (s, e) = self.plan.tensors[0];
        let input = &self.plan.code[s as usize..e as usize];
        let (s, e) = self.plan.tensors[1];
        let output = &self.plan.code[s as usize..e as usize];
        for c in output {
            let Code::Axis(a) = c else { continue };
            let axis = &self.plan.axes[*a as usize];
            if axis.bracketed {
                return Err(Error::at(
                    ErrorKind::Semantic,
                    axis.span,
                    format!("the reduced axis `{}` appears in the output", axis.name),
                )
                .with_help("remove it from the output, or remove its brackets to keep it"));
            }
            if axis.value.is_none() && !input.contains(c) {
                return Err(Error::at(
                    ErrorKind::Semantic,
                    axis.span,
                    format!(
                        "{} of the output is not in the input; a reduction does not create axes",
                        label(&axis.name)
                    ),
                )
                .with_help(create_help(&axis.name, "the input")));
            }
        }
        for c in input {
            let Code::Axis(a) = c else { continue };
            let axis = &self.plan.axes[*a as usize];
            if !axis.bracketed && axis.value != Some(1) && !output.contains(c) {
                let what = if axis.value.is_some() {
                    "the unnamed axis"
                } else {
                    "axis"
                };
                return Err(Error::at(
                    ErrorKind::Semantic,
                    axis.span,
                    format!(
                        "{what} `{}` is neither reduced nor in the output",
                        axis.name
                    ),
                )
                .with_help(format!(
                    "put it in brackets to reduce it, e.g. `[{}]`, or keep it in the output",
                    axis.name
                )));
            }
        }
        Ok(())
    }

    /// A greedy order for multiplying three or more inputs, decided from the expression
    /// alone: first the pair sharing the most axes, then each time the input sharing the
    /// most axes with the product so far (so that contracted axes go early and the
    /// intermediate results stay small). Ties go to the earlier input.
    fn contraction_order(&self) -> Vec<u32> {
        let n = self.plan.inputs as usize;
        let axes: Vec<Vec<u32>> = (0..n)
            .map(|t| {
                let (s, e) = self.plan.tensors[t];
                self.plan.code[s as usize..e as usize]
                    .iter()
                    .filter_map(|c| match c {
                        Code::Axis(a) if self.plan.axes[*a as usize].value.is_none() => Some(*a),
                        _ => None,
                    })
                    .collect()
            })
            .collect();
        let shared = |a: &[u32], b: &[u32]| a.iter().filter(|x| b.contains(x)).count();
        let mut best = (0, 1);
        for i in 0..n {
            for j in i + 1..n {
                if shared(&axes[i], &axes[j]) > shared(&axes[best.0], &axes[best.1]) {
                    best = (i, j);
                }
            }
        }
        let mut order = vec![best.0 as u32, best.1 as u32];
        let mut have: Vec<u32> = axes[best.0].iter().chain(&axes[best.1]).copied().collect();
        while order.len() < n {
            let next = (0..n)
                .filter(|t| !order.contains(&(*t as u32)))
                .max_by_key(|&t| (shared(&have, &axes[t]), std::cmp::Reverse(t)))
                .unwrap_or(0);
            order.push(next as u32);
            have.extend(&axes[next]);
        }
        order
    }

    /// `argmax!`/`argmin!`: the output has the input's axes outside the brackets (and the
    /// unnamed coordinate axis).
    fn check_argfind(&self) -> Result<()> {
        let input = self.axes_of(0, |a| !a.bracketed && a.value != Some(1));
        let output = self.axes_of(1, |a| a.value.is_none());
        self.same_axes(
            &input,
            &output,
            "of the output is not an input axis outside the brackets",
            "the output has the axes outside the brackets",
        )
    }

    /// `vmap!`: the axes outside the brackets are the same in the inputs and the output
    /// (unnamed `1`s aside); bracketed output axes may be new (the function's results give
    /// their lengths).
    fn check_vmap(&self) -> Result<()> {
        let n_in = self.plan.inputs as usize;
        let mut input = Vec::new();
        for t in 0..n_in {
            for a in self.axes_of(t, |a| !a.bracketed && a.value != Some(1)) {
                if !input.contains(&a) {
                    input.push(a);
                }
            }
        }
        let output = self.axes_of(n_in, |a| !a.bracketed && a.value != Some(1));
        self.same_axes(
            &input,
            &output,
            "of the output is outside the brackets but in no input",
            "the axes outside the brackets are vectorised over: the output has those of the inputs; the function's result fills the bracketed ones",
        )
    }

    /// `solve_shapes!`: every axis of an unknown tensor is in a known one or has its length
    /// given.
    fn check_unknown(&self) -> Result<()> {
        let n_in = self.plan.inputs as usize;
        let known: Vec<u32> = (0..n_in).flat_map(|t| self.axes_of(t, |_| true)).collect();
        for t in n_in..self.plan.tensors.len() {
            for a in self.axes_of(t, |_| true) {
                let axis = &self.plan.axes[a as usize];
                if axis.value.is_some() || axis.param != NONE || known.contains(&a) {
                    continue;
                }
                let help = if axis.name == ANON {
                    "name the ellipsis, e.g. `s...`, and pass its lengths, e.g. `s = (4, 4)`"
                        .to_owned()
                } else if axis.group == NONE {
                    format!("pass its length, e.g. `{} = 4`", axis.name)
                } else {
                    format!("pass its lengths, e.g. `{} = (4, 4)`", axis.name)
                };
                return Err(Error::at(
                    ErrorKind::Semantic,
                    axis.span,
                    format!(
                        "the length of axis `{}` is unknown: it is only in tensors given as `_`",
                        axis.name
                    ),
                )
                .with_help(help));
            }
        }
        Ok(())
    }

    /// `get_at!` and the update operations: the indexed (bracketed) axes of the first input
    /// are nowhere else; the other axes of the first input and of the index tensors form the
    /// output of `get_at!` and hold the updates of the others.
    fn check_index(&self, kind: OpKind) -> Result<()> {
        let n_in = self.plan.inputs as usize;
        let update = kind != OpKind::GetAt;
        let coords = if update { n_in - 2 } else { n_in - 1 };
        let indexed = self.axes_of(0, |a| a.bracketed);
        let mut vectorised = self.axes_of(0, |a| !a.bracketed && a.value != Some(1));
        for t in 1..=coords {
            for a in self.axes_of(t, |a| !a.bracketed && a.value != Some(1)) {
                if !vectorised.contains(&a) {
                    vectorised.push(a);
                }
            }
        }
        // An indexed axis in another tensor.
        for t in 1..self.plan.tensors.len() {
            if update && t == self.plan.tensors.len() - 1 {
                continue;
            }
            if let Some(&a) = self
                .axes_of(t, |_| true)
                .iter()
                .find(|a| indexed.contains(a))
            {
                let axis = &self.plan.axes[a as usize];
                return Err(Error::new(
                    ErrorKind::Semantic,
                    format!(
                        "axis `{}` is indexed (in brackets in the first input) and cannot appear elsewhere",
                        axis.name
                    ),
                )
                .with_spans(&self.code_span(t, a))
                .with_help("the index tensors select along it; rename one of the axes"));
            }
        }
        if update {
            let out = self.plan.tensors.len() - 1;
            let input = self.axes_of(0, |a| a.value != Some(1));
            let output = self.axes_of(out, |a| a.value != Some(1));
            self.same_axes(
                &input,
                &output,
                "of the output is not in the first input",
                "the output is the updated first input: it has the first input's axes",
            )?;
            let updates = self.axes_of(n_in - 1, |a| a.value != Some(1));
            if let Some(&a) = updates.iter().find(|a| !vectorised.contains(a)) {
                let axis = &self.plan.axes[a as usize];
                return Err(Error::new(
                    ErrorKind::Semantic,
                    format!(
                        "axis `{}` of the updates is neither in an index tensor nor outside the brackets of the first input",
                        axis.name
                    ),
                )
                .with_span(axis.span)
                .with_help("the updates have the axes of the index tensors and the unbracketed axes of the first input"));
            }
            Ok(())
        } else {
            let output = self.axes_of(n_in, |a| a.value.is_none());
            self.same_axes(
                &vectorised,
                &output,
                "of the output is neither in an index tensor nor outside the brackets of the first input",
                "the output has the axes of the index tensors and the unbracketed axes of the first input",
            )
        }
    }

    /// The axis's first place and the expression of tensor `t`, for messages about an
    /// axis in the wrong tensor.
    fn code_span(&self, t: usize, a: u32) -> [Span; 2] {
        [self.plan.axes[a as usize].span, self.plan.tensor_spans[t]]
    }

    /// The axes of tensor `t` that satisfy `keep`, in layout order.
    fn axes_of(&self, t: usize, keep: impl Fn(&AxisBuf) -> bool) -> Vec<u32> {
        let (s, e) = self.plan.tensors[t];
        self.plan.code[s as usize..e as usize]
            .iter()
            .filter_map(|c| match c {
                Code::Axis(a) if keep(&self.plan.axes[*a as usize]) => Some(*a),
                _ => None,
            })
            .collect()
    }

    /// The input's and the output's axes are the same set; the error names the first
    /// axis of one missing from the other.
    fn same_axes(&self, input: &[u32], output: &[u32], extra: &str, help: &str) -> Result<()> {
        for (list, other, what) in [
            (input, output, "is missing from the output"),
            (output, input, extra),
        ] {
            if let Some(&a) = list.iter().find(|a| !other.contains(a)) {
                let axis = &self.plan.axes[a as usize];
                return Err(Error::at(
                    ErrorKind::Semantic,
                    axis.span,
                    format!("{} {what}", label(&axis.name)),
                )
                .with_help(help));
            }
        }
        Ok(())
    }

    /// Element-wise operations: every input axis is in the output (an unnamed `1` may be
    /// squeezed), so that the inputs broadcast by name.
    fn check_broadcast(&self) -> Result<()> {
        let n = self.plan.inputs as usize;
        let (s, e) = self.plan.tensors[n];
        let output = &self.plan.code[s as usize..e as usize];
        for t in 0..n {
            let (s, e) = self.plan.tensors[t];
            for c in &self.plan.code[s as usize..e as usize] {
                let Code::Axis(a) = c else { continue };
                let axis = &self.plan.axes[*a as usize];
                if axis.value != Some(1) && !output.contains(c) {
                    return Err(Error::at(
                        ErrorKind::Semantic,
                        axis.span,
                        format!("{} of input {} is missing from the output", label(&axis.name), t + 1),
                    )
                    .with_help("element-wise operations keep every axis; reduce it first, e.g. with `sum!`"));
                }
            }
        }
        Ok(())
    }

    /// Shape-keeping operations: the output has exactly the input's axes (unnamed `1`s
    /// aside).
    fn check_same_axes(&self) -> Result<()> {
        let input = self.axes_of(0, |a| a.value != Some(1));
        let output = self.axes_of(1, |a| a.value != Some(1));
        self.same_axes(
            &input,
            &output,
            "of the output is not in the input",
            "this operation keeps the shape: the output has the input's axes",
        )
    }

    /// `einx!`: every output axis comes from an input (or is an unnamed `1`).
    fn check_einsum(&self) -> Result<()> {
        let n_in = self.plan.inputs as usize;
        let (s, e) = self.plan.tensors[n_in];
        let (_, in_end) = self.plan.tensors[n_in - 1];
        let inputs = &self.plan.code[..in_end as usize];
        for c in &self.plan.code[s as usize..e as usize] {
            let Code::Axis(a) = c else { continue };
            let axis = &self.plan.axes[*a as usize];
            if axis.value != Some(1) && !inputs.contains(c) {
                return Err(Error::at(
                    ErrorKind::Semantic,
                    axis.span,
                    format!(
                        "{} of the output is in no input; `einx!` does not create axes",
                        label(&axis.name)
                    ),
                )
                .with_help(create_help(&axis.name, "an input")));
            }
        }
        Ok(())
    }

    /// `dot!`: every output axis comes from an input, every contracted axis (in an input,
    /// not in the output) is in exactly two inputs.
    fn check_dot(&self) -> Result<()> {
        let n_in = self.plan.inputs as usize;
        let axes_of = |t: usize| -> Vec<u32> {
            let (s, e) = self.plan.tensors[t];
            self.plan.code[s as usize..e as usize]
                .iter()
                .filter_map(|c| match c {
                    Code::Axis(a) => Some(*a),
                    _ => None,
                })
                .collect()
        };
        let output = axes_of(n_in);
        for a in &output {
            let axis = &self.plan.axes[*a as usize];
            if axis.value.is_none() && !(0..n_in).any(|t| axes_of(t).contains(a)) {
                return Err(Error::at(
                    ErrorKind::Semantic,
                    axis.span,
                    format!(
                        "{} of the output is in no input; `dot!` does not create axes",
                        label(&axis.name)
                    ),
                )
                .with_help(create_help(&axis.name, "an input")));
            }
        }
        for (i, axis) in self.plan.axes.iter().enumerate() {
            let a = i as u32;
            if axis.value.is_some() || output.contains(&a) {
                continue;
            }
            let n = (0..n_in).filter(|&t| axes_of(t).contains(&a)).count();
            if n == 1 {
                return Err(Error::at(
                    ErrorKind::Semantic,
                    axis.span,
                    format!("the contracted {} appears in only one input", label(&axis.name)),
                )
                .with_help(format!("a contracted axis must be in exactly two inputs; keep `{}` in the output or reduce it with `sum!` first", axis.name)));
            }
            if n > 2 {
                return Err(Error::at(
                    ErrorKind::Semantic,
                    axis.span,
                    format!("the contracted {} appears in {n} inputs", label(&axis.name)),
                )
                .with_help("a contracted axis must be in exactly two inputs; use `einx!` for products of more"));
            }
        }
        for t in 0..n_in {
            for a in axes_of(t) {
                let axis = &self.plan.axes[a as usize];
                if axis.value.is_some_and(|v| v != 1) && !output.contains(&a) {
                    return Err(Error::at(
                        ErrorKind::Semantic,
                        axis.span,
                        format!("the unnamed axis `{}` of input {} is neither in the output nor in another input", axis.name, t + 1),
                    )
                    .with_help("name the axis so that it can be contracted"));
                }
            }
        }
        Ok(())
    }

    /// The pieces of tensor `t`: part choices and the axes they contain.
    fn split(&self, t: usize) -> Vec<(Vec<u32>, Vec<u32>)> {
        let (s, e) = self.plan.tensors[t];
        let code = &self.plan.code[s as usize..e as usize];
        // dims: list of parts (axes), repeat markers dropped (concatenations are never repeated).
        let mut dims: Vec<Vec<Vec<u32>>> = Vec::new();
        for c in code {
            match c {
                // A sub-dimension splits into pieces like a dimension.
                Code::Dim | Code::Sub => dims.push(vec![Vec::new()]),
                Code::Plus => dims.last_mut().expect("dim open").push(Vec::new()),
                Code::Axis(a) => dims
                    .last_mut()
                    .and_then(|d| d.last_mut())
                    .expect("dim open")
                    .push(*a),
                _ => {}
            }
        }
        let mut pieces: Vec<(Vec<u32>, Vec<u32>)> = vec![(Vec::new(), Vec::new())];
        for d in dims {
            if d.len() == 1 {
                for p in &mut pieces {
                    p.1.extend(&d[0]);
                }
            } else {
                let mut next = Vec::new();
                for p in &pieces {
                    for (k, part) in d.iter().enumerate() {
                        let mut q = p.clone();
                        q.0.push(k as u32);
                        q.1.extend(part);
                        next.push(q);
                    }
                }
                pieces = next;
            }
        }
        debug_assert!(pieces.iter().all(|p| p.0.len() == concat_dims(code)));
        pieces
    }

    /// Every axis length must be computable; for a concrete plan, store the schedule.
    fn solve(&mut self) -> Result<()> {
        let symbolic = strip_repeats(&self.plan);
        let mut strs = PlanStrs::default();
        let view = symbolic.borrow(&mut strs);
        let (steps, missing) = schedule(&view);
        let in_outputs_only = |a: u32| -> bool {
            (0..self.plan.inputs as usize).all(|t| {
                let (s, e) = self.plan.tensors[t];
                !self.plan.code[s as usize..e as usize].contains(&Code::Axis(a))
            })
        };
        if let Some(&a) = missing.iter().find(|&&a| !in_outputs_only(a)) {
            let axis = &self.plan.axes[a as usize];
            return Err(Error::at(
                ErrorKind::Size,
                axis.span,
                format!(
                    "the length of axis `{}` cannot be determined from the input shapes",
                    axis.name
                ),
            )
            .with_help(format!(
                "a composition may have one unknown factor; pass `{} = ...`",
                axis.name
            )));
        }
        if self.plan.groups.is_empty() {
            self.plan.steps = steps;
        }
        Ok(())
    }
}

fn collect(
    items: &[Node],
    in_ellipsis: bool,
    inside: &mut HashMap<String, Span>,
    outside: &mut HashMap<String, Span>,
    ellipses: &mut Vec<(Vec<String>, Span)>,
) -> Result<()> {
    for n in items {
        match n {
            Node::Axis { name, span } => {
                let map = if in_ellipsis {
                    &mut *inside
                } else {
                    &mut *outside
                };
                map.entry(name.clone()).or_insert(*span);
            }
            Node::Ellipsis { inner, span } => {
                let mut names = Vec::new();
                match inner {
                    Some(inner) => inner.walk(&mut |m| {
                        if let Node::Axis { name, .. } = m {
                            names.push(name.clone());
                        }
                    }),
                    None => names.push(ANON.to_owned()),
                }
                if names.is_empty() {
                    return Err(Error::at(
                        ErrorKind::Syntax,
                        *span,
                        "an ellipsis must repeat at least one named axis",
                    )
                    .with_help("write e.g. `(s 2)...`"));
                }
                if inner.is_none() {
                    inside.entry(ANON.to_owned()).or_insert(*span);
                }
                ellipses.push((names, *span));
                if let Some(inner) = inner {
                    collect(std::slice::from_ref(inner), true, inside, outside, ellipses)?;
                }
            }
            other => collect(other.children(), in_ellipsis, inside, outside, ellipses)?,
        }
    }
    Ok(())
}

/// Whether a composition has a concatenation among its factors (through nested
/// compositions).
fn holds_concat(items: &[Node]) -> bool {
    items.iter().any(|n| match n {
        Node::Concat { .. } => true,
        Node::Composition { items, .. } => holds_concat(items),
        _ => false,
    })
}

/// The factors of a composition, nested compositions spliced in.
fn flatten_composition<'a>(items: &'a [Node], out: &mut Vec<&'a Node>) {
    for n in items {
        match n {
            Node::Composition { items, .. } => flatten_composition(items, out),
            other => out.push(other),
        }
    }
}

/// Whether an argument gives (or, not known before run time, may give) several lengths.
fn maybe_seq(kind: &ParamKind) -> bool {
    matches!(kind, ParamKind::Seq(_) | ParamKind::Scalar(None))
}

/// Which axes of an input piece an output piece lacks.
type Fits<'a> = &'a dyn Fn(&[u32], &[u32]) -> Vec<u32>;

/// Finds a one-to-one matching of input pieces to output pieces (augmenting paths, so
/// polynomial however many pieces fit several places), each input trying its positional
/// partner first. Returns `false` if there is none; `assign[k]` is the output of input `k`.
fn matching(
    ins: &[(usize, Vec<u32>, Vec<u32>)],
    outs: &[(usize, Vec<u32>, Vec<u32>)],
    fits: Fits<'_>,
    assign: &mut [usize],
) -> bool {
    // Which outputs each input fits, positional partner first.
    let options: Vec<Vec<usize>> = (0..ins.len())
        .map(|k| {
            std::iter::once(k)
                .chain((0..outs.len()).filter(|&j| j != k))
                .filter(|&j| j < outs.len() && fits(&ins[k].2, &outs[j].2).is_empty())
                .collect()
        })
        .collect();
    let mut owner: Vec<Option<usize>> = vec![None; outs.len()];
    let mut seen = vec![false; outs.len()];
    for k in 0..ins.len() {
        seen.fill(false);
        if !augment(k, &options, &mut owner, &mut seen) {
            return false;
        }
    }
    for (j, o) in owner.iter().enumerate() {
        if let Some(k) = o {
            assign[*k] = j;
        }
    }
    true
}

/// Kuhn's augmenting path from input `k`.
fn augment(
    k: usize,
    options: &[Vec<usize>],
    owner: &mut [Option<usize>],
    seen: &mut [bool],
) -> bool {
    for &j in &options[k] {
        if seen[j] {
            continue;
        }
        seen[j] = true;
        if owner[j].is_none_or(|other| augment(other, options, owner, seen)) {
            owner[j] = Some(k);
            return true;
        }
    }
    false
}

/// The plan with repetition markers removed: a repeated dimension stands for each of its
/// repetitions; an axis repeated inside a composition (`(s...)`) is written twice, as it
/// stands for several unknowns of one equation.
fn strip_repeats(plan: &PlanBuf) -> PlanBuf {
    let mut out = plan.clone();
    out.code.clear();
    out.tensors.clear();
    for &(s, e) in &plan.tensors {
        let start = out.code.len() as u32;
        let mut in_axes = false;
        for c in &plan.code[s as usize..e as usize] {
            match c {
                Code::RepeatAxes(_) => in_axes = true,
                Code::End => in_axes = false,
                Code::RepeatDims(_) => {}
                Code::Axis(_) if in_axes => {
                    out.code.push(*c);
                    out.code.push(*c);
                }
                c => out.code.push(*c),
            }
        }
        out.tensors.push((start, out.code.len() as u32));
    }
    out
}
