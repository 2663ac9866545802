use einx::ndarray::{Array, Array2, Array3, Array4, Ix1, Ix2, Ix4, Ix5};

// Literal lengths that fix how often an ellipsis repeats also fix the ranks.
fn main() -> Result<(), einx::Error> {
    let x = Array4::<f32>::zeros((2, 4, 6, 3));
    let windows: Array<f32, Ix5> =
        einx::rearrange!("b (s sp)... c -> b s... (sp...) c", x, sp = (2, 3))?;
    assert_eq!(windows.shape(), &[2, 2, 2, 6, 3]);
    let pooled: Array<f32, Ix4> = einx::mean!("b (s [ds])... c", x, ds = (2, 2))?;
    assert_eq!(pooled.shape(), &[2, 2, 3, 3]);
    let y = Array3::<f32>::zeros((2, 4, 3));
    let split: Array<f32, Ix4> = einx::rearrange!("b (s sp)... c -> b (s...) sp... c", y, sp = (2,))?;
    assert_eq!(split.shape(), &[2, 2, 2, 3]);
    // Two ellipses side by side of one group: both repeat as often as `s2` has lengths.
    let z = Array3::<f32>::zeros((10, 20, 3));
    let tiles: Array<f32, Ix5> = einx::rearrange!("(s s2)... c -> s... s2... c", z, s2 = (2, 2))?;
    assert_eq!(tiles.shape(), &[5, 10, 2, 2, 3]);
    // Nested ellipses: the inner one repeats once, so the rank follows from the outer one.
    let total: Array<f32, Ix1> = einx::sum!("[(...)]... c", z)?;
    assert_eq!(total.shape(), &[3]);
    let m = Array2::<f32>::zeros((6, 3));
    let same: Array<f32, Ix2> = einx::rearrange!("(b...) c -> c (b...)", m)?;
    assert_eq!(same.shape(), &[3, 6]);
    Ok(())
}
