export { DiskBuffer, type DiskBufferStats } from './disk-buffer.js';
export { type DiskBufferOptions, type FsyncMode, FSYNC_MODES } from './disk-buffer-options.js';
export type { DiskBufferFs } from './disk-fs.js';
export { MemoryQueue, type MemoryQueueOptions } from './memory-queue.js';
export {
  FULL_POLICIES,
  type DropReason,
  type EventQueue,
  type FullPolicy,
  type QueueEvents,
  QueuedRecord,
  type QueueRecord,
  type QueueStats,
} from './queue.js';
