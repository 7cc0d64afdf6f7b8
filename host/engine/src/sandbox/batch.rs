//! Runs a scan's checks, one after another, on a thread of its own, so that
//! a host call stuck in the kernel (a read of a hung network file system, a
//! `/proc` entry of a process stuck in the kernel) costs its check, not the
//! scan: the caller waits for each outcome at most `wait`, and past that
//! gives the stuck thread up and goes on with a fresh one.
//!
//! The whole batch goes to the thread at once: handing over each check on
//! its own would cost two thread wake-ups per check, more than the check.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

/// What one job yields; the outcome of a check.
pub(super) type Outcome = super::Outcome;

/// Runs `jobs` in order and returns their outcomes in the same order, and
/// how many threads were given up. A job still running `wait` after it
/// started is given up on as an error; one that panics is an error too.
/// After `max_given_up` stuck jobs (each holds an instance slot of the
/// pool) the rest are errors without running.
pub(super) fn run<J>(jobs: Vec<J>, wait: Duration, max_given_up: usize) -> (Vec<Outcome>, usize)
where
    J: FnOnce() -> Outcome + Send + 'static,
{
    let count = jobs.len();
    let shared = Arc::new(Shared {
        queue: Mutex::new(jobs.into_iter().enumerate().collect()),
        outcomes: Mutex::new((0..count).map(|_| None).collect()),
    });
    // The caller sleeps until the batch is done, waking only now and then to
    // see whether a job is stuck: a wake-up per check would cost more than the check.
    let look = (wait / 4).max(Duration::from_millis(10));
    let (finished, done) = mpsc::channel::<()>();
    let mut given_up = 0;
    loop {
        let worker = match Worker::start(&shared, &finished) {
            Ok(w) => w,
            Err(e) => {
                shared.fill(|| failed(format!("starting a thread for the checks: {e}")));
                break;
            }
        };
        let stuck = loop {
            match done.recv_timeout(look) {
                Ok(()) => break None,
                Err(mpsc::RecvTimeoutError::Disconnected) => break None,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if let Some(index) = worker.stuck_for(wait) {
                        break Some(index);
                    }
                }
            }
        };
        let Some(index) = stuck else { break };
        worker.given_up.store(true, Ordering::SeqCst);
        given_up += 1;
        shared.set(
            index,
            failed(format!(
                "the check did not come back within {wait:?}: a host call is stuck reading the node"
            )),
        );
        if given_up >= max_given_up {
            shared
                .queue
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clear();
            shared.fill(|| {
                failed(format!(
                    "not run: {given_up} checks are stuck in host calls the kernel never completed, and each holds a sandbox slot"
                ))
            });
            break;
        }
        if shared
            .queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_empty()
        {
            break;
        }
    }
    let outcomes = std::mem::take(&mut *shared.outcomes.lock().unwrap_or_else(|p| p.into_inner()));
    let outcomes = outcomes
        .into_iter()
        .map(|o| o.unwrap_or_else(|| failed("the check was lost with a stuck thread".into())))
        .collect();
    (outcomes, given_up)
}

struct Shared<J> {
    queue: Mutex<VecDeque<(usize, J)>>,
    outcomes: Mutex<Vec<Option<Outcome>>>,
}

impl<J> Shared<J> {
    /// The first outcome of a job wins: a given-up worker may answer late.
    fn set(&self, index: usize, outcome: Outcome) {
        let mut outcomes = self.outcomes.lock().unwrap_or_else(|p| p.into_inner());
        if outcomes[index].is_none() {
            outcomes[index] = Some(outcome);
        }
    }

    fn fill(&self, outcome: impl Fn() -> Outcome) {
        let mut outcomes = self.outcomes.lock().unwrap_or_else(|p| p.into_inner());
        for slot in outcomes.iter_mut().filter(|o| o.is_none()) {
            *slot = Some(outcome());
        }
    }
}

