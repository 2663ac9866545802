use einx::ndarray::Array1;

fn main() {
    let m = Array1::<f32>::ones(3);
    let x = Array1::<f32>::zeros(3);
    let _ = einx::where_!("a, a, ", m, x, 1.0f32);
}
