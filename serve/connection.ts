// One end of a served connection: sends and receives protocol messages over a channel
// socket (lib/channel.ts), watched by libuv, so an idle connection costs no CPU. The
// socket's messages are drained on each wake-up; a hang-up (the peer closed or died, kill
// -9 included: the kernel closes its socket) calls onClose once.
import { closeChannelFd, receiveMessage, sendMessage, waitReadable, watchSocket, type ChannelMessage, type ChannelWatch } from '../lib/channel';
import { ServeClosedError } from './protocol';


export class Connection {
  private watch: ChannelWatch | undefined;
  private closed = false;

  constructor(
    readonly fd: number,
    private readonly onMessage: (m: ChannelMessage) => void,
    private readonly onClose: () => void,
    /**
     * How long a send may wait for the peer to make room before the connection is given
     * up. The daemon gives 0: a client that stopped reading must not hold up the others.
     */
    private readonly sendWaitMs = 5000,
  ) {
    this.watch = watchSocket(fd, () => this.drain());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Lets the process exit while this connection is open (a client's idle control socket). */
  unref(): void {
    this.watch?.unref();
  }

  /** Keeps the process alive while this connection is open (an answer is awaited). */
  ref(): void {
    this.watch?.ref();
  }

  /** Sends one message; a peer that does not read for sendWaitMs is disconnected. */
  send(data: Uint8Array, fds: number[] = []): void {
    if (this.closed) throw new ServeClosedError('the connection is closed');
    const deadline = Date.now() + this.sendWaitMs;
    try {
      // Control messages are small and rare: a full socket means the peer stopped reading.
      while (!sendMessage(this.fd, data, fds)) {
        if (Date.now() >= deadline) throw new ServeClosedError(`the peer did not read its socket for ${this.sendWaitMs} ms`);
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
      }
    } catch (e) {
      this.close();
      throw e instanceof ServeClosedError ? e : new ServeClosedError((e as Error).message);
    }
  }

  /**
   * Blocks until a message arrives (or `timeoutMs` passes: null) and returns it: the
   * synchronous path of a request that must answer inside a synchronous call (a DMA
   * mapping). Messages are not reordered: the caller dispatches what it did not wait for.
   */
  receiveNow(timeoutMs: number): ChannelMessage | null {
    if (this.closed) return null;
    const m = receiveMessage(this.fd);
    if (m) return m;
    if (!waitReadable(this.fd, timeoutMs)) return null;
    return receiveMessage(this.fd);
  }

  /** Delivers one message received by receiveNow through the usual path. */
  deliver(m: ChannelMessage): void {
    if (m.closed) this.hangUp();
    else this.onMessage(m);
  }

  private drain(): void {
    while (!this.closed) {
      let m: ChannelMessage | null;
      try {
        m = receiveMessage(this.fd);
      } catch {
        // An oversized message or a socket error: the peer is broken; drop it.
        this.hangUp();
        return;
      }
      if (!m) return;
      this.deliver(m);
    }
  }

  private hangUp(): void {
    if (this.closed) return;
    this.close();
    this.onClose();
  }

  /** Closes the socket (idempotent). onClose is not called for a close from this side. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.watch?.close();
    this.watch = undefined;
    closeChannelFd(this.fd);
  }
}
