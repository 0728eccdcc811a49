// The phyr serve protocol: what crosses the daemon's Unix socket (docs/SERVE.md). One
// SOCK_SEQPACKET message is one JSON object (UTF-8), with the file descriptors it names
// attached (SCM_RIGHTS). Every request carries `id`; its answer echoes it, or is an
// `error` with a code. The daemon also sends `shutdown` unasked, once, before it closes.
// Version 2 (2: attach says how to map the doorbells, memfd or VFIO). Anything that does not parse, or lacks a field, is a ServeProtocolError
// naming what was wrong; the daemon answers it and keeps serving.
import { PhyrError } from '../lib/errors';

/** The protocol version this build speaks. */
export const SERVE_PROTOCOL_VERSION = 2;

/** A message was not a valid protocol message: `message` names the field and what is accepted. */
export class ServeProtocolError extends PhyrError {
  constructor(message: string) {
    super('PHYR_SERVE_BAD_MESSAGE', message);
  }
}

/** The daemon refused or failed a request; `code` is the daemon's (e.g. PHYR_SERVE_BAD_RANGE). */
export class ServeRequestError extends PhyrError {}

/** The daemon went away (SIGTERM, crash) or closed this client's connection. */
export class ServeClosedError extends PhyrError {
  constructor(reason: string) {
    super('PHYR_SERVE_CLOSED', `the phyr serve daemon closed the connection: ${reason}`);
  }
}

/** A namespace as the daemon describes it. */
export interface ServedNamespaceInfo {
  nsid: number;
  /** Bytes per LBA. */
  lbaSize: number;
  /** Capacity in LBAs. */
  blocks: number;
}

/**
 * How a client reaches its doorbells: the descriptor that comes with `attached` and what
 * to map of it. 'memfd': the embedded controller's BAR0 (a memfd), mapped whole. 'vfio':
 * the daemon's VFIO device fd; the client maps only the doorbell page of BAR0 and closes
 * the descriptor at once (docs/SERVE.md, the trust model).
 */
export interface DoorbellAccess {
  via: 'memfd' | 'vfio';
  /** mmap offset in the descriptor. */
  offset: number;
  /** Bytes to map (whole pages). */
  length: number;
  /** Offset in the mapping of the first doorbell (Submission Queue 0 Tail, NVMe 1.4 §3.1.24). */
  base: number;
}

/** What a client needs to build queue pairs on the served controller. */
export interface AttachInfo {
  clientId: number;
  /** 'emu' (the embedded controller) or 'vfio' (a PCI device through VFIO). */
  kind: 'emu' | 'vfio';
  /** BAR0 bytes. */
  barSize: number;
  /** What to map of the descriptor that came with the message. */
  doorbells: DoorbellAccess;
  /** CAP.DSTRD. */
  doorbellStride: number;
  /** CAP.MQES + 1. */
  maxQueueEntries: number;
  /** The device-address window this client's memory is mapped in, [start, end] inclusive. */
  iova: { start: number; end: number };
  caps: { pageSize: number; sglSupport: number; bitBucket: boolean; maxTransfer: number };
  namespaces: ServedNamespaceInfo[];
}

/** Daemon counters (the `status` request). */
export interface ServeStatus {
  clients: number;
  attached: number;
  detached: number;
  /** IO queue pairs deleted on the controller after their client went away. */
  releasedQueuePairs: number;
  /** IOMMU mappings removed after their client went away. */
  releasedMappings: number;
  /** Malformed messages answered with an error. */
  badMessages: number;
  /** IO queue pairs the live clients hold now. */
  queuePairs: number;
  /** IOMMU mappings the live clients hold now. */
  mappings: number;
  /**
   * IOMMU mappings of the controller now, the daemon's own included: the embedded
   * controller's count of its table; over VFIO the clients' mappings the daemon made (VFIO has no count).
   */
  iommuMappings: number;
  /** IO queue ids no client holds: with queuePairs, constant over a daemon's life (a leaked queue would lower it). */
  freeQueuePairs: number;
  /** One row per connected client: what it holds now (a killed client's row disappears on release). */
  perClient: ServeClientStatus[];
}

