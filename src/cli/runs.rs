//! `tlc runs`: every batch in the clusters, live and finished, rebuilt from labelled pods — this
//! console's, another console's, or Argo's.

use std::collections::BTreeSet;

use clap::Args;
use jiff::Timestamp;

use super::output::{Format, Table, print_json, safe};
use super::printer::human;
use super::session::{GlobalArgs, Session, report};
use crate::audit::record::{self, BatchRecord};
use crate::lifecycle::error::Result;
use crate::lifecycle::run::{Batch, RunState, update};
use crate::lifecycle::watch::{list_branch_pods, list_workflows};

/// Options of `tlc runs`.
#[derive(Debug, Args)]
pub struct RunsArgs {
    /// Only these regions (repeatable).
    #[arg(long)]
    pub region: Vec<String>,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t)]
    pub output: Format,
}

/// Batches of the given regions, merged, with the regions that could not be read.
pub async fn batches(
    session: &Session,
    regions: &[String],
    selector: Option<&str>,
) -> (RunState, Vec<crate::lifecycle::error::Error>) {
    let (state, errors, _) = read_batches(session, regions, selector).await;
    (state, errors)
}

/// [`batches`], and the ids of the batches whose record has no outcome yet.
async fn read_batches(
    session: &Session,
    regions: &[String],
    selector: Option<&str>,
) -> (RunState, Vec<crate::lifecycle::error::Error>, BTreeSet<String>) {
    let namespace = &session.config.run.argo_namespace;
    let reads = regions.iter().filter_map(|r| session.regions.get(r)).map(|r| async move {
        futures::join!(
            list_workflows(&r.client, &r.name, namespace, selector),
            list_branch_pods(&r.client, &r.name, selector)
        )
    });
    let mut state = RunState::default();
    let mut errors = Vec::new();
    for (workflows, pods) in futures::future::join_all(reads).await {
        // Workflows first, then the branch pods: one model, each branch seen both ways.
        for events in [workflows, pods] {
            match events {
                Ok(events) => events.into_iter().for_each(|e| update(&mut state, e)),
                Err(e) => errors.push(e),
            }
        }
    }
    // Then the records: batches whose pods and Workflow are gone.
    let mut without_outcome = BTreeSet::new();
    for (records, region) in records(session, regions, selector).await {
        match records {
            Ok(records) => {
                for r in records {
                    r.merge_into(&mut state);
                    if r.outcome.is_none() {
                        without_outcome.insert(r.batch_id);
                    }
                }
            }
            // The batches still in the cluster are shown: a region whose records cannot be read
            // is said, not fatal.
            Err(e) => {
                eprintln!("tlc: {region}: batch records not read ({e}); batches whose pods are gone are not shown")
            }
        }
    }
    (state, errors, without_outcome)
}

/// The batch records of each region (matching `selector` too).
async fn records(
    session: &Session,
    regions: &[String],
    selector: Option<&str>,
) -> Vec<(Result<Vec<BatchRecord>>, String)> {
    let namespace = &session.config.run.records_namespace;
    let reads = regions
        .iter()
        .filter_map(|r| session.regions.get(r))
        .map(|r| async move { (record::list_matching(&r.client, &r.name, namespace, selector).await, r.name.clone()) });
    futures::future::join_all(reads).await
}

/// Writes the outcome of every ended batch whose record has none yet (whoever lists first after
/// the end records it; a user who may not write records leaves it to the next).
async fn backfill_outcomes(session: &Session, state: &RunState, missing: &BTreeSet<String>) {
    let auditor = crate::audit::auditor::Auditor::new(session.regions.clone())
        .with_records_namespace(&session.config.run.records_namespace);
    for batch in state.batches.values().filter(|b| missing.contains(&b.id) && !b.from_record && b.phase().is_final()) {
        for problem in auditor.record_outcome(batch).await {
            tracing::info!(batch = %batch.id, problem, "outcome not recorded");
        }
    }
}

