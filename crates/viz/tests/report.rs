//! The HTML report: sections with a table of contents, escaped text, tables, claims, figures.

use synod_viz::{Plot, Report, Series};

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn sample() -> String {
    let plot = Plot::new("p", "x", "y").series(Series::line("s", vec![(0.0, 1.0), (1.0, 2.0)]));
    let mut r = Report::new("Report <title> & co");
    r.paragraph("Intro with <script>alert(1)</script> & friends.\n\nSecond paragraph.")
        .section("Model & setup")
        .subheading("Header <h3>")
        .preformatted("n = 3\nf < n/2 && loss = 1%\n")
        .section("Results")
        .table(
            &strings(&["seed", "latency", "note"]),
            &[
                strings(&["1", "12.5ms", "ok"]),
                strings(&["2", "13ms", "a<b"]),
            ],
        )
        .svg(&format!("<?xml version=\"1.0\"?>\n{}", plot.to_svg()))
        .section("Claims")
        .claim("agreement", "HOLDS")
        .claim("termination", "VIOLATED as expected")
        .claim("validity <x>", "UNEXPECTED");
    r.to_html()
}

#[test]
fn sections_are_listed_in_the_table_of_contents() {
    let html = sample();
    assert!(html.starts_with("<!DOCTYPE html>"));
    for (anchor, heading) in [
        ("s1-model-setup", "Model &amp; setup"),
        ("s2-results", "Results"),
        ("s3-claims", "Claims"),
    ] {
        assert!(
            html.contains(&format!("<a href=\"#{anchor}\">{heading}</a>")),
            "{anchor}"
        );
        assert!(
            html.contains(&format!("<section id=\"{anchor}\">\n<h2>{heading}</h2>")),
            "{anchor}"
        );
    }
    assert_eq!(
        html.matches("<section").count(),
        html.matches("</section>").count()
    );
    assert!(html.find("<nav").unwrap() < html.find("<section").unwrap());
    assert!(html.contains("<h3>Header &lt;h3&gt;</h3>"));
}

#[test]
fn text_is_escaped_everywhere() {
    let html = sample();
    assert!(html.contains("<title>Report &lt;title&gt; &amp; co</title>"));
    assert!(html.contains("<h1>Report &lt;title&gt; &amp; co</h1>"));
    assert!(html.contains("<p>Intro with &lt;script&gt;alert(1)&lt;/script&gt; &amp; friends.</p>"));
    assert!(html.contains("<p>Second paragraph.</p>"));
    assert!(html.contains("<pre>n = 3\nf &lt; n/2 &amp;&amp; loss = 1%</pre>"));
    assert!(html.contains("<td>a&lt;b</td>"));
    assert!(!html.contains("<script"));
}

#[test]
fn tables_align_numeric_columns() {
    let html = sample();
    assert!(html.contains("<th class=\"num\">seed</th><th class=\"num\">latency</th><th>note</th>"));
    assert!(html.contains("<td class=\"num\">12.5ms</td>"));
}

#[test]
fn claims_get_colored_badges() {
    let html = sample();
    assert!(html.contains(
        "<div class=\"claim holds\"><span class=\"badge\">HOLDS</span><span>agreement</span></div>"
    ));
    assert!(html.contains(
        "<div class=\"claim expected\"><span class=\"badge\">VIOLATED as expected</span>"
    ));
    assert!(html.contains("<div class=\"claim unexpected\"><span class=\"badge\">UNEXPECTED</span><span>validity &lt;x&gt;</span>"));
}

#[test]
fn svg_is_inlined_in_a_scrolling_figure_without_its_xml_declaration() {
    let html = sample();
    assert!(html.contains("<div class=\"figure\"><svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(!html.contains("<?xml"));
    assert!(html.contains(".figure{overflow-x:auto"));
    assert!(
        !html.contains("http://") || !html.contains("src="),
        "no external resources"
    );
}

#[test]
fn an_empty_report_is_still_a_page() {
    let html = Report::new("Empty").to_html();
    assert!(html.contains("<h1>Empty</h1>"));
    assert!(!html.contains("<nav"));
    assert!(html.trim_end().ends_with("</html>"));
}
