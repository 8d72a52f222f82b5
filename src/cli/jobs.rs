//! `tlc jobs`: every discovered lifecycle Job of every region — what it handles, what it runs, and
//! what is wrong with it.

use clap::Args;

use super::output::{Format, Table, print_json, safe};
use super::session::{GlobalArgs, Session, report};
use crate::contract::LifecycleJob;
use crate::lifecycle::error::Result;

/// Options of `tlc jobs`.
#[derive(Debug, Args)]
pub struct JobsArgs {
    /// Only Jobs that list this operation.
    #[arg(long)]
    pub operation: Option<String>,
    /// Only these regions (repeatable).
    #[arg(long)]
    pub region: Vec<String>,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t)]
    pub output: Format,
}

/// A lifecycle Job as `--output json` shows it.
#[derive(Debug, serde::Serialize)]
pub struct JobView {
    /// Region.
    pub region: String,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Operations it handles.
    pub operations: Vec<String>,
    /// The raw annotation.
    pub annotation: String,
    /// Images.
    pub images: Vec<String>,
    /// Whether it may run.
    pub runnable: bool,
    /// What is wrong with it.
    pub problems: Vec<String>,
    /// The team's description.
    pub description: Option<String>,
}

impl JobView {
    /// The view of a discovered Job.
    pub fn new(region: &str, j: &LifecycleJob) -> Self {
        JobView {
            region: region.into(),
            namespace: j.job.namespace.clone(),
            name: j.job.name.clone(),
            operations: j.operations.iter().map(ToString::to_string).collect(),
            annotation: j.annotation.clone(),
            images: j.images.clone(),
            runnable: j.is_runnable(),
            problems: j.problems.iter().map(ToString::to_string).collect(),
            description: j.description.clone(),
        }
    }
}

/// Runs `tlc jobs`.
pub async fn run(global: &GlobalArgs, args: JobsArgs) -> Result<u8> {
    let session = Session::open(global).await?;
    let regions = session.region_names(&args.region)?;
    let (jobs, errors) = session.jobs(&regions).await;
    let views: Vec<JobView> = jobs
        .iter()
        .flat_map(|(region, js)| js.iter().map(move |j| (region, j)))
        .filter(|(_, j)| args.operation.as_deref().is_none_or(|op| j.handles(op) || j.operations.is_empty()))
        .map(|(region, j)| JobView::new(region, j))
        .collect();
    let searched = (views.is_empty() && errors.len() < regions.len()).then(|| {
        let read: Vec<&str> = jobs.keys().map(String::as_str).collect();
        let handling = args.operation.as_deref().map(|op| format!(" that handles {op}")).unwrap_or_default();
        format!(
            "No lifecycle Job{handling} carries the annotation {} {} of {}; `tlc doctor` shows which annotation keys the suspended Jobs carry.",
            session.config.lifecycle.annotation,
            session.config.job_scope(),
            read.join(", ")
        )
    });
    match args.output {
        Format::Json => {
            print_json(&views);
            if let Some(said) = &searched {
                eprintln!("tlc: {said}");
            }
        }
        Format::Table | Format::Wide if searched.is_some() => println!("{}", searched.unwrap_or_default()),
        Format::Table | Format::Wide => {
            let wide = args.output == Format::Wide;
            let mut header = vec!["REGION", "JOB", "OPERATIONS", "IMAGE", "STATUS"];
            if wide {
                header.push("DESCRIPTION");
            }
            let mut t = Table::new(&header);
            for v in &views {
                let status = if v.runnable { "ok".to_string() } else { format!("problem: {}", v.problems.join("; ")) };
                let ops = if v.operations.is_empty() { format!("({})", v.annotation) } else { v.operations.join(",") };
                let mut row = vec![
                    safe(&v.region),
                    safe(&format!("{}/{}", v.namespace, v.name)),
                    safe(&ops),
                    safe(&v.images.join(",")),
                    safe(&status),
                ];
                if wide {
                    row.push(safe(v.description.as_deref().unwrap_or("")));
                }
                t.row(row);
            }
            print!("{}", t.render());
        }
    }
    report(&errors);
    Ok(u8::from(!errors.is_empty()))
}
