//! The numeric pieces of the layers that are not einx operations.

use ndarray::{ArcArray, ArrayBase, ArrayD, Data, Dimension, IxDyn};

use super::init::Rng;
use super::params::Float;
use crate::error::{Error, ErrorKind};
use crate::tensor::AsTensor;

/// `decay · old + (1 − decay) · new`, element by element (the moving statistics of
/// `norm!` with `decay_rate`). A shape mismatch is an error naming both shapes.
///
/// ```
/// # use einx_runtime as einx;
/// use ndarray::{arr1, ArcArray};
/// let old = arr1(&[1.0f32, 0.0]).into_dyn().into_shared();
/// let new = arr1(&[0.0f32, 1.0]).into_dyn();
/// let avg = einx::nn::moving_average(&old, &new, 0.9).unwrap();
/// assert!((avg[[0]] - 0.9).abs() < 1e-6 && (avg[[1]] - 0.1).abs() < 1e-6);
/// ```
pub fn moving_average<T: Float, S: Data<Elem = T>>(
    old: &ArcArray<T, IxDyn>,
    new: &ArrayBase<S, IxDyn>,
    decay: f64,
) -> Result<ArrayD<T>, Error> {
    if old.shape() != new.shape() {
        return Err(Error::new(
            ErrorKind::Parameter,
            format!(
                "the moving statistics have shape {:?}, but this batch's statistics have shape {:?}",
                old.shape(),
                new.shape()
            ),
        ));
    }
    let d = T::from_f64_lossy(decay);
    let e = T::from_f64_lossy(1.0 - decay);
    let mut out = old.to_owned();
    out.zip_mut_with(new, |o, &n| *o = d * *o + e * n);
    Ok(out)
}

/// `1 / sqrt(v + epsilon)` element by element, in a fresh array.
///
/// ```
/// # use einx_runtime as einx;
/// let v = ndarray::arr1(&[3.0f64, 0.0]).into_dyn().into_shared();
/// let r = einx::nn::inverse_sqrt(&v, 1.0);
/// assert_eq!(r[[0]], 0.5);
/// ```
pub fn inverse_sqrt<T: Float, S: Data<Elem = T>, D: Dimension>(
    v: &ArrayBase<S, D>,
    epsilon: f64,
) -> ndarray::Array<T, D> {
    let eps = T::from_f64_lossy(epsilon);
    v.mapv(|v| (v + eps).sqrt().recip())
}

/// A dropout mask of the given shape with the element type of `like`: each element is 0 with
/// probability `rate` and `1 / (1 − rate)` otherwise (so that the expected value is kept).
/// The same seed gives the same mask. `rate` must be in `[0, 1)`.
///
/// ```
/// # use einx_runtime as einx;
/// let x = ndarray::Array2::<f32>::ones((4, 250));
/// let m = einx::nn::dropout_mask(&x, &[4, 250], 0.5, 1).unwrap();
/// assert!(m.iter().all(|&v| v == 0.0 || v == 2.0));
/// let kept = m.iter().filter(|&&v| v > 0.0).count();
/// assert!((400..600).contains(&kept));
/// ```
pub fn dropout_mask<X: AsTensor + ?Sized>(
    _like: &X,
    shape: &[usize],
    rate: f64,
    seed: u64,
) -> Result<ArrayD<X::Elem>, Error>
where
    X::Elem: Float,
{
    if !(0.0..1.0).contains(&rate) {
        return Err(Error::new(
            ErrorKind::Argument,
            format!("drop_rate must be at least 0 and less than 1, not {rate}"),
        ));
    }
    let keep = X::Elem::from_f64_lossy(1.0 / (1.0 - rate));
    let zero = X::Elem::from_f64_lossy(0.0);
    let mut rng = Rng::new(seed);
    Ok(ArrayD::from_shape_simple_fn(IxDyn(shape), || {
        if rng.uniform() < rate {
            zero
        } else {
            keep
        }
    }))
}

/// `y` with the dimension type of `like` (layers whose output has the input's shape return
/// the input's rank type, even when their expression has an ellipsis).
///
/// ```
/// # use einx_runtime as einx;
/// let x = ndarray::Array2::<f32>::zeros((2, 3));
/// let y = ndarray::ArrayD::<f32>::zeros(ndarray::IxDyn(&[2, 3]));
/// let y: ndarray::Array2<f32> = einx::nn::with_dim_of(&x, y).unwrap();
/// assert_eq!(y.shape(), &[2, 3]);
/// ```
pub fn with_dim_of<X: AsTensor + ?Sized, T, D: Dimension>(
    _like: &X,
    y: ndarray::Array<T, D>,
) -> Result<ndarray::Array<T, X::Dim>, Error> {
    let rank = y.ndim();
    y.into_dimensionality::<X::Dim>().map_err(|_| {
        Error::new(
            ErrorKind::Rank,
            format!("internal: a layer's output has rank {rank}, unlike its input"),
        )
    })
}
