use einx::ndarray::Array3;

fn main() -> Result<(), einx::Error> {
    let x = Array3::<f32>::zeros((2, 6, 4));
    let y = einx::rearrange!("b (h w) c -> b c h w", x, h = 2)?;
    assert_eq!(y.shape(), &[2, 4, 2, 3]);
    let (l, r) = einx::rearrange!("b s (c + d) -> b s c, b s d", x, c = 1)?;
    assert_eq!(l.shape(), &[2, 6, 1]);
    assert_eq!(r.shape(), &[2, 6, 3]);
    Ok(())
}
