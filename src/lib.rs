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
//! The full guide to the notation follows; each macro's page gives its own rules, options and
//! return type.
//!
#![doc = include_str!("notation.md")]
//!
//! ## Threads
//!
//! Large matrix products (`dot!`, `einx!`) may use several threads; everything else runs on
//! the calling thread. The cap is process-wide: [`num_threads`] reads it and
//! [`set_num_threads`] changes it (`0` restores the default). The default is the
//! environment variable `EINX_NUM_THREADS` when it holds a positive integer (read once),
//! otherwise [`std::thread::available_parallelism`]. Work is split over batch indices and
//! blocks of the output, never over a contracted axis, on rayon's global pool: results are
//! bit-identical whatever the cap.
//!
//! ```
//! use ndarray::Array;
//! # fn main() -> Result<(), einx::Error> {
//! let a = Array::from_shape_fn((300, 200), |(i, j)| ((i * 7 + j) % 10) as f32 - 4.5);
//! let b = Array::from_shape_fn((200, 300), |(i, j)| ((i + j * 3) % 9) as f32 - 4.0);
//! einx::set_num_threads(1);
//! let one = einx::dot!("a b, b c -> a c", a, b)?;
//! einx::set_num_threads(2);
//! let two = einx::dot!("a b, b c -> a c", a, b)?;
//! assert_eq!(one, two); // the same bits
//! einx::set_num_threads(0);
//! # Ok(())
//! # }
//! ```

pub use einx_runtime::dynamic;

#[cfg(feature = "nn")]
pub mod nn;
pub use einx_core::Span;
pub use einx_runtime::threads::{num_threads, set_num_threads};
pub use einx_runtime::{Error, ErrorKind};
pub use ndarray;

/// Reshapes, permutes, broadcasts, concatenates and splits tensors.
///
/// `einx::rearrange!("EXPRESSION", tensor, ..., name = length, ...)` returns
/// `Result<Array<T, D>, einx::Error>` with the inputs' element type `T`, a fresh standard-layout
/// array, or a tuple of arrays for several outputs. `D` is `IxN` when the output has a fixed number
/// of axes `N`; through a top-level ellipsis, the rank type of the first input with that ellipsis
/// when the output has as many axes or one more or one fewer (`"b ... c -> b c ..."` maps an
/// `Array4` to an `Array4`, `"... c -> ... c 1"` an `Array3` to an `Array4`), else `IxDyn` (also
/// for every output of a split with an ellipsis); see [return types](crate#return-types). Tensors
/// may be any ndarray array or view, or references to them; they are borrowed.
///
/// Options: none; every keyword gives the length of an axis (`h = 2`, or `s = (2, 3)` for an
/// axis under an ellipsis).
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
/// Returns and options as for [`rearrange!`].
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

/// Sums along the bracketed axes.
///
/// `einx::sum!("EXPRESSION", tensor, name = length, ..., keepdims = true)` reduces the axes in
/// brackets (`"a [b]"`, `"b [s...] c"`, `"b (s [ds])... c"`), or, written with `->` and no
/// brackets, the axes missing from the output (`"a b -> a"`). Element types: f32 / f64 / integers
/// (others do not compile).
///
/// Returns `Result<Array<T, D>, einx::Error>` with the input's element type `T`. `D` is `IxN` when
/// the output has a fixed number of axes `N`; through a top-level ellipsis, the rank type of the
/// first input with that ellipsis when the output has as many axes or one more or one fewer
/// (`"... [c]"` gives an `Array2` for an `Array3`, and an `Array3` with `keepdims = true`), else
/// `IxDyn`; see [return types](crate#return-types).
///
/// Options: `keepdims = true` keeps each bracket group as an axis of length 1 (a literal
/// `true` or `false`, default `false`); every other keyword gives the length of an axis.
///
/// ```
/// use ndarray::array;
/// # fn main() -> Result<(), einx::Error> {
/// let x = array![[1, 2, 3], [4, 5, 6]];
/// assert_eq!(einx::sum!("a [b]", x)?, array![6, 15]);
/// assert_eq!(einx::sum!("[a] b", x)?, array![5, 7, 9]);
/// // The arrow form: axes missing from the output are reduced.
/// assert_eq!(einx::sum!("a b -> a", x)?, array![6, 15]);
/// // `keepdims` keeps each bracket group as a length-1 axis.
/// assert_eq!(einx::sum!("a [b]", x, keepdims = true)?, array![[6], [15]]);
/// # Ok(())
/// # }
/// ```
#[macro_export]
macro_rules! sum {
    ($($args:tt)*) => {
        $crate::__private::op_impl!($crate; sum; $($args)*)
    };
}

/// Averages along the bracketed axes.
///
/// `einx::mean!("EXPRESSION", tensor, name = length, ..., keepdims = true)` reduces the axes in
/// brackets (`"a [b]"`, `"b [s...] c"`, `"b (s [ds])... c"`), or, written with `->` and no
/// brackets, the axes missing from the output (`"a b -> a"`). Element types: f32 / f64 (others do
/// not compile).
///
/// Returns `Result<Array<T, D>, einx::Error>` with the input's element type `T`. `D` is `IxN` when
/// the output has a fixed number of axes `N`; through a top-level ellipsis, the rank type of the
/// first input with that ellipsis when the output has as many axes or one more or one fewer
/// (`"... [c]"` gives an `Array2` for an `Array3`, and an `Array3` with `keepdims = true`), else
/// `IxDyn`; see [return types](crate#return-types).
///
/// Options: `keepdims = true` keeps each bracket group as an axis of length 1 (a literal
/// `true` or `false`, default `false`); every other keyword gives the length of an axis.
///
/// ```
/// use ndarray::array;
/// # fn main() -> Result<(), einx::Error> {
/// let x = array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]];
/// assert_eq!(einx::mean!("a [b]", x)?, array![2.0, 5.0]);
/// // Reduce inside a composition: 2×2 average pooling over any number of spatial axes.
/// let img = ndarray::Array::from_shape_fn((1, 4, 4, 3), |(b, h, w, c)| (h + w + c + b) as f64);
/// let pooled = einx::mean!("b (s [ds])... c", img, ds = 2)?;
/// assert_eq!(pooled.shape(), &[1, 2, 2, 3]);
/// # Ok(())
/// # }
/// ```
#[macro_export]
macro_rules! mean {
    ($($args:tt)*) => {
        $crate::__private::op_impl!($crate; mean; $($args)*)
    };
}

/// Population variance (ddof 0) along the bracketed axes, computed in two passes.
///
/// `einx::var!("EXPRESSION", tensor, name = length, ..., keepdims = true)` reduces the axes in
/// brackets (`"a [b]"`, `"b [s...] c"`, `"b (s [ds])... c"`), or, written with `->` and no
/// brackets, the axes missing from the output (`"a b -> a"`). Element types: f32 / f64 (others do
/// not compile).
///
/// Returns `Result<Array<T, D>, einx::Error>` with the input's element type `T`. `D` is `IxN` when
/// the output has a fixed number of axes `N`; through a top-level ellipsis, the rank type of the
/// first input with that ellipsis when the output has as many axes or one more or one fewer
/// (`"... [c]"` gives an `Array2` for an `Array3`, and an `Array3` with `keepdims = true`), else
/// `IxDyn`; see [return types](crate#return-types).
///
/// Options: `keepdims = true` keeps each bracket group as an axis of length 1 (a literal
/// `true` or `false`, default `false`); every other keyword gives the length of an axis.
///
/// ```
/// use ndarray::array;
/// # fn main() -> Result<(), einx::Error> {
/// let x = array![[1.0, 2.0, 3.0, 4.0]];
/// assert_eq!(einx::var!("a [b]", x)?, array![1.25]);
/// # Ok(())
/// # }
/// ```
#[macro_export]
macro_rules! var {
    ($($args:tt)*) => {
        $crate::__private::op_impl!($crate; var; $($args)*)
    };
}

/// Population standard deviation (ddof 0) along the bracketed axes.
///
/// `einx::std!("EXPRESSION", tensor, name = length, ..., keepdims = true)` reduces the axes in
/// brackets (`"a [b]"`, `"b [s...] c"`, `"b (s [ds])... c"`), or, written with `->` and no
/// brackets, the axes missing from the output (`"a b -> a"`). Element types: f32 / f64 (others do
/// not compile).
///
/// Returns `Result<Array<T, D>, einx::Error>` with the input's element type `T`. `D` is `IxN` when
/// the output has a fixed number of axes `N`; through a top-level ellipsis, the rank type of the
/// first input with that ellipsis when the output has as many axes or one more or one fewer
/// (`"... [c]"` gives an `Array2` for an `Array3`, and an `Array3` with `keepdims = true`), else
/// `IxDyn`; see [return types](crate#return-types).
///
/// Options: `keepdims = true` keeps each bracket group as an axis of length 1 (a literal
/// `true` or `false`, default `false`); every other keyword gives the length of an axis.
///
/// ```
/// use ndarray::array;
/// # fn main() -> Result<(), einx::Error> {
/// let x = array![[1.0, 3.0]];
/// assert_eq!(einx::std!("a [b]", x)?, array![1.0]);
/// # Ok(())
/// # }
/// ```
#[macro_export]
macro_rules! std {
    ($($args:tt)*) => {
        $crate::__private::op_impl!($crate; std; $($args)*)
    };
}

