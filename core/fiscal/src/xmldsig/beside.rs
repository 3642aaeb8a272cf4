//! One RSA-SHA1 signature computed on a second thread while the caller computes another: an
//! offline NFC-e with a v3 QR code needs two (the document's and the QR code's), most of the
//! note's cost. The thread is started once and kept: a thread per note would pay OpenSSL's
//! per-thread setup (its random generators, seeded on first use in each thread) every time.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use openssl::error::ErrorStack;
use openssl::pkey::{PKey, Private};

use super::sign::{SignError, rsa_sha1_sign_with};

type Answer = Result<Vec<u8>, ErrorStack>;

struct Job {
    key: PKey<Private>,
    data: Vec<u8>,
    answer: mpsc::SyncSender<Answer>,
}

struct SideThread {
    jobs: mpsc::Sender<Job>,
    /// Set while a job is queued or running: a second caller signs on its own thread rather
    /// than wait behind it.
    busy: AtomicBool,
}

static SIDE: OnceLock<Option<SideThread>> = OnceLock::new();

fn side_thread() -> Option<&'static SideThread> {
    SIDE.get_or_init(|| {
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("tenda-sign".into())
            .spawn(move || {
                for job in queue {
                    let answer = rsa_sha1_sign_with(&job.key, &job.data);
                    if let Some(side) = SIDE.get().and_then(Option::as_ref) {
                        side.busy.store(false, Ordering::Release);
                    }
                    // The caller may have gone (a panic while it waited): nothing to answer.
                    let _ = job.answer.send(answer);
                }
            })
            .ok()
            .map(|_| SideThread {
                jobs,
                busy: AtomicBool::new(false),
            })
    })
    .as_ref()
}

/// A signature being computed (or, when the side thread was busy or could not start, computed
/// already on the caller's thread).
pub(crate) enum PendingSignature {
    Beside {
        answer: mpsc::Receiver<Answer>,
        key: PKey<Private>,
        data: Vec<u8>,
    },
    Done(Answer),
}

/// Starts signing `data` with `key` beside the caller.
pub(crate) fn sign_beside(key: &PKey<Private>, data: Vec<u8>) -> PendingSignature {
    let Some(side) = side_thread() else {
        return PendingSignature::Done(rsa_sha1_sign_with(key, &data));
    };
    if side
        .busy
        .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        return PendingSignature::Done(rsa_sha1_sign_with(key, &data));
    }
    let (answer, receiver) = mpsc::sync_channel(1);
    let job = Job {
        key: key.clone(),
        data: data.clone(),
        answer,
    };
    if side.jobs.send(job).is_err() {
        side.busy.store(false, Ordering::Release);
        return PendingSignature::Done(rsa_sha1_sign_with(key, &data));
    }
    PendingSignature::Beside {
        answer: receiver,
        key: key.clone(),
        data,
    }
}

impl PendingSignature {
    pub(crate) fn wait(self) -> Result<Vec<u8>, SignError> {
        match self {
            PendingSignature::Done(answer) => answer.map_err(SignError::Rsa),
            PendingSignature::Beside { answer, key, data } => receive(&answer)
                // The side thread drops a job unanswered only by dying: sign here instead.
                .unwrap_or_else(|_| rsa_sha1_sign_with(&key, &data))
                .map_err(SignError::Rsa),
        }
    }
}

/// How long a caller checks for the side thread's answer before it sleeps on it. The side
/// signature started about when the caller's own did, so the answer is usually microseconds
/// away, while a sleeping caller runs again only when the scheduler gets round to waking it
/// (tens of microseconds; more on a busy or virtual machine).
const SPIN_FOR: Duration = Duration::from_micros(200);

fn receive(answer: &mpsc::Receiver<Answer>) -> Result<Answer, mpsc::RecvError> {
    // With one core, spinning would only keep the side thread from finishing.
    static SPINNING_PAYS: OnceLock<bool> = OnceLock::new();
    if *SPINNING_PAYS
        .get_or_init(|| std::thread::available_parallelism().is_ok_and(|n| n.get() > 1))
    {
        let start = Instant::now();
        while start.elapsed() < SPIN_FOR {
            match answer.try_recv() {
                Ok(signed) => return Ok(signed),
                Err(mpsc::TryRecvError::Disconnected) => return Err(mpsc::RecvError),
                Err(mpsc::TryRecvError::Empty) => std::hint::spin_loop(),
            }
        }
    }
    answer.recv()
}
