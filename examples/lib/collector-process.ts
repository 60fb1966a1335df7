// Local syslog collectors in a child process, for examples whose own thread blocks: pino's main
// thread waits synchronously while its worker closes the transport, and a collector in that thread
// could not answer the transport's FIN meanwhile.
//
// Started by `startCollectorProcess(names)`; speaks to its parent over the IPC channel.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { LocalCollector } from './local-collector.js';

type Request = { kind: 'stop'; name: string } | { kind: 'messages' };
type Reply = { kind: 'ports'; ports: Record<string, number> } | { kind: 'messages'; messages: Record<string, string[]> };

/** The parent's handle on the collector process. */
export class CollectorProcess {
  constructor(
    private readonly child: ChildProcess,
    /** Loopback port of each collector, by name. */
    readonly ports: Record<string, number>,
  ) {}

  /** Kills one collector the way a crashed collector dies. */
  stop(name: string): void {
    this.child.send({ kind: 'stop', name } satisfies Request);
  }

  /** Returns the messages each collector received so far, by name. */
  async messages(): Promise<Record<string, string[]>> {
    this.child.send({ kind: 'messages' } satisfies Request);
    const [reply] = (await once(this.child, 'message')) as [Reply];
    if (reply.kind !== 'messages') throw new Error(`Unexpected reply ${reply.kind} from the collector process`);
    return reply.messages;
  }

  async close(): Promise<void> {
    this.child.kill();
    await once(this.child, 'exit');
  }
}

/** Starts one collector per name in a child process and resolves once all of them listen. */
export async function startCollectorProcess(names: string[]): Promise<CollectorProcess> {
  const child = fork(fileURLToPath(import.meta.url), names, { execArgv: ['--import', 'tsx'] });
  const [reply] = (await once(child, 'message')) as [Reply];
  if (reply.kind !== 'ports') throw new Error(`Unexpected reply ${reply.kind} from the collector process`);
  return new CollectorProcess(child, reply.ports);
}

async function serve(names: string[]): Promise<void> {
  const collectors = new Map(names.map((name) => [name, new LocalCollector(name)]));
  for (const collector of collectors.values()) await collector.start();
  const ports = Object.fromEntries([...collectors].map(([name, collector]) => [name, collector.port]));
  process.send?.({ kind: 'ports', ports } satisfies Reply);
  process.on('message', (request: Request) => {
    if (request.kind === 'stop') collectors.get(request.name)?.stop();
    if (request.kind === 'messages') {
      const messages = Object.fromEntries([...collectors].map(([name, collector]) => [name, collector.messages]));
      process.send?.({ kind: 'messages', messages } satisfies Reply);
    }
  });
  // The parent's exit closes the channel; the collectors go with it.
  process.on('disconnect', () => process.exit(0));
}

if (process.send !== undefined && process.argv[1] === fileURLToPath(import.meta.url)) {
  await serve(process.argv.slice(2));
}
