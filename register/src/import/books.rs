//! `residence import --format books`: legacy paper household books (sổ hộ khẩu) into the
//! register, as the commands an officer migrating them would record.
//!
//! Why a format of its own: the books are the history the register starts from (DOMAIN.md:
//! "legacy paper-book history is imported with past `effective_on` dates"), and the people
//! migrating them think in books, not in commands. Each book becomes the commands of the
//! domain (persons recorded, the head founding the household, the members joining it, the book
//! revoked), decided by the same `decide` and recorded through the same path as a command file
//! ([`crate::import::commands::import_lines`]), with the `import` actor.
//!
//! # The books file (NDJSON)
//! One book per line (UTF-8, `\n` line ends); blank lines and lines whose first non-blank
//! character is `#` are skipped. For example (one line in the file):
//!
//! ```json
//! {"book_number":"HN-123456","issued_on":"2008-05-12","address":{"unit":"legacy:00001","street":"Số 12 phố Phúc Xá"},"recorded_at":"2021-06-30T09:00:00+07:00","office":"CA-legacy-00001","members":[{"pin":"001070123456","name":"Nguyễn Văn An","birth_date":"1970-03-01","sex":"male","relationship":"CHU_HO","registered_on":"2008-05-12"},{"pin":"001172123456","name":"Trần Thị Bình","birth_date":"1972-08-20","sex":"female","relationship":"VO","registered_on":"2008-05-12"},{"pin":"001210123456","name":"Nguyễn Văn Cường","birth_date":"2010-01-15","sex":"male","relationship":"CON_DE","registered_on":"2010-03-01"}]}
//! ```
//!
//! | field | required | meaning |
//! |---|---|---|
//! | `book_number` | yes | the number printed on the book (NFC, at most 64 bytes); unique in the file. Ids and request ids derive from it. |
//! | `issued_on` | no | the day the book was issued; checked (not after 2022-12-31, not after the recording day), not recorded. |
//! | `address` | yes | the household's address as the book shows it: `{"unit":"legacy:<5 digits>","street":…}`. Books predate the 2025-07-01 reorganisation, so the unit is a commune of the legacy map; a `2025:` unit is refused. The register recodes it with the reorganisation like any other address. |
//! | `recorded_at` | yes | when the register records the book (RFC 3339, any offset). Its day in Vietnam (UTC+7) is the decisions' "today": no date of the book may be after it. Times must not decrease from one book to the next. |
//! | `office` | no | the recording office (default `CA-legacy-<code>` of the book's unit). |
//! | `residence_file_number` | no | the household's residence file number, if one was issued. |
//! | `basis` | no | the Art 20 basis of the head's registration (`PermanentBasis`, default `OWN_HOME`; never `JOIN_RELATIVE`: the head founds the household). |
//! | `floor_area` | no | the dwelling's usable floor area in m² (at most one decimal), for members registered on `RENTED_BORROWED_SHARED`. |
//! | `revoked_on` | no | the day the book was revoked (TT55 Art 26: a procedure changed its data); records `RevokeLegacyBook`. Not before the head's registration, not after the recording day. |
//! | `members` | yes | 1 to 100 members, **the head first** (`CHU_HO`), in the book's order. |
//!
//! A member:
//!
//! | field | required | meaning |
//! |---|---|---|
//! | `pin` | yes | the 12-digit PIN (a string); it must encode the birth year. Unique within the book. |
//! | `name` | yes | the full name; NFC or NFD (the domain stores NFC). |
//! | `birth_date` | yes | `YYYY-MM-DD`. |
//! | `sex` | yes | `male` or `female`. |
//! | `relationship` | yes | the relationship to the head, a code of TT116/2026 Art 6.1 as the domain spells it (`CHU_HO`, `VO`, `CON_DE`, `O_NHO`, …). `CHU_HO` for the first member only; `LEGACY_TEXT` is refused (the domain registers no one with it: map the book's term to an official one). |
//! | `registered_on` | yes | the first day of the member's registration in this book (not before their birth, not before the head's, not after 2022-12-31: paper books lost all validity on 2023-01-01, Law 68/2020 Art 38.3). |
//! | `basis` | no | the Art 20 basis of this member's registration (not for the head, whose basis is the book's); default `JOIN_RELATIVE` when the relationship qualifies under Art 20.2 at the member's age that day, else `RENTED_BORROWED_SHARED`. |
//!
//! Unknown fields are refused. The file is checked whole before anything is recorded: a
//! malformed book stops the import naming its line and field (a path such as
//! `members[2].registered_on`, indexes from 0) and nothing is written.
//!
//! # The commands of one book
//! All with the book's `recorded_at`, actor `import`, actor id [`ACTOR_ID`], in this order:
//! 1. `record_person` for each member whose PIN the register does not know yet (not before
//!    the import, not from an earlier book of the file).
//! 2. `register_permanent` of the head on their `registered_on`, founding the household
//!    (`establish`) at the book's address.
//! 3. `register_permanent` of every other member on their `registered_on`, joining the
//!    household (`join`) with their relationship. A member placed by an earlier book of the
//!    file leaves that book's household (`leaving_household`).
//! 4. `revoke_legacy_book` when the book has `revoked_on`.
//!
//! Registrations cite the book as their legal basis (`Sổ hộ khẩu số <number>`). The consents
//! the basis needs are taken as given, since the police issued the book: the head's and the
//! owner's for a member joining on `JOIN_RELATIVE` or `RENTED_BORROWED_SHARED`, the owner's
//! for a head on a basis other than `OWN_HOME`, the establishment head's or the commanding
//! unit's where those bases need them, and a parent's or guardian's for a member under 18 on
//! the day. The law still judges every command: a command it refuses is a rejected line,
//! reported with the book's line and the request id, and the others are recorded.
//!
//! # Ids and request ids
//! New ids are the first 16 hex digits of `BLAKE3 derive_key("residence legacy-books v1 id",
//! le64(len(kind)) ‖ kind ‖ le64(len(number)) ‖ number [‖ le64(index)])`, with `number` the
//! normalised book number: household `kind = "household"`, dwelling `kind = "dwelling"` (one
//! dwelling per book), person `kind = "person"` with the index of the member where the PIN
//! first appears. No id derives from a PIN or an address: ids are hashed into tags that are
//! never erased, and a hash of a 12-digit PIN could be reversed by trying them all. A PIN the
//! register already knows keeps its person.
//!
//! Request ids are `book-person-<i>:<number>`, `book-member-<i>:<number>` (member 0 founds the
//! household) and `book-revoked:<number>`. The content of each command depends only on the file
//! and on which PINs the register knew, so importing the same file again records nothing new
//! (every request is found recorded); a corrected book must keep its members' order (new
//! members at the end).
//!
//! # What it cannot import as it stands
//! A book whose head was registered after another member (the head changed over the years):
//! the household is founded by the head's registration, so such a book is refused, naming the
//! member. A member already holding a permanent registration in the register (recorded before
//! the import, not by this file) is refused by the law (`household_mismatch`): their history
//! needs an officer. A head leaving a household of an earlier book with others staying needs a
//! new head (`head_succession`), which a book does not say: refused by the law too.