/** What one connected client holds (ServeStatus.perClient). */
export interface ServeClientStatus {
  clientId: number;
  pid: number;
  attached: boolean;
  queuePairs: number;
  mappings: number;
}

/** Requests, client -> daemon. `fds` travel beside the JSON. */
export type Request =
  | { type: 'attach'; id: number; version: number }
  | { type: 'map'; id: number; iova: number; length: number } // fds: [memfd]
  | { type: 'unmap'; id: number; iova: number; length: number }
  | { type: 'createQueuePair'; id: number; size: number; sqIova: number; cqIova: number }
  | { type: 'deleteQueuePair'; id: number; qid: number }
  | { type: 'identify'; id: number; cns: number; nsid: number }
  | { type: 'status'; id: number };

/** Answers and notices, daemon -> client. */
export type Reply =
  | { type: 'attached'; id: number; info: AttachInfo } // fds: [BAR0 memfd or the VFIO device fd]
  | { type: 'ok'; id: number }
  | { type: 'queuePair'; id: number; qid: number }
  | { type: 'identify'; id: number; data: string } // base64 of 4096 bytes
  | { type: 'status'; id: number; status: ServeStatus }
  | { type: 'error'; id: number; code: string; message: string }
  | { type: 'shutdown'; id: 0; reason: string };

const REQUEST_FIELDS: Record<Request['type'], string[]> = {
  attach: ['version'],
  map: ['iova', 'length'],
  unmap: ['iova', 'length'],
  createQueuePair: ['size', 'sqIova', 'cqIova'],
  deleteQueuePair: ['qid'],
  identify: ['cns', 'nsid'],
  status: [],
};
/** Descriptors each request must carry. */
export const REQUEST_FDS: Record<Request['type'], number> = { attach: 0, map: 1, unmap: 0, createQueuePair: 0, deleteQueuePair: 0, identify: 0, status: 0 };

function parseObject(data: Uint8Array, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
  } catch (e) {
    throw new ServeProtocolError(`${what} is not JSON (${(e as Error).message}); the protocol sends one JSON object per message`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ServeProtocolError(`${what} must be a JSON object`);
  return v as Record<string, unknown>;
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Parses one request; `fds` is how many descriptors came with it. */
export function parseRequest(data: Uint8Array, fds: number): Request {
  const o = parseObject(data, 'the request');
  const type = o.type;
  if (typeof type !== 'string' || !Object.hasOwn(REQUEST_FIELDS, type)) {
    throw new ServeProtocolError(`request type ${JSON.stringify(type)} is not one of ${Object.keys(REQUEST_FIELDS).join(', ')}`);
  }
  const t = type as Request['type'];
  if (!isCount(o.id) || o.id === 0) throw new ServeProtocolError(`${t}: id must be a positive integer, got ${JSON.stringify(o.id)}`);
  for (const f of REQUEST_FIELDS[t]) {
    if (!isCount(o[f])) throw new ServeProtocolError(`${t}: ${f} must be a non-negative integer, got ${JSON.stringify(o[f])}`);
  }
  if (fds !== REQUEST_FDS[t]) throw new ServeProtocolError(`${t}: carries ${fds} file descriptors, expected ${REQUEST_FDS[t]}`);
  return o as unknown as Request;
}

/** Parses one reply or notice. */
export function parseReply(data: Uint8Array): Reply {
  const o = parseObject(data, 'the reply');
  const types = ['attached', 'ok', 'queuePair', 'identify', 'status', 'error', 'shutdown'];
  if (typeof o.type !== 'string' || !types.includes(o.type)) throw new ServeProtocolError(`reply type ${JSON.stringify(o.type)} is not one of ${types.join(', ')}`);
  if (!isCount(o.id)) throw new ServeProtocolError(`${o.type}: id must be a non-negative integer`);
  return o as unknown as Reply;
}

/** One message's bytes. */
export function encode(m: Request | Reply): Uint8Array {
  return Buffer.from(JSON.stringify(m), 'utf8');
}
