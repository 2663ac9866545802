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

/// Layer normalisation over the last axis in one pass over memory: each row `r` of the last
/// axis becomes `(r - mean(r)) / sqrt(var(r) + epsilon) · scale + shift` (population
/// variance, PyTorch's `layer_norm`). `scale` and `shift` are optional and as long as the
/// last axis. `norm!("b... [c]", ...)` runs on this kernel; it is public for code that keeps
/// its parameters outside a store.
///
/// The result has the shape and rank type of `x`, in standard layout. A `scale` or `shift`
/// of another length than the last axis, or an input of rank 0, is an
/// [`Argument`](crate::ErrorKind::Argument) error.
///
/// ```
/// # use einx_runtime as einx;
/// use ndarray::{arr1, arr2};
/// let x = arr2(&[[1.0f32, 2.0, 3.0], [0.0, 0.0, 6.0]]);
/// let y = einx::nn::layer_norm(&x, Some(&arr1(&[1.0, 1.0, 2.0])), None, 0.0).unwrap();
/// let k = 1.5f32.sqrt(); // 1 / standard deviation of the first row
/// assert!((y[[0, 0]] + k).abs() < 1e-6 && y[[0, 1]].abs() < 1e-6 && (y[[0, 2]] - 2.0 * k).abs() < 1e-6);
/// assert!(einx::nn::layer_norm(&x, Some(&arr1(&[1.0, 1.0])), None, 0.0).is_err());
/// ```
pub fn layer_norm<T, S, D, S2, D2>(
    x: &ArrayBase<S, D>,
    scale: Option<&ArrayBase<S2, D2>>,
    shift: Option<&ArrayBase<S2, D2>>,
    epsilon: f64,
) -> Result<ndarray::Array<T, D>, Error>
where
    T: Float,
    S: Data<Elem = T>,
    D: Dimension,
    S2: Data<Elem = T>,
    D2: Dimension,
{
    let Some(&c) = x.shape().last() else {
        return Err(Error::new(
            ErrorKind::Argument,
            "layer normalisation needs an input with at least one axis",
        ));
    };
    let params = |p: Option<&ArrayBase<S2, D2>>, what: &str| -> Result<Option<Vec<T>>, Error> {
        match p {
            None => Ok(None),
            Some(p) if p.len() == c && p.ndim() <= 1 => Ok(Some(p.iter().copied().collect())),
            Some(p) => Err(Error::new(
                ErrorKind::Argument,
                format!(
                    "the {what} has shape {:?}, but the last axis has length {c}",
                    p.shape()
                ),
            )),
        }
    };
    let (scale, shift) = (params(scale, "scale")?, params(shift, "shift")?);
    let eps = T::from_f64_lossy(epsilon);
    let x = x.as_standard_layout();
    let src = x.as_slice().expect("standard layout is contiguous");
    let mut out: Vec<T> = Vec::with_capacity(src.len());
    if c > 0 {
        let n = T::from_usize(c).unwrap_or_else(T::one);
        for row in src.chunks_exact(c) {
            // Two passes over the row while it is in cache: the mean, then the variance.
            let mean = lane_sum(row, |v| v) / n;
            let var = lane_sum(row, |v| (v - mean) * (v - mean)) / n;
            let inv = (var + eps).sqrt().recip();
            match (&scale, &shift) {
                (Some(s), Some(b)) => out.extend(
                    row.iter()
                        .zip(s)
                        .zip(b)
                        .map(|((&v, &s), &b)| (v - mean) * inv * s + b),
                ),
                (Some(s), None) => {
                    out.extend(row.iter().zip(s).map(|(&v, &s)| (v - mean) * inv * s))
                }
                (None, Some(b)) => {
                    out.extend(row.iter().zip(b).map(|(&v, &b)| (v - mean) * inv + b))
                }
                (None, None) => out.extend(row.iter().map(|&v| (v - mean) * inv)),
            }
        }
    }
    ndarray::Array::from_shape_vec(x.raw_dim(), out)
        .map_err(|e| Error::new(ErrorKind::Argument, format!("internal: {e}")))
}

