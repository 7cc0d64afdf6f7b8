//! The sandbox: one wasmtime engine, one pre-instantiation per component and a
//! fresh store per check run, with a deadline, a memory cap and an output cap.
//! Checks get an empty WASI: no directories, environment, arguments, network,
//! and a clock frozen at the start of the scan.

mod batch;
mod cache;
pub mod contract;
mod host_api;
mod secrets;

pub(crate) use cache::random;
pub use cache::{Cache, CacheError};

use crate::node::discovery::Discovery;
use crate::node::{Node, NodePath};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use thiserror::Error;
use wasmtime::component::{HasSelf, Linker, ResourceTable};
use wasmtime::{
    Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, ResourceLimiter,
    Store, Trap,
};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

mod bindings {
    // Trappable: a host call that finds the deadline passed ends the check.
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "check",
        imports: { default: trappable },
    });
}

pub use bindings::{Outcome, Status};

/// How often the engine's epoch advances; the deadline's resolution.
const TICK: Duration = Duration::from_millis(5);

/// The limits every check runs under.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub deadline: Duration,
    pub memory_bytes: usize,
    /// Most bytes of text an outcome may carry back.
    pub output_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            deadline: Duration::from_secs(2),
            memory_bytes: 32 << 20,
            output_bytes: 64 << 10,
        }
    }
}

#[derive(Debug, Error)]
pub enum SandboxError {
    #[error("component {name:?} is not a valid kubecis check component: {message}")]
    Component { name: String, message: String },
    #[error("starting the WebAssembly engine: {0}")]
    Engine(String),
}

/// What one item's check may touch, with variables already expanded (see
/// `bundle::Grants`).
#[derive(Debug, Clone, Default)]
pub struct Grant {
    pub processes: Vec<String>,
    pub environment: BTreeMap<String, Vec<String>>,
    pub metadata: Vec<NodePath>,
    pub content: Vec<NodePath>,
    /// A larger memory cap than the sandbox's, in bytes.
    pub memory_bytes: Option<usize>,
}

/// The store data of one check run.
pub struct CheckState {
    wasi: WasiCtx,
    table: ResourceTable,
    limiter: MemoryCap,
    grant: Grant,
    node: Arc<Node>,
    discovery: Arc<Discovery>,
    /// When host calls stop answering (the epoch stops the check's own code).
    deadline: Instant,
    timed_out: bool,
    /// Bytes the host has handed to the check so far.
    handed: usize,
}

impl WasiView for CheckState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Refuses growth past the caps and remembers that it did. The caps are on
/// the sum over every memory and table of the run, however many instances
/// and memories the component declares.
struct MemoryCap {
    max: usize,
    memory: usize,
    table_elements: usize,
    hit: bool,
}

/// Most table elements (function references) of one run, summed over tables.
const MAX_TABLE_ELEMENTS: usize = 100_000;

impl ResourceLimiter for MemoryCap {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let total = self.memory - current.min(self.memory) + desired;
        let ok = total <= self.max;
        if ok {
            self.memory = total;
        }
        self.hit |= !ok;
        Ok(ok)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let total = self.table_elements - current.min(self.table_elements) + desired;
        let ok = total <= MAX_TABLE_ELEMENTS;
        if ok {
            self.table_elements = total;
        }
        self.hit |= !ok;
        Ok(ok)
    }

    fn instances(&self) -> usize {
        MAX_CORE_INSTANCES as usize
    }

    fn memories(&self) -> usize {
        MAX_MEMORIES as usize
    }

    fn tables(&self) -> usize {
        MAX_TABLES as usize
    }
}

/// Advances the engine's epoch until dropped.
struct Ticker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Ticker {
    fn start(engine: Engine) -> Ticker {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("kubecis-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    // Parked, so that dropping the ticker wakes it at once.
                    std::thread::park_timeout(TICK);
                    engine.increment_epoch();
                }
            })
            .expect("spawning the epoch thread");
        Ticker {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}

