//! The storage story: one scripted run through everything a store promises, which every
//! backend runs from its own tests (SQLite always, PostgreSQL when a database is given).
//! It panics on the first broken promise, naming it.

use accord_core::CustomerId;
use jiff::Timestamp;

use crate::{
    Actor, Announcement, ClockFilter, ClockRow, ConfigFile, Customer, DeliveryOutcome, NewToken,
    Notice, OutboxMessage, PageRequest, Scope, Store, StoreError, StoredEvent, TicketClocks,
    TokenDigest, Viewer,
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

fn event(id: &str, ticket: &str, created: bool, body: &str) -> StoredEvent {
    StoredEvent {
        id: id.into(),
        ticket: ticket.into(),
        is_created: created,
        body: body.into(),
    }
}

fn clock(ticket: &str, metric: &str, state: &str, deadline: Option<&str>) -> ClockRow {
    ClockRow {
        ticket: ticket.into(),
        customer: None,
        team: Some("servicedesk".into()),
        agreement_type: "sla".into(),
        agreement: "gold".into(),
        objective: format!("{metric}-objective"),
        metric: metric.into(),
        cycle: 1,
        state: state.into(),
        priority: Some("P2".into()),
        started_at: at("2026-11-02T09:00:00Z"),
        stopped_at: None,
        breached_at: None,
        deadline: deadline.map(at),
        elapsed_seconds: 60,
        target_seconds: 3600,
    }
}

/// The events and clocks part of the story (runs after [`run`] on the same store).
pub async fn events<S: Store>(store: S) {
    let batch = vec![
        event("e1", "T-1", true, "{\"created\":1}"),
        event("e2", "T-1", false, "{\"updated\":2}"),
        event("e1", "T-1", true, "{\"created\":1}"),
        event("g1", "G-1", true, "{\"created\":\"g\"}"),
    ];
    let outcome = store.ingest_events(batch.clone()).await.expect("ingest");
    assert_eq!((outcome.accepted, outcome.duplicates), (3, 1));
    assert_eq!(outcome.tickets, ["G-1", "T-1"]);
    let again = store.ingest_events(batch).await.expect("ingest again");
    assert_eq!(
        (again.accepted, again.duplicates),
        (0, 4),
        "ingesting twice changes nothing"
    );

    // A conflict rejects the whole batch, naming the item; nothing of it is stored.
    match store
        .ingest_events(vec![
            event("e3", "T-1", false, "{\"new\":3}"),
            event("e2", "T-1", false, "{\"other\":2}"),
        ])
        .await
    {
        Err(StoreError::Rejected { index: 1, message }) => {
            assert_eq!(
                message,
                "event id \"e2\" was received before with different content"
            );
        }
        other => panic!("a changed repeat must be rejected, got {other:?}"),
    }
    match store
        .ingest_events(vec![event("e9", "T-1", true, "{\"created\":9}")])
        .await
    {
        Err(StoreError::Rejected { index: 0, message }) => {
            assert_eq!(
                message,
                "ticket \"T-1\" was already created (by event \"e1\")"
            );
        }
        other => panic!("a second created must be rejected, got {other:?}"),
    }
    let bodies = store
        .ticket_events(&Viewer::Everything, "T-1")
        .await
        .expect("events")
        .expect("ticket");
    assert_eq!(
        bodies,
        ["{\"created\":1}", "{\"updated\":2}"],
        "arrival order, no e3"
    );

    // A ticket whose `created` arrives after its other events is created then, once;
    // a batch mixing new events with a repeat of a stored one keeps the new ones.
    let early = store
        .ingest_events(vec![event("l2", "L-1", false, "{\"updated\":\"l\"}")])
        .await
        .expect("an update before its created");
    assert_eq!((early.accepted, early.duplicates), (1, 0));
    let late = store
        .ingest_events(vec![
            event("l1", "L-1", true, "{\"created\":\"l\"}"),
            event("l2", "L-1", false, "{\"updated\":\"l\"}"),
            event("l3", "L-1", false, "{\"updated\":\"l3\"}"),
        ])
        .await
        .expect("the late created");
    assert_eq!((late.accepted, late.duplicates), (2, 1));
    match store
        .ingest_events(vec![
            event("l4", "L-1", false, "{\"updated\":\"l4\"}"),
            event("l5", "L-1", true, "{\"created\":\"l5\"}"),
        ])
        .await
    {
        Err(StoreError::Rejected { index: 1, message }) => {
            assert_eq!(
                message,
                "ticket \"L-1\" was already created (by event \"l1\")"
            );
        }
        other => panic!("a second created must be rejected, got {other:?}"),
    }
    let late_bodies = store
        .ticket_events(&Viewer::Everything, "L-1")
        .await
        .expect("events")
        .expect("ticket");
    assert_eq!(
        late_bodies,
        [
            "{\"updated\":\"l\"}",
            "{\"created\":\"l\"}",
            "{\"updated\":\"l3\"}"
        ],
        "no l4 of the rejected batch"
    );
    assert_eq!(
        store.ticket_ids().await.expect("ids"),
        ["G-1", "L-1", "T-1"]
    );
    let both = store
        .events_of_tickets(&["T-1".into(), "G-1".into(), "NOPE".into()])
        .await
        .expect("events of tickets");
    assert_eq!(both.len(), 2);
    assert_eq!(both["T-1"], bodies);
    let counts = store
        .event_counts(&["T-1".into(), "L-1".into(), "NOPE".into()])
        .await
        .expect("event counts");
    assert_eq!(
        counts.into_iter().collect::<Vec<_>>(),
        [
            ("L-1".to_owned(), 3),
            ("T-1".to_owned(), bodies.len() as u64)
        ],
        "repeats and rejected batches are not counted; a ticket with no events is left out"
    );

    // Clocks: replaced per ticket; the queue orders running clocks by deadline, sees a
    // passed deadline as a breach, and a bound viewer sees its customer's only.
    store
        .put_ticket_clocks(
            vec![
                TicketClocks {
                    ticket: "T-1".into(),
                    customer: Some("acme".into()),
                    notices: vec![],
                    clocks: vec![
                        clock(
                            "T-1",
                            "first_response",
                            "running",
                            Some("2026-11-02T10:00:00Z"),
                        ),
                        clock("T-1", "resolution", "running", Some("2026-11-02T17:00:00Z")),
                    ],
                },
                TicketClocks {
                    ticket: "G-1".into(),
                    customer: Some("globex".into()),
                    notices: vec![],
                    clocks: vec![
                        clock(
                            "G-1",
                            "first_response",
                            "running",
                            Some("2026-11-02T09:00:00Z"),
                        ),
                        clock(
                            "G-1",
                            "next_response",
                            "running",
                            Some("2026-11-02T11:00:00Z"),
                        ),
                    ],
                },
            ],
            at("2026-11-02T12:00:00Z"),
        )
        .await
        .expect("clocks");
    // Replacing keeps nothing of the ticket's previous clocks: a clock derived again
    // takes its new values (the deadline), one no longer derived is gone (the next
    // response), and a new one is added (the resolution).
    store
        .put_ticket_clocks(
            vec![TicketClocks {
                ticket: "G-1".into(),
                customer: Some("globex".into()),
                notices: vec![],
                clocks: vec![
                    clock(
                        "G-1",
                        "first_response",
                        "running",
                        Some("2026-11-02T09:30:00Z"),
                    ),
                    clock("G-1", "resolution", "met", None),
                ],
            }],
            at("2026-11-02T12:00:00Z"),
        )
        .await
        .expect("clocks");
    // The report's view: a running clock past its deadline (as of the span's end) ended
    // breached at it, with its priority; one whose deadline is later has not ended.
    let ended = store
        .ended_clocks(at("2026-11-02T00:00:00Z"), at("2026-11-02T12:00:00Z"))
        .await
        .expect("ended clocks");
    let mut seen: Vec<(&str, &str, bool, Timestamp, Option<&str>)> = ended
        .iter()
        .map(|c| {
            (
                c.ticket.as_str(),
                c.metric.as_str(),
                c.breached,
                c.at,
                c.priority.as_deref(),
            )
        })
        .collect();
    seen.sort_by_key(|c| c.0);
    assert_eq!(
        seen,
        [
            (
                "G-1",
                "first_response",
                true,
                at("2026-11-02T09:30:00Z"),
                Some("P2")
            ),
            (
                "T-1",
                "first_response",
                true,
                at("2026-11-02T10:00:00Z"),
                Some("P2")
            ),
        ]
    );
    let earlier = store
        .ended_clocks(at("2026-11-02T00:00:00Z"), at("2026-11-02T09:45:00Z"))
        .await
        .expect("ended clocks");
    assert_eq!(earlier.len(), 1);
    assert_eq!(earlier[0].ticket, "G-1");
    assert_eq!(
        (earlier[0].cause.as_deref(), earlier[0].review.as_ref()),
        (None, None)
    );

    let now = at("2026-11-02T09:45:00Z");
    let queue = store
        .list_clocks(
            &Viewer::Everything,
            &ClockFilter::default(),
            true,
            now,
            &PageRequest::new(2, None),
        )
        .await
        .expect("queue");
    let order: Vec<(&str, &str, &str)> = queue
        .items
        .iter()
        .map(|c| (c.ticket.as_str(), c.metric.as_str(), c.state.as_str()))
        .collect();
    assert_eq!(
        order,
        [
            ("T-1", "first_response", "running"),
            ("T-1", "resolution", "running")
        ]
    );
    let rest = store
        .list_clocks(
            &Viewer::Everything,
            &ClockFilter::default(),
            true,
            now,
            &PageRequest::new(2, queue.next),
        )
        .await
        .expect("queue page 2");
    let order: Vec<(&str, &str, &str)> = rest
        .items
        .iter()
        .map(|c| (c.ticket.as_str(), c.metric.as_str(), c.state.as_str()))
        .collect();
    assert_eq!(
        order,
        [
            ("G-1", "first_response", "breached"),
            ("G-1", "resolution", "met")
        ]
    );
    assert_eq!(rest.items[0].breached_at, Some(at("2026-11-02T09:30:00Z")));
    assert_eq!(rest.items[0].deadline, None);
    assert_eq!(rest.next, None);

    let breached = store
        .list_clocks(
            &Viewer::Everything,
            &ClockFilter {
                state: Some("breached".into()),
                ..Default::default()
            },
            true,
            now,
            &PageRequest::default(),
        )
        .await
        .expect("breached");
    assert_eq!(breached.items.len(), 1);
    let acme_only = Viewer::Customer(customer_id("acme"));
    let seen = store
        .list_clocks(
            &acme_only,
            &ClockFilter {
                customer: Some("globex".into()),
                ..Default::default()
            },
            true,
            now,
            &PageRequest::default(),
        )
        .await
        .expect("bound");
    assert!(
        seen.items.is_empty(),
        "a bound viewer cannot ask for another customer's clocks"
    );
    let own = store
        .list_clocks(
            &acme_only,
            &ClockFilter::default(),
            true,
            now,
            &PageRequest::default(),
        )
        .await
        .expect("own");
    assert_eq!(own.items.len(), 2);
    assert!(
        store
            .ticket_events(&acme_only, "G-1")
            .await
            .expect("events")
            .is_none()
    );
    assert!(
        store
            .ticket_events(&acme_only, "T-1")
            .await
            .expect("events")
            .is_some()
    );
}

/// Checks, on the same database reopened, that what [`run`] wrote is still there.
pub async fn after_reopen<S: Store>(store: S) {
    assert_eq!(
        store
            .service_records(at("2026-11-01T00:00:00Z"), at("2026-12-01T00:00:00Z"))
            .await
            .expect("records")
            .len(),
        3,
        "two records and a probe outage survive"
    );
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
    // Six from the main story, one from `notifications` (a dead message revived), one
    // from `breach_cases` (a step).
    assert_eq!(log.items.len(), 8);
    let case = store
        .breach_case(&Viewer::Everything, "C-1:sla:first_response:1:breach")
        .await
        .expect("read")
        .expect("cases survive a reopen");
    assert_eq!(case.state, "withdrawn");
    assert_eq!(case.steps["owner"]["owner"], "kim");
    assert_eq!(
        store
            .ticket_announcements("N-1")
            .await
            .expect("facts survive a reopen")
            .len(),
        1
    );
    assert_eq!(
        store
            .list_outbox(Some("delivered"), &PageRequest::default())
            .await
            .expect("outbox survives a reopen")
            .items
            .len(),
        1
    );
    let config = store.current_config().await.expect("config").expect("kept");
    assert_eq!(config.revision, 2);
    let bodies = store
        .ticket_events(&Viewer::Everything, "T-1")
        .await
        .expect("events")
        .expect("kept");
    assert_eq!(bodies.len(), 2, "acknowledged events survive a reopen");
}

fn notice(key: &str, due: &str) -> Notice {
    Notice {
        key: key.to_owned(),
        ticket: "N-1".into(),
        kind: "clock.warning".into(),
        due_at: at(due),
        body: serde_json::json!({"type": "clock.warning", "ticket": "N-1"}),
        targets: vec!["webhook:oncall".into(), "team:network".into()],
    }
}

fn message(fact: &str, now: Timestamp) -> OutboxMessage {
    OutboxMessage {
        id: format!("{fact} webhook:oncall"),
        fact: fact.to_owned(),
        target: "webhook:oncall".into(),
        body: format!("{{\"id\":\"{fact}\"}}"),
        state: "pending".into(),
        attempts: 0,
        next_attempt_at: now,
        last_error: None,
        created_at: now,
        delivered_at: None,
    }
}

/// Notices, announcements and the outbox: each fact is recorded once, a re-derivation
/// does not bring an announced fact back, deliveries are claimed, retried, die and are
/// revived.
pub async fn notifications<S: Store>(store: S) {
    let put = |notices: Vec<Notice>| TicketClocks {
        ticket: "N-1".into(),
        customer: Some("acme".into()),
        clocks: vec![],
        notices,
    };
    assert_eq!(store.next_notice_due().await.expect("next"), None);
    store
        .put_ticket_clocks(
            vec![put(vec![
                notice("N-1:a", "2026-11-02T10:00:00Z"),
                notice("N-1:b", "2026-11-02T11:00:00Z"),
            ])],
            at("2026-11-02T12:00:00Z"),
        )
        .await
        .expect("notices");
    assert_eq!(
        store.next_notice_due().await.expect("next"),
        Some(at("2026-11-02T10:00:00Z"))
    );
    let now = at("2026-11-02T10:30:00Z");
    let due = store.due_notices(now, 10).await.expect("due");
    assert_eq!(due, vec![notice("N-1:a", "2026-11-02T10:00:00Z")]);

    let fact = Announcement {
        key: "N-1:a".into(),
        ticket: "N-1".into(),
        kind: "clock.warning".into(),
        at: at("2026-11-02T10:00:00Z"),
        announced: true,
    };
    let new = store
        .record_announcements(vec![fact.clone()], vec![message("N-1:a", now)])
        .await
        .expect("record");
    assert_eq!(new, 1);
    // A second watcher recording the same fact adds nothing.
    let again = store
        .record_announcements(vec![fact.clone()], vec![message("N-1:a", now)])
        .await
        .expect("record again");
    assert_eq!(again, 0);
    assert_eq!(
        store.ticket_announcements("N-1").await.expect("facts"),
        vec![fact]
    );
    // Re-deriving the ticket does not bring the announced fact back.
    store
        .put_ticket_clocks(
            vec![put(vec![
                notice("N-1:a", "2026-11-02T10:00:00Z"),
                notice("N-1:b", "2026-11-02T11:00:00Z"),
            ])],
            at("2026-11-02T12:00:00Z"),
        )
        .await
        .expect("notices again");
    assert_eq!(
        store.next_notice_due().await.expect("next"),
        Some(at("2026-11-02T11:00:00Z"))
    );

    // Delivery: claimed for a lease, so a second claim meanwhile gets nothing.
    let all = store
        .list_outbox(None, &PageRequest::default())
        .await
        .expect("outbox");
    assert_eq!(all.items.len(), 1, "one message despite two recordings");
    let lease = at("2026-11-02T10:31:00Z");
    let claimed = store.claim_deliveries(now, lease, 10).await.expect("claim");
    assert_eq!(claimed.len(), 1);
    let id = claimed[0].id.clone();
    assert!(
        store
            .claim_deliveries(now, lease, 10)
            .await
            .expect("claim")
            .is_empty()
    );
    // Once the lease has passed (the worker crashed), it is claimed again.
    let later = at("2026-11-02T10:32:00Z");
    assert_eq!(
        store
            .claim_deliveries(later, at("2026-11-02T10:33:00Z"), 10)
            .await
            .expect("claim")
            .len(),
        1
    );
    store
        .finish_delivery(
            &id,
            DeliveryOutcome::Failed {
                error: "503".into(),
                retry_at: Some(at("2026-11-02T10:40:00Z")),
            },
        )
        .await
        .expect("failed once");
    assert_eq!(
        store.next_delivery_due().await.expect("next"),
        Some(at("2026-11-02T10:40:00Z"))
    );
    let retried = store
        .claim_deliveries(at("2026-11-02T10:40:00Z"), at("2026-11-02T10:41:00Z"), 10)
        .await
        .expect("claim");
    assert_eq!(
        (retried[0].attempts, retried[0].last_error.as_deref()),
        (1, Some("503"))
    );
    store
        .finish_delivery(
            &id,
            DeliveryOutcome::Failed {
                error: "refused".into(),
                retry_at: None,
            },
        )
        .await
        .expect("dead");
    let dead = store
        .list_outbox(Some("dead"), &PageRequest::default())
        .await
        .expect("dead list");
    assert_eq!(dead.items.len(), 1);
    assert_eq!(store.next_delivery_due().await.expect("next"), None);
    let revived = store
        .retry_delivery(&Actor::Token("tok_admin".into()), &id, later)
        .await
        .expect("retry");
    assert_eq!((revived.state.as_str(), revived.attempts), ("pending", 0));
    let missing = store
        .retry_delivery(&Actor::Token("tok_admin".into()), "nope", later)
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound { .. })));
    let claimed = store
        .claim_deliveries(later, lease, 10)
        .await
        .expect("claim");
    store
        .finish_delivery(&claimed[0].id, DeliveryOutcome::Delivered { at: later })
        .await
        .expect("delivered");
    let delivered = store
        .list_outbox(Some("delivered"), &PageRequest::default())
        .await
        .expect("delivered list");
    assert_eq!(delivered.items[0].delivered_at, Some(later));
}

