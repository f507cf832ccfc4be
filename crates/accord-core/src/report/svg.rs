//! Small SVG charts for reports, drawn by hand (no chart library): horizontal bars of a
//! result against its target.

/// One bar: a result (a share, 0–1) and its target.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub label: String,
    pub value: Option<f64>,
    pub target: Option<f64>,
    pub achieved: Option<bool>,
}

/// Escapes text for XML and HTML.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const LABEL_WIDTH: f64 = 200.0;
const PLOT_WIDTH: f64 = 300.0;
const ROW: f64 = 26.0;

/// Bars of results against targets. The scale starts at the lowest value or target
/// (rounded down to 5 %, less a margin), so 99.5 % and 99.9 % do not look the same.
pub fn bar_chart(bars: &[Bar]) -> String {
    let lowest = bars
        .iter()
        .flat_map(|b| [b.value, b.target])
        .flatten()
        .fold(1.0_f64, f64::min);
    let lo = ((lowest - 0.05).max(0.0) * 20.0).floor() / 20.0;
    let x = |v: f64| LABEL_WIDTH + (v.clamp(lo, 1.0) - lo) / (1.0 - lo).max(1e-9) * PLOT_WIDTH;
    let height = ROW * bars.len() as f64 + 24.0;
    let width = LABEL_WIDTH + PLOT_WIDTH + 70.0;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" role=\"img\" font-family=\"sans-serif\" font-size=\"12\">"
    );
    for (i, bar) in bars.iter().enumerate() {
        let y = i as f64 * ROW + 4.0;
        out.push_str(&format!(
            "<text x=\"0\" y=\"{:.1}\">{}</text>",
            y + 15.0,
            escape(&bar.label)
        ));
        let colour = match bar.achieved {
            Some(true) => "#2e7d32",
            Some(false) => "#c62828",
            None => "#9e9e9e",
        };
        if let Some(v) = bar.value {
            out.push_str(&format!(
                "<rect x=\"{LABEL_WIDTH}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"18\" fill=\"{colour}\"><title>{:.3}%</title></rect>",
                x(v) - LABEL_WIDTH,
                v * 100.0
            ));
            out.push_str(&format!(
                "<text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                LABEL_WIDTH + PLOT_WIDTH + 6.0,
                y + 15.0,
                percent(v)
            ));
        } else {
            out.push_str(&format!(
                "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"#757575\">no data</text>",
                LABEL_WIDTH + 4.0,
                y + 15.0
            ));
        }
        if let Some(t) = bar.target {
            let tx = x(t);
            out.push_str(&format!(
                "<line x1=\"{tx:.1}\" x2=\"{tx:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#000\" stroke-width=\"2\"><title>target {}</title></line>",
                y - 2.0,
                y + 20.0,
                percent(t)
            ));
        }
    }
    let axis_y = ROW * bars.len() as f64 + 18.0;
    out.push_str(&format!(
        "<text x=\"{LABEL_WIDTH}\" y=\"{axis_y:.1}\" fill=\"#757575\">{}</text>\
         <text x=\"{:.1}\" y=\"{axis_y:.1}\" fill=\"#757575\" text-anchor=\"end\">100%</text></svg>",
        percent(lo),
        LABEL_WIDTH + PLOT_WIDTH
    ));
    out
}

/// One line of a [`line_chart`]: a result (a share) per period, `None` without data.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub label: String,
    pub points: Vec<Option<f64>>,
}

const COLOURS: [&str; 6] = [
    "#1565c0", "#ef6c00", "#6a1b9a", "#2e7d32", "#ad1457", "#00838f",
];

/// Results over periods (oldest first, `periods` naming them), a line per series; the
/// scale starts as in [`bar_chart`]. A gap in the data breaks the line.
pub fn line_chart(periods: &[String], series: &[Series]) -> String {
    let lowest = series
        .iter()
        .flat_map(|s| s.points.iter().flatten())
        .fold(1.0_f64, |a, &b| a.min(b));
    let lo = ((lowest - 0.05).max(0.0) * 20.0).floor() / 20.0;
    let (left, top, plot_w, plot_h) = (50.0, 10.0, 420.0, 160.0);
    let step = plot_w / (periods.len().max(2) - 1) as f64;
    let x = |i: usize| left + i as f64 * step;
    let y = |v: f64| top + plot_h - (v.clamp(lo, 1.0) - lo) / (1.0 - lo).max(1e-9) * plot_h;
    let legend_y = top + plot_h + 40.0;
    let height = legend_y + 18.0 * series.len() as f64;
    let width = left + plot_w + 40.0;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" role=\"img\" font-family=\"sans-serif\" font-size=\"12\">"
    );
    for (v, label) in [(lo, percent(lo)), (1.0, "100%".to_owned())] {
        out.push_str(&format!(
            "<line x1=\"{left}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#bdbdbd\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" fill=\"#757575\" text-anchor=\"end\">{label}</text>",
            left + plot_w,
            y(v),
            y(v),
            left - 4.0,
            y(v) + 4.0
        ));
    }
    for (i, p) in periods.iter().enumerate() {
        out.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"#757575\" text-anchor=\"middle\">{}</text>",
            x(i),
            top + plot_h + 18.0,
            escape(p)
        ));
    }
    for (k, s) in series.iter().enumerate() {
        let colour = COLOURS[k % COLOURS.len()];
        let mut run: Vec<String> = Vec::new();
        let flush = |run: &mut Vec<String>, out: &mut String| {
            if run.len() > 1 {
                out.push_str(&format!(
                    "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>",
                    run.join(" ")
                ));
            }
            run.clear();
        };
        for (i, point) in s.points.iter().enumerate() {
            match point {
                Some(v) => {
                    run.push(format!("{:.1},{:.1}", x(i), y(*v)));
                    out.push_str(&format!(
                        "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{colour}\"><title>{}: {}</title></circle>",
                        x(i),
                        y(*v),
                        escape(&s.label),
                        percent(*v)
                    ));
                }
                None => flush(&mut run, &mut out),
            }
        }
        flush(&mut run, &mut out);
        let ly = legend_y + 18.0 * k as f64;
        out.push_str(&format!(
            "<rect x=\"{left}\" y=\"{:.1}\" width=\"12\" height=\"4\" fill=\"{colour}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            ly - 6.0,
            left + 18.0,
            ly,
            escape(&s.label)
        ));
    }
    out.push_str("</svg>");
    out
}

