/**
 * Deadline-bounded resource management: {@linkcode ResourceOwner} (the client lifecycle),
 * {@linkcode DeadlineCleanupManager} (bounded cleanup tasks), per-owner temp directories.
 *
 * @module
 */
export {
  DisposeError,
  type DisposeErrorOptions,
  type DisposeReport,
  type DisposeStepReport,
} from "./dispose_error.ts";
export { type Lifecycle, type LifecycleOptions, type LifecycleState } from "./lifecycle.ts";
export { ResourceOwner, type ResourceOwnerOptions, type RunOptions } from "./owner.ts";
export {
  type CleanupTask,
  type CleanupTaskReport,
  type CleanupTaskStatus,
  DeadlineCleanupManager,
  type DeadlineCleanupManagerOptions,
} from "./deadline_cleanup_manager.ts";
export {
  createTempDir,
  isProcessAlive,
  removeTempDirSync,
  STALE_TEMP_DIR_AGE_MS,
  type SweepOptions,
  type SweepResult,
  sweepStaleTempDirs,
  TEMP_DIR_PREFIX,
  TempDir,
  type TempDirOptions,
} from "./temp_dir.ts";
