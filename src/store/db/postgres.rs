//! The PostgreSQL side of [`super::Connection`]: connections from a
//! `deadpool-postgres` pool (one pool per database URL per process), their
//! I/O driven by a runtime of their own, statements translated once from the
//! store's SQL and kept in the pool's statement cache.
//!
//! # Calling from any context
//! A `tokio-postgres` client sends each request over a channel to its
//! connection task and waits for the answer on another; only the connection
//! task does I/O. Here the connection tasks run on a one-thread runtime
//! owned by this module (`redliner-postgres`), and a call waits for its
//! answer with a plain executor on the calling thread. A call therefore
//! never needs, nor disturbs, the caller's runtime, as a SQLite call does
//! not.
//!
//! # Types
//! Parameters are bound as the type the server inferred for them (see
//! `Bind`): an integer as `bigint`, `integer`, `smallint` or `boolean`,
//! text as any text type. Columns of those types, `real`/`double precision`,
//! `bytea` and text types are read; anything else is an error naming the
//! type (the store's queries cast what they return).

use std::collections::HashMap;
use std::error::Error as _;
use std::str::FromStr;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use tokio_postgres::types::{IsNull, ToSql as PgToSql, Type, to_sql_checked};

use super::{DbError, Result, ValueRef};

/// The runtime that drives every connection's I/O.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("redliner-postgres")
            .enable_all()
            .build()
            .expect("a one-thread tokio runtime")
    })
}

/// Runs `fut` on the connections' runtime and waits for it on this thread.
///
/// The wait is outside tokio's cooperative budget: called from a task of
/// another runtime (the run loop), a `JoinHandle` whose task has used up its
/// budget would defer its wake-up to that task's next yield, which never
/// comes while this thread waits here.
fn on_runtime<T: Send + 'static>(
    fut: impl std::future::Future<Output = T> + Send + 'static,
) -> Result<T> {
    futures_executor::block_on(tokio::task::unconstrained(runtime().spawn(fut)))
        .map_err(|e| DbError::Pool(format!("the connection task ended: {e}")))
}

/// Where a store's database is and how to log in.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PgTarget {
    /// The URL as configured (`postgres://user@host:port/db`), without a
    /// password.
    pub url: String,
    /// The password, read from the environment variable the config names.
    pub password: Option<String>,
}

impl PgTarget {
    /// The URL with any password replaced by `***`, for messages.
    pub fn display(&self) -> String {
        redact(&self.url)
    }
}

/// `url` with any password (before the `@`, or a `password` query
/// parameter) replaced by `***`, for messages. A URL that does not parse
/// and might hold one is not shown at all.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            if u.query_pairs().any(|(k, _)| k == "password") {
                let pairs: Vec<(String, String)> = u
                    .query_pairs()
                    .map(|(k, v)| {
                        let v = if k == "password" {
                            "***".into()
                        } else {
                            v.into_owned()
                        };
                        (k.into_owned(), v)
                    })
                    .collect();
                u.query_pairs_mut().clear().extend_pairs(pairs);
            }
            u.to_string()
        }
        Err(_) if url.contains(['@', '?']) => "(a PostgreSQL URL that does not parse)".into(),
        Err(_) => url.to_string(),
    }
}

fn password_envs() -> &'static Mutex<HashMap<String, String>> {
    static ENVS: OnceLock<Mutex<HashMap<String, String>>> = OnceLock::new();
    ENVS.get_or_init(Default::default)
}

/// Notes that the password of the database `url` is in the environment
/// variable `var` (the config's `store_password_env`), for the connections
/// this process makes to it without the config at hand (the store lock).
pub fn set_password_env(url: &str, var: &str) {
    password_envs()
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .insert(url.to_string(), var.to_string());
}

/// The password of the database `url`: from the variable
/// [`set_password_env`] named for it, else from `PGPASSWORD`; `None` when
/// neither is set.
pub fn password_for(url: &str) -> Option<String> {
    let var = password_envs()
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(url)
        .cloned();
    match var {
        Some(var) => std::env::var(var).ok(),
        None => std::env::var("PGPASSWORD").ok(),
    }
}

/// What a store setting names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    /// A directory: a SQLite store.
    Directory,
    /// A PostgreSQL database (`postgres://` or `postgresql://`, any case).
    Postgres,
    /// Some other URL (`scheme://...`): refused, never taken for a
    /// directory name.
    OtherUrl,
}

