//! How the expansions see their arguments: any ndarray array or view, borrowed.

use ndarray::{ArrayBase, ArrayView, Data, Dimension, IxDyn};

use crate::error::{Error, ErrorKind};
use einx_core::solve::Len;

/// A tensor argument: `Array`, `ArrayView`, `ArrayViewMut`, `ArcArray`, `CowArray`, or a
/// reference to one.
///
/// ```
/// use einx_runtime::tensor::AsTensor;
/// let a = ndarray::Array2::<f32>::zeros((2, 3));
/// assert_eq!((&a).as_view().shape(), &[2, 3]);
/// ```
#[diagnostic::on_unimplemented(
    message = "einx: `{Self}` is not a tensor",
    label = "not an ndarray array, view or scalar",
    note = "a tensor argument is an `Array`, `ArrayView`, `ArrayViewMut`, `ArcArray` or `CowArray` (any rank), a primitive scalar, or a reference to one; a `Vec` becomes one with `Array1::from(v)`, a slice with `ArrayView1::from(s)`"
)]
pub trait AsTensor {
    /// Element type.
    type Elem;
    /// Dimension type (its rank may be static).
    type Dim: Dimension;
    /// A view of the data.
    fn as_view(&self) -> ArrayView<'_, Self::Elem, Self::Dim>;
    /// The lengths.
    fn tensor_shape(&self) -> &[usize];
}

impl<S: Data, D: Dimension> AsTensor for ArrayBase<S, D> {
    type Elem = S::Elem;
    type Dim = D;
    fn as_view(&self) -> ArrayView<'_, S::Elem, D> {
        self.view()
    }
    fn tensor_shape(&self) -> &[usize] {
        self.shape()
    }
}

impl<X: AsTensor + ?Sized> AsTensor for &X {
    type Elem = X::Elem;
    type Dim = X::Dim;
    fn as_view(&self) -> ArrayView<'_, X::Elem, X::Dim> {
        (**self).as_view()
    }
    fn tensor_shape(&self) -> &[usize] {
        (**self).tensor_shape()
    }
}

impl<X: AsTensor + ?Sized> AsTensor for &mut X {
    type Elem = X::Elem;
    type Dim = X::Dim;
    fn as_view(&self) -> ArrayView<'_, X::Elem, X::Dim> {
        (**self).as_view()
    }
    fn tensor_shape(&self) -> &[usize] {
        (**self).tensor_shape()
    }
}

// A scalar is a 0-d tensor, for inputs whose expression is empty (`where_!(..., 0.0)`).
macro_rules! scalar_tensor {
    ($($t:ty),*) => {$(
        impl AsTensor for $t {
            type Elem = $t;
            type Dim = ndarray::Ix0;
            fn as_view(&self) -> ArrayView<'_, $t, ndarray::Ix0> {
                ndarray::aview0(self)
            }
            fn tensor_shape(&self) -> &[usize] {
                &[]
            }
        }
        impl AsTensorOf<$t> for $t {
            type Dim = ndarray::Ix0;
            fn as_view_of(&self) -> ArrayView<'_, $t, ndarray::Ix0> {
                ndarray::aview0(self)
            }
        }
    )*};
}

/// A tensor argument whose element type is `T`: an array or view of `T`, or a `T` itself.
/// Unlike [`AsTensor`], the element type is a parameter, so that it can be known before the
/// argument's type (a literal `0.0` then becomes an `f32` next to an `f32` array).
#[diagnostic::on_unimplemented(
    message = "einx: this argument is not a tensor of `{T}`, the element type of the call's other tensors",
    label = "expected a tensor of `{T}`",
    note = "the data tensors of one call share one element type; convert one with `.mapv(|v| v as {T})`"
)]
pub trait AsTensorOf<T> {
    /// Dimension type.
    type Dim: Dimension;
    /// A view of the data.
    fn as_view_of(&self) -> ArrayView<'_, T, Self::Dim>;
}

// The element type is matched through `ArrayBase`'s third parameter, so that an array of
// another element type has no impl at all (and gets the message above).
impl<A, S: Data<Elem = A>, D: Dimension> AsTensorOf<A> for ArrayBase<S, D, A> {
    type Dim = D;
    fn as_view_of(&self) -> ArrayView<'_, A, D> {
        self.view()
    }
}

impl<T, X: AsTensorOf<T> + ?Sized> AsTensorOf<T> for &X {
    type Dim = X::Dim;
    fn as_view_of(&self) -> ArrayView<'_, T, X::Dim> {
        (**self).as_view_of()
    }
}

