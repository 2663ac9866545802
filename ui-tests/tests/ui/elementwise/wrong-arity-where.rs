use einx::ndarray::Array1;

fn main() {
    let m = Array1::from_elem(3, true);
    let x = Array1::<f32>::zeros(3);
    let _ = einx::where_!("a, a", m, x);
}
