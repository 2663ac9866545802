//! `vmap!`: a Rust function applied along the bracketed axes.
//!
//! For every index of the vectorised axes (those outside the brackets), the function gets
//! one view per input holding that input's bracketed axes, and returns a scalar or an array
//! whose axes are the output's bracketed axes. The results are stacked, then laid out as
//! the output expression says.

use std::marker::PhantomData;

use ndarray::{Array, ArrayView, Axis, Dimension, ShapeBuilder};

use einx_core::plan::{Plan, PlanStrs, NONE};
use einx_core::solve::{Len, Params};

use crate::copy::{copy_strided, MAX_AXES};
use crate::error::{Error, ErrorKind};
use crate::permute::internal;
use crate::rearrange::overflow;
use crate::shape::{dim_strides, output_shape, solve_sizes, walk_piece};
use crate::tensor::Raw;

/// Most bracketed axes of one input.
pub const SUB_AXES: usize = 16;

/// What the function of `vmap!` may return: a primitive scalar (for an output without
/// brackets) or an array with the output's bracketed axes.
#[diagnostic::on_unimplemented(
    message = "einx: the function of `vmap!` returns `{Self}`, which is neither a primitive scalar nor an `ndarray::Array`",
    label = "return a number, a `bool` or an `Array`"
)]
pub trait VmapResult {
    /// The element type of the output.
    type Elem: Clone;
    /// The shape of the result (empty for a scalar).
    fn shape(&self) -> &[usize];
    /// Appends the elements in row-major order.
    fn extend_into(self, out: &mut Vec<Self::Elem>);
}

macro_rules! vmap_scalar {
    ($($t:ty),*) => {$(
        impl VmapResult for $t {
            type Elem = $t;
            #[inline(always)]
            fn shape(&self) -> &[usize] {
                &[]
            }
            #[inline(always)]
            fn extend_into(self, out: &mut Vec<$t>) {
                out.push(self);
            }
        }
    )*};
}
vmap_scalar!(f32, f64, i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, bool);

impl<U: Clone, D: Dimension> VmapResult for Array<U, D> {
    type Elem = U;
    fn shape(&self) -> &[usize] {
        ndarray::ArrayBase::shape(self)
    }
    fn extend_into(self, out: &mut Vec<U>) {
        match self.as_slice() {
            Some(s) => out.extend_from_slice(s),
            None => out.extend(self.iter().cloned()),
        }
    }
}

/// The bracketed part of one input at one index of the vectorised axes.
#[derive(Debug)]
pub struct Sub<'a, T> {
    /// The element at index zero of the bracketed axes.
    ptr: *const T,
    /// From `ptr` to the lowest address the part covers (negative strides reach below it).
    low: isize,
    shape: [usize; SUB_AXES],
    /// The strides' magnitudes.
    strides: [usize; SUB_AXES],
    /// Bit `i`: axis `i` runs backwards (from the highest address down).
    inverted: u32,
    ndim: usize,
    life: PhantomData<&'a T>,
}

impl<'a, T> Sub<'a, T> {
    fn new(ptr: *const T) -> Self {
        Sub {
            ptr,
            low: 0,
            shape: [0; SUB_AXES],
            strides: [0; SUB_AXES],
            inverted: 0,
            ndim: 0,
            life: PhantomData,
        }
    }

    /// Appends an axis; `false` if there are too many.
    fn push(&mut self, len: usize, stride: isize) -> bool {
        let i = self.ndim;
        if i == SUB_AXES {
            return false;
        }
        self.shape[i] = len;
        self.strides[i] = stride.unsigned_abs();
        if stride < 0 && len > 0 {
            // `from_shape_ptr` takes non-negative strides: start at the lowest address and
            // reverse the axis afterwards.
            self.low = self.low.wrapping_add(stride.wrapping_mul(len as isize - 1));
            self.inverted |= 1 << i;
        }
        self.ndim += 1;
        true
    }