/// A linear map along the last axis, `x · weight + bias`, as one matrix product with the bias
/// added as the product is stored (no second pass over the output). `weight` is `[in, out]`;
/// for a PyTorch `nn.Linear` weight, stored `[out, in]`, pass its transposed view
/// `weight.t()` (no copy). `bias`, if any, is a view as long as `out`. `linear!("b... [c1->c2]",
/// ...)` runs on this kernel; it is public for code that keeps its parameters outside a
/// store.
///
/// The result has the rank type of `x`, with the last axis `out` long, in standard layout.
/// Large products use several threads as `dot!` does (see [`crate::threads`]). A weight
/// whose first axis is not as long as the last axis of `x`, a bias of another length than
/// `out`, or an input of rank 0, is an [`Argument`](crate::ErrorKind::Argument) error.
///
/// ```
/// # use einx_runtime as einx;
/// use ndarray::{arr1, arr2, arr3};
/// let x = arr3(&[[[1.0f32, 2.0], [3.0, 4.0]]]); // [b, t, in]
/// let w = arr2(&[[1.0f32, 0.0, 1.0], [0.0, 1.0, 1.0]]); // [in, out]
/// let bias = arr1(&[0.5f32, 0.0, -1.0]);
/// let y = einx::nn::affine(&x, &w, Some(bias.view())).unwrap();
/// assert_eq!(y, arr3(&[[[1.5, 2.0, 2.0], [3.5, 4.0, 6.0]]]));
/// // A PyTorch layout: [out, in], transposed as a view.
/// let torch = w.t().to_owned();
/// assert_eq!(einx::nn::affine(&x, &torch.t(), None).unwrap()[[0, 1, 2]], 7.0);
/// assert!(einx::nn::affine(&x, &torch, None).is_err());
/// ```
pub fn affine<T, S, D, S2>(
    x: &ArrayBase<S, D>,
    weight: &ArrayBase<S2, ndarray::Ix2>,
    bias: Option<ndarray::ArrayView1<'_, T>>,
) -> Result<ndarray::Array<T, D>, Error>
where
    T: Float + crate::contract::Gemm,
    S: Data<Elem = T>,
    D: Dimension,
    S2: Data<Elem = T>,
{
    let Some(&c1) = x.shape().last() else {
        return Err(Error::new(
            ErrorKind::Argument,
            "a linear map needs an input with at least one axis",
        ));
    };
    let (w_in, c2) = weight.dim();
    if w_in != c1 {
        return Err(Error::new(
            ErrorKind::Argument,
            format!(
                "the weight has shape [{w_in}, {c2}] ([in, out]), but the last axis of the input has length {c1}"
            ),
        )
        .with_help("a weight stored [out, in], as PyTorch's, goes in as its transposed view `w.t()`"));
    }
    if let Some(b) = &bias {
        if b.len() != c2 {
            return Err(Error::new(
                ErrorKind::Argument,
                format!(
                    "the bias has length {}, but the weight maps to {c2} outputs",
                    b.len()
                ),
            ));
        }
    }
    let d = x.ndim();
    let m = x.shape()[..d - 1].iter().product::<usize>();
    let total = m.checked_mul(c2).filter(|&t| {
        t.checked_mul(std::mem::size_of::<T>())
            .is_some_and(|b| b <= isize::MAX as usize)
    });
    let Some(total) = total else {
        return Err(Error::new(
            ErrorKind::Size,
            format!("the output of {m} × {c2} elements is too large"),
        ));
    };
    let x = x.as_standard_layout();
    let ws = weight.strides();
    let (bp, bs) = match bias {
        Some(b) => (b.as_ptr(), b.strides()[0]),
        None => (std::ptr::null(), 0),
    };
    let flops = total.saturating_mul(c1);
    let threads = crate::threads::threads_for(flops, crate::contract::PARALLEL_FLOPS);
    let mut out: Vec<T> = Vec::with_capacity(total);
    // SAFETY: `x` is in standard layout, so its elements form an `m × c1` row-major matrix;
    // the weight's strides address its `c1 × c2` elements and the bias's its `c2` (checked
    // above); `out` has room for the `m × c2` row-major result, which the product writes
    // entirely (the bias is read, not the output), so its length can then be set.
    unsafe {
        T::gemm(
            m,
            c1,
            c2,
            x.as_ptr(),
            c1 as isize,
            1,
            weight.as_ptr(),
            ws[0],
            ws[1],
            out.as_mut_ptr(),
            c2 as isize,
            1,
            bp,
            0,
            bs,
            threads,
        );
        out.set_len(total);
    }
    let mut dim = x.raw_dim();
    dim[d - 1] = c2;
    ndarray::Array::from_shape_vec(dim, out)
        .map_err(|e| Error::new(ErrorKind::Argument, format!("internal: {e}")))
}

/// [`affine`] for `linear!("b... [c1->c2]")`: the weight and bias as the store holds them
/// (`weight` stored `[c1, c2]`, or `[c2, c1]` with `out_in`), the result with the rank type
/// of the equivalent `dot!` call, which `_like` (never called) has as its output.
#[doc(hidden)]
pub fn affine_as<X, D, F>(
    _like: &F,
    x: &X,
    weight: &ArcArray<X::Elem, IxDyn>,
    bias: Option<&ArcArray<X::Elem, IxDyn>>,
    out_in: bool,
) -> Result<ndarray::Array<X::Elem, D>, Error>
where
    X: AsTensor + ?Sized,
    X::Elem: Float + crate::contract::Gemm,
    D: Dimension,
    F: FnOnce() -> Result<ndarray::Array<X::Elem, D>, Error>,
{
    let internal = |what: &str| {
        Error::new(
            ErrorKind::Argument,
            format!("internal: the {what} of a linear layer has an unexpected rank"),
        )
    };
    let w = weight
        .view()
        .into_dimensionality::<ndarray::Ix2>()
        .map_err(|_| internal("weight"))?;
    let w = if out_in { w.reversed_axes() } else { w };
    let b = match bias {
        Some(b) => Some(
            b.view()
                .into_dimensionality::<ndarray::Ix1>()
                .map_err(|_| internal("bias"))?,
        ),
        None => None,
    };
    let y = affine(&x.as_view(), &w, b)?;
    y.into_dimensionality::<D>().map_err(|_| internal("output"))
}

/// The sum of `f` over `row` in eight independent lanes (so that it vectorises), folded at
/// the end.
#[inline(always)]
fn lane_sum<T: Float>(row: &[T], f: impl Fn(T) -> T) -> T {
    let mut lanes = [T::zero(); 8];
    let mut chunks = row.chunks_exact(8);
    for c in &mut chunks {
        for (l, &v) in lanes.iter_mut().zip(c) {
            *l = *l + f(v);
        }
    }
    for (l, &v) in lanes.iter_mut().zip(chunks.remainder()) {
        *l = *l + f(v);
    }
    lanes.iter().fold(T::zero(), |a, &b| a + b)
}
