import { randomInt } from 'node:crypto';
import { createServer } from 'node:net';

/**
 * Ports handed out below Linux's default ephemeral range (32768–60999): a port the OS picks for
 * a listener is also one it may give the next outbound connection as its local port, and then
 * the process that was to listen on it fails with EADDRINUSE (seen in tests that keep many
 * connections open). A random port here is free unless another listener took it.
 */
const LOW = 20_000;
const HIGH = 32_767;

/** A TCP port on 127.0.0.1 that was free a moment ago (random below the ephemeral range; else the OS picks one). */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const port = randomInt(LOW, HIGH + 1);
    if (await portFree(port)) return port;
  }
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Whether `port` on 127.0.0.1 can be listened on now. */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}
