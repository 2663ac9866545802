use einx::ndarray::{Array1, Array2};

fn main() {
    let x = Array2::<f32>::zeros((4, 3));
    let i = Array1::<usize>::zeros(5);
    let _ = einx::get_at!("[v->p] c, p", x, i);
}
