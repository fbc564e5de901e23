//! argon2id password hashing, off the async workers, bounded, and in reused
//! working memory.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Arc, LazyLock, Mutex, PoisonError};
use std::time::Duration;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use rocket::tokio::sync::{oneshot, OnceCell};

use crate::error::Error;
use crate::http::load;

/// A hash to compute, given its thread's working memory.
type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

/// One thread per core takes hashes from one queue, so at most one hash per
/// core runs at a time, and none on the async workers. A thread starts its
/// next hash the moment it finishes one: with the blocking pool behind a
/// semaphore, a slot stayed idle until the finished request's task had run
/// again. Each thread keeps argon2's working memory (19 MiB) for its next
/// hash: allocating it per hash costs thousands of page faults, and the
/// allocator kept freed blocks in per-thread arenas (500+ MB resident after
/// a burst of logins).
///
/// The last core's thread is a spare: it takes a hash only while no other
/// request is being served (see [`Spare`]), so that logins alone get every
/// core, and other requests under logins keep one core free of hashes.
/// Listing at 64 connections beside 8 logging in (bench scenario 6 on
/// PostgreSQL, 2 cores), the listing's p99 was 7.5-9.3 ms with both threads
/// hashing and 6.2-6.7 ms with the spare waiting, at 26-27k requests/s
/// instead of 21-22k; logins went from 46 to 41 a second.
static HASHERS: LazyLock<mpsc::Sender<Job>> = LazyLock::new(|| {
    let (jobs, queue) = mpsc::channel::<Job>();
    let queue = Arc::new(Mutex::new(queue));
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    for i in 0..cores {
        let queue = queue.clone();
        let mut spare = (cores > 1 && i == cores - 1).then(|| Spare::new(jobs.clone()));
        std::thread::Builder::new()
            .name(format!("argon2-{i}"))
            .spawn(move || {
                yield_to_requests();
                let mut memory = Vec::new();
                loop {
                    let job = match &mut spare {
                        Some(spare) => spare.next_job(&queue),
                        None => queue
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .recv()
                            .ok(),
                    };
                    let Some(job) = job else { return };
                    // A panic drops the job's reply (the caller gets an
                    // error), not the thread.
                    catch_unwind(AssertUnwindSafe(|| job(&mut memory))).ok();
                }
            })
            .expect("start a hashing thread");
    }
    jobs
});

/// How often the spare thread looks again, while requests are served,
/// at whether it may hash.
const SPARE_POLL: Duration = Duration::from_millis(5);

/// The spare hashing thread's view of the server's [`load::Activity`], and
/// the way back into the queue for a hash it should not take.
struct Spare {
    seen: load::Activity,
    requeue: mpsc::Sender<Job>,
}

impl Spare {
    fn new(requeue: mpsc::Sender<Job>) -> Self {
        Spare {
            seen: load::activity(),
            requeue,
        }
    }

    /// Whether the server has been idle since the last look (a hash, a
    /// poll or a wait ago).
    fn idle(&mut self) -> bool {
        let now = load::activity();
        let idle = now.idle_since(self.seen);
        self.seen = now;
        idle
    }

    /// The next hash, taken while the server is idle; `None` once the queue
    /// is gone. It waits for a hash without a timeout, so an idle server's
    /// hashing threads sleep; a hash that finds the server busy goes back
    /// into the queue, for the first core's thread. A hash that arrives
    /// within a poll of the first request can still go to the spare.
    fn next_job(&mut self, queue: &Mutex<mpsc::Receiver<Job>>) -> Option<Job> {
        loop {
            while !self.idle() {
                std::thread::sleep(SPARE_POLL);
            }
            let job = queue
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .recv()
                .ok()?;
            if self.idle() {
                return Some(job);
            }
            self.requeue.send(job).ok()?;
        }
    }
}

