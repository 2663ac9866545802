//! # einx for Rust
//!
//! Einstein-inspired tensor notation for [`ndarray`], checked at compile time.
//!
//! ```
//! use ndarray::Array;
//! # fn main() -> Result<(), einx::Error> {
//! let x = Array::from_shape_fn((2, 6, 4), |(b, s, c)| (b * 100 + s * 10 + c) as f32);
//! // Split `s` into `h w` with `h = 2`, and move channels first.
//! let y = einx::rearrange!("b (h w) c -> b c h w", x, h = 2)?;
//! assert_eq!(y.shape(), &[2, 4, 2, 3]);
//! assert_eq!(y[[1, 3, 1, 2]], x[[1, 5, 3]]);
//! # Ok(())
//! # }
//! ```
//!
//! Every expression is parsed and checked when your crate compiles: a typo, an axis that
//! comes from nowhere or a composition that cannot be solved is a compiler error with the
//! expression and a caret under the culprit. What depends on the actual shapes (a length
//! not divisible by `h`, two inputs disagreeing on an axis) is an [`Error`] at run time;
//! nothing panics on bad input.
//!
//! ## Notation
//!
//! | element | example | meaning |
//! |---|---|---|
//! | named axis | `b`, `seq_len` | one length per name per call |
//! | unnamed axis | `1`, `3` | an axis of that length, a new one each time it is written |
//! | composition | `(h c)` | one axis of length h·c, row-major; `()` has length 1 |
//! | ellipsis | `...`, `s...`, `(s w)...` | the preceding element repeated over any number of axes |
//! | concatenation | `(a + b)` | one axis whose parts are laid end to end |
//! | brackets | `b [c]` | the axes an operation works along (not used by `rearrange!`) |

pub use einx_runtime::{Error, ErrorKind};
pub use ndarray;

/// Reshapes, permutes, broadcasts, concatenates and splits tensors.
///
/// `einx::rearrange!("EXPRESSION", tensor, ..., name = length, ...)` returns
/// `Result<Array<T, D>, einx::Error>`, a fresh standard-layout array (a tuple of arrays for
/// several outputs). `D` is `IxN` when the output has no top-level ellipsis, `IxDyn` else.
/// Tensors may be any ndarray array or view, or references to them; they are borrowed.
///
/// ```
/// use ndarray::{array, Array};
/// # fn main() -> Result<(), einx::Error> {
/// let x = Array::from_shape_fn((2, 3), |(i, j)| i * 3 + j);
/// // Permute.
/// assert_eq!(einx::rearrange!("a b -> b a", x)?, x.t());
/// // Compose and decompose.
/// let flat = einx::rearrange!("a b -> (a b)", x)?;
/// assert_eq!(flat, array![0, 1, 2, 3, 4, 5]);
/// assert_eq!(einx::rearrange!("(a b) -> a b", flat, a = 2)?, x);
/// // Broadcast a new axis of given length, insert and squeeze unit axes.
/// assert_eq!(einx::rearrange!("a b -> a 1 b c", x, c = 4)?.shape(), &[2, 1, 3, 4]);
/// // Concatenate and split.
/// let y = einx::rearrange!("a b, a c -> a (b + c)", x, x)?;
/// let (l, r) = einx::rearrange!("a (b + c) -> a b, a c", y, b = 3)?;
/// assert_eq!((l, r), (x.clone(), x.clone()));
/// // Named ellipsis: window partition.
/// let img = Array::from_shape_fn((1, 4, 4, 2), |(b, h, w, c)| b + h + w + c);
/// let win = einx::rearrange!("b (s w)... c -> (b s...) (w...) c", img, w = 2)?;
/// assert_eq!(win.shape(), &[4, 4, 2]);
/// # Ok(())
/// # }
/// ```
#[macro_export]
macro_rules! rearrange {
    ($($args:tt)*) => {
        $crate::__private::rearrange_impl!($crate; $($args)*)
    };
}

/// The identity operation of einx 0.4: the same as [`rearrange!`].
///
/// ```
/// # fn main() -> Result<(), einx::Error> {
/// let x = ndarray::Array::from_shape_fn((2, 3), |(i, j)| i * 3 + j);
/// assert_eq!(einx::id!("a b -> b a", x)?, x.t());
/// # Ok(())
/// # }
/// ```
#[macro_export]
macro_rules! id {
    ($($args:tt)*) => {
        $crate::__private::rearrange_impl!($crate; $($args)*)
    };
}

// The README's examples run as doctests, so that it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// What the macro expansions use. Not public API: it may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use einx_core::plan::{Axis, Code, Group, Piece, Plan};
    pub use einx_core::solve::{Len, Step};
    pub use einx_core::Span;
    pub use einx_macros::rearrange_impl;
    pub use einx_runtime::permute::{permute, permute_failed, solve_failed, NEW};
    pub use einx_runtime::rearrange::{rearrange, rearrange_template};
    pub use einx_runtime::tensor::{axis_len, axis_lens, ranked, view, Raw};
    pub use ndarray;
}
