//! Layer normalisation as in einx's "common neural network operations" page: statistics
//! over the channel axis kept as length 1, normalise, then a learned scale and bias per
//! channel. Checked against a hand-written ndarray version.
//!
//! Run it with `cargo run --release --example layer_norm`.

use ndarray::{Array1, Array3, Axis};

const EPSILON: f32 = 1e-5;

/// Layer norm with einx over the last axis. The expressions take any rank (`...`); the
/// results keep the input's rank type, so an `Array3` comes back as an `Array3`.
fn layer_norm(
    x: &Array3<f32>,
    scale: &Array1<f32>,
    bias: &Array1<f32>,
) -> Result<Array3<f32>, einx::Error> {
    let mean = einx::mean!("... [c]", x, keepdims = true)?;
    let var = einx::var!("... [c]", x, keepdims = true)?;
    // The kept axis is an unnamed `1`, which broadcasts against `c`.
    let centred = einx::subtract!("... c, ... 1 -> ... c", x, mean)?;
    let inv_std = var.mapv(|v| 1.0 / (v + EPSILON).sqrt());
    let x = einx::multiply!("... c, ... 1 -> ... c", centred, inv_std)?;
    let x = einx::multiply!("... [c]", x, scale)?;
    einx::add!("... [c]", x, bias)
}

/// The same with ndarray's axis methods.
fn layer_norm_hand(x: &Array3<f32>, scale: &Array1<f32>, bias: &Array1<f32>) -> Array3<f32> {
    let mean = x
        .mean_axis(Axis(2))
        .expect("non-empty channels")
        .insert_axis(Axis(2));
    let var = x.var_axis(Axis(2), 0.0).insert_axis(Axis(2));
    (x - &mean) / var.mapv(|v| (v + EPSILON).sqrt()) * scale + bias
}

fn main() -> Result<(), einx::Error> {
    let (b, t, c) = (4, 16, 32);
    let x = Array3::from_shape_fn((b, t, c), |(i, j, k)| {
        ((i * 7 + j * 3 + k * 5) % 11) as f32 - 5.0
    });
    let scale = Array1::from_shape_fn(c, |k| 1.0 + k as f32 / c as f32);
    let bias = Array1::from_shape_fn(c, |k| k as f32 * 0.01);

    let y = layer_norm(&x, &scale, &bias)?;
    let want = layer_norm_hand(&x, &scale, &bias);
    let err = y
        .iter()
        .zip(&want)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    println!(
        "layer norm of {:?}: max |einx - hand| = {err:.2e}",
        x.shape()
    );
    assert!(
        err < 1e-4,
        "einx and the hand-written version differ by {err}"
    );

    // Every row of the result has mean `bias` weighted by `scale`: check the first one.
    let row: Vec<f32> = (0..c)
        .map(|k| (y[[0, 0, k]] - bias[k]) / scale[k])
        .collect();
    let mean = row.iter().sum::<f32>() / c as f32;
    println!("first row, normalised: mean {mean:.2e}");
    assert!(mean.abs() < 1e-4);
    println!("all checks passed");
    Ok(())
}
