//! The agent database's schema, as migrations run in order by `Store::open`
//! (`PRAGMA user_version` counts those that ran; a newer database is refused).

/// Schema migrations, in order; `user_version` is how many have run.
///
/// Duplicates are refused by `fingerprint` alone (see [`super::Cdr::fingerprint`]): it holds
/// for records from AMI and from Master.csv alike, which may lack `sequence`. A second
/// unique index on (server, uniqueid, sequence) would refuse nothing more and cost a
/// quarter of the insert rate (benches/agent.rs: ~100k -> ~130k rows/s without it).
pub const MIGRATIONS: &[&str] = &[
    // 1: CDRs, live channels, bans, Master.csv position.
    "CREATE TABLE cdr (
        id INTEGER PRIMARY KEY,
        server TEXT NOT NULL,
        accountcode TEXT NOT NULL,
        src TEXT NOT NULL,
        dst TEXT NOT NULL,
        dcontext TEXT NOT NULL,
        clid TEXT NOT NULL,
        channel TEXT NOT NULL,
        dstchannel TEXT NOT NULL,
        lastapp TEXT NOT NULL,
        lastdata TEXT NOT NULL,
        start TEXT NOT NULL,
        answer TEXT,
        end TEXT NOT NULL,
        start_epoch INTEGER,
        duration INTEGER NOT NULL,
        billsec INTEGER NOT NULL,
        disposition TEXT NOT NULL,
        amaflags TEXT NOT NULL,
        uniqueid TEXT NOT NULL,
        userfield TEXT NOT NULL,
        linkedid TEXT,
        sequence INTEGER,
        peeraccount TEXT,
        received_at TEXT NOT NULL,
        origin TEXT NOT NULL,
        fingerprint BLOB NOT NULL UNIQUE
    );
    CREATE INDEX cdr_start ON cdr(start_epoch);
    CREATE TABLE live_channel (
        uniqueid TEXT PRIMARY KEY,
        server TEXT NOT NULL,
        channel TEXT NOT NULL,
        state TEXT NOT NULL,
        caller_num TEXT NOT NULL,
        caller_name TEXT NOT NULL,
        connected_num TEXT NOT NULL,
        connected_name TEXT NOT NULL,
        context TEXT NOT NULL,
        exten TEXT NOT NULL,
        linkedid TEXT NOT NULL,
        bridge TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE ban (
        id INTEGER PRIMARY KEY,
        server TEXT NOT NULL,
        address TEXT NOT NULL,
        events INTEGER NOT NULL,
        last_event TEXT NOT NULL,
        banned_at TEXT NOT NULL,
        timeout_secs INTEGER NOT NULL,
        applied INTEGER NOT NULL,
        detail TEXT NOT NULL
    );
    CREATE TABLE csv_position (
        path TEXT PRIMARY KEY,
        device INTEGER NOT NULL,
        inode INTEGER NOT NULL,
        offset INTEGER NOT NULL
    );",
    // 2: how far each central database has been sent rows (see agent::shipper).
    "CREATE TABLE ship_mark (
        central TEXT PRIMARY KEY,
        last_id INTEGER NOT NULL,
        shipped INTEGER NOT NULL,
        updated_at TEXT NOT NULL
    );",
    // 3: call events waiting for (or done with) delivery to webhook endpoints.
    "CREATE TABLE webhook_outbox (
        id INTEGER PRIMARY KEY,
        endpoint TEXT NOT NULL,
        event TEXT NOT NULL,
        idempotency_key TEXT NOT NULL,
        payload TEXT NOT NULL,
        created_at TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        delivered_at TEXT,
        dead_at TEXT,
        UNIQUE (endpoint, idempotency_key)
    );
    CREATE INDEX webhook_pending ON webhook_outbox (endpoint, id)
        WHERE delivered_at IS NULL AND dead_at IS NULL;",
    // 4: the recordings library (see agent::recordings).
    "CREATE TABLE recording (
        id INTEGER PRIMARY KEY,
        uniqueid TEXT NOT NULL UNIQUE,
        linkedid TEXT NOT NULL,
        channel TEXT NOT NULL,
        caller TEXT NOT NULL,
        connected TEXT NOT NULL,
        exten TEXT NOT NULL,
        path TEXT NOT NULL,
        size INTEGER NOT NULL,
        duration_ms INTEGER,
        recorded_at TEXT NOT NULL,
        recorded_epoch INTEGER NOT NULL,
        deleted_at TEXT
    );
    CREATE INDEX recording_time ON recording (recorded_epoch);",
    // 5: what the web console's users did (see serve::audit).
    "CREATE TABLE web_action (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        at_epoch INTEGER NOT NULL,
        user TEXT NOT NULL,
        role TEXT NOT NULL,
        address TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        outcome TEXT NOT NULL
    );
    CREATE INDEX web_action_time ON web_action (at_epoch);",
    // 6: call statistics rolled up by day and hour, extension and queue (see
    // cdr::rollup); readers bring them up to date from `rollup_mark`.
    "CREATE TABLE cdr_hourly (
        day TEXT NOT NULL,
        hour INTEGER NOT NULL,
        calls INTEGER NOT NULL,
        answered INTEGER NOT NULL,
        talk INTEGER NOT NULL,
        wait INTEGER NOT NULL,
        PRIMARY KEY (day, hour)
    ) WITHOUT ROWID;
    CREATE TABLE cdr_daily (
        kind INTEGER NOT NULL,
        key TEXT NOT NULL,
        day TEXT NOT NULL,
        calls INTEGER NOT NULL,
        answered INTEGER NOT NULL,
        talk INTEGER NOT NULL,
        wait INTEGER NOT NULL,
        PRIMARY KEY (kind, key, day)
    ) WITHOUT ROWID;
    CREATE TABLE rollup_mark (last_id INTEGER NOT NULL);
    INSERT INTO rollup_mark VALUES (0);",
];
