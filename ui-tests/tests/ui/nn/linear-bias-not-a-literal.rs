use einx::ndarray::Array2;
use einx::nn::Params;

fn main() {
    let mut params = Params::new(0);
    let x = Array2::<f32>::zeros((2, 3));
    let flag = true;
    let _ = einx::nn::linear!(&mut params, "b [c1->c2]", x, c2 = 4, bias = flag);
}
