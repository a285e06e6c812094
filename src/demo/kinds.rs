//! The demo world's vocabulary: its domains, the file format of each, and the shape classes.

/// Image file format written for a domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoFormat {
    /// Baseline JPEG at [`super::DemoParams::jpeg_quality`].
    Jpeg,
    /// 8-bit RGB PNG.
    Png,
}

impl DemoFormat {
    /// File extension without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            DemoFormat::Jpeg => "jpg",
            DemoFormat::Png => "png",
        }
    }
}

/// The four demo domains, in folder-name order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DemoDomain {
    /// Painterly style: a sepia wash.
    Art,
    /// Flat colours on a patterned wallpaper.
    Clipart,
    /// Object on a light, cluttered table.
    Product,
    /// Photo-like style; its folder name contains a space.
    RealWorld,
}

impl DemoDomain {
    /// All domains in folder-name order.
    pub const ALL: [DemoDomain; 4] = [
        DemoDomain::Art,
        DemoDomain::Clipart,
        DemoDomain::Product,
        DemoDomain::RealWorld,
    ];

    /// Folder name ("Art", "Clipart", "Product", "Real World").
    pub fn name(self) -> &'static str {
        match self {
            DemoDomain::Art => "Art",
            DemoDomain::Clipart => "Clipart",
            DemoDomain::Product => "Product",
            DemoDomain::RealWorld => "Real World",
        }
    }

    /// One-letter code (first letter of the name).
    pub fn code(self) -> char {
        match self {
            DemoDomain::Art => 'A',
            DemoDomain::Clipart => 'C',
            DemoDomain::Product => 'P',
            DemoDomain::RealWorld => 'R',
        }
    }

    /// The file format this domain is written in.
    pub fn format(self) -> DemoFormat {
        match self {
            DemoDomain::Art | DemoDomain::RealWorld => DemoFormat::Jpeg,
            DemoDomain::Clipart | DemoDomain::Product => DemoFormat::Png,
        }
    }
}

/// The ten demo classes (shapes), in folder-name (sorted) order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DemoClass {
    /// Block arrow.
    Arrow,
    /// Filled disc.
    Circle,
    /// Disc with an off-centre bite.
    Crescent,
    /// Plus-shaped cross.
    Cross,
    /// Tall rhombus.
    Diamond,
    /// Regular hexagon.
    Hexagon,
    /// Annulus.
    Ring,
    /// Square.
    Square,
    /// Five-pointed star.
    Star,
    /// Equilateral triangle.
    Triangle,
}

impl DemoClass {
    /// All classes in folder-name order (their index is the ImageFolder class index).
    pub const ALL: [DemoClass; 10] = [
        DemoClass::Arrow,
        DemoClass::Circle,
        DemoClass::Crescent,
        DemoClass::Cross,
        DemoClass::Diamond,
        DemoClass::Hexagon,
        DemoClass::Ring,
        DemoClass::Square,
        DemoClass::Star,
        DemoClass::Triangle,
    ];

    /// Folder name (lower case).
    pub fn name(self) -> &'static str {
        match self {
            DemoClass::Arrow => "arrow",
            DemoClass::Circle => "circle",
            DemoClass::Crescent => "crescent",
            DemoClass::Cross => "cross",
            DemoClass::Diamond => "diamond",
            DemoClass::Hexagon => "hexagon",
            DemoClass::Ring => "ring",
            DemoClass::Square => "square",
            DemoClass::Star => "star",
            DemoClass::Triangle => "triangle",
        }
    }
}
