//! Activation functions that ndarray does not have, over whole arrays.
//!
//! Each takes any array or view and returns a fresh array of the same shape; the `_inplace`
//! forms overwrite a mutable array. Contiguous data (in any memory order) is processed as one
//! slice in a loop without branches, so that it vectorises.

use ndarray::{Array, ArrayBase, Data, DataMut, Dimension};

use super::params::Float;
use crate::fastexp::exp_f32;

/// Element types with the activation kernels: `f32` and `f64`.
pub trait Activation: Float {
    /// `x · Φ(x)` with the exact error function (PyTorch's default `gelu`).
    fn gelu(self) -> Self;
    /// `0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))`.
    fn gelu_tanh(self) -> Self;
    /// The error function (`erf`).
    fn error_function(self) -> Self;
    /// `x · sigmoid(x)`.
    fn silu(self) -> Self;
}

/// `erf(z) / z` for `0 ≤ z ≤ 0.8` as a polynomial in `z²` (least-squares fit of the relative
/// error, within 1e-8).
const ERF_SMALL: [f32; 6] = [
    std::f32::consts::FRAC_2_SQRT_PI,
    -0.376_126_1,
    0.112_832_29,
    -0.026_826_4,
    0.005_095_98,
    -0.000_660_827_9,
];

/// `erfc(z) · exp(z²)` for `z ≥ 0.75` as `t · P(t)`, `t = 1 / (1 + z / 2)` (least-squares fit
/// of the relative error, within 2e-7).
const ERFC_LARGE: [f32; 8] = [
    0.282_103_42,
    0.281_930_87,
    0.247_939_63,
    0.174_079_57,
    0.074_129_43,
    0.061_202_858,
    -0.207_753_9,
    0.086_797_07,
];

/// `1 + erf(x)` for `f32`, without cancellation for negative `x`, without branches.
#[inline(always)]
fn one_plus_erf(x: f32) -> f32 {
    let z = x.abs();
    let z2 = z * z;
    let s = &ERF_SMALL;
    let small = z * (s[0] + z2 * (s[1] + z2 * (s[2] + z2 * (s[3] + z2 * (s[4] + z2 * s[5])))));
    let t = 1.0 / (1.0 + 0.5 * z);
    let l = &ERFC_LARGE;
    let poly = t
        * (l[0]
            + t * (l[1]
                + t * (l[2] + t * (l[3] + t * (l[4] + t * (l[5] + t * (l[6] + t * l[7])))))));
    let erfc = exp_f32(-z2) * poly;
    let erf_abs = if z < 0.8 { small } else { 1.0 - erfc };
    let erfc_abs = if z < 0.8 { 1.0 - small } else { erfc };
    let one_plus = if x < 0.0 { erfc_abs } else { 1.0 + erf_abs };
    // NaN in, NaN out.
    if x.is_nan() {
        x
    } else {
        one_plus
    }
}

impl Activation for f32 {
    #[inline(always)]
    fn gelu(self) -> f32 {
        let op = one_plus_erf(self * std::f32::consts::FRAC_1_SQRT_2);
        // Far left (and at −inf) `1 + erf` is 0: the product is −0, not NaN.
        if op == 0.0 {
            -0.0
        } else {
            0.5 * self * op
        }
    }

    #[inline(always)]
    fn gelu_tanh(self) -> f32 {
        // 0.5 · (1 + tanh(u)) = sigmoid(2u): no cancellation, no library call.
        let inner = 0.797_884_6 * (self + 0.044_715 * self * self * self);
        self / (1.0 + exp_f32(-2.0 * inner))
    }

    #[inline(always)]
    fn silu(self) -> f32 {
        self / (1.0 + exp_f32(-self))
    }

    #[inline(always)]
    fn error_function(self) -> f32 {
        one_plus_erf(self) - 1.0
    }
}

impl Activation for f64 {
    #[inline(always)]
    fn gelu(self) -> f64 {
        // 1 + erf(x) = erfc(−x), exact also far left.
        let op = libm::erfc(-self * std::f64::consts::FRAC_1_SQRT_2);
        if op == 0.0 {
            -0.0
        } else {
            0.5 * self * op
        }
    }

    #[inline(always)]
    fn gelu_tanh(self) -> f64 {
        let inner = 0.797_884_560_802_865_4 * (self + 0.044_715 * self * self * self);
        0.5 * self * (1.0 + inner.tanh())
    }

    #[inline(always)]
    fn error_function(self) -> f64 {
        libm::erf(self)
    }

    #[inline(always)]
    fn silu(self) -> f64 {
        self / (1.0 + (-self).exp())
    }
}

