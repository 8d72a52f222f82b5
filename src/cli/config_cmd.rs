//! `tlc config`: which configuration file is in force and what it amounts to; `--defaults` prints
//! the shipped defaults (the reference to copy from).

use clap::Args;

use super::session::GlobalArgs;
use crate::config::{Config, TenantSource};
use crate::lifecycle::error::Result;

/// Options of `tlc config`.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Print the shipped defaults (a commented TOML file) instead.
    #[arg(long)]
    pub defaults: bool,
}

/// Runs `tlc config`.
pub fn run(global: &GlobalArgs, args: ConfigArgs) -> Result<u8> {
    if args.defaults {
        print!("{}", Config::defaults_toml());
        return Ok(0);
    }
    let config = global.load_config()?;
    let path = global.config.clone().or_else(Config::default_path);
    match &path {
        Some(p) if p.exists() => println!("# configuration file: {}", p.display()),
        Some(p) => println!("# configuration file: {} (absent: defaults apply)", p.display()),
        None => println!("# no configuration directory on this system: defaults apply"),
    }
    println!("[cluster]");
    println!("kubeconfig = {:?}", config.cluster.kubeconfig.map(|p| p.display().to_string()).unwrap_or_default());
    let contexts: Vec<String> = config.cluster.contexts.iter().map(|c| format!("{}={}", c.region, c.context)).collect();
    println!("contexts = {contexts:?}");
    println!("\n[lifecycle]");
    println!("annotation = {:?}", config.lifecycle.annotation);
    println!("namespaces = {:?}", config.lifecycle.namespaces);
    println!("mount_dir = {:?}", config.lifecycle.mount_dir);
    println!("\n[tenants]");
    match &config.tenants.source {
        TenantSource::ConfigMaps { namespace, selector, id_label, key } => {
            println!(
                "source = \"configmaps\"\nnamespace = {namespace:?}\nselector = {selector:?}\nid_label = {id_label:?}\nkey = {key:?}"
            );
        }
        TenantSource::Directory { path } => {
            println!("source = \"directory\"\ndirectory = {:?}", path.display().to_string())
        }
    }
    println!("\n[run]");
    println!("engine = {:?}", config.run.engine.as_str());
    println!("concurrency = {}", config.run.concurrency);
    println!("read_only = {}", config.run.read_only);
    println!("argo_namespace = {:?}", config.run.argo_namespace);
    println!("workflow_template = {:?}", config.run.workflow_template);
    Ok(0)
}
