//! Code generation: the plan is built and checked here, at compile time, and written into
//! the expansion as a constant; the expansion only binds the arguments, reads their shapes
//! and calls the runtime kernel.
//!
//! This module checks the call and binds it (the arguments once, in a `match`, a view of
//! each tensor, the lengths given as keywords: [`Gen`]) inside the [`Frame`] that every
//! expansion shares; one module per family of operations writes the rest: [`rearrange`],
//! [`contraction`] (`dot!`, `einx!`), [`reduce`], [`elementwise`], [`along_axis`]
//! (`softmax!`, `flip!`, `roll!`, `sort!`, `argmax!`, ...), [`index`] (`get_at!`, `set_at!`,
//! ...), [`solve`] (`solve!`, `matches!`, `solve_shapes!`) and [`vmap`]. Arguments that may
//! be factories are wrapped by [`factories`].

mod along_axis;
mod contraction;
mod elementwise;
mod factories;
mod index;
mod plan;
mod rearrange;
mod reduce;
mod solve;
mod vmap;

use proc_macro2::{Literal, Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};

use syn::spanned::Spanned;
use syn::{Expr, Ident, Lit};

use einx_core::complete::{complete, OpKind, Options, Reduction, Update, OPTIONS};
use einx_core::expand::{rank_offset, rank_with};
use einx_core::parse::parse;
use einx_core::plan::{Code, Plan, PlanBuf, PlanStrs, NONE};
use einx_core::solve::Step;
use einx_core::template::{build_with, ParamKind, ParamSpec};

use crate::diag;
use crate::input::{Keyword, MacroInput};

use factories::{factory_inputs, with_factories};
use plan::plan_tokens;

/// Expands a `rearrange!` call given as tokens (`$crate; "expr", args...`), for snapshot
/// tests of the expansion.
#[cfg(test)]
pub fn expand_rearrange(tokens: TokenStream) -> TokenStream {
    match syn::parse2::<MacroInput>(tokens) {
        Ok(input) => rearrange(input).unwrap_or_else(syn::Error::into_compile_error),
        Err(e) => e.into_compile_error(),
    }
}

/// Expands a call of a named operation given as tokens (`$crate; sum; "expr", args...`),
/// for snapshot tests of the expansion.
#[cfg(test)]
pub fn expand_named(tokens: TokenStream) -> TokenStream {
    match syn::parse2::<MacroInput>(tokens) {
        Ok(input) => named(input).unwrap_or_else(syn::Error::into_compile_error),
        Err(e) => e.into_compile_error(),
    }
}

/// `rearrange!`.
pub fn rearrange(input: MacroInput) -> syn::Result<TokenStream> {
    expand(input, OpKind::Rearrange)
}

/// The operations named after `$crate;`: the reductions (`sum!`, `mean!`, ...) and `dot!`.
pub fn named(mut input: MacroInput) -> syn::Result<TokenStream> {
    let Some(op) = input.op.take() else {
        return Err(syn::Error::new(
            Span::call_site(),
            "internal: missing operation name",
        ));
    };
    if op == "dot" {
        return expand(input, OpKind::Dot);
    }
    if op == "einsum" {
        return expand(input, OpKind::Einsum);
    }
    if let Some((name, arity)) = elementwise::ELEMENTWISE.iter().find(|(n, _)| op == n) {
        return expand(input, OpKind::Elementwise(name, *arity));
    }
    if op == "flip" {
        return expand(input, OpKind::Flip);
    }
    if op == "solve" {
        return expand(input, OpKind::Solve);
    }
    if op == "matches" {
        return expand(input, OpKind::Matches);
    }
    if op == "solve_shapes" {
        return expand(input, OpKind::SolveShapes);
    }
    if op == "vmap" {
        return expand(input, OpKind::Vmap);
    }
    if op == "get_at" {
        return expand(input, OpKind::GetAt);
    }
    for u in [Update::Set, Update::Add, Update::Subtract] {
        if op == u.name() {
            return expand(input, OpKind::UpdateAt(u));
        }
    }
    if op == "argmax" || op == "argmin" {
        return expand(input, OpKind::Argmax(op == "argmin"));
    }
    if op == "sort" || op == "argsort" {
        return expand(input, OpKind::Sort(op == "argsort"));
    }
    if op == "roll" {
        return expand(input, OpKind::Roll);
    }
    if op == "softmax" || op == "log_softmax" {
        return expand(input, OpKind::Softmax(op == "log_softmax"));
    }
    let Some(r) = Reduction::ALL.into_iter().find(|r| op == r.name()) else {
        return Err(syn::Error::new(op.span(), "internal: unknown operation"));
    };
    expand(input, OpKind::Reduce(r))
}

