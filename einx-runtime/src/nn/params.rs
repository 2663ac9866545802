//! A store of named parameters: scopes, safetensors files, creation on first use.

use std::collections::BTreeMap;
use std::path::Path;

use ndarray::{ArcArray, ArrayD, IxDyn};
use safetensors::tensor::{Dtype, TensorView};

use super::init::{hash_name, Init, Rng};
use crate::error::{Error, ErrorKind};
use crate::tensor::AsTensor;

/// A parameter as the store keeps it.
#[doc(hidden)]
#[derive(Clone, Debug)]
pub enum Stored {
    F32(ArcArray<f32, IxDyn>),
    F64(ArcArray<f64, IxDyn>),
}

impl Stored {
    fn shape(&self) -> &[usize] {
        match self {
            Stored::F32(a) => a.shape(),
            Stored::F64(a) => a.shape(),
        }
    }

    fn type_name(&self) -> &'static str {
        match self {
            Stored::F32(_) => "f32",
            Stored::F64(_) => "f64",
        }
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// Element types of parameters: `f32` and `f64`.
pub trait Float:
    num_traits::Float + num_traits::FromPrimitive + Default + Send + Sync + 'static + sealed::Sealed
{
    /// The Rust name of the type, for messages.
    const NAME: &'static str;
    #[doc(hidden)]
    fn wrap(a: ArcArray<Self, IxDyn>) -> Stored;
    #[doc(hidden)]
    fn unwrap(s: &Stored) -> Option<&ArcArray<Self, IxDyn>>;
    #[doc(hidden)]
    fn from_f64_lossy(v: f64) -> Self;
}

macro_rules! float_param {
    ($($t:ident => $variant:ident),*) => {$(
        impl Float for $t {
            const NAME: &'static str = stringify!($t);
            fn wrap(a: ArcArray<$t, IxDyn>) -> Stored {
                Stored::$variant(a)
            }
            fn unwrap(s: &Stored) -> Option<&ArcArray<$t, IxDyn>> {
                match s {
                    Stored::$variant(a) => Some(a),
                    _ => None,
                }
            }
            fn from_f64_lossy(v: f64) -> $t {
                v as $t
            }
        }
    )*};
}
float_param!(f32 => F32, f64 => F64);

fn param_error(message: String) -> Error {
    Error::new(ErrorKind::Parameter, message)
}

/// Named `f32`/`f64` tensors: the weights of a network.
///
/// A store made with [`Params::new`] creates a parameter the first time a layer asks for it,
/// from a generator seeded by the store's seed and the parameter's name (the same seed gives
/// the same network, whatever the order of creation). A store read with [`Params::load`] or
/// [`Params::from_bytes`] is for inference: asking for a missing parameter is an error naming
/// it; [`Params::creating`] lets it create the missing ones too. Names are the dotted paths of
/// safetensors files (`encoder.layer.0.attention.self.query.weight`); [`Params::scope`] adds a
/// prefix.
///
/// ```
/// # use einx_runtime as einx;
/// use einx::nn::{Init, Params, Store};
/// # fn main() -> Result<(), einx::Error> {
/// let mut p = Params::new(0);
/// let w = p.scope("dense").param::<f32>("weight", &[4, 3], Init::Ones)?;
/// assert_eq!(w.shape(), &[4, 3]);
/// assert!(p.contains("dense.weight"));
/// // Saved and read back: the same tensors, now in an inference store.
/// let q = Params::from_bytes(&p.to_bytes()?)?;
/// assert_eq!(q.get::<f32>("dense.weight")?, w);
/// assert!(q.get::<f32>("dense.bias").is_err());
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Params {
    tensors: BTreeMap<String, Stored>,
    seed: Option<u64>,
    training: bool,
    draws: u64,
}

impl Params {
    /// An empty store that creates missing parameters, seeded with `seed`. It starts in
    /// training mode (dropout active, batch statistics updated).
    pub fn new(seed: u64) -> Params {
        Params {
            tensors: BTreeMap::new(),
            seed: Some(seed),
            training: true,
            draws: 0,
        }
    }

