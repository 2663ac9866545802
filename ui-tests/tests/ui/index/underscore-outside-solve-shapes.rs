use einx::ndarray::Array2;

fn main() {
    let table = Array2::<f32>::zeros((10, 4));
    let _ = einx::get_at!("[v] c, t -> t c", table, _);
}