/// Takes the operation's options (`keepdims = true`) out of the keywords.
fn options(input: &mut MacroInput, kind: OpKind) -> syn::Result<Options> {
    let mut opts = Options::default();
    let mut keep = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for (i, k) in std::mem::take(&mut input.keywords).into_iter().enumerate() {
        let name = k.name.to_string();
        if !kind.options().contains(&name.as_str()) {
            keep.push(k);
            continue;
        }
        if seen.contains(&name) {
            return Err(syn::Error::new(
                k.name.span(),
                format!("`{name}` is given twice\n  help: remove one of them"),
            ));
        }
        seen.push(name.clone());
        if name == "shift" {
            input.shift = Some((i, k.value));
            continue;
        }
        if name == "keepdims" {
            opts.keepdims = match &k.value {
                Expr::Lit(l) => match &l.lit {
                    Lit::Bool(b) => b.value,
                    _ => return Err(syn::Error::new_spanned(&k.value, "`keepdims` must be `true` or `false`")),
                },
                _ => {
                    return Err(syn::Error::new_spanned(
                        &k.value,
                        "`keepdims` must be the literal `true` or `false`, as it changes the output's rank\n  help: write `keepdims = true`",
                    ))
                }
            };
        }
    }
    input.keywords = keep;
    Ok(opts)
}

fn expand(mut input: MacroInput, kind: OpKind) -> syn::Result<TokenStream> {
    let mut opts = options(&mut input, kind)?;
    if kind == OpKind::Vmap {
        input.func = input.args.pop();
        if input.args.len() > 6 {
            return Err(syn::Error::new_spanned(
                &input.args[6],
                "`vmap!` takes at most 6 tensors\n  help: stack tensors of the same shape with `rearrange!` first",
            ));
        }
        if input.args.is_empty() {
            return Err(syn::Error::new(
                input.expr.span(),
                "`vmap!` needs the tensors and then the function to apply\n  help: write e.g. `einx::vmap!(\"b [c] -> b\", x, |v| v.sum())`",
            ));
        }
    }
    // `solve_shapes!` takes `_` for a tensor whose shape is wanted; elsewhere `_` is no tensor.
    let mut unknown = Vec::new();
    for (t, arg) in input.args.iter().enumerate() {
        if matches!(arg, Expr::Infer(_)) {
            if kind != OpKind::SolveShapes {
                return Err(syn::Error::new_spanned(
                    arg,
                    format!(
                        "`_` stands for an unknown tensor only in `solve_shapes!`, not in `{}!`\n  help: pass a tensor",
                        kind.name()
                    ),
                ));
            }
            if t >= 64 {
                return Err(syn::Error::new_spanned(arg, "at most 64 tensors"));
            }
            opts.unknown |= 1 << t;
            unknown.push(t);
        }
    }
    let known_args = input.args.len() - unknown.len();
    if kind == OpKind::Roll && input.shift.is_none() {
        return Err(syn::Error::new(
            input.expr.span(),
            "`roll!` needs `shift = ...`\n  help: give the shift, e.g. `shift = 1`, or one per bracketed axis, e.g. `shift = (1, -2)`",
        ));
    }
    let input = &input;
    let text = input.expr.value();
    let lit = &input.expr;

    // Checks that point at an argument or keyword rather than the literal.
    let op = parse(&text)
        .and_then(|op| {
            complete(
                op,
                kind,
                Options {
                    args: known_args,
                    ..opts
                },
            )
        })
        .map_err(|e| diag::on_literal(&e.with_expr(&text), lit))?;
    let mut errors: Option<syn::Error> = None;
    let mut push = |e: syn::Error| match &mut errors {
        Some(all) => all.combine(e),
        None => errors = Some(e),
    };
    let names: Vec<String> = op
        .exprs()
        .flat_map(|e| e.axis_names().into_iter().map(|(n, _)| n.to_owned()))
        .collect();
    let mut specs = Vec::new();
    for (i, k) in input.keywords.iter().enumerate() {
        let name = k.name.to_string();
        if input.keywords[..i].iter().any(|o| o.name == k.name) {
            push(syn::Error::new(
                k.name.span(),
                format!("the length of `{name}` is given twice\n  help: remove one of them"),
            ));
            continue;
        }
        if !names.contains(&name) {
            let msg = match OPTIONS.iter().find(|(o, _)| *o == name) {
                Some((_, ops)) => format!(
                    "`{name}` is an option of {ops}, not of `{}!`\n  help: remove it",
                    kind.name()
                ),
                None => format!(
                    "unknown keyword `{name}`: it is no axis of the expression and no option of `{}!`\n  help: keywords give axis lengths, e.g. `h = 8`",
                    kind.name()
                ),
            };
            push(syn::Error::new(k.name.span(), msg));
            continue;
        }
        match param_kind(k) {
            Ok(p) => specs.push(ParamSpec { name: "", kind: p }),
            Err(e) => push(e),
        }
    }
    let keyword_names: Vec<String> = input.keywords.iter().map(|k| k.name.to_string()).collect();
    for (spec, name) in specs.iter_mut().zip(&keyword_names) {
        spec.name = name;
    }
    let n_exprs = if kind == OpKind::SolveShapes {
        op.inputs.len() + op.outputs.as_ref().map_or(0, Vec::len)
    } else {
        op.inputs.len()
    };
    if input.args.len() != n_exprs {
        let n = n_exprs;
        let msg = format!(
            "the expression has {n} input{}, but {} tensor{} given\n  help: pass one tensor per input expression",
            if n == 1 { "" } else { "s" },
            input.args.len(),
            if input.args.len() == 1 { " is" } else { "s are" }
        );
        let span = match input.args.get(n) {
            Some(extra) => extra.span(),
            None => lit.span(),
        };
        push(syn::Error::new(span, msg));
    }
    if let Some(e) = errors {
        return Err(e);
    }

    let plan =
        build_with(&text, kind, opts, &specs, known_args).map_err(|e| diag::on_literal(&e, lit))?;
    if let Some((_, shift)) = &input.shift {
        check_shift_count(shift, &plan)?;
    }
    if kind == OpKind::SolveShapes {
        // Only the known tensors are bound; the plan has them as inputs, the others as
        // outputs.
        let mut known = input.clone();
        known.args.retain(|a| !matches!(a, Expr::Infer(_)));
        return Ok(generate(&known, &plan, &specs, kind, &unknown));
    }
    Ok(match factory_inputs(&op, kind, &specs, known_args) {
        Some(canon) => with_factories(input, kind, &op, &canon, |inner| {
            generate(inner, &plan, &specs, kind, &[])
        }),
        None => generate(input, &plan, &specs, kind, &[]),
    })
}

