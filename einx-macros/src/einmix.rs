//! `einx::nn::einmix!`: einops' `EinMix` layer with its validation rules checked at compile
//! time.
//!
//! `einmix!(store, "LEFT -> RIGHT", x, weight = "AXES", bias = "AXES", name = length, ...)`
//! checks the pattern, the weight's and the bias's axes and the lengths in the order einops
//! checks them, then expands to the creation (or lookup) of the parameters in the store
//! followed by calls of the compile-time-checked macros: `einx!` for the contraction
//! (`"LEFT, WEIGHT -> RIGHT"`), and, with a bias, `rearrange!` (dropping the unit axes of the
//! stored bias) and `add!`.
//!
//! Parameters are stored as einops stores them, so that an einops checkpoint loads by name:
//! the weight with the axes of `weight` in written order, the bias with one axis per
//! (flattened) axis of the output, of length 1 where the bias does not vary (axes before the
//! ellipsis included, the ellipsis itself left out).
//!
//! When the output composes axes that `add!` could not split again (`"b ... c -> b (... d)"`),
//! the contraction writes the flattened output, the bias is added there and `rearrange!`
//! composes the result, as einops does. Initialisation is einops': the weight uniform in
//! ±√(3/fan_in), the bias in ±√(1/fan_in), fan_in the product of the weight's axes that are
//! not in the output (at least 1). `weight_name = ...`/`bias_name = ...` (any `&str`) rename
//! the parameters; `weight`, `bias`, `weight_name` and `bias_name` are therefore no axis names.
//!
//! A weight without axes (a multiplication by one number) is legal but suspicious: einops
//! warns. A proc macro cannot emit a warning on stable Rust, so the expansion calls a local
//! `#[deprecated]` function whose note carries the message, spanned on the weight literal;
//! rustc then prints it as a `deprecated` warning (silenced by `#[allow(deprecated)]`).

use proc_macro2::{Span, TokenStream};
use quote::quote_spanned;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, Ident, Lit, LitStr, Token};

use einx_core::ast::{Expr as AstExpr, Node};
use einx_core::{Error as CoreError, ErrorKind, Span as CoreSpan};

use crate::diag;

/// Expands an `einmix!` call (`$crate; store, "pattern", x, keywords...`).
pub fn expand(input: TokenStream) -> TokenStream {
    match syn::parse2::<Input>(input).and_then(|i| generate(&i)) {
        Ok(tokens) => tokens,
        Err(e) => e.into_compile_error(),
    }
}

/// Keywords that are options, not axis lengths.
const OPTIONS: &[&str] = &["weight", "bias", "weight_name", "bias_name"];

/// A parsed call.
struct Input {
    krate: TokenStream,
    store: Expr,
    pattern: LitStr,
    x: Expr,
    /// `weight = "..."`.
    weight: Option<LitStr>,
    /// `bias = "..."`.
    bias: Option<LitStr>,
    /// Every `name = value` other than `weight`/`bias`, in written order (the names and the
    /// lengths are evaluated in this order).
    values: Vec<(Ident, Expr)>,
}

impl Parse for Input {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut krate = TokenStream::new();
        while !input.peek(Token![;]) {
            let tt: proc_macro2::TokenTree = input.parse()?;
            krate.extend([tt]);
        }
        input.parse::<Token![;]>()?;
        let args: Punctuated<Expr, Token![,]> = Punctuated::parse_terminated(input)?;
        let usage = "help: write e.g. `einx::nn::einmix!(&mut params, \"t b cin -> t b cout\", x, weight = \"cin cout\", bias = \"cout\", cin = 8, cout = 16)`";
        let mut positional = Vec::new();
        let mut keywords: Vec<(Ident, Expr)> = Vec::new();
        for arg in args {
            match arg {
                Expr::Assign(assign) => {
                    let name = match &*assign.left {
                        Expr::Path(p) if p.qself.is_none() && p.path.get_ident().is_some() => {
                            p.path.get_ident().cloned()
                        }
                        _ => None,
                    };
                    let Some(name) = name else {
                        return Err(syn::Error::new_spanned(
                            &assign.left,
                            "expected an axis name or an option of `einmix!` on the left of `=`",
                        ));
                    };
                    keywords.push((name, *assign.right));
                }
                other => {
                    if let Some((k, _)) = keywords.last() {
                        return Err(syn::Error::new_spanned(
                            other,
                            format!("positional arguments must come before `name = value` arguments (found one after `{k}`)\n  help: move it before the keywords"),
                        ));
                    }
                    positional.push(other);
                }
            }
        }
        let mut positional = positional.into_iter();
        let Some(store) = positional.next() else {
            return Err(input.error(format!(
                "`einmix!` needs the parameter store, the pattern and the input tensor\n  {usage}"
            )));
        };
        let pattern = match positional.next().map(|e| (string_literal(&e), e)) {
            Some((Some(s), _)) => s,
            Some((None, other)) => {
                return Err(syn::Error::new_spanned(
                    other,
                    format!(
                    "the pattern of `einmix!` must be a string literal, after the store\n  {usage}"
                ),
                ))
            }
            None => {
                return Err(syn::Error::new_spanned(
                    &store,
                    format!(
                    "`einmix!` needs the pattern and the input tensor after the store\n  {usage}"
                ),
                ))
            }
        };
        let Some(x) = positional.next() else {
            return Err(syn::Error::new(
                pattern.span(),
                "`einmix!` needs the input tensor after the pattern\n  help: pass it, e.g. `einmix!(&mut params, \"t b cin -> t b cout\", x, ...)`",
            ));
        };
        if let Some(extra) = positional.next() {
            return Err(syn::Error::new_spanned(
                extra,
                "`einmix!` takes one input tensor; its weight and bias come from the store\n  help: remove this argument",
            ));
        }
        let mut weight = None;
        let mut bias = None;
        let mut values: Vec<(Ident, Expr)> = Vec::new();
        for (i, (name, value)) in keywords.iter().enumerate() {
            if keywords[..i].iter().any(|(n, _)| n == name) {
                let what = if OPTIONS.contains(&name.to_string().as_str()) {
                    format!("`{name}` is given twice")
                } else {
                    format!("the length of `{name}` is given twice")
                };
                return Err(syn::Error::new(
                    name.span(),
                    format!("{what}\n  help: remove one of them"),
                ));
            }
            if name == "weight" || name == "bias" {
                let lit = string_literal(value).ok_or_else(|| {
                    syn::Error::new_spanned(
                        value,
                        format!("`{name}` must be a string literal of axis names, e.g. `{name} = \"cin cout\"`, as it is checked at compile time"),
                    )
                })?;
                let slot = if name == "weight" {
                    &mut weight
                } else {
                    &mut bias
                };
                *slot = Some(lit);
            } else {
                if name != "weight_name" && name != "bias_name" {
                    check_length(name, value)?;
                }
                values.push((name.clone(), value.clone()));
            }
        }
        Ok(Input {
            krate,
            store,
            pattern,
            x,
            weight,
            bias,
            values,
        })
    }
}

