/**
 * gRPC server reflection (grpc.reflection.v1 and v1alpha, the same protocol
 * under two names), so that grpcurl `list` and `describe` work. It answers
 * from a DescriptorIndex of the compiler's descriptors embedded in
 * @router-service/proto: nothing is read from disk at run time.
 */
import { status, type ServerDuplexStream } from '@grpc/grpc-js';
import { fileDescriptorSetBase64, reflectionV1, reflectionV1alpha } from '@router-service/proto';
import { DescriptorIndex } from './descriptor-index.js';

type Request = reflectionV1.ServerReflectionRequest;
type Response = reflectionV1.ServerReflectionResponse;
type Answer = Omit<Response, 'validHost' | 'originalRequest'>;

export class ReflectionService {
  readonly #index: DescriptorIndex;
  readonly #services: readonly string[];

  /** `services`: the full names of the services the server offers. */
  constructor(services: readonly string[], index = new DescriptorIndex(Buffer.from(fileDescriptorSetBase64, 'base64'))) {
    this.#services = [...services].sort();
    this.#index = index;
  }

  /** Registers both protocol versions on `server`. */
  register(server: { addService(service: object, handlers: object): void }): void {
    const handlers = { serverReflectionInfo: (call: ServerDuplexStream<Request, Response>) => this.#serve(call) };
    server.addService(reflectionV1.ServerReflectionService, handlers satisfies reflectionV1.ServerReflectionServer);
    server.addService(reflectionV1alpha.ServerReflectionService, handlers satisfies reflectionV1alpha.ServerReflectionServer);
  }

  #serve(call: ServerDuplexStream<Request, Response>): void {
    // Files already sent on this stream are not sent again (the protocol allows it).
    const sent = new Set<string>();
    call.on('data', (request: Request) => {
      call.write({ validHost: request.host, originalRequest: request, ...this.answer(request, sent) });
    });
    call.on('end', () => call.end());
    call.on('error', () => call.end());
  }

  /** The answer to one request; `sent` holds the files this stream already has. */
  answer(request: Request, sent: Set<string>): Answer {
    if (request.listServices !== undefined) {
      return { listServicesResponse: { service: this.#services.map((name) => ({ name })) } };
    }
    if (request.fileByFilename !== undefined) {
      const name = request.fileByFilename;
      return this.#index.hasFile(name) ? this.#files(name, sent) : notFound(`file not found: ${name}`);
    }
    if (request.fileContainingSymbol !== undefined) {
      const file = this.#index.fileOfSymbol(request.fileContainingSymbol);
      return file === undefined ? notFound(`symbol not found: ${request.fileContainingSymbol}`) : this.#files(file, sent);
    }
    if (request.fileContainingExtension !== undefined) {
      const { containingType, extensionNumber } = request.fileContainingExtension;
      return notFound(`extension not found: ${containingType} ${extensionNumber}`);
    }
    if (request.allExtensionNumbersOfType !== undefined) {
      const type = request.allExtensionNumbersOfType;
      return this.#index.isMessage(type)
        ? { allExtensionNumbersResponse: { baseTypeName: type, extensionNumber: [] } }
        : notFound(`type not found: ${type}`);
    }
    return { errorResponse: { errorCode: status.INVALID_ARGUMENT, errorMessage: 'empty reflection request' } };
  }

  #files(name: string, sent: Set<string>): Answer {
    const files = this.#index.fileWithDependencies(name, sent).map((bytes) => Buffer.from(bytes));
    return { fileDescriptorResponse: { fileDescriptorProto: files } };
  }
}

function notFound(message: string): Answer {
  return { errorResponse: { errorCode: status.NOT_FOUND, errorMessage: message } };
}
