//! Status codes, the calling thread's last error message, the panic guard every export runs
//! inside, and the checks that turn C pointers and lengths into slices.

use std::cell::RefCell;
use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use vq::Error;

/// What a fallible call returns. `VQ_STATUS_OK` is zero; every other value is an error whose
/// details `vq_last_error()` gives on the same thread. New codes may be added at the end:
/// treat an unknown non-zero value as an error.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum vq_status {
    /// Success; out-parameters and output buffers have been written.
    Ok = 0,
    /// A required pointer is NULL (a buffer pointer may be NULL only with a length of 0).
    NullPointer = 1,
    /// A parameter is out of its range (`m`, `ksub`, `bits`, `k = 0`, a sub-code at or above
    /// `ksub`, a misaligned or overlapping buffer, ...).
    InvalidArgument = 2,
    /// A buffer length does not fit the call: not a whole number of rows, not the length the
    /// quantizer needs, or so large that its size in bytes would overflow.
    BadLength = 3,
    /// Training data or a query holds a NaN or an infinity.
    NonFinite = 4,
    /// The caller's buffer is too small for the serialized model (see `*_serialized_size`).
    BufferTooSmall = 5,
    /// The operating system failed to open, read or write a file.
    Io = 6,
    /// The bytes are not a well-formed model file: truncated, corrupt (checksum), hostile.
    Format = 7,
    /// The model file has a format version this library does not read.
    UnsupportedVersion = 8,
    /// The model file holds another kind of quantizer (an SQ file given to `vq_pq_load`); the message names the kind and the call that loads it.
    WrongKind = 9,
    /// A bug in vq: a Rust panic was caught at the boundary (Rust's panic hook has also
    /// printed its message to stderr). Output buffers are unspecified; the handle is still
    /// usable. Please report it with the message.
    Panic = 10,
}

/// The highest status value, for tables indexed by status (a literal: cbindgen writes it
/// as is; a test holds it equal to the last variant).
pub const VQ_STATUS_LAST: u32 = 10;

impl vq_status {
    pub(crate) fn describe(code: u32) -> &'static CStr {
        match code {
            0 => c"VQ_STATUS_OK: success",
            1 => c"VQ_STATUS_NULL_POINTER: a required pointer is NULL",
            2 => c"VQ_STATUS_INVALID_ARGUMENT: a parameter is out of range",
            3 => c"VQ_STATUS_BAD_LENGTH: a buffer length does not fit the call",
            4 => c"VQ_STATUS_NON_FINITE: input holds a NaN or an infinity",
            5 => c"VQ_STATUS_BUFFER_TOO_SMALL: the output buffer is too small",
            6 => c"VQ_STATUS_IO: a file could not be read or written",
            7 => c"VQ_STATUS_FORMAT: not a well-formed vq model file",
            8 => c"VQ_STATUS_UNSUPPORTED_VERSION: model file format version not supported",
            9 => c"VQ_STATUS_WRONG_KIND: the model file holds another kind of quantizer",
            10 => c"VQ_STATUS_PANIC: internal error (a bug in vq), caught at the boundary",
            _ => c"unknown vq_status value",
        }
    }
}

/// A failed call: its status and the message `vq_last_error()` will return.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) status: vq_status,
    pub(crate) message: String,
}

impl Failure {
    pub(crate) fn new(status: vq_status, message: impl Into<String>) -> Self {
        Failure { status, message: message.into() }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        let status = match &e {
            Error::DimensionMismatch { .. } | Error::BufferLength { .. } | Error::NotWholeRows { .. } => {
                vq_status::BadLength
            }
            Error::NonFinite { .. } => vq_status::NonFinite,
            Error::Io { .. } => vq_status::Io,
            Error::Format { .. } => vq_status::Format,
            Error::FormatVersion { .. } => vq_status::UnsupportedVersion,
            // Empty, OutOfRange, SimdUnavailable, and variants added later.
            _ => vq_status::InvalidArgument,
        };
        Failure { status, message: e.to_string() }
    }
}

pub(crate) type Res<T = ()> = Result<T, Failure>;

thread_local! {
    static LAST_ERROR: RefCell<Option<CString>> = const { RefCell::new(None) };
}

fn set_last_error(message: &str) {
    // A message never holds NUL in practice; if one did, cut it there rather than lose it.
    let bytes: Vec<u8> = message.bytes().take_while(|&b| b != 0).collect();
    let c = CString::new(bytes).unwrap_or_default();
    let _ = LAST_ERROR.try_with(|l| *l.borrow_mut() = Some(c));
}

/// The message of the calling thread's last failed call (empty before any failure).
pub(crate) fn last_error_ptr() -> *const c_char {
    LAST_ERROR.try_with(|l| l.borrow().as_ref().map_or(c"".as_ptr(), |c| c.as_ptr())).unwrap_or(c"".as_ptr())
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let what = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(non-string panic payload)");
    format!("internal error in vq (please report): {what}")
}

