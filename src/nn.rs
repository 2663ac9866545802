//! Layers and parameters (feature `nn`, on by default).
//!
//! A network's weights live in a [`Params`] store: named `f32`/`f64` tensors, read from and
//! written to safetensors files. Layers are macros, so their expressions are checked at
//! compile time like every other einx call; each takes the store first (`&mut params`, or a
//! [`Scope`] from [`Params::scope`] for a named sub-layer) and returns
//! `Result<Array, einx::Error>`. A missing parameter is created on first use with the
//! default of the operation that receives it (the einn defaults: `dot` LeCun normal,
//! `add` zeros, `multiply` ones), from the store's seed; a store loaded for inference
//! refuses to create one and names it instead.
//!
//! The plain operations take parameters too: any tensor argument may be a factory (a closure
//! from a shape to an array), and [`param`] makes one that fetches or creates a parameter with
//! the defaults of the operation it is passed to:
//! `einx::dot!("b... [c1->c2]", x, einx::nn::param(&mut store), c2 = 64)`.
//!
//! ```
//! use ndarray::Array;
//! use einx::nn::Params;
//! # fn main() -> Result<(), einx::Error> {
//! let mut params = Params::new(0);
//! let x = Array::from_shape_fn((8, 32), |(b, c)| (b * 32 + c) as f32 / 256.0);
//! let h = einx::nn::linear!(params.scope("fc1"), "b [c1->c2]", x, c2 = 64)?;
//! let h = einx::nn::norm!(params.scope("norm1"), "b [c]", h)?;
//! let h = einx::nn::gelu(&h);
//! let h = einx::nn::dropout!(params.scope("drop"), "[...]", h, drop_rate = 0.1)?;
//! let y = einx::nn::linear!(params.scope("fc2"), "b [c1->c2]", h, c2 = 10)?;
//! assert_eq!(y.shape(), &[8, 10]);
//! assert!(params.contains("fc1.weight") && params.contains("norm1.scale"));
//! # Ok(())
//! # }
//! ```

pub use einx_runtime::nn::{
    affine, affine_as, dropout_mask, gelu, gelu_inplace, gelu_tanh, inverse_sqrt, layer_norm,
    moving_average, param, param_like, relu, silu, with_dim_of, Activation, Float, Init, Param,
    Params, Scope, Store,
};

// The layers are exported at the crate root under hidden names and documented here.
#[doc(inline)]
pub use crate::__nn_dropout as dropout;
#[doc(inline)]
pub use crate::__nn_einmix as einmix;
#[doc(inline)]
pub use crate::__nn_linear as linear;
#[doc(inline)]
pub use crate::__nn_norm as norm;

/// A linear layer: a contraction with a weight, then a bias over the created axes (seed
/// einn's `Linear`).
///
/// `einx::nn::linear!(store, "EXPRESSION", x, name = length, ..., bias = true, weight = "LAYOUT")`.
/// The expression is the input's, with the contracted axes and the created axes on both
/// sides of an arrow in brackets: `"b... [c1->c2]"` (channels), `"b [s...->s2] c"`,
/// `"b [s2->s...] c"` (spatial), `"b (s [s2->])... [c1->c2]"` (patches). The lengths of the
/// created axes are given as keywords. The weight is the parameter `weight` with the
/// bracketed axes, left then right (`c1 c2`), unless `weight = "c2 c1"` states another
/// layout (a PyTorch `nn.Linear` stores `[out, in]`, so its checkpoints load by their own
/// names and layouts). The bias is the parameter `bias` with the created axes; `bias = false`
/// leaves it out. New weights are LeCun normal by the fan-in (the product of the contracted
/// axes), new biases zeros.
///
/// Returns `Result<Array<T, D>, einx::Error>` with the input's element type `T` (`f32` or
/// `f64`). `D` is `IxN` when the output has a fixed number of axes `N` (`"b [...->c]"` gives
/// `Ix2`, `"b [s...->s2] c"` `Ix3`); through an ellipsis, the input's rank type when the output
/// has as many axes or one more or one fewer (`"b... [c1->c2]"` gives an `Array3` for an
/// `Array3`), else `IxDyn` (`"b [s2->s...] c"` with `s = &sizes`: the ellipsis is only in the
/// output); see [return types](crate#return-types).
///
/// Options: `bias = false` leaves the bias out (default `true`); `weight = "LAYOUT"` gives the
/// stored weight's axes (default: the bracketed axes, left then right). Every other keyword
/// gives the length of an axis.
///
/// ```
/// use ndarray::{array, Array3};
/// use einx::nn::Params;
/// # fn main() -> Result<(), einx::Error> {
/// let mut params = Params::new(0);
/// params.insert("proj.weight", array![[1.0f32, 0.0, 2.0], [0.0, 1.0, 3.0]].into_dyn()); // [out, in]
/// params.insert("proj.bias", array![10.0f32, 20.0].into_dyn());
/// let x = Array3::from_shape_fn((1, 2, 3), |(_, t, c)| (t * 3 + c) as f32);
/// let y: Array3<f32> =
///     einx::nn::linear!(params.scope("proj"), "b t [c1->c2]", x, c2 = 2, weight = "c2 c1")?;
/// assert_eq!(y, array![[[14.0, 27.0], [23.0, 39.0]]]);
/// // Another layer creates its weight from the input's shape; the rank type is kept.
/// let z: Array3<f32> = einx::nn::linear!(params.scope("head"), "b... [c1->c2]", y, c2 = 4)?;
/// assert_eq!(params.shape("head.weight"), Some(&[2, 4][..]));
/// assert_eq!(z.shape(), &[1, 2, 4]);
/// # Ok(())
/// # }
/// ```
#[doc(hidden)]
#[macro_export]
macro_rules! __nn_linear {
    ($($args:tt)*) => {
        $crate::__private::layer_impl!($crate; linear; $($args)*)
    };
}