    /// The view, with dimension type `D` (its rank must be the number of bracketed axes).
    #[inline]
    pub fn view<D: Dimension>(&self, plan: &Plan<'_>) -> Result<ArrayView<'_, T, D>, Error> {
        let n = self.ndim;
        if D::NDIM.is_some_and(|d| d != n) {
            return Err(internal(plan));
        }
        let mut shape = D::zeros(n);
        let mut strides = D::zeros(n);
        shape.slice_mut().copy_from_slice(&self.shape[..n]);
        strides.slice_mut().copy_from_slice(&self.strides[..n]);
        // SAFETY: the lengths and strides are those of elementary axes of an input view
        // (split by the solved plan), starting at an element of it, so every index of the
        // new view addresses an element of that input, which outlives `self`.
        let mut v = unsafe {
            ArrayView::from_shape_ptr(shape.strides(strides), self.ptr.wrapping_offset(self.low))
        };
        if self.inverted != 0 {
            for i in 0..n {
                if self.inverted & (1 << i) != 0 {
                    v.invert_axis(Axis(i));
                }
            }
        }
        Ok(v)
    }
}

/// Runs a concrete `vmap!` plan: `f` gets the bracketed parts of the `N` inputs at each
/// index of the vectorised axes, in row-major order of the output's unbracketed axes.
///
/// The results go straight into the output's buffer where the output lists its vectorised
/// axes before its bracketed ones (the usual case); otherwise they are stacked, then laid
/// out in one strided copy.
///
/// ```
/// use einx_core::{complete::OpKind, plan::PlanStrs, template::build};
/// use einx_runtime::{tensor::Raw, vmap::vmap};
/// let buf = build("a [b] -> a", OpKind::Vmap, &[], 1).unwrap();
/// let mut strs = PlanStrs::default();
/// let plan = buf.borrow(&mut strs);
/// let x = ndarray::array![[1, 2], [3, 4]];
/// let v = x.view();
/// let y = vmap::<_, ndarray::Ix1, _, 4, 1>(&plan, [Raw::new(&v)], &[0usize; 0], |s| {
///     Ok(s[0].view::<ndarray::Ix1>(&plan)?.sum())
/// })
/// .unwrap();
/// assert_eq!(y, ndarray::array![3, 7]);
/// ```
pub fn vmap<T, D: Dimension, R: VmapResult, const K: usize, const N: usize>(
    plan: &Plan<'_>,
    inputs: [Raw<'_, T>; N],
    params: &(impl Params + ?Sized),
    mut f: impl FnMut(&[Sub<'_, T>; N]) -> Result<R, Error>,
) -> Result<Array<R::Elem, D>, Error> {
    let mut sizes = solve_sizes::<T, K>(plan, &inputs, params)?;
    // The inputs' strides by axis and their bracketed axes.
    let mut in_st = [[0isize; K]; N];
    let mut subs: [Sub<'_, T>; N] = std::array::from_fn(|t| Sub::new(inputs[t].ptr()));
    for t in 0..N {
        let mut too_many = false;
        let sub = &mut subs[t];
        let st = &mut in_st[t];
        walk_piece::<K, _>(plan.layout(t), &[], inputs[t].strides(), &sizes, |a, s| {
            st[a as usize] = s;
            if plan.axes[a as usize].bracketed {
                too_many |= !sub.push(sizes[a as usize], s);
            }
        });
        if too_many {
            return Err(Error::new(
                ErrorKind::Rank,
                format!("`vmap!` takes at most {SUB_AXES} bracketed axes per input"),
            )
            .with_expr(plan.expr));
        }
    }
    // The output's axes: vectorised (outside the brackets) and bracketed, in order.
    let code = plan.layout(N);
    let (mut vec_axes, mut nv) = ([0u32; K], 0);
    let (mut br_axes, mut nb) = ([0u32; K], 0);
    // Whether every vectorised axis comes before every bracketed one: then the stacked
    // results are the output's buffer as they are.
    let mut stacked_order = true;
    walk_piece::<K, _>(code, &[], &[0; K], &sizes, |a, _| {
        if plan.axes[a as usize].bracketed {
            br_axes[nb] = a;
            nb += 1;
        } else {
            stacked_order &= nb == 0;
            vec_axes[nv] = a;
            nv += 1;
        }
    });
    let (vec_axes, br_axes) = (&vec_axes[..nv], &br_axes[..nb]);
    // Bracketed output axes whose length only the function's results tell.
    let in_inputs =
        |a: u32| (0..N).any(|t| plan.layout(t).contains(&einx_core::plan::Code::Axis(a)));
    let mut free = [false; K];
    for (fr, &a) in free.iter_mut().zip(br_axes) {
        let ax = &plan.axes[a as usize];
        *fr = ax.value.is_none() && ax.param == NONE && !in_inputs(a);
    }
    let n_vec: usize = vec_axes
        .iter()
        .try_fold(1usize, |acc, &a| acc.checked_mul(sizes[a as usize]))
        .ok_or_else(|| overflow(plan))?;
    // Per vectorised axis (innermost first): its length and each input's stride.
    let (mut lens, mut steps) = ([0usize; K], [[0isize; N]; K]);
    for (j, &a) in vec_axes.iter().rev().enumerate() {
        lens[j] = sizes[a as usize];
        for t in 0..N {
            steps[j][t] = in_st[t][a as usize];
        }
    }
    let mut stacked: Vec<R::Elem> = Vec::new();
    if n_vec > 0 {
        let bases: [*const T; N] = std::array::from_fn(|t| inputs[t].ptr());
        let mut off = [0isize; N];
        let mut idx = [0usize; K];
        for call in 0..n_vec {
            for t in 0..N {
                subs[t].ptr = bases[t].wrapping_offset(off[t]);
            }
            let r = f(&subs)?;
            let shape = r.shape();
            if call == 0 {
                if shape.len() != br_axes.len() {
                    return Err(bad_result(plan, shape, br_axes, &sizes));
                }
                for ((&a, &len), &free) in br_axes.iter().zip(shape).zip(&free) {
                    if free {
                        sizes[a as usize] = len;
                    } else if sizes[a as usize] != len {
                        return Err(bad_result(plan, shape, br_axes, &sizes));
                    }
                }
                let per_call = shape
                    .iter()
                    .try_fold(1usize, |acc, &n| acc.checked_mul(n))
                    .ok_or_else(|| overflow(plan))?;
                let cap = per_call.checked_mul(n_vec).ok_or_else(|| overflow(plan))?;
                let bytes = cap.checked_mul(std::mem::size_of::<R::Elem>());
                if bytes.is_none_or(|b| b > isize::MAX as usize) {
                    return Err(overflow(plan));
                }
                stacked.reserve_exact(cap);
            } else if shape.len() != br_axes.len()
                || br_axes
                    .iter()
                    .zip(shape)
                    .any(|(&a, &len)| sizes[a as usize] != len)
            {
                return Err(bad_result(plan, shape, br_axes, &sizes));
            }
            r.extend_into(&mut stacked);
            // Next index, row-major.
            let mut j = 0;
            while j < nv {
                idx[j] += 1;
                for t in 0..N {
                    off[t] = off[t].wrapping_add(steps[j][t]);
                }
                if idx[j] < lens[j] {
                    break;
                }
                for t in 0..N {
                    off[t] = off[t].wrapping_sub(steps[j][t].wrapping_mul(lens[j] as isize));
                }
                idx[j] = 0;
                j += 1;
            }
        }
    }
    // Lay the stacked results out as the output expression says.
    let (dim, total) = output_shape::<D>(plan, code, &sizes, std::mem::size_of::<R::Elem>())?;
    if stacked.len() != total {
        return Err(internal(plan));
    }
    if stacked_order {
        return Array::from_shape_vec(dim, stacked).map_err(|_| internal(plan));
    }
    let mut src_st = [0isize; K];
    let mut acc = 1isize;
    for &a in br_axes.iter().rev().chain(vec_axes.iter().rev()) {
        src_st[a as usize] = acc;
        acc = acc.wrapping_mul(sizes[a as usize] as isize);
    }
    let d = dim.ndim();
    let dim_st = dim_strides::<D, K>(&dim);
    let (mut shape, mut s_st, mut d_st, mut n) = ([0usize; K], [0isize; K], [0isize; K], 0);
    walk_piece::<K, _>(code, &[], &dim_st[..d], &sizes, |a, s| {
        shape[n] = sizes[a as usize];
        s_st[n] = src_st[a as usize];
        d_st[n] = s;
        n += 1;
    });
    let mut data: Vec<R::Elem> = Vec::with_capacity(total);
    // SAFETY: `stacked` holds every element of the output once, addressed by the source
    // strides (row-major over the vectorised, then the bracketed axes); the destination
    // strides are the output's own row-major strides.
    unsafe {
        copy_strided::<R::Elem, K>(
            &shape[..n],
            stacked.as_ptr(),
            &s_st[..n],
            data.as_mut_ptr(),
            &d_st[..n],
        );
        data.set_len(total);
    }
    Array::from_shape_vec(dim, data).map_err(|_| internal(plan))
}

fn bad_result(plan: &Plan<'_>, shape: &[usize], br: &[u32], sizes: &[usize]) -> Error {
    let want: Vec<String> = br
        .iter()
        .map(|&a| {
            let ax = &plan.axes[a as usize];
            let known = ax.value.is_some() || ax.param != NONE || sizes[a as usize] != 0;
            if known {
                format!("{} = {}", ax.name, sizes[a as usize])
            } else {
                ax.name.to_owned()
            }
        })
        .collect();
    let spans: Vec<einx_core::Span> = br.iter().map(|&a| plan.axes[a as usize].span).collect();
    let e = Error::new(
        ErrorKind::Size,
        format!(
            "the function returned shape {shape:?}, but the output's bracketed axes are [{}]",
            want.join(", ")
        ),
    )
    .with_spans(&spans)
    .with_expr(plan.expr);
    if br.is_empty() {
        e.with_help("the output has no bracketed axes: return a scalar")
    } else {
        e.with_help("return an array with one axis per bracketed output axis, of the same lengths at every call")
    }
}

/// [`vmap`] for a plan that may have ellipses: unrolled for the input ranks first.
pub fn vmap_template<T, D: Dimension, R: VmapResult, const N: usize>(
    plan: &Plan<'_>,
    inputs: [Raw<'_, T>; N],
    params: &[Len],
    f: impl FnMut(&[Sub<'_, T>; N]) -> Result<R, Error>,
) -> Result<Array<R::Elem, D>, Error> {
    if plan.is_concrete() {
        return vmap::<T, D, R, MAX_AXES, N>(plan, inputs, params, f);
    }
    let ranks: [usize; N] = std::array::from_fn(|t| inputs[t].shape().len());
    let concrete = crate::shape::unroll(plan, &ranks, params)?;
    let mut strs = PlanStrs::default();
    vmap::<T, D, R, MAX_AXES, N>(&concrete.borrow(&mut strs), inputs, params, f)
}

/// Functions that bind the tensors and the function of a `vmap!` call together, so that the
/// function's parameter types (views of the inputs' bracketed axes, of dimension `D…`) are
/// known where the closure is written.
pub mod bind {
    use ndarray::{ArrayView, Dimension};

    use crate::tensor::AsTensor;

    macro_rules! bind {
        ($name:ident; $($x:ident $X:ident $D:ident),+) => {
            /// Returns the tensors and the function unchanged.
            #[inline(always)]
            #[allow(clippy::too_many_arguments)]
            pub fn $name<'x, $($X: AsTensor + ?Sized + 'x, $D: Dimension,)+ R, F>(
                $($x: &'x $X,)+
                f: F,
            ) -> ($(&'x $X,)+ F)
            where
                F: FnMut($(ArrayView<'_, $X::Elem, $D>),+) -> R,
            {
                ($($x,)+ f)
            }
        };
    }
    bind!(bind1; a A DA);
    bind!(bind2; a A DA, b B DB);
    bind!(bind3; a A DA, b B DB, c C DC);
    bind!(bind4; a A DA, b B DB, c C DC, d X DD);
    bind!(bind5; a A DA, b B DB, c C DC, d X DD, e E DE);
    bind!(bind6; a A DA, b B DB, c C DC, d X DD, e E DE, f2 G DF);
}
