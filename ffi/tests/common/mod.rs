//! Helpers shared by the C ABI's integration tests: the thread's last error, a failed
//! call's status and message, bitwise float comparison, borrowed views, and the refusals
//! every kind's search shares. Each test file is its own crate and uses only some of them.
#![allow(dead_code)]

use std::ffi::CStr;
use vq_ffi::{vq_last_error, vq_status};

pub fn last_error() -> String {
    // SAFETY: the thread's message, valid until its next failure.
    unsafe { CStr::from_ptr(vq_last_error()) }.to_str().unwrap().to_owned()
}

/// The status and the message of a failed call: the status must be `want` and the message
/// must contain every one of `needles`.
#[track_caller]
pub fn fails(got: vq_status, want: vq_status, needles: &[&str]) {
    assert_eq!(got, want, "message: {}", last_error());
    let m = last_error();
    for n in needles {
        assert!(m.contains(n), "{m:?} does not mention {n:?}");
    }
}

pub fn same(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

/// A borrowed `(pointer, length)` view as a slice.
///
/// # Safety
/// The view must be valid for `len` floats while the slice lives.
pub unsafe fn view<'a>(p: *const f32, len: usize) -> &'a [f32] {
    // SAFETY: caller's contract.
    unsafe { std::slice::from_raw_parts(p, len) }
}

/// A kind's `vq_*_search`.
pub type SearchFn<H> = unsafe extern "C" fn(
    *const H,
    *const f32,
    usize,
    *const u8,
    usize,
    usize,
    *mut f32,
    usize,
    *mut i64,
    usize,
) -> vq_status;

/// The refusals every search makes, with its status and message and nothing written: `k`
/// = 0, a labels length off by one, queries not whole rows, codes not whole codes (of
/// `code_size` bytes), an infinite query, a queries length whose size in bytes overflows.
/// `x` holds at least two `dim`-wide rows; `codes` four codes.
///
/// # Safety
/// `h` is a live handle of the kind `search` takes.
#[track_caller]
pub unsafe fn search_refuses_bad_input<H>(
    search: SearchFn<H>,
    h: *const H,
    x: &[f32],
    dim: usize,
    codes: &[u8],
    code_size: usize,
) {
    let (mut d, mut l) = (vec![7f32; 8], vec![7i64; 8]);
    let mut call = |q: &[f32], ql: usize, codes: &[u8], k: usize, dl: usize, ll: usize| {
        // SAFETY: the buffers hold at least the lengths passed, except `ql` in the case of
        // an overflowing length, which is refused before anything is read.
        unsafe { search(h, q.as_ptr(), ql, codes.as_ptr(), codes.len(), k, d.as_mut_ptr(), dl, l.as_mut_ptr(), ll) }
    };
    let q = &x[..2 * dim];
    fails(call(q, q.len(), codes, 0, 0, 0), vq_status::InvalidArgument, &["k = 0"]);
    fails(call(q, q.len(), codes, 2, 4, 3), vq_status::BadLength, &["labels has length 3, expected exactly 4"]);
    let ragged = format!("queries has {} elements", 2 * dim + 1);
    fails(call(&x[..2 * dim + 1], 2 * dim + 1, codes, 2, 4, 4), vq_status::BadLength, &[&ragged]);
    let short = format!("codes has {} elements", 4 * code_size - 1);
    fails(call(q, q.len(), &codes[..4 * code_size - 1], 2, 4, 4), vq_status::BadLength, &[&short]);
    let mut inf = q.to_vec();
    inf[dim + 2] = f32::INFINITY;
    let element = format!("element {}", dim + 2);
    fails(call(&inf, inf.len(), codes, 2, 4, 4), vq_status::NonFinite, &["queries", &element]);
    fails(call(q, usize::MAX / 2, codes, 1, 1, 1), vq_status::BadLength, &["overflows the address space"]);
    assert!(d.iter().all(|&v| v == 7.0) && l.iter().all(|&v| v == 7), "results written on failure");
}

/// A kind's `vq_*_save_buffer`.
pub type SaveBufferFn<H> = unsafe extern "C" fn(*const H, *mut u8, usize, *mut usize) -> vq_status;
/// A kind's `vq_*_load_buffer`.
pub type LoadBufferFn<H> = unsafe extern "C" fn(*const u8, usize, *mut *mut H) -> vq_status;

/// The refusals every kind's model buffers make, with nothing written: `bytes` (the model
/// file of `h`) truncated or with its last byte flipped loads as `VQ_STATUS_FORMAT`;
/// saving into one byte too few is `VQ_STATUS_BUFFER_TOO_SMALL`, and with a NULL
/// `written` `VQ_STATUS_NULL_POINTER`.
///
/// # Safety
/// `h` is a live handle of the kind `save` takes.
#[track_caller]
pub unsafe fn model_buffers_refuse_bad_input<H>(
    save: SaveBufferFn<H>,
    load: LoadBufferFn<H>,
    h: *const H,
    bytes: &[u8],
) {
    let sentinel = std::ptr::dangling_mut::<H>();
    let mut out = sentinel;
    // SAFETY: every buffer holds at least the length passed; `h` by the caller's contract.
    unsafe {
        for len in [0, 63, bytes.len() / 2, bytes.len() - 1] {
            fails(load(bytes.as_ptr(), len, &mut out), vq_status::Format, &[]);
        }
        let mut bad = bytes.to_vec();
        *bad.last_mut().unwrap() ^= 1;
        fails(load(bad.as_ptr(), bad.len(), &mut out), vq_status::Format, &["checksum"]);
        let mut buf = vec![0xABu8; bytes.len()];
        let mut written = 77;
        let s = save(h, buf.as_mut_ptr(), bytes.len() - 1, &mut written);
        fails(s, vq_status::BufferTooSmall, &[&format!("needs {}", bytes.len())]);
        assert!(written == 77 && buf.iter().all(|&b| b == 0xAB), "written on failure");
        let s = save(h, buf.as_mut_ptr(), buf.len(), std::ptr::null_mut());
        fails(s, vq_status::NullPointer, &["written is NULL"]);
    }
    assert_eq!(out, sentinel, "out-parameter written on failure");
}

/// `n` rows of `dim` floats from a seeded linear congruential generator: per row a scale
/// in 0.5..2 (so norms vary and the metrics rank differently), then value `j` is
/// `f(j, scale, u)` for a fresh uniform `u` in 0..1.
pub fn rows(n: usize, dim: usize, seed: u32, f: impl Fn(usize, f32, f32) -> f32) -> Vec<f32> {
    let mut s = seed;
    let mut u = move || {
        s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        (s >> 8) as f32 / 16_777_216.0
    };
    (0..n)
        .flat_map(|_| {
            let scale = 0.5 + 1.5 * u();
            (0..dim).map(|j| f(j, scale, u())).collect::<Vec<_>>()
        })
        .collect()
}

/// `search` (a kind's `vq_*_search`) of `queries` (`dim`-wide rows) into fresh buffers,
/// which must succeed.
///
/// # Safety
/// `h` is a live handle of the kind `search` takes.
#[track_caller]
pub unsafe fn search<H>(
    search: SearchFn<H>,
    h: *const H,
    queries: &[f32],
    dim: usize,
    codes: &[u8],
    k: usize,
) -> (Vec<f32>, Vec<i64>) {
    let nq = queries.len() / dim;
    let (mut d, mut l) = (vec![0f32; nq * k], vec![0i64; nq * k]);
    // SAFETY: the buffers hold the lengths passed; `h` by the caller's contract.
    let s = unsafe {
        search(
            h,
            queries.as_ptr(),
            queries.len(),
            codes.as_ptr(),
            codes.len(),
            k,
            d.as_mut_ptr(),
            d.len(),
            l.as_mut_ptr(),
            l.len(),
        )
    };
    assert_eq!(s, vq_status::Ok, "{}", last_error());
    (d, l)
}

/// A kind's `vq_*_serialized_size`.
pub type SizeFn<H> = unsafe extern "C" fn(*const H, *mut usize) -> vq_status;

/// The model file of `h`, through its kind's `vq_*_serialized_size` and
/// `vq_*_save_buffer`.
///
/// # Safety
/// `h` is a live handle of the kind the calls take.
#[track_caller]
pub unsafe fn model_bytes<H>(size_of: SizeFn<H>, save: SaveBufferFn<H>, h: *const H) -> Vec<u8> {
    let mut size = 0;
    // SAFETY: valid out-pointers and a buffer of `size` bytes; `h` by the caller's contract.
    unsafe {
        assert_eq!(size_of(h, &mut size), vq_status::Ok);
        let mut buf = vec![0u8; size];
        let mut written = 0;
        assert_eq!(save(h, buf.as_mut_ptr(), size, &mut written), vq_status::Ok);
        assert_eq!(written, size);
        buf
    }
}
