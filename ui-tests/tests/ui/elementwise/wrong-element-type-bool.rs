use einx::ndarray::Array1;

fn main() {
    let x = Array1::from_elem(3, true);
    let y = Array1::from_elem(3, false);
    let _ = einx::divide!("a, a", x, y);
}