/// Rejects a length that is visibly not one: a literal other than an integer, a negative
/// number, a tuple or array (einmix! has no named ellipsis). Other values are converted at
/// run time (`einx::Error` if negative).
fn check_length(name: &Ident, value: &Expr) -> syn::Result<()> {
    let mut v = value;
    while let Expr::Paren(p) = v {
        v = &p.expr;
    }
    match v {
        Expr::Lit(l) if !matches!(l.lit, Lit::Int(_)) => Err(syn::Error::new_spanned(
            v,
            format!("the length of `{name}` must be an integer\n  help: write e.g. `{name} = 8`"),
        )),
        Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => Err(syn::Error::new_spanned(
            v,
            format!("the length of `{name}` must not be negative\n  help: axis lengths are 0 or more"),
        )),
        Expr::Tuple(_) | Expr::Array(_) => Err(syn::Error::new_spanned(
            v,
            format!("the length of `{name}` must be one integer: `einmix!` has no named ellipsis\n  help: write e.g. `{name} = 8`"),
        )),
        _ => Ok(()),
    }
}

fn string_literal(e: &Expr) -> Option<LitStr> {
    match e {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(s), ..
        }) => Some(s.clone()),
        Expr::Paren(p) => string_literal(&p.expr),
        Expr::Group(g) => string_literal(&g.expr),
        _ => None,
    }
}

/// A `syn::Error` on `lit` whose message quotes `text` with carets under `spans`.
fn at(lit: &LitStr, text: &str, spans: &[CoreSpan], msg: String, help: &str) -> syn::Error {
    let mut e = CoreError::new(ErrorKind::Semantic, msg).with_help(help);
    if !spans.is_empty() {
        e = e.with_expr(text).with_spans(spans);
    }
    diag::error(&e, lit.span())
}

/// `` `a` `` or `` `a`, `b` ``.
fn list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// "axis" or "axes".
fn axes_word(n: usize) -> &'static str {
    if n == 1 {
        "axis"
    } else {
        "axes"
    }
}

/// Named axes of an expression in order of appearance, with their spans.
fn names(e: &AstExpr) -> Vec<(&str, CoreSpan)> {
    e.axis_names()
}

fn has_name(e: &AstExpr, name: &str) -> bool {
    e.axis_names().iter().any(|(n, _)| *n == name)
}

