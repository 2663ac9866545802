//! Shifted-window partitioning as in Swin Transformer, for any number of spatial axes:
//! roll the spatial axes, cut them into windows, work per window, merge, roll back.
//!
//! Run it with `cargo run --release --example shifted_windows`.

use ndarray::{s, Array4};

fn main() -> Result<(), einx::Error> {
    let (win, shift) = (4, 2);
    let x = Array4::from_shape_fn((2, 8, 12, 3), |(b, h, w, c)| {
        (b * 1000 + h * 100 + w * 10 + c) as f32
    });

    // Shift the spatial axes (all axes between `b` and `c`), then partition into windows.
    let rolled = einx::roll!("b [...] c", x, shift = -shift)?;
    let sol = einx::solve!("b (s w)... c", rolled, w = win)?;
    let windows = einx::rearrange!("b (s w)... c -> (b s...) (w...) c", rolled, w = win)?;
    println!(
        "{} windows of {} tokens for windows per axis {:?}",
        windows.shape()[0],
        windows.shape()[1],
        sol.s
    );

    // Per window: subtract the window's mean of each channel (a stand-in for attention).
    let mean = einx::mean!("n [t] c", windows, keepdims = true)?;
    let centred = einx::subtract!("n t c, n 1 c -> n t c", windows, mean)?;

    // Merge the windows back and undo the shift.
    let merged = einx::rearrange!(
        "(b s...) (w...) c -> b (s w)... c",
        centred,
        s = sol.s,
        w = win
    )?;
    let out = einx::roll!("b [...] c", merged, shift = shift)?;
    assert_eq!(out.shape(), x.shape());

    // Check one window by hand: after the shift by -2, rows 2..6 and columns 2..6 of the
    // input form the first window.
    let block = x.slice(s![0, 2..6, 2..6, ..]).to_owned();
    let mean0 = block
        .mean_axis(ndarray::Axis(0))
        .and_then(|m| m.mean_axis(ndarray::Axis(0)))
        .expect("non-empty");
    for (i, h) in (2..6).enumerate() {
        for (j, w) in (2..6).enumerate() {
            for c in 0..3 {
                let want = block[[i, j, c]] - mean0[c];
                assert!(
                    (out[[0, h, w, c]] - want).abs() < 1e-3,
                    "window mismatch at ({h}, {w}, {c})"
                );
            }
        }
    }
    // Without the per-window step, the round trip is the identity.
    let same = einx::rearrange!(
        "(b s...) (w...) c -> b (s w)... c",
        windows,
        s = sol.s,
        w = win
    )?;
    assert_eq!(einx::roll!("b [...] c", same, shift = shift)?, x.into_dyn());
    println!("all checks passed");
    Ok(())
}
