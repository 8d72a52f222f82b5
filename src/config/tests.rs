use super::*;

fn load(text: &str) -> Result<Config, ConfigError> {
    Config::from_toml_str(text, Path::new("/home/op/.config/tlc/config.toml"), &Overrides::default())
}

fn err(text: &str) -> String {
    load(text).expect_err("invalid").to_string()
}

#[test]
fn the_shipped_defaults_load_and_name_every_key() {
    let d = Config::defaults().expect("defaults are valid");
    assert_eq!(d.lifecycle.annotation, "tlc.dev/lifecycle");
    assert_eq!(d.run.concurrency, 16);
    assert_eq!(d.cluster.kubeconfig, None);
    for (table, keys) in settings::SCHEMA {
        assert!(DEFAULTS_TOML.contains(&format!("[{table}]")), "{table}");
        for (key, _) in *keys {
            assert!(DEFAULTS_TOML.contains(&format!("\n{key} = ")), "{table}.{key} is documented in defaults.toml");
        }
    }
}

#[test]
fn a_user_file_patches_the_defaults() {
    let c = load(
        "[cluster]\ncontexts = [\"eu-west\", \"us=us-east-1\"]\nkubeconfig = \"kube/config\"\n\n[lifecycle]\nannotation = \"collibra.com/tenant.lifecycle\"\n\n[run]\nconcurrency = 4\nread_only = true\n",
    )
    .expect("valid");
    assert_eq!(c.lifecycle.annotation, "collibra.com/tenant.lifecycle");
    assert_eq!(c.lifecycle.mount_dir, "/var/run/tlc/lifecycle", "untouched keys keep their default");
    assert_eq!(
        c.cluster.contexts,
        vec![
            RegionContext { region: "eu-west".into(), context: "eu-west".into() },
            RegionContext { region: "us".into(), context: "us-east-1".into() }
        ]
    );
    assert_eq!(c.cluster.kubeconfig, Some(PathBuf::from("/home/op/.config/tlc/kube/config")), "relative to the file");
    assert_eq!((c.run.concurrency, c.run.read_only), (4, true));
    let dir = load("[tenants]\nsource = \"directory\"\ndirectory = \"/srv/tenants\"\n").expect("valid");
    assert_eq!(dir.tenants.source, TenantSource::Directory { path: "/srv/tenants".into() });
}

#[test]
fn errors_name_file_line_column_and_key() {
    assert_eq!(
        err("[run]\nconcurrency = 0\n"),
        "config /home/op/.config/tlc/config.toml: line 2, column 15: run.concurrency: must be between 1 and 1000, got 0"
    );
    assert_eq!(
        err("\n[lifecycle]\nanotation = \"x\"\n"),
        "config /home/op/.config/tlc/config.toml: line 3, column 1: unknown key `lifecycle.anotation` (did you mean `lifecycle.annotation`?)"
    );
    assert_eq!(
        err("[runn]\n"),
        "config /home/op/.config/tlc/config.toml: line 1, column 2: unknown key `runn` (did you mean `run`?)"
    );
    assert_eq!(err("[nothing]\n"), "config /home/op/.config/tlc/config.toml: line 1, column 2: unknown key `nothing`");
    assert_eq!(
        err("[cluster]\ncontexts = \"eu-west\"\n"),
        "config /home/op/.config/tlc/config.toml: line 2, column 12: cluster.contexts: expected an array of strings, found a string"
    );
    assert_eq!(
        err("[cluster]\ncontexts = [\"a\", 1]\n"),
        "config /home/op/.config/tlc/config.toml: line 2, column 12: cluster.contexts: expected an array of strings, found an array containing an integer"
    );
    assert_eq!(
        err("run = 5\n"),
        "config /home/op/.config/tlc/config.toml: line 1, column 7: run: expected a table, found an integer"
    );
    assert!(
        err("[run\n").starts_with("config /home/op/.config/tlc/config.toml: line 1, column 5: invalid TOML: "),
        "{}",
        err("[run\n")
    );
    assert_eq!(
        err("[lifecycle]\nannotation = \"not valid!\"\n"),
        "config /home/op/.config/tlc/config.toml: line 2, column 14: lifecycle.annotation: must be a Kubernetes annotation key (an optional DNS subdomain prefix and '/', then up to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit), got \"not valid!\""
    );
    assert_eq!(
        err("[lifecycle]\nmount_dir = \"relative\"\n"),
        "config /home/op/.config/tlc/config.toml: line 2, column 13: lifecycle.mount_dir: must be an absolute path other than /, got \"relative\""
    );
    assert_eq!(
        err("[lifecycle]\nnamespaces = [\"ok\", \"Not_OK\"]\n"),
        "config /home/op/.config/tlc/config.toml: line 2, column 14: lifecycle.namespaces: \"Not_OK\" is not a namespace name (lowercase letters, digits and '-', at most 63)"
    );
    assert_eq!(
        err("[tenants]\nsource = \"directory\"\n"),
        "config /home/op/.config/tlc/config.toml: line 2, column 10: tenants.source: \"directory\" needs tenants.directory: the folder of tenant YAML files"
    );
    assert_eq!(
        err("[tenants]\nsource = \"ldap\"\n"),
        "config /home/op/.config/tlc/config.toml: line 2, column 10: tenants.source: must be \"configmaps\" or \"directory\", got \"ldap\""
    );
    assert_eq!(
        err("[cluster]\ncontexts = [\"a\", \"=b\"]\n"),
        "config /home/op/.config/tlc/config.toml: line 2, column 12: cluster.contexts: entry 2 must be CONTEXT or REGION=CONTEXT, got \"=b\""
    );
    assert_eq!(
        err("[cluster]\ncontexts = [\"r=a\", \"r=b\"]\n"),
        "config /home/op/.config/tlc/config.toml: line 2, column 12: cluster.contexts: region \"r\" is listed twice"
    );
    assert_eq!(
        err("[run]\nengine = \"spark\"\n"),
        "config /home/op/.config/tlc/config.toml: line 2, column 10: run.engine: must be \"direct\" or \"argo\", got \"spark\""
    );
    assert_eq!(
        err("[run]\nread_only = \"yes\"\n"),
        "config /home/op/.config/tlc/config.toml: line 2, column 13: run.read_only: expected a boolean (true or false), found a string"
    );
}