use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};
use residence_domain::address::{Address, PersonName, StreetLine};
use residence_domain::command::{
    Command, HouseholdChoice, RecordPerson, RegisterPermanent, RevokeLegacyBook,
};
use residence_domain::context::Actor;
use residence_domain::event::{
    Consent, ConsentRole, DocumentNumber, FloorArea, LegacyBook, LegalBasis, PermanentBasis,
    ResidenceFileNumber,
};
use residence_domain::ids::{DwellingId, HouseholdId, PersonId};
use residence_domain::pin::{Pin, Sex};
use residence_domain::relationship::Relationship;
use residence_domain::rules::{ADULT_AGE_YEARS, age_on, join_clause};
use residence_domain::tag::Tag as DomainTag;
use residence_domain::units::{Scheme, UnitRef, registry};
use residence_ledger::directory::{
    Create, DirectoryError, DirectoryOptions, LedgerDirectory, MANIFEST_FILE,
};
use residence_ledger::ledger::Ledger;
use residence_ledger::record::Timestamp;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::boundary::LedgerHistory;
use crate::execute::CommandError;
use crate::import::commands::{
    ImportError, ImportOptions, ImportReport, Line, SourceLine, import_lines,
};
use crate::import::time::{format_time, parse_time, vietnam_date};
use residence_domain::boundary::History as _;

/// The recording account of every book import.
pub const ACTOR_ID: &str = "legacy-books";
/// The most members a book may list.
pub const MEMBERS_MAX: usize = 100;
/// The longest book number, in bytes after normalisation (it goes into request ids, which are
/// at most 128 bytes).
pub const BOOK_NUMBER_BYTES_MAX: usize = 64;
/// The last day a paper book was valid (Law 68/2020 Art 38.3): no book shows a later
/// registration or issue.
pub const BOOKS_VALID_UNTIL: NaiveDate = match NaiveDate::from_ymd_opt(2022, 12, 31) {
    Some(date) => date,
    None => panic!("2022-12-31 is a valid date"),
};
/// One member of a book, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Their PIN.
    pub pin: Pin,
    /// Their full name (NFC).
    pub name: PersonName,
    /// Their date of birth.
    pub birth_date: NaiveDate,
    /// Their sex.
    pub sex: Sex,
    /// Their relationship to the head (`CHU_HO` for the head).
    pub relationship: Relationship,
    /// The first day of their registration in the book.
    pub registered_on: NaiveDate,
    /// The Art 20 basis, when the book says it.
    pub basis: Option<PermanentBasis>,
}

/// One legacy household book, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Book {
    /// The number printed on it (normalised).
    pub book_number: DocumentNumber,
    /// The day it was issued.
    pub issued_on: Option<NaiveDate>,
    /// The household's address, in the legacy map.
    pub address: Address,
    /// When the register records it.
    pub recorded_at: Timestamp,
    /// The recording office, when given.
    pub office: Option<String>,
    /// The household's residence file number.
    pub residence_file_number: Option<ResidenceFileNumber>,
    /// The Art 20 basis of the head's registration.
    pub basis: PermanentBasis,
    /// The dwelling's usable floor area.
    pub floor_area: Option<FloorArea>,
    /// The day the book was revoked.
    pub revoked_on: Option<NaiveDate>,
    /// The members, the head first.
    pub members: Vec<Member>,
}

/// Why a line is not a book: the field at fault (a path such as `members[2].pin`) and what is
/// wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookProblem {
    /// The field at fault, when one is.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

fn problem(field: impl Into<String>, message: impl Into<String>) -> BookProblem {
    BookProblem {
        field: Some(field.into()),
        message: message.into(),
    }
}

const BOOK_FIELDS: [&str; 10] = [
    "book_number",
    "issued_on",
    "address",
    "recorded_at",
    "office",
    "residence_file_number",
    "basis",
    "floor_area",
    "revoked_on",
    "members",
];
const MEMBER_FIELDS: [&str; 7] = [
    "pin",
    "name",
    "birth_date",
    "sex",
    "relationship",
    "registered_on",
    "basis",
];
const ADDRESS_FIELDS: [&str; 2] = ["unit", "street"];

/// The fields of one JSON object, read with their paths for errors.
struct Fields<'a> {
    object: &'a Map<String, Value>,
    prefix: String,
}

impl<'a> Fields<'a> {
    /// `value` as an object with only `allowed` keys; `path` names it (empty for the line).
    fn new(value: &'a Value, path: &str, allowed: &[&str]) -> Result<Self, BookProblem> {
        let Some(object) = value.as_object() else {
            return Err(BookProblem {
                field: (!path.is_empty()).then(|| path.to_owned()),
                message: "must be a JSON object".to_owned(),
            });
        };
        let prefix = if path.is_empty() {
            String::new()
        } else {
            format!("{path}.")
        };
        for key in object.keys() {
            if !allowed.contains(&key.as_str()) {
                return Err(BookProblem {
                    field: (!path.is_empty()).then(|| path.to_owned()),
                    message: format!(
                        "unknown field `{}`",
                        key.chars().take(40).collect::<String>()
                    ),
                });
            }
        }
        Ok(Self { object, prefix })
    }

    fn path(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// The value of `key`, absent when missing or `null`.
    fn value(&self, key: &str) -> Option<&'a Value> {
        self.object.get(key).filter(|value| !value.is_null())
    }

    fn required_value(&self, key: &str) -> Result<&'a Value, BookProblem> {
        self.value(key)
            .ok_or_else(|| problem(self.path(key), "missing"))
    }

    fn optional<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, BookProblem> {
        self.value(key)
            .map(|value| {
                T::deserialize(value).map_err(|error| problem(self.path(key), error.to_string()))
            })
            .transpose()
    }

    fn required<T: DeserializeOwned>(&self, key: &str) -> Result<T, BookProblem> {
        let value = self.required_value(key)?;
        T::deserialize(value).map_err(|error| problem(self.path(key), error.to_string()))
    }

    fn string(&self, key: &str) -> Result<Option<&'a str>, BookProblem> {
        self.value(key)
            .map(|value| {
                value
                    .as_str()
                    .ok_or_else(|| problem(self.path(key), "must be a string"))
            })
            .transpose()
    }

    fn date(&self, key: &str) -> Result<Option<NaiveDate>, BookProblem> {
        self.string(key)?
            .map(|text| {
                NaiveDate::parse_from_str(text, "%Y-%m-%d")
                    .map_err(|_| problem(self.path(key), "must be a date (YYYY-MM-DD)"))
            })
            .transpose()
    }

    fn required_date(&self, key: &str) -> Result<NaiveDate, BookProblem> {
        self.date(key)?
            .ok_or_else(|| problem(self.path(key), "missing"))
    }
}

impl Member {
    fn parse(value: &Value, path: &str) -> Result<Member, BookProblem> {
        let fields = Fields::new(value, path, &MEMBER_FIELDS)?;
        let pin_text = fields
            .string("pin")?
            .ok_or_else(|| problem(fields.path("pin"), "missing"))?;
        let pin: Pin = pin_text
            .parse()
            .map_err(|error: residence_domain::pin::PinError| {
                problem(fields.path("pin"), error.to_string())
            })?;
        let member = Member {
            pin,
            name: fields.required("name")?,
            birth_date: fields.required_date("birth_date")?,
            sex: fields.required("sex")?,
            relationship: fields.required("relationship")?,
            registered_on: fields.required_date("registered_on")?,
            basis: fields.optional("basis")?,
        };
        member
            .pin
            .check(member.birth_date.year(), member.sex)
            .map_err(|error| problem(fields.path("pin"), error.to_string()))?;
        if member.registered_on < member.birth_date {
            return Err(problem(
                fields.path("registered_on"),
                format!("is before the birth date {}", member.birth_date),
            ));
        }
        if member.registered_on > BOOKS_VALID_UNTIL {
            return Err(problem(
                fields.path("registered_on"),
                format!(
                    "is after {BOOKS_VALID_UNTIL}: paper books lost all validity on 2023-01-01 (Law 68/2020 Art 38.3)"
                ),
            ));
        }
        if let Relationship::LegacyText(_) = member.relationship {
            return Err(problem(
                fields.path("relationship"),
                "a paper-book term with no official equivalent (LEGACY_TEXT) cannot be registered: map it to a code of TT116/2026 Art 6.1",
            ));
        }
        Ok(member)
    }
}

