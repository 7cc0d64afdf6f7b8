//! The sandbox: one wasmtime engine, one pre-instantiation per component and a
//! fresh store per check run, with a deadline, a memory cap and an output cap.
//! Checks get an empty WASI: no directories, environment, arguments, network,
//! and a clock frozen at the start of the scan.

mod cache;
mod host_api;

pub use cache::Cache;

use crate::node::discovery::Discovery;
use crate::node::{Node, NodePath};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use thiserror::Error;
use wasmtime::component::{HasSelf, Linker, ResourceTable};
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, ResourceLimiter, Store,
    Trap,
};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

mod bindings {
    wasmtime::component::bindgen!({ path: "../wit", world: "check" });
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

/// What one item's check may touch, with variables already expanded.
#[derive(Debug, Clone, Default)]
pub struct Grant {
    pub processes: Vec<String>,
    pub environment: Vec<String>,
    pub paths: Vec<NodePath>,
}

/// The store data of one check run.
pub struct CheckState {
    wasi: WasiCtx,
    table: ResourceTable,
    limiter: MemoryCap,
    grant: Grant,
    node: Arc<Node>,
    discovery: Arc<Discovery>,
}

impl WasiView for CheckState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Refuses memory growth past the cap and remembers that it did.
struct MemoryCap {
    max: usize,
    hit: bool,
}

impl ResourceLimiter for MemoryCap {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let ok = desired <= self.max;
        self.hit |= !ok;
        Ok(ok)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
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
        .total_core_instances(POOL_CHECKS * 16)
        .total_memories(POOL_CHECKS * 2)
        .total_tables(POOL_CHECKS * 16)
        .max_core_instances_per_component(16)
        .max_memories_per_component(2)
        .max_tables_per_component(16)
        // No async stacks: checks run synchronously.
        .total_stacks(0)
        .linear_memory_keep_resident(0)
        .table_keep_resident(16 << 10);
    pool
}

/// Checks that may run at once in one sandbox (a scan runs one at a time).
const POOL_CHECKS: u32 = 4;

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
    _ticker: Ticker,
}

impl Sandbox {
    pub fn new(limits: Limits, cache: Option<Cache>) -> Result<Sandbox, SandboxError> {
        let mut config = Config::new();
        config.epoch_interruption(true);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool()));
        let engine = Engine::new(&config).map_err(|e| SandboxError::Engine(e.to_string()))?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
            .map_err(|e| SandboxError::Engine(e.to_string()))?;
        bindings::Check::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)
            .map_err(|e| SandboxError::Engine(e.to_string()))?;
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
        })
    }

    /// Compile (or take from the cache) and pre-instantiate a component;
    /// `sha256` is the hex digest of `wasm`, which keys the cache.
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
        let pre = self.linker.instantiate_pre(&component).map_err(bad)?;
        let pre = bindings::CheckPre::new(pre).map_err(bad)?;
        self.pres.insert(name.to_owned(), pre);
        Ok(())
    }

    pub fn has(&self, name: &str) -> bool {
        self.pres.contains_key(name)
    }

    /// Run one check in a fresh instance. Whatever goes wrong becomes an
    /// `error` outcome for this check alone.
    pub fn run(
        &self,
        component: &str,
        settings: &str,
        grant: Grant,
        node: Arc<Node>,
        discovery: Arc<Discovery>,
    ) -> Outcome {
        let Some(pre) = self.pres.get(component) else {
            return error(format!("check component {component:?} is not loaded"));
        };
        let mut wasi = WasiCtx::builder();
        wasi.wall_clock(Frozen(self.frozen_at))
            .monotonic_clock(Frozen(self.frozen_at));
        let state = CheckState {
            wasi: wasi.build(),
            table: ResourceTable::new(),
            limiter: MemoryCap {
                max: self.limits.memory_bytes,
                hit: false,
            },
            grant,
            node,
            discovery,
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limiter);
        let ticks = (self.limits.deadline.as_micros() / TICK.as_micros()).max(1) as u64;
        store.set_epoch_deadline(ticks);
        store.epoch_deadline_trap();

        let result = pre
            .instantiate(&mut store)
            .and_then(|check| check.call_run(&mut store, settings));
        match result {
            Ok(outcome) => {
                let size = outcome.expected.len() + outcome.actual.len() + outcome.reason.len();
                if size > self.limits.output_bytes {
                    error(format!(
                        "the check returned {size} bytes of text; the cap is {}",
                        self.limits.output_bytes
                    ))
                } else {
                    outcome
                }
            }
            Err(e) => {
                if store.data().limiter.hit {
                    error(format!(
                        "the check exceeded its memory cap of {} MiB",
                        self.limits.memory_bytes >> 20
                    ))
                } else if e.downcast_ref::<Trap>() == Some(&Trap::Interrupt) {
                    error(format!(
                        "the check timed out after {:?}",
                        self.limits.deadline
                    ))
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
