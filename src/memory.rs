//! Giving memory the process has freed back to the system.
//!
//! glibc's allocator keeps what a thread frees in that thread's arena and returns to the
//! system only the free space at the top of each heap. A bulk import frees hundreds of MiB
//! (request bodies, the index writer's buffers, merges) in the arenas of many threads, below
//! memory still in use, so without help the process stays at its high-water mark long after.
//! `malloc_trim(0)` walks every arena and gives the free pages back (`madvise`).

use std::sync::Once;
use std::time::Duration;

/// Gives freed memory back to the system; returns whether the allocator released anything.
/// Off glibc, nothing (other allocators return memory themselves, or have no such call).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn release() -> bool {
    // SAFETY: `malloc_trim` takes no pointers and has no preconditions; glibc serialises it
    // with every other allocator call, arena by arena.
    unsafe { libc::malloc_trim(0) == 1 }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn release() -> bool {
    false
}

/// Starts (once per process) a thread that releases freed memory every `every`.
pub fn release_periodically(every: Duration) {
    static STARTED: Once = Once::new();
    STARTED.call_once(|| {
        let started = std::thread::Builder::new()
            .name("liaison-memory".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(every);
                    release();
                }
            });
        if let Err(e) = started {
            tracing::warn!(error = %e, "cannot start the memory release thread");
        }
    });
}
