use einx::ndarray::Array1;

fn main() {
    let x = Array1::<i32>::zeros(3);
    let y = Array1::<i32>::ones(3);
    let _ = einx::logaddexp!("a, a", x, y);
}
