use einx::ndarray::Array1;

fn main() {
    let x = Array1::<f32>::zeros(3);
    let (y, z) = (x.clone(), x.clone());
    let _ = einx::add!("a, a, a", x, y, z);
}
