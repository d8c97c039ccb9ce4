//! Latency summaries and their outputs: the text table, the CSV and the SVG plot.

use std::fmt::Write as _;

use hdrhistogram::Histogram;

/// A histogram of latencies in nanoseconds, 1 ns .. 100 s, 3 significant digits.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 100_000_000_000, 3).expect("histogram bounds")
}

/// Records a latency (saturating at the histogram's top).
pub fn record(h: &mut Histogram<u64>, d: std::time::Duration) {
    let ns = (d.as_nanos() as u64).clamp(1, h.high());
    h.record(ns).expect("clamped into range");
}

/// The percentiles the report shows, in microseconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    pub count: u64,
    pub p50_us: f64,
    pub p90_us: f64,
    pub p99_us: f64,
    pub p999_us: f64,
    pub max_us: f64,
}

impl Summary {
    pub fn of(h: &Histogram<u64>) -> Summary {
        let us = |ns: u64| ns as f64 / 1000.0;
        Summary {
            count: h.len(),
            p50_us: us(h.value_at_quantile(0.50)),
            p90_us: us(h.value_at_quantile(0.90)),
            p99_us: us(h.value_at_quantile(0.99)),
            p999_us: us(h.value_at_quantile(0.999)),
            max_us: us(h.max()),
        }
    }

    /// The four plotted percentiles in order (p50, p90, p99, p99.9).
    pub fn percentiles(&self) -> [f64; 4] {
        [self.p50_us, self.p90_us, self.p99_us, self.p999_us]
    }
}

/// One measured configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct ResultRow {
    pub engine: String,
    pub cache: String,
    pub tenants: usize,
    pub summary: Summary,
    /// Queries per second over the whole timed pass (all tenants).
    pub throughput_qps: f64,
}

pub const CSV_HEADER: &str = "engine,cache,tenants,p50_us,p90_us,p99_us,p999_us,max_us";

/// The CSV the issue asks for (`engine,cache,tenants,p50_us,...,max_us`).
pub fn to_csv(rows: &[ResultRow]) -> String {
    let mut s = String::from(CSV_HEADER);
    s.push('\n');
    for r in rows {
        let m = &r.summary;
        let _ = writeln!(
            s,
            "{},{},{},{:.1},{:.1},{:.1},{:.1},{:.1}",
            r.engine, r.cache, r.tenants, m.p50_us, m.p90_us, m.p99_us, m.p999_us, m.max_us
        );
    }
    s
}

/// A fixed-width table for stdout (and Markdown-compatible: pipes between columns).
pub fn to_table(rows: &[ResultRow]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "| {:<14} | {:<5} | {:>7} | {:>10} | {:>10} | {:>10} | {:>10} | {:>10} | {:>9} |",
        "engine", "cache", "tenants", "p50 us", "p90 us", "p99 us", "p99.9 us", "max us", "q/s"
    );
    let _ = writeln!(
        s,
        "|{:-<16}|{:-<7}|{:-<8}:|{:-<11}:|{:-<11}:|{:-<11}:|{:-<11}:|{:-<11}:|{:-<10}:|",
        "", "", "", "", "", "", "", "", ""
    );
    for r in rows {
        let m = &r.summary;
        let _ = writeln!(
            s,
            "| {:<14} | {:<5} | {:>7} | {:>10.1} | {:>10.1} | {:>10.1} | {:>10.1} | {:>10.1} | {:>9.0} |",
            r.engine,
            r.cache,
            r.tenants,
            m.p50_us,
            m.p90_us,
            m.p99_us,
            m.p999_us,
            m.max_us,
            r.throughput_qps
        );
    }
    s
}