#[test]
fn hostile_values_cannot_reach_the_terminal_through_messages() {
    let e = err("[run]\nengine = \"\\u001b]0;pwned\\u0007\"\n");
    assert!(!e.chars().any(char::is_control), "{e:?}");
    assert!(e.ends_with("run.engine: must be \"direct\" or \"argo\", got \"\\u{1b}]0;pwned\\u{7}\""), "{e}");
    let e = err("[run]\n\"a\\u001bb\" = 1\n");
    assert!(!e.chars().any(char::is_control), "{e:?}");
}

#[test]
fn flags_override_and_are_named_when_wrong() {
    let o = Overrides {
        annotation: Some("collibra.com/tenant.lifecycle".into()),
        concurrency: Some(3),
        read_only: true,
        tenant_source: Some("dir:/srv/t".into()),
        ..Default::default()
    };
    let c = Config::from_toml_str("[run]\nconcurrency = 8\n", Path::new("/c.toml"), &o).expect("valid");
    assert_eq!((c.run.concurrency, c.run.read_only), (3, true));
    assert_eq!(c.lifecycle.annotation, "collibra.com/tenant.lifecycle");
    assert_eq!(c.tenants.source, TenantSource::Directory { path: "/srv/t".into() });
    let bad = Overrides { concurrency: Some(0), ..Default::default() };
    assert_eq!(
        Config::from_toml_str("", Path::new("/c.toml"), &bad).expect_err("bad").to_string(),
        "--concurrency: must be between 1 and 1000, got 0"
    );
    let bad = Overrides { contexts: Some(vec!["=x".into()]), ..Default::default() };
    assert_eq!(
        Config::from_toml_str("", Path::new("/c.toml"), &bad).expect_err("bad").to_string(),
        "--context: entry 1 must be CONTEXT or REGION=CONTEXT, got \"=x\""
    );
}

#[test]
fn missing_files() {
    let dir = tempfile::tempdir().expect("dir");
    let missing = dir.path().join("nope.toml");
    let e =
        Config::load(ConfigSource::Explicit(missing.clone()), &Overrides::default()).expect_err("explicit must exist");
    assert!(e.to_string().starts_with(&format!("config {}: cannot read it:", missing.display())), "{e}");
    let ok = dir.path().join("ok.toml");
    std::fs::write(&ok, "[run]\nconcurrency = 2\n").expect("write");
    assert_eq!(Config::load(ConfigSource::Explicit(ok), &Overrides::default()).expect("loads").run.concurrency, 2);
}

#[test]
fn random_input_never_panics() {
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let pieces = [
        "[",
        "]",
        "run",
        "cluster",
        "=",
        "\"",
        "1",
        "true",
        "\n",
        " ",
        "concurrency",
        "contexts",
        "[\"a\"]",
        "{",
        "}",
        ".",
        "#",
        "\u{1b}",
        "é",
    ];
    for _ in 0..5_000 {
        let mut text = String::new();
        for _ in 0..(x % 30) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            text.push_str(pieces[(x % pieces.len() as u64) as usize]);
        }
        let _ = load(&text);
    }
}

#[test]
fn retention_is_global_with_per_region_overrides_and_bad_rules_are_named() {
    let c = load(
        "[retention]\nolder_than = \"7d\"\nkeep_last = 3\nregions = [\"us-east: older_than=1d, keep_last=0\", \"ap-south: records_older_than=90d\"]\n",
    )
    .expect("valid");
    let day = jiff::SignedDuration::from_hours(24);
    assert_eq!((c.retention_for("eu-west").older_than, c.retention_for("eu-west").keep_last), (Some(day * 7), Some(3)));
    let us = c.retention_for("us-east");
    assert_eq!((us.older_than, us.keep_last, us.records_older_than), (Some(day), None, None));
    let ap = c.retention_for("ap-south");
    assert_eq!((ap.older_than, ap.keep_last, ap.records_older_than), (Some(day * 7), Some(3), Some(day * 90)));
    assert_eq!(
        err("[retention]\nregions = [\"us-east older_than=1d\"]\n"),
        "config /home/op/.config/tlc/config.toml: line 2, column 11: retention.regions: \"us-east older_than=1d\" is not \"REGION: older_than=…, keep_last=…\""
    );
    assert_eq!(
        err("[retention]\nregions = [\"us-east: keep=2\"]\n"),
        "config /home/op/.config/tlc/config.toml: line 2, column 11: retention.regions: \"us-east: keep=2\": unknown rule \"keep\" (older_than, keep_last, records_older_than)"
    );
    assert_eq!(
        err("[retention]\nolder_than = \"a week\"\n"),
        "config /home/op/.config/tlc/config.toml: line 2, column 14: retention.older_than: \"a week\" is not an age: expected a number and a unit, e.g. 90m, 24h, 7d"
    );
}