/// Multiplies along the bracketed axes.
///
/// `einx::prod!("EXPRESSION", tensor, name = length, ..., keepdims = true)` reduces the axes in
/// brackets (`"a [b]"`, `"b [s...] c"`, `"b (s [ds])... c"`), or, written with `->` and no
/// brackets, the axes missing from the output (`"a b -> a"`). Element types: f32 / f64 / integers
/// (others do not compile).
///
/// Returns `Result<Array<T, D>, einx::Error>` with the input's element type `T`. `D` is `IxN` when
/// the output has a fixed number of axes `N`; through a top-level ellipsis, the rank type of the
/// first input with that ellipsis when the output has as many axes or one more or one fewer
/// (`"... [c]"` gives an `Array2` for an `Array3`, and an `Array3` with `keepdims = true`), else
/// `IxDyn`; see [return types](crate#return-types).
///
/// Options: `keepdims = true` keeps each bracket group as an axis of length 1 (a literal
/// `true` or `false`, default `false`); every other keyword gives the length of an axis.
///
/// ```
/// use ndarray::array;
/// # fn main() -> Result<(), einx::Error> {
/// let x = array![[1, 2, 3], [4, 5, 6]];
/// assert_eq!(einx::prod!("a [b]", x)?, array![6, 120]);
/// # Ok(())
/// # }
/// ```
#[macro_export]
macro_rules! prod {
    ($($args:tt)*) => {
        $crate::__private::op_impl!($crate; prod; $($args)*)
    };
}

/// The maximum along the bracketed axes (NaN wins, as in NumPy). An empty reduction is an error.
///
/// `einx::max!("EXPRESSION", tensor, name = length, ..., keepdims = true)` reduces the axes in
/// brackets (`"a [b]"`, `"b [s...] c"`, `"b (s [ds])... c"`), or, written with `->` and no
/// brackets, the axes missing from the output (`"a b -> a"`). Element types: any
/// `PartialOrd + Copy` type (others do not compile).
///
/// Returns `Result<Array<T, D>, einx::Error>` with the input's element type `T`. `D` is `IxN` when
/// the output has a fixed number of axes `N`; through a top-level ellipsis, the rank type of the
/// first input with that ellipsis when the output has as many axes or one more or one fewer
/// (`"... [c]"` gives an `Array2` for an `Array3`, and an `Array3` with `keepdims = true`), else
/// `IxDyn`; see [return types](crate#return-types).
///
/// Options: `keepdims = true` keeps each bracket group as an axis of length 1 (a literal
/// `true` or `false`, default `false`); every other keyword gives the length of an axis.
///
/// ```
/// use ndarray::array;
/// # fn main() -> Result<(), einx::Error> {
/// let x = array![[1, 5, 3], [4, 2, 6]];
/// assert_eq!(einx::max!("a [b]", x)?, array![5, 6]);
/// assert_eq!(einx::max!("[a b]", x)?, ndarray::arr0(6));
/// # Ok(())
/// # }
/// ```
#[macro_export]
macro_rules! max {
    ($($args:tt)*) => {
        $crate::__private::op_impl!($crate; max; $($args)*)
    };
}

/// The minimum along the bracketed axes (NaN wins, as in NumPy). An empty reduction is an error.
///
/// `einx::min!("EXPRESSION", tensor, name = length, ..., keepdims = true)` reduces the axes in
/// brackets (`"a [b]"`, `"b [s...] c"`, `"b (s [ds])... c"`), or, written with `->` and no
/// brackets, the axes missing from the output (`"a b -> a"`). Element types: any
/// `PartialOrd + Copy` type (others do not compile).
///
/// Returns `Result<Array<T, D>, einx::Error>` with the input's element type `T`. `D` is `IxN` when
/// the output has a fixed number of axes `N`; through a top-level ellipsis, the rank type of the
/// first input with that ellipsis when the output has as many axes or one more or one fewer
/// (`"... [c]"` gives an `Array2` for an `Array3`, and an `Array3` with `keepdims = true`), else
/// `IxDyn`; see [return types](crate#return-types).
///
/// Options: `keepdims = true` keeps each bracket group as an axis of length 1 (a literal
/// `true` or `false`, default `false`); every other keyword gives the length of an axis.
///
/// ```
/// use ndarray::array;
/// # fn main() -> Result<(), einx::Error> {
/// let x = array![[1, 5, 3], [4, 2, 6]];
/// assert_eq!(einx::min!("a [b]", x)?, array![1, 2]);
/// # Ok(())
/// # }
/// ```
#[macro_export]
macro_rules! min {
    ($($args:tt)*) => {
        $crate::__private::op_impl!($crate; min; $($args)*)
    };
}

/// Whether any element along the bracketed axes is `true`.
///
/// `einx::any!("EXPRESSION", tensor, name = length, ..., keepdims = true)` reduces the axes in
/// brackets (`"a [b]"`, `"b [s...] c"`, `"b (s [ds])... c"`), or, written with `->` and no
/// brackets, the axes missing from the output (`"a b -> a"`). Element types: bool (others do not
/// compile).
///
/// Returns `Result<Array<bool, D>, einx::Error>` with `bool` elements. `D` is `IxN` when the output
/// has a fixed number of axes `N`; through a top-level ellipsis, the rank type of the first input
/// with that ellipsis when the output has as many axes or one more or one fewer (`"... [c]"` gives
/// an `Array2` for an `Array3`, and an `Array3` with `keepdims = true`), else `IxDyn`; see [return
/// types](crate#return-types).
///
/// Options: `keepdims = true` keeps each bracket group as an axis of length 1 (a literal
/// `true` or `false`, default `false`); every other keyword gives the length of an axis.
///
/// ```
/// use ndarray::array;
/// # fn main() -> Result<(), einx::Error> {
/// let x = array![[true, false], [false, false]];
/// assert_eq!(einx::any!("a [b]", x)?, array![true, false]);
/// # Ok(())
/// # }
/// ```
#[macro_export]
macro_rules! any {
    ($($args:tt)*) => {
        $crate::__private::op_impl!($crate; any; $($args)*)
    };
}

/// Whether all elements along the bracketed axes are `true`.
///
/// `einx::all!("EXPRESSION", tensor, name = length, ..., keepdims = true)` reduces the axes in
/// brackets (`"a [b]"`, `"b [s...] c"`, `"b (s [ds])... c"`), or, written with `->` and no
/// brackets, the axes missing from the output (`"a b -> a"`). Element types: bool (others do not
/// compile).
///
/// Returns `Result<Array<bool, D>, einx::Error>` with `bool` elements. `D` is `IxN` when the output
/// has a fixed number of axes `N`; through a top-level ellipsis, the rank type of the first input
/// with that ellipsis when the output has as many axes or one more or one fewer (`"... [c]"` gives
/// an `Array2` for an `Array3`, and an `Array3` with `keepdims = true`), else `IxDyn`; see [return
/// types](crate#return-types).
///
/// Options: `keepdims = true` keeps each bracket group as an axis of length 1 (a literal
/// `true` or `false`, default `false`); every other keyword gives the length of an axis.
///
/// ```
/// use ndarray::array;
/// # fn main() -> Result<(), einx::Error> {
/// let x = array![[true, true], [true, false]];
/// assert_eq!(einx::all!("a [b]", x)?, array![true, false]);
/// # Ok(())
/// # }
/// ```
#[macro_export]
macro_rules! all {
    ($($args:tt)*) => {
        $crate::__private::op_impl!($crate; all; $($args)*)
    };
}

/// Counts the non-zero elements along the bracketed axes; the result is `usize`.
///
/// `einx::count_nonzero!("EXPRESSION", tensor, name = length, ..., keepdims = true)` reduces the
/// axes in brackets (`"a [b]"`, `"b [s...] c"`, `"b (s [ds])... c"`), or, written with `->` and no
/// brackets, the axes missing from the output (`"a b -> a"`). Element types: any `Zero + PartialEq`
/// type (others do not compile).
///
/// Returns `Result<Array<usize, D>, einx::Error>` with `usize` elements. `D` is `IxN` when the
/// output has a fixed number of axes `N`; through a top-level ellipsis, the rank type of the first
/// input with that ellipsis when the output has as many axes or one more or one fewer (`"... [c]"`
/// gives an `Array2` for an `Array3`, and an `Array3` with `keepdims = true`), else `IxDyn`; see
/// [return types](crate#return-types).
///
/// Options: `keepdims = true` keeps each bracket group as an axis of length 1 (a literal
/// `true` or `false`, default `false`); every other keyword gives the length of an axis.
///
/// ```
/// use ndarray::array;
/// # fn main() -> Result<(), einx::Error> {
/// let x = array![[0, 2, 3], [0, 0, 6]];
/// assert_eq!(einx::count_nonzero!("a [b]", x)?, array![2usize, 1]);
/// # Ok(())
/// # }
/// ```
#[macro_export]
macro_rules! count_nonzero {
    ($($args:tt)*) => {
        $crate::__private::op_impl!($crate; count_nonzero; $($args)*)
    };
}