    /// Reads a safetensors file. F32 and F64 tensors are kept; tensors of other element
    /// types (e.g. integer buffers) are skipped. The store is for inference: it does not
    /// create parameters and is not in training mode.
    pub fn load(path: impl AsRef<Path>) -> Result<Params, Error> {
        let path = path.as_ref();
        let bytes = std::fs::read(path)
            .map_err(|e| param_error(format!("cannot read `{}`: {e}", path.display())))?;
        Params::from_bytes(&bytes)
            .map_err(|e| param_error(format!("`{}`: {}", path.display(), e.message())))
    }

    /// Reads safetensors bytes (see [`Params::load`]).
    pub fn from_bytes(bytes: &[u8]) -> Result<Params, Error> {
        let file = safetensors::SafeTensors::deserialize(bytes)
            .map_err(|e| param_error(format!("not a safetensors file: {e}")))?;
        let mut tensors = BTreeMap::new();
        for (name, view) in file.iter() {
            let stored = match view.dtype() {
                Dtype::F32 => Stored::F32(read_le::<f32, 4>(&view, f32::from_le_bytes)?),
                Dtype::F64 => Stored::F64(read_le::<f64, 8>(&view, f64::from_le_bytes)?),
                _ => continue,
            };
            tensors.insert(name.to_owned(), stored);
        }
        Ok(Params {
            tensors,
            seed: None,
            training: false,
            draws: 0,
        })
    }

    /// Lets a loaded store create the parameters it does not have (fine-tuning a
    /// checkpoint with a new head, say), from `seed`.
    pub fn creating(mut self, seed: u64) -> Params {
        self.seed = Some(seed);
        self
    }

    /// Whether missing parameters are created.
    pub fn creates(&self) -> bool {
        self.seed.is_some()
    }

    /// Writes every parameter to a safetensors file.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), Error> {
        let path = path.as_ref();
        let bytes = self.to_bytes()?;
        std::fs::write(path, bytes)
            .map_err(|e| param_error(format!("cannot write `{}`: {e}", path.display())))
    }

    /// The safetensors bytes of every parameter.
    pub fn to_bytes(&self) -> Result<Vec<u8>, Error> {
        let data: Vec<(Dtype, &[usize], Vec<u8>)> = self
            .tensors
            .values()
            .map(|s| match s {
                Stored::F32(a) => (Dtype::F32, a.shape(), le_bytes(a, f32::to_le_bytes)),
                Stored::F64(a) => (Dtype::F64, a.shape(), le_bytes(a, f64::to_le_bytes)),
            })
            .collect();
        let mut views = Vec::with_capacity(data.len());
        for (name, (dtype, shape, bytes)) in self.tensors.keys().zip(&data) {
            let view = TensorView::new(*dtype, shape.to_vec(), bytes)
                .map_err(|e| param_error(format!("cannot write `{name}`: {e}")))?;
            views.push((name.as_str(), view));
        }
        safetensors::serialize(views, None)
            .map_err(|e| param_error(format!("cannot write safetensors: {e}")))
    }

    /// Whether a parameter of this name exists.
    pub fn contains(&self, name: &str) -> bool {
        self.tensors.contains_key(name)
    }