/// Breach cases: derived clocks open a history case (no alert, no reminder); the watcher's
/// opening of the same breach alerts it and schedules a reminder; steps are recorded
/// once and close the case; a clock no longer breached withdraws it and tells those
/// alerted; a bound viewer sees only its customer's cases.
pub async fn breach_cases<S: Store>(store: S) {
    let now = at("2026-11-02T12:00:00Z");
    let mut breached = clock("C-1", "first_response", "breached", None);
    breached.breached_at = Some(at("2026-11-02T10:00:00Z"));
    let put = |clocks: Vec<ClockRow>| TicketClocks {
        ticket: "C-1".into(),
        customer: Some("acme".into()),
        clocks,
        notices: vec![],
    };
    store
        .put_ticket_clocks(vec![put(vec![breached.clone()])], now)
        .await
        .expect("put clocks");
    let id = "C-1:sla:first_response:1:breach";
    let case = store
        .breach_case(&Viewer::Everything, id)
        .await
        .expect("read")
        .expect("a breached clock opens its case");
    assert_eq!(case.state, "open");
    assert_eq!(case.customer.as_deref(), Some("acme"));
    assert_eq!(case.breached_at, at("2026-11-02T10:00:00Z"));
    assert_eq!(
        case.next_step(),
        Some("team_alerted"),
        "history: nobody alerted"
    );
    // (Notices of other tickets from earlier parts of the story are left out.)
    let case_notices = |due: Vec<Notice>| -> Vec<Notice> {
        due.into_iter().filter(|n| n.ticket == "C-1").collect()
    };
    let far = at("2027-01-01T00:00:00Z");
    assert!(
        case_notices(store.due_notices(far, 100).await.expect("due")).is_empty(),
        "no reminder for history"
    );

    // The watcher opens the same breach: alerted, and a reminder on the next step.
    let new_case = crate::NewBreachCase {
        id: id.into(),
        ticket: "C-1".into(),
        customer: Some("acme".into()),
        agreement_type: "sla".into(),
        agreement: "gold".into(),
        objective: "first_response-objective".into(),
        metric: "first_response".into(),
        cycle: 1,
        breached_at: at("2026-11-02T10:00:00Z"),
        alerted_at: Some(now),
        targets: vec!["webhook:oncall".into()],
        remind_after: Some(jiff::SignedDuration::from_hours(4)),
    };
    store
        .open_breach_cases(vec![new_case.clone()], now)
        .await
        .expect("open");
    store
        .open_breach_cases(vec![new_case], now)
        .await
        .expect("open again");
    let cases = store
        .list_breach_cases(
            &Viewer::Everything,
            &crate::CaseFilter::default(),
            &PageRequest::default(),
        )
        .await
        .expect("list");
    assert_eq!(cases.items.len(), 1, "one case per breach");
    assert_eq!(cases.items[0].steps["team_alerted"]["by"], "accord");
    let due = case_notices(store.due_notices(far, 100).await.expect("due"));
    assert_eq!(due.len(), 1, "{due:?}");
    assert_eq!(due[0].key, format!("{id}:step_due:owner"));
    assert_eq!(
        due[0].due_at,
        at("2026-11-02T16:00:00Z"),
        "the owner step is reminded of 4 h after the alert"
    );

    // Steps: once each; progress moves the reminder.
    let actor = Actor::Token("tok_story".into());
    let mut fields = serde_json::Map::new();
    fields.insert("owner".into(), serde_json::json!("kim"));
    let later = at("2026-11-02T13:00:00Z");
    let case = store
        .record_case_step(&actor, id, "owner", fields.clone(), later)
        .await
        .expect("owner");
    assert_eq!(case.next_step(), Some("root_cause"));
    assert!(matches!(
        store
            .record_case_step(&actor, id, "owner", fields.clone(), later)
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store
            .record_case_step(&actor, "nope", "owner", fields, later)
            .await,
        Err(StoreError::NotFound { .. })
    ));
    let due = case_notices(store.due_notices(far, 100).await.expect("due"));
    assert_eq!(due.len(), 1, "{due:?}");
    assert_eq!(due[0].key, format!("{id}:step_due:root_cause"));
    assert_eq!(due[0].due_at, at("2026-11-02T17:00:00Z"));

    // Another customer's viewer sees nothing; the period filter applies.
    let other = Viewer::Customer(customer_id("globex"));
    assert!(store.breach_case(&other, id).await.expect("read").is_none());
    let in_period = crate::CaseFilter {
        customer: Some("acme".into()),
        from: Some(at("2026-11-01T00:00:00Z")),
        to: Some(at("2026-12-01T00:00:00Z")),
        ..Default::default()
    };
    let listed = store
        .list_breach_cases(&Viewer::Everything, &in_period, &PageRequest::default())
        .await
        .expect("list");
    assert_eq!(listed.items.len(), 1);
    let before = crate::CaseFilter {
        to: Some(at("2026-11-02T10:00:00Z")),
        ..Default::default()
    };
    let listed = store
        .list_breach_cases(&Viewer::Everything, &before, &PageRequest::default())
        .await
        .expect("list");
    assert!(listed.items.is_empty(), "the end of a period is excluded");

    // A late event: the clock is met after all. Withdrawn, reminder gone, withdrawal due.
    let mut met = breached;
    met.breached_at = None;
    met.state = "met".into();
    store
        .put_ticket_clocks(vec![put(vec![met])], later)
        .await
        .expect("put clocks");
    let case = store
        .breach_case(&Viewer::Everything, id)
        .await
        .expect("read")
        .expect("kept");
    assert_eq!(case.state, "withdrawn");
    let due = case_notices(store.due_notices(far, 100).await.expect("due"));
    let keys: Vec<&str> = due.iter().map(|n| n.key.as_str()).collect();
    assert_eq!(
        keys,
        [format!(
            "{id}:withdrawn:{}",
            at("2026-11-02T10:00:00Z").as_second()
        )]
    );
    assert_eq!(due[0].kind, "clock.breach_withdrawn");
    assert_eq!(due[0].targets, ["webhook:oncall"]);
    assert!(matches!(
        store
            .record_case_step(&actor, id, "root_cause", serde_json::Map::new(), later)
            .await,
        Err(StoreError::Conflict(_))
    ));
}

