//! Which Parquet files of a dataset repository hold a config's split, by the Hub's own
//! rules, so `--hf-config`/`--hf-split` read what `datasets.load_dataset` reads:
//!
//! 1. The README's YAML header, when it has `configs:` (`config_name`, `data_files` as a
//!    pattern, a list of patterns, or a list of `{split, path}`): the config asked for, or
//!    the one marked `default: true`, or the only one; its split's patterns are matched
//!    against the repository's files (`*` stays inside a folder, `**` crosses folders).
//! 2. Otherwise the Hub's file-name conventions: a config is a top-level folder (when one
//!    is asked for), and a split is a path component or a file-name part delimited by
//!    `-`, `_`, `.` or `/` (`data/train-00000-of-00004.parquet`, `train/0.parquet`). With
//!    no file naming any split, every Parquet file is the `train` split.
//! 3. The caller falls back to the Hub's own Parquet conversion (`refs/convert/parquet`,
//!    laid out `{config}/{split}/NNNN.parquet`) when neither finds a file.
//!
//! Files come back in byte-wise name order: shard `00000` first, as the Hub numbers them.

use globset::GlobBuilder;
use yaml_rust2::{Yaml, YamlLoader};

/// The splits the conventions recognise in file names (the Hub's list).
const SPLIT_NAMES: [&str; 6] = ["train", "test", "validation", "valid", "dev", "eval"];

/// The Parquet files of `files` (repository paths) holding `split` of `config`.
///
/// `readme` is the repository's README.md, when it has one. Errors name what the README
/// declares when the config or split is not among them.
pub fn parquet_files(
    files: &[String],
    readme: Option<&str>,
    config: Option<&str>,
    split: &str,
) -> Result<Vec<String>, String> {
    let mut out = match readme.map(declared_configs).transpose()?.flatten() {
        Some(configs) => from_declared(files, &configs, config, split)?,
        None => by_convention(files, config, split),
    };
    out.sort();
    out.dedup();
    Ok(out)
}

/// The files of the Hub's Parquet conversion branch for `config`'s `split`.
pub fn converted_files(files: &[String], config: Option<&str>, split: &str) -> Vec<String> {
    let config = config.unwrap_or("default");
    let prefix = format!("{config}/{split}/");
    // Older conversions name the files `{config}/{dataset}-{split}.parquet` and shards.
    let old = format!("-{split}.parquet");
    let old_sharded = format!("-{split}-");
    let mut out: Vec<String> = files
        .iter()
        .filter(|f| is_parquet(f))
        .filter(|f| {
            f.starts_with(&prefix)
                || (f.starts_with(&format!("{config}/"))
                    && !f[config.len() + 1..].contains('/')
                    && (f.ends_with(&old) || f.contains(&old_sharded)))
        })
        .cloned()
        .collect();
    out.sort();
    out
}

fn is_parquet(path: &str) -> bool {
    path.to_ascii_lowercase().ends_with(".parquet")
}

/// One `configs:` entry of a README header.
#[derive(Debug, PartialEq)]
struct Declared {
    name: String,
    default: bool,
    /// (split, patterns); split `train` for a bare pattern list.
    files: Vec<(String, Vec<String>)>,
}

/// The README's `configs:`, or `None` when its header declares none.
fn declared_configs(readme: &str) -> Result<Option<Vec<Declared>>, String> {
    let Some(header) = front_matter(readme) else { return Ok(None) };
    let docs =
        YamlLoader::load_from_str(header).map_err(|e| format!("README.md: its YAML header does not parse: {e}"))?;
    let Some(configs) = docs.first().map(|d| &d["configs"]) else { return Ok(None) };
    let Yaml::Array(list) = configs else { return Ok(None) };
    let mut out = Vec::new();
    for c in list {
        let name = c["config_name"].as_str().unwrap_or("default").to_string();
        let default = c["default"].as_bool().unwrap_or(false);
        let files = match &c["data_files"] {
            Yaml::String(p) => vec![("train".to_string(), vec![p.clone()])],
            Yaml::Array(items) => {
                let mut by_split: Vec<(String, Vec<String>)> = Vec::new();
                for item in items {
                    match item {
                        Yaml::String(p) => push(&mut by_split, "train", vec![p.clone()]),
                        Yaml::Hash(_) => {
                            let split = item["split"].as_str().unwrap_or("train");
                            push(&mut by_split, split, strings(&item["path"]));
                        }
                        _ => {}
                    }
                }
                by_split
            }
            Yaml::Hash(h) => h.iter().filter_map(|(k, v)| Some((k.as_str()?.to_string(), strings(v)))).collect(),
            _ => Vec::new(),
        };
        out.push(Declared { name, default, files });
    }
    Ok(if out.is_empty() { None } else { Some(out) })
}

