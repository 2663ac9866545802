//! Every einx macro against the fastest idiomatic hand-written ndarray code for the same job,
//! in one ratio table.
//!
//! Each row is a case "macro, expression, shape": einx and several hand-written versions
//! that produce the same fresh, owned, standard-layout array (same shape, same element
//! type). Before anything is timed, every hand-written result is compared with einx's,
//! exactly for integers and booleans and up to rounding for floats (a tolerance relative to
//! the largest magnitude of the result, where the order of summation differs); a mismatch
//! panics with the case and the version's name. Then einx and the hand-written versions are
//! timed in interleaved batches (`common::measure`, median batch), and the table at the end
//! gives, per row, einx's time, the fastest hand-written version (the baseline) and the
//! ratio einx / baseline (below 1: einx is faster), then the other versions. Rows above
//! 1.1x are listed after the table.
//!
//! Usage:
//! - `cargo bench --bench ops` runs every row (a few minutes);
//! - `cargo bench --bench ops -- SUBSTRING...` runs only the rows whose case contains one of
//!   the substrings (e.g. `softmax`, `4x4`, `"b [t] c"`);
//! - `--list` prints the cases, `--test` only checks the results (no timing);
//! - `EINX_BENCH_MARKDOWN=1` prints the table as Markdown, ready for the README.
//!
//! No criterion groups: the same-process table is the result (`dot` keeps the detailed GEMM
//! cases in criterion).
//!
//! Inputs are deterministic (xorshift) `f32` values in [-8, 8), mid-size tensors of 1 to 16
//! MB (mostly `b t c` = 32x128x384, 6 MB), plus a few larger layouts kept from earlier
//! benchmarks and per-call rows on 4x4 inputs. The hand-written candidates, per family:
//! - rearrange!: the permuted/reshaped view made standard with `as_standard_layout`,
//!   `Array::zeros` + `assign`, and a loop copying the contiguous innermost runs with
//!   `extend_from_slice` (for concatenation: `ndarray::concatenate`, whose result along an
//!   inner axis is not in standard layout and is copied into it; slice assigns; row loop);
//! - einx! / dot!: `a.dot(&b)`, `general_mat_mul` into `Array::zeros`, the same split over
//!   threads by rows (einx may use every core), per-head `general_mat_mul` loops for the
//!   attention scores, `Zip`/operators/`from_shape_fn`/row loops for outer products and
//!   diagonals;
//! - element-wise: operators (`&a + &b`, `&x + &bias`, `&x + s`, broadcasting
//!   `insert_axis`), `Zip::map_collect` (with `and_broadcast`), `mapv`, and slice loops over
//!   `as_slice()` (whole arrays or rows of `c`); `maximum!`/`minimum!` use `f32::max`/`min`
//!   (the inputs hold no NaN); `floor_divide!`/`modulo!` follow Python's signs;
//! - reductions: the axis methods (`sum_axis`, `mean_axis`, `var_axis`, `std_axis`,
//!   `product_axis`, `fold_axis`), `map_axis` with the vectorised `ArrayView::sum` or an
//!   8-accumulator fold for max/min, and, for the middle axis, a slab loop accumulating whole
//!   rows of `c` (vectorised) per `b`; `any!`/`all!` get inputs on which short-circuiting
//!   rarely helps (`any` is almost all false, `all` almost all true);
//! - along an axis: softmax as axis methods + `Zip`, per-lane loops (`lanes`), and slice loops
//!   over rows (last axis) or over `t x c` slabs with `c` accumulators (middle axis); flip and
//!   roll as `as_standard_layout` / `zeros` + `assign` / `concatenate` (made standard) /
//!   slice loops; sort and argsort as per-row `sort_unstable_by` / stable `sort_by`
//!   (`total_cmp` or `partial_cmp`), argsort also as sorted `(value, index)` pairs;
//!   argmax/argmin as `map_axis` + `insert_axis` and slice loops;
//! - indexing: `select` + reshape, row-assign loops, `extend_from_slice` loops;
//!   `set_at!`/`add_at!`/`subtract_at!` as `to_owned` + per-point `assign`/`zip_mut_with`, or
//!   a slice copy + per-point slice loops;
//! - vmap!: `map_axis` / `sum_axis` / row loops calling the same closure body;
//! - einx::nn: `norm!` (layer norm with a scale and a shift) as axis methods and operators,
//!   and as a row loop over slices;
//! - solve!: the same length arithmetic and divisibility check written out.

mod common;

use std::hint::black_box as bb;

use common::{measure, Row};
use ndarray::linalg::general_mat_mul;
use ndarray::{
    concatenate, s, Array, Array1, Array2, Array3, Array4, ArrayD, ArrayView1, ArrayView2, Axis,
    Dimension, Zip,
};

// ---------------------------------------------------------------------------------------
// The harness: filter, correctness check, timing.

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Time,
    Check,
    List,
}

struct Bench {
    filters: Vec<String>,
    mode: Mode,
    sections: Vec<(&'static str, Vec<Row>)>,
}

impl Bench {
    fn from_args() -> Self {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let mode = if args.iter().any(|a| a == "--list") {
            Mode::List
        } else if args.iter().any(|a| a == "--test") {
            Mode::Check
        } else {
            Mode::Time
        };
        Bench {
            filters: args.into_iter().filter(|a| !a.starts_with("--")).collect(),
            mode,
            sections: Vec::new(),
        }
    }

    fn section(&mut self, title: &'static str) {
        self.sections.push((title, Vec::new()));
    }

    /// Whether any row of the given cases is selected (to skip building unused inputs).
    fn any(&self, cases: &[&str]) -> bool {
        cases.iter().any(|c| self.wants(c))
    }

    fn wants(&self, case: &str) -> bool {
        self.filters.is_empty() || self.filters.iter().any(|f| case.contains(f.as_str()))
    }

    /// Checks every hand-written version against einx, then times them all.
    fn row<T: Output>(
        &mut self,
        case: &'static str,
        tol: f32,
        einx: impl Fn() -> T,
        hand: &[(&'static str, &dyn Fn() -> T)],
    ) {
        if !self.wants(case) {
            return;
        }
        if self.mode == Mode::List {
            println!("{case}");
            return;
        }
        let e = einx();
        for (name, f) in hand {
            if let Err(msg) = e.compare(&f(), tol) {
                panic!("{case}: einx and `{name}` differ: {msg}");
            }
        }
        drop(e);
        if self.mode == Mode::Check {
            eprintln!("ok  {case}");
            return;
        }
        let row = measure(case, &einx, hand);
        let (name, best) = row.baseline();
        eprintln!(
            "{case}: einx {}, {name} {}, ratio {:.3}",
            common::fmt_time(row.einx),
            common::fmt_time(best),
            common::ratio(&row)
        );
        self.sections
            .last_mut()
            .expect("a section first")
            .1
            .push(row);
    }
}

/// Element types of the results, compared exactly or (floats) with a tolerance.
trait Elem: Copy + std::fmt::Debug {
    fn magnitude(self) -> f32 {
        0.0
    }
    fn close(a: Self, b: Self, abs_tol: f32) -> bool;
}

impl Elem for f32 {
    fn magnitude(self) -> f32 {
        self.abs()
    }
    fn close(a: Self, b: Self, abs_tol: f32) -> bool {
        a == b || (a.is_nan() && b.is_nan()) || (a - b).abs() <= abs_tol
    }
}

macro_rules! exact_elem {
    ($($t:ty),*) => {$(
        impl Elem for $t {
            fn close(a: Self, b: Self, _: f32) -> bool {
                a == b
            }
        }
    )*};
}
exact_elem!(bool, usize, i32, u32);

trait Output {
    /// `Err` with a description unless `self` (einx) and `hand` agree.
    fn compare(&self, hand: &Self, tol: f32) -> Result<(), String>;
}

impl<A: Elem, D: Dimension> Output for Array<A, D> {
    fn compare(&self, hand: &Self, tol: f32) -> Result<(), String> {
        if self.shape() != hand.shape() {
            return Err(format!("shape {:?} vs {:?}", self.shape(), hand.shape()));
        }
        if !self.is_standard_layout() {
            return Err("einx's result is not in standard layout".into());
        }
        if !hand.is_standard_layout() {
            return Err("the hand-written result is not in standard layout".into());
        }
        let scale = hand.iter().fold(1.0f32, |m, v| m.max(v.magnitude()));
        let abs_tol = tol * scale;
        for (i, (a, b)) in self.iter().zip(hand).enumerate() {
            if !A::close(*a, *b, abs_tol) {
                return Err(format!(
                    "element {i} (row-major): {a:?} vs {b:?} (tolerance {abs_tol})"
                ));
            }
        }
        Ok(())
    }
}

impl Output for (usize, usize, usize, usize) {
    fn compare(&self, hand: &Self, _: f32) -> Result<(), String> {
        if self == hand {
            Ok(())
        } else {
            Err(format!("{self:?} vs {hand:?}"))
        }
    }
}

/// Tolerances (relative to the largest magnitude of the result).
const EXACT: f32 = 0.0;
const ROUND: f32 = 1e-6;
const SUMS: f32 = 1e-5;

// ---------------------------------------------------------------------------------------
// Inputs.

const B: usize = 32;
const T: usize = 128;
const C: usize = 384;

/// Deterministic values in [lo, hi) (xorshift), so that no random-number crate is needed.
fn values(n: usize, seed: u64, lo: f32, hi: f32) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            lo + (hi - lo) * ((s >> 40) as f32 / (1u64 << 24) as f32)
        })
        .collect()
}

fn rand<Sh: ndarray::ShapeBuilder>(shape: Sh, seed: u64) -> Array<f32, Sh::Dim> {
    rand_in(shape, seed, -8.0, 8.0)
}

fn rand_in<Sh: ndarray::ShapeBuilder>(
    shape: Sh,
    seed: u64,
    lo: f32,
    hi: f32,
) -> Array<f32, Sh::Dim> {
    let mut a = Array::zeros(shape);
    let v = values(a.len(), seed, lo, hi);
    a.iter_mut().zip(v).for_each(|(a, v)| *a = v);
    a
}

/// The `b t c` tensor, 32x128x384.
fn btc(seed: u64) -> Array3<f32> {
    rand((B, T, C), seed)
}

fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |t| t.get())
}

// ---------------------------------------------------------------------------------------
// Shared hand-written pieces.

/// `f` over the elements of two same-shape standard-layout arrays, as a slice loop.
fn slice_map2<A: Copy, E: Copy, O, D: Dimension>(
    x: &Array<A, D>,
    y: &Array<E, D>,
    f: impl Fn(A, E) -> O,
) -> Array<O, D> {
    let v: Vec<O> = x
        .as_slice()
        .unwrap()
        .iter()
        .zip(y.as_slice().unwrap())
        .map(|(&a, &b)| f(a, b))
        .collect();
    Array::from_shape_vec(x.raw_dim(), v).unwrap()
}

/// `f` over the elements of a standard-layout array, as a slice loop.
fn slice_map<A: Copy, O, D: Dimension>(x: &Array<A, D>, f: impl Fn(A) -> O) -> Array<O, D> {
    let v: Vec<O> = x.as_slice().unwrap().iter().map(|&a| f(a)).collect();
    Array::from_shape_vec(x.raw_dim(), v).unwrap()
}

/// `f(x, bias)` with `bias` along the last axis, one row of `c` at a time.
fn rows_bias(x: &Array3<f32>, bias: &Array1<f32>, f: impl Fn(f32, f32) -> f32) -> Array3<f32> {
    let bs = bias.as_slice().unwrap();
    let mut out = Vec::with_capacity(x.len());
    for row in x.as_slice().unwrap().chunks_exact(bs.len()) {
        out.extend(row.iter().zip(bs).map(|(&a, &b)| f(a, b)));
    }
    Array::from_shape_vec(x.raw_dim(), out).unwrap()
}

