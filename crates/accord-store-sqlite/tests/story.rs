//! The shared storage story, run against SQLite.

use accord_store_sqlite::SqliteStore;

#[tokio::test]
async fn sqlite_passes_the_storage_story() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = SqliteStore::open_in(dir.path()).await.expect("open");
    accord_store::story::run(store.clone()).await;
    accord_store::story::events(store.clone()).await;
    accord_store::story::notifications(store.clone()).await;
    accord_store::story::breach_cases(store.clone()).await;
    accord_store::story::service_records(store.clone()).await;
    store.close().await;

    // Everything the story wrote survives closing and reopening the file.
    let reopened = SqliteStore::open_in(dir.path()).await.expect("reopen");
    accord_store::story::after_reopen(reopened).await;
}