/// One batch, found by what an operator has at hand: its batch id, or the name of its Workflow (as
/// Argo's UI, `argo list` or an alert shows it). Its label finds a batch tlc's engine started; a
/// Workflow an Argo Events Sensor made carries no batch label (its batch id is its discovery's
/// output, known only once it ran), so when the label finds no Workflow, tlc's Workflows are read
/// and matched by batch id or name, and the branch pods of the batch found are read by its id.
/// Returns everything read (to follow from) and the batch.
pub async fn find_batch(session: &Session, regions: &[String], wanted: &str) -> Result<(RunState, Batch)> {
    let by_label = kube_grammar::selector::validate_label_value(wanted).is_ok();
    let (mut state, mut errors) = if by_label {
        batches(session, regions, Some(&crate::contract::labels::batch_selector(wanted))).await
    } else {
        (RunState::default(), Vec::new())
    };
    let found_with_workflow = |state: &RunState| {
        state
            .batches
            .values()
            .find(|b| b.workflow.as_ref().is_some_and(|w| b.id == wanted || w.name == wanted))
            .map(|b| b.id.clone())
    };
    let found = match state.batches.get(wanted) {
        Some(b) if b.workflow.is_some() || b.engine != Some(crate::contract::Engine::Argo) => Some(b.id.clone()),
        _ => {
            let namespace = &session.config.run.argo_namespace;
            for r in regions.iter().filter_map(|r| session.regions.get(r)) {
                match list_workflows(&r.client, &r.name, namespace, None).await {
                    Ok(events) => events.into_iter().for_each(|e| update(&mut state, e)),
                    Err(e) => errors.push(e),
                }
            }
            match found_with_workflow(&state) {
                Some(key) => {
                    let batch = &state.batches[&key];
                    // Its branch pods, when the label query did not read them (found by name).
                    if key != wanted
                        && !crate::lifecycle::run::is_stand_in(&key)
                        && let Some(r) = session.regions.get(&batch.region)
                    {
                        let selector = crate::contract::labels::batch_selector(&key);
                        match list_branch_pods(&r.client, &r.name, Some(&selector)).await {
                            Ok(events) => events.into_iter().for_each(|e| update(&mut state, e)),
                            Err(e) => errors.push(e),
                        }
                    }
                    Some(key)
                }
                None => state.batches.contains_key(wanted).then(|| wanted.to_string()),
            }
        }
    };
    match (found.and_then(|key| state.batches.get(&key).cloned()), errors.into_iter().next()) {
        (Some(batch), _) => Ok((state, batch)),
        (None, Some(e)) => Err(e),
        (None, None) => Err(crate::lifecycle::error::Error::NotFound(format!(
            "no batch {wanted} in {}: no branch pod carries it as its batch id, and no Workflow of tlc's in \"{}\" \
             has it as its batch or its name",
            regions.join(", "),
            session.config.run.argo_namespace
        ))),
    }
}

/// One batch as a table row.
pub fn row(b: &Batch, now: Timestamp) -> Vec<String> {
    let c = b.counts();
    let age = b.started.map(|s| human(now.duration_since(s))).unwrap_or_else(|| "-".into());
    vec![
        b.id.clone(),
        safe(&b.region),
        safe(&b.tenant_name),
        safe(&b.operation),
        b.engine_name().to_string(),
        age,
        format!(
            "{}/{} ok, {} failed, {} running",
            c.succeeded,
            c.total(),
            c.failed + c.cancelled,
            c.running + c.pending
        ),
        if b.from_record { format!("{} (record: pods gone)", b.phase().as_str()) } else { b.phase().as_str().into() },
    ]
}

/// Runs `tlc runs`.
pub async fn run(global: &GlobalArgs, args: RunsArgs) -> Result<u8> {
    let session = Session::open(global).await?;
    let regions = session.region_names(&args.region)?;
    let (state, errors, without_outcome) = read_batches(&session, &regions, None).await;
    match args.output {
        Format::Json => print_json(&state.batches.values().collect::<Vec<_>>()),
        Format::Table | Format::Wide => {
            let now = Timestamp::now();
            let mut t = Table::new(&["BATCH", "REGION", "TENANT", "OPERATION", "ENGINE", "AGE", "PROGRESS", "PHASE"]);
            for b in state.batches.values().rev() {
                t.row(row(b, now));
            }
            if t.is_empty() {
                println!("No batches in {}.", regions.join(", "));
            } else {
                print!("{}", t.render());
            }
        }
    }
    report(&errors);
    backfill_outcomes(&session, &state, &without_outcome).await;
    Ok(u8::from(!errors.is_empty()))
}
