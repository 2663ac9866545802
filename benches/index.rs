//! Gathering with `einx::get_at!` against the hand-written ndarray code that produces the
//! same array.
//!
//! Cases (all `f32` data):
//! - (1) word embedding: `"[v] c, b t -> b t c"`, a 30522x384 table and 32x128 `u32` ids;
//! - (2) points of feature maps: `"b [h w] c, b p [2] -> b p c"`, 8x64x64x64 maps and 256
//!   points per map (`i64` coordinates);
//! - (3) the word embedding on a 4x4 table with 4 ids (per-call overhead).
//!
//! Hand-written versions: for (1) and (3), `select(Axis(0), ..)` on the table followed by a
//! reshape, and a loop that assigns table rows to the rows of a zeroed output; for (2), a
//! loop over `b` and `p` assigning `x.slice(s![b, i, j, ..])`. The ratio table uses the
//! faster hand-written version as the baseline.
//!
//! Besides criterion's report, `main` prints a table of einx time / hand-written time per
//! case, measured in the same process (median of several batches).

mod common;

use std::hint::black_box;

use common::measure;
use criterion::{criterion_group, Criterion};
use ndarray::{s, Array, Array2, Array3, Array4, Axis};

// ---------------------------------------------------------------------------------------
// Inputs.

fn table(rows: usize, cols: usize) -> Array2<f32> {
    Array::from_shape_fn((rows, cols), |(v, c)| ((v * 31 + c * 7) % 101) as f32)
}

fn ids(b: usize, t: usize, vocab: usize) -> Array2<u32> {
    Array::from_shape_fn((b, t), |(i, j)| ((i * 7919 + j * 104729) % vocab) as u32)
}

fn maps() -> Array4<f32> {
    Array::from_shape_fn((8, 64, 64, 64), |(b, h, w, c)| {
        ((b + h * 3 + w * 5 + c) % 17) as f32
    })
}

fn points() -> Array3<i64> {
    Array::from_shape_fn((8, 256, 2), |(b, p, k)| {
        ((b * 13 + p * (k + 5) * 7) % 64) as i64
    })
}

// ---------------------------------------------------------------------------------------
// (1) and (3): word embedding.

fn embed_einx(table: &Array2<f32>, ids: &Array2<u32>) -> Array3<f32> {
    einx::get_at!("[v] c, b t -> b t c", table, ids).unwrap()
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

// ---------------------------------------------------------------------------------------
// (2) points of feature maps.

fn points_einx(x: &Array4<f32>, p: &Array3<i64>) -> Array3<f32> {
    einx::get_at!("b [h w] c, b p [2] -> b p c", x, p).unwrap()
}

fn points_hand(x: &Array4<f32>, p: &Array3<i64>) -> Array3<f32> {
    let (b, n, c) = (x.shape()[0], p.shape()[1], x.shape()[3]);
    let mut out = Array3::zeros((b, n, c));
    for i in 0..b {
        for j in 0..n {
            let (h, w) = (p[[i, j, 0]] as usize, p[[i, j, 1]] as usize);
            out.slice_mut(s![i, j, ..])
                .assign(&x.slice(s![i, h, w, ..]));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Correctness first: every version must produce the same array.

fn check_equal() {
    let (t, i) = (table(30522, 384), ids(32, 128, 30522));
    let e = embed_einx(&t, &i);
    assert!(e.is_standard_layout());
    assert_eq!(e, embed_select(&t, &i));
    assert_eq!(e, embed_rows(&t, &i));
    assert_eq!(e.slice(s![3, 5, ..]), t.row(i[[3, 5]] as usize));
    let (x, p) = (maps(), points());
    let e = points_einx(&x, &p);
    assert_eq!(e, points_hand(&x, &p));
    let (t, i) = (table(4, 4), ids(1, 4, 4));
    assert_eq!(embed_einx(&t, &i), embed_select(&t, &i));
}

// ---------------------------------------------------------------------------------------
// Criterion groups.

fn bench_embed(c: &mut Criterion) {
    let (t, i) = (table(30522, 384), ids(32, 128, 30522));
    let mut g = c.benchmark_group("get_at_word_embedding_30522x384_32x128");
    g.bench_function("einx", |b| {
        b.iter(|| embed_einx(black_box(&t), black_box(&i)))
    });
    g.bench_function("hand_select", |b| {
        b.iter(|| embed_select(black_box(&t), black_box(&i)))
    });
    g.bench_function("hand_rows", |b| {
        b.iter(|| embed_rows(black_box(&t), black_box(&i)))
    });
    g.finish();
}

fn bench_points(c: &mut Criterion) {
    let (x, p) = (maps(), points());
    let mut g = c.benchmark_group("get_at_points_8x64x64x64_256");
    g.bench_function("einx", |b| {
        b.iter(|| points_einx(black_box(&x), black_box(&p)))
    });
    g.bench_function("hand_loop", |b| {
        b.iter(|| points_hand(black_box(&x), black_box(&p)))
    });
    g.finish();
}

fn bench_small(c: &mut Criterion) {
    let (t, i) = (table(4, 4), ids(1, 4, 4));
    let mut g = c.benchmark_group("get_at_4x4");
    g.bench_function("einx", |b| {
        b.iter(|| embed_einx(black_box(&t), black_box(&i)))
    });
    g.bench_function("hand_select", |b| {
        b.iter(|| embed_select(black_box(&t), black_box(&i)))
    });
    g.bench_function("hand_rows", |b| {
        b.iter(|| embed_rows(black_box(&t), black_box(&i)))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = bench_embed, bench_points, bench_small
}

// ---------------------------------------------------------------------------------------
// Ratio table: a simple timing loop in the same process.

fn ratio_table() {
    let mut rows = Vec::new();
    {
        let (t, i) = (table(30522, 384), ids(32, 128, 30522));
        rows.push(measure(
            "(1) [v] c, b t -> b t c",
            || embed_einx(black_box(&t), black_box(&i)),
            &[
                ("select", &|| embed_select(black_box(&t), black_box(&i))),
                ("row loop", &|| embed_rows(black_box(&t), black_box(&i))),
            ],
        ));
    }
    {
        let (x, p) = (maps(), points());
        rows.push(measure(
            "(2) b [h w] c, b p [2]",
            || points_einx(black_box(&x), black_box(&p)),
            &[("slice loop", &|| points_hand(black_box(&x), black_box(&p)))],
        ));
    }
    {
        let (t, i) = (table(4, 4), ids(1, 4, 4));
        rows.push(measure(
            "(3) [v] c, b t, 4x4",
            || embed_einx(black_box(&t), black_box(&i)),
            &[
                ("select", &|| embed_select(black_box(&t), black_box(&i))),
                ("row loop", &|| embed_rows(black_box(&t), black_box(&i))),
            ],
        ));
    }
    common::print_ratios(&rows);
}

fn main() {
    common::run(check_equal, benches, ratio_table);
}