/// Line colours per engine, in order of first appearance.
const COLOURS: [&str; 6] = [
    "#d62728", "#ff7f0e", "#1f77b4", "#2ca02c", "#9467bd", "#8c564b",
];

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The plot in the style of the paper's Figure 3: one panel per (cache setting,
/// percentile), latency on a log scale against the number of tenants, one line per
/// engine. Hand-written SVG.
pub fn to_svg(rows: &[ResultRow], title: &str) -> String {
    let mut engines: Vec<&str> = Vec::new();
    let mut caches: Vec<&str> = Vec::new();
    for r in rows {
        if !engines.contains(&r.engine.as_str()) {
            engines.push(&r.engine);
        }
        if !caches.contains(&r.cache.as_str()) {
            caches.push(&r.cache);
        }
    }
    let pct_names = ["p50", "p90", "p99", "p99.9"];
    let (pw, ph) = (260.0_f64, 200.0_f64); // plot area of one panel
    let (ml, mr, mt, mb) = (62.0, 14.0, 34.0, 42.0); // panel margins
    let top = 64.0; // title and legend
    let cols = pct_names.len();
    let width = cols as f64 * (ml + pw + mr) + 10.0;
    let height = top + caches.len().max(1) as f64 * (mt + ph + mb) + 10.0;

    let max_tenants = rows.iter().map(|r| r.tenants).max().unwrap_or(1).max(1) as f64;
    // One log range for every panel, so panels compare at a glance.
    let vals = rows
        .iter()
        .flat_map(|r| r.summary.percentiles())
        .filter(|v| *v > 0.0);
    let (mut lo, mut hi) = (f64::MAX, f64::MIN);
    for v in vals {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if lo > hi {
        (lo, hi) = (1.0, 10.0);
    }
    let lo_dec = lo.log10().floor();
    let mut hi_dec = hi.log10().ceil();
    if hi_dec <= lo_dec {
        hi_dec = lo_dec + 1.0;
    }

    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="Helvetica, Arial, sans-serif" font-size="11">"#
    );
    let _ = writeln!(
        s,
        r#"<rect x="0" y="0" width="{width:.0}" height="{height:.0}" fill="white"/>"#
    );
    let _ = writeln!(
        s,
        r#"<text x="{:.0}" y="20" text-anchor="middle" font-size="15" font-weight="bold">{}</text>"#,
        width / 2.0,
        escape(title)
    );
    // Legend.
    let legend_w = engines.len() as f64 * 150.0;
    let mut lx = (width - legend_w) / 2.0;
    for (e, name) in engines.iter().enumerate() {
        let c = COLOURS[e % COLOURS.len()];
        let _ = writeln!(
            s,
            r#"<line x1="{lx:.0}" y1="40" x2="{:.0}" y2="40" stroke="{c}" stroke-width="2.5"/><circle cx="{:.0}" cy="40" r="3.5" fill="{c}"/><text x="{:.0}" y="44">{}</text>"#,
            lx + 30.0,
            lx + 15.0,
            lx + 36.0,
            escape(name)
        );
        lx += 150.0;
    }

    for (ci, cache) in caches.iter().enumerate() {
        for (pi, pname) in pct_names.iter().enumerate() {
            let x0 = pi as f64 * (ml + pw + mr) + ml;
            let y0 = top + ci as f64 * (mt + ph + mb) + mt;
            let xs = |t: f64| x0 + t / max_tenants * pw;
            let ys = |v: f64| {
                let l = v.max(10f64.powf(lo_dec)).log10();
                y0 + ph - (l - lo_dec) / (hi_dec - lo_dec) * ph
            };
            let _ = writeln!(
                s,
                r#"<text x="{:.0}" y="{:.0}" text-anchor="middle" font-weight="bold">{} latency, {} cache</text>"#,
                x0 + pw / 2.0,
                y0 - 10.0,
                pname,
                escape(cache)
            );
            let _ = writeln!(
                s,
                r##"<rect x="{x0:.0}" y="{y0:.0}" width="{pw:.0}" height="{ph:.0}" fill="none" stroke="#333"/>"##
            );
            // Decades (and 2x, 5x minor lines).
            let mut d = lo_dec;
            while d <= hi_dec + 1e-9 {
                let y = ys(10f64.powf(d));
                let _ = writeln!(
                    s,
                    r##"<line x1="{x0:.0}" y1="{y:.1}" x2="{:.0}" y2="{y:.1}" stroke="#ccc"/><text x="{:.0}" y="{:.1}" text-anchor="end">{}</text>"##,
                    x0 + pw,
                    x0 - 4.0,
                    y + 4.0,
                    decade_label(d)
                );
                if d < hi_dec - 1e-9 {
                    for m in [2.0, 5.0] {
                        let y = ys(m * 10f64.powf(d));
                        let _ = writeln!(
                            s,
                            r##"<line x1="{x0:.0}" y1="{y:.1}" x2="{:.0}" y2="{y:.1}" stroke="#eee"/>"##,
                            x0 + pw
                        );
                    }
                }
                d += 1.0;
            }
            // Tenant ticks.
            let step = nice_step(max_tenants);
            let mut t = 0.0;
            while t <= max_tenants + 1e-9 {
                let x = xs(t);
                let _ = writeln!(
                    s,
                    r##"<line x1="{x:.1}" y1="{:.0}" x2="{x:.1}" y2="{:.0}" stroke="#333"/><text x="{x:.1}" y="{:.0}" text-anchor="middle">{t:.0}</text>"##,
                    y0 + ph,
                    y0 + ph + 4.0,
                    y0 + ph + 16.0
                );
                t += step;
            }
            let _ = writeln!(
                s,
                r#"<text x="{:.0}" y="{:.0}" text-anchor="middle">tenants</text>"#,
                x0 + pw / 2.0,
                y0 + ph + 32.0
            );
            let _ = writeln!(
                s,
                r#"<text x="{:.0}" y="{:.0}" text-anchor="middle" transform="rotate(-90 {:.0} {:.0})">latency (us, log)</text>"#,
                x0 - 46.0,
                y0 + ph / 2.0,
                x0 - 46.0,
                y0 + ph / 2.0
            );
            for (e, engine) in engines.iter().enumerate() {
                let c = COLOURS[e % COLOURS.len()];
                let mut pts: Vec<(f64, f64)> = rows
                    .iter()
                    .filter(|r| r.engine == *engine && r.cache == *cache)
                    .map(|r| (r.tenants as f64, r.summary.percentiles()[pi]))
                    .collect();
                pts.sort_by(|a, b| a.0.total_cmp(&b.0));
                if pts.is_empty() {
                    continue;
                }
                let path: Vec<String> = pts
                    .iter()
                    .map(|(t, v)| format!("{:.1},{:.1}", xs(*t), ys(*v)))
                    .collect();
                let _ = writeln!(
                    s,
                    r#"<polyline points="{}" fill="none" stroke="{c}" stroke-width="2"/>"#,
                    path.join(" ")
                );
                for (t, v) in &pts {
                    let _ = writeln!(
                        s,
                        r#"<circle cx="{:.1}" cy="{:.1}" r="2.8" fill="{c}"><title>{} {} {} tenants: {:.1} us</title></circle>"#,
                        xs(*t),
                        ys(*v),
                        escape(engine),
                        pname,
                        t,
                        v
                    );
                }
            }
        }
    }
    s.push_str("</svg>\n");
    s
}

