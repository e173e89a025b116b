//! The command line: the original Python tool's commands and flag names, kept verbatim
//! (`run`, `sweep`, `plot`; `--pq-chunks`, `--with-recall/--no-with-recall`, ...), the
//! names its later versions gave some of them as aliases (`--pq-subquantizers`,
//! `--db-path`, `--dataset-limit`, `--ground-truth-path`) and its `precompute-gt`, plus
//! `export` and `gt`, and the flags a researcher needs to reproduce a run (`--seed`,
//! `--threads`, `--queries`, `--ground-truth`, the k-means settings).
//!
//! Every value is checked here or in `plan.rs` before anything is read or written, and each
//! rejection is one line naming the value and the accepted range.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Default sweep grid: the original tool's documented demo sweep.
pub const DEFAULT_PQ_CHUNKS: &str = "4,8,16";
/// Default sweep grid: the original tool's documented demo sweep.
pub const DEFAULT_PQ_CLUSTERS: &str = "128,256";
/// Default SQ sweep: every width the scalar quantizer has.
pub const DEFAULT_SQ_BITS: &str = "4,8,16";
/// Default RaBitQ sweep: 1 bit (the papers' and FAISS's default), then each step doubling
/// the code, down to 4× compression at 8 bits; 9 bits is left out, near-lossless and the
/// largest code.
pub const DEFAULT_RABITQ_BITS: &str = "1,2,4,8";

#[derive(Parser, Debug)]
#[command(
    name = "vq-benchmark",
    version,
    about = "Map the compression-vs-quality trade-off of product and scalar quantization",
    long_about = "Map the compression-vs-quality trade-off of product (PQ) and scalar (SQ) quantization.\n\
                  Runs are logged to a SQLite database (table `runs`, the original Python tool's schema),\n\
                  sweeps also write a CSV, and `plot` draws SVG trade-off plots."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Benchmark one configuration.
    // Negative numbers parse as values, so `--num-queries -1` is rejected by name and range
    // rather than taken for an unknown flag.
    #[command(allow_negative_numbers = true)]
    Run(Box<RunArgs>),
    /// Benchmark a Cartesian grid of configurations (default: the original tool's demo sweep).
    #[command(allow_negative_numbers = true)]
    Sweep(Box<SweepArgs>),
    /// Draw the trade-off plots and a comparison table of logged runs.
    Plot(PlotArgs),
    /// Write logged runs as CSV (the format every sweep writes).
    Export(ExportArgs),
    /// Precompute exact top-k ground truth of queries against a dataset, as an .ivecs file.
    Gt(GtArgs),
    /// The newer Python tool's ground truth, as an int64 .npy: its queries are the file's
    /// first rows and stay in the base.
    ///
    /// Exact top-k neighbours (by squared L2, or --metric) of the first --num-queries rows
    /// of --vectors-path among every row of the file, written as a .npy of int64 ids
    /// (queries × k, best first, ties to the lower id).
    ///
    /// The queries STAY in the base, as the newer tool did, so a query's nearest neighbour
    /// is itself. vq's own runs hold their queries out of the base, and `gt` searches a
    /// separate query file: use those for vq's recall, and this file to compare with the
    /// newer tool's results.
    PrecomputeGt(PrecomputeGtArgs),
    /// Merge run logs (e.g. the shards of a sweep) into one; merging twice adds nothing.
    Merge(MergeArgs),
    /// Write a seeded Gaussian-mixture dataset of any size (base and held-out queries) to
    /// .fbin or .npy, streaming, for scale tests without a download.
    Gen(GenArgs),
    /// Show the library version and the SIMD levels this machine runs (`VQ_SIMD` lowers them).
    Info(InfoArgs),
    /// Embed texts (one per line) with a local BERT-family sentence model
    /// (e.g. all-MiniLM-L6-v2) into a float32 vector file. Needs the `embed` feature.
    Embed(EmbedArgs),
}

/// Quantization method.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Method {
    /// Product quantization.
    Pq,
    /// Scalar quantization.
    Sq,
    /// Optimized product quantization: a learned rotation, then PQ.
    Opq,
    /// RaBitQ: a random rotation, then 1 to 9 bits per dimension with an error bound.
    Rabitq,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::Pq => "pq",
            Method::Sq => "sq",
            Method::Opq => "opq",
            Method::Rabitq => "rabitq",
        }
    }
}

/// k-means initialisation of the PQ codebooks.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum InitArg {
    /// k distinct random training rows (FAISS's default).
    Random,
    /// k-means++ (D² sampling).
    #[value(name = "kmeans++")]
    PlusPlus,
    /// Greedy k-means++ (scikit-learn's default): the original tool's seeding, slower.
    #[value(name = "greedy-kmeans++")]
    GreedyPlusPlus,
}

