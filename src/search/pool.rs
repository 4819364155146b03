//! The threads that run CPU-bound work on the index (searches, matches): one per core, taking
//! jobs in arrival order from one queue.
//!
//! Dedicated threads rather than turns on the async executor plus the shared blocking pool: a
//! turn is given back only when the async worker holding it runs again, so cores idle between
//! turns while requests queue. Here a thread that finishes a job takes the next one at once,
//! and the jobs queued behind it do not share the cores with it: each takes about its own CPU
//! time once started, which is what keeps the slow end of the latencies close to the middle.
//! (The figures are in bench/README.md, "Searches and matches run on their own threads".)

use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};

type Job = Box<dyn FnOnce() + Send>;

/// Each thread's stack. Query text is bounded before it is parsed (`query::MAX_QUERY_DEPTH`);
/// this is the margin behind that bound, since a stack overflow cannot be caught and ends the
/// whole process. (Rust's default for spawned threads is 2 MiB; the memory is only reserved.)
const STACK_BYTES: usize = 16 * 1024 * 1024;

#[derive(Default)]
struct Queue {
    jobs: Mutex<VecDeque<Job>>,
    ready: Condvar,
    stop: AtomicBool,
}

impl Queue {
    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Job>> {
        // A job runs outside the lock, so a poisoned lock cannot leave the queue half-changed.
        self.jobs.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The next job, or `None` once the pool is dropped and the queue is empty.
    fn next(&self) -> Option<Job> {
        let mut jobs = self.lock();
        loop {
            if let Some(job) = jobs.pop_front() {
                return Some(job);
            }
            if self.stop.load(Ordering::Acquire) {
                return None;
            }
            jobs = self.ready.wait(jobs).unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// The job's thread stopped before it could answer (it panicked).
#[derive(Debug)]
pub struct Lost;

impl std::fmt::Display for Lost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the job panicked before it could answer")
    }
}

impl std::error::Error for Lost {}

pub struct CpuPool {
    queue: Arc<Queue>,
    threads: usize,
}

impl CpuPool {
    /// Starts `threads` threads (at least one). They end when the pool is dropped, after the
    /// jobs already queued.
    pub fn new(threads: usize) -> std::io::Result<Self> {
        let queue = Arc::new(Queue::default());
        let threads = threads.max(1);
        for n in 0..threads {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("liaison-cpu-{n}"))
                .stack_size(STACK_BYTES)
                .spawn(move || {
                    while let Some(job) = queue.next() {
                        // A panicking job only loses its own answer (its caller sees `Lost`).
                        let _ = std::panic::catch_unwind(AssertUnwindSafe(job));
                    }
                })?;
        }
        Ok(Self { queue, threads })
    }

    /// How many jobs wait for a thread.
    pub fn queued(&self) -> usize {
        self.queue.lock().len()
    }

    /// How many threads run jobs.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// One thread per core.
    pub fn per_core() -> std::io::Result<Self> {
        Self::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
    }

    /// Runs `f` on the pool once the jobs queued before it have started; waits for its answer.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Lost> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.queue.lock().push_back(Box::new(move || {
            // The caller may have gone (its request was dropped): nothing to tell it then.
            let _ = tx.send(f());
        }));
        self.queue.ready.notify_one();
        rx.await.map_err(|_| Lost)
    }
}

impl Drop for CpuPool {
    /// Lets the threads end once the queue is empty. Not joined: the last owner may be
    /// dropped on one of them (a job holding the index).
    fn drop(&mut self) {
        self.queue.stop.store(true, Ordering::Release);
        // Taken so that no thread is between its check of `stop` and its wait.
        drop(self.queue.lock());
        self.queue.ready.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        actix_web::rt::System::new().block_on(f)
    }

    #[test]
    fn jobs_answer_and_a_panic_loses_only_its_own_answer() -> Result<(), Lost> {
        let pool = CpuPool::new(2).map_err(|_| Lost)?;
        block_on(async {
            assert_eq!(pool.run(|| 6 * 7).await?, 42);
            assert!(pool.run(|| -> u32 { panic!("boom") }).await.is_err());
            let many: Vec<_> = (0..64).map(|i| pool.run(move || i * 2)).collect();
            let mut sum = 0;
            for f in many {
                sum += f.await?;
            }
            assert_eq!(sum, 2 * (0..64).sum::<i32>());
            Ok(())
        })
    }

    #[test]
    fn threads_end_when_the_pool_is_dropped() -> Result<(), Lost> {
        let pool = CpuPool::new(3).map_err(|_| Lost)?;
        let alive = Arc::downgrade(&pool.queue);
        block_on(pool.run(|| ()))?;
        drop(pool);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while alive.strong_count() > 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert_eq!(alive.strong_count(), 0, "the threads still hold the queue");
        Ok(())
    }
}
