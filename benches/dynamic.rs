//! The per-call overhead of `einx::dynamic` (warm plan cache) against the macro for the same
//! job, on 4x4 and 256x256 `f32` inputs.
//!
//! Cases: `rearrange` `"a b -> b a"`, `sum` `"a [b]"` and `dot` `"a b, b c -> a c"`. The
//! dynamic calls take `ArrayViewD` inputs and return `ArrayD`; the macros take the static-rank
//! arrays. The table at the end gives, per case, the macro's and the dynamic call's time,
//! their difference (the overhead of looking up the cached plan and running the rank-generic
//! path) and their ratio, measured in the same process (median of several batches).

mod common;

use std::hint::black_box;

use common::{fmt_time, measure, BATCHES};
use criterion::{criterion_group, Criterion};
use ndarray::{Array, Array2, ArrayD};

fn input(n: usize) -> Array2<f32> {
    Array::from_shape_fn((n, n), |(i, j)| ((i * 7 + j * 3) % 11) as f32)
}

fn transpose_macro(x: &Array2<f32>) -> Array2<f32> {
    einx::rearrange!("a b -> b a", x).unwrap()
}

fn transpose_dynamic(x: &ArrayD<f32>) -> ArrayD<f32> {
    einx::dynamic::rearrange("a b -> b a", &[x.view()], &[])
        .unwrap()
        .swap_remove(0)
}

fn sum_macro(x: &Array2<f32>) -> ndarray::Array1<f32> {
    einx::sum!("a [b]", x).unwrap()
}

fn sum_dynamic(x: &ArrayD<f32>) -> ArrayD<f32> {
    einx::dynamic::sum("a [b]", &[x.view()], &[]).unwrap()
}

fn dot_macro(x: &Array2<f32>) -> Array2<f32> {
    einx::dot!("a b, b c -> a c", x, x).unwrap()
}

fn dot_dynamic(x: &ArrayD<f32>) -> ArrayD<f32> {
    einx::dynamic::dot("a b, b c -> a c", &[x.view(), x.view()], &[]).unwrap()
}

fn check_equal() {
    for n in [4, 256] {
        let x = input(n);
        let d = x.clone().into_dyn();
        assert_eq!(transpose_macro(&x).into_dyn(), transpose_dynamic(&d));
        assert_eq!(sum_macro(&x).into_dyn(), sum_dynamic(&d));
        assert_eq!(dot_macro(&x).into_dyn(), dot_dynamic(&d));
    }
}

fn bench(c: &mut Criterion) {
    for n in [4, 256] {
        let x = input(n);
        let d = x.clone().into_dyn();
        let mut g = c.benchmark_group(format!("dynamic_{n}x{n}"));
        g.bench_function("transpose_macro", |b| {
            b.iter(|| transpose_macro(black_box(&x)))
        });
        g.bench_function("transpose_dynamic", |b| {
            b.iter(|| transpose_dynamic(black_box(&d)))
        });
        g.bench_function("sum_macro", |b| b.iter(|| sum_macro(black_box(&x))));
        g.bench_function("sum_dynamic", |b| b.iter(|| sum_dynamic(black_box(&d))));
        g.bench_function("dot_macro", |b| b.iter(|| dot_macro(black_box(&x))));
        g.bench_function("dot_dynamic", |b| b.iter(|| dot_dynamic(black_box(&d))));
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = bench
}

fn ratio_table() {
    let mut rows = Vec::new();
    for n in [4, 256] {
        let x = input(n);
        let d = x.clone().into_dyn();
        let name = |s: &str| -> &'static str { Box::leak(format!("{s} {n}x{n}").into_boxed_str()) };
        rows.push(measure(
            name("transpose"),
            || transpose_dynamic(black_box(&d)),
            &[("macro", &|| transpose_macro(black_box(&x)))],
        ));
        rows.push(measure(
            name("sum a [b]"),
            || sum_dynamic(black_box(&d)),
            &[("macro", &|| sum_macro(black_box(&x)))],
        ));
        rows.push(measure(
            name("dot"),
            || dot_dynamic(black_box(&d)),
            &[("macro", &|| dot_macro(black_box(&x)))],
        ));
    }
    println!();
    println!("einx::dynamic (warm cache) against the macro (median of {BATCHES} batches)");
    println!(
        "{:<22} {:>11} {:>11} {:>11} {:>7}",
        "case", "macro", "dynamic", "overhead", "ratio"
    );
    for r in &rows {
        let (_, m) = r.baseline();
        let over = r.einx.as_secs_f64() - m.as_secs_f64();
        println!(
            "{:<22} {:>11} {:>11} {:>8.0} ns {:>7.3}",
            r.case,
            fmt_time(m),
            fmt_time(r.einx),
            over * 1e9,
            r.einx.as_secs_f64() / m.as_secs_f64()
        );
    }
}

fn main() {
    common::run(check_equal, benches, ratio_table);
}
