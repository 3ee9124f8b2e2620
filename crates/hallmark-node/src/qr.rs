//! QR codes of GS1 Digital Link URIs, for print: the symbol (`qrcode`), drawn as SVG sized in
//! millimetres or as a 1-bit PNG whose `pHYs` chunk gives its print resolution (`png`).
//! Pure: no I/O, no clock; the public listener's `/passports/{id}/qr.svg|png`
//! (`crate::routes::qr`) and `hallmark labels` draw with the same functions, so a label
//! printed from either is the same image.
//!
//! Print rules (docs/labels.md): a 4-module quiet zone on every side (ISO/IEC 18004, GS1's
//! module-count tool), an X-dimension (module size) from 0.396 to 0.990 mm (GS1 General
//! Specifications §5.12.3.1, QR with a GS1 Digital Link scanned at retail POS), error
//! correction M by default.

use std::fmt::Write as _;

/// Quiet zone around the symbol, in modules, on every side.
pub const QUIET_ZONE: usize = 4;
/// Smallest X-dimension (module size) GS1 allows for a QR code with a Digital Link, in mm.
pub const X_MIN_MM: f64 = 0.396;
/// Largest X-dimension GS1 allows, in mm.
pub const X_MAX_MM: f64 = 0.990;
/// The X-dimension used when none is asked for, in mm.
pub const X_DEFAULT_MM: f64 = 0.5;
/// The PNG resolution used when none is asked for, in dots per inch.
pub const DPI_DEFAULT: u32 = 600;
/// Lowest PNG resolution drawn (every X-dimension in range has a whole number of pixels).
pub const DPI_MIN: u32 = 72;
/// Highest PNG resolution drawn (bounds the image a request can make the node draw).
pub const DPI_MAX: u32 = 1200;

const MM_PER_INCH: f64 = 25.4;

/// Error correction level: the share of the symbol that may be damaged and still read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EcLevel {
    /// About 7 %.
    L,
    /// About 15 % (the default: GS1 Digital Link practice and ISO/IEC 18004's usual choice).
    #[default]
    M,
    /// About 25 %.
    Q,
    /// About 30 %.
    H,
}

impl EcLevel {
    /// `L`, `M`, `Q` or `H` (either case).
    pub fn parse(s: &str) -> Option<EcLevel> {
        match s {
            "L" | "l" => Some(EcLevel::L),
            "M" | "m" => Some(EcLevel::M),
            "Q" | "q" => Some(EcLevel::Q),
            "H" | "h" => Some(EcLevel::H),
            _ => None,
        }
    }

    fn qrcode(self) -> qrcode::EcLevel {
        match self {
            EcLevel::L => qrcode::EcLevel::L,
            EcLevel::M => qrcode::EcLevel::M,
            EcLevel::Q => qrcode::EcLevel::Q,
            EcLevel::H => qrcode::EcLevel::H,
        }
    }
}

/// The two drawings of a symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// SVG, sized in millimetres.
    Svg,
    /// 1-bit greyscale PNG with its resolution in `pHYs`.
    Png,
}

impl Format {
    /// The file extension (`svg`, `png`).
    pub fn extension(self) -> &'static str {
        match self {
            Format::Svg => "svg",
            Format::Png => "png",
        }
    }

    /// The media type (`image/svg+xml`, `image/png`).
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Svg => "image/svg+xml",
            Format::Png => "image/png",
        }
    }
}

/// How to draw: error correction, X-dimension and (PNG) resolution. Made by
/// [`Options::from_params`], which refuses what is out of range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    /// Error correction level.
    pub ec: EcLevel,
    /// X-dimension (module size) in mm, within [`X_MIN_MM`]..=[`X_MAX_MM`].
    pub x_mm: f64,
    /// PNG resolution in dots per inch, within [`DPI_MIN`]..=[`DPI_MAX`] (SVG ignores it).
    pub dpi: u32,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            ec: EcLevel::M,
            x_mm: X_DEFAULT_MM,
            dpi: DPI_DEFAULT,
        }
    }
}

/// A drawing option that is not acceptable, named as the query parameter (or CLI option)
/// it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("parameter `{param}`: {detail}")]
pub struct ParamError {
    /// `ec`, `x` or `dpi`.
    pub param: &'static str,
    /// What is accepted.
    pub detail: String,
}