/// Flags shared by `run` and `sweep`: the dataset, the metrics and where results go.
#[derive(Args, Debug, Clone)]
pub struct Common {
    /// `dummy` (the original tool's Gaussian N(0,1) set, seed 42), a file (.fvecs, .ivecs,
    /// .bvecs, .fbin, .u8bin, .i8bin, .ibin, .npy of float32/float64/float16/uint8/int8,
    /// 2-D) or a folder of such files read as one dataset in name order (shards).
    ///
    /// A Hugging Face Hub dataset (feature `hub`): `hf:OWNER/NAME[@REVISION]` with the
    /// --hf-* flags below, `huggingface` (the original tool's set: stsb_multi_mt en train
    /// `sentence1`, embedded with all-MiniLM-L6-v2; feature `embed` too), or a preset:
    /// `dbpedia-100k`, `dbpedia-1m`, `dbpedia-3072-1m` (OpenAI embeddings of DBpedia;
    /// the 1M sets read their first 100,000 rows unless --num-samples says more),
    /// `cohere-msmarco` (Cohere v3 embeddings of MS MARCO v2.1 passages, 53 M rows;
    /// first 100,000 unless --num-samples says more). A `.parquet` file or folder works
    /// too (feature `hub`).
    #[arg(long, default_value = "dummy")]
    pub dataset: String,
    /// Hub dataset config (subset), e.g. `en` (default: the dataset's default).
    #[arg(long)]
    pub hf_config: Option<String>,
    /// Hub dataset split.
    #[arg(long, default_value = "train")]
    pub hf_split: String,
    /// The embedding column (a list or fixed-size list of float32, float64 or float16) of
    /// a Hub dataset or a local Parquet file (default: the only such column).
    #[arg(long)]
    pub hf_column: Option<String>,
    /// A text column to embed with --embed-model instead (feature `embed`); the vectors
    /// are cached as .npy beside the dataset in the Hugging Face cache.
    #[arg(long, conflicts_with = "hf_column")]
    pub hf_text_column: Option<String>,
    /// Hub branch, tag or commit of the dataset (default: main). The commit it resolves to
    /// is recorded in `config_json` and the fingerprint.
    #[arg(long)]
    pub hf_revision: Option<String>,
    /// Hugging Face hub cache (default: HF_HUB_CACHE, else HF_HOME/hub, else
    /// ~/.cache/huggingface/hub). HF_HUB_OFFLINE=1 reads the cache only; HF_TOKEN is sent
    /// for private and gated sets.
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Sentence model for text columns: a Hub model id or a local folder with
    /// config.json, model.safetensors and tokenizer.json (BERT family).
    #[arg(long, default_value = "sentence-transformers/all-MiniLM-L6-v2")]
    pub embed_model: String,
    /// Rows of the dummy set; for a file, read only its first N rows (default: all).
    #[arg(long, visible_alias = "dataset-limit", value_parser = positive)]
    pub num_samples: Option<usize>,
    /// Dimension of the dummy set; for a file, the dimension it must have.
    #[arg(long, value_parser = positive)]
    pub dim: Option<usize>,
    /// Query vectors (same formats). Without it, --num-queries rows are held out of the base.
    #[arg(long)]
    pub queries: Option<PathBuf>,
    /// Exact neighbour ids of --queries in the dataset (.ivecs, .ibin, or .npy of int32 or
    /// int64; e.g. from `gt`).
    #[arg(long, visible_alias = "ground-truth-path", requires = "queries")]
    pub ground_truth: Option<PathBuf>,
    /// Queries held out of the base when --queries is not given.
    #[arg(long, default_value_t = 100, value_parser = positive)]
    pub num_queries: usize,
    /// How vectors are compared: l2 (squared Euclidean), ip (inner product) or cosine;
    /// FAISS's and the newer tool's names work too (L2, INNER_PRODUCT, METRIC_INNER_PRODUCT,
    /// cos, ...), and so does the newer tool's flag name, --rabitq-metric-type. The ground
    /// truth, the quantizers' training, the ADC search, recall and rank distortion all
    /// follow it. Cosine quantizers encode the normalized vectors, so
    /// for cosine the MSE and the pairwise distortion are measured on the normalized
    /// vectors (the error of what was encoded). Recorded as `metric` in `config_json`; a
    /// --ground-truth file must be under this metric (checked where `gt` left its sidecar).
    #[arg(long, visible_alias = "rabitq-metric-type", default_value = "l2", value_parser = metric)]
    pub metric: vq::Metric,
    /// Compute recall@10 and recall@100 (ADC search against exact ground truth).
    #[arg(long = "with-recall", overrides_with = "no_with_recall")]
    pub with_recall: bool,
    #[arg(long = "no-with-recall", hide = true)]
    pub no_with_recall: bool,
    /// Compute pairwise distance distortion over --num-pairs random pairs.
    #[arg(long = "with-pairwise", overrides_with = "no_with_pairwise")]
    pub with_pairwise: bool,
    #[arg(long = "no-with-pairwise", hide = true)]
    pub no_with_pairwise: bool,
    /// Compute rank distortion@k (1 − recall@k, k = --rank-k).
    #[arg(long = "with-rank", overrides_with = "no_with_rank")]
    pub with_rank: bool,
    #[arg(long = "no-with-rank", hide = true)]
    pub no_with_rank: bool,
    /// Random pairs for the pairwise distortion.
    #[arg(long, default_value_t = 1000, value_parser = positive)]
    pub num_pairs: usize,
    /// k of the rank distortion.
    #[arg(long, default_value_t = 10, value_parser = positive)]
    pub rank_k: usize,
    /// Seed of training, pair sampling and the held-out query draw.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Seed of the dummy dataset (the original tool's is 42).
    #[arg(long, default_value_t = 42, value_parser = clap::value_parser!(u32))]
    pub data_seed: u32,
    /// k-means iterations of each PQ sub-quantizer (at most; see --kmeans-tol).
    #[arg(long, default_value_t = 25, value_parser = positive)]
    pub kmeans_iters: usize,
    /// k-means initialisation. With the Hartigan passes below the seeding hardly matters
    /// (the three land within 0.05% in MSE on the demo data), so the default is the
    /// cheapest, FAISS's; greedy k-means++ is the original tool's (scikit-learn's).
    #[arg(long, value_enum, default_value_t = InitArg::Random)]
    pub kmeans_init: InitArg,
    /// Stop k-means once an iteration, or a Hartigan pass, improves its objective by less
    /// than this fraction (0: never). The default, 0.3%, leaves the fine work to the Hartigan passes below, which gain more
    /// per unit of time than Lloyd's last iterations.
    #[arg(long, default_value_t = 3e-3, value_parser = non_negative_f64)]
    pub kmeans_tol: f64,
    /// Hartigan passes after Lloyd's iterations (0: none, as FAISS and the original tool).
    /// Each moves single vectors between clusters when that lowers the objective and costs
    /// about one iteration; with few training vectors per centroid, as in the demo sweep
    /// (40-80), four put the MSE 0.5-1.9% below the original tool's. Passes stop early as
    /// --kmeans-tol says.
    #[arg(long, default_value_t = 4)]
    pub kmeans_hartigan: usize,
    /// Training rows per centroid at most (FAISS: 256); more rows are subsampled.
    #[arg(long, default_value_t = 256, value_parser = positive)]
    pub max_points_per_centroid: usize,
    /// Rows each configuration trains on at most, drawn at random with --seed (default:
    /// what the quantizer needs, PQ ksub × --max-points-per-centroid and SQ every row; the
    /// whole base, in order, when it is smaller). Recorded in `config_json`.
    #[arg(long, value_parser = positive)]
    pub train_size: Option<usize>,
    /// Base rows per batch of a pass over the data (default: about 16 MiB of vectors).
    #[arg(long, value_parser = positive)]
    pub batch_size: Option<usize>,
    /// Read the whole base into memory first instead of batch by batch (same figures; for
    /// comparing the two, or data on slow storage that fits in memory).
    #[arg(long)]
    pub in_memory: bool,
    /// SQLite run log.
    #[arg(long, visible_alias = "db-path", env = "DB_PATH", default_value = "logs/benchmark_runs.db")]
    pub db: PathBuf,
    /// CSV of the runs (a sweep writes one next to the database by default).
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// Keep each run's trained quantizer in this directory as a vq model file
    /// (`<sweep id or timestamp>_<config>.vqm`), loadable with `vq::format` in Rust and
    /// `vq_pq_load` / `vq_sq_load` in C (OPQ runs: `vq::OpqQuantizer::load`, RaBitQ runs:
    /// `vq::RabitqQuantizer::load`). Its path goes into the run's `config_json`.
    #[arg(long)]
    pub save_models: Option<PathBuf>,
    /// OPQ's outer iterations (rotation updates; FAISS's OPQMatrix: 50). Each trains a PQ
    /// on the rotated sample, so OPQ training costs about this many PQ trainings; 0 keeps
    /// the seeded random rotation. Recorded as `opq.niter` in `config_json`.
    #[arg(long, default_value_t = 50)]
    pub opq_iterations: usize,
    /// RaBitQ's query bits in its 1-bit estimate: 1..=8, or 0 for a float query (FAISS's
    /// qb; default 4, FAISS's). Codes do not depend on it, the estimates and so recall do.
    #[arg(long, default_value = "4", value_parser = rabitq_qb)]
    pub rabitq_qb: vq::QueryBits,
    /// RaBitQ's ε₀, the width of its error bound in standard deviations (finite, >= 0;
    /// default 1.9, the papers' and FAISS's): the search computes a code's extended
    /// estimate, and the re-ranking its exact distance, only when the bound lets it beat the
    /// current k-th. Larger is slower and surer.
    #[arg(long, default_value = "1.9", value_parser = rabitq_epsilon)]
    pub rabitq_epsilon: f32,
    /// Also measure the 4-bit PQ fast scan (`vq::PackedCodes`, `search_packed`) of every PQ
    /// and OPQ run with 2..=16 centroids per sub-quantizer: its codes are packed 32 to a
    /// block and scanned with 8-bit tables, the best k × --pq-rerank-factor re-ranked with
    /// the float tables (`recall_fastscan@k`) and, when the base is in memory (the dummy
    /// set, or --in-memory), against the full vectors (`recall_fastscan_refined@k`, FAISS's
    /// IndexRefineFlat). Runs with more centroids are logged without it (`fast_scan: false`
    /// and why, in `config_json`); a grid with no PQ or OPQ run of at most 16 centroids is
    /// rejected.
    #[arg(long)]
    pub pq_fast_scan: bool,
    /// Candidates the fast scan keeps per query, as a multiple of k (default: the library's
    /// `FastScanParams::default()`), 0..=1000000: they are re-ranked with the float tables,
    /// or against the full vectors. 0 re-ranks nothing: recall is that of the 8-bit sums
    /// alone (FAISS's fast scan without refinement), and there is no refined search. A
    /// factor of at least base rows / k re-ranks every code, so the fast scan's results are
    /// the plain PQ search's. Needs --pq-fast-scan.
    #[arg(long, default_value_t = vq::FastScanParams::default().rerank_factor, value_parser = rerank_factor, requires = "pq_fast_scan")]
    pub pq_rerank_factor: usize,
    /// Worker threads for training, encoding and ground truth (0: every core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// No progress bars and no summary table (errors are still printed).
    #[arg(long, short)]
    pub quiet: bool,
}