/// Runs an export's body: maps its failure (or a panic) to a status and records the message.
/// Success touches nothing, so the hot calls stay free of allocation.
pub(crate) fn guard(f: impl FnOnce() -> Res) -> vq_status {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => vq_status::Ok,
        Ok(Err(failure)) => {
            set_last_error(&failure.message);
            failure.status
        }
        Err(payload) => {
            set_last_error(&panic_message(payload.as_ref()));
            vq_status::Panic
        }
    }
}

/// For exports that return a value instead of a status: `fallback` on a panic.
pub(crate) fn guard_value<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        set_last_error(&panic_message(payload.as_ref()));
        fallback
    })
}

/// A required pointer.
pub(crate) fn nonnull<T>(what: &str, p: *const T) -> Res<*const T> {
    if p.is_null() {
        Err(Failure::new(vq_status::NullPointer, format!("{what} is NULL")))
    } else {
        Ok(p)
    }
}

fn check_buffer<T>(what: &str, ptr: *const T, len: usize) -> Res {
    if ptr.is_null() {
        return Err(Failure::new(vq_status::NullPointer, format!("{what} is NULL but {what}_len is {len}")));
    }
    if !ptr.is_aligned() {
        return Err(Failure::new(
            vq_status::InvalidArgument,
            format!("{what} ({ptr:p}) is not aligned to {} bytes", std::mem::align_of::<T>()),
        ));
    }
    let bytes = len.checked_mul(std::mem::size_of::<T>()).filter(|&b| b <= isize::MAX as usize);
    if bytes.is_none_or(|b| (ptr as usize).checked_add(b).is_none()) {
        return Err(Failure::new(
            vq_status::BadLength,
            format!("{what}_len = {len} elements of {} bytes overflows the address space", std::mem::size_of::<T>()),
        ));
    }
    Ok(())
}

/// An input buffer: `ptr` may be NULL only when `len` is 0.
///
/// # Safety
/// If non-NULL, `ptr` must point to `len` readable, initialised `T` that stay valid and
/// unmodified for `'a`.
pub(crate) unsafe fn input<'a, T>(what: &str, ptr: *const T, len: usize) -> Res<&'a [T]> {
    if len == 0 {
        return Ok(&[]);
    }
    check_buffer(what, ptr, len)?;
    // SAFETY: non-NULL, aligned, size within isize::MAX (checked above); validity and
    // lifetime are the caller's contract.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// An output buffer: `ptr` may be NULL only when `len` is 0; it must not overlap `inputs`
/// (Rust may not hold a shared and a mutable view of the same bytes).
///
/// # Safety
/// If non-NULL, `ptr` must point to `len` writable `T` that nothing else reads or writes
/// during the call.
pub(crate) unsafe fn output<'a, T>(what: &str, ptr: *mut T, len: usize, inputs: &[(&str, &[u8])]) -> Res<&'a mut [T]> {
    // SAFETY: caller's contract.
    unsafe { output_apart(what, ptr, len, inputs, &[]) }
}

/// [`output`], also disjoint from `more` (the outputs formed before it).
///
/// # Safety
/// As [`output`].
pub(crate) unsafe fn output_apart<'a, T>(
    what: &str,
    ptr: *mut T,
    len: usize,
    inputs: &[(&str, &[u8])],
    more: &[(&str, &[u8])],
) -> Res<&'a mut [T]> {
    if len == 0 {
        return Ok(&mut []);
    }
    check_buffer(what, ptr.cast_const(), len)?;
    let (start, end) = (ptr as usize, ptr as usize + len * std::mem::size_of::<T>());
    for (name, input) in inputs.iter().chain(more) {
        let (s, e) = (input.as_ptr() as usize, input.as_ptr() as usize + input.len());
        if !input.is_empty() && s < end && start < e {
            return Err(Failure::new(vq_status::InvalidArgument, format!("{what} overlaps {name}")));
        }
    }
    // SAFETY: non-NULL, aligned, size within isize::MAX, disjoint from the inputs (checked
    // above); exclusivity for the call is the caller's contract.
    Ok(unsafe { std::slice::from_raw_parts_mut(ptr, len) })
}

/// The two outputs of a top-k search, `distances` then `labels`, each checked as [`output`]:
/// disjoint from `inputs` and from each other.
///
/// # Safety
/// As [`output`], for both buffers.
pub(crate) unsafe fn results<'a>(
    distances: *mut f32,
    distances_len: usize,
    labels: *mut i64,
    labels_len: usize,
    inputs: &[(&str, &[u8])],
) -> Res<(&'a mut [f32], &'a mut [i64])> {
    // SAFETY: caller's contract.
    let d = unsafe { output("distances", distances, distances_len, inputs) }?;
    // SAFETY: caller's contract; checked apart from `d` before it is formed.
    let l = unsafe { output_apart("labels", labels, labels_len, inputs, &[("distances", bytes_of(d))]) }?;
    Ok((d, l))
}

