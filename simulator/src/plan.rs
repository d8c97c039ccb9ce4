//! A SQL workload as a list of statements and power losses: what a run executes, what
//! shrinking reduces, and what a failure prints so that it can be replayed.
//!
//! Text format (one item per line; `#` starts a comment):
//! ```text
//! strata-sim-plan v1
//! seed 17 tenants 2 connections 3 faults all torn_garbage 0 small_cache 0 features all
//! s 0 1 #0 INSERT INTO t0(k, a, b, c) VALUES (1, 2, 'a', 0.5)
//! crash 3
//! ```
//! `s T C #ID SQL` runs SQL on connection C of tenant T (ID names the statement: its
//! index in the generated plan, which keys its injected faults); `crash N` loses power N I/O
//! operations after every statement listed before it has finished (0: at once). The schema,
//! the tenants' options, the fault probabilities, latencies and the scheduler's choices
//! come from the seed, each from its own stream, so removing a statement keeps the rest.

use crate::sim_io::CrashMode;
use crate::sqlgen::Features;
use crate::workload::FaultMode;

/// A fault at a fixed point, for exhaustive tests (`fault-injection/`): counted in I/O
/// operations performed after the databases were created.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheduled {
    /// The n-th operation (1-based) fails with an I/O error.
    FailOp(u64),
    /// Power is lost right after the n-th operation took effect.
    CrashAfter(u64, CrashMode),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    Stmt {
        tenant: usize,
        conn: usize,
        /// Stable name of the statement (its index in the generated plan): keys its
        /// injected faults, so that they stay put when other statements are removed.
        id: u64,
        sql: String,
    },
    Crash {
        ops: u64,
    },
}

/// Parameters of a SQL run; everything not here comes from the seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SqlConfig {
    pub seed: u64,
    /// Statements in the generated plan.
    pub statements: u64,
    pub tenants: usize,
    pub connections: usize,
    pub faults: FaultMode,
    pub torn_garbage: bool,
    pub small_cache: bool,
    pub verbose: bool,
    /// Shrink a failing run.
    pub shrink: bool,
    /// A fault at a fixed operation (exhaustive tests); `None` in seeded runs.
    pub scheduled: Option<Scheduled>,
    /// The generator's feature groups (default: all, minus `STRATA_SIM_NO_FEATURES`).
    pub features: Features,
    /// Every tenant's text encoding (`PRAGMA encoding` name); `None`: drawn per tenant
    /// from the seed (half UTF-8, a quarter each UTF-16le and UTF-16be).
    pub encoding: Option<&'static str>,
    /// Every tenant's `PRAGMA auto_vacuum` mode (NONE, FULL, INCREMENTAL); `None`: drawn
    /// per tenant from the seed (half NONE, a quarter each FULL and INCREMENTAL).
    pub auto_vacuum: Option<&'static str>,
}

impl SqlConfig {
    pub fn new(seed: u64) -> Self {
        SqlConfig {
            seed,
            statements: 300,
            tenants: 2,
            connections: 3,
            faults: FaultMode::All,
            torn_garbage: false,
            small_cache: false,
            verbose: false,
            shrink: true,
            scheduled: None,
            features: Features::from_env(),
            encoding: None,
            auto_vacuum: None,
        }
    }

    pub fn replay_command(&self) -> String {
        format!(
            "cargo run --release -p simulator -- --seed {} --steps {} --tenants {} --connections {} --faults {}{}{} --features {}",
            self.seed,
            self.statements,
            self.tenants,
            self.connections,
            self.faults.name(),
            if self.torn_garbage { " --torn-garbage" } else { "" },
            if self.small_cache { " --small-cache" } else { "" },
            self.features.text()
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub items: Vec<Item>,
}

impl Plan {
    pub fn statements(&self) -> usize {
        self.items
            .iter()
            .filter(|i| matches!(i, Item::Stmt { .. }))
            .count()
    }

    pub fn to_text(&self, config: &SqlConfig) -> String {
        let mut s = String::from("strata-sim-plan v1\n");
        s.push_str(&format!(
            "seed {} tenants {} connections {} faults {} torn_garbage {} small_cache {} features {}\n",
            config.seed,
            config.tenants,
            config.connections,
            config.faults.name(),
            config.torn_garbage as u8,
            config.small_cache as u8,
            config.features.text()
        ));
        for item in &self.items {
            match item {
                Item::Stmt {
                    tenant,
                    conn,
                    id,
                    sql,
                } => s.push_str(&format!("s {tenant} {conn} #{id} {sql}\n")),
                Item::Crash { ops } => s.push_str(&format!("crash {ops}\n")),
            }
        }
        s
    }

    /// Parses [`Plan::to_text`]'s format; returns the plan and its configuration.
    pub fn parse(text: &str) -> Result<(Plan, SqlConfig), String> {
        let mut lines = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'));
        if lines.next() != Some("strata-sim-plan v1") {
            return Err("not a plan: the first line must be `strata-sim-plan v1`".into());
        }
        let header = lines.next().ok_or("plan: missing the seed line")?;
        let words: Vec<&str> = header.split_whitespace().collect();
        let mut config = SqlConfig::new(0);
        let mut i = 0;
        while i + 1 < words.len() {
            let v = words[i + 1];
            let num = || {
                v.parse::<u64>()
                    .map_err(|_| format!("plan: bad number {v}"))
            };
            match words[i] {
                "seed" => config.seed = num()?,
                "tenants" => config.tenants = num()? as usize,
                "connections" => config.connections = num()? as usize,
                "faults" => {
                    config.faults =
                        FaultMode::parse(v).ok_or_else(|| format!("plan: bad faults {v}"))?
                }
                "torn_garbage" => config.torn_garbage = num()? != 0,
                "small_cache" => config.small_cache = num()? != 0,
                "features" => config.features = Features::parse(v)?,
                w => return Err(format!("plan: unknown field {w}")),
            }
            i += 2;
        }
        let mut items = Vec::new();
        for line in lines {
            if let Some(rest) = line.strip_prefix("s ") {
                let mut parts = rest.splitn(4, ' ');
                let t = parts.next().and_then(|x| x.parse().ok());
                let c = parts.next().and_then(|x| x.parse().ok());
                let id = parts
                    .next()
                    .and_then(|x| x.strip_prefix('#'))
                    .and_then(|x| x.parse().ok());
                let sql = parts.next();
                match (t, c, id, sql) {
                    (Some(tenant), Some(conn), Some(id), Some(sql)) => {
                        if tenant >= config.tenants || conn >= config.connections {
                            return Err(format!("plan: no tenant/connection for: {line}"));
                        }
                        items.push(Item::Stmt {
                            tenant,
                            conn,
                            id,
                            sql: sql.to_string(),
                        })
                    }
                    _ => return Err(format!("plan: bad statement line: {line}")),
                }
            } else if let Some(n) = line.strip_prefix("crash ") {
                items.push(Item::Crash {
                    ops: n
                        .trim()
                        .parse()
                        .map_err(|_| format!("plan: bad crash {n}"))?,
                });
            } else {
                return Err(format!("plan: unknown line: {line}"));
            }
        }
        config.statements = items
            .iter()
            .filter(|i| matches!(i, Item::Stmt { .. }))
            .count() as u64;
        Ok((Plan { items }, config))
    }
}