impl Common {
    pub fn recall(&self) -> bool {
        !self.no_with_recall
    }
    pub fn pairwise(&self) -> bool {
        !self.no_with_pairwise
    }
    pub fn rank(&self) -> bool {
        !self.no_with_rank
    }
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// pq, opq, sq or rabitq.
    #[arg(long, value_enum, default_value_t = Method::Pq)]
    pub method: Method,
    /// PQ and OPQ sub-quantizers (m).
    #[arg(long, default_value_t = 8, value_parser = positive)]
    pub num_chunks: usize,
    /// PQ and OPQ centroids per sub-quantizer (ksub), 2..=65536.
    #[arg(long, default_value_t = 256, value_parser = clusters)]
    pub num_clusters: usize,
    /// SQ bits per dimension: 4, 8 or 16.
    #[arg(long, default_value_t = 8, value_parser = sq_bits)]
    pub sq_bits: u32,
    /// RaBitQ bits per dimension, 1..=9 (default 4: an eighth of a float32 vector's size,
    /// plus 20 bytes of factors, where recall is already usable without re-ranking).
    #[arg(long, default_value_t = 4, value_parser = rabitq_bits)]
    pub rabitq_bits: u32,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Args, Debug)]
pub struct SweepArgs {
    /// pq, opq, sq, rabitq, or several as "pq,opq,sq,rabitq" (run in that order).
    #[arg(long, visible_alias = "methods", default_value = "pq", value_parser = methods)]
    pub method: Methods,
    /// PQ sub-quantizer counts, e.g. "4,8,16" (also OPQ's, unless --opq-quantizers is given).
    #[arg(long, visible_alias = "pq-subquantizers", value_parser = positive_list)]
    pub pq_chunks: Option<List>,
    /// PQ centroids per sub-quantizer, e.g. "128,256" (also OPQ's, unless --opq-clusters or
    /// --opq-bits is given).
    #[arg(long, value_parser = clusters_list, conflicts_with = "pq_bits")]
    pub pq_clusters: Option<List>,
    /// PQ bits per sub-code (2^bits centroids), e.g. "4,8": an alternative to --pq-clusters.
    #[arg(long, value_parser = pq_bits_list)]
    pub pq_bits: Option<List>,
    /// OPQ sub-quantizer counts, e.g. "8,16,32" (the newer tool's name; --opq-chunks
    /// mirrors --pq-chunks). Default: PQ's list.
    #[arg(long, visible_alias = "opq-chunks", value_parser = positive_list)]
    pub opq_quantizers: Option<List>,
    /// OPQ centroids per sub-quantizer, e.g. "128,256". Default: PQ's list.
    #[arg(long, value_parser = clusters_list, conflicts_with = "opq_bits")]
    pub opq_clusters: Option<List>,
    /// OPQ bits per sub-code (2^bits centroids, 1..=16), e.g. "8": an alternative to
    /// --opq-clusters.
    #[arg(long, value_parser = opq_bits_list)]
    pub opq_bits: Option<List>,
    /// SQ bits per dimension, e.g. "4,8,16".
    #[arg(long, value_parser = sq_bits_list)]
    pub sq_bits: Option<List>,
    /// RaBitQ bits per dimension, each 1..=9, e.g. "1,4" (default "1,2,4,8"). Re-ranked
    /// recall (`recall_refined@k`, `refine_fraction`) is measured only when the base is in
    /// memory (the dummy set, or --in-memory): a streamed base is gone by search time.
    #[arg(long, value_parser = rabitq_bits_list)]
    pub rabitq_bits: Option<List>,
    /// Log the runs under this sweep id (letters, digits, `_`, `-`, `.`). Default: a fresh
    /// one; with --shard or --resume, one derived from the grid, the settings and the
    /// dataset, so every shard of a sweep agrees.
    #[arg(long, value_parser = sweep_id_arg)]
    pub sweep_id: Option<String>,
    /// Run only share I of N of the grid (0-based, e.g. 2/4), shares balanced by estimated
    /// cost. Each shard writes its own --db; `merge` joins them.
    #[arg(long, value_parser = shard_spec)]
    pub shard: Option<Shard>,
    /// Skip the configurations already logged under the sweep id in --db.
    #[arg(long)]
    pub resume: bool,
    /// Write a Slurm job-array script for this sweep (one task per shard, then a merge job
    /// into --db) instead of running it, and print how to submit it.
    #[arg(long, conflicts_with = "shard")]
    pub slurm_script: Option<PathBuf>,
    /// Tasks of the job array (default: one per configuration, at most 64).
    #[arg(long, requires = "slurm_script", value_parser = positive)]
    pub slurm_shards: Option<usize>,
    /// Slurm partition to submit to (default: the cluster's default partition).
    #[arg(long, requires = "slurm_script")]
    pub slurm_partition: Option<String>,
    /// Time limit of each task (sbatch --time, e.g. 2:00:00).
    #[arg(long, requires = "slurm_script")]
    pub slurm_time: Option<String>,
    #[command(flatten)]
    pub common: Common,
}

