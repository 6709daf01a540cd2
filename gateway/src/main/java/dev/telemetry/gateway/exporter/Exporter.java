package dev.telemetry.gateway.exporter;

import com.google.protobuf.Message;
import io.vertx.core.Future;

/**
 * Sends batches of one signal to one backend. All methods are called on the exporter's own Vert.x context and must
 * not block it. A failed export completes with an {@link ExportException} that says whether a retry can help.
 */
public interface Exporter {

  /** Prepares clients, files, etc. The pipeline is not ready until every exporter has started. */
  Future<Void> start();

  /**
   * Sends one batch: an export request of the exporter's signal holding {@code items} items. Succeeds when the
   * backend has taken the data; a backend's partial rejection is reported in the result, not as a failure.
   */
  Future<ExportResult> export(Message request, int items);

  /** Releases resources; called after the queue has drained or the shutdown timeout passed. */
  Future<Void> stop();
}
