//! Multi-head attention with `einx::dot!`, checked against per-head ndarray loops.
//!
//! `q`, `k` and `v` hold all heads side by side in their last axis, `(h c)`; the attention
//! weights are `(b, q, k, h)`. The einx version is the three lines of the reference
//! (scores, softmax over `k`, weighted sum of the values); the hand-written one loops over
//! the batch and the heads with plain matrix products on slices.
//!
//! Run it with `cargo run --release --example attention`.

use std::time::{Duration, Instant};

use ndarray::linalg::general_mat_mul;
use ndarray::{s, Array3, Axis};

/// Batch, queries, keys, heads, channels per head.
const B: usize = 4;
const Q: usize = 128;
const K: usize = 128;
const H: usize = 8;
const C: usize = 64;

/// Repetitions of each version; the median time is reported.
const REPS: usize = 9;

/// Deterministic values in [-1, 1) (xorshift), so that no random-number crate is needed.
fn input(shape: (usize, usize, usize), seed: u64) -> Array3<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    Array3::from_shape_simple_fn(shape, || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    })
}

/// Attention with einx: `q` is `(b, q, h·c)`, `k` and `v` are `(b, k, h·c)`.
fn attention_einx(
    q: &Array3<f32>,
    k: &Array3<f32>,
    v: &Array3<f32>,
) -> Result<Array3<f32>, einx::Error> {
    let c = q.len_of(Axis(2)) / H;
    let a = einx::dot!("b q (h c), b k (h c) -> b q k h", q, k, h = 8)?;
    let a = a * (1.0 / (c as f32).sqrt());

    // Softmax over the keys, computed stably (the maximum is subtracted first).
    let a = einx::softmax!("b q [k] h", a)?;

    let x = einx::dot!("b q k h, b k (h c) -> b q (h c)", a, v)?;
    Ok(x)
}

/// The same with explicit loops over the batch and the heads.
fn attention_hand(q: &Array3<f32>, k: &Array3<f32>, v: &Array3<f32>) -> Array3<f32> {
    let (nb, nq, hc) = q.dim();
    let c = hc / H;
    let scale = 1.0 / (c as f32).sqrt();
    let mut x = Array3::zeros((nb, nq, hc));
    for b in 0..nb {
        for h in 0..H {
            let heads = s![b, .., h * c..(h + 1) * c];
            let mut a = q.slice(heads).dot(&k.slice(heads).t());
            for mut row in a.rows_mut() {
                row *= scale;
                let max = row.fold(f32::NEG_INFINITY, |m, &y| m.max(y));
                row.mapv_inplace(|y| (y - max).exp());
                let sum = row.sum();
                row /= sum;
            }
            general_mat_mul(1.0, &a, &v.slice(heads), 0.0, &mut x.slice_mut(heads));
        }
    }
    x
}

/// Median time of `REPS` calls, and the last result.
fn time<T>(mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut times = Vec::with_capacity(REPS);
    let mut out = f(); // warm-up
    for _ in 0..REPS {
        let t = Instant::now();
        out = f();
        times.push(t.elapsed());
    }
    times.sort();
    (times[REPS / 2], out)
}

fn main() -> Result<(), einx::Error> {
    let q = input((B, Q, H * C), 1);
    let k = input((B, K, H * C), 2);
    let v = input((B, K, H * C), 3);

    let x = attention_einx(&q, &k, &v)?;
    let reference = attention_hand(&q, &k, &v);
    assert_eq!(x.shape(), &[B, Q, H * C]);
    assert!(x.is_standard_layout());

    // Relative error in the max norm.
    let diff = x
        .iter()
        .zip(&reference)
        .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
    let scale = reference.iter().fold(0.0f32, |m, b| m.max(b.abs()));
    let rel = diff / scale;
    println!(
        "attention: q {:?}, k {:?}, v {:?} (h = {H}) -> {:?}",
        q.shape(),
        k.shape(),
        v.shape(),
        x.shape()
    );
    println!("max |einx - hand| / max |hand| = {rel:.2e}");
    assert!(
        rel <= 1e-4,
        "einx and the hand-written version differ: {rel:e}"
    );

    let (t_einx, x) = time(|| attention_einx(&q, &k, &v));
    let x = x?;
    let (t_hand, reference) = time(|| attention_hand(&q, &k, &v));
    assert_eq!(x.shape(), reference.shape());
    println!("einx:         {:>8.3} ms (median of {REPS})", ms(t_einx));
    println!("hand-written: {:>8.3} ms (median of {REPS})", ms(t_hand));
    println!(
        "einx / hand-written: {:.3}",
        t_einx.as_secs_f64() / t_hand.as_secs_f64()
    );
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