/// `--shard I/N`: share `index` of `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

#[derive(Args, Debug)]
pub struct GenArgs {
    /// The base vectors' file: .fbin or .npy (float32).
    #[arg(long, short)]
    pub output: PathBuf,
    /// The queries' file (default: `<output stem>_queries.<ext>` beside --output).
    #[arg(long)]
    pub queries_output: Option<PathBuf>,
    /// Base rows.
    #[arg(long, default_value_t = 1_000_000, value_parser = positive)]
    pub num_samples: usize,
    /// Query rows, drawn from the same mixture and not in the base.
    #[arg(long, default_value_t = 1000, value_parser = positive)]
    pub num_queries: usize,
    /// Dimension.
    #[arg(long, default_value_t = 384, value_parser = positive)]
    pub dim: usize,
    /// Mixture components: centres with N(0, 1) coordinates.
    #[arg(long, default_value_t = 1024, value_parser = positive)]
    pub clusters: usize,
    /// Standard deviation of each coordinate around its centre.
    #[arg(long, default_value_t = 0.5, value_parser = positive_f32)]
    pub spread: f32,
    /// Seed: the same seed and sizes give the same files, bit for bit.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Worker threads (0: every core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// No progress bars.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Args, Debug)]
pub struct MergeArgs {
    /// Run logs to merge (SQLite files written by vq-benchmark or the original tool).
    #[arg(required = true)]
    pub sources: Vec<PathBuf>,
    /// The run log to merge into (created if missing).
    #[arg(long, visible_alias = "db-path", env = "DB_PATH", default_value = "logs/benchmark_runs.db")]
    pub db: PathBuf,
}

#[derive(Args, Debug)]
pub struct PlotArgs {
    /// Sweep(s) to plot, comma-separated or repeated (default: every run, all sweeps combined).
    #[arg(long, value_delimiter = ',')]
    pub sweep_id: Vec<String>,
    /// One set of plots per method instead of one combined set.
    #[arg(long)]
    pub separate_methods: bool,
    /// Parent directory: each call writes a new OUTPUT/YYYYMMDD_HHMMSS/.
    #[arg(long, default_value = "plots")]
    pub output: PathBuf,
    /// SQLite run log.
    #[arg(long, visible_alias = "db-path", env = "DB_PATH", default_value = "logs/benchmark_runs.db")]
    pub db: PathBuf,
    /// Image format of the plots. png and pdf need the `raster` feature.
    #[arg(long, value_enum, default_value_t = PlotFormat::Svg)]
    pub format: PlotFormat,
    /// Resolution of png plots in dots per inch, 1..=1200 (a plot is 9.6 × 6.2 in, so 100
    /// gives 960 × 620 pixels); 100 is matplotlib's default. svg and pdf are vector formats
    /// of that size.
    #[arg(long, default_value_t = 100, value_parser = dpi)]
    pub dpi: u32,
}

/// `plot --format`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum PlotFormat {
    Svg,
    Png,
    Pdf,
}