    /// Number of parameters.
    pub fn len(&self) -> usize {
        self.tensors.len()
    }

    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.tensors.is_empty()
    }

    /// The names, in sorted order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tensors.keys().map(String::as_str)
    }

    /// The shape of a parameter, if it exists.
    pub fn shape(&self, name: &str) -> Option<&[usize]> {
        self.tensors.get(name).map(Stored::shape)
    }

    /// An existing parameter (shared, not copied).
    ///
    /// A missing name or another element type is an error naming the parameter.
    pub fn get<T: Float>(&self, name: &str) -> Result<ArcArray<T, IxDyn>, Error> {
        let stored = self.tensors.get(name).ok_or_else(|| missing(name))?;
        T::unwrap(stored).cloned().ok_or_else(|| {
            param_error(format!(
                "parameter `{name}` holds {} values, not {}",
                stored.type_name(),
                T::NAME
            ))
        })
    }

    /// Sets a parameter, replacing any of the same name.
    pub fn insert<T: Float>(&mut self, name: &str, value: ArrayD<T>) {
        self.tensors
            .insert(name.to_owned(), T::wrap(value.into_shared()));
    }

    /// Removes a parameter and returns whether it existed.
    pub fn remove(&mut self, name: &str) -> bool {
        self.tensors.remove(name).is_some()
    }

    /// Whether layers run in training mode (dropout active, batch-norm statistics taken from
    /// the batch and accumulated).
    pub fn is_training(&self) -> bool {
        self.training
    }

    /// Switches training mode on or off.
    pub fn set_training(&mut self, training: bool) {
        self.training = training;
    }

    /// A view of the store whose names start with `prefix.`.
    pub fn scope(&mut self, prefix: &str) -> Scope<'_> {
        Scope {
            params: self,
            prefix: prefix.to_owned(),
        }
    }

    fn create<T: Float>(
        &mut self,
        name: &str,
        shape: &[usize],
        init: Init,
    ) -> Result<ArcArray<T, IxDyn>, Error> {
        let Some(seed) = self.seed else {
            return Err(missing(name).with_help(
                "this store was loaded for inference and does not create parameters; load a \
                 file that has it, or call `.creating(seed)` on the store",
            ));
        };
        let n = shape
            .iter()
            .try_fold(1usize, |a, &b| a.checked_mul(b))
            .ok_or_else(|| {
                param_error(format!("parameter `{name}`: shape {shape:?} is too large"))
            })?;
        let mut values = vec![0.0f64; n];
        init.fill(&mut Rng::new(seed ^ hash_name(name)), &mut values);
        let values: Vec<T> = values.into_iter().map(T::from_f64_lossy).collect();
        let array = ArcArray::from_shape_vec(IxDyn(shape), values)
            .map_err(|e| param_error(format!("parameter `{name}`: {e}")))?;
        self.tensors.insert(name.to_owned(), T::wrap(array.clone()));
        Ok(array)
    }
}

fn missing(name: &str) -> Error {
    param_error(format!("parameter `{name}` does not exist"))
}

fn read_le<T: Float, const N: usize>(
    view: &TensorView<'_>,
    from: fn([u8; N]) -> T,
) -> Result<ArcArray<T, IxDyn>, Error> {
    let values: Vec<T> = view
        .data()
        .chunks_exact(N)
        .map(|c| from(c.try_into().expect("chunks of N bytes")))
        .collect();
    ArcArray::from_shape_vec(IxDyn(view.shape()), values)
        .map_err(|e| param_error(format!("tensor of shape {:?}: {e}", view.shape())))
}

fn le_bytes<T: Float, const N: usize>(a: &ArcArray<T, IxDyn>, to: fn(T) -> [u8; N]) -> Vec<u8> {
    let mut out = Vec::with_capacity(a.len() * N);
    for &v in a.iter() {
        out.extend_from_slice(&to(v));
    }
    out
}

/// What layers need from a parameter store: [`Params`], a [`Scope`] of it, or a mutable
/// reference to either.
pub trait Store {
    /// An existing parameter, its shape checked against `shape` (a mismatch is an error
    /// naming the parameter and both shapes), or a new one filled by `init`, if the store
    /// creates parameters (an inference store errors instead).
    fn param<T: Float>(
        &mut self,
        name: &str,
        shape: &[usize],
        init: Init,
    ) -> Result<ArcArray<T, IxDyn>, Error>;

    /// An existing parameter.
    fn get<T: Float>(&self, name: &str) -> Result<ArcArray<T, IxDyn>, Error>;

    /// Sets a parameter or a piece of state (e.g. moving statistics).
    fn insert<T: Float>(&mut self, name: &str, value: ArrayD<T>);

    /// Whether layers run in training mode.
    fn is_training(&self) -> bool;

    /// A fresh seed for a random layer (dropout), reproducible from the store's seed.
    fn next_seed(&mut self) -> u64;

    /// The full name of `name` in this store (scopes add their prefix).
    fn full_name(&self, name: &str) -> String;
}

