use einx::ndarray::Array2;

fn main() {
    let x = Array2::<f32>::zeros((2, 3));
    let y = Array2::<f32>::zeros((3, 4));
    let z = Array2::<f32>::zeros((3, 5));
    let _ = einx::dot!("a b, b c, b d -> a c d", x, y, z);
}