struct Worker {
    /// 1 + the index of the job running, 0 when none.
    busy: Arc<AtomicUsize>,
    /// When that job started, in microseconds since `epoch`.
    since: Arc<AtomicU64>,
    epoch: Instant,
    given_up: Arc<AtomicBool>,
}

impl Worker {
    fn start<J>(shared: &Arc<Shared<J>>, finished: &mpsc::Sender<()>) -> std::io::Result<Worker>
    where
        J: FnOnce() -> Outcome + Send + 'static,
    {
        let worker = Worker {
            busy: Arc::new(AtomicUsize::new(0)),
            since: Arc::new(AtomicU64::new(0)),
            epoch: Instant::now(),
            given_up: Arc::new(AtomicBool::new(false)),
        };
        let (shared, finished) = (shared.clone(), finished.clone());
        let (busy, since, given_up, epoch) = (
            worker.busy.clone(),
            worker.since.clone(),
            worker.given_up.clone(),
            worker.epoch,
        );
        std::thread::Builder::new()
            .name("kubecis-checks".into())
            .spawn(move || {
                loop {
                    if given_up.load(Ordering::SeqCst) {
                        return;
                    }
                    let next = shared
                        .queue
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .pop_front();
                    let Some((index, job)) = next else {
                        let _ = finished.send(());
                        return;
                    };
                    since.store(epoch.elapsed().as_micros() as u64, Ordering::SeqCst);
                    busy.store(index + 1, Ordering::SeqCst);
                    let outcome = catch_unwind(AssertUnwindSafe(job)).unwrap_or_else(|_| {
                        failed("the host failed while serving the check".into())
                    });
                    busy.store(0, Ordering::SeqCst);
                    shared.set(index, outcome);
                }
            })?;
        Ok(worker)
    }

    /// The job running for longer than `wait`, if any.
    fn stuck_for(&self, wait: Duration) -> Option<usize> {
        let index = self.busy.load(Ordering::SeqCst).checked_sub(1)?;
        let since = Duration::from_micros(self.since.load(Ordering::SeqCst));
        (self.epoch.elapsed().saturating_sub(since) > wait).then_some(index)
    }
}

fn failed(reason: String) -> Outcome {
    super::error(reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    type Job = Box<dyn FnOnce() -> Outcome + Send>;

    #[test]
    fn a_stuck_or_panicking_job_costs_itself_only() {
        let jobs: Vec<Job> = vec![
            Box::new(|| failed("first".into())),
            Box::new(|| {
                std::thread::sleep(Duration::from_secs(30));
                failed("never".into())
            }),
            Box::new(|| failed("third".into())),
            Box::new(|| panic!("a host bug")),
            Box::new(|| failed("fifth".into())),
        ];
        let started = Instant::now();
        let (outcomes, given_up) = run(jobs, Duration::from_millis(200), 3);
        assert_eq!(given_up, 1);
        assert!(started.elapsed() < Duration::from_secs(5));
        let reasons: Vec<&str> = outcomes.iter().map(|o| o.reason.as_str()).collect();
        assert_eq!(reasons[0], "first");
        assert!(reasons[1].contains("did not come back"), "{}", reasons[1]);
        assert_eq!(reasons[2], "third");
        assert!(reasons[3].contains("host failed"), "{}", reasons[3]);
        assert_eq!(reasons[4], "fifth");
    }

    #[test]
    fn past_the_stuck_limit_the_rest_do_not_run() {
        let stuck = || -> Job {
            Box::new(|| {
                std::thread::sleep(Duration::from_secs(30));
                failed("never".into())
            })
        };
        let jobs: Vec<Job> = vec![stuck(), stuck(), Box::new(|| failed("third".into()))];
        let (outcomes, given_up) = run(jobs, Duration::from_millis(100), 2);
        assert_eq!(given_up, 2);
        assert!(
            outcomes[2].reason.contains("not run: 2 checks are stuck"),
            "{}",
            outcomes[2].reason
        );
    }
}
