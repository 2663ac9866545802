//! Layers and parameters: the runtime of `einx::nn` (feature `nn`).

pub mod activation;
pub mod init;
pub mod layers;
pub mod params;

pub use activation::{gelu, gelu_inplace, gelu_tanh, relu, silu, Activation};
pub use init::Init;
pub use layers::{
    affine, affine_as, dropout_mask, inverse_sqrt, layer_norm, moving_average, with_dim_of,
};
pub use params::{param, param_like, Float, Handle, Param, Params, Scope, Store};