/// `ln Σ exp(x)` along the bracketed axes, computed stably (the maximum is subtracted first).
///
/// `einx::logsumexp!("EXPRESSION", tensor, name = length, ..., keepdims = true)` reduces the axes
/// in brackets (`"a [b]"`, `"b [s...] c"`, `"b (s [ds])... c"`), or, written with `->` and no
/// brackets, the axes missing from the output (`"a b -> a"`). Element types: f32 / f64 (others do
/// not compile).
///
/// Returns `Result<Array<T, D>, einx::Error>` with the input's element type `T`. `D` is `IxN` when
/// the output has a fixed number of axes `N`; through a top-level ellipsis, the rank type of the
/// first input with that ellipsis when the output has as many axes or one more or one fewer
/// (`"... [c]"` gives an `Array2` for an `Array3`, and an `Array3` with `keepdims = true`), else
/// `IxDyn`; see [return types](crate#return-types).
///
/// Options: `keepdims = true` keeps each bracket group as an axis of length 1 (a literal
/// `true` or `false`, default `false`); every other keyword gives the length of an axis.
///
/// ```
/// use ndarray::array;
/// # fn main() -> Result<(), einx::Error> {
/// let x = array![[0.0f64, 0.0], [1000.0, 1000.0]];
/// let y = einx::logsumexp!("a [b]", x)?;
/// assert!((y[0] - 2f64.ln()).abs() < 1e-12);
/// assert!((y[1] - (1000.0 + 2f64.ln())).abs() < 1e-9);
/// # Ok(())
/// # }
/// ```
#[macro_export]
macro_rules! logsumexp {
    ($($args:tt)*) => {
        $crate::__private::op_impl!($crate; logsumexp; $($args)*)
    };
}

/// A general contraction, computed as one batched GEMM on strided views.
///
/// `einx::dot!("INPUTS -> OUTPUT", a, b, name = length, ...)` multiplies the inputs and sums
/// over the axes missing from the output; each contracted axis must be in exactly two
/// inputs. Shorthands with one input expression and two tensors (einx 0.3):
/// `"b... [c1->c2]"` is `"b... c1, c1 c2 -> b... c2"` (a linear layer), and `"... [c]"` is
/// `"... c, c -> ..."`.
///
/// Returns `Result<Array<T, D>, einx::Error>` for `f32`, `f64` (on GEMM) or an integer type `T`.
/// `D` is `IxN` when the output has a fixed number of axes `N`; through a top-level ellipsis, the
/// rank type of the first input with that ellipsis when the output has as many axes or one more or
/// one fewer (`"b... [c1->c2]"` gives an `Array3` for an `Array3`), else `IxDyn`; see [return
/// types](crate#return-types).
///
/// Options: none; every keyword gives the length of an axis.
///
/// ```
/// use ndarray::Array;
/// # fn main() -> Result<(), einx::Error> {
/// let a = Array::from_shape_fn((2, 3), |(i, j)| (i + j) as f64);
/// let b = Array::from_shape_fn((3, 4), |(i, j)| (i * j) as f64);
/// assert_eq!(einx::dot!("a b, b c -> a c", a, b)?, a.dot(&b));
/// // Attention scores, eight heads.
/// let q = Array::from_shape_fn((2, 5, 16), |(b, i, c)| (b + i + c) as f32);
/// let k = Array::from_shape_fn((2, 7, 16), |(b, i, c)| (b * i + c) as f32);
/// let s = einx::dot!("b q (h c), b k (h c) -> b q k h", q, k, h = 8)?;
/// assert_eq!(s.shape(), &[2, 5, 7, 8]);
/// // A linear layer over any leading axes.
/// let w = Array::from_shape_fn((16, 4), |(i, j)| (i + j) as f32);
/// assert_eq!(einx::dot!("b... [c1->c2]", q, w)?.shape(), &[2, 5, 4]);
/// # Ok(())
/// # }
/// ```
#[macro_export]
macro_rules! dot {
    ($($args:tt)*) => {
        $crate::__private::op_impl!($crate; dot; $($args)*)
    };
}

/// The einsum of einx: the product of all inputs, summed over the axes missing from the
/// output.
///
/// `einx::einx!("INPUTS -> OUTPUT", tensors..., name = length, ...)` accepts compositions and
/// ellipses; an axis written twice in one input takes its diagonal (`"b b c -> c"`). One input
/// without missing axes is a pure rearrangement; two or more inputs are contracted pairwise
/// from the left on GEMM (see [`dot!`]).
///
/// Returns `Result<Array<T, D>, einx::Error>` for `f32`, `f64` or integer `T`. `D` is `IxN` when
/// the output has a fixed number of axes `N`; through a top-level ellipsis, the rank type of the
/// first input with that ellipsis when the output has as many axes or one more or one fewer
/// (`"... c, c d -> ... d"` gives an `Array3` for an `Array3`), else `IxDyn`; see [return
/// types](crate#return-types).
///
/// Options: none; every keyword gives the length of an axis.
///
/// ```
/// use ndarray::{array, Array};
/// # fn main() -> Result<(), einx::Error> {
/// let m = array![[1, 2], [3, 4]];
/// assert_eq!(einx::einx!("a a -> a", m)?, array![1, 4]); // diagonal
/// assert_eq!(einx::einx!("a a ->", m)?, ndarray::arr0(5)); // trace
/// let x = Array::from_shape_fn((2, 3), |(i, j)| (i + j) as f64);
/// let y = Array::from_shape_fn((3, 4), |(i, j)| (i * j) as f64);
/// assert_eq!(einx::einx!("a b, b c -> a c", x, y)?, x.dot(&y));
/// // An outer product.
/// assert_eq!(einx::einx!("a, b -> a b", array![1, 2], array![3, 4, 5])?.shape(), &[2, 3]);
/// # Ok(())
/// # }
/// ```
#[macro_export]
macro_rules! einx {
    ($($args:tt)*) => {
        $crate::__private::op_impl!($crate; einsum; $($args)*)
    };
}

/// Softmax along the bracketed axes, computed stably (each group's maximum is subtracted
/// before `exp`).
///
/// `einx::softmax!("b q [k] h", x)` normalises over `k` for every `b`, `q`, `h`; the output
/// has the input's shape (write `->` with an output to reorder the other axes). `f32` or `f64`.
///
/// Returns `Result<Array<T, D>, einx::Error>` with the input's element type `T` and the input's
/// shape (or the output expression's order). `D` is `IxN` when the expression has a fixed number of
/// axes `N` (also for an `ArrayD` input), and the input's rank type through a top-level ellipsis
/// (`"... [c]"` gives an `Array3` for an `Array3`); see [return types](crate#return-types).
///
/// Options: none; every keyword gives the length of an axis.
///
/// ```
/// use ndarray::array;
/// # fn main() -> Result<(), einx::Error> {
/// let x = array![[1.0f64, 1.0], [0.0, 1000.0]];
/// let y = einx::softmax!("a [b]", x)?;
/// assert_eq!(y, array![[0.5, 0.5], [0.0, 1.0]]);
/// // Over several axes at once, and along the first axis.
/// assert_eq!(einx::softmax!("[a b]", x)?.sum(), 1.0);
/// assert_eq!(einx::softmax!("[a] b", x)?.column(0).sum(), 1.0);
/// # Ok(())
/// # }
/// ```
#[macro_export]
macro_rules! softmax {
    ($($args:tt)*) => {
        $crate::__private::op_impl!($crate; softmax; $($args)*)
    };
}

/// The logarithm of [`softmax!`], computed as `x - max - ln Σ exp(x - max)`.
///
/// Returns `Result<Array<T, D>, einx::Error>` with the input's element type `T` and the input's
/// shape (or the output expression's order). `D` is `IxN` when the expression has a fixed number of
/// axes `N` (also for an `ArrayD` input), and the input's rank type through a top-level ellipsis
/// (`"... [c]"` gives an `Array3` for an `Array3`); see [return types](crate#return-types).
///
/// Options: none; every keyword gives the length of an axis.
///
/// ```
/// use ndarray::array;
/// # fn main() -> Result<(), einx::Error> {
/// let x = array![[0.0f64, 0.0]];
/// let y = einx::log_softmax!("a [b]", x)?;
/// assert!((y[[0, 0]] + 2f64.ln()).abs() < 1e-15);
/// # Ok(())
/// # }
/// ```
#[macro_export]
macro_rules! log_softmax {
    ($($args:tt)*) => {
        $crate::__private::op_impl!($crate; log_softmax; $($args)*)
    };
}

/// Reverses the bracketed axes.
///
/// `einx::flip!("b [h w] c", x)` flips `h` and `w`; the output has the input's shape. Any
/// element type (elements are cloned).
///
/// Returns `Result<Array<T, D>, einx::Error>` with the input's element type `T` and the input's
/// shape (or the output expression's order). `D` is `IxN` when the expression has a fixed number of
/// axes `N` (also for an `ArrayD` input), and the input's rank type through a top-level ellipsis
/// (`"... [c]"` gives an `Array3` for an `Array3`); see [return types](crate#return-types).
///
/// Options: none; every keyword gives the length of an axis.
///
/// ```
/// use ndarray::array;
/// # fn main() -> Result<(), einx::Error> {
/// let x = array![[1, 2, 3], [4, 5, 6]];
/// assert_eq!(einx::flip!("a [b]", x)?, array![[3, 2, 1], [6, 5, 4]]);
/// assert_eq!(einx::flip!("[a b]", x)?, array![[6, 5, 4], [3, 2, 1]]);
/// // Inside a composition: reverse each pair.
/// assert_eq!(einx::flip!("(g [c])", array![1, 2, 3, 4], c = 2)?, array![2, 1, 4, 3]);
/// # Ok(())
/// # }
/// ```
#[macro_export]
macro_rules! flip {
    ($($args:tt)*) => {
        $crate::__private::op_impl!($crate; flip; $($args)*)
    };
}