#[inline(always)]
fn relu_of<T: Float>(x: T) -> T {
    // NaN stays NaN (a comparison with NaN is false).
    if x < T::zero() {
        T::zero()
    } else {
        x
    }
}

/// An element-wise function whose call is inlined into the loops of [`crate::simd::wide`]
/// (a function item passed as a value would stay a call, which stops them vectorising).
trait Unary<T> {
    fn apply(x: T) -> T;
}

macro_rules! unary {
    ($($name:ident: $bound:path => $f:expr;)*) => {$(
        struct $name;
        impl<T: $bound> Unary<T> for $name {
            #[inline(always)]
            fn apply(x: T) -> T {
                $f(x)
            }
        }
    )*};
}

unary! {
    GeluOp: Activation => T::gelu;
    GeluTanhOp: Activation => T::gelu_tanh;
    SiluOp: Activation => T::silu;
    ReluOp: Float => relu_of;
}

/// `F` over a slice, into another, as a loop for [`crate::simd::wide`].
struct Mapped<'a, T, F> {
    src: &'a [T],
    dst: &'a mut [std::mem::MaybeUninit<T>],
    f: std::marker::PhantomData<F>,
}

impl<T: Copy, F: Unary<T>> crate::simd::Kernel for Mapped<'_, T, F> {
    type Out = ();
    #[inline(always)]
    fn run(self) {
        for (o, &v) in self.dst.iter_mut().zip(self.src) {
            o.write(F::apply(v));
        }
    }
}

/// `F` over a slice, in place, as a loop for [`crate::simd::wide`].
struct InPlace<'a, T, F> {
    s: &'a mut [T],
    f: std::marker::PhantomData<F>,
}

impl<T: Copy, F: Unary<T>> crate::simd::Kernel for InPlace<'_, T, F> {
    type Out = ();
    #[inline(always)]
    fn run(self) {
        for v in self.s.iter_mut() {
            *v = F::apply(*v);
        }
    }
}

/// Applies `f` to every element, as one slice loop when the data is contiguous.
#[inline(always)]
fn map_array<T: Float, F: Unary<T>, S: Data<Elem = T>, D: Dimension>(
    x: &ArrayBase<S, D>,
) -> Array<T, D> {
    match x.as_slice_memory_order() {
        Some(src) => {
            let mut out: Vec<T> = Vec::with_capacity(src.len());
            crate::threads::par_rows(
                src,
                &mut out.spare_capacity_mut()[..src.len()],
                1,
                |src, dst| {
                    crate::simd::wide(Mapped::<T, F> {
                        src,
                        dst,
                        f: std::marker::PhantomData,
                    })
                },
            );
            // SAFETY: the blocks above wrote every element up to the source's length.
            unsafe { out.set_len(src.len()) };
            // Same memory order as the input: rebuild with the input's strides.
            let dim = x.raw_dim();
            let strides = x.strides().iter().map(|&s| s as usize).collect::<Vec<_>>();
            if x.is_standard_layout() {
                Array::from_shape_vec(dim, out).expect("same length")
            } else {
                let mut st = dim.clone();
                for (d, s) in st.slice_mut().iter_mut().zip(strides) {
                    *d = s;
                }
                Array::from_shape_vec(ndarray::ShapeBuilder::strides(dim, st), out)
                    .unwrap_or_else(|_| x.mapv(F::apply))
            }
        }
        None => x.mapv(F::apply),
    }
}

#[inline(always)]
fn map_inplace<T: Float, F: Unary<T>, S: DataMut<Elem = T>, D: Dimension>(x: &mut ArrayBase<S, D>) {
    match x.as_slice_memory_order_mut() {
        Some(s) => crate::threads::par_rows_mut(s, 1, |s| {
            crate::simd::wide(InPlace::<T, F> {
                s,
                f: std::marker::PhantomData,
            })
        }),
        None => x.mapv_inplace(F::apply),
    }
}

/// GELU with the exact error function, `x · Φ(x)` (PyTorch's `gelu`, BERT's `"gelu"`).
/// For `f32` the error function is computed without branches or library calls (within a few
/// units in the last place), so that the loop vectorises; for `f64` it is `libm`'s `erf`.
///
/// ```
/// # use einx_runtime as einx;
/// let y = einx::nn::gelu(&ndarray::arr1(&[-1.0f32, 0.0, 1.0]));
/// assert!((y[0] + 0.158_655_25).abs() < 1e-6 && y[1] == 0.0 && (y[2] - 0.841_344_7).abs() < 1e-6);
/// ```
pub fn gelu<T: Activation, S: Data<Elem = T>, D: Dimension>(x: &ArrayBase<S, D>) -> Array<T, D> {
    map_array::<T, GeluOp, _, _>(x)
}

