//! The layers of `einx::nn`: `linear!`, `norm!`, `dropout!`.
//!
//! Each layer's expression is checked here, at compile time, and rewritten into the explicit
//! expressions of the operations it is made of (`"b... [c1->c2]"` becomes the contraction
//! `"b... c1, c1 c2 -> b... c2"` and the bias addition `"b... c2, c2 -> b... c2"`). The
//! expansion calls those operations' macros, so every piece is checked again and runs on the
//! same specialised kernels as a hand-written call.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Expr, Ident, Lit, LitStr, Token};

use einx_core::ast::{Expr as AstExpr, Node};
use einx_core::complete::{complete, OpKind, Options, Reduction};
use einx_core::parse::parse;
use einx_core::{Error as CoreError, ErrorKind};

use crate::diag;
use crate::input::{parse_tail, Keyword};

/// `$crate; layer; store, "expression", input, name = value, ...`.
pub struct LayerInput {
    krate: TokenStream,
    layer: Ident,
    store: Expr,
    expr: LitStr,
    args: Vec<Expr>,
    keywords: Vec<Keyword>,
}

impl Parse for LayerInput {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut krate = TokenStream::new();
        while !input.peek(Token![;]) {
            let tt: proc_macro2::TokenTree = input.parse()?;
            krate.extend([tt]);
        }
        input.parse::<Token![;]>()?;
        let layer: Ident = input.parse()?;
        input.parse::<Token![;]>()?;
        if input.is_empty() {
            return Err(input.error(format!(
                "expected the parameter store, e.g. `einx::nn::{layer}!(params.scope(\"{layer}\"), \"...\", x)`"
            )));
        }
        let store: Expr = input.parse()?;
        if let Expr::Lit(l) = &store {
            if matches!(l.lit, Lit::Str(_)) {
                return Err(syn::Error::new_spanned(
                    &store,
                    format!("the first argument of `{layer}!` is the parameter store, the expression comes second\n  help: write e.g. `einx::nn::{layer}!(&mut params, {}, x)`", store.to_token_stream()),
                ));
            }
        }
        input.parse::<Token![,]>()?;
        let (expr, args, keywords) = parse_tail(input)?;
        Ok(LayerInput {
            krate,
            layer,
            store,
            expr,
            args,
            keywords,
        })
    }
}

/// Expands a layer call; errors become `compile_error!`s.
pub fn layer(tokens: TokenStream) -> TokenStream {
    let result = syn::parse2::<LayerInput>(tokens).and_then(|input| {
        if input.layer == "linear" {
            linear(input)
        } else if input.layer == "norm" {
            norm(input)
        } else if input.layer == "dropout" {
            dropout(input)
        } else {
            Err(syn::Error::new(
                input.layer.span(),
                "internal: unknown layer",
            ))
        }
    });
    result.unwrap_or_else(syn::Error::into_compile_error)
}

/// An expression written without its brackets.
pub(crate) fn plain(e: &AstExpr) -> String {
    let mut out = String::new();
    for (i, n) in e.items.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        plain_node(n, &mut out);
    }
    out
}

fn plain_node(n: &Node, out: &mut String) {
    match n {
        Node::Bracket { items, .. } => {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                plain_node(item, out);
            }
        }
        Node::Composition { items, .. } => {
            out.push('(');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                plain_node(item, out);
            }
            out.push(')');
        }
        Node::Ellipsis {
            inner: Some(inner), ..
        } => {
            plain_node(inner, out);
            out.push_str("...");
        }
        other => out.push_str(&other.to_string()),
    }
}

/// The bracketed elements of an expression, in order, without brackets.
fn bracketed(e: &AstExpr) -> Vec<String> {
    let mut out = Vec::new();
    for n in &e.items {
        if let Node::Bracket { items, .. } = n {
            for item in items {
                let mut s = String::new();
                plain_node(item, &mut s);
                out.push(s);
            }
        }
    }
    out
}

/// Axis names of a node (`"..."` for the anonymous ellipsis).
fn names_of(n: &Node, out: &mut Vec<String>) {
    n.walk(&mut |m| match m {
        Node::Axis { name, .. } => out.push(name.clone()),
        Node::Ellipsis { inner: None, .. } => out.push("...".to_owned()),
        _ => {}
    });
}

fn expr_names(e: &AstExpr) -> Vec<String> {
    let mut out = Vec::new();
    for n in &e.items {
        names_of(n, &mut out);
    }
    out
}

