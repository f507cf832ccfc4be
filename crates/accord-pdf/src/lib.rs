//! Accord's reports as PDF (DESIGN 4: `accord report --format pdf`): the report as
//! people read it ([`accord_core::report::view`]), typeset by typst from a built-in
//! template, with the core's SVG charts. Fonts come from the machine (Debian's
//! `fonts-dejavu-core`); nothing is downloaded at build or run time.

use std::path::{Path, PathBuf};

use accord_core::report::{Report, view};
use typst::foundations::{Dict, IntoValue, Str};
use typst_as_lib::TypstEngine;
use typst_layout::PagedDocument;

const TEMPLATE: &str = include_str!("../templates/report.typ");
const REVIEW_TEMPLATE: &str = include_str!("../templates/review.typ");

/// Where Debian's `fonts-dejavu-core` puts its fonts.
pub const DEFAULT_FONT_DIR: &str = "/usr/share/fonts/truetype/dejavu";

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error(
        "no fonts in {0}: install Debian's fonts-dejavu-core (or set ACCORD_FONT_DIR to a directory of .ttf files)"
    )]
    NoFonts(String),
    #[error("the report did not typeset: {0}")]
    Typeset(String),
    #[error("the PDF could not be written: {0}")]
    Pdf(String),
}

/// The font directory: `ACCORD_FONT_DIR` when set, else Debian's DejaVu.
pub fn font_dir(env: Option<String>) -> PathBuf {
    env.map_or_else(|| PathBuf::from(DEFAULT_FONT_DIR), PathBuf::from)
}

/// Every `.ttf` and `.otf` file of a directory.
pub fn fonts(dir: &Path) -> Result<Vec<Vec<u8>>, PdfError> {
    let entries =
        std::fs::read_dir(dir).map_err(|_| PdfError::NoFonts(dir.display().to_string()))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| e.eq_ignore_ascii_case("ttf") || e.eq_ignore_ascii_case("otf"))
        })
        .collect();
    paths.sort();
    let fonts: Vec<Vec<u8>> = paths.iter().filter_map(|p| std::fs::read(p).ok()).collect();
    if fonts.is_empty() {
        return Err(PdfError::NoFonts(dir.display().to_string()));
    }
    Ok(fonts)
}

/// The report as a PDF document.
pub fn render(report: &Report, fonts: Vec<Vec<u8>>) -> Result<Vec<u8>, PdfError> {
    typeset(TEMPLATE, &view::report(report), fonts)
}

/// The review document of one customer (or of every agreement) as a PDF document.
pub fn render_review(
    report: &Report,
    customer: Option<&str>,
    customer_name: Option<&str>,
    fonts: Vec<Vec<u8>>,
) -> Result<Vec<u8>, PdfError> {
    typeset(
        REVIEW_TEMPLATE,
        &view::review(report, customer, customer_name),
        fonts,
    )
}

/// A built-in template typeset with a view as its `data` input.
fn typeset(
    template: &'static str,
    view: &serde_json::Value,
    fonts: Vec<Vec<u8>>,
) -> Result<Vec<u8>, PdfError> {
    let data = view.to_string();
    let engine = TypstEngine::builder()
        .main_file(template)
        .fonts(fonts)
        .build();
    let mut inputs = Dict::new();
    inputs.insert("data".into(), Str::from(data.as_str()).into_value());
    let document: PagedDocument = engine
        .compile_with_input(inputs)
        .output
        .map_err(|e| PdfError::Typeset(e.to_string()))?;
    typst_pdf::pdf(&document, &typst_pdf::PdfOptions::default())
        .map_err(|e| PdfError::Pdf(format!("{e:?}")))
}
