//! Materialise a node fixture of `tests/nodes` into a directory, with the file
//! modes and owners its `node.yaml` lists, ready for `kubecis scan --root`.
//!
//! cargo run --release --example materialise -- kubeadm-control-plane /tmp/node

use kubecis_testkit::fixture;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [name, dest] = args.as_slice() else {
        eprintln!(
            "usage: materialise FIXTURE DEST   (FIXTURE: a directory name under tests/nodes)"
        );
        std::process::exit(2);
    };
    let dir = fixture::nodes_dir().join(name);
    if !dir.join("node.yaml").is_file() {
        eprintln!(
            "materialise: no fixture {name:?} (looked for {}/node.yaml)",
            dir.display()
        );
        std::process::exit(2);
    }
    let dest = std::path::Path::new(dest);
    if dest.exists()
        && std::fs::read_dir(dest)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        eprintln!("materialise: {} exists and is not empty", dest.display());
        std::process::exit(2);
    }
    let f = fixture::materialise(&dir, dest);
    eprintln!(
        "{}: {} (Kubernetes {}) -> {}",
        name,
        f.description,
        f.kubernetes,
        dest.display()
    );
}