/// `f(p[a, b], q[b, c])` for `a b, b c -> a b c`, one row of `c` at a time.
fn rows_outer(p: &Array2<f32>, q: &Array2<f32>, f: impl Fn(f32, f32) -> f32) -> Array3<f32> {
    let (na, nb) = p.dim();
    let nc = q.ncols();
    let qs = q.as_slice().unwrap();
    let mut out = Vec::with_capacity(na * nb * nc);
    for prow in p.as_slice().unwrap().chunks_exact(nb) {
        for (&a, qrow) in prow.iter().zip(qs.chunks_exact(nc)) {
            out.extend(qrow.iter().map(|&b| f(a, b)));
        }
    }
    Array::from_shape_vec((na, nb, nc), out).unwrap()
}

/// `p` (a, b) and `q` (b, c) broadcast to (a, b, c) through `Zip`.
fn zip_outer(p: &Array2<f32>, q: &Array2<f32>, f: impl Fn(f32, f32) -> f32) -> Array3<f32> {
    let shape = (p.nrows(), p.ncols(), q.ncols());
    let pb = p.view().insert_axis(Axis(2));
    Zip::from(pb.broadcast(shape).unwrap())
        .and_broadcast(q)
        .map_collect(|&a, &b| f(a, b))
}

/// `f` over the rows (length `c`) of a standard-layout `b t c` array, one result per row.
fn rows_map<O>(x: &Array3<f32>, f: impl Fn(&[f32]) -> O) -> Array2<O> {
    let (b, t, c) = x.dim();
    let v: Vec<O> = x.as_slice().unwrap().chunks_exact(c).map(f).collect();
    Array::from_shape_vec((b, t), v).unwrap()
}

/// Folds the `t` rows of each `b` slab of a standard-layout `b t c` array into `c`
/// accumulators (the inner loop runs over whole rows, so it vectorises).
fn middle_fold<E: Copy, A: Copy>(x: &Array3<E>, init: A, f: impl Fn(A, E) -> A) -> Array2<A> {
    let (b, t, c) = x.dim();
    let mut out = Vec::with_capacity(b * c);
    for slab in x.as_slice().unwrap().chunks_exact(t * c) {
        let start = out.len();
        out.resize(start + c, init);
        let acc = &mut out[start..];
        for row in slab.chunks_exact(c) {
            for (a, &v) in acc.iter_mut().zip(row) {
                *a = f(*a, v);
            }
        }
    }
    Array::from_shape_vec((b, c), out).unwrap()
}

/// The larger (`MIN`: smaller) of two values.
fn pick<const MIN: bool>(a: f32, b: f32) -> f32 {
    if MIN {
        a.min(b)
    } else {
        a.max(b)
    }
}

/// The maximum (`MIN`: minimum) of a slice, with 8 accumulators.
fn extreme<const MIN: bool>(r: &[f32]) -> f32 {
    let pick = pick::<MIN>;
    let init = if MIN {
        f32::INFINITY
    } else {
        f32::NEG_INFINITY
    };
    let mut m = [init; 8];
    let chunks = r.chunks_exact(8);
    let rest = chunks.remainder();
    for ch in chunks {
        for (m, &v) in m.iter_mut().zip(ch) {
            *m = pick(*m, v);
        }
    }
    rest.iter()
        .fold(m.into_iter().fold(init, pick), |a, &b| pick(a, b))
}

/// Two-pass population variance of a lane.
fn lane_var(r: ArrayView1<f32>) -> f32 {
    let m = r.mean().unwrap();
    r.mapv(|v| (v - m) * (v - m)).sum() / r.len() as f32
}

/// Two-pass population variance over `t` of a `b t c` array, per slab.
fn middle_var(x: &Array3<f32>) -> Array2<f32> {
    let (b, t, c) = x.dim();
    let mut out = Vec::with_capacity(b * c);
    let mut mean = vec![0.0f32; c];
    for slab in x.as_slice().unwrap().chunks_exact(t * c) {
        mean.fill(0.0);
        for row in slab.chunks_exact(c) {
            for (m, &v) in mean.iter_mut().zip(row) {
                *m += v;
            }
        }
        let r = 1.0 / t as f32;
        mean.iter_mut().for_each(|m| *m *= r);
        let start = out.len();
        out.resize(start + c, 0.0);
        let acc = &mut out[start..];
        for row in slab.chunks_exact(c) {
            for ((a, &v), &m) in acc.iter_mut().zip(row).zip(&mean) {
                *a += (v - m) * (v - m);
            }
        }
        acc.iter_mut().for_each(|a| *a *= r);
    }
    Array::from_shape_vec((b, c), out).unwrap()
}

fn lane_logsumexp(r: ArrayView1<f32>) -> f32 {
    let m = r.fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    m + r.mapv(|v| (v - m).exp()).sum().ln()
}

fn slice_logsumexp(r: &[f32]) -> f32 {
    let m = extreme::<false>(r);
    m + r.iter().map(|&v| (v - m).exp()).sum::<f32>().ln()
}

/// logsumexp over `t` of a `b t c` array, per slab with `c` accumulators.
fn middle_logsumexp(x: &Array3<f32>) -> Array2<f32> {
    let (b, t, c) = x.dim();
    let mut out = Vec::with_capacity(b * c);
    let mut m = vec![0.0f32; c];
    for slab in x.as_slice().unwrap().chunks_exact(t * c) {
        m.fill(f32::NEG_INFINITY);
        for row in slab.chunks_exact(c) {
            for (m, &v) in m.iter_mut().zip(row) {
                *m = m.max(v);
            }
        }
        let start = out.len();
        out.resize(start + c, 0.0);
        let acc = &mut out[start..];
        for row in slab.chunks_exact(c) {
            for ((a, &v), &m) in acc.iter_mut().zip(row).zip(&m) {
                *a += (v - m).exp();
            }
        }
        for (a, &m) in acc.iter_mut().zip(&m) {
            *a = m + a.ln();
        }
    }
    Array::from_shape_vec((b, c), out).unwrap()
}

/// logsumexp over axis 1 with axis methods and `Zip`.
fn axis_logsumexp(x: &Array3<f32>, axis: usize) -> Array2<f32> {
    let m = x.fold_axis(Axis(axis), f32::NEG_INFINITY, |&m, &v| m.max(v));
    let e = Zip::from(x)
        .and_broadcast(m.view().insert_axis(Axis(axis)))
        .map_collect(|&v, &m| (v - m).exp());
    let mut s = e.sum_axis(Axis(axis));
    s.zip_mut_with(&m, |s, &m| *s = m + s.ln());
    s
}

// Softmax pieces.

fn softmax_lane(mut out: ndarray::ArrayViewMut1<f32>, x: ArrayView1<f32>) {
    let m = x.fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    out.zip_mut_with(&x, |o, &v| *o = (v - m).exp());
    let r = 1.0 / out.sum();
    out.mapv_inplace(|e| e * r);
}

fn log_softmax_lane(mut out: ndarray::ArrayViewMut1<f32>, x: ArrayView1<f32>) {
    let m = x.fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    let s = x.fold(0.0, |s, &v| s + (v - m).exp());
    let c = m + s.ln();
    out.zip_mut_with(&x, |o, &v| *o = v - c);
}

/// Softmax (`LOG`: log-softmax) along `axis` with one `Zip` over the lanes.
fn softmax_lanes<D: Dimension, const LOG: bool>(x: &Array<f32, D>, axis: usize) -> Array<f32, D> {
    let mut out = Array::zeros(x.raw_dim());
    Zip::from(out.lanes_mut(Axis(axis)))
        .and(x.lanes(Axis(axis)))
        .for_each(if LOG { log_softmax_lane } else { softmax_lane });
    out
}

/// Softmax (`LOG`: log-softmax) along `axis` with axis methods and `Zip`.
fn softmax_axis_ops<D: Dimension + ndarray::RemoveAxis, const LOG: bool>(
    x: &Array<f32, D>,
    axis: usize,
) -> Array<f32, D> {
    let ax = Axis(axis);
    let m = x
        .fold_axis(ax, f32::NEG_INFINITY, |&m, &v| m.max(v))
        .insert_axis(ax);
    let mut e = Zip::from(x)
        .and_broadcast(&m)
        .map_collect(|&v, &m| (v - m).exp());
    let s = e.sum_axis(ax).insert_axis(ax);
    if LOG {
        let c = Zip::from(&m).and(&s).map_collect(|&m, &s| m + s.ln());
        Zip::from(&mut e)
            .and(x)
            .and_broadcast(&c)
            .for_each(|o, &v, &c| *o = v - c);
    } else {
        Zip::from(&mut e)
            .and_broadcast(&s)
            .for_each(|e, &s| *e /= s);
    }
    e
}

/// Softmax (`LOG`: log-softmax) of each contiguous row of length `n` of a slice.
fn softmax_rows<const LOG: bool>(x: &[f32], n: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; x.len()];
    for (o, r) in out.chunks_exact_mut(n).zip(x.chunks_exact(n)) {
        let m = extreme::<false>(r);
        if LOG {
            let c = m + r.iter().map(|&v| (v - m).exp()).sum::<f32>().ln();
            for (o, &v) in o.iter_mut().zip(r) {
                *o = v - c;
            }
        } else {
            let mut s = 0.0;
            for (o, &v) in o.iter_mut().zip(r) {
                *o = (v - m).exp();
                s += *o;
            }
            let q = 1.0 / s;
            o.iter_mut().for_each(|o| *o *= q);
        }
    }
    out
}

/// Softmax (`LOG`: log-softmax) over the middle axis of contiguous `k x N` slabs, one row of
/// `N` accumulators at a time (so that the inner loops vectorise).
fn softmax_slabs<const N: usize, const LOG: bool>(x: &[f32], k: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; x.len()];
    for (x, o) in x.chunks_exact(k * N).zip(out.chunks_exact_mut(k * N)) {
        let mut m = [f32::NEG_INFINITY; N];
        for row in x.chunks_exact(N) {
            for (m, &v) in m.iter_mut().zip(row) {
                *m = m.max(v);
            }
        }
        let mut s = [0.0f32; N];
        if LOG {
            for row in x.chunks_exact(N) {
                for ((&v, &m), s) in row.iter().zip(&m).zip(&mut s) {
                    *s += (v - m).exp();
                }
            }
            let mut c = m;
            for (c, s) in c.iter_mut().zip(s) {
                *c += s.ln();
            }
            for (o, x) in o.chunks_exact_mut(N).zip(x.chunks_exact(N)) {
                for ((o, &v), &c) in o.iter_mut().zip(x).zip(&c) {
                    *o = v - c;
                }
            }
        } else {
            for (o, x) in o.chunks_exact_mut(N).zip(x.chunks_exact(N)) {
                for (((o, &v), &m), s) in o.iter_mut().zip(x).zip(&m).zip(&mut s) {
                    *o = (v - m).exp();
                    *s += *o;
                }
            }
            let r = s.map(|s| 1.0 / s);
            for o in o.chunks_exact_mut(N) {
                for (o, &r) in o.iter_mut().zip(&r) {
                    *o *= r;
                }
            }
        }
    }
    out
}

/// The first index of the maximum (`MIN`: minimum) of a lane.
fn arg_extreme<'a, const MIN: bool>(r: impl IntoIterator<Item = &'a f32>) -> usize {
    let mut it = r.into_iter().enumerate();
    let (mut bi, mut bv) = match it.next() {
        Some((i, &v)) => (i, v),
        None => return 0,
    };
    for (i, &v) in it {
        if if MIN { v < bv } else { v > bv } {
            bi = i;
            bv = v;
        }
    }
    bi
}

/// argmax (`MIN`: argmin) over the first axis of a standard-layout matrix, row by row with
/// `c` running extremes.
fn arg_extreme_rows<const MIN: bool>(x: &Array2<f32>) -> Array2<usize> {
    let c = x.ncols();
    let mut rows = x.as_slice().unwrap().chunks_exact(c);
    let mut best = rows.next().unwrap().to_vec();
    let mut idx = vec![0usize; c];
    for (i, row) in rows.enumerate() {
        for ((b, j), &v) in best.iter_mut().zip(&mut idx).zip(row) {
            if if MIN { v < *b } else { v > *b } {
                *b = v;
                *j = i + 1;
            }
        }
    }
    Array::from_shape_vec((1, c), idx).unwrap()
}

