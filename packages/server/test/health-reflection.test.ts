import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { fromBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema, type FileDescriptorProto } from '@bufbuild/protobuf/wkt';
import { status, type ServiceError } from '@grpc/grpc-js';
import { health, reflectionV1, reflectionV1alpha } from '@router-service/proto';
import { rpc, startHarness, type Harness } from './harness.js';

const { SERVING, NOT_SERVING } = health.HealthCheckResponse_ServingStatus;

type ReflectionClient = reflectionV1.ServerReflectionClient | reflectionV1alpha.ServerReflectionClient;

/** Sends each request on one reflection stream and collects the answers. */
async function reflect(client: ReflectionClient, requests: reflectionV1.ServerReflectionRequest[]): Promise<reflectionV1.ServerReflectionResponse[]> {
  const stream = client.serverReflectionInfo();
  const answers: reflectionV1.ServerReflectionResponse[] = [];
  stream.on('data', (answer: reflectionV1.ServerReflectionResponse) => answers.push(answer));
  for (const request of requests) stream.write(request);
  stream.end();
  await once(stream, 'end');
  return answers;
}

function files(answer: reflectionV1.ServerReflectionResponse | undefined): FileDescriptorProto[] {
  return (answer?.fileDescriptorResponse?.fileDescriptorProto ?? []).map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes));
}

describe('grpc.health.v1', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  test('Check answers SERVING for the server and router.RouterService', async () => {
    const client = h.clientOf(health.HealthClient);
    for (const service of ['', 'router.RouterService']) {
      assert.deepEqual(await rpc<health.HealthCheckResponse>((done) => client.check({ service }, done)), { status: SERVING });
    }
  });

  test('Check of an unknown service is NOT_FOUND', async () => {
    const client = h.clientOf(health.HealthClient);
    const err = await rpc((done) => client.check({ service: 'nope.Service' }, done)).then(
      () => assert.fail('answered'),
      (e: ServiceError) => e,
    );
    assert.equal(err.code, status.NOT_FOUND);
    assert.equal(err.details, 'unknown service');
  });

  test('Watch sends the status, then NOT_SERVING and the end at shutdown', async () => {
    const client = h.clientOf(health.HealthClient);
    const stream = client.watch({ service: 'router.RouterService' });
    const seen: number[] = [];
    stream.on('data', (r: health.HealthCheckResponse) => seen.push(r.status));
    const ended = once(stream, 'end');
    await once(stream, 'data');
    h.health.shutdown();
    await ended;
    assert.deepEqual(seen, [SERVING, NOT_SERVING]);
  });
});

describe('server reflection', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  for (const [version, Client] of [
    ['v1', reflectionV1.ServerReflectionClient],
    ['v1alpha', reflectionV1alpha.ServerReflectionClient],
  ] as const) {
    test(`${version} lists router.RouterService and grpc.health.v1.Health`, async () => {
      const [answer] = await reflect(h.clientOf(Client), [{ host: '', listServices: '' }]);
      const names = answer?.listServicesResponse?.service.map((s) => s.name) ?? [];
      assert.ok(names.includes('router.RouterService'), names.join(', '));
      assert.ok(names.includes('grpc.health.v1.Health'), names.join(', '));
      assert.ok(names.includes(`grpc.reflection.${version}.ServerReflection`), names.join(', '));
    });

    test(`${version} describes CreateVLANRequest with optional bool enable_nat = 6`, async () => {
      const [answer] = await reflect(h.clientOf(Client), [{ host: '', fileContainingSymbol: 'router.CreateVLANRequest' }]);
      const [file] = files(answer);
      assert.equal(file?.name, 'router/router.proto');
      const message = file?.messageType.find((m) => m.name === 'CreateVLANRequest');
      const field = message?.field.find((f) => f.name === 'enable_nat');
      assert.equal(field?.number, 6);
      assert.equal(field?.proto3Optional, true);
      assert.equal(message?.oneofDecl[field?.oneofIndex ?? -1]?.name, '_enable_nat');
    });
  }

  test('only map entries are marked as map entries (what protobufjs-built descriptors got wrong)', async () => {
    const [answer] = await reflect(h.clientOf(reflectionV1.ServerReflectionClient), [{ host: '', fileByFilename: 'router/router.proto' }]);
    const [file] = files(answer);
    const request = file?.messageType.find((m) => m.name === 'ConfigureDNSRequest');
    assert.equal(request?.options?.mapEntry ?? false, false);
    assert.equal(request?.nestedType.find((m) => m.name === 'HostsEntry')?.options?.mapEntry, true);
  });

  test('finds services and methods, and sends a file once per stream but always the one asked for', async () => {
    const answers = await reflect(h.clientOf(reflectionV1.ServerReflectionClient), [
      { host: '', fileContainingSymbol: 'router.RouterService' },
      { host: '', fileContainingSymbol: 'router.RouterService.CreateVLAN' },
      { host: '', fileContainingSymbol: 'grpc.health.v1.Health' },
    ]);
    assert.deepEqual(answers.map((a) => files(a).map((f) => f.name)), [['router/router.proto'], ['router/router.proto'], ['grpc/health/v1/health.proto']]);
  });

  test('unknown symbols and files are NOT_FOUND error responses on a stream that stays usable', async () => {
    const answers = await reflect(h.clientOf(reflectionV1.ServerReflectionClient), [
      { host: '', fileContainingSymbol: 'router.NoSuchMessage' },
      { host: '', fileByFilename: 'nope.proto' },
      { host: '', fileContainingSymbol: 'grpc.health.v1.HealthCheckRequest' },
    ]);
    assert.deepEqual(answers[0]?.errorResponse, { errorCode: status.NOT_FOUND, errorMessage: 'symbol not found: router.NoSuchMessage' });
    assert.deepEqual(answers[1]?.errorResponse, { errorCode: status.NOT_FOUND, errorMessage: 'file not found: nope.proto' });
    assert.deepEqual(files(answers[2]).map((f) => f.name), ['grpc/health/v1/health.proto']);
    assert.equal(answers[2]?.originalRequest?.fileContainingSymbol, 'grpc.health.v1.HealthCheckRequest');
  });

  test('extension numbers of a message are an empty list; of an unknown type NOT_FOUND', async () => {
    const answers = await reflect(h.clientOf(reflectionV1.ServerReflectionClient), [
      { host: '', allExtensionNumbersOfType: 'router.CreateVLANRequest' },
      { host: '', allExtensionNumbersOfType: 'router.Nope' },
    ]);
    assert.deepEqual(answers[0]?.allExtensionNumbersResponse, { baseTypeName: 'router.CreateVLANRequest', extensionNumber: [] });
    assert.equal(answers[1]?.errorResponse?.errorCode, status.NOT_FOUND);
  });
});
