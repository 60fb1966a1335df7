import { DiskBuffer, type EventQueue } from '../../src/buffer/index.js';
import { SEGMENT_HEADER_BYTES } from '../../src/buffer/segment.js';
import { makeTempDirectory } from './helpers.js';
import { CONFORMANCE_PAYLOAD_BYTES, runQueueConformance } from './queue-conformance.js';

const RECORD_BYTES = 16 + CONFORMANCE_PAYLOAD_BYTES;
const RECORDS_PER_SEGMENT = 8;

const directories = new Map<EventQueue, () => Promise<void>>();

runQueueConformance('DiskBuffer', {
  countsReadRecords: true,
  async create({ whenFull, capacityRecords }) {
    // Segments of 8 records, and maxBytes fits exactly capacityRecords of them with their headers.
    const segments = Math.ceil(capacityRecords / RECORDS_PER_SEGMENT);
    const segmentBytes = SEGMENT_HEADER_BYTES + RECORDS_PER_SEGMENT * RECORD_BYTES;
    const maxBytes = segments * SEGMENT_HEADER_BYTES + capacityRecords * RECORD_BYTES;
    const directory = await makeTempDirectory();
    const queue = new DiskBuffer({ directory: directory.path, whenFull, segmentBytes, maxBytes, fsync: 'never' });
    await queue.open();
    directories.set(queue, directory.remove);
    return queue;
  },
  async dispose(queue) {
    await queue.close();
    await directories.get(queue)?.();
    directories.delete(queue);
  },
});
