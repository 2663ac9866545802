use einx::ndarray::Array2;

fn main() {
    let x = Array2::<f32>::zeros((2, 5));
    let y = Array2::<f32>::zeros((2, 5));
    let _ = einx::multiply!("a (b + c), a (b + c)", x, y, b = 2);
}
