//! The examples of `examples/`, compiled into the binary so `accord demo` works from any
//! directory.

use accord_store::ConfigFile;

const FILES: &[(&str, &str)] = &[
    (
        "agreements.yaml",
        include_str!("../../../examples/agreements.yaml"),
    ),
    (
        "calendars.yaml",
        include_str!("../../../examples/calendars.yaml"),
    ),
    (
        "catalogue.yaml",
        include_str!("../../../examples/catalogue.yaml"),
    ),
    (
        "customers.yaml",
        include_str!("../../../examples/customers.yaml"),
    ),
    (
        "holidays/us-federal.ics",
        include_str!("../../../examples/holidays/us-federal.ics"),
    ),
];

pub fn files() -> Vec<ConfigFile> {
    FILES
        .iter()
        .map(|(path, text)| ConfigFile {
            path: (*path).to_owned(),
            text: (*text).to_owned(),
        })
        .collect()
}