/// Counts as horizontal bars (breaches by priority, by cause), in the order given.
pub fn count_chart(counts: &[(String, u64)]) -> String {
    let bars: Vec<(String, f64, String)> = counts
        .iter()
        .map(|(label, n)| (label.clone(), *n as f64, n.to_string()))
        .collect();
    value_chart(&bars)
}

/// Amounts (credits owed) as horizontal bars, each labelled `750.00 USD`.
pub fn amount_chart(amounts: &[(String, f64, String)]) -> String {
    let bars: Vec<(String, f64, String)> = amounts
        .iter()
        .map(|(label, v, currency)| (label.clone(), *v, format!("{v:.2} {currency}")))
        .collect();
    value_chart(&bars)
}

/// Bars of (label, value, text) scaled to the largest value.
fn value_chart(counts: &[(String, f64, String)]) -> String {
    let most = counts.iter().map(|c| c.1).fold(0.0_f64, f64::max);
    let most = if most > 0.0 { most } else { 1.0 };
    let height = ROW * counts.len().max(1) as f64 + 8.0;
    let width = LABEL_WIDTH + PLOT_WIDTH + 70.0;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" role=\"img\" font-family=\"sans-serif\" font-size=\"12\">"
    );
    if counts.is_empty() {
        out.push_str("<text x=\"0\" y=\"19\" fill=\"#757575\">none</text>");
    }
    for (i, (label, v, n)) in counts.iter().enumerate() {
        let y = i as f64 * ROW + 4.0;
        let w = v / most * PLOT_WIDTH;
        out.push_str(&format!(
            "<text x=\"0\" y=\"{:.1}\">{}</text>\
             <rect x=\"{LABEL_WIDTH}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"18\" fill=\"#c62828\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\">{n}</text>",
            y + 15.0,
            escape(label),
            LABEL_WIDTH + w + 6.0,
            y + 15.0
        ));
    }
    out.push_str("</svg>");
    out
}

/// `0.99875` → `99.875%` (at most three decimals, no trailing zeros).
pub fn percent(share: f64) -> String {
    let text = format!("{:.3}", share * 100.0);
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text}%")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_show_results_targets_and_escape_labels() {
        let svg = bar_chart(&[
            Bar {
                label: "uptime <email>".into(),
                value: Some(0.9934),
                target: Some(0.999),
                achieved: Some(false),
            },
            Bar {
                label: "first response".into(),
                value: None,
                target: Some(0.9),
                achieved: None,
            },
        ]);
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.contains("uptime &lt;email&gt;"));
        assert!(svg.contains("99.34%"));
        assert!(svg.contains("target 99.9%"));
        assert!(svg.contains("no data"));
        assert!(svg.contains("#c62828"), "a missed target is red");
        // The scale starts at 85 % (the lowest figure, 90 %, less 5 %).
        assert!(svg.contains(">85%</text>"), "{svg}");
        assert_eq!(percent(0.9), "90%");

        // A line per objective over the periods; a gap breaks it.
        let periods: Vec<String> = ["Jul", "Aug", "Sep", "Oct"].map(String::from).to_vec();
        let svg = line_chart(
            &periods,
            &[
                Series {
                    label: "first <response>".into(),
                    points: vec![Some(0.9), Some(0.95), None, Some(1.0)],
                },
                Series {
                    label: "uptime".into(),
                    points: vec![None, None, Some(0.999), Some(0.998)],
                },
            ],
        );
        assert!(svg.contains("first &lt;response&gt;"));
        assert_eq!(svg.matches("<polyline").count(), 2, "{svg}");
        assert_eq!(svg.matches("<circle").count(), 5);
        assert!(svg.contains(">Oct</text>") && svg.contains("uptime: 99.8%"));
        let bars = count_chart(&[("P1".into(), 4), ("staffing & shifts".into(), 2)]);
        assert!(bars.contains(">4</text>") && bars.contains("staffing &amp; shifts"));
        assert!(count_chart(&[]).contains(">none</text>"));
        let credits = amount_chart(&[("gold · uptime".into(), 750.0, "USD".into())]);
        assert!(credits.contains(">750.00 USD</text>") && credits.contains("width=\"300.0\""));
        assert_eq!(percent(0.99875), "99.875%");
    }
}