impl Options {
    /// The options from their text forms (`None`: the default): `ec` one of `L M Q H`,
    /// `x` a number of mm from 0.396 to 0.990 (refused outside, not clamped: a label
    /// printed at a size other than the one asked for would be a silent surprise), `dpi` a
    /// whole number from 72 to 1200.
    pub fn from_params(
        ec: Option<&str>,
        x: Option<&str>,
        dpi: Option<&str>,
    ) -> Result<Options, ParamError> {
        let mut o = Options::default();
        if let Some(ec) = ec {
            o.ec = EcLevel::parse(ec).ok_or_else(|| ParamError {
                param: "ec",
                detail: "error correction must be L, M, Q or H".into(),
            })?;
        }
        if let Some(x) = x {
            o.x_mm = x
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && (X_MIN_MM..=X_MAX_MM).contains(v))
                .ok_or_else(|| ParamError {
                    param: "x",
                    detail: format!(
                        "the X-dimension (module size) must be a number of millimetres from \
                         {X_MIN_MM} to {X_MAX_MM} (GS1 General Specifications, QR code with a \
                         GS1 Digital Link)"
                    ),
                })?;
        }
        if let Some(dpi) = dpi {
            o.dpi = dpi
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|v| (DPI_MIN..=DPI_MAX).contains(v))
                .ok_or_else(|| ParamError {
                    param: "dpi",
                    detail: format!(
                        "the PNG resolution must be a whole number of dots per inch from \
                         {DPI_MIN} to {DPI_MAX}"
                    ),
                })?;
        }
        Ok(o)
    }
}

/// Why a symbol could not be drawn.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QrError {
    /// The data does not fit in the largest QR code at this error correction level.
    #[error("{len} bytes do not fit in a QR code at error correction {ec:?}")]
    TooLong {
        /// The data's length.
        len: usize,
        /// The level asked for.
        ec: EcLevel,
    },
    /// The PNG encoder failed (never expected: the image is built in memory).
    #[error("PNG encoding: {0}")]
    Png(String),
}

/// A QR symbol with its quiet zone: a square of `size()` modules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbol {
    /// Modules per side, quiet zone included.
    size: usize,
    /// Dark modules, row by row, quiet zone included.
    dark: Vec<bool>,
    /// The encoded text.
    data: String,
}

impl Symbol {
    /// Encodes `data` (segment modes chosen by the encoder, the smallest version that fits).
    pub fn encode(data: &str, ec: EcLevel) -> Result<Symbol, QrError> {
        let code = qrcode::QrCode::with_error_correction_level(data.as_bytes(), ec.qrcode())
            .map_err(|_| QrError::TooLong {
                len: data.len(),
                ec,
            })?;
        let inner = code.width();
        let size = inner + 2 * QUIET_ZONE;
        let mut dark = vec![false; size * size];
        for (i, c) in code.to_colors().into_iter().enumerate() {
            let (x, y) = (i % inner, i / inner);
            dark[(y + QUIET_ZONE) * size + x + QUIET_ZONE] = c == qrcode::Color::Dark;
        }
        Ok(Symbol {
            size,
            dark,
            data: data.to_owned(),
        })
    }