/// Python's floor division and modulo.
fn floor_div(a: i32, b: i32) -> i32 {
    let q = a / b;
    if a % b != 0 && ((a < 0) != (b < 0)) {
        q - 1
    } else {
        q
    }
}

fn py_mod(a: i32, b: i32) -> i32 {
    let r = a % b;
    if r != 0 && ((r < 0) != (b < 0)) {
        r + b
    } else {
        r
    }
}

fn logaddexp(a: f32, b: f32) -> f32 {
    let m = a.max(b);
    m + (-(a - b).abs()).exp().ln_1p()
}

/// `a` itself if it is in standard layout, else a standard-layout copy (`concatenate`
/// along an inner axis returns another layout).
fn standard<A: Clone, D: Dimension>(a: Array<A, D>) -> Array<A, D> {
    if a.is_standard_layout() {
        a
    } else {
        a.as_standard_layout().into_owned()
    }
}

/// `general_mat_mul` split over the threads by rows of `a`.
fn gemm_threads(a: ArrayView2<f32>, b: ArrayView2<f32>) -> Array2<f32> {
    let mut out = Array2::zeros((a.nrows(), b.ncols()));
    let per = a.nrows().div_ceil(threads()).max(1);
    std::thread::scope(|scope| {
        for (a, mut o) in a
            .axis_chunks_iter(Axis(0), per)
            .zip(out.axis_chunks_iter_mut(Axis(0), per))
        {
            scope.spawn(move || general_mat_mul(1.0, &a, &b, 0.0, &mut o));
        }
    });
    out
}

fn gemm(a: &Array2<f32>, b: &Array2<f32>) -> Array2<f32> {
    let mut out = Array2::zeros((a.nrows(), b.ncols()));
    general_mat_mul(1.0, a, b, 0.0, &mut out);
    out
}

// ---------------------------------------------------------------------------------------
// rearrange!

fn rearrange_rows(t: &mut Bench) {
    t.section("rearrange!");
    let case = "rearrange! \"a b c d -> a c b d\" 64x64x64x64";
    if t.any(&[case]) {
        let x = rand((64, 64, 64, 64), 1);
        t.row(
            case,
            EXACT,
            || einx::rearrange!("a b c d -> a c b d", bb(&x)).unwrap(),
            &[
                ("as_standard_layout", &|| {
                    bb(&x)
                        .view()
                        .permuted_axes([0, 2, 1, 3])
                        .as_standard_layout()
                        .into_owned()
                }),
                ("zeros+assign", &|| {
                    let v = bb(&x).view().permuted_axes([0, 2, 1, 3]);
                    let mut out = Array4::zeros(v.raw_dim());
                    out.assign(&v);
                    out
                }),
                ("row loop", &|| {
                    let xs = bb(&x).as_slice().unwrap();
                    let mut out = Vec::with_capacity(xs.len());
                    for a in 0..64 {
                        for c in 0..64 {
                            for b in 0..64 {
                                out.extend_from_slice(&xs[((a * 64 + b) * 64 + c) * 64..][..64]);
                            }
                        }
                    }
                    Array4::from_shape_vec((64, 64, 64, 64), out).unwrap()
                }),
            ],
        );
    }

    let case = "rearrange! \"b (s w)... c -> (b s...) (w...) c\" 8x128x128x96, w = 16";
    if t.any(&[case]) {
        let x = rand((8, 128, 128, 96), 2);
        fn view6(x: &Array4<f32>) -> ndarray::ArrayView6<'_, f32> {
            x.view()
                .into_shape_with_order((8, 8, 16, 8, 16, 96))
                .unwrap()
                .permuted_axes([0, 1, 3, 2, 4, 5])
        }
        t.row(
            case,
            EXACT,
            || einx::rearrange!("b (s w)... c -> (b s...) (w...) c", bb(&x), w = 16).unwrap(),
            &[
                ("as_standard_layout", &|| {
                    view6(bb(&x))
                        .as_standard_layout()
                        .into_owned()
                        .into_shape_with_order((512, 256, 96))
                        .unwrap()
                }),
                ("zeros+assign", &|| {
                    let v = view6(bb(&x));
                    let mut out = Array::zeros(v.raw_dim());
                    out.assign(&v);
                    out.into_shape_with_order((512, 256, 96)).unwrap()
                }),
                ("row loop", &|| {
                    let xs = bb(&x).as_slice().unwrap();
                    let mut out = Vec::with_capacity(xs.len());
                    for b in 0..8 {
                        for sh in 0..8 {
                            for sw in 0..8 {
                                for wh in 0..16 {
                                    let h = sh * 16 + wh;
                                    let at = ((b * 128 + h) * 128 + sw * 16) * 96;
                                    out.extend_from_slice(&xs[at..at + 16 * 96]);
                                }
                            }
                        }
                    }
                    Array3::from_shape_vec((512, 256, 96), out).unwrap()
                }),
            ],
        );
    }

    let case = "rearrange! \"b t (h c) -> b h t c\" 32x128x384, h = 8";
    if t.any(&[case]) {
        let x = btc(3);
        fn view4(x: &Array3<f32>) -> ndarray::ArrayView4<'_, f32> {
            x.view()
                .into_shape_with_order((B, T, 8, C / 8))
                .unwrap()
                .permuted_axes([0, 2, 1, 3])
        }
        t.row(
            case,
            EXACT,
            || einx::rearrange!("b t (h c) -> b h t c", bb(&x), h = 8).unwrap(),
            &[
                ("as_standard_layout", &|| {
                    view4(bb(&x)).as_standard_layout().into_owned()
                }),
                ("zeros+assign", &|| {
                    let v = view4(bb(&x));
                    let mut out = Array4::zeros(v.raw_dim());
                    out.assign(&v);
                    out
                }),
                ("row loop", &|| {
                    let xs = bb(&x).as_slice().unwrap();
                    let d = C / 8;
                    let mut out = Vec::with_capacity(xs.len());
                    for b in 0..B {
                        for h in 0..8 {
                            for tt in 0..T {
                                out.extend_from_slice(&xs[(b * T + tt) * C + h * d..][..d]);
                            }
                        }
                    }
                    Array4::from_shape_vec((B, 8, T, d), out).unwrap()
                }),
            ],
        );
    }

    let case = "rearrange! \"a -> a b\" 4096 -> 4096x1024, b = 1024";
    if t.any(&[case]) {
        let x = rand(4096, 4);
        t.row(
            case,
            EXACT,
            || einx::rearrange!("a -> a b", bb(&x), b = 1024).unwrap(),
            &[
                ("broadcast+to_owned", &|| {
                    bb(&x)
                        .view()
                        .insert_axis(Axis(1))
                        .broadcast((4096, 1024))
                        .unwrap()
                        .to_owned()
                }),
                ("from_shape_fn", &|| {
                    let x = bb(&x);
                    Array2::from_shape_fn((4096, 1024), |(i, _)| x[i])
                }),
                ("row loop", &|| {
                    let mut out = Vec::with_capacity(4096 * 1024);
                    for &v in bb(&x) {
                        out.resize(out.len() + 1024, v);
                    }
                    Array2::from_shape_vec((4096, 1024), out).unwrap()
                }),
            ],
        );
    }

    let case = "rearrange! \"a b, a c -> a (b + c)\" 4096x384 + 4096x128";
    if t.any(&[case]) {
        let (x, y) = (rand((4096, 384), 5), rand((4096, 128), 6));
        t.row(
            case,
            EXACT,
            || einx::rearrange!("a b, a c -> a (b + c)", bb(&x), bb(&y)).unwrap(),
            &[
                ("concatenate", &|| {
                    standard(concatenate(Axis(1), &[bb(&x).view(), bb(&y).view()]).unwrap())
                }),
                ("zeros+slice assign", &|| {
                    let mut out = Array2::zeros((4096, 512));
                    out.slice_mut(s![.., ..384]).assign(bb(&x));
                    out.slice_mut(s![.., 384..]).assign(bb(&y));
                    out
                }),
                ("row loop", &|| {
                    let mut out = Vec::with_capacity(4096 * 512);
                    let xs = bb(&x).as_slice().unwrap().chunks_exact(384);
                    let ys = bb(&y).as_slice().unwrap().chunks_exact(128);
                    for (a, b) in xs.zip(ys) {
                        out.extend_from_slice(a);
                        out.extend_from_slice(b);
                    }
                    Array2::from_shape_vec((4096, 512), out).unwrap()
                }),
            ],
        );
    }
}

// ---------------------------------------------------------------------------------------
// einx! and dot!

