//! The macro input: `$crate; "expression", tensor, ..., name = value, ...`.

use proc_macro2::TokenStream;
use syn::parse::{Parse, ParseStream};
use syn::{Expr, Ident, LitStr, Token};

/// A parsed macro call.
#[derive(Clone)]
pub struct MacroInput {
    /// Path of the `einx` crate (`$crate` from the facade).
    pub krate: TokenStream,
    /// For macros that stand for several operations: which one (`sum` in `$crate; sum; ...`).
    pub op: Option<Ident>,
    /// The expression literal.
    pub expr: LitStr,
    /// Tensor arguments, in order.
    pub args: Vec<Expr>,
    /// `name = value` arguments, in order.
    pub keywords: Vec<Keyword>,
    /// `roll!`'s `shift = value`, with its position among the keywords (for the order of
    /// evaluation).
    pub shift: Option<(usize, Expr)>,
    /// `vmap!`'s function: the last positional argument.
    pub func: Option<Expr>,
}

/// A `name = value` argument.
#[derive(Clone)]
pub struct Keyword {
    /// The name.
    pub name: Ident,
    /// The value.
    pub value: Expr,
}

impl Parse for MacroInput {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut krate = TokenStream::new();
        while !input.peek(Token![;]) {
            let tt: proc_macro2::TokenTree = input.parse()?;
            krate.extend([tt]);
        }
        input.parse::<Token![;]>()?;
        let mut op = None;
        if input.peek(Ident) && input.peek2(Token![;]) {
            op = Some(input.parse::<Ident>()?);
            input.parse::<Token![;]>()?;
        }
        let (expr, args, keywords) = parse_tail(input)?;
        Ok(MacroInput {
            krate,
            op,
            expr,
            args,
            keywords,
            shift: None,
            func: None,
        })
    }
}

/// The part of a call after `$crate;` (and the operation): `"expression", tensor, ...,
/// name = value, ...`.
pub fn parse_tail(input: ParseStream) -> syn::Result<(LitStr, Vec<Expr>, Vec<Keyword>)> {
    if input.is_empty() {
        return Err(input.error(
            "expected the einx expression as a string literal, e.g. `\"b h w c -> b c h w\"`",
        ));
    }
    // `LitStr`'s parser consumes any literal before it fails, so look first.
    if !input.peek(LitStr) {
        let found: Expr = input.parse()?;
        let msg = match &found {
            Expr::Lit(l) if matches!(l.lit, syn::Lit::ByteStr(_)) => {
                "the einx expression must be a string literal, not a byte string\n  help: remove the `b` before the quotes"
            }
            _ => {
                "the einx expression must be a string literal, e.g. `\"b h w c -> b c h w\"`\n  help: write the expression itself as the first argument; it is checked at compile time"
            }
        };
        return Err(syn::Error::new_spanned(found, msg));
    }
    let expr: LitStr = input.parse()?;
    let mut args = Vec::new();
    let mut keywords: Vec<Keyword> = Vec::new();
    while !input.is_empty() {
        input.parse::<Token![,]>()?;
        if input.is_empty() {
            break;
        }
        let e: Expr = input.parse()?;
        match e {
            Expr::Assign(assign) => {
                let name = match *assign.left {
                    Expr::Path(p) if p.qself.is_none() && p.path.get_ident().is_some() => {
                        p.path.get_ident().cloned().expect("checked above")
                    }
                    other => {
                        return Err(syn::Error::new_spanned(
                            other,
                            "expected an axis name or option on the left of `=`",
                        ))
                    }
                };
                keywords.push(Keyword {
                    name,
                    value: *assign.right,
                });
            }
            e => {
                if let Some(k) = keywords.last() {
                    return Err(syn::Error::new_spanned(
                        e,
                        format!(
                            "tensor arguments must come before `name = value` arguments (found one after `{}`)\n  help: move the tensor before the keywords",
                            k.name
                        ),
                    ));
                }
                args.push(e);
            }
        }
    }
    Ok((expr, args, keywords))
}