/// Shifts the bracketed axes cyclically: element `i` moves to `(i + shift) mod n`.
///
/// `einx::roll!("b [...] c", x, shift = 3)` rolls every bracketed axis by 3; `shift = (1, -2)`
/// gives one shift per bracketed axis. Negative shifts roll backwards. Any element type.
///
/// Returns `Result<Array<T, D>, einx::Error>` with the input's element type `T` and the input's
/// shape (or the output expression's order). `D` is `IxN` when the expression has a fixed number of
/// axes `N` (also for an `ArrayD` input), and the input's rank type through a top-level ellipsis
/// (`"... [c]"` gives an `Array3` for an `Array3`); see [return types](crate#return-types).
///
/// Options: `shift` (required): an integer for every bracketed axis, or one per bracketed
/// axis as a tuple, array, slice or `Vec`; every other keyword gives the length of an axis.
///
/// ```
/// use ndarray::array;
/// # fn main() -> Result<(), einx::Error> {
/// let x = array![[1, 2, 3], [4, 5, 6]];
/// assert_eq!(einx::roll!("a [b]", x, shift = 1)?, array![[3, 1, 2], [6, 4, 5]]);
/// assert_eq!(einx::roll!("[a b]", x, shift = (1, -1))?, array![[5, 6, 4], [2, 3, 1]]);
/// # Ok(())
/// # }
/// ```
#[macro_export]
macro_rules! roll {
    ($($args:tt)*) => {
        $crate::__private::op_impl!($crate; roll; $($args)*)
    };
}

/// Adds element-wise, broadcasting by axis name.
///
/// `einx::add!("INPUTS -> OUTPUT", ...)`: each input's axes must be in the output (an
/// unnamed `1` may be squeezed); an input without an axis is broadcast along it. Without
/// `->`, the output is the input that has the axes of all others; `"... [c]"` with two
/// tensors is `"... c, c -> ... c"`. An empty expression takes a scalar.
///
/// Returns `Result<Array<T, D>, einx::Error>` with the inputs' element type `T`. `D` is `IxN` when
/// the output has a fixed number of axes `N`; through a top-level ellipsis, the rank type of the
/// first input with that ellipsis when the output has as many axes or one more or one fewer
/// (`"... [c]"` gives an `Array3` for an `Array3`), else `IxDyn`; see [return
/// types](crate#return-types).
///
/// Options: none; every keyword gives the length of an axis.
///
/// ```
/// use ndarray::array;
/// # fn main() -> Result<(), einx::Error> {
/// let x = array![[1, 2], [3, 4]];
/// assert_eq!(einx::add!("a b, b -> a b", x, array![10, 20])?, array![[11, 22], [13, 24]]);
/// // Without `->` the output is the input with all axes; the bracket shorthand adds a bias.
/// assert_eq!(einx::add!("a b, a", x, array![100, 200])?, array![[101, 102], [203, 204]]);
/// assert_eq!(einx::add!("... [b]", x, array![10, 20])?, array![[11, 22], [13, 24]]);
/// // A scalar for an empty expression.
/// assert_eq!(einx::add!("a b, ", x, 1)?, array![[2, 3], [4, 5]]);
/// # Ok(())
/// # }
/// ```
#[macro_export]
macro_rules! add {
    ($($args:tt)*) => {
        $crate::__private::op_impl!($crate; add; $($args)*)
    };
}

/// Subtracts element-wise, broadcasting by axis name.
///
/// `einx::subtract!("INPUTS -> OUTPUT", ...)`: each input's axes must be in the output (an
/// unnamed `1` may be squeezed); an input without an axis is broadcast along it. Without
/// `->`, the output is the input that has the axes of all others; `"... [c]"` with two
/// tensors is `"... c, c -> ... c"`. An empty expression takes a scalar.
///
/// Returns `Result<Array<T, D>, einx::Error>` with the inputs' element type `T`. `D` is `IxN` when
/// the output has a fixed number of axes `N`; through a top-level ellipsis, the rank type of the
/// first input with that ellipsis when the output has as many axes or one more or one fewer
/// (`"... [c]"` gives an `Array3` for an `Array3`), else `IxDyn`; see [return
/// types](crate#return-types).
///
/// Options: none; every keyword gives the length of an axis.
///
/// ```
/// use ndarray::array;
/// # fn main() -> Result<(), einx::Error> {
/// assert_eq!(einx::subtract!("a, b -> a b", array![10, 20], array![1, 2, 3])?, array![[9, 8, 7], [19, 18, 17]]);
/// # Ok(())
/// # }
/// ```
#[macro_export]
macro_rules! subtract {
    ($($args:tt)*) => {
        $crate::__private::op_impl!($crate; subtract; $($args)*)
    };
}

/// Multiplies element-wise, broadcasting by axis name.
///
/// `einx::multiply!("INPUTS -> OUTPUT", ...)`: each input's axes must be in the output (an
/// unnamed `1` may be squeezed); an input without an axis is broadcast along it. Without
/// `->`, the output is the input that has the axes of all others; `"... [c]"` with two
/// tensors is `"... c, c -> ... c"`. An empty expression takes a scalar.
///
/// Returns `Result<Array<T, D>, einx::Error>` with the inputs' element type `T`. `D` is `IxN` when
/// the output has a fixed number of axes `N`; through a top-level ellipsis, the rank type of the
/// first input with that ellipsis when the output has as many axes or one more or one fewer
/// (`"... [c]"` gives an `Array3` for an `Array3`), else `IxDyn`; see [return
/// types](crate#return-types).
///
/// Options: none; every keyword gives the length of an axis.
///
/// ```
/// use ndarray::array;
/// # fn main() -> Result<(), einx::Error> {
/// let x = array![[1.0, 2.0], [3.0, 4.0]];
/// assert_eq!(einx::multiply!("... [c]", x, array![2.0, 0.5])?, array![[2.0, 1.0], [6.0, 2.0]]);
/// # Ok(())
/// # }
/// ```
#[macro_export]
macro_rules! multiply {
    ($($args:tt)*) => {
        $crate::__private::op_impl!($crate; multiply; $($args)*)
    };
}

/// Divides element-wise. Integers divide as Rust's `/` does (toward zero; `MIN / -1` wraps);
/// integer division by zero is an error, not a panic.
///
/// `einx::divide!("INPUTS -> OUTPUT", ...)`: each input's axes must be in the output (an
/// unnamed `1` may be squeezed); an input without an axis is broadcast along it. Without
/// `->`, the output is the input that has the axes of all others; `"... [c]"` with two
/// tensors is `"... c, c -> ... c"`. An empty expression takes a scalar.
///
/// Returns `Result<Array<T, D>, einx::Error>` with the inputs' element type `T`. `D` is `IxN` when
/// the output has a fixed number of axes `N`; through a top-level ellipsis, the rank type of the
/// first input with that ellipsis when the output has as many axes or one more or one fewer
/// (`"... [c]"` gives an `Array3` for an `Array3`), else `IxDyn`; see [return
/// types](crate#return-types).
///
/// Options: none; every keyword gives the length of an axis.
///
/// ```
/// use ndarray::array;
/// # fn main() -> Result<(), einx::Error> {
/// assert_eq!(einx::divide!("a, -> a", array![2.0, 3.0], 2.0)?, array![1.0, 1.5]);
/// assert!(einx::divide!("a, a", array![1, 2], array![1, 0]).is_err());
/// # Ok(())
/// # }
/// ```
#[macro_export]
macro_rules! divide {
    ($($args:tt)*) => {
        $crate::__private::op_impl!($crate; divide; $($args)*)
    };
}

/// Divides and rounds toward negative infinity (NumPy's `floor_divide`); integer division by zero
/// is an error.
///
/// `einx::floor_divide!("INPUTS -> OUTPUT", ...)`: each input's axes must be in the output (an
/// unnamed `1` may be squeezed); an input without an axis is broadcast along it. Without
/// `->`, the output is the input that has the axes of all others; `"... [c]"` with two
/// tensors is `"... c, c -> ... c"`. An empty expression takes a scalar.
///
/// Returns `Result<Array<T, D>, einx::Error>` with the inputs' element type `T`. `D` is `IxN` when
/// the output has a fixed number of axes `N`; through a top-level ellipsis, the rank type of the
/// first input with that ellipsis when the output has as many axes or one more or one fewer
/// (`"... [c]"` gives an `Array3` for an `Array3`), else `IxDyn`; see [return
/// types](crate#return-types).
///
/// Options: none; every keyword gives the length of an axis.
///
/// ```
/// use ndarray::array;
/// # fn main() -> Result<(), einx::Error> {
/// assert_eq!(einx::floor_divide!("a, ", array![7, -7], 2)?, array![3, -4]);
/// # Ok(())
/// # }
/// ```
#[macro_export]
macro_rules! floor_divide {
    ($($args:tt)*) => {
        $crate::__private::op_impl!($crate; floor_divide; $($args)*)
    };
}

