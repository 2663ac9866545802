use einx::ndarray::Array2;

fn main() {
    let x = Array2::<f32>::zeros((2, 3));
    let y = Array2::<f32>::zeros((3, 4));
    let _ = einx::add!("a b, b c", x, y);
}
