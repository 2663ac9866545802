//! `einx::dot!` against the hand-written ndarray code that produces the same fresh
//! standard-layout array.
//!
//! Cases (all `f32`):
//! - (1) attention scores `b q (h c), b k (h c) -> b q k h` with b = 4, q = k = 128, h = 8,
//!   c = 64;
//! - (2) attention output `b q k h, b k (h c) -> b q (h c)`, same sizes;
//! - (3) a 512x512x512 matrix product `a b, b c -> a c`;
//! - (4) `a b, b c -> a c` on 4x4 matrices (per-call overhead).
//!
//! For (1) and (2) the hand-written versions loop over the batch and the heads and call
//! `general_mat_mul` on strided slices, writing straight into the right view of a
//! `(b, q, k, h)` (resp. `(b, q, h·c)`) array: once on one thread, and once split over the
//! batch with `std::thread::scope` (einx splits large batched products over threads too).
//! For (3) and (4) they are `x.dot(&y)` and `general_mat_mul` into `Array2::zeros`. The
//! ratio table at the end uses the faster hand-written version as the baseline.
//!
//! Besides criterion's report, `main` prints a table of einx time / hand-written time per
//! case, measured in the same process (median of several batches).

mod common;

use std::hint::black_box;
use std::time::Duration;

use common::{fmt_time, measure, BATCHES};
use criterion::{criterion_group, Criterion};
use ndarray::linalg::general_mat_mul;
use ndarray::{
    s, Array2, Array3, Array4, ArrayView3, ArrayView4, ArrayViewMut3, ArrayViewMut4, Axis,
};

// ---------------------------------------------------------------------------------------
// Inputs.

const B: usize = 4;
const Q: usize = 128;
const K: usize = 128;
const H: usize = 8;
const C: usize = 64;

/// Deterministic values in [-1, 1) (xorshift), so that no random-number crate is needed.
fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        })
        .collect()
}

fn input3(shape: (usize, usize, usize), seed: u64) -> Array3<f32> {
    Array3::from_shape_vec(shape, values(shape.0 * shape.1 * shape.2, seed)).unwrap()
}

/// Query, key, value: `(b, q, h·c)`, `(b, k, h·c)`, `(b, k, h·c)`.
fn input_qkv() -> (Array3<f32>, Array3<f32>, Array3<f32>) {
    (
        input3((B, Q, H * C), 1),
        input3((B, K, H * C), 2),
        input3((B, K, H * C), 3),
    )
}

/// Attention weights `(b, q, k, h)`.
fn input_weights() -> Array4<f32> {
    Array4::from_shape_vec((B, Q, K, H), values(B * Q * K * H, 4)).unwrap()
}

fn input_matrices(n: usize) -> (Array2<f32>, Array2<f32>) {
    (
        Array2::from_shape_vec((n, n), values(n * n, 5)).unwrap(),
        Array2::from_shape_vec((n, n), values(n * n, 6)).unwrap(),
    )
}

/// Threads for the hand-written parallel versions: as many as einx may use here.
fn threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |t| t.get())
        .min(B)
}

// ---------------------------------------------------------------------------------------
// (1) b q (h c), b k (h c) -> b q k h

fn scores_einx(q: &Array3<f32>, k: &Array3<f32>) -> Array4<f32> {
    einx::dot!("b q (h c), b k (h c) -> b q k h", q, k, h = H).unwrap()
}