impl PlotFormat {
    /// The file extension, which is also the name on the command line.
    pub fn ext(self) -> &'static str {
        match self {
            PlotFormat::Svg => "svg",
            PlotFormat::Png => "png",
            PlotFormat::Pdf => "pdf",
        }
    }
}

/// `--dpi`: 1..=1200; 1200 dpi is already 11,520 × 7,440 pixels, a 340 MB canvas.
fn dpi(s: &str) -> Result<u32, String> {
    let v = positive(s)?;
    in_range(v, 1, 1200, "dpi").map(|v| v as u32)
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// Only these sweeps (comma-separated or repeated; default: every run).
    #[arg(long, value_delimiter = ',')]
    pub sweep_id: Vec<String>,
    /// Output CSV file (default: standard output).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// SQLite run log.
    #[arg(long, visible_alias = "db-path", env = "DB_PATH", default_value = "logs/benchmark_runs.db")]
    pub db: PathBuf,
}

#[derive(Args, Debug)]
pub struct InfoArgs {
    /// Print only the available SIMD levels, best first, one per line (for scripts).
    #[arg(long)]
    pub simd_levels: bool,
}

#[derive(Args, Debug)]
pub struct GtArgs {
    /// The base vectors (a file, a folder of shards, or dummy).
    #[arg(long)]
    pub dataset: String,
    /// The query vectors.
    #[arg(long)]
    pub queries: PathBuf,
    /// Neighbours per query.
    #[arg(long, short, default_value_t = 100, value_parser = positive)]
    pub k: usize,
    /// Output .ivecs file.
    #[arg(long, short)]
    pub output: PathBuf,
    /// Rows of the dummy set, or the first N rows of the file.
    #[arg(long, visible_alias = "dataset-limit", value_parser = positive)]
    pub num_samples: Option<usize>,
    /// Dimension of the dummy set, or the dimension the file must have.
    #[arg(long, value_parser = positive)]
    pub dim: Option<usize>,
    /// Seed of the dummy dataset.
    #[arg(long, default_value_t = 42, value_parser = clap::value_parser!(u32))]
    pub data_seed: u32,
    /// The metric the neighbours are exact under: l2 (squared Euclidean, nearest first),
    /// ip (inner product) or cosine (largest first); a run reading the file must use the
    /// same --metric.
    #[arg(long, default_value = "l2", value_parser = metric)]
    pub metric: vq::Metric,
    /// Worker threads (0: every core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

/// `precompute-gt`: the newer tool's command and flag names.
#[derive(Args, Debug)]
pub struct PrecomputeGtArgs {
    /// The vectors: a file or a folder of shards, in any format `--dataset` reads.
    #[arg(long)]
    pub vectors_path: PathBuf,
    /// Output .npy file (int64 ids, one row of --k per query).
    #[arg(long)]
    pub output_path: PathBuf,
    /// Queries: the first N rows of --vectors-path, which stay in the base.
    #[arg(long, default_value_t = 100, value_parser = positive)]
    pub num_queries: usize,
    /// Neighbours per query.
    #[arg(long, short, default_value_t = 100, value_parser = positive)]
    pub k: usize,
    /// The metric the neighbours are exact under: l2 (squared Euclidean), ip (inner
    /// product) or cosine.
    #[arg(long, default_value = "l2", value_parser = metric)]
    pub metric: vq::Metric,
    /// Worker threads (0: every core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

/// A parsed comma-separated list of integers (a newtype: clap reads a `Vec` field as a
/// repeated flag, and the original tool takes one comma-separated value).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct List(pub Vec<usize>);

/// The parsed `--method` list of `sweep`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Methods(pub Vec<Method>);

/// An integer ≥ 1.
pub fn positive(s: &str) -> Result<usize, String> {
    let t = s.trim();
    match t.parse::<i64>() {
        Ok(v) if v >= 1 => Ok(v as usize),
        Ok(v) => Err(format!("{v} is not allowed, expected an integer >= 1")),
        Err(_) => Err(format!("'{s}' is not an integer, expected an integer >= 1")),
    }
}

fn positive_f32(s: &str) -> Result<f32, String> {
    match s.trim().parse::<f32>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("'{s}' is not a number > 0")),
    }
}

