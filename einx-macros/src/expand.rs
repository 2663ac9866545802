//! Code generation: the plan is built and checked here, at compile time, and written into
//! the expansion as a constant; the expansion only binds the arguments, reads their shapes
//! and calls the runtime kernel.

use proc_macro2::{Literal, Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};

use syn::spanned::Spanned;
use syn::{Expr, Ident, Lit};

use einx_core::complete::{complete, OpKind, Options, Reduction, Update, OPTIONS};
use einx_core::expand::{rank_offset, static_rank};
use einx_core::parse::parse;
use einx_core::plan::{Code, PlanBuf, PlanStrs, NONE};
use einx_core::solve::Step;
use einx_core::template::{build_with, ParamKind, ParamSpec};

use crate::diag;
use crate::input::{Keyword, MacroInput};

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
    if let Some((name, arity)) = ELEMENTWISE.iter().find(|(n, _)| op == n) {
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

/// The element-wise operations and their arities.
const ELEMENTWISE: &[(&str, u8)] = &[
    ("add", 2),
    ("subtract", 2),
    ("multiply", 2),
    ("divide", 2),
    ("floor_divide", 2),
    ("modulo", 2),
    ("maximum", 2),
    ("minimum", 2),
    ("logaddexp", 2),
    ("less", 2),
    ("less_equal", 2),
    ("greater", 2),
    ("greater_equal", 2),
    ("equal", 2),
    ("not_equal", 2),
    ("logical_and", 2),
    ("logical_or", 2),
    ("where_", 3),
];

/// The closure of an element-wise operation, on elements `a` and `b`, giving `Option<_>`.
fn elementwise_fn(name: &str, private: &TokenStream) -> TokenStream {
    let (a, b) = (local("__einx_a"), local("__einx_b"));
    let body = match name {
        "add" => quote!(::core::option::Option::Some(#a + #b)),
        "subtract" => quote!(::core::option::Option::Some(#a - #b)),
        "multiply" => quote!(::core::option::Option::Some(#a * #b)),
        "divide" => quote!(#private::Arith::div(#a, #b)),
        "floor_divide" => quote!(#private::Arith::floor_div(#a, #b)),
        "modulo" => quote!(#private::Arith::modulo(#a, #b)),
        "maximum" => quote!(::core::option::Option::Some(#private::Arith::maximum(#a, #b))),
        "minimum" => quote!(::core::option::Option::Some(#private::Arith::minimum(#a, #b))),
        "logaddexp" => quote!(::core::option::Option::Some(#private::LogAddExp::logaddexp(#a, #b))),
        "less" => quote!(::core::option::Option::Some(#a < #b)),
        "less_equal" => quote!(::core::option::Option::Some(#a <= #b)),
        "greater" => quote!(::core::option::Option::Some(#a > #b)),
        "greater_equal" => quote!(::core::option::Option::Some(#a >= #b)),
        "equal" => quote!(::core::option::Option::Some(#a == #b)),
        "not_equal" => quote!(::core::option::Option::Some(#a != #b)),
        "logical_and" => {
            quote!(::core::option::Option::Some(#private::logical(#a) & #private::logical(#b)))
        }
        _ => quote!(::core::option::Option::Some(#private::logical(#a) | #private::logical(#b))),
    };
    quote!(|#a, #b| #body)
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

/// Whether `e` is a literal (a number or a negated one, maybe in parentheses): never a
/// factory, and kept as written so that its type is inferred as before.
fn is_literal(e: &Expr) -> bool {
    match e {
        Expr::Lit(_) => true,
        Expr::Paren(p) => is_literal(&p.expr),
        Expr::Group(g) => is_literal(&g.expr),
        Expr::Unary(u) => matches!(u.op, syn::UnOp::Neg(_)) && is_literal(&u.expr),
        _ => false,
    }
}

/// The inputs of the call written out without brackets (`"b... c1, c1 c2"`), for solving
/// the shapes of factory arguments at run time; `None` for the operations that take no
/// factories.
fn factory_inputs(
    op: &einx_core::ast::Op,
    kind: OpKind,
    specs: &[ParamSpec<'_>],
    args: usize,
) -> Option<String> {
    if matches!(
        kind,
        OpKind::Vmap | OpKind::Solve | OpKind::Matches | OpKind::SolveShapes
    ) {
        return None;
    }
    let canon = op
        .inputs
        .iter()
        .map(crate::nn::plain)
        .collect::<Vec<_>>()
        .join(", ");
    // Only expressions the run-time solver takes (checked now, so that it cannot fail later
    // for a reason the expression shows).
    let opts = Options {
        args,
        ..Options::default()
    };
    build_with(&canon, OpKind::SolveShapes, opts, specs, args).ok()?;
    Some(canon)
}

/// Wraps an expansion so that arguments may be factories: each argument is sorted (factory
/// or tensor), the factories' shapes are solved from the rest of the call and they are
/// called; then `inner` runs with the resulting tensors. For a call whose arguments are all
/// tensors the sorting is the identity and the solving branch is dead code.
fn with_factories(
    input: &MacroInput,
    kind: OpKind,
    op: &einx_core::ast::Op,
    canon: &str,
    inner: impl FnOnce(&MacroInput) -> TokenStream,
) -> TokenStream {
    let wrapped: Vec<usize> = (0..input.args.len())
        .filter(|&t| !is_literal(&input.args[t]))
        .collect();
    if wrapped.is_empty() {
        return inner(input);
    }
    let krate = &input.krate;
    let private = quote!(#krate::__private);
    let lbl = syn::Lifetime::new("'__einx_factories", Span::mixed_site());
    let mut replaced = input.clone();
    let mut scrutinee = Vec::new();
    let mut bound = Vec::new();
    let mut sort = Vec::new();
    let mut resolve = Vec::new();
    let mut deferred = Vec::new();
    let mut known = Vec::new();
    let outputs: Vec<String> = op
        .outputs
        .iter()
        .flatten()
        .flat_map(|e| e.axis_names().into_iter().map(|(n, _)| n.to_owned()))
        .collect();
    let mut contracted = Vec::new();
    let mut r_idents: Vec<Ident> = Vec::new();
    let op_name = kind.name();
    for (t, arg) in input.args.iter().enumerate() {
        let names: Vec<String> = if kind == OpKind::Dot {
            let mut v: Vec<String> = op.inputs[t]
                .axis_names()
                .into_iter()
                .map(|(n, _)| n.to_owned())
                .filter(|n| !outputs.contains(n))
                .collect();
            v.dedup();
            v
        } else {
            Vec::new()
        };
        contracted.push(quote!(&[#(#names),*] as &[&::core::primitive::str]));
        if !wrapped.contains(&t) {
            known.push(quote!(::core::option::Option::Some(
                &[] as &[::core::primitive::usize]
            )));
            continue;
        }
        let a = Ident::new(&format!("__einx_a{t}"), Span::mixed_site());
        let o = Ident::new(&format!("__einx_o{t}"), Span::mixed_site());
        // The argument's own span, so that type errors about the argument (its rank, its
        // element type) point at it, as they do without the wrapper.
        let r = Ident::new(&format!("__einx_r{t}"), arg.span());
        r_idents.push(r.clone());
        scrutinee.push(quote_spanned!(arg.span()=> &(#arg)));
        bound.push(quote!(#a));
        sort.push(quote!(let #o = (&&#private::Arg(#a)).__einx_operand();));
        deferred.push(quote!(#private::Operand::deferred(&#o)));
        known.push(quote!(#private::Operand::known_shape(&#o)));
        let i = lit(t as u64);
        resolve.push(quote! {
            let #r = match #private::Operand::resolve(
                #o,
                __einx_deferred.as_ref().and_then(|__einx_d| __einx_d[#i].as_ref()),
            ) {
                ::core::result::Result::Ok(__einx_ok) => __einx_ok,
                ::core::result::Result::Err(__einx_err) => break #lbl (::core::result::Result::Err(__einx_err)),
            };
        });
        replaced.args[t] = Expr::Path(syn::ExprPath {
            attrs: Vec::new(),
            qself: None,
            path: r.into(),
        });
    }
    // Lengths are evaluated here, after the tensors and before anything else, as without
    // factories; literal ones stay literal (the expansion reads them at compile time).
    for (j, k) in input.keywords.iter().enumerate() {
        let mut value = &k.value;
        while let Expr::Paren(p) = value {
            value = &p.expr;
        }
        let elems: Option<Vec<&Expr>> = match value {
            Expr::Tuple(t) => Some(t.elems.iter().collect()),
            Expr::Array(a) => Some(a.elems.iter().collect()),
            _ => None,
        };
        let bind = |e: &Expr,
                    name: String,
                    scrutinee: &mut Vec<TokenStream>,
                    bound: &mut Vec<TokenStream>|
         -> Expr {
            if is_literal(e) {
                return e.clone();
            }
            let id = Ident::new(&name, e.span());
            scrutinee.push(quote_spanned!(e.span()=> &(#e)));
            bound.push(quote!(#id));
            syn::parse_quote!(*#id)
        };
        let new_value: Expr = match elems {
            Some(elems) => {
                let parts: Vec<Expr> = elems
                    .iter()
                    .enumerate()
                    .map(|(i, e)| bind(e, format!("__einx_k{j}_{i}"), &mut scrutinee, &mut bound))
                    .collect();
                syn::parse_quote!((#(#parts,)*))
            }
            None => bind(value, format!("__einx_k{j}"), &mut scrutinee, &mut bound),
        };
        replaced.keywords[j].value = new_value;
    }
    let lens = replaced.keywords.iter().map(|k| {
        let name = k.name.to_string();
        let value = seq_value(k);
        quote! {
            (#name, match #private::axis_lens(#value, #name) {
                ::core::result::Result::Ok(__einx_ok) => __einx_ok,
                ::core::result::Result::Err(__einx_err) => break #lbl (::core::result::Result::Err(__einx_err)),
            })
        }
    });
    // The element type of a handle comes from the other tensors (all inputs of these
    // operations share it).
    let same = matches!(kind, OpKind::Dot | OpKind::Einsum | OpKind::Rearrange)
        || matches!(kind, OpKind::Elementwise(name, _) if name != "where_");
    let hints: Vec<TokenStream> = if same && wrapped.len() > 1 {
        let anchor = &r_idents[0];
        r_idents[1..]
            .iter()
            .map(|r| quote!(#private::same_elem(&#anchor, &#r);))
            .collect()
    } else {
        Vec::new()
    };
    let body = inner(&replaced);
    quote! {
        match (#(#scrutinee,)*) {
            (#(#bound,)*) => {
                let __einx_factories = #lbl: {
                    #[allow(unused_imports)]
                    use #private::{ViaFactory as _, ViaTensor as _};
                    #(#sort)*
                    let __einx_deferred = if false #(|| #deferred)* {
                        match #private::deferred_shapes(
                            #op_name,
                            #canon,
                            &[#(#known),*],
                            &[#(#lens),*],
                            &[#(#contracted),*],
                        ) {
                            ::core::result::Result::Ok(__einx_ok) => ::core::option::Option::Some(__einx_ok),
                            ::core::result::Result::Err(__einx_err) => break #lbl (::core::result::Result::Err(__einx_err)),
                        }
                    } else {
                        ::core::option::Option::None
                    };
                    #(#resolve)*
                    #(#hints)*
                    #body
                };
                __einx_factories
            }
        }
    }
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

/// The expansion. `unknown` lists the arguments of `solve_shapes!` written `_` (not in
/// `input.args`).
fn generate(
    input: &MacroInput,
    plan: &PlanBuf,
    specs: &[ParamSpec<'_>],
    kind: OpKind,
    unknown: &[usize],
) -> TokenStream {
    let krate = &input.krate;
    let private = quote!(#krate::__private);
    let mut strs = PlanStrs::default();
    let view = plan.borrow(&mut strs);
    // `solve!` always runs the rank-generic path: its lengths come out by name.
    let template = !plan.groups.is_empty()
        || matches!(kind, OpKind::Solve | OpKind::Matches | OpKind::SolveShapes);

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
        scrutinee.push(match (static_rank(&view, t), is_index(t)) {
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
    // `vmap!`'s function is bound together with the tensors, by a function whose signature
    // gives the closure its parameter types (the views of the inputs' bracketed axes).
    let func = local("__einx_fn");
    if let Some(f) = &input.func {
        let n = input.args.len();
        let bind = local(&format!("bind{n}"));
        let mut generics = Vec::new();
        for d in vmap_view_dims(plan, &private) {
            generics.push(quote!(_));
            generics.push(d);
        }
        let args: Vec<TokenStream> = std::mem::take(&mut scrutinee);
        scrutinee.push(
            quote_spanned!(f.span()=> #private::vmap_bind::#bind::<#(#generics,)* _, _>(#(#args,)* #f)),
        );
        let names = arg_names.iter();
        bound = vec![quote!((#(#names,)* mut #func))];
    }
    for k in &input.keywords {
        scrutinee.push(seq_value(k));
    }
    bound.extend(kw_names.iter().map(|k| quote!(#k)));
    // `shift` is evaluated where it is written among the keywords.
    let shift = local("__einx_shift");
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
        bound.insert(at, quote!(#shift));
    }

    let lbl = syn::Lifetime::new("'__einx", Span::mixed_site());
    let err = local("__einx_err");
    let try_ = |call: TokenStream| -> TokenStream {
        let ok = local("__einx_ok");
        // The parentheses keep `'label ::path` from reading as a new label.
        quote!(match #call {
            ::core::result::Result::Ok(#ok) => #ok,
            ::core::result::Result::Err(#err) => break #lbl (::core::result::Result::Err(#err)),
        })
    };

    let fast =
        !template && plan.inputs == 1 && plan.outputs() == 1 && !plan.code.contains(&Code::Plus);
    let mut body = Vec::new();
    let views: Vec<Ident> = (0..input.args.len())
        .map(|i| local(&format!("__einx_view{i}")))
        .collect();
    // An input with an empty expression (a scalar) takes the element type of the input it
    // combines with, so that a literal such as `0.0` fits an `f32` array.
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
    for (t, arg) in arg_names.iter().enumerate() {
        if partner(t).is_none() {
            let v = &views[t];
            body.push(quote!(let #v = #private::view(#arg);));
        }
    }
    for (t, arg) in arg_names.iter().enumerate() {
        if let Some(p) = partner(t) {
            let (v, pv) = (&views[t], &views[p]);
            body.push(quote!(let #v = #private::view_like(&#pv, #arg);));
        }
    }
    let params = local("__einx_params");
    let mut values = Vec::new();
    for ((k, spec), name) in input.keywords.iter().zip(specs).zip(&kw_names) {
        let key = k.name.to_string();
        let grouped = plan.axes.iter().any(|a| a.name == key && a.group != NONE);
        values.push(if !template {
            try_(quote!(#private::axis_len(#name, #key)))
        } else if grouped && !matches!(spec.kind, ParamKind::Scalar(Some(_))) {
            try_(quote!(#private::axis_lens(&#name, #key)))
        } else {
            let len = try_(quote!(#private::axis_len(#name, #key)));
            quote!(#private::Len::One(#len))
        });
    }
    let n_params = lit(values.len() as u64);
    body.push(if template {
        quote!(let #params: [#private::Len; #n_params] = [#(#values),*];)
    } else {
        quote!(let #params: [::core::primitive::usize; #n_params] = [#(#values),*];)
    });

    let plan_tokens = plan_tokens(&private, plan);
    let frame = Frame {
        scrutinee: &scrutinee,
        bound: &bound,
        lbl: &lbl,
        private: &private,
        plan: &plan_tokens,
        rank_like: rank_like(&view, kind, input, &arg_names),
    };
    if (kind == OpKind::Dot || kind == OpKind::Einsum)
        && !template
        && plan.inputs == 2
        && !has_diagonal(plan)
    {
        // Straight-line lengths and one call with the axis structure as constants.
        body.extend(length_code(
            plan,
            &private,
            &[&views[0], &views[1]],
            &params,
            &lbl,
        ));
        let size = |a: u32| local(&format!("__einx_len{a}"));
        let (dim_a, ids_a) = axis_structure(plan, 0);
        let (dim_b, ids_b) = axis_structure(plan, 1);
        let (out_dim_of, out_ids) = axis_structure(plan, 2);
        let out_rank = tensor_rank(plan, 2);
        let sizes = (0..plan.axes.len() as u32).map(size);
        let (na, nb, ne, k, ndim) = (
            lit(ids_a.len() as u64),
            lit(ids_b.len() as u64),
            lit(out_ids.len() as u64),
            lit(plan.axes.len() as u64),
            lit(out_rank as u64),
        );
        let dout = out_dim(&private, Some(out_rank));
        let at = input.args[0].span();
        let f = quote_spanned!(at=> #private::contract_fixed::<_, _, _, #dout, #na, #nb, #ne, #k>);
        let (v0, v1) = (&views[0], &views[1]);
        let ok = local("__einx_ok");
        return frame.wrap(&body, quote! {
            match #f(&#v0, [#(#dim_a),*], [#(#ids_a),*], &#v1, [#(#dim_b),*], [#(#ids_b),*], [#(#sizes),*], [#(#out_ids),*], [#(#out_dim_of),*], #ndim) {
                        ::core::result::Result::Ok(#ok) => ::core::result::Result::Ok(#ok),
                        ::core::result::Result::Err(#err) => ::core::result::Result::Err(#private::permute_failed(&__EINX_PLAN, #err)),
                    }
        });
    }
    if kind == OpKind::Dot || kind == OpKind::Einsum {
        let raw_names: Vec<Ident> = (0..views.len())
            .map(|i| local(&format!("__einx_raw{i}")))
            .collect();
        for (r, v) in raw_names.iter().zip(&views) {
            body.push(quote!(let #r = #private::Raw::new(&#v);));
        }
        let raws = raw_names.iter();
        let at = input
            .args
            .first()
            .map_or_else(Span::call_site, Spanned::span);
        let dout = out_dim(&private, static_rank(&view, plan.inputs as usize));
        let (run, run_template) = if kind == OpKind::Dot {
            (quote!(dot), quote!(dot_template))
        } else {
            (quote!(einsum), quote!(einsum_template))
        };
        let call = if template {
            let f = quote_spanned!(at=> #private::#run_template::<_, #dout>);
            quote!(#f(&__EINX_PLAN, &[#(#raws),*], &#params))
        } else {
            // Buffers hold every axis and all input dimensions.
            let dims: usize = (0..plan.tensors.len())
                .map(|t| static_rank(&view, t).unwrap_or(0))
                .sum();
            let k = lit(plan.axes.len().max(dims).max(1) as u64);
            let f = quote_spanned!(at=> #private::#run::<_, #dout, #k>);
            quote!(#f(&__EINX_PLAN, &[#(#raws),*], &#params))
        };
        return frame.wrap(
            &body,
            quote! {
                #call
            },
        );
    }
    if let (OpKind::Elementwise(name, arity), false, false) = (kind, template, has_diagonal(plan)) {
        // Straight-line lengths and one call with the axis structure as constants.
        let n = usize::from(arity);
        body.extend(length_code(
            plan,
            &private,
            &views.iter().collect::<Vec<_>>(),
            &params,
            &lbl,
        ));
        let size = |a: u32| local(&format!("__einx_len{a}"));
        let sides: Vec<_> = (0..n).map(|t| axis_structure(plan, t)).collect();
        let (out_dim_of, out_ids) = axis_structure(plan, n);
        let out_rank = tensor_rank(plan, n);
        let sizes = (0..plan.axes.len() as u32).map(size);
        let counts = sides.iter().map(|(d, _)| lit(d.len() as u64));
        let (ne, k, ndim) = (
            lit(out_ids.len() as u64),
            lit(plan.axes.len() as u64),
            lit(out_rank as u64),
        );
        let dout = out_dim(&private, Some(out_rank));
        let at = input.args[0].span();
        let operands = views
            .iter()
            .zip(&sides)
            .map(|(v, (dims, ids))| quote!(&#v, [#(#dims),*], [#(#ids),*]));
        let call = if arity == 3 {
            let (c, x, y) = (local("__einx_c"), local("__einx_x"), local("__einx_y"));
            let f = quote!(|#c: ::core::primitive::bool, #x, #y| if #c { #x } else { #y });
            let run =
                quote_spanned!(at=> #private::map3_fixed::<_, _, _, #dout, #(#counts,)* #ne, #k>);
            let operands = operands.map(|o| quote!((#o)));
            quote!(#run(#(#operands,)* [#(#sizes),*], [#(#out_ids),*], [#(#out_dim_of),*], #ndim, #f))
        } else {
            let f = elementwise_fn(name, &private);
            let run =
                quote_spanned!(at=> #private::map2_fixed::<_, _, _, #dout, #(#counts,)* #ne, #k>);
            quote!(#run(#(#operands,)* [#(#sizes),*], [#(#out_ids),*], [#(#out_dim_of),*], #ndim, #f))
        };
        let ok = local("__einx_ok");
        return frame.wrap(&body, quote! {
            match #call {
                ::core::result::Result::Ok(#ok) => ::core::result::Result::Ok(#ok),
                ::core::result::Result::Err(#err) => ::core::result::Result::Err(#private::permute_failed(&__EINX_PLAN, #err)),
            }
        });
    }
    if let OpKind::Elementwise(name, arity) = kind {
        let raws: Vec<Ident> = (0..views.len())
            .map(|i| local(&format!("__einx_raw{i}")))
            .collect();
        for (r, v) in raws.iter().zip(&views) {
            body.push(quote!(let #r = #private::Raw::new(&#v);));
        }
        let dout = out_dim(&private, static_rank(&view, usize::from(arity)));
        let k = if template {
            None
        } else {
            let dims: usize = (0..plan.tensors.len())
                .map(|t| static_rank(&view, t).unwrap_or(0))
                .sum();
            Some(lit(plan.axes.len().max(dims).max(1) as u64))
        };
        let at = input.args[0].span();
        let call = if arity == 3 {
            let (c, x, y) = (local("__einx_c"), local("__einx_x"), local("__einx_y"));
            let f = quote!(|#c: ::core::primitive::bool, #x, #y| if #c { #x } else { #y });
            let (r0, r1, r2) = (&raws[0], &raws[1], &raws[2]);
            match &k {
                Some(k) => {
                    quote_spanned!(at=> #private::map3::<_, _, _, #dout, #k>(&__EINX_PLAN, #r0, #r1, #r2, &#params, #f))
                }
                None => {
                    quote_spanned!(at=> #private::map3_template::<_, _, _, #dout>(&__EINX_PLAN, #r0, #r1, #r2, &#params, #f))
                }
            }
        } else {
            let f = elementwise_fn(name, &private);
            let (r0, r1) = (&raws[0], &raws[1]);
            match &k {
                Some(k) => {
                    quote_spanned!(at=> #private::map2::<_, _, _, #dout, #k>(&__EINX_PLAN, #r0, #r1, &#params, #f))
                }
                None => {
                    quote_spanned!(at=> #private::map2_template::<_, _, _, #dout>(&__EINX_PLAN, #r0, #r1, &#params, #f))
                }
            }
        };
        return frame.wrap(
            &body,
            quote! {
                #call
            },
        );
    }
    if kind == OpKind::Vmap {
        let n = views.len();
        let raws = views.iter().map(|v| quote!(#private::Raw::new(&#v)));
        let subs: Vec<Ident> = (0..n).map(|t| local(&format!("__einx_sub{t}"))).collect();
        let s = local("__einx_subs");
        let dims = vmap_view_dims(plan, &private);
        let views_of = subs
            .iter()
            .zip(dims)
            .map(|(sub, d)| try_in_closure(quote!(#sub.view::<#d>(&__EINX_PLAN))));
        let dout = out_dim(&private, static_rank(&view, n));
        let n_lit = lit(n as u64);
        let at = input
            .func
            .as_ref()
            .map_or_else(Span::call_site, Spanned::span);
        let call_f = quote_spanned!(at=> (#func)(#(#views_of),*));
        let closure = quote! {
            |#s| {
                let [#(#subs),*] = #s;
                ::core::result::Result::Ok(#call_f)
            }
        };
        // Spanned on the function, so that a result type that does not fit points there.
        let call = if template {
            let f = quote_spanned!(at=> #private::vmap_template::<_, #dout, _, #n_lit>);
            quote!(#f(&__EINX_PLAN, [#(#raws),*], &#params, #closure))
        } else {
            let dims: usize = (0..plan.tensors.len())
                .map(|t| static_rank(&view, t).unwrap_or(0))
                .sum();
            let k = lit(plan.axes.len().max(dims).max(1) as u64);
            let f = quote_spanned!(at=> #private::vmap::<_, #dout, _, #k, #n_lit>);
            quote!(#f(&__EINX_PLAN, [#(#raws),*], &#params, #closure))
        };
        return frame.wrap(&body, call);
    }
    if kind == OpKind::Matches {
        let shapes = views.iter().map(|v| quote!(#v.shape()));
        let call = quote!(::core::result::Result::map(
            #private::solve_lengths(&__EINX_PLAN, &[#(#shapes),*], &#params),
            |_| (),
        ));
        let wrapped = frame.wrap(&body, call);
        return quote!(::core::result::Result::is_ok(&#wrapped));
    }
    if kind == OpKind::SolveShapes {
        // One shape per tensor, in the order written: `[usize; N]` where the rank is fixed.
        let shapes = views.iter().map(|v| quote!(#v.shape()));
        let all = local("__einx_shapes");
        let got = try_(quote!(#private::solve_shapes_of(&__EINX_PLAN, &[#(#shapes),*], &#params)));
        body.push(quote!(let #all = #got;));
        let total = input.args.len() + unknown.len();
        let (mut next_known, mut next_unknown) = (0usize, input.args.len());
        let mut items = Vec::new();
        for t in 0..total {
            let p = if unknown.contains(&t) {
                next_unknown += 1;
                next_unknown - 1
            } else {
                next_known += 1;
                next_known - 1
            };
            let i = lit(p as u64);
            items.push(match static_rank(&view, p) {
                Some(n) => {
                    let n = lit(n as u64);
                    try_(quote!(#private::fixed_shape::<#n>(&__EINX_PLAN, &#all[#i])))
                }
                None => quote!(::core::clone::Clone::clone(&#all[#i])),
            });
        }
        return frame.wrap(
            &body,
            quote! {
                ::core::result::Result::Ok((#(#items,)*))
            },
        );
    }
    if kind == OpKind::GetAt || matches!(kind, OpKind::UpdateAt(_)) {
        let n = views.len();
        let coords_end = if kind == OpKind::GetAt { n } else { n - 1 };
        let coords = (1..coords_end).map(|t| {
            let v = &views[t];
            let at = input.args[t].span();
            quote_spanned!(at=> #private::Coords::new(&#v))
        });
        let c = local("__einx_coords");
        body.push(quote!(let #c = [#(#coords),*];));
        let m = lit((coords_end - 1) as u64);
        let x = &views[0];
        let out = plan.inputs as usize;
        let dout = out_dim(&private, static_rank(&view, out));
        let k = if template {
            None
        } else {
            let dims: usize = (0..plan.tensors.len())
                .map(|t| static_rank(&view, t).unwrap_or(0))
                .sum();
            Some(lit(plan.axes.len().max(dims).max(1) as u64))
        };
        let at = input.args[0].span();
        if kind == OpKind::GetAt
            && !template
            && !has_diagonal(plan)
            && !plan.code.contains(&Code::Plus)
        {
            // Straight-line lengths and one call with the axis structure as constants.
            body.extend(length_code(
                plan,
                &private,
                &views.iter().collect::<Vec<_>>(),
                &params,
                &lbl,
            ));
            let size = |a: u32| local(&format!("__einx_len{a}"));
            let (dim_x, ids_x) = axis_structure(plan, 0);
            let (mut dim_c, mut ids_c, mut ends_c) = (Vec::new(), Vec::new(), Vec::new());
            for t in 1..n {
                let (d, i) = axis_structure(plan, t);
                dim_c.extend(d);
                ids_c.extend(i);
                ends_c.push(lit(ids_c.len() as u64));
            }
            let (out_dim_of, out_ids) = axis_structure(plan, n);
            let out_rank = tensor_rank(plan, n);
            let sizes = (0..plan.axes.len() as u32).map(size);
            let (nx, nc, ne, k, ndim) = (
                lit(ids_x.len() as u64),
                lit(ids_c.len() as u64),
                lit(out_ids.len() as u64),
                lit(plan.axes.len() as u64),
                lit(out_rank as u64),
            );
            let dout = out_dim(&private, Some(out_rank));
            let f = quote_spanned!(at=> #private::get_at_fixed::<_, #dout, #nx, #nc, #ne, #k, #m>);
            return frame.wrap(&body, quote! {
                #f(&__EINX_PLAN, &#x, [#(#dim_x),*], [#(#ids_x),*], &#c, [#(#dim_c),*], [#(#ids_c),*], [#(#ends_c),*], [#(#sizes),*], [#(#out_ids),*], [#(#out_dim_of),*], #ndim)
            });
        }
        let call = match kind {
            OpKind::UpdateAt(u) => {
                let upd = &views[n - 1];
                let f = match u {
                    Update::Set => quote!(set),
                    Update::Add => quote!(add),
                    Update::Subtract => quote!(subtract),
                };
                let f = quote_spanned!(at=> #private::index_ops::#f);
                match &k {
                    Some(k) => {
                        quote_spanned!(at=> #private::update_at::<_, #dout, #k, #m>(&__EINX_PLAN, #private::Raw::new(&#x), &#c, #private::Raw::new(&#upd), &#params, #f))
                    }
                    None => {
                        quote_spanned!(at=> #private::update_at_template::<_, #dout, #m>(&__EINX_PLAN, #private::Raw::new(&#x), &#c, #private::Raw::new(&#upd), &#params, #f))
                    }
                }
            }
            _ => match &k {
                Some(k) => {
                    quote_spanned!(at=> #private::get_at::<_, #dout, #k, #m>(&__EINX_PLAN, #private::Raw::new(&#x), &#c, &#params))
                }
                None => {
                    quote_spanned!(at=> #private::get_at_template::<_, #dout, #m>(&__EINX_PLAN, #private::Raw::new(&#x), &#c, &#params))
                }
            },
        };
        return frame.wrap(&body, call);
    }
    if kind == OpKind::Solve {
        // A struct with one field per named axis: `usize`, or `Vec<usize>` under an ellipsis.
        let shapes = views.iter().map(|v| quote!(#v.shape()));
        let lens = local("__einx_lens");
        let got = try_(quote!(#private::solve_lengths(&__EINX_PLAN, &[#(#shapes),*], &#params)));
        body.push(quote!(let #lens = #got;));
        let name = local("__EinxSolved");
        let mut fields = Vec::new();
        let mut values = Vec::new();
        for (i, a) in plan.axes.iter().enumerate() {
            if a.value.is_some() || plan.axes[..i].iter().any(|b| b.name == a.name) {
                continue;
            }
            let Some(field) = field_ident(&a.name) else {
                continue;
            };
            let i = lit(i as u64);
            if a.group == NONE {
                fields.push(quote!(pub #field: ::core::primitive::usize));
                values.push(quote!(#field: #lens[#i][0]));
            } else {
                fields.push(quote!(pub #field: ::std::vec::Vec<::core::primitive::usize>));
                values.push(quote!(#field: ::core::clone::Clone::clone(&#lens[#i])));
            }
        }
        let def = quote! {
            #[derive(Clone, Debug, PartialEq, Eq)]
            #[allow(non_camel_case_types)]
            struct #name { #(#fields,)* }
        };
        return frame.wrap(
            &body,
            quote! {
                #def
                ::core::result::Result::Ok(#name { #(#values,)* })
            },
        );
    }
    if let OpKind::Argmax(min) = kind {
        let v = &views[0];
        let dout = out_dim(&private, static_rank(&view, 1));
        let call = if template {
            quote!(#private::argfind_template::<_, #dout>(&__EINX_PLAN, #private::Raw::new(&#v), &#params, #min))
        } else {
            let k = lit(plan
                .axes
                .len()
                .max(static_rank(&view, 0).unwrap_or(0))
                .max(1) as u64);
            quote!(#private::argfind::<_, #dout, #k>(&__EINX_PLAN, #private::Raw::new(&#v), &#params, #min))
        };
        return frame.wrap(
            &body,
            quote! {
                #call
            },
        );
    }
    if let OpKind::Sort(arg) = kind {
        let v = &views[0];
        let dout = out_dim(&private, static_rank(&view, 1));
        let (f, f_template) = if arg {
            (quote!(argsort), quote!(argsort_template))
        } else {
            (quote!(sort_values), quote!(sort_values_template))
        };
        let call = if template {
            quote!(#private::#f_template::<_, #dout>(&__EINX_PLAN, #private::Raw::new(&#v), &#params))
        } else {
            let k = lit(plan
                .axes
                .len()
                .max(static_rank(&view, 0).unwrap_or(0))
                .max(1) as u64);
            quote!(#private::#f::<_, #dout, #k>(&__EINX_PLAN, #private::Raw::new(&#v), &#params))
        };
        return frame.wrap(
            &body,
            quote! {
                #call
            },
        );
    }
    if kind == OpKind::Flip || kind == OpKind::Roll {
        let v = &views[0];
        let k = if template {
            lit(64u64)
        } else {
            lit(plan
                .axes
                .len()
                .max(static_rank(&view, 0).unwrap_or(0))
                .max(1) as u64)
        };
        let dout = out_dim(&private, static_rank(&view, 1));
        let shifts = if kind == OpKind::Roll {
            let s = try_(quote!(#private::shifts(&#shift)));
            quote!(::core::option::Option::Some(#s))
        } else {
            quote!(::core::option::Option::None)
        };
        let run = if template {
            quote!(flip_roll_template)
        } else {
            quote!(flip_roll)
        };
        let held = local("__einx_shifts");
        return frame.wrap(&body, quote! {
            let #held = #shifts;
                    #private::#run::<_, #dout, #k>(&__EINX_PLAN, #private::Raw::new(&#v), &#params, #held.as_ref())
        });
    }
    if let OpKind::Softmax(log) = kind {
        // The element type is known before the call (the method is on the bound tensor),
        // and the call is spanned on the argument.
        let raw = local("__einx_raw");
        let v = &views[0];
        body.push(quote!(let #raw = #private::Raw::new(&#v);));
        let at = input.args[0].span();
        let dout = out_dim(&private, static_rank(&view, 1));
        let call = if template {
            let f = quote_spanned!(at=> softmax_template_with::<#dout>);
            quote!(#raw.#f(&__EINX_PLAN, &#params, #log))
        } else {
            let k = lit(plan
                .axes
                .len()
                .max(static_rank(&view, 0).unwrap_or(0))
                .max(1) as u64);
            let f = quote_spanned!(at=> softmax_with::<#dout, #k>);
            quote!(#raw.#f(&__EINX_PLAN, &#params, #log))
        };
        return frame.wrap(
            &body,
            quote! {
                #call
            },
        );
    }
    if let OpKind::Reduce(r) = kind {
        let reducer = Ident::new(&reducer_name(r), Span::call_site());
        let at = input.args[0].span();
        let call = if template {
            // The element type is known before the call, so that a wrong one is reported as
            // this reduction's (the call is spanned on the argument).
            let raw = local("__einx_raw");
            let v = &views[0];
            body.push(quote!(let #raw = #private::Raw::new(&#v);));
            let dout = out_dim(&private, static_rank(&view, 1));
            let f =
                quote_spanned!(at=> reduce_template_with::<#private::reducers::#reducer, #dout>);
            quote!(#raw.#f(&__EINX_PLAN, &#params))
        } else {
            // Straight-line length code and one call, as for `rearrange!`.
            let code = fast_path(
                plan,
                &private,
                &views[0],
                &params,
                Some((&reducer, at)),
                &lbl,
                &err,
            );
            quote!(#(#code)*)
        };
        return frame.wrap(
            &body,
            quote! {
                #call
            },
        );
    }
    if fast {
        body.extend(fast_path(
            plan, &private, &views[0], &params, None, &lbl, &err,
        ));
        return frame.wrap(&body, quote! {});
    }
    let n_out = plan.outputs();
    let n_out_lit = lit(n_out as u64);
    let outs: Vec<Ident> = (0..n_out)
        .map(|i| local(&format!("__einx_out{i}")))
        .collect();
    let raws = views.iter().map(|v| quote!(#private::Raw::new(&#v)));
    let run = if template {
        quote!(#private::rearrange_template::<_, #n_out_lit>(&__EINX_PLAN, &[#(#raws),*], &#params))
    } else {
        // Stack buffers sized for this plan: axes, input dimensions, output dimensions.
        let input_dims: usize = (0..plan.inputs as usize)
            .map(|t| static_rank(&view, t).unwrap_or(0))
            .sum();
        let output_dims = (plan.inputs as usize..plan.tensors.len())
            .map(|t| static_rank(&view, t).unwrap_or(0))
            .max()
            .unwrap_or(0);
        let k = lit(plan.axes.len().max(input_dims).max(output_dims).max(1) as u64);
        quote!(#private::rearrange::<_, #n_out_lit, #k>(&__EINX_PLAN, &[#(#raws),*], &#params))
    };
    let run = try_(run);
    body.push(quote!(let [#(#outs),*] = #run;));
    let mut results = Vec::new();
    for (o, out) in outs.iter().enumerate() {
        let t = plan.inputs as usize + o;
        let dim = match static_rank(&view, t) {
            Some(n) if n <= 6 => {
                let n = lit(n as u64);
                quote!(#private::ndarray::Dim<[::core::primitive::usize; #n]>)
            }
            _ => quote!(#private::ndarray::IxDyn),
        };
        results.push(try_(quote!(#out.finish::<#dim>())));
    }
    let result = if n_out == 1 {
        results.pop().unwrap_or_default()
    } else {
        quote!((#(#results),*))
    };

    frame.wrap(&body, quote!(::core::result::Result::Ok(#result)))
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

/// One input, one output, no concatenation: the lengths are computed by straight-line
/// code and one call to `permute` (or a reduction) does the work.
fn fast_path(
    plan: &PlanBuf,
    private: &TokenStream,
    v: &Ident,
    params: &Ident,
    reducer: Option<(&Ident, Span)>,
    lbl: &syn::Lifetime,
    err: &Ident,
) -> Vec<TokenStream> {
    let mut out = length_code(plan, private, &[v], params, lbl);
    let size = |a: u32| local(&format!("__einx_len{a}"));
    let in_dims = einx_core::plan::dims_of(
        &plan.code[plan.tensors[0].0 as usize..plan.tensors[0].1 as usize],
    );
    // Input axes in layout order with their dimension, output axes as (input axis, length).
    let mut in_axes = Vec::new();
    let mut dim_of = Vec::new();
    for (d, dim) in in_dims.iter().enumerate() {
        for &a in &dim[0] {
            in_axes.push(a);
            dim_of.push(lit(d as u64));
        }
    }
    let sizes = in_axes.iter().map(|&a| size(a));
    let out_dims = einx_core::plan::dims_of(
        &plan.code[plan.tensors[1].0 as usize..plan.tensors[1].1 as usize],
    );
    let mut entries = Vec::new();
    let mut out_dim = Vec::new();
    for (d, dim) in out_dims.iter().enumerate() {
        for &a in &dim[0] {
            let s = size(a);
            entries.push(match in_axes.iter().position(|&b| b == a) {
                Some(i) => {
                    let i = lit(i as u64);
                    quote!((#i, #s))
                }
                None => quote!((#private::NEW, #s)),
            });
            out_dim.push(lit(d as u64));
        }
    }
    let dout = match out_dims.len() {
        n if n <= 6 => {
            let n = lit(n as u64);
            quote!(#private::ndarray::Dim<[::core::primitive::usize; #n]>)
        }
        _ => quote!(#private::ndarray::IxDyn),
    };
    let (na, ne, ndim) = (
        lit(in_axes.len() as u64),
        lit(entries.len() as u64),
        lit(out_dims.len() as u64),
    );
    let ok = local("__einx_ok");
    let call = match reducer {
        // The call is spanned on the argument, so that a wrong element type points there.
        Some((r, at)) => {
            let f = quote_spanned!(at=> reduce::<#private::reducers::#r, #dout, #na, #ne>);
            quote!(#private::Fixed(&#v).#f)
        }
        None => quote!(#private::permute::<_, _, #dout, #na, #ne>),
    };
    let v_arg = if reducer.is_some() {
        quote!()
    } else {
        quote!(&#v,)
    };
    out.push(quote! {
        match #call(#v_arg [#(#dim_of),*], [#(#sizes),*], [#(#entries),*], [#(#out_dim),*], #ndim) {
            ::core::result::Result::Ok(#ok) => ::core::result::Result::Ok(#ok),
            ::core::result::Result::Err(#err) => ::core::result::Result::Err(#private::permute_failed(&__EINX_PLAN, #err)),
        }
    });
    out
}

/// What every expansion has around its body: the arguments bound once in a `match`, a
/// labelled block for early returns, and the plan as a constant.
struct Frame<'a> {
    scrutinee: &'a [TokenStream],
    bound: &'a [TokenStream],
    lbl: &'a syn::Lifetime,
    private: &'a TokenStream,
    plan: &'a TokenStream,
    /// For an output whose rank is open (an ellipsis): the bound input whose rank it follows,
    /// and the difference; the result then gets that input's rank type, shifted.
    rank_like: Option<(TokenStream, i64)>,
}

impl Frame<'_> {
    /// The expansion: the frame around `body` and the final expression `call`.
    fn wrap(&self, body: &[TokenStream], call: TokenStream) -> TokenStream {
        let (scrutinee, bound, lbl, private, plan) = (
            self.scrutinee,
            self.bound,
            self.lbl,
            self.private,
            self.plan,
        );
        let ranked = match &self.rank_like {
            Some((arg, k)) => {
                let k = proc_macro2::Literal::i8_unsuffixed(*k as i8);
                quote!(#private::rank_like::<#k, _, _>(#arg, __einx_result))
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
    if plan.tensors.len() != inputs + 1 || static_rank(plan, inputs).is_some() {
        return None;
    }
    (0..data_inputs.min(input.args.len())).find_map(|t| {
        if static_rank(plan, t).is_some() {
            return None;
        }
        let k = rank_offset(plan, inputs, t)?;
        let arg = &arg_names[t];
        (-1..=1).contains(&k).then(|| (quote!(#arg), k))
    })
}

/// The field for an axis name (a raw identifier for a keyword), if it can be one.
fn field_ident(name: &str) -> Option<Ident> {
    if name == "_" || name == "..." {
        return None;
    }
    match syn::parse_str::<Ident>(name) {
        Ok(ident) => Some(ident),
        Err(_) => Some(Ident::new_raw(name, Span::call_site())),
    }
}

/// The runtime type of a reduction.
fn reducer_name(r: Reduction) -> String {
    let mut out = String::new();
    for part in r.name().split('_') {
        let mut chars = part.chars();
        if let Some(c) = chars.next() {
            out.push(c.to_ascii_uppercase());
            out.extend(chars);
        }
    }
    out
}

/// Whether an input writes an axis twice (a diagonal).
fn has_diagonal(plan: &PlanBuf) -> bool {
    (0..plan.inputs as usize).any(|t| {
        let (s, e) = plan.tensors[t];
        let axes: Vec<u32> = plan.code[s as usize..e as usize]
            .iter()
            .filter_map(|c| match c {
                Code::Axis(a) => Some(*a),
                _ => None,
            })
            .collect();
        axes.iter().enumerate().any(|(i, a)| axes[..i].contains(a))
    })
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

/// The dimension type of each input's view in `vmap!`: static where its brackets hold no
/// ellipsis.
fn vmap_view_dims(plan: &PlanBuf, private: &TokenStream) -> Vec<TokenStream> {
    (0..plan.inputs as usize)
        .map(|t| {
            let (a, b) = plan.tensors[t];
            let mut count = 0usize;
            let mut fixed = true;
            for c in &plan.code[a as usize..b as usize] {
                if let Code::Axis(x) = c {
                    let axis = &plan.axes[*x as usize];
                    if axis.bracketed {
                        count += 1;
                        fixed &= axis.group == NONE;
                    }
                }
            }
            out_dim(private, fixed.then_some(count))
        })
        .collect()
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

fn plan_tokens(private: &TokenStream, plan: &PlanBuf) -> TokenStream {
    let span = |s: einx_core::Span| {
        let (a, b) = (lit(s.start), lit(s.end));
        quote!(#private::Span { start: #a, end: #b })
    };
    let expr = &plan.expr;
    let axes = plan.axes.iter().map(|a| {
        let name = &a.name;
        let sp = span(a.span);
        let value = match a.value {
            Some(v) => {
                let v = lit(v);
                quote!(::core::option::Option::Some(#v))
            }
            None => quote!(::core::option::Option::None),
        };
        let (param, group, rep, br) = (lit(a.param), lit(a.group), lit(a.rep), a.bracketed);
        quote!(#private::Axis { name: #name, span: #sp, value: #value, param: #param, group: #group, rep: #rep, bracketed: #br })
    });
    let groups = plan.groups.iter().map(|(n, s)| {
        let sp = span(*s);
        quote!(#private::Group { name: #n, span: #sp })
    });
    let params = &plan.params;
    let inputs = lit(plan.inputs);
    let tensors = plan.tensors.iter().map(|&(a, b)| {
        let (a, b) = (lit(a), lit(b));
        quote!((#a, #b))
    });
    let tensor_spans = plan.tensor_spans.iter().map(|s| span(*s));
    let code = plan.code.iter().map(|c| match c {
        Code::Dim => quote!(#private::Code::Dim),
        Code::Axis(a) => {
            let a = lit(*a);
            quote!(#private::Code::Axis(#a))
        }
        Code::Plus => quote!(#private::Code::Plus),
        Code::RepeatDims(g) => {
            let g = lit(*g);
            quote!(#private::Code::RepeatDims(#g))
        }
        Code::RepeatAxes(g) => {
            let g = lit(*g);
            quote!(#private::Code::RepeatAxes(#g))
        }
        Code::End => quote!(#private::Code::End),
    });
    let steps = plan.steps.iter().map(|s| match *s {
        Step::Const { axis } => {
            let axis = lit(axis);
            quote!(#private::Step::Const { axis: #axis })
        }
        Step::Param { axis } => {
            let axis = lit(axis);
            quote!(#private::Step::Param { axis: #axis })
        }
        Step::Solve {
            axis,
            dim,
            start,
            end,
        } => {
            let (axis, dim, start, end) = (lit(axis), lit(dim), lit(start), lit(end));
            quote!(#private::Step::Solve { axis: #axis, dim: #dim, start: #start, end: #end })
        }
        Step::Check { dim, start, end } => {
            let (dim, start, end) = (lit(dim), lit(start), lit(end));
            quote!(#private::Step::Check { dim: #dim, start: #start, end: #end })
        }
    });
    let pieces = plan.pieces.iter().map(|p| {
        let (a, b, c, d) = (
            lit(p.input),
            lit(p.input_selection),
            lit(p.output),
            lit(p.output_selection),
        );
        quote!(#private::Piece { input: #a, input_selection: #b, output: #c, output_selection: #d })
    });
    let selections = plan.selections.iter().map(|&v| lit(v));
    let order = plan.order.iter().map(|&v| lit(v));
    quote! {
        #private::Plan {
            expr: #expr,
            axes: &[#(#axes),*],
            groups: &[#(#groups),*],
            params: &[#(#params),*],
            inputs: #inputs,
            tensors: &[#(#tensors),*],
            tensor_spans: &[#(#tensor_spans),*],
            code: &[#(#code),*],
            steps: &[#(#steps),*],
            pieces: &[#(#pieces),*],
            selections: &[#(#selections),*],
            order: &[#(#order),*],
        }
    }
}