impl Book {
    /// Parses and checks one line of a books file (without its line end).
    ///
    /// # Errors
    /// A [`BookProblem`] naming the field at fault.
    pub fn parse(text: &str) -> Result<Book, BookProblem> {
        let value: Value = serde_json::from_str(text).map_err(|error| BookProblem {
            field: None,
            message: format!("not a JSON object: {error}"),
        })?;
        let fields = Fields::new(&value, "", &BOOK_FIELDS)?;

        let number_text = fields
            .string("book_number")?
            .ok_or_else(|| problem("book_number", "missing"))?;
        let book_number = DocumentNumber::parse(number_text)
            .map_err(|error| problem("book_number", error.to_string()))?;
        if book_number.as_str().len() > BOOK_NUMBER_BYTES_MAX {
            return Err(problem(
                "book_number",
                format!("is longer than {BOOK_NUMBER_BYTES_MAX} bytes"),
            ));
        }
        let address = Fields::new(
            fields.required_value("address")?,
            "address",
            &ADDRESS_FIELDS,
        )?;
        let unit: UnitRef = address.required("unit")?;
        if unit.scheme != Scheme::Legacy {
            return Err(problem(
                "address.unit",
                format!(
                    "{unit} is a commune of the 2025 map; household books predate the 2025-07-01 reorganisation and name communes of the legacy map (`legacy:<code>`)"
                ),
            ));
        }
        if registry().get(unit).is_none() {
            return Err(problem(
                "address.unit",
                format!("no legacy commune has code {}", unit.code),
            ));
        }
        let street: StreetLine = address.required("street")?;
        let recorded_text = fields
            .string("recorded_at")?
            .ok_or_else(|| problem("recorded_at", "missing"))?;
        let recorded_at =
            parse_time(recorded_text).map_err(|error| problem("recorded_at", error))?;
        let today = vietnam_date(recorded_at)
            .ok_or_else(|| problem("recorded_at", "outside the calendar"))?;
        let office = match fields.string("office")? {
            Some(office) if office.trim().is_empty() => {
                return Err(problem("office", "must not be empty"));
            }
            office => office.map(|office| office.trim().to_owned()),
        };
        let basis: PermanentBasis = fields.optional("basis")?.unwrap_or(PermanentBasis::OwnHome);
        if basis == PermanentBasis::JoinRelative {
            return Err(problem(
                "basis",
                "JOIN_RELATIVE joins a household; the head founds one",
            ));
        }
        let Some(list) = fields.required_value("members")?.as_array() else {
            return Err(problem("members", "must be a list"));
        };
        if list.is_empty() || list.len() > MEMBERS_MAX {
            return Err(problem(
                "members",
                format!("must list 1 to {MEMBERS_MAX} members"),
            ));
        }
        let mut members = Vec::with_capacity(list.len());
        for (index, value) in list.iter().enumerate() {
            members.push(Member::parse(value, &format!("members[{index}]"))?);
        }
        let book = Book {
            book_number,
            issued_on: fields.date("issued_on")?,
            address: Address { unit, street },
            recorded_at,
            office,
            residence_file_number: fields.optional("residence_file_number")?,
            basis,
            floor_area: fields.optional("floor_area")?,
            revoked_on: fields.date("revoked_on")?,
            members,
        };
        book.check(today)?;
        Ok(book)
    }

    /// The rules across fields: the head first and alone, distinct PINs, dates in order.
    fn check(&self, today: NaiveDate) -> Result<(), BookProblem> {
        let head = &self.members[0];
        if head.relationship != Relationship::ChuHo {
            return Err(problem(
                "members[0].relationship",
                "the head (CHU_HO) comes first",
            ));
        }
        if head.basis.is_some() {
            return Err(problem(
                "members[0].basis",
                "the head's basis is the book's `basis`",
            ));
        }
        let mut pins: HashMap<Pin, usize> = HashMap::new();
        for (index, member) in self.members.iter().enumerate() {
            let field = |name: &str| format!("members[{index}].{name}");
            if let Some(first) = pins.insert(member.pin, index) {
                return Err(problem(
                    field("pin"),
                    format!("is also the PIN of members[{first}]"),
                ));
            }
            if index > 0 && member.relationship == Relationship::ChuHo {
                return Err(problem(
                    field("relationship"),
                    "a book has one head (CHU_HO), listed first",
                ));
            }
            if member.registered_on < head.registered_on {
                return Err(problem(
                    field("registered_on"),
                    format!(
                        "is before the head's registration ({}): the household is founded by the head's registration, so a book whose head was registered after a member cannot be imported as it stands",
                        head.registered_on
                    ),
                ));
            }
            if member.registered_on > today {
                return Err(problem(
                    field("registered_on"),
                    format!("is after the recording day {today} (`recorded_at`)"),
                ));
            }
        }
        if let Some(issued_on) = self.issued_on {
            if issued_on > BOOKS_VALID_UNTIL {
                return Err(problem(
                    "issued_on",
                    format!(
                        "is after {BOOKS_VALID_UNTIL}: paper books lost all validity on 2023-01-01 (Law 68/2020 Art 38.3)"
                    ),
                ));
            }
            if issued_on > today {
                return Err(problem(
                    "issued_on",
                    format!("is after the recording day {today} (`recorded_at`)"),
                ));
            }
        }
        if let Some(revoked_on) = self.revoked_on {
            if revoked_on < head.registered_on {
                return Err(problem(
                    "revoked_on",
                    format!("is before the head's registration ({})", head.registered_on),
                ));
            }
            if revoked_on > today {
                return Err(problem(
                    "revoked_on",
                    format!("is after the recording day {today} (`recorded_at`)"),
                ));
            }
        }
        Ok(())
    }

    /// The recording office: the one given, else the commune police of the book's unit.
    pub fn office(&self) -> String {
        self.office.clone().unwrap_or_else(|| {
            format!(
                "CA-{}-{}",
                self.address.unit.scheme.as_str(),
                self.address.unit.code
            )
        })
    }
}