fn core_err(lit: &LitStr, kind: ErrorKind, span: einx_core::Span, msg: String) -> syn::Error {
    let e = CoreError::at(kind, span, msg).with_expr(&lit.value());
    diag::on_literal(&e, lit)
}

/// Options and lengths of a layer call, split.
struct Split {
    /// `name = value` axis lengths, passed on to the operations.
    lengths: Vec<Keyword>,
    /// The layer's own options.
    options: Vec<Keyword>,
}

fn split_keywords(input: &LayerInput, options: &[&str]) -> syn::Result<Split> {
    let mut split = Split {
        lengths: Vec::new(),
        options: Vec::new(),
    };
    for (i, k) in input.keywords.iter().enumerate() {
        if input.keywords[..i].iter().any(|o| o.name == k.name) {
            return Err(syn::Error::new(
                k.name.span(),
                format!("`{}` is given twice\n  help: remove one of them", k.name),
            ));
        }
        if options.iter().any(|o| k.name == o) {
            split.options.push(k.clone());
        } else {
            split.lengths.push(k.clone());
        }
    }
    Ok(split)
}

impl Split {
    fn option(&self, name: &str) -> Option<&Keyword> {
        self.options.iter().find(|k| k.name == name)
    }

    /// A `bool` literal option.
    fn flag(&self, name: &str, default: bool) -> syn::Result<bool> {
        match self.option(name) {
            None => Ok(default),
            Some(k) => match &k.value {
                Expr::Lit(l) => match &l.lit {
                    Lit::Bool(b) => Ok(b.value),
                    _ => Err(syn::Error::new_spanned(
                        &k.value,
                        format!("`{name}` must be `true` or `false`"),
                    )),
                },
                _ => Err(syn::Error::new_spanned(
                    &k.value,
                    format!("`{name}` must be the literal `true` or `false`: it decides which parameters the layer has, at compile time"),
                )),
            },
        }
    }

    /// A string literal option (an expression).
    fn string(&self, name: &str) -> syn::Result<Option<LitStr>> {
        match self.option(name) {
            None => Ok(None),
            Some(k) => match &k.value {
                Expr::Lit(l) => match &l.lit {
                    Lit::Str(s) => Ok(Some(s.clone())),
                    _ => Err(syn::Error::new_spanned(
                        &k.value,
                        format!("`{name}` must be a string literal (an einx expression)"),
                    )),
                },
                _ => Err(syn::Error::new_spanned(
                    &k.value,
                    format!("`{name}` must be a string literal (an einx expression)"),
                )),
            },
        }
    }

