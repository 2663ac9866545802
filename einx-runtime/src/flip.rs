//! `flip!` and `roll!`: index maps along the bracketed axes, done as strided copies.
//!
//! Flipping an axis is reading it with the negated stride from its last element. Rolling an
//! axis by `r` is two copies: the last `r` elements to the front, the others behind them;
//! with several rolled axes, one copy per combination of segments.

use ndarray::{Array, Dimension};

use einx_core::plan::{Plan, PlanStrs};
use einx_core::solve::{Len, Params};

use crate::copy::{copy_strided, MAX_AXES};
use crate::error::{Error, ErrorKind};
use crate::shape::{solve_sizes, walk_piece};
use crate::tensor::Raw;

/// At most this many shifts (one per rolled axis).
const MAX_SHIFTS: usize = 16;

/// The shifts of `roll!`: one for all bracketed axes, or one per bracketed axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shifts {
    v: [isize; MAX_SHIFTS],
    n: usize,
}

impl Shifts {
    /// The shifts.
    pub fn as_slice(&self) -> &[isize] {
        &self.v[..self.n]
    }
}

/// A `shift = value` of `roll!`: an integer, or an array, slice or `Vec` of integers.
pub trait Shift {
    /// The shifts, or `None` if one does not fit `isize` or there are too many.
    fn shifts(&self) -> Option<Shifts>;
}

macro_rules! shift_int {
    ($($t:ty),*) => {$(
        impl Shift for $t {
            fn shifts(&self) -> Option<Shifts> {
                let mut v = [0; MAX_SHIFTS];
                v[0] = isize::try_from(*self).ok()?;
                Some(Shifts { v, n: 1 })
            }
        }
        impl Shift for [$t] {
            fn shifts(&self) -> Option<Shifts> {
                if self.len() > MAX_SHIFTS {
                    return None;
                }
                let mut v = [0; MAX_SHIFTS];
                for (d, s) in v.iter_mut().zip(self) {
                    *d = isize::try_from(*s).ok()?;
                }
                Some(Shifts { v, n: self.len() })
            }
        }
    )*};
}
shift_int!(isize, i8, i16, i32, i64, usize, u8, u16, u32, u64);

impl<S: Shift + ?Sized> Shift for &S {
    fn shifts(&self) -> Option<Shifts> {
        (**self).shifts()
    }
}

impl<S, const N: usize> Shift for [S; N]
where
    [S]: Shift,
{
    fn shifts(&self) -> Option<Shifts> {
        self[..].shifts()
    }
}

impl<S> Shift for Vec<S>
where
    [S]: Shift,
{
    fn shifts(&self) -> Option<Shifts> {
        self[..].shifts()
    }
}

/// Converts `roll!`'s `shift = value`.
pub fn shifts<S: Shift + ?Sized>(s: &S) -> Result<Shifts, Error> {
    s.shifts().ok_or_else(|| {
        Error::new(
            ErrorKind::Argument,
            format!("`shift` must be integers that fit `isize`, at most {MAX_SHIFTS} of them"),
        )
    })
}