fn outage_record(id: &str, service: &str, from: &str, to: &str) -> crate::StoredRecord {
    let json =
        serde_json::json!({"type": "outage", "id": id, "service": service, "from": from, "to": to});
    let record: accord_core::availability::ServiceRecord =
        serde_json::from_value(json).expect("story records are valid");
    crate::StoredRecord::from_record(&record)
}

/// Outage and maintenance records, and probes turned into outages (runs on a store of
/// its own or after the others).
pub async fn service_records<S: Store>(store: S) {
    let o1 = outage_record(
        "o1",
        "email",
        "2026-11-10T10:00:00Z",
        "2026-11-10T11:00:00Z",
    );
    let o2 = outage_record("o2", "vpn", "2026-11-20T10:00:00Z", "2026-11-20T11:00:00Z");
    let outcome = store
        .ingest(
            vec![StoredEvent {
                id: "r-e1".into(),
                ticket: "R-1".into(),
                is_created: true,
                body: "{\"r\":1}".into(),
            }],
            vec![o1.clone(), o2.clone(), o1.clone()],
        )
        .await
        .expect("ingest records");
    assert_eq!((outcome.accepted, outcome.duplicates), (3, 1));
    assert_eq!(outcome.tickets, ["R-1"], "records name no ticket");

    // A changed repeat rejects the whole batch, named after the events; nothing is kept.
    let changed = outage_record(
        "o1",
        "email",
        "2026-11-10T10:00:00Z",
        "2026-11-10T12:00:00Z",
    );
    let fresh = outage_record(
        "o3",
        "email",
        "2026-11-11T10:00:00Z",
        "2026-11-11T11:00:00Z",
    );
    match store
        .ingest(
            vec![StoredEvent {
                id: "r-e2".into(),
                ticket: "R-1".into(),
                is_created: false,
                body: "{\"r\":2}".into(),
            }],
            vec![fresh, changed],
        )
        .await
    {
        Err(StoreError::Rejected { index: 2, message }) => {
            assert_eq!(
                message,
                "record id \"o1\" was received before with different content"
            );
        }
        other => panic!("a changed record must be rejected, got {other:?}"),
    }
    let november = store
        .service_records(at("2026-11-01T00:00:00Z"), at("2026-12-01T00:00:00Z"))
        .await
        .expect("records");
    assert_eq!(november, [o1.body.clone(), o2.body.clone()]);
    let around_o1 = store
        .service_records(at("2026-11-10T10:59:59Z"), at("2026-11-10T11:00:00Z"))
        .await
        .expect("records");
    assert_eq!(
        around_o1,
        std::slice::from_ref(&o1.body),
        "overlap, to exclusive"
    );
    assert!(
        store
            .service_records(at("2026-11-10T11:00:00Z"), at("2026-11-10T12:00:00Z"))
            .await
            .expect("records")
            .is_empty()
    );

    // Probes: three failures make an outage from the first; a good probe ends it and
    // records it once; older results are stale.
    let probe = |s: &str, t: &str, up: bool| crate::ProbeResult {
        service: s.into(),
        at: at(t),
        up,
    };
    let outcome = store
        .record_probes(
            vec![
                probe("chat", "2026-11-12T10:00:00Z", true),
                probe("chat", "2026-11-12T10:01:00Z", false),
                probe("chat", "2026-11-12T10:02:00Z", false),
                probe("chat", "2026-11-12T10:01:30Z", true),
            ],
            3,
        )
        .await
        .expect("probes");
    assert_eq!((outcome.accepted, outcome.stale), (3, 1));
    assert!(
        store.ongoing_outages(3).await.expect("ongoing").is_empty(),
        "two failures are not an outage yet"
    );
    store
        .record_probes(vec![probe("chat", "2026-11-12T10:03:00Z", false)], 3)
        .await
        .expect("probes");
    assert_eq!(
        store.ongoing_outages(3).await.expect("ongoing"),
        [crate::OngoingOutage {
            service: "chat".into(),
            since: at("2026-11-12T10:01:00Z"),
        }]
    );
    let ended = store
        .record_probes(vec![probe("chat", "2026-11-12T10:10:00Z", true)], 3)
        .await
        .expect("probes");
    assert_eq!(ended.outages_recorded, ["probe:chat:1794477660"]);
    assert!(store.ongoing_outages(3).await.expect("ongoing").is_empty());
    let chat = store
        .service_records(at("2026-11-12T00:00:00Z"), at("2026-11-13T00:00:00Z"))
        .await
        .expect("records");
    assert_eq!(
        chat,
        [outage_record(
            "probe:chat:1794477660",
            "chat",
            "2026-11-12T10:01:00Z",
            "2026-11-12T10:10:00Z"
        )
        .body]
    );
}
