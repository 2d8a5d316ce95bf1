//! Plots parse as SVG on linear and log axes, and survive empty or degenerate data.

use synod_viz::plot::{Plot, Series, SeriesStyle};

fn parse(svg: &str) -> roxmltree::Document<'_> {
    roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("SVG is not well-formed: {e}\n{svg}"))
}

/// Tooltips on data points (circles with a `<title>`).
fn point_tooltips(doc: &roxmltree::Document<'_>) -> Vec<String> {
    doc.descendants()
        .filter(|n| n.has_tag_name("circle"))
        .filter_map(|c| c.children().find(|t| t.has_tag_name("title")))
        .filter_map(|t| t.text().map(str::to_string))
        .collect()
}

fn tick_labels(doc: &roxmltree::Document<'_>) -> Vec<String> {
    doc.descendants()
        .filter(|n| n.attribute("class") == Some("sp-tick"))
        .filter_map(|n| n.text().map(str::to_string))
        .collect()
}

fn sample() -> Plot {
    Plot::new("Latency <p99> & more", "load", "ms")
        .series(Series::line("a", vec![(0.0, 1.0), (1.0, 3.0), (2.0, 2.5)]))
        .series(Series::scatter("b & c", vec![(0.5, 0.2), (1.5, 4.1)]))
        .series(Series::new(
            "d",
            vec![(2.0, 2.0)],
            SeriesStyle::LineWithPoints,
        ))
}

#[test]
fn linear_plot_parses_with_ticks_legend_and_tooltips() {
    let svg = sample().to_svg();
    let doc = parse(&svg);
    assert_eq!(
        doc.root_element().tag_name().namespace(),
        Some("http://www.w3.org/2000/svg")
    );
    assert!(svg.contains("Latency &lt;p99&gt; &amp; more"));
    let tips = point_tooltips(&doc);
    assert_eq!(tips.len(), 6, "every point has a tooltip: {tips:?}");
    assert!(tips.contains(&"b & c: x = 1.5, y = 4.1".to_string()));
    let legend: Vec<&str> = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("sp-leg"))
        .filter_map(|n| n.text())
        .collect();
    assert_eq!(legend, vec!["a", "b & c", "d"]);
    assert_eq!(
        tick_labels(&doc),
        vec!["0.0", "0.5", "1.0", "1.5", "2.0", "0", "1", "2", "3", "4", "5"]
    );
}

#[test]
fn log_plot_ticks_are_decades_and_bad_points_are_skipped() {
    let plot = Plot::new("Messages", "n", "count")
        .series(Series::line_with_points(
            "n²",
            vec![
                (1.0, 1.0),
                (10.0, 100.0),
                (100.0, 10_000.0),
                (0.0, 5.0),
                (-3.0, 2.0),
            ],
        ))
        .series(Series::scatter(
            "nan",
            vec![(f64::NAN, 1.0), (5.0, f64::INFINITY)],
        ))
        .log_axes(true, true);
    let svg = plot.to_svg();
    let doc = parse(&svg);
    assert_eq!(point_tooltips(&doc).len(), 3);
    let ticks = tick_labels(&doc);
    // Two decades on x: 2× and 5× ticks join the powers of ten; four on y: decades only.
    let expected = [
        "1", "2", "5", "10", "20", "50", "100", "1", "10", "100", "1000", "10000",
    ];
    assert_eq!(ticks, expected);
    assert!(svg.contains("4 point(s) not shown"));
}

#[test]
fn empty_and_degenerate_plots_do_not_panic() {
    let no_series = Plot::new("Nothing", "x", "y");
    assert!(parse(&no_series.to_svg())
        .descendants()
        .any(|n| n.text() == Some("no data")));

    let empty_series = Plot::new("Empty", "x", "y").series(Series::line("none", vec![]));
    parse(&empty_series.to_svg());

    let all_bad = Plot::new("Bad", "x", "y")
        .series(Series::scatter(
            "bad",
            vec![(f64::NAN, f64::NAN), (f64::NEG_INFINITY, 1.0)],
        ))
        .log_axes(true, false);
    assert!(all_bad.to_svg().contains("no data"));

    let flat =
        Plot::new("Flat", "x", "y").series(Series::line("one", vec![(3.0, 7.0), (3.0, 7.0)]));
    let doc_svg = flat.to_svg();
    assert!(!doc_svg.contains("NaN") && !doc_svg.contains("inf"));
    parse(&doc_svg);

    let zeros = Plot::new("Zero", "x", "y").series(Series::scatter("z", vec![(0.0, 0.0)]));
    parse(&zeros.to_svg());

    let huge = Plot::new("Huge", "x", "y")
        .series(Series::line("big", vec![(1e-12, -1e300), (1e12, 1e300)]))
        .size(10, 10);
    parse(&huge.to_svg());

    let empty_log = Plot::new("Empty log", "x", "y")
        .series(Series::line("none", vec![]))
        .log_axes(true, true);
    parse(&empty_log.to_svg());
}

#[test]
fn many_series_get_distinct_colors() {
    let mut plot = Plot::new("Many", "x", "y");
    for k in 0..10 {
        plot = plot.series(Series::line(
            &format!("s{k}"),
            vec![(0.0, k as f64), (1.0, k as f64 + 1.0)],
        ));
    }
    let svg = plot.to_svg();
    let doc = parse(&svg);
    let colors: std::collections::BTreeSet<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("polyline"))
        .filter_map(|n| n.attribute("stroke"))
        .collect();
    assert_eq!(colors.len(), 10);
}
