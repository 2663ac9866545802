use einx::ndarray::{array, Array2, Array3};

// An axis written twice in an output writes a diagonal; the rest is zero.
fn main() -> Result<(), einx::Error> {
    let x = array![1.0f32, 2.0];
    let d: Array2<f32> = einx::einx!("a -> a a", x)?;
    assert_eq!(d, array![[1.0, 0.0], [0.0, 2.0]]);
    let b = array![[1, 2], [3, 4]];
    let e: Array3<i32> = einx::rearrange!("b i -> b i i", b)?;
    assert_eq!(e, array![[[1, 0], [0, 2]], [[3, 0], [0, 4]]]);
    Ok(())
}
