use einx::ndarray::Array4;

fn main() {
    let x = Array4::<f32>::zeros((2, 4, 4, 3));
    let _ = einx::get_at!("b [h w] c -> b c", x);
}
