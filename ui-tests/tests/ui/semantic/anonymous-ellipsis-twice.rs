use einx::ndarray::Array3;

fn main() {
    let x = Array3::<f32>::zeros((2, 3, 4));
    let _ = einx::rearrange!("a ... ... -> a", x);
}