fn push(by_split: &mut Vec<(String, Vec<String>)>, split: &str, patterns: Vec<String>) {
    match by_split.iter_mut().find(|(s, _)| s == split) {
        Some((_, p)) => p.extend(patterns),
        None => by_split.push((split.to_string(), patterns)),
    }
}

fn strings(v: &Yaml) -> Vec<String> {
    match v {
        Yaml::String(s) => vec![s.clone()],
        Yaml::Array(a) => a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect(),
        _ => Vec::new(),
    }
}

/// The YAML between the leading `---` lines of a README.
fn front_matter(readme: &str) -> Option<&str> {
    let rest = readme.strip_prefix("---")?.trim_start_matches([' ', '\t']);
    let rest = rest.strip_prefix("\r\n").or_else(|| rest.strip_prefix('\n'))?;
    let mut at = 0;
    for line in rest.split_inclusive('\n') {
        if line.trim_end() == "---" {
            return Some(&rest[..at]);
        }
        at += line.len();
    }
    None
}

fn from_declared(
    files: &[String],
    configs: &[Declared],
    config: Option<&str>,
    split: &str,
) -> Result<Vec<String>, String> {
    let names = || configs.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ");
    let chosen = match config {
        Some(want) => configs
            .iter()
            .find(|c| c.name == want)
            .ok_or_else(|| format!("--hf-config {want}: the dataset has no such config; it declares {}", names()))?,
        None => match configs.iter().find(|c| c.default) {
            Some(c) => c,
            None if configs.len() == 1 => &configs[0],
            None => {
                return Err(format!("the dataset has several configs ({}); choose one with --hf-config", names()));
            }
        },
    };
    let Some((_, patterns)) = chosen.files.iter().find(|(s, _)| s == split) else {
        let splits = chosen.files.iter().map(|(s, _)| s.as_str()).collect::<Vec<_>>().join(", ");
        return Err(format!("--hf-split {split}: config {} has no such split; it has {splits}", chosen.name));
    };
    let mut out = Vec::new();
    for p in patterns {
        let glob = GlobBuilder::new(p)
            .literal_separator(true)
            .build()
            .map_err(|e| format!("README.md: data_files pattern {p:?} does not parse: {e}"))?
            .compile_matcher();
        out.extend(files.iter().filter(|f| is_parquet(f) && glob.is_match(f.as_str())).cloned());
    }
    Ok(out)
}

/// Whether `path` names `split` as a component or a delimited part of a component.
fn names_split(path: &str, split: &str) -> bool {
    path.split('/').any(|component| {
        let stem = component.strip_suffix(".parquet").unwrap_or(component);
        stem == split || stem.split(['-', '_', '.']).any(|part| part == split)
    })
}