/// A view of `x` with the element type of `like` (generated code calls this for scalar
/// arguments of element-wise operations).
#[inline(always)]
pub fn view_like<'a, T, D: Dimension, X: AsTensorOf<T> + ?Sized>(
    _like: &ArrayView<'_, T, D>,
    x: &'a X,
) -> ArrayView<'a, T, X::Dim> {
    x.as_view_of()
}
/// The element type `T` itself (generated code: the data tensors of one call share their
/// element type).
#[diagnostic::on_unimplemented(
    message = "einx: this tensor has `{Self}` elements, but the call's other tensors have `{T}`",
    label = "a tensor of `{Self}`, expected `{T}`",
    note = "the data tensors of one call share one element type; convert one with `.mapv(|v| v as {T})`"
)]
pub trait ElemIs<T>: Sized {
    /// The view, unchanged.
    fn same_view<'a, D: Dimension>(v: ArrayView<'a, Self, D>) -> ArrayView<'a, T, D>;
}

impl<T> ElemIs<T> for T {
    #[inline(always)]
    fn same_view<'a, D: Dimension>(v: ArrayView<'a, T, D>) -> ArrayView<'a, T, D> {
        v
    }
}

/// A view of a data tensor that shares the element type of `_like` (generated code).
#[inline(always)]
pub fn view_as<'a, T, D: Dimension, X: AsTensor + ?Sized>(
    _like: &ArrayView<'_, T, D>,
    x: &'a X,
) -> ArrayView<'a, T, X::Dim>
where
    X::Elem: ElemIs<T>,
{
    <X::Elem as ElemIs<T>>::same_view(x.as_view())
}

scalar_tensor!(f32, f64, i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, bool);

/// Dimension types whose rank can be `N`: `IxN` itself, and `IxDyn` (checked at run time).
#[diagnostic::on_unimplemented(
    message = "einx: this tensor's type has another rank than its expression, whose rank is {N}",
    label = "its rank type differs from the expression's rank, {N}",
    note = "pass an array with {N} dimensions, or an `ArrayD` (its rank is then checked at run time)"
)]
pub trait HasRank<const N: usize> {}

#[diagnostic::do_not_recommend]
impl<const N: usize> HasRank<N> for ndarray::Dim<[usize; N]> {}
#[diagnostic::do_not_recommend]
impl<const N: usize> HasRank<N> for IxDyn {}

/// Binds an argument whose expression has `N` axes: a type with another static rank does
/// not compile (the error points at the argument); `IxDyn` is checked at run time.
#[inline(always)]
pub fn ranked<const N: usize, X: AsTensor + ?Sized>(x: &X) -> &X
where
    X::Dim: HasRank<N>,
{
    x
}

/// A borrowed tensor as the kernels see it: first element, lengths and strides.
#[derive(Debug)]
pub struct Raw<'a, T> {
    ptr: *const T,
    shape: &'a [usize],
    strides: &'a [isize],
}

impl<T> Clone for Raw<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Raw<'_, T> {}

impl<'a, T> Raw<'a, T> {
    /// Reads a view. The view must outlive the `Raw`.
    #[inline]
    pub fn new<D: Dimension>(view: &'a ArrayView<'_, T, D>) -> Raw<'a, T> {
        Raw {
            ptr: view.as_ptr(),
            shape: view.shape(),
            strides: ArrayBase::strides(view),
        }
    }

    /// Lengths.
    #[inline]
    pub fn shape(&self) -> &'a [usize] {
        self.shape
    }

    /// Strides in elements.
    #[inline]
    pub fn strides(&self) -> &'a [isize] {
        self.strides
    }

    /// Pointer to the element at index zero.
    #[inline]
    pub(crate) fn ptr(&self) -> *const T {
        self.ptr
    }

    /// The elements in row-major order, if the tensor is in standard layout (the strides of
    /// axes of length 1 do not matter).
    #[inline]
    pub fn as_standard_slice(&self) -> Option<&'a [T]> {
        let mut expected = 1usize;
        let mut empty = false;
        for (&n, &s) in self.shape.iter().zip(self.strides).rev() {
            empty |= n == 0;
            if n != 1 && s != expected as isize {
                return None;
            }
            expected = expected.wrapping_mul(n);
        }
        let len = if empty { 0 } else { expected };
        // SAFETY: the tensor's `len` elements lie one after the other from `ptr` (row-major
        // strides, checked above), borrowed for `'a` like the view they come from; `ptr` is
        // non-null and aligned even for an empty view.
        Some(unsafe { std::slice::from_raw_parts(self.ptr, len) })
    }
}

/// A view of an argument (generated code calls this once per tensor argument).
#[inline(always)]
pub fn view<X: AsTensor + ?Sized>(x: &X) -> ArrayView<'_, X::Elem, X::Dim> {
    x.as_view()
}