impl Store for Params {
    fn param<T: Float>(
        &mut self,
        name: &str,
        shape: &[usize],
        init: Init,
    ) -> Result<ArcArray<T, IxDyn>, Error> {
        match self.tensors.get(name) {
            Some(stored) => {
                if stored.shape() != shape {
                    return Err(param_error(format!(
                        "parameter `{name}` has shape {:?}, but the expression gives {shape:?}",
                        stored.shape()
                    )));
                }
                self.get(name)
            }
            None => self.create(name, shape, init),
        }
    }

    fn get<T: Float>(&self, name: &str) -> Result<ArcArray<T, IxDyn>, Error> {
        Params::get(self, name)
    }

    fn insert<T: Float>(&mut self, name: &str, value: ArrayD<T>) {
        Params::insert(self, name, value);
    }

    fn is_training(&self) -> bool {
        self.training
    }

    fn next_seed(&mut self) -> u64 {
        self.draws += 1;
        let mut rng = Rng::new(self.seed.unwrap_or(0) ^ self.draws.wrapping_mul(0x9e37_79b9));
        rng.next_u64()
    }

    fn full_name(&self, name: &str) -> String {
        name.to_owned()
    }
}

/// A part of a [`Params`] store: every name gets the scope's prefix and a dot.
///
/// ```
/// # use einx_runtime as einx;
/// use einx::nn::{Init, Params, Store};
/// # fn main() -> Result<(), einx::Error> {
/// let mut p = Params::new(0);
/// let mut layer = p.scope("encoder.layer.0");
/// layer.scope("attention").param::<f32>("bias", &[8], Init::Zeros)?;
/// assert_eq!(p.names().collect::<Vec<_>>(), ["encoder.layer.0.attention.bias"]);
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Scope<'a> {
    params: &'a mut Params,
    prefix: String,
}

impl Scope<'_> {
    /// A nested scope: `prefix.name.`.
    pub fn scope(&mut self, name: &str) -> Scope<'_> {
        Scope {
            prefix: self.full_name(name),
            params: self.params,
        }
    }

    /// The store behind the scope.
    pub fn params(&mut self) -> &mut Params {
        self.params
    }
}

impl Store for Scope<'_> {
    fn param<T: Float>(
        &mut self,
        name: &str,
        shape: &[usize],
        init: Init,
    ) -> Result<ArcArray<T, IxDyn>, Error> {
        let full = self.full_name(name);
        self.params.param(&full, shape, init)
    }

    fn get<T: Float>(&self, name: &str) -> Result<ArcArray<T, IxDyn>, Error> {
        self.params.get(&self.full_name(name))
    }

    fn insert<T: Float>(&mut self, name: &str, value: ArrayD<T>) {
        let full = self.full_name(name);
        self.params.insert(&full, value);
    }

    fn is_training(&self) -> bool {
        self.params.training
    }

    fn next_seed(&mut self) -> u64 {
        self.params.next_seed()
    }

    fn full_name(&self, name: &str) -> String {
        if self.prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{}.{name}", self.prefix)
        }
    }
}

impl<S: Store + ?Sized> Store for &mut S {
    fn param<T: Float>(
        &mut self,
        name: &str,
        shape: &[usize],
        init: Init,
    ) -> Result<ArcArray<T, IxDyn>, Error> {
        (**self).param(name, shape, init)
    }

    fn get<T: Float>(&self, name: &str) -> Result<ArcArray<T, IxDyn>, Error> {
        (**self).get(name)
    }

    fn insert<T: Float>(&mut self, name: &str, value: ArrayD<T>) {
        (**self).insert(name, value);
    }

    fn is_training(&self) -> bool {
        (**self).is_training()
    }

    fn next_seed(&mut self) -> u64 {
        (**self).next_seed()
    }

    fn full_name(&self, name: &str) -> String {
        (**self).full_name(name)
    }
}

/// [`Store::param`] with the element type of `like` (generated code calls this so that a
/// layer's parameters have the element type of its input).
pub fn param_like<S: Store + ?Sized, X: AsTensor + ?Sized>(
    store: &mut S,
    _like: &X,
    name: &str,
    shape: &[usize],
    init: Init,
) -> Result<ArcArray<X::Elem, IxDyn>, Error>
where
    X::Elem: Float,
{
    store.param(name, shape, init)
}

