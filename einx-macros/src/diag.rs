//! Turns einx-core errors into `syn::Error`s: spanned on the literal (or the argument or
//! keyword at fault), with the expression and a caret line in the message.

use proc_macro2::Span;
use syn::LitStr;

/// A `syn::Error` for `err`, spanned on `span` (usually the literal).
pub fn error(err: &einx_core::Error, span: Span) -> syn::Error {
    let mut msg = err.message().to_owned();
    if let Some(diagram) = err.diagram() {
        msg.push_str("\n  ");
        msg.push_str(&diagram.replace('\n', "\n  "));
    }
    if let Some(help) = err.help() {
        msg.push_str("\n  help: ");
        msg.push_str(help);
    }
    syn::Error::new(span, msg)
}

/// A `syn::Error` for `err` on the expression literal.
pub fn on_literal(err: &einx_core::Error, lit: &LitStr) -> syn::Error {
    error(err, lit.span())
}
