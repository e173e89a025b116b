//! What the model loader asks of the operating system for the arrays it fills.
//!
//! The advice is OS-specific and optional: it changes how fast a large section loads, never
//! what is loaded. This file is the only one in the crate that names `libc` or a target
//! OS; the loader calls [`advise_huge_pages`], which does nothing where no such advice
//! exists.

/// Asks Linux to back `buf` with transparent huge pages, before anything is written to it.
///
/// Most of the time of reading a large section goes to page faults on the fresh array: one
/// per 4 KiB, each zeroing its page; `std::fs::read` pays the same. With 2 MiB pages there
/// are 512 times fewer faults, and the 100 MB load takes a third of the time, 61 → 21 ms
/// (`docs/PERFORMANCE.md`). `MADV_HUGEPAGE` is advice: it changes how the kernel backs the
/// range, never its contents; with transparent huge pages disabled it does nothing, and
/// where the kernel lacks them the call fails and the load runs as before. Only the whole
/// 2 MiB-aligned pages inside `buf` are advised, so no memory outside it is touched. Under
/// `enabled = always` the kernel does this anyway; under `madvise` (the default of most
/// distributions) it does it only when asked.
///
/// The advice belongs to the address range and outlives the array if the allocator keeps
/// the range for later allocations. So only arrays of at least [`ADVISE_MIN`] are advised:
/// glibc serves those with a mapping of their own, unmapped when freed (its mmap threshold
/// never exceeds 32 MiB on 64-bit targets), and the host's other memory keeps its own
/// huge-page policy. Smaller sections load as `std::fs::read` would.
#[cfg(target_os = "linux")]
pub(super) fn advise_huge_pages(buf: &mut [u8]) {
    const HUGE: usize = 2 << 20;
    if buf.len() < ADVISE_MIN {
        return;
    }
    let start = buf.as_mut_ptr() as usize;
    let Some(first) = start.checked_next_multiple_of(HUGE) else { return };
    let last = (start + buf.len()) / HUGE * HUGE;
    if first < last {
        // SAFETY: first..last lies inside buf, which this function borrows mutably, and
        // starts on a page boundary; MADV_HUGEPAGE does not change the memory's contents.
        // The result is ignored: the advice is an optimization only.
        unsafe { libc::madvise(first as *mut libc::c_void, last - first, libc::MADV_HUGEPAGE) };
    }
}

#[cfg(not(target_os = "linux"))]
pub(super) fn advise_huge_pages(_buf: &mut [u8]) {}

/// Arrays advised for huge pages are at least this large (see [`advise_huge_pages`]).
#[cfg(target_os = "linux")]
const ADVISE_MIN: usize = 32 << 20;
