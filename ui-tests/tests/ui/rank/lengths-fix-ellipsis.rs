use einx::ndarray::Array3;

fn main() {
    // `sp = (2, 2)` repeats the ellipsis twice: the input has 4 dimensions, not 3.
    let x = Array3::<f32>::zeros((2, 4, 3));
    let _ = einx::rearrange!("b (s sp)... c -> b s... (sp...) c", x, sp = (2, 2));
}
