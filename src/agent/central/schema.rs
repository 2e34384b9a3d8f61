//! The central database's schema, versioned like the agent's SQLite one: migrations in
//! order, `astbase.schema_version` says how many ran, a newer version is refused. Every
//! table lives in the `astbase` schema, so the database may also hold Asterisk's own
//! `cdr` table (cdr_pgsql) or anything else.

use tokio_postgres::error::SqlState;

use super::{CentralError, Session, describe};

/// Migrations, in order. The columns are the agent's SQLite ones (see
/// `agent::cdr::store`), plus `local_id` (the row's id in its agent's database) and
/// `shipped_at`. The fingerprint is the primary key: a record shipped twice, by a
/// restarted agent or a replayed transcript, is one row.
const MIGRATIONS: &[&str] = &[
    // 1: CDRs.
    "CREATE SCHEMA IF NOT EXISTS astbase;
    CREATE TABLE astbase.schema_version (version integer NOT NULL);
    INSERT INTO astbase.schema_version VALUES (0);
    CREATE TABLE astbase.cdr (
        fingerprint bytea PRIMARY KEY,
        server text NOT NULL,
        local_id bigint NOT NULL,
        accountcode text NOT NULL,
        src text NOT NULL,
        dst text NOT NULL,
        dcontext text NOT NULL,
        clid text NOT NULL,
        channel text NOT NULL,
        dstchannel text NOT NULL,
        lastapp text NOT NULL,
        lastdata text NOT NULL,
        start text NOT NULL,
        answer text,
        \"end\" text NOT NULL,
        start_epoch bigint,
        duration bigint NOT NULL,
        billsec bigint NOT NULL,
        disposition text NOT NULL,
        amaflags text NOT NULL,
        uniqueid text NOT NULL,
        userfield text NOT NULL,
        linkedid text,
        sequence bigint,
        peeraccount text,
        received_at text NOT NULL,
        origin text NOT NULL,
        shipped_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX cdr_start ON astbase.cdr (start_epoch);",
    // 2: what the web console's users did (`astbase serve --db postgres://...`).
    "CREATE TABLE astbase.web_action (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        server text NOT NULL,
        \"user\" text NOT NULL,
        role text NOT NULL,
        address text NOT NULL,
        action text NOT NULL,
        target text NOT NULL,
        outcome text NOT NULL
    );
    CREATE INDEX web_action_at ON astbase.web_action (at);",
];

/// Any number: agents starting together take turns migrating.
const MIGRATION_LOCK: i64 = 0x6173_7462_6173_6501;

/// What [`migrate`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migrated {
    pub from: i32,
    pub to: i32,
}

/// Brings the schema up to date (creating it on first use), one transaction per run.
pub fn migrate(session: &Session) -> Result<Migrated, CentralError> {
    let url = session.url.display.clone();
    let user = session.url.user().to_owned();
    let timeout = session.timeout;
    let outcome = session.runtime.block_on(async {
        let tx = &session.client;
        let steps = async {
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
                .await?;
            let exists: bool = tx
                .query_one(
                    "SELECT to_regclass('astbase.schema_version') IS NOT NULL",
                    &[],
                )
                .await?
                .get(0);
            let found: i32 = if exists {
                tx.query_one("SELECT version FROM astbase.schema_version", &[])
                    .await?
                    .get(0)
            } else {
                0
            };
            if found as usize > MIGRATIONS.len() {
                return Ok(Err(found));
            }
            for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
                tx.batch_execute(sql).await?;
                tx.execute(
                    "UPDATE astbase.schema_version SET version = $1",
                    &[&((i + 1) as i32)],
                )
                .await?;
            }
            Ok::<_, tokio_postgres::Error>(Ok(Migrated {
                from: found,
                to: MIGRATIONS.len() as i32,
            }))
        };
        let work = async {
            tx.batch_execute("BEGIN").await?;
            match steps.await {
                Ok(done) => {
                    tx.batch_execute("COMMIT").await?;
                    Ok(done)
                }
                Err(e) => {
                    let _ = tx.batch_execute("ROLLBACK").await;
                    Err(e)
                }
            }
        };
        tokio::time::timeout(timeout, work).await
    });
    match outcome {
        Err(_) => Err(CentralError::Timeout {
            url,
            what: "migrating the schema",
            after: timeout,
        }),
        Ok(Ok(Ok(migrated))) => Ok(migrated),
        Ok(Ok(Err(found))) => Err(CentralError::TooNew {
            url,
            found,
            known: MIGRATIONS.len(),
        }),
        Ok(Err(e)) if e.code() == Some(&SqlState::INSUFFICIENT_PRIVILEGE) => {
            Err(CentralError::CannotMigrate {
                url,
                user,
                message: describe(&e),
            })
        }
        Ok(Err(e)) => Err(CentralError::Query {
            url,
            what: "migrating the schema",
            message: describe(&e),
        }),
    }
}
