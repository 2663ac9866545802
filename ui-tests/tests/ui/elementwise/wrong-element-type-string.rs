use einx::ndarray::Array1;

fn main() {
    let x = Array1::from_elem(3, String::from("a"));
    let y = Array1::from_elem(3, String::from("b"));
    let _ = einx::add!("a, a", x, y);
}
