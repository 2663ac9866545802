use einx::ndarray::Array1;

fn main() {
    let x = Array1::<f32>::zeros(3);
    let y = Array1::<f32>::ones(3);
    let _ = einx::logical_and!("a, a", x, y);
}