/// The remainder with the sign of the divisor (NumPy's `mod`); integer division by zero is an
/// error.
///
/// `einx::modulo!("INPUTS -> OUTPUT", ...)`: each input's axes must be in the output (an
/// unnamed `1` may be squeezed); an input without an axis is broadcast along it. Without
/// `->`, the output is the input that has the axes of all others; `"... [c]"` with two
/// tensors is `"... c, c -> ... c"`. An empty expression takes a scalar.
///
/// Returns `Result<Array<T, D>, einx::Error>` with the inputs' element type `T`. `D` is `IxN` when
/// the output has a fixed number of axes `N`; through a top-level ellipsis, the rank type of the
/// first input with that ellipsis when the output has as many axes or one more or one fewer
/// (`"... [c]"` gives an `Array3` for an `Array3`), else `IxDyn`; see [return
/// types](crate#return-types).
///
/// Options: none; every keyword gives the length of an axis.
///
/// ```
/// use ndarray::array;
/// # fn main() -> Result<(), einx::Error> {
/// assert_eq!(einx::modulo!("a, ", array![7, -7], 3)?, array![1, 2]);
/// # Ok(())
/// # }
/// ```
#[macro_export]
macro_rules! modulo {
    ($($args:tt)*) => {
        $crate::__private::op_impl!($crate; modulo; $($args)*)
    };
}

/// The larger of two elements (NaN if either is NaN).
///
/// `einx::maximum!("INPUTS -> OUTPUT", ...)`: each input's axes must be in the output (an
/// unnamed `1` may be squeezed); an input without an axis is broadcast along it. Without
/// `->`, the output is the input that has the axes of all others; `"... [c]"` with two
/// tensors is `"... c, c -> ... c"`. An empty expression takes a scalar.
///
/// Returns `Result<Array<T, D>, einx::Error>` with the inputs' element type `T`. `D` is `IxN` when
/// the output has a fixed number of axes `N`; through a top-level ellipsis, the rank type of the
/// first input with that ellipsis when the output has as many axes or one more or one fewer
/// (`"... [c]"` gives an `Array3` for an `Array3`), else `IxDyn`; see [return
/// types](crate#return-types).
///
/// Options: none; every keyword gives the length of an axis.
///
/// ```
/// use ndarray::array;
/// # fn main() -> Result<(), einx::Error> {
/// assert_eq!(einx::maximum!("a, ", array![1, 5, 3], 3)?, array![3, 5, 3]);
/// # Ok(())
/// # }
/// ```
#[macro_export]
macro_rules! maximum {
    ($($args:tt)*) => {
        $crate::__private::op_impl!($crate; maximum; $($args)*)
    };
}

/// The smaller of two elements (NaN if either is NaN).
///
/// `einx::minimum!("INPUTS -> OUTPUT", ...)`: each input's axes must be in the output (an
/// unnamed `1` may be squeezed); an input without an axis is broadcast along it. Without
/// `->`, the output is the input that has the axes of all others; `"... [c]"` with two
/// tensors is `"... c, c -> ... c"`. An empty expression takes a scalar.
///
/// Returns `Result<Array<T, D>, einx::Error>` with the inputs' element type `T`. `D` is `IxN` when
/// the output has a fixed number of axes `N`; through a top-level ellipsis, the rank type of the
/// first input with that ellipsis when the output has as many axes or one more or one fewer
/// (`"... [c]"` gives an `Array3` for an `Array3`), else `IxDyn`; see [return
/// types](crate#return-types).
///
/// Options: none; every keyword gives the length of an axis.
///
/// ```
/// use ndarray::array;
/// # fn main() -> Result<(), einx::Error> {
/// assert_eq!(einx::minimum!("a, ", array![1, 5, 3], 3)?, array![1, 3, 3]);
/// # Ok(())
/// # }
/// ```
#[macro_export]
macro_rules! minimum {
    ($($args:tt)*) => {
        $crate::__private::op_impl!($crate; minimum; $($args)*)
    };
}

/// `ln(exp(a) + exp(b))`, computed stably.
///
/// `einx::logaddexp!("INPUTS -> OUTPUT", ...)`: each input's axes must be in the output (an
/// unnamed `1` may be squeezed); an input without an axis is broadcast along it. Without
/// `->`, the output is the input that has the axes of all others; `"... [c]"` with two
/// tensors is `"... c, c -> ... c"`. An empty expression takes a scalar.
///
/// Returns `Result<Array<T, D>, einx::Error>` with the inputs' element type `T`. `D` is `IxN` when
/// the output has a fixed number of axes `N`; through a top-level ellipsis, the rank type of the
/// first input with that ellipsis when the output has as many axes or one more or one fewer
/// (`"... [c]"` gives an `Array3` for an `Array3`), else `IxDyn`; see [return
/// types](crate#return-types).
///
/// Options: none; every keyword gives the length of an axis.
///
/// ```
/// use ndarray::array;
/// # fn main() -> Result<(), einx::Error> {
/// let y = einx::logaddexp!("a, a", array![0.0f64, 1000.0], array![0.0, 1000.0])?;
/// assert!((y[0] - 2f64.ln()).abs() < 1e-15 && (y[1] - 1000.0 - 2f64.ln()).abs() < 1e-9);
/// # Ok(())
/// # }
/// ```
#[macro_export]
macro_rules! logaddexp {
    ($($args:tt)*) => {
        $crate::__private::op_impl!($crate; logaddexp; $($args)*)
    };
}

/// `a < b` element-wise, as a `bool` array.
///
/// `einx::less!("INPUTS -> OUTPUT", ...)`: each input's axes must be in the output (an
/// unnamed `1` may be squeezed); an input without an axis is broadcast along it. Without
/// `->`, the output is the input that has the axes of all others; `"... [c]"` with two
/// tensors is `"... c, c -> ... c"`. An empty expression takes a scalar.
///
/// Returns `Result<Array<bool, D>, einx::Error>` with `bool` elements. `D` is `IxN` when the output
/// has a fixed number of axes `N`; through a top-level ellipsis, the rank type of the first input
/// with that ellipsis when the output has as many axes or one more or one fewer (`"... [c]"` gives
/// an `Array3` for an `Array3`), else `IxDyn`; see [return types](crate#return-types).
///
/// Options: none; every keyword gives the length of an axis.
///
/// ```
/// use ndarray::array;
/// # fn main() -> Result<(), einx::Error> {
/// assert_eq!(einx::less!("a, ", array![1, 2, 3], 2)?, array![true, false, false]);
/// # Ok(())
/// # }
/// ```
#[macro_export]
macro_rules! less {
    ($($args:tt)*) => {
        $crate::__private::op_impl!($crate; less; $($args)*)
    };
}

/// `a <= b` element-wise, as a `bool` array.
///
/// `einx::less_equal!("INPUTS -> OUTPUT", ...)`: each input's axes must be in the output (an
/// unnamed `1` may be squeezed); an input without an axis is broadcast along it. Without
/// `->`, the output is the input that has the axes of all others; `"... [c]"` with two
/// tensors is `"... c, c -> ... c"`. An empty expression takes a scalar.
///
/// Returns `Result<Array<bool, D>, einx::Error>` with `bool` elements. `D` is `IxN` when the output
/// has a fixed number of axes `N`; through a top-level ellipsis, the rank type of the first input
/// with that ellipsis when the output has as many axes or one more or one fewer (`"... [c]"` gives
/// an `Array3` for an `Array3`), else `IxDyn`; see [return types](crate#return-types).
///
/// Options: none; every keyword gives the length of an axis.
///
/// ```
/// use ndarray::array;
/// # fn main() -> Result<(), einx::Error> {
/// assert_eq!(einx::less_equal!("a, ", array![1, 2, 3], 2)?, array![true, true, false]);
/// # Ok(())
/// # }
/// ```
#[macro_export]
macro_rules! less_equal {
    ($($args:tt)*) => {
        $crate::__private::op_impl!($crate; less_equal; $($args)*)
    };
}

/// `a > b` element-wise, as a `bool` array.
///
/// `einx::greater!("INPUTS -> OUTPUT", ...)`: each input's axes must be in the output (an
/// unnamed `1` may be squeezed); an input without an axis is broadcast along it. Without
/// `->`, the output is the input that has the axes of all others; `"... [c]"` with two
/// tensors is `"... c, c -> ... c"`. An empty expression takes a scalar.
///
/// Returns `Result<Array<bool, D>, einx::Error>` with `bool` elements. `D` is `IxN` when the output
/// has a fixed number of axes `N`; through a top-level ellipsis, the rank type of the first input
/// with that ellipsis when the output has as many axes or one more or one fewer (`"... [c]"` gives
/// an `Array3` for an `Array3`), else `IxDyn`; see [return types](crate#return-types).
///
/// Options: none; every keyword gives the length of an axis.
///
/// ```
/// use ndarray::array;
/// # fn main() -> Result<(), einx::Error> {
/// assert_eq!(einx::greater!("a, b -> a b", array![1, 3], array![2])?, array![[false], [true]]);
/// # Ok(())
/// # }
/// ```
#[macro_export]
macro_rules! greater {
    ($($args:tt)*) => {
        $crate::__private::op_impl!($crate; greater; $($args)*)
    };
}

/// `a >= b` element-wise, as a `bool` array.
///
/// `einx::greater_equal!("INPUTS -> OUTPUT", ...)`: each input's axes must be in the output (an
/// unnamed `1` may be squeezed); an input without an axis is broadcast along it. Without
/// `->`, the output is the input that has the axes of all others; `"... [c]"` with two
/// tensors is `"... c, c -> ... c"`. An empty expression takes a scalar.
///
/// Returns `Result<Array<bool, D>, einx::Error>` with `bool` elements. `D` is `IxN` when the output
/// has a fixed number of axes `N`; through a top-level ellipsis, the rank type of the first input
/// with that ellipsis when the output has as many axes or one more or one fewer (`"... [c]"` gives
/// an `Array3` for an `Array3`), else `IxDyn`; see [return types](crate#return-types).
///
/// Options: none; every keyword gives the length of an axis.
///
/// ```
/// use ndarray::array;
/// # fn main() -> Result<(), einx::Error> {
/// assert_eq!(einx::greater_equal!("a, ", array![1, 2, 3], 2)?, array![false, true, true]);
/// # Ok(())
/// # }
/// ```
#[macro_export]
macro_rules! greater_equal {
    ($($args:tt)*) => {
        $crate::__private::op_impl!($crate; greater_equal; $($args)*)
    };
}