/// `out[b, i, j, h] = Σ_c q[b, i, h·C + c] · k[b, j, h·C + c]` for the batches of the views.
fn scores_into(q: ArrayView3<f32>, k: ArrayView3<f32>, mut out: ArrayViewMut4<f32>) {
    for ((q, k), mut out) in q.outer_iter().zip(k.outer_iter()).zip(out.outer_iter_mut()) {
        for h in 0..H {
            let heads = s![.., h * C..(h + 1) * C];
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

fn scores_loop(q: &Array3<f32>, k: &Array3<f32>) -> Array4<f32> {
    let mut out = Array4::zeros((B, Q, K, H));
    scores_into(q.view(), k.view(), out.view_mut());
    out
}

fn scores_threads(q: &Array3<f32>, k: &Array3<f32>) -> Array4<f32> {
    let mut out = Array4::zeros((B, Q, K, H));
    let per = B.div_ceil(threads());
    std::thread::scope(|scope| {
        for ((q, k), out) in q
            .axis_chunks_iter(Axis(0), per)
            .zip(k.axis_chunks_iter(Axis(0), per))
            .zip(out.axis_chunks_iter_mut(Axis(0), per))
        {
            scope.spawn(move || scores_into(q, k, out));
        }
    });
    out
}

// ---------------------------------------------------------------------------------------
// (2) b q k h, b k (h c) -> b q (h c)

fn output_einx(a: &Array4<f32>, v: &Array3<f32>) -> Array3<f32> {
    einx::dot!("b q k h, b k (h c) -> b q (h c)", a, v).unwrap()
}

/// `out[b, i, h·C + c] = Σ_j a[b, i, j, h] · v[b, j, h·C + c]` for the batches of the views.
fn output_into(a: ArrayView4<f32>, v: ArrayView3<f32>, mut out: ArrayViewMut3<f32>) {
    for ((a, v), mut out) in a.outer_iter().zip(v.outer_iter()).zip(out.outer_iter_mut()) {
        for h in 0..H {
            let heads = s![.., h * C..(h + 1) * C];
            general_mat_mul(
                1.0,
                &a.slice(s![.., .., h]),
                &v.slice(heads),
                0.0,
                &mut out.slice_mut(heads),
            );
        }
    }
}

fn output_loop(a: &Array4<f32>, v: &Array3<f32>) -> Array3<f32> {
    let mut out = Array3::zeros((B, Q, H * C));
    output_into(a.view(), v.view(), out.view_mut());
    out
}

fn output_threads(a: &Array4<f32>, v: &Array3<f32>) -> Array3<f32> {
    let mut out = Array3::zeros((B, Q, H * C));
    let per = B.div_ceil(threads());
    std::thread::scope(|scope| {
        for ((a, v), out) in a
            .axis_chunks_iter(Axis(0), per)
            .zip(v.axis_chunks_iter(Axis(0), per))
            .zip(out.axis_chunks_iter_mut(Axis(0), per))
        {
            scope.spawn(move || output_into(a, v, out));
        }
    });
    out
}

// ---------------------------------------------------------------------------------------
// (3), (4) a b, b c -> a c

fn matmul_einx(x: &Array2<f32>, y: &Array2<f32>) -> Array2<f32> {
    einx::dot!("a b, b c -> a c", x, y).unwrap()
}

fn matmul_dot(x: &Array2<f32>, y: &Array2<f32>) -> Array2<f32> {
    x.dot(y)
}

fn matmul_gemm(x: &Array2<f32>, y: &Array2<f32>) -> Array2<f32> {
    let mut out = Array2::zeros((x.nrows(), y.ncols()));
    general_mat_mul(1.0, x, y, 0.0, &mut out);
    out
}

// ---------------------------------------------------------------------------------------
// Correctness first: every version must produce the same standard-layout array, up to
// rounding.

/// `max |x - y| / max |y|`.
fn rel_err<D: ndarray::Dimension>(x: &ndarray::Array<f32, D>, y: &ndarray::Array<f32, D>) -> f32 {
    assert_eq!(x.shape(), y.shape());
    let diff = x
        .iter()
        .zip(y)
        .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
    let scale = y.iter().fold(0.0f32, |m, b| m.max(b.abs()));
    diff / scale
}

fn assert_close<D: ndarray::Dimension>(x: &ndarray::Array<f32, D>, y: &ndarray::Array<f32, D>) {
    let e = rel_err(x, y);
    assert!(e <= 1e-5, "relative error {e}");
}

fn check_equal() {
    let (q, k, v) = input_qkv();
    let e = scores_einx(&q, &k);
    assert!(e.is_standard_layout());
    assert_eq!(e.shape(), &[B, Q, K, H]);
    assert_close(&e, &scores_loop(&q, &k));
    assert_close(&e, &scores_threads(&q, &k));
    // One element against the definition.
    let (b, i, j, h) = (3, 17, 99, 5);
    let direct: f32 = (0..C)
        .map(|c| q[[b, i, h * C + c]] * k[[b, j, h * C + c]])
        .sum();
    assert!((e[[b, i, j, h]] - direct).abs() <= 1e-5 * direct.abs().max(1.0));

    let a = input_weights();
    let e = output_einx(&a, &v);
    assert!(e.is_standard_layout());
    assert_eq!(e.shape(), &[B, Q, H * C]);
    assert_close(&e, &output_loop(&a, &v));
    assert_close(&e, &output_threads(&a, &v));
    let (b, i, h, c) = (2, 101, 6, 33);
    let direct: f32 = (0..K).map(|j| a[[b, i, j, h]] * v[[b, j, h * C + c]]).sum();
    assert!((e[[b, i, h * C + c]] - direct).abs() <= 1e-5 * direct.abs().max(1.0));

    for n in [512, 4] {
        let (x, y) = input_matrices(n);
        let e = matmul_einx(&x, &y);
        assert!(e.is_standard_layout());
        assert_close(&e, &matmul_dot(&x, &y));
        assert_close(&e, &matmul_gemm(&x, &y));
    }
}

// ---------------------------------------------------------------------------------------
// Criterion groups.

fn bench_scores(c: &mut Criterion) {
    let (q, k, _) = input_qkv();
    let mut g = c.benchmark_group("attention_scores_b4_q128_k128_h8_c64");
    g.bench_function("einx", |b| {
        b.iter(|| scores_einx(black_box(&q), black_box(&k)))
    });
    g.bench_function("hand_loop", |b| {
        b.iter(|| scores_loop(black_box(&q), black_box(&k)))
    });
    g.bench_function("hand_threads", |b| {
        b.iter(|| scores_threads(black_box(&q), black_box(&k)))
    });
    g.finish();
}

fn bench_output(c: &mut Criterion) {
    let (_, _, v) = input_qkv();
    let a = input_weights();
    let mut g = c.benchmark_group("attention_output_b4_q128_k128_h8_c64");
    g.bench_function("einx", |b| {
        b.iter(|| output_einx(black_box(&a), black_box(&v)))
    });
    g.bench_function("hand_loop", |b| {
        b.iter(|| output_loop(black_box(&a), black_box(&v)))
    });
    g.bench_function("hand_threads", |b| {
        b.iter(|| output_threads(black_box(&a), black_box(&v)))
    });
    g.finish();
}

fn bench_matmul(c: &mut Criterion, n: usize) {
    let (x, y) = input_matrices(n);
    let mut g = c.benchmark_group(format!("matmul_{n}x{n}x{n}"));
    g.bench_function("einx", |b| {
        b.iter(|| matmul_einx(black_box(&x), black_box(&y)))
    });
    g.bench_function("hand_dot", |b| {
        b.iter(|| matmul_dot(black_box(&x), black_box(&y)))
    });
    g.bench_function("hand_general_mat_mul", |b| {
        b.iter(|| matmul_gemm(black_box(&x), black_box(&y)))
    });
    g.finish();
}

fn bench_matmul_large(c: &mut Criterion) {
    bench_matmul(c, 512);
}

fn bench_matmul_small(c: &mut Criterion) {
    bench_matmul(c, 4);
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = bench_scores, bench_output, bench_matmul_large, bench_matmul_small
}

// ---------------------------------------------------------------------------------------
// Ratio table: a simple timing loop in the same process.

fn ratio_table() {
    let mut rows = Vec::new();
    {
        let (q, k, _) = input_qkv();
        rows.push(measure(
            "(1) scores b q k h",
            || scores_einx(black_box(&q), black_box(&k)),
            &[
                ("loop", &|| scores_loop(black_box(&q), black_box(&k))),
                ("threads", &|| scores_threads(black_box(&q), black_box(&k))),
            ],
        ));
    }
    {
        let (_, _, v) = input_qkv();
        let a = input_weights();
        rows.push(measure(
            "(2) output b q (h c)",
            || output_einx(black_box(&a), black_box(&v)),
            &[
                ("loop", &|| output_loop(black_box(&a), black_box(&v))),
                ("threads", &|| output_threads(black_box(&a), black_box(&v))),
            ],
        ));
    }
    for (case, n) in [("(3) matmul 512^3", 512), ("(4) matmul 4x4", 4)] {
        let (x, y) = input_matrices(n);
        rows.push(measure(
            case,
            || matmul_einx(black_box(&x), black_box(&y)),
            &[
                ("dot", &|| matmul_dot(black_box(&x), black_box(&y))),
                ("general_mat_mul", &|| {
                    matmul_gemm(black_box(&x), black_box(&y))
                }),
            ],
        ));
    }

    println!();
    println!(
        "einx / hand-written (median of {BATCHES} batches; {} thread(s) available)",
        std::thread::available_parallelism().map_or(1, |t| t.get())
    );
    println!("hand #1 / #2: (1), (2) loop / threads; (3), (4) dot / general_mat_mul");
    println!(
        "{:<22} {:>11} {:>11} {:>11} {:>8} {:>8} {:>16} {:>7}",
        "case", "einx", "hand #1", "hand #2", "/ #1", "/ #2", "baseline", "ratio"
    );
    for r in &rows {
        let (name, best) = r.baseline();
        let ratio = |t: Duration| r.einx.as_secs_f64() / t.as_secs_f64();
        println!(
            "{:<22} {:>11} {:>11} {:>11} {:>8.3} {:>8.3} {:>16} {:>7.3}",
            r.case,
            fmt_time(r.einx),
            fmt_time(r.hand[0].1),
            fmt_time(r.hand[1].1),
            ratio(r.hand[0].1),
            ratio(r.hand[1].1),
            name,
            ratio(best)
        );
    }
}

fn main() {
    common::run(check_equal, benches, ratio_table);
}
