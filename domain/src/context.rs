//! The decision context: what a decision needs from outside the command and the ledger.
//!
//! Why: `decide` must be a pure function, so the recording date and the kind of actor come in
//! here instead of from a clock or a session. The actor's kind matters to the law: a deletion on
//! grounds a, c and đ is ex officio only, a CT07 is issued by an officer, a PIN is reassigned by
//! the population database, an annulment of a complex case by the head of the direct superior
//! office. Who *requested* an act (the person, the household, an officer on their own motion)
//! is part of the command; who *records* it is the actor here.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Who records the decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    /// A residence officer of a registration office (commune police), the decider of Art 2.4.
    Officer,
    /// The head of the registering office's direct superior (Art 35 annulments in complex
    /// cases); may also do whatever an officer does.
    SuperiorOfficer,
    /// The data-sharing feed of the national population database: persons recorded, PINs
    /// re-established, deaths and nationality changes detected.
    PopulationDatabase,
    /// The register's own timers (12-month absence, 6-month absence).
    RegisterTimer,
    /// An import of legacy paper-book history, recorded with its past dates.
    Import,
}

impl Actor {
    /// The stable snake_case name, as in JSON and in rejections.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Officer => "officer",
            Self::SuperiorOfficer => "superior_officer",
            Self::PopulationDatabase => "population_database",
            Self::RegisterTimer => "register_timer",
            Self::Import => "import",
        }
    }

    /// Whether the actor records acts of a residence office (registrations, deletions, …).
    pub fn is_office(self) -> bool {
        matches!(self, Self::Officer | Self::SuperiorOfficer | Self::Import)
    }
}

/// The context of one decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Context {
    /// The recording date: today in Vietnam (UTC+7), from the caller's clock. No act may take
    /// effect after it.
    pub today: NaiveDate,
    /// Who records the decision.
    pub actor: Actor,
}

impl Context {
    /// A context for `actor` recording on `today`.
    pub fn new(today: NaiveDate, actor: Actor) -> Self {
        Self { today, actor }
    }
}
