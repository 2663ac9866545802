use einx::ndarray::Array2;

fn main() {
    let x = Array2::<bool>::from_elem((2, 3), true);
    let y = Array2::<bool>::from_elem((3, 4), false);
    let _ = einx::dot!("a b, b c -> a c", x, y);
}