/// The hashing threads' nice value. With 8 connections logging in beside a
/// listing at 64 (bench scenario 6, PostgreSQL), the listing's p99 was
/// 29-50 ms at 0 and 21 ms at 5 (19 ms at 10, where the logins' own p99
/// passed a second); logins went from 63-69 to 51-55 a second.
const HASHING_NICE: i32 = 5;

/// Lowers the calling hashing thread's priority, so that requests needing
/// little CPU (a listing, the current user) are not queued behind hashes
/// when the cores are busy. Hashes still take every core that would
/// otherwise idle, so logins alone run as fast as before.
fn yield_to_requests() {
    // SAFETY: setpriority touches no memory of ours. On Linux the nice value
    // is per thread, and `who = 0` names the calling thread. A failure
    // leaves the default priority: slower listings under logins, no harm.
    #[cfg(target_os = "linux")]
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, HASHING_NICE);
    }
}

/// Runs one argon2 job on the hashing threads and waits for its result.
async fn run<T: Send + 'static>(
    job: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
) -> Result<T, Error> {
    let (reply, result) = oneshot::channel();
    HASHERS
        .send(Box::new(move |memory| {
            reply.send(job(memory)).ok();
        }))
        .map_err(|_| Error::Internal)?;
    result.await.map_err(|_| Error::Internal)
}

/// Computes argon2 of `password` into `out`, in the thread's `memory`.
fn compute(
    argon2: &Argon2<'_>,
    memory: &mut Vec<Block>,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> bool {
    memory.resize(argon2.params().block_count(), Block::default());
    argon2
        .hash_password_into_with_memory(password, salt, out, &mut memory[..])
        .is_ok()
}

/// An argon2id PHC string for `password`, with the crate's defaults
/// (m = 19 MiB, t = 2, p = 1: OWASP's recommendation).
pub async fn hash(password: String) -> Result<String, Error> {
    run(move |memory| {
        let argon2 = Argon2::default();
        let salt = SaltString::generate(&mut OsRng);
        let mut salt_bytes = [0u8; 64];
        let salt_bytes = salt
            .as_salt()
            .decode_b64(&mut salt_bytes)
            .map_err(|_| Error::Internal)?;
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        if !compute(&argon2, memory, password.as_bytes(), salt_bytes, &mut out) {
            return Err(Error::Internal);
        }
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(argon2.params()).map_err(|_| Error::Internal)?,
            salt: Some(salt.as_salt()),
            hash: Some(Output::new(&out).map_err(|_| Error::Internal)?),
        };
        Ok(phc.to_string())
    })
    .await?
}

/// Whether `password` matches the stored hash. With no hash (an unknown user)
/// a dummy hash is verified instead, so the answer takes the same time.
pub async fn verify(password: String, stored: Option<String>) -> Result<bool, Error> {
    let known = stored.is_some();
    let stored = match stored {
        Some(hash) => hash,
        None => dummy_hash().await?.to_owned(),
    };
    let matches = run(move |memory| matches_phc(memory, password.as_bytes(), &stored)).await?;
    Ok(known && matches)
}

/// What `PasswordVerifier::verify_password` does, with reused memory: the
/// stored string's algorithm, version and parameters, its salt, and a
/// constant-time comparison of the outputs (`Output`'s `==`).
fn matches_phc(memory: &mut Vec<Block>, password: &[u8], stored: &str) -> bool {
    let Ok(hash) = PasswordHash::new(stored) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else {
        return false;
    };
    let algorithm = Algorithm::try_from(hash.algorithm);
    let version = hash
        .version
        .map_or(Ok(Version::default()), Version::try_from);
    let (Ok(algorithm), Ok(version), Ok(params)) = (algorithm, version, Params::try_from(&hash))
    else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt_bytes) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    let argon2 = Argon2::new(algorithm, version, params);
    compute(&argon2, memory, password, salt_bytes, &mut out)
        && Output::new(&out).is_ok_and(|computed| computed == expected)
}