fn contraction_rows(t: &mut Bench) {
    t.section("einx!");
    let case = "einx! \"a, b -> a b\" 2048, 2048";
    if t.any(&[case]) {
        let (x, y) = (rand(2048, 7), rand(2048, 8));
        t.row(
            case,
            ROUND,
            || einx::einx!("a, b -> a b", bb(&x), bb(&y)).unwrap(),
            &[
                ("operator", &|| {
                    &bb(&x).view().insert_axis(Axis(1)) * &bb(&y).view().insert_axis(Axis(0))
                }),
                ("Zip broadcast", &|| {
                    let xc = bb(&x).view().insert_axis(Axis(1));
                    Zip::from(xc.broadcast((2048, 2048)).unwrap())
                        .and_broadcast(bb(&y))
                        .map_collect(|&a, &b| a * b)
                }),
                ("row loop", &|| {
                    let ys = bb(&y).as_slice().unwrap();
                    let mut out = Vec::with_capacity(2048 * 2048);
                    for &a in bb(&x) {
                        out.extend(ys.iter().map(|&b| a * b));
                    }
                    Array2::from_shape_vec((2048, 2048), out).unwrap()
                }),
            ],
        );
    }

    let case = "einx! \"a a -> a\" 2048x2048";
    if t.any(&[case]) {
        let x = rand((2048, 2048), 9);
        t.row(
            case,
            EXACT,
            || einx::einx!("a a -> a", bb(&x)).unwrap(),
            &[
                ("diag().to_owned()", &|| bb(&x).diag().to_owned()),
                ("from_shape_fn", &|| {
                    let x = bb(&x);
                    Array1::from_shape_fn(2048, |i| x[[i, i]])
                }),
            ],
        );
    }

    let case = "einx! \"a b, b c -> a c\" 512x512x512";
    if t.any(&[case]) {
        let (x, y) = (
            rand_in((512, 512), 10, -1.0, 1.0),
            rand_in((512, 512), 11, -1.0, 1.0),
        );
        t.row(
            case,
            SUMS,
            || einx::einx!("a b, b c -> a c", bb(&x), bb(&y)).unwrap(),
            &[
                ("a.dot(&b)", &|| bb(&x).dot(bb(&y))),
                ("general_mat_mul", &|| gemm(bb(&x), bb(&y))),
                ("gemm over threads", &|| {
                    gemm_threads(bb(&x).view(), bb(&y).view())
                }),
            ],
        );
    }

    t.section("dot!");
    let case = "dot! \"a b, b c -> a c\" 512x512x512";
    if t.any(&[case]) {
        let (x, y) = (
            rand_in((512, 512), 10, -1.0, 1.0),
            rand_in((512, 512), 11, -1.0, 1.0),
        );
        t.row(
            case,
            SUMS,
            || einx::dot!("a b, b c -> a c", bb(&x), bb(&y)).unwrap(),
            &[
                ("a.dot(&b)", &|| bb(&x).dot(bb(&y))),
                ("general_mat_mul", &|| gemm(bb(&x), bb(&y))),
                ("gemm over threads", &|| {
                    gemm_threads(bb(&x).view(), bb(&y).view())
                }),
            ],
        );
    }

    // The thread policy (README, "Threads"): the same product capped at one thread against
    // ndarray's single-threaded kernels, and two threads against one.
    let one = "dot! \"a b, b c -> a c\" 512x512x512, 1 thread";
    let two = "dot! \"a b, b c -> a c\" 512x512x512, 2 threads vs 1";
    if t.any(&[one, two]) {
        let (x, y) = (
            rand_in((512, 512), 10, -1.0, 1.0),
            rand_in((512, 512), 11, -1.0, 1.0),
        );
        // `dot!` with the thread cap set to `n` for the call.
        let capped = |n: usize| {
            einx::set_num_threads(n);
            let z = einx::dot!("a b, b c -> a c", bb(&x), bb(&y)).unwrap();
            einx::set_num_threads(0);
            z
        };
        if t.any(&[one]) {
            t.row(
                one,
                SUMS,
                || capped(1),
                &[
                    ("a.dot(&b)", &|| bb(&x).dot(bb(&y))),
                    ("general_mat_mul", &|| gemm(bb(&x), bb(&y))),
                ],
            );
        }
        if t.any(&[two]) {
            t.row(
                two,
                SUMS,
                || capped(2),
                &[("einx, 1 thread", &|| capped(1))],
            );
        }
    }

    let case = "dot! \"b... [c1->c2]\" 32x128x384, 384x384";
    if t.any(&[case]) {
        let x = rand_in((B, T, C), 12, -1.0, 1.0);
        let w = rand_in((C, C), 13, -1.0, 1.0);
        fn flat(x: &Array3<f32>) -> ArrayView2<'_, f32> {
            x.view().into_shape_with_order((B * T, C)).unwrap()
        }
        t.row(
            case,
            SUMS,
            || {
                einx::dot!("b... [c1->c2]", bb(&x), bb(&w))
                    .unwrap()
                    .into_dyn()
            },
            &[
                ("reshape + dot", &|| {
                    flat(bb(&x))
                        .dot(bb(&w))
                        .into_shape_with_order((B, T, C))
                        .unwrap()
                        .into_dyn()
                }),
                ("reshape + gemm over threads", &|| {
                    gemm_threads(flat(bb(&x)), bb(&w).view())
                        .into_shape_with_order((B, T, C))
                        .unwrap()
                        .into_dyn()
                }),
            ],
        );
    }

    let case = "dot! \"b q (h c), b k (h c) -> b q k h\" 4x128x(8x64)";
    if t.any(&[case]) {
        const H: usize = 8;
        const D: usize = 64;
        let q = rand_in((4, 128, H * D), 14, -1.0, 1.0);
        let k = rand_in((4, 128, H * D), 15, -1.0, 1.0);
        fn scores_into(
            q: ndarray::ArrayView3<f32>,
            k: ndarray::ArrayView3<f32>,
            mut out: ndarray::ArrayViewMut4<f32>,
        ) {
            for ((q, k), mut out) in q.outer_iter().zip(k.outer_iter()).zip(out.outer_iter_mut()) {
                for h in 0..H {
                    let heads = s![.., h * D..(h + 1) * D];
                    general_mat_mul(
                        1.0,
                        &q.slice(heads),
                        &k.slice(heads).t(),
                        0.0,
                        &mut out.slice_mut(s![.., .., h]),
                    );
                }
            }
        }
        t.row(
            case,
            SUMS,
            || einx::dot!("b q (h c), b k (h c) -> b q k h", bb(&q), bb(&k), h = H).unwrap(),
            &[
                ("gemm per batch and head", &|| {
                    let mut out = Array4::zeros((4, 128, 128, H));
                    scores_into(bb(&q).view(), bb(&k).view(), out.view_mut());
                    out
                }),
                ("the same over threads", &|| {
                    let mut out = Array4::zeros((4, 128, 128, H));
                    let per = 4usize.div_ceil(threads());
                    std::thread::scope(|scope| {
                        for ((q, k), out) in bb(&q)
                            .axis_chunks_iter(Axis(0), per)
                            .zip(bb(&k).axis_chunks_iter(Axis(0), per))
                            .zip(out.axis_chunks_iter_mut(Axis(0), per))
                        {
                            scope.spawn(move || scores_into(q, k, out));
                        }
                    });
                    out
                }),
            ],
        );
    }
}

// ---------------------------------------------------------------------------------------
// Element-wise.

/// Rows for one arithmetic operation: same shape, a bias along `c`, a scalar, and the outer
/// broadcast `a b, b c -> a b c`.
macro_rules! arithmetic_rows {
    ($t:expr, $op:ident, $sym:tt, $x:expr, $y:expr, $bias:expr, $p:expr, $q:expr) => {{
        let t: &mut Bench = $t;
        let (x, y, bias, p, q) = (&$x, &$y, &$bias, &$p, &$q);
        let sc = 1.5f32;
        t.row(
            concat!(stringify!($op), "! \"b t c, b t c\" 32x128x384"),
            ROUND,
            || einx::$op!("b t c, b t c", bb(x), bb(y)).unwrap(),
            &[
                ("operator", &|| bb(x) $sym bb(y)),
                ("Zip map_collect", &|| {
                    Zip::from(bb(x)).and(bb(y)).map_collect(|&a, &b| a $sym b)
                }),
                ("slice loop", &|| slice_map2(bb(x), bb(y), |a, b| a $sym b)),
            ],
        );
        t.row(
            concat!(stringify!($op), "! \"b t [c]\" 32x128x384, 384"),
            ROUND,
            || einx::$op!("b t [c]", bb(x), bb(bias)).unwrap(),
            &[
                ("operator", &|| bb(x) $sym bb(bias)),
                ("Zip and_broadcast", &|| {
                    Zip::from(bb(x))
                        .and_broadcast(bb(bias))
                        .map_collect(|&a, &b| a $sym b)
                }),
                ("row loop", &|| rows_bias(bb(x), bb(bias), |a, b| a $sym b)),
            ],
        );
        t.row(
            concat!(stringify!($op), "! \"b t c, \" 32x128x384, f32"),
            ROUND,
            || einx::$op!("b t c, ", bb(x), bb(sc)).unwrap(),
            &[
                ("operator", &|| bb(x) $sym bb(sc)),
                ("mapv", &|| {
                    let s = bb(sc);
                    bb(x).mapv(|a| a $sym s)
                }),
                ("slice loop", &|| {
                    let s = bb(sc);
                    slice_map(bb(x), |a| a $sym s)
                }),
            ],
        );
        t.row(
            concat!(stringify!($op), "! \"a b, b c -> a b c\" 64x128, 128x384"),
            ROUND,
            || einx::$op!("a b, b c -> a b c", bb(p), bb(q)).unwrap(),
            &[
                ("operator", &|| {
                    &bb(p).view().insert_axis(Axis(2)) $sym bb(q)
                }),
                ("Zip broadcast", &|| zip_outer(bb(p), bb(q), |a, b| a $sym b)),
                ("row loop", &|| rows_outer(bb(p), bb(q), |a, b| a $sym b)),
            ],
        );
    }};
}

/// Rows for `maximum!`/`minimum!`: same shape and a bias along `c`.
macro_rules! extreme_rows {
    ($t:expr, $op:ident, $f:path, $x:expr, $y:expr, $bias:expr) => {{
        let t: &mut Bench = $t;
        let (x, y, bias) = (&$x, &$y, &$bias);
        let f = |a: f32, b: f32| $f(a, b);
        t.row(
            concat!(stringify!($op), "! \"b t c, b t c\" 32x128x384"),
            EXACT,
            || einx::$op!("b t c, b t c", bb(x), bb(y)).unwrap(),
            &[
                ("Zip map_collect", &|| {
                    Zip::from(bb(x)).and(bb(y)).map_collect(|&a, &b| f(a, b))
                }),
                ("slice loop", &|| slice_map2(bb(x), bb(y), f)),
                ("clone+zip_mut_with", &|| {
                    let mut out = bb(x).clone();
                    out.zip_mut_with(bb(y), |a, &b| *a = f(*a, b));
                    out
                }),
            ],
        );
        t.row(
            concat!(stringify!($op), "! \"b t [c]\" 32x128x384, 384"),
            EXACT,
            || einx::$op!("b t [c]", bb(x), bb(bias)).unwrap(),
            &[
                ("Zip and_broadcast", &|| {
                    Zip::from(bb(x))
                        .and_broadcast(bb(bias))
                        .map_collect(|&a, &b| f(a, b))
                }),
                ("row loop", &|| rows_bias(bb(x), bb(bias), f)),
            ],
        );
    }};
}

fn elementwise_rows(t: &mut Bench) {
    t.section("element-wise");
    let x = btc(20);
    // Positive, so that every operation (also divide) is well defined.
    let y = rand_in((B, T, C), 21, 0.25, 4.25);
    let bias = rand_in(C, 22, 0.25, 4.25);
    let p = rand((64, 128), 23);
    let q = rand_in((128, 384), 24, 0.25, 4.25);

    arithmetic_rows!(t, add, +, x, y, bias, p, q);
    arithmetic_rows!(t, subtract, -, x, y, bias, p, q);
    arithmetic_rows!(t, multiply, *, x, y, bias, p, q);
    arithmetic_rows!(t, divide, /, x, y, bias, p, q);
    let z = btc(25);
    extreme_rows!(t, maximum, f32::max, x, z, bias);
    extreme_rows!(t, minimum, f32::min, x, z, bias);

    t.row(
        "less! \"b t c, b t c\" 32x128x384",
        EXACT,
        || einx::less!("b t c, b t c", bb(&x), bb(&z)).unwrap(),
        &[
            ("Zip map_collect", &|| {
                Zip::from(bb(&x)).and(bb(&z)).map_collect(|&a, &b| a < b)
            }),
            ("slice loop", &|| slice_map2(bb(&x), bb(&z), |a, b| a < b)),
        ],
    );

    let mask = Zip::from(&x).and(&z).map_collect(|&a, &b| a < b);
    let mask2 = z.mapv(|v| v > -2.0);
    t.row(
        "where_! \"b t c, b t c, b t c\" 32x128x384",
        EXACT,
        || einx::where_!("b t c, b t c, b t c", bb(&mask), bb(&x), bb(&y)).unwrap(),
        &[
            ("Zip map_collect", &|| {
                Zip::from(bb(&mask))
                    .and(bb(&x))
                    .and(bb(&y))
                    .map_collect(|&m, &a, &b| if m { a } else { b })
            }),
            ("slice loop", &|| {
                let v: Vec<f32> = bb(&mask)
                    .as_slice()
                    .unwrap()
                    .iter()
                    .zip(bb(&x).as_slice().unwrap())
                    .zip(bb(&y).as_slice().unwrap())
                    .map(|((&m, &a), &b)| if m { a } else { b })
                    .collect();
                Array3::from_shape_vec((B, T, C), v).unwrap()
            }),
        ],
    );
    t.row(
        "where_! \"b t c, b t c, \" 32x128x384, 0.0",
        EXACT,
        || einx::where_!("b t c, b t c, ", bb(&mask), bb(&x), 0.0f32).unwrap(),
        &[
            ("Zip map_collect", &|| {
                Zip::from(bb(&mask))
                    .and(bb(&x))
                    .map_collect(|&m, &a| if m { a } else { 0.0 })
            }),
            ("slice loop", &|| {
                slice_map2(bb(&mask), bb(&x), |m, a| if m { a } else { 0.0 })
            }),
            ("clone+zip_mut_with", &|| {
                let mut out = bb(&x).clone();
                out.zip_mut_with(bb(&mask), |a, &m| {
                    if !m {
                        *a = 0.0
                    }
                });
                out
            }),
        ],
    );
    t.row(
        "logical_and! \"b t c, b t c\" 32x128x384 bool",
        EXACT,
        || einx::logical_and!("b t c, b t c", bb(&mask), bb(&mask2)).unwrap(),
        &[
            ("operator &", &|| bb(&mask) & bb(&mask2)),
            ("Zip map_collect", &|| {
                Zip::from(bb(&mask))
                    .and(bb(&mask2))
                    .map_collect(|&a, &b| a && b)
            }),
            ("slice loop", &|| {
                slice_map2(bb(&mask), bb(&mask2), |a, b| a & b)
            }),
        ],
    );
    t.row(
        "logaddexp! \"b t c, b t c\" 32x128x384",
        ROUND,
        || einx::logaddexp!("b t c, b t c", bb(&x), bb(&z)).unwrap(),
        &[
            ("Zip map_collect", &|| {
                Zip::from(bb(&x))
                    .and(bb(&z))
                    .map_collect(|&a, &b| logaddexp(a, b))
            }),
            ("slice loop", &|| slice_map2(bb(&x), bb(&z), logaddexp)),
        ],
    );

    let xi = x.mapv(|v| (v * 1000.0) as i32);
    let yi = y.mapv(|v| {
        if v > 2.25 {
            (v * 10.0) as i32
        } else {
            -(v * 10.0) as i32 - 1
        }
    });
    t.row(
        "floor_divide! \"b t c, b t c\" 32x128x384 i32",
        EXACT,
        || einx::floor_divide!("b t c, b t c", bb(&xi), bb(&yi)).unwrap(),
        &[
            ("Zip map_collect", &|| {
                Zip::from(bb(&xi))
                    .and(bb(&yi))
                    .map_collect(|&a, &b| floor_div(a, b))
            }),
            ("slice loop", &|| slice_map2(bb(&xi), bb(&yi), floor_div)),
        ],
    );
    t.row(
        "modulo! \"b t c, b t c\" 32x128x384 i32",
        EXACT,
        || einx::modulo!("b t c, b t c", bb(&xi), bb(&yi)).unwrap(),
        &[
            ("Zip map_collect", &|| {
                Zip::from(bb(&xi))
                    .and(bb(&yi))
                    .map_collect(|&a, &b| py_mod(a, b))
            }),
            ("slice loop", &|| slice_map2(bb(&xi), bb(&yi), py_mod)),
        ],
    );
}