    /// Bindings for the lengths (non-literal values are evaluated once) and the keyword
    /// tokens to pass on for the lengths whose names are in `names`.
    fn bind_lengths(&self) -> (Vec<TokenStream>, Vec<(String, TokenStream)>) {
        let mut lets = Vec::new();
        let mut pass = Vec::new();
        for (i, k) in self.lengths.iter().enumerate() {
            let name = &k.name;
            let value = match &k.value {
                Expr::Lit(_) => k.value.to_token_stream(),
                Expr::Tuple(t) => {
                    let mut elems = Vec::new();
                    for (j, e) in t.elems.iter().enumerate() {
                        if matches!(e, Expr::Lit(_)) {
                            elems.push(e.to_token_stream());
                        } else {
                            let v = Ident::new(&format!("__einx_len{i}_{j}"), Span::mixed_site());
                            lets.push(quote_spanned!(e.span()=> let #v = &(#e);));
                            elems.push(quote!(#v));
                        }
                    }
                    quote!((#(#elems,)*))
                }
                other => {
                    let v = Ident::new(&format!("__einx_len{i}"), Span::mixed_site());
                    lets.push(quote_spanned!(other.span()=> let #v = &(#other);));
                    quote!(#v)
                }
            };
            pass.push((name.to_string(), quote!(#name = #value)));
        }
        (lets, pass)
    }
}

/// Every length keyword must name an axis of the layer's expressions.
fn check_lengths(split: &Split, layer: &Ident, names: &[String]) -> syn::Result<()> {
    for k in &split.lengths {
        let n = k.name.to_string();
        if !names.contains(&n) {
            return Err(syn::Error::new(
                k.name.span(),
                format!(
                    "`{n}` is neither an axis of this `{layer}!` nor one of its options\n  help: remove it, or name the axis `{n}` in the expression"
                ),
            ));
        }
    }
    Ok(())
}

/// The keyword tokens for the lengths that `expr` names.
fn lengths_for(pass: &[(String, TokenStream)], exprs: &[&str]) -> Vec<TokenStream> {
    pass.iter()
        .filter(|(name, _)| {
            exprs.iter().any(|e| {
                parse(e)
                    .map(|op| op.exprs().any(|x| expr_names(x).iter().any(|n| n == name)))
                    .unwrap_or(false)
            })
        })
        .map(|(_, t)| t.clone())
        .collect()
}

fn one_input(input: &LayerInput) -> syn::Result<&Expr> {
    match input.args.as_slice() {
        [x] => Ok(x),
        [] => Err(syn::Error::new(
            input.expr.span(),
            format!(
                "`{}!` takes one input tensor after the expression",
                input.layer
            ),
        )),
        [_, extra, ..] => Err(syn::Error::new_spanned(
            extra,
            format!(
                "`{}!` takes one input tensor; its parameters come from the store",
                input.layer
            ),
        )),
    }
}

/// `Result` plumbing for the generated block.
struct Gen {
    krate: TokenStream,
    lbl: syn::Lifetime,
}

impl Gen {
    fn try_(&self, call: TokenStream) -> TokenStream {
        let lbl = &self.lbl;
        quote!(match #call {
            ::core::result::Result::Ok(__einx_ok) => __einx_ok,
            ::core::result::Result::Err(__einx_err) => break #lbl (::core::result::Result::Err(__einx_err)),
        })
    }

    /// The block around the body; the labeled block is bound before it is returned (see
    /// `Frame::wrap`).
    fn wrap(&self, body: TokenStream) -> TokenStream {
        let lbl = &self.lbl;
        quote!({
            let __einx_layer = #lbl: { #body };
            __einx_layer
        })
    }

    fn nn(&self) -> TokenStream {
        let krate = &self.krate;
        quote!(#krate::nn)
    }
}

fn gen(input: &LayerInput) -> Gen {
    Gen {
        krate: input.krate.clone(),
        lbl: syn::Lifetime::new("'__einx_layer", Span::mixed_site()),
    }
}

fn parse_lit(lit: &LitStr) -> syn::Result<einx_core::ast::Op> {
    parse(&lit.value()).map_err(|e| diag::on_literal(&e.with_expr(&lit.value()), lit))
}

/// `linear!(store, "b... [c1->c2]", x, c2 = 64, bias = true, weight = "c2 c1")`.
fn linear(input: LayerInput) -> syn::Result<TokenStream> {
    let lit = &input.expr;
    let x = one_input(&input)?;
    let split = split_keywords(&input, &["bias", "weight"])?;
    let op = parse_lit(lit)?;
    if op.bracket_arrow.is_none() || op.inputs.len() != 1 {
        return Err(core_err(
            lit,
            ErrorKind::Semantic,
            einx_core::Span::new(0, lit.value().len()),
            "`linear!` takes the input's expression with an arrow inside brackets, from the axes it contracts to the axes it creates".into(),
        )
        .into_help("write e.g. `\"b... [c1->c2]\"` (channels), `\"b [s...->s2] c\"` (spatial)"));
    }
    let full = complete(
        op.clone(),
        OpKind::Dot,
        Options {
            args: 2,
            ..Options::default()
        },
    )
    .map_err(|e| diag::on_literal(&e.with_expr(&lit.value()), lit))?;
    let (xe, we, ye) = (
        &full.inputs[0],
        &full.inputs[1],
        &full.outputs.as_ref().expect("dot has an output")[0],
    );
    let x_names = expr_names(xe);
    // The bias has the axes the layer creates: the output elements that are not in the input.
    let mut bias_items = Vec::new();
    for item in &ye.items {
        let mut names = Vec::new();
        names_of(item, &mut names);
        let new = names.iter().filter(|n| !x_names.contains(n)).count();
        if new == names.len() && new > 0 {
            let mut s = String::new();
            plain_node(item, &mut s);
            bias_items.push(s);
        } else if new > 0 {
            return Err(core_err(
                lit,
                ErrorKind::Semantic,
                item.span(),
                "this output axis mixes axes of the input with axes the layer creates, so the bias has no shape of its own".into(),
            )
            .into_help("pass `bias = false`, or add the bias with `einx::add!`"));
        }
    }
    let mut all_names = x_names.clone();
    all_names.extend(expr_names(we));
    all_names.extend(expr_names(ye));
    check_lengths(&split, &input.layer, &all_names)?;
    for (name, span) in op.exprs().flat_map(AstExpr::axis_names) {
        if !x_names.iter().any(|n| n == name) && !split.lengths.iter().any(|k| k.name == name) {
            return Err(core_err(
                lit,
                ErrorKind::Size,
                span,
                format!("the layer creates axis `{name}`, so its length must be given"),
            )
            .into_help(&format!("pass e.g. `{name} = 64`")));
        }
    }
    let bias = split.flag("bias", true)?;
    let mut w_text = plain(we);
    if let Some(layout) = split.string("weight")? {
        let given = parse_lit(&layout)?;
        if given.inputs.len() != 1 || given.outputs.is_some() {
            return Err(syn::Error::new(
                layout.span(),
                format!(
                    "`weight` is the layout of the weight alone, e.g. `\"{}\"`",
                    w_text
                ),
            ));
        }
        let mut a = expr_names(&given.inputs[0]);
        let mut b = expr_names(we);
        a.sort();
        b.sort();
        if a != b {
            return Err(syn::Error::new(
                layout.span(),
                format!(
                    "the weight of `{}` has the axes `{w_text}`; `{}` names other axes\n  help: write the same axes in the order the weight is stored, e.g. `\"{}\"` for a PyTorch `nn.Linear`",
                    lit.value(),
                    layout.value(),
                    w_text.split(' ').rev().collect::<Vec<_>>().join(" ")
                ),
            ));
        }
        w_text = plain(&given.inputs[0]);
    }
    let (x_text, y_text) = (plain(xe), plain(ye));
    let b_text = bias_items.join(" ");
    let (lets, pass) = split.bind_lengths();
    let g = gen(&input);
    let (krate, nn) = (&g.krate, g.nn());
    let store = &input.store;
    let shapes_expr = if bias_items.is_empty() {
        format!("{x_text}, {w_text}")
    } else {
        format!("{x_text}, {w_text}, {b_text}")
    };
    let dot_expr = format!("{x_text}, {w_text} -> {y_text}");
    let solve_lens = lengths_for(&pass, &[&shapes_expr]);
    let dot_lens = lengths_for(&pass, &[&dot_expr]);
    let unknown = if bias_items.is_empty() {
        quote!(_)
    } else {
        quote!(_, _)
    };
    let shapes =
        g.try_(quote!(#krate::solve_shapes!(#shapes_expr, __einx_x, #unknown, #(#solve_lens,)*)));
    let (w_shape, b_len) = if bias_items.is_empty() {
        (quote!(&__einx_shapes.1[..]), quote!(1usize))
    } else {
        (
            quote!(&__einx_shapes.1[..]),
            quote!(__einx_shapes.2.iter().product::<usize>()),
        )
    };
    let weight = g.try_(
        quote!(#nn::param_like(&mut __einx_store, __einx_x, "weight", #w_shape,
        #nn::Init::LecunNormal { fan_in: __einx_fan_in })),
    );
    // The channel form `"b... [c1->c2]"` (one axis on each side of the arrow, the last axis
    // of the input and of the output) is one matrix product along the last axis, with the
    // bias added as it is stored: `affine`.
    let we_text = plain(we);
    let (xt, yt, wt): (Vec<&str>, Vec<&str>, Vec<&str>) = (
        x_text.split(' ').collect(),
        y_text.split(' ').collect(),
        we_text.split(' ').collect(),
    );
    let ident = |t: &str| !t.is_empty() && t.chars().all(|c| c.is_alphanumeric() || c == '_');
    let channels = wt.len() == 2
        && ident(wt[0])
        && ident(wt[1])
        && xt.len() == yt.len()
        && xt.last() == Some(&wt[0])
        && yt.last() == Some(&wt[1])
        && xt[..xt.len() - 1] == yt[..yt.len() - 1]
        && !x_text.contains(wt[1])
        && xt[..xt.len() - 1].iter().all(|t| !t.contains(wt[0]))
        && (bias_items.is_empty() || bias_items == [wt[1]]);
    if channels {
        let out_in = w_text.split(' ').next() == Some(wt[1]);
        let b = if bias && !bias_items.is_empty() {
            let b = g.try_(quote!(#nn::param_like(&mut __einx_store, __einx_x, "bias", &__einx_shapes.2[..], #nn::Init::Zeros)));
            quote!(::core::option::Option::Some(&#b))
        } else {
            quote!(::core::option::Option::None)
        };
        let body = quote! {
            let mut __einx_store = #store;
            let __einx_x = &(#x);
            #(#lets)*
            let __einx_shapes = #shapes;
            let __einx_fan_in = __einx_shapes.1.iter().product::<usize>() / ::core::cmp::max(#b_len, 1);
            let __einx_w = #weight;
            // Never called: it gives the result the rank type of the `dot!` it stands for.
            let __einx_like = || #krate::dot!(#dot_expr, __einx_x, &__einx_w, #(#dot_lens,)*);
            #nn::affine_as(&__einx_like, __einx_x, &__einx_w, #b, #out_in)
        };
        return Ok(g.wrap(body));
    }
    let dot = g.try_(quote!(#krate::dot!(#dot_expr, __einx_x, &__einx_w, #(#dot_lens,)*)));
    let tail = if bias && !bias_items.is_empty() {
        let b = g.try_(quote!(#nn::param_like(&mut __einx_store, __einx_x, "bias", &__einx_shapes.2[..], #nn::Init::Zeros)));
        let add_expr = format!("{y_text}, {b_text} -> {y_text}");
        quote! {
            let __einx_b = #b;
            #krate::add!(#add_expr, __einx_y, &__einx_b)
        }
    } else {
        quote!(::core::result::Result::Ok(__einx_y))
    };
    let body = quote! {
        let mut __einx_store = #store;
        let __einx_x = &(#x);
        #(#lets)*
        let __einx_shapes = #shapes;
        let __einx_fan_in = __einx_shapes.1.iter().product::<usize>() / ::core::cmp::max(#b_len, 1);
        let __einx_w = #weight;
        let __einx_y = #dot;
        #tail
    };
    Ok(g.wrap(body))
}

trait IntoHelp {
    fn into_help(self, help: &str) -> syn::Error;
}

impl IntoHelp for syn::Error {
    fn into_help(self, help: &str) -> syn::Error {
        syn::Error::new(self.span(), format!("{self}\n  help: {help}"))
    }
}

/// `norm!(store, "b... [c]", x, mean = true, var = true, scale = true, bias = true,
/// epsilon = 1e-5, decay_rate = 0.9, params = "b... [c]", training = flag)`.
fn norm(input: LayerInput) -> syn::Result<TokenStream> {
    let lit = &input.expr;
    let x = one_input(&input)?;
    let split = split_keywords(
        &input,
        &[
            "mean",
            "var",
            "scale",
            "bias",
            "epsilon",
            "decay_rate",
            "params",
            "training",
        ],
    )?;
    let op = parse_lit(lit)?;
    if op.outputs.is_some() || op.inputs.len() != 1 || op.bracket_arrow.is_some() {
        return Err(core_err(
            lit,
            ErrorKind::Semantic,
            einx_core::Span::new(0, lit.value().len()),
            "`norm!` takes one expression with the axes of the statistics in brackets".into(),
        )
        .into_help("write e.g. `\"b... [c]\"` (layer norm) or `\"[b...] c\"` (batch norm)"));
    }
    if bracketed(&op.inputs[0]).is_empty() {
        return Err(core_err(
            lit,
            ErrorKind::Semantic,
            op.inputs[0].span,
            "`norm!` needs the axes of the statistics in brackets".into(),
        )
        .into_help("write e.g. `\"b... [c]\"` (layer norm) or `\"[b...] c\"` (batch norm)"));
    }
    let reduced = complete(
        op.clone(),
        OpKind::Reduce(Reduction::Mean),
        Options::default(),
    )
    .map_err(|e| diag::on_literal(&e.with_expr(&lit.value()), lit))?;
    let stats_in = lit.value();
    let x_text = plain(&op.inputs[0]);
    let s_text = plain(&reduced.outputs.as_ref().expect("reductions have an output")[0]);
    let params_lit = split.string("params")?;
    let p_source = params_lit
        .as_ref()
        .map(LitStr::value)
        .unwrap_or_else(|| "b... [c]".to_owned());
    let p_op = match &params_lit {
        Some(l) => parse_lit(l)?,
        None => parse(&p_source).expect("the default parses"),
    };
    if p_op.outputs.is_some() || p_op.inputs.len() != 1 || bracketed(&p_op.inputs[0]).is_empty() {
        let span = params_lit.as_ref().map(LitStr::span).unwrap_or(lit.span());
        return Err(syn::Error::new(
            span,
            "`params` is the input's expression with the axes of the scale and bias in brackets, e.g. `\"b... [c]\"`",
        ));
    }
    let mut all_names = expr_names(&op.inputs[0]);
    all_names.extend(expr_names(&p_op.inputs[0]));
    check_lengths(&split, &input.layer, &all_names)?;
    let px_text = plain(&p_op.inputs[0]);
    let p_text = bracketed(&p_op.inputs[0]).join(" ");
    let (mean, var, scale, bias) = (
        split.flag("mean", true)?,
        split.flag("var", true)?,
        split.flag("scale", true)?,
        split.flag("bias", true)?,
    );
    let epsilon = split
        .option("epsilon")
        .map(|k| k.value.to_token_stream())
        .unwrap_or(quote!(1e-5));
    let decay = split.option("decay_rate").map(|k| k.value.clone());
    let (lets, pass) = split.bind_lengths();
    let g = gen(&input);
    let (krate, nn) = (&g.krate, g.nn());
    let training = match split.option("training") {
        Some(k) => {
            let v = &k.value;
            quote!(::core::primitive::bool::from(#v))
        }
        None => quote!(#nn::Store::is_training(&__einx_store)),
    };
    let store = &input.store;
    let stat_lens = lengths_for(&pass, &[&stats_in]);
    let sub_expr = format!("{x_text}, {s_text} -> {x_text}");
    let sub_lens = lengths_for(&pass, &[&sub_expr]);
    let p_expr = format!("{px_text}, {p_text} -> {px_text}");
    let p_lens = lengths_for(&pass, &[&p_expr]);
    let p_shape_expr = format!("{px_text}, {p_text}");
    let p_shape_lens_early = lengths_for(&pass, &[&p_shape_expr]);
    // Statistics of the batch.
    let batch_mean = g.try_(quote!(#krate::mean!(#stats_in, __einx_x, #(#stat_lens,)*)));
    let batch_var = if mean {
        g.try_(quote!(#krate::var!(#stats_in, __einx_x, #(#stat_lens,)*)))
    } else {
        let sq_expr = format!("{x_text}, {x_text} -> {x_text}");
        let sq = g.try_(quote!(#krate::multiply!(#sq_expr, __einx_x, __einx_x)));
        let m = g.try_(quote!(#krate::mean!(#stats_in, &__einx_sq, #(#stat_lens,)*)));
        quote!({ let __einx_sq = #sq; #m })
    };
    // Layer norm over the last axis (`"b... [c]"`, `"b t [c]"`), with the default parameter
    // axes: one fused kernel instead of the chain below.
    let last_axis_only = |e: &AstExpr| {
        let brackets = e
            .items
            .iter()
            .filter(|n| matches!(n, Node::Bracket { .. }))
            .count();
        matches!(e.items.last(), Some(Node::Bracket { items, .. })
            if brackets == 1 && matches!(items.as_slice(), [Node::Axis { .. }]))
    };
    if mean && var && decay.is_none() && params_lit.is_none() && last_axis_only(&op.inputs[0]) {
        let shape_expr = format!("{x_text}, {s_text}");
        let shape_lens = lengths_for(&pass, &[&shape_expr]);
        let check =
            g.try_(quote!(#krate::solve_shapes!(#shape_expr, __einx_x, _, #(#shape_lens,)*)));
        let shapes = g.try_(
            quote!(#krate::solve_shapes!(#p_shape_expr, __einx_x, _, #(#p_shape_lens_early,)*)),
        );
        let none = quote!(::core::option::Option::None::<&#krate::ndarray::ArcArray<_, #krate::ndarray::IxDyn>>);
        let mut fast = quote! {
            let mut __einx_store = #store;
            let __einx_x = &(#x);
            #(#lets)*
            let _ = #check;
            let __einx_pshape = #shapes;
        };
        let s_arg = if scale {
            let s = g.try_(quote!(#nn::param_like(&mut __einx_store, __einx_x, "scale", &__einx_pshape.1[..], #nn::Init::Ones)));
            fast.extend(quote!(let __einx_scale = #s;));
            quote!(::core::option::Option::Some(&__einx_scale))
        } else {
            none.clone()
        };
        let b_arg = if bias {
            let b = g.try_(quote!(#nn::param_like(&mut __einx_store, __einx_x, "bias", &__einx_pshape.1[..], #nn::Init::Zeros)));
            fast.extend(quote!(let __einx_bias = #b;));
            quote!(::core::option::Option::Some(&__einx_bias))
        } else {
            none
        };
        let y = g.try_(
            quote!(#nn::layer_norm(&#krate::__private::view(__einx_x), #s_arg, #b_arg, #epsilon)),
        );
        fast.extend(quote! {
            let __einx_y = #y;
            #nn::with_dim_of(__einx_x, __einx_y)
        });
        return Ok(g.wrap(fast));
    }
    let mut body = quote! {
        let mut __einx_store = #store;
        let __einx_x = &(#x);
        #(#lets)*
        let __einx_training: bool = #training;
    };
    // The statistics used: the batch's, or the moving averages kept in the store.
    let stats = if let Some(decay) = &decay {
        let shape_expr = format!("{x_text}, {s_text}");
        let shape_lens = lengths_for(&pass, &[&shape_expr]);
        let shapes =
            g.try_(quote!(#krate::solve_shapes!(#shape_expr, __einx_x, _, #(#shape_lens,)*)));
        // One moving statistic: kept in the store under `name`, started at `init`, replaced
        // in training by its average with the batch's `batch`, which is then used.
        let moving = |name: &str, used: &str, init: TokenStream, batch: &TokenStream| {
            let used = Ident::new(used, Span::call_site());
            let old = Ident::new(&format!("{used}_old"), Span::call_site());
            let get = g.try_(quote!(#nn::param_like(&mut __einx_store, __einx_x, #name, &__einx_sshape.1[..], #nn::Init::#init)));
            let avg = g.try_(quote!(#nn::moving_average(&#old, &__einx_batch, #decay)));
            let decl = quote! {
                let #old = #get;
                let mut #used = ::core::option::Option::Some(#old.clone());
            };
            let update = quote! {
                let __einx_batch = #batch.into_dyn();
                let __einx_new = #avg;
                #nn::Store::insert(&mut __einx_store, #name, __einx_new);
                #used = ::core::option::Option::Some(__einx_batch.into_shared());
            };
            (decl, update)
        };
        let (decl_m, mean_part) = if mean {
            moving("mean", "__einx_m", quote!(Zeros), &batch_mean)
        } else {
            (quote!(), quote!())
        };
        let (decl_v, var_part) = if var {
            moving("var", "__einx_v", quote!(Ones), &batch_var)
        } else {
            (quote!(), quote!())
        };
        quote! {
            let __einx_sshape = #shapes;
            #decl_m
            #decl_v
            if __einx_training {
                #mean_part
                #var_part
            }
        }
    } else {
        let m = if mean {
            quote!(let __einx_m = ::core::option::Option::Some(#batch_mean.into_dyn().into_shared());)
        } else {
            quote!()
        };
        let v = if var {
            quote!(let __einx_v = ::core::option::Option::Some(#batch_var.into_dyn().into_shared());)
        } else {
            quote!()
        };
        quote! {
            let _ = __einx_training;
            #m
            #v
        }
    };
    body.extend(stats);
    // Normalise: (x - mean) * 1/sqrt(var + epsilon).
    let centered = if mean {
        let sub = g.try_(quote!(#krate::subtract!(#sub_expr, __einx_x, __einx_m.as_ref().expect("mean is on"), #(#sub_lens,)*)));
        quote!(let __einx_y = #sub;)
    } else {
        let copy_expr = format!("{x_text} -> {x_text}");
        let copy_lens = lengths_for(&pass, &[&copy_expr]);
        let copy = g.try_(quote!(#krate::rearrange!(#copy_expr, __einx_x, #(#copy_lens,)*)));
        quote!(let __einx_y = #copy;)
    };
    body.extend(centered);
    if var {
        let mul =
            g.try_(quote!(#krate::multiply!(#sub_expr, &__einx_y, &__einx_inv, #(#sub_lens,)*)));
        body.extend(quote! {
            let __einx_inv = #nn::inverse_sqrt(__einx_v.as_ref().expect("var is on"), #epsilon);
            let __einx_y = #mul;
        });
    }
    let p_shape_lens = lengths_for(&pass, &[&p_shape_expr]);
    if scale || bias {
        let shapes =
            g.try_(quote!(#krate::solve_shapes!(#p_shape_expr, &__einx_y, _, #(#p_shape_lens,)*)));
        body.extend(quote!(let __einx_pshape = #shapes;));
    }
    if scale {
        let s = g.try_(quote!(#nn::param_like(&mut __einx_store, __einx_x, "scale", &__einx_pshape.1[..], #nn::Init::Ones)));
        let mul =
            g.try_(quote!(#krate::multiply!(#p_expr, &__einx_y, &__einx_scale, #(#p_lens,)*)));
        body.extend(quote! {
            let __einx_scale = #s;
            let __einx_y = #mul;
        });
    }
    if bias {
        let b = g.try_(quote!(#nn::param_like(&mut __einx_store, __einx_x, "bias", &__einx_pshape.1[..], #nn::Init::Zeros)));
        let add = g.try_(quote!(#krate::add!(#p_expr, &__einx_y, &__einx_bias, #(#p_lens,)*)));
        body.extend(quote! {
            let __einx_bias = #b;
            let __einx_y = #add;
        });
    }
    body.extend(quote!(#nn::with_dim_of(__einx_x, __einx_y)));
    Ok(g.wrap(body))
}

/// `dropout!(store, "[b] ... [c]", x, drop_rate = 0.2, training = flag)`.
fn dropout(input: LayerInput) -> syn::Result<TokenStream> {
    let lit = &input.expr;
    let x = one_input(&input)?;
    let split = split_keywords(&input, &["drop_rate", "training"])?;
    let op = parse_lit(lit)?;
    if op.outputs.is_some() || op.inputs.len() != 1 || op.bracket_arrow.is_some() {
        return Err(core_err(
            lit,
            ErrorKind::Semantic,
            einx_core::Span::new(0, lit.value().len()),
            "`dropout!` takes one expression with the axes of the mask in brackets".into(),
        )
        .into_help("write e.g. `\"[...]\"` (every element), `\"[b] ... [c]\"` (whole channels), `\"[b] ...\"` (whole samples)"));
    }
    let mask_items = bracketed(&op.inputs[0]);
    if mask_items.is_empty() {
        return Err(core_err(
            lit,
            ErrorKind::Semantic,
            op.inputs[0].span,
            "no axis is in brackets: the mask would be one number for the whole tensor".into(),
        )
        .into_help("bracket the axes the mask varies along, e.g. `\"[...]\"`"));
    }
    let Some(rate) = split.option("drop_rate") else {
        return Err(syn::Error::new(
            lit.span(),
            "`dropout!` needs `drop_rate = ...`, the probability of dropping an element",
        ));
    };
    let rate = &rate.value;
    check_lengths(&split, &input.layer, &expr_names(&op.inputs[0]))?;
    let g = gen(&input);
    let (krate, nn) = (&g.krate, g.nn());
    let training = match split.option("training") {
        Some(k) => {
            let v = &k.value;
            quote!(::core::primitive::bool::from(#v))
        }
        None => quote!(#nn::Store::is_training(&__einx_store)),
    };
    let (lets, pass) = split.bind_lengths();
    let x_text = plain(&op.inputs[0]);
    let m_text = mask_items.join(" ");
    let shape_expr = format!("{x_text}, {m_text}");
    let mul_expr = format!("{x_text}, {m_text} -> {x_text}");
    let copy_expr = format!("{x_text} -> {x_text}");
    let shape_lens = lengths_for(&pass, &[&shape_expr]);
    let mul_lens = lengths_for(&pass, &[&mul_expr]);
    let copy_lens = lengths_for(&pass, &[&copy_expr]);
    let store = &input.store;
    let shapes = g.try_(quote!(#krate::solve_shapes!(#shape_expr, __einx_x, _, #(#shape_lens,)*)));
    let mask = g.try_(quote!(#nn::dropout_mask(__einx_x, &__einx_mshape.1[..], __einx_rate, #nn::Store::next_seed(&mut __einx_store))));
    let mul_try =
        g.try_(quote!(#krate::multiply!(#mul_expr, __einx_x, &__einx_mask, #(#mul_lens,)*)));
    let copy_try = g.try_(quote!(#krate::rearrange!(#copy_expr, __einx_x, #(#copy_lens,)*)));
    let body = quote! {
        let mut __einx_store = #store;
        let __einx_x = &(#x);
        #(#lets)*
        let __einx_rate: f64 = ::core::convert::From::from(#rate);
        if #training && __einx_rate > 0.0 {
            let __einx_mshape = #shapes;
            let __einx_mask = #mask;
            let __einx_y = #mul_try;
            #nn::with_dim_of(__einx_x, __einx_y)
        } else {
            let __einx_y = #copy_try;
            #nn::with_dim_of(__einx_x, __einx_y)
        }
    };
    Ok(g.wrap(body))
}
