/**
 * Endpoints of router-service (vsock, unix, tcp): their URLs, serving a
 * grpc-js server on them, and clients that dial them.
 */
export * from './endpoint.js';
export * from './serve.js';
export * from './client.js';