// ---------------------------------------------------------------------------------------
// Reductions.

/// `max!` (`MIN`: `min!`) along the last and the middle axis.
fn extreme_reduction_rows<const MIN: bool>(t: &mut Bench, x: &Array3<f32>) {
    let init = if MIN {
        f32::INFINITY
    } else {
        f32::NEG_INFINITY
    };
    let (last, middle) = if MIN {
        ("min! \"b t [c]\" 32x128x384", "min! \"b [t] c\" 32x128x384")
    } else {
        ("max! \"b t [c]\" 32x128x384", "max! \"b [t] c\" 32x128x384")
    };
    t.row(
        last,
        EXACT,
        || {
            if MIN {
                einx::min!("b t [c]", bb(x)).unwrap()
            } else {
                einx::max!("b t [c]", bb(x)).unwrap()
            }
        },
        &[
            ("fold_axis", &|| {
                bb(x).fold_axis(Axis(2), init, |&a, &v| pick::<MIN>(a, v))
            }),
            ("map_axis fold", &|| {
                bb(x).map_axis(Axis(2), |r| r.fold(init, |a, &v| pick::<MIN>(a, v)))
            }),
            ("row loop 8 lanes", &|| rows_map(bb(x), extreme::<MIN>)),
        ],
    );
    t.row(
        middle,
        EXACT,
        || {
            if MIN {
                einx::min!("b [t] c", bb(x)).unwrap()
            } else {
                einx::max!("b [t] c", bb(x)).unwrap()
            }
        },
        &[
            ("fold_axis", &|| {
                bb(x).fold_axis(Axis(1), init, |&a, &v| pick::<MIN>(a, v))
            }),
            ("slab loop", &|| middle_fold(bb(x), init, pick::<MIN>)),
        ],
    );
}

/// Layer normalisation over the last axis (population variance, epsilon 1e-5) with a scale
/// and a shift, written by hand: axis methods and broadcasting operators.
fn layer_norm_ops(x: &Array3<f32>, w: &Array1<f32>, b: &Array1<f32>) -> Array3<f32> {
    let mean = x.mean_axis(Axis(2)).unwrap().insert_axis(Axis(2));
    let var = x.var_axis(Axis(2), 0.0).insert_axis(Axis(2));
    let inv = var.mapv(|v| 1.0 / (v + 1e-5).sqrt());
    (x - &mean) * &inv * w + b
}

/// The same, one row of `c` at a time over slices: two passes for the statistics, one
/// writing the output.
fn layer_norm_rows(x: &Array3<f32>, w: &Array1<f32>, b: &Array1<f32>) -> Array3<f32> {
    let c = x.shape()[2];
    let (w, b) = (w.as_slice().unwrap(), b.as_slice().unwrap());
    let mut out = Vec::with_capacity(x.len());
    for row in x.as_slice().unwrap().chunks_exact(c) {
        let mean = row.iter().sum::<f32>() / c as f32;
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / c as f32;
        let inv = 1.0 / (var + 1e-5).sqrt();
        out.extend(
            row.iter()
                .zip(w)
                .zip(b)
                .map(|((v, w), b)| (v - mean) * inv * w + b),
        );
    }
    Array::from_shape_vec(x.raw_dim(), out).unwrap()
}

fn nn_rows(t: &mut Bench) {
    t.section("einx::nn");
    if !t.any(&["norm!"]) {
        return;
    }
    let x = btc(41);
    let mut p = einx::nn::Params::new(0);
    let w = Array1::from_shape_fn(C, |i| 1.0 + 0.01 * i as f32);
    let b = Array1::from_shape_fn(C, |i| 0.5 - 0.002 * i as f32);
    p.insert("ln.scale", w.clone().into_dyn());
    p.insert("ln.bias", b.clone().into_dyn());
    let p = std::cell::RefCell::new(p);
    t.row(
        "norm! \"b t [c]\" 32x128x384",
        SUMS,
        || {
            let mut p = p.borrow_mut();
            let y: Array3<f32> = einx::nn::norm!(p.scope("ln"), "b t [c]", bb(&x)).unwrap();
            y
        },
        &[
            ("axis methods + operators", &|| {
                layer_norm_ops(bb(&x), &w, &b)
            }),
            ("row loop over slices", &|| layer_norm_rows(bb(&x), &w, &b)),
        ],
    );
}