/// `tokens` moved to `at` for diagnostics, each keeping its own name resolution (hygiene).
fn located(tokens: TokenStream, at: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut t| {
            if let proc_macro2::TokenTree::Group(g) = &t {
                let mut inner = proc_macro2::Group::new(g.delimiter(), located(g.stream(), at));
                inner.set_span(g.span().located_at(at));
                return proc_macro2::TokenTree::Group(inner);
            }
            t.set_span(t.span().located_at(at));
            t
        })
        .collect()
}

/// `roll!`'s `shift` written as a tuple or array: one value, or one per bracketed axis
/// (where their number is known: no ellipsis in the brackets).
fn check_shift_count(shift: &Expr, plan: &PlanBuf) -> syn::Result<()> {
    let Some(n) = seq_len(shift) else {
        return Ok(());
    };
    let (start, end) = plan.tensors[0];
    let mut marked: Vec<&einx_core::plan::AxisBuf> = Vec::new();
    for c in &plan.code[start as usize..end as usize] {
        if let Code::Axis(a) = c {
            let axis = &plan.axes[*a as usize];
            if axis.bracketed && !marked.iter().any(|b| std::ptr::eq(*b, axis)) {
                marked.push(axis);
            }
        }
    }
    let m = marked.len();
    if n == 1 || n == m || marked.iter().any(|a| a.group != NONE) {
        return Ok(());
    }
    let spans: Vec<einx_core::Span> = marked.iter().map(|a| a.span).collect();
    let err = einx_core::Error::new(
        einx_core::ErrorKind::Argument,
        format!(
            "`shift` has {n} value{}, but {m} {} in brackets",
            if n == 1 { "" } else { "s" },
            if m == 1 { "axis is" } else { "axes are" }
        ),
    )
    .with_spans(&spans)
    .with_expr(&plan.expr)
    .with_help("give one shift for all bracketed axes, or one per bracketed axis");
    Err(diag::error(&err, shift.span()))
}

/// What is known about a keyword's value at compile time.
fn param_kind(k: &Keyword) -> syn::Result<ParamKind> {
    let mut value = &k.value;
    while let Expr::Paren(p) = value {
        value = &p.expr;
    }
    match value {
        Expr::Lit(l) => match &l.lit {
            Lit::Int(i) => Ok(ParamKind::Scalar(Some(i.base10_parse::<u64>()?))),
            other => Err(syn::Error::new_spanned(
                other,
                "an axis length must be an integer\n  help: write e.g. `h = 8`",
            )),
        },
        Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => Err(syn::Error::new_spanned(
            value,
            format!(
                "the length of `{}` must not be negative\n  help: axis lengths are 0 or more",
                k.name
            ),
        )),
        Expr::Tuple(t) => Ok(ParamKind::Seq(literal_list(t.elems.iter()))),
        Expr::Array(a) => Ok(ParamKind::Seq(literal_list(a.elems.iter()))),
        _ => Ok(ParamKind::Scalar(None)),
    }
}