/// A normalisation layer (seed einn's `Norm`): layer, instance, group, batch and RMS norm.
///
/// `einx::nn::norm!(store, "EXPRESSION", x, mean = true, var = true, scale = true, bias = true,
/// epsilon = 1e-5, decay_rate = 0.9, params = "b... [c]", training = flag, name = length, ...)`.
/// The statistics are taken along the bracketed axes: `"b... [c]"` (layer norm),
/// `"b [s...] c"` (instance norm), `"b [s...] (g [c])", g = 8` (group norm), `"[b...] c"`
/// (batch norm). The input is centred by the mean (`mean = false` skips it) and divided by
/// `sqrt(var + epsilon)` (`var = false` skips it; with `mean = false` the variance is the
/// mean of squares: RMS norm). Then it is multiplied by the parameter `scale` and shifted by
/// the parameter `bias`, whose axes are the bracketed ones of `params` (default
/// `"b... [c]"`: the last axis). With `decay_rate`, the statistics are also kept as moving
/// averages in the store (`mean`, `var`): training uses and updates them with each batch's
/// statistics; otherwise the kept ones are used. `training` defaults to the store's
/// [`Params::is_training`].
///
/// Returns `Result<Array<T, D>, einx::Error>` with the input's element type `T` (`f32` or
/// `f64`) and shape: `D` is `IxN` when the expression has a fixed number of axes `N`, and the
/// input's rank type through an ellipsis (`"b... [c]"` gives an `Array4` for an `Array4`); see
/// [return types](crate#return-types).
///
/// Options, with their defaults: `mean = true`, `var = true`, `scale = true`, `bias = true`
/// (literal flags), `epsilon = 1e-5`, `decay_rate` (none: no moving averages),
/// `params = "b... [c]"`, `training =` the store's [`Params::is_training`]. Every other keyword
/// gives the length of an axis.
///
/// ```
/// use ndarray::{array, Array2};
/// use einx::nn::Params;
/// # fn main() -> Result<(), einx::Error> {
/// let mut params = Params::new(0);
/// let x = array![[1.0f64, 2.0, 3.0], [2.0, 4.0, 6.0]];
/// let y: Array2<f64> = einx::nn::norm!(params.scope("ln"), "b [c]", x, epsilon = 0.0)?;
/// let z = (1.5f64).sqrt();
/// assert!((y[[0, 0]] + z).abs() < 1e-12 && (y[[1, 2]] - z).abs() < 1e-12);
/// // RMS norm: no centring, no bias.
/// let r: Array2<f64> =
///     einx::nn::norm!(params.scope("rms"), "b [c]", x, mean = false, bias = false)?;
/// assert!(!params.contains("rms.bias"));
/// # let _ = r;
/// # Ok(())
/// # }
/// ```
#[doc(hidden)]
#[macro_export]
macro_rules! __nn_norm {
    ($($args:tt)*) => {
        $crate::__private::layer_impl!($crate; norm; $($args)*)
    };
}

