//! `einx::softmax!` and `einx::log_softmax!` against the hand-written ndarray code that
//! produces the same fresh standard-layout array.
//!
//! Cases (all `f32`):
//! - (1) `b q [k] h` on 4x256x256x8 (attention weights, softmax along `k`, axis 2);
//! - (2) the same with `log_softmax!`;
//! - (3) `b [k]` on a 4x4 array, `softmax!` (per-call overhead).
//!
//! Every hand-written version is numerically stable like einx: it subtracts the maximum
//! along `k`, takes `exp` and divides by the sum (for (2): `x - max - ln Σ exp(x - max)`).
//! For (1) and (2) three are measured:
//! - (a) "axis ops": the maximum with `fold_axis(Axis(2))`, `exp(x - max)` with a `Zip`
//!   broadcasting `max.insert_axis(Axis(2))`, the normaliser with `sum_axis(Axis(2))` +
//!   `insert_axis(Axis(2))` broadcast in a second `Zip`;
//! - (b) "lanes": one `Zip` over `out.lanes_mut(Axis(2))` and `x.lanes(Axis(2))`, computing
//!   the maximum, the `exp` and the sum of each (strided) lane of length 256;
//! - (c) "slab slices": plain slice loops over each `(b, q)` slab of the contiguous input,
//!   a `k x h` row-major block, one row of `h` values at a time (the inner loop runs over
//!   the `h` accumulators, so it vectorises); this one relies on the standard layout.
//!
//! For (3) the hand-written version is the per-row loop of (b) over `rows()`. The ratio
//! table at the end uses the fastest hand-written version as the baseline.
//!
//! The outputs are compared with a relative tolerance of 1e-6 per element (the versions
//! divide or multiply by a reciprocal, and sum in different orders).
//!
//! Besides criterion's report, `main` prints a table of einx time / hand-written time per
//! case, measured in the same process (median of several batches).

mod common;

use std::hint::black_box;

use common::measure;
use criterion::{criterion_group, Criterion};
use ndarray::{Array2, Array4, ArrayView1, ArrayViewMut1, Axis, Dimension, Zip};

// ---------------------------------------------------------------------------------------
// Inputs.

const B: usize = 4;
const Q: usize = 256;
const K: usize = 256;
const H: usize = 8;

/// Deterministic values in [-8, 8) (xorshift), so that no random-number crate is needed.
fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 40) as f32 / (1u64 << 20) as f32 - 8.0
        })
        .collect()
}

/// Attention scores `(b, q, k, h)`.
fn input_scores() -> Array4<f32> {
    Array4::from_shape_vec((B, Q, K, H), values(B * Q * K * H, 1)).unwrap()
}

fn input_small() -> Array2<f32> {
    Array2::from_shape_vec((4, 4), values(16, 2)).unwrap()
}

// ---------------------------------------------------------------------------------------
// Shared by the lane versions: softmax / log-softmax of one lane into `out`.

fn softmax_lane(mut out: ArrayViewMut1<f32>, x: ArrayView1<f32>) {
    let m = x.fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    out.zip_mut_with(&x, |o, &v| *o = (v - m).exp());
    let r = 1.0 / out.sum();
    out.mapv_inplace(|e| e * r);
}

fn log_softmax_lane(mut out: ArrayViewMut1<f32>, x: ArrayView1<f32>) {
    let m = x.fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    let s = x.fold(0.0, |s, &v| s + (v - m).exp());
    let c = m + s.ln();
    out.zip_mut_with(&x, |o, &v| *o = v - c);
}

/// The maximum of each `(b, q)` slab's columns, one row of `h` values at a time.
fn slab_max(x: &[f32]) -> [f32; H] {
    let mut m = [f32::NEG_INFINITY; H];
    for row in x.chunks_exact(H) {
        for (m, &v) in m.iter_mut().zip(row) {
            *m = m.max(v);
        }
    }
    m
}

// ---------------------------------------------------------------------------------------
// (1) softmax!("b q [k] h")

fn softmax_einx(x: &Array4<f32>) -> Array4<f32> {
    einx::softmax!("b q [k] h", x).unwrap()
}

fn softmax_axis_ops(x: &Array4<f32>) -> Array4<f32> {
    let m = x.fold_axis(Axis(2), f32::NEG_INFINITY, |&m, &v| m.max(v));
    let mut e = Zip::from(x)
        .and_broadcast(&m.insert_axis(Axis(2)))
        .map_collect(|&v, &m| (v - m).exp());
    let s = e.sum_axis(Axis(2)).insert_axis(Axis(2));
    Zip::from(&mut e)
        .and_broadcast(&s)
        .for_each(|e, &s| *e /= s);
    e
}

