import { MemoryQueue } from '../../src/buffer/index.js';
import { CONFORMANCE_PAYLOAD_BYTES, runQueueConformance } from './queue-conformance.js';

runQueueConformance('MemoryQueue', {
  countsReadRecords: false,
  async create({ whenFull, capacityRecords }) {
    return new MemoryQueue({ whenFull, maxRecords: capacityRecords, maxBytes: capacityRecords * CONFORMANCE_PAYLOAD_BYTES * 10 });
  },
  async dispose(queue) {
    await queue.close();
  },
});
