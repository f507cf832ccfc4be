//! `accord validate DIR`, `accord apply DIR` and `accord export DIR`: SLA-as-code files
//! checked offline with the core's one loader, sent to a server, and read back.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Component, Path};

use anyhow::{Context, bail};
use serde_json::{Value, json};

use accord_core::policy::{self, Diagnostic, Loaded, SourceFile};

use crate::client::{Client, ServerArgs};

/// Every `*.yaml` (and `*.yml`) file directly in `dir`, in name order.
pub fn read_yaml_files(dir: &Path) -> anyhow::Result<Vec<SourceFile>> {
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read the directory {}", dir.display()))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry?.path();
        let is_yaml = path.extension().is_some_and(|e| e == "yaml" || e == "yml");
        if is_yaml && path.is_file() {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            files.push(SourceFile { path: name, text });
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// A configuration directory, loaded.
pub struct ConfigDir {
    /// Its YAML files.
    pub files: Vec<SourceFile>,
    pub loaded: Result<Loaded, Vec<Diagnostic>>,
    /// The other files it read (`.ics`), by their path relative to the directory.
    pub referenced: BTreeMap<String, String>,
}

/// Loads a configuration directory with the core's loader.
pub fn load_dir(dir: &Path) -> anyhow::Result<ConfigDir> {
    let files = read_yaml_files(dir)?;
    let referenced = RefCell::new(BTreeMap::new());
    let read = |p: &str| -> Result<String, String> {
        let text = std::fs::read_to_string(dir.join(p)).map_err(|e| e.to_string())?;
        referenced.borrow_mut().insert(p.to_owned(), text.clone());
        Ok(text)
    };
    let loaded = policy::load(&files, &read);
    Ok(ConfigDir {
        files,
        loaded,
        referenced: referenced.into_inner(),
    })
}

/// A diagnostic with its file shown under `dir`, as the user named it.
fn shown(dir: &Path, d: &Diagnostic) -> String {
    let mut d = d.clone();
    d.file = dir.join(&d.file).display().to_string();
    d.to_string()
}

/// `accord validate DIR`: every mistake and warning; an error when there is a mistake.
pub fn validate(dir: &Path, mut out: impl Write) -> anyhow::Result<()> {
    let ConfigDir { files, loaded, .. } = load_dir(dir)?;
    if files.is_empty() {
        bail!("{} has no *.yaml files", dir.display());
    }
    match loaded {
        Err(errors) => {
            for e in &errors {
                writeln!(out, "error: {}", shown(dir, e))?;
            }
            bail!(
                "{}: {} {}",
                dir.display(),
                errors.len(),
                if errors.len() == 1 {
                    "mistake"
                } else {
                    "mistakes"
                }
            )
        }
        Ok(loaded) => {
            for w in &loaded.warnings {
                writeln!(out, "warning: {}", shown(dir, w))?;
            }
            let c = &loaded.config;
            writeln!(
                out,
                "{}: valid: {} agreement versions, {} calendars, {} customers, {} services, {} teams, {} suppliers, {} channels; {} warnings",
                dir.display(),
                c.agreements.len(),
                c.calendars.len(),
                c.customers.len(),
                c.services.len(),
                c.teams.len(),
                c.suppliers.len(),
                c.channels.len(),
                loaded.warnings.len()
            )?;
            Ok(())
        }
    }
}

/// `accord apply DIR`: checks locally, sends the files (with the `.ics` files they
/// reference), prints what changed.
pub fn apply(
    server: &ServerArgs,
    dir: &Path,
    dry_run: bool,
    retroactive: bool,
    mut out: impl Write,
) -> anyhow::Result<()> {
    let ConfigDir {
        files,
        loaded,
        referenced,
    } = load_dir(dir)?;
    if let Err(errors) = loaded {
        for e in &errors {
            writeln!(out, "error: {}", shown(dir, e))?;
        }
        bail!(
            "nothing applied: {} has {} mistakes",
            dir.display(),
            errors.len()
        );
    }
    let mut body: Vec<Value> = files
        .iter()
        .map(|f| json!({"path": f.path, "text": f.text}))
        .collect();
    body.extend(
        referenced
            .iter()
            .map(|(path, text)| json!({"path": path, "text": text})),
    );
    let client = Client::new(server)?;
    let query = format!("/v1/config?dry_run={dry_run}&retroactive={retroactive}");
    let outcome = client.send(reqwest::Method::PUT, &query, Some(json!({ "files": body })))?;
    let changes = outcome
        .get("changes")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for c in &changes {
        let sign = match c.get("change").and_then(Value::as_str) {
            Some("added") => "+",
            Some("removed") => "-",
            _ => "~",
        };
        let version = c
            .get("version")
            .and_then(Value::as_u64)
            .map(|v| format!(" version {v}"))
            .unwrap_or_default();
        writeln!(
            out,
            "{sign} {} {}{version}",
            c.get("kind").and_then(Value::as_str).unwrap_or("?"),
            c.get("id").and_then(Value::as_str).unwrap_or("?")
        )?;
    }
    for w in outcome
        .get("warnings")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
    {
        writeln!(out, "warning: {}", w.as_str().unwrap_or_default())?;
    }
    let revision = outcome.get("revision").and_then(Value::as_i64);
    match (dry_run, outcome.get("applied").and_then(Value::as_bool)) {
        (true, _) => writeln!(out, "dry run: {} changes, nothing applied", changes.len())?,
        (false, Some(true)) => writeln!(out, "applied: revision {}", revision.unwrap_or_default())?,
        _ => writeln!(
            out,
            "no changes: revision {} stays in force",
            revision.map_or("none".into(), |r| r.to_string())
        )?,
    }
    Ok(())
}

/// `accord export DIR`: writes the configuration in force, file by file.
pub fn export(server: &ServerArgs, dir: &Path, mut out: impl Write) -> anyhow::Result<()> {
    let client = Client::new(server)?;
    let config = client.send(reqwest::Method::GET, "/v1/config", None)?;
    let Some(revision) = config.get("revision").and_then(Value::as_i64) else {
        bail!("the server has no configuration yet (apply one with `accord apply DIR`)");
    };
    let files = config
        .get("files")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for f in &files {
        let path = f.get("path").and_then(Value::as_str).unwrap_or_default();
        let relative = Path::new(path);
        if path.is_empty()
            || !relative
                .components()
                .all(|c| matches!(c, Component::Normal(_)))
        {
            bail!("the server sent a file with an unsafe path {path:?}");
        }
        let target = dir.join(relative);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(
            &target,
            f.get("text").and_then(Value::as_str).unwrap_or_default(),
        )
        .with_context(|| format!("cannot write {}", target.display()))?;
    }
    writeln!(
        out,
        "exported revision {revision}: {} files to {}",
        files.len(),
        dir.display()
    )?;
    Ok(())
}