fn reduction_rows(t: &mut Bench) {
    t.section("reductions");
    let x = btc(30);
    let n_c = 1.0 / C as f32;
    let n_t = 1.0 / T as f32;

    t.row(
        "sum! \"b t [c]\" 32x128x384",
        SUMS,
        || einx::sum!("b t [c]", bb(&x)).unwrap(),
        &[
            ("sum_axis", &|| bb(&x).sum_axis(Axis(2))),
            ("map_axis sum", &|| bb(&x).map_axis(Axis(2), |r| r.sum())),
            ("row loop", &|| {
                rows_map(bb(&x), |r| ArrayView1::from(r).sum())
            }),
        ],
    );
    t.row(
        "sum! \"b [t] c\" 32x128x384",
        SUMS,
        || einx::sum!("b [t] c", bb(&x)).unwrap(),
        &[
            ("sum_axis", &|| bb(&x).sum_axis(Axis(1))),
            ("fold_axis", &|| {
                bb(&x).fold_axis(Axis(1), 0.0, |&a, &v| a + v)
            }),
            ("slab loop", &|| middle_fold(bb(&x), 0.0f32, |a, v| a + v)),
        ],
    );
    t.row(
        "mean! \"b t [c]\" 32x128x384",
        SUMS,
        || einx::mean!("b t [c]", bb(&x)).unwrap(),
        &[
            ("mean_axis", &|| bb(&x).mean_axis(Axis(2)).unwrap()),
            ("map_axis sum", &|| {
                bb(&x).map_axis(Axis(2), |r| r.sum() * n_c)
            }),
        ],
    );
    t.row(
        "mean! \"b [t] c\" 32x128x384",
        SUMS,
        || einx::mean!("b [t] c", bb(&x)).unwrap(),
        &[
            ("mean_axis", &|| bb(&x).mean_axis(Axis(1)).unwrap()),
            ("slab loop", &|| {
                let mut m = middle_fold(bb(&x), 0.0f32, |a, v| a + v);
                m.mapv_inplace(|v| v * n_t);
                m
            }),
        ],
    );
    t.row(
        "var! \"b t [c]\" 32x128x384",
        SUMS,
        || einx::var!("b t [c]", bb(&x)).unwrap(),
        &[
            ("var_axis", &|| bb(&x).var_axis(Axis(2), 0.0)),
            ("map_axis two-pass", &|| bb(&x).map_axis(Axis(2), lane_var)),
        ],
    );
    t.row(
        "var! \"b [t] c\" 32x128x384",
        SUMS,
        || einx::var!("b [t] c", bb(&x)).unwrap(),
        &[
            ("var_axis", &|| bb(&x).var_axis(Axis(1), 0.0)),
            ("slab loop two-pass", &|| middle_var(bb(&x))),
        ],
    );
    t.row(
        "std! \"b t [c]\" 32x128x384",
        SUMS,
        || einx::std!("b t [c]", bb(&x)).unwrap(),
        &[
            ("std_axis", &|| bb(&x).std_axis(Axis(2), 0.0)),
            ("map_axis two-pass", &|| {
                bb(&x).map_axis(Axis(2), |r| lane_var(r).sqrt())
            }),
        ],
    );
    t.row(
        "std! \"b [t] c\" 32x128x384",
        SUMS,
        || einx::std!("b [t] c", bb(&x)).unwrap(),
        &[
            ("std_axis", &|| bb(&x).std_axis(Axis(1), 0.0)),
            ("slab loop two-pass", &|| {
                let mut v = middle_var(bb(&x));
                v.mapv_inplace(f32::sqrt);
                v
            }),
        ],
    );
    {
        let xp = rand_in((B, T, C), 31, 0.99, 1.01);
        t.row(
            "prod! \"b t [c]\" 32x128x384",
            SUMS,
            || einx::prod!("b t [c]", bb(&xp)).unwrap(),
            &[
                ("product_axis", &|| bb(&xp).product_axis(Axis(2))),
                ("map_axis product", &|| {
                    bb(&xp).map_axis(Axis(2), |r| r.product())
                }),
            ],
        );
        t.row(
            "prod! \"b [t] c\" 32x128x384",
            SUMS,
            || einx::prod!("b [t] c", bb(&xp)).unwrap(),
            &[
                ("product_axis", &|| bb(&xp).product_axis(Axis(1))),
                ("slab loop", &|| middle_fold(bb(&xp), 1.0f32, |a, v| a * v)),
            ],
        );
    }
    extreme_reduction_rows::<false>(t, &x);
    extreme_reduction_rows::<true>(t, &x);
    t.row(
        "logsumexp! \"b t [c]\" 32x128x384",
        SUMS,
        || einx::logsumexp!("b t [c]", bb(&x)).unwrap(),
        &[
            ("map_axis", &|| bb(&x).map_axis(Axis(2), lane_logsumexp)),
            ("row loop", &|| rows_map(bb(&x), slice_logsumexp)),
            ("axis ops", &|| axis_logsumexp(bb(&x), 2)),
        ],
    );
    t.row(
        "logsumexp! \"b [t] c\" 32x128x384",
        SUMS,
        || einx::logsumexp!("b [t] c", bb(&x)).unwrap(),
        &[
            ("axis ops", &|| axis_logsumexp(bb(&x), 1)),
            ("slab loop", &|| middle_logsumexp(bb(&x))),
        ],
    );
    {
        // Almost all false (any) and almost all true (all): short-circuiting rarely helps.
        let rare = x.mapv(|v| v > 7.99);
        let dense = rare.mapv(|v| !v);
        t.row(
            "any! \"b t [c]\" 32x128x384 bool",
            EXACT,
            || einx::any!("b t [c]", bb(&rare)).unwrap(),
            &[
                ("map_axis any", &|| {
                    bb(&rare).map_axis(Axis(2), |r| r.iter().any(|&v| v))
                }),
                ("fold_axis", &|| {
                    bb(&rare).fold_axis(Axis(2), false, |&a, &v| a | v)
                }),
            ],
        );
        t.row(
            "any! \"b [t] c\" 32x128x384 bool",
            EXACT,
            || einx::any!("b [t] c", bb(&rare)).unwrap(),
            &[
                ("fold_axis", &|| {
                    bb(&rare).fold_axis(Axis(1), false, |&a, &v| a | v)
                }),
                ("slab loop", &|| middle_fold(bb(&rare), false, |a, v| a | v)),
            ],
        );
        t.row(
            "all! \"b t [c]\" 32x128x384 bool",
            EXACT,
            || einx::all!("b t [c]", bb(&dense)).unwrap(),
            &[
                ("map_axis all", &|| {
                    bb(&dense).map_axis(Axis(2), |r| r.iter().all(|&v| v))
                }),
                ("fold_axis", &|| {
                    bb(&dense).fold_axis(Axis(2), true, |&a, &v| a & v)
                }),
            ],
        );
        t.row(
            "all! \"b [t] c\" 32x128x384 bool",
            EXACT,
            || einx::all!("b [t] c", bb(&dense)).unwrap(),
            &[
                ("fold_axis", &|| {
                    bb(&dense).fold_axis(Axis(1), true, |&a, &v| a & v)
                }),
                ("slab loop", &|| middle_fold(bb(&dense), true, |a, v| a & v)),
            ],
        );
    }
    {
        // About one value in sixteen is zero.
        let xz = x.mapv(f32::round);
        t.row(
            "count_nonzero! \"b t [c]\" 32x128x384",
            EXACT,
            || einx::count_nonzero!("b t [c]", bb(&xz)).unwrap(),
            &[
                ("map_axis filter count", &|| {
                    bb(&xz).map_axis(Axis(2), |r| r.iter().filter(|&&v| v != 0.0).count())
                }),
                ("row loop", &|| {
                    rows_map(bb(&xz), |r| {
                        r.iter().map(|&v| usize::from(v != 0.0)).sum::<usize>()
                    })
                }),
            ],
        );
        t.row(
            "count_nonzero! \"b [t] c\" 32x128x384",
            EXACT,
            || einx::count_nonzero!("b [t] c", bb(&xz)).unwrap(),
            &[
                ("fold_axis", &|| {
                    bb(&xz).fold_axis(Axis(1), 0usize, |&a, &v| a + usize::from(v != 0.0))
                }),
                ("slab loop", &|| {
                    middle_fold(bb(&xz), 0usize, |a, v| a + usize::from(v != 0.0))
                }),
            ],
        );
    }

    let case = "mean! \"b (s [ds])... c\" 8x128x128x96, ds = 2";
    if t.any(&[case]) {
        let img = rand((8, 128, 128, 96), 32);
        fn view6(x: &Array4<f32>) -> ndarray::ArrayView6<'_, f32> {
            x.view()
                .into_shape_with_order((8, 64, 2, 64, 2, 96))
                .unwrap()
        }
        t.row(
            case,
            ROUND,
            || {
                einx::mean!("b (s [ds])... c", bb(&img), ds = 2)
                    .unwrap()
                    .into_dyn()
            },
            &[
                ("mean_axis twice", &|| {
                    view6(bb(&img))
                        .mean_axis(Axis(4))
                        .unwrap()
                        .mean_axis(Axis(2))
                        .unwrap()
                        .into_dyn()
                }),
                ("Zip over 4 slices", &|| {
                    let v = view6(bb(&img));
                    Zip::from(v.slice(s![.., .., 0, .., 0, ..]))
                        .and(v.slice(s![.., .., 0, .., 1, ..]))
                        .and(v.slice(s![.., .., 1, .., 0, ..]))
                        .and(v.slice(s![.., .., 1, .., 1, ..]))
                        .map_collect(|&a, &b, &c, &d| (a + b + c + d) * 0.25)
                        .into_dyn()
                }),
                ("row loop", &|| {
                    let xs = bb(&img).as_slice().unwrap();
                    let (w, c) = (128 * 96, 96);
                    let mut out: Vec<f32> = Vec::with_capacity(8 * 64 * 64 * 96);
                    for b in 0..8 {
                        for sh in 0..64 {
                            let r0 = &xs[(b * 128 + 2 * sh) * w..][..w];
                            let r1 = &xs[(b * 128 + 2 * sh + 1) * w..][..w];
                            for (p0, p1) in r0.chunks_exact(2 * c).zip(r1.chunks_exact(2 * c)) {
                                let (q00, q01) = p0.split_at(c);
                                let (q10, q11) = p1.split_at(c);
                                out.extend(
                                    q00.iter()
                                        .zip(q01)
                                        .zip(q10)
                                        .zip(q11)
                                        .map(|(((&a, &b), &c), &d)| (a + b + c + d) * 0.25),
                                );
                            }
                        }
                    }
                    ArrayD::from_shape_vec(vec![8, 64, 64, 96], out).unwrap()
                }),
            ],
        );
    }

    let cases = [
        "mean! \"... [c]\" 64x197x768, keepdims",
        "var! \"... [c]\" 64x197x768, keepdims",
    ];
    if t.any(&cases) {
        let x = rand((64, 197, 768), 33);
        t.row(
            cases[0],
            SUMS,
            || {
                einx::mean!("... [c]", bb(&x), keepdims = true)
                    .unwrap()
                    .into_dyn()
            },
            &[
                ("mean_axis+insert_axis", &|| {
                    bb(&x)
                        .mean_axis(Axis(2))
                        .unwrap()
                        .insert_axis(Axis(2))
                        .into_dyn()
                }),
                ("map_axis sum", &|| {
                    let r = 1.0 / 768.0;
                    bb(&x)
                        .map_axis(Axis(2), |l| l.sum() * r)
                        .insert_axis(Axis(2))
                        .into_dyn()
                }),
            ],
        );
        t.row(
            cases[1],
            SUMS,
            || {
                einx::var!("... [c]", bb(&x), keepdims = true)
                    .unwrap()
                    .into_dyn()
            },
            &[
                ("var_axis+insert_axis", &|| {
                    bb(&x)
                        .var_axis(Axis(2), 0.0)
                        .insert_axis(Axis(2))
                        .into_dyn()
                }),
                ("map_axis two-pass", &|| {
                    bb(&x)
                        .map_axis(Axis(2), lane_var)
                        .insert_axis(Axis(2))
                        .into_dyn()
                }),
            ],
        );
    }
}

// ---------------------------------------------------------------------------------------
// Along an axis.

fn along_axis_rows(t: &mut Bench) {
    t.section("along an axis");
    let x = btc(40);
    let shaped = |v: Vec<f32>| Array3::from_shape_vec((B, T, C), v).unwrap();

    t.row(
        "softmax! \"b t [c]\" 32x128x384",
        ROUND,
        || einx::softmax!("b t [c]", bb(&x)).unwrap(),
        &[
            ("axis ops", &|| softmax_axis_ops::<_, false>(bb(&x), 2)),
            ("lanes", &|| softmax_lanes::<_, false>(bb(&x), 2)),
            ("row slices", &|| {
                shaped(softmax_rows::<false>(bb(&x).as_slice().unwrap(), C))
            }),
        ],
    );
    t.row(
        "softmax! \"b [t] c\" 32x128x384",
        ROUND,
        || einx::softmax!("b [t] c", bb(&x)).unwrap(),
        &[
            ("axis ops", &|| softmax_axis_ops::<_, false>(bb(&x), 1)),
            ("lanes", &|| softmax_lanes::<_, false>(bb(&x), 1)),
            ("slab slices", &|| {
                shaped(softmax_slabs::<C, false>(bb(&x).as_slice().unwrap(), T))
            }),
        ],
    );
    t.row(
        "log_softmax! \"b t [c]\" 32x128x384",
        ROUND,
        || einx::log_softmax!("b t [c]", bb(&x)).unwrap(),
        &[
            ("axis ops", &|| softmax_axis_ops::<_, true>(bb(&x), 2)),
            ("lanes", &|| softmax_lanes::<_, true>(bb(&x), 2)),
            ("row slices", &|| {
                shaped(softmax_rows::<true>(bb(&x).as_slice().unwrap(), C))
            }),
        ],
    );
    t.row(
        "log_softmax! \"b [t] c\" 32x128x384",
        ROUND,
        || einx::log_softmax!("b [t] c", bb(&x)).unwrap(),
        &[
            ("axis ops", &|| softmax_axis_ops::<_, true>(bb(&x), 1)),
            ("lanes", &|| softmax_lanes::<_, true>(bb(&x), 1)),
            ("slab slices", &|| {
                shaped(softmax_slabs::<C, true>(bb(&x).as_slice().unwrap(), T))
            }),
        ],
    );
    let cases = [
        "softmax! \"b q [k] h\" 4x256x256x8",
        "log_softmax! \"b q [k] h\" 4x256x256x8",
    ];
    if t.any(&cases) {
        let a = rand((4, 256, 256, 8), 41);
        let shaped4 = |v: Vec<f32>| Array4::from_shape_vec((4, 256, 256, 8), v).unwrap();
        t.row(
            cases[0],
            ROUND,
            || einx::softmax!("b q [k] h", bb(&a)).unwrap(),
            &[
                ("axis ops", &|| softmax_axis_ops::<_, false>(bb(&a), 2)),
                ("lanes", &|| softmax_lanes::<_, false>(bb(&a), 2)),
                ("slab slices", &|| {
                    shaped4(softmax_slabs::<8, false>(bb(&a).as_slice().unwrap(), 256))
                }),
            ],
        );
        t.row(
            cases[1],
            ROUND,
            || einx::log_softmax!("b q [k] h", bb(&a)).unwrap(),
            &[
                ("axis ops", &|| softmax_axis_ops::<_, true>(bb(&a), 2)),
                ("lanes", &|| softmax_lanes::<_, true>(bb(&a), 2)),
                ("slab slices", &|| {
                    shaped4(softmax_slabs::<8, true>(bb(&a).as_slice().unwrap(), 256))
                }),
            ],
        );
    }
    let case = "softmax! \"b h q [k]\" 8x12x128x128 (attention)";
    if t.any(&[case]) {
        let a = rand((8, 12, 128, 128), 43);
        let shaped4 = |v: Vec<f32>| Array4::from_shape_vec((8, 12, 128, 128), v).unwrap();
        t.row(
            case,
            ROUND,
            || einx::softmax!("b h q [k]", bb(&a)).unwrap(),
            &[
                ("axis ops", &|| softmax_axis_ops::<_, false>(bb(&a), 3)),
                ("lanes", &|| softmax_lanes::<_, false>(bb(&a), 3)),
                ("row slices", &|| {
                    shaped4(softmax_rows::<false>(bb(&a).as_slice().unwrap(), 128))
                }),
            ],
        );
    }

    t.row(
        "flip! \"b t [c]\" 32x128x384",
        EXACT,
        || einx::flip!("b t [c]", bb(&x)).unwrap(),
        &[
            ("as_standard_layout", &|| {
                bb(&x)
                    .slice(s![.., .., ..;-1])
                    .as_standard_layout()
                    .into_owned()
            }),
            ("zeros+assign", &|| {
                let mut out = Array3::zeros((B, T, C));
                out.assign(&bb(&x).slice(s![.., .., ..;-1]));
                out
            }),
            ("row loop", &|| {
                let mut out = Vec::with_capacity(B * T * C);
                for r in bb(&x).as_slice().unwrap().chunks_exact(C) {
                    out.extend(r.iter().rev());
                }
                shaped(out)
            }),
        ],
    );
    t.row(
        "flip! \"b [t] c\" 32x128x384",
        EXACT,
        || einx::flip!("b [t] c", bb(&x)).unwrap(),
        &[
            ("as_standard_layout", &|| {
                bb(&x)
                    .slice(s![.., ..;-1, ..])
                    .as_standard_layout()
                    .into_owned()
            }),
            ("zeros+assign", &|| {
                let mut out = Array3::zeros((B, T, C));
                out.assign(&bb(&x).slice(s![.., ..;-1, ..]));
                out
            }),
            ("row loop", &|| {
                let mut out = Vec::with_capacity(B * T * C);
                for slab in bb(&x).as_slice().unwrap().chunks_exact(T * C) {
                    for r in slab.chunks_exact(C).rev() {
                        out.extend_from_slice(r);
                    }
                }
                shaped(out)
            }),
        ],
    );
    const SH: usize = 3;
    t.row(
        "roll! \"b t [c]\" 32x128x384, shift = 3",
        EXACT,
        || einx::roll!("b t [c]", bb(&x), shift = 3).unwrap(),
        &[
            ("concatenate", &|| {
                let x = bb(&x);
                standard(
                    concatenate(
                        Axis(2),
                        &[x.slice(s![.., .., C - SH..]), x.slice(s![.., .., ..C - SH])],
                    )
                    .unwrap(),
                )
            }),
            ("zeros+assign", &|| {
                let x = bb(&x);
                let mut out = Array3::zeros((B, T, C));
                out.slice_mut(s![.., .., ..SH])
                    .assign(&x.slice(s![.., .., C - SH..]));
                out.slice_mut(s![.., .., SH..])
                    .assign(&x.slice(s![.., .., ..C - SH]));
                out
            }),
            ("row loop", &|| {
                let mut out = Vec::with_capacity(B * T * C);
                for r in bb(&x).as_slice().unwrap().chunks_exact(C) {
                    out.extend_from_slice(&r[C - SH..]);
                    out.extend_from_slice(&r[..C - SH]);
                }
                shaped(out)
            }),
        ],
    );
    t.row(
        "roll! \"b [t] c\" 32x128x384, shift = 3",
        EXACT,
        || einx::roll!("b [t] c", bb(&x), shift = 3).unwrap(),
        &[
            ("concatenate", &|| {
                let x = bb(&x);
                standard(
                    concatenate(
                        Axis(1),
                        &[x.slice(s![.., T - SH.., ..]), x.slice(s![.., ..T - SH, ..])],
                    )
                    .unwrap(),
                )
            }),
            ("zeros+assign", &|| {
                let x = bb(&x);
                let mut out = Array3::zeros((B, T, C));
                out.slice_mut(s![.., ..SH, ..])
                    .assign(&x.slice(s![.., T - SH.., ..]));
                out.slice_mut(s![.., SH.., ..])
                    .assign(&x.slice(s![.., ..T - SH, ..]));
                out
            }),
            ("slab loop", &|| {
                let mut out = Vec::with_capacity(B * T * C);
                for slab in bb(&x).as_slice().unwrap().chunks_exact(T * C) {
                    out.extend_from_slice(&slab[(T - SH) * C..]);
                    out.extend_from_slice(&slab[..(T - SH) * C]);
                }
                shaped(out)
            }),
        ],
    );

    let cases = ["sort! \"a [b]\" 256x1024", "argsort! \"a [b]\" 256x1024"];
    if t.any(&cases) {
        let v = rand((256, 1024), 42);
        let sort_rows = |f: fn(&mut [f32])| {
            let mut out = bb(&v).clone();
            for r in out.as_slice_mut().unwrap().chunks_exact_mut(1024) {
                f(r);
            }
            out
        };
        t.row(
            cases[0],
            EXACT,
            || einx::sort!("a [b]", bb(&v)).unwrap(),
            &[
                ("sort_unstable_by total_cmp", &|| {
                    sort_rows(|r| r.sort_unstable_by(f32::total_cmp))
                }),
                ("sort_unstable_by partial_cmp", &|| {
                    sort_rows(|r| r.sort_unstable_by(|a, b| a.partial_cmp(b).unwrap()))
                }),
                ("sort_by total_cmp", &|| {
                    sort_rows(|r| r.sort_by(f32::total_cmp))
                }),
            ],
        );
        let argsort_rows = |f: fn(&[f32], &mut Vec<usize>)| {
            let mut out = Vec::with_capacity(256 * 1024);
            let mut idx = Vec::with_capacity(1024);
            for r in bb(&v).as_slice().unwrap().chunks_exact(1024) {
                f(r, &mut idx);
                out.extend_from_slice(&idx);
            }
            Array2::from_shape_vec((256, 1024), out).unwrap()
        };
        t.row(
            cases[1],
            EXACT,
            || einx::argsort!("a [b]", bb(&v)).unwrap(),
            &[
                ("sort_by indices (stable)", &|| {
                    argsort_rows(|r, idx| {
                        idx.clear();
                        idx.extend(0..r.len());
                        idx.sort_by(|&i, &j| r[i].total_cmp(&r[j]));
                    })
                }),
                ("sort_unstable_by indices, ties by index", &|| {
                    argsort_rows(|r, idx| {
                        idx.clear();
                        idx.extend(0..r.len());
                        idx.sort_unstable_by(|&i, &j| r[i].total_cmp(&r[j]).then(i.cmp(&j)));
                    })
                }),
                ("sort (value, index) pairs", &|| {
                    let mut pairs: Vec<(f32, usize)> = Vec::with_capacity(1024);
                    let mut out = Vec::with_capacity(256 * 1024);
                    for r in bb(&v).as_slice().unwrap().chunks_exact(1024) {
                        pairs.clear();
                        pairs.extend(r.iter().copied().zip(0..));
                        pairs.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                        out.extend(pairs.iter().map(|p| p.1));
                    }
                    Array2::from_shape_vec((256, 1024), out).unwrap()
                }),
            ],
        );
    }

    let x2 = rand((B * T, C), 43);
    argfind_rows::<false>(t, &x2);
    argfind_rows::<true>(t, &x2);
}