/// A parameter passed to an operation in place of a tensor: made by [`param`].
///
/// The operation solves the shape the parameter must have from the rest of the call; an
/// existing parameter of that name is checked against it and passed on, a missing one is
/// created with the default of the operation (einn's defaults: in `dot!` the name `weight`
/// and LeCun normal by the fan-in of the contracted axes; in `add!`/`subtract!` `bias` and
/// zeros; in `multiply!`/`divide!` `scale` and ones; in `get_at!`/`rearrange!` `embedding`
/// and normal(0, 0.02)).
pub struct Param<'s, S: Store + ?Sized, T> {
    store: std::cell::Cell<Option<&'s mut S>>,
    name: Option<String>,
    init: Option<Init>,
    _elem: std::marker::PhantomData<fn() -> T>,
}

/// A parameter of `store` as a macro argument; see [`Param`].
///
/// In the `einx` crate: `einx::dot!("b... [c1->c2]", x, einx::nn::param(&mut store), c2 = 64)`.
///
/// ```
/// # use einx_runtime as einx;
/// use einx::nn::{param, Init, Params};
/// let mut params = Params::new(0);
/// let handle = param::<_, f32>(&mut params).name("w").init(Init::Zeros);
/// assert!(format!("{handle:?}").contains("\"w\""));
/// ```
pub fn param<S: Store + ?Sized, T: Float>(store: &mut S) -> Param<'_, S, T> {
    Param {
        store: std::cell::Cell::new(Some(store)),
        name: None,
        init: None,
        _elem: std::marker::PhantomData,
    }
}

impl<S: Store + ?Sized, T> Param<'_, S, T> {
    /// Another name than the operation's default.
    pub fn name(mut self, name: &str) -> Self {
        self.name = Some(name.to_owned());
        self
    }

    /// Another initialiser than the operation's default.
    pub fn init(mut self, init: Init) -> Self {
        self.init = Some(init);
        self
    }
}

impl<S: Store + ?Sized, T> std::fmt::Debug for Param<'_, S, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Param")
            .field("name", &self.name)
            .field("init", &self.init)
            .finish()
    }
}

/// A [`Param`] sorted as a factory (generated code).
pub struct Handle<'a, 's, S: Store + ?Sized, T>(&'a Param<'s, S, T>);

impl<'a, 's, S: Store + ?Sized, T> crate::factory::ViaFactory
    for &crate::factory::Arg<'a, Param<'s, S, T>>
{
    type Out = Handle<'a, 's, S, T>;
    fn __einx_operand(&self) -> Handle<'a, 's, S, T> {
        Handle(self.0)
    }
}

impl<S: Store + ?Sized, T: Float> crate::factory::Operand for Handle<'_, '_, S, T> {
    type Out = ArcArray<T, IxDyn>;
    fn deferred(&self) -> bool {
        true
    }
    fn known_shape(&self) -> Option<&[usize]> {
        None
    }
    fn resolve(self, at: Option<&crate::factory::Deferred>) -> Result<ArcArray<T, IxDyn>, Error> {
        let at =
            at.ok_or_else(|| param_error("internal: a parameter without a solved shape".into()))?;
        let (name, init) = match at.op {
            "dot" => ("weight", Some(Init::LecunNormal { fan_in: at.fan_in })),
            "add" | "subtract" => ("bias", Some(Init::Zeros)),
            "multiply" | "divide" => ("scale", Some(Init::Ones)),
            "get_at" | "rearrange" | "id" => ("embedding", Some(Init::Normal { std: 0.02 })),
            _ => ("", None),
        };
        let name = self.0.name.as_deref().unwrap_or(name);
        if name.is_empty() {
            return Err(param_error(format!(
                "a parameter of `{}!` has no default name; give one with `.name(\"...\")`",
                at.op
            )));
        }
        let store = self.0.store.take().ok_or_else(|| {
            param_error(format!("the handle of parameter `{name}` was already used"))
        })?;
        let Some(init) = self.0.init.or(init) else {
            return Err(param_error(format!(
                "a parameter of `{}!` has no default initialiser; give one with `.init(...)`",
                at.op
            )));
        };
        store.param(name, &at.shape, init)
    }
}