fn non_negative_f64(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("'{s}' is not a number >= 0")),
    }
}

fn clusters(s: &str) -> Result<usize, String> {
    let v = positive(s)?;
    in_range(v, 2, 65536, "centroids per sub-quantizer")
}

fn sq_bits(s: &str) -> Result<u32, String> {
    let v = positive(s)?;
    if matches!(v, 4 | 8 | 16) {
        Ok(v as u32)
    } else {
        Err(format!("{v} bits is not supported, expected 4, 8 or 16"))
    }
}

fn in_range(v: usize, lo: usize, hi: usize, what: &str) -> Result<usize, String> {
    if (lo..=hi).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{v} {what} is out of range, expected {lo}..={hi}"))
    }
}

/// A comma-separated list of integers ≥ 1: `"4,8,16"`. Rejects empty entries (`"4,,8"`),
/// non-integers and duplicates, naming the offending entry.
pub fn positive_list(s: &str) -> Result<List, String> {
    parse_list(s).map(List)
}

fn parse_list(s: &str) -> Result<Vec<usize>, String> {
    parse_list_of(s, positive)
}

/// A comma-separated list, each entry read by `entry` (which names the range it accepts),
/// rejecting empty entries and duplicates.
fn parse_list_of(s: &str, entry: fn(&str) -> Result<usize, String>) -> Result<Vec<usize>, String> {
    if s.trim().is_empty() {
        return Err("empty list, expected comma-separated integers >= 1 such as \"4,8,16\"".into());
    }
    let mut out = Vec::new();
    for (i, part) in s.split(',').enumerate() {
        let p = part.trim();
        if p.is_empty() {
            return Err(format!(
                "entry {} of \"{s}\" is empty, expected comma-separated integers >= 1 such as \"4,8,16\"",
                i + 1
            ));
        }
        let v = entry(p).map_err(|e| format!("entry {} of \"{s}\": {e}", i + 1))?;
        if out.contains(&v) {
            return Err(format!("entry {} of \"{s}\" repeats {v}, expected distinct values", i + 1));
        }
        out.push(v);
    }
    Ok(out)
}

fn clusters_list(s: &str) -> Result<List, String> {
    let l = parse_list(s)?;
    l.iter().map(|&v| in_range(v, 2, 65536, "centroids per sub-quantizer")).collect::<Result<_, _>>().map(List)
}

fn pq_bits_list(s: &str) -> Result<List, String> {
    let l = parse_list(s)?;
    l.iter().map(|&v| in_range(v, 1, 16, "bits per PQ sub-code")).collect::<Result<_, _>>().map(List)
}

fn opq_bits_list(s: &str) -> Result<List, String> {
    let l = parse_list(s)?;
    l.iter().map(|&v| in_range(v, 1, 16, "bits per OPQ sub-code")).collect::<Result<_, _>>().map(List)
}

fn sq_bits_list(s: &str) -> Result<List, String> {
    let l = parse_list(s)?;
    l.iter().map(|&v| sq_bits(&v.to_string()).map(|b| b as usize)).collect::<Result<_, _>>().map(List)
}

/// RaBitQ bits per dimension, 1..=9; 0 and negative numbers are named with that range too
/// (not as "not >= 1"), so every rejected value reads alike.
fn rabitq_bits(s: &str) -> Result<u32, String> {
    rabitq_bits_entry(s).map(|v| v as u32)
}