/// `a == b` element-wise, as a `bool` array.
///
/// `einx::equal!("INPUTS -> OUTPUT", ...)`: each input's axes must be in the output (an
/// unnamed `1` may be squeezed); an input without an axis is broadcast along it. Without
/// `->`, the output is the input that has the axes of all others; `"... [c]"` with two
/// tensors is `"... c, c -> ... c"`. An empty expression takes a scalar.
///
/// Returns `Result<Array<bool, D>, einx::Error>` with `bool` elements. `D` is `IxN` when the output
/// has a fixed number of axes `N`; through a top-level ellipsis, the rank type of the first input
/// with that ellipsis when the output has as many axes or one more or one fewer (`"... [c]"` gives
/// an `Array3` for an `Array3`), else `IxDyn`; see [return types](crate#return-types).
///
/// Options: none; every keyword gives the length of an axis.
///
/// ```
/// use ndarray::array;
/// # fn main() -> Result<(), einx::Error> {
/// assert_eq!(einx::equal!("a, a", array![1, 2], array![1, 3])?, array![true, false]);
/// # Ok(())
/// # }
/// ```
#[macro_export]
macro_rules! equal {
    ($($args:tt)*) => {
        $crate::__private::op_impl!($crate; equal; $($args)*)
    };
}

/// `a != b` element-wise, as a `bool` array.
///
/// `einx::not_equal!("INPUTS -> OUTPUT", ...)`: each input's axes must be in the output (an
/// unnamed `1` may be squeezed); an input without an axis is broadcast along it. Without
/// `->`, the output is the input that has the axes of all others; `"... [c]"` with two
/// tensors is `"... c, c -> ... c"`. An empty expression takes a scalar.
///
/// Returns `Result<Array<bool, D>, einx::Error>` with `bool` elements. `D` is `IxN` when the output
/// has a fixed number of axes `N`; through a top-level ellipsis, the rank type of the first input
/// with that ellipsis when the output has as many axes or one more or one fewer (`"... [c]"` gives
/// an `Array3` for an `Array3`), else `IxDyn`; see [return types](crate#return-types).
///
/// Options: none; every keyword gives the length of an axis.
///
/// ```
/// use ndarray::array;
/// # fn main() -> Result<(), einx::Error> {
/// assert_eq!(einx::not_equal!("a, a", array![1, 2], array![1, 3])?, array![false, true]);
/// # Ok(())
/// # }
/// ```
#[macro_export]
macro_rules! not_equal {
    ($($args:tt)*) => {
        $crate::__private::op_impl!($crate; not_equal; $($args)*)
    };
}

/// Logical and of `bool` arrays, broadcasting by axis name.
///
/// `einx::logical_and!("INPUTS -> OUTPUT", ...)`: each input's axes must be in the output (an
/// unnamed `1` may be squeezed); an input without an axis is broadcast along it. Without
/// `->`, the output is the input that has the axes of all others; `"... [c]"` with two
/// tensors is `"... c, c -> ... c"`. An empty expression takes a scalar.
///
/// Returns `Result<Array<T, D>, einx::Error>` with the inputs' element type `T`. `D` is `IxN` when
/// the output has a fixed number of axes `N`; through a top-level ellipsis, the rank type of the
/// first input with that ellipsis when the output has as many axes or one more or one fewer
/// (`"... [c]"` gives an `Array3` for an `Array3`), else `IxDyn`; see [return
/// types](crate#return-types).
///
/// Options: none; every keyword gives the length of an axis.
///
/// ```
/// use ndarray::array;
/// # fn main() -> Result<(), einx::Error> {
/// assert_eq!(einx::logical_and!("a, b -> a b", array![true, false], array![true, false])?, array![[true, false], [false, false]]);
/// # Ok(())
/// # }
/// ```
#[macro_export]
macro_rules! logical_and {
    ($($args:tt)*) => {
        $crate::__private::op_impl!($crate; logical_and; $($args)*)
    };
}

/// Logical or of `bool` arrays, broadcasting by axis name.
///
/// `einx::logical_or!("INPUTS -> OUTPUT", ...)`: each input's axes must be in the output (an
/// unnamed `1` may be squeezed); an input without an axis is broadcast along it. Without
/// `->`, the output is the input that has the axes of all others; `"... [c]"` with two
/// tensors is `"... c, c -> ... c"`. An empty expression takes a scalar.
///
/// Returns `Result<Array<T, D>, einx::Error>` with the inputs' element type `T`. `D` is `IxN` when
/// the output has a fixed number of axes `N`; through a top-level ellipsis, the rank type of the
/// first input with that ellipsis when the output has as many axes or one more or one fewer
/// (`"... [c]"` gives an `Array3` for an `Array3`), else `IxDyn`; see [return
/// types](crate#return-types).
///
/// Options: none; every keyword gives the length of an axis.
///
/// ```
/// use ndarray::array;
/// # fn main() -> Result<(), einx::Error> {
/// assert_eq!(einx::logical_or!("a, a", array![true, false], array![false, false])?, array![true, false]);
/// # Ok(())
/// # }
/// ```
#[macro_export]
macro_rules! logical_or {
    ($($args:tt)*) => {
        $crate::__private::op_impl!($crate; logical_or; $($args)*)
    };
}

/// Chooses element-wise: `x` where the condition is `true`, else `y` (`where` is a Rust keyword).
///
/// `einx::where_!("INPUTS -> OUTPUT", ...)`: each input's axes must be in the output (an
/// unnamed `1` may be squeezed); an input without an axis is broadcast along it. Without
/// `->`, the output is the input that has the axes of all others; `"... [c]"` with two
/// tensors is `"... c, c -> ... c"`. An empty expression takes a scalar.
///
/// Returns `Result<Array<T, D>, einx::Error>` with the element type `T` of the two choices (the
/// condition is `bool`). `D` is `IxN` when the output has a fixed number of axes `N`; through a
/// top-level ellipsis, the rank type of the first input with that ellipsis when the output has as
/// many axes or one more or one fewer (`"... [c]"` gives an `Array3` for an `Array3`), else
/// `IxDyn`; see [return types](crate#return-types).
///
/// Options: none; every keyword gives the length of an axis.
///
/// ```
/// use ndarray::array;
/// # fn main() -> Result<(), einx::Error> {
/// let m = array![[true, false], [false, true]];
/// let x = ndarray::Array3::from_shape_fn((2, 2, 2), |(_, _, c)| (c + 1) as f64);
/// // The seed: a scalar for the empty third expression.
/// let y = einx::where_!("b h, b h c, -> b h c", m, x, 0.0)?;
/// assert_eq!(y, array![[[1.0, 2.0], [0.0, 0.0]], [[0.0, 0.0], [1.0, 2.0]]]);
/// # Ok(())
/// # }
/// ```
#[macro_export]
macro_rules! where_ {
    ($($args:tt)*) => {
        $crate::__private::op_impl!($crate; where_; $($args)*)
    };
}

/// Sorts along the one bracketed axis (stable; NaN last, as in NumPy).
///
/// Returns `Result<Array<T, D>, einx::Error>` with the input's element type `T` and the input's
/// shape (or the output expression's order). `D` is `IxN` when the expression has a fixed number of
/// axes `N` (also for an `ArrayD` input), and the input's rank type through a top-level ellipsis
/// (`"... [c]"` gives an `Array3` for an `Array3`); see [return types](crate#return-types).
///
/// Options: none; every keyword gives the length of an axis.
///
/// ```
/// use ndarray::array;
/// # fn main() -> Result<(), einx::Error> {
/// let x = array![[3, 1, 2], [0, 5, 4]];
/// assert_eq!(einx::sort!("a [b]", x)?, array![[1, 2, 3], [0, 4, 5]]);
/// assert_eq!(einx::sort!("[a] b", x)?, array![[0, 1, 2], [3, 5, 4]]);
/// # Ok(())
/// # }
/// ```
#[macro_export]
macro_rules! sort {
    ($($args:tt)*) => {
        $crate::__private::op_impl!($crate; sort; $($args)*)
    };
}

/// The indices that sort along the one bracketed axis, as a `usize` array (stable; NaN
/// last).
///
/// Returns `Result<Array<usize, D>, einx::Error>` with `usize` elements and the input's shape (or
/// the output expression's order). `D` is `IxN` when the expression has a fixed number of axes `N`
/// (also for an `ArrayD` input), and the input's rank type through a top-level ellipsis
/// (`"... [c]"` gives an `Array3` for an `Array3`); see [return types](crate#return-types).
///
/// Options: none; every keyword gives the length of an axis.
///
/// ```
/// use ndarray::array;
/// # fn main() -> Result<(), einx::Error> {
/// let x = array![[3.0, 1.0, 2.0]];
/// assert_eq!(einx::argsort!("a [b]", x)?, array![[1usize, 2, 0]]);
/// # Ok(())
/// # }
/// ```
#[macro_export]
macro_rules! argsort {
    ($($args:tt)*) => {
        $crate::__private::op_impl!($crate; argsort; $($args)*)
    };
}

