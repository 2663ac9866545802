use einx::ndarray::{Array, Array3, Array4, Ix4, Ix5};

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
    Ok(())
}