/// Instances come from a pool of slots set up once: a fresh instance per
/// check then costs no mmap/munmap, and the pool's per-component bounds cap
/// what one check can take however many memories or instances it declares.
/// The memory cap itself is the limiter's, so that a component asking for
/// more is an error of its items, not a component refused for every item.
fn pool() -> PoolingAllocationConfig {
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(POOL_CHECKS)
        .total_core_instances(POOL_CHECKS * MAX_CORE_INSTANCES)
        .total_memories(POOL_CHECKS * MAX_MEMORIES)
        .total_tables(POOL_CHECKS * MAX_TABLES)
        .max_core_instances_per_component(MAX_CORE_INSTANCES)
        .max_memories_per_component(MAX_MEMORIES)
        .max_tables_per_component(MAX_TABLES)
        // No async stacks: checks run synchronously.
        .total_stacks(0)
        // A slot's memory is reset for the next check by writing back only
        // the pages the last one dirtied (found with PAGEMAP_SCAN where the
        // kernel has it), not unmapped: the next instance takes no page
        // faults for them. Every instance still starts from the image.
        .pagemap_scan(Enabled::Auto)
        .linear_memory_keep_resident(if pagemap_scan() { KEEP_RESIDENT } else { 0 })
        .table_keep_resident(16 << 10);
    pool
}

/// Whether the kernel has PAGEMAP_SCAN (Linux 6.7): without it, keeping
/// pages resident means wasmtime writes the whole kept range back for every
/// instance, which costs more than the page faults it saves.
fn pagemap_scan() -> bool {
    // SAFETY: uname fills the struct it is given.
    let mut name: libc::utsname = unsafe { std::mem::zeroed() };
    if unsafe { libc::uname(&mut name) } != 0 {
        return false;
    }
    // SAFETY: release is a NUL-terminated string within the struct.
    let release = unsafe { std::ffi::CStr::from_ptr(name.release.as_ptr()) };
    kernel_at_least(&release.to_string_lossy(), (6, 7))
}

/// `6.18.44-fc-v1045` is at least 6.7.
fn kernel_at_least(release: &str, (major, minor): (u32, u32)) -> bool {
    let mut parts = release
        .split(|c: char| !c.is_ascii_digit())
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let found = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    found >= (major, minor)
}

/// Bytes of each memory slot kept mapped between instances: a Rust check's
/// stack (1 MiB), data and the heap a check typically uses.
const KEEP_RESIDENT: usize = 4 << 20;

/// Checks that may run at once in one sandbox: a scan runs one at a time,
/// and a few slots stay for runs abandoned in a stuck host call.
const POOL_CHECKS: u32 = 4;

/// What one check's component may hold: core instances (a Rust check has
/// about four; CPython built by componentize-py, linked from shared
/// libraries, 38), linear memories and tables.
const MAX_CORE_INSTANCES: u32 = 64;
const MAX_MEMORIES: u32 = 2;
const MAX_TABLES: u32 = 16;

/// Statistics of loading components, for the report and the benchmark.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoadStats {
    pub compiled: usize,
    pub from_cache: usize,
}

pub struct Sandbox {
    engine: Engine,
    linker: Linker<CheckState>,
    pres: HashMap<String, bindings::CheckPre<CheckState>>,
    limits: Limits,
    cache: Option<Cache>,
    frozen_at: Duration,
    pub stats: LoadStats,
    /// Runs given up in host calls that never returned, over the sandbox's life.
    stuck: std::sync::atomic::AtomicUsize,
    _ticker: Ticker,
}

/// What a trap says when a check tries to wait on a clock.
const NO_WAITING: &str =
    "checks may not wait (sleep or poll a clock): a host thread would block past the deadline";

/// The WASI version whose clock interface the linker serves.
const WASI_CLOCKS: &str = "wasi:clocks/monotonic-clock@0.2.12";