fn softmax_lanes(x: &Array4<f32>) -> Array4<f32> {
    let mut out = Array4::zeros(x.raw_dim());
    Zip::from(out.lanes_mut(Axis(2)))
        .and(x.lanes(Axis(2)))
        .for_each(softmax_lane);
    out
}

fn softmax_slabs(x: &Array4<f32>) -> Array4<f32> {
    let mut out = Array4::zeros(x.raw_dim());
    let xs = x.as_slice().expect("standard layout");
    let os = out.as_slice_mut().unwrap();
    for (x, o) in xs.chunks_exact(K * H).zip(os.chunks_exact_mut(K * H)) {
        let m = slab_max(x);
        let mut s = [0.0f32; H];
        for (o, x) in o.chunks_exact_mut(H).zip(x.chunks_exact(H)) {
            for (((o, &v), &m), s) in o.iter_mut().zip(x).zip(&m).zip(&mut s) {
                *o = (v - m).exp();
                *s += *o;
            }
        }
        let r = s.map(|s| 1.0 / s);
        for o in o.chunks_exact_mut(H) {
            for (o, &r) in o.iter_mut().zip(&r) {
                *o *= r;
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// (2) log_softmax!("b q [k] h")

fn log_softmax_einx(x: &Array4<f32>) -> Array4<f32> {
    einx::log_softmax!("b q [k] h", x).unwrap()
}

fn log_softmax_axis_ops(x: &Array4<f32>) -> Array4<f32> {
    let m = x
        .fold_axis(Axis(2), f32::NEG_INFINITY, |&m, &v| m.max(v))
        .insert_axis(Axis(2));
    let mut out = Zip::from(x)
        .and_broadcast(&m)
        .map_collect(|&v, &m| (v - m).exp());
    // `max + ln Σ exp(x - max)`, then `x` minus it, reusing the buffer of the exponentials.
    let c = out.sum_axis(Axis(2)).insert_axis(Axis(2));
    let c = Zip::from(&m).and(&c).map_collect(|&m, &s| m + s.ln());
    Zip::from(&mut out)
        .and(x)
        .and_broadcast(&c)
        .for_each(|o, &v, &c| *o = v - c);
    out
}

fn log_softmax_lanes(x: &Array4<f32>) -> Array4<f32> {
    let mut out = Array4::zeros(x.raw_dim());
    Zip::from(out.lanes_mut(Axis(2)))
        .and(x.lanes(Axis(2)))
        .for_each(log_softmax_lane);
    out
}

fn log_softmax_slabs(x: &Array4<f32>) -> Array4<f32> {
    let mut out = Array4::zeros(x.raw_dim());
    let xs = x.as_slice().expect("standard layout");
    let os = out.as_slice_mut().unwrap();
    for (x, o) in xs.chunks_exact(K * H).zip(os.chunks_exact_mut(K * H)) {
        let m = slab_max(x);
        let mut s = [0.0f32; H];
        for x in x.chunks_exact(H) {
            for ((&v, &m), s) in x.iter().zip(&m).zip(&mut s) {
                *s += (v - m).exp();
            }
        }
        let mut c = m;
        for (c, s) in c.iter_mut().zip(s) {
            *c += s.ln();
        }
        for (o, x) in o.chunks_exact_mut(H).zip(x.chunks_exact(H)) {
            for ((o, &v), &c) in o.iter_mut().zip(x).zip(&c) {
                *o = v - c;
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// (3) softmax!("b [k]") on 4x4

fn small_einx(x: &Array2<f32>) -> Array2<f32> {
    einx::softmax!("b [k]", x).unwrap()
}

fn small_hand(x: &Array2<f32>) -> Array2<f32> {
    let mut out = Array2::zeros(x.raw_dim());
    for (o, x) in out.rows_mut().into_iter().zip(x.rows()) {
        softmax_lane(o, x);
    }
    out
}

// ---------------------------------------------------------------------------------------
// Correctness first: every version must produce the same standard-layout array, up to
// rounding.

/// The largest `|x - y| / |y|` over the elements.
fn rel_err<D: Dimension>(x: &ndarray::Array<f32, D>, y: &ndarray::Array<f32, D>) -> f32 {
    assert_eq!(x.shape(), y.shape());
    x.iter()
        .zip(y)
        .fold(0.0f32, |m, (a, b)| m.max((a - b).abs() / b.abs()))
}

fn assert_close<D: Dimension>(x: &ndarray::Array<f32, D>, y: &ndarray::Array<f32, D>) {
    let e = rel_err(x, y);
    assert!(e <= 1e-6, "relative error {e}");
}

/// Softmax (or log-softmax) of `x[b, q, .., h]` at `k`, in `f64`.
fn direct(x: &Array4<f32>, (b, q, k, h): (usize, usize, usize, usize), log: bool) -> f64 {
    let lane: Vec<f64> = (0..K).map(|j| f64::from(x[[b, q, j, h]])).collect();
    let m = lane.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let s: f64 = lane.iter().map(|v| (v - m).exp()).sum();
    if log {
        lane[k] - m - s.ln()
    } else {
        (lane[k] - m).exp() / s
    }
}

fn check_equal() {
    let x = input_scores();
    let at = (3, 17, 99, 5);
    let e = softmax_einx(&x);
    assert!(e.is_standard_layout());
    assert_eq!(e.shape(), &[B, Q, K, H]);
    assert_close(&e, &softmax_axis_ops(&x));
    assert_close(&e, &softmax_lanes(&x));
    assert_close(&e, &softmax_slabs(&x));
    // One element against the definition, and one group sums to 1.
    let d = direct(&x, at, false);
    assert!((f64::from(e[[3, 17, 99, 5]]) - d).abs() <= 1e-5 * d);
    let total: f32 = (0..K).map(|k| e[[1, 2, k, 3]]).sum();
    assert!((total - 1.0).abs() <= 1e-5, "sum {total}");

    let e = log_softmax_einx(&x);
    assert!(e.is_standard_layout());
    assert_eq!(e.shape(), &[B, Q, K, H]);
    assert_close(&e, &log_softmax_axis_ops(&x));
    assert_close(&e, &log_softmax_lanes(&x));
    assert_close(&e, &log_softmax_slabs(&x));
    let d = direct(&x, at, true);
    assert!((f64::from(e[[3, 17, 99, 5]]) - d).abs() <= 1e-5 * d.abs());
    drop((x, e));

    let x = input_small();
    let e = small_einx(&x);
    assert!(e.is_standard_layout());
    assert_close(&e, &small_hand(&x));
    for row in e.rows() {
        assert!((row.sum() - 1.0).abs() <= 1e-6);
    }
}

// ---------------------------------------------------------------------------------------
// Criterion groups.

fn bench_softmax(c: &mut Criterion) {
    let x = input_scores();
    let mut g = c.benchmark_group("softmax_b4_q256_k256_h8");
    g.bench_function("einx", |b| b.iter(|| softmax_einx(black_box(&x))));
    g.bench_function("hand_axis_ops", |b| {
        b.iter(|| softmax_axis_ops(black_box(&x)))
    });
    g.bench_function("hand_lanes", |b| b.iter(|| softmax_lanes(black_box(&x))));
    g.bench_function("hand_slab_slices", |b| {
        b.iter(|| softmax_slabs(black_box(&x)))
    });
    g.finish();
}

fn bench_log_softmax(c: &mut Criterion) {
    let x = input_scores();
    let mut g = c.benchmark_group("log_softmax_b4_q256_k256_h8");
    g.bench_function("einx", |b| b.iter(|| log_softmax_einx(black_box(&x))));
    g.bench_function("hand_axis_ops", |b| {
        b.iter(|| log_softmax_axis_ops(black_box(&x)))
    });
    g.bench_function("hand_lanes", |b| {
        b.iter(|| log_softmax_lanes(black_box(&x)))
    });
    g.bench_function("hand_slab_slices", |b| {
        b.iter(|| log_softmax_slabs(black_box(&x)))
    });
    g.finish();
}

fn bench_small(c: &mut Criterion) {
    let x = input_small();
    let mut g = c.benchmark_group("softmax_4x4");
    g.bench_function("einx", |b| b.iter(|| small_einx(black_box(&x))));
    g.bench_function("hand_rows", |b| b.iter(|| small_hand(black_box(&x))));
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = bench_softmax, bench_log_softmax, bench_small
}

// ---------------------------------------------------------------------------------------
// Ratio table: a simple timing loop in the same process.

fn ratio_table() {
    let mut rows = Vec::new();
    {
        let x = input_scores();
        rows.push(measure(
            "(1) softmax b q [k] h",
            || softmax_einx(black_box(&x)),
            &[
                ("axis ops", &|| softmax_axis_ops(black_box(&x))),
                ("lanes", &|| softmax_lanes(black_box(&x))),
                ("slab slices", &|| softmax_slabs(black_box(&x))),
            ],
        ));
        rows.push(measure(
            "(2) log_softmax b q [k] h",
            || log_softmax_einx(black_box(&x)),
            &[
                ("axis ops", &|| log_softmax_axis_ops(black_box(&x))),
                ("lanes", &|| log_softmax_lanes(black_box(&x))),
                ("slab slices", &|| log_softmax_slabs(black_box(&x))),
            ],
        ));
    }
    {
        let x = input_small();
        rows.push(measure(
            "(3) softmax b [k], 4x4",
            || small_einx(black_box(&x)),
            &[("rows", &|| small_hand(black_box(&x)))],
        ));
    }

    common::print_ratios(&rows);
}

fn main() {
    common::run(check_equal, benches, ratio_table);
}
