//! The storage story: one scripted run through everything a store promises, which every
//! backend runs from its own tests (SQLite always, PostgreSQL when a database is given).
//! It panics on the first broken promise, naming it.

use accord_core::CustomerId;
use jiff::Timestamp;

use crate::{
    Actor, ConfigFile, Customer, NewToken, PageRequest, Scope, Store, StoreError, TokenDigest,
    Viewer,
};

fn at(s: &str) -> Timestamp {
    s.parse().expect("story timestamps are valid")
}

fn customer_id(s: &str) -> CustomerId {
    s.parse().expect("story ids are valid")
}

fn token(id: &str, scope: Scope, customer: Option<&str>, digest_byte: u8) -> NewToken {
    NewToken {
        id: id.to_owned(),
        label: format!("{id} label"),
        scope,
        customer: customer.map(customer_id),
        digest: TokenDigest([digest_byte; 32]),
    }
}

fn customer(id: &str, name: &str) -> Customer {
    Customer {
        id: customer_id(id),
        name: name.to_owned(),
        tier: Some("gold".into()),
        region: None,
        timezone: Some("Europe/Paris".into()),
    }
}

/// Runs the story on an empty store.
pub async fn run<S: Store>(store: S) {
    store.health().await.expect("a fresh store is healthy");

    // First start makes the admin token; every later start makes none.
    let t0 = at("2026-11-02T09:00:00Z");
    assert!(
        store
            .bootstrap_admin(token("tok_admin", Scope::Admin, None, 1), t0)
            .await
            .expect("bootstrap")
    );
    assert!(
        !store
            .bootstrap_admin(token("tok_admin2", Scope::Admin, None, 2), t0)
            .await
            .expect("second bootstrap"),
        "a second start must not create a second admin token"
    );
    let admin = store
        .token_by_digest(&TokenDigest([1; 32]))
        .await
        .expect("lookup")
        .expect("the bootstrap token is found by its digest");
    assert_eq!(admin.id, "tok_admin");
    assert_eq!(admin.scope, Scope::Admin);
    assert_eq!(admin.created_at, t0);
    assert!(
        store
            .token_by_digest(&TokenDigest([2; 32]))
            .await
            .expect("lookup")
            .is_none()
    );

    // Tokens: create, find, list in order with pages, revoke (idempotent).
    let actor = Actor::Token("tok_admin".into());
    let t1 = at("2026-11-02T10:00:00Z");
    let reader = store
        .create_token(&actor, token("tok_acme", Scope::Read, Some("acme"), 3), t1)
        .await
        .expect("create read token");
    assert_eq!(reader.customer, Some(customer_id("acme")));
    assert_eq!(reader.viewer(), Viewer::Customer(customer_id("acme")));
    store
        .create_token(&actor, token("tok_ingest", Scope::Ingest, None, 4), t1)
        .await
        .expect("create ingest token");
    match store
        .create_token(&actor, token("tok_dup", Scope::Read, None, 4), t1)
        .await
    {
        Err(StoreError::Conflict(_)) => {}
        other => panic!("a duplicate digest must be a conflict, got {other:?}"),
    }

    let first = store
        .list_tokens(&PageRequest::new(2, None))
        .await
        .expect("list tokens");
    let ids: Vec<_> = first.items.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["tok_admin", "tok_acme"]);
    let rest = store
        .list_tokens(&PageRequest::new(2, first.next.clone()))
        .await
        .expect("second page");
    let ids: Vec<_> = rest.items.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["tok_ingest"]);
    assert_eq!(rest.next, None);
    match store
        .list_tokens(&PageRequest::new(2, Some("customers.61".into())))
        .await
    {
        Err(StoreError::BadCursor(_)) => {}
        other => panic!("another list's cursor must be refused, got {other:?}"),
    }

    let t2 = at("2026-11-02T11:00:00Z");
    let revoked = store
        .revoke_token(&actor, "tok_ingest", t2)
        .await
        .expect("revoke");
    assert_eq!(revoked.revoked_at, Some(t2));
    let again = store
        .revoke_token(&actor, "tok_ingest", at("2026-11-02T12:00:00Z"))
        .await
        .expect("revoke twice");
    assert_eq!(
        again.revoked_at,
        Some(t2),
        "revoking twice keeps the first time"
    );
    assert!(
        store
            .token_by_digest(&TokenDigest([4; 32]))
            .await
            .expect("lookup")
            .is_none(),
        "a revoked token no longer authenticates"
    );
    match store.revoke_token(&actor, "tok_nope", t2).await {
        Err(StoreError::NotFound { what: "token", .. }) => {}
        other => panic!("revoking an unknown token must be NotFound, got {other:?}"),
    }

    // Configuration: revisions replace the customers, atomically, audited.
    assert_eq!(store.current_config().await.expect("config"), None);
    let files = vec![ConfigFile {
        path: "customers.yaml".into(),
        text: "kind: customer\nid: acme\nname: Acme\n".into(),
    }];
    let first = store
        .apply_config(
            &actor,
            files.clone(),
            vec![customer("acme", "Acme"), customer("initech", "Initech")],
            serde_json::json!({"changes": 2}),
            t2,
        )
        .await
        .expect("apply");
    let t3 = at("2026-11-02T12:30:00Z");
    let second = store
        .apply_config(
            &actor,
            files.clone(),
            vec![customer("acme", "Acme Corp"), customer("globex", "Globex")],
            serde_json::json!({"changes": 3}),
            t3,
        )
        .await
        .expect("apply again");
    assert!(second > first, "revisions increase");
    let current = store
        .current_config()
        .await
        .expect("config")
        .expect("stored");
    assert_eq!(current.revision, second);
    assert_eq!(current.applied_at, t3);
    assert_eq!(current.files, files);

    let everything = store
        .list_customers(&Viewer::Everything, &PageRequest::default())
        .await
        .expect("list");
    let names: Vec<_> = everything.items.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["Acme Corp", "Globex"]);

    let acme_only = Viewer::Customer(customer_id("acme"));
    let seen = store
        .list_customers(&acme_only, &PageRequest::new(1, None))
        .await
        .expect("list bound");
    assert_eq!(seen.items.len(), 1);
    assert_eq!(seen.items[0].id, customer_id("acme"));
    assert_eq!(
        seen.next, None,
        "a bound viewer has nothing more to page to"
    );
    assert!(
        store
            .get_customer(&acme_only, &customer_id("globex"))
            .await
            .expect("get")
            .is_none(),
        "a viewer bound to acme must not read globex"
    );
    let own = store
        .get_customer(&acme_only, &customer_id("acme"))
        .await
        .expect("get")
        .expect("own customer");
    assert_eq!(own.timezone.as_deref(), Some("Europe/Paris"));

    // The audit log has every change, in order, once, and nothing that did not change.
    let log = store
        .list_audit(&PageRequest::default())
        .await
        .expect("audit");
    let actions: Vec<_> = log
        .items
        .iter()
        .map(|e| (e.actor.as_str(), e.action.as_str(), e.target.as_str()))
        .collect();
    assert_eq!(
        actions,
        [
            ("system", "token.create", "tok_admin"),
            ("token:tok_admin", "token.create", "tok_acme"),
            ("token:tok_admin", "token.create", "tok_ingest"),
            ("token:tok_admin", "token.revoke", "tok_ingest"),
            ("token:tok_admin", "config.apply", "revision 1"),
            ("token:tok_admin", "config.apply", "revision 2"),
        ]
    );
    assert_eq!(log.items[5].detail["changes"], 3);
    assert_eq!(log.items[1].detail["customer"], "acme");
    assert_eq!(log.items[1].detail["scope"], "read");
    let paged = store
        .list_audit(&PageRequest::new(4, None))
        .await
        .expect("audit page");
    let tail = store
        .list_audit(&PageRequest::new(4, paged.next))
        .await
        .expect("audit tail");
    assert_eq!(tail.items.len(), 2);
    assert!(tail.items[0].seq > paged.items[3].seq);
}

/// Checks, on the same database reopened, that what [`run`] wrote is still there.
pub async fn after_reopen<S: Store>(store: S) {
    assert!(
        !store
            .bootstrap_admin(
                token("tok_again", Scope::Admin, None, 9),
                Timestamp::UNIX_EPOCH
            )
            .await
            .expect("bootstrap after reopen"),
        "reopening must not bootstrap again"
    );
    let acme = store
        .token_by_digest(&TokenDigest([3; 32]))
        .await
        .expect("lookup")
        .expect("tokens survive a reopen");
    assert_eq!(acme.id, "tok_acme");
    let customers = store
        .list_customers(&Viewer::Everything, &PageRequest::default())
        .await
        .expect("list");
    assert_eq!(customers.items.len(), 2);
    let log = store
        .list_audit(&PageRequest::default())
        .await
        .expect("audit");
    assert_eq!(log.items.len(), 6);
    let config = store.current_config().await.expect("config").expect("kept");
    assert_eq!(config.revision, 2);
}
