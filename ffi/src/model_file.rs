//! The bodies of every kind's model-file calls: `vq_*_save`, `vq_*_load`,
//! `vq_*_serialized_size`, `vq_*_save_buffer` and `vq_*_load_buffer`. The exports stay in
//! each kind's file, for their names, C types and docs; what they do is the same for every
//! kind (checks, the library's reader or writer, the wrong-kind message), so it lives here
//! once, over [`Kind`].

use crate::status::{guard, input, nonnull, output, path_arg, write_out, Failure, Res};
use crate::vq_status;
use std::ffi::c_char;
use vq::format::{self, Model};

/// A quantizer kind as its model-file calls see it.
pub(crate) trait Kind: Sized {
    /// Its opaque C handle (`vq_pq`, ...).
    type Handle;
    /// What a wrong-kind message says the call expected: "a product quantizer".
    const EXPECTED: &'static str;
    /// The quantizer a model file holds, if of this kind.
    fn take(model: Model) -> Option<Self>;
    /// The model file, in memory.
    fn to_bytes(&self) -> Vec<u8>;
    /// The model file at `path`.
    fn save(&self, path: &std::path::Path) -> Result<(), vq::Error>;
    /// The quantizer behind a handle.
    ///
    /// # Safety
    /// `p` is NULL (rejected) or a live handle of this kind.
    unsafe fn handle<'a>(p: *const Self::Handle) -> Res<&'a Self>;
    /// A new owned handle.
    fn into_raw(self) -> *mut Self::Handle;
}

/// Implements [`Kind`] for `$ty`, whose handle is `$handle` and whose model files are
/// `Model::$variant`, through the `handle` and `into_raw` of the file it is used in.
macro_rules! kind {
    ($ty:ty, $handle:ty, $variant:ident, $expected:literal) => {
        impl $crate::model_file::Kind for $ty {
            type Handle = $handle;
            const EXPECTED: &'static str = $expected;
            fn take(model: vq::format::Model) -> Option<Self> {
                match model {
                    vq::format::Model::$variant(q) => Some(q),
                    _ => None,
                }
            }
            fn to_bytes(&self) -> Vec<u8> {
                <$ty>::to_bytes(self)
            }
            fn save(&self, path: &std::path::Path) -> Result<(), vq::Error> {
                <$ty>::save(self, path)
            }
            unsafe fn handle<'a>(p: *const $handle) -> $crate::status::Res<&'a Self> {
                // SAFETY: caller's contract.
                unsafe { handle(p) }
            }
            fn into_raw(self) -> *mut $handle {
                into_raw(self)
            }
        }
    };
}
pub(crate) use kind;

/// Which call loads a model of another kind, for the wrong-kind message. No wildcard: a
/// new kind does not compile until it is named here.
pub(crate) fn load_hint(model: &Model) -> &'static str {
    match model {
        Model::Pq(_) => " (use vq_pq_load)",
        Model::Sq(_) => " (use vq_sq_load)",
        Model::Opq(_) => " (use vq_opq_load)",
        Model::Rabitq(_) => " (use vq_rabitq_load)",
    }
}

/// The quantizer of `f` if it is a `K`, else `VQ_STATUS_WRONG_KIND` naming what the file
/// (`name`) holds and the call that loads it.
fn take<K: Kind>(f: format::ModelFile, name: &str) -> Res<K> {
    let (held, hint) = (f.model.kind_name(), load_hint(&f.model));
    K::take(f.model).ok_or_else(|| {
        Failure::new(vq_status::WrongKind, format!("{name}: holds {held}, expected {}{hint}", K::EXPECTED))
    })
}

/// The body of `vq_*_save`.
///
/// # Safety
/// `h` is a live handle; `path` is a NUL-terminated string.
pub(crate) unsafe fn save<K: Kind>(h: *const K::Handle, path: *const c_char) -> vq_status {
    guard(|| {
        // SAFETY: caller's contract.
        let (h, path) = unsafe { (K::handle(h)?, path_arg("path", path)?) };
        Ok(h.save(&path)?)
    })
}

/// The body of `vq_*_load`.
///
/// # Safety
/// `path` is a NUL-terminated string; `out` is valid for a write.
pub(crate) unsafe fn load<K: Kind>(path: *const c_char, out: *mut *mut K::Handle) -> vq_status {
    guard(|| {
        nonnull("out", out.cast_const())?;
        // SAFETY: caller's contract.
        let path = unsafe { path_arg("path", path) }?;
        let q = take::<K>(format::read_file(&path)?, &path.display().to_string())?;
        // SAFETY: caller's contract.
        unsafe { write_out("out", out, q.into_raw()) }
    })
}

/// The body of `vq_*_serialized_size`.
///
/// # Safety
/// `h` is a live handle; `out` is valid for a write.
pub(crate) unsafe fn serialized_size<K: Kind>(h: *const K::Handle, out: *mut usize) -> vq_status {
    guard(|| {
        // SAFETY: caller's contract.
        let n = unsafe { K::handle(h) }?.to_bytes().len();
        // SAFETY: caller's contract.
        unsafe { write_out("out", out, n) }
    })
}

/// The body of `vq_*_save_buffer`: `written` and `buf` checked, the model file copied into
/// `buf` if it fits (else `VQ_STATUS_BUFFER_TOO_SMALL`, nothing written), its size in
/// `*written`.
///
/// # Safety
/// `h` is a live handle; `buf` is NULL (rejected unless `buf_len` is 0) or holds `buf_len`
/// writable bytes; `written` is NULL (rejected) or valid for a write.
pub(crate) unsafe fn save_buffer<K: Kind>(
    h: *const K::Handle,
    buf: *mut u8,
    buf_len: usize,
    written: *mut usize,
) -> vq_status {
    guard(|| {
        // SAFETY: caller's contract.
        let h = unsafe { K::handle(h) }?;
        nonnull("written", written.cast_const())?;
        // SAFETY: caller's contract.
        let b = unsafe { output("buf", buf, buf_len, &[]) }?;
        let bytes = h.to_bytes();
        let dst = b.get_mut(..bytes.len()).ok_or_else(|| {
            Failure::new(
                vq_status::BufferTooSmall,
                format!("buf_len = {buf_len} bytes, the model needs {} (see *_serialized_size)", bytes.len()),
            )
        })?;
        dst.copy_from_slice(&bytes);
        // SAFETY: caller's contract.
        unsafe { write_out("written", written, bytes.len()) }
    })
}

/// The body of `vq_*_load_buffer`.
///
/// # Safety
/// `buf` holds `buf_len` readable bytes; `out` is valid for a write.
pub(crate) unsafe fn load_buffer<K: Kind>(buf: *const u8, buf_len: usize, out: *mut *mut K::Handle) -> vq_status {
    guard(|| {
        nonnull("out", out.cast_const())?;
        // SAFETY: caller's contract.
        let b = unsafe { input("buf", buf, buf_len) }?;
        let q = take::<K>(format::read_bytes(b)?, "<memory>")?;
        // SAFETY: caller's contract.
        unsafe { write_out("out", out, q.into_raw()) }
    })
}
