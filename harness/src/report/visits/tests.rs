//! Tests of the next-target statistics: parsing plays, counting, the
//! summary, the table and the figure.

use std::fmt::Write as _;

use super::*;

const HEADER: &str = "episode,step,reward,visits,last_visited,next_target";

/// A fresh directory for one test.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ctrlbench-visits-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// xorshift64: a small deterministic generator of uniforms in [0, 1).
struct XorShift(u64);

impl XorShift {
    fn uniform(&mut self) -> f64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        (x >> 11) as f64 / (1u64 << 53) as f64
    }

    fn draw(&mut self, probs: &[f64; N]) -> usize {
        envs::dmc::seqnav::inverse_cdf(probs, self.uniform())
    }
}

/// A play CSV of `episodes` episodes of `visits` visits each, the next
/// target drawn from `next(prev, cur)`, two idle rows before each visit.
fn synthetic_play(
    episodes: usize,
    visits: usize,
    seed: u64,
    next: impl Fn(Option<usize>, Option<usize>) -> [f64; N],
) -> String {
    let mut rng = XorShift(seed);
    let mut text = format!("{HEADER}\n");
    for ep in 0..episodes {
        let (mut prev, mut cur) = (None, None);
        let mut target = rng.draw(&next(prev, cur));
        let mut step = 0;
        for v in 0..visits {
            let last = cur.map_or(-1, |c| c as i64);
            for _ in 0..2 {
                step += 1;
                let _ = writeln!(text, "{ep},{step},0.5,{v},{last},{target}");
            }
            (prev, cur) = (cur, Some(target));
            target = rng.draw(&next(prev, cur));
            step += 1;
            let _ = writeln!(text, "{ep},{step},1,{},{},{target}", v + 1, cur.unwrap());
        }
    }
    text
}

