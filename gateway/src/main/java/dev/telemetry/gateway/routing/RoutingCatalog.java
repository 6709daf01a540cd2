package dev.telemetry.gateway.routing;

import dev.telemetry.gateway.otlp.Signal;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The names a routing table may refer to, taken from the gateway config: each pipeline's exporters (a route chooses
 * among them), the redaction processors (profiles) and the tail-sampling processors (policy sets).
 */
public record RoutingCatalog(Map<Signal, List<String>> pipelineExporters, Set<String> redactionProfiles,
                             Set<String> samplingPolicySets) {
  public RoutingCatalog {
    Map<Signal, List<String>> m = new EnumMap<>(Signal.class);
    pipelineExporters.forEach((s, l) -> m.put(s, List.copyOf(l)));
    pipelineExporters = java.util.Collections.unmodifiableMap(m);
    redactionProfiles = Set.copyOf(redactionProfiles);
    samplingPolicySets = Set.copyOf(samplingPolicySets);
  }

  /** The signals that have a pipeline. */
  public Set<Signal> signals() {
    return pipelineExporters.keySet();
  }
}