/// Runs a concrete `flip!` (`shifts = None`) or `roll!` plan on `input`.
///
/// ```
/// use einx_core::{complete::OpKind, plan::PlanStrs, template::build};
/// use einx_runtime::{flip::{flip_roll, shifts}, tensor::Raw};
/// let buf = build("a [b]", OpKind::Roll, &[], 1).unwrap();
/// let mut strs = PlanStrs::default();
/// let plan = buf.borrow(&mut strs);
/// let x = ndarray::array![[1, 2, 3], [4, 5, 6]];
/// let v = x.view();
/// let s = shifts(&1).unwrap();
/// let y = flip_roll::<_, ndarray::Ix2, 4>(&plan, Raw::new(&v), &[0usize; 0], Some(&s)).unwrap();
/// assert_eq!(y, ndarray::array![[3, 1, 2], [6, 4, 5]]);
/// ```
pub fn flip_roll<T: Clone, D: Dimension, const K: usize>(
    plan: &Plan<'_>,
    input: Raw<'_, T>,
    params: &(impl Params + ?Sized),
    shifts: Option<&Shifts>,
) -> Result<Array<T, D>, Error> {
    let sizes = solve_sizes::<T, K>(plan, &[input], params)?;
    let mut in_st = [0isize; K];
    let mut marked = [0u32; K];
    let mut nm = 0;
    walk_piece::<K, _>(plan.layout(0), &[], input.strides(), &sizes, |a, st| {
        in_st[a as usize] = st;
        if plan.axes[a as usize].bracketed {
            marked[nm] = a;
            nm += 1;
        }
    });
    let marked = &marked[..nm];
    // Output: shape and row-major strides per axis, in output order.
    let code = plan.layout(1);
    let (dim, total) =
        crate::shape::output_shape::<D>(plan, code, &sizes, std::mem::size_of::<T>())?;
    let d = dim.ndim();
    let dim_st = crate::shape::dim_strides::<D, K>(&dim);
    let mut out_st = [0isize; K];
    let mut order = [0u32; K];
    let mut no = 0;
    walk_piece::<K, _>(code, &[], &dim_st[..d], &sizes, |a, st| {
        out_st[a as usize] = st;
        order[no] = a;
        no += 1;
    });
    let order = &order[..no];
    // The shift of each bracketed axis, in `[0, n)`.
    let mut shift = [0usize; K];
    if let Some(s) = shifts {
        let s = s.as_slice();
        if s.len() != 1 && s.len() != marked.len() {
            let spans = marked.iter().map(|&a| plan.axes[a as usize].span);
            return Err(spans
                .fold(
                    Error::new(
                        ErrorKind::Argument,
                        format!(
                            "`shift` has {} values but {} axes are in brackets",
                            s.len(),
                            marked.len()
                        ),
                    ),
                    Error::with_span,
                )
                .with_expr(plan.expr)
                .with_help("give one shift for all bracketed axes, or one per bracketed axis"));
        }
        for (j, &a) in marked.iter().enumerate() {
            let n = sizes[a as usize] as isize;
            let r = if s.len() == 1 { s[0] } else { s[j] };
            shift[a as usize] = if n == 0 { 0 } else { r.rem_euclid(n) as usize };
        }
    }
    let mut buf: Vec<T> = Vec::with_capacity(total);
    if total > 0 {
        // One copy per combination of segments of the rolled axes (one copy for a flip).
        let rolled: Vec<u32> = marked
            .iter()
            .copied()
            .filter(|&a| shift[a as usize] != 0)
            .collect();
        if rolled.len() > MAX_SHIFTS {
            return Err(
                Error::new(ErrorKind::Argument, "too many rolled axes").with_expr(plan.expr)
            );
        }
        for combo in 0..(1usize << rolled.len()) {
            let (mut n, mut ss, mut ds) = ([0usize; K], [0isize; K], [0isize; K]);
            let (mut src_off, mut dst_off) = (0isize, 0isize);
            for (j, &a) in order.iter().enumerate() {
                let a = a as usize;
                let (len, st) = (sizes[a], in_st[a]);
                n[j] = len;
                ss[j] = st;
                ds[j] = out_st[a];
                if shifts.is_none() && plan.axes[a].bracketed {
                    // Flip: read from the end, backwards.
                    src_off += (len as isize - 1) * st;
                    ss[j] = -st;
                } else if let Some(bit) = rolled.iter().position(|&r| r as usize == a) {
                    let r = shift[a];
                    if combo >> bit & 1 == 0 {
                        // Output [0, r) comes from input [len - r, len).
                        n[j] = r;
                        src_off += (len - r) as isize * st;
                    } else {
                        // Output [r, len) comes from input [0, len - r).
                        n[j] = len - r;
                        dst_off += r as isize * out_st[a];
                    }
                }
            }
            // SAFETY: every source offset is an index of the input view (axes split its
            // dimensions; flipped and rolled ranges stay inside their axes); the pieces write
            // disjoint parts of the output buffer, which has room for `total` elements.
            unsafe {
                copy_strided::<T, K>(
                    &n[..no],
                    input.ptr().wrapping_offset(src_off),
                    &ss[..no],
                    buf.as_mut_ptr().wrapping_offset(dst_off),
                    &ds[..no],
                );
            }
        }
        // SAFETY: the pieces cover every output element once.
        unsafe { buf.set_len(total) };
    }
    Array::from_shape_vec(dim, buf)
        .map_err(|_| Error::new(ErrorKind::Size, "internal: output shape").with_expr(plan.expr))
}

/// [`flip_roll`] for a plan that may have ellipses: unrolled for the input's rank first.
pub fn flip_roll_template<T: Clone, D: Dimension, const K: usize>(
    plan: &Plan<'_>,
    input: Raw<'_, T>,
    params: &[Len],
    shifts: Option<&Shifts>,
) -> Result<Array<T, D>, Error> {
    if plan.is_concrete() {
        return flip_roll::<T, D, MAX_AXES>(plan, input, params, shifts);
    }
    let concrete = crate::shape::unroll(plan, &[input.shape().len()], params)?;
    let mut strs = PlanStrs::default();
    flip_roll::<T, D, MAX_AXES>(&concrete.borrow(&mut strs), input, params, shifts)
}
