package dev.telemetry.gateway.cluster;

import io.vertx.core.Future;
import java.util.List;

/**
 * How forwarded spans travel between members. Two implementations, measured against each other in
 * docs/benchmarks.md: the Vert.x event bus ({@link EventBusTransport}) and OTLP/gRPC to the owner's receiver
 * ({@link OtlpGrpcTransport}).
 */
interface ForwardTransport {
  /** Starts receiving: batches sent to this member go to {@code receiver}. */
  Future<Void> start(ForwardReceiver receiver);

  /**
   * Sends one batch to {@code member}. Succeeds once the member took every part (they are in its samplers);
   * fails with {@link ForwardRefusedException} when it has no room now (retry later), or with another error.
   */
  Future<Void> send(String member, String origin, int hops, List<ForwardReceiver.Part> parts);

  Future<Void> stop();
}
