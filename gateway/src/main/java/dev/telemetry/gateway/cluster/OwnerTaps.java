package dev.telemetry.gateway.cluster;

import dev.telemetry.gateway.backpressure.Reservation;
import dev.telemetry.gateway.connector.Connector;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import java.util.List;

/**
 * Connectors that must see all of a trace's spans in one place (the service graph pairs a client span with its
 * server span): in a cluster they are fed on the trace's owner, with each part of fresh traffic this member takes
 * as owner — its own share of what it received, and what other members forwarded — never hand-overs or replicas,
 * which were counted where they first arrived.
 */
final class OwnerTaps {
  private volatile List<Connector> connectors = List.of();

  void set(List<Connector> connectors) {
    this.connectors = List.copyOf(connectors);
  }

  /** Whether any connector is fed on the owner (then what it takes must be decoded for them). */
  boolean active() {
    return !connectors.isEmpty();
  }

  /** {@code held}, telling the connectors of {@code owned} once it is committed. */
  Reservation tapped(Reservation held, ExportTraceServiceRequest owned) {
    List<Connector> cs = connectors;
    if (cs.isEmpty()) {
      return held;
    }
    return new Reservation() {
      @Override
      public io.vertx.core.Future<Void> commit() {
        return held.commit().onSuccess(v -> cs.forEach(c -> c.take(owned, null)));
      }

      @Override
      public void release() {
        held.release();
      }
    };
  }

  /** Tells the connectors of {@code owned}, taken as owner outside a reservation. */
  void taken(ExportTraceServiceRequest owned) {
    connectors.forEach(c -> c.take(owned, null));
  }
}
