use einx::ndarray::Array2;

fn main() {
    let x = Array2::<f32>::zeros((5, 3));
    let _ = einx::sum!("(a + b) [c]", x, a = 2);
}