fn by_convention(files: &[String], config: Option<&str>, split: &str) -> Vec<String> {
    let in_config: Vec<&String> = files
        .iter()
        .filter(|f| is_parquet(f))
        .filter(|f| config.is_none_or(|c| f.starts_with(&format!("{c}/"))))
        .collect();
    let rel = |f: &str| -> String {
        match config {
            Some(c) => f[c.len() + 1..].to_string(),
            None => f.to_string(),
        }
    };
    let named: Vec<String> = in_config.iter().filter(|f| names_split(&rel(f), split)).map(|f| f.to_string()).collect();
    if !named.is_empty() {
        return named;
    }
    let any_split = in_config.iter().any(|f| SPLIT_NAMES.iter().any(|s| names_split(&rel(f), s)));
    if split == "train" && !any_split {
        return in_config.iter().map(|f| f.to_string()).collect();
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn conventions_pick_the_split_and_the_config() {
        let f = files(&[
            "README.md",
            "data/train-00001-of-00002.parquet",
            "data/train-00000-of-00002.parquet",
            "data/test-00000-of-00001.parquet",
            "data/trainer_notes.parquet",
        ]);
        assert_eq!(
            parquet_files(&f, None, None, "train").unwrap(),
            ["data/train-00000-of-00002.parquet", "data/train-00001-of-00002.parquet"]
        );
        assert_eq!(parquet_files(&f, None, None, "test").unwrap(), ["data/test-00000-of-00001.parquet"]);
        assert!(parquet_files(&f, None, None, "validation").unwrap().is_empty());
        let f = files(&["en/train/0000.parquet", "de/train/0000.parquet", "en/test/0000.parquet"]);
        assert_eq!(parquet_files(&f, None, Some("en"), "train").unwrap(), ["en/train/0000.parquet"]);
        // No split named anywhere: every file is train.
        let f = files(&["part-0.parquet", "part-1.parquet", "notes.txt"]);
        assert_eq!(parquet_files(&f, None, None, "train").unwrap(), ["part-0.parquet", "part-1.parquet"]);
        assert!(parquet_files(&f, None, None, "test").unwrap().is_empty());
    }

    #[test]
    fn the_readme_configs_decide_when_present() {
        let readme = "---\nlicense: mit\nconfigs:\n- config_name: passages\n  data_files:\n  - split: train\n    path: passages_parquet/*\n- config_name: queries\n  data_files:\n  - split: test\n    path: queries_parquet/*.parquet\n---\n# Title\n";
        let f = files(&[
            "passages_parquet/a_01.parquet",
            "passages_parquet/a_00.parquet",
            "passages_parquet/deeper/x.parquet",
            "queries_parquet/q.parquet",
        ]);
        assert_eq!(
            parquet_files(&f, Some(readme), Some("passages"), "train").unwrap(),
            ["passages_parquet/a_00.parquet", "passages_parquet/a_01.parquet"]
        );
        let e = parquet_files(&f, Some(readme), None, "train").unwrap_err();
        assert!(e.contains("several configs (passages, queries)"), "{e}");
        let e = parquet_files(&f, Some(readme), Some("docs"), "train").unwrap_err();
        assert!(e.contains("--hf-config docs") && e.contains("passages, queries"), "{e}");
        let e = parquet_files(&f, Some(readme), Some("queries"), "train").unwrap_err();
        assert!(e.contains("has test"), "{e}");
        // A bare pattern is the train split; `default: true` picks the config.
        let readme = "---\nconfigs:\n- config_name: a\n  data_files: a/*.parquet\n- config_name: b\n  default: true\n  data_files:\n  - b/*.parquet\n---\n";
        let f = files(&["a/1.parquet", "b/1.parquet"]);
        assert_eq!(parquet_files(&f, Some(readme), None, "train").unwrap(), ["b/1.parquet"]);
        // A README without configs falls back to the conventions.
        assert_eq!(parquet_files(&f, Some("---\nlicense: mit\n---\n"), Some("a"), "train").unwrap(), ["a/1.parquet"]);
    }

    #[test]
    fn the_conversion_branch_layouts() {
        let f =
            files(&["en/train/0000.parquet", "en/train/0001.parquet", "en/test/0000.parquet", "de/train/0000.parquet"]);
        assert_eq!(converted_files(&f, Some("en"), "train"), ["en/train/0000.parquet", "en/train/0001.parquet"]);
        let f = files(&["default/stsb-train.parquet", "default/stsb-test.parquet"]);
        assert_eq!(converted_files(&f, None, "train"), ["default/stsb-train.parquet"]);
    }
}
