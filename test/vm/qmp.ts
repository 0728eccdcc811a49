// A minimal QMP client for the VM tier's host side: connects to QEMU's monitor socket,
// leaves capabilities negotiation mode, runs one command and collects the events that
// arrive (e.g. DEVICE_DELETED). Used to hot-unplug a controller under IO (device_del).
import * as net from 'net';

/** What a command returned, and the events seen while waiting. */
export interface QmpResult {
  reply: unknown;
  events: { event: string; data?: unknown }[];
}

/**
 * Runs `execute` with `args` on the monitor at `socket`, then keeps listening `lingerMs`
 * for events. Rejects when the monitor cannot be reached or answers with an error.
 */
export function qmpCommand(socket: string, execute: string, args: Record<string, unknown>, lingerMs = 0): Promise<QmpResult> {
  return new Promise((resolve, reject) => {
    const conn = net.createConnection(socket);
    const events: QmpResult['events'] = [];
    let pending = '';
    let stage: 'greeting' | 'capabilities' | 'command' | 'linger' = 'greeting';
    let reply: unknown;
    const finish = (err?: Error): void => {
      conn.destroy();
      if (err) reject(err);
      else resolve({ reply, events });
    };
    const timer = setTimeout(() => finish(new Error(`QMP ${execute}: no answer within 10 s`)), 10_000 + lingerMs);
    conn.on('error', (e) => {
      clearTimeout(timer);
      finish(e);
    });
    conn.setEncoding('utf8');
    conn.on('data', (chunk: string) => {
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl).trim();
        pending = pending.slice(nl + 1);
        if (!line) continue;
        const msg = JSON.parse(line) as { QMP?: unknown; return?: unknown; error?: { desc: string }; event?: string; data?: unknown };
        if (msg.event) {
          events.push({ event: msg.event, data: msg.data });
          continue;
        }
        if (stage === 'greeting' && msg.QMP) {
          stage = 'capabilities';
          conn.write(JSON.stringify({ execute: 'qmp_capabilities' }) + '\n');
        } else if (stage === 'capabilities') {
          stage = 'command';
          conn.write(JSON.stringify({ execute, arguments: args }) + '\n');
        } else if (stage === 'command') {
          if (msg.error) {
            clearTimeout(timer);
            finish(new Error(`QMP ${execute}: ${msg.error.desc}`));
            return;
          }
          reply = msg.return;
          stage = 'linger';
          setTimeout(() => {
            clearTimeout(timer);
            finish();
          }, lingerMs);
        }
      }
    });
  });
}
