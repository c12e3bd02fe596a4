//! Categories: the patent's "group list". Seven defaults with stable ids, plus the author's own.

use serde::{Deserialize, Serialize};

use crate::ids::CategoryId;

/// The seven default categories, in their default order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DefaultCategory {
    /// Recent activities (最近活动).
    Activities,
    /// Recent travel (最近旅行地方).
    Travel,
    /// Recently bought gadgets (最近购买的电子产品).
    Gadgets,
    /// Recently read books (最近所看的书籍).
    Books,
    /// Recently learned songs (最近新学的歌曲).
    Songs,
    /// Recently found restaurants (最近新去的美味餐厅).
    Restaurants,
    /// Recently watched (最近观看).
    Watched,
}

impl DefaultCategory {
    /// All defaults in their default order.
    pub const ALL: [DefaultCategory; 7] = [
        Self::Activities,
        Self::Travel,
        Self::Gadgets,
        Self::Books,
        Self::Songs,
        Self::Restaurants,
        Self::Watched,
    ];

    /// The stable id of this default category.
    pub fn id(self) -> CategoryId {
        CategoryId::new(match self {
            Self::Activities => "activities",
            Self::Travel => "travel",
            Self::Gadgets => "gadgets",
            Self::Books => "books",
            Self::Songs => "songs",
            Self::Restaurants => "restaurants",
            Self::Watched => "watched",
        })
    }

    /// The default category with this id, if it is one.
    pub fn from_id(id: &CategoryId) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.id() == *id)
    }

    /// The English name.
    pub fn name_en(self) -> &'static str {
        match self {
            Self::Activities => "Recent activities",
            Self::Travel => "Recent travel",
            Self::Gadgets => "Recently bought gadgets",
            Self::Books => "Recently read books",
            Self::Songs => "Recently learned songs",
            Self::Restaurants => "Recently found restaurants",
            Self::Watched => "Recently watched",
        }
    }

    /// The Simplified Chinese name, as in the original description.
    pub fn name_zh(self) -> &'static str {
        match self {
            Self::Activities => "最近活动",
            Self::Travel => "最近旅行地方",
            Self::Gadgets => "最近购买的电子产品",
            Self::Books => "最近所看的书籍",
            Self::Songs => "最近新学的歌曲",
            Self::Restaurants => "最近新去的美味餐厅",
            Self::Watched => "最近观看",
        }
    }
}

/// One category of a panel.
///
/// `name` is `None` for a default category that was never renamed, so that each reader sees it in
/// their own language.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Category {
    /// Stable id.
    pub id: CategoryId,
    /// The author's name for it; `None` means the default's localized name.
    pub name: Option<String>,
}

impl Category {
    /// The name to show, in English when the category carries no name of its own.
    pub fn display_name(&self) -> String {
        match (&self.name, DefaultCategory::from_id(&self.id)) {
            (Some(name), _) => name.clone(),
            (None, Some(default)) => default.name_en().to_string(),
            (None, None) => self.id.to_string(),
        }
    }
}

/// The category list every new panel starts with.
pub fn default_categories() -> Vec<Category> {
    DefaultCategory::ALL
        .into_iter()
        .map(|c| Category {
            id: c.id(),
            name: None,
        })
        .collect()
}

/// The category that receives entries of a removed one: the first remaining category.
pub fn fallback_category(categories: &[Category], removed: &CategoryId) -> Option<CategoryId> {
    categories
        .iter()
        .find(|c| c.id != *removed)
        .map(|c| c.id.clone())
}