/// A new id of `kind` for the book numbered `number` (see the module documentation).
fn derived_id(kind: &str, number: &DocumentNumber, index: Option<usize>) -> u64 {
    let mut hasher = blake3::Hasher::new_derive_key("residence legacy-books v1 id");
    for part in [kind.as_bytes(), number.as_str().as_bytes()] {
        hasher.update(&(part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    if let Some(index) = index {
        hasher.update(&(index as u64).to_le_bytes());
    }
    let hash = hasher.finalize();
    let mut first = [0_u8; 8];
    first.copy_from_slice(&hash.as_bytes()[..8]);
    u64::from_be_bytes(first)
}

/// The household of the book numbered `number`.
pub fn household_id(number: &DocumentNumber) -> HouseholdId {
    HouseholdId::new(derived_id("household", number, None))
}

/// The dwelling of the book numbered `number`.
pub fn dwelling_id(number: &DocumentNumber) -> DwellingId {
    DwellingId::new(derived_id("dwelling", number, None))
}

/// The person first listed as member `index` of the book numbered `number`, when the register
/// did not know their PIN.
pub fn person_id(number: &DocumentNumber, index: usize) -> PersonId {
    PersonId::new(derived_id("person", number, Some(index)))
}

/// The consents a registration on `basis` needs, taken as given by the book: `head` is the
/// head of the household joined (`None` for the founder).
fn consents(basis: PermanentBasis, head: Option<PersonId>, minor: bool) -> Vec<Consent> {
    let of = |role, person| Consent { role, person };
    let owner = of(ConsentRole::DwellingOwner, None);
    let head_consent = head.map(|head| of(ConsentRole::HouseholdHead, Some(head)));
    let mut consents: Vec<Consent> = match basis {
        PermanentBasis::OwnHome => Vec::new(),
        PermanentBasis::JoinRelative | PermanentBasis::RentedBorrowedShared => {
            head_consent.into_iter().chain([owner]).collect()
        }
        PermanentBasis::ReligiousEstablishment => vec![of(ConsentRole::EstablishmentHead, None)],
        PermanentBasis::SocialCare => match head_consent {
            Some(head) => vec![head, owner],
            None => vec![of(ConsentRole::EstablishmentHead, None)],
        },
        PermanentBasis::Vehicle => vec![owner],
        PermanentBasis::UnitBarracks => vec![of(ConsentRole::CommandingUnit, None)],
    };
    if minor {
        consents.push(of(ConsentRole::ParentOrGuardian, None));
    }
    consents
}

/// Where a member of an earlier book of the file was placed.
#[derive(Debug, Clone, Copy)]
struct Placed {
    person: PersonId,
    household: HouseholdId,
}

/// Turns books into command lines, remembering the persons of earlier books of the file.
#[derive(Debug, Default)]
pub struct Converter {
    known: HashMap<Pin, PersonId>,
    placed: HashMap<Pin, Placed>,
}

impl Converter {
    /// A converter for a register that knows the persons of `known` by PIN.
    pub fn new(known: HashMap<Pin, PersonId>) -> Self {
        Self {
            known,
            placed: HashMap::new(),
        }
    }

    /// The command lines of `book` (see the module documentation).
    pub fn convert(&mut self, book: &Book) -> Vec<Line> {
        let number = &book.book_number;
        let household = household_id(number);
        let dwelling = dwelling_id(number);
        let office = book.office();
        let legal_basis = LegalBasis::parse(&format!("Sổ hộ khẩu số {number}"))
            .expect("a book number of at most 64 bytes makes a short legal basis text");
        let line = |request_id: String, command: Command| Line {
            recorded_at: book.recorded_at,
            request_id,
            actor: Actor::Import,
            actor_id: ACTOR_ID.to_owned(),
            office: Some(office.clone()),
            command,
        };
        let mut lines = Vec::with_capacity(book.members.len() * 2 + 1);
        let mut persons = Vec::with_capacity(book.members.len());
        for (index, member) in book.members.iter().enumerate() {
            let placed = if let Some(placed) = self.placed.get(&member.pin) {
                (placed.person, Some(placed.household))
            } else if let Some(person) = self.known.get(&member.pin) {
                (*person, None)
            } else {
                let person = person_id(number, index);
                lines.push(line(
                    format!("book-person-{index}:{number}"),
                    RecordPerson {
                        person,
                        pin: member.pin,
                        name: member.name.clone(),
                        birth_date: member.birth_date,
                        sex: member.sex,
                    }
                    .into(),
                ));
                (person, None)
            };
            persons.push(placed);
        }
        let head = persons[0].0;
        for (index, (member, (person, leaving))) in book.members.iter().zip(persons).enumerate() {
            let age = age_on(member.birth_date, member.registered_on);
            let (basis, choice, head_of_joined) = if index == 0 {
                let choice = HouseholdChoice::Establish {
                    household,
                    residence_file_number: book.residence_file_number.clone(),
                };
                (book.basis, choice, None)
            } else {
                let basis = member.basis.unwrap_or_else(|| {
                    if join_clause(&member.relationship, age, None).is_some() {
                        PermanentBasis::JoinRelative
                    } else {
                        PermanentBasis::RentedBorrowedShared
                    }
                });
                let choice = HouseholdChoice::Join {
                    household,
                    relationship: member.relationship.clone(),
                };
                (basis, choice, Some(head))
            };
            let floor_area = if basis == PermanentBasis::RentedBorrowedShared {
                book.floor_area
            } else {
                None
            };
            lines.push(line(
                format!("book-member-{index}:{number}"),
                RegisterPermanent {
                    person,
                    effective_on: member.registered_on,
                    basis,
                    address: book.address.clone(),
                    dwelling,
                    household: choice,
                    leaving_household: leaving,
                    head_succession: None,
                    floor_area,
                    consents: consents(basis, head_of_joined, age < ADULT_AGE_YEARS),
                    dependency: None,
                    court_fixed_residence: None,
                    legal_basis: Some(legal_basis.clone()),
                    application: None,
                }
                .into(),
            ));
            self.placed.insert(member.pin, Placed { person, household });
        }
        if let Some(revoked_on) = book.revoked_on {
            lines.push(line(
                format!("book-revoked:{number}"),
                RevokeLegacyBook {
                    household,
                    effective_on: revoked_on,
                    book: LegacyBook::HouseholdBook,
                    book_number: number.clone(),
                    legal_basis: None,
                }
                .into(),
            ));
        }
        lines
    }
}

/// What a books import did.
#[derive(Debug, Clone)]
pub struct BooksReport {
    /// Books read.
    pub books: u64,
    /// Members listed in them.
    pub members: u64,
    /// Distinct PINs of the file the register knew before the import (no person recorded).
    pub persons_known: u64,
    /// The recording of the converted commands (lines and rejections name the books' lines).
    pub import: ImportReport,
}

/// Why a books import stopped.
#[derive(Debug, thiserror::Error)]
pub enum BooksError {
    /// The books file could not be opened. → exit with the path; nothing is recorded.
    #[error("opening {}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// Reading the file failed (also: a line that is not UTF-8) while checking it. → exit with
    /// the line; nothing is recorded.
    #[error("reading line {line}")]
    Read {
        /// The line.
        line: u64,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// A line is not a valid book, or contradicts another book or the register (a PIN with
    /// another birth date). → exit naming line and field; nothing is recorded.
    #[error("line {line}{}: {message}", field.as_ref().map(|f| format!(", field `{f}`")).unwrap_or_default())]
    Malformed {
        /// The line.
        line: u64,
        /// The field at fault (a path such as `members[2].pin`).
        field: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// The existing ledger could not be opened to look up the members' PINs. → exit; nothing
    /// is recorded.
    #[error("opening the ledger to look up the members' PINs")]
    Ledger(#[source] DirectoryError),
    /// A record could not be read or decoded while looking up a member's PIN. → exit naming
    /// the member; nothing is recorded.
    #[error("line {line}, members[{member}]: looking up the PIN in the ledger")]
    Lookup {
        /// The line of the book where the PIN first appears.
        line: u64,
        /// The member.
        member: usize,
        /// Why.
        #[source]
        source: CommandError,
    },
    /// Recording the converted commands stopped; the error names the book's line. → exit; the
    /// books before it are recorded (a re-run resumes).
    #[error(transparent)]
    Import(#[from] ImportError),
}

/// Where a PIN first appears in the file.
#[derive(Debug, Clone, Copy)]
struct FirstSeen {
    line: u64,
    member: usize,
    birth_date: NaiveDate,
}

/// What checking the whole file found.
#[derive(Debug, Default)]
struct Scan {
    books: u64,
    members: u64,
    pins: HashMap<Pin, FirstSeen>,
}

/// Whether a line is skipped (blank or a comment).
fn skipped(text: &str) -> bool {
    text.is_empty() || text.starts_with('#')
}

fn open(path: &Path) -> Result<File, BooksError> {
    File::open(path).map_err(|source| BooksError::Open {
        path: path.to_owned(),
        source,
    })
}

/// Checks every book of the file, the order of their times, unique book numbers, and that a
/// PIN listed twice has one birth date.
fn scan(path: &Path) -> Result<Scan, BooksError> {
    let mut reader = BufReader::new(open(path)?);
    let mut scan = Scan::default();
    let mut numbers: HashMap<DocumentNumber, u64> = HashMap::new();
    let mut last_time: Option<Timestamp> = None;
    let mut text = String::new();
    let mut line = 0_u64;
    loop {
        text.clear();
        line += 1;
        match reader.read_line(&mut text) {
            Ok(0) => break,
            Ok(_) => {}
            Err(source) => return Err(BooksError::Read { line, source }),
        }
        let trimmed = text.trim();
        if skipped(trimmed) {
            continue;
        }
        let malformed = |field: Option<String>, message: String| BooksError::Malformed {
            line,
            field,
            message,
        };
        let book = Book::parse(trimmed).map_err(|p| malformed(p.field, p.message))?;
        if let Some(previous) = last_time
            && book.recorded_at < previous
        {
            return Err(malformed(
                Some("recorded_at".to_owned()),
                format!(
                    "{} is before the book before it ({})",
                    format_time(book.recorded_at),
                    format_time(previous)
                ),
            ));
        }
        last_time = Some(book.recorded_at);
        if let Some(first) = numbers.insert(book.book_number.clone(), line) {
            return Err(malformed(
                Some("book_number".to_owned()),
                format!("is also the number of the book on line {first}"),
            ));
        }
        for (member, listed) in book.members.iter().enumerate() {
            let seen = scan.pins.entry(listed.pin).or_insert(FirstSeen {
                line,
                member,
                birth_date: listed.birth_date,
            });
            if seen.birth_date != listed.birth_date {
                return Err(malformed(
                    Some(format!("members[{member}].birth_date")),
                    format!(
                        "the same PIN is listed on line {}, members[{}], born {}",
                        seen.line, seen.member, seen.birth_date
                    ),
                ));
            }
        }
        scan.books += 1;
        scan.members += book.members.len() as u64;
    }
    Ok(scan)
}

/// The person the register holds for `pin` (also after the PIN was cancelled) and their
/// recorded birth date.
fn holder(
    ledger: &Ledger,
    pin: Pin,
) -> Result<Option<(PersonId, Option<NaiveDate>)>, CommandError> {
    let history = LedgerHistory::now(ledger);
    let Some(holder) = history.fold(&[DomainTag::Pin(pin)])?.pin_holder(pin) else {
        return Ok(None);
    };
    let state = history.fold(&[DomainTag::Pin(pin), DomainTag::Person(holder.person)])?;
    let birth_date = state
        .person(holder.person)
        .and_then(|record| record.birth_date);
    Ok(Some((holder.person, birth_date)))
}

/// The persons the ledger in `data` already holds for the PINs of the file; a PIN the
/// register records with another birth date than the book's stops the import.
fn lookup(data: &Path, scan: &Scan) -> Result<HashMap<Pin, PersonId>, BooksError> {
    let mut known = HashMap::new();
    if !data.join(MANIFEST_FILE).exists() {
        return Ok(known);
    }
    let directory = LedgerDirectory::open(
        data,
        &DirectoryOptions {
            create: Create::Never,
            ..crate::codec::directory_options()
        },
    )
    .map_err(BooksError::Ledger)?;
    let ledger = directory.ledger();
    if ledger.head().size == 0 {
        return Ok(known);
    }
    // In file order, so the first contradiction reported is the first in the file.
    let mut pins: Vec<(&Pin, &FirstSeen)> = scan.pins.iter().collect();
    pins.sort_by_key(|(_, seen)| (seen.line, seen.member));
    for (pin, seen) in pins {
        let found = holder(ledger, *pin).map_err(|source| BooksError::Lookup {
            line: seen.line,
            member: seen.member,
            source,
        })?;
        let Some((person, birth_date)) = found else {
            continue;
        };
        if let Some(recorded) = birth_date
            && recorded != seen.birth_date
        {
            return Err(BooksError::Malformed {
                line: seen.line,
                field: Some(format!("members[{}].birth_date", seen.member)),
                message: format!("the register records the holder of this PIN as born {recorded}"),
            });
        }
        known.insert(*pin, person);
    }
    Ok(known)
}

/// The command lines of a books file, book by book, for [`import_lines`].
struct BookLines {
    reader: BufReader<File>,
    converter: Converter,
    pending: VecDeque<SourceLine>,
    number: u64,
    bytes: u64,
    done: bool,
}

impl Iterator for BookLines {
    type Item = Result<SourceLine, ImportError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(line) = self.pending.pop_front() {
                return Some(Ok(line));
            }
            if self.done {
                return None;
            }
            let mut text = String::new();
            self.number += 1;
            let read = match self.reader.read_line(&mut text) {
                Ok(read) => read,
                Err(source) => {
                    self.done = true;
                    return Some(Err(ImportError::Read {
                        line: self.number,
                        source,
                    }));
                }
            };
            if read == 0 {
                self.done = true;
                return None;
            }
            self.bytes += read as u64;
            let trimmed = text.trim();
            if skipped(trimmed) {
                continue;
            }
            match Book::parse(trimmed) {
                Ok(book) => {
                    for line in self.converter.convert(&book) {
                        self.pending.push_back(SourceLine {
                            number: self.number,
                            bytes: self.bytes,
                            line,
                        });
                    }
                }
                Err(problem) => {
                    // The file was checked whole before; it changed since.
                    self.done = true;
                    return Some(Err(ImportError::Malformed {
                        line: self.number,
                        field: None,
                        message: format!(
                            "the file changed while it was imported: {}",
                            problem.message
                        ),
                    }));
                }
            }
        }
    }
}

/// Imports a books file (`options.file`) into the ledger directory `options.data`: checks the
/// whole file, looks the members' PINs up in the existing ledger, then records each book's
/// commands through [`import_lines`].
///
/// `progress` is called with the number of bytes of the file recorded so far.
///
/// # Errors
/// [`BooksError`]: the file, a malformed book (nothing recorded), the ledger, or the recording
/// (see [`ImportError`]; with `strict`, a rejected command).
pub fn import_books(
    options: &ImportOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<BooksReport, BooksError> {
    let scan = scan(&options.file)?;
    let known = lookup(&options.data, &scan)?;
    let persons_known = known.len() as u64;
    let lines = BookLines {
        reader: BufReader::with_capacity(1 << 20, open(&options.file)?),
        converter: Converter::new(known),
        pending: VecDeque::new(),
        number: 0,
        bytes: 0,
        done: false,
    };
    let import = import_lines(options, lines, progress)?;
    Ok(BooksReport {
        books: scan.books,
        members: scan.members,
        persons_known,
        import,
    })
}

#[cfg(test)]
mod tests {
    use residence_domain::timeline::AsKnown;

    use super::*;
    use crate::import::import;

    /// A family of three and a lodger in Phúc Xá (Hà Nội), recorded on 2021-06-30.
    const BOOK_1: &str = r#"{"book_number":"HN-123456","issued_on":"2008-05-12","address":{"unit":"legacy:00001","street":"Số 12 phố Phúc Xá"},"recorded_at":"2021-06-30T09:00:00+07:00","office":"CA-legacy-00001","floor_area":80,"members":[{"pin":"001070123456","name":"Nguyễn Văn An","birth_date":"1970-03-01","sex":"male","relationship":"CHU_HO","registered_on":"2008-05-12"},{"pin":"001172123456","name":"Trần Thị Bình","birth_date":"1972-08-20","sex":"female","relationship":"VO","registered_on":"2008-05-12"},{"pin":"001210123456","name":"Nguyễn Văn Cường","birth_date":"2010-01-15","sex":"male","relationship":"CON_DE","registered_on":"2010-03-01"},{"pin":"036085123456","name":"Phạm Văn Dũng","birth_date":"1985-11-02","sex":"male","relationship":"O_NHO","registered_on":"2015-09-01"}]}"#;
    /// A widow and her mother in Trúc Bạch, the head's name in NFD; the book was revoked.
    const BOOK_2: &str = "{\"book_number\":\"HN-654321\",\"address\":{\"unit\":\"legacy:00004\",\"street\":\"Số 3 ngõ Trúc Lạc\"},\"recorded_at\":\"2021-10-01T02:00:00Z\",\"revoked_on\":\"2021-09-15\",\"members\":[{\"pin\":\"001165123456\",\"name\":\"Le\u{302} Thi\u{323} Hoa\",\"birth_date\":\"1965-04-04\",\"sex\":\"female\",\"relationship\":\"CHU_HO\",\"registered_on\":\"2005-01-10\"},{\"pin\":\"001140123456\",\"name\":\"Đỗ Thị Lan\",\"birth_date\":\"1940-12-24\",\"sex\":\"female\",\"relationship\":\"ME_DE\",\"registered_on\":\"2006-06-06\"}]}";

    fn number(text: &str) -> DocumentNumber {
        DocumentNumber::parse(text).unwrap()
    }

    fn books_file(dir: &Path, lines: &[&str]) -> PathBuf {
        let file = dir.join("books.ndjson");
        std::fs::write(&file, lines.join("\n")).unwrap();
        file
    }

    fn options(file: PathBuf, data: PathBuf) -> ImportOptions {
        ImportOptions {
            file,
            data,
            key_seed: Some([9; 32]),
            strict: false,
        }
    }

    fn summary(line: &Line) -> (String, &'static str) {
        (line.request_id.clone(), line.command.name())
    }

    #[test]
    fn two_books_convert_into_the_expected_commands() {
        let mut converter = Converter::new(HashMap::new());
        let first = converter.convert(&Book::parse(BOOK_1).unwrap());
        let second = converter.convert(&Book::parse(BOOK_2).unwrap());
        let names: Vec<_> = first.iter().chain(&second).map(summary).collect();
        let expected = [
            ("book-person-0:HN-123456", "record_person"),
            ("book-person-1:HN-123456", "record_person"),
            ("book-person-2:HN-123456", "record_person"),
            ("book-person-3:HN-123456", "record_person"),
            ("book-member-0:HN-123456", "register_permanent"),
            ("book-member-1:HN-123456", "register_permanent"),
            ("book-member-2:HN-123456", "register_permanent"),
            ("book-member-3:HN-123456", "register_permanent"),
            ("book-person-0:HN-654321", "record_person"),
            ("book-person-1:HN-654321", "record_person"),
            ("book-member-0:HN-654321", "register_permanent"),
            ("book-member-1:HN-654321", "register_permanent"),
            ("book-revoked:HN-654321", "revoke_legacy_book"),
        ];
        assert_eq!(
            names,
            expected
                .iter()
                .map(|(id, name)| ((*id).to_owned(), *name))
                .collect::<Vec<_>>()
        );
        for line in first.iter().chain(&second) {
            assert_eq!(line.actor, Actor::Import);
            assert_eq!(line.actor_id, ACTOR_ID);
        }
        assert_eq!(first[0].office.as_deref(), Some("CA-legacy-00001"));
        assert_eq!(
            second[0].office.as_deref(),
            Some("CA-legacy-00004"),
            "the default office"
        );
        assert_eq!(
            first[0].recorded_at,
            parse_time("2021-06-30T02:00:00Z").unwrap()
        );

        let book = number("HN-123456");
        let household = household_id(&book);
        let head = person_id(&book, 0);
        let Command::RecordPerson(recorded) = &first[0].command else {
            panic!("{:?}", first[0].command);
        };
        assert_eq!(recorded.person, head);
        assert_eq!(recorded.name.as_str(), "Nguyễn Văn An");
        let Command::RecordPerson(nfd) = &second[0].command else {
            panic!("{:?}", second[0].command);
        };
        assert_eq!(
            nfd.name.as_str(),
            "Lê Thị Hoa",
            "NFD names are stored in NFC"
        );

        let register = |line: &Line| match &line.command {
            Command::RegisterPermanent(command) => command.clone(),
            other => panic!("{other:?}"),
        };
        let founding = register(&first[4]);
        assert_eq!(founding.person, head);
        assert_eq!(
            founding.effective_on,
            NaiveDate::from_ymd_opt(2008, 5, 12).unwrap()
        );
        assert_eq!(founding.basis, PermanentBasis::OwnHome);
        assert_eq!(founding.dwelling, dwelling_id(&book));
        assert_eq!(founding.address.unit.to_string(), "legacy:00001");
        assert_eq!(
            founding.household,
            HouseholdChoice::Establish {
                household,
                residence_file_number: None
            }
        );
        assert!(founding.consents.is_empty());
        assert_eq!(
            founding.legal_basis.as_ref().map(LegalBasis::as_str),
            Some("Sổ hộ khẩu số HN-123456")
        );

        let wife = register(&first[5]);
        assert_eq!(wife.person, person_id(&book, 1));
        assert_eq!(wife.basis, PermanentBasis::JoinRelative);
        assert_eq!(
            wife.household,
            HouseholdChoice::Join {
                household,
                relationship: Relationship::Vo
            }
        );
        assert_eq!(
            wife.consents,
            [
                Consent {
                    role: ConsentRole::HouseholdHead,
                    person: Some(head)
                },
                Consent {
                    role: ConsentRole::DwellingOwner,
                    person: None
                },
            ]
        );
        assert_eq!(wife.floor_area, None);
        let child = register(&first[6]);
        assert_eq!(
            child.consents.last().map(|consent| consent.role),
            Some(ConsentRole::ParentOrGuardian),
            "a minor on the day needs a parent's consent"
        );
        let lodger = register(&first[7]);
        assert_eq!(lodger.basis, PermanentBasis::RentedBorrowedShared);
        assert_eq!(lodger.floor_area.map(FloorArea::tenths), Some(800));
        assert_eq!(lodger.leaving_household, None);

        let Command::RevokeLegacyBook(revoke) = &second[4].command else {
            panic!("{:?}", second[4].command);
        };
        assert_eq!(revoke.household, household_id(&number("HN-654321")));
        assert_eq!(revoke.book_number.as_str(), "HN-654321");
        assert_eq!(
            revoke.effective_on,
            NaiveDate::from_ymd_opt(2021, 9, 15).unwrap()
        );
        assert_ne!(
            household_id(&number("HN-654321")),
            household,
            "each book its household"
        );
    }

    #[test]
    fn known_pins_keep_their_person_and_a_second_book_moves_its_member() {
        let known_person = PersonId::new(0x42);
        let known: HashMap<Pin, PersonId> =
            HashMap::from([("001172123456".parse().unwrap(), known_person)]);
        let mut converter = Converter::new(known);
        let first = converter.convert(&Book::parse(BOOK_1).unwrap());
        assert_eq!(
            first
                .iter()
                .filter(|line| line.command.name() == "record_person")
                .count(),
            3,
            "the known PIN is not recorded again"
        );
        let Command::RegisterPermanent(wife) = &first[4].command else {
            panic!("{:?}", first[4].command);
        };
        assert_eq!(wife.person, known_person);

        // The lodger moves on to a book of his own.
        let own = BOOK_2
            .replace("HN-654321", "HN-777777")
            .replace(",\"revoked_on\":\"2021-09-15\"", "")
            .replace("001165123456", "036085123456")
            .replace("1965-04-04", "1985-11-02")
            .replace(
                "\"female\",\"relationship\":\"CHU_HO\"",
                "\"male\",\"relationship\":\"CHU_HO\"",
            )
            .replace("2005-01-10", "2019-01-10")
            .replace("2006-06-06", "2019-02-02");
        let second = converter.convert(&Book::parse(&own).unwrap());
        assert_eq!(second.len(), 3, "one new person, two registrations");
        let Command::RegisterPermanent(moved) = &second[1].command else {
            panic!("{:?}", second[1].command);
        };
        assert_eq!(moved.person, person_id(&number("HN-123456"), 3));
        assert_eq!(
            moved.leaving_household,
            Some(household_id(&number("HN-123456")))
        );
    }

    fn field_of(text: &str) -> Option<String> {
        Book::parse(text).unwrap_err().field
    }

    #[test]
    fn malformed_books_name_their_field() {
        assert_eq!(field_of("not json"), None);
        assert_eq!(field_of("[1]"), None);
        let unknown = Book::parse(&BOOK_1.replace("\"office\"", "\"police\"")).unwrap_err();
        assert!(unknown.message.contains("police"), "{unknown:?}");
        assert_eq!(
            field_of(&BOOK_1.replace("\"001210123456\"", "\"00121012345\"")).as_deref(),
            Some("members[2].pin")
        );
        assert_eq!(
            field_of(&BOOK_1.replace("\"001210123456\"", "\"001209123456\"")).as_deref(),
            Some("members[2].pin"),
            "the PIN encodes another birth year"
        );
        assert_eq!(
            field_of(&BOOK_1.replace("\"001172123456\"", "\"001070123456\"")).as_deref(),
            Some("members[1].pin"),
            "a PIN twice in one book"
        );
        assert_eq!(
            field_of(&BOOK_1.replace("\"sex\":\"female\"", "\"sex\":\"f\"")).as_deref(),
            Some("members[1].sex")
        );
        assert_eq!(
            field_of(&BOOK_1.replace("\"relationship\":\"VO\"", "\"relationship\":\"WIFE\""))
                .as_deref(),
            Some("members[1].relationship")
        );
        assert_eq!(
            field_of(&BOOK_1.replace(
                "\"relationship\":\"VO\"",
                "\"relationship\":{\"LEGACY_TEXT\":\"vợ hai\"}"
            ))
            .as_deref(),
            Some("members[1].relationship")
        );
        assert_eq!(
            field_of(&BOOK_1.replace("\"relationship\":\"VO\"", "\"relationship\":\"CHU_HO\""))
                .as_deref(),
            Some("members[1].relationship"),
            "a second head"
        );
        assert_eq!(
            field_of(&BOOK_2.replace("\"CHU_HO\"", "\"EM_RUOT\"")).as_deref(),
            Some("members[0].relationship"),
            "the head first"
        );
        assert_eq!(
            field_of(&BOOK_1.replace(
                "\"registered_on\":\"2010-03-01\"",
                "\"registered_on\":\"2009-03-01\""
            ))
            .as_deref(),
            Some("members[2].registered_on"),
            "registered before birth"
        );
        assert_eq!(
            field_of(&BOOK_1.replace(
                "\"registered_on\":\"2015-09-01\"",
                "\"registered_on\":\"2001-09-01\""
            ))
            .as_deref(),
            Some("members[3].registered_on"),
            "registered before the head"
        );
        assert_eq!(
            field_of(&BOOK_2.replace("2021-09-15", "2021-10-02")).as_deref(),
            Some("revoked_on"),
            "revoked after the recording day"
        );
        assert_eq!(
            field_of(&BOOK_1.replace("\"floor_area\":80", "\"floor_area\":-1")).as_deref(),
            Some("floor_area")
        );
        assert_eq!(
            field_of(&BOOK_1.replace("\"street\":\"Số 12 phố Phúc Xá\"", "\"street\":\" \""))
                .as_deref(),
            Some("address.street")
        );
        assert_eq!(
            field_of(&BOOK_1.replace("legacy:00001", "legacy:99999")).as_deref(),
            Some("address.unit")
        );
        assert_eq!(
            field_of(&BOOK_1.replace(",\"recorded_at\":\"2021-06-30T09:00:00+07:00\"", ""))
                .as_deref(),
            Some("recorded_at")
        );
        assert_eq!(
            field_of(&BOOK_1.replace("\"floor_area\":80", "\"basis\":\"JOIN_RELATIVE\""))
                .as_deref(),
            Some("basis")
        );
    }

    #[test]
    fn a_2025_unit_in_an_old_book_is_refused() {
        let refused = Book::parse(&BOOK_1.replace("legacy:00001", "2025:00097")).unwrap_err();
        assert_eq!(refused.field.as_deref(), Some("address.unit"));
        assert!(
            refused.message.contains("2025:00097") && refused.message.contains("legacy map"),
            "{refused:?}"
        );

        // Also through the import, which names the line and records nothing.
        let dir = tempfile::tempdir().unwrap();
        let file = books_file(
            dir.path(),
            &[BOOK_1, &BOOK_2.replace("legacy:00004", "2025:00004")],
        );
        let data = dir.path().join("data");
        let error = import_books(&options(file, data.clone()), &mut |_| {}).unwrap_err();
        assert!(
            matches!(
                &error,
                BooksError::Malformed { line: 2, field: Some(field), .. } if field == "address.unit"
            ),
            "{error:?}"
        );
        assert!(
            error
                .to_string()
                .starts_with("line 2, field `address.unit`: 2025:00004"),
            "{error}"
        );
        assert!(!data.exists(), "nothing is recorded");
    }

    #[test]
    fn a_malformed_book_stops_the_import_naming_its_line_and_field() {
        let dir = tempfile::tempdir().unwrap();
        let file = books_file(
            dir.path(),
            &[
                "# two books",
                BOOK_1,
                "",
                &BOOK_2.replace(
                    "\"birth_date\":\"1940-12-24\"",
                    "\"birth_date\":\"1940-13-24\"",
                ),
            ],
        );
        let error = import_books(&options(file, dir.path().join("data")), &mut |_| {}).unwrap_err();
        assert_eq!(
            error.to_string(),
            "line 4, field `members[1].birth_date`: must be a date (YYYY-MM-DD)"
        );

        let file = books_file(dir.path(), &[BOOK_2, BOOK_1]);
        let error = import_books(&options(file, dir.path().join("data")), &mut |_| {}).unwrap_err();
        assert!(
            matches!(&error, BooksError::Malformed { line: 2, field: Some(field), .. } if field == "recorded_at"),
            "{error:?}"
        );

        let file = books_file(
            dir.path(),
            &[BOOK_1, &BOOK_1.replace("2021-06-30", "2021-07-30")],
        );
        let error = import_books(&options(file, dir.path().join("data")), &mut |_| {}).unwrap_err();
        assert!(
            matches!(&error, BooksError::Malformed { line: 2, field: Some(field), .. } if field == "book_number"),
            "{error:?}"
        );
        assert!(!dir.path().join("data").exists());
    }

    #[test]
    fn an_import_records_the_books_and_the_household_book_shows_them_and_a_rerun_adds_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let file = books_file(dir.path(), &["# legacy books of two wards", BOOK_1, BOOK_2]);
        let data = dir.path().join("data");
        let report = import_books(&options(file.clone(), data.clone()), &mut |_| {}).unwrap();
        assert_eq!(
            (report.books, report.members, report.persons_known),
            (2, 6, 0)
        );
        assert_eq!(report.import.commands, 13);
        assert_eq!(
            report.import.rejected, 0,
            "{:?}",
            report.import.rejected_lines
        );
        assert_eq!(report.import.recorded, 13);
        // Six persons, two households founded with their heads' registrations, four joins,
        // one revocation.
        assert_eq!(report.import.events, 6 + 2 * 2 + 4 + 1);
        let size = report.import.size;

        {
            let directory = LedgerDirectory::open(
                &data,
                &DirectoryOptions {
                    create: Create::Never,
                    ..crate::codec::directory_options()
                },
            )
            .unwrap();
            let ledger = directory.ledger();
            let (projections, _) = residence_projections::replay_all(ledger, 1).unwrap();
            let book = number("HN-123456");
            let shown = projections
                .household_book(
                    ledger,
                    household_id(&book),
                    NaiveDate::from_ymd_opt(2021, 6, 30).unwrap(),
                    AsKnown::Now,
                )
                .unwrap();
            assert_eq!(shown.head, Some(person_id(&book, 0)));
            assert_eq!(
                shown.address.as_ref().map(|a| a.street.as_str()),
                Some("Số 12 phố Phúc Xá")
            );
            let members: HashMap<PersonId, (Relationship, NaiveDate)> = shown
                .members
                .iter()
                .map(|member| {
                    (
                        member.person,
                        (member.relationship.clone(), member.registered_since),
                    )
                })
                .collect();
            let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
            assert_eq!(
                members,
                HashMap::from([
                    (person_id(&book, 0), (Relationship::ChuHo, day(2008, 5, 12))),
                    (person_id(&book, 1), (Relationship::Vo, day(2008, 5, 12))),
                    (person_id(&book, 2), (Relationship::ConDe, day(2010, 3, 1))),
                    (person_id(&book, 3), (Relationship::ONho, day(2015, 9, 1))),
                ])
            );
            assert_eq!(
                shown.members[0].pin.map(|pin| pin.to_string()).as_deref(),
                Some("001070123456"),
                "the head first, with the PIN of the book"
            );
            // Before the child was registered, the book shows the couple.
            let earlier = projections
                .household_book(ledger, household_id(&book), day(2009, 1, 1), AsKnown::Now)
                .unwrap();
            assert_eq!(earlier.members.len(), 2);

            let widow = projections
                .household_book(
                    ledger,
                    household_id(&number("HN-654321")),
                    day(2021, 10, 1),
                    AsKnown::Now,
                )
                .unwrap();
            assert_eq!(widow.members.len(), 2);
            assert_eq!(widow.members[0].relationship, Relationship::ChuHo);
            assert_eq!(widow.members[1].relationship, Relationship::MeDe);
        }

        let again = import_books(&options(file, data), &mut |_| {}).unwrap();
        assert_eq!(again.persons_known, 6);
        assert_eq!(again.import.commands, 7, "no person is recorded again");
        assert_eq!(again.import.recorded, 0);
        assert_eq!(again.import.already_recorded, 7);
        assert_eq!(
            again.import.rejected, 0,
            "{:?}",
            again.import.rejected_lines
        );
        assert_eq!(again.import.size, size, "nothing new");
    }

    #[test]
    fn a_person_the_register_knows_is_registered_not_recorded_again() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        // The population database recorded the wife first, under an id of its own.
        let npd = dir.path().join("npd.ndjson");
        std::fs::write(
            &npd,
            r#"{"recorded_at":"2021-06-01T01:00:00Z","request_id":"npd-1","actor":"population_database","actor_id":"npd-feed","command":{"record_person":{"person":"00000000000000b1","pin":"001172123456","name":"Trần Thị Bình","birth_date":"1972-08-20","sex":"female"}}}"#,
        )
        .unwrap();
        import(&options(npd, data.clone()), &mut |_| {}).unwrap();

        let file = books_file(dir.path(), &[BOOK_1]);
        let report = import_books(&options(file, data.clone()), &mut |_| {}).unwrap();
        assert_eq!(report.persons_known, 1);
        assert_eq!(
            report.import.rejected, 0,
            "{:?}",
            report.import.rejected_lines
        );
        assert_eq!(report.import.recorded, 3 + 4);

        let directory = LedgerDirectory::open(
            &data,
            &DirectoryOptions {
                create: Create::Never,
                ..crate::codec::directory_options()
            },
        )
        .unwrap();
        let (projections, _) = residence_projections::replay_all(directory.ledger(), 1).unwrap();
        let shown = projections
            .household_book(
                directory.ledger(),
                household_id(&number("HN-123456")),
                NaiveDate::from_ymd_opt(2021, 6, 30).unwrap(),
                AsKnown::Now,
            )
            .unwrap();
        assert!(
            shown
                .members
                .iter()
                .any(|member| member.person == PersonId::new(0xb1)
                    && member.relationship == Relationship::Vo),
            "{shown:?}"
        );
        drop(directory);

        // A book giving that PIN another birth date is refused before anything is recorded.
        let other = BOOK_1
            .replace("HN-123456", "HN-999999")
            .replace("1972-08-20", "1972-08-21");
        let file = books_file(dir.path(), &[&other]);
        let error = import_books(&options(file, data), &mut |_| {}).unwrap_err();
        assert!(
            matches!(&error, BooksError::Malformed { line: 1, field: Some(field), .. } if field == "members[1].birth_date"),
            "{error:?}"
        );
    }
}