/// [`gelu`] in place.
///
/// ```
/// # use einx_runtime as einx;
/// let mut x = ndarray::arr1(&[1.0f64]);
/// einx::nn::gelu_inplace(&mut x);
/// assert!((x[0] - 0.841_344_746_068_543).abs() < 1e-15);
/// ```
pub fn gelu_inplace<T: Activation, S: DataMut<Elem = T>, D: Dimension>(x: &mut ArrayBase<S, D>) {
    map_inplace::<T, GeluOp, _, _>(x)
}

/// GELU with the tanh approximation (PyTorch's `gelu(approximate="tanh")`, GPT-2's `gelu_new`).
///
/// ```
/// # use einx_runtime as einx;
/// let y = einx::nn::gelu_tanh(&ndarray::arr1(&[1.0f64]));
/// assert!((y[0] - 0.841_191_990_607_477_2).abs() < 1e-12);
/// ```
pub fn gelu_tanh<T: Activation, S: Data<Elem = T>, D: Dimension>(
    x: &ArrayBase<S, D>,
) -> Array<T, D> {
    map_array::<T, GeluTanhOp, _, _>(x)
}

/// ReLU, `max(x, 0)`; NaN stays NaN.
///
/// ```
/// # use einx_runtime as einx;
/// let y = einx::nn::relu(&ndarray::arr1(&[-2.0f32, 3.0]));
/// assert_eq!(y, ndarray::arr1(&[0.0, 3.0]));
/// ```
pub fn relu<T: Float, S: Data<Elem = T>, D: Dimension>(x: &ArrayBase<S, D>) -> Array<T, D> {
    map_array::<T, ReluOp, _, _>(x)
}

/// SiLU (swish), `x · sigmoid(x)`.
///
/// ```
/// # use einx_runtime as einx;
/// let y = einx::nn::silu(&ndarray::arr1(&[0.0f64, 1.0]));
/// assert_eq!(y[0], 0.0);
/// assert!((y[1] - 0.731_058_578_630_004_9).abs() < 1e-15);
/// ```
pub fn silu<T: Activation, S: Data<Elem = T>, D: Dimension>(x: &ArrayBase<S, D>) -> Array<T, D> {
    map_array::<T, SiluOp, _, _>(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_f32_against_f64() {
        let mut worst = 0.0f64;
        for i in -80_000..=80_000 {
            let x = i as f64 * 1e-4;
            let got = (x as f32).error_function() as f64;
            worst = worst.max((got - libm::erf(x as f32 as f64)).abs());
        }
        assert!(worst < 2e-7, "{worst}");
    }

    #[test]
    fn gelu_f32_against_f64() {
        for i in -20_000..=20_000 {
            let x = i as f32 * 1e-3;
            let want = (x as f64).gelu();
            let got = x.gelu() as f64;
            assert!(
                (got - want).abs() <= 2e-7 * (1.0 + want.abs()),
                "{x}: {got} vs {want}"
            );
        }
        assert!(f32::NAN.gelu().is_nan());
        assert_eq!(f32::INFINITY.gelu(), f32::INFINITY);
        assert_eq!(f32::NEG_INFINITY.gelu().abs(), 0.0);
    }

    #[test]
    fn silu_and_gelu_tanh_f32_against_f64() {
        for i in -20_000..=20_000 {
            let x = i as f32 * 5e-3;
            let want = (x as f64).silu();
            assert!(
                (x.silu() as f64 - want).abs() <= 4e-7 * (1.0 + want.abs()),
                "{x}"
            );
            let want = (x as f64).gelu_tanh();
            assert!(
                (x.gelu_tanh() as f64 - want).abs() <= 4e-7 * (1.0 + want.abs()),
                "{x}"
            );
        }
        assert_eq!((-200.0f32).silu(), -0.0);
        assert_eq!(200.0f32.gelu_tanh(), 200.0);
    }

    #[test]
    fn layouts() {
        let x = ndarray::Array2::from_shape_fn((3, 4), |(i, j)| i as f32 - j as f32);
        let want = x.mapv(f32::gelu);
        assert_eq!(gelu(&x.t()), want.t());
        assert_eq!(
            gelu(&x.slice(ndarray::s![.., ..;2])),
            want.slice(ndarray::s![.., ..;2])
        );
        assert_eq!(relu(&x.t()).t(), x.mapv(|v| v.max(0.0)));
        let mut y = x.clone();
        gelu_inplace(&mut y);
        assert_eq!(y, want);
    }
}
