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
        assert_eq!(percent(0.99875), "99.875%");
    }
}