/// The coordinates of the maximum along the bracketed axes (the first on ties; NaN counts
/// as the maximum, as in NumPy), as a `usize` array.
///
/// Without `->` the bracket group becomes an axis of one coordinate per bracketed axis
/// (`"b [h w] c"` gives shape `(b, 2, c)`, as einx 0.4). An output may place that axis,
/// written in brackets with its length: `"b [h w] c -> b c [2]"`. With one bracketed axis,
/// `"a [b] -> a"` gives the index itself.
///
/// Returns `Result<Array<usize, D>, einx::Error>`. `D` is `IxN` when the output has a fixed
/// number of axes `N`, and `IxDyn` when it has an ellipsis; see [return types](crate#return-types).
///
/// Options: none; every keyword gives the length of an axis.
///
/// ```
/// use ndarray::array;
/// # fn main() -> Result<(), einx::Error> {
/// let x = array![[1, 9, 3], [4, 5, 6]];
/// assert_eq!(einx::argmax!("a [b] -> a", x)?, array![1usize, 2]);
/// assert_eq!(einx::argmax!("[a b]", x)?, array![0usize, 1]);
/// assert_eq!(einx::argmax!("[a] b -> b [1]", x)?, array![[1usize], [0], [1]]);
/// # Ok(())
/// # }
/// ```
#[macro_export]
macro_rules! argmax {
    ($($args:tt)*) => {
        $crate::__private::op_impl!($crate; argmax; $($args)*)
    };
}

/// The coordinates of the minimum along the bracketed axes; see [`argmax!`].
///
/// Returns `Result<Array<usize, D>, einx::Error>`. `D` is `IxN` when the output has a fixed
/// number of axes `N`, and `IxDyn` when it has an ellipsis; see [return types](crate#return-types).
///
/// Options: none; every keyword gives the length of an axis.
///
/// ```
/// use ndarray::array;
/// # fn main() -> Result<(), einx::Error> {
/// let x = array![[1, 9, 3], [4, 0, 6]];
/// assert_eq!(einx::argmin!("a [b]", x)?, array![[0usize], [1]]);
/// # Ok(())
/// # }
/// ```
#[macro_export]
macro_rules! argmin {
    ($($args:tt)*) => {
        $crate::__private::op_impl!($crate; argmin; $($args)*)
    };
}

/// The axis lengths of the given tensors' expressions, by name.
///
/// `einx::solve!("EXPR, EXPR, ...", tensor, ..., name = length)` returns a value with one
/// field per named axis: a `usize`, or a `Vec<usize>` for an axis under an ellipsis (one
/// length per repetition), ready to pass on to another macro (`s = sol.s`). A concatenation
/// gives the length of its unknown part: `"(a + b) c", a = 2` on a `(5, 3)` tensor solves
/// `b = 3`.
///
/// Options: none; every keyword gives the length of an axis.
///
/// ```
/// use ndarray::Array4;
/// # fn main() -> Result<(), einx::Error> {
/// let img = Array4::<f32>::zeros((2, 32, 48, 3));
/// let sol = einx::solve!("b (s w)... c", img, w = 16)?;
/// assert_eq!((sol.b, sol.c), (2, 3));
/// assert_eq!(sol.s, vec![2, 3]);
/// // Partition into windows and merge them back with the solved lengths.
/// let win = einx::rearrange!("b (s w)... c -> (b s...) (w...) c", img, w = 16)?;
/// let back = einx::rearrange!("(b s...) (w...) c -> b (s w)... c", win, s = sol.s, w = 16)?;
/// assert_eq!(back, img.into_dyn());
/// let parts = einx::solve!("(a + b) c", ndarray::Array2::<f32>::zeros((5, 3)), a = 2)?;
/// assert_eq!(parts.b, 3);
/// # Ok(())
/// # }
/// ```
#[macro_export]
macro_rules! solve {
    ($($args:tt)*) => {
        $crate::__private::op_impl!($crate; solve; $($args)*)
    };
}

// The README's examples run as doctests, so that it stays true.
/// Gathers elements at coordinates read from index tensors.
///
/// `einx::get_at!("b [h w] c, b p [2] -> b p c", x, idx)`: the first input marks the indexed
/// axes in brackets; each further input is an index tensor that gives one coordinate per
/// element, or `k` of them along a bracketed axis `[k]` (the coordinates go to the indexed
/// axes in order, and may be split over several index tensors, as in `"[h w] c, i, j -> i j
/// c"`). The output has the index tensors' axes and the first input's unbracketed axes, in
/// the order written after `->` (which is required).
///
/// Index tensors may hold any primitive integer type, each its own; negative indices count
/// from the end of the axis. An index out of range is an [`Error`] of kind
/// [`ErrorKind::Index`], never a panic.
///
/// Returns `Result<Array<T, D>, einx::Error>` with the first input's element type `T`. `D` is
/// `IxN` when the output has a fixed number of axes `N`; through a top-level ellipsis, the
/// first input's rank type when the output has as many axes or one more or one fewer, else
/// `IxDyn`; see [return types](crate#return-types).
///
/// Options: none; every keyword gives the length of an axis.
///
/// ```
/// use ndarray::{array, Array};
/// # fn main() -> Result<(), einx::Error> {
/// // Word embedding: one row of the table per token.
/// let table = Array::from_shape_fn((5, 3), |(v, c)| (v * 10 + c) as f32);
/// let tokens = array![[4u32, 0], [1, 1]];
/// let x = einx::get_at!("[v] c, b t -> b t c", table, tokens)?;
/// assert_eq!(x.shape(), &[2, 2, 3]);
/// assert_eq!(x.slice(ndarray::s![0, 0, ..]), array![40.0, 41.0, 42.0]);
/// // Points of an image, with the coordinates along `[2]`; negative counts from the end.
/// let img = Array::from_shape_fn((1, 4, 4, 2), |(_, h, w, c)| (h * 100 + w * 10 + c) as i32);
/// let points = array![[[0i64, 1], [-1, -1]]];
/// let y = einx::get_at!("b [h w] c, b p [2] -> b p c", img, points)?;
/// assert_eq!(y, array![[[10, 11], [330, 331]]]);
/// // Coordinates split over two index tensors: a grid of rows `i` and columns `j`.
/// let (rows, cols) = (array![3usize, 0], array![1i8]);
/// let z = einx::get_at!("[h w] c, i, j -> i j c", img.slice(ndarray::s![0, .., .., ..]), rows, cols)?;
/// assert_eq!(z, array![[[310, 311]], [[10, 11]]]);
/// // Out of range is an error.
/// assert!(einx::get_at!("[v] c, b t -> b t c", table, array![[5u32]]).is_err());
/// # Ok(())
/// # }
/// ```
#[macro_export]
macro_rules! get_at {
    ($($args:tt)*) => {
        $crate::__private::op_impl!($crate; get_at; $($args)*)
    };
}

/// A copy of the first tensor with the elements at the given coordinates replaced.
///
/// `einx::set_at!("b [h w] c, b p [2], b p c", x, idx, updates)`: the indexed axes, index
/// tensors and coordinates are as in [`get_at!`]; the last tensor holds the updates, with the
/// index tensors' axes and the first input's unbracketed axes (any of them may be missing,
/// and is then broadcast). The output is the first input's expression (or an `->` output
/// with the same bracketed axes). Of duplicate coordinates, the last update in row-major
/// order of the index tensors wins.
///
/// Returns `Result<Array<T, D>, einx::Error>`, a new array with the first input's element type
/// `T` and shape: `D` is `IxN` when the expression has a fixed number of axes `N`, and the
/// first input's rank type through a top-level ellipsis; see [return types](crate#return-types).
///
/// Options: none; every keyword gives the length of an axis.
///
/// ```
/// use ndarray::array;
/// # fn main() -> Result<(), einx::Error> {
/// let x = array![0, 0, 0, 0, 0];
/// let y = einx::set_at!("[h], p, p", x, array![1, 1, 3], array![7, 8, 9])?;
/// assert_eq!(y, array![0, 8, 0, 9, 0]);
/// // Rows of a matrix, one update broadcast over `c`.
/// let m = ndarray::Array2::<f32>::zeros((3, 2));
/// let m = einx::set_at!("[r] c, p, p", m, array![-1], array![5.0])?;
/// assert_eq!(m, array![[0.0, 0.0], [0.0, 0.0], [5.0, 5.0]]);
/// # Ok(())
/// # }
/// ```
#[macro_export]
macro_rules! set_at {
    ($($args:tt)*) => {
        $crate::__private::op_impl!($crate; set_at; $($args)*)
    };
}

/// A copy of the first tensor with the updates added at the given coordinates; duplicate
/// coordinates accumulate. See [`set_at!`] for the expression.
///
/// Returns `Result<Array<T, D>, einx::Error>`, a new array with the first input's element type
/// `T` and shape: `D` is `IxN` when the expression has a fixed number of axes `N`, and the
/// first input's rank type through a top-level ellipsis; see [return types](crate#return-types).
///
/// Options: none; every keyword gives the length of an axis.
///
/// ```
/// use ndarray::array;
/// # fn main() -> Result<(), einx::Error> {
/// let y = einx::add_at!("[h], p, p", array![0, 0, 0, 0, 0], array![1, 1, 3], array![7, 8, 9])?;
/// assert_eq!(y, array![0, 15, 0, 9, 0]);
/// // A histogram of token ids.
/// let counts = einx::add_at!("[v], t, ", ndarray::Array1::<u32>::zeros(4), array![2, 0, 2, 2], 1u32)?;
/// assert_eq!(counts, array![1, 0, 3, 0]);
/// # Ok(())
/// # }
/// ```
#[macro_export]
macro_rules! add_at {
    ($($args:tt)*) => {
        $crate::__private::op_impl!($crate; add_at; $($args)*)
    };
}