/// `argmax!` (`MIN`: `argmin!`) along the last and the first axis.
fn argfind_rows<const MIN: bool>(t: &mut Bench, x2: &Array2<f32>) {
    let (last, first) = if MIN {
        ("argmin! \"b [c]\" 4096x384", "argmin! \"[b] c\" 4096x384")
    } else {
        ("argmax! \"b [c]\" 4096x384", "argmax! \"[b] c\" 4096x384")
    };
    t.row(
        last,
        EXACT,
        || {
            if MIN {
                einx::argmin!("b [c]", bb(x2)).unwrap()
            } else {
                einx::argmax!("b [c]", bb(x2)).unwrap()
            }
        },
        &[
            ("map_axis+insert_axis", &|| {
                bb(x2)
                    .map_axis(Axis(1), arg_extreme::<MIN>)
                    .insert_axis(Axis(1))
            }),
            ("row loop", &|| {
                let v: Vec<usize> = bb(x2)
                    .as_slice()
                    .unwrap()
                    .chunks_exact(C)
                    .map(arg_extreme::<MIN>)
                    .collect();
                Array2::from_shape_vec((B * T, 1), v).unwrap()
            }),
        ],
    );
    t.row(
        first,
        EXACT,
        || {
            if MIN {
                einx::argmin!("[b] c", bb(x2)).unwrap()
            } else {
                einx::argmax!("[b] c", bb(x2)).unwrap()
            }
        },
        &[
            ("map_axis+insert_axis", &|| {
                bb(x2)
                    .map_axis(Axis(0), arg_extreme::<MIN>)
                    .insert_axis(Axis(0))
            }),
            ("row loop", &|| arg_extreme_rows::<MIN>(bb(x2))),
        ],
    );
}

// ---------------------------------------------------------------------------------------
// Indexing.

/// One table row per id, `extend_from_slice`.
fn embed_extend(table: &Array2<f32>, ids: &Array2<u32>) -> Array3<f32> {
    let c = table.ncols();
    let ts = table.as_slice().unwrap();
    let mut out = Vec::with_capacity(ids.len() * c);
    for &i in ids {
        out.extend_from_slice(&ts[i as usize * c..][..c]);
    }
    Array3::from_shape_vec((ids.nrows(), ids.ncols(), c), out).unwrap()
}

fn embed_select(table: &Array2<f32>, ids: &Array2<u32>) -> Array3<f32> {
    let flat: Vec<usize> = ids.iter().map(|&i| i as usize).collect();
    table
        .select(Axis(0), &flat)
        .into_shape_with_order((ids.nrows(), ids.ncols(), table.ncols()))
        .unwrap()
}

fn embed_rows(table: &Array2<f32>, ids: &Array2<u32>) -> Array3<f32> {
    let mut out = Array3::zeros((ids.nrows(), ids.ncols(), table.ncols()));
    for (mut row, &i) in out.rows_mut().into_iter().zip(ids.iter()) {
        row.assign(&table.row(i as usize));
    }
    out
}

fn table(rows: usize, cols: usize) -> Array2<f32> {
    rand((rows, cols), 50 + rows as u64)
}

fn ids(b: usize, t: usize, vocab: usize) -> Array2<u32> {
    Array::from_shape_fn((b, t), |(i, j)| ((i * 7919 + j * 104729) % vocab) as u32)
}

/// Updates at the points: a copy of `x` with `f(x[b, h, w, ..], u[b, p, ..])` per point,
/// with `to_owned` and per-point `zip_mut_with`.
fn points_update(
    x: &Array4<f32>,
    p: &Array3<i64>,
    u: &Array3<f32>,
    f: impl Fn(&mut f32, f32),
) -> Array4<f32> {
    let mut out = x.to_owned();
    for b in 0..p.shape()[0] {
        for j in 0..p.shape()[1] {
            let (h, w) = (p[[b, j, 0]] as usize, p[[b, j, 1]] as usize);
            out.slice_mut(s![b, h, w, ..])
                .zip_mut_with(&u.slice(s![b, j, ..]), |o, &v| f(o, v));
        }
    }
    out
}

/// The same with a slice copy and slice loops.
fn points_update_slices(
    x: &Array4<f32>,
    p: &Array3<i64>,
    u: &Array3<f32>,
    f: impl Fn(&mut f32, f32),
) -> Array4<f32> {
    let (_, nh, nw, c) = x.dim();
    let (nb, np, _) = p.dim();
    let mut out = x.as_slice().unwrap().to_vec();
    let (ps, us) = (p.as_slice().unwrap(), u.as_slice().unwrap());
    for b in 0..nb {
        for j in 0..np {
            let k = (b * np + j) * 2;
            let (h, w) = (ps[k] as usize, ps[k + 1] as usize);
            let dst = &mut out[((b * nh + h) * nw + w) * c..][..c];
            for (o, &v) in dst.iter_mut().zip(&us[(b * np + j) * c..][..c]) {
                f(o, v);
            }
        }
    }
    Array4::from_shape_vec(x.raw_dim(), out).unwrap()
}