impl Sandbox {
    pub fn new(limits: Limits, cache: Option<Cache>) -> Result<Sandbox, SandboxError> {
        let engine_error = |e: wasmtime::Error| SandboxError::Engine(format!("{e:#}"));
        let mut config = Config::new();
        config.epoch_interruption(true);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool()));
        let engine = Engine::new(&config).map_err(engine_error)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(engine_error)?;
        // A check's sleep or poll on a timer would block the host thread in
        // a host call, where the epoch cannot stop it: such calls trap.
        linker.allow_shadowing(true);
        let mut clocks = linker.instance(WASI_CLOCKS).map_err(engine_error)?;
        for name in ["subscribe-duration", "subscribe-instant"] {
            clocks
                .func_new(name, |_, _, _, _| Err(wasmtime::Error::msg(NO_WAITING)))
                .map_err(engine_error)?;
        }
        linker.allow_shadowing(false);
        bindings::Check::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)
            .map_err(engine_error)?;
        let frozen_at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Ok(Sandbox {
            _ticker: Ticker::start(engine.clone()),
            engine,
            linker,
            pres: HashMap::new(),
            limits,
            cache,
            frozen_at,
            stats: LoadStats::default(),
            stuck: std::sync::atomic::AtomicUsize::new(0),
        })
    }

    /// Compile (or take from the cache) and pre-instantiate a component;
    /// `sha256` is the hex digest of `wasm`, which keys the cache and the
    /// loaded components (`name` is for messages).
    pub fn load(&mut self, name: &str, wasm: &[u8], sha256: &str) -> Result<(), SandboxError> {
        let bad = |e: wasmtime::Error| SandboxError::Component {
            name: name.to_owned(),
            message: format!("{e:#}"),
        };
        let component = match &self.cache {
            Some(cache) => {
                let (c, cached) = cache.load(&self.engine, wasm, sha256).map_err(bad)?;
                if cached {
                    self.stats.from_cache += 1
                } else {
                    self.stats.compiled += 1
                }
                c
            }
            None => {
                self.stats.compiled += 1;
                wasmtime::component::Component::new(&self.engine, wasm).map_err(bad)?
            }
        };
        let component_type = component.component_type();
        let imports = component_type.imports(&self.engine);
        contract::required(imports.map(|(name, _)| name)).map_err(|message| {
            SandboxError::Component {
                name: name.to_owned(),
                message,
            }
        })?;
        let pre = self.linker.instantiate_pre(&component).map_err(bad)?;
        let pre = bindings::CheckPre::new(pre).map_err(bad)?;
        self.pres.insert(sha256.to_owned(), pre);
        Ok(())
    }

    /// Whether the component of this digest is loaded.
    pub fn has(&self, sha256: &str) -> bool {
        self.pres.contains_key(sha256)
    }

    /// Run checks one after another, each in a fresh instance, on a thread
    /// of their own (see `batch`); outcomes in the order of `runs`. Whatever
    /// goes wrong becomes an `error` outcome for that check alone.
    pub fn run_all(
        &self,
        runs: Vec<CheckRun>,
        node: Arc<Node>,
        discovery: Arc<Discovery>,
    ) -> Vec<Outcome> {
        let jobs: Vec<Box<dyn FnOnce() -> Outcome + Send>> = runs
            .into_iter()
            .map(|run| -> Box<dyn FnOnce() -> Outcome + Send> {
                let Some(pre) = self.pres.get(&run.digest) else {
                    let why = format!("check component {:?} is not loaded", run.component);
                    return Box::new(move || error(why));
                };
                let prepared = Run {
                    pre: pre.clone(),
                    engine: self.engine.clone(),
                    settings: run.settings,
                    state: self.state(run.grant, node.clone(), discovery.clone()),
                    limits: self.limits,
                };
                Box::new(move || prepared.execute())
            })
            .collect();
        // Each stuck run keeps its instance slot; one slot stays for the rest.
        let stuck = self.stuck.load(std::sync::atomic::Ordering::SeqCst);
        let slots_left = (POOL_CHECKS as usize - 1).saturating_sub(stuck);
        if slots_left == 0 {
            let why = format!(
                "not run: {stuck} checks are stuck in host calls the kernel never completed, and each holds a sandbox slot"
            );
            return jobs.iter().map(|_| error(why.clone())).collect();
        }
        let (outcomes, given_up) =
            batch::run(jobs, self.limits.deadline + HOST_CALL_GRACE, slots_left);
        self.stuck
            .fetch_add(given_up, std::sync::atomic::Ordering::SeqCst);
        outcomes
    }

    fn state(&self, grant: Grant, node: Arc<Node>, discovery: Arc<Discovery>) -> CheckState {
        let mut wasi = WasiCtx::builder();
        wasi.wall_clock(Frozen(self.frozen_at))
            .monotonic_clock(Frozen(self.frozen_at))
            // WASI's default lets one call allocate 64 MiB of random bytes.
            .max_random_size(4096);
        CheckState {
            wasi: wasi.build(),
            table: ResourceTable::new(),
            limiter: MemoryCap {
                max: grant.memory_bytes.map_or(self.limits.memory_bytes, |m| {
                    m.max(self.limits.memory_bytes)
                }),
                memory: 0,
                table_elements: 0,
                hit: false,
            },
            grant,
            node,
            discovery,
            deadline: Instant::now(),
            timed_out: false,
            handed: 0,
        }
    }
}