async fn dummy_hash() -> Result<&'static str, Error> {
    static DUMMY: OnceCell<String> = OnceCell::const_new();
    DUMMY
        .get_or_try_init(|| hash("leads-timing-equaliser".to_owned()))
        .await
        .map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::MutexGuard;

    /// The hashing threads are the process's: tests that use them (or hold
    /// a request's ticket) take turns.
    fn serial() -> MutexGuard<'static, ()> {
        load::SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many of `jobs` jobs, submitted together, ran at once.
    fn most_at_once(jobs: usize) -> usize {
        static RUNNING: AtomicUsize = AtomicUsize::new(0);
        static MOST: AtomicUsize = AtomicUsize::new(0);
        MOST.store(0, Ordering::SeqCst);
        rocket::execute(async {
            let jobs: Vec<_> = (0..jobs)
                .map(|_| {
                    rocket::tokio::spawn(run(|_| {
                        let now = RUNNING.fetch_add(1, Ordering::SeqCst) + 1;
                        MOST.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(200));
                        RUNNING.fetch_sub(1, Ordering::SeqCst);
                    }))
                })
                .collect();
            for job in jobs {
                job.await.unwrap().unwrap();
            }
        });
        MOST.load(Ordering::SeqCst)
    }

    /// While a request is served, hashes run one at a time; on an otherwise
    /// idle server, on every core.
    #[test]
    fn the_spare_thread_hashes_only_while_no_request_is_served() {
        let _serial = serial();
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let request = load::Ticket::enter();
        // The spare notices within a poll or two.
        std::thread::sleep(SPARE_POLL * 4);
        assert_eq!(most_at_once(cores * 2), cores.saturating_sub(1).max(1));
        drop(request);
        assert_eq!(most_at_once(cores * 2), cores);
    }

    /// Our hashes are what the crate's own API makes and checks, both ways.
    #[test]
    fn agrees_with_the_password_hash_api() {
        let _serial = serial();
        let ours = rocket::execute(hash("Tr0ubadour-and-3".into())).unwrap();
        assert!(ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default()
            .verify_password(b"Tr0ubadour-and-3", &parsed)
            .is_ok());

        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::default()
            .hash_password(b"Tr0ubadour-and-3", &salt)
            .unwrap()
            .to_string();
        assert!(matches_phc(&mut Vec::new(), b"Tr0ubadour-and-3", &theirs));
        assert!(!matches_phc(&mut Vec::new(), b"Tr0ubadour-and-4", &theirs));
        assert!(!matches_phc(
            &mut Vec::new(),
            b"Tr0ubadour-and-3",
            "not a hash"
        ));
        // Parameters come from the stored string, not the defaults.
        let cheap = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8, 1, 1, Some(16)).unwrap(),
        )
        .hash_password(b"pw", &salt)
        .unwrap()
        .to_string();
        assert!(matches_phc(&mut Vec::new(), b"pw", &cheap));
        assert!(!matches_phc(&mut Vec::new(), b"px", &cheap));
    }

    /// The hashing threads run at the lower priority.
    #[cfg(target_os = "linux")]
    #[test]
    fn hashing_threads_yield_to_requests() {
        let _serial = serial();
        rocket::execute(hash("Tr0ubadour-and-3".into())).unwrap();
        let mut hashers = 0;
        for task in std::fs::read_dir("/proc/self/task").unwrap() {
            let stat = std::fs::read_to_string(task.unwrap().path().join("stat")).unwrap();
            // "tid (name) state ...": the nice value is field 19.
            let (name, rest) = stat.split_once(") ").unwrap();
            let nice: i32 = rest.split(' ').nth(16).unwrap().parse().unwrap();
            if name.contains("(argon2-") {
                hashers += 1;
                assert_eq!(nice, HASHING_NICE, "{stat}");
            }
        }
        assert!(hashers >= 1);
    }
}
