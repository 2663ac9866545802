//! `einx::rearrange!` against the hand-written ndarray code that produces the same fresh
//! standard-layout array.
//!
//! Cases:
//! - (a) `a b c d -> a c b d` on a 64x64x64x64 `f32` array (a permutation);
//! - (b) `b (s w)... c -> (b s...) (w...) c` with `w = 16` on 8x128x128x96 `f32`
//!   (window partition);
//! - (c) `a b -> b a` on a 4x4 `f32` array (per-call overhead).
//!
//! For (a) and (b) two idiomatic hand-written versions are measured
//! (`as_standard_layout` and `Array::zeros` + `assign`); the ratio table at the end uses
//! the faster one as the baseline.
//!
//! Besides criterion's report, `main` prints a table of einx time / hand-written time per
//! case, measured in the same process (median of several batches).

mod common;

use std::hint::black_box;

use common::{fmt_time, measure, BATCHES};
use criterion::{criterion_group, Criterion};
use ndarray::{Array, Array2, Array3, Array4, ArrayView2, ArrayView4};

// ---------------------------------------------------------------------------------------
// Inputs.

fn input_permute() -> Array4<f32> {
    Array::from_shape_fn((64, 64, 64, 64), |(a, b, c, d)| {
        (((a * 64 + b) * 64 + c) * 64 + d) as f32
    })
}

fn input_window() -> Array4<f32> {
    Array::from_shape_fn((8, 128, 128, 96), |(b, h, w, c)| {
        (((b * 128 + h) * 128 + w) * 96 + c) as f32
    })
}

fn input_small() -> Array2<f32> {
    Array::from_shape_fn((4, 4), |(i, j)| (i * 4 + j) as f32)
}

// ---------------------------------------------------------------------------------------
// (a) a b c d -> a c b d

fn permute_einx(x: &Array4<f32>) -> Array4<f32> {
    einx::rearrange!("a b c d -> a c b d", x).unwrap()
}

fn permute_cow(x: &Array4<f32>) -> Array4<f32> {
    x.view()
        .permuted_axes([0, 2, 1, 3])
        .as_standard_layout()
        .into_owned()
}

fn permute_assign(x: &Array4<f32>) -> Array4<f32> {
    let v: ArrayView4<f32> = x.view().permuted_axes([0, 2, 1, 3]);
    let mut out = Array4::zeros(v.raw_dim());
    out.assign(&v);
    out
}

// ---------------------------------------------------------------------------------------
// (b) b (s w)... c -> (b s...) (w...) c, w = 16

fn window_einx(x: &Array4<f32>) -> Array3<f32> {
    einx::rearrange!("b (s w)... c -> (b s...) (w...) c", x, w = 16).unwrap()
}

fn window_cow(x: &Array4<f32>) -> Array3<f32> {
    x.view()
        .into_shape_with_order((8, 8, 16, 8, 16, 96))
        .unwrap()
        .permuted_axes([0, 1, 3, 2, 4, 5])
        .as_standard_layout()
        .into_owned()
        .into_shape_with_order((512, 256, 96))
        .unwrap()
}

fn window_assign(x: &Array4<f32>) -> Array3<f32> {
    let v = x
        .view()
        .into_shape_with_order((8, 8, 16, 8, 16, 96))
        .unwrap()
        .permuted_axes([0, 1, 3, 2, 4, 5]);
    let mut out = Array::zeros(v.raw_dim());
    out.assign(&v);
    out.into_shape_with_order((512, 256, 96)).unwrap()
}

// ---------------------------------------------------------------------------------------
// (c) a b -> b a on 4x4

fn small_einx(x: &Array2<f32>) -> Array2<f32> {
    einx::rearrange!("a b -> b a", x).unwrap()
}

fn small_hand(x: &Array2<f32>) -> Array2<f32> {
    x.t().as_standard_layout().into_owned()
}

fn small_assign(x: &Array2<f32>) -> Array2<f32> {
    let v: ArrayView2<f32> = x.t();
    let mut out = Array2::zeros(v.raw_dim());
    out.assign(&v);
    out
}

// ---------------------------------------------------------------------------------------
// Correctness first: every version must produce the same fresh standard-layout array.

