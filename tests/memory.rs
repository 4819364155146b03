//! `memory::release` gives memory the process freed back to the system. Its own test binary:
//! it reads this process's resident memory, which other tests running alongside would move.

/// This process's anonymous resident memory, in KiB (Linux).
fn anonymous_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("RssAnon:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap()
}

#[test]
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn freed_memory_below_live_memory_goes_back_to_the_system() {
    // 256 MiB in small blocks, on another thread (another arena, as an import's threads have):
    // freed, except one block allocated last, which keeps glibc from returning the space
    // below it by itself.
    let before = anonymous_kib();
    let kept = std::thread::spawn(|| {
        let blocks: Vec<Vec<u8>> = (0..256 * 1024).map(|i| vec![i as u8; 1000]).collect();
        let last = vec![1u8; 1000];
        drop(blocks);
        last
    })
    .join()
    .unwrap();
    let held = anonymous_kib();
    assert!(held > before + 200 * 1024, "{before} KiB, then {held} KiB");
    liaison::memory::release();
    let after = anonymous_kib();
    assert!(
        after < before + 50 * 1024,
        "{before} KiB, {held} KiB, then {after} KiB"
    );
    assert_eq!(kept[0], 1);
}
