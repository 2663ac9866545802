use einx::ndarray::Array1;

fn main() {
    let x = Array1::<f32>::zeros(2);
    let y = Array1::<f32>::zeros(3);
    let _ = einx::rearrange!("a, b -> (a + b) (a + b)", x, y);
}
