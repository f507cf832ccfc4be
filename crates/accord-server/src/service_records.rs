//! The service records a report or a burn-rate check counts: stored outage, maintenance
//! and request records whose span overlaps `[from, to)`, plus the outages probes find
//! now (down until `until`). Surveys come back apart: they need their tickets' facts.

use jiff::Timestamp;

use accord_core::availability::ServiceRecord;
use accord_core::experience::Survey;
use accord_core::report::ServiceRecords;
use accord_store::{Store, StoreError};

pub async fn load<S: Store>(
    store: &S,
    from: Timestamp,
    to: Timestamp,
    until: Timestamp,
    probe_failures: u32,
) -> Result<(ServiceRecords, Vec<Survey>), StoreError> {
    let mut records = ServiceRecords::default();
    let mut surveys = Vec::new();
    for body in store.service_records(from, to).await? {
        let record = serde_json::from_str::<ServiceRecord>(&body)
            .map_err(|e| StoreError::Backend(format!("a stored record does not parse: {e}")))?;
        surveys.extend(records.push(record));
    }
    for ongoing in store.ongoing_outages(probe_failures).await? {
        if ongoing.since < until {
            records.outages.push(ongoing.until(until));
        }
    }
    Ok((records, surveys))
}