/// One check to run: its component (by name, and by digest as loaded), its
/// settings as JSON, its grant.
pub struct CheckRun {
    pub component: String,
    pub digest: String,
    pub settings: String,
    pub grant: Grant,
}

/// How long past its deadline a run may take to come back before its worker
/// is given up on: only a host call stuck in the kernel takes that long.
const HOST_CALL_GRACE: Duration = Duration::from_secs(1);

/// One check run, ready to execute on the worker thread.
struct Run {
    pre: bindings::CheckPre<CheckState>,
    engine: Engine,
    settings: String,
    state: CheckState,
    limits: Limits,
}

impl Run {
    fn execute(mut self) -> Outcome {
        self.state.deadline = Instant::now() + self.limits.deadline;
        let mut store = Store::new(&self.engine, self.state);
        store.limiter(|s| &mut s.limiter);
        let ticks = (self.limits.deadline.as_micros() / TICK.as_micros()).max(1) as u64;
        store.set_epoch_deadline(ticks);
        store.epoch_deadline_trap();

        let result = self
            .pre
            .instantiate(&mut store)
            .and_then(|check| check.call_run(&mut store, &self.settings));
        let limits = self.limits;
        match result {
            Ok(outcome) => {
                let size = outcome.expected.len() + outcome.actual.len() + outcome.reason.len();
                if size > limits.output_bytes {
                    error(format!(
                        "the check returned {size} bytes of text; the cap is {}",
                        limits.output_bytes
                    ))
                } else {
                    outcome
                }
            }
            Err(e) => {
                let state = store.data();
                if state.limiter.hit {
                    error(format!(
                        "the check exceeded its memory cap of {} MiB (or its table cap)",
                        state.limiter.max >> 20
                    ))
                } else if state.timed_out || e.downcast_ref::<Trap>() == Some(&Trap::Interrupt) {
                    error(format!("the check timed out after {:?}", limits.deadline))
                } else {
                    error(format!("the check trapped: {}", e.root_cause()))
                }
            }
        }
    }
}

fn error(reason: String) -> Outcome {
    Outcome {
        status: Status::Error,
        expected: String::new(),
        actual: String::new(),
        reason,
    }
}

/// A clock that always tells the time the scan started.
struct Frozen(Duration);

impl wasmtime_wasi::HostWallClock for Frozen {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }
    fn now(&self) -> Duration {
        self.0
    }
}

impl wasmtime_wasi::HostMonotonicClock for Frozen {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_releases_compare_by_major_and_minor() {
        assert!(kernel_at_least("6.18.44-fc-v1045", (6, 7)));
        assert!(kernel_at_least("6.7.0", (6, 7)));
        assert!(!kernel_at_least("6.6.30-amd64", (6, 7)));
        assert!(!kernel_at_least("5.15.0-105-generic", (6, 7)));
        assert!(kernel_at_least("7.0", (6, 7)));
    }

    #[test]
    fn the_memory_cap_is_on_the_sum_of_every_memory() {
        let mut cap = MemoryCap {
            max: 32 << 20,
            memory: 0,
            table_elements: 0,
            hit: false,
        };
        assert!(cap.memory_growing(0, 20 << 20, None).unwrap());
        // A second memory of the same size would each be under the cap.
        assert!(!cap.memory_growing(0, 20 << 20, None).unwrap());
        assert!(cap.hit);
        assert!(cap.memory_growing(0, 12 << 20, None).unwrap());
        assert!(!cap.memory_growing(12 << 20, 13 << 20, None).unwrap());
        assert!(cap.table_growing(0, 60_000, None).unwrap());
        assert!(!cap.table_growing(0, 60_000, None).unwrap());
    }
}
