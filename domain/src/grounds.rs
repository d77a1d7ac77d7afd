//! Deletion grounds with their legal codes: Residence Law Art 24.1 (permanent) and Art 29.1
//! (temporary). The wire names are the letters of the law (`a`, `b`, …, `dd` for "đ").

use serde::{Deserialize, Serialize};

/// Who may set a deletion in motion for a ground (NĐ154 Art 9/10 as amended by NĐ58/2026).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Initiator {
    /// The person, the household or their legal representative files CT01 with proof.
    Person,
    /// The police act on their own motion (data arriving from the population database, an
    /// annulment decision, or verification after nobody filed).
    ExOfficio,
}

/// A ground for deleting a permanent registration (Art 24.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PermanentDeletionGround {
    /// a: died, or declared missing or dead by a court.
    #[serde(rename = "a")]
    Death,
    /// b: went abroad to settle.
    #[serde(rename = "b")]
    SettledAbroad,
    /// c: the registration was annulled under Art 35.
    #[serde(rename = "c")]
    Annulled,
    /// d: absent 12 continuous months without temporary registration elsewhere or an absence
    /// declaration.
    #[serde(rename = "d")]
    LongAbsence,
    /// đ: nationality renounced, deprived, or naturalisation revoked.
    #[serde(rename = "dd")]
    NationalityLost,
    /// e: rent, loan or lodging ended and no new permanent registration 12 months later.
    #[serde(rename = "e")]
    LodgingEnded,
    /// g: own dwelling transferred and none 12 months later, unless the new owner consents.
    #[serde(rename = "g")]
    DwellingTransferred,
    /// h: rental ended or dwelling sold, and the lessor or new owner refuses the registration.
    #[serde(rename = "h")]
    OwnerRefuses,
    /// i: dwelling demolished or confiscated, or vehicle deregistered.
    #[serde(rename = "i")]
    DwellingGone,
}

impl PermanentDeletionGround {
    /// The letter of Art 24.1 (`"dd"` stands for đ).
    pub fn legal_code(self) -> &'static str {
        match self {
            Self::Death => "a",
            Self::SettledAbroad => "b",
            Self::Annulled => "c",
            Self::LongAbsence => "d",
            Self::NationalityLost => "dd",
            Self::LodgingEnded => "e",
            Self::DwellingTransferred => "g",
            Self::OwnerRefuses => "h",
            Self::DwellingGone => "i",
        }
    }

    /// Who may initiate a deletion on this ground. Grounds a, c and đ are ex officio only; the
    /// others are filed by the person or household, or done ex officio when nobody files.
    pub fn allows(self, initiator: Initiator) -> bool {
        match self {
            Self::Death | Self::Annulled | Self::NationalityLost => {
                initiator == Initiator::ExOfficio
            }
            _ => true,
        }
    }
}

/// A ground for deleting a temporary registration (Art 29.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TemporaryDeletionGround {
    /// a: died, or declared missing or dead.
    #[serde(rename = "a")]
    Death,
    /// b: the registration was annulled under Art 35.
    #[serde(rename = "b")]
    Annulled,
    /// c: absent 6 continuous months without temporary registration elsewhere.
    #[serde(rename = "c")]
    LongAbsence,
    /// d: nationality lost.
    #[serde(rename = "d")]
    NationalityLost,
    /// đ: permanently registered at the same place.
    #[serde(rename = "dd")]
    PermanentAtSamePlace,
    /// e: rental ended and no temporary registration elsewhere.
    #[serde(rename = "e")]
    LodgingEnded,
    /// g: ownership transferred, unless the new owner consents.
    #[serde(rename = "g")]
    DwellingTransferred,
    /// h: dwelling demolished or confiscated, or vehicle deregistered.
    #[serde(rename = "h")]
    DwellingGone,
}

impl TemporaryDeletionGround {
    /// The letter of Art 29.1 (`"dd"` stands for đ).
    pub fn legal_code(self) -> &'static str {
        match self {
            Self::Death => "a",
            Self::Annulled => "b",
            Self::LongAbsence => "c",
            Self::NationalityLost => "d",
            Self::PermanentAtSamePlace => "dd",
            Self::LodgingEnded => "e",
            Self::DwellingTransferred => "g",
            Self::DwellingGone => "h",
        }
    }

    /// Who may initiate a deletion on this ground: a, b, d and đ are ex officio (NĐ58/2026).
    pub fn allows(self, initiator: Initiator) -> bool {
        match self {
            Self::Death | Self::Annulled | Self::NationalityLost | Self::PermanentAtSamePlace => {
                initiator == Initiator::ExOfficio
            }
            _ => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grounds_serialise_as_their_legal_letters() {
        let json = serde_json::to_string(&PermanentDeletionGround::NationalityLost).unwrap();
        assert_eq!(json, "\"dd\"");
        assert_eq!(PermanentDeletionGround::NationalityLost.legal_code(), "dd");
        let back: TemporaryDeletionGround = serde_json::from_str("\"c\"").unwrap();
        assert_eq!(back, TemporaryDeletionGround::LongAbsence);
    }

    #[test]
    fn death_is_ex_officio_only() {
        assert!(!PermanentDeletionGround::Death.allows(Initiator::Person));
        assert!(PermanentDeletionGround::Death.allows(Initiator::ExOfficio));
        assert!(PermanentDeletionGround::SettledAbroad.allows(Initiator::Person));
    }
}
