package dev.telemetry.gateway.connector;

import com.google.protobuf.Message;
import dev.telemetry.gateway.pipeline.TelemetryConsumer;
import io.vertx.core.Future;

/**
 * Exporter of one pipeline, receiver of another. What the exporting pipeline accepted is handed to {@link #take}
 * (after the pipeline's processors, before routing and tail sampling: every accepted item, including those the
 * sampler later drops); what the connector derives goes into the receiving pipeline through the consumer given to
 * {@link #start}, under the connector's name. A connector never refuses: it aggregates into bounded state.
 */
public interface Connector {
  /** Takes an accepted request of the exporting pipeline's signal (any thread; must not block). */
  void take(Message request);

  /** Starts emitting into {@code downstream} as the receiver named like this connector. */
  Future<Void> start(TelemetryConsumer downstream);

  /** Emits what is left, then stops. */
  Future<Void> stop();
}