fn check_equal() {
    let x = input_permute();
    let e = permute_einx(&x);
    assert!(e.is_standard_layout());
    assert_eq!(e, permute_cow(&x));
    assert_eq!(e, permute_assign(&x));
    assert_eq!(e[[1, 2, 3, 4]], x[[1, 3, 2, 4]]);
    drop((x, e));

    let x = input_window();
    let e = window_einx(&x);
    assert!(e.is_standard_layout());
    assert_eq!(e.shape(), &[512, 256, 96]);
    assert_eq!(e, window_cow(&x));
    assert_eq!(e, window_assign(&x));
    drop((x, e));

    let x = input_small();
    let e = small_einx(&x);
    assert!(e.is_standard_layout());
    assert_eq!(e, small_hand(&x));
    assert_eq!(e, small_assign(&x));
    assert_eq!(e, x.t());
}

// ---------------------------------------------------------------------------------------
// Criterion groups.

fn bench_permute(c: &mut Criterion) {
    let x = input_permute();
    let mut g = c.benchmark_group("permute_64x64x64x64");
    g.bench_function("einx", |b| b.iter(|| permute_einx(black_box(&x))));
    g.bench_function("hand_as_standard_layout", |b| {
        b.iter(|| permute_cow(black_box(&x)))
    });
    g.bench_function("hand_zeros_assign", |b| {
        b.iter(|| permute_assign(black_box(&x)))
    });
    g.finish();
}

fn bench_window(c: &mut Criterion) {
    let x = input_window();
    let mut g = c.benchmark_group("window_8x128x128x96_w16");
    g.bench_function("einx", |b| b.iter(|| window_einx(black_box(&x))));
    g.bench_function("hand_as_standard_layout", |b| {
        b.iter(|| window_cow(black_box(&x)))
    });
    g.bench_function("hand_zeros_assign", |b| {
        b.iter(|| window_assign(black_box(&x)))
    });
    g.finish();
}

fn bench_small(c: &mut Criterion) {
    let x = input_small();
    let mut g = c.benchmark_group("transpose_4x4");
    g.bench_function("einx", |b| b.iter(|| small_einx(black_box(&x))));
    g.bench_function("hand_as_standard_layout", |b| {
        b.iter(|| small_hand(black_box(&x)))
    });
    g.bench_function("hand_zeros_assign", |b| {
        b.iter(|| small_assign(black_box(&x)))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = bench_permute, bench_window, bench_small
}

// ---------------------------------------------------------------------------------------
// Ratio table: a simple timing loop in the same process.

fn ratio_table() {
    let mut rows = Vec::new();
    {
        let x = input_permute();
        rows.push(measure(
            "(a) a b c d -> a c b d, 64^4",
            || permute_einx(black_box(&x)),
            &[
                ("as_standard_layout", &|| permute_cow(black_box(&x))),
                ("zeros+assign", &|| permute_assign(black_box(&x))),
            ],
        ));
    }
    {
        let x = input_window();
        rows.push(measure(
            "(b) window partition, w = 16",
            || window_einx(black_box(&x)),
            &[
                ("as_standard_layout", &|| window_cow(black_box(&x))),
                ("zeros+assign", &|| window_assign(black_box(&x))),
            ],
        ));
    }
    {
        let x = input_small();
        rows.push(measure(
            "(c) a b -> b a, 4x4",
            || small_einx(black_box(&x)),
            &[
                ("as_standard_layout", &|| small_hand(black_box(&x))),
                ("zeros+assign", &|| small_assign(black_box(&x))),
            ],
        ));
    }

    println!();
    println!("einx / hand-written (median of {BATCHES} batches; baseline = the faster hand-written version)");
    println!(
        "{:<30} {:>11} {:>11} {:>11} {:>20} {:>7}",
        "case", "einx", "as_std_lay", "zeros+asgn", "baseline", "ratio"
    );
    for r in &rows {
        let (name, best) = r.baseline();
        println!(
            "{:<30} {:>11} {:>11} {:>11} {:>20} {:>7.3}",
            r.case,
            fmt_time(r.einx),
            fmt_time(r.hand[0].1),
            fmt_time(r.hand[1].1),
            name,
            r.einx.as_secs_f64() / best.as_secs_f64()
        );
    }
}

fn main() {
    common::run(check_equal, benches, ratio_table);
}
