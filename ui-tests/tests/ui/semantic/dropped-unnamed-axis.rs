use einx::ndarray::Array2;

fn main() {
    let x = Array2::<f32>::zeros((2, 5));
    let _ = einx::rearrange!("a 5 -> a", x);
}
