/**
 * Clients of the standard services every router-service offers next to its
 * own: grpc.health.v1.Health and grpc.reflection.v1.ServerReflection (what
 * grpcurl uses). Their definitions are the published ones, written out here
 * as protobuf.js JSON, so that nothing but router.proto ships with the tests.
 */
import {
  credentials,
  loadPackageDefinition,
  Metadata,
  type Client,
  type GrpcObject,
  type ServiceClientConstructor,
  type ServiceError,
} from '@grpc/grpc-js';
import { fromJSON } from '@grpc/proto-loader';

// protobuf.js's types require a `comment` on every method.
const HEALTH_V1 = {
  HealthCheckRequest: { fields: { service: { type: 'string', id: 1 } } },
  HealthCheckResponse: {
    fields: { status: { type: 'ServingStatus', id: 1 } },
    nested: { ServingStatus: { values: { UNKNOWN: 0, SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 } } },
  },
  Health: { methods: { Check: { requestType: 'HealthCheckRequest', responseType: 'HealthCheckResponse', comment: '' } } },
};

const REFLECTION_V1 = {
  ServerReflectionRequest: {
    oneofs: { message_request: { oneof: ['file_by_filename', 'file_containing_symbol', 'list_services'] } },
    fields: {
      host: { type: 'string', id: 1 },
      file_by_filename: { type: 'string', id: 3 },
      file_containing_symbol: { type: 'string', id: 4 },
      list_services: { type: 'string', id: 7 },
    },
  },
  ServerReflectionResponse: {
    fields: {
      valid_host: { type: 'string', id: 1 },
      file_descriptor_response: { type: 'FileDescriptorResponse', id: 4 },
      list_services_response: { type: 'ListServiceResponse', id: 6 },
      error_response: { type: 'ErrorResponse', id: 7 },
    },
  },
  // The protocol sends serialized FileDescriptorProtos as `bytes`; on the
  // wire that is the same as an embedded message, so they are decoded here
  // directly as the part of google.protobuf.FileDescriptorProto the tests read.
  FileDescriptorResponse: { fields: { file_descriptor_proto: { rule: 'repeated', type: 'FileDescriptor', id: 1 } } },
  FileDescriptor: {
    fields: {
      name: { type: 'string', id: 1 },
      package: { type: 'string', id: 2 },
      message_type: { rule: 'repeated', type: 'MessageDescriptor', id: 4 },
    },
  },
  MessageDescriptor: {
    fields: { name: { type: 'string', id: 1 }, field: { rule: 'repeated', type: 'FieldDescriptor', id: 2 } },
  },
  FieldDescriptor: {
    fields: {
      name: { type: 'string', id: 1 },
      number: { type: 'int32', id: 3 },
      label: { type: 'int32', id: 4 },
      type: { type: 'int32', id: 5 },
      proto3_optional: { type: 'bool', id: 17 },
    },
  },
  ListServiceResponse: { fields: { service: { rule: 'repeated', type: 'ServiceResponse', id: 1 } } },
  ServiceResponse: { fields: { name: { type: 'string', id: 1 } } },
  ErrorResponse: { fields: { error_code: { type: 'int32', id: 1 }, error_message: { type: 'string', id: 2 } } },
  ServerReflection: {
    methods: {
      ServerReflectionInfo: {
        requestType: 'ServerReflectionRequest',
        requestStream: true,
        responseType: 'ServerReflectionResponse',
        responseStream: true,
        comment: '',
      },
    },
  },
};

export interface FieldDescriptor {
  name: string;
  number: number;
  label: number;
  type: number;
  proto3_optional: boolean;
}

export interface FileDescriptor {
  name: string;
  package: string;
  message_type: { name: string; field: FieldDescriptor[] }[];
}

export interface ReflectionResponse {
  valid_host: string;
  file_descriptor_response: { file_descriptor_proto: FileDescriptor[] } | null;
  list_services_response: { service: { name: string }[] } | null;
  error_response: { error_code: number; error_message: string } | null;
}

export type ReflectionRequest = { file_containing_symbol: string } | { list_services: string } | { file_by_filename: string };

const standard = loadPackageDefinition(
  fromJSON(
    { nested: { grpc: { nested: { health: { nested: { v1: { nested: HEALTH_V1 } } }, reflection: { nested: { v1: { nested: REFLECTION_V1 } } } } } } },
    { keepCase: true, defaults: true, enums: String },
  ),
);

function service(path: readonly string[]): ServiceClientConstructor {
  let node: GrpcObject | ServiceClientConstructor | undefined = standard;
  for (const name of path) node = (node as GrpcObject)[name] as GrpcObject | ServiceClientConstructor | undefined;
  if (typeof node !== 'function') throw new Error(`no service ${path.join('.')}`);
  return node;
}

const Health = service(['grpc', 'health', 'v1', 'Health']);
const Reflection = service(['grpc', 'reflection', 'v1', 'ServerReflection']);

function deadline(): Date {
  return new Date(Date.now() + 20_000);
}

/** grpc.health.v1.Health/Check: the serving status of `serviceName` ('' for the whole server). */
export function healthCheck(socketPath: string, serviceName: string): Promise<string> {
  const client: Client = new Health(`unix://${socketPath}`, credentials.createInsecure());
  const check = Health.service['Check'];
  if (check === undefined) throw new Error('no Health/Check');
  return new Promise<string>((resolve, reject) => {
    client.makeUnaryRequest(
      check.path,
      check.requestSerialize,
      check.responseDeserialize,
      { service: serviceName },
      new Metadata(),
      { deadline: deadline() },
      (error: ServiceError | null, response?: unknown) => {
        if (error !== null) reject(error);
        else resolve((response as { status: string }).status);
      },
    );
  }).finally(() => client.close());
}

/** One request on a grpc.reflection.v1 stream, and its answer. */
export function reflect(socketPath: string, request: ReflectionRequest): Promise<ReflectionResponse> {
  const client: Client = new Reflection(`unix://${socketPath}`, credentials.createInsecure());
  const info = Reflection.service['ServerReflectionInfo'];
  if (info === undefined) throw new Error('no ServerReflection/ServerReflectionInfo');
  return new Promise<ReflectionResponse>((resolve, reject) => {
    const call = client.makeBidiStreamRequest(info.path, info.requestSerialize, info.responseDeserialize, new Metadata(), {
      deadline: deadline(),
    });
    call.once('data', (response: unknown) => {
      resolve(response as ReflectionResponse);
      call.end();
    });
    call.on('error', reject);
    call.write({ host: '', ...request });
  }).finally(() => client.close());
}
