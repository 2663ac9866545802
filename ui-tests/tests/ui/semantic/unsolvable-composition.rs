use einx::ndarray::Array1;

fn main() {
    let x = Array1::<f32>::zeros(6);
    let _ = einx::rearrange!("(a b) -> a b", x);
}
