//! Shared by the benchmarks: buffers backed by transparent huge pages where the OS allows.
//!
//! NumPy `madvise`s its large arrays for huge pages, so the peers' memory-resident figures
//! (NumKong, FAISS through NumPy) are measured on 2 MiB pages, where the hardware
//! prefetchers stream without stopping at every 4 KiB boundary. Our buffers get the same
//! treatment so the comparison is of kernels, not of page sizes.

#![allow(dead_code)]

use std::alloc::{alloc, dealloc, Layout};
use std::ops::{Deref, DerefMut};

const HUGE: usize = 2 << 20;

/// A zeroed, 2 MiB-aligned slice of `T` advised for transparent huge pages.
pub struct HugeBuf<T: bytemuck::Pod> {
    ptr: *mut T,
    len: usize,
    layout: Layout,
}

impl<T: bytemuck::Pod> HugeBuf<T> {
    pub fn zeroed(len: usize) -> Self {
        let bytes = (len * size_of::<T>()).max(1).next_multiple_of(HUGE);
        let layout = Layout::from_size_align(bytes, HUGE).unwrap();
        // Not alloc_zeroed: the pages must be advised before their first touch, or they are
        // faulted in as 4 KiB pages.
        // SAFETY: the layout has a non-zero size.
        let ptr = unsafe { alloc(layout) } as *mut T;
        assert!(!ptr.is_null(), "allocation of {bytes} bytes failed");
        #[cfg(target_os = "linux")]
        // SAFETY: the range is exactly the allocation just made; madvise only advises.
        unsafe {
            libc::madvise(ptr as *mut libc::c_void, bytes, libc::MADV_HUGEPAGE);
        }
        // SAFETY: the allocation is `bytes` long; zero bytes are a valid T (Pod).
        unsafe { std::ptr::write_bytes(ptr as *mut u8, 0, bytes) };
        HugeBuf { ptr, len, layout }
    }

    pub fn from_slice(data: &[T]) -> Self {
        let mut b = Self::zeroed(data.len());
        b.copy_from_slice(data);
        b
    }
}

impl<T: bytemuck::Pod> Deref for HugeBuf<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        // SAFETY: ptr is valid for len zero-initialized (hence valid, T: Pod) elements.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl<T: bytemuck::Pod> DerefMut for HugeBuf<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        // SAFETY: as in deref, and we hold the only reference.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
}

impl<T: bytemuck::Pod> Drop for HugeBuf<T> {
    fn drop(&mut self) {
        // SAFETY: allocated in `zeroed` with this layout.
        unsafe { dealloc(self.ptr as *mut u8, self.layout) }
    }
}

/// Standard-normal f32 data from NumPy's legacy generator (`RandomState(seed).randn`).
pub fn normal(n: usize, seed: u32) -> Vec<f32> {
    let mut v = vec![0.0; n];
    vq::synthetic::NumpyLegacyRng::new(seed).fill_standard_normal_f32(&mut v);
    v
}

/// Criterion settings: warm-up, measuring time and samples per benchmark.
pub fn config(warm_up_ms: u64, measure_s: u64, samples: usize) -> criterion::Criterion {
    criterion::Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(warm_up_ms))
        .measurement_time(std::time::Duration::from_secs(measure_s))
        .sample_size(samples)
}
