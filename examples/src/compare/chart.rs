//! The SVG chart: one horizontal bar chart per panel, stacked, written by hand.

use core::fmt::Write as _;

use super::report::{Panel, sig3};

const WIDTH: f64 = 920.0;
const LABEL_WIDTH: f64 = 290.0;
const BAR_AREA: f64 = 480.0;
const BAR_HEIGHT: f64 = 18.0;
const BAR_GAP: f64 = 6.0;
const PANEL_TITLE: f64 = 30.0;
const PANEL_GAP: f64 = 18.0;
const MARGIN: f64 = 16.0;

/// The colour of our bars, the floor's, and everyone else's.
const OURS: &str = "#d95f02";
const FLOOR: &str = "#9e9e9e";
const PEER: &str = "#5e6fb0";

/// Renders the panels as one SVG document, titled `title`, with `subtitle` under it.
pub(crate) fn render(title: &str, subtitle: &str, panels: &[&Panel]) -> String {
    let body_height: f64 = panels.iter().map(|p| panel_height(p) + PANEL_GAP).sum();
    let height = MARGIN * 2.0 + 44.0 + body_height;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        concat!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" "#,
            r#"viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">"#
        ),
        width = WIDTH,
        height = height,
    );
    let _ = writeln!(svg, r##"<rect width="100%" height="100%" fill="#ffffff"/>"##);
    let _ = writeln!(
        svg,
        r#"<text x="{MARGIN}" y="{}" font-size="16" font-weight="bold">{}</text>"#,
        MARGIN + 14.0,
        escape(title)
    );
    let _ = writeln!(
        svg,
        r##"<text x="{MARGIN}" y="{}" fill="#555555">{}</text>"##,
        MARGIN + 32.0,
        escape(subtitle)
    );
    let mut y = MARGIN + 44.0;
    for panel in panels {
        draw_panel(&mut svg, panel, y);
        y += panel_height(panel) + PANEL_GAP;
    }
    svg.push_str("</svg>\n");
    svg
}

fn panel_height(panel: &Panel) -> f64 {
    PANEL_TITLE + panel.bars.len() as f64 * (BAR_HEIGHT + BAR_GAP)
}

fn draw_panel(svg: &mut String, panel: &Panel, top: f64) {
    let _ = writeln!(
        svg,
        r#"<text x="{MARGIN}" y="{}" font-size="13" font-weight="bold">{}</text>"#,
        top + 18.0,
        escape(&panel.title)
    );
    let max = panel.bars.iter().map(|(_, v)| *v).filter(|v| v.is_finite()).fold(0.0_f64, f64::max);
    let scale = if max > 0.0 { BAR_AREA / max } else { 0.0 };
    let left = MARGIN + LABEL_WIDTH;
    for (i, (label, value)) in panel.bars.iter().enumerate() {
        let y = top + PANEL_TITLE + i as f64 * (BAR_HEIGHT + BAR_GAP);
        let colour = if label.starts_with("rcu-runtime") {
            OURS
        } else if label.contains("floor") {
            FLOOR
        } else {
            PEER
        };
        let width = if value.is_finite() { (value * scale).max(1.0) } else { 0.0 };
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
            left - 8.0,
            y + BAR_HEIGHT - 5.0,
            escape(label)
        );
        let _ = writeln!(
            svg,
            r#"<rect x="{left}" y="{y}" width="{width:.1}" height="{BAR_HEIGHT}" fill="{colour}"/>"#
        );
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{}">{} {}</text>"#,
            left + width + 6.0,
            y + BAR_HEIGHT - 5.0,
            sig3(*value),
            escape(&panel.unit)
        );
    }
}

/// Escapes the characters that XML text cannot hold as they are.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_value_and_labels_are_escaped() {
        let panel = Panel {
            title: "read side".into(),
            unit: "ns".into(),
            bars: vec![("rcu-runtime Rcu".into(), 1.0), ("RwLock<Arc<T>>::read".into(), 2.0)],
        };
        let svg = render("t", "s", &[&panel]);
        assert!(svg.starts_with("<svg"));
        assert!(svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains(&format!(r#"width="{:.1}""#, BAR_AREA)), "the largest bar fills the area");
        assert!(svg.contains(&format!(r#"width="{:.1}""#, BAR_AREA / 2.0)));
        assert!(svg.contains("RwLock&lt;Arc&lt;T&gt;&gt;::read"));
        assert!(svg.contains(OURS));
    }
}
