//! Relationship to the household head (quan hệ với chủ hộ), the closed list of TT116/2026 Art 6.1.
//!
//! The wire names are the Vietnamese terms without diacritics, so that officers and auditors can
//! read them. `LegacyText` exists only for values imported from paper household books that match
//! no official term; a decision never produces it.

use serde::{Deserialize, Serialize};

use crate::address::LegacyRelationshipText;

/// A member's relationship to the head of their household.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Relationship {
    /// Chủ hộ: the member is the head.
    ChuHo,
    /// Vợ: wife.
    Vo,
    /// Chồng: husband.
    Chong,
    /// Cha đẻ: father.
    ChaDe,
    /// Mẹ đẻ: mother.
    MeDe,
    /// Cha vợ: wife's father.
    ChaVo,
    /// Mẹ vợ: wife's mother.
    MeVo,
    /// Cha chồng: husband's father.
    ChaChong,
    /// Mẹ chồng: husband's mother.
    MeChong,
    /// Cha nuôi: adoptive father.
    ChaNuoi,
    /// Mẹ nuôi: adoptive mother.
    MeNuoi,
    /// Cha dượng: stepfather.
    ChaDuong,
    /// Mẹ kế: stepmother.
    MeKe,
    /// Con đẻ: child.
    ConDe,
    /// Con dâu: daughter-in-law.
    ConDau,
    /// Con rể: son-in-law.
    ConRe,
    /// Con nuôi: adopted child.
    ConNuoi,
    /// Con riêng của vợ hoặc chồng: stepchild.
    ConRieng,
    /// Ông nội: paternal grandfather.
    OngNoi,
    /// Bà nội: paternal grandmother.
    BaNoi,
    /// Ông ngoại: maternal grandfather.
    OngNgoai,
    /// Bà ngoại: maternal grandmother.
    BaNgoai,
    /// Anh ruột: elder brother.
    AnhRuot,
    /// Chị ruột: elder sister.
    ChiRuot,
    /// Em ruột: younger sibling.
    EmRuot,
    /// Anh, chị, em cùng cha khác mẹ: paternal half-sibling.
    AnhChiEmCungChaKhacMe,
    /// Anh, chị, em cùng mẹ khác cha: maternal half-sibling.
    AnhChiEmCungMeKhacCha,
    /// Anh rể: elder sister's husband.
    AnhRe,
    /// Em rể: younger sister's husband.
    EmRe,
    /// Chị dâu: elder brother's wife.
    ChiDau,
    /// Em dâu: younger brother's wife.
    EmDau,
    /// Cụ nội: paternal great-grandparent.
    CuNoi,
    /// Cụ ngoại: maternal great-grandparent.
    CuNgoai,
    /// Cháu ruột: nephew or niece.
    ChauRuot,
    /// Cháu nội: son's child.
    ChauNoi,
    /// Cháu ngoại: daughter's child.
    ChauNgoai,
    /// Chắt ruột: great-grandchild.
    ChatRuot,
    /// Bác ruột: parent's elder sibling.
    BacRuot,
    /// Chú ruột: father's younger brother.
    ChuRuot,
    /// Cậu ruột: mother's brother.
    CauRuot,
    /// Cô ruột: father's sister.
    CoRuot,
    /// Dì ruột: mother's sister.
    DiRuot,
    /// Người giám hộ: guardian.
    NguoiGiamHo,
    /// Người được giám hộ: ward under guardianship.
    NguoiDuocGiamHo,
    /// Ở thuê: lodger paying rent.
    OThue,
    /// Ở mượn: lodger on loan.
    OMuon,
    /// Ở nhờ: lodger staying free.
    ONho,
    /// A paper-book value with no official equivalent, kept verbatim (NFC) from an import.
    LegacyText(LegacyRelationshipText),
}

impl Relationship {
    /// The official Vietnamese term, for printing on household books and certificates.
    pub fn vietnamese(&self) -> &str {
        match self {
            Self::ChuHo => "Chủ hộ",
            Self::Vo => "Vợ",
            Self::Chong => "Chồng",
            Self::ChaDe => "Cha đẻ",
            Self::MeDe => "Mẹ đẻ",
            Self::ChaVo => "Cha vợ",
            Self::MeVo => "Mẹ vợ",
            Self::ChaChong => "Cha chồng",
            Self::MeChong => "Mẹ chồng",
            Self::ChaNuoi => "Cha nuôi",
            Self::MeNuoi => "Mẹ nuôi",
            Self::ChaDuong => "Cha dượng",
            Self::MeKe => "Mẹ kế",
            Self::ConDe => "Con đẻ",
            Self::ConDau => "Con dâu",
            Self::ConRe => "Con rể",
            Self::ConNuoi => "Con nuôi",
            Self::ConRieng => "Con riêng của vợ hoặc chồng",
            Self::OngNoi => "Ông nội",
            Self::BaNoi => "Bà nội",
            Self::OngNgoai => "Ông ngoại",
            Self::BaNgoai => "Bà ngoại",
            Self::AnhRuot => "Anh ruột",
            Self::ChiRuot => "Chị ruột",
            Self::EmRuot => "Em ruột",
            Self::AnhChiEmCungChaKhacMe => "Anh, chị, em cùng cha khác mẹ",
            Self::AnhChiEmCungMeKhacCha => "Anh, chị, em cùng mẹ khác cha",
            Self::AnhRe => "Anh rể",
            Self::EmRe => "Em rể",
            Self::ChiDau => "Chị dâu",
            Self::EmDau => "Em dâu",
            Self::CuNoi => "Cụ nội",
            Self::CuNgoai => "Cụ ngoại",
            Self::ChauRuot => "Cháu ruột",
            Self::ChauNoi => "Cháu nội",
            Self::ChauNgoai => "Cháu ngoại",
            Self::ChatRuot => "Chắt ruột",
            Self::BacRuot => "Bác ruột",
            Self::ChuRuot => "Chú ruột",
            Self::CauRuot => "Cậu ruột",
            Self::CoRuot => "Cô ruột",
            Self::DiRuot => "Dì ruột",
            Self::NguoiGiamHo => "Người giám hộ",
            Self::NguoiDuocGiamHo => "Người được giám hộ",
            Self::OThue => "Ở thuê",
            Self::OMuon => "Ở mượn",
            Self::ONho => "Ở nhờ",
            Self::LegacyText(text) => text.as_str(),
        }
    }
}
