//! Credit notes as CSV (`accord report --format credit-notes`,
//! `GET /v1/credits?format=csv`): one row per customer, agreement, credit entry and fee
//! period with something owed, amounts to the cent.

use std::io::Write;

use accord_core::report::Report;

/// Writes the credit notes of `report`, of one customer's agreements when given.
pub fn write(report: &Report, customer: Option<&str>, out: impl Write) -> Result<(), csv::Error> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "customer",
        "agreement",
        "objective",
        "from",
        "to",
        "rate",
        "amount",
        "currency",
    ])?;
    let agreements = report
        .agreements
        .iter()
        .filter(|a| customer.is_none_or(|c| a.customer.as_deref() == Some(c)));
    for a in agreements {
        for c in a.credits.iter().filter(|c| c.amount > 0.0) {
            w.write_record([
                a.customer.clone().unwrap_or_default(),
                a.id.clone(),
                c.objective.clone(),
                c.from.to_string(),
                c.to.to_string(),
                c.rate.to_string(),
                format!("{:.2}", c.amount),
                c.currency.clone(),
            ])?;
        }
    }
    w.flush()?;
    Ok(())
}