/// What `store` names.
pub fn store_kind(store: &str) -> StoreKind {
    let lower = store.trim_start().to_ascii_lowercase();
    if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
        StoreKind::Postgres
    } else if store.contains("://") {
        StoreKind::OtherUrl
    } else {
        StoreKind::Directory
    }
}

/// True when `store` names a PostgreSQL database rather than a directory.
pub fn is_url(store: &str) -> bool {
    store_kind(store) == StoreKind::Postgres
}

/// Why `store` is refused when it is a URL but not a PostgreSQL one.
pub fn other_url_message(store: &str) -> String {
    format!(
        "`{}` is a URL but not a PostgreSQL one: a store is a directory or \
         `postgres://user@host:port/database`",
        redact(store)
    )
}

/// `url` with its scheme in lower case and no leading space, as the
/// client reads it.
fn normalized(url: &str) -> String {
    let url = url.trim_start();
    match url.find("://") {
        Some(at) => format!("{}{}", url[..at].to_ascii_lowercase(), &url[at..]),
        None => url.to_string(),
    }
}

fn pools() -> &'static Mutex<HashMap<PgTarget, Pool>> {
    static POOLS: OnceLock<Mutex<HashMap<PgTarget, Pool>>> = OnceLock::new();
    POOLS.get_or_init(Default::default)
}