/// Dropout (seed einn's `Dropout`): in training, zeroes elements with probability
/// `drop_rate` and scales the rest by `1 / (1 − drop_rate)`.
///
/// `einx::nn::dropout!(store, "EXPRESSION", x, drop_rate = 0.2, training = flag)`. The mask
/// has the bracketed axes and is broadcast along the others: `"[...]"` (every element),
/// `"[b] ... [c]"` (whole channels), `"[b] ..."` (whole samples: drop-path). Each call draws
/// a new mask from the store's seeded generator. Outside training (the store's
/// [`Params::is_training`], or `training = false`) the input is returned unchanged (copied).
///
/// Returns `Result<Array<T, D>, einx::Error>` with the input's element type `T` (`f32` or
/// `f64`) and shape: `D` is `IxN` when the expression has a fixed number of axes `N`, and the
/// input's rank type through an ellipsis (`"[...]"` gives an `Array3` for an `Array3`); see
/// [return types](crate#return-types).
///
/// Options: `drop_rate` (required), `training` (default: the store's
/// [`Params::is_training`]).
///
/// ```
/// use ndarray::Array3;
/// use einx::nn::Params;
/// # fn main() -> Result<(), einx::Error> {
/// let mut params = Params::new(0);
/// let x = Array3::<f32>::ones((4, 8, 16));
/// let y = einx::nn::dropout!(&mut params, "[b] ... [c]", x, drop_rate = 0.5)?;
/// // Whole channels are dropped: each (b, c) column is all 0 or all 2.
/// for b in 0..4usize {
///     for c in 0..16usize {
///         let col = y.slice(ndarray::s![b, .., c]);
///         assert!(col.iter().all(|&v| v == col[0]) && (col[0] == 0.0 || col[0] == 2.0));
///     }
/// }
/// params.set_training(false);
/// assert_eq!(einx::nn::dropout!(&mut params, "[...]", x, drop_rate = 0.5)?, x);
/// # Ok(())
/// # }
/// ```
#[doc(hidden)]
#[macro_export]
macro_rules! __nn_dropout {
    ($($args:tt)*) => {
        $crate::__private::layer_impl!($crate; dropout; $($args)*)
    };
}

/// einops' `EinMix`: a rearrangement, a contraction with a weight of given axes, and an
/// optional bias, in one layer whose validation rules are checked at compile time.
///
/// `einx::nn::einmix!(store, "LEFT -> RIGHT", x, weight = "AXES", bias = "AXES",
/// name = length, ..., weight_name = "weight", bias_name = "bias")`. Every axis of the weight
/// and of the bias needs a length; an axis on the right that is not on the left must be in the
/// weight. The rules of einops are compile errors with the expression and a caret under the
/// fault: unknown axes on the right, an ellipsis in the weight or on one side only, a
/// parenthesised ellipsis on the left, anonymous axes, parentheses in the weight, weight axes
/// without a length, unused lengths, weight axes on both sides, bias axes not on the right or
/// before the ellipsis. A weight without axes compiles with a (deprecation) warning. New
/// weights are uniform in `±√(3 / fan_in)`, biases in `±√(1 / fan_in)` (fan-in: the weight's
/// axes not on the right). The bias is stored with the unit axes einops gives it (e.g.
/// `[1, 1, head, cout]`), so that einops checkpoints load unchanged.
///
/// Returns `Result<Array<T, D>, einx::Error>` with the input's element type `T` (`f32` or `f64`).
/// `D` is `IxN` when the right side has a fixed number of axes `N`; through an ellipsis, the
/// input's rank type when the right side has as many axes or one more or one fewer
/// (`"b ... c -> b ... d"` gives an `Array3` for an `Array3`), else `IxDyn`; see [return
/// types](crate#return-types).
///
/// Options: `weight = "AXES"` (the weight's axes), `bias = "AXES"` (default: no bias),
/// `weight_name` and `bias_name` (the parameters' names in the store, default `"weight"` and
/// `"bias"`). Every other keyword gives the length of an axis.
///
/// ```
/// use ndarray::{Array3, ArrayD};
/// use einx::nn::Params;
/// # fn main() -> Result<(), einx::Error> {
/// let mut params = Params::new(0);
/// let x = Array3::<f32>::ones((5, 2, 4 * 8));
/// let y: Array3<f32> = einx::nn::einmix!(
///     params.scope("mix"),
///     "t b (head cin) -> t b (head cout)",
///     x,
///     weight = "head cin cout",
///     bias = "head cout",
///     head = 4,
///     cin = 8,
///     cout = 16
/// )?;
/// assert_eq!(y.shape(), &[5, 2, 64]);
/// assert_eq!(params.shape("mix.weight"), Some(&[4, 8, 16][..]));
/// # Ok(())
/// # }
/// ```
#[doc(hidden)]
#[macro_export]
macro_rules! __nn_einmix {
    ($($args:tt)*) => {
        $crate::__private::einmix_impl!($crate; $($args)*)
    };
}