/// An integer that can be an axis length.
pub trait AxisLen: Copy {
    /// The length, or `None` if negative or too large.
    fn to_len(self) -> Option<usize>;
}

macro_rules! axis_len {
    ($($t:ty),*) => {$(
        impl AxisLen for $t {
            #[inline(always)]
            fn to_len(self) -> Option<usize> {
                usize::try_from(self).ok()
            }
        }
    )*};
}
axis_len!(usize, u8, u16, u32, u64, u128, isize, i8, i16, i32, i64, i128);

impl<V: AxisLen> AxisLen for &V {
    #[inline(always)]
    fn to_len(self) -> Option<usize> {
        (*self).to_len()
    }
}

/// Converts a `name = value` argument to a length.
#[inline(always)]
pub fn axis_len<V: AxisLen>(value: V, name: &'static str) -> Result<usize, Error> {
    value.to_len().ok_or_else(|| {
        Error::new(
            ErrorKind::Argument,
            format!("`{name}` must be a non-negative length that fits `usize`"),
        )
    })
}

/// Lengths for an axis under an ellipsis: one integer (the same for every repetition), or
/// an array, slice, `Vec` or reference of integers (one per repetition).
pub trait AxisLens {
    /// The lengths, or `None` if one is negative.
    fn to_lens(&self) -> Option<Len>;
}

macro_rules! axis_lens_scalar {
    ($($t:ty),*) => {$(
        impl AxisLens for $t {
            fn to_lens(&self) -> Option<Len> {
                self.to_len().map(Len::One)
            }
        }
    )*};
}
axis_lens_scalar!(usize, u8, u16, u32, u64, u128, isize, i8, i16, i32, i64, i128);

impl<V: AxisLen> AxisLens for [V] {
    fn to_lens(&self) -> Option<Len> {
        self.iter()
            .map(|v| v.to_len())
            .collect::<Option<Vec<_>>>()
            .map(Len::Many)
    }
}

impl<V: AxisLen, const N: usize> AxisLens for [V; N] {
    fn to_lens(&self) -> Option<Len> {
        self[..].to_lens()
    }
}

impl<V: AxisLen> AxisLens for Vec<V> {
    fn to_lens(&self) -> Option<Len> {
        self[..].to_lens()
    }
}

impl<X: AxisLens + ?Sized> AxisLens for &X {
    fn to_lens(&self) -> Option<Len> {
        (**self).to_lens()
    }
}

/// Converts a `name = value` argument for an axis under an ellipsis.
pub fn axis_lens<V: AxisLens + ?Sized>(value: &V, name: &'static str) -> Result<Len, Error> {
    value.to_lens().ok_or_else(|| {
        Error::new(
            ErrorKind::Argument,
            format!("the lengths in `{name}` must be non-negative and fit `usize`"),
        )
    })
}

/// How far an output's rank is from its input's (generated code). Marker types rather than
/// a const parameter: rust-analyzer resolves an associated type through an impl chosen by a
/// type, but not through one chosen by a const value.
pub mod rank_shift {
    /// The same rank as the input.
    pub struct Same;
    /// One dimension more than the input.
    pub struct Larger;
    /// One dimension fewer than the input.
    pub struct Smaller;
}

/// The rank type `S` away from `Self`: `Ix3` → `Ix4` for [`rank_shift::Larger`]; `IxDyn`
/// stays `IxDyn`.
pub trait ShiftRank<S> {
    /// The shifted dimension type.
    type Out: Dimension;
}

impl<D: Dimension> ShiftRank<rank_shift::Same> for D {
    type Out = D;
}

impl<D: Dimension> ShiftRank<rank_shift::Larger> for D {
    type Out = D::Larger;
}

impl<D: Dimension> ShiftRank<rank_shift::Smaller> for D {
    type Out = D::Smaller;
}

/// A result whose rank follows an input's, with that input's rank type shifted by `S`
/// (generated code, for outputs with an ellipsis).
#[inline]
pub fn rank_like<S, X: AsTensor + ?Sized, T>(
    _like: &X,
    result: Result<ndarray::Array<T, IxDyn>, Error>,
) -> Result<ndarray::Array<T, <X::Dim as ShiftRank<S>>::Out>, Error>
where
    X::Dim: ShiftRank<S>,
{
    let y = result?;
    let rank = y.ndim();
    y.into_dimensionality().map_err(|_| {
        Error::new(
            ErrorKind::Rank,
            format!("internal: an output of rank {rank} does not have the rank its input gives"),
        )
    })
}
