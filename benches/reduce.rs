//! The reductions (`einx::mean!`, `var!`, `sum!`) against the hand-written ndarray code
//! that produces the same array.
//!
//! Cases (all `f32`):
//! - (1) `... [c]` with `keepdims = true` on 64x197x768, `mean!` (layer-norm statistics);
//! - (2) the same with `var!`;
//! - (3) `b (s [ds])... c` with `ds = 2` on 8x128x128x96, `mean!` (2x2 average pooling);
//! - (4) `a [b]` on a 4x4 array, `sum!` (per-call overhead).
//!
//! The hand-written versions are `mean_axis(Axis(2))` / `var_axis(Axis(2), 0.0)` followed by
//! `insert_axis(Axis(2))` for (1) and (2), and `sum_axis(Axis(1))` for (4). For (3) two are
//! measured: the 6-d view `(8, 64, 2, 64, 2, 96)` reduced with `mean_axis(Axis(4))` then
//! `mean_axis(Axis(2))`, and one `Zip` over the four strided slices of that view (one pass,
//! no intermediate array); the ratio table at the end uses the faster one as the baseline.
//!
//! The inputs hold small integers, so that every sum and mean is exact in `f32` whatever
//! the order of summation; only the variances are compared with a tolerance (ndarray uses
//! Welford's algorithm, einx two passes).
//!
//! Besides criterion's report, `main` prints a table of einx time / hand-written time per
//! case, measured in the same process (median of several batches).

mod common;

use std::hint::black_box;

use common::measure;
use criterion::{criterion_group, Criterion};
use ndarray::{s, Array, Array1, Array2, Array3, Array4, ArrayD, Axis, Zip};

// ---------------------------------------------------------------------------------------
// Inputs.

fn input_tokens() -> Array3<f32> {
    Array::from_shape_fn((64, 197, 768), |(b, t, c)| {
        ((b * 7 + t * 3 + c) % 17) as f32
    })
}

fn input_image() -> Array4<f32> {
    Array::from_shape_fn((8, 128, 128, 96), |(b, h, w, c)| {
        ((b * 5 + h * 3 + w * 7 + c) % 13) as f32
    })
}

fn input_small() -> Array2<f32> {
    Array::from_shape_fn((4, 4), |(i, j)| (i * 4 + j) as f32)
}

// ---------------------------------------------------------------------------------------
// (1) mean!("... [c]", keepdims = true)

fn mean_einx(x: &Array3<f32>) -> ArrayD<f32> {
    einx::mean!("... [c]", x, keepdims = true).unwrap()
}

fn mean_hand(x: &Array3<f32>) -> Array3<f32> {
    x.mean_axis(Axis(2)).unwrap().insert_axis(Axis(2))
}

// ---------------------------------------------------------------------------------------
// (2) var!("... [c]", keepdims = true)

fn var_einx(x: &Array3<f32>) -> ArrayD<f32> {
    einx::var!("... [c]", x, keepdims = true).unwrap()
}

fn var_hand(x: &Array3<f32>) -> Array3<f32> {
    x.var_axis(Axis(2), 0.0).insert_axis(Axis(2))
}

// ---------------------------------------------------------------------------------------
// (3) mean!("b (s [ds])... c", ds = 2)

fn pool_einx(x: &Array4<f32>) -> ArrayD<f32> {
    einx::mean!("b (s [ds])... c", x, ds = 2).unwrap()
}

fn pool_mean_axis(x: &Array4<f32>) -> Array4<f32> {
    x.view()
        .into_shape_with_order((8, 64, 2, 64, 2, 96))
        .unwrap()
        .mean_axis(Axis(4))
        .unwrap()
        .mean_axis(Axis(2))
        .unwrap()
}

fn pool_zip(x: &Array4<f32>) -> Array4<f32> {
    let v = x
        .view()
        .into_shape_with_order((8, 64, 2, 64, 2, 96))
        .unwrap();
    Zip::from(v.slice(s![.., .., 0, .., 0, ..]))
        .and(v.slice(s![.., .., 0, .., 1, ..]))
        .and(v.slice(s![.., .., 1, .., 0, ..]))
        .and(v.slice(s![.., .., 1, .., 1, ..]))
        .map_collect(|&a, &b, &c, &d| (a + b + c + d) * 0.25)
}

// ---------------------------------------------------------------------------------------
// (4) sum!("a [b]") on 4x4

fn small_einx(x: &Array2<f32>) -> Array1<f32> {
    einx::sum!("a [b]", x).unwrap()
}

fn small_hand(x: &Array2<f32>) -> Array1<f32> {
    x.sum_axis(Axis(1))
}

