// phyr serve: one controller, many processes (docs/SERVE.md). The daemon (daemon.ts), the
// client (client.ts, the package's connect()) and what crosses the socket (protocol.ts).
export { ServeDaemon, ServeTargetError, sharedTarget } from './daemon';
export type { ServeOptions } from './daemon';
export { connect, ServedController, ServedNamespace } from './client';
export type { ConnectOptions } from './client';
export { SERVE_PROTOCOL_VERSION, ServeClosedError, ServeProtocolError, ServeRequestError, parseRequest } from './protocol';
export type { AttachInfo, ServeClientStatus, ServeStatus, ServedNamespaceInfo } from './protocol';
export { ServeConnectError } from './socket-connect';