    /// Modules per side, the 4-module quiet zone on each side included.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Whether the module in column `x`, row `y` (quiet zone included) is dark.
    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        x < self.size && y < self.size && self.dark[y * self.size + x]
    }

    /// The symbol as SVG: `width`/`height` in mm (`size() × x_mm`), a viewBox of one unit
    /// per module, white background, the dark modules as one path, `crispEdges`; the
    /// encoded text as its title (and accessible name).
    pub fn svg(&self, x_mm: f64) -> String {
        let n = self.size;
        let side = mm(n as f64 * x_mm);
        let text = xml_escape(&self.data);
        let mut out = String::with_capacity(256 + n * n);
        // Writing to a String cannot fail.
        let _ = write!(
            out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"{side}mm\" \
             height=\"{side}mm\" viewBox=\"0 0 {n} {n}\" shape-rendering=\"crispEdges\" \
             role=\"img\" aria-label=\"{text}\">\n<title>{text}</title>\n\
             <rect width=\"{n}\" height=\"{n}\" fill=\"#fff\"/>\n<path fill=\"#000\" d=\""
        );
        for y in 0..n {
            let mut x = 0;
            while x < n {
                if !self.is_dark(x, y) {
                    x += 1;
                    continue;
                }
                let start = x;
                while x < n && self.is_dark(x, y) {
                    x += 1;
                }
                let run = x - start;
                let _ = write!(out, "M{start} {y}h{run}v1h-{run}z");
            }
        }
        out.push_str("\"/>\n</svg>\n");
        out
    }

    /// The symbol as a 1-bit greyscale PNG: each module [`module_pixels`]`(x_mm, dpi)`
    /// pixels square, the resolution in `pHYs` (pixels per metre), so that it prints at
    /// [`png_x_dimension_mm`]`(x_mm, dpi)` per module.
    pub fn png(&self, x_mm: f64, dpi: u32) -> Result<Vec<u8>, QrError> {
        let px = module_pixels(x_mm, dpi) as usize;
        let side = self.size * px;
        let side_u32 = u32::try_from(side).map_err(|e| QrError::Png(e.to_string()))?;
        let row_bytes = side.div_ceil(8);
        let mut image = Vec::with_capacity(row_bytes * side);
        let mut row = vec![0u8; row_bytes];
        for y in 0..self.size {
            row.fill(0);
            for x in 0..self.size {
                if self.is_dark(x, y) {
                    continue;
                }
                // Light module: bits set (1 = white in greyscale).
                for p in x * px..(x + 1) * px {
                    row[p / 8] |= 0x80u8 >> (p % 8);
                }
            }
            // Padding bits past the image's right edge stay 0; decoders ignore them.
            for _ in 0..px {
                image.extend_from_slice(&row);
            }
        }
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, side_u32, side_u32);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::One);
        let per_metre = (f64::from(dpi) / MM_PER_INCH * 1000.0).round() as u32;
        encoder.set_pixel_dims(Some(png::PixelDimensions {
            xppu: per_metre,
            yppu: per_metre,
            unit: png::Unit::Meter,
        }));
        let png_err = |e: png::EncodingError| QrError::Png(e.to_string());
        let mut writer = encoder.write_header().map_err(png_err)?;
        writer.write_image_data(&image).map_err(png_err)?;
        writer.finish().map_err(png_err)?;
        Ok(out)
    }
}

/// Pixels per module for a PNG at `dpi` asked to print at `x_mm` per module: the whole
/// number of pixels closest to `x_mm` that still prints within GS1's 0.396–0.990 mm (a
/// pixel is the smallest step a printer at that resolution can make).
pub fn module_pixels(x_mm: f64, dpi: u32) -> u32 {
    let per_mm = f64::from(dpi) / MM_PER_INCH;
    let lo = (X_MIN_MM * per_mm - 1e-9).ceil().max(1.0);
    let hi = (X_MAX_MM * per_mm + 1e-9).floor().max(lo);
    (x_mm * per_mm).round().clamp(lo, hi) as u32
}

/// The X-dimension a PNG drawn with `(x_mm, dpi)` prints at, in mm.
pub fn png_x_dimension_mm(x_mm: f64, dpi: u32) -> f64 {
    f64::from(module_pixels(x_mm, dpi)) * MM_PER_INCH / f64::from(dpi)
}

/// Encodes `data` and draws it in `format` with `options`.
pub fn render(data: &str, format: Format, options: &Options) -> Result<Vec<u8>, QrError> {
    let symbol = Symbol::encode(data, options.ec)?;
    match format {
        Format::Svg => Ok(symbol.svg(options.x_mm).into_bytes()),
        Format::Png => symbol.png(options.x_mm, options.dpi),
    }
}

/// A file name for a label: the GS1 element string (`(01)…(10)…(21)…`) made safe for any
/// file system — every byte outside `A–Z a–z 0–9 ( ) - . _` written as `%XX` (so `/`, `:`,
/// `*`, `?`, `"`, `<`, `>` and `%` itself cannot reach the file system, and the name still
/// reads back to the element string) — and the format's extension.
pub fn file_name(element_string: &str, format: Format) -> String {
    let mut out = String::with_capacity(element_string.len() + 4);
    for b in element_string.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'(' | b')' | b'-' | b'.' | b'_') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out.push('.');
    out.push_str(format.extension());
    out
}

