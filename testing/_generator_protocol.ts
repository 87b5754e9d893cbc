/**
 * Messages between the replica and its archive generator worker.
 *
 * @module
 */
import type { Interval, MarketType } from "../src/market.ts";
import type { KlineKind } from "../src/kline_kind.ts";
import type { Period } from "./_archive.ts";
import type { CsvRules, MountedFixture, ReplicaSymbol } from "./_dataset.ts";

/** What the worker needs to rebuild the replica's dataset (sent once, first). */
export interface GeneratorInit {
  kind: "init";
  symbols: readonly ReplicaSymbol[];
  seed: number;
  fixtures: readonly MountedFixture[];
  csv: CsvRules;
}

/** One archive to build. */
export interface GeneratorJob {
  kind: "build";
  id: number;
  key: string;
  market: MarketType;
  symbol: string;
  interval: Interval;
  period: Period;
  zipName: string;
  /** Which klines (`ArchiveRef.kind`; `kind` is taken by the message tag). */
  klineKind: KlineKind;
  published: number;
  /** Undefined: the default for the archive's size. */
  zipLevel?: number;
}

/** The worker's answer: the zip (transferred) and its SHA-256, none, or a failure. */
export type GeneratorReply =
  | { id: number; ok: true; zip: ArrayBuffer | null; sha256: string }
  | { id: number; ok: false; message: string };

/** What the generator process reads from stdin: the dataset (fixture CSVs in base64) and one job. */
export interface ChildRequest {
  init: Omit<GeneratorInit, "kind" | "fixtures"> & {
    fixtures: (Omit<GeneratorInit["fixtures"][number], "csv"> & { csv: string })[];
  };
  job: GeneratorJob;
}