fn decade_label(d: f64) -> String {
    let v = 10f64.powf(d);
    if v >= 1_000_000.0 {
        format!("{:.0}s", v / 1_000_000.0)
    } else if v >= 1000.0 {
        format!("{:.0}ms", v / 1000.0)
    } else if v >= 1.0 {
        format!("{v:.0}us")
    } else {
        format!("{v}us")
    }
}

fn nice_step(max: f64) -> f64 {
    for s in [
        1.0, 2.0, 5.0, 10.0, 20.0, 25.0, 50.0, 100.0, 200.0, 500.0, 1000.0,
    ] {
        if max / s <= 6.0 {
            return s;
        }
    }
    (max / 5.0).ceil()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(engine: &str, cache: &str, tenants: usize, base: f64) -> ResultRow {
        ResultRow {
            engine: engine.into(),
            cache: cache.into(),
            tenants,
            summary: Summary {
                count: 10,
                p50_us: base,
                p90_us: base * 2.0,
                p99_us: base * 4.0,
                p999_us: base * 8.0,
                max_us: base * 16.0,
            },
            throughput_qps: 1000.0,
        }
    }

    #[test]
    fn csv_has_header_and_one_line_per_row() {
        let rows = vec![
            row("strata", "warm", 1, 10.0),
            row("sqlite-pool", "cold", 10, 20.5),
        ];
        let csv = to_csv(&rows);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], CSV_HEADER);
        assert_eq!(lines[1], "strata,warm,1,10.0,20.0,40.0,80.0,160.0");
        assert_eq!(lines[2], "sqlite-pool,cold,10,20.5,41.0,82.0,164.0,328.0");
        assert_eq!(lines.len(), 3);
    }

    #[test]
    fn svg_is_well_formed_with_a_line_per_engine_and_panel() {
        let mut rows = Vec::new();
        for e in ["sqlite-threads", "sqlite-pool", "strata"] {
            for c in ["warm", "cold"] {
                for t in [1, 10, 100] {
                    rows.push(row(e, c, t, t as f64 * 3.0));
                }
            }
        }
        let svg = to_svg(&rows, "test <plot>");
        assert!(svg.starts_with("<svg"));
        assert!(svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("test &lt;plot&gt;"));
        // 3 engines x 2 caches x 4 percentiles.
        assert_eq!(svg.matches("<polyline").count(), 24);
        assert_eq!(svg.matches("<circle").count(), 24 * 3 + 3);
        assert_eq!(svg.matches('<').count(), svg.matches('>').count());
    }

    #[test]
    fn summary_reads_the_histogram_in_microseconds() {
        let mut h = new_histogram();
        for i in 1..=1000u64 {
            h.record(i * 1000).unwrap();
        }
        let s = Summary::of(&h);
        assert_eq!(s.count, 1000);
        assert!((s.p50_us - 500.0).abs() < 1.0, "{s:?}");
        assert!((s.p99_us - 990.0).abs() < 2.0, "{s:?}");
        assert!((s.max_us - 1000.0).abs() < 1.0, "{s:?}");
    }
}
