//! argon2id password hashing on threads of its own: off the async workers,
//! at most one hash per core at a time, in reused working memory.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Arc, Mutex, PoisonError};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use rocket::tokio::sync::{oneshot, OnceCell};

use crate::error::Error;

/// A hash to compute, given its thread's working memory.
type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

/// The application's password hasher (Rocket-managed state).
///
/// One thread per core takes hashes from one queue, so hashes never run on
/// the async workers and never more than the cores at once; a thread starts
/// its next hash the moment it finishes one. Each keeps argon2's 19 MiB of
/// working memory for the next hash rather than allocating it per hash. The
/// threads end when the hasher is dropped.
pub struct Hasher {
    jobs: mpsc::Sender<Job>,
    /// What an unknown user's login is checked against (see [`Hasher::verify`]).
    dummy: OnceCell<String>,
}

impl Hasher {
    pub fn start() -> Self {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        for i in 0..cores {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || {
                    yield_to_requests();
                    let mut memory = Vec::new();
                    loop {
                        let job = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
                        let Ok(job) = job else { return };
                        // A panic drops the job's reply (the caller gets an
                        // error), not the thread.
                        catch_unwind(AssertUnwindSafe(|| job(&mut memory))).ok();
                    }
                })
                .expect("start a hashing thread");
        }
        Hasher {
            jobs,
            dummy: OnceCell::new(),
        }
    }

    /// Runs one argon2 job on the hashing threads and waits for its result.
    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T, Error> {
        let (reply, result) = oneshot::channel();
        self.jobs
            .send(Box::new(move |memory| {
                reply.send(job(memory)).ok();
            }))
            .map_err(|_| Error::Internal)?;
        result.await.map_err(|_| Error::Internal)
    }

    /// An argon2id PHC string for `password`, with the crate's defaults
    /// (m = 19 MiB, t = 2, p = 1: OWASP's recommendation).
    pub async fn hash(&self, password: String) -> Result<String, Error> {
        self.run(move |memory| phc_hash(memory, password.as_bytes()))
            .await?
    }

    /// Whether `password` matches the stored hash. With no hash (an unknown
    /// user) a dummy hash is verified instead, so the answer takes the same time.
    pub async fn verify(&self, password: String, stored: Option<String>) -> Result<bool, Error> {
        let known = stored.is_some();
        let stored = match stored {
            Some(hash) => hash,
            None => self
                .dummy
                .get_or_try_init(|| self.hash("leads-timing-equaliser".to_owned()))
                .await?
                .clone(),
        };
        let matches = self
            .run(move |memory| matches_phc(memory, password.as_bytes(), &stored))
            .await?;
        Ok(known && matches)
    }
}

/// The hashing threads' nice value: requests that need little CPU (a
/// listing, the current user) go before hashes when the cores are busy,
/// while hashes still take every core that would otherwise idle.
const HASHING_NICE: i32 = 5;

/// Lowers the calling thread's priority to [`HASHING_NICE`].
fn yield_to_requests() {
    // SAFETY: setpriority touches no memory of ours. On Linux the nice value
    // is per thread, and `who = 0` names the calling thread. A failure
    // leaves the default priority: slower listings under logins, no harm.
    #[cfg(target_os = "linux")]
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, HASHING_NICE);
    }
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

/// An argon2id PHC string for `password` with a new salt, in `memory`.
fn phc_hash(memory: &mut Vec<Block>, password: &[u8]) -> Result<String, Error> {
    let argon2 = Argon2::default();
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt
        .as_salt()
        .decode_b64(&mut salt_bytes)
        .map_err(|_| Error::Internal)?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    if !compute(&argon2, memory, password, salt_bytes, &mut out) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    /// Twice as many jobs as cores, submitted together, run one per core:
    /// never more at once, and every core used.
    #[test]
    fn hashes_run_at_most_one_per_core_at_a_time() {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let hasher = Hasher::start();
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        rocket::execute(async {
            let jobs = (0..cores * 2).map(|_| {
                let (running, most) = (running.clone(), most.clone());
                hasher.run(move |_| {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(100));
                    running.fetch_sub(1, Ordering::SeqCst);
                })
            });
            for done in rocket::futures::future::join_all(jobs).await {
                done.unwrap();
            }
        });
        assert_eq!(most.load(Ordering::SeqCst), cores);
    }

    /// Our hashes are what the crate's own API makes and checks, both ways.
    #[test]
    fn agrees_with_the_password_hash_api() {
        let hasher = Hasher::start();
        let ours = rocket::execute(hasher.hash("Tr0ubadour-and-3".into())).unwrap();
        assert!(ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default()
            .verify_password(b"Tr0ubadour-and-3", &parsed)
            .is_ok());
        assert!(rocket::execute(hasher.verify("Tr0ubadour-and-3".into(), Some(ours))).unwrap());
        assert!(!rocket::execute(hasher.verify("Tr0ubadour-and-3".into(), None)).unwrap());

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

    /// The hashing threads run at the lower priority, and end with their
    /// hasher.
    #[cfg(target_os = "linux")]
    #[test]
    fn hashing_threads_yield_to_requests_and_end_with_their_hasher() {
        let hasher = Hasher::start();
        // SAFETY: gettid has no preconditions.
        let tid = rocket::execute(hasher.run(|_| unsafe { libc::gettid() })).unwrap();
        let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).unwrap();
        // "tid (name) state ...": the nice value is field 19.
        let (name, rest) = stat.split_once(") ").unwrap();
        assert!(name.contains("(argon2-"), "{stat}");
        let nice: i32 = rest.split(' ').nth(16).unwrap().parse().unwrap();
        assert_eq!(nice, HASHING_NICE, "{stat}");

        let task = std::path::PathBuf::from(format!("/proc/self/task/{tid}"));
        drop(hasher);
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while task.exists() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(!task.exists(), "the hashing thread outlived its hasher");
    }
}