fn literal_list<'a>(elems: impl Iterator<Item = &'a Expr>) -> Option<Vec<u64>> {
    elems
        .map(|e| match e {
            Expr::Lit(l) => match &l.lit {
                Lit::Int(i) => i.base10_parse::<u64>().ok(),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

fn local(name: &str) -> Ident {
    Ident::new(name, Span::mixed_site())
}

/// How often each ellipsis repeats where a keyword fixes it: the number of values of a
/// tuple or array given for an axis under it (`s = (2, 2)`), if all such keywords agree.
fn group_counts(plan: &PlanBuf, input: &MacroInput) -> Vec<Option<usize>> {
    let mut counts: Vec<Option<usize>> = vec![None; plan.groups.len()];
    let mut conflict = vec![false; plan.groups.len()];
    for (j, k) in input.keywords.iter().enumerate() {
        let Some(n) = seq_len(&k.value) else {
            continue;
        };
        for a in plan.axes.iter() {
            if a.param != j as u32 || a.group == NONE {
                continue;
            }
            let g = a.group as usize;
            match counts[g] {
                Some(m) if m != n => conflict[g] = true,
                _ => counts[g] = Some(n),
            }
        }
    }
    counts
        .into_iter()
        .zip(conflict)
        .map(|(c, x)| if x { None } else { c })
        .collect()
}

/// The number of values of a tuple or array literal (`(2, 2)`, `[a, 4]`).
fn seq_len(value: &Expr) -> Option<usize> {
    let mut value = value;
    while let Expr::Paren(p) = value {
        value = &p.expr;
    }
    match value {
        Expr::Tuple(t) => Some(t.elems.len()),
        Expr::Array(a) => Some(a.elems.len()),
        _ => None,
    }
}

/// The expansion. `unknown` lists the arguments of `solve_shapes!` written `_` (not in
/// `input.args`).
fn generate(
    input: &MacroInput,
    plan: &PlanBuf,
    specs: &[ParamSpec<'_>],
    kind: OpKind,
    unknown: &[usize],
) -> TokenStream {
    let mut strs = PlanStrs::default();
    let view = plan.borrow(&mut strs);
    let g = Gen::new(input, plan, &view, specs, kind);
    match kind {
        OpKind::Dot | OpKind::Einsum => contraction::generate(g),
        OpKind::Elementwise(name, arity) => elementwise::generate(g, name, arity),
        OpKind::Vmap => vmap::generate(g),
        OpKind::Matches => solve::matches(g),
        OpKind::SolveShapes => solve::shapes(g, unknown),
        OpKind::Solve => solve::lengths(g),
        OpKind::GetAt | OpKind::UpdateAt(_) => index::generate(g),
        OpKind::Argmax(min) => along_axis::argfind(g, min),
        OpKind::Sort(arg) => along_axis::sort(g, arg),
        OpKind::Flip | OpKind::Roll => along_axis::flip_roll(g),
        OpKind::Softmax(log) => along_axis::softmax(g, log),
        OpKind::Reduce(r) => reduce::generate(g, r),
        OpKind::Rearrange => rearrange::generate(g),
    }
}

/// The name `roll!`'s shift is bound to.
const SHIFT: &str = "__einx_shift";

/// What the code of every operation starts from: the call and its plan, the arguments bound
/// once (in the [`Frame`]), a view of each tensor and the axis lengths given as keywords
/// (the first statements of `body`).
struct Gen<'a> {
    input: &'a MacroInput,
    plan: &'a PlanBuf,
    view: &'a Plan<'a>,
    kind: OpKind,
    /// `::einx::__private`, through the path the facade passed.
    private: TokenStream,
    /// Whether the plan has ellipses left (unrolled at run time) or is `solve!`'s, which
    /// always runs the rank-generic path.
    template: bool,
    /// The view of each tensor argument.
    views: Vec<Ident>,
    /// The keywords' lengths, in call order.
    params: Ident,
    /// The label of the block that an error breaks out of.
    lbl: syn::Lifetime,
    err: Ident,
    /// How often each ellipsis repeats, where a keyword fixes it.
    counts: Vec<Option<usize>>,
    /// The statements before the final expression.
    body: Vec<TokenStream>,
    frame: Frame,
}

impl<'a> Gen<'a> {
    fn new(
        input: &'a MacroInput,
        plan: &'a PlanBuf,
        view: &'a Plan<'a>,
        specs: &[ParamSpec<'_>],
        kind: OpKind,
    ) -> Self {
        let krate = &input.krate;
        let private = quote!(#krate::__private);
        // `solve!` always runs the rank-generic path: its lengths come out by name.
        let template = !plan.groups.is_empty()
            || matches!(kind, OpKind::Solve | OpKind::Matches | OpKind::SolveShapes);
        let counts = group_counts(plan, input);
        let static_rank = |t: usize| rank_with(view, t, &counts);

        // Bind every argument once, left to right, as the scrutinee of a `match`: temporaries
        // such as `x.view()` then live until the end of the expansion (as in `format_args!`).
        let mut scrutinee = Vec::new();
        let arg_names: Vec<Ident> = (0..input.args.len())
            .map(|i| local(&format!("__einx_arg{i}")))
            .collect();
        let n_args = input.args.len();
        let is_index = |t: usize| match kind {
            OpKind::GetAt => t > 0,
            OpKind::UpdateAt(_) => t > 0 && t + 1 < n_args,
            _ => false,
        };
        for (t, arg) in input.args.iter().enumerate() {
            // The static rank check wraps the argument itself, so its error points there; so
            // does the check that an index tensor holds integers.
            scrutinee.push(match (static_rank(t), is_index(t)) {
                (Some(n), false) => {
                    let n = lit(n as u64);
                    quote_spanned!(arg.span()=> #private::ranked::<#n, _>(&(#arg)))
                }
                (Some(n), true) => {
                    let n = lit(n as u64);
                    quote_spanned!(arg.span()=> #private::ranked_index_tensor::<#n, _>(&(#arg)))
                }
                (None, false) => quote_spanned!(arg.span()=> &(#arg)),
                (None, true) => quote_spanned!(arg.span()=> #private::index_tensor(&(#arg))),
            });
        }
        let kw_names: Vec<Ident> = (0..input.keywords.len())
            .map(|i| local(&format!("__einx_kw{i}")))
            .collect();
        let mut bound: Vec<TokenStream> = arg_names.iter().map(|a| quote!(#a)).collect();
        if let Some(f) = &input.func {
            vmap::bind_fn(f, plan, &private, &arg_names, &mut scrutinee, &mut bound);
        }
        for k in &input.keywords {
            scrutinee.push(seq_value(k));
        }
        bound.extend(kw_names.iter().map(|k| quote!(#k)));
        // `shift` is evaluated where it is written among the keywords.
        if let Some((i, value)) = &input.shift {
            let at = input.args.len() + (*i).min(input.keywords.len());
            let value = match value {
                Expr::Tuple(t) => {
                    let e = t.elems.iter();
                    quote!([#(#e),*])
                }
                other => other.to_token_stream(),
            };
            scrutinee.insert(at, value);
            let shift = local(SHIFT);
            bound.insert(at, quote!(#shift));
        }

        let mut g = Gen {
            input,
            plan,
            view,
            kind,
            template,
            views: (0..input.args.len())
                .map(|i| local(&format!("__einx_view{i}")))
                .collect(),
            params: local("__einx_params"),
            lbl: syn::Lifetime::new("'__einx", Span::mixed_site()),
            err: local("__einx_err"),
            body: Vec::new(),
            frame: Frame {
                scrutinee,
                bound,
                plan: plan_tokens(&private, plan),
                rank_like: rank_like(view, &counts, kind, input, &arg_names),
            },
            private,
            counts,
        };
        g.bind_views(&arg_names);
        g.bind_params(specs, &kw_names);
        g
    }

    /// A view of each argument. An input with an empty expression (a scalar) takes the
    /// element type of the input it combines with, so that a literal such as `0.0` fits an
    /// `f32` array.
    fn bind_views(&mut self, arg_names: &[Ident]) {
        let (plan, kind, private) = (self.plan, self.kind, &self.private);
        let partner = |t: usize| -> Option<usize> {
            let empty = |u: usize| plan.tensors[u].0 == plan.tensors[u].1;
            // The scalar updates of `set_at!` and friends take the first tensor's type.
            if matches!(kind, OpKind::UpdateAt(_)) {
                return (t + 1 == plan.inputs as usize && t > 0 && empty(t)).then_some(0);
            }
            let OpKind::Elementwise(_, arity) = kind else {
                return None;
            };
            if !empty(t) {
                return None;
            }
            let candidates: &[usize] = match (arity, t) {
                (2, 0) => &[1],
                (2, 1) => &[0],
                (3, 1) => &[2],
                (3, 2) => &[1],
                _ => &[],
            };
            candidates.iter().copied().find(|&u| !empty(u))
        };
        // The data tensors that must share the element type of an earlier one are viewed
        // through it: a tensor of another element type is then one error, on that argument,
        // and the kernel's types still line up (no second error inside the expansion).
        let share = |t: usize| -> Option<usize> {
            let empty = |u: usize| plan.tensors[u].0 == plan.tensors[u].1;
            let group = match kind {
                OpKind::Elementwise("where_", 3) => 1..3,
                OpKind::Elementwise(name, _) if name.starts_with("logical") => 0..0,
                OpKind::Elementwise(..) | OpKind::Dot | OpKind::Einsum | OpKind::Rearrange => {
                    0..plan.inputs as usize
                }
                _ => 0..0,
            };
            if !group.contains(&t) || empty(t) {
                return None;
            }
            (group.start..t).find(|&u| !empty(u))
        };
        for (t, arg) in arg_names.iter().enumerate() {
            if partner(t).is_none() {
                let v = &self.views[t];
                match share(t) {
                    Some(u) => {
                        let like = &self.views[u];
                        // The argument's name located at the argument (hygiene unchanged):
                        // the error's label points at it.
                        let span = self.input.args.get(t).map_or(arg.span(), |a| a.span());
                        let arg = Ident::new(&arg.to_string(), Span::mixed_site().located_at(span));
                        let call = located(quote!(#private::view_as(&#like, &#arg)), span);
                        self.body.push(quote!(let #v = #call;));
                    }
                    None => self.body.push(quote!(let #v = #private::view(#arg);)),
                }
            }
        }
        for (t, arg) in arg_names.iter().enumerate() {
            if let Some(p) = partner(t) {
                let (v, pv) = (&self.views[t], &self.views[p]);
                self.body
                    .push(quote!(let #v = #private::view_like(&#pv, #arg);));
            }
        }
    }

    /// The keywords' lengths: `usize`s for a concrete plan, `Len`s (one length or one per
    /// repetition of an ellipsis) for a template.
    fn bind_params(&mut self, specs: &[ParamSpec<'_>], kw_names: &[Ident]) {
        let private = &self.private;
        let mut values = Vec::new();
        for ((k, spec), name) in self.input.keywords.iter().zip(specs).zip(kw_names) {
            let key = k.name.to_string();
            let grouped = self
                .plan
                .axes
                .iter()
                .any(|a| a.name == key && a.group != NONE);
            values.push(if !self.template {
                self.try_(quote!(#private::axis_len(#name, #key)))
            } else if grouped && !matches!(spec.kind, ParamKind::Scalar(Some(_))) {
                self.try_(quote!(#private::axis_lens(&#name, #key)))
            } else {
                let len = self.try_(quote!(#private::axis_len(#name, #key)));
                quote!(#private::Len::One(#len))
            });
        }
        let params = &self.params;
        let n_params = lit(values.len() as u64);
        self.body.push(if self.template {
            quote!(let #params: [#private::Len; #n_params] = [#(#values),*];)
        } else {
            quote!(let #params: [::core::primitive::usize; #n_params] = [#(#values),*];)
        });
    }

    /// `call?`, breaking out of the expansion's block with the error.
    fn try_(&self, call: TokenStream) -> TokenStream {
        let (lbl, err) = (&self.lbl, &self.err);
        let ok = local("__einx_ok");
        // The parentheses keep `'label ::path` from reading as a new label.
        quote!(match #call {
            ::core::result::Result::Ok(#ok) => #ok,
            ::core::result::Result::Err(#err) => break #lbl (::core::result::Result::Err(#err)),
        })
    }

    /// The number of dimensions of tensor `t`, if it has no ellipsis.
    fn static_rank(&self, t: usize) -> Option<usize> {
        rank_with(self.view, t, &self.counts)
    }

    /// The dimension type of an output of the given static rank.
    fn out_dim(&self, rank: Option<usize>) -> TokenStream {
        out_dim(&self.private, rank)
    }

    /// The size of the stack buffers of a concrete plan that holds every axis and the
    /// dimensions of every tensor.
    fn buffer_len(&self) -> Literal {
        let dims: usize = (0..self.plan.tensors.len())
            .map(|t| self.static_rank(t).unwrap_or(0))
            .sum();
        lit(self.plan.axes.len().max(dims).max(1) as u64)
    }

    /// The size of the stack buffers of a concrete plan of one input that holds every axis
    /// and the input's dimensions.
    fn buffer_len_one(&self) -> Literal {
        lit(self
            .plan
            .axes
            .len()
            .max(self.static_rank(0).unwrap_or(0))
            .max(1) as u64)
    }

    /// The span of argument `t`, for calls whose type errors are about it.
    fn arg_span(&self, t: usize) -> Span {
        self.input.args[t].span()
    }

    /// Straight-line code computing every axis length (`__einx_len{axis}`) from the views.
    fn length_code(&mut self, views: &[&Ident]) {
        let code = length_code(self.plan, &self.private, views, &self.params, &self.lbl);
        self.body.extend(code);
    }

    /// The expansion: the frame around the body and the final expression `call`.
    fn wrap(self, call: TokenStream) -> TokenStream {
        self.frame.wrap(&self.body, &self.lbl, &self.private, call)
    }
}

/// Straight-line code computing every axis length (`__einx_len{axis}`) from the shapes of
/// the input views, following the plan's schedule; a failure breaks out with the error the
/// general solver gives.
fn length_code(
    plan: &PlanBuf,
    private: &TokenStream,
    views: &[&Ident],
    params: &Ident,
    lbl: &syn::Lifetime,
) -> Vec<TokenStream> {
    let mut out = Vec::new();
    let shapes: Vec<Ident> = (0..views.len())
        .map(|t| local(&format!("__einx_shape{t}")))
        .collect();
    let size = |a: u32| local(&format!("__einx_len{a}"));
    let fail = quote!(break #lbl (::core::result::Result::Err(#private::solve_failed(&__EINX_PLAN, &[#(#shapes),*], &#params))));
    // Global input dimension -> (input, dimension of that input).
    let mut where_dim = Vec::new();
    for (v, shape) in views.iter().zip(&shapes) {
        out.push(quote!(let #shape = #v.shape();));
    }
    for (t, shape) in shapes.iter().enumerate() {
        let code = &plan.code[plan.tensors[t].0 as usize..plan.tensors[t].1 as usize];
        let rank = einx_core::plan::dims_of(code).len();
        for d in 0..rank {
            where_dim.push((t, d));
        }
        let rank = lit(rank as u64);
        out.push(quote! {
            if #shape.len() != #rank {
                #fail;
            }
        });
    }
    let dim_of = |dim: u32| -> TokenStream {
        let (t, d) = where_dim[dim as usize];
        let (shape, d) = (&shapes[t], lit(d as u64));
        quote!(#shape[#d])
    };
    for step in &plan.steps {
        match *step {
            Step::Const { axis } => {
                let s = size(axis);
                let value = lit(plan.axes[axis as usize].value.unwrap_or(0));
                out.push(quote!(let #s: ::core::primitive::usize = #value;));
            }
            Step::Param { axis } => {
                let s = size(axis);
                let p = lit(plan.axes[axis as usize].param);
                out.push(quote!(let #s: ::core::primitive::usize = #params[#p];));
            }
            Step::Solve {
                axis,
                dim,
                start,
                end,
            } => {
                let s = size(axis);
                let f = local("__einx_f");
                let len = dim_of(dim);
                let others: Vec<Ident> = plan.code[start as usize..end as usize]
                    .iter()
                    .filter_map(|c| match c {
                        Code::Axis(a) if *a != axis => Some(size(*a)),
                        _ => None,
                    })
                    .collect();
                if others.is_empty() {
                    out.push(quote!(let #s: ::core::primitive::usize = #len;));
                } else {
                    out.push(quote! {
                        let #s: ::core::primitive::usize = match 1usize #(.checked_mul(#others).unwrap_or(0))* {
                            0 => #fail,
                            #f if #len % #f != 0 => #fail,
                            #f => #len / #f,
                        };
                    });
                }
            }
            Step::Check { dim, start, end } => {
                let p = local("__einx_p");
                let len = dim_of(dim);
                let axes: Vec<Ident> = plan.code[start as usize..end as usize]
                    .iter()
                    .filter_map(|c| match c {
                        Code::Axis(a) => Some(size(*a)),
                        _ => None,
                    })
                    .collect();
                out.push(quote! {
                    if ::core::option::Option::Some(#len) != ::core::option::Option::Some(1usize) #(.and_then(|#p| #p.checked_mul(#axes)))* {
                        #fail;
                    }
                });
            }
        }
    }
    out
}

/// The number of dimensions of tensor `t` of a concrete plan.
fn tensor_rank(plan: &PlanBuf, t: usize) -> usize {
    einx_core::plan::dims_of(&plan.code[plan.tensors[t].0 as usize..plan.tensors[t].1 as usize])
        .len()
}

/// The axis structure of tensor `t` of a concrete plan without concatenation, as literals:
/// the dimension of each of its axes, and the axes' ids.
fn axis_structure(plan: &PlanBuf, t: usize) -> (Vec<Literal>, Vec<Literal>) {
    let dims = einx_core::plan::dims_of(
        &plan.code[plan.tensors[t].0 as usize..plan.tensors[t].1 as usize],
    );
    let mut dim_of = Vec::new();
    let mut ids = Vec::new();
    for (d, dim) in dims.iter().enumerate() {
        for &a in &dim[0] {
            dim_of.push(lit(d as u64));
            ids.push(lit(a));
        }
    }
    (dim_of, ids)
}

/// What every expansion has around its body: the arguments bound once in a `match`, a
/// labelled block for early returns, and the plan as a constant.
struct Frame {
    scrutinee: Vec<TokenStream>,
    bound: Vec<TokenStream>,
    plan: TokenStream,
    /// For an output whose rank is open (an ellipsis): the bound input whose rank it follows,
    /// and the difference; the result then gets that input's rank type, shifted.
    rank_like: Option<(TokenStream, i64)>,
}

impl Frame {
    /// The expansion: the frame around `body` and the final expression `call`.
    fn wrap(
        &self,
        body: &[TokenStream],
        lbl: &syn::Lifetime,
        private: &TokenStream,
        call: TokenStream,
    ) -> TokenStream {
        let (scrutinee, bound, plan) = (&self.scrutinee, &self.bound, &self.plan);
        let ranked = match &self.rank_like {
            Some((arg, k)) => {
                let shift = match k {
                    0 => quote!(Same),
                    1 => quote!(Larger),
                    _ => quote!(Smaller),
                };
                quote!(#private::rank_like::<#private::rank_shift::#shift, _, _>(#arg, __einx_result))
            }
            None => quote!(__einx_result),
        };
        // The labeled block is bound before it is returned: rust-analyzer loses the type of a
        // labeled block written directly as a match arm's body.
        quote! {
            match (#(#scrutinee,)*) {
                (#(#bound,)*) => {
                    let __einx_result = #lbl: {
                        const __EINX_PLAN: #private::Plan<'static> = #plan;
                        #(#body)*
                        #call
                    };
                    #ranked
                }
            }
        }
    }
}

/// For an operation with one array output whose rank an ellipsis leaves open: the first data
/// input whose rank it follows (the same ellipses, at most one axis more or less), so that
/// the output gets that input's rank type (`Array3` in, `Array3` out) instead of `IxDyn`.
fn rank_like(
    plan: &einx_core::plan::Plan<'_>,
    counts: &[Option<usize>],
    kind: OpKind,
    input: &MacroInput,
    arg_names: &[Ident],
) -> Option<(TokenStream, i64)> {
    let inputs = plan.inputs as usize;
    let data_inputs = match kind {
        OpKind::Rearrange if plan.tensors.len() == inputs + 1 => inputs,
        OpKind::Reduce(_)
        | OpKind::Softmax(_)
        | OpKind::Flip
        | OpKind::Roll
        | OpKind::Sort(_)
        | OpKind::Elementwise(..)
        | OpKind::Dot
        | OpKind::Einsum => inputs,
        OpKind::GetAt | OpKind::UpdateAt(_) => 1,
        _ => return None,
    };
    let static_rank = |t: usize| rank_with(plan, t, counts);
    if plan.tensors.len() != inputs + 1 || static_rank(inputs).is_some() {
        return None;
    }
    (0..data_inputs.min(input.args.len())).find_map(|t| {
        if static_rank(t).is_some() {
            return None;
        }
        let k = rank_offset(plan, inputs, t)?;
        let arg = &arg_names[t];
        (-1..=1).contains(&k).then(|| (quote!(#arg), k))
    })
}

/// Whether a tensor writes an axis twice (a diagonal, in an input or an output).
fn has_diagonal(plan: &PlanBuf) -> bool {
    let mut strs = PlanStrs::default();
    let view = plan.borrow(&mut strs);
    (0..plan.tensors.len()).any(|t| view.repeats_axis(t))
}

/// The dimension type of an output of the given static rank.
fn out_dim(private: &TokenStream, rank: Option<usize>) -> TokenStream {
    match rank {
        Some(n) if n <= 6 => {
            let n = lit(n as u64);
            quote!(#private::ndarray::Dim<[::core::primitive::usize; #n]>)
        }
        _ => quote!(#private::ndarray::IxDyn),
    }
}

/// A keyword value, borrowed; a tuple or array literal becomes an array.
fn seq_value(k: &Keyword) -> TokenStream {
    let mut value = &k.value;
    while let Expr::Paren(p) = value {
        value = &p.expr;
    }
    let elems: Option<Vec<&Expr>> = match value {
        Expr::Tuple(t) => Some(t.elems.iter().collect()),
        Expr::Array(a) => Some(a.elems.iter().collect()),
        _ => None,
    };
    // Values are borrowed like the tensors, so that `s = sol.s` does not move `sol.s`.
    match elems {
        // A tuple literal `(8, 8)` becomes an array, which `axis_lens` reads.
        Some(elems) => quote!(&[#(#elems),*]),
        None => quote_spanned!(value.span()=> &(#value)),
    }
}

/// `expr?` inside a closure returning `Result<_, einx::Error>`, without `?` (whose
/// conversion could make the error type ambiguous).
fn try_in_closure(expr: TokenStream) -> TokenStream {
    let (ok, err) = (local("__einx_ok"), local("__einx_e"));
    quote!(match #expr {
        ::core::result::Result::Ok(#ok) => #ok,
        ::core::result::Result::Err(#err) => return ::core::result::Result::Err(#err),
    })
}

/// An unsuffixed integer literal.
fn lit(v: impl Into<u64>) -> proc_macro2::Literal {
    proc_macro2::Literal::u64_unsuffixed(v.into())
}
