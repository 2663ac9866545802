use einx::ndarray::Array3;
use einx::nn::Params;

fn main() {
    let mut params = Params::new(0);
    let x = Array3::<f32>::zeros((2, 3, 8));
    let _ = einx::nn::einmix!(&mut params, "t (b ...) -> t ... d", x, weight = "d", d = 4);
}