/// The process's pool for `target`, made on first use.
///
/// # Errors
/// [`DbError::Pool`] when the URL does not parse.
pub fn pool(target: &PgTarget) -> Result<Pool> {
    let mut pools = pools()
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(p) = pools.get(target) {
        return Ok(p.clone());
    }
    let mut config = tokio_postgres::Config::from_str(&normalized(&target.url))
        .map_err(|e| DbError::Pool(format!("not a PostgreSQL URL: {e}")))?;
    if config.get_dbname().is_none_or(str::is_empty) {
        return Err(DbError::Pool(
            "the URL names no database: `postgres://user@host:port/database`".into(),
        ));
    }
    if let Some(pw) = &target.password {
        config.password(pw);
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    config.application_name("redliner");
    let manager = Manager::from_config(
        config,
        tokio_postgres::NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    let pool = Pool::builder(manager)
        .max_size(16)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(Duration::from_secs(30)))
        .create_timeout(Some(Duration::from_secs(15)))
        .build()
        .map_err(|e| DbError::Pool(e.to_string()))?;
    pools.insert(target.clone(), pool.clone());
    Ok(pool)
}

/// A connection to `target` from its pool.
fn take(target: &PgTarget) -> Result<Object> {
    let pool = pool(target)?;
    on_runtime(async move { pool.get().await })?.map_err(|e| {
        DbError::Pool(match &e {
            deadpool_postgres::PoolError::Backend(b) => {
                describe(b).trim_start_matches("PostgreSQL: ").to_string()
            }
            other => other.to_string(),
        })
    })
}

/// Runs `f` with a connection to `target` from its pool, on the
/// connections' runtime, and waits for its result on this thread: for the
/// few PostgreSQL-only statements (arrays, `FOR UPDATE SKIP LOCKED`) that
/// the SQLite-shaped [`super::Connection`] does not speak.
///
/// # Errors
/// [`DbError::Pool`] when no connection can be had; [`DbError::Postgres`]
/// for what `f` returns.
pub fn with_client<T, F, Fut>(target: &PgTarget, f: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce(Object) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = std::result::Result<T, tokio_postgres::Error>> + Send,
{
    let client = take(target)?;
    on_runtime(async move { f(client).await })?.map_err(DbError::Postgres)
}

/// Closes the process's pool for `target` (its idle connections end).
pub fn close_pool(target: &PgTarget) {
    let pool = pools()
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .remove(target);
    if let Some(p) = pool {
        p.close();
    }
}

/// One connection taken from the pool for as long as it is held; a
/// connection the server closed is replaced by a new one at the next
/// statement outside a transaction.
pub struct PgConnection {
    client: std::cell::RefCell<Object>,
    target: PgTarget,
    name: String,
    /// The statements prepared on this connection so far, each with
    /// whether its parameters needed their types given.
    known: std::cell::RefCell<HashMap<String, bool>>,
}

impl PgConnection {
    /// Takes a connection to `target` from its pool.
    ///
    /// # Errors
    /// [`DbError::Pool`] naming the database when none can be had (server
    /// down, login refused, pool exhausted for 30 s).
    pub fn connect(target: &PgTarget) -> Result<PgConnection> {
        Ok(PgConnection {
            client: std::cell::RefCell::new(take(target)?),
            target: target.clone(),
            name: target.display(),
            known: std::cell::RefCell::default(),
        })
    }

    /// The connection, replaced first when the server closed it (never
    /// inside a transaction: that transaction is gone, and its statements
    /// must fail, not run one by one on a new connection).
    fn live(&self, in_transaction: bool) -> Result<std::cell::Ref<'_, Object>> {
        if self.client.borrow().is_closed() && !in_transaction {
            *self.client.borrow_mut() = take(&self.target)?;
            self.known.borrow_mut().clear();
        }
        Ok(self.client.borrow())
    }

    /// The database URL without its password.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The prepared statement of `sql`, from the cache. A parameter whose
    /// type the server cannot tell from the statement alone (`?1 IS NULL`)
    /// is given the type of the value bound to it. Inside a transaction
    /// (`in_transaction`), a statement prepared for the first time is
    /// prepared under a savepoint: a failed prepare aborts PostgreSQL's
    /// transaction, and the retry with types must not find it aborted.
    fn statement(
        &self,
        sql: &str,
        values: &[ValueRef<'_>],
        in_transaction: bool,
    ) -> Result<tokio_postgres::Statement> {
        let pg = translate(sql);
        let client = self.live(in_transaction)?;
        let typed = || {
            let types: Vec<Type> = values
                .iter()
                .map(|v| match v {
                    ValueRef::Integer(_) => Type::INT8,
                    ValueRef::Real(_) => Type::FLOAT8,
                    ValueRef::Blob(_) => Type::BYTEA,
                    ValueRef::Null | ValueRef::Text(_) => Type::TEXT,
                })
                .collect();
            futures_executor::block_on(client.prepare_typed_cached(&pg, &types))
        };
        let known = self.known.borrow().get(sql).copied();
        match known {
            Some(false) => return Ok(futures_executor::block_on(client.prepare_cached(&pg))?),
            Some(true) => return Ok(typed()?),
            None => {}
        }
        let guard = in_transaction;
        if guard {
            futures_executor::block_on(client.batch_execute("SAVEPOINT redliner_prepare"))?;
        }
        let (statement, needs_types) = match futures_executor::block_on(client.prepare_cached(&pg))
        {
            Err(e)
                if e.code().is_some_and(|c| {
                    *c == tokio_postgres::error::SqlState::INDETERMINATE_DATATYPE
                        || *c == tokio_postgres::error::SqlState::AMBIGUOUS_PARAMETER
                }) =>
            {
                if guard {
                    futures_executor::block_on(
                        client.batch_execute("ROLLBACK TO SAVEPOINT redliner_prepare"),
                    )?;
                }
                (typed(), true)
            }
            other => (other, false),
        };
        if guard {
            if statement.is_err() {
                let _ = futures_executor::block_on(
                    client.batch_execute("ROLLBACK TO SAVEPOINT redliner_prepare"),
                );
            }
            futures_executor::block_on(client.batch_execute("RELEASE SAVEPOINT redliner_prepare"))?;
        }
        let statement = statement?;
        self.known.borrow_mut().insert(sql.to_string(), needs_types);
        Ok(statement)
    }

    pub(super) fn execute(
        &self,
        sql: &str,
        values: &[ValueRef<'_>],
        in_transaction: bool,
    ) -> Result<usize> {
        let st = self.statement(sql, values, in_transaction)?;
        let binds = binds(values);
        let refs: Vec<&(dyn PgToSql + Sync)> = binds.iter().map(|b| b as _).collect();
        let n = futures_executor::block_on(self.live(in_transaction)?.execute(&st, &refs))?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    pub(super) fn query(
        &self,
        sql: &str,
        values: &[ValueRef<'_>],
        in_transaction: bool,
    ) -> Result<Vec<tokio_postgres::Row>> {
        let st = self.statement(sql, values, in_transaction)?;
        let binds = binds(values);
        let refs: Vec<&(dyn PgToSql + Sync)> = binds.iter().map(|b| b as _).collect();
        Ok(futures_executor::block_on(
            self.live(in_transaction)?.query(&st, &refs),
        )?)
    }

    /// Runs statements separated by `;` without parameters, outside any
    /// transaction of the store's (`CREATE DATABASE` must be so).
    ///
    /// # Errors
    /// The server's error.
    pub fn batch_execute(&self, sql: &str) -> Result<()> {
        self.batch_execute_in(sql, false)
    }

    pub(super) fn batch_execute_in(&self, sql: &str, in_transaction: bool) -> Result<()> {
        Ok(futures_executor::block_on(
            self.live(in_transaction)?.batch_execute(sql),
        )?)
    }
}

/// A value bound as the type the server inferred for its parameter.
#[derive(Debug)]
struct Bind(Owned);

#[derive(Debug)]
enum Owned {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

fn binds(values: &[ValueRef<'_>]) -> Vec<Bind> {
    values
        .iter()
        .map(|v| {
            Bind(match *v {
                ValueRef::Null => Owned::Null,
                ValueRef::Integer(i) => Owned::Integer(i),
                ValueRef::Real(f) => Owned::Real(f),
                ValueRef::Text(s) => Owned::Text(s.to_string()),
                ValueRef::Blob(b) => Owned::Blob(b.to_vec()),
            })
        })
        .collect()
}

impl PgToSql for Bind {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match &self.0 {
            Owned::Null => Ok(IsNull::Yes),
            Owned::Integer(i) => match *ty {
                Type::INT8 => i.to_sql(ty, out),
                Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
                Type::BOOL => (*i != 0).to_sql(ty, out),
                #[allow(clippy::cast_precision_loss)]
                Type::FLOAT8 => (*i as f64).to_sql(ty, out),
                Type::TEXT | Type::VARCHAR | Type::UNKNOWN => i.to_string().to_sql(ty, out),
                _ => Err(format!("an integer cannot be bound as {ty}").into()),
            },
            Owned::Real(f) => match *ty {
                Type::FLOAT8 => f.to_sql(ty, out),
                #[allow(clippy::cast_possible_truncation)]
                Type::FLOAT4 => (*f as f32).to_sql(ty, out),
                _ => Err(format!("a real cannot be bound as {ty}").into()),
            },
            Owned::Text(s) => match *ty {
                Type::BYTEA => s.as_bytes().to_sql(ty, out),
                Type::INT8 => s.parse::<i64>()?.to_sql(ty, out),
                _ => s.as_str().to_sql(&Type::TEXT, out),
            },
            Owned::Blob(b) => match *ty {
                Type::BYTEA => b.as_slice().to_sql(ty, out),
                _ => Err(format!("a blob cannot be bound as {ty}").into()),
            },
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

pub(super) fn value(r: &tokio_postgres::Row, idx: usize) -> Result<ValueRef<'_>> {
    let Some(column) = r.columns().get(idx) else {
        return Err(DbError::conversion(idx, "no such column"));
    };
    let get_err = |e: tokio_postgres::Error| DbError::conversion(idx, e.to_string());
    Ok(match *column.type_() {
        Type::INT8 => r
            .try_get::<_, Option<i64>>(idx)
            .map_err(get_err)?
            .map_or(ValueRef::Null, ValueRef::Integer),
        Type::INT4 => r
            .try_get::<_, Option<i32>>(idx)
            .map_err(get_err)?
            .map_or(ValueRef::Null, |i| ValueRef::Integer(i.into())),
        Type::INT2 => r
            .try_get::<_, Option<i16>>(idx)
            .map_err(get_err)?
            .map_or(ValueRef::Null, |i| ValueRef::Integer(i.into())),
        Type::BOOL => r
            .try_get::<_, Option<bool>>(idx)
            .map_err(get_err)?
            .map_or(ValueRef::Null, |b| ValueRef::Integer(b.into())),
        Type::FLOAT8 => r
            .try_get::<_, Option<f64>>(idx)
            .map_err(get_err)?
            .map_or(ValueRef::Null, ValueRef::Real),
        Type::FLOAT4 => r
            .try_get::<_, Option<f32>>(idx)
            .map_err(get_err)?
            .map_or(ValueRef::Null, |f| ValueRef::Real(f.into())),
        Type::BYTEA => r
            .try_get::<_, Option<&[u8]>>(idx)
            .map_err(get_err)?
            .map_or(ValueRef::Null, ValueRef::Blob),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => r
            .try_get::<_, Option<&str>>(idx)
            .map_err(get_err)?
            .map_or(ValueRef::Null, ValueRef::Text),
        ref other => {
            return Err(DbError::conversion(
                idx,
                format!("type {other} is not read by the store (cast it in the query)"),
            ));
        }
    })
}

/// A PostgreSQL error as one line: the server's message, detail and hint,
/// or the client's own error and its cause.
pub fn describe(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut s = format!("PostgreSQL: {}", db.message());
        if let Some(d) = db.detail() {
            s.push_str(&format!(" ({d})"));
        }
        if let Some(h) = db.hint() {
            s.push_str(&format!("; hint: {h}"));
        }
        return s;
    }
    match e.source() {
        Some(cause) => format!("PostgreSQL: {e}: {cause}"),
        None => format!("PostgreSQL: {e}"),
    }
}

/// The store's SQL as PostgreSQL reads it:
///
/// - `?N` and `?` placeholders become `$N`;
/// - `INSERT OR IGNORE INTO t …` becomes `INSERT INTO t … ON CONFLICT DO
///   NOTHING` (before a `RETURNING`);
/// - `a IS NOT b` and `a IS b` between values become `IS DISTINCT FROM` and
///   `IS NOT DISTINCT FROM` (`IS [NOT] NULL|TRUE|FALSE` are kept);
/// - `ifnull(` becomes `coalesce(`.
///
/// String literals and double-quoted names are copied as they are.
pub fn translate(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 32);
    let mut next_param = 0u32;
    let mut chars = sql.char_indices().peekable();
    let mut ignore_conflicts = false;
    while let Some((i, c)) = chars.next() {
        match c {
            '\'' | '"' => {
                out.push(c);
                for (_, d) in chars.by_ref() {
                    out.push(d);
                    if d == c {
                        break;
                    }
                }
            }
            '?' => {
                let mut digits = String::new();
                while let Some(&(_, d)) = chars.peek() {
                    if d.is_ascii_digit() {
                        digits.push(d);
                        chars.next();
                    } else {
                        break;
                    }
                }
                if digits.is_empty() {
                    next_param += 1;
                    out.push_str(&format!("${next_param}"));
                } else {
                    next_param = next_param.max(digits.parse().unwrap_or(0));
                    out.push('$');
                    out.push_str(&digits);
                }
            }
            _ if word_at(sql, i, "INSERT OR IGNORE") => {
                out.push_str("INSERT");
                ignore_conflicts = true;
                for _ in 0.."INSERT OR IGNORE".len() - 1 {
                    chars.next();
                }
            }
            _ if word_at(sql, i, "IS NOT")
                && !next_word_is(sql, i + "IS NOT".len(), &["NULL", "TRUE", "FALSE"]) =>
            {
                out.push_str("IS DISTINCT FROM");
                for _ in 0.."IS NOT".len() - 1 {
                    chars.next();
                }
            }
            _ if word_at(sql, i, "IS")
                && !next_word_is(sql, i + 2, &["NOT", "NULL", "TRUE", "FALSE", "DISTINCT"]) =>
            {
                out.push_str("IS NOT DISTINCT FROM");
                chars.next();
            }
            _ if word_at(sql, i, "ifnull") => {
                out.push_str("coalesce");
                for _ in 0.."ifnull".len() - 1 {
                    chars.next();
                }
            }
            _ => out.push(c),
        }
    }
    if ignore_conflicts {
        let upper = out.to_ascii_uppercase();
        match upper.rfind("RETURNING") {
            Some(at) => out.insert_str(at, "ON CONFLICT DO NOTHING "),
            None => {
                let trimmed = out.trim_end().trim_end_matches(';').len();
                out.truncate(trimmed);
                out.push_str(" ON CONFLICT DO NOTHING");
            }
        }
    }
    out
}

/// True when `word` (case-insensitive, spaces matching any run of
/// whitespace) starts at byte `i` of `sql` as whole words.
fn word_at(sql: &str, i: usize, word: &str) -> bool {
    let before_ok = sql[..i]
        .chars()
        .next_back()
        .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'));
    let Some(rest) = sql.get(i..i + word.len()) else {
        return false;
    };
    let after_ok = sql[i + word.len()..]
        .chars()
        .next()
        .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'));
    before_ok && after_ok && rest.eq_ignore_ascii_case(word)
}

fn next_word_is(sql: &str, from: usize, words: &[&str]) -> bool {
    let rest = sql[from..].trim_start();
    let word: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    words.iter().any(|w| w.eq_ignore_ascii_case(&word))
}
