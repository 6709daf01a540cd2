package dev.telemetry.gateway.processor.sampling;

import dev.telemetry.gateway.processor.Downstream;
import java.util.List;

/**
 * Where a kept trace's spans go: the exporters of the traces pipeline by name (null: the pipeline's own list, the
 * sampler's default), and the local queues for them. The names travel with spans forwarded to another member, which
 * resolves them to its own queues.
 */
public record Destination(List<String> exporters, Downstream downstream) {
  /** The sampler's default downstream (the traces pipeline's exporters). */
  public static final Destination DEFAULT = new Destination(null, null);

  public Destination {
    exporters = exporters == null ? null : List.copyOf(exporters);
  }
}
