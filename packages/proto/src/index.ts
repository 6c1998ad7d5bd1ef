/**
 * The wire contract of router-service: router.RouterService and the standard
 * grpc.health.v1 and server reflection services, as ts-proto code for
 * grpc-js, plus the compiler's descriptors for server reflection.
 */
export * from './gen/router/router.js';
export * as health from './gen/grpc/health/v1/health.js';
export * as reflectionV1 from './gen/grpc/reflection/v1/reflection.js';
export * as reflectionV1alpha from './gen/grpc/reflection/v1alpha/reflection.js';
export { fileDescriptorSetBase64 } from './gen/descriptor-set.js';
