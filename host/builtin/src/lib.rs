//! What kubecis ships built in, embedded by `build.rs`: the check components
//! built from `checks/` and the bundles of `profiles/` (as JSON), with their
//! digests, the commit and the wasmtime version.

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

pub use embedded::{BUNDLE_DIGESTS, BUNDLE_FILES, COMMIT, COMPONENTS, WASMTIME_VERSION};

/// The built-in components and bundles, as the engine takes them.
pub static BUILTINS: kubecis_engine::Builtins = kubecis_engine::Builtins {
    components: COMPONENTS,
    bundle_files: BUNDLE_FILES,
    bundle_digests: BUNDLE_DIGESTS,
};