fn rabitq_bits_entry(s: &str) -> Result<usize, String> {
    const WHAT: &str = "RaBitQ bits per dimension";
    match s.trim().parse::<i64>() {
        Ok(v @ 1..=9) => Ok(v as usize),
        Ok(v) => Err(format!("{v} {WHAT} is out of range, expected 1..=9")),
        Err(_) => Err(format!("'{s}' is not an integer, expected {WHAT} 1..=9")),
    }
}

fn rabitq_bits_list(s: &str) -> Result<List, String> {
    parse_list_of(s, rabitq_bits_entry).map(List)
}

/// Largest `--pq-rerank-factor`: with k at most the base size, k × factor stays far from
/// overflowing, and a million times k covers every code of any base vq-benchmark measures.
pub const MAX_RERANK_FACTOR: usize = 1_000_000;

/// `--pq-rerank-factor`: 0..=[`MAX_RERANK_FACTOR`]; negative numbers are named with that
/// range too.
fn rerank_factor(s: &str) -> Result<usize, String> {
    let range = format!("expected 0..={MAX_RERANK_FACTOR} (0: no re-ranking)");
    match s.trim().parse::<i64>() {
        Ok(v) => usize::try_from(v)
            .ok()
            .filter(|&f| f <= MAX_RERANK_FACTOR)
            .ok_or_else(|| format!("{v} PQ fast-scan re-rank factor is out of range, {range}")),
        Err(_) => Err(format!("'{s}' is not an integer, {range}")),
    }
}

/// `--rabitq-qb`: FAISS's number, 0 for a float query.
fn rabitq_qb(s: &str) -> Result<vq::QueryBits, String> {
    let range = "expected 1..=8, or 0 for a float query";
    match s.trim().parse::<i64>() {
        Ok(v) => u32::try_from(v)
            .ok()
            .and_then(|qb| vq::QueryBits::from_number(qb).ok())
            .ok_or_else(|| format!("{v} RaBitQ query bits is out of range, {range}")),
        Err(_) => Err(format!("'{s}' is not an integer, {range}")),
    }
}

/// `--rabitq-epsilon`: ε₀, finite and >= 0 (the library's own check, named here first).
fn rabitq_epsilon(s: &str) -> Result<f32, String> {
    match s.trim().parse::<f32>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("'{s}' is not a valid RaBitQ epsilon, expected a finite number >= 0 (1.9 is the papers')")),
    }
}

fn shard_spec(s: &str) -> Result<Shard, String> {
    let usage = "expected I/N with integers 0 <= I < N, e.g. 0/4";
    let (i, n) = s.split_once('/').ok_or_else(|| format!("not a shard, {usage}"))?;
    let parse = |v: &str| v.trim().parse::<usize>().map_err(|_| format!("'{v}' is not an integer, {usage}"));
    let (index, count) = (parse(i)?, parse(n)?);
    if count == 0 {
        return Err(format!("0 shards, {usage}"));
    }
    if index >= count {
        return Err(format!("shard index {index} is out of range, expected 0..={}", count - 1));
    }
    Ok(Shard { index, count })
}

fn sweep_id_arg(s: &str) -> Result<String, String> {
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
    if s.is_empty() || s.len() > 128 || !s.chars().all(ok) {
        return Err("not a sweep id, expected 1 to 128 letters, digits, '_', '-' or '.'".into());
    }
    Ok(s.to_string())
}

/// `--metric`: any name `vq::Metric::parse` reads (`l2`, `ip`, `inner_product`,
/// `METRIC_INNER_PRODUCT`, `cosine`, `cos`, ...), case-insensitively, so the newer tool's
/// `--rabitq-metric-type L2|INNER_PRODUCT` (FAISS's names) read as written.
pub fn metric(s: &str) -> Result<vq::Metric, String> {
    vq::Metric::parse(s).map_err(|_| {
        format!(
            "unknown metric '{s}', expected l2 (also L2), ip (inner product, also INNER_PRODUCT) or cosine (also cos)"
        )
    })
}

fn methods(s: &str) -> Result<Methods, String> {
    let mut out = Vec::new();
    for part in s.split(',') {
        let m = match part.trim() {
            "pq" => Method::Pq,
            "sq" => Method::Sq,
            "opq" => Method::Opq,
            "rabitq" => Method::Rabitq,
            other => {
                return Err(format!(
                    "unknown method '{other}', expected pq, opq, sq, rabitq or a list such as \"pq,opq,sq,rabitq\""
                ))
            }
        };
        if !out.contains(&m) {
            out.push(m);
        }
    }
    Ok(Methods(out))
}

