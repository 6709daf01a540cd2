package dev.telemetry.gateway.config;

import dev.telemetry.gateway.otlp.Signal;
import java.util.List;

/** One signal's pipeline: which receivers feed it, the processors applied in order, the exporters it fans out to. */
public record PipelineConfig(Signal signal, List<String> receivers, List<String> processors, List<String> exporters) {
  public PipelineConfig {
    receivers = List.copyOf(receivers);
    processors = List.copyOf(processors);
    exporters = List.copyOf(exporters);
    if (receivers.isEmpty() || exporters.isEmpty()) {
      throw new IllegalArgumentException("a pipeline needs at least one receiver and one exporter");
    }
  }
}
