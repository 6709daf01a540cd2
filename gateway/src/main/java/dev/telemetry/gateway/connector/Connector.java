package dev.telemetry.gateway.connector;

import com.google.protobuf.Message;
import dev.telemetry.gateway.pipeline.TelemetryConsumer;
import dev.telemetry.gateway.processor.sampling.DecisionListener;
import io.vertx.core.Future;

/**
 * Exporter of one pipeline, receiver of another. What the exporting pipeline accepted is handed to {@link #take}
 * (after the pipeline's processors, before routing and tail sampling: every accepted item, including those the
 * sampler later drops); what the connector derives goes into the receiving pipeline through the consumer given to
 * {@link #start}, under the connector's name. A connector never refuses: it aggregates into bounded state.
 */
public interface Connector {
  /**
   * Takes an accepted request of an exporting pipeline's signal (any thread; must not block); {@code tenant} is the
   * request's tenant, or null (unknown, or a span forwarded by another cluster member).
   */
  void take(Message request, String tenant);

  /** Starts emitting into {@code downstream} as the receiver named like this connector. */
  Future<Void> start(TelemetryConsumer downstream);

  /** Emits what is left, then stops. */
  Future<Void> stop();

  /**
   * True for a connector that must see all spans of a trace in one place (it pairs them): in a cluster it is fed
   * on each trace's owner — where tail sampling forwards the trace — rather than on the member that received it.
   */
  default boolean pairsByTrace() {
    return false;
  }

  /**
   * What a connector's metrics are attributed to: the gateway, and this instance (the cluster node ID, or host and
   * admin port), so remote-write from several members never collides.
   */
  static io.opentelemetry.proto.resource.v1.Resource resource(String instance) {
    return io.opentelemetry.proto.resource.v1.Resource.newBuilder()
        .addAttributes(dev.telemetry.gateway.otlp.Attributes.string("service.name", "telemetry-gateway"))
        .addAttributes(dev.telemetry.gateway.otlp.Attributes.string("service.instance.id", instance)).build();
  }

  /** Told of the tail samplers' decisions in the exporting pipeline (null: not interested). */
  default DecisionListener samplerDecisions() {
    return null;
  }
}
