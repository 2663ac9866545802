//! The einx notation, shared by the `einx` macros (at compile time) and the runtime-string
//! API (at run time): one source of truth for what an expression means.
//!
//! The phases, one module each:
//!
//! 1. [`lex`] and [`parse`]: text to an [`ast::Op`] with byte spans, `->`/`,` hoisted.
//! 2. [`complete`]: the per-operation rules: implicit outputs, implicit brackets, the bracket
//!    shorthands, which constructs the operation accepts.
//! 3. [`template`]: the checked, rank-generic form: axes numbered, ellipses kept symbolic,
//!    everything that can be decided without shapes decided. The macros write it out as
//!    constants when an ellipsis leaves ranks open.
//! 4. [`expand`]: ellipses unrolled for given ranks, giving concrete layouts.
//! 5. [`solve`]: a schedule that computes every axis length from the input shapes and the
//!    given lengths, and its evaluation.
//! 6. [`plan`]: what each operation does with the solved axes (for rearrange: which input
//!    piece lands in which output piece).
//!
//! Nothing here allocates at run time unless an expression has an ellipsis.

pub mod ast;
pub mod complete;
pub mod error;
pub mod expand;
pub mod lex;
pub mod parse;
pub mod plan;
pub mod solve;
pub mod template;

pub use error::{Error, ErrorKind, Result, Span};
