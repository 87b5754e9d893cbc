/**
 * Typed errors of the dataset feature: each names the bad value and what is allowed.
 *
 * @module
 */
import { VisionDataError } from "../errors.ts";

/**
 * A symbol selection (explicit list or glob) that matches nothing the archive lists.
 *
 * @example
 * ```ts
 * import { SymbolSelectionError } from "@vision-data/client/dataset";
 * const e = new SymbolSelectionError("*XYZ", "spot", ["BTCUSDT", "ETHUSDT"]);
 * e.message; // 'No spot symbol matches "*XYZ"; listed (2): BTCUSDT, ETHUSDT'
 * ```
 */
export class SymbolSelectionError extends VisionDataError {
  /** The rejected selection. */
  readonly selection: string;
  /** Up to 20 of the symbols that exist. */
  readonly available: readonly string[];
  /**
   * Creates a SymbolSelectionError.
   *
   * @param selection the glob or symbol that matched nothing
   * @param market the market that was searched
   * @param available every listed symbol (the message shows at most 20)
   * @param hint a more specific reason (e.g. "did you mean …")
   */
  constructor(selection: string, market: string, available: readonly string[], hint = "") {
    const shown = available.slice(0, 20);
    const more = available.length > shown.length
      ? `, … ${available.length - shown.length} more`
      : "";
    super(
      `No ${market} symbol matches ${
        JSON.stringify(selection)
      }${hint}; listed (${available.length}): ${shown.join(", ") || "none"}${more}`,
    );
    this.selection = selection;
    this.available = shown;
  }
}

/**
 * A bad market name for a dataset call.
 *
 * @example
 * ```ts
 * import { UnknownMarketError } from "@vision-data/client/dataset";
 * new UnknownMarketError("spott").message; // 'Unknown market "spott": allowed spot, um, cm'
 * ```
 */
export class UnknownMarketError extends VisionDataError {
  /** The rejected market. */
  readonly market: string;
  /** @param market the rejected market */
  /**
   * Creates an instance.
   *
   * @param market the market asked for
   */
  constructor(market: string) {
    super(`Unknown market ${JSON.stringify(market)}: allowed spot, um, cm`);
    this.market = market;
  }
}

/**
 * A bad shard specification: not `K/N` with `1 ≤ K ≤ N`.
 *
 * @example
 * ```ts
 * import { InvalidShardError } from "@vision-data/client/dataset";
 * new InvalidShardError("3/2").message; // 'Invalid shard "3/2": expected K/N with 1 ≤ K ≤ N …'
 * ```
 */
export class InvalidShardError extends VisionDataError {
  /** The rejected value. */
  readonly value: string;
  /**
   * @param value the rejected value
   * @param source where it came from (`--shard`, an environment variable)
   */
  /**
   * Creates an instance.
   *
   * @param value the shard spec given
   * @param source where it came from (the option, or an environment variable)
   */
  constructor(value: string, source = "shard") {
    super(
      `Invalid ${source} ${
        JSON.stringify(value)
      }: expected K/N with 1 ≤ K ≤ N ≤ 100000 (K is 1-based, e.g. 1/4)`,
    );
    this.value = value;
  }
}

/**
 * The output directory exists and holds something that is not a vision-data dataset.
 *
 * @example
 * ```ts
 * import { DatasetDirError } from "@vision-data/client/dataset";
 * const e = new DatasetDirError("/data", ["notes.txt"]);
 * ```
 */
export class DatasetDirError extends VisionDataError {
  /** The refused directory. */
  readonly dir: string;
  /**
   * @param dir the refused directory
   * @param found some of the entries found there
   */
  /**
   * Creates an instance.
   *
   * @param dir the output directory
   * @param found what it holds that is not a dataset
   */
  constructor(dir: string, found: readonly string[]) {
    super(
      `Refusing to write a dataset into ${JSON.stringify(dir)}: it holds other files (${
        found.slice(0, 5).join(", ")
      }${found.length > 5 ? ", …" : ""}); allowed: an empty or missing directory, or a ` +
        `vision-data dataset (one with a _vision_dataset.json marker)`,
    );
    this.dir = dir;
  }
}

/**
 * The disk filled up while writing a partition. The partition's previous file and manifest
 * are untouched (writes go to a temp file renamed into place), so the dataset stays valid;
 * free space and re-run the sync.
 *
 * @example
 * ```ts
 * import { DiskFullError } from "@vision-data/client/dataset";
 * const e = new DiskFullError("/data/market=spot/…/BTCUSDT-1m-2024-01.parquet");
 * ```
 */
export class DiskFullError extends VisionDataError {
  /** The file being written. */
  readonly path: string;
  /**
   * @param path the file being written
   * @param options standard error options (`cause`: the OS error)
   */
  /**
   * Creates an instance.
   *
   * @param path the file being written
   * @param options the underlying cause
   */
  constructor(path: string, options?: ErrorOptions) {
    super(
      `No space left on the device while writing ${JSON.stringify(path)}; ` +
        `the dataset is unchanged (the partial file was removed): free space and re-run the sync`,
      options,
    );
    this.path = path;
  }
}

/**
 * A dataset root (`--out`) that is not a usable path, or a partition manifest that cannot be
 * read as one.
 *
 * @example
 * ```ts
 * import { DatasetManifestError } from "@vision-data/client/dataset";
 * const e = new DatasetManifestError("/d/x/_manifest.json", "not JSON");
 * ```
 */
export class DatasetManifestError extends VisionDataError {
  /** The manifest path. */
  readonly path: string;
  /**
   * @param path the manifest path
   * @param reason what is wrong with it
   */
  /**
   * Creates an instance.
   *
   * @param path the manifest
   * @param reason what is wrong with it
   */
  constructor(path: string, reason: string) {
    super(
      `Bad partition manifest ${JSON.stringify(path)}: ${reason}; expected the JSON sync writes`,
    );
    this.path = path;
  }
}
