import net from 'node:net';

/**
 * Opens a TCP connection to the collector and closes it at once. Resolves with undefined when
 * the handshake completed within `timeoutMs`, or with the error that stopped it. A collector
 * host that went silent (power loss, a firewall dropping packets) fails this probe by timeout,
 * which the data connection alone would not show until the kernel's retransmissions give up.
 */
export function probeTcp(host: string, port: number, timeoutMs: number): Promise<Error | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(new Error(`health probe to ${host}:${port} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(undefined);
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(new Error(`health probe to ${host}:${port} failed: ${error.message}`));
    });
  });
}