/// `embed`: texts to sentence embeddings.
#[derive(Args, Debug)]
pub struct EmbedArgs {
    /// The sentence model's folder: config.json (BERT), model.safetensors, tokenizer.json,
    /// and sentence-transformers' modules.json, 1_Pooling/, sentence_bert_config.json.
    #[arg(long)]
    pub model: PathBuf,
    /// The texts, one per line (UTF-8).
    #[arg(long)]
    pub texts: PathBuf,
    /// Embed only the first N lines.
    #[arg(long, value_parser = positive)]
    pub limit: Option<usize>,
    /// The embeddings' file: .npy or .fbin (float32), one row per line of --texts.
    #[arg(long, short)]
    pub output: PathBuf,
    /// Worker threads (0: every core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_parse_and_reject_with_the_entry_named() {
        assert_eq!(positive_list("4, 8,16").unwrap().0, vec![4, 8, 16]);
        assert!(positive_list("4,,8").unwrap_err().contains("entry 2"));
        assert!(positive_list("abc").unwrap_err().contains("'abc' is not an integer"));
        assert!(positive_list("4,0").unwrap_err().contains("0 is not allowed"));
        assert!(positive_list("-3").unwrap_err().contains("-3 is not allowed"));
        assert!(positive_list("4,4").unwrap_err().contains("repeats 4"));
        assert!(clusters_list("1").unwrap_err().contains("2..=65536"));
        assert!(sq_bits_list("4,7").unwrap_err().contains("7 bits"));
        assert_eq!(pq_bits_list("4,8").unwrap().0, vec![4, 8]);
        assert_eq!(methods("pq,sq").unwrap().0, vec![Method::Pq, Method::Sq]);
        assert_eq!(methods("pq, opq,sq").unwrap().0, vec![Method::Pq, Method::Opq, Method::Sq]);
        assert!(methods("lopq").unwrap_err().contains("'lopq'"));
        assert_eq!(opq_bits_list("8").unwrap().0, vec![8]);
        assert!(opq_bits_list("17").unwrap_err().contains("17 bits per OPQ sub-code is out of range, expected 1..=16"));
        assert!(opq_bits_list("0").unwrap_err().contains("0 is not allowed"));
        assert_eq!(metric("METRIC_INNER_PRODUCT").unwrap(), vq::Metric::InnerProduct);
        assert_eq!(metric("cos").unwrap(), vq::Metric::Cosine);
        assert_eq!(metric("L2").unwrap(), vq::Metric::L2);
        let e = metric("manhattan").unwrap_err();
        assert!(e.contains("'manhattan'") && e.contains("l2") && e.contains("cosine"), "{e}");
    }

    #[test]
    fn rabitq_values_parse_and_name_their_range() {
        assert_eq!(methods("pq,rabitq").unwrap().0, vec![Method::Pq, Method::Rabitq]);
        assert_eq!(rabitq_bits_list("1, 9").unwrap().0, vec![1, 9]);
        for (bad, want) in [("0", "0 RaBitQ bits per dimension is out of range, expected 1..=9"), ("10", "10 RaBitQ")] {
            assert!(rabitq_bits(bad).unwrap_err().contains(want), "{bad}");
            assert!(rabitq_bits_list(&format!("4,{bad}")).unwrap_err().contains(want), "{bad}");
        }
        assert!(rabitq_bits("-1").unwrap_err().contains("-1 RaBitQ bits per dimension is out of range"));
        assert!(rabitq_bits_list("1,1").unwrap_err().contains("repeats 1"));
        assert_eq!(rabitq_qb("0").unwrap(), vq::QueryBits::Float);
        assert_eq!(rabitq_qb("8").unwrap(), vq::QueryBits::Quantized(8));
        assert!(rabitq_qb("9").unwrap_err().contains("9 RaBitQ query bits is out of range, expected 1..=8, or 0"));
        assert_eq!(rabitq_epsilon("0").unwrap(), 0.0);
        for bad in ["-0.5", "NaN", "inf", "x"] {
            assert!(rabitq_epsilon(bad).unwrap_err().contains(&format!("'{bad}' is not a valid RaBitQ epsilon")));
        }
        // The newer tool's spellings, as it writes them.
        assert_eq!(metric("INNER_PRODUCT").unwrap(), vq::Metric::InnerProduct);
        assert_eq!(metric("L2").unwrap(), vq::Metric::L2);
        assert!(metric("HAMMING").unwrap_err().contains("INNER_PRODUCT"));
    }

    #[test]
    fn rerank_factors_parse_and_name_their_range() {
        assert_eq!(rerank_factor("0").unwrap(), 0);
        assert_eq!(rerank_factor(" 1000000").unwrap(), MAX_RERANK_FACTOR);
        let range = "PQ fast-scan re-rank factor is out of range, expected 0..=1000000 (0: no re-ranking)";
        assert_eq!(rerank_factor("-1").unwrap_err(), format!("-1 {range}"));
        assert_eq!(rerank_factor("1000001").unwrap_err(), format!("1000001 {range}"));
        assert!(rerank_factor("four").unwrap_err().starts_with("'four' is not an integer, expected 0..="));
    }

    #[test]
    fn shard_specs_and_sweep_ids() {
        assert_eq!(shard_spec("2/4").unwrap(), Shard { index: 2, count: 4 });
        assert_eq!(shard_spec("0/1").unwrap(), Shard { index: 0, count: 1 });
        assert!(shard_spec("4/4").unwrap_err().contains("index 4 is out of range, expected 0..=3"));
        assert!(shard_spec("a/3").unwrap_err().contains("'a' is not an integer"));
        assert!(shard_spec("3").unwrap_err().contains("expected I/N"));
        assert!(shard_spec("0/0").unwrap_err().contains("0 shards"));
        assert!(shard_spec("-1/3").is_err());
        assert_eq!(sweep_id_arg("sweep_2026.a-b").unwrap(), "sweep_2026.a-b");
        assert!(sweep_id_arg("a b").is_err() && sweep_id_arg("").is_err() && sweep_id_arg("x/y").is_err());
    }
}
