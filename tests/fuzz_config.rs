//! Property tests ("fuzz targets") of config-value lookup: any file content
//! and any key answer a value or a typed error, never a panic.

use kubecis_engine::node::{Node, NodeError, NodePath};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn any_config_file_and_key(content in proptest::collection::vec(any::<u8>(), 0..400), key in "[a-zA-Z0-9.{}\\[\\]-]{0,30}") {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.yaml"), &content).unwrap();
        let node = Node::at_root(dir.path(), None).unwrap();
        let path = NodePath::parse("/config.yaml").unwrap();
        match node.config_value(&path, &key) {
            Ok(_) | Err(NodeError::NotFound(_)) | Err(NodeError::Invalid(_)) => {}
            Err(e) => prop_assert!(false, "unexpected {e:?}"),
        }
    }

    #[test]
    fn yaml_looking_configs_with_any_key(
        doc in proptest::collection::vec(("[a-z]{1,5}", "[a-z0-9 :{}\\[\\],-]{0,12}"), 0..12),
        key in "[a-z.0-9]{0,20}",
    ) {
        let text: String = doc.iter().map(|(k, v)| format!("{k}: {v}\n")).collect();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("c.yaml"), text).unwrap();
        let node = Node::at_root(dir.path(), None).unwrap();
        let _ = node.config_value(&NodePath::parse("/c.yaml").unwrap(), &key);
    }
}