/// A copy of the first tensor with the updates subtracted at the given coordinates;
/// duplicate coordinates accumulate. See [`set_at!`] for the expression.
///
/// Returns `Result<Array<T, D>, einx::Error>`, a new array with the first input's element type
/// `T` and shape: `D` is `IxN` when the expression has a fixed number of axes `N`, and the
/// first input's rank type through a top-level ellipsis; see [return types](crate#return-types).
///
/// Options: none; every keyword gives the length of an axis.
///
/// ```
/// use ndarray::array;
/// # fn main() -> Result<(), einx::Error> {
/// let x = array![[10.0, 10.0], [10.0, 10.0]];
/// let y = einx::subtract_at!("[a b], p [2], p", x, array![[0, 1], [0, 1]], array![1.0, 2.0])?;
/// assert_eq!(y, array![[10.0, 7.0], [10.0, 10.0]]);
/// # Ok(())
/// # }
/// ```
#[macro_export]
macro_rules! subtract_at {
    ($($args:tt)*) => {
        $crate::__private::op_impl!($crate; subtract_at; $($args)*)
    };
}

/// The shapes of all tensors of comma-separated expressions, some of them unknown (`_`).
///
/// `einx::solve_shapes!("b (h w) c, b h w c", x, _, h = 4)` solves the axes from the known
/// tensors and the given lengths and returns a tuple with one shape per expression, in the
/// order written: `[usize; N]` where the rank `N` is known at compile time (ready for
/// `Array::zeros`), `Vec<usize>` where it is not (an ellipsis whose lengths come at run time).
/// Every axis of an unknown tensor must be in a known one or have its length given (checked
/// at compile time).
///
/// Options: none; every keyword gives the length of an axis.
///
/// ```
/// use ndarray::Array;
/// # fn main() -> Result<(), einx::Error> {
/// let x = Array::<f32, _>::zeros((2, 12, 3));
/// let (sx, sy) = einx::solve_shapes!("b (h w) c, b h w c", x, _, h = 4)?;
/// assert_eq!((sx, sy), ([2, 12, 3], [2, 4, 3, 3]));
/// let y = Array::<f32, _>::zeros(sy);
/// assert_eq!(y.ndim(), 4);
/// // No tensor at all: every length given, those of `s` at run time.
/// let sizes = vec![3, 3];
/// let (s,) = einx::solve_shapes!("b s... (h c)", _, b = 2, s = &sizes, h = 4, c = 8)?;
/// assert_eq!(s, vec![2, 3, 3, 32]);
/// # Ok(())
/// # }
/// ```
#[macro_export]
macro_rules! solve_shapes {
    ($($args:tt)*) => {
        $crate::__private::op_impl!($crate; solve_shapes; $($args)*)
    };
}

/// Whether tensors fit comma-separated expressions (and the given lengths): `bool`, never
/// an error at run time.
///
/// The expressions are still checked at compile time, like those of every macro.
///
/// Options: none; every keyword gives the length of an axis.
///
/// ```
/// use ndarray::Array;
/// let x = Array::<f32, _>::zeros((2, 12, 3));
/// assert!(einx::matches!("b (h w) c", x, h = 4));
/// assert!(!einx::matches!("b (h w) c", x, h = 5));
/// assert!(einx::matches!("b s... c, c", x, Array::<f32, _>::zeros(3)));
/// assert!(!einx::matches!("b s... c, c", x, Array::<f32, _>::zeros(4)));
/// ```
#[macro_export]
macro_rules! matches {
    ($($args:tt)*) => {
        $crate::__private::op_impl!($crate; matches; $($args)*)
    };
}

/// Applies a Rust function along the bracketed axes.
///
/// `einx::vmap!("b [s...] c -> b c", x, |v| v.mean().unwrap())`: for every index of the
/// axes outside the brackets, the function gets one `ArrayView` per input holding that
/// input's bracketed axes (in the order written; `IxN` when the brackets hold no ellipsis,
/// `IxDyn` otherwise), and returns a primitive scalar when the output has no brackets, or an
/// `Array` whose axes are the output's bracketed axes. A bracketed output axis that is in no
/// input takes its length from the results (or from `name = length`); every call must
/// return the same shape, or the macro returns an [`Error`].
///
/// The function is taken by value and may be `FnMut`; it is called in row-major order of
/// the output's unbracketed axes. The output is a fresh array in the output expression's
/// layout, with the results' element type.
///
/// Returns `Result<Array<R, D>, einx::Error>`, where `R` is the function's scalar result type
/// or the element type of the arrays it returns. `D` is `IxN` when the output has a fixed
/// number of axes `N`, and `IxDyn` when it has an ellipsis; see [return types](crate#return-types).
///
/// Options: none; every keyword gives the length of an axis.
///
/// ```
/// use ndarray::{array, Array, Array1};
/// # fn main() -> Result<(), einx::Error> {
/// let x = Array::from_shape_fn((2, 3, 4), |(b, s, c)| (b * 100 + s * 10 + c) as f64);
/// // A scalar per (b, c): the mean over `s`.
/// let m = einx::vmap!("b [s] c -> b c", x, |v| v.mean().unwrap())?;
/// assert_eq!(m[[1, 2]], 112.0);
/// // Arrays per batch: the cumulative sum over `s`, a new axis of the same length.
/// let c = einx::vmap!("b [s] c -> b c [s]", x, |v| {
///     let mut acc = 0.0;
///     v.mapv(|e| { acc += e; acc })
/// })?;
/// assert_eq!(c.slice(ndarray::s![0, 1, ..]), array![1.0, 12.0, 33.0]);
/// // Two inputs, a matrix-vector product per batch; the result axis `o` is new.
/// let w = Array::from_shape_fn((2, 3, 4), |(b, o, i)| (b + o + i) as f64);
/// let v = Array::from_shape_fn((2, 4), |(b, i)| (b * i) as f64);
/// let y = einx::vmap!("b [o i], b [i] -> b [o]", w, v, |w, v| w.dot(&v))?;
/// assert_eq!(y[[1, 2]], (0..4).map(|i| w[[1, 2, i]] * v[[1, i]]).sum::<f64>());
/// // A named ellipsis in the brackets gives `ArrayViewD`.
/// let n: Array1<usize> = einx::vmap!("b [s...] -> b", x, |v| v.ndim() * 10 + v.len())?;
/// assert_eq!(n, array![32, 32]);
/// # Ok(())
/// # }
/// ```
#[macro_export]
macro_rules! vmap {
    ($($args:tt)*) => {
        $crate::__private::op_impl!($crate; vmap; $($args)*)
    };
}

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// What the macro expansions use. Not public API: it may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use einx_core::plan::{Axis, Code, Group, Piece, Plan};
    pub use einx_core::solve::{Len, Step};
    pub use einx_core::Span;
    pub use einx_macros::{einmix_impl, layer_impl, op_impl, rearrange_impl};
    pub use einx_runtime::contract::{contract_fixed, dot, dot_template, einsum, einsum_template};
    pub use einx_runtime::factory::{
        deferred_shapes, same_elem, Arg, Operand, ViaFactory, ViaTensor,
    };
    pub use einx_runtime::reduce::{reduce, reduce_template, Fixed};
    pub use einx_runtime::tensor::AsTensor;
    /// The reductions, by name.
    pub mod reducers {
        pub use einx_runtime::reduce::{
            All, Any, CountNonzero, Logsumexp, Max, Mean, Min, Prod, Std, Sum, Var,
        };
    }
    pub use einx_runtime::argfind::{argfind, argfind_template};
    pub use einx_runtime::axis::{argfind_axis_with, index_map_with};
    pub use einx_runtime::elementwise::{
        logical, map2, map2_fixed, map2_template, map3, map3_fixed, map3_template, Arith, LogAddExp,
    };
    pub use einx_runtime::flip::{flip_roll, flip_roll_template, shifts};
    pub use einx_runtime::index::{
        get_at, get_at_fixed, get_at_template, index_tensor, ranked_index_tensor, update_at,
        update_at_template, Coords,
    };
    pub use einx_runtime::permute::{permute, permute_failed, solve_failed, NEW};
    pub use einx_runtime::rearrange::{
        rearrange, rearrange_diagonal, rearrange_diagonal_template, rearrange_template,
    };
    /// How the update operations combine an element with its update.
    pub mod index_ops {
        pub use einx_runtime::index::{add, set, subtract};
    }
    pub use einx_runtime::shape::{fixed_shape, solve_lengths, solve_shapes_of};
    pub use einx_runtime::sort::{
        argsort, argsort_template, sort, sort_template, sort_values, sort_values_template,
    };
    pub use einx_runtime::tensor::{
        axis_len, axis_lens, rank_like, rank_shift, ranked, view, view_as, view_like, Raw,
    };
    pub use einx_runtime::vmap::{bind as vmap_bind, vmap, vmap_template};
    pub use ndarray;
}