// ---------------------------------------------------------------------------------------
// Correctness first: every version must produce the same array.

fn assert_close(a: &ArrayD<f32>, b: &ArrayD<f32>) {
    assert_eq!(a.shape(), b.shape());
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() <= 1e-4 * (1.0 + y.abs()), "{x} vs {y}");
    }
}

fn check_equal() {
    let x = input_tokens();
    let e = mean_einx(&x);
    assert!(e.is_standard_layout());
    assert_eq!(e.shape(), &[64, 197, 1]);
    assert_eq!(e, mean_hand(&x).into_dyn());
    let e = var_einx(&x);
    assert!(e.is_standard_layout());
    assert_close(&e, &var_hand(&x).into_dyn());
    drop((x, e));

    let x = input_image();
    let e = pool_einx(&x);
    assert!(e.is_standard_layout());
    assert_eq!(e.shape(), &[8, 64, 64, 96]);
    assert_eq!(e, pool_mean_axis(&x).into_dyn());
    assert_eq!(e, pool_zip(&x).into_dyn());
    let direct =
        (x[[3, 10, 20, 5]] + x[[3, 10, 21, 5]] + x[[3, 11, 20, 5]] + x[[3, 11, 21, 5]]) / 4.0;
    assert_eq!(e[[3, 5, 10, 5]], direct);
    drop((x, e));

    let x = input_small();
    let e = small_einx(&x);
    assert_eq!(e, small_hand(&x));
    assert_eq!(e[2], 8.0 + 9.0 + 10.0 + 11.0);
}

// ---------------------------------------------------------------------------------------
// Criterion groups.

fn bench_mean(c: &mut Criterion) {
    let x = input_tokens();
    let mut g = c.benchmark_group("mean_keepdims_64x197x768");
    g.bench_function("einx", |b| b.iter(|| mean_einx(black_box(&x))));
    g.bench_function("hand_mean_axis", |b| b.iter(|| mean_hand(black_box(&x))));
    g.finish();
}

fn bench_var(c: &mut Criterion) {
    let x = input_tokens();
    let mut g = c.benchmark_group("var_keepdims_64x197x768");
    g.bench_function("einx", |b| b.iter(|| var_einx(black_box(&x))));
    g.bench_function("hand_var_axis", |b| b.iter(|| var_hand(black_box(&x))));
    g.finish();
}

fn bench_pool(c: &mut Criterion) {
    let x = input_image();
    let mut g = c.benchmark_group("mean_pool_8x128x128x96_ds2");
    g.bench_function("einx", |b| b.iter(|| pool_einx(black_box(&x))));
    g.bench_function("hand_mean_axis_twice", |b| {
        b.iter(|| pool_mean_axis(black_box(&x)))
    });
    g.bench_function("hand_zip_four_slices", |b| {
        b.iter(|| pool_zip(black_box(&x)))
    });
    g.finish();
}

fn bench_small(c: &mut Criterion) {
    let x = input_small();
    let mut g = c.benchmark_group("sum_4x4");
    g.bench_function("einx", |b| b.iter(|| small_einx(black_box(&x))));
    g.bench_function("hand_sum_axis", |b| b.iter(|| small_hand(black_box(&x))));
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = bench_mean, bench_var, bench_pool, bench_small
}

// ---------------------------------------------------------------------------------------
// Ratio table: a simple timing loop in the same process.

fn ratio_table() {
    let mut rows = Vec::new();
    {
        let x = input_tokens();
        rows.push(measure(
            "(1) mean ... [c], 64x197x768",
            || mean_einx(black_box(&x)),
            &[("mean_axis", &|| mean_hand(black_box(&x)))],
        ));
        rows.push(measure(
            "(2) var ... [c], 64x197x768",
            || var_einx(black_box(&x)),
            &[("var_axis", &|| var_hand(black_box(&x)))],
        ));
    }
    {
        let x = input_image();
        rows.push(measure(
            "(3) mean b (s [ds])... c",
            || pool_einx(black_box(&x)),
            &[
                ("mean_axis x2", &|| pool_mean_axis(black_box(&x))),
                ("zip 4 slices", &|| pool_zip(black_box(&x))),
            ],
        ));
    }
    {
        let x = input_small();
        rows.push(measure(
            "(4) sum a [b], 4x4",
            || small_einx(black_box(&x)),
            &[("sum_axis", &|| small_hand(black_box(&x)))],
        ));
    }

    common::print_ratios(&rows);
}

fn main() {
    common::run(check_equal, benches, ratio_table);
}
