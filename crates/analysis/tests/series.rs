//! A series of analyses over training: its CSV holds the points' metrics in
//! the series' convention with empty cells for undefined values, only the
//! tracked columns, and its figure one panel per tracked quantity; the
//! analysis behind each point has the same bits on one thread as on two.

use analysis::series::{Point, Series, Tracked};
use analysis::{Analysis, Exponent, Inputs, Options};
use faer::Mat;
use metrics::Similarity;
use networks::{Activation, Architecture, Sequential};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

struct Run {
    net: Sequential,
    steps: Vec<Vec<Mat<f64>>>,
    x: Mat<f64>,
    y: Mat<f64>,
}

/// A ReLU MLP 5 → 7 → 6 → 3 at three steps: the initial weights, then two
/// perturbations of them.
fn run() -> Run {
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    let widths = [5, 7, 6, 3];
    let arch = Architecture::new(widths.to_vec(), Activation::Relu);
    let w0: Vec<Mat<f64>> = (0..3)
        .map(|l| common::gaussian_matrix(widths[l + 1], widths[l], &mut rng))
        .collect();
    let mut steps = vec![w0.clone()];
    for t in 1..3 {
        steps.push(
            w0.iter()
                .map(|w| {
                    let d = common::gaussian_matrix(w.nrows(), w.ncols(), &mut rng);
                    w + d * faer::Scale(0.1 * t as f64)
                })
                .collect(),
        );
    }
    Run {
        net: Sequential::from_mlp(&arch).unwrap(),
        steps,
        x: common::gaussian_matrix(20, 5, &mut rng),
        y: common::gaussian_matrix(20, 3, &mut rng),
    }
}

fn analyse(r: &Run, params: &[Mat<f64>], labels: bool) -> Analysis {
    analysis::analyse(
        Inputs {
            net: &r.net,
            params,
            init: Some(&r.steps[0]),
            x: r.x.as_ref(),
            y: labels.then(|| r.y.as_ref()),
        },
        &Options::default(),
    )
    .unwrap()
}

fn series(r: &Run, tracked: Tracked, labels: bool) -> Series {
    let mut s = Series::new(r.net.clone(), Similarity::Pearson, tracked);
    for (t, params) in r.steps.iter().enumerate() {
        let names = (1..=3).map(|l| (format!("{l}.weight"), None)).collect();
        s.points.push(Point::new(
            t as f64,
            None,
            analyse(r, params, labels),
            names,
        ));
    }
    s
}

fn csv(s: &Series) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    s.write_csv(&mut out).unwrap();
    // The reader takes the first line as the header.
    csv::Reader::from_reader(out.as_slice())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

fn header(s: &Series) -> Vec<String> {
    let mut out = Vec::new();
    s.write_csv(&mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    text.lines()
        .next()
        .unwrap()
        .split(',')
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_csv_holds_each_point_in_the_series_convention() {
    let r = run();
    let s = series(&r, Tracked::ALL, true);
    let head = header(&s);
    let column = |name: &str| head.iter().position(|h| h == name).unwrap();
    let rows = csv(&s);
    assert_eq!(rows.len(), 3);
    for (row, point) in rows.iter().zip(&s.points) {
        for (l, m) in point.layers.iter().enumerate() {
            let cell = |name: &str| row[column(&format!("{name}_{}", l + 1))].clone();
            let expect = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
            let kind = Similarity::Pearson;
            assert_eq!(
                cell("nfa"),
                expect(m.nfa(kind, Exponent::One).and_then(|v| v.number()))
            );
            assert_eq!(
                cell("uc_nfa"),
                expect(m.uc_nfa(kind).and_then(|v| v.number()))
            );
            assert_eq!(
                cell("c_nfa"),
                expect(m.c_nfa(kind).and_then(|v| v.number()))
            );
            assert_eq!(cell("alpha_hat"), expect(m.alpha_hat.alpha()));
        }
        let ntk = point.ntk.as_ref().unwrap();
        let mean = ntk
            .alignment
            .iter()
            .map(|v| v.number().unwrap())
            .sum::<f64>()
            / 3.0;
        assert_eq!(row[column("ntk_alignment")], mean.to_string());
    }
    // At the initial weights ΔW = 0: every C-NFA cell is empty.
    for l in 1..=3 {
        assert_eq!(rows[0][column(&format!("c_nfa_{l}"))], "");
        assert!(!rows[1][column(&format!("c_nfa_{l}"))].is_empty());
    }
    let json = serde_json::to_value(s.json()).unwrap();
    assert_eq!(json["similarity"], "pearson");
    assert_eq!(json["points"][2]["step"], 2.0);
    assert_eq!(json["points"][2]["layers"][0]["tensor"], "1.weight");
}

#[test]
fn only_tracked_columns_and_panels_are_written() {
    let r = run();
    let tracked = Tracked::from_names(["uc_nfa", "alpha", "ntk"]).unwrap();
    // `ntk` is tracked, but without labels there is nothing to write.
    let s = series(&r, tracked, false);
    assert_eq!(
        header(&s),
        [
            "step",
            "checkpoint",
            "alpha_hat_1",
            "alpha_hat_2",
            "alpha_hat_3",
            "uc_nfa_1",
            "uc_nfa_2",
            "uc_nfa_3"
        ]
    );
    let plot = s.figure();
    assert_eq!(plot.panels.len(), 2);
    assert!(plot.panels[0].y.label.starts_with("UC-NFA"));
    assert!(s.svg().unwrap().starts_with("<svg"));
    // Everything with labels: the NFA shares the UC-NFA's panel (equal in
    // the scale-free conventions), the C-NFA is dashed in it, and the NTK
    // alignments have their own.
    let all = series(&r, Tracked::ALL, true);
    assert_eq!(all.figure().panels.len(), 3);
    let only_nfa = series(&r, Tracked::from_names(["nfa"]).unwrap(), true);
    assert!(only_nfa.figure().panels[0].y.label.starts_with("NFA"));
    assert_eq!(
        Tracked::from_names(["nfa", "agop"]).unwrap_err(),
        "unknown metric `agop`, expected nfa, uc_nfa, c_nfa, alpha or ntk"
    );
}

#[test]
fn each_point_has_the_same_bits_on_one_thread_as_on_two() {
    let r = run();
    let on = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| {
                r.steps
                    .iter()
                    .map(|p| {
                        let a = analyse(&r, p, true);
                        let m: Vec<_> = a.layers.into_iter().map(|l| l.metrics).collect();
                        (m, a.ntk)
                    })
                    .collect::<Vec<_>>()
            })
    };
    // Exact equality: the layers' metrics are computed one task per layer,
    // each as it would be alone.
    assert_eq!(on(1), on(2));
}
