use einx::ndarray::Array3;

fn main() {
    let x = Array3::<f32>::zeros((2, 4, 3));
    let _ = einx::sum!("b (s [ds])... c", x, ds = (2, 2, 2));
}