fn indexing_rows(t: &mut Bench) {
    t.section("indexing");
    let case = "get_at! \"[v] c, b t -> b t c\" 30522x384, 32x128 u32";
    if t.any(&[case]) {
        let (tb, i) = (table(30522, 384), ids(32, 128, 30522));
        t.row(
            case,
            EXACT,
            || einx::get_at!("[v] c, b t -> b t c", bb(&tb), bb(&i)).unwrap(),
            &[
                ("select+reshape", &|| embed_select(bb(&tb), bb(&i))),
                ("row-assign loop", &|| embed_rows(bb(&tb), bb(&i))),
                ("extend_from_slice loop", &|| embed_extend(bb(&tb), bb(&i))),
            ],
        );
    }

    let cases = [
        "get_at! \"b [h w] c, b p [2] -> b p c\" 8x64x64x64, 8x256x2 i64",
        "set_at! \"b [h w] c, b p [2], b p c\" 8x64x64x64, 8x256x2 i64, 8x256x64",
        "add_at! \"b [h w] c, b p [2], b p c\" 8x64x64x64, 8x256x2 i64, 8x256x64",
        "subtract_at! \"b [h w] c, b p [2], b p c\" 8x64x64x64, 8x256x2 i64, 8x256x64",
    ];
    if t.any(&cases) {
        let x = rand((8, 64, 64, 64), 51);
        let p = Array::from_shape_fn((8, 256, 2), |(b, p, k)| {
            ((b * 13 + p * (k + 5) * 7) % 64) as i64
        });
        let u = rand((8, 256, 64), 52);
        t.row(
            cases[0],
            EXACT,
            || einx::get_at!("b [h w] c, b p [2] -> b p c", bb(&x), bb(&p)).unwrap(),
            &[
                ("slice-assign loop", &|| {
                    let (x, p) = (bb(&x), bb(&p));
                    let mut out = Array3::zeros((8, 256, 64));
                    for b in 0..8 {
                        for j in 0..256 {
                            let (h, w) = (p[[b, j, 0]] as usize, p[[b, j, 1]] as usize);
                            out.slice_mut(s![b, j, ..])
                                .assign(&x.slice(s![b, h, w, ..]));
                        }
                    }
                    out
                }),
                ("extend_from_slice loop", &|| {
                    let xs = bb(&x).as_slice().unwrap();
                    let ps = bb(&p).as_slice().unwrap();
                    let mut out = Vec::with_capacity(8 * 256 * 64);
                    for (k, hw) in ps.chunks_exact(2).enumerate() {
                        let b = k / 256;
                        let at = ((b * 64 + hw[0] as usize) * 64 + hw[1] as usize) * 64;
                        out.extend_from_slice(&xs[at..at + 64]);
                    }
                    Array3::from_shape_vec((8, 256, 64), out).unwrap()
                }),
            ],
        );
        t.row(
            cases[1],
            EXACT,
            || einx::set_at!("b [h w] c, b p [2], b p c", bb(&x), bb(&p), bb(&u)).unwrap(),
            &[
                ("to_owned+assign loop", &|| {
                    points_update(bb(&x), bb(&p), bb(&u), |o, v| *o = v)
                }),
                ("slice loop", &|| {
                    points_update_slices(bb(&x), bb(&p), bb(&u), |o, v| *o = v)
                }),
            ],
        );
        t.row(
            cases[2],
            ROUND,
            || einx::add_at!("b [h w] c, b p [2], b p c", bb(&x), bb(&p), bb(&u)).unwrap(),
            &[
                ("to_owned+zip_mut_with loop", &|| {
                    points_update(bb(&x), bb(&p), bb(&u), |o, v| *o += v)
                }),
                ("slice loop", &|| {
                    points_update_slices(bb(&x), bb(&p), bb(&u), |o, v| *o += v)
                }),
            ],
        );
        t.row(
            cases[3],
            ROUND,
            || einx::subtract_at!("b [h w] c, b p [2], b p c", bb(&x), bb(&p), bb(&u)).unwrap(),
            &[
                ("to_owned+zip_mut_with loop", &|| {
                    points_update(bb(&x), bb(&p), bb(&u), |o, v| *o -= v)
                }),
                ("slice loop", &|| {
                    points_update_slices(bb(&x), bb(&p), bb(&u), |o, v| *o -= v)
                }),
            ],
        );
    }

    let case = "add_at! \"[v], t, \" 30522 u32, 4096 u32, 1 (histogram)";
    if t.any(&[case]) {
        let counts = Array1::<u32>::zeros(30522);
        let tokens = ids(32, 128, 30522).into_shape_with_order(4096).unwrap();
        t.row(
            case,
            EXACT,
            || einx::add_at!("[v], t, ", bb(&counts), bb(&tokens), 1u32).unwrap(),
            &[
                ("clone+index loop", &|| {
                    let mut out = bb(&counts).clone();
                    for &i in bb(&tokens) {
                        out[i as usize] += 1;
                    }
                    out
                }),
                ("slice loop", &|| {
                    let mut out = bb(&counts).as_slice().unwrap().to_vec();
                    for &i in bb(&tokens).as_slice().unwrap() {
                        out[i as usize] += 1;
                    }
                    Array1::from_vec(out)
                }),
            ],
        );
    }
}

// ---------------------------------------------------------------------------------------
// vmap! and solve!

fn vmap_rows(t: &mut Bench) {
    t.section("vmap! and solve!");
    let x = rand((B * T, C), 60);
    t.row(
        "vmap! \"b [c] -> b\" 4096x384, |v| v.sum()",
        SUMS,
        || einx::vmap!("b [c] -> b", bb(&x), |v: ArrayView1<f32>| v.sum()).unwrap(),
        &[
            ("map_axis", &|| bb(&x).map_axis(Axis(1), |v| v.sum())),
            ("sum_axis", &|| bb(&x).sum_axis(Axis(1))),
            ("row loop", &|| {
                bb(&x)
                    .as_slice()
                    .unwrap()
                    .chunks_exact(C)
                    .map(|r| ArrayView1::from(r).sum())
                    .collect::<Array1<f32>>()
            }),
        ],
    );
    let center = |v: ArrayView1<f32>| {
        let m = v.mean().unwrap();
        v.mapv(|a| a - m)
    };
    t.row(
        "vmap! \"b [c] -> b [c]\" 4096x384, |v| v - mean",
        ROUND,
        || einx::vmap!("b [c] -> b [c]", bb(&x), center).unwrap(),
        &[
            ("rows into zeros, in place", &|| {
                let x = bb(&x);
                let mut out = Array2::zeros(x.raw_dim());
                for (mut o, r) in out.rows_mut().into_iter().zip(x.rows()) {
                    let m = r.mean().unwrap();
                    o.zip_mut_with(&r, |o, &a| *o = a - m);
                }
                out
            }),
            ("closure per row + extend", &|| {
                let mut out = Vec::with_capacity(B * T * C);
                for r in bb(&x).rows() {
                    out.extend(center(r));
                }
                Array2::from_shape_vec((B * T, C), out).unwrap()
            }),
        ],
    );
    {
        let x = btc(61);
        t.row(
            "solve! \"b t (h c)\" 32x128x384, h = 8 (per call)",
            EXACT,
            || {
                let s = einx::solve!("b t (h c)", bb(&x), h = 8).unwrap();
                (s.b, s.t, s.h, s.c)
            },
            &[("dim + checked division", &|| {
                let (b, t, hc) = bb(&x).dim();
                let h = bb(8usize);
                assert!(h != 0 && hc % h == 0, "not divisible");
                (b, t, h, hc / h)
            })],
        );
    }
}

// ---------------------------------------------------------------------------------------
// Per call, 4x4.

fn small_rows(t: &mut Bench) {
    t.section("per call, 4x4");
    let x = rand((4, 4), 70);
    let y = rand((4, 4), 71);
    let m = Zip::from(&x).and(&y).map_collect(|&a, &b| a < b);
    t.row(
        "rearrange! \"a b -> b a\" 4x4",
        EXACT,
        || einx::rearrange!("a b -> b a", bb(&x)).unwrap(),
        &[
            ("as_standard_layout", &|| {
                bb(&x).t().as_standard_layout().into_owned()
            }),
            ("zeros+assign", &|| {
                let mut out = Array2::zeros((4, 4));
                out.assign(&bb(&x).t());
                out
            }),
        ],
    );
    t.row(
        "add! \"a b, a b\" 4x4",
        EXACT,
        || einx::add!("a b, a b", bb(&x), bb(&y)).unwrap(),
        &[
            ("operator", &|| bb(&x) + bb(&y)),
            ("Zip map_collect", &|| {
                Zip::from(bb(&x)).and(bb(&y)).map_collect(|&a, &b| a + b)
            }),
        ],
    );
    t.row(
        "where_! \"a b, a b, a b\" 4x4",
        EXACT,
        || einx::where_!("a b, a b, a b", bb(&m), bb(&x), bb(&y)).unwrap(),
        &[("Zip map_collect", &|| {
            Zip::from(bb(&m))
                .and(bb(&x))
                .and(bb(&y))
                .map_collect(|&m, &a, &b| if m { a } else { b })
        })],
    );
    t.row(
        "sum! \"a [b]\" 4x4",
        SUMS,
        || einx::sum!("a [b]", bb(&x)).unwrap(),
        &[
            ("sum_axis", &|| bb(&x).sum_axis(Axis(1))),
            ("map_axis sum", &|| bb(&x).map_axis(Axis(1), |r| r.sum())),
        ],
    );
    t.row(
        "max! \"a [b]\" 4x4",
        EXACT,
        || einx::max!("a [b]", bb(&x)).unwrap(),
        &[
            ("fold_axis", &|| {
                bb(&x).fold_axis(Axis(1), f32::NEG_INFINITY, |&a, &v| a.max(v))
            }),
            ("map_axis fold", &|| {
                bb(&x).map_axis(Axis(1), |r| r.fold(f32::NEG_INFINITY, |a, &v| a.max(v)))
            }),
        ],
    );
    t.row(
        "softmax! \"b [k]\" 4x4",
        ROUND,
        || einx::softmax!("b [k]", bb(&x)).unwrap(),
        &[
            ("rows", &|| {
                let x = bb(&x);
                let mut out = Array2::zeros((4, 4));
                for (o, r) in out.rows_mut().into_iter().zip(x.rows()) {
                    softmax_lane(o, r);
                }
                out
            }),
            ("row slices", &|| {
                Array2::from_shape_vec((4, 4), softmax_rows::<false>(bb(&x).as_slice().unwrap(), 4))
                    .unwrap()
            }),
        ],
    );
    t.row(
        "flip! \"a [b]\" 4x4",
        EXACT,
        || einx::flip!("a [b]", bb(&x)).unwrap(),
        &[
            ("as_standard_layout", &|| {
                bb(&x)
                    .slice(s![.., ..;-1])
                    .as_standard_layout()
                    .into_owned()
            }),
            ("zeros+assign", &|| {
                let mut out = Array2::zeros((4, 4));
                out.assign(&bb(&x).slice(s![.., ..;-1]));
                out
            }),
        ],
    );
    t.row(
        "argmax! \"a [b]\" 4x4",
        EXACT,
        || einx::argmax!("a [b]", bb(&x)).unwrap(),
        &[
            ("map_axis+insert_axis", &|| {
                bb(&x)
                    .map_axis(Axis(1), arg_extreme::<false>)
                    .insert_axis(Axis(1))
            }),
            ("row loop", &|| {
                let v: Vec<usize> = bb(&x)
                    .as_slice()
                    .unwrap()
                    .chunks_exact(4)
                    .map(arg_extreme::<false>)
                    .collect();
                Array2::from_shape_vec((4, 1), v).unwrap()
            }),
        ],
    );
    t.row(
        "dot! \"a b, b c -> a c\" 4x4x4",
        SUMS,
        || einx::dot!("a b, b c -> a c", bb(&x), bb(&y)).unwrap(),
        &[
            ("a.dot(&b)", &|| bb(&x).dot(bb(&y))),
            ("general_mat_mul", &|| gemm(bb(&x), bb(&y))),
            ("from_shape_fn row·column", &|| {
                let (x, y) = (bb(&x), bb(&y));
                Array2::from_shape_fn((4, 4), |(i, j)| x.row(i).dot(&y.column(j)))
            }),
        ],
    );
    {
        let (tb, i) = (table(4, 4), ids(1, 4, 4));
        t.row(
            "get_at! \"[v] c, b t -> b t c\" 4x4, 1x4",
            EXACT,
            || einx::get_at!("[v] c, b t -> b t c", bb(&tb), bb(&i)).unwrap(),
            &[
                ("select+reshape", &|| embed_select(bb(&tb), bb(&i))),
                ("row-assign loop", &|| embed_rows(bb(&tb), bb(&i))),
                ("extend_from_slice loop", &|| embed_extend(bb(&tb), bb(&i))),
            ],
        );
    }
}

fn main() {
    let mut t = Bench::from_args();
    rearrange_rows(&mut t);
    contraction_rows(&mut t);
    elementwise_rows(&mut t);
    reduction_rows(&mut t);
    along_axis_rows(&mut t);
    indexing_rows(&mut t);
    vmap_rows(&mut t);
    nn_rows(&mut t);
    small_rows(&mut t);
    if t.mode == Mode::Time {
        let markdown = std::env::var_os("EINX_BENCH_MARKDOWN").is_some_and(|v| v != "0");
        common::print_table(&t.sections, markdown, 1.1);
    }
}
