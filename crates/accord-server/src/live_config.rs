//! The SLA-as-code in force on this server: the files last applied and the checked
//! configuration built from them with the core's one loader.

use std::sync::{Arc, RwLock};

use accord_core::policy::{self, Config, Diagnostic, SourceFile};
use accord_store::{ConfigFile, Store, StoredConfig};

/// One applied configuration, whole.
#[derive(Debug, Default)]
pub struct LiveConfig {
    pub revision: Option<i64>,
    pub applied_at: Option<jiff::Timestamp>,
    pub files: Vec<ConfigFile>,
    pub config: Config,
}

impl LiveConfig {
    /// The text of a referenced file (an `.ics`) by its path in the configuration.
    pub fn file(&self, path: &str) -> Option<String> {
        file_in(&self.files, path)
    }
}

/// Whether a path names a YAML document file (the rest are files they reference).
pub fn is_yaml(path: &str) -> bool {
    path.ends_with(".yaml") || path.ends_with(".yml")
}

pub fn file_in(files: &[ConfigFile], path: &str) -> Option<String> {
    files
        .iter()
        .find(|f| f.path == path)
        .map(|f| f.text.clone())
}

/// Loads files with the core loader, `.ics` and other references read from the same set.
pub fn load_files(files: &[ConfigFile]) -> Result<policy::Loaded, Vec<Diagnostic>> {
    let sources: Vec<SourceFile> = files
        .iter()
        .filter(|f| is_yaml(&f.path))
        .map(|f| SourceFile {
            path: f.path.clone(),
            text: f.text.clone(),
        })
        .collect();
    let read = |path: &str| {
        file_in(files, path).ok_or_else(|| "it was not sent with the configuration".to_owned())
    };
    policy::load(&sources, &read)
}

/// The shared, swappable configuration of a running server.
#[derive(Debug, Clone, Default)]
pub struct ConfigHandle(Arc<RwLock<Arc<LiveConfig>>>);

impl ConfigHandle {
    pub fn get(&self) -> Arc<LiveConfig> {
        match self.0.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn set(&self, live: LiveConfig) {
        let live = Arc::new(live);
        match self.0.write() {
            Ok(mut guard) => *guard = live,
            Err(poisoned) => *poisoned.into_inner() = live,
        }
    }

    /// Loads what the store holds. A stored configuration that no longer loads (it was
    /// checked when applied, so only a changed rule can cause this) is logged and left
    /// out, so the server still starts and a corrected apply can replace it.
    pub async fn load_from<S: Store>(&self, store: &S) -> Result<(), accord_store::StoreError> {
        let Some(StoredConfig {
            revision,
            applied_at,
            files,
        }) = store.current_config().await?
        else {
            return Ok(());
        };
        match load_files(&files) {
            Ok(loaded) => self.set(LiveConfig {
                revision: Some(revision),
                applied_at: Some(applied_at),
                files,
                config: loaded.config,
            }),
            Err(errors) => {
                for e in errors {
                    tracing::error!(revision, error = %e, "the stored configuration does not load");
                }
            }
        }
        Ok(())
    }
}
