/**
 * grpc.health.v1.Health, so that generic probes (grpcurl, grpc_health_probe,
 * orchestrators) can check the daemon. "" stands for the whole server.
 */
import { status, type ServerUnaryCall, type ServerWritableStream, type sendUnaryData } from '@grpc/grpc-js';
import { health } from '@router-service/proto';

type ServingStatus = health.HealthCheckResponse_ServingStatus;
const { SERVING, NOT_SERVING, SERVICE_UNKNOWN } = health.HealthCheckResponse_ServingStatus;

type Watch = ServerWritableStream<health.HealthCheckRequest, health.HealthCheckResponse>;

export class HealthService {
  readonly #statuses = new Map<string, ServingStatus>();
  readonly #watches = new Set<Watch>();

  /** Every service in `services` (and "" for the server) starts SERVING. */
  constructor(services: readonly string[]) {
    for (const name of ['', ...services]) this.#statuses.set(name, SERVING);
  }

  /** The handlers, for `server.addService(health.HealthService, …)`. */
  get handlers(): health.HealthServer {
    return {
      check: (call: ServerUnaryCall<health.HealthCheckRequest, health.HealthCheckResponse>, callback: sendUnaryData<health.HealthCheckResponse>) => {
        const current = this.#statuses.get(call.request.service);
        if (current === undefined) {
          callback({ code: status.NOT_FOUND, details: 'unknown service' });
          return;
        }
        callback(null, { status: current });
      },
      watch: (call: Watch) => {
        this.#watches.add(call);
        call.on('cancelled', () => this.#watches.delete(call));
        call.write({ status: this.#statuses.get(call.request.service) ?? SERVICE_UNKNOWN });
      },
    };
  }

  /**
   * Reports every service NOT_SERVING and ends the watches, so that a
   * graceful shutdown is not held open by clients watching.
   */
  shutdown(): void {
    for (const name of this.#statuses.keys()) this.#statuses.set(name, NOT_SERVING);
    for (const call of this.#watches) {
      call.write({ status: NOT_SERVING });
      call.end();
    }
    this.#watches.clear();
  }
}