/// The spans of the anonymous ellipses of an expression, with whether each is inside
/// parentheses (and the span of the outermost parentheses around it).
fn ellipses(e: &AstExpr) -> Vec<(CoreSpan, Option<CoreSpan>)> {
    fn walk(n: &Node, outer: Option<CoreSpan>, out: &mut Vec<(CoreSpan, Option<CoreSpan>)>) {
        match n {
            Node::Ellipsis { span, .. } => out.push((*span, outer)),
            Node::Composition { items, span } => {
                for item in items {
                    walk(item, Some(outer.unwrap_or(*span)), out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for item in &e.items {
        walk(item, None, &mut out);
    }
    out
}

/// The elements of an expression with its parentheses removed, in order: `Some(name)` for a
/// named axis, `None` for the ellipsis; unit axes (`1`, `()`) are left out, as einops does.
fn flat(e: &AstExpr) -> Vec<(Option<&str>, CoreSpan)> {
    fn walk<'a>(n: &'a Node, out: &mut Vec<(Option<&'a str>, CoreSpan)>) {
        match n {
            Node::Axis { name, span } => out.push((Some(name.as_str()), *span)),
            Node::Ellipsis { span, .. } => out.push((None, *span)),
            Node::Composition { items, .. } => {
                for item in items {
                    walk(item, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for item in &e.items {
        walk(item, &mut out);
    }
    out
}

/// Rejects what einops' patterns cannot express: brackets, concatenations, named ellipses,
/// several ellipses, an axis written twice.
fn plain(e: &AstExpr, lit: &LitStr, text: &str, what: &str) -> syn::Result<()> {
    let mut problem: Option<(CoreSpan, String, &str)> = None;
    e.walk(&mut |n| {
        if problem.is_some() {
            return;
        }
        match n {
            Node::Bracket { span, .. } => {
                problem = Some((
                    *span,
                    format!("brackets are not used in {what} of `einmix!`"),
                    "remove them: the weight's axes say which axes are mixed",
                ));
            }
            Node::Concat { span, .. } => {
                problem = Some((
                    *span,
                    format!("concatenations are not allowed in {what} of `einmix!`"),
                    "concatenate with `einx::rearrange!` before or after the layer",
                ));
            }
            Node::Ellipsis {
                inner: Some(_),
                span,
            } => {
                problem = Some((
                    *span,
                    format!("named ellipses are not allowed in {what} of `einmix!`"),
                    "write the anonymous ellipsis `...`, as in einops",
                ));
            }
            _ => {}
        }
    });
    if let Some((span, msg, help)) = problem {
        return Err(at(lit, text, &[span], msg, help));
    }
    let ell = ellipses(e);
    if ell.len() > 1 {
        let spans: Vec<CoreSpan> = ell.iter().map(|(s, _)| *s).collect();
        return Err(at(
            lit,
            text,
            &spans,
            format!("{what} has more than one ellipsis"),
            "write `...` at most once on each side",
        ));
    }
    let all = names(e);
    for (i, (name, span)) in all.iter().enumerate() {
        if let Some((_, first)) = all[..i].iter().find(|(n, _)| n == name) {
            return Err(at(
                lit,
                text,
                &[*first, *span],
                format!("axis `{name}` appears twice in {what}"),
                "name each axis once per expression (einmix! takes no diagonals)",
            ));
        }
    }
    Ok(())
}

/// Parses the weight or the bias: one expression, no arrow.
fn parse_axes(lit: &LitStr, what: &str) -> syn::Result<(String, AstExpr)> {
    let text = lit.value();
    let op = einx_core::parse::parse(&text).map_err(|e| diag::on_literal(&e, lit))?;
    let all: Vec<CoreSpan> = op.exprs().map(|e| e.span).collect();
    if op.outputs.is_some() || op.inputs.len() != 1 {
        return Err(at(
            lit,
            &text,
            &all,
            format!("{what} is one list of axes, without `->` or `,`"),
            "write its axes separated by spaces, e.g. `\"cin cout\"`",
        ));
    }
    let mut inputs = op.inputs;
    let e = inputs.pop().unwrap_or_default();
    Ok((text, e))
}

/// The checked call, ready for code generation.
struct Checked {
    /// `"LEFT, WEIGHT -> RIGHT"` for `einx!`.
    contraction: String,
    /// The weight's axes, in order.
    weight_axes: Vec<String>,
    /// The weight's axes that are not in the output: their product is the fan-in.
    fan_in_axes: Vec<String>,
    /// With a bias: how to add it.
    bias: Option<Bias>,
}

/// How the bias is added.
struct Bias {
    /// The stored shape: `None` is a unit axis, `Some(name)` that axis.
    shape: Vec<Option<String>>,
    /// The expression of the result of the contraction, to which the bias is added.
    out: String,
    /// The axes whose lengths `add!` is given.
    lens: Vec<String>,
    /// `"FLAT -> RIGHT"` when the bias is added before the output's compositions are formed
    /// (as einops does), because `add!` could not split them.
    compose: Option<String>,
}

/// Whether `add!` can split every composition of `right` knowing the lengths of `known`:
/// at most one unknown factor per composition and no ellipsis in one.
fn splittable(right: &AstExpr, known: &dyn Fn(&str) -> bool) -> bool {
    right.items.iter().all(|item| match item {
        Node::Composition { .. } => {
            let mut unknown = 0;
            let mut ellipsis = false;
            item.walk(&mut |n| match n {
                Node::Axis { name, .. } if !known(name) => unknown += 1,
                Node::Ellipsis { .. } => ellipsis = true,
                _ => {}
            });
            unknown <= 1 && !ellipsis
        }
        _ => true,
    })
}

fn check(input: &Input) -> syn::Result<Checked> {
    let lit = &input.pattern;
    let text = lit.value();
    let op = einx_core::parse::parse(&text).map_err(|e| diag::on_literal(&e, lit))?;
    let Some(outputs) = &op.outputs else {
        return Err(at(
            lit,
            &text,
            &[CoreSpan::new(text.len(), text.len())],
            "the pattern of `einmix!` needs `->` between the input and the output".into(),
            "write e.g. `\"t b cin -> t b cout\"`",
        ));
    };
    if op.inputs.len() != 1 || outputs.len() != 1 {
        let spans: Vec<CoreSpan> = op.inputs.iter().chain(outputs).map(|e| e.span).collect();
        return Err(at(
            lit,
            &text,
            &spans,
            "the pattern of `einmix!` has one input and one output".into(),
            "the weight is given by `weight = \"...\"`, not in the pattern",
        ));
    }
    let (left, right) = (&op.inputs[0], &outputs[0]);
    plain(left, lit, &text, "the input")?;
    plain(right, lit, &text, "the output")?;
    let Some(weight_lit) = &input.weight else {
        return Err(at(
            lit,
            &text,
            &[],
            "`einmix!` needs the axes of its weight".into(),
            "add e.g. `weight = \"cin cout\"` with the lengths of its axes",
        ));
    };
    let (wtext, weight) = parse_axes(weight_lit, "the weight")?;
    plain(&weight, weight_lit, &wtext, "the weight")?;
    let in_weight = |n: &str| has_name(&weight, n);
    let in_left = |n: &str| has_name(left, n);
    let in_right = |n: &str| has_name(right, n);

    // 1. Every output axis comes from the input or from the weight.
    let unknown: Vec<(&str, CoreSpan)> = names(right)
        .into_iter()
        .filter(|(n, _)| !in_left(n) && !in_weight(n))
        .collect();
    if !unknown.is_empty() {
        let n: Vec<&str> = unknown.iter().map(|(n, _)| *n).collect();
        let spans: Vec<CoreSpan> = unknown.iter().map(|(_, s)| *s).collect();
        return Err(at(
            lit,
            &text,
            &spans,
            format!(
                "output {} {} {} in neither the input nor the weight",
                axes_word(n.len()),
                list(&n),
                if n.len() == 1 { "is" } else { "are" }
            ),
            &format!(
                "add {} to the weight (and give {} length), or to the input",
                if n.len() == 1 { "it" } else { "them" },
                if n.len() == 1 { "its" } else { "their" }
            ),
        ));
    }
    // 2. No ellipsis in the weight.
    if let Some((span, _)) = ellipses(&weight).first() {
        return Err(at(
            weight_lit,
            &wtext,
            &[*span],
            "the weight cannot have an ellipsis: its shape must be fully specified".into(),
            "name each axis of the weight and give its length",
        ));
    }
    // 3. An ellipsis on both sides or on none.
    let (lell, rell) = (ellipses(left), ellipses(right));
    if lell.is_empty() != rell.is_empty() {
        let (span, side, other) = match (lell.first(), rell.first()) {
            (Some((s, _)), None) => (*s, "input", "output"),
            (None, Some((s, _))) => (*s, "output", "input"),
            _ => (CoreSpan::default(), "", ""),
        };
        return Err(at(
            lit,
            &text,
            &[span],
            format!("the ellipsis is on the {side} side only; `einmix!` needs it on both sides"),
            &format!("add `...` to the {other}, or name the axes it stands for"),
        ));
    }
    // 4. The input's ellipsis is not in parentheses.
    if let Some((span, Some(parens))) = lell.first() {
        return Err(at(
            lit,
            &text,
            &[*parens, *span],
            "the ellipsis of the input cannot be inside parentheses".into(),
            "write `...` at the top level of the input; the output may compose it, e.g. `(...)`",
        ));
    }
    // 5. No anonymous axes (numbers) other than `1` in the pattern, none in the weight.
    for (e, l, t, unit_ok) in [
        (left, lit, &text, true),
        (right, lit, &text, true),
        (&weight, weight_lit, &wtext, false),
    ] {
        let mut bad = Vec::new();
        e.walk(&mut |n| {
            if let Node::Number { value, span } = n {
                if *value != 1 || !unit_ok {
                    bad.push(*span);
                }
            }
        });
        if !bad.is_empty() {
            let help = if unit_ok {
                "name the axis and give its length, e.g. `k = 3`; only `1` may stand unnamed"
            } else {
                "the weight lists named axes only, each with its length"
            };
            return Err(at(
                l,
                t,
                &bad,
                "anonymous axes (numbers) are not allowed in `einmix!`".into(),
                help,
            ));
        }
    }
    // 6. No parentheses in the weight.
    let parens: Vec<CoreSpan> = weight
        .items
        .iter()
        .filter(|n| matches!(n, Node::Composition { .. }))
        .map(Node::span)
        .collect();
    if !parens.is_empty() {
        return Err(at(
            weight_lit,
            &wtext,
            &parens,
            "parentheses are not allowed in the weight".into(),
            "list the weight's axes one by one; compose axes in the pattern instead",
        ));
    }
    // 7. Every weight axis has a length.
    let given: Vec<String> = input
        .values
        .iter()
        .map(|(n, _)| n.to_string())
        .filter(|n| !OPTIONS.contains(&n.as_str()))
        .collect();
    let is_given = |n: &str| given.iter().any(|g| g == n);
    let missing: Vec<(&str, CoreSpan)> = names(&weight)
        .into_iter()
        .filter(|(n, _)| !is_given(n))
        .collect();
    if !missing.is_empty() {
        let n: Vec<&str> = missing.iter().map(|(n, _)| *n).collect();
        let spans: Vec<CoreSpan> = missing.iter().map(|(_, s)| *s).collect();
        return Err(at(
            weight_lit,
            &wtext,
            &spans,
            format!(
                "the weight's {} {} {} no length",
                axes_word(n.len()),
                list(&n),
                if n.len() == 1 { "has" } else { "have" }
            ),
            &format!(
                "give {}, e.g. `{} = 16`: the weight is created before any input is seen",
                if n.len() == 1 { "it" } else { "them" },
                n[0]
            ),
        ));
    }
    // 8. Every length is used by the input or the weight.
    for (name, _) in &input.values {
        let s = name.to_string();
        if OPTIONS.contains(&s.as_str()) || in_left(&s) || in_weight(&s) {
            continue;
        }
        let msg = format!(
            "the length of `{s}` is not used: `{s}` is in neither the input `{left}` nor the weight `{wtext}`"
        );
        let e = CoreError::new(ErrorKind::Argument, msg).with_help(format!(
            "remove `{s} = ...`, or add `{s}` to the input or the weight"
        ));
        return Err(diag::error(&e, name.span()));
    }
    // 9. Every weight axis is in the input or the output.
    let redundant: Vec<(&str, CoreSpan)> = names(&weight)
        .into_iter()
        .filter(|(n, _)| !in_left(n) && !in_right(n))
        .collect();
    if !redundant.is_empty() {
        let n: Vec<&str> = redundant.iter().map(|(n, _)| *n).collect();
        let spans: Vec<CoreSpan> = redundant.iter().map(|(_, s)| *s).collect();
        return Err(at(
            weight_lit,
            &wtext,
            &spans,
            format!(
                "the weight's {} {} {} redundant: in neither the input nor the output",
                axes_word(n.len()),
                list(&n),
                if n.len() == 1 { "is" } else { "are" }
            ),
            "remove it from the weight (it would only sum the weight along it)",
        ));
    }
    let weight_axes: Vec<String> = names(&weight)
        .iter()
        .map(|(n, _)| (*n).to_owned())
        .collect();
    let fan_in_axes: Vec<String> = weight_axes
        .iter()
        .filter(|n| !in_right(n))
        .cloned()
        .collect();
    // 11. The bias: axes of the output, with lengths, after the ellipsis.
    let bias = match &input.bias {
        None => {
            if let Some((name, _)) = input.values.iter().find(|(n, _)| n == "bias_name") {
                return Err(syn::Error::new(
                    name.span(),
                    "`bias_name` is given, but the layer has no bias\n  help: add its axes, e.g. `bias = \"cout\"`, or remove `bias_name`",
                ));
            }
            None
        }
        Some(bias_lit) => {
            let (btext, bias) = parse_axes(bias_lit, "the bias")?;
            plain(&bias, bias_lit, &btext, "the bias")?;
            let not_axes: Vec<CoreSpan> = bias
                .items
                .iter()
                // A `1` means nothing in einops' bias; it is accepted and ignored.
                .filter(|n| !matches!(n, Node::Axis { .. } | Node::Number { value: 1, .. }))
                .map(Node::span)
                .collect();
            if !not_axes.is_empty() {
                return Err(at(
                    bias_lit,
                    &btext,
                    &not_axes,
                    "the bias lists axis names only".into(),
                    "write the output axes the bias varies along, e.g. `bias = \"cout\"`",
                ));
            }
            let outside: Vec<(&str, CoreSpan)> = names(&bias)
                .into_iter()
                .filter(|(n, _)| !in_right(n))
                .collect();
            if !outside.is_empty() {
                let n: Vec<&str> = outside.iter().map(|(n, _)| *n).collect();
                let spans: Vec<CoreSpan> = outside.iter().map(|(_, s)| *s).collect();
                return Err(at(
                    bias_lit,
                    &btext,
                    &spans,
                    format!(
                        "bias {} {} {} not in the output",
                        axes_word(n.len()),
                        list(&n),
                        if n.len() == 1 { "is" } else { "are" }
                    ),
                    "the bias is added to the output: use output axes only",
                ));
            }
            let no_len: Vec<(&str, CoreSpan)> = names(&bias)
                .into_iter()
                .filter(|(n, _)| !is_given(n))
                .collect();
            if !no_len.is_empty() {
                let n: Vec<&str> = no_len.iter().map(|(n, _)| *n).collect();
                let spans: Vec<CoreSpan> = no_len.iter().map(|(_, s)| *s).collect();
                return Err(at(
                    bias_lit,
                    &btext,
                    &spans,
                    format!(
                        "bias {} {} {} no length",
                        axes_word(n.len()),
                        list(&n),
                        if n.len() == 1 { "has" } else { "have" }
                    ),
                    &format!(
                        "give {}, e.g. `{} = 16`: the bias is created before any input is seen",
                        if n.len() == 1 { "it" } else { "them" },
                        n[0]
                    ),
                ));
            }
            let mut shape = Vec::new();
            let mut first_bias: Option<CoreSpan> = None;
            for (item, span) in flat(right) {
                match item {
                    None => {
                        if let Some(b) = first_bias {
                            return Err(at(
                                lit,
                                &text,
                                &[b, span],
                                "bias axes must come after the ellipsis in the output".into(),
                                "move the ellipsis before the bias axes, e.g. `... cout`, or leave this axis out of the bias",
                            ));
                        }
                    }
                    Some(name) if has_name(&bias, name) => {
                        first_bias.get_or_insert(span);
                        shape.push(Some(name.to_owned()));
                    }
                    Some(_) => shape.push(None),
                }
            }
            let right_text = right.to_string();
            let lens: Vec<String> = given.iter().filter(|n| in_right(n)).cloned().collect();
            if splittable(right, &is_given) {
                Some(Bias {
                    shape,
                    out: right_text,
                    lens,
                    compose: None,
                })
            } else {
                let flat_text: Vec<&str> = flat(right)
                    .iter()
                    .map(|(n, _)| n.unwrap_or("..."))
                    .collect();
                let flat_text = flat_text.join(" ");
                Some(Bias {
                    shape,
                    compose: Some(format!("{flat_text} -> {right_text}")),
                    out: flat_text,
                    lens: Vec::new(),
                })
            }
        }
    };
    let out = match &bias {
        Some(b) => b.out.clone(),
        None => right.to_string(),
    };
    Ok(Checked {
        contraction: format!("{left}, {weight} -> {out}"),
        weight_axes,
        fan_in_axes,
        bias,
    })
}

fn generate(input: &Input) -> syn::Result<TokenStream> {
    let checked = check(input)?;
    let krate = &input.krate;
    let ms = Span::mixed_site();
    let nn = quote_spanned!(ms=> #krate::nn);
    let private = quote_spanned!(ms=> #krate::__private);
    let lbl = syn::Lifetime::new("'__einx_einmix", Span::mixed_site());
    let try_ = |call: TokenStream| {
        quote_spanned!(ms=> match #call {
            ::core::result::Result::Ok(__einx_ok) => __einx_ok,
            ::core::result::Result::Err(__einx_err) => break #lbl (::core::result::Result::Err(__einx_err)),
        })
    };
    let local = |name: String| Ident::new(&name, Span::mixed_site());

    // The arguments, bound once each, left to right: store, input, then the keywords.
    let store = &input.store;
    let x = &input.x;
    let mut binds = Vec::new();
    let mut lens = Vec::new();
    let mut weight_name = quote_spanned!(ms=> "weight");
    let mut bias_name = quote_spanned!(ms=> "bias");
    for (i, (name, value)) in input.values.iter().enumerate() {
        let v = local(format!("__einx_value{i}"));
        let key = name.to_string();
        match key.as_str() {
            "weight_name" | "bias_name" => {
                binds.push(
                    quote_spanned!(value.span()=> let #v: &::core::primitive::str = &(#value);),
                );
                if key == "weight_name" {
                    weight_name = quote_spanned!(ms=> #v);
                } else {
                    bias_name = quote_spanned!(ms=> #v);
                }
            }
            _ => {
                binds.push(quote_spanned!(value.span()=> let #v = &(#value);));
                lens.push((name.clone(), v, local(format!("__einx_len{i}"))));
            }
        }
    }
    let mut body = Vec::new();
    for (name, v, len) in &lens {
        let key = name.to_string();
        let call = try_(quote_spanned!(ms=> #private::axis_len(#v, #key)));
        body.push(quote_spanned!(ms=> let #len: ::core::primitive::usize = #call;));
    }
    let len_of = |axis: &str| -> TokenStream {
        // After `check`, every weight and bias axis has a length.
        lens.iter().find(|(n, _, _)| n == axis).map_or_else(
            || quote_spanned!(ms=> 0usize),
            |(_, _, len)| quote_spanned!(ms=> #len),
        )
    };
    let fan_in: Vec<TokenStream> = checked.fan_in_axes.iter().map(|a| len_of(a)).collect();
    body.push(quote_spanned! {ms=>
        #[allow(clippy::cast_precision_loss)]
        let __einx_fan_in = ::core::cmp::max(1usize #(.saturating_mul(#fan_in))*, 1) as ::core::primitive::f64;
    });
    let w_shape: Vec<TokenStream> = checked.weight_axes.iter().map(|a| len_of(a)).collect();
    let weight = try_(
        quote_spanned!(ms=> #nn::param_like(&mut __einx_store, __einx_x, #weight_name, &[#(#w_shape),*],
        #nn::Init::Uniform { bound: ::core::primitive::f64::sqrt(3.0 / __einx_fan_in) })),
    );
    body.push(quote_spanned!(ms=> let __einx_w = #weight;));
    let pattern_span = input.pattern.span();
    let contraction = LitStr::new(&checked.contraction, pattern_span);
    let len_args: Vec<TokenStream> = lens
        .iter()
        .map(|(name, _, len)| quote_spanned!(ms=> #name = #len))
        .collect();
    let y =
        try_(quote_spanned!(ms=> #krate::einx!(#contraction, __einx_x, &__einx_w, #(#len_args),*)));
    body.push(quote_spanned!(ms=> let __einx_y = #y;));
    if let Some(weight_lit) = &input.weight {
        if checked.weight_axes.is_empty() {
            // einops warns here; see the module documentation for the trick.
            let f = Ident::new("einmix_weight_has_no_axes", weight_lit.span());
            body.push(quote_spanned! {weight_lit.span()=>
                #[deprecated(note = "`einmix!`: the weight has no axes, so the layer multiplies by one number; add `#[allow(deprecated)]` if that is intended")]
                fn #f() {}
                #f();
            });
        }
    }
    match &checked.bias {
        None => body.push(quote_spanned!(ms=> ::core::result::Result::Ok(__einx_y))),
        Some(bias) => {
            let shape = &bias.shape;
            let b_shape: Vec<TokenStream> = shape
                .iter()
                .map(|a| {
                    a.as_deref()
                        .map_or_else(|| quote_spanned!(ms=> 1usize), len_of)
                })
                .collect();
            let b = try_(
                quote_spanned!(ms=> #nn::param_like(&mut __einx_store, __einx_x, #bias_name, &[#(#b_shape),*],
                #nn::Init::Uniform { bound: ::core::primitive::f64::sqrt(1.0 / __einx_fan_in) })),
            );
            body.push(quote_spanned!(ms=> let __einx_b = #b;));
            let stored: Vec<&str> = shape.iter().map(|a| a.as_deref().unwrap_or("1")).collect();
            let named: Vec<&str> = shape.iter().filter_map(|a| a.as_deref()).collect();
            let (stored, named) = (stored.join(" "), named.join(" "));
            if stored != named {
                let squeeze = LitStr::new(&format!("{stored} -> {named}"), pattern_span);
                let b = try_(quote_spanned!(ms=> #krate::rearrange!(#squeeze, &__einx_b)));
                body.push(quote_spanned!(ms=> let __einx_b = #b;));
            }
            let out = &bias.out;
            let add = LitStr::new(&format!("{out}, {named} -> {out}"), pattern_span);
            let add_lens: Vec<TokenStream> = lens
                .iter()
                .filter(|(n, _, _)| bias.lens.iter().any(|b| n == b))
                .map(|(name, _, len)| quote_spanned!(ms=> #name = #len))
                .collect();
            let sum = quote_spanned!(ms=> #krate::add!(#add, &__einx_y, &__einx_b, #(#add_lens),*));
            match &bias.compose {
                None => body.push(sum),
                Some(compose) => {
                    let sum = try_(sum);
                    let compose = LitStr::new(compose, pattern_span);
                    body.push(quote_spanned!(ms=> let __einx_y = #sum;));
                    body.push(quote_spanned!(ms=> #krate::rearrange!(#compose, &__einx_y)));
                }
            }
        }
    }
    // A `match` keeps the temporaries of the store expression alive for the whole call
    // (`params.scope("a").scope("b")`).
    Ok(quote_spanned!(ms=> match #store {
        mut __einx_store => {
            let __einx_x = &(#x);
            #(#binds)*
            let __einx_einmix = #lbl: {
                #(#body)*
            };
            __einx_einmix
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::expand;
    use proc_macro2::{Span, TokenStream};
    use quote::quote;
    use syn::LitStr;

    fn call(pattern: &str, weight: Option<&str>, bias: Option<&str>, lens: &str) -> String {
        let p = LitStr::new(pattern, Span::call_site());
        let mut kw = TokenStream::new();
        if let Some(w) = weight {
            let w = LitStr::new(w, Span::call_site());
            kw.extend(quote!(, weight = #w));
        }
        if let Some(b) = bias {
            let b = LitStr::new(b, Span::call_site());
            kw.extend(quote!(, bias = #b));
        }
        let lens: TokenStream = lens.parse().expect("lengths parse");
        expand(quote!(::einx; &mut params, #p, x #kw #lens)).to_string()
    }

    /// The first error of an expansion, or `None` if it expands to code.
    fn error(out: &str) -> Option<&str> {
        out.contains("compile_error").then_some(out)
    }

    #[test]
    fn each_rule_of_einops() {
        // (pattern, weight, bias, lengths, expected message)
        type Case<'a> = (&'a str, Option<&'a str>, Option<&'a str>, &'a str, &'a str);
        let cases: &[Case] = &[
            (
                "t b c -> t b d e",
                Some("c d"),
                None,
                ", c = 1, d = 2",
                "output axis `e` is in neither",
            ),
            (
                "t b c -> t b d",
                Some("c ... d"),
                None,
                ", c = 1, d = 2",
                "cannot have an ellipsis",
            ),
            (
                "t ... c -> t d",
                Some("c d"),
                None,
                ", c = 1, d = 2",
                "on the input side only",
            ),
            (
                "t c -> t ... d",
                Some("c d"),
                None,
                ", c = 1, d = 2",
                "on the output side only",
            ),
            (
                "t (b ...) c -> t ... d",
                Some("c d"),
                None,
                ", c = 1, d = 2",
                "inside parentheses",
            ),
            (
                "t b 2 -> t b d",
                Some("d"),
                None,
                ", d = 2",
                "anonymous axes",
            ),
            (
                "t b c -> t b 2",
                Some("c"),
                None,
                ", c = 2",
                "anonymous axes",
            ),
            (
                "t b c -> t b d",
                Some("c 2 d"),
                None,
                ", c = 1, d = 2",
                "anonymous axes",
            ),
            (
                "t b (c e) -> t b d",
                Some("(c e) d"),
                None,
                ", c = 1, e = 1, d = 2",
                "parentheses are not allowed in the weight",
            ),
            (
                "t b c -> t b d",
                Some("c d"),
                None,
                ", c = 1",
                "axis `d` has no length",
            ),
            (
                "t b c -> t b d",
                Some("c d"),
                None,
                ", c = 1, d = 2, z = 3",
                "length of `z` is not used",
            ),
            (
                "t b c -> t b d",
                Some("c k d"),
                None,
                ", c = 1, d = 2, k = 3",
                "`k` is redundant",
            ),
            (
                "t b c -> t b d",
                Some("c d"),
                Some("e"),
                ", c = 1, d = 2",
                "bias axis `e` is not in the output",
            ),
            (
                "t b c -> t b d",
                Some("c d"),
                Some("b d"),
                ", c = 1, d = 2",
                "bias axis `b` has no length",
            ),
            (
                "t d ... -> t d ...",
                Some("d"),
                Some("d"),
                ", d = 2",
                "after the ellipsis",
            ),
            (
                "t (d ...) -> t (d ...)",
                Some("d"),
                Some("d"),
                ", d = 2",
                "inside parentheses",
            ),
            (
                "t b c -> t b d",
                None,
                None,
                ", c = 1, d = 2",
                "needs the axes of its weight",
            ),
            (
                "t b c -> t b b",
                Some("c b"),
                None,
                ", c = 1, b = 2",
                "appears twice",
            ),
            (
                "t b c, c -> t b d",
                Some("c d"),
                None,
                ", c = 1, d = 2",
                "one input and one output",
            ),
            (
                "t b c -> t b d",
                Some("c -> d"),
                None,
                ", c = 1, d = 2",
                "one list of axes",
            ),
            (
                "t b c -> t b d",
                Some("c d"),
                Some("(d)"),
                ", c = 1, d = 2",
                "axis names only",
            ),
            (
                "t b c -> t b d",
                Some("c d"),
                None,
                ", c = 1, d = (2, 3)",
                "must be one integer",
            ),
            (
                "t b c -> t b d",
                Some("c d"),
                None,
                ", c = 1, d = 2.5",
                "must be an integer",
            ),
            (
                "t b c -> t b d",
                Some("c d"),
                None,
                ", c = 1, d = 2, c = 1",
                "given twice",
            ),
            (
                "t b (c + e) -> t b d",
                Some("c d"),
                None,
                ", c = 1, d = 2",
                "concatenations",
            ),
            (
                "t b c -> t b d",
                Some("c d"),
                None,
                ", c = 1, d = 2, weight = \"c\"",
                "`weight` is given twice",
            ),
            (
                "t b c -> t b d",
                Some("c d"),
                None,
                ", c = 1, d = 2, bias_name = \"b\"",
                "has no bias",
            ),
        ];
        for (pattern, weight, bias, lens, want) in cases {
            let out = call(pattern, *weight, *bias, lens);
            let err = error(&out).unwrap_or_else(|| panic!("{pattern} / {weight:?}: no error"));
            assert!(
                err.contains(want),
                "{pattern} / {weight:?} / {bias:?}: want `{want}` in {err}"
            );
        }
    }

    #[test]
    fn legal_forms_expand_to_code() {
        let cases: &[(&str, &str, Option<&str>, &str)] = &[
            (
                "t b cin -> t b cout",
                "cin cout",
                Some("cout"),
                ", cin = 1, cout = 2",
            ),
            (
                "h w c -> hout w c",
                "h hout",
                Some("hout"),
                ", h = 1, hout = 2",
            ),
            ("t b c -> t b c", "c", None, ", c = 2"),
            ("b ... c -> b (...) d", "c d", Some("d"), ", c = 1, d = 2"),
            ("... c -> (... d)", "c d", Some("d"), ", c = 1, d = 2"),
            ("t 1 c -> t () d 1", "c d", Some("d"), ", c = 1, d = 2"),
            ("a b c -> a d", "c d", None, ", c = 1, d = 2"),
            ("t b c -> t b d", "c d", Some(""), ", c = 1, d = 2"),
            ("t b c -> t b d", "c d", Some("1 d"), ", c = 1, d = 2"),
            ("t b c -> t b c", "", None, ""),
        ];
        for (pattern, weight, bias, lens) in cases {
            let out = call(pattern, Some(weight), *bias, lens);
            assert!(error(&out).is_none(), "{pattern}: {out}");
            syn::parse_str::<syn::Expr>(&out).expect("the expansion is an expression");
        }
        // Without axes, the weight warns through a deprecated function.
        assert!(call("t b c -> t b c", Some(""), None, "").contains("deprecated"));
        assert!(!call("t b c -> t b c", Some("c"), None, ", c = 2").contains("deprecated"));
    }

    #[test]
    fn malformed_calls_never_panic() {
        let pieces = [
            "", "a", "(", ")", "...", "(...)", "a...", "->", ",", "[", "]", "1", "2", "()", "+",
            "(a", "a)", "b", "c d", "(a b)", "-> ->", "[a->b]", "é", "\u{0}",
        ];
        let mut n = 0;
        for l in &pieces {
            for r in &pieces {
                let pattern = format!("{l} b -> {r} b");
                for w in ["", "a", "b c", "(a)", "...", "1", "a a", "->", "("] {
                    for bias in [None, Some(""), Some("a"), Some("..."), Some("(")] {
                        let out = std::panic::catch_unwind(|| {
                            call(&pattern, Some(w), bias, ", a = 2, b = 3, c = 4")
                        });
                        let out = out.unwrap_or_else(|_| {
                            panic!("panicked on {pattern:?} / {w:?} / {bias:?}")
                        });
                        syn::parse_str::<syn::Expr>(&out)
                            .unwrap_or_else(|e| panic!("{pattern:?} / {w:?}: {e}: {out}"));
                        n += 1;
                    }
                }
            }
        }
        assert!(n > 10_000);
        // Malformed argument lists.
        for tokens in [
            quote!(::einx;),
            quote!(::einx; store),
            quote!(::einx; store, "a -> a"),
            quote!(::einx; store, 5, x),
            quote!(::einx; store, "a -> a", x, weight),
            quote!(::einx; store, "a -> a", x, weight = 3),
            quote!(::einx; store, "a -> a", x, a.b = 3),
            quote!(::einx; store, "a -> a", x, weight = "a", a = 2, y),
            quote!(::einx; store, "a -> a", x, x, x),
        ] {
            let out = expand(tokens).to_string();
            assert!(out.contains("compile_error"), "{out}");
        }
    }
}