/// The bytes of a slice, for overlap checks.
pub(crate) fn bytes_of<T: Copy>(s: &[T]) -> &[u8] {
    // SAFETY: any initialised T: Copy may be viewed as its bytes for the address range
    // check; the bytes are never interpreted.
    unsafe { std::slice::from_raw_parts(s.as_ptr().cast::<u8>(), std::mem::size_of_val(s)) }
}

/// Writes an out-parameter (success only).
///
/// # Safety
/// `out` must be NULL (rejected) or valid for a write of `T`.
pub(crate) unsafe fn write_out<T>(what: &str, out: *mut T, value: T) -> Res {
    nonnull(what, out.cast_const())?;
    // SAFETY: non-NULL; validity is the caller's contract. `write` does not read or drop
    // whatever the C caller left there.
    unsafe { out.write(value) };
    Ok(())
}

/// Writes a borrowed slice's pointer and length to the out-parameters.
///
/// # Safety
/// `out` and `out_len` are NULL (rejected) or valid for writes.
pub(crate) unsafe fn write_view(s: &[f32], out: *mut *const f32, out_len: *mut usize) -> Res {
    nonnull("out", out.cast_const())?;
    nonnull("out_len", out_len.cast_const())?;
    // SAFETY: both checked non-NULL; valid by contract.
    unsafe {
        write_out("out", out, s.as_ptr())?;
        write_out("out_len", out_len, s.len())
    }
}

/// A C string argument (a path).
///
/// # Safety
/// `p` must be NULL (rejected) or point to a NUL-terminated string.
pub(crate) unsafe fn path_arg(what: &str, p: *const c_char) -> Res<std::path::PathBuf> {
    nonnull(what, p)?;
    // SAFETY: non-NULL and NUL-terminated by the caller's contract.
    let c = unsafe { CStr::from_ptr(p) };
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        Ok(std::path::PathBuf::from(std::ffi::OsStr::from_bytes(c.to_bytes())))
    }
    #[cfg(not(unix))]
    {
        c.to_str()
            .map(std::path::PathBuf::from)
            .map_err(|_| Failure::new(vq_status::InvalidArgument, format!("{what} is not valid UTF-8")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_status_is_the_last_variant() {
        assert_eq!(VQ_STATUS_LAST, vq_status::Panic as u32);
    }

    #[test]
    fn a_panic_becomes_a_status_and_a_message() {
        let s = guard(|| panic!("boom {}", 7));
        assert_eq!(s, vq_status::Panic);
        // SAFETY: the pointer is this thread's message, valid until the next failure.
        let msg = unsafe { CStr::from_ptr(last_error_ptr()) }.to_str().unwrap().to_owned();
        assert!(msg.contains("boom 7") && msg.contains("internal error"), "{msg}");
        assert_eq!(guard_value(5u32, || panic!("x")), 5);
    }

    #[test]
    fn success_leaves_the_last_message() {
        assert_eq!(guard(|| Err(Failure::new(vq_status::BadLength, "first"))), vq_status::BadLength);
        assert_eq!(guard(|| Ok(())), vq_status::Ok);
        // SAFETY: as above.
        assert_eq!(unsafe { CStr::from_ptr(last_error_ptr()) }.to_str().unwrap(), "first");
    }

    #[test]
    fn buffer_checks() {
        // SAFETY: the pointers below are either NULL, or point into `v`, or are never
        // dereferenced because a check fails first.
        unsafe {
            let v = [1f32, 2.0, 3.0];
            assert_eq!(input::<f32>("x", std::ptr::null(), 0).unwrap().len(), 0);
            assert_eq!(input::<f32>("x", std::ptr::null(), 1).unwrap_err().status, vq_status::NullPointer);
            let mis = (v.as_ptr() as *const u8).add(1).cast::<f32>();
            assert_eq!(input("x", mis, 1).unwrap_err().status, vq_status::InvalidArgument);
            let e = input::<f32>("x", v.as_ptr(), usize::MAX / 2).unwrap_err();
            assert_eq!(e.status, vq_status::BadLength);
            assert!(e.message.contains("x_len"), "{}", e.message);
            let mut w = [0f32; 4];
            let p = w.as_mut_ptr();
            let inp: &[f32] = std::slice::from_raw_parts(p.cast_const().add(1), 2);
            let e = output("out", p, 2, &[("vectors", bytes_of(inp))]).unwrap_err();
            assert_eq!(e.status, vq_status::InvalidArgument);
            assert!(output("out", p, 1, &[("vectors", bytes_of(inp))]).is_ok());
        }
    }
}
