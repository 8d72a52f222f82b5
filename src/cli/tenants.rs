//! `tlc tenants`: every tenant of every region, with what is wrong with the malformed ones.

use clap::Args;

use super::output::{Format, Table, print_json, safe};
use super::session::{GlobalArgs, Session, report};
use crate::lifecycle::error::Result;

/// Options of `tlc tenants`.
#[derive(Debug, Args)]
pub struct TenantsArgs {
    /// Only these regions (repeatable).
    #[arg(long)]
    pub region: Vec<String>,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t)]
    pub output: Format,
}

/// Runs `tlc tenants`; exit code 1 when a region could not be read.
pub async fn run(global: &GlobalArgs, args: TenantsArgs) -> Result<u8> {
    let session = Session::open(global).await?;
    let regions = session.region_names(&args.region)?;
    let (tenants, errors) = session.tenants(&regions).await;
    let searched = (tenants.is_empty() && errors.len() < regions.len()).then(|| {
        format!(
            "No tenants in {} of {}; `tlc doctor` checks the tenant source.",
            session.config.tenant_place(),
            regions.join(", ")
        )
    });
    match args.output {
        Format::Json => {
            print_json(&tenants);
            if let Some(said) = &searched {
                eprintln!("tlc: {said}");
            }
        }
        Format::Table | Format::Wide if searched.is_some() => println!("{}", searched.unwrap_or_default()),
        Format::Table | Format::Wide => {
            let wide = args.output == Format::Wide;
            let mut header = vec!["NAME", "ID", "REGION", "PLAN", "STATUS"];
            if wide {
                header.extend(["SERVICES", "ORIGIN"]);
            }
            let mut t = Table::new(&header);
            for tenant in &tenants {
                let status = if tenant.is_usable() {
                    "ok".to_string()
                } else {
                    format!("problem: {}", tenant.problems.join("; "))
                };
                let mut row = vec![
                    safe(&tenant.name),
                    safe(&tenant.id),
                    safe(&tenant.region),
                    safe(tenant.plan.as_deref().unwrap_or("-")),
                    safe(&status),
                ];
                if wide {
                    row.push(safe(&tenant.services.join(",")));
                    row.push(safe(&tenant.origin));
                }
                t.row(row);
            }
            print!("{}", t.render());
        }
    }
    report(&errors);
    Ok(u8::from(!errors.is_empty()))
}