#[test]
fn counts_triples_per_episode() {
    let dir = temp_dir("counts");
    let path = write(
        &dir,
        "play.csv",
        &format!(
            "{HEADER}\n\
             0,1,0.1,0,-1,1\n\
             0,2,0.1,1,1,2\n\
             0,3,0.1,1,1,2\n\
             0,4,0.1,2,2,3\n\
             0,5,0.1,3,3,0\n\
             0,6,0.1,,,\n\
             0,7,0.1,4,0,1\n\
             1,1,0.1,1,2,3\n\
             1,2,0.1,2,3,0\n\
             1,3,0.1,3,0,1\n\
             1,4,0.1,3,0,1\n"
        ),
    );
    let c = VisitCounts::from_play_csv(&path).unwrap();
    // Episode 0: 1, 2, 3, 0; episode 1 (first row already a visit): 2, 3, 0.
    assert_eq!(c.episodes, 2);
    assert_eq!(c.visits, 7);
    assert_eq!(c.triples(), 3);
    assert_eq!(c.counts[1][2][3], 1);
    assert_eq!(c.counts[2][3][0], 2);
    // Nothing spans the two episodes.
    assert_eq!(c.counts[3][0][2], 0);
    assert_eq!(c.counts[0][2][3], 0);
    assert_eq!(c.conditional(2, 3), Some([1.0, 0.0, 0.0, 0.0]));
    assert_eq!(c.conditional(0, 1), None);
    assert_eq!(c.from_count(3), 2);
    assert_eq!(c.pair_count(1, 2), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_jump_records_the_named_target_and_cuts_the_sequence() {
    let dir = temp_dir("jump");
    let path = write(
        &dir,
        "play.csv",
        &format!(
            "{HEADER}\n\
             0,1,0,1,1,2\n\
             0,2,0,2,2,3\n\
             0,3,0,3,3,0\n\
             0,4,0,5,1,2\n\
             0,5,0,6,2,3\n\
             0,6,0,7,3,0\n"
        ),
    );
    let c = VisitCounts::from_play_csv(&path).unwrap();
    assert_eq!(c.visits, 6);
    assert_eq!(c.counts[1][2][3], 2);
    assert_eq!(c.counts[2][3][1], 0);
    assert_eq!(c.counts[3][1][2], 0);
    assert_eq!(c.triples(), 2);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn errors_name_the_file() {
    let dir = temp_dir("errors");
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "missing.csv",
            "episode,step,reward,visits\n0,1,0,0\n".to_string(),
            "last_visited",
        ),
        (
            "text.csv",
            format!("{HEADER}\n0,1,0,one,-1,1\n"),
            "not a number",
        ),
        (
            "range.csv",
            format!("{HEADER}\n0,1,0,1,4,1\n"),
            "out of range",
        ),
        (
            "falls.csv",
            format!("{HEADER}\n0,1,0,2,1,1\n0,2,0,1,1,1\n"),
            "falls",
        ),
        (
            "none.csv",
            format!("{HEADER}\n0,1,0,1,-1,1\n"),
            "names no target",
        ),
    ];
    for (name, text, what) in cases {
        let path = write(&dir, name, &text);
        let err = format!("{:#}", VisitCounts::from_play_csv(&path).unwrap_err());
        assert!(err.contains(name), "{name}: {err}");
        assert!(err.contains(what), "{name}: {err}");
    }
    let err = VisitCounts::from_play_csv(&dir.join("absent.csv")).unwrap_err();
    assert!(format!("{err:#}").contains("absent.csv"), "{err:#}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_source_drawn_from_the_chain_matches_it() {
    let dir = temp_dir("chain");
    let text = synthetic_play(200, 60, 0x9E37_79B9_7F4A_7C15, successor_probs);
    let path = write(&dir, "chain.csv", &text);
    let c = VisitCounts::from_play_csv(&path).unwrap();
    assert_eq!(c.episodes, 200);
    assert_eq!(c.visits, 200 * 60);
    assert_eq!(c.triples(), 200 * 58);
    let s = c.summary("drawn");
    assert!(s.mean_tv_to_chain < 0.05, "{s:?}");
    assert!(s.mean_tv_to_memoryless > 0.3, "{s:?}");
    assert!((s.preferred_share - 0.9).abs() < 0.03, "{s:?}");
    // The chain never returns to the previous target.
    for p in 0..N {
        for q in 0..N {
            assert_eq!(c.counts[p][q][p], 0);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_memoryless_source_matches_the_memoryless_answer() {
    let mut c = VisitCounts::default();
    let mut rng = XorShift(12345);
    let mut seq = vec![rng.draw(&successor_probs(None, None))];
    for _ in 0..20_000 {
        let cur = *seq.last().unwrap();
        seq.push(rng.draw(&successor_probs(None, Some(cur))));
    }
    c.add_sequence(&seq);
    let s = c.summary("memoryless");
    assert!(s.mean_tv_to_memoryless < 0.05, "{s:?}");
    assert!(s.mean_tv_to_chain > 0.3, "{s:?}");
    assert!((s.preferred_share - 1.0 / 3.0).abs() < 0.03, "{s:?}");
}

#[test]
fn references_and_markdown() {
    let md = summary_markdown(&[VisitCounts::default().summary("empty")]);
    assert!(md.contains("| empty | 0 | 0 | 0 | – | – | – |"), "{md}");
    assert!(
        md.contains("| *chain (reference)* | | | | 0.000 | 0.567 | 0.900 |"),
        "{md}"
    );
    assert!(
        md.contains("| *memoryless (reference)* | | | | 0.567 | 0.000 | 0.333 |"),
        "{md}"
    );
    // The preferred successor: blue -> green => black.
    assert_eq!(preferred_successor(0, 1), Some(2));
    assert_eq!(preferred_successor(1, 1), None);
}

#[test]
fn labels_sum_and_table_rows() {
    let dir = temp_dir("labels");
    let a = write(
        &dir,
        "a.csv",
        &format!("{HEADER}\n0,1,0,1,0,1\n0,2,0,2,1,2\n0,3,0,3,2,3\n"),
    );
    let b = write(
        &dir,
        "seed1.csv",
        &format!("{HEADER}\n0,1,0,1,0,1\n0,2,0,2,1,3\n0,3,0,3,3,0\n"),
    );
    assert_eq!(
        parse_play(&format!("prior={}", a.display())).unwrap(),
        ("prior".to_string(), a.clone())
    );
    assert_eq!(
        parse_play(&b.display().to_string()).unwrap(),
        ("seed1".to_string(), b.clone())
    );
    assert!(parse_play("=x.csv").is_err());
    let plays = vec![
        format!("prior={}", a.display()),
        b.display().to_string(),
        format!("prior={}", b.display()),
    ];
    let sources = load_sources(&plays, COUNT_COLUMN, ID_COLUMN).unwrap();
    assert_eq!(sources.len(), 2);
    assert_eq!(sources[0].0, "prior");
    assert_eq!(sources[0].1.episodes, 2);
    assert_eq!(sources[0].1.counts[0][1][2], 1);
    assert_eq!(sources[0].1.counts[0][1][3], 1);
    assert_eq!(sources[0].1.conditional(0, 1), Some([0.0, 0.0, 0.5, 0.5]));
    assert_eq!(sources[1].0, "seed1");

    let out = dir.join("visits.csv");
    write_table(&sources, &out).unwrap();
    let text = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "source,prev,cur,next,count,share,chain_probability"
    );
    assert_eq!(lines.len(), 1 + 36 * 3);
    assert!(lines[1..37].iter().all(|l| l.starts_with("chain,")));
    assert!(lines.contains(&"chain,blue,green,black,,0.9,0.9"), "{text}");
    assert!(
        lines.contains(&"prior,blue,green,black,1,0.5,0.9"),
        "{text}"
    );
    assert!(lines.contains(&"prior,blue,green,red,1,0.5,0.1"), "{text}");
    assert!(lines.contains(&"seed1,green,blue,red,0,,0.1"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn target_names() {
    assert_eq!(target_id("green").unwrap(), 1);
    assert_eq!(target_id("Black").unwrap(), 2);
    assert_eq!(target_id("3").unwrap(), 3);
    assert!(target_id("purple").is_err());
    assert!(target_id("4").is_err());
}

#[test]
fn the_figure_renders() {
    let dir = temp_dir("figure");
    let mut chain = VisitCounts::default();
    chain.add_sequence(&{
        let mut rng = XorShift(7);
        let (mut prev, mut cur) = (None, None);
        let mut seq = Vec::new();
        for _ in 0..2000 {
            let next = rng.draw(&successor_probs(prev, cur));
            seq.push(next);
            (prev, cur) = (cur, Some(next));
        }
        seq
    });
    let sources = vec![
        ("drawn from the chain".to_string(), chain),
        ("empty".to_string(), VisitCounts::default()),
    ];
    let png = dir.join("visits.png");
    draw_figure(&sources, 1, &png).unwrap();
    let len = std::fs::metadata(&png).unwrap().len();
    assert!(len > 0);
    assert!(draw_figure(&sources, 4, &dir.join("bad.png")).is_err());
    let _ = std::fs::remove_dir_all(&dir);
}