/// A length in mm with at most three decimals and no trailing zeros.
fn mm(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    const DL: &str = "https://id.example.com/01/09506000134352/21/SN%2F1";

    #[test]
    fn options_default_to_m_half_a_millimetre_and_600_dpi() {
        let o = Options::from_params(None, None, None).unwrap();
        assert_eq!(o, Options::default());
        assert_eq!((o.ec, o.x_mm, o.dpi), (EcLevel::M, 0.5, 600));
        let o = Options::from_params(Some("h"), Some("0.99"), Some("1200")).unwrap();
        assert_eq!((o.ec, o.x_mm, o.dpi), (EcLevel::H, 0.99, 1200));
    }

    #[test]
    fn out_of_range_options_are_refused_naming_the_parameter() {
        let param = |ec, x, dpi| Options::from_params(ec, x, dpi).unwrap_err().param;
        assert_eq!(param(Some("X"), None, None), "ec");
        assert_eq!(param(Some(""), None, None), "ec");
        for x in ["0.395", "0.991", "1", "-0.5", "NaN", "inf", "", "0,5"] {
            assert_eq!(param(None, Some(x), None), "x", "{x}");
        }
        for dpi in ["71", "1201", "600.0", "-600", ""] {
            assert_eq!(param(None, None, Some(dpi)), "dpi", "{dpi}");
        }
        let e = Options::from_params(None, Some("2"), None).unwrap_err();
        assert!(e.to_string().contains("0.396") && e.to_string().contains("`x`"));
    }

    #[test]
    fn module_pixels_stay_within_the_gs1_range_at_every_resolution() {
        assert_eq!(module_pixels(0.5, 600), 12);
        for dpi in DPI_MIN..=DPI_MAX {
            for x in [X_MIN_MM, 0.5, 0.75, X_MAX_MM] {
                let printed = png_x_dimension_mm(x, dpi);
                assert!(
                    (X_MIN_MM - 1e-9..=X_MAX_MM + 1e-9).contains(&printed),
                    "{x} mm at {dpi} dpi prints at {printed} mm"
                );
            }
        }
    }

    #[test]
    fn symbol_has_a_four_module_quiet_zone_and_finder_patterns() {
        let s = Symbol::encode(DL, EcLevel::M).unwrap();
        let n = s.size();
        assert_eq!((n - 2 * QUIET_ZONE - 17) % 4, 0, "a QR version's width");
        for i in 0..n {
            for q in 0..QUIET_ZONE {
                assert!(!s.is_dark(i, q) && !s.is_dark(q, i));
                assert!(!s.is_dark(i, n - 1 - q) && !s.is_dark(n - 1 - q, i));
            }
        }
        // The top-left finder pattern's corner.
        assert!(s.is_dark(QUIET_ZONE, QUIET_ZONE));
        // Higher error correction never makes a smaller symbol.
        let h = Symbol::encode(DL, EcLevel::H).unwrap();
        assert!(h.size() >= n);
    }

    #[test]
    fn svg_is_sized_in_millimetres_with_crisp_edges_and_names_the_uri() {
        let s = Symbol::encode("https://a.example/01/09506000134352?x=<&>", EcLevel::M).unwrap();
        let svg = s.svg(0.5);
        let side = mm(s.size() as f64 * 0.5);
        assert!(svg.contains(&format!("width=\"{side}mm\" height=\"{side}mm\"")));
        assert!(svg.contains("shape-rendering=\"crispEdges\""));
        assert!(svg.contains("<title>https://a.example/01/09506000134352?x=&lt;&amp;&gt;</title>"));
        assert!(svg.ends_with("</svg>\n"));
        assert_eq!(mm(14.65), "14.65");
        assert_eq!(mm(20.0), "20");
    }

    #[test]
    fn png_carries_its_resolution_and_one_bit_per_pixel() {
        let s = Symbol::encode(DL, EcLevel::M).unwrap();
        let png = s.png(0.5, 600).unwrap();
        let mut reader = png::Decoder::new(std::io::Cursor::new(&png))
            .read_info()
            .unwrap();
        let info = reader.info();
        assert_eq!(info.width as usize, s.size() * 12);
        assert_eq!(info.bit_depth, png::BitDepth::One);
        let dims = info.pixel_dims.unwrap();
        assert_eq!((dims.xppu, dims.unit), (23_622, png::Unit::Meter));
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        reader.next_frame(&mut buf).unwrap();
    }

    #[test]
    fn data_too_long_is_an_error_not_a_panic() {
        let long = "a".repeat(3000);
        assert!(matches!(
            Symbol::encode(&long, EcLevel::H),
            Err(QrError::TooLong { .. })
        ));
    }

    #[test]
    fn file_names_are_the_element_string_made_safe() {
        assert_eq!(
            file_name("(01)09506000134352(21)A/B:C", Format::Png),
            "(01)09506000134352(21)A%2FB%3AC.png"
        );
        assert_eq!(
            file_name("(01)09506000134352(10)L%1", Format::Svg),
            "(01)09506000134352(10)L%251.svg"
        );
    }
}
