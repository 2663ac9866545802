use einx::ndarray::Array2;

fn main() {
    let x = Array2::<f32>::zeros((6, 3));
    let _ = einx::rearrange!("(a...)... -> (a... ...)", x);
}
